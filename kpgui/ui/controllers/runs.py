"""The run history: read on a thread whenever the store changed (a run ended, History shown,
another process may have trained) and published as the state's `run_list`; renames and
deletions asked for in History; the runs ticked in History drawn over the plots (the state's
overlays, with each run's per-layer numbers). History never touches the store or the state."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject

from kpgui.core.state import AppState, Overlay, RunList
from kpgui.ui.controllers.report import ReportError
from kpgui.ui.tasks import Task, Tasks


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
        tasks: Tasks,
        report_error: ReportError,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.store = store
        self.tasks = tasks
        self.report_error = report_error
        self._shown: set[int] = set()  # runs whose overlay History's ticks put in the state
        self._stats: dict[int, dict | None] = {}  # run id -> its layer statistics, read once
        state.events.runs.connect(self.refresh)

    def refresh(self) -> Task | None:
        """Read the runs again on a thread; the latest read wins."""
        if self.store is None:
            return None
        store, listed = self.store, self.state.run_list
        known = listed if listed.runs else None
        task = self.tasks.run(lambda _t: read_runs(store, known), key="runs", doing="Reading the runs")
        task.done.connect(self.state.set_run_list)
        task.failed.connect(lambda _title, text: self.state.set_run_list(RunList(error=text)))
        return task

    def layer_stats(self, run_id: int) -> dict | None:
        """A run's per-layer training numbers (one small row, read once), for the overlays."""
        if run_id not in self._stats:
            try:
                self._stats[run_id] = self.store.layer_stats(run_id)
            except Exception:  # noqa: BLE001 - unreadable stats: the loss curves still overlay
                self._stats[run_id] = None
        return self._stats[run_id]

    def show_ticked(self, ticked: list[tuple[int, str]]) -> None:
        """The runs ticked in History, (run id, colour) in table order, as the state's
        overlays, named by what differs between them (only the overlays History's ticks made:
        a sweep's runs keep theirs)."""
        from kpgui.core.display.runnames import run_labels

        by_id = {r.id: r for r in self.state.run_list.runs if r.id is not None}  # the store's runs have ids
        runs = [by_id[run_id] for run_id, _colour in ticked if run_id in by_id]
        colours = dict(ticked)
        labels = run_labels(runs) if runs else {}
        wanted = set(by_id) & set(colours)
        for run_id in self._shown - wanted:
            self.state.set_overlay(None, run_id)
        self._shown = wanted
        for run_id in (i for i, _colour in ticked if i in by_id):
            r = by_id[run_id]
            overlay = Overlay(
                run_id, labels[run_id], dict(r.history or {}), colours[run_id], self.layer_stats(run_id)
            )
            self.state.set_overlay(overlay)

    def rename(self, run_id: int, name: str | None) -> None:
        self._guard("Rename failed", lambda: self.store.rename_run(run_id, name or None))

    def delete(self, run_ids: list[int]) -> None:
        """Forget these runs and delete their saved models (History asked first)."""
        store = self.store
        for run_id in run_ids:
            self._guard("Delete failed", partial(store.delete_run, run_id), refresh=False)
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


def connect_history(panel: Any, runs: RunsController, load_run: Callable[..., Any]) -> None:
    """The History tab's intents about the runs themselves to the runs controller, and a run to
    load to `load_run` (the model controller's); the window and the tests alike."""
    panel.refresh_requested.connect(runs.refresh)
    panel.overlays_requested.connect(runs.show_ticked)
    panel.rename_requested.connect(runs.rename)
    panel.delete_requested.connect(runs.delete)
    panel.load_requested.connect(load_run)
