"""The app's state, without Qt: what the window shows, in one object that views observe.

Like napari's evented models: each piece of state has an event that fires when it changes;
views subscribe (`state.events.model.connect(view.show_model)`) and never talk to each other.
Controllers change the state; the window's panels only read it and forward what the person
does. Everything here runs in the thread that changes it (the GUI thread in the app), and is
tested without a window.

    model        the model reading the drawing, and where it came from
    drawing      what is on the canvas: its 28x28 image (strokes or a picture) and caption
    reading      the calibrated answer for that drawing ("7, 98 % sure" / "Not sure — 1 or 7?")
    training     whether a run is going, what it is doing, and the stream of its numbers
    candidate    a finished run's model, waiting for the person to keep or discard it
    overlays     past runs whose curves are drawn over the live plots
    run_list     the stored runs as History shows them (read on a thread by the runs controller)
    sample_index the person's samples: ids and labels only (pictures are fetched a page at a
                 time for what is on screen), read on a thread by the sample controller
    candidate_reading, saliency  what the candidate reads / which pixels mattered, for the
                 image on show (computed once per change by the reading controller)

`events.runs` / `events.samples` say "the store changed: read again"; `events.run_list` /
`events.sample_index` carry what was read.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from psygnal import Signal, SignalGroup, SignalInstance

from kpgui.core.model.run import RunRecord
from kpgui.core.reading.confidence import Calibration, Reading, read_images

if TYPE_CHECKING:
    from kpgui.core.model.inference import Predictor


@dataclass(frozen=True)
class CurrentModel:
    """The model in use: its predictor, where it came from (said in the status bar and Model
    info), and the history run it belongs to, if any."""

    predictor: Predictor
    source: str  # "shipped model", "opened digits.keras", "run 12", ...
    run_id: int | None = None

    @property
    def calibration(self) -> Calibration:
        return Calibration.from_card(self.predictor.card)

    @property
    def is_shipped(self) -> bool:
        from kpgui.core.storage.resources import default_model_path

        path = self.predictor.path
        return path is not None and path.resolve() == default_model_path().resolve()


@dataclass(frozen=True)
class Drawing:
    """What the network is asked to read. `image` None = a blank canvas. `strokes` are the
    canvas strokes (kept so a drawing can be saved as a sample), empty for a picture."""

    image: np.ndarray | None = None  # (28, 28) float32 in [0, 1] (the first digit's, if several)
    caption: str = ""
    strokes: tuple = ()
    pen_width: float = 0.0
    canvas_size: tuple[int, int] = (0, 0)
    pieces: tuple = ()  # its digits (kpgui.core.reading.segment.Piece), left to right

    @property
    def blank(self) -> bool:
        return self.image is None or not bool(np.any(self.image))

    @property
    def drawn(self) -> bool:
        """Made of strokes on the canvas (not an imported picture)."""
        return bool(self.strokes)


IDLE, STARTING, RUNNING, STOPPING = "idle", "starting", "running", "stopping"


@dataclass(frozen=True)
class Training:
    """The training run, if any. `kind` is "train", "finetune", "continue" or "sweep"."""

    phase: str = IDLE
    kind: str = ""
    text: str = ""  # what it is doing, for people

    @property
    def busy(self) -> bool:
        return self.phase != IDLE


@dataclass(frozen=True)
class Comparison:
    """A candidate beside the current model, each number measured the same way for both."""

    mnist: tuple[float | None, float | None] = (None, None)  # (current, candidate) test accuracy
    personal: tuple[float | None, float | None] = (None, None)  # on the person's held-out digits
    personal_count: int = 0
    personal_enough: bool = False  # enough held-out digits for the numbers to mean something
    # (current, candidate) share of a fixed set of non-digits answered "not sure"
    # (kpgui.core.model.evaluation.reference_non_digits): what keeping does to "not a digit"
    not_sure: tuple[float | None, float | None] = (None, None)

    @property
    def candidate_not_worse(self) -> bool:
        """Keep is the suggested answer only when the candidate is not worse where it counts:
        MNIST test accuracy, and the person's own digits when there are enough of them."""
        cur, new = self.mnist
        if cur is not None and (new is None or new < cur - 0.0005):
            return False
        if self.personal_enough:
            pc, pn = self.personal
            if pc is not None and (pn is None or pn < pc):
                return False
        return True


@dataclass(frozen=True)
class Candidate:
    """A finished run's model the person has not decided about yet."""

    outcome: RunRecord
    predictor: Any  # its Predictor, loaded from outcome.model_path
    comparison: Comparison | None = None  # None while being measured


@dataclass(frozen=True)
class Saliency:
    """Which pixels pushed the reading of the image on show (kpgui.core.saliency): `heat`
    (28, 28) or None (off, nothing drawn, or unavailable: `message` says why)."""

    heat: np.ndarray | None = None
    message: str = ""


@dataclass(frozen=True)
class SweepProgress:
    """A sweep going (or just finished): which run is on, each finished run's outcome, and a
    colour per run (the live curves and the overlays of that run share it)."""

    sweep: Any  # kpgui.core.training.sweep.Sweep
    index: int  # the run going now (== len(values) when all are done)
    outcomes: tuple[RunRecord | None, ...]  # per value, None until it has run
    colours: tuple[str, ...]
    cancelled: bool = False

    @property
    def done(self) -> bool:
        return self.cancelled or self.index >= len(self.sweep.values)

    @property
    def best(self) -> int | None:
        from kpgui.core.training.sweep import best_index

        return best_index(self.outcomes)

    @property
    def colour(self) -> str | None:
        """The colour of the run going now."""
        return None if self.done else self.colours[self.index]


@dataclass(frozen=True)
class Overlay:
    """A past run drawn over the live plots."""

    run_id: int
    label: str
    history: dict
    colour: str
    layer_stats: dict | None = None  # LayerHistory.to_dict() of the run, if it has them


@dataclass(frozen=True)
class RunList:
    """The stored runs, newest first, with History's names for them."""

    runs: tuple[RunRecord, ...] = ()
    labels: dict = field(default_factory=dict)  # run id -> name saying how it differs
    skipped: int = 0  # damaged records left out
    error: str = ""  # why the runs could not be read, if they could not


@dataclass(frozen=True)
class SampleIndex:
    """Every sample as (id, label), by label then id: enough to list 100,000 of them."""

    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    skipped: int = 0
    error: str = ""

    @property
    def counts(self) -> dict[int, int]:
        """Samples per digit, all ten present."""
        found = np.bincount(self.labels, minlength=10)[:10]
        return {d: int(found[d]) for d in range(10)}


class _ViewSignal(SignalInstance):
    """psygnal's signal, except that a callback that raises is reported through sys.excepthook and
    the others still run: a broken view must not break drawing (psygnal itself stops at the first
    error and raises EmitLoopError out of `emit`, i.e. out of `AppState.set_drawing`).

    It overrides psygnal's loop for its default ("immediate") re-emission; tests/test_state.py
    checks the behaviour, so a psygnal that renames the loop fails there, not silently."""

    def _run_emit_loop_immediate(self) -> None:
        args = self._emit_queue.popleft()
        for caller in list(self._slots):  # a copy: a callback may disconnect itself
            if caller._is_alive():
                try:
                    caller.cb(args)
                except Exception:  # noqa: BLE001 - reported, never swallowed silently
                    sys.excepthook(*sys.exc_info())


def _event(*types: Any) -> Signal:
    """A state event carrying values of `types` (psygnal passes a callback that takes fewer
    arguments only the first ones it takes)."""
    return Signal(*types, signal_instance_class=_ViewSignal)


class StateEvents(SignalGroup):
    """The events of AppState, by name: `state.events.reading.connect(view.show_reading)`.

    All are emitted on the thread that changes the state: the GUI thread in the app (the training
    process's messages and Tasks' results reach it as queued Qt signals first), so callbacks run
    there and need no `thread=`.

    Cost: a set_drawing (drawing + reading events, 12 views, no model) takes 27 us against 3 us
    with the hand-made events this replaced (one core, shared machine): about 1 % of the draw ->
    reading budget of 2 ms, for declared events a type checker can see."""

    model = _event(CurrentModel | None)
    drawing = _event(Drawing)
    reading = _event(Reading | None)
    training = _event(Training)
    run_began = _event(object)  # kpgui.core.training.progress.TrainingStart
    batch = _event(object)  # kpgui.core.training.progress.BatchUpdate
    epoch = _event(object)  # kpgui.core.training.progress.EpochUpdate
    layers = _event(object)  # a run's per-layer numbers (kpgui.core.model.layerstats.LayerStats)
    run_ended = _event(object)  # kpgui.core.model.run.RunRecord
    candidate = _event(Candidate | None)
    overlays = _event(dict)  # run id -> Overlay, all on show
    runs = _event()  # the store's runs changed: read again
    samples = _event()  # the store's samples changed: read again
    message = _event(str, int)  # a status-bar notice and how long it shows (ms; 0 = until cleared)
    sweep = _event(SweepProgress | None)
    one_weight = _event(str)  # what the One weight lesson reached ("diverged")
    run_list = _event(RunList)  # what the runs controller read
    sample_index = _event(SampleIndex)  # what the sample controller read
    candidate_reading = _event(Reading | None)  # what a waiting candidate reads in the image on show
    saliency = _event(Saliency)  # the saliency of the image on show (only while its view wants it)


class AppState:
    """The one state of the window (see the module docstring)."""

    def __init__(self) -> None:
        self.events = StateEvents(self)
        self._model: CurrentModel | None = None
        self._drawing = Drawing()
        self._reading: Reading | None = None
        self._number: Any = None  # NumberReading when the drawing holds several digits
        self._selected = 0  # which of them the preview, bars and saliency show
        self._view_image: np.ndarray | None = None
        self._training = Training()
        self._candidate: Candidate | None = None
        self._overlays: dict[int, Overlay] = {}
        self._sweep: SweepProgress | None = None
        from kpgui.core.display.runnames import RunColours

        self.colours = RunColours()  # one colour per run, everywhere (issue 24)
        self._run_list = RunList()
        self._sample_index = SampleIndex()
        self._candidate_reading: Reading | None = None
        self._saliency = Saliency()
        self.predictions = 0  # how many readings were computed (tests check the coalescing)
        self.last_error = ""  # why the last reading failed, if it did
        self._status_owner = ""  # who said the status bar's notice (see `say`)

    # -- the model ---------------------------------------------------------------------------

    @property
    def model(self) -> CurrentModel | None:
        return self._model

    @property
    def predictor(self) -> Any:
        return None if self._model is None else self._model.predictor

    def set_model(self, model: CurrentModel | None) -> None:
        self._model = model
        self.events.model.emit(model)
        self._update_reading()

    # -- the drawing and its reading -----------------------------------------------------------

    @property
    def drawing(self) -> Drawing:
        return self._drawing

    def set_drawing(self, drawing: Drawing) -> None:
        self._drawing = drawing
        self.events.drawing.emit(drawing)
        self._update_reading()

    @property
    def reading(self) -> Reading | None:
        return self._reading

    def read_with(self, model: CurrentModel | None, image: np.ndarray | None) -> Reading | None:
        """The calibrated reading of `image` by `model` (None: nothing to read, or it failed)."""
        if model is None or image is None or not np.any(image):
            return None
        try:
            reading = read_images(model.predictor, np.asarray(image)[None], model.calibration)[0]
        except Exception as exc:  # noqa: BLE001 - a bad model must not break drawing
            self.last_error = f"Prediction failed: {exc}"
            return None
        if not np.all(np.isfinite(reading.probabilities)):
            self.last_error = "This model gives no valid probabilities (NaN)."
            return None
        return reading

    @property
    def number(self) -> Any:
        """The reading of a number (kpgui.core.reading.segment.NumberReading) when the drawing holds
        several digits, else None (one digit reads as always)."""
        return self._number

    @property
    def selected(self) -> int:
        return self._selected

    @property
    def view_image(self) -> np.ndarray | None:
        """The 28x28 image the preview, bars and saliency show: the drawing's, or the selected
        digit's of a number."""
        return self._view_image

    @property
    def view_piece(self) -> Any:
        """The selected digit of a number (its strokes, box), or None for one digit."""
        return None if self._number is None else self._number.pieces[self._selected]

    def select(self, index: int) -> None:
        """Show digit `index` of the number (preview, bars, saliency)."""
        if self._number is None or not 0 <= index < len(self._number.readings):
            return
        self._selected = index
        self._reading = self._number.readings[index]
        self._view_image = self._number.pieces[index].image
        self.events.reading.emit(self._reading)

    def _read_number(self) -> Any:
        pieces = self._drawing.pieces
        if self._model is None or not (len(pieces) > 1 or any(p.parts for p in pieces)):
            return None
        from kpgui.core.reading.segment import read_number

        try:
            number = read_number(pieces, self._model.predictor, self._model.calibration)
        except Exception as exc:  # noqa: BLE001 - a bad model must not break drawing
            self.last_error = f"Prediction failed: {exc}"
            return None
        if not all(np.all(np.isfinite(r.probabilities)) for r in number.readings):
            self.last_error = "This model gives no valid probabilities (NaN)."
            return None
        return number if len(number.readings) > 1 else None

    def _update_reading(self) -> None:
        self.last_error = ""
        number = self._read_number()
        self._number = number
        if number is not None:
            self._selected = min(self._selected, len(number.readings) - 1)
            self._reading = number.readings[self._selected]
            self._view_image = number.pieces[self._selected].image
        else:
            self._selected = 0
            self._reading = self.read_with(self._model, self._drawing.image)
            self._view_image = self._drawing.image
        if self._reading is not None:
            self.predictions += 1
        self.events.reading.emit(self._reading)

    # -- training --------------------------------------------------------------------------------

    @property
    def training(self) -> Training:
        return self._training

    def set_training(self, training: Training) -> None:
        self._training = training
        self.events.training.emit(training)

    # -- the candidate ---------------------------------------------------------------------------

    @property
    def candidate(self) -> Candidate | None:
        return self._candidate

    def set_candidate(self, candidate: Candidate | None) -> None:
        self._candidate = candidate
        self.events.candidate.emit(candidate)

    # -- sweeps ---------------------------------------------------------------------------------

    @property
    def sweep(self) -> SweepProgress | None:
        return self._sweep

    def set_sweep(self, sweep: SweepProgress | None) -> None:
        self._sweep = sweep
        self.events.sweep.emit(sweep)

    # -- overlays --------------------------------------------------------------------------------

    @property
    def overlays(self) -> dict[int, Overlay]:
        return dict(self._overlays)

    def set_overlay(self, overlay: Overlay | None, run_id: int | None = None) -> None:
        """Add or replace an overlay, or remove the one of `run_id` (overlay None)."""
        if overlay is not None:
            self._overlays[overlay.run_id] = overlay
        elif run_id is not None:
            self._overlays.pop(run_id, None)
        self.events.overlays.emit(self.overlays)

    def colours_in_use(self, except_run: int | None = None) -> set[str]:
        """Colours of the runs on screen: overlays, and a sweep's runs while it goes."""
        used = {o.colour for rid, o in self._overlays.items() if rid != except_run}
        if self._sweep is not None and not self._sweep.done:
            used |= set(self._sweep.colours)
        return used

    def run_colour(self, run_id: int) -> str:
        """The colour of a run, distinct from every other run on screen."""
        return self.colours.pick(run_id, self.colours_in_use(run_id))

    # -- notices ---------------------------------------------------------------------------------

    def say(self, text: str, ms: int = 6000, owner: str = "") -> None:
        """A short notice for the status bar. `owner` names who clears it with `unsay` (a
        "Reading…"/"Saving…" note is cleared when that work ends; ms=0 keeps it until then)."""
        self._status_owner = owner
        self.events.message.emit(text, ms)

    def unsay(self, owner: str) -> None:
        """Clear the status bar's notice if `owner` said it last (nothing else is touched)."""
        if owner and self._status_owner == owner:
            self._status_owner = ""
            self.events.message.emit("", 0)

    def runs_changed(self) -> None:
        self.events.runs.emit()

    def samples_changed(self) -> None:
        self.events.samples.emit()

    # -- what the store holds (read on threads by the controllers) ----------------------------

    @property
    def run_list(self) -> RunList:
        return self._run_list

    def set_run_list(self, runs: RunList) -> None:
        self._run_list = runs
        self.events.run_list.emit(runs)

    @property
    def sample_index(self) -> SampleIndex:
        return self._sample_index

    def set_sample_index(self, index: SampleIndex) -> None:
        self._sample_index = index
        self.events.sample_index.emit(index)

    # -- what the reading controller derives from the image on show ---------------------------

    @property
    def candidate_reading(self) -> Reading | None:
        """The waiting candidate's reading of `view_image` (None: no candidate or nothing to read)."""
        return self._candidate_reading

    def set_candidate_reading(self, reading: Reading | None) -> None:
        self._candidate_reading = reading
        self.events.candidate_reading.emit(reading)

    @property
    def saliency(self) -> Saliency:
        return self._saliency

    def set_saliency(self, saliency: Saliency) -> None:
        self._saliency = saliency
        self.events.saliency.emit(saliency)
