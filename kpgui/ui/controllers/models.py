"""Which model reads the drawing: open, reset to the shipped one, load a run's, save a copy,
keep or discard a candidate. Files are read and written on a thread; a later open supersedes
an earlier one (a slow load can never replace a newer choice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from kpgui.core.model.run import RunRecord
from kpgui.core.state import AppState, CurrentModel
from kpgui.ui import dialogs
from kpgui.ui.controllers.report import ReportError
from kpgui.ui.tasks import Task, Tasks

SHIPPED = "shipped model"


def _load(path: str | None, _task: Any = None) -> Any:
    from kpgui.core.model.inference import Predictor

    return Predictor.load(path, allow_keras=False)  # TensorFlow never enters the window


class ModelController(QObject):
    def __init__(
        self, state: AppState, tasks: Tasks, report_error: ReportError, window: QWidget | None = None
    ) -> None:
        super().__init__(window)
        self.state = state
        self.tasks = tasks
        self.report_error = report_error
        self.window = window  # the parent of its file dialogs

    def load_shipped_now(self) -> bool:
        """At start-up: the shipped model, synchronously (NumPy, ~20 ms); a dialog if it is
        missing or damaged (the window still opens, to open or train another)."""
        from kpgui.core.model.inference import ModelLoadError

        try:
            self.state.set_model(CurrentModel(_load(None), SHIPPED))
            return True
        except (ModelLoadError, OSError) as exc:
            self.report_error(
                "Shipped model missing",
                (
                    f"The model that comes with kpgui could not be loaded: {exc}\n\nReinstall kpgui "
                    "(pip install -e .), or open a model with File → Open model…, or train one."
                ),
            )
            return False

    def open_file(self, path: str | None, source: str | None = None, run_id: int | None = None) -> Any:
        """Load a model file in the background; it replaces the live one when (and if) it is
        read. None = the shipped model."""
        name = Path(path).name if path else SHIPPED
        label = source or (f"opened {name}" if path else SHIPPED)
        self.state.say(f"Loading {name}…", 0, owner="model")
        if path:  # a file someone chose: checked to be a plain file, read with a time bound
            task = self.tasks.read_file(path, _load, key="model", doing=f"Opening {name}")
        else:
            task = self.tasks.run(lambda t: _load(None, t), key="model", doing=f"Opening {name}")
        task.done.connect(lambda p: self._loaded(p, label, run_id))
        task.failed.connect(lambda _title, text: self._failed(name, text))
        task.ended.connect(lambda: self.state.unsay("model"))
        return task

    def restore(self, path: str, source: str, run_id: int | None) -> Any:
        """At start-up: the model in use last time, read in the background (the shipped one
        reads meanwhile); if it cannot be read any more, the shipped one stays, with a note."""
        task = self.tasks.run(lambda t: _load(path, t), key="model", doing="Opening the last model")
        task.done.connect(lambda p: self._loaded(p, source, run_id))
        task.failed.connect(
            lambda _title, text: self.state.say(
                f"The model used last time could not be read ({text}): reading with the shipped model.", 15000
            )
        )
        return task

    def reset_to_default(self) -> Any:
        return self.open_file(None)

    def load_run(self, run: RunRecord) -> Any:
        """A history run's model, if it has one."""
        if not run.model_path:
            self.report_error(
                "No model for this run",
                (
                    f"Run {run.title} has no saved model: it "
                    + (
                        "diverged, so its network was not kept."
                        if run.status == "diverged"
                        else "was stopped before its model was saved."
                    )
                ),
            )
            return None
        return self.open_file(run.model_path, f"run {run.title}", run.id)

    def _loaded(self, predictor: Any, label: str, run_id: int | None) -> None:
        self.state.set_model(CurrentModel(predictor, label, run_id))
        self.state.say(f"Now reading with {label}.", 5000)

    def _failed(self, name: str, text: str) -> None:
        current = self.state.model.source if self.state.model else "none"
        self.report_error(
            "Cannot open model",
            f"{name} cannot be used: {text}\n\nThe current model ({current}) stays in use.",
        )

    def ask_open(self) -> Task | None:
        """File → Open model…: ask for a .keras file, then open it."""
        path = dialogs.ask_open_path(self.window, "Open a model", dialogs.MODEL_FILTER)
        return self.open_file(path) if path else None

    # -- saving ----------------------------------------------------------------------------------

    def ask_save_current(self) -> None:
        """File → Save model as…: a copy of the model reading the drawing."""
        model = self.state.model
        if model is None or model.predictor.path is None:
            dialogs.show_error(self.window, "Nothing to save", "No model file is in use.")
            return
        self.ask_save_file(str(model.predictor.path), f"{model.predictor.name}.keras")

    def ask_save_run(self, run: Any) -> None:
        """History → Save model…: a copy of a run's model (RunRecord)."""
        self.ask_save_file(run.model_path, f"run-{run.id}.keras")

    def ask_save_file(self, source: str | None, suggestion: str) -> None:
        """Ask where to save a copy of the model file `source` (nothing without a source)."""
        if not source:
            return
        from kpgui.core.storage.saving import save_targets

        # The question names the files really written (mymodel -> mymodel.keras and mymodel.json);
        # once answered, the save may replace them (force).
        path = dialogs.ask_save_target(
            self.window, "Save model as", dialogs.MODEL_FILTER, save_targets, suggestion
        )
        if path:
            self.save_file(source, path, force=True)

    def save_file(self, source: str, target: str, force: bool = False) -> Any:
        """The one save path of the window: a copy of a model file (any source: shipped,
        opened, a run's, a candidate's) with its card, as one atomic unit (kpgui.core.storage.saving).
        `force`: the person was asked about every file replaced (dialogs.ask_save_target)."""
        from kpgui.core.storage.saving import copy_model

        task = self.tasks.run(
            lambda _t: copy_model(source, target, force=force), key=f"save:{target}", doing="Saving the model"
        )
        task.done.connect(lambda path: self.state.say(f"Saved {path} (and its model card).", 8000))
        task.failed.connect(
            lambda _title, text: self.report_error(
                "Cannot save model",
                f"{target} was not written: {text}\n\nAny file that was there "
                "is unchanged. Choose another folder or free some space.",
            )
        )
        return task

    # -- candidates ------------------------------------------------------------------------------

    def keep_candidate(self) -> None:
        """Use the finished run's model from now on."""
        cand = self.state.candidate
        if cand is None:
            return
        o = cand.outcome
        what = "fine-tuned model" if o.kind == "finetune" else "trained model"
        label = f"{what} (run {o.id})" if o.id is not None else what
        self.state.set_candidate(None)
        self.state.set_model(CurrentModel(cand.predictor, label, o.id))
        self.state.say(
            f"Now reading with the {label}. Model → Reset to default brings back the shipped one.", 8000
        )

    def discard_candidate(self) -> None:
        """Keep the current model; the run stays in History (its model can be loaded later)."""
        if self.state.candidate is None:
            return
        self.state.set_candidate(None)
        self.state.say("Kept the current model. The new run stays in History.", 6000)
