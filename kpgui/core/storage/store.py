"""The app's one SQLite database: the run history and the person's own drawn samples.

Both the window and the CLI open the same file (`kpgui.core.storage.paths.database_path()`), so `kpgui runs`
lists the runs the window made. Design choices, and why:

* Every write is one committed transaction (autocommit connection, explicit BEGIN IMMEDIATE /
  COMMIT), so a sample or run that the app reported as saved survives the app being killed the
  next instant. WAL mode lets a second window (or the CLI) read while one writes.
* Errors reach people as `StoreError` whose message names the file, the cause and the fix; its
  `kind` ("corrupt", "locked", "newer", "io") lets the GUI choose what to offer (e.g.
  `Store.recover(path)` for "corrupt"). A lock held by another program fails after a short
  `timeout` (`Store.busy_timeout`, 2 s) instead of hanging the window.
* Samples keep their strokes as vectors (float32 points + per-stroke lengths), not only the
  28x28 picture, so they can be re-rendered if preprocessing ever changes.
* The store is safe to use from several threads (one connection guarded by a lock): the GUI
  may record a run from its training thread.
* One damaged row never hides the others: list_runs, list_samples, sample_arrays and
  export_samples skip a row they cannot decode and report it in `Store.skipped` (a list of
  SkippedRow: table, id, reason), which each of those calls resets. get_run / get_sample on
  such a row raise StoreError of kind BAD_ROW, naming the row and the fix (delete it).
* JSON columns never hold NaN or inf (written as null: a diverged run's loss is NaN), so any
  JSON reader can read them; rows written before that, with NaN tokens, still read.

Qt-free and TensorFlow-free: importing this module stays fast.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kpgui.core.model.run import RunRecord, note_fields
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.bounded import BadInput, loads_json, to_json
from kpgui.core.storage.samplefiles import (
    SampleBundle,
    check_canvas_size,
    check_label,
    check_pen_width,
    check_strokes,
    image_to_uint8,
    pack_strokes,
    read_samples_file,
    unpack_strokes,
    write_samples_file,
)

SCHEMA_VERSION = 2  # 2: run_stats (per-layer training numbers); a v1 file gains the table on open
ORPHAN_AFTER_S = 3600.0  # a model file no run points to for an hour was never recorded
IMPORT_CHUNK = 200  # samples per transaction of an import: a digit saved meanwhile waits ~10 ms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT,
    kind          TEXT NOT NULL DEFAULT 'train',
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    spec          TEXT NOT NULL,
    history       TEXT NOT NULL,
    test_accuracy REAL,
    test_loss     REAL,
    wall_time     REAL,
    epochs_run    INTEGER,
    status        TEXT,
    train_samples INTEGER,
    model_path    TEXT,
    notes         TEXT
);
CREATE TABLE IF NOT EXISTS samples (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    label         INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    points        BLOB NOT NULL,
    stroke_lengths BLOB NOT NULL,
    pen_width     REAL NOT NULL,
    canvas_w      INTEGER NOT NULL,
    canvas_h      INTEGER NOT NULL,
    image         BLOB NOT NULL,
    digest        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_stats (
    run_id        INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    layer_stats   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_label ON samples(label);
CREATE INDEX IF NOT EXISTS samples_digest ON samples(digest);
"""

_SAMPLE_COLUMNS = "id, label, points, stroke_lengths, pen_width, canvas_w, canvas_h, image, created_at"
_RUN_COLUMNS = (
    "id, name, kind, created_at, spec, history, test_accuracy, test_loss, wall_time, "
    "epochs_run, status, train_samples, model_path, notes, started_at"
)


# quick_check findings about single rows (e.g. a label outside 0-9): not damage to the file.
_ROW_LEVEL = re.compile(r"^(CHECK constraint failed|NULL value in|NOT NULL constraint)")


class StoreError(RuntimeError):
    """The database cannot be used; the message names the file, the cause and the fix.

    `kind` is one of CORRUPT, LOCKED, NEWER, IO, BAD_ROW (one run or sample cannot be decoded;
    the rest of the database is fine, so do not offer recover() for it); `path` is the file.
    """

    CORRUPT, LOCKED, NEWER, IO, BAD_ROW = "corrupt", "locked", "newer", "io", "bad-row"
    NEEDS_WRITE = "needs-write"  # a read-only open found a database that must be set up first

    def __init__(self, message: str, kind: str = "io", path: Path | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def _disk_full(path: Path) -> bool:
    """Whether the disk holding `path` has (almost) no room left: SQLite reports a full disk
    while opening as a plain "disk I/O error"."""
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return False


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """sqlite3's terse errors -> a StoreError a person can act on."""
    text = " ".join(str(exc).split())  # one line: quick_check reports span several
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StoreError(
            f"The kpgui database at {path} is locked by another program ({text}); close other "
            "kpgui windows or commands using it and try again.",
            StoreError.LOCKED,
            path,
        )
    if (
        "not a database" in low
        or "malformed" in low
        or "corrupt" in low
        or isinstance(exc, sqlite3.DatabaseError)
        and not isinstance(exc, sqlite3.OperationalError | sqlite3.IntegrityError | sqlite3.ProgrammingError)
    ):
        return StoreError(
            f"The kpgui database at {path} is damaged ({text}). Move it aside (e.g. rename it to "
            f"{path.name}.corrupt; the kpgui window offers to do this and keeps it as "
            f"{path.name}.corrupt-<time>) and kpgui will start a new, empty one.",
            StoreError.CORRUPT,
            path,
        )
    if "full" in low or "disk i/o" in low and _disk_full(path):
        return StoreError(
            f"The disk holding the kpgui database at {path} is full ({text}); free some space and try again.",
            StoreError.IO,
            path,
        )
    if "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        return StoreError(
            f"The kpgui database at {path} cannot be opened for writing ({text}); "
            "check that the folder exists and you may write to it.",
            StoreError.IO,
            path,
        )
    return StoreError(f"The kpgui database at {path} could not be used ({text}).", StoreError.IO, path)


# -- records ----------------------------------------------------------------------------------


@dataclass
class SampleRecord:
    """One drawn digit: its strokes (canvas pixels), the pen, and the 28x28 picture."""

    id: int
    label: int
    strokes: list[np.ndarray] = field(repr=False)  # each (n, 2) float32 x, y in canvas pixels
    pen_width: float
    canvas_size: tuple[int, int]  # width, height
    image: np.ndarray = field(repr=False)  # float32 (28, 28) in [0, 1]
    created_at: str


@dataclass(frozen=True)
class SkippedRow:
    """A row a listing left out because it cannot be decoded (see Store.skipped)."""

    table: str  # "runs" or "samples"
    id: int
    reason: str

    def __str__(self) -> str:
        what = "run" if self.table == "runs" else "sample"
        return f"{what} {self.id}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """What the last import_samples did with each sample of the file."""

    added: int = 0
    already_present: int = 0  # the same digit, picture and strokes were already stored
    repeated_in_file: int = 0  # the file itself holds the sample more than once

    def __str__(self) -> str:
        parts = [f"{self.already_present} already present"] if self.already_present else []
        if self.repeated_in_file:
            parts.append(f"{self.repeated_in_file} duplicate(s) within the file")
        return ", ".join(parts)


class _BadRow(ValueError):
    """A row's stored values cannot be decoded; the message is the reason."""


def _dumps(value: Any) -> str:
    """JSON for a column: NaN/inf written as null (valid JSON), odd objects as their text."""
    return to_json(value, indent=None)


def _loads(text: Any, what: str) -> Any:
    """A JSON column's value (old rows' NaN tokens accepted); _BadRow when it cannot be read."""
    if text is None or text == "":
        return {}
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise _BadRow(f"its {what} is not text")
    try:
        value = loads_json(text)
    except BadInput as exc:
        raise _BadRow(f"its {what} cannot be read ({exc})") from exc
    if not isinstance(value, dict):
        raise _BadRow(f"its {what} is not a JSON object")
    return value


def _digest(label: int, image: np.ndarray, points: bytes, lengths: bytes) -> str:
    h = hashlib.sha1(bytes([label]))
    for part in (image.tobytes(), points, lengths):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    v = float(value)
    return v if np.isfinite(v) else None


def _number(value: Any) -> float | None:
    """A REAL column as a float (None for NULL); _BadRow for text or other junk."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadRow(f"it holds {value!r} where a number belongs")
    return float(value)


def _count(value: Any) -> int:
    """An INTEGER column as a count (0 for NULL, which rows of older kpgui may hold)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRow(f"it holds {value!r} where a whole number belongs")
    return value


def _blob(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise _BadRow(f"it holds {type(value).__name__} where binary data belongs")


def _stored_label(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9:
        raise _BadRow(f"its label {value!r} is not a digit 0-9")
    return value


def _stored_image(value: Any) -> np.ndarray:
    data = _blob(value)
    if len(data) != 784:
        raise _BadRow(f"its picture has {len(data)} bytes instead of 28x28 = 784")
    return np.frombuffer(data, np.uint8).reshape(28, 28)


def _stored_strokes(points: Any, lengths: Any) -> list[np.ndarray]:
    p, n = _blob(points), _blob(lengths)
    if len(p) % 8 or len(n) % 4:
        raise _BadRow("its strokes are cut short")
    strokes = unpack_strokes(p, n)  # ValueError when lengths and points disagree
    if any(len(s) == 0 for s in strokes) or not all(np.isfinite(s).all() for s in strokes):
        raise _BadRow("its strokes hold empty strokes or NaN/infinite points")
    return strokes


def _ids(sample_ids: Sequence[int]) -> list[int]:
    """Distinct ids as ints, in order (so a repeated id is not reported as missing)."""
    return list(dict.fromkeys(int(i) for i in sample_ids))


def models_dir() -> Path:
    """Where run models live: `data_dir()/models`, created on demand."""
    from kpgui.core.storage.paths import models_dir as folder

    return folder()


def runs_dir() -> Path:
    """Where run logs live: `data_dir()/runs`, created on demand."""
    from kpgui.core.storage.paths import runs_dir as folder

    return folder()


def _inside(path: Path, folder: Any) -> bool:
    """Whether `path` is inside the kpgui folder `folder()` (False when either cannot be had)."""
    try:
        return path.resolve().is_relative_to(folder().resolve())
    except OSError:
        return False


def _blocking_file(folder: Path) -> Path | None:
    """The nearest existing ancestor of `folder` (itself included) if it is not a folder."""
    for part in (folder, *folder.parents):
        if part.exists():
            return None if part.is_dir() else part
    return None


def _prepare_folder(path: Path) -> None:
    """Create the database's folder, or raise StoreError saying which path is in the way."""
    fix = "or point KPGUI_DATA_DIR at a folder you may write to"
    if path.is_dir():
        raise StoreError(
            f"The kpgui database path {path} is a folder, not a database file; "
            f"move that folder aside, {fix}.",
            StoreError.IO,
            path,
        )
    blocker = _blocking_file(path.parent)
    if blocker is not None:
        raise StoreError(
            f"Cannot create the folder {path.parent} for the kpgui database: "
            f"{blocker} is a file, not a folder. Move or rename that file, {fix}.",
            StoreError.IO,
            path,
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the folder {path.parent} for the kpgui database "
            f"({exc.strerror or exc}); check its permissions, {fix}.",
            StoreError.IO,
            path,
        ) from exc


# -- the store ----------------------------------------------------------------------------------


class Store:
    """The SQLite database of runs and samples. Use as a context manager or call close().

    Raises StoreError (never a bare sqlite3 error) when the file is damaged, locked, made by a
    newer kpgui, or cannot be written. Lookups of unknown ids raise KeyError.
    """

    # Seconds a store waits for another program's lock before giving up, unless it is opened
    # with its own `timeout` (tests that hold the lock shorten it instead of waiting 2 s).
    busy_timeout: float = 2.0

    def __init__(self, path: str | os.PathLike, timeout: float | None = None, readonly: bool = False) -> None:
        """`readonly`: only read (listing, exporting); nothing is written, not even SQLite's
        side files where that is possible, so a full disk or a read-only data folder can still
        list runs and export samples. Writes then raise StoreError."""
        self.path = Path(path)
        self.recovered_from: Path | None = None  # set by recover(): where the damaged file went
        self._lock = threading.RLock()
        self.skipped: list[SkippedRow] = []  # rows the last listing left out (see module doc)
        self.last_import = ImportReport()  # what the last import_samples did
        self._conn: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None  # see _snapshot
        self._reader_lock = threading.Lock()
        self._timeout = timeout = self.busy_timeout if timeout is None else timeout
        self.readonly = readonly and self.path.is_file()  # no file yet: create it as usual
        if not self.readonly:
            _prepare_folder(self.path)
        last: sqlite3.Error | None = None
        # Read-only: mode=ro first (sees other writers); where even that needs a write (a WAL
        # database whose -shm cannot be made on a full or read-only disk), immutable=1.
        for uri in (
            (
                f"{self.path.absolute().as_uri()}?mode=ro",
                f"{self.path.absolute().as_uri()}?mode=ro&immutable=1",
            )
            if self.readonly
            else (None,)
        ):
            try:
                conn = (
                    sqlite3.connect(
                        uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
                    )
                    if uri
                    else sqlite3.connect(
                        self.path, timeout=timeout, isolation_level=None, check_same_thread=False
                    )
                )
            except sqlite3.Error as exc:
                last = exc
                continue
            self._conn = conn
            try:
                self._setup()
                return
            except sqlite3.Error as exc:
                conn.close()
                self._conn = None
                last = exc
                if not self.readonly or "malformed" in str(exc) or "not a database" in str(exc):
                    break
            except StoreError:
                conn.close()
                self._conn = None
                raise
        assert last is not None
        raise _translate(last, self.path) from last

    def _setup(self) -> None:
        c = self._conn
        assert c is not None
        # Reading the header first: a damaged or foreign file fails here ("not a database").
        version = c.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The kpgui database at {self.path} was made by a newer kpgui (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); update kpgui, or move the file aside to "
                "start a new one.",
                StoreError.NEWER,
                self.path,
            )
        if self.readonly:
            if version < SCHEMA_VERSION:
                raise StoreError(
                    f"The kpgui database at {self.path} is empty or from an older "
                    "kpgui and cannot be brought up to date while reading only.",
                    StoreError.NEEDS_WRITE,
                    self.path,
                )
        else:
            # WAL: readers (another window, the CLI) never block the writer. If WAL is
            # impossible (e.g. some network folders) SQLite keeps its rollback journal.
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA foreign_keys=ON")
            c.execute("PRAGMA synchronous=FULL")
        if version < SCHEMA_VERSION:
            c.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        problems = [
            r[0] for r in c.execute("PRAGMA quick_check(100)") if r[0] != "ok" and not _ROW_LEVEL.search(r[0])
        ]
        if problems:  # damaged pages; a row breaking a CHECK is skipped when read instead
            raise sqlite3.DatabaseError(f"database disk image is malformed: {problems[0]}")
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"runs", "samples"} <= tables:
            raise StoreError(
                f"The file {self.path} is an SQLite database but not kpgui's (no runs/samples "
                "tables). Move it aside and kpgui will start a new one.",
                StoreError.CORRUPT,
                self.path,
            )

    @classmethod
    def open_default(cls, timeout: float | None = None, readonly: bool = False) -> Store:
        """The database at `kpgui.core.storage.paths.database_path()` (honours $KPGUI_DATA_DIR);
        `readonly` for commands that only read (they then work on a full or read-only disk)."""
        from kpgui.core.storage.paths import database_path, database_path_for_reading

        if readonly:
            try:
                return cls(database_path_for_reading(), timeout=timeout, readonly=True)
            except StoreError as exc:
                if exc.kind != StoreError.NEEDS_WRITE:
                    raise  # an empty or old database is set up by an ordinary open, below
        return cls(database_path(), timeout=timeout)

    @classmethod
    def recover(cls, path: str | os.PathLike, timeout: float | None = None) -> Store:
        """Move a damaged database aside (kept as `<name>.corrupt-<time>`) and open a new one.

        The app calls this after telling the person; nothing is deleted, so the old file can
        still be sent to someone who might rescue it. Its -wal/-shm files move along with it.
        Returns the fresh Store; `Store.recovered_from` on it is the path of the kept file.
        """
        p = Path(path)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        kept = p.with_name(f"{p.name}.corrupt-{stamp}")
        n = 1
        while kept.exists():
            kept = p.with_name(f"{p.name}.corrupt-{stamp}-{n}")
            n += 1
        moved = None
        if p.exists():
            os.replace(p, kept)
            moved = kept
        for suffix in ("-wal", "-shm", "-journal"):
            side = p.with_name(p.name + suffix)
            if side.exists():
                os.replace(side, kept.with_name(kept.name + suffix))
        store = cls(p, timeout=timeout)
        store.recovered_from = moved
        return store

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def _c(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"The kpgui database at {self.path} is closed.", StoreError.IO, self.path)
        return self._conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._c
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A second, read-only connection for the big reads the window makes on threads (all
        sample ids, a page of pictures, every run): in WAL mode they read a snapshot while a
        write goes on, so a digit saved meanwhile never waits for them, nor they for an
        import. Without WAL SQLite itself makes them take turns, which is still correct."""
        with self._reader_lock:
            main = self._c  # a closed store: the same StoreError as every call
            try:
                if self.readonly:  # already read-only (a full or read-only disk): no second file
                    yield main
                    return
                if self._reader is None:
                    self._reader = sqlite3.connect(
                        self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
                    )
                    self._reader.execute("PRAGMA query_only=ON")
                yield self._reader
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed (to disk) before this returns, rolled back on any error."""
        with self._lock:
            c = self._c
            try:
                c.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
            try:
                yield c
                c.execute("COMMIT")
            except BaseException as exc:
                try:
                    c.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from exc
                raise

    # -- runs -------------------------------------------------------------------------------

    def add_run(self, run: RunRecord) -> int:
        """Record a run (spec, per-epoch history, accuracy, time, notes ...); returns its id.
        Its `layer_stats` (if any) go to their own table: listing runs never reads them."""
        history = {str(k): [float(v) for v in vs] for k, vs in run.history.items()}
        with self._write() as c:
            cur = c.execute(
                "INSERT INTO runs (name, kind, created_at, started_at, spec, history, "
                "test_accuracy, test_loss, wall_time, epochs_run, status, train_samples, "
                "model_path, notes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run.name,
                    run.kind,
                    _now(),
                    run.started_at,
                    _dumps(run.spec.to_dict()),
                    _dumps(history),
                    _finite(run.test_accuracy),
                    _finite(run.test_loss),
                    _finite(run.wall_time),
                    int(run.epochs_run),
                    run.status,
                    int(run.train_samples),
                    None if run.model_path is None else str(run.model_path),
                    _dumps(run.stored_notes()),
                ),
            )
            run_id = int(cur.lastrowid or 0)
            if run.layer_stats:
                c.execute(
                    "INSERT INTO run_stats (run_id, layer_stats) VALUES (?, ?)",
                    (run_id, _dumps(run.layer_stats)),
                )
            return run_id

    def layer_stats(self, run_id: int) -> dict | None:
        """The run's per-layer training numbers (kpgui.core.model.layerstats.LayerHistory.to_dict),
        or None when it has none (recorded before kpgui measured them, or a non-dense model).
        StoreError (BAD_ROW) when they cannot be read."""
        with self._read() as c:
            row = c.execute("SELECT layer_stats FROM run_stats WHERE run_id=?", (int(run_id),)).fetchone()
        if row is None:
            return None
        try:
            return _loads(row[0], "layer statistics")
        except _BadRow as exc:
            raise StoreError(
                f"The layer statistics of run {run_id} in the kpgui database at {self.path} are "
                f"damaged ({exc}); delete that run (the rest of the database is fine).",
                StoreError.BAD_ROW,
                self.path,
            ) from exc

    @staticmethod
    def _run(row: tuple) -> RunRecord:
        """A row as a RunRecord; _BadRow when its history or notes cannot be decoded (a spec
        that cannot is shown as the default spec, as before)."""
        try:
            spec = ModelSpec.from_dict(_loads(row[4], "spec"))
        except (ValueError, TypeError):
            spec = ModelSpec()
        history = _loads(row[5], "history")
        if not all(isinstance(v, list) for v in history.values()):
            raise _BadRow("its history is not lists of numbers")
        return RunRecord(
            id=row[0],
            name=row[1],
            kind=row[2],
            created_at=row[3],
            spec=spec,
            history=history,
            test_accuracy=_number(row[6]),
            test_loss=_number(row[7]),
            wall_time=_number(row[8]),
            epochs_run=_count(row[9]),
            status=row[10] if isinstance(row[10], str) else "",
            train_samples=_count(row[11]),
            model_path=row[12],
            started_at=row[14],
            **note_fields(_loads(row[13], "notes")),
        )

    def _decoded(self, table: str, rows: list[tuple], decode: Any) -> list[Any]:
        """Each row decoded; rows that cannot be are left out and listed in self.skipped."""
        out, skipped = [], []
        for row in rows:
            try:
                out.append(decode(row))
            except (_BadRow, ValueError, TypeError, KeyError, IndexError) as exc:
                skipped.append(SkippedRow(table, int(row[0]), str(exc) or exc.__class__.__name__))
        self.skipped = skipped
        return out

    def _one(self, table: str, row: tuple, decode: Any) -> Any:
        try:
            return decode(row)
        except (_BadRow, ValueError, TypeError, KeyError, IndexError) as exc:
            what = "run" if table == "runs" else "sample"
            raise StoreError(
                f"The {what} {row[0]} in the kpgui database at {self.path} is damaged ({exc}); "
                f"delete that {what} (the rest of the database is fine).",
                StoreError.BAD_ROW,
                self.path,
            ) from exc

    def list_runs(self, ids: Sequence[int] | None = None) -> list[RunRecord]:
        """All runs (or those with these ids), newest first. Rows that cannot be decoded are
        skipped and listed in `self.skipped`. (Read through the snapshot connection and
        decoded outside any lock: 3,000 runs never hold up a write.)"""
        with self._snapshot() as c:
            if ids is None:
                rows = c.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id DESC").fetchall()
            else:
                wanted, rows = _ids(ids), []
                for start in range(0, len(wanted), 500):
                    part = wanted[start : start + 500]
                    rows += c.execute(
                        f"SELECT {_RUN_COLUMNS} FROM runs WHERE id IN ({','.join('?' * len(part))})", part
                    ).fetchall()
                rows.sort(key=lambda r: -r[0])
        return self._decoded("runs", rows, self._run)

    def run_names(self) -> dict[int, str | None]:
        """id -> name of every run: what changes after a run is recorded (renames, deletions,
        new runs) without decoding 3,000 histories."""
        with self._snapshot() as c:
            return {int(i): n for i, n in c.execute("SELECT id, name FROM runs")}

    def get_run(self, run_id: int) -> RunRecord:
        """The run with this id; KeyError if there is none, StoreError (BAD_ROW) if damaged."""
        with self._read() as c:
            row = c.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id=?", (int(run_id),)).fetchone()
        if row is None:
            raise KeyError(f"no run with id {run_id}")
        return self._one("runs", row, self._run)

    def rename_run(self, run_id: int, name: str | None) -> None:
        """Give a run a name people recognise (None or "" clears it); KeyError if unknown."""
        with self._write() as c:
            cur = c.execute("UPDATE runs SET name=? WHERE id=?", (name or None, int(run_id)))
            if cur.rowcount == 0:
                raise KeyError(f"no run with id {run_id}")

    def delete_run(self, run_id: int, delete_files: bool = True) -> None:
        """Forget a run; with delete_files also remove its model and card, and its log folder,
        but only when they live in kpgui's own folders (a model the person saved elsewhere is
        theirs).

        The row goes first (committed), so a crash in between leaves at worst an orphan file
        (cleaned by clean_orphan_models), never a run pointing at a missing model.
        """
        with self._read() as c:
            row = c.execute("SELECT model_path, notes FROM runs WHERE id=?", (int(run_id),)).fetchone()
        if row is None:
            raise KeyError(f"no run with id {run_id}")
        with self._write() as c:
            c.execute("DELETE FROM runs WHERE id=?", (int(run_id),))
        if not delete_files:
            return
        if isinstance(row[0], str) and row[0] and _inside(Path(row[0]), models_dir):
            model = Path(row[0])
            for p in (model, model.with_suffix(".json")):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
                except OSError:
                    pass
        try:
            log_dir = _loads(row[1], "notes").get("log_dir")
        except _BadRow:
            log_dir = None
        if isinstance(log_dir, str) and log_dir and _inside(Path(log_dir), runs_dir):
            import shutil

            shutil.rmtree(log_dir, ignore_errors=True)

    def model_paths(self) -> set[Path]:
        """Every model file a run in the history points to (resolved)."""
        with self._read() as c:
            rows = c.execute("SELECT model_path FROM runs WHERE model_path IS NOT NULL").fetchall()
        out = set()
        for (path,) in rows:
            if isinstance(path, str) and path:
                try:
                    out.add(Path(path).resolve())
                except (OSError, ValueError):
                    continue
        return out

    def clean_orphan_models(self, older_than_s: float = ORPHAN_AFTER_S) -> list[Path]:
        """Remove model files (and their cards) in kpgui's models folder that no run in the
        history points to — a model saved by a run killed before it was recorded — once they
        are `older_than_s` old (a run saving right now records its model moments later).
        Returns the models removed; errors are ignored (cleaning must never stop kpgui)."""
        import time

        removed: list[Path] = []
        if any(self.path.parent.glob(f"{self.path.name}.corrupt*")):
            return removed  # the history was damaged and restarted: its models are not orphans
        keep = self.model_paths()
        try:
            folder = models_dir()
            entries = list(folder.glob("*.keras"))
        except OSError:
            return removed
        now = time.time()
        for model in entries:
            try:
                if (
                    model.resolve() in keep
                    or not model.is_file()
                    or now - model.stat().st_mtime < older_than_s
                ):
                    continue
                model.unlink()
                removed.append(model)
                model.with_suffix(".json").unlink(missing_ok=True)
            except OSError:
                continue
        return removed

    # -- samples ----------------------------------------------------------------------------

    def add_sample(
        self, label: int, strokes: Sequence, pen_width: float, canvas_size: tuple[int, int], image: np.ndarray
    ) -> int:
        """Keep one drawn digit; returns its id. ValueError for a label outside 0-9, an image
        that is not 28x28 (float in [0, 1] or uint8), bad strokes, pen width or canvas size.

        The image is stored as uint8 (1/255 steps, like MNIST), so get_sample returns it
        rounded to that; strokes are stored as float32.
        """
        label = check_label(label)
        img = image_to_uint8(image)
        pts, lens = pack_strokes(check_strokes(strokes))
        pen = check_pen_width(pen_width)
        w, h = check_canvas_size(canvas_size)
        with self._write() as c:
            return self._insert_sample(c, label, pts, lens, pen, w, h, img, _now())

    @staticmethod
    def _insert_sample(
        c: sqlite3.Connection,
        label: int,
        pts: bytes,
        lens: bytes,
        pen: float,
        w: int,
        h: int,
        img: np.ndarray,
        created: str,
    ) -> int:
        cur = c.execute(
            "INSERT INTO samples (label, points, stroke_lengths, pen_width, canvas_w, canvas_h, "
            "image, digest, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (label, pts, lens, pen, w, h, img.tobytes(), _digest(label, img, pts, lens), created),
        )
        return int(cur.lastrowid or 0)  # an INSERT always sets it

    @staticmethod
    def _sample(row: tuple) -> SampleRecord:
        """A row as a SampleRecord; _BadRow when any stored value is not what add_sample
        writes (784-byte image, digit 0-9, finite strokes and pen, positive canvas)."""
        label = _stored_label(row[1])
        strokes = _stored_strokes(row[2], row[3])
        pen = _number(row[4])
        if pen is None or not pen > 0 or not np.isfinite(np.float32(pen)):
            raise _BadRow(f"its pen width {row[4]!r} is not a positive float32")
        try:
            size = check_canvas_size((row[5], row[6]))
        except ValueError as exc:
            raise _BadRow(str(exc)) from exc
        img = _stored_image(row[7]).astype(np.float32) / 255.0
        return SampleRecord(
            id=row[0],
            label=label,
            strokes=strokes,
            pen_width=pen,
            canvas_size=size,
            image=img,
            created_at=row[8],
        )

    def list_samples(self, label: int | None = None) -> list[SampleRecord]:
        """All samples (or one digit's), oldest first. Rows that cannot be decoded are
        skipped and listed in `self.skipped`."""
        with self._read() as c:
            if label is None:
                rows = c.execute(f"SELECT {_SAMPLE_COLUMNS} FROM samples ORDER BY id").fetchall()
            else:
                rows = c.execute(
                    f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE label=? ORDER BY id", (check_label(label),)
                ).fetchall()
            return self._decoded("samples", rows, self._sample)

    def get_sample(self, sample_id: int) -> SampleRecord:
        """The sample with this id; KeyError if there is none, StoreError (BAD_ROW) if damaged."""
        with self._read() as c:
            row = c.execute(f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE id=?", (int(sample_id),)).fetchone()
        if row is None:
            raise KeyError(f"no sample with id {sample_id}")
        return self._one("samples", row, self._sample)

    def sample_index(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(ids int64, labels uint8, how many rows were left out) of every sample, by label
        then id: what a list of 100,000 samples needs without decoding a single picture
        (rows whose label is not a digit 0-9 are left out and counted)."""
        # One text of ids per digit, parsed by NumPy: 100,000 Python tuples would keep the GIL
        # (and so the window) busy for a fifth of a second.
        with self._snapshot() as c:
            groups = c.execute(
                "SELECT label, group_concat(id) FROM (SELECT id, label FROM samples "
                "WHERE typeof(label)='integer' AND label BETWEEN 0 AND 9 ORDER BY label, id) "
                "GROUP BY label ORDER BY label"
            ).fetchall()
            bad = c.execute(
                "SELECT COUNT(*) FROM samples WHERE NOT (typeof(label)='integer' AND label BETWEEN 0 AND 9)"
            ).fetchone()[0]
        parts = [np.fromstring(text, np.int64, sep=",") for _label, text in groups if text]
        ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        labels = (
            np.repeat(np.array([g[0] for g in groups if g[1]], np.uint8), [len(p) for p in parts])
            if parts
            else np.zeros(0, np.uint8)
        )
        return ids, labels, int(bad)

    def sample_pictures(self, sample_ids: Sequence[int]) -> dict[int, tuple[np.ndarray | None, str]]:
        """id -> (28x28 uint8 picture, or None when its stored picture is damaged; when it was
        drawn) for these ids (unknown ids are left out): thumbnails, a page at a time."""
        ids = _ids(sample_ids)
        out: dict[int, tuple[np.ndarray | None, str]] = {}
        with self._snapshot() as c:
            for start in range(0, len(ids), 500):  # SQLite's limit on ? parameters is 999+
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                for sid, image, created in c.execute(
                    f"SELECT id, image, created_at FROM samples WHERE id IN ({marks})", part
                ):
                    try:
                        picture: np.ndarray | None = _stored_image(image)
                    except _BadRow:
                        picture = None
                    out[int(sid)] = (picture, str(created or ""))
        return out

    def count_samples(self, label: int) -> int:
        """How many samples of this digit (one index range: quick with 100,000 samples)."""
        with self._read() as c:
            return int(
                c.execute("SELECT COUNT(*) FROM samples WHERE label=?", (check_label(label),)).fetchone()[0]
            )

    def sample_counts(self) -> dict[int, int]:
        """Samples per digit, every digit 0-9 present (zeros included)."""
        counts = dict.fromkeys(range(10), 0)
        with self._read() as c:
            for label, n in c.execute("SELECT label, COUNT(*) FROM samples GROUP BY label"):
                counts[int(label)] = int(n)
        return counts

    def relabel_samples(self, sample_ids: Sequence[int], label: int) -> int:
        """Give all these samples one digit, in ONE transaction (all or nothing); returns how
        many. KeyError naming the unknown ids (nothing changed), ValueError for a bad label."""
        label = check_label(label)
        ids = _ids(sample_ids)
        with self._write() as c:
            rows = [
                c.execute("SELECT points, stroke_lengths, image FROM samples WHERE id=?", (i,)).fetchone()
                for i in ids
            ]
            missing = [i for i, r in zip(ids, rows, strict=True) if r is None]
            if missing:
                raise KeyError(f"no sample with id {', '.join(map(str, missing))}")
            for i, (points, lengths, image) in zip(ids, rows, strict=True):
                img = np.frombuffer(_blob(image), np.uint8)
                c.execute(
                    "UPDATE samples SET label=?, digest=? WHERE id=?",
                    (label, _digest(label, img, _blob(points), _blob(lengths)), i),
                )
        return len(ids)

    def delete_samples(self, sample_ids: Sequence[int]) -> int:
        """Remove all these samples in ONE transaction (all or nothing); returns how many.
        KeyError naming the unknown ids (nothing deleted). Damaged rows can be deleted too."""
        ids = _ids(sample_ids)
        with self._write() as c:
            missing = [i for i in ids if c.execute("DELETE FROM samples WHERE id=?", (i,)).rowcount == 0]
            if missing:  # raising rolls the deletions above back
                raise KeyError(f"no sample with id {', '.join(map(str, missing))}")
        return len(ids)

    def sample_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(images float32 (N, 28, 28) in [0, 1], labels uint8 (N,), ids int64 (N,)), by id:
        ready for training (Trainer's extra_train) and evaluation. Rows that cannot be decoded
        are skipped and listed in `self.skipped`."""
        with self._read() as c:
            rows = c.execute("SELECT id, label, image FROM samples ORDER BY id").fetchall()
            good = self._decoded(
                "samples", rows, lambda r: (int(r[0]), _stored_label(r[1]), _stored_image(r[2]))
            )
        ids = np.array([g[0] for g in good], np.int64)
        labels = np.array([g[1] for g in good], np.uint8)
        images = np.stack([g[2] for g in good]) if good else np.zeros((0, 28, 28), np.uint8)
        return images.astype(np.float32) / 255.0, labels, ids

    # -- export / import ----------------------------------------------------------------------

    def export_samples(self, path: str | os.PathLike) -> int:
        """Write every sample (images, labels, strokes, pens, canvases, dates) to one `.npz`,
        atomically; returns how many. The file loads with allow_pickle=False. Damaged rows are
        left out (listed in `self.skipped`), so the file always imports again."""
        samples = self.list_samples()
        skipped = self.skipped
        bundle = SampleBundle(
            images=np.array([np.round(s.image * 255) for s in samples], np.uint8).reshape(-1, 28, 28),
            labels=np.array([s.label for s in samples], np.uint8),
            strokes=[s.strokes for s in samples],
            pen_widths=np.array([s.pen_width for s in samples], np.float32),
            canvas_sizes=np.array([s.canvas_size for s in samples], np.int32).reshape(-1, 2),
            created_at=[str(s.created_at) for s in samples],
        )
        n = write_samples_file(path, bundle)
        self.skipped = skipped
        return n

    def import_samples(self, path: str | os.PathLike) -> int:
        """Add the samples of a file made by export_samples; returns how many were added.

        The whole file is validated first: a bad or foreign file (SampleFileError, a ValueError
        naming the reason) adds nothing. It is then added in transactions of IMPORT_CHUNK
        samples, so a digit saved meanwhile (the window) never waits for a long import; a
        failure part-way (disk full) keeps the chunks already committed, and importing the file
        again adds the rest. Samples already in the store (same digit, picture and strokes) are
        skipped, so importing a file twice does not double them; a sample the file holds twice
        is added once. `self.last_import` says how many of each (ImportReport).
        """
        bundle = read_samples_file(path)
        rows = []
        for i in range(len(bundle)):
            pts, lens = pack_strokes(bundle.strokes[i])
            rows.append(
                (
                    int(bundle.labels[i]),
                    pts,
                    lens,
                    float(bundle.pen_widths[i]),
                    int(bundle.canvas_sizes[i][0]),
                    int(bundle.canvas_sizes[i][1]),
                    bundle.images[i],
                    bundle.created_at[i] if bundle.created_at else _now(),
                )
            )
        added, present, repeated = 0, 0, 0
        seen: set[str] = set()
        for start in range(0, len(rows), IMPORT_CHUNK):
            with self._write() as c:
                for label, pts, lens, pen, w, h, img, created in rows[start : start + IMPORT_CHUNK]:
                    digest = _digest(label, img, pts, lens)
                    if digest in seen:  # the file holds this sample twice
                        repeated += 1
                        continue
                    seen.add(digest)
                    if c.execute("SELECT 1 FROM samples WHERE digest=? LIMIT 1", (digest,)).fetchone():
                        present += 1
                        continue
                    self._insert_sample(c, label, pts, lens, pen, w, h, img, created)
                    added += 1
            time.sleep(0.001)  # let a waiting writer (a digit key in the window) take its turn
        self.last_import = ImportReport(added, present, repeated)
        return added
