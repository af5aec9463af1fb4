"""Collecting, browsing, relabelling, deleting, exporting and importing the person's samples."""

from __future__ import annotations

import numpy as np
from insight_helpers import close_window, draw, open_window, seven
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSpinBox

from kpgui.core.store import Store
from kpgui.ui.insight import dialogs
from kpgui.ui.insight.samples_view import SamplesView


def test_digit_key_saves_the_drawing_and_reopening_shows_it(qtbot):
    w, ins = open_window(qtbot)
    draw(qtbot, w.canvas, seven(w.canvas))
    strokes = [s.copy() for s in w.canvas.strokes]
    pen, size = w.canvas.pen_width, w.canvas.canvas_size()
    qtbot.waitUntil(lambda: w.current_image() is not None, timeout=2000)
    qtbot.waitUntil(lambda: not w._predict_timer.isActive(), timeout=2000)
    image = w.current_image().copy()

    qtbot.keyClick(w, Qt.Key.Key_7)
    rows = ins.store.list_samples()
    assert len(rows) == 1
    s = rows[0]
    assert s.label == 7 and s.pen_width == pen and tuple(s.canvas_size) == tuple(size)
    assert len(s.strokes) == len(strokes)
    assert all(np.allclose(a, b, atol=1e-3) for a, b in zip(s.strokes, strokes, strict=True))
    assert np.abs(s.image - image).max() <= 0.5 / 255 + 1e-6
    assert w.statusBar().currentMessage() == "Saved as 7 (1 sample of 7)"
    assert w.canvas.strokes == []  # ready for the next one

    # The "This is a …" buttons do the same; an empty canvas saves nothing.
    draw(qtbot, w.canvas, seven(w.canvas))
    ins.collect_bar.buttons[1].click()
    assert ins.store.sample_counts()[1] == 1
    qtbot.keyClick(w, Qt.Key.Key_3)
    assert ins.store.sample_counts()[3] == 0
    assert "Draw a 3 first" in w.statusBar().currentMessage()
    # Typing digits into a text field types them; it does not save samples.
    spin = w.training_panel.findChild(QSpinBox)
    spin.setFocus()
    spin.lineEdit().selectAll()
    draw(qtbot, w.canvas, seven(w.canvas))
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_5)
    assert sum(ins.store.sample_counts().values()) == 2 and "5" in spin.lineEdit().text()
    w.clear_canvas()
    assert ins.samples_view.grid.count() == 2
    close_window(w)

    # A restart (new window, same data folder) shows both.
    w2, ins2 = open_window(qtbot)
    view = ins2.samples_view
    assert view.grid.count() == 2
    assert view.counts[7] == 1 and view.counts[1] == 1
    assert view.groups.item(8).text().startswith("7") and "(1)" in view.groups.item(8).text()
    view.groups.setCurrentRow(8)  # only the 7s
    assert view.grid.count() == 1
    close_window(w2)


def _fill(store, n_per_label=2):
    rng = np.random.default_rng(5)
    for label in range(3):
        for _ in range(n_per_label):
            pts = rng.uniform(0, 300, size=(12, 2)).astype(np.float32)
            img = (rng.random((28, 28)) > 0.8).astype(np.float32)
            store.add_sample(label, [pts, pts[:4]], 17.5, (420, 420), img)


def test_relabel_delete_and_export_import_round_trip(qtbot, tmp_path, monkeypatch):
    store = Store.open_default()
    _fill(store)
    view = SamplesView(store)
    qtbot.addWidget(view)
    assert view.grid.count() == 6

    ids = view.shown_ids()
    view.select_ids(ids[:2])  # the two 0s
    view.relabel_selected(9)
    assert store.sample_counts()[9] == 2 and store.sample_counts()[0] == 0
    view.select_ids([ids[2]])
    menu = view.build_context_menu()  # relabel / delete from the context menu
    assert [a.text() for a in menu.actions()][-1] == "Delete…"
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a: False)
    view.delete_selected()
    assert len(store.list_samples()) == 6  # not confirmed: kept
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a: True)
    view.delete_selected()
    assert len(store.list_samples()) == 5 and view.grid.count() == 5

    # Export through the dialog helper, import into a fresh database: identical samples.
    target = tmp_path / "mine"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    view.export_button.click()
    assert (tmp_path / "mine.npz").is_file()
    other = Store(tmp_path / "other.sqlite3")
    view2 = SamplesView(other)
    qtbot.addWidget(view2)
    assert view2.import_from(str(tmp_path / "mine.npz")) == 5
    a, b = store.list_samples(), other.list_samples()
    assert [s.label for s in a] == [s.label for s in b]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image) and x.pen_width == y.pen_width
        assert tuple(x.canvas_size) == tuple(y.canvas_size)
        assert all(np.array_equal(p, q) for p, q in zip(x.strokes, y.strokes, strict=True))
    assert view2.grid.count() == 5
    # Importing the same file again adds nothing (no duplicates).
    assert view2.import_from(str(tmp_path / "mine.npz")) == 0
    other.close()
    store.close()


def test_bad_or_foreign_files_are_refused_with_a_reason(qtbot, tmp_path, monkeypatch):
    store = Store.open_default()
    view = SamplesView(store)
    qtbot.addWidget(view)
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: errors.append(text))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros((3, 28, 28)), y=np.arange(3))
    for path in (junk, foreign):
        assert view.import_from(str(path)) is None
    assert len(errors) == 2
    assert "junk.npz" in errors[0] and "not" in errors[0]
    assert "missing 'images'" in errors[1] or "images" in errors[1]
    assert store.list_samples() == []
    store.close()
