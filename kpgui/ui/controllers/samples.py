"""The person's own handwriting: save the drawing as a labelled sample, relabel, delete,
export and import (files are read and written on a thread)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from kpgui.core.state import AppState
from kpgui.core.words import count


class SampleController(QObject):
    def __init__(self, state: AppState, store: Any, tasks, clear_canvas: Callable[[], None],
                 report_error: Callable[[str, str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.typed: list[int] = []  # digits typed so far for a written number
        state.events.drawing.connect(lambda _d: self.typed.clear())
        self.state = state
        self.store = store
        self.tasks = tasks
        self.clear_canvas = clear_canvas
        self.report_error = report_error
        self.pending: list[tuple] = []  # samples waiting for a busy database (see _keep)
        self._attempts = 0

    @property
    def available(self) -> bool:
        return self.store is not None

    def save_drawing(self, label: int) -> int | None:
        """Keep the drawing on the canvas as a sample of `label`; returns its id (None when
        nothing was saved, with the reason in the status bar). Clears the canvas for the next.
        A written number is kept digit by digit: type its digits ("2026"), each is stored as
        its own sample with its strokes once the last one is typed."""
        if self.store is None:
            self.state.say("Samples cannot be saved: the database is unavailable.")
            return None
        number = self.state.number
        if number is not None and self.state.drawing.drawn:
            return self._type_number_digit(int(label), number)
        d = self.state.drawing
        if not d.drawn:
            self.state.say(f"Draw a {label} first, then press {label} to keep it.")
            return None
        if d.blank:
            self.state.say("The drawing is empty; nothing saved.")
            return None
        saved = self._keep([(int(label), d.strokes, d.image)])
        if saved is None:
            return None
        ids, counts = saved
        count = counts.get(int(label), 0)
        self.state.say(f"Saved as {label} ({count} sample{'s' if count != 1 else ''} of {label})")
        return ids[-1]

    def _type_number_digit(self, label: int, number: Any) -> int | None:
        self.typed.append(label)
        n = len(number.pieces)
        if len(self.typed) < n:
            typed = "".join(map(str, self.typed))
            self.state.say(f"Number: {typed}… — type {n - len(self.typed)} more digit"
                           f"{'s' if n - len(self.typed) != 1 else ''} to keep all {n}.", 10000)
            return None
        labels, self.typed = self.typed, []
        saved = self._keep([(digit, piece.strokes, piece.image)
                            for piece, digit in zip(number.pieces, labels, strict=True)])
        if saved is None:
            return None
        self.state.say(f"Saved {''.join(map(str, labels))} as {n} samples, one per digit.")
        return saved[0][-1]

    def _keep(self, samples: list[tuple[int, Any, Any]]) -> tuple[list[int], dict] | None:
        """Store (label, strokes, image) samples drawn with the current pen and canvas; then the
        canvas is cleared. Their ids and the counts per label, or None (said why) on failure.
        When another program holds the database, the samples wait in a queue and are stored
        as soon as it is free (None is returned, the canvas is cleared, the status bar says so)."""
        d = self.state.drawing
        rows = [(label, [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes],
                 d.pen_width, d.canvas_size, image) for label, strokes, image in samples]
        ids: list[int] = []
        try:
            while rows:
                ids.append(self.store.add_sample(*rows[0]))
                rows.pop(0)
            counts = self.store.sample_counts()
        except Exception as exc:  # noqa: BLE001 - StoreError etc. explain themselves
            if getattr(exc, "kind", None) == "locked" and rows:
                self._queue(rows)
                return None
            self.state.say(f"Not saved: {exc}", 10000)
            return None
        self.state.samples_changed()
        self.clear_canvas()
        return ids, counts

    PENDING_RETRY_MS = 1500
    PENDING_ATTEMPTS = 40  # about two minutes of a busy database before giving up (said)

    def _queue(self, rows: list[tuple]) -> None:
        """Keep samples the busy database could not take, and try again shortly."""
        scheduled = bool(self.pending)
        self.pending.extend(rows)
        self.clear_canvas()
        self.state.say(f"The database is busy (another kpgui is writing to it): {len(self.pending)} "
                       "digit(s) kept here and saved as soon as it is free.", 10000)
        if not scheduled:
            self._schedule()

    def _schedule(self) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(self.PENDING_RETRY_MS, self.flush_pending)

    def flush_pending(self) -> int:
        """Store the queued samples (see _keep); how many were stored now."""
        stored = 0
        pending = self.pending
        try:
            while pending:
                self.store.add_sample(*pending[0])
                pending.pop(0)
                stored += 1
        except Exception as exc:  # noqa: BLE001 - the store explains itself
            self._attempts += 1
            if getattr(exc, "kind", None) == "locked" and self._attempts < self.PENDING_ATTEMPTS:
                self._schedule()
            else:
                self.report_error("Samples not saved", f"{len(pending)} drawn digit(s) could not "
                                  f"be saved: {exc}")
                pending.clear()
        if stored:
            self.state.samples_changed()
            self.state.say(f"Saved {stored} waiting digit(s): the database is free again."
                           if not pending else f"Saved {stored} waiting digit(s); "
                           f"{len(pending)} still waiting.", 8000)
        if not pending:
            self._attempts = 0
        return stored

    def relabel(self, ids: list[int], label: int) -> None:
        self._guard("Relabel failed", lambda: self.store.relabel_samples(ids, label))

    def delete(self, ids: list[int]) -> None:
        self._guard("Delete failed", lambda: self.store.delete_samples(ids))

    def _guard(self, title: str, action: Callable[[], Any]) -> None:
        if self.store is None or not action:
            return
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - the store explains itself
            self.report_error(title, str(exc))
        self.state.samples_changed()

    def export(self, path: str) -> Any:
        task = self.tasks.run(lambda _t: self.store.export_samples(path), key="samples-file",
                              doing="Exporting your samples")
        def done(n: int) -> None:
            left_out = len(self.store.skipped)
            self.state.say(f"Exported {n} sample{'s' if n != 1 else ''} to {path}."
                           + (f" {count(left_out, 'damaged sample')} could not be read and were left "
                              "out." if left_out else ""), 8000)

        task.done.connect(done)
        task.failed.connect(lambda _t, text: self.report_error(
            "Export failed", f"{path} was not written: {text}"))
        return task

    def import_(self, path: str) -> Any:
        """Add the samples of a file (validated first; a bad file adds nothing)."""
        task = self.tasks.run(lambda _t: self.store.import_samples(path), key="samples-file",
                              doing="Importing samples")

        def done(n: int) -> None:
            self.state.samples_changed()
            report = str(self.store.last_import)
            self.state.say(f"Imported {n} new sample{'s' if n != 1 else ''} from {path}"
                           + (f" ({report})." if report else "."), 8000)

        task.done.connect(done)
        task.failed.connect(lambda _t, text: self.report_error(
            "Import refused", f"{path} was not imported; nothing was added.\n\n{text}"))
        return task
