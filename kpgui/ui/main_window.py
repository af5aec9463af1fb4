"""The main window: canvas, live prediction, training panel and plots, menus and settings.

It wires views to the Qt-free core and holds no ML logic: drawing -> `strokes_to_mnist` ->
`Predictor.predict_one` (pure NumPy, one prediction per frame at most), training -> a
`TrainingSession` (QThread) whose signals feed the plots and the progress bar.

Hooks for other panels (e.g. `kpgui.ui.insight`): properties `predictor`, `canvas`,
`prediction_view`, `training_panel`, `training_plots`; signals `predictor_changed(Predictor)`,
`training_finished(TrainingResult)`, `image_changed(np.ndarray | None)`; methods
`set_predictor`, `load_image_array`, `add_panel`, `menu`, `start_training`.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.imageio import ImageReadError, read_image
from kpgui.core.inference import ModelLoadError, Predictor, card_path
from kpgui.core.preprocess import image_to_mnist, strokes_to_mnist
from kpgui.core.spec import ModelSpec
from kpgui.ui import dialogs
from kpgui.ui import settings as app_settings
from kpgui.ui.canvas import DrawingCanvas, SquareHolder
from kpgui.ui.prediction_view import PredictionView, gray_qimage
from kpgui.ui.training_panel import TrainingPanel
from kpgui.ui.training_worker import TrainingSession

PREDICT_MS = 16  # at most one prediction per frame while drawing
PROGRESS_MS = 500  # each progress-bar repaint costs ~4 ms; twice a second is enough
CLOSE_WAIT_MS = 5000  # how long closing waits for a stopped run before deferring the close
DEFAULT_PEN = 18


class _ModelLoader(QObject):
    """Loads a model file in a background thread (the Keras fallback imports TensorFlow)."""

    loaded = Signal(object, str)  # Predictor, source label
    failed = Signal(str, str)  # file name, reason

    def load(self, path: str | None) -> None:
        name = Path(path).name if path else "the default model"

        def work() -> None:
            try:
                predictor = Predictor.load(path)
            except ModelLoadError as exc:
                outcome = (self.failed, name, str(exc))
            except Exception as exc:  # noqa: BLE001 - anything else is still an unusable file
                outcome = (self.failed, name, f"{type(exc).__name__}: {exc}")
            else:
                label = "default model" if path is None else f"opened {name}"
                outcome = (self.loaded, predictor, label)
            try:
                outcome[0].emit(*outcome[1:])
            except RuntimeError:  # the window was closed meanwhile: nobody to tell
                pass

        threading.Thread(target=work, name="kpgui-model-load", daemon=True).start()


class MainWindow(QMainWindow):
    """The kpgui window. `MainWindow(predictor=None)` loads the shipped default model."""

    predictor_changed = Signal(object)
    training_finished = Signal(object)
    image_changed = Signal(object)

    def __init__(self, predictor: Predictor | None = None) -> None:
        super().__init__()
        self.setWindowTitle("kpgui – handwritten digits")
        self._settings = app_settings.settings()
        self._predictor: Predictor | None = None
        self._source_label = ""
        self._current_result: Any = None  # TrainingResult behind the current predictor, if any
        self._last_result: Any = None  # the last finished run (for "Save model…")
        self._session: TrainingSession | None = None
        self._close_pending = False
        self._image28: np.ndarray | None = None  # a fixed input (imported picture), else None
        self._latest_batch: Any = None
        self.predictions = 0  # how many predictions ran (tests check the coalescing)
        self._menus: dict[str, QMenu] = {}

        self._build_widgets()
        self._build_actions()
        self._build_status_bar()

        self._predict_timer = QTimer(self)
        self._predict_timer.setSingleShot(True)
        self._predict_timer.setInterval(PREDICT_MS)
        self._predict_timer.timeout.connect(self.update_prediction)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_MS)
        self._progress_timer.timeout.connect(self._show_latest_progress)

        self._loader = _ModelLoader(self)
        self._loader.loaded.connect(self.set_predictor)
        self._loader.failed.connect(self._model_load_failed)

        self._restore_settings()
        if predictor is None:
            try:
                predictor = Predictor.load()
            except ModelLoadError as exc:
                message = (f"The shipped model could not be loaded: {exc}\n\nReinstall kpgui, "
                           "or open a model with File → Open model…, or train one.")
                QTimer.singleShot(0, lambda: dialogs.show_error(self, "Default model missing",
                                                                message))
        if predictor is not None:
            self.set_predictor(predictor, "default model" if predictor.path else "")
        else:
            self._update_status()
            self.update_prediction()

    # -- construction ----------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self._canvas = DrawingCanvas(pen_width=DEFAULT_PEN)
        self._canvas.strokes_changed.connect(self._strokes_changed)
        self._canvas.file_dropped.connect(self.import_image)

        self.pen_spin = QSpinBox()
        self.pen_spin.setRange(2, 60)
        self.pen_spin.setSuffix(" px")
        self.pen_spin.setValue(DEFAULT_PEN)
        self.pen_spin.setToolTip("Pen width on the canvas")
        self.pen_spin.valueChanged.connect(self._canvas.set_pen_width)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self._canvas.undo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Start again with an empty canvas (Esc)")
        self.clear_button.clicked.connect(self.clear_canvas)
        self.import_button = QPushButton("Import image…")
        self.import_button.setToolTip("Read a picture of a digit (Ctrl+I), or drop it on the canvas")
        self.import_button.clicked.connect(self.ask_import_image)
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Pen"))
        tools.addWidget(self.pen_spin)
        tools.addStretch(1)
        tools.addWidget(self.undo_button)
        tools.addWidget(self.clear_button)
        tools.addWidget(self.import_button)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addLayout(tools)
        left_layout.addWidget(SquareHolder(self._canvas), 1)

        self._prediction_view = PredictionView()
        self._prediction_view.setFixedWidth(300)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(left, 1)
        row.addWidget(self._prediction_view, 0)
        self.setCentralWidget(central)

        self._training_panel = TrainingPanel()
        # The plots (pyqtgraph, ~0.45 s to import) are built right after the window first shows.
        self._training_plots = None
        self._plots_slot = QWidget()
        self._training_panel.start_requested.connect(self.start_training)
        self._training_panel.stop_requested.connect(self.stop_training)
        self._training_panel.save_requested.connect(self.save_last_run)
        # A layout, not a splitter: the form grows when red error lines appear under fields.
        training_tab = QWidget()
        tab_layout = QVBoxLayout(training_tab)
        tab_layout.setContentsMargins(0, 0, 0, 0)
        tab_layout.addWidget(self._training_panel, 0)
        tab_layout.addWidget(self._plots_slot, 1)
        self._tab_layout = tab_layout

        self.tabs = QTabWidget()
        self.tabs.addTab(training_tab, "Training")
        self.dock = QDockWidget("Train the network", self)
        self.dock.setObjectName("training-dock")
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.dock.setWidget(self.tabs)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.resize(1440, 880)
        self.resizeDocks([self.dock], [560], Qt.Orientation.Horizontal)

    def _action(self, menu: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.menu(menu).addAction(action)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        for name in ("File", "Edit", "Model", "Help"):
            self.menu(name)
        self.open_action = self._action("File", "&Open model…", self.ask_open_model,
                                        QKeySequence.StandardKey.Open, "Use a saved .keras model")
        self.save_action = self._action("File", "&Save model as…", self.ask_save_model,
                                        QKeySequence.StandardKey.SaveAs,
                                        "Save the current model with its model card")
        self.import_action = self._action("File", "&Import image…", self.ask_import_image,
                                          "Ctrl+I", "Read a picture of a digit")
        self.menu("File").addSeparator()
        self.quit_action = self._action("File", "&Quit", self.close,
                                        QKeySequence.StandardKey.Quit, "Close kpgui")
        self.undo_action = self._action("Edit", "&Undo stroke", self._canvas.undo,
                                        QKeySequence.StandardKey.Undo, "Remove the last stroke")
        self.clear_action = self._action("Edit", "&Clear canvas", self.clear_canvas, "Esc",
                                         "Start again with an empty canvas")
        self.start_action = self._action("Model", "&Start training", self.start_training, "F5",
                                         "Train a network with the settings in the panel")
        self.stop_action = self._action("Model", "S&top training", self.stop_training,
                                        "Shift+F5", "End training after the current batch")
        self.menu("Model").addSeparator()
        self.reset_action = self._action("Model", "&Reset to default", self.reset_to_default,
                                         "Ctrl+R", "Go back to the model shipped with kpgui")
        self.info_action = self._action("Model", "Model &info", self.show_model_info, "Ctrl+M",
                                        "The current model's spec and model card")
        self.about_action = self._action("Help", "&About kpgui", self.show_about,
                                         QKeySequence.StandardKey.HelpContents,
                                         "Versions of kpgui and its libraries")

    def _build_status_bar(self) -> None:
        self.model_label = QLabel()
        self.model_label.setToolTip("The model making the predictions (Model → Model info)")
        self.statusBar().addPermanentWidget(self.model_label)

    # -- public hooks ----------------------------------------------------------------------

    @property
    def predictor(self) -> Predictor | None:
        """The live predictor (None only when no model could be loaded)."""
        return self._predictor

    @property
    def canvas(self) -> DrawingCanvas:
        return self._canvas

    @property
    def prediction_view(self) -> PredictionView:
        return self._prediction_view

    @property
    def training_panel(self) -> TrainingPanel:
        return self._training_panel

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._training_plots is None:
            QTimer.singleShot(0, lambda: self.training_plots)  # after the first paint

    @property
    def training_plots(self):
        """The live loss/accuracy plots (a TrainingPlots), built on first use."""
        if self._training_plots is None:
            from kpgui.ui.plot_style import configure_pyqtgraph
            from kpgui.ui.training_plots import TrainingPlots

            configure_pyqtgraph()
            self._training_plots = TrainingPlots()
            self._tab_layout.replaceWidget(self._plots_slot, self._training_plots)
            self._plots_slot.deleteLater()
        return self._training_plots

    @property
    def training_session(self) -> TrainingSession | None:
        """The run in progress, if any."""
        return self._session

    @property
    def last_result(self) -> Any:
        """The TrainingResult of the last run that ended, or None."""
        return self._last_result

    def menu(self, name: str) -> QMenu:
        """The menu called `name` ("File", "Model", "Help", ...), created (before Help) if new."""
        key = name.replace("&", "")
        if key not in self._menus:
            bar = self.menuBar()
            help_menu = self._menus.get("Help")
            new = QMenu(f"&{key}", self)
            if help_menu is not None:
                bar.insertMenu(help_menu.menuAction(), new)
            else:
                bar.addMenu(new)
            self._menus[key] = new
        return self._menus[key]

    def add_panel(self, widget: QWidget, title: str) -> int:
        """Add a tab beside the training panel; returns its index."""
        return self.tabs.addTab(widget, title)

    def set_predictor(self, predictor: Predictor, source_label: str = "") -> None:
        """Swap the live model: the status bar updates, the canvas re-predicts at once, and
        `predictor_changed(predictor)` is emitted."""
        self._predictor = predictor
        self._source_label = source_label
        self._current_result = None  # the caller sets it when the model comes from a run
        self._update_status()
        self.update_prediction()
        self.predictor_changed.emit(predictor)

    def load_image_array(self, img28: np.ndarray, caption: str = "") -> None:
        """Show a given 28x28 image (floats in [0, 1], ink bright) as the network input and
        predict it; Undo or drawing brings the canvas back."""
        img = np.clip(np.nan_to_num(np.asarray(img28, np.float32).reshape(28, 28)), 0.0, 1.0)
        self._image28 = img
        self._canvas.set_picture(gray_qimage(img))
        self._prediction_view.set_caption(caption)
        self.update_prediction()

    def current_image(self) -> np.ndarray | None:
        """The 28x28 network input on show, or None when the canvas is blank."""
        return self._prediction_view.image

    # -- drawing and prediction ------------------------------------------------------------

    def _strokes_changed(self) -> None:
        if self._canvas.picture is None and self._image28 is not None:
            self._image28 = None  # drawing (or undo) replaced the imported picture
            self._prediction_view.set_caption("")
        if not self._predict_timer.isActive():
            self._predict_timer.start()

    def clear_canvas(self) -> None:
        self._image28 = None
        self._prediction_view.set_caption("")
        self._canvas.clear()

    def update_prediction(self) -> None:
        """Run the network on the current input now (the timer calls this once per frame)."""
        self._predict_timer.stop()
        if self._image28 is not None:
            img = self._image28
        elif self._canvas.strokes:
            img = strokes_to_mnist(self._canvas.strokes, self._canvas.pen_width)
        else:
            img = None
        if img is None or not img.any():
            self._prediction_view.show_blank(
                "Draw a digit" if img is None else "No digit found in this picture")
            self.image_changed.emit(None if img is None else img)
            return
        probs = None
        if self._predictor is not None:
            try:
                probs = self._predictor.predict_one(img)
                self.predictions += 1
            except Exception as exc:  # noqa: BLE001 - a bad model must not break drawing
                self.statusBar().showMessage(f"Prediction failed: {exc}", 8000)
        self._prediction_view.show_result(img, probs)
        self.image_changed.emit(img)

    # -- images ----------------------------------------------------------------------------

    def ask_import_image(self) -> None:
        path = dialogs.ask_open_path(self, "Import a picture of a digit", dialogs.IMAGE_FILTER)
        if path:
            self.import_image(path)

    def import_image(self, path: str) -> bool:
        """Show a picture, turn it into 28x28 with `image_to_mnist` and predict it.

        An unreadable file gives a dialog and changes nothing."""
        try:
            gray = read_image(path)
            img28 = image_to_mnist(gray)
        except (ImageReadError, ValueError) as exc:
            dialogs.show_error(self, "Cannot read this picture",
                               f"{exc}\n\nUse a PNG, JPEG, BMP, GIF or TIFF picture of one digit.")
            return False
        self._image28 = img28
        self._canvas.set_picture(gray_qimage(gray))
        self._prediction_view.set_caption(f"Imported: {Path(path).name}")
        self.update_prediction()
        return True

    # -- models ----------------------------------------------------------------------------

    def ask_open_model(self) -> None:
        path = dialogs.ask_open_path(self, "Open a model", dialogs.MODEL_FILTER)
        if path:
            self.open_model_file(path)

    def open_model_file(self, path: str | None) -> None:
        """Load a model in the background; on success it replaces the live one, on failure a
        dialog names the reason and the current model stays. None = the shipped default."""
        self.statusBar().showMessage("Loading model…", 3000)
        self._loader.load(path)

    def reset_to_default(self) -> None:
        self.open_model_file(None)

    def _model_load_failed(self, name: str, reason: str) -> None:
        current = self._predictor.name if self._predictor else "none"
        dialogs.show_error(self, "Cannot open model",
                           f"{name} cannot be used: {reason}\n\nThe current model ({current}) "
                           "stays in use.")

    def ask_save_model(self) -> None:
        """Save the current model (trained or opened) with its model card."""
        p = self._predictor
        if p is None:
            dialogs.show_error(self, "Nothing to save", "No model is loaded.")
            return
        path = dialogs.ask_save_path(self, "Save model as", dialogs.MODEL_FILTER, f"{p.name}.keras")
        if path:
            self.save_model_to(path)

    def save_model_to(self, path: str) -> Path | None:
        """Write the current model and its card to `path`; errors become a dialog."""
        p = self._predictor
        target = Path(path).with_suffix(".keras")
        try:
            if self._current_result is not None:
                return self._save_result(self._current_result, target)
            if p is not None and p.path is not None:
                if p.path.resolve() != target.resolve():
                    shutil.copyfile(p.path, target)
                    card = card_path(p.path)
                    if card.is_file():
                        shutil.copyfile(card, card_path(target))
                return target
            if p is not None and p.keras_model is not None:
                from kpgui.core.saving import save_model

                return save_model(p.keras_model, target)
        except OSError as exc:
            dialogs.show_error(self, "Cannot save model",
                               f"{target} could not be written ({exc}). Choose another folder.")
            return None
        dialogs.show_error(self, "Nothing to save", "This model has no file or network to save.")
        return None

    def _save_result(self, result: Any, target: Path) -> Path:
        from kpgui.core.saving import save_model

        saved = save_model(result.model, target, result)
        self.statusBar().showMessage(f"Saved {saved}", 6000)
        return saved

    def save_last_run(self) -> None:
        """The training panel's "Save model…": the last run's network and its card."""
        if self._last_result is None:
            return
        path = dialogs.ask_save_path(self, "Save trained model", dialogs.MODEL_FILTER,
                                     "trained.keras")
        if not path:
            return
        try:
            self._save_result(self._last_result, Path(path).with_suffix(".keras"))
        except OSError as exc:
            dialogs.show_error(self, "Cannot save model",
                               f"{path} could not be written ({exc}). Choose another folder.")

    def show_model_info(self) -> None:
        dialogs.show_text(self, "Model info", self.model_info_text())

    def model_info_text(self) -> str:
        """Name, file, backend, accuracy, spec and the whole model card, for people."""
        p = self._predictor
        if p is None:
            return "No model is loaded."
        lines = [f"Name: {p.name}", f"Source: {self._source_label or '-'}",
                 f"File: {p.path or 'not saved yet'}", f"Runs on: {p.backend}"]
        acc = p.test_accuracy
        lines.append("Test accuracy: " + ("unknown" if acc is None else f"{100 * acc:.2f} %"))
        spec = p.card.get("spec")
        if isinstance(spec, dict):
            try:
                lines.append(f"Spec: {ModelSpec.from_dict(spec).describe()}")
            except (TypeError, ValueError):
                pass
        card = {k: v for k, v in p.card.items() if k != "history"}
        lines += ["", "Model card:", json.dumps(card, indent=2, default=str) if card else "(none)"]
        return "\n".join(lines)

    def show_about(self) -> None:
        dialogs.show_info(self, "About kpgui", dialogs.about_html())

    def _update_status(self) -> None:
        p = self._predictor
        if p is None:
            self.model_label.setText("No model")
            return
        acc = p.test_accuracy
        acc_text = "test accuracy unknown" if acc is None else f"test accuracy {100 * acc:.2f} %"
        self.model_label.setText(f"Model: {p.name} — {acc_text}")

    # -- training --------------------------------------------------------------------------

    def start_training(self, spec: ModelSpec | None = None, **trainer_kwargs: Any) -> bool:
        """Start a run in the background with `spec` (default: the panel's form).

        Extra keyword arguments go to `Trainer` (e.g. initial_model=, extra_train=,
        extra_repeat=, data= for fine-tuning); the run uses the same plots, progress and Stop.
        Returns False (with a reason shown) if a run is already going or the spec is invalid.
        """
        if self._session is not None:
            self.statusBar().showMessage("A training run is already going; stop it first.", 5000)
            return False
        if spec is None:
            errors = self._training_panel.errors()
            spec = self._training_panel.spec()
        else:
            errors = spec.errors()
        if errors:
            dialogs.show_error(self, "Cannot start training",
                               "Fix these settings first:\n• " + "\n• ".join(errors.values()))
            return False
        app_settings.save_spec(self._settings, self._training_panel.spec())
        try:
            session = TrainingSession(spec, self, **trainer_kwargs)
        except (TypeError, ValueError) as exc:
            dialogs.show_error(self, "Cannot start training", str(exc))
            return False
        self._session = session
        self._latest_batch = None
        session.began.connect(self._on_began)
        session.batch.connect(self._on_batch)
        session.epoch.connect(self._on_epoch)
        session.finished.connect(self._on_finished)
        session.failed.connect(self._on_failed)
        session.ended.connect(self._on_ended)
        self.training_plots.reset(spec.epochs)
        self._training_panel.set_running(True)
        self.statusBar().showMessage("Loading TensorFlow and MNIST…")
        session.start()
        return True

    def stop_training(self) -> None:
        """End the run after the current batch; it is evaluated and used like a finished one."""
        if self._session is not None and not self._session.stop_requested:
            self._session.stop()
            self._training_panel.show_stopping()
            self.statusBar().showMessage("Stopping after this batch…")

    def _on_began(self, start: Any) -> None:
        self.training_plots.reset(start.epochs)
        self.statusBar().showMessage(
            f"Training on {start.train_samples} images ({start.val_samples} for validation)…")

    def _on_batch(self, update: Any) -> None:
        self.training_plots.add_batch(update)
        self._latest_batch = update
        if not self._progress_timer.isActive():
            # Leading edge: the first batch (and the first after each quiet spell) shows at
            # once; then at most one update per PROGRESS_MS, the latest when the timer fires.
            self._show_latest_progress()
            self._progress_timer.start()

    def _show_latest_progress(self) -> None:
        u = self._latest_batch
        if u is not None and self._session is not None and not self._session.stop_requested:
            self._training_panel.show_progress(u.epoch, u.epochs, u.step, u.steps, u.progress,
                                               u.eta)

    def _on_epoch(self, update: Any) -> None:
        self.training_plots.add_epoch(update)

    def _on_finished(self, result: Any, predictor: Any) -> None:
        self._progress_timer.stop()
        self.training_plots.refresh()
        self._last_result = result
        acc = result.test_accuracy
        acc_text = "not evaluated" if acc is None else f"{100 * acc:.2f} %"
        u = self._latest_batch
        fraction = u.progress if u is not None else 0.0
        text = (f"Test accuracy: <b>{acc_text}</b> — {result.status} after "
                f"{result.epochs_run} epoch(s) in {result.wall_time:.1f} s "
                f"({result.samples_per_second:.0f} images/s).")
        if predictor is not None:
            text += " The new network now reads your drawing."
            self._training_panel.set_can_save(True)
        else:
            text += " Stopped before any training: the current model stays."
        self._training_panel.show_result(text, fraction)
        if predictor is not None:
            self.set_predictor(predictor, f"trained ({result.status})")
            self._current_result = result
        self.statusBar().showMessage(f"Training {result.summary()}", 10000)
        self.training_finished.emit(result)

    def _on_failed(self, title: str, text: str) -> None:
        self._training_panel.show_result(f"<span style='color:#c62828'>{title}.</span>")
        self.statusBar().showMessage(title, 10000)
        dialogs.show_error(self, title, text)

    def _on_ended(self) -> None:
        session, self._session = self._session, None
        self._training_panel.set_running(False)
        if session is not None:
            session.deleteLater()
        if self._close_pending:
            QTimer.singleShot(0, self.close)

    # -- settings and closing --------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        pen = app_settings.load_float(s, "canvas/pen_width", DEFAULT_PEN)
        self.pen_spin.setValue(int(round(min(max(pen, 2), 60))))
        spec = app_settings.load_spec(s)
        if spec is not None:
            self._training_panel.set_spec(spec)

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("canvas/pen_width", self.pen_spin.value())
        app_settings.save_spec(s, self._training_panel.spec())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop a run (skipping its evaluation), wait for its thread, then close.

        If the thread is still busy after CLOSE_WAIT_MS (e.g. TensorFlow is mid-import) the
        close is deferred until it ends, instead of hanging or killing it.
        """
        session = self._session
        if session is not None and session.is_running():
            session.stop(abort=True)
            self._close_pending = True
            if not session.wait(CLOSE_WAIT_MS):
                self.statusBar().showMessage("Stopping training, then closing…")
                event.ignore()
                return
        self._close_pending = False
        self.save_settings()
        self._predict_timer.stop()
        self._progress_timer.stop()
        event.accept()
