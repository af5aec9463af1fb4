"""Work asked for while the window closes (a thumbnail falling due) is dropped, not an error."""

from __future__ import annotations


def test_work_asked_for_after_shutdown_is_dropped_quietly(tasks) -> None:
    ran: list[int] = []
    tasks.shutdown()
    task = tasks.run(lambda _task: ran.append(1), doing="Drawing a thumbnail")
    assert task.cancelled and not task.running
    assert tasks.wait(1)  # nothing left running
    assert ran == []
