"""No work on the GUI thread that grows with the person's data (issue 25, item 7): My digits
and History are model/views fed on threads, thumbnails are made off the GUI thread a page at a
time, an import never holds up a digit key. The slow test measures the longest GUI-thread stall
with a 10 ms watchdog timer on a store of 100,000 samples and 3,000 runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import close_app, open_app
from helpers import draw, settle, seven
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QPixmap

from kpgui.core.storage.paths import database_path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

# The budget is 100 ms on a quiet machine (benchmarks/bench_bigstore.py reports it); the tests
# run on a shared 2-core machine, so they allow a margin that still fails the old design by 10x.
STALL_LIMIT_MS = 250.0
# Every tab built (the database opened and checked on a thread): 1.2 s measured by the benchmark,
# the window itself is up and drawing in 0.2 s; the old design took 90 s.
OPEN_LIMIT_S = 6.0


class Watchdog(QObject):
    """A 10 ms timer on the GUI thread; `longest()` is the longest gap between its ticks."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(lambda: self.stamps.append(time.perf_counter()))
        self.timer.start(10)

    def restart(self) -> None:
        self.stamps = [time.perf_counter()]

    def longest(self) -> float:
        return 1e3 * float(np.max(np.diff(self.stamps))) if len(self.stamps) > 1 else 0.0


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


def test_thumbnails_are_drawn_off_the_gui_thread_and_a_double_click_shows_the_sample(qtbot, app):
    images = _samples(app.store, 12)
    app.state.samples_changed()
    app.tasks.wait(10)
    app.window.show_tab("My digits")
    view = app.panels["samples"]
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
    assert any(np.allclose(stored, img, atol=1 / 255) for img in images)


def test_a_digit_key_during_an_import_does_not_wait_for_it(qtbot, app, tmp_path):
    from bench_bigstore import _import_file

    path = _import_file(tmp_path / "many.npz", 3000)
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    task = app.samples.import_(str(path))
    qtbot.waitUntil(lambda: app.store.sample_counts()[0] > 0 or not task.running, timeout=20000)
    began = time.perf_counter()
    qtbot.keyClick(app.window, Qt.Key.Key_7)
    took = time.perf_counter() - began
    assert "Saved as 7" in app.window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not task.running, timeout=60000)
    assert took < STALL_LIMIT_MS / 1e3
    assert sum(app.store.sample_counts().values()) == 3001


@pytest.mark.slow
def test_100000_samples_and_3000_runs_never_stall_the_window(qtbot, errors, answers, tmp_path):
    from _bigstore import make_big_store

    make_big_store(database_path(), 100_000, 3_000)
    watch = Watchdog()
    began = time.perf_counter()
    app = open_app(qtbot)
    opened = time.perf_counter() - began
    watch.restart()
    app.tasks.wait(60)
    qtbot.wait(300)
    stalls = {"filling": watch.longest()}
    assert app.panels["samples"].model.rowCount() == 100_000
    assert app.panels["history"].model.rowCount() == 3_000
    app.window.show_tab("My digits")
    watch.restart()
    qtbot.wait(500)
    stalls["showing My digits"] = watch.longest()

    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    watch.restart()
    qtbot.keyClick(app.window, Qt.Key.Key_7)
    qtbot.wait(800)
    app.tasks.wait(60)
    stalls["saving a digit"] = watch.longest()
    assert app.panels["samples"].counts[7] == app.store.count_samples(7)

    app.window.show_tab("History")
    watch.restart()
    app.state.runs_changed()  # what a run's end does
    qtbot.wait(800)
    app.tasks.wait(60)
    stalls["a run ended"] = watch.longest()
    close_app(app)
    slow = {what: ms for what, ms in stalls.items() if ms > STALL_LIMIT_MS}
    assert not slow, f"GUI stalls over {STALL_LIMIT_MS:g} ms: {slow}"
    assert opened < OPEN_LIMIT_S
