"""Opening the window from the command line, with a clear message when Qt cannot start."""

from __future__ import annotations

import sys


def launch() -> int:
    try:
        from kpgui.ui.app import run_app
    except ImportError as exc:
        print(
            f"kpgui: the window cannot open ({exc}). Reinstall with `pip install -e .`; the "
            "commands `kpgui train`, `kpgui predict` and `kpgui evaluate` work without it.",
            file=sys.stderr,
        )
        return 1
    return run_app(sys.argv[:1])
