"""Lesson files: a guided tour as a small JSON file a teacher can write, checked before use.

    {"format": "kpgui-lesson/1", "id": "my-class", "title": "Learning rates",
     "description": "optional, one paragraph",
     "steps": [
       {"title": "Too small, too big",
        "text": "Plain text or a little HTML: <b>, <i>, <code>, <br>, <p>, <ul>, <li> ...",
        "tab": "Training",                                   (optional: the tab to open)
        "form": {"optimizer": "sgd", "learning_rate": 1.0},  (optional: the training form)
        "highlight": ["optimizer", "learning_rate"],        (optional: controls to point at)
        "task": {"event": "run_diverged",                   (optional: the "try this" task)
                 "text": "Raise the learning rate until a run diverges."}}]}

A step's `form` is applied over the classic recipe (ModelSpec defaults), so a step always
arranges the same form; its values are checked by the one declaration of the options
(kpgui.core.model.options via ModelSpec), unknown names refused. A task is one of `TASKS`, each an
event the app can recognise; `count` (how many times, or samples), `confidence` (drawing_read)
and `spec` (the run's settings must have these values) refine it.

A file is read with a size bound and its nesting counted before parsing (kpgui.core.storage.bounded);
anything wrong is one `LessonError` naming the line, the field and what to write instead.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kpgui.core.model.options import BY_NAME, OPTIONS
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.bounded import json_depth

FORMAT = "kpgui-lesson/1"
MAX_BYTES = 128 * 1024  # the built-in tour is ~8 kB
MAX_DEPTH = 8  # root { steps [ step { task { spec { hidden [ ... at most 6
MAX_STEPS = 40
MAX_TEXT = 4000  # characters of one step's text
MAX_TITLE = 120
MAX_COUNT = 1000

# The fixed list of checkable events: name -> what completes it (said in the README and the panel).
TASKS: dict[str, str] = {
    "run_finished": "a training run ends",
    "run_overfits": "a run ends whose validation loss rose while its training loss fell, "
    "in at least 2 epochs",
    "run_diverged": "a run diverges (its loss becomes NaN or explodes)",
    "early_stopped": "a run is ended by early stopping",
    "sweep_finished": "a sweep (Compare values) runs all its values",
    "sample_saved": "you save `count` samples of your handwriting",
    "one_weight_diverged": "the One weight lesson's weight diverges",
    "drawing_read": "the model reads a digit you drew, sure of it, with at least `confidence`",
}
RUN_TASKS = ("run_finished", "run_overfits", "run_diverged", "early_stopped")

# Controls a step may point at: every option in the training form, and these.
EXTRA_CONTROLS: dict[str, str] = {
    "start": "the Start training button",
    "stop": "the Stop button",
    "sweep": "the Compare values (sweep) box",
    "sweep_preset": "the Compare learning rates (SGD: 1e-6, 0.01, 1) button",
    "canvas": "the drawing canvas",
    "sample_bar": "the Save as sample buttons under the canvas",
    "prediction": "the prediction panel beside the canvas",
}
CONTROLS: tuple[str, ...] = tuple(o.name for o in OPTIONS if o.in_form) + tuple(EXTRA_CONTROLS)

# Tabs of the window a step may open (the window checks its real tabs again when applying).
KNOWN_TABS = (
    "Lessons",
    "One weight",
    "Training",
    "History",
    "Evaluation",
    "Weights",
    "How it sees",
    "My digits",
)

ALLOWED_TAGS = frozenset(
    {"b", "i", "u", "em", "strong", "code", "tt", "br", "p", "ul", "ol", "li", "sub", "sup"}
)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)([^>]*)>")
_ID = re.compile(r"[^a-z0-9]+")

_LESSON_KEYS = {"format", "id", "title", "description", "steps"}
_STEP_KEYS = {"title", "text", "tab", "form", "highlight", "task"}
_TASK_KEYS = {"event", "text", "count", "confidence", "spec"}


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file, the place and the fix."""


@dataclass(frozen=True)
class Task:
    """A step's "try this": an event from TASKS, said to the learner as `text`."""

    event: str
    text: str
    count: int = 1
    confidence: float = 0.9
    spec: dict = field(default_factory=dict)  # option -> value the run must have (run tasks)

    @property
    def needs(self) -> str:
        """What completes it, in words (shown under the task)."""
        text = (
            TASKS[self.event]
            .replace("`count`", str(self.count))
            .replace("`confidence`", f"{100 * self.confidence:g} %")
        )
        if self.spec:
            text += " with " + ", ".join(BY_NAME[k].tag(v) for k, v in self.spec.items())
        if self.count > 1 and self.event != "sample_saved":
            text += f" ({self.count} times)"
        return text


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    tab: str = ""
    form: dict = field(default_factory=dict)  # option -> value, each already checked
    highlight: tuple[str, ...] = ()
    task: Task | None = None

    def spec(self) -> ModelSpec | None:
        """The training form this step arranges (None: it leaves the form alone)."""
        return ModelSpec().replace(**self.form) if self.form else None


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    steps: tuple[Step, ...]
    description: str = ""
    source: str = ""  # the file it came from


# -- reading ----------------------------------------------------------------------------------------


def load_lesson(path: str | os.PathLike, tabs: tuple[str, ...] | list[str] = KNOWN_TABS) -> Lesson:
    """Read and check a lesson file; LessonError naming the file, the place and the cause."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise LessonError(
                f"{p.name} is {size // 1024:,} kB: too big for a lesson file (at most "
                f"{MAX_BYTES // 1024} kB; a lesson of 40 steps is about 30 kB)."
            )
        with open(p, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LessonError(f"{p}: cannot be read ({exc.strerror or exc}).") from None
    if len(raw) > MAX_BYTES:  # it grew while being read
        raise LessonError(f"{p.name} is too big for a lesson file (at most {MAX_BYTES // 1024} kB).")
    return parse_lesson(raw, p.name, tabs=tabs, default_id=p.stem)


def parse_lesson(
    raw: bytes, name: str = "the lesson", tabs: tuple[str, ...] | list[str] = KNOWN_TABS, default_id: str = ""
) -> Lesson:
    """A Lesson from a file's bytes (see the module docstring), or LessonError."""
    if len(raw) > MAX_BYTES:
        raise LessonError(f"{name} is too big for a lesson file (at most {MAX_BYTES // 1024} kB).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LessonError(
            f"{name}, line {line}: the file is not UTF-8 text (byte "
            f"0x{raw[exc.start]:02x}); save it as UTF-8."
        ) from None
    depth = json_depth(text.encode("utf-8"))  # counted before parsing: json recurses
    if depth > MAX_DEPTH:
        raise LessonError(
            f"{name}: its JSON is nested {depth:,} levels deep; a lesson nests at most {MAX_DEPTH}."
        )
    try:
        data = _LineDecoder().decode(text)
    except json.JSONDecodeError as exc:
        raise LessonError(
            f"{name}, line {exc.lineno}, column {exc.colno}: not valid JSON "
            f"({exc.msg}). Check the commas, quotes and brackets there."
        ) from None
    return _Reader(name, tuple(tabs)).lesson(data, default_id)


class _Object(dict):
    """A JSON object that knows the line it starts on (for messages)."""

    line = 0


class _LineDecoder(json.JSONDecoder):
    """json's own pure-Python decoder, with each object remembering its line (the nesting is
    bounded before this runs, so its recursion is too)."""

    def __init__(self) -> None:
        super().__init__()

        def parse_object(s_and_end, *args, **kwargs):
            text, start = s_and_end
            obj, end = json.decoder.JSONObject(s_and_end, *args, **kwargs)
            out = _Object(obj)
            out.line = text.count("\n", 0, start) + 1
            return out, end

        self.parse_object = parse_object
        # The pure-Python scanner: the C one never calls parse_object. Typeshed declares only
        # make_scanner, though json.scanner has had py_make_scanner since Python 2.6.
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


class _Reader:
    """Checks a parsed lesson value by value; every problem names its place ("step 3, task")."""

    def __init__(self, name: str, tabs: tuple[str, ...]) -> None:
        self.name = name
        self.tabs = tabs
        self.at: Any = None  # the object being read (its line goes into messages)

    def fail(self, where: str, why: str) -> LessonError:
        line = self.at.line if isinstance(self.at, _Object) else 0
        return LessonError(f"{self.name}, " + (f"line {line}, " if line else "") + f"{where}: {why}")

    def keys(self, obj: Any, allowed: set[str], where: str) -> dict:
        if not isinstance(obj, dict):
            raise self.fail(where, f"expected an object {{...}}, found {_kind(obj)}.")
        self.at = obj
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise self.fail(
                where, f"unknown field {unknown[0]!r}; the fields are {', '.join(sorted(allowed))}."
            )
        return obj

    def text(
        self,
        obj: dict,
        key: str,
        where: str,
        required: bool = True,
        limit: int = MAX_TEXT,
        html: bool = False,
    ) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"the field {key!r} is missing (it is required).")
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{where}, {key}", f"expected text in quotes, found {_kind(value)}.")
        value = value.strip()
        if required and not value:
            raise self.fail(f"{where}, {key}", "is empty.")
        if len(value) > limit:
            raise self.fail(f"{where}, {key}", f"is {len(value):,} characters long (at most {limit:,}).")
        if html:
            for m in _TAG.finditer(value):
                tag = m.group(2).lower()
                if tag not in ALLOWED_TAGS:
                    raise self.fail(
                        f"{where}, {key}",
                        f"<{tag}> is not allowed in lessons; use "
                        f"{', '.join('<' + t + '>' for t in sorted(ALLOWED_TAGS))}.",
                    )
                if m.group(3).strip().rstrip("/").strip():
                    raise self.fail(
                        f"{where}, {key}",
                        f"<{tag}> has attributes ({m.group(3).strip()}); lesson text allows none.",
                    )
        return value

    def lesson(self, data: Any, default_id: str) -> Lesson:
        self.keys(data, _LESSON_KEYS, "the lesson")
        fmt = data.get("format")
        if fmt != FORMAT:
            if isinstance(fmt, str) and fmt.startswith("kpgui-lesson/"):
                raise self.fail("format", f"{fmt!r} was made for a newer kpgui; update kpgui.")
            raise self.fail("format", f'a lesson file starts with "format": "{FORMAT}" (found {fmt!r}).')
        title = self.text(data, "title", "the lesson", limit=MAX_TITLE)
        description = self.text(data, "description", "the lesson", required=False, html=True)
        raw_id = data.get("id", default_id or title)
        if not isinstance(raw_id, str) or not _ID.sub("-", raw_id.lower()).strip("-"):
            raise self.fail("id", 'expected a short name of letters and digits, e.g. "my-class".')
        lesson_id = _ID.sub("-", raw_id.lower()).strip("-")[:64]
        self.at = data
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            raise self.fail("steps", "expected a list of steps [{...}, ...] with at least one step.")
        if len(steps) > MAX_STEPS:
            raise self.fail("steps", f"{len(steps)} steps; a lesson has at most {MAX_STEPS}.")
        return Lesson(lesson_id, title, tuple(self.step(s, i + 1) for i, s in enumerate(steps)), description)

    def step(self, obj: Any, n: int) -> Step:
        where = f"step {n}"
        self.keys(obj, _STEP_KEYS, where)
        title = self.text(obj, "title", where, limit=MAX_TITLE)
        where = f"step {n} ({title!r})"
        text = self.text(obj, "text", where, html=True)
        tab = self.text(obj, "tab", where, required=False, limit=MAX_TITLE)
        if tab and tab not in self.tabs:
            raise self.fail(f"{where}, tab", f"there is no tab {tab!r}; the tabs are {', '.join(self.tabs)}.")
        form = self.form(obj.get("form"), f"{where}, form") if obj.get("form") is not None else {}
        self.at = obj
        highlight = obj.get("highlight", [])
        if isinstance(highlight, str):
            highlight = [highlight]
        if not isinstance(highlight, list) or not all(isinstance(h, str) for h in highlight):
            raise self.fail(f"{where}, highlight", "expected a list of control names in quotes.")
        for h in highlight:
            if h not in CONTROLS:
                raise self.fail(
                    f"{where}, highlight",
                    f"there is no control {h!r}; the controls are {', '.join(CONTROLS)}.",
                )
        task = self.task(obj["task"], f"{where}, task") if obj.get("task") is not None else None
        return Step(title, text, tab, form, tuple(dict.fromkeys(highlight)), task)

    def form(self, obj: Any, where: str) -> dict:
        """Option name -> value, each checked by its declaration; the whole form by ModelSpec."""
        if not isinstance(obj, dict):
            raise self.fail(where, f"expected an object of option names and values, found {_kind(obj)}.")
        self.at = obj
        unknown = sorted(set(obj) - set(BY_NAME))
        if unknown:
            raise self.fail(where, f"unknown option {unknown[0]!r}; the options are {', '.join(BY_NAME)}.")
        try:
            spec = ModelSpec.from_dict(obj, strict=True)
        except ValueError as exc:
            raise self.fail(where, f"{exc}.") from None
        values = {
            name: int(spec.value(name))
            if BY_NAME[name].kind is int and spec.value(name) is not None
            else spec.value(name)
            for name in obj
        }
        errors = ModelSpec().replace(**values).errors()
        if errors:
            key, why = next(iter(errors.items()))
            raise self.fail(where, f"{key}: {why}.")
        return values

    def task(self, obj: Any, where: str) -> Task:
        self.keys(obj, _TASK_KEYS, where)
        event = obj.get("event")
        if event not in TASKS:
            raise self.fail(
                f"{where}, event", f"{event!r} is not a task kpgui can check; use one of {', '.join(TASKS)}."
            )
        text = self.text(obj, "text", where, limit=MAX_TITLE * 4, html=True)
        count = obj.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            raise self.fail(f"{where}, count", f"expected a whole number from 1 to {MAX_COUNT}.")
        confidence = obj.get("confidence", 0.9)
        if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 < confidence <= 1:
            raise self.fail(f"{where}, confidence", "expected a number above 0 and at most 1, e.g. 0.9.")
        spec = {}
        if obj.get("spec") is not None:
            if event not in RUN_TASKS:
                raise self.fail(
                    f"{where}, spec", f"only run tasks ({', '.join(RUN_TASKS)}) look at a run's settings."
                )
            spec = self.form(obj["spec"], f"{where}, spec")
        return Task(event, text, count, float(confidence), spec)


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


# -- the built-in lessons ----------------------------------------------------------------------------


def builtin_lessons() -> list[Lesson]:
    """The lessons shipped in kpgui/core/lessons/builtin/ (package data), in file-name order."""
    folder = resources.files("kpgui.core.lessons").joinpath("builtin")
    out = []
    for ref in sorted((r for r in folder.iterdir() if r.name.endswith(".json")), key=lambda r: r.name):
        stem = ref.name[: -len(".json")]
        out.append(parse_lesson(ref.read_bytes(), ref.name, default_id=stem))
    return out
