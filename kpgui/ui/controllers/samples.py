"""The person's own handwriting: save the drawing as a labelled sample, relabel, delete,
export and import (files are read and written on a thread).

With 100,000 samples nothing here grows with them on the GUI thread: after each change the
list of (id, label) is read on a thread and published as the state's `sample_index`; the
pictures My digits shows are read and drawn on a thread a page at a time, only for what is on
screen, and kept (`Thumbnails`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from kpgui.core.display.words import count
from kpgui.core.state import AppState, SampleIndex

THUMB_SCALE = 2  # 28x28 drawn at 56x56, crisp
PAGE = 256  # pictures read per trip to the store


def _thumbnail_image(picture: np.ndarray, ink: tuple[int, int, int], paper: tuple[int, int, int]) -> QImage:
    """A stored 28x28 uint8 picture as a 56x56 RGB QImage in the theme's colours (any thread:
    QImage, unlike QPixmap, may be made off the GUI thread)."""
    a = (picture.astype(np.float32) / 255.0)[..., None]
    ink_, paper_ = np.asarray(ink, np.float32), np.asarray(paper, np.float32)
    rgb = np.ascontiguousarray(
        np.round(paper_ + a * (ink_ - paper_)).astype(np.uint8).repeat(THUMB_SCALE, 0).repeat(THUMB_SCALE, 1)
    )
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class Thumbnails(QObject):
    """Sample pictures for My digits, made lazily off the GUI thread and kept (the last
    `limit`, least recently shown dropped first). `get(id)` answers at once: the pixmap, or
    None while it is being made; `ready` fires when a page of them arrives."""

    ready = Signal()

    def __init__(self, store: Any, tasks, limit: int = 3000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self.limit = limit
        self._cache: OrderedDict[int, tuple[QPixmap | None, str]] = OrderedDict()
        self._wanted: dict[int, None] = {}  # asked for, most recent last
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._fetch)

    def get(self, sample_id: int) -> tuple[QPixmap | None, str] | None:
        """(pixmap or None if the stored picture is damaged, when drawn), or None until read."""
        hit = self._cache.get(sample_id)
        if hit is not None:
            self._cache.move_to_end(sample_id)
            return hit
        self._wanted.pop(sample_id, None)
        self._wanted[sample_id] = None
        if not self._busy:
            self._timer.start()
        return None

    def forget(self, sample_ids: Any = None) -> None:
        """Drop kept pictures (all, or these ids: relabelled or deleted)."""
        if sample_ids is None:
            self._cache.clear()
            self.ready.emit()  # views ask again (and get them redrawn)
        else:
            for sid in sample_ids:
                self._cache.pop(int(sid), None)

    def _fetch(self) -> None:
        if self._busy or not self._wanted or self.store is None:
            return
        ids = list(self._wanted)[-PAGE:]  # the latest asked for: what is on screen now
        self._wanted.clear()
        from kpgui.ui import theme

        ink, paper = theme.ink(), theme.paper()
        colours = ((ink.red(), ink.green(), ink.blue()), (paper.red(), paper.green(), paper.blue()))
        store = self.store

        def work(_task) -> dict[int, tuple[QImage | None, str]]:
            found = store.sample_pictures(ids)
            return {
                sid: (None if pic is None else _thumbnail_image(pic, *colours), created)
                for sid, (pic, created) in found.items()
            }

        self._busy = True
        task = self.tasks.run(work, doing="Drawing your samples")
        task.done.connect(self._arrived)
        task.ended.connect(self._ended)

    def _arrived(self, images: dict) -> None:
        for sid, (image, created) in images.items():
            self._cache[sid] = (None if image is None else QPixmap.fromImage(image), created)
        while len(self._cache) > self.limit:
            self._cache.popitem(last=False)
        self.ready.emit()

    def _ended(self) -> None:
        self._busy = False
        if self._wanted:
            self._timer.start()


class SampleController(QObject):
    image_chosen = Signal(object, str)  # a sample's picture to show in the canvas, its caption

    def __init__(
        self,
        state: AppState,
        store: Any,
        tasks,
        clear_canvas: Callable[[], None],
        report_error: Callable[[str, str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.typed: list[int] = []  # digits typed so far for a written number
        state.events.drawing.connect(lambda _d: self.typed.clear())
        self.state = state
        self._store = store
        self.tasks = tasks
        self.clear_canvas = clear_canvas
        self.report_error = report_error
        self.pending: list[tuple] = []  # samples waiting for a busy database (see _keep)
        self._attempts = 0
        self.thumbnails = Thumbnails(store, tasks, parent=self)
        state.events.samples.connect(self.refresh)

    @property
    def store(self) -> Any:
        return self._store

    @store.setter
    def store(self, store: Any) -> None:  # the store opens after the first paint
        self._store = store
        self.thumbnails.store = store

    def refresh(self) -> Any:
        """Read the samples' ids and labels again on a thread; the latest read wins."""
        if self.store is None:
            return None
        store = self.store

        def work(_task) -> SampleIndex:
            ids, labels, skipped = store.sample_index()
            return SampleIndex(ids, labels, skipped)

        task = self.tasks.run(work, key="samples-index", doing="Reading your samples")
        task.done.connect(self.state.set_sample_index)
        task.failed.connect(lambda _title, text: self.state.set_sample_index(SampleIndex(error=text)))
        return task

    def open_sample(self, sample_id: int) -> None:
        """Show a sample's picture in the canvas (one row: no need for a thread)."""
        try:
            rec = self.store.get_sample(int(sample_id))
        except Exception as exc:  # noqa: BLE001 - gone meanwhile, or damaged: say so
            self.state.say(f"Sample {sample_id} cannot be shown: {exc}", 8000)
            return
        self.image_chosen.emit(
            np.asarray(rec.image, np.float32), f"your sample #{rec.id}: labelled {rec.label}"
        )

    @property
    def available(self) -> bool:
        return self.store is not None

    def total(self) -> int | None:
        """How many samples are stored now (None without a database), for a lesson's task."""
        return None if self.store is None else sum(self.store.sample_counts().values())

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
        ids, count = saved
        self.state.say(f"Saved as {label} ({count} sample{'s' if count != 1 else ''} of {label})")
        return ids[-1]

    def _type_number_digit(self, label: int, number: Any) -> int | None:
        self.typed.append(label)
        n = len(number.pieces)
        if len(self.typed) < n:
            typed = "".join(map(str, self.typed))
            self.state.say(
                f"Number: {typed}… — type {n - len(self.typed)} more digit"
                f"{'s' if n - len(self.typed) != 1 else ''} to keep all {n}.",
                10000,
            )
            return None
        labels, self.typed = self.typed, []
        saved = self._keep(
            [(digit, piece.strokes, piece.image) for piece, digit in zip(number.pieces, labels, strict=True)]
        )
        if saved is None:
            return None
        self.state.say(f"Saved {''.join(map(str, labels))} as {n} samples, one per digit.")
        return saved[0][-1]

    def _keep(self, samples: list[tuple[int, Any, Any]]) -> tuple[list[int], int] | None:
        """Store (label, strokes, image) samples drawn with the current pen and canvas; then the
        canvas is cleared. Their ids and how many samples of the last one's digit there are
        now, or None (said why) on failure. When another program holds the database, the
        samples wait in a queue and are stored as soon as it is free (None is returned, the
        canvas is cleared, the status bar says so)."""
        d = self.state.drawing
        rows = [
            (
                label,
                [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes],
                d.pen_width,
                d.canvas_size,
                image,
            )
            for label, strokes, image in samples
        ]
        ids: list[int] = []
        try:
            while rows:
                ids.append(self.store.add_sample(*rows[0]))
                rows.pop(0)
            count = self.store.count_samples(samples[-1][0])
        except Exception as exc:  # noqa: BLE001 - StoreError etc. explain themselves
            if getattr(exc, "kind", None) == "locked" and rows:
                self._queue(rows)
                return None
            self.state.say(f"Not saved: {exc}", 10000)
            return None
        self.state.samples_changed()
        self.clear_canvas()
        return ids, count

    PENDING_RETRY_MS = 1500
    PENDING_ATTEMPTS = 40  # about two minutes of a busy database before giving up (said)

    def _queue(self, rows: list[tuple]) -> None:
        """Keep samples the busy database could not take, and try again shortly."""
        scheduled = bool(self.pending)
        self.pending.extend(rows)
        self.clear_canvas()
        self.state.say(
            f"The database is busy (another kpgui is writing to it): {len(self.pending)} "
            "digit(s) kept here and saved as soon as it is free.",
            10000,
        )
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
                self.report_error(
                    "Samples not saved", f"{len(pending)} drawn digit(s) could not be saved: {exc}"
                )
                pending.clear()
        if stored:
            self.state.samples_changed()
            self.state.say(
                f"Saved {stored} waiting digit(s): the database is free again."
                if not pending
                else f"Saved {stored} waiting digit(s); {len(pending)} still waiting.",
                8000,
            )
        if not pending:
            self._attempts = 0
        return stored

    def relabel(self, ids: list[int], label: int) -> None:
        self.thumbnails.forget(ids)
        self._guard("Relabel failed", lambda: self.store.relabel_samples(ids, label))

    def delete(self, ids: list[int]) -> None:
        self.thumbnails.forget(ids)
        self._guard("Delete failed", lambda: self.store.delete_samples(ids))

    def _guard(self, title: str, action: Callable[[], Any]) -> None:
        if self.store is None:
            return
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - the store explains itself
            self.report_error(title, str(exc))
        self.state.samples_changed()

    def export(self, path: str) -> Any:
        task = self.tasks.run(
            lambda _t: self.store.export_samples(path), key="samples-file", doing="Exporting your samples"
        )

        def done(n: int) -> None:
            left_out = len(self.store.skipped)
            self.state.say(
                f"Exported {n} sample{'s' if n != 1 else ''} to {path}."
                + (
                    f" {count(left_out, 'damaged sample')} could not be read and were left out."
                    if left_out
                    else ""
                ),
                8000,
            )

        task.done.connect(done)
        task.failed.connect(
            lambda _t, text: self.report_error("Export failed", f"{path} was not written: {text}")
        )
        return task

    def import_(self, path: str) -> Any:
        """Add the samples of a file (validated first; a bad file adds nothing)."""
        task = self.tasks.read_file(
            path,
            lambda p, _t: self.store.import_samples(p),
            key="samples-file",
            doing="Importing samples",
            timeout=600.0,
        )  # 100,000 samples take a while to add

        def done(n: int) -> None:
            self.state.samples_changed()
            report = str(self.store.last_import)
            self.state.say(
                f"Imported {n} new sample{'s' if n != 1 else ''} from {path}"
                + (f" ({report})." if report else "."),
                8000,
            )

        task.done.connect(done)
        task.failed.connect(
            lambda _t, text: self.report_error(
                "Import refused", f"{path} was not imported; nothing was added.\n\n{text}"
            )
        )
        return task
