"""Fixture for the window tests: a shown MainWindow with the shipped default model."""

from __future__ import annotations

import pytest

from kpgui.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    """The main window with the shipped default model, shown offscreen."""
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    session = w.training_session
    if session is not None:  # never leave a training thread behind
        session.stop(abort=True)
        assert session.wait(60000)
