"""The Training tab's form and sweep: what their buttons and the menus ask for once the form's
values are checked. Start a run or a sweep (a dialog lists what to fix first), a preset in one
click, a History run's settings back into the form, experiment files out and in, and the form,
the sweep or a run as a plain Keras script. The runs themselves are the training controller's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from kpgui.core.model.spec import ModelSpec
from kpgui.core.state import AppState
from kpgui.ui import dialogs
from kpgui.ui import settings as app_settings
from kpgui.ui.tasks import Task, Tasks

if TYPE_CHECKING:  # pragma: no cover
    from kpgui.ui.controllers.training import TrainingController
    from kpgui.ui.panels.sweep import SweepPanel
    from kpgui.ui.panels.training_form import TrainingPanel
    from kpgui.ui.window import MainWindow


class FormController(QObject):
    """Reads the form and the sweep only through their public values (`form.spec()`,
    `form.errors()`, `sweep.values()`) and shows things in them with `set_spec`/`set_fields`."""

    def __init__(
        self,
        state: AppState,
        tasks: Tasks,
        form: TrainingPanel,
        sweep: SweepPanel,
        training: TrainingController,
        settings: Any,
        data_path: Callable[[], str | None],
        window: MainWindow,
    ) -> None:
        super().__init__(window)
        self.state = state
        self.tasks = tasks
        self.form = form
        self.sweep = sweep
        self.training = training
        self.settings = settings
        self.data_path = data_path  # the MNIST file the person located, for the scripts
        self.window = window

    def _form_errors(self) -> str:
        errors = self.form.errors()
        return "\n• ".join(errors.values()) if errors else ""

    # -- runs and sweeps -------------------------------------------------------------------------

    def start(self, spec: ModelSpec | None = None) -> bool:
        """Train with the form's settings (Start, F5), unless the form says what to fix."""
        errors = self._form_errors()
        if errors:
            dialogs.show_error(self.window, "Cannot start training", "Fix these settings first:\n• " + errors)
            return False
        spec = spec if spec is not None else self.form.spec()
        app_settings.save_spec(self.settings, spec)
        return self.training.start(spec)

    def start_sweep(self, option: str, text: str) -> bool:
        """One run per value of `option` (as typed in the sweep), the rest from the form."""
        from kpgui.core.training.sweep import Sweep, parse_values

        errors = self.form.errors()
        try:
            if errors:
                raise ValueError("fix these settings first: " + "; ".join(errors.values()))
            sweep = Sweep(option, parse_values(option, text), self.form.spec())
        except ValueError as exc:
            dialogs.show_error(self.window, "Cannot start the sweep", str(exc))
            return False
        app_settings.save_spec(self.settings, sweep.base)
        return self.training.start_sweep(sweep)

    def preset(self, name: str) -> bool:
        """A preset in one click: its settings into the form, its values into the sweep, started."""
        from kpgui.core.training.sweep import PRESETS

        option, values, settings = PRESETS[name]
        self.form.set_spec(self.form.spec().replace(**settings))
        self.sweep.set_fields(option, values)
        return self.start_sweep(*self.sweep.values())

    def use_settings(self, spec: ModelSpec) -> None:
        """A History run's settings into the form (to run again, change or export)."""
        self.form.set_spec(spec)
        self.window.show_tab("Training")
        self.state.say("The run's settings are in the Training tab.", 5000)

    # -- experiment files ------------------------------------------------------------------------

    def export_experiment(self) -> Task | None:
        from kpgui.core.training.experiment import Experiment, save_experiment
        from kpgui.core.training.sweep import Sweep, parse_values

        option, text = self.sweep.values()
        spec = self.form.spec()
        sweep = None
        if text.strip():
            try:
                values = parse_values(option, text)
                sweep = Sweep(option, values, spec) if len(values) > 1 else None
            except ValueError as exc:
                dialogs.show_error(self.window, "Cannot export", f"The sweep's values: {exc}")
                return None
        path = dialogs.ask_save_path(
            self.window, "Export experiment", dialogs.EXPERIMENT_FILTER, "experiment.json"
        )
        if not path:
            return None
        experiment = Experiment(spec, sweep, name=sweep.describe() if sweep else spec.describe())
        task = self.tasks.run(
            lambda _t: save_experiment(path, experiment), key="experiment", doing="Saving the experiment"
        )
        task.done.connect(lambda p: self.state.say(f"Saved the experiment to {p}.", 6000))
        task.failed.connect(lambda _t, text: dialogs.show_error(self.window, "Cannot export", text))
        return task

    def open_experiment(self, path: str | None = None) -> Task | None:
        """Fill the form (and the sweep) from an experiment file, read on a thread."""
        from kpgui.core.training.experiment import load_experiment

        path = path or dialogs.ask_open_path(self.window, "Open experiment", dialogs.EXPERIMENT_FILTER)
        if not path:
            return None
        chosen = path
        task = self.tasks.read_file(
            path,
            lambda p, _t: load_experiment(p),
            key="experiment",
            doing="Opening the experiment",
            timeout=10.0,
        )
        task.done.connect(lambda experiment: self._experiment_read(chosen, experiment))
        task.failed.connect(
            lambda _title, text: dialogs.show_error(
                self.window, "Cannot open the experiment", f"{text}\n\nThe form is unchanged."
            )
        )
        return task

    def _experiment_read(self, path: str, experiment: Any) -> None:
        self.form.set_spec(experiment.spec)
        if experiment.sweep is not None:
            self.sweep.set_fields(experiment.sweep.option, experiment.sweep.values)
        self.window.show_tab("Training")
        self.state.say(
            f"Opened {experiment.name or path}: press Start"
            + (" sweep" if experiment.sweep else " training")
            + " to run it.",
            8000,
        )

    # -- "Show as Keras code…" (issue 22, part 3) -------------------------------------------------

    def _show_code(self, title: str, code: str, suggestion: str) -> None:
        from kpgui.core.lessons.code import save_script

        dialogs.show_code(self.window, title, code, suggestion, lambda path: save_script(path, code))

    def show_form_code(self) -> None:
        """The Training form's settings as a plain Keras script."""
        from kpgui.core.lessons.code import keras_script

        errors = self._form_errors()
        if errors:
            dialogs.show_error(self.window, "Cannot write the code", "Fix these settings first:\n• " + errors)
            return
        code = keras_script(
            self.form.spec(), data_path=self.data_path(), title="The Training form's settings"
        )
        self._show_code("The Training form as Keras code", code, "kpgui_run.py")

    def show_sweep_code(self) -> None:
        """The sweep set up in the Training tab (form + values) as one script with a loop."""
        from kpgui.core.lessons.code import keras_script
        from kpgui.core.training.sweep import parse_values

        errors = self.form.errors()
        option, text = self.sweep.values()
        try:
            if errors:
                raise ValueError("fix these settings first: " + "; ".join(errors.values()))
            values = parse_values(option, text)
        except ValueError as exc:
            dialogs.show_error(self.window, "Cannot write the code", f"The sweep: {exc}")
            return
        code = keras_script(self.form.spec(), data_path=self.data_path(), sweep=(option, values))
        self._show_code("The sweep as Keras code", code, "kpgui_sweep.py")

    def show_run_code(self, run: Any) -> None:
        """A run from History as a plain Keras script."""
        from kpgui.core.lessons.code import run_script

        try:
            code = run_script(run, self.data_path())
        except ValueError as exc:  # a hand-edited record whose settings do not fit together
            dialogs.show_error(self.window, "Cannot write the code", f"Run {run.id}'s settings: {exc}")
            return
        self._show_code(f"Run {run.id} as Keras code", code, f"kpgui_run_{run.id}.py")
