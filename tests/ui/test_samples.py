"""Your handwriting: keeping drawings as samples (digit keys and buttons), browsing, relabelling
and deleting in one go (after asking), export/import off the GUI thread, bad files refused."""

from __future__ import annotations

import numpy as np
from conftest import SamplesRig, close_app, open_app
from helpers import draw, settle, seven
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSpinBox

from kpgui.core.storage.store import Store
from kpgui.ui import dialogs


def test_digit_key_saves_the_drawing_and_reopening_shows_it(qtbot, errors, answers, state, tasks):
    app = open_app(qtbot)
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    strokes = [s.copy() for s in canvas.strokes]
    pen, size = canvas.pen_width, canvas.canvas_size()
    settle(qtbot, app)
    image = app.state.drawing.image.copy()
    qtbot.keyClick(app.window, Qt.Key.Key_7)
    rows = app.store.list_samples()
    assert len(rows) == 1
    s = rows[0]
    assert s.label == 7 and s.pen_width == pen and tuple(s.canvas_size) == tuple(size)
    assert all(np.allclose(a, b, atol=1e-3) for a, b in zip(s.strokes, strokes, strict=True)), (
        "strokes changed"
    )
    assert np.abs(s.image - image).max() <= 0.5 / 255 + 1e-6
    assert app.window.statusBar().currentMessage() == "Saved as 7 (1 sample of 7)"
    assert canvas.strokes == []  # ready for the next one

    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    app.panels["drawing"].sample_bar.buttons[1].click()
    assert app.store.sample_counts()[1] == 1
    qtbot.keyClick(app.window, Qt.Key.Key_3)
    assert app.store.sample_counts()[3] == 0
    assert "Draw a 3 first" in app.window.statusBar().currentMessage()
    # Typing a digit into a number field types it; it does not save a sample.
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    spin = app.panels["training"].findChild(QSpinBox)
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClick(spin, Qt.Key.Key_5)
    assert sum(app.store.sample_counts().values()) == 2 and "5" in spin.lineEdit().text()
    app.tasks.wait(10)  # the list is read on a thread
    assert app.panels["samples"].model.rowCount() == 2
    close_app(app)

    again = SamplesRig(qtbot, state, tasks, errors)  # My digits opened afresh on the same folder
    view = again.view
    assert view.model.rowCount() == 2 and view.counts[7] == 1 and view.counts[1] == 1
    view.groups.setCurrentRow(8)  # only the 7s
    assert view.model.rowCount() == 1
    again.close()


def _fill(store, n_per_label=2):
    rng = np.random.default_rng(5)
    for label in range(3):
        for _ in range(n_per_label):
            pts = rng.uniform(0, 300, size=(12, 2)).astype(np.float32)
            img = (rng.random((28, 28)) > 0.8).astype(np.float32)
            store.add_sample(label, [pts, pts[:4]], 17.5, (420, 420), img)


def _click_rows(qtbot, view, rows: list[int]) -> None:
    """Click the first picture, Ctrl-click the others, as a person selects several."""
    for n, row in enumerate(rows):
        rect = view.grid.visualRect(view.model.index(row))
        modifier = Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier
        qtbot.mouseClick(view.grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def _labels_shown(view) -> list[int]:
    return [int(view.model.index(r).data()) for r in range(view.model.rowCount())]


def test_relabel_delete_export_import_round_trip(qtbot, samples_rig, answers, tmp_path, monkeypatch):
    rig = samples_rig
    _fill(rig.store)
    rig.state.samples_changed()
    rig.tasks.wait(10)  # the list is read on a thread
    view = rig.view
    assert view.model.rowCount() == 6
    _click_rows(qtbot, view, [0, 1])  # the two 0s, relabelled in one go
    view.relabel_combo.setCurrentIndex(9)
    qtbot.mouseClick(view.relabel_button, Qt.MouseButton.LeftButton)
    rig.tasks.wait(10)
    assert rig.store.sample_counts()[9] == 2 and rig.store.sample_counts()[0] == 0
    _click_rows(qtbot, view, [0])
    assert [a.text() for a in view.build_context_menu().actions()][-1] == "Delete…"
    qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)  # asks first: "No" keeps it
    assert len(answers) == 1 and len(rig.store.list_samples()) == 6
    answers.yes = True
    qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    rig.tasks.wait(10)
    assert len(rig.store.list_samples()) == 5 and view.model.rowCount() == 5
    assert _labels_shown(view) == [1, 2, 2, 9, 9]  # the first 1 was the one deleted

    target = tmp_path / "mine"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (tmp_path / "mine.npz").is_file(), timeout=10000)
    rig.tasks.wait(10)
    other = Store(tmp_path / "other.sqlite3")
    assert other.import_samples(tmp_path / "mine.npz") == 5
    a, b = rig.store.list_samples(), other.list_samples()
    assert [s.label for s in a] == [s.label for s in b]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image) and x.pen_width == y.pen_width
        assert all(np.array_equal(p, q) for p, q in zip(x.strokes, y.strokes, strict=True)), (x.id, y.id)
    other.close()
    # Importing it back runs off the GUI thread and adds nothing twice.
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(tmp_path / "mine.npz"))
    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any("Imported" in m for m in rig.messages), timeout=10000)
    assert "Imported 0 new samples" in [m for m in rig.messages if "Imported" in m][-1]
    assert len(rig.store.list_samples()) == 5


def test_bad_or_foreign_files_are_refused_with_a_reason(qtbot, samples_rig, errors, tmp_path):
    rig = samples_rig
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros((3, 28, 28)), y=np.arange(3))
    for path in (junk, foreign):
        task = rig.samples.import_(str(path))
        qtbot.waitUntil(lambda t=task: not t.running, timeout=10000)
    assert len(errors) == 2 and all(title == "Import refused" for title, _ in errors)
    assert "junk.npz" in errors[0][1] and "nothing was added" in errors[0][1]
    assert "images" in errors[1][1]
    assert rig.store.list_samples() == []
