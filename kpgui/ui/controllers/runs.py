"""The run history: read on a thread whenever the store changed (a run ended, History shown,
another process may have trained) and published as the state's `run_list`; renames and
deletions asked for in History. History never touches the store itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from kpgui.core.state import AppState, RunList


def read_runs(store: Any, known: RunList | None = None) -> RunList:
    """Every run with History's names for them. Decoding 3,000 runs takes a second of Python,
    so it happens once (on a thread); after that only new runs are decoded, renames and
    deletions taken from a quick (id, name) list."""
    from dataclasses import replace

    from kpgui.core.display.runnames import run_labels

    if known is None or known.error or known.skipped:
        runs = store.list_runs()
        skipped = len(store.skipped)
    else:
        names = store.run_names()
        have = {r.id: r for r in known.runs}
        if len(names) == len(have) and all(
            have.get(i) is not None and have[i].name == n for i, n in names.items()
        ):
            return known  # nothing changed: no names to work out again
        new = store.list_runs([i for i in names if i not in have]) if set(names) - set(have) else []
        skipped = len(store.skipped) if new else 0
        kept = [
            r if r.name == names[r.id] else replace(r, name=names[r.id]) for r in known.runs if r.id in names
        ]
        runs = sorted([*kept, *new], key=lambda r: -r.id)
    return RunList(tuple(runs), run_labels(runs) if runs else {}, skipped)


class RunsController(QObject):
    def __init__(
        self,
        state: AppState,
        store: Any,
        tasks,
        report_error: Callable[[str, str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.store = store
        self.tasks = tasks
        self.report_error = report_error
        state.events.runs.connect(self.refresh)

    def refresh(self) -> Any:
        """Read the runs again on a thread; the latest read wins."""
        if self.store is None:
            return None
        store, known = self.store, self.state.run_list
        known = known if known.runs else None
        task = self.tasks.run(lambda _t: read_runs(store, known), key="runs", doing="Reading the runs")
        task.done.connect(self.state.set_run_list)
        task.failed.connect(lambda _title, text: self.state.set_run_list(RunList(error=text)))
        return task

    def layer_stats(self, run_id: int) -> dict | None:
        """A run's per-layer training numbers (one small row), for History's overlays."""
        try:
            return self.store.layer_stats(run_id)
        except Exception:  # noqa: BLE001 - unreadable stats: the loss curves still overlay
            return None

    def rename(self, run_id: int, name: str | None) -> None:
        self._guard("Rename failed", lambda: self.store.rename_run(run_id, name or None))

    def delete(self, run_ids: list[int]) -> None:
        """Forget these runs and delete their saved models (History asked first)."""
        for run_id in run_ids:
            self._guard("Delete failed", lambda i=run_id: self.store.delete_run(i), refresh=False)
        self.state.runs_changed()

    def _guard(self, title: str, action: Callable[[], Any], refresh: bool = True) -> None:
        if self.store is None:
            return
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - the store explains itself
            self.report_error(title, str(exc))
        if refresh:
            self.state.runs_changed()
