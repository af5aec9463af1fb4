"""The composition root: the one place that builds the state, the store, the window, the panels
and the controllers, and connects them. Everything else only knows what it is handed.

Where things are:
    the state the panels observe     kpgui.core.state.AppState
    background work                  kpgui.ui.tasks (threads; the training process)
    drawing -> reading               kpgui.ui.controllers.drawing (the candidate's reading and
                                     saliency: kpgui.ui.controllers.reading)
    where MNIST is                   kpgui.ui.controllers.data
    open / save / keep models        kpgui.ui.controllers.models
    the training form and sweep      kpgui.ui.controllers.form
    training runs                    kpgui.ui.controllers.training -> kpgui.core.training.worker
    run history                      kpgui.ui.controllers.runs
    evaluation                       kpgui.ui.controllers.evaluation
    your samples                     kpgui.ui.controllers.samples
    each tab                         kpgui.ui.panels.<tab>

Start-up is in two steps so the window is up and reading drawings in ~0.6 s: first the window
with the canvas, the prediction panel and the training form (App.__init__); then, on the event
loop's first turn after the first paint, everything that needs pyqtgraph (0.45 s to import) or
the database: plots, History, Evaluation, Weights, My digits (_build_phase_two). What the second
step builds is None on the App until then.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.model.spec import ModelSpec
from kpgui.core.state import AppState, CurrentModel
from kpgui.core.storage.paths import APP_NAME
from kpgui.ui import dialogs, help, theme, wheel
from kpgui.ui import settings as app_settings
from kpgui.ui.controllers.data import DataController
from kpgui.ui.controllers.drawing import DrawingController
from kpgui.ui.controllers.form import FormController
from kpgui.ui.controllers.models import ModelController
from kpgui.ui.controllers.reading import ReadingController
from kpgui.ui.controllers.samples import SampleController
from kpgui.ui.controllers.training import TrainingController
from kpgui.ui.panels.candidate import CandidateBar, CandidateSlot
from kpgui.ui.panels.drawing import DrawingPanel
from kpgui.ui.panels.prediction import PredictionPanel
from kpgui.ui.panels.sweep import SweepPanel
from kpgui.ui.panels.training_form import TrainingPanel
from kpgui.ui.tasks import Task, Tasks
from kpgui.ui.window import MainWindow

if TYPE_CHECKING:  # pragma: no cover - the second step's modules import pyqtgraph or the store
    from kpgui.core.storage.store import Store
    from kpgui.ui.controllers.evaluation import EvaluationController
    from kpgui.ui.controllers.inside import InsideController
    from kpgui.ui.controllers.lessons import LessonController
    from kpgui.ui.controllers.runs import RunsController
    from kpgui.ui.controllers.search import SearchController
    from kpgui.ui.panels.evaluation import EvaluationPanel
    from kpgui.ui.panels.finetune import FineTunePanel
    from kpgui.ui.panels.inside import InsidePanel
    from kpgui.ui.panels.lessons import LessonsPanel
    from kpgui.ui.panels.normalisation import NormalisationPanel
    from kpgui.ui.panels.one_weight import OneWeightPanel
    from kpgui.ui.panels.samples import SamplesPanel
    from kpgui.ui.panels.search import SearchPanel
    from kpgui.ui.panels.training_plots import TrainingPlots
    from kpgui.ui.panels.weights import WeightsPanel

TAB_KEYS = {
    "Training": "Ctrl+Shift+T",
    "History": "Ctrl+Shift+H",
    "Evaluation": "Ctrl+Shift+E",
    "Weights": "Ctrl+Shift+W",
    "How it sees": "Ctrl+Shift+N",
    "My digits": "Ctrl+Shift+D",
    "Inside": "Ctrl+Shift+I",
    "Lessons": "Ctrl+Shift+L",
}


def app_icon() -> QIcon:
    """The app icon from the package resources (an empty icon if the file is missing)."""
    from kpgui.core.storage.resources import resource_path

    path = resource_path("icons", "kpgui.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()


def make_qapp(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named so settings and titles say "kpgui"."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName("kpgui")
    app.setWindowIcon(app_icon())
    return app


class Built(QObject):
    """Fires once everything (charts and tabs included) has been built."""

    done = Signal()


class Panels:
    """Every panel the root built, typed. Those of the second start-up step are None until it
    ran; `history` and `my_digits` are a note saying why when the database is unavailable.
    `panels["drawing"]` reads the same as `panels.drawing` (tests and benchmarks name them)."""

    def __init__(
        self,
        drawing: DrawingPanel,
        prediction: PredictionPanel,
        candidate: CandidateBar,
        training: TrainingPanel,
        sweep: SweepPanel,
        training_tab: QSplitter,
    ) -> None:
        self.drawing = drawing
        self.prediction = prediction
        self.candidate = candidate
        self.training = training
        self.sweep = sweep
        self.training_tab = training_tab
        self.plots: TrainingPlots | None = None
        self.search: SearchPanel | None = None
        self.evaluation: EvaluationPanel | None = None
        self.weights: WeightsPanel | None = None
        self.how_it_sees: NormalisationPanel | None = None
        self.inside: InsidePanel | None = None
        self.one_weight: OneWeightPanel | None = None
        self.lessons: LessonsPanel | None = None
        self.history: QWidget | None = None  # HistoryPanel, or why it is unavailable
        self.my_digits: QWidget | None = None  # samples above fine-tune, or why unavailable
        self.samples: SamplesPanel | None = None
        self.finetune: FineTunePanel | None = None

    def _built(self) -> dict[str, QWidget]:
        return {name: w for name, w in vars(self).items() if isinstance(w, QWidget)}

    def __getitem__(self, name: str) -> Any:
        return self._built()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._built()

    def get(self, name: str, default: Any = None) -> Any:
        return self._built().get(name, default)


class App:
    """The window and everything behind it, built whole by the constructor (not shown yet):
    the state, the task helper, the window with its first-step panels, every controller
    (`store`: use this Store instead of opening the default database, as tests do;
    `open_store=False` runs without one). The second start-up step follows the first paint
    and fills in what is typed `... | None` here."""

    def __init__(self, store: Store | None = None, open_store: bool = True) -> None:
        self.state = state = AppState()
        self.tasks = tasks = Tasks(log_path=_training_log_path())
        # Built before the views, so the state holds the candidate's reading and the saliency
        # when they hear that the drawing, the model or the candidate changed.
        self.reading = ReadingController(state)
        drawing_panel = DrawingPanel()
        prediction = PredictionPanel(state)
        candidate = CandidateBar(state)
        self.window = window = MainWindow(drawing_panel, prediction, CandidateSlot(candidate))
        tasks.setParent(window)
        self.reading.setParent(window)
        self.settings, self.settings_problem = app_settings.open_settings()
        self.settings_notes = ""  # what restore_settings reset to defaults, as said in the status bar
        dialogs.remember_folders(self.settings)  # file dialogs open in the last folder used
        report = self.report_error
        self.data = DataController(state, tasks, self.settings, window)
        self.drawing = DrawingController(state, drawing_panel.canvas, tasks, report, window)
        self.models = ModelController(state, tasks, report, window)
        self.training = TrainingController(state, tasks, store, self.data, report, window)
        self.samples = SampleController(state, store, tasks, self.drawing.clear, report, window)
        form = TrainingPanel(state)
        sweep = SweepPanel(state)
        self.panels = Panels(drawing_panel, prediction, candidate, form, sweep, _training_tab(form, sweep))
        self.form = FormController(
            state, tasks, form, sweep, self.training, self.settings, self.data.path, window
        )
        # The second start-up step's (after the first paint):
        self.store: Store | None = None
        self.store_problem = ""  # why the database is unavailable (or where a damaged one went)
        self.runs: RunsController | None = None  # History's runs, read on a thread
        self.evaluation: EvaluationController | None = None
        self.inside: InsideController | None = None  # exciting test images, "Fool it" (issue 21)
        self.lessons: LessonController | None = None  # issue 22b
        self.search: SearchController | None = None  # issue 23
        self.built = Built()
        self.built_at: float | None = None  # perf_counter when everything was built
        self.theme_actions: dict[str, QAction] = {}  # View → Theme, by theme name

        _wire_phase_one(self)
        window.add_tab(self.panels.training_tab, "Training", TAB_KEYS["Training"])
        self.restore_settings()
        drawing_panel.canvas.setFocus()
        self.models.load_shipped_now()
        self.restore_model()
        self.drawing.render_now()

        wheel.guard(window)  # issue 24: the wheel never changes a field without focus

        def phase_two() -> None:
            def built() -> None:
                wheel.guard(window)  # the fields of the tabs built since
                self.built_at = time.perf_counter()
                self.built.done.emit()

            _build_phase_two(self, store, open_store, built)

        # Step two waits for the canvas's first paint: the person sees the window (and can draw)
        # before pyqtgraph is imported and the tabs are built.
        self.first_paint = AfterFirstPaint(drawing_panel.canvas, phase_two)

    # -- errors --------------------------------------------------------------------------------

    def report_error(self, title: str, text: str, error: type[BaseException] | None = None) -> None:
        """Every error the window shows comes here: a dialog naming cause and fix. Routed by the
        error's type: MNIST missing or unusable (DatasetError) asks to locate or download it."""
        from kpgui.core.data.mnist import DatasetError

        if error is not None and issubclass(error, DatasetError):
            self.data.ask(text)
            return
        dialogs.show_error(self.window, title, text)

    def focus_canvas(self, *_args: object) -> None:
        """Give the keyboard focus back to the canvas (after any button or dialog)."""
        canvas = self.panels.drawing.canvas
        canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        # after a hidden button's
        QTimer.singleShot(0, lambda: canvas.setFocus(Qt.FocusReason.OtherFocusReason))

    # -- closing ---------------------------------------------------------------------------------

    def may_close(self) -> bool:
        """Ask before closing only while a training process is really at work."""
        running = [job for job in self.tasks.jobs if job.running and job.process.is_alive()]
        if not self.state.training.busy or not running:
            return True
        return dialogs.ask_yes_no(
            self.window,
            "Quit while training?",
            "A training run is going. Quit now and stop it? The run so far is not kept.",
            yes="Stop and quit",
        )

    def shutdown(self) -> None:
        """Stop everything (the training process within a second), remember the settings."""
        self.save_settings()
        if self.search is not None:  # a running search stops like Ctrl-C (issue 23)
            self.search.shutdown()
        self.tasks.shutdown()
        if self.store is not None:
            self.store.close()

    # -- settings --------------------------------------------------------------------------------

    def restore_settings(self) -> None:
        """Put the remembered choices back. Any value that cannot be used (NaN, junk, a huge
        number, deep nesting) is replaced by its default with one note in the status bar:
        the window always starts (kpgui.ui.settings)."""
        s, w, p = self.settings, self.window, self.panels
        problems: list[str] = []
        if self.settings_problem:
            problems.append(self.settings_problem)
        geometry = app_settings.load_bytes(s, "window/geometry", problems)
        if geometry is not None and not w.restoreGeometry(geometry):
            problems.append("window geometry")
        state = app_settings.load_bytes(s, "window/state", problems)
        if state is not None and not w.restoreState(state):
            problems.append("window state")
        w.dock_share = app_settings.load_float(s, "window/dock_share", w.dock_share, 0.2, 0.8, problems)
        pen = app_settings.load_float(s, "canvas/pen_width", 18, 2, 60, problems)
        p.drawing.pen_spin.setValue(int(round(pen)))
        spec = app_settings.load_spec(s, problems)
        if spec is not None:
            try:
                p.training.set_spec(spec)
            except Exception:  # noqa: BLE001 - a value the form cannot show: its defaults
                problems.append("the training form")
                p.training.set_spec(ModelSpec())
        self.data.located = app_settings.load_text(s, "data/mnist_path", problems=problems)
        name = app_settings.load_text(s, "view/theme", "system", theme.THEMES, problems)
        if name != "system":
            self.set_theme(name)
        if problems:
            unusable = [problem for problem in problems if problem != self.settings_problem]
            text = " ".join(
                filter(
                    None,
                    [
                        self.settings_problem,
                        (
                            "Some saved settings could not be used and were reset to their defaults: "
                            + ", ".join(unusable)
                            + "."
                        )
                        if unusable
                        else "",
                    ],
                )
            )
            self.settings_notes = text
            self.state.say(text, 15000)

    def restore_model(self) -> None:
        """The model in use when kpgui was closed (issue 24): a missing or changed file leaves
        the shipped model, with a note in the status bar."""
        choice, problem = app_settings.load_model_choice(self.settings)
        if choice is not None:
            self.models.restore(*choice)
        elif problem:
            self.state.say(f"{problem[0].upper()}{problem[1:]}: reading with the shipped model.", 15000)

    def save_settings(self) -> None:
        s, w, p = self.settings, self.window, self.panels
        s.setValue("window/geometry", w.saveGeometry())
        s.setValue("window/state", w.saveState())
        s.setValue("window/dock_share", w.dock_share)
        s.setValue("canvas/pen_width", p.drawing.pen_spin.value())
        app_settings.save_spec(s, p.training.spec())
        model = self.state.model
        keep = model is not None and not model.is_shipped and model.predictor.path is not None
        app_settings.save_model_choice(
            s,
            str(model.predictor.path) if model is not None and keep else None,
            model.source if model is not None and keep else "",
            model.run_id if model is not None and keep else None,
        )
        s.setValue("window/training_split", p.training_tab.saveState())
        problem = app_settings.writable_problem(s)
        if problem and not self.settings_problem:  # said once
            self.settings_problem = problem
            self.state.say(problem, 15000)

    def set_theme(self, name: str) -> None:
        theme.apply_theme(name)
        self.samples.thumbnails.forget()  # thumbnails are drawn in the theme's ink and paper
        if self.settings is not None:
            self.settings.setValue("view/theme", name)
        for action_name, action in self.theme_actions.items():
            action.setChecked(action_name == name)


def build_app(store: Store | None = None, open_store: bool = True) -> App:
    """Build the window and everything behind it (not shown yet); see App."""
    return App(store, open_store)


class AfterFirstPaint(QObject):
    """Runs `then` on the event loop's next turn after `widget` has painted for the first time."""

    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self.then = then
        self.widget = widget
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.widget and event.type() == QEvent.Type.Paint:
            self.widget.removeEventFilter(self)
            QTimer.singleShot(0, self.then)
        return False


def _training_tab(form: TrainingPanel, sweep: SweepPanel) -> QSplitter:
    """The Training tab: the form and the sweep above, the plots below (after the first paint)."""
    settings_column = QWidget()
    column = QVBoxLayout(settings_column)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(form)
    column.addWidget(sweep)
    training_tab = QSplitter()
    training_tab.setOrientation(Qt.Orientation.Vertical)
    training_tab.addWidget(_scrolling(settings_column))
    training_tab.addWidget(QWidget())  # the plots take this place after the first paint
    training_tab.setStretchFactor(1, 1)
    return training_tab


def _scrolling(widget: QWidget) -> QWidget:
    """The content takes the width it is given down to its minimum; narrower than that (a
    1024x640 screen) it scrolls sideways too, rather than being cut off."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setWidget(widget)
    return area


def _training_log_path() -> str | None:
    """Where the training process's own messages (TensorFlow's chatter) go, not the terminal."""
    from kpgui.core.storage.paths import log_path

    return log_path("training-process.log")


# -- issue 20: which Keras backend trains, and the warm training process -----------------------


def _wire_training_process(app: App) -> None:
    """Model → Training backend (remembered), Model → Keep a training process ready
    (remembered, on unless turned off), and the warm process started once the window is idle."""
    from kpgui.core.training import backends

    w, s = app.window, app.settings
    chosen = app_settings.load_text(s, "training/backend", backends.AUTO)
    chosen = chosen if chosen in backends.CHOICES else backends.AUTO
    app.training.set_backend(chosen)
    menu = w.menus["Model"].addMenu("Training &backend")
    menu.setToolTipsVisible(True)
    have = backends.available()
    for name in backends.CHOICES:
        label = backends.NAMES[name] + (
            f" ({backends.NAMES[have[0]]})"
            if name == backends.AUTO and have
            else ""
            if name in have or name == backends.AUTO
            else " (not installed)"
        )
        action = menu.addAction(label)
        action.setCheckable(True)
        action.setChecked(name == chosen)
        action.setToolTip(backends.HELP)

        def choose(_c=False, n=name) -> None:
            app.training.set_backend(n)
            s.setValue("training/backend", n)
            for a, m in zip(menu.actions(), backends.CHOICES, strict=True):
                a.setChecked(m == n)

        action.triggered.connect(choose)
    keep = s.value("training/keep_warm", True)
    keep = keep if isinstance(keep, bool) else str(keep).lower() not in ("false", "0", "no")
    app.tasks.set_keep_warm(keep)

    def set_keep(on: bool) -> None:
        app.tasks.set_keep_warm(on)
        s.setValue("training/keep_warm", on)
        if on:
            app.training.warm_up_later(0)

    warm = w.add_action(
        "Model",
        "Keep a training process &ready",
        set_keep,
        None,
        "Start → first batch in under a second, for about 0.5-0.8 GB of memory "
        "while the window is open (given back after 10 idle minutes)",
        checkable=True,
    )
    warm.setChecked(keep)
    app.built.done.connect(lambda: app.training.warm_up_later(3000))


def _wire_phase_one(app: App) -> None:
    """Menus, shortcuts, the first step's panels' intents, the status bar."""
    w, s, p = app.window, app.state, app.panels
    drawing, form, candidate, sweep = p.drawing, p.training, p.candidate, p.sweep

    drawing.undo_requested.connect(app.drawing.undo)
    drawing.clear_requested.connect(app.drawing.clear)
    drawing.import_requested.connect(app.drawing.ask_import)
    drawing.sample_bar.label_chosen.connect(app.samples.save_drawing)
    form.start_requested.connect(app.form.start)
    form.stop_requested.connect(app.training.stop)
    form.save_requested.connect(
        lambda: app.models.ask_save_file(app.training.last_model_path(), "trained.keras")
    )
    candidate.keep_requested.connect(app.models.keep_candidate)
    candidate.discard_requested.connect(app.models.discard_candidate)
    sweep.sweep_requested.connect(app.form.start_sweep)
    sweep.preset_requested.connect(app.form.preset)
    p.prediction.saliency.wanted.connect(app.reading.want_saliency)
    # Issue 24: after an action the keyboard focus is back on the canvas (a digit key saves
    # the drawing; a button that hid or disabled itself would hand it to the pen box).
    for intent in (
        candidate.keep_requested,
        candidate.discard_requested,
        form.start_requested,
        form.stop_requested,
        sweep.sweep_requested,
        sweep.preset_requested,
    ):
        intent.connect(app.focus_canvas)

    w.add_action(
        "File",
        "&Open model…",
        app.models.ask_open,
        QKeySequence.StandardKey.Open,
        "Read drawings with a saved .keras model",
    )
    w.add_action(
        "File",
        "&Save model as…",
        app.models.ask_save_current,
        "Ctrl+Shift+S",
        "Save the current model with its model card",
    )
    w.add_action("File", "&Import image…", app.drawing.ask_import, "Ctrl+I", "Read a picture of a digit")
    w.add_action(
        "File",
        "Open e&xperiment…",
        app.form.open_experiment,
        None,
        "Fill the training form (and the sweep) from an experiment file",
    )
    w.add_action(
        "File",
        "&Export experiment…",
        app.form.export_experiment,
        None,
        "Save the training form (and the sweep) as an experiment file to share",
    )
    w.add_action(
        "File",
        "Ope&n lesson…",
        lambda: app.lessons is not None and app.lessons.open_file(),
        None,
        "Follow a lesson file a teacher wrote (in the Lessons tab)",
    )  # issue 22b
    w.add_action("File", "&Locate mnist.npz…", app.data.locate, None, "Tell kpgui where the MNIST file is")
    w.menus["File"].addSeparator()
    w.add_action("File", "&Quit", w.close, QKeySequence.StandardKey.Quit, "Close kpgui")
    w.add_action(
        "Edit", "&Undo stroke", app.drawing.undo, QKeySequence.StandardKey.Undo, "Remove the last stroke"
    )
    w.add_action("Edit", "&Clear canvas", app.drawing.clear, "Esc", "Start again with an empty canvas")
    w.add_action(
        "Model",
        "&Start training",
        app.form.start,
        "F5",
        "Train a network with the settings in the Training tab",
    )
    stop_action = w.add_action(
        "Model", "S&top training", app.training.stop, "Shift+F5", "End training after the current batch"
    )
    w.add_action(
        "Model",
        "&Continue training…",
        app.training.ask_continue,
        None,
        "Train the current model more epochs; its curves continue where they stopped",
    )
    # -- issue 22a: a run as Keras code (the lead may move these) --
    w.add_action(
        "Model",
        "Show run as &Keras code…",
        app.form.show_form_code,
        None,
        "The Training form's settings as a plain, runnable Keras script",
    )
    w.add_action(
        "Model",
        "Show s&weep as Keras code…",
        app.form.show_sweep_code,
        None,
        "The sweep set up in the Training tab as one Keras script with a loop",
    )
    # -- end issue 22a --
    _wire_training_process(app)  # issue 20: backend choice and the warm training process
    w.menus["Model"].addSeparator()
    w.add_action(
        "Model",
        "&Reset to default",
        app.models.reset_to_default,
        "Ctrl+R",
        "Go back to the model shipped with kpgui",
    )
    w.add_action(
        "Model",
        "Model &info",
        lambda: dialogs.show_html(w, "Model info", help.model_info_html(s.model)),
        "Ctrl+M",
        "What the current model is and how it was made",
    )
    saliency = w.add_action(
        "View",
        "Show &saliency",
        p.prediction.saliency.set_enabled,
        None,
        "Colour the pixels that pushed the network to its answer",
        checkable=True,
    )
    p.prediction.saliency.checkbox.toggled.connect(_sync_check(saliency))
    theme_menu = w.menus["View"].addMenu("&Theme")
    for name in theme.THEMES:
        action = theme_menu.addAction(name.capitalize())
        action.setCheckable(True)
        action.triggered.connect(lambda _c=False, n=name: app.set_theme(n))
        app.theme_actions[name] = action
    app.theme_actions["system"].setChecked(True)
    w.menus["View"].addSeparator()
    w.add_action(
        "Help",
        "kpgui &help",
        lambda: dialogs.show_html(w, "Help", help.help_html(), (620, 560)),
        QKeySequence.StandardKey.HelpContents,
        "What each part of the window does, and the keys",
    )
    w.add_action(
        "Help",
        "&About kpgui",
        lambda: dialogs.show_info(w, "About kpgui", dialogs.about_html()),
        None,
        "Versions of kpgui and its libraries",
    )

    for d in range(10):  # digit keys anywhere in the window (text fields keep typing)
        shortcut = QShortcut(QKeySequence(str(d)), w)
        shortcut.activated.connect(lambda d=d: app.samples.save_drawing(d))

    model_label = QLabel()
    model_label.setToolTip("The model reading your drawing (Model → Model info)")
    w.statusBar().addPermanentWidget(model_label)

    def show_model(model: CurrentModel | None) -> None:
        if model is None:
            model_label.setText("No model")
            return
        from kpgui.core.display.numbers import percent

        tested = model.predictor.test_accuracy
        alone = "" if tested is None else " (the network alone)"
        model_label.setText(f"Model: {model.source} — MNIST test {percent(tested)}{alone}")

    s.events.model.connect(show_model)

    def frame_digits(_reading: object) -> None:
        number = s.number
        boxes = [piece.box for piece in number.pieces] if number is not None else []
        drawing.canvas.set_boxes(boxes, s.selected if number is not None else -1)

    s.events.reading.connect(frame_digits)
    s.events.message.connect(lambda text, ms: w.statusBar().showMessage(text, ms))
    # The training run owns its status notice: shown while it goes, cleared when it ends (a
    # "Saving the model…" must not outlive the run).
    s.events.training.connect(
        lambda t: (
            s.say(t.text, 0, owner="training")
            if t.busy and t.text
            else None
            if t.busy
            else s.unsay("training")
        )
    )
    s.events.training.connect(lambda t: stop_action.setEnabled(t.busy))
    stop_action.setEnabled(False)  # nothing to stop yet
    w.close_guard = app.may_close
    w.on_close = app.shutdown


def _sync_check(action: QAction) -> Callable[[bool], None]:
    def sync(on: bool) -> None:
        if action.isChecked() != on:
            action.setChecked(on)

    return sync


def _add_search_tab(app: App) -> None:
    """Issue 23: the Search tab (many settings at once with Optuna), beside Training's sweep."""
    from kpgui.ui.controllers.search import SearchController
    from kpgui.ui.panels.search import SearchPanel

    search = SearchPanel()
    app.panels.search = search
    app.search = SearchController(
        app.tasks,
        search,
        app.panels.training.spec,
        app.training.offer,
        app.report_error,
        parent=app.window,
    )
    app.window.add_tab(search, "Search", scroll=True)


def _add_evaluation_tab(app: App) -> None:
    """The Evaluation tab and its controller (the MNIST test half from the data controller)."""
    from kpgui.ui.controllers.evaluation import EvaluationController, connect_evaluation
    from kpgui.ui.panels.evaluation import EvaluationPanel

    panel = EvaluationPanel(app.state)
    controller = EvaluationController(app.state, app.tasks, app.data.test_set, app.window)
    connect_evaluation(panel, controller, app.drawing.show_image)
    app.panels.evaluation = panel
    app.evaluation = controller
    app.window.add_tab(panel, "Evaluation", TAB_KEYS["Evaluation"])


def _build_phase_two(app: App, store: Store | None, open_store: bool, built: Callable[[], None]) -> None:
    """Charts and the other tabs, after the first paint; History and My digits once the
    database is open (on a thread: checking a 150 MB database takes a second), then `built`."""
    from kpgui.ui.panels.normalisation import NormalisationPanel
    from kpgui.ui.panels.training_plots import TrainingPlots
    from kpgui.ui.panels.weights import WeightsPanel

    w, s = app.window, app.state
    p = app.panels
    p.prediction.build_chart()
    plots = TrainingPlots(s)
    tab = p.training_tab
    placeholder = tab.replaceWidget(1, plots)  # the empty place kept in the first step
    if placeholder is not None:
        placeholder.deleteLater()
    split = app.settings.value("window/training_split") if app.settings is not None else None
    if split is None or not tab.restoreState(split):  # the form/plots split of last time
        tab.setSizes([380, 420])
    p.plots = plots

    holders: dict[str, QStackedWidget] = {}

    def holder(title: str) -> None:  # the tab's place, filled when the database is open
        holders[title] = QStackedWidget()
        holders[title].addWidget(QLabel("Opening the kpgui database…"))
        w.add_tab(holders[title], title, TAB_KEYS[title])

    holder("History")
    _add_search_tab(app)  # issue 23
    _add_evaluation_tab(app)
    weights = WeightsPanel(s)
    p.weights = weights
    w.add_tab(weights, "Weights", TAB_KEYS["Weights"])
    seeing = NormalisationPanel(s)
    p.how_it_sees = seeing
    w.add_tab(seeing, "How it sees", TAB_KEYS["How it sees"])
    # -- Inside: every layer live, and "Fool it" (issue 21; kpgui.ui.controllers.inside) --
    from kpgui.ui.controllers.inside import add_inside_tab

    add_inside_tab(app, "Inside", TAB_KEYS["Inside"])
    # -- end Inside --
    holder("My digits")

    # -- issue 22a: the One weight lesson (a Lessons tab may open it: app.panels.one_weight) --
    from kpgui.ui.panels.one_weight import OneWeightPanel

    one_weight = OneWeightPanel()
    p.one_weight = one_weight
    w.add_tab(one_weight, "One weight")
    one_weight.stepped.connect(lambda row: _one_weight_diverged(app, one_weight, row))
    # -- end issue 22a --
    _add_lessons(app)  # issue 22b
    w.fit_dock()

    def opened(store: Store | None) -> None:
        _build_store_tabs(app, store, holders)
        tidy = app.tasks.run(lambda _t: _clean_leftovers(store), key="clean", doing="Tidying up")
        tidy.done.connect(lambda lines: s.say("Tidied up: " + "; ".join(lines), 15000) if lines else None)
        built()

    if store is not None or not open_store:
        opened(store)
        return
    from kpgui.core.storage.store import Store

    def attempt(_task: Task) -> tuple[Store | None, BaseException | None]:
        try:
            return Store.open_default(), None
        except BaseException as exc:  # noqa: BLE001 - explained on the GUI thread below
            return None, exc

    def answer(result: tuple[Store | None, BaseException | None]) -> None:
        ready, problem = result

        def again() -> Store | None:  # what open_default_store tries: the answer found on the thread
            if problem is not None:
                raise problem
            return ready

        store, app.store_problem = open_default_store(w, again)
        opened(store)

    def failed(_title: str, text: str) -> None:
        app.store_problem = text
        opened(None)

    task = app.tasks.run(attempt, key="store", doing="Opening the kpgui database")
    task.done.connect(answer)
    task.failed.connect(failed)


def _build_store_tabs(app: App, store: Store | None, holders: dict[str, QStackedWidget]) -> None:
    """History and My digits in their places (or why they are unavailable)."""
    s, p = app.state, app.panels
    app.store = store
    app.training.store = store
    app.samples.store = store

    history: QWidget
    if store is not None:
        history = _history(app, store)
    else:
        history = unavailable("Run history", app.store_problem)
    p.history = history

    if store is not None:
        mine = _my_digits(app, store)
    else:
        mine = unavailable("Your samples", app.store_problem)
        p.drawing.sample_bar.setEnabled(False)
        p.drawing.sample_bar.setToolTip("Samples cannot be saved: the database is unavailable")
    p.my_digits = mine
    for title, widget in (("History", history), ("My digits", mine)):
        place = holders[title]
        waiting = place.widget(0)
        place.addWidget(widget)
        place.setCurrentWidget(widget)
        if waiting is not None:
            place.removeWidget(waiting)
            waiting.deleteLater()
    if app.store_problem and store is not None:  # recovered: say where the old file is
        s.say(app.store_problem, 15000)


def _history(app: App, store: Store) -> QWidget:
    """The History tab and the runs controller behind it."""
    from kpgui.ui.controllers.runs import RunsController, connect_history
    from kpgui.ui.panels.history import HistoryPanel

    runs = RunsController(app.state, store, app.tasks, app.report_error, app.window)
    app.runs = runs
    history = HistoryPanel(app.state)
    connect_history(history, runs, app.models.load_run)
    runs.refresh()  # the runs are read on a thread
    history.load_requested.connect(app.focus_canvas)
    history.code_requested.connect(app.form.show_run_code)  # issue 22a
    history.settings_requested.connect(lambda run: app.form.use_settings(run.spec))
    history.save_requested.connect(app.models.ask_save_run)
    return history


def _one_weight_diverged(app: App, panel: OneWeightPanel, row: Any) -> None:
    """Tell the lessons when the One weight loop has visibly run away (its error beyond where
    it started, with an alpha that makes every step longer)."""
    from kpgui.core.lessons import one_weight as ow

    if row.iteration >= 3 and ow.kind(panel.settings()) == ow.DIVERGES:
        app.state.events.one_weight.emit("diverged")


# -- issue 22b: the Lessons tab -----------------------------------------------------------------------


def _add_lessons(app: App) -> None:
    """The Lessons tab and its controller: a step arranges the window through the form, the tabs
    and these controls, and watches the state for its task."""
    from kpgui.ui.controllers.lessons import LessonController
    from kpgui.ui.panels.lessons import LessonsPanel

    p, form = app.panels, app.panels.training
    controls: dict[str, QWidget] = {
        **form.fields,
        "start": form.start_button,
        "stop": form.stop_button,
        "sweep": p.sweep,
        "sweep_preset": p.sweep.preset_button,
        "canvas": p.drawing.canvas,
        "sample_bar": p.drawing.sample_bar,
        "prediction": p.prediction,
    }
    panel = LessonsPanel()
    lessons = LessonController(
        app.state, app.window, form, controls, app.settings, app.report_error, app.samples.total
    )
    app.lessons = lessons
    lessons.changed.connect(panel.show_view)
    panel.lesson_chosen.connect(lessons.choose_lesson)
    panel.step_chosen.connect(lessons.choose_step)
    panel.apply_requested.connect(lessons.apply_step)
    panel.next_requested.connect(lessons.next_step)
    panel.open_requested.connect(lambda: lessons.open_file())
    panel.show_view(lessons.view())
    p.lessons = panel
    app.window.add_tab(panel, "Lessons", TAB_KEYS["Lessons"], scroll=True)


# -- end of issue 22b ------------------------------------------------------------------------------


def _clean_leftovers(store: Store | None) -> list[str]:
    """What a killed save or an unrecorded run left in the models folder (never a file being
    written now), cleaned with lines saying so."""
    from kpgui.core.storage.atomic import clean_stale_temp_files
    from kpgui.core.storage.paths import models_dir
    from kpgui.core.storage.tidy import tidy_data_folder

    if store is None:
        removed = clean_stale_temp_files(models_dir())
        return [f"removed {len(removed)} unfinished save(s) in {models_dir()}"] if removed else []
    return tidy_data_folder(store)


def _my_digits(app: App, store: Store) -> QWidget:
    from kpgui.ui.panels.finetune import FineTunePanel
    from kpgui.ui.panels.samples import SamplesPanel

    s = app.state
    samples = SamplesPanel(s, app.samples.thumbnails)
    samples.relabel_requested.connect(app.samples.relabel)
    samples.delete_requested.connect(app.samples.delete)
    samples.export_requested.connect(app.samples.export)
    samples.import_requested.connect(app.samples.import_)
    samples.open_requested.connect(app.samples.open_sample)
    app.samples.image_chosen.connect(app.drawing.show_image)
    app.samples.refresh()  # the list is read on a thread
    finetune = FineTunePanel(s)
    finetune.finetune_requested.connect(app.training.finetune_with)
    finetune.finetune_requested.connect(app.focus_canvas)
    app.panels.samples = samples
    app.panels.finetune = finetune
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(samples)
    split.addWidget(_scrolling(finetune))
    split.setStretchFactor(0, 3)
    split.setStretchFactor(1, 1)
    return split


def open_default_store(parent: QWidget | None, attempt: Any = None) -> tuple[Any, str]:
    """(Store, "") or (None, why): the default database (`attempt()` when given: the outcome
    of opening it on a thread), recovering a damaged one if the person agrees. Exactly one
    dialog is shown when something is wrong."""
    from kpgui.core.storage.paths import FolderError
    from kpgui.core.storage.store import Store, StoreError

    try:
        return (attempt or Store.open_default)(), ""
    except StoreError as exc:
        path = exc.path
        if exc.kind == StoreError.CORRUPT and path is not None:
            if dialogs.ask_yes_no(
                parent,
                "Database damaged",
                f"{exc}\n\nStart a fresh, empty database now? The damaged file is kept beside "
                f"it (as {path.name}.corrupt-<time>) and nothing is deleted. If you answer No, "
                "kpgui works without run history and your samples until the file is fixed.",
                yes="Start fresh",
            ):
                try:
                    store = Store.recover(path)
                except (StoreError, OSError) as exc2:
                    dialogs.show_error(
                        parent, "Database unavailable", f"A fresh database could not be made either: {exc2}"
                    )
                    return None, str(exc2)
                kept = store.recovered_from
                return store, (
                    f"Started a fresh database; the damaged one is kept as {kept}." if kept else ""
                )
            return None, str(exc)
        dialogs.show_error(
            parent,
            "Database unavailable",
            f"{exc}\n\nkpgui keeps working, but run history and your samples are "
            "unavailable until this is fixed (restart kpgui afterwards).",
        )
        return None, str(exc)
    except (FolderError, OSError) as exc:
        dialogs.show_error(
            parent,
            "Database unavailable",
            f"The kpgui database could not be opened: {exc}. Run history and your samples are unavailable.",
        )
        return None, str(exc)


def unavailable(what: str, reason: str) -> QLabel:
    from PySide6.QtCore import Qt

    label = QLabel(
        f"<b>{what} unavailable.</b><br><br>The kpgui database could not be opened:"
        f"<br>{reason}<br><br>Fix or move the file aside and restart kpgui; "
        "everything else keeps working."
    )
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setObjectName("store-unavailable")
    return label


def show_main_window(argv: list[str] | None = None) -> App:
    """Build and show the window; the second start-up step follows the first paint. What
    `run_app` opens (and benchmarks/bench_startup.py times)."""
    make_qapp(argv)
    app = build_app()
    app.window.show()
    return app


def run_app(argv: list[str] | None = None) -> int:
    """Open the main window and run until it is closed; the exit code."""
    app = show_main_window(argv)
    qapp = QApplication.instance()
    assert qapp is not None  # made by show_main_window
    # Ctrl+C in the terminal closes the window the normal way; the timer gives Python a moment
    # now and then to notice the signal while Qt's loop runs.
    try:
        signal.signal(signal.SIGINT, lambda *_: app.window.close())
    except ValueError:  # not the main thread (embedded use): keep the default handler
        pass
    wakeup = QTimer()
    wakeup.timeout.connect(lambda: None)
    wakeup.start(250)
    code = qapp.exec()
    wakeup.stop()
    app.tasks.shutdown()  # closed some other way: never leave a training process behind
    return int(code)
