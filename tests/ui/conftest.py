"""Fixtures of the window tests: the whole app as the composition root builds it, shown
offscreen, with dialogs recorded instead of shown."""

from __future__ import annotations

import pytest

from kpgui.ui import dialogs


@pytest.fixture
def errors(monkeypatch):
    """Error dialogs recorded as (title, text) instead of shown."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: calls.append((title, text)))
    return calls


@pytest.fixture
def answers(monkeypatch):
    """Yes/no questions recorded; the answer is `answers.yes` (default: no)."""

    class Answers(list):
        yes = False

    asked = Answers()

    def ask(parent, title, text, yes="Yes"):
        asked.append((title, text))
        return asked.yes

    monkeypatch.setattr(dialogs, "ask_yes_no", ask)
    return asked


def open_app(qtbot, **kwargs):
    """The app (kpgui.ui.app.App), shown, with everything built."""
    from kpgui.ui import settings as app_settings
    from kpgui.ui.app import build_app, make_qapp

    make_qapp()
    # No warm training process unless a test asks for one (keep_warm=True): each costs seconds
    # of CPU and half a gigabyte on a machine the tests share.
    store = app_settings.settings()
    store.setValue("training/keep_warm", bool(kwargs.pop("keep_warm", False)))
    store.sync()
    app = build_app(**kwargs)
    qtbot.addWidget(app.window)
    with qtbot.waitSignal(app.built.done, timeout=30000):
        app.window.show()
    qtbot.waitExposed(app.window)
    return app


def close_app(app) -> None:
    """Close without questions: stop any run, end background work."""
    app.window.close_guard = lambda: True
    app.tasks.wait(30)
    app.window.close()
    app.tasks.shutdown()


@pytest.fixture
def app(qtbot, errors, answers):
    a = open_app(qtbot)
    yield a
    close_app(a)


@pytest.fixture(scope="session")
def shared_app(qapp, tmp_path_factory):
    """One window for the tests that look at it (menus, names, keys, help, size) or work in a
    part of it and leave it as they found it (the shipped model, no candidate, no run going, no
    samples of theirs, the built-in lesson, the one-weight loop's own start): built once per
    session instead of once per test (a window is about a second). Its own user folders; error
    dialogs and questions are recorded in `shared_app.dialogs` unless a test asks for the
    `errors` / `answers` fixtures."""
    import time

    from kpgui.ui import settings as app_settings
    from kpgui.ui.app import build_app, make_qapp

    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("shared-user")
        mp.setenv("KPGUI_DATA_DIR", str(root / "data"))
        mp.setenv("KPGUI_CONFIG_DIR", str(root / "config"))
        seen: list[tuple[str, str]] = []
        mp.setattr(dialogs, "show_error", lambda parent, title, text: seen.append((title, text)))
        mp.setattr(dialogs, "ask_yes_no", lambda parent, title, text, yes="Yes": seen.append((title, text)))
        make_qapp()
        store = app_settings.settings()
        store.setValue("training/keep_warm", False)
        store.sync()
        app = build_app()
        app.dialogs = seen
        built: list[bool] = []
        app.built.done.connect(lambda: built.append(True))
        app.window.show()
        deadline = time.monotonic() + 30
        while not built and time.monotonic() < deadline:
            qapp.processEvents()
            time.sleep(0.005)
        assert built, "the window was not built within 30 s"
        yield app
        close_app(app)


# -- panels on their own: an AppState and just the widgets a test drives -------------------------


@pytest.fixture(scope="session")
def shipped_predictor():
    """The shipped model, loaded once (NumPy; never modified by a test)."""
    from kpgui.core.model.inference import Predictor

    return Predictor.load(allow_keras=False)


@pytest.fixture
def state(shipped_predictor):
    """A fresh AppState reading with the shipped model, as the window starts."""
    from kpgui.core.state import AppState, CurrentModel
    from kpgui.ui.controllers.models import SHIPPED

    s = AppState()
    s.set_model(CurrentModel(shipped_predictor, SHIPPED))
    return s


@pytest.fixture
def tasks(qtbot):
    """The background-work helper, ended after the test (no training process is kept ready)."""
    from kpgui.ui.tasks import Tasks

    t = Tasks()
    yield t
    t.shutdown()  # what is still running is cancelled (work that checks for it stops early)
    t.wait(10)


class DrawingRig:
    """The drawing panel, the prediction panel, the candidate bar and the drawing controller on
    one AppState, wired as the composition root wires them, without the rest of the window."""

    def __init__(self, qtbot, state, tasks, errors) -> None:
        from PySide6.QtWidgets import QHBoxLayout, QWidget

        from kpgui.ui.controllers.drawing import DrawingController
        from kpgui.ui.controllers.reading import ReadingController
        from kpgui.ui.panels.candidate import CandidateBar
        from kpgui.ui.panels.drawing import DrawingPanel
        from kpgui.ui.panels.prediction import PredictionPanel

        self.state = state
        # Built before the views, as in the app: it publishes the candidate's reading and saliency.
        self.reading = ReadingController(state)
        self.host = QWidget()
        self.panel = DrawingPanel()
        self.canvas = self.panel.canvas
        self.prediction = PredictionPanel(state)
        self.candidate = CandidateBar(state)
        layout = QHBoxLayout(self.host)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.prediction)
        layout.addWidget(self.candidate)
        self.drawing = DrawingController(state, self.canvas, tasks, lambda t, x: errors.append((t, x)))
        # as App.panels names them
        self.panels = {"drawing": self.panel, "prediction": self.prediction, "candidate": self.candidate}
        self.panel.undo_requested.connect(self.drawing.undo)
        self.panel.clear_requested.connect(self.drawing.clear)
        self.prediction.saliency.wanted.connect(self.reading.want_saliency)
        qtbot.addWidget(self.host)
        self.host.resize(1000, 560)
        self.host.show()
        qtbot.waitExposed(self.host)
        self.drawing.render_now()


@pytest.fixture
def rig(qtbot, state, tasks, errors):
    """Draw on the canvas with the mouse; read the answer in the prediction panel."""
    return DrawingRig(qtbot, state, tasks, errors)


@pytest.fixture
def form(qtbot, state):
    """The training form on its own, shown."""
    from kpgui.ui.panels.training_form import TrainingPanel

    panel = TrainingPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    return panel


@pytest.fixture
def plots(qtbot, state):
    """The Training tab's plots on their own, observing `state`, shown."""
    from kpgui.ui.panels.training_plots import TrainingPlots

    panel = TrainingPlots(state)
    qtbot.addWidget(panel)
    panel.resize(700, 600)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


class SamplesRig(DrawingRig):
    """The drawing rig plus My digits: the samples controller on a real store in the test's
    data folder and the samples panel, wired as kpgui.ui.app wires them (the drawing panel's
    "This is a …" buttons save a sample). `messages` are the status-bar notices said."""

    def __init__(self, qtbot, state, tasks, errors) -> None:
        from kpgui.core.storage.store import Store
        from kpgui.ui.controllers.samples import SampleController
        from kpgui.ui.panels.samples import SamplesPanel

        super().__init__(qtbot, state, tasks, errors)
        self.messages: list[str] = []
        state.events.message.connect(lambda text, _ms: self.messages.append(text))
        self.store = Store.open_default()
        self.samples = SampleController(
            state, self.store, tasks, self.drawing.clear, lambda t, x: errors.append((t, x))
        )
        self.view = SamplesPanel(state, self.samples.thumbnails)
        self.view.relabel_requested.connect(self.samples.relabel)
        self.view.delete_requested.connect(self.samples.delete)
        self.view.export_requested.connect(self.samples.export)
        self.view.import_requested.connect(self.samples.import_)
        self.view.open_requested.connect(self.samples.open_sample)
        self.samples.image_chosen.connect(self.drawing.show_image)
        self.panel.sample_bar.label_chosen.connect(self.samples.save_drawing)
        self.host.layout().addWidget(self.view, 1)
        self.host.resize(1400, 600)
        self.tasks = tasks
        self.samples.refresh()
        tasks.wait(10)

    def close(self) -> None:
        """Hidden first (a shown list asks for thumbnails), its work finished, then no store:
        a thumbnail still asked for is not fetched once the tasks are shut down."""
        self.host.hide()
        self.tasks.wait(10)
        self.samples.store = None
        self.store.close()


@pytest.fixture
def samples_rig(qtbot, state, tasks, errors):
    """Draw, keep samples, browse them in My digits: no whole window."""
    r = SamplesRig(qtbot, state, tasks, errors)
    yield r
    r.close()


class HistoryRig:
    """History on its own: the runs controller on a real store in the test's data folder, the
    History panel and the Training tab's plots on one AppState, and the model controller that
    loads a run, wired as kpgui.ui.app wires them."""

    def __init__(self, qtbot, state, tasks, errors) -> None:
        from PySide6.QtWidgets import QHBoxLayout, QWidget

        from kpgui.core.storage.store import Store
        from kpgui.ui.controllers.models import ModelController
        from kpgui.ui.controllers.runs import RunsController, connect_history
        from kpgui.ui.panels.history import HistoryPanel
        from kpgui.ui.panels.training_plots import TrainingPlots

        def report(title: str, text: str) -> None:
            errors.append((title, text))

        self.state, self.tasks = state, tasks
        self.store = Store.open_default()
        self.runs = RunsController(state, self.store, tasks, report)
        self.models = ModelController(state, tasks, report)
        self.history = HistoryPanel(state)
        self.plots = TrainingPlots(state)
        connect_history(self.history, self.runs, self.models.load_run)
        self.host = QWidget()
        layout = QHBoxLayout(self.host)
        layout.addWidget(self.history, 1)
        layout.addWidget(self.plots, 1)
        qtbot.addWidget(self.host)
        self.host.resize(1400, 600)
        self.host.show()
        qtbot.waitExposed(self.host)
        self.runs.refresh()  # the runs are read on a thread
        tasks.wait(10)

    def close(self) -> None:
        self.tasks.wait(10)
        self.store.close()


@pytest.fixture
def history_rig(qtbot, state, tasks, errors):
    """History, its plots and loading a run: no whole window."""
    r = HistoryRig(qtbot, state, tasks, errors)
    yield r
    r.close()


def at_the_canvas(qtbot, app) -> None:
    """The shared window active, on its drawing tab, the canvas empty and holding the keys: as
    a person who has just opened it finds it (other tests may have typed or drawn meanwhile)."""
    app.window.activateWindow()
    qtbot.waitUntil(app.window.isActiveWindow, timeout=3000)
    app.drawing.clear()
    app.panels["drawing"].canvas.setFocus()
    qtbot.waitUntil(app.panels["drawing"].canvas.hasFocus, timeout=3000)
