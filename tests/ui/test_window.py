"""The window around the canvas: menus and names, shortcuts, help, model info, settings, size,
themes, and what start-up must not load."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import close_app, open_app
from helpers import draw, retype, scribble, settle, vertical_line
from PySide6.QtCore import Qt

from kpgui.core.model.spec import ModelSpec
from kpgui.ui import dialogs


def test_title_menus_and_tab_names_agree(shared_app):
    app = shared_app
    w = app.window
    assert w.windowTitle() == "Handwritten digits"  # Qt adds " — kpgui" itself, once
    titles = [a.text().replace("&", "") for a in w.menuBar().actions()]
    assert titles == ["File", "Edit", "Model", "View", "Help"]
    view = [a.text().replace("&", "") for a in w.menus["View"].actions() if a.text()]
    for tab in w.tab_titles():  # every tab has a View entry with the same name
        assert tab in view
    assert w.tab_titles() == [
        "Training",
        "History",
        "Search",
        "Evaluation",
        "Weights",
        "How it sees",
        "Inside",
        "My digits",
        "One weight",
        "Lessons",
    ]
    file_actions = [a.text().replace("&", "") for a in w.menus["File"].actions()]
    for name in (
        "Open model…",
        "Save model as…",
        "Import image…",
        "Open lesson…",
        "Locate mnist.npz…",
        "Quit",
    ):
        assert name in file_actions


def test_shortcuts(qtbot, shared_app):
    app = shared_app
    keys = {a.text().replace("&", ""): a.shortcut().toString() for a in app.window.actions()}
    assert keys["Undo stroke"] == "Ctrl+Z" and keys["Clear canvas"] == "Esc"
    assert keys["kpgui help"] == "F1" and keys["Start training"] == "F5"
    assert keys["My digits"] == "Ctrl+Shift+D" and keys["History"] == "Ctrl+Shift+H"
    assert keys["Inside"] == "Ctrl+Shift+I"
    app.window.tab_actions["Weights"].trigger()
    assert app.window.tabs.tabText(app.window.tabs.currentIndex()) == "Weights"


def test_f1_opens_help_about_is_separate(qtbot, shared_app, monkeypatch):
    app = shared_app
    shown = []
    monkeypatch.setattr(dialogs, "show_html", lambda parent, title, html, *a: shown.append((title, html)))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append((title, text)))
    app.window.activateWindow()  # a window another test opened meanwhile may have the keys
    qtbot.waitUntil(app.window.isActiveWindow, timeout=3000)
    qtbot.keyClick(app.window, Qt.Key.Key_F1)
    assert shown and shown[-1][0] == "Help"  # Qt adds " — kpgui"
    for tab in app.window.tab_titles():
        assert tab in shown[-1][1]
    assert "Ctrl+Z" in shown[-1][1]
    next(a for a in app.window.actions() if a.text() == "&About kpgui").trigger()
    title, about = shown[-1]
    assert title == "About kpgui" and "Qt" in about and "TensorFlow" in about


def test_model_info_is_readable_and_current(qtbot, shared_app, monkeypatch, model_copy_path):
    app = shared_app
    shown = []
    monkeypatch.setattr(dialogs, "show_html", lambda parent, title, html, *a: shown.append(html))
    info = next(a for a in app.window.actions() if a.text() == "Model &info")
    info.trigger()
    text = shown[-1]
    assert "shipped model" in text and "MNIST test accuracy" in text and "784-512-512-10" in text
    assert "{" not in text  # words, not raw JSON
    task = app.models.open_file(str(model_copy_path))
    qtbot.waitUntil(lambda: not task.running, timeout=10000)
    info.trigger()
    assert "other.keras" in shown[-1] and "shipped model" not in shown[-1]
    task = app.models.reset_to_default()  # the shared window as it was
    qtbot.waitUntil(lambda: not task.running, timeout=10000)
    assert app.state.model.source == "shipped model"


def test_the_show_saliency_menu_entry_and_the_checkbox_agree(shared_app):
    app = shared_app
    box = app.panels["prediction"].saliency.checkbox
    menu = next(a for a in app.window.actions() if a.text() == "Show &saliency")
    try:
        box.click()
        assert box.isChecked() and menu.isChecked(), "the menu entry does not follow the checkbox"
        menu.trigger()
        assert not box.isChecked(), "the checkbox does not follow the menu entry"
    finally:
        box.setChecked(False)


def test_status_bar_names_model_and_accuracy(shared_app):
    app = shared_app
    label = app.window.statusBar().findChildren(type(app.panels["prediction"].caption))
    texts = " ".join(lbl.text() for lbl in label)
    p = app.state.predictor
    assert "shipped model" in texts and f"{100 * p.test_accuracy:.2f} %" in texts


def test_invalid_form_values_show_reason_and_disable_start(qtbot, form):
    f = form.fields
    retype(qtbot, f["hidden"], "512, abc")
    assert "whole numbers" in form.errors().get("hidden", ""), form.errors()
    assert not form.start_button.isEnabled(), "Start stays on with a bad layer list"
    retype(qtbot, f["hidden"], "256")
    retype(qtbot, f["patience"], "3")
    retype(qtbot, f["validation_split"], "0")
    assert "validation" in form.errors().get("patience", ""), form.errors()
    assert not form.start_button.isEnabled(), "Start stays on with patience but no validation"
    retype(qtbot, f["validation_split"], "0.1")
    assert form.errors() == {} and form.start_button.isEnabled(), form.errors()
    retype(qtbot, f["learning_rate"], "fast")
    assert "number" in form.errors().get("learning_rate", ""), form.errors()
    assert not form.start_button.isEnabled(), "Start stays on with a learning rate of 'fast'"


def test_every_option_of_the_declaration_is_in_the_form_with_its_help(form):
    from kpgui.core.model.options import OPTIONS

    for opt in OPTIONS:
        if opt.in_form:
            assert opt.help in form.fields[opt.name].toolTip(), f"{opt.name}: its help is not its tooltip"
    spec = ModelSpec(
        hidden=(300, 100),
        activation="tanh",
        dropout=0.2,
        optimizer="adam",
        learning_rate=0.0005,
        lr_schedule="cosine",
        batch_size=64,
        epochs=7,
        validation_split=0.15,
        patience=2,
        augment=True,
        elastic=0.5,
        styles=0.25,
        restroke=0.1,
        non_digits=0.05,
        train_samples=5000,
        seed=3,
    )
    form.set_spec(spec)
    assert form.spec() == spec


@pytest.mark.slow  # end to end: two windows opened in turn
def test_settings_remembered_between_runs(qtbot, errors, answers):
    first = open_app(qtbot)
    first.panels["drawing"].pen_spin.setValue(27)
    first.panels["training"].fields["hidden"].setText("128, 32")
    first.panels["training"].fields["epochs"].setValue(4)
    first.set_theme("dark")
    close_app(first)
    second = open_app(qtbot)
    try:
        assert second.panels["drawing"].canvas.pen_width == 27
        assert second.panels["training"].spec().hidden == (128, 32)
        assert second.panels["training"].spec().epochs == 4
        assert second.theme_actions["dark"].isChecked()
        assert os.path.isfile(os.path.join(os.environ["KPGUI_CONFIG_DIR"], "kpgui.ini"))
    finally:
        second.set_theme("system")
        close_app(second)


def test_fits_a_laptop_screen(shared_app):
    app = shared_app
    size = app.window.minimumSize()
    assert size.width() <= 1024 and size.height() <= 640
    hint = app.window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640
    app.window.resize(1024, 640)
    canvas = app.panels["drawing"].canvas
    bar = app.panels["drawing"].sample_bar
    assert canvas.height() >= 240
    # The sample buttons sit right under the canvas.
    gap = (
        bar.mapTo(app.window, bar.rect().topLeft()).y()
        - canvas.mapTo(app.window, canvas.rect().bottomLeft()).y()
    )
    assert 0 <= gap <= 20


@pytest.mark.slow  # end to end: the whole window restyled
def test_dark_theme_reaches_canvas_charts_and_preview(qtbot, app):
    from kpgui.ui import theme

    try:
        app.set_theme("dark")
        qtbot.wait(50)
        assert theme.is_dark()
        canvas = app.panels["drawing"].canvas
        pixel = canvas.grab().toImage().pixelColor(5, canvas.height() // 2)
        assert pixel.lightness() < 80  # dark paper
        plots = app.panels["plots"]
        assert plots.loss_plot.backgroundBrush().color().lightness() < 80
        preview = app.panels["prediction"].preview.grab().toImage()
        assert preview.pixelColor(preview.width() // 2, preview.height() // 2).lightness() < 80
        app.set_theme("light")
        qtbot.wait(50)
        assert not theme.is_dark()
        assert plots.loss_plot.backgroundBrush().color().lightness() > 200
    finally:
        app.set_theme("system")


def test_a_scribble_is_not_sure_and_a_digit_is_sure(qtbot, rig):
    """The prediction panel says "Not sure — a or b?" instead of a big confident digit."""
    canvas, view = rig.canvas, rig.prediction
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, rig)
    assert view.sure and view.digit_label.text() == "1", (view.sure, view.digit_label.text())
    rig.drawing.clear()
    unsure = 0
    for seed in range(6):
        draw(qtbot, canvas, scribble(canvas, seed))
        settle(qtbot, rig)
        reading = rig.state.reading
        if not reading.sure:
            unsure += 1
            assert view.digit_label.text() == f"Not sure — {reading.digit} or {reading.runner_up}?"
            assert view.probabilities.sum() == pytest.approx(1.0, abs=1e-4), "no bars while not sure"
        rig.drawing.clear()
    assert unsure >= 4, f"only {unsure} of 6 scribbles read as not sure"


@pytest.mark.slow  # a fresh Python process starts the whole window
def test_startup_does_not_import_tensorflow(tmp_path):
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from kpgui.ui.app import build_app, make_qapp
        q = make_qapp(["kpgui"])
        app = build_app()
        app.window.show()
        for _ in range(20):
            q.processEvents()
        app.drawing.show_image(np.eye(28, dtype=np.float32))
        assert app.state.reading is not None and app.state.predictor.backend == "numpy"
        print("TF_LOADED" if "tensorflow" in sys.modules or "keras" in sys.modules else "TF_FREE")
        app.window.close()
    """)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        KPGUI_CONFIG_DIR=str(tmp_path / "c"),
        KPGUI_DATA_DIR=str(tmp_path / "d"),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "TF_FREE" in out.stdout, out.stdout + out.stderr


def test_charts_are_built_after_the_first_paint(qtbot, errors, answers):
    from kpgui.ui.app import build_app, make_qapp

    make_qapp()
    app = build_app()
    qtbot.addWidget(app.window)
    view = app.panels["prediction"]
    assert view.bars is None and "plots" not in app.panels  # not before the window shows
    app.drawing.show_image(np.eye(28, dtype=np.float32))
    with qtbot.waitSignal(app.built.done, timeout=30000):
        app.window.show()
    assert view.bars is not None
    assert np.allclose(view.bars.opts["height"], view.probabilities)
    assert app.panels["plots"].point_count("loss_raw") == 0
    close_app(app)


def test_window_modules_do_not_import_pyqtgraph():
    code = "import sys; import kpgui.ui.app, kpgui.ui.window; print('pyqtgraph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow  # a fresh Python process starts the whole window
def test_window_paints_before_the_charts_are_imported(tmp_path):
    """The window (canvas, answer) is on screen before pyqtgraph's ~0.4 s import and the tabs."""
    code = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QEvent, QObject, QTimer
        from PySide6.QtWidgets import QApplication
        from kpgui.ui.app import show_main_window
        app = show_main_window()
        qapp = QApplication.instance()
        seen = {}
        class Watch(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.Paint and "paint" not in seen:
                    seen["paint"] = "pyqtgraph" in sys.modules
                return False
        watch = Watch()
        app.panels["drawing"].canvas.installEventFilter(watch)
        app.built.done.connect(lambda: (seen.setdefault("built", "pyqtgraph" in sys.modules),
                                        QTimer.singleShot(0, qapp.quit)))
        QTimer.singleShot(30000, qapp.quit)
        qapp.exec()
        print(seen.get("paint"), seen.get("built"))
        app.window.close_guard = lambda: True
        app.window.close()
    """)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KPGUI_DATA_DIR": str(tmp_path / "data"),
        "KPGUI_CONFIG_DIR": str(tmp_path / "config"),
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split()[-2:] == ["False", "True"], out.stdout + out.stderr
