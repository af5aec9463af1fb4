"""The window's search: create the study, run `kpgui search --join` as the worker processes (the
same command other machines run; TensorFlow stays out of the window), read the study's trials from
the storage on a thread every second, stop cleanly, and offer the best trial as a candidate."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

POLL_MS = 1000


class SearchController(QObject):
    """`base_spec()` gives the training form's settings (the values not searched); `offer(outcome)`
    shows a run's model as a candidate (TrainingController.offer); `report_error(title, text)`."""

    def __init__(
        self,
        tasks: Any,
        panel: Any,
        base_spec: Callable[[], Any],
        offer: Callable[[Any], None],
        report_error: Callable[[str, str], None],
        storage: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.panel = tasks, panel
        self.base_spec, self.offer, self.report_error = base_spec, offer, report_error
        self.storage = self.default_storage = storage
        self.study_name: str | None = None
        self.objective = "val_loss"
        self.best: dict | None = None
        self.process: subprocess.Popen | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        panel.start_requested.connect(self.start)
        panel.stop_requested.connect(self.stop)
        panel.best_requested.connect(self.offer_best)
        panel.watch_requested.connect(self.watch_study)

    def start(self, ranges: dict, settings: dict) -> None:
        """Check the ranges and create the study (on a thread), then start the workers."""
        from kpgui.core.training import search

        try:
            space = search.SearchSpace.parse(ranges, self.base_spec())
            config = search.StudyConfig(
                space, settings["objective"], settings["sampler"], int(settings["trials"])
            )
            if config.sampler == "grid":
                space.grid()
        except ValueError as exc:
            self.report_error("Search not started", f"{exc}. Fix the range and start again.")
            return
        import datetime as _dt

        name = "search-" + _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.storage = settings.get("storage") or self.default_storage
        self.panel.set_running(True)
        self.panel.set_status("Creating the study…")

        def create(_task) -> str:
            search.create_study(self.storage, name, config)
            return name

        task = self.tasks.run(create, key="search-start", doing="Creating the search")
        task.done.connect(lambda n: self._launch(n, config, int(settings["workers"])))
        task.failed.connect(self._failed_to_start)

    def _failed_to_start(self, title: str, text: str) -> None:
        self.panel.set_running(False)
        self.report_error("Search not started", text)

    def _launch(self, name: str, config: Any, workers: int) -> None:
        from kpgui.core.storage.paths import log_path

        args = [
            sys.executable,
            "-m",
            "kpgui",
            "search",
            "--join",
            "--study",
            name,
            "--json",
            "--workers",
            str(workers),
        ]
        if self.storage:
            args += ["--storage", self.storage]
        log = log_path("search.log")
        err = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - kept by the process
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        self.watch(name, config.objective)

    def watch_study(self, storage: str, name: str) -> None:
        """Show a study started elsewhere (another machine, the command line): its objective
        comes from the study, read on a thread."""
        if not name:
            self.report_error(
                "No study to watch",
                "Type the study's name (kpgui search prints it) and, for a shared one, its storage.",
            )
            return
        self.storage = storage or self.default_storage

        def read(_task):
            from kpgui.core.training.search import load_study

            return load_study(self.storage, name)[1].objective

        task = self.tasks.run(read, key="search-watch", doing="Opening the study")
        task.done.connect(lambda objective: self.watch(name, objective))
        task.failed.connect(lambda title, text: self.report_error("Study not found", text))

    def watch(self, name: str, objective: str) -> None:
        """Show the trials of study `name` as they come (this machine's or others')."""
        self.study_name, self.objective = name, objective
        self.panel.show_study(name)
        self.panel.set_status(f"Study {name}: objective {objective}; trials appear as they start.")
        self.timer.start()
        self.poll()

    def poll(self) -> None:
        """Read the study's trials on a thread; the panel shows them when they arrive."""
        if self.study_name is None:
            return
        storage, name = self.storage, self.study_name

        def read(_task):
            from kpgui.core.training import search

            study, _config = search.load_study(storage, name)
            rows = [search.trial_row(t) for t in study.get_trials(deepcopy=False)]
            best = search.best_trial(study)
            return rows, search.trial_row(best) if best else None

        task = self.tasks.run(read, key="search-poll", doing="Reading the search")
        task.done.connect(self._show)
        if self.process is not None and self.process.poll() is not None:
            self.process = None
            self.timer.stop()
            self.panel.set_running(False)

    def _show(self, value: tuple) -> None:
        rows, self.best = value
        self.panel.show_trials(rows, self.objective, self.best)

    def stop(self) -> None:
        """Like Ctrl-C: running trials stop after their current batch and end failed."""
        if self.process is not None and self.process.poll() is None:
            stop = signal.SIGINT if sys.platform != "win32" else getattr(signal, "CTRL_BREAK_EVENT")  # noqa: B009
            self.process.send_signal(stop)
            self.panel.set_status("Stopping: running trials end after their current batch…")

    def offer_best(self) -> None:
        """Load the best trial's run from History and offer its model as a candidate."""
        run_id = (self.best or {}).get("run_id")
        if run_id is None:
            return

        def load(_task):
            from kpgui.core.storage.store import Store

            with Store.open_default() as store:
                return store.get_run(int(run_id))

        task = self.tasks.run(load, key="search-best", doing="Reading the best trial")
        task.done.connect(self.offer)
        task.failed.connect(
            lambda title, text: self.report_error(
                "Best trial unavailable", f"{text} (it may have been trained on another machine)."
            )
        )

    def shutdown(self) -> None:
        self.timer.stop()
        self.stop()
