"""Plugging the insight panels into the main window: `install(main_window, store=None)`.

Adds tabs (History, Evaluation, Weights, My digits) beside the training panel, the
"This is a …" row under the canvas with digit-key shortcuts, the "Show saliency" switch under
the preview, View-menu entries, and records every finished training run in the store.

A damaged or locked database never stops the app: one dialog names the file and the fix (for a
damaged file it offers to start a fresh database, keeping the old one aside), and the panels
that need it show why they are unavailable.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QBoxLayout,
    QDockWidget,
    QLabel,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolBar,
    QWidget,
)

from kpgui.ui.insight import dialogs
from kpgui.ui.insight.collect import CollectBar, Collector
from kpgui.ui.insight.evaluation_view import EvaluationView
from kpgui.ui.insight.finetune_panel import FineTunePanel
from kpgui.ui.insight.runs_view import RunsView
from kpgui.ui.insight.saliency_overlay import SaliencyBar, SaliencyController
from kpgui.ui.insight.samples_view import SamplesView
from kpgui.ui.insight.weights_view import WeightsView


def open_store(parent: QWidget | None = None) -> tuple[Any, str]:
    """(Store, "") or (None, why): the default database, recovering a damaged one if the person
    agrees. Exactly one dialog is shown when something is wrong."""
    from kpgui.core.store import Store, StoreError

    try:
        return Store.open_default(), ""
    except StoreError as exc:
        path = exc.path
        if exc.kind == StoreError.CORRUPT and path is not None:
            if dialogs.ask_yes_no(
                parent, "Database damaged",
                f"{exc}\n\nStart a fresh, empty database now? The damaged file is kept beside "
                f"it (as {path.name}.corrupt-<time>) and nothing is deleted. If you answer No, "
                "kpgui works without run history and your samples until the file is fixed.",
            ):
                try:
                    store = Store.recover(path)
                except (StoreError, OSError) as exc2:
                    dialogs.show_error(parent, "Database unavailable",
                                       f"A fresh database could not be made either: {exc2}")
                    return None, str(exc2)
                kept = getattr(store, "recovered_from", None)
                return store, (f"Started a fresh database; the damaged one is kept as {kept}."
                               if kept else "")
            return None, str(exc)
        dialogs.show_error(
            parent, "Database unavailable",
            f"{exc}\n\nkpgui keeps working, but run history and your samples are unavailable "
            "until this is fixed (restart kpgui afterwards).")
        return None, str(exc)
    except OSError as exc:
        dialogs.show_error(parent, "Database unavailable", f"The kpgui database could not be "
                           f"opened: {exc}. Run history and your samples are unavailable.")
        return None, str(exc)


def unavailable(what: str, reason: str) -> QLabel:
    label = QLabel(f"<b>{what} unavailable.</b><br><br>The kpgui database could not be opened:"
                   f"<br>{reason}<br><br>Fix or move the file aside and restart kpgui; "
                   "everything else keeps working.")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setObjectName("store-unavailable")
    return label


def focus_widget(widget: QWidget) -> None:
    """Bring the tab (and dock) holding `widget` to the front."""
    w = widget
    while w is not None:
        parent = w.parentWidget()
        tabs = parent.parentWidget() if parent is not None else None
        if isinstance(tabs, QTabWidget) and tabs.indexOf(w) >= 0:  # w is a page
            tabs.setCurrentWidget(w)
        if isinstance(w, QDockWidget):
            w.show()
            w.raise_()
        w = parent


class Insight(QObject):
    """Everything `install` added, for tests and for the window to keep alive."""

    run_recorded = Signal(object)  # RunRecord
    record_failed = Signal(str)

    def __init__(self, window: Any, store: Any, store_problem: str = "") -> None:
        super().__init__(window)
        self.window = window
        self.store = store
        self.store_problem = store_problem
        self._saves: list[threading.Thread] = []
        self.runs_view: RunsView | None = None
        self.samples_view: SamplesView | None = None
        self.finetune_panel: FineTunePanel | None = None
        self.collector: Collector | None = None
        self.collect_bar: CollectBar | None = None
        self.panels: dict[str, QWidget] = {}

        w = window
        get_predictor = lambda: w.predictor  # noqa: E731
        plots = getattr(w, "training_plots", None)

        # History
        if store is not None:
            self.runs_view = RunsView(store, plots, w.set_predictor)
            history: QWidget = self.runs_view
        else:
            history = unavailable("Run history", store_problem)
        # Evaluation, weights (no database needed)
        self.evaluation_view = EvaluationView(get_predictor, w.load_image_array)
        self.weights_view = WeightsView(w.predictor)
        # My digits: samples + fine-tuning
        if store is not None:
            self.samples_view = SamplesView(store, w.load_image_array)
            self.finetune_panel = FineTunePanel(
                store, get_predictor, getattr(w, "start_training", None), w.set_predictor, plots)
            mine = QSplitter(Qt.Orientation.Vertical)
            mine.addWidget(self.samples_view)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(self.finetune_panel)
            mine.addWidget(scroll)
            mine.setStretchFactor(0, 3)
            mine.setStretchFactor(1, 1)
            mine.setSizes([520, 300])
            self.samples_view.samples_changed.connect(self.finetune_panel.refresh)
            samples: QWidget = mine
        else:
            samples = unavailable("Your samples", store_problem)
        for title, panel in (("History", history), ("Evaluation", self.evaluation_view),
                             ("Weights", self.weights_view), ("My digits", samples)):
            w.add_panel(panel, title)
            self.panels[title] = panel

        # Collecting samples under the canvas, saliency under the preview.
        self.saliency = SaliencyController(get_predictor, w.prediction_view.set_overlay, self)
        self.saliency_bar = SaliencyBar(self.saliency)
        self.collector = Collector(store, w.canvas, getattr(w, "current_image", None), self)
        if hasattr(w, "clear_canvas"):
            self.collector.canvas_clear = w.clear_canvas
        self.collector.install_shortcuts(w)
        self.collector.message.connect(lambda text: self._status(text, 6000))
        self.collector.saved.connect(self._sample_saved)
        self.collect_bar = CollectBar(self.collector)
        if store is None:
            self.collect_bar.setEnabled(False)
            self.collect_bar.setToolTip("Samples cannot be saved: the database is unavailable")
        self._place_bars()

        # Signals from the window.
        w.image_changed.connect(self.saliency.on_image)
        w.image_changed.connect(self.collector.on_image)
        w.predictor_changed.connect(self._predictor_changed)
        w.training_finished.connect(self._training_finished)
        if self.finetune_panel is not None:
            # Fallback path only (no start_training): its own thread's result is a run too.
            self.finetune_panel.finetuned.connect(self._finetuned_fallback)
        self.run_recorded.connect(lambda _r: self.runs_view and self.runs_view.refresh())
        self.record_failed.connect(lambda text: self._status(text, 10000))

        self._build_menu()
        window.installEventFilter(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        if store_problem and store is not None:  # recovered: say where the old file is
            QTimer.singleShot(0, lambda: self._status(store_problem, 15000))

    # -- layout --------------------------------------------------------------------------------

    def _place_bars(self) -> None:
        w = self.window
        placed_collect = placed_saliency = False
        try:
            left = w.canvas.parentWidget().parentWidget()
            lay = left.layout() if left is not None else None
            if isinstance(lay, QBoxLayout):
                lay.addWidget(self.collect_bar)
                placed_collect = True
        except AttributeError:
            pass
        lay = w.prediction_view.layout() if hasattr(w.prediction_view, "layout") else None
        if isinstance(lay, QBoxLayout):
            lay.insertWidget(min(2, lay.count()), self.saliency_bar, 0,
                             Qt.AlignmentFlag.AlignHCenter)
            placed_saliency = True
        if not (placed_collect and placed_saliency):
            bar = QToolBar("Teach and explain", w)
            bar.setObjectName("insight-toolbar")
            if not placed_collect:
                bar.addWidget(self.collect_bar)
            if not placed_saliency:
                bar.addWidget(self.saliency_bar)
            w.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)

    def _build_menu(self) -> None:
        view = self.window.menu("View")
        self.view_actions: dict[str, QAction] = {}
        for text, title, key in (("Run &history", "History", "Ctrl+Shift+H"),
                                 ("&Evaluation", "Evaluation", "Ctrl+Shift+E"),
                                 ("First-layer &weights", "Weights", "Ctrl+Shift+W"),
                                 ("My &samples", "My digits", "Ctrl+Shift+D")):
            action = QAction(text, self.window)
            action.setShortcut(key)
            action.triggered.connect(lambda _c=False, t=title: self.show_panel(t))
            view.addAction(action)
            self.view_actions[title] = action
        view.addSeparator()
        sal = QAction("Show &saliency", self.window)
        sal.setCheckable(True)
        sal.toggled.connect(self.saliency.set_enabled)
        self.saliency.toggled.connect(sal.setChecked)
        view.addAction(sal)
        self.view_actions["saliency"] = sal

    def eventFilter(self, obj, event):  # noqa: N802
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def shutdown(self) -> None:
        """The window is closing: let background work end (never leave a thread running)."""
        self.evaluation_view.shutdown()
        panel = self.finetune_panel
        if panel is not None and panel.worker is not None:
            panel.worker.stop()
            panel.worker.wait(60000)
        self.wait_saves()

    def show_panel(self, title: str) -> None:
        focus_widget(self.panels[title])

    def _status(self, text: str, ms: int = 5000) -> None:
        bar = getattr(self.window, "statusBar", None)
        if bar is not None:
            bar().showMessage(text, ms)

    # -- reactions -----------------------------------------------------------------------------

    def _predictor_changed(self, predictor: Any) -> None:
        self.weights_view.set_predictor(predictor)
        self.evaluation_view.mark_stale()
        self.saliency.on_predictor(predictor)

    def _sample_saved(self, _sid: int, _label: int) -> None:
        if self.samples_view is not None:
            self.samples_view.refresh()
        if self.finetune_panel is not None:
            self.finetune_panel.refresh()

    def _training_finished(self, result: Any) -> None:
        notes = None
        kind = "train"
        if self.finetune_panel is not None and self.finetune_panel.pending is not None:
            notes = self.finetune_panel.on_training_finished(result)
            kind = "finetune"
        self.record_run(result, kind=kind, notes=notes)

    def _finetuned_fallback(self, out: Any) -> None:
        if self.finetune_panel is not None and self.finetune_panel.start_training is None:
            self.record_run(out.result, kind="finetune", notes=FineTunePanel.notes(out))

    def record_run(self, result: Any, kind: str = "train", notes: dict | None = None) -> bool:
        """Save the run's model and record it, in a background thread (saving a model takes a
        moment). Runs stopped before any epoch are not kept."""
        if self.store is None or result is None or getattr(result, "model", None) is None:
            return False
        if not (getattr(result, "epochs_run", 0) or 0):
            return False
        from kpgui.core.store import save_run_model

        spec = result.spec
        name = f"{'fine-tune' if kind == 'finetune' else 'run'} " + "-".join(
            str(h) for h in getattr(spec, "hidden", ()))

        def work() -> None:
            try:
                record = save_run_model(self.store, result, name=name.strip(), kind=kind,
                                        notes=notes)
            except Exception as exc:  # a full disk or locked database: tell, don't crash
                _emit_if_alive(self.record_failed,
                               f"The run could not be added to the history: {exc}")
                return
            _emit_if_alive(self.run_recorded, record)

        t = threading.Thread(target=work, name="kpgui-record-run", daemon=True)
        self._saves = [s for s in self._saves if s.is_alive()] + [t]
        t.start()
        return True

    def wait_saves(self, timeout: float = 30.0) -> None:
        for t in list(self._saves):
            t.join(timeout)


def _emit_if_alive(signal: Any, value: Any) -> None:
    """Emit from a worker thread unless the app has already torn the receiver down (quitting
    right after a run): the run is saved either way; only the notice would be lost."""
    try:
        signal.emit(value)
    except RuntimeError:  # "Signal source has been deleted"
        pass


def install(main_window: Any, store: Any = None) -> Insight:
    """Add the insight panels to `main_window`; opens the default database if `store` is None.
    Returns the Insight object (also kept as `main_window.insight`)."""
    problem = ""
    if store is None:
        store, problem = open_store(main_window)
    insight = Insight(main_window, store, problem)
    main_window.insight = insight
    return insight
