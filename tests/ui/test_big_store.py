"""No work on the GUI thread that grows with the person's data (issue 25, item 7): My digits
and History are model/views fed on threads, thumbnails are made off the GUI thread a page at a
time, an import never holds up a digit key. How long the GUI thread stalls on a store of
100,000 samples and 3,000 runs is measured by benchmarks/bench_bigstore.py."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import close_app, open_app
from helpers import draw, settle, seven
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from kpgui.core.storage.paths import database_path


def _samples(store, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    images = []
    for i in range(n):
        img = np.zeros((28, 28), np.float32)
        img[4 + i % 20, 3:25] = 1.0
        img[rng.integers(0, 28, 30), rng.integers(0, 28, 30)] = 1.0
        store.add_sample(i % 10, [rng.uniform(0, 300, (6, 2))], 18.0, (400, 400), img)
        images.append(img)
    return images


def test_thumbnails_are_drawn_off_the_gui_thread_and_a_double_click_shows_the_sample(qtbot, samples_rig):
    app = samples_rig
    images = _samples(app.store, 12)
    app.state.samples_changed()
    app.tasks.wait(10)
    view = app.view
    model = view.model
    assert model.rowCount() == 12 and view.counts == {d: 2 if d < 2 else 1 for d in range(10)}
    first = model.index(0)
    qtbot.waitUntil(lambda: isinstance(first.data(Qt.ItemDataRole.DecorationRole), QPixmap), timeout=5000)
    picture = first.data(Qt.ItemDataRole.DecorationRole).toImage()
    sid = int(first.data(Qt.ItemDataRole.UserRole))
    stored = app.store.get_sample(sid).image
    assert picture.width() == 56
    ink = picture.pixelColor(2 * 3 + 1, 2 * (4 + (sid - 1) % 20) + 1)  # on the bar: ink
    paper = picture.pixelColor(1, 2 * (4 + (sid - 1) % 20) + 1)  # left of it: paper
    assert stored[4 + (sid - 1) % 20, 3] == 1.0 and ink != paper
    rect = view.grid.visualRect(first)
    qtbot.mouseClick(view.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(
        lambda: app.state.drawing.image is not None and f"#{sid}" in app.state.drawing.caption, timeout=3000
    )
    assert np.allclose(app.state.drawing.image, stored)
    assert any(np.allclose(stored, img, atol=1 / 255) for img in images), (
        "the shown sample is none of those saved"
    )


def test_a_digit_saved_during_an_import_does_not_wait_for_it(qtbot, samples_rig, tmp_path, monkeypatch):
    """The import is held between two of its chunks (where the store lets a writer in): the
    digit (its "This is a 7" button; the keys go the same way) is saved while the import is
    still running, not after it."""
    import threading
    import types

    from bench_bigstore import _import_file

    from kpgui.core.storage import store as store_module

    between_chunks, go_on = threading.Event(), threading.Event()

    def pause(_seconds: float) -> None:
        between_chunks.set()
        go_on.wait(30)

    monkeypatch.setattr(store_module, "time", types.SimpleNamespace(sleep=pause))
    path = _import_file(tmp_path / "many.npz", 3000)
    app = samples_rig
    canvas = app.canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    task = app.samples.import_(str(path))
    qtbot.waitUntil(between_chunks.is_set, timeout=20000)
    qtbot.mouseClick(app.panel.sample_bar.buttons[7], Qt.MouseButton.LeftButton)
    assert "Saved as 7" in app.messages[-1], app.messages
    assert task.running, "the import ended before the key: the key may have waited for it"
    go_on.set()
    qtbot.waitUntil(lambda: not task.running, timeout=60000)
    assert sum(app.store.sample_counts().values()) == 3001, app.store.sample_counts()


@pytest.mark.slow
def test_100000_samples_and_3000_runs_fill_the_window_and_stay_current(qtbot, errors, answers, tmp_path):
    """At scale the views fill from threads and follow a saved digit and an ended run. How long
    the GUI thread stalls meanwhile is measured by benchmarks/bench_bigstore.py, not here."""
    from _bigstore import make_big_store

    make_big_store(database_path(), 100_000, 3_000)
    app = open_app(qtbot)
    app.tasks.wait(60)
    qtbot.waitUntil(lambda: app.panels["samples"].model.rowCount() == 100_000, timeout=30000)
    assert app.panels["history"].model.rowCount() == 3_000, app.panels["history"].model.rowCount()
    app.window.show_tab("My digits")

    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    qtbot.keyClick(app.window, Qt.Key.Key_7)
    app.tasks.wait(60)
    qtbot.waitUntil(lambda: app.panels["samples"].counts[7] == app.store.count_samples(7), timeout=30000)

    app.window.show_tab("History")
    app.state.runs_changed()  # what a run's end does: History reads the runs again, on a thread
    app.tasks.wait(60)
    qtbot.wait(300)
    assert app.panels["history"].model.rowCount() == 3_000, app.panels["history"].model.rowCount()
    close_app(app)
    assert errors == [], errors
