"""Fixtures of the window tests: the whole app as the composition root builds it, shown
offscreen, with dialogs recorded instead of shown."""

from __future__ import annotations

import pytest

from kpgui.ui import dialogs


@pytest.fixture
def errors(monkeypatch):
    """Error dialogs recorded as (title, text) instead of shown."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: calls.append((title, text)))
    return calls


@pytest.fixture
def answers(monkeypatch):
    """Yes/no questions recorded; the answer is `answers.yes` (default: no)."""

    class Answers(list):
        yes = False

    asked = Answers()

    def ask(parent, title, text, yes="Yes"):
        asked.append((title, text))
        return asked.yes

    monkeypatch.setattr(dialogs, "ask_yes_no", ask)
    return asked


def open_app(qtbot, **kwargs):
    """The app (kpgui.ui.app.App), shown, with everything built."""
    from kpgui.ui import settings as app_settings
    from kpgui.ui.app import build_app, make_qapp

    make_qapp()
    # No warm training process unless a test asks for one (keep_warm=True): each costs seconds
    # of CPU and half a gigabyte on a machine the tests share.
    store = app_settings.settings()
    store.setValue("training/keep_warm", bool(kwargs.pop("keep_warm", False)))
    store.sync()
    app = build_app(**kwargs)
    qtbot.addWidget(app.window)
    with qtbot.waitSignal(app.built.done, timeout=10000):
        app.window.show()
    qtbot.waitExposed(app.window)
    return app


def close_app(app) -> None:
    """Close without questions: stop any run, end background work."""
    app.window.close_guard = lambda: True
    app.tasks.wait(30)
    app.window.close()
    app.tasks.shutdown()


@pytest.fixture
def app(qtbot, errors, answers):
    a = open_app(qtbot)
    yield a
    close_app(a)
