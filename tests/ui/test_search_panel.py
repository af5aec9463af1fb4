"""The Search panel: trials from the study's storage appear, the best-so-far curve, the best trial
offered as a candidate, and bad ranges named in a dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

optuna = pytest.importorskip("optuna")

from kpgui.core.model.run import RunRecord  # noqa: E402
from kpgui.core.model.spec import ModelSpec  # noqa: E402
from kpgui.core.storage.store import Store  # noqa: E402
from kpgui.core.training.search import DEFAULT_WORKERS, SearchSpace, StudyConfig, create_study  # noqa: E402
from kpgui.ui.controllers.search import SearchController  # noqa: E402
from kpgui.ui.panels.search import SearchPanel  # noqa: E402
from kpgui.ui.tasks import Tasks  # noqa: E402


def _trained_elsewhere(storage: str, name: str, values: list[float | None]) -> list[int]:
    """A study whose trials were run by another worker: each finished one a run in History."""
    config = StudyConfig(SearchSpace.parse({"learning_rate": "1e-3..1e-1:log"}), "val_loss", "tpe", 9)
    study = create_study(storage, name, config)
    run_ids = []
    with Store.open_default() as store:
        for value in values:
            trial = study.ask()
            lr = trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True)
            trial.report(1.0, 1)
            if value is None:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                continue
            result = RunRecord(
                ModelSpec(learning_rate=lr),
                {"val_loss": [1.0, value]},
                "finished",
                2,
                1.0,
                100,
                100.0,
                model_path=f"/models/{trial.number}.keras",
                tags={"study": name, "trial": trial.number},
            )
            run_id = store.add_run(result)
            trial.set_user_attr("run_id", run_id)
            trial.set_user_attr("model_path", f"/models/{trial.number}.keras")
            study.tell(trial, value)
            run_ids.append(run_id)
    return run_ids


def test_trials_appear_with_the_best_so_far_and_the_best_is_offered(qtbot, tmp_path):
    storage = str(tmp_path / "s.journal")
    run_ids = _trained_elsewhere(storage, "s", [0.5, None, 0.3, 0.4])
    offered, errors = [], []
    panel = SearchPanel()
    qtbot.addWidget(panel)
    tasks = Tasks(panel)
    controller = SearchController(
        tasks, panel, ModelSpec, offered.append, lambda t, x: errors.append((t, x)), parent=panel
    )
    qtbot.keyClicks(panel.storage_edit, storage)  # a study another machine runs, in shared storage
    qtbot.keyClicks(panel.study_edit, "s")
    qtbot.mouseClick(panel.watch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 4, timeout=10000)
    states = [panel.table.item(i, 1).text() for i in range(4)]
    assert states == ["finished", "pruned", "finished", "finished"]
    assert panel.table.item(2, 0).text() == "#2 ★"  # 0.3 is the lowest validation loss
    xs, ys = panel.curve.getData()
    assert list(xs) == [0, 2, 3] and list(ys) == [0.5, 0.3, 0.3]  # the running minimum
    assert panel.param_combo.currentData() == "learning_rate"
    ys = sorted(float(y) for y in panel.scatter.data["y"])  # the pruned one at its last epoch's metric
    assert ys == [0.3, 0.4, 0.5, 1.0]
    assert sum(b.style() == Qt.BrushStyle.NoBrush for b in panel.scatter.data["brush"]) == 1  # pruned
    assert panel.best_button.isEnabled()
    qtbot.mouseClick(panel.best_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(offered), timeout=10000)
    assert offered[0].id == run_ids[1] and offered[0].model_path == "/models/2.keras"
    assert offered[0].history["val_loss"][-1] == 0.3 and not errors
    controller.shutdown()
    tasks.wait(10)
    tasks.shutdown()


def test_a_diverged_trial_is_shown_as_diverged_without_a_number_and_is_never_the_best(qtbot):
    panel = SearchPanel()
    qtbot.addWidget(panel)
    rows = [
        {
            "trial": 0,
            "state": "finished",
            "params": {"learning_rate": 0.001},
            "value": 0.5,
            "epoch": 2,
            "metric": 0.5,
            "diverged": False,
            "model_path": "/m/0.keras",
        },
        {
            "trial": 1,
            "state": "diverged",
            "params": {"learning_rate": 0.9},
            "value": None,
            "epoch": 1,
            "metric": 2.3,
            "diverged": True,
            "model_path": None,
        },
    ]
    panel.show_trials(rows, "val_loss", rows[0])
    assert [panel.table.item(i, 1).text() for i in range(2)] == ["finished", "diverged"]
    assert panel.table.item(1, 3).text() == ""  # its epoch-1 loss is not its result
    assert panel.table.item(0, 0).text() == "#0 ★"
    xs, ys = panel.curve.getData()
    assert list(xs) == [0] and list(ys) == [0.5]
    assert sorted(float(y) for y in panel.scatter.data["y"]) == [0.5]  # nothing plotted for it


def test_watching_a_study_that_is_not_there_says_so(qtbot, tmp_path):
    errors = []
    panel = SearchPanel()
    qtbot.addWidget(panel)
    tasks = Tasks(panel)
    controller = SearchController(
        tasks, panel, ModelSpec, lambda o: None, lambda t, x: errors.append((t, x)), parent=panel
    )
    qtbot.keyClicks(panel.storage_edit, str(tmp_path / "s.journal"))
    qtbot.keyClicks(panel.study_edit, "nope")
    qtbot.mouseClick(panel.watch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert errors[0][0] == "Study not found" and "no study named 'nope'" in errors[0][1]
    assert controller.study_name is None
    tasks.wait(10)
    tasks.shutdown()


def test_a_bad_range_is_named_in_a_dialog_and_nothing_starts(qtbot, tmp_path):
    errors = []
    panel = SearchPanel()
    qtbot.addWidget(panel)
    tasks = Tasks(panel)
    controller = SearchController(
        tasks,
        panel,
        ModelSpec,
        lambda o: None,
        lambda t, x: errors.append((t, x)),
        storage=str(tmp_path / "s.journal"),
        parent=panel,
    )
    qtbot.keyClicks(panel.edits["learning_rate"], "0.1..0.001")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert errors and "--lr 0.1..0.001: the range's low end must be below its high end" in errors[0][1]
    assert controller.process is None and panel.start_button.isEnabled()
    tasks.shutdown()


def test_the_window_starts_the_measured_number_of_workers_unless_told(qtbot):
    panel = SearchPanel()
    qtbot.addWidget(panel)
    asked = []
    panel.start_requested.connect(lambda ranges, settings: asked.append(settings["workers"]))
    qtbot.keyClicks(panel.edits["learning_rate"], "1e-3..1e-1:log")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert asked == [DEFAULT_WORKERS]  # the same default as kpgui search --workers


@pytest.mark.slow
def test_a_search_from_the_window_shows_its_trial_and_offers_the_best_as_a_candidate(qtbot, app):
    app.panels["training"].set_spec(
        ModelSpec(hidden=(16,), epochs=1, train_samples=1000, validation_split=0.2)
    )
    panel = app.panels["search"]
    qtbot.keyClicks(panel.edits["hidden"], "8/16")
    panel.trials.setValue(1)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=30000)  # appears while running
    qtbot.waitUntil(lambda: panel.start_button.isEnabled() and panel.best_button.isEnabled(), timeout=90000)
    assert panel.table.item(0, 1).text() == "finished" and panel.table.item(0, 0).text() == "#0 ★"
    qtbot.mouseClick(panel.best_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.state.candidate is not None, timeout=30000)
    tags = app.state.candidate.outcome.tags
    assert tags["trial"] == 0 and tags["study"] == app.search.study_name
