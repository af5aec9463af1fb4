"""Fixtures of the insight tests (helpers live in insight_helpers.py)."""

from __future__ import annotations

import pytest
from insight_helpers import close_window, open_window


@pytest.fixture
def win(qtbot):
    """(MainWindow with the shipped model and the insight panels installed, Insight), shown."""
    w, insight = open_window(qtbot)
    yield w, insight
    close_window(w)
