"""Files chosen in a dialog are read off the GUI thread with a time bound, and a path that is
not a plain file (a FIFO, a device, a folder) is refused before it is opened (issue 25, item 8):
open experiment, open model, import samples, import image."""

from __future__ import annotations

import os
import threading
import time

import pytest

from kpgui.core.storage import userfiles
from kpgui.core.storage.userfiles import UserFileError, check_regular_file

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


def test_non_regular_files_are_named_for_what_they_are(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    for path, words in (
        (fifo, "named pipe"),
        (tmp_path, "folder"),
        ("/dev/zero", "device"),
        (tmp_path / "gone.json", "does not exist"),
    ):
        with pytest.raises(UserFileError, match=words):
            check_regular_file(path)
    assert check_regular_file(plain) == plain


def test_a_fifo_chosen_anywhere_is_refused_and_the_window_never_waits(
    qtbot, shared_app, errors, tmp_path, monkeypatch
):
    app = shared_app  # refused files change nothing
    fifo = tmp_path / "experiment.json"
    os.mkfifo(fifo)
    opens = (
        lambda: app.form.open_experiment(str(fifo)),
        lambda: app.models.open_file(str(fifo)),
        lambda: app.samples.import_(str(fifo)),
        lambda: app.drawing.import_picture(str(fifo)),
    )
    checked_on: list[bool] = []  # per check of the chosen file: was it on the GUI thread?
    check = userfiles.check_regular_file

    def watched(path):
        checked_on.append(threading.current_thread() is threading.main_thread())
        return check(path)

    monkeypatch.setattr(userfiles, "check_regular_file", watched)
    for n, start in enumerate(opens, 1):
        start()
        assert len(errors) == n - 1, f"open #{n} answered before the event loop ran: on the GUI thread"
        qtbot.waitUntil(lambda n=n: len(errors) == n, timeout=5000)
        assert "named pipe" in errors[-1][1], errors[-1]
    assert checked_on == [False] * len(opens), "a chosen file was checked on the GUI thread"
    assert app.state.model.source == "shipped model"
    assert app.window.isVisible()


def test_a_read_that_never_ends_is_given_up_after_its_time_bound(qtbot, tasks, tmp_path):
    plain = tmp_path / "slow.bin"
    plain.write_bytes(b"x")
    release = []
    failures: list[tuple[str, str]] = []

    def slow(_path, task):
        while not release and not task.cancelled:
            time.sleep(0.01)
        return "late"

    task = tasks.read_file(str(plain), slow, doing="Reading the slow file", timeout=0.3)
    task.failed.connect(lambda title, text: failures.append((title, text)))
    results: list = []
    task.done.connect(results.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=3000)
    assert failures[0][0] == "Took too long" and "slow.bin" in failures[0][1], failures
    release.append(True)
    tasks.wait(5)
    assert results == [], results  # the late answer is dropped
