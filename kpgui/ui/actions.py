"""What the window's buttons and menus ask for when a dialog comes first (a file to choose, a
number of epochs) or the form must be checked: each turns the person's answer into a call on the
controller that does the work. The composition root (kpgui.ui.app) connects them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpgui.ui import dialogs
from kpgui.ui import settings as app_settings

if TYPE_CHECKING:  # pragma: no cover
    from kpgui.ui.app import App


def start(app: App, spec) -> bool:
    errors = app.panels["training"].errors()
    if errors:
        dialogs.show_error(
            app.window,
            "Cannot start training",
            "Fix these settings first:\n• " + "\n• ".join(errors.values()),
        )
        return False
    app_settings.save_spec(app.settings, spec)
    return app.training.start(spec)


def sweep(app: App, option: str, text: str) -> bool:
    from kpgui.core.training.sweep import Sweep, parse_values

    errors = app.panels["training"].errors()
    try:
        if errors:
            raise ValueError("fix these settings first: " + "; ".join(errors.values()))
        sweep = Sweep(option, parse_values(option, text), app.panels["training"].spec())
    except ValueError as exc:
        dialogs.show_error(app.window, "Cannot start the sweep", str(exc))
        return False
    app_settings.save_spec(app.settings, sweep.base)
    return app.training.start_sweep(sweep)


def preset(app: App, name: str) -> bool:
    """A preset in one click: its settings into the form, its values into the sweep, started."""
    from kpgui.core.training.sweep import PRESETS

    option, values, settings = PRESETS[name]
    form = app.panels["training"]
    form.set_spec(form.spec().replace(**settings))
    app.panels["sweep"].set_fields(option, values)
    return sweep(app, option, app.panels["sweep"].values_edit.text())


def use_settings(app: App, spec) -> None:
    app.panels["training"].set_spec(spec)
    app.window.show_tab("Training")
    app.state.say("The run's settings are in the Training tab.", 5000)


def export_experiment(app: App) -> None:
    from kpgui.core.training.experiment import Experiment, save_experiment
    from kpgui.core.training.sweep import Sweep, parse_values

    form, sweep_panel = app.panels["training"], app.panels["sweep"]
    sweep = None
    if sweep_panel.values_edit.text().strip():
        try:
            values = parse_values(sweep_panel.option, sweep_panel.values_edit.text())
            sweep = Sweep(sweep_panel.option, values, form.spec()) if len(values) > 1 else None
        except ValueError as exc:
            dialogs.show_error(app.window, "Cannot export", f"The sweep's values: {exc}")
            return
    path = dialogs.ask_save_path(
        app.window, "Export experiment", dialogs.EXPERIMENT_FILTER, "experiment.json"
    )
    if not path:
        return
    experiment = Experiment(form.spec(), sweep, name=sweep.describe() if sweep else form.spec().describe())
    task = app.tasks.run(
        lambda _t: save_experiment(path, experiment), key="experiment", doing="Saving the experiment"
    )
    task.done.connect(lambda p: app.state.say(f"Saved the experiment to {p}.", 6000))
    task.failed.connect(lambda _t, text: dialogs.show_error(app.window, "Cannot export", text))


def open_experiment(app: App, path: str | None = None):
    from kpgui.core.training.experiment import load_experiment

    path = path or dialogs.ask_open_path(app.window, "Open experiment", dialogs.EXPERIMENT_FILTER)
    if not path:
        return
    task = app.tasks.read_file(
        path, lambda p, _t: load_experiment(p), key="experiment", doing="Opening the experiment", timeout=10.0
    )
    task.done.connect(lambda experiment: _experiment_read(app, path, experiment))
    task.failed.connect(
        lambda _title, text: dialogs.show_error(
            app.window, "Cannot open the experiment", f"{text}\n\nThe form is unchanged."
        )
    )
    return task


def _experiment_read(app: App, path: str, experiment) -> None:
    app.panels["training"].set_spec(experiment.spec)
    if experiment.sweep is not None:
        app.panels["sweep"].set_fields(experiment.sweep.option, experiment.sweep.values)
    app.window.show_tab("Training")
    app.state.say(
        f"Opened {experiment.name or path}: press Start"
        + (" sweep" if experiment.sweep else " training")
        + " to run it.",
        8000,
    )


def continue_training(app: App) -> bool:
    epochs, ok = dialogs.ask_int(
        app.window, "Continue training", "Train the current model for more epochs:", 5, 1, 1000
    )
    return app.training.continue_training(epochs) if ok else False


def finetune(app: App, epochs: int, repeat: int | None, mnist_images: int) -> bool:
    from kpgui.core.training.personal import finetune_spec

    model = app.state.model
    if model is None:
        app.report_error("No model", "Load or train a model first, then fine-tune it.")
        return False
    spec = finetune_spec(model.predictor).replace(epochs=int(epochs), train_samples=int(mnist_images))
    ok = app.training.finetune(spec, repeat)
    if ok:
        app.window.show_tab("Training")
    return ok


def ask_import(app: App) -> None:
    path = dialogs.ask_open_path(app.window, "Import a picture of a digit", dialogs.IMAGE_FILTER)
    if path:
        app.drawing.import_picture(path)


def ask_open_model(app: App) -> None:
    path = dialogs.ask_open_path(app.window, "Open a model", dialogs.MODEL_FILTER)
    if path:
        app.models.open_file(path)


def ask_save_model(app: App) -> None:
    model = app.state.model
    if model is None or model.predictor.path is None:
        dialogs.show_error(app.window, "Nothing to save", "No model file is in use.")
        return
    ask_save_file(app, str(model.predictor.path), f"{model.predictor.name}.keras")


def save_last_run(app: App) -> None:
    outcome = app.training.last_outcome
    if outcome is None or not outcome.usable:
        return
    ask_save_file(app, outcome.model_path, "trained.keras")


def ask_save_file(app: App, source: str | None, suggestion: str) -> None:
    if not source:
        return
    from kpgui.core.storage.saving import save_targets

    # The question names the files really written (mymodel -> mymodel.keras and mymodel.json);
    # once answered, the save may replace them (force).
    path = dialogs.ask_save_target(
        app.window, "Save model as", dialogs.MODEL_FILTER, save_targets, suggestion
    )
    if path:
        app.models.save_file(source, path, force=True)


# -- "Show as Keras code…" (issue 22, part 3) ---------------------------------------------------


def _show_code(app: App, title: str, code: str, suggestion: str) -> None:
    from kpgui.core.lessons.code import save_script

    dialogs.show_code(app.window, title, code, suggestion, lambda path: save_script(path, code))


def show_form_code(app: App) -> None:
    """The Training form's settings as a plain Keras script."""
    from kpgui.core.lessons.code import keras_script

    errors = app.panels["training"].errors()
    if errors:
        dialogs.show_error(
            app.window,
            "Cannot write the code",
            "Fix these settings first:\n• " + "\n• ".join(errors.values()),
        )
        return
    code = keras_script(
        app.panels["training"].spec(), data_path=app.data_path(), title="The Training form's settings"
    )
    _show_code(app, "The Training form as Keras code", code, "kpgui_run.py")


def show_sweep_code(app: App) -> None:
    """The sweep set up in the Training tab (form + values) as one script with a loop."""
    from kpgui.core.lessons.code import keras_script
    from kpgui.core.training.sweep import parse_values

    form, panel = app.panels["training"], app.panels["sweep"]
    errors = form.errors()
    try:
        if errors:
            raise ValueError("fix these settings first: " + "; ".join(errors.values()))
        values = parse_values(panel.option, panel.values_edit.text())
    except ValueError as exc:
        dialogs.show_error(app.window, "Cannot write the code", f"The sweep: {exc}")
        return
    code = keras_script(form.spec(), data_path=app.data_path(), sweep=(panel.option, values))
    _show_code(app, "The sweep as Keras code", code, "kpgui_sweep.py")


def show_run_code(app: App, run) -> None:
    """A run from History as a plain Keras script."""
    from kpgui.core.lessons.code import run_script

    try:
        code = run_script(run, app.data_path())
    except ValueError as exc:  # a hand-edited record whose settings do not fit together
        dialogs.show_error(app.window, "Cannot write the code", f"Run {run.id}'s settings: {exc}")
        return
    _show_code(app, f"Run {run.id} as Keras code", code, f"kpgui_run_{run.id}.py")
