"""Runs told apart: one colour per run from one palette, names by what differs, epochs in words."""

from types import SimpleNamespace

from kpgui.core.display.runnames import RUN_COLOURS, RunColours, epochs_text, run_labels
from kpgui.core.model.spec import ModelSpec
from kpgui.core.state import AppState, Overlay


def test_a_run_keeps_its_colour_and_runs_on_screen_never_share_one():
    state = AppState()
    sweep_colours = state.colours.fresh(3, state.colours_in_use())
    assert len(set(sweep_colours)) == 3 and set(sweep_colours) <= set(RUN_COLOURS)
    state.colours.bind(11, sweep_colours[0])  # the sweep's first run finished as run 11
    state.set_overlay(Overlay(11, "lr 1e-06", {}, sweep_colours[0]))
    assert state.run_colour(11) == sweep_colours[0]  # History shows it in the sweep's colour
    other = state.run_colour(4)  # a run ticked in History meanwhile
    assert other not in sweep_colours[:1]
    state.set_overlay(Overlay(4, "run 4", {}, other))
    shown = [state.run_colour(i) for i in (11, 4)] + [state.run_colour(5)]
    assert len(set(shown)) == 3
    # Ten runs on screen use ten colours.
    book = RunColours()
    used: set[str] = set()
    for run_id in range(10):
        used.add(book.pick(run_id, used))
    assert len(used) == 10


def test_names_tell_runs_apart_and_epochs_read_as_words():
    runs = [
        SimpleNamespace(
            id=i, name=None, kind="train", test_accuracy=acc, spec=ModelSpec(learning_rate=lr, optimizer=opt)
        )
        for i, (lr, opt, acc) in enumerate(
            [(0.01, "sgd", 0.972), (0.1, "sgd", 0.95), (1.0, "sgd", 0.1135), (0.01, "adam", 0.98)]
        )
    ]
    labels = run_labels(runs)
    assert len(set(labels.values())) == 4
    assert labels[0].startswith("lr 0.01") and labels[0].endswith("· 97.2 %")
    assert epochs_text(3, 3) == "3 of 3"
    assert epochs_text(2, 3, stopped_early=True) == "2 of 3 (stopped)"
    assert epochs_text(1, 3, status="diverged") == "1 of 3 (diverged)"
    assert epochs_text(3, 1) == "3"  # a continued run counts all its epochs
