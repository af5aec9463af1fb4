"""The window always starts (issue 25, item 9): every unusable saved setting is replaced by its
default with a note in the status bar; an unusable settings folder means settings are not kept
this session (said once), never a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import close_app, open_app

from kpgui.core.model.spec import ModelSpec

BAD_INIS = {
    "pen width (nan)": "[canvas]\npen_width=nan\n",
    "pen width (1e999)": "[canvas]\npen_width=1e999\n",
    "window geometry": "[settings]\nversion=2\n[window]\ngeometry=hello\nstate=hello\n",
    "the training form": "[training]\nspec="
    + json.dumps(json.dumps({"learning_rate": int("9" * 400), "epochs": 7}))
    + "\n",
    "the training form ": '[training]\nspec="' + "[" * 5000 + "]" * 5000 + '"\n',
    "theme (purple)": "[view]\ntheme=purple\n",
}


def _config() -> Path:
    folder = Path(os.environ["KPGUI_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# One bad setting in the fast lane; every other one, each with two windows, in the slow lane.
FAST_CASE = "the training form"


@pytest.mark.parametrize(
    "what", [w if w == FAST_CASE else pytest.param(w, marks=pytest.mark.slow) for w in BAD_INIS]
)
def test_a_bad_setting_is_reset_with_a_note_and_the_window_starts(qtbot, errors, answers, what):
    (_config() / "kpgui.ini").write_text(BAD_INIS[what])
    app = open_app(qtbot, open_store=False)
    assert app.window.isVisible() and not errors, errors
    assert what.strip() in app.settings_notes, app.settings_notes
    assert "reset to their defaults" in app.settings_notes, app.settings_notes
    assert app.panels["drawing"].pen_spin.value() == 18
    assert app.panels["training"].spec() == ModelSpec(), app.panels["training"].spec()
    close_app(app)  # saving over the bad file works too
    again = open_app(qtbot, open_store=False)
    assert again.settings_notes == "", f"what was saved on closing reads back: {again.settings_notes}"
    close_app(again)


def test_good_settings_still_come_back():
    from kpgui.ui import settings as app_settings

    (_config() / "kpgui.ini").write_text("[canvas]\npen_width=30\n")
    store, problem = app_settings.open_settings()
    notes: list[str] = []
    assert app_settings.load_float(store, "canvas/pen_width", 18, 2, 60, notes) == 30 and problem == ""
    assert notes == [], notes


def test_a_settings_folder_that_is_a_file_means_settings_are_not_kept(qtbot, errors, answers):
    folder = Path(os.environ["KPGUI_CONFIG_DIR"])
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")
    app = open_app(qtbot, open_store=False)
    assert not errors and "not kept" in app.settings_notes and str(folder) in app.settings_notes
    app.panels["drawing"].pen_spin.setValue(33)
    app.save_settings()
    app.save_settings()
    close_app(app)
    assert folder.read_text() == "not a folder"


def test_an_ini_that_is_a_folder_means_settings_are_not_kept():
    from kpgui.ui import settings as app_settings

    (_config() / "kpgui.ini").mkdir()
    store, problem = app_settings.open_settings()
    assert "not kept" in problem and "kpgui.ini" in problem, problem
    store.setValue("canvas/pen_width", 33)  # kept in memory for the session, nothing written
    assert store.value("canvas/pen_width") == 33 and (_config() / "kpgui.ini").is_dir()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_settings_folder_is_said_once(qtbot, errors, answers):
    folder = _config()
    (folder / "kpgui.ini").write_text("[canvas]\npen_width=30\n")
    os.chmod(folder / "kpgui.ini", 0o444)
    os.chmod(folder, 0o555)
    try:
        app = open_app(qtbot, open_store=False)
        assert app.panels["drawing"].pen_spin.value() == 30  # still read
        assert "not kept" in app.settings_notes
        app.save_settings()
        close_app(app)
    finally:
        os.chmod(folder, 0o755)
