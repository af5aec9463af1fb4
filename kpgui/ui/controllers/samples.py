"""The person's own handwriting: save the drawing as a labelled sample, relabel, delete,
export and import (files are read and written on a thread)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from kpgui.core.state import AppState


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
        canvas is cleared. Their ids and the counts per label, or None (said why) on failure."""
        d = self.state.drawing
        try:
            ids = [self.store.add_sample(label, [np.asarray(s, np.float64).reshape(-1, 2)
                                                 for s in strokes], d.pen_width, d.canvas_size,
                                         image)
                   for label, strokes, image in samples]
            counts = self.store.sample_counts()
        except Exception as exc:  # noqa: BLE001 - StoreError etc. explain themselves
            self.state.say(f"Not saved: {exc}", 10000)
            return None
        self.state.samples_changed()
        self.clear_canvas()
        return ids, counts

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
                           + (f" {left_out} damaged sample(s) could not be read and were left "
                              "out." if left_out else ""), 8000)

        task.done.connect(done)
        task.failed.connect(lambda _t, text: self.report_error(
            "Export failed", f"{path} was not written: {text}"))
        return task

    def import_(self, path: str) -> Any:
        """Add the samples of a file (validated first; a bad file adds nothing)."""
        task = self.tasks.read_file(path, lambda p, _t: self.store.import_samples(p),
                                    key="samples-file", doing="Importing samples",
                                    timeout=600.0)  # 100,000 samples take a while to add

        def done(n: int) -> None:
            self.state.samples_changed()
            self.state.say(f"Imported {n} new sample{'s' if n != 1 else ''} from {path}"
                           + (" (the others were already here)." if n == 0 else "."), 8000)

        task.done.connect(done)
        task.failed.connect(lambda _t, text: self.report_error(
            "Import refused", f"{path} was not imported; nothing was added.\n\n{text}"))
        return task
