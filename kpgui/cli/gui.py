"""Opening the window from the command line, with a clear message when Qt cannot start."""

from __future__ import annotations

import sys

QT_LIBRARIES = ("libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 "
                "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0")


def launch() -> int:
    try:
        from kpgui.ui.app import run_app
    except ImportError as exc:
        print(
            f"kpgui: the window cannot open ({exc}). On Debian/Ubuntu install Qt's system "
            f"libraries: sudo apt-get install {QT_LIBRARIES}. Reinstall kpgui with "
            "`pip install -e .` if that is not it. `kpgui train`, `kpgui predict` and "
            "`kpgui evaluate` work without the window.",
            file=sys.stderr,
        )
        return 1
    return run_app(sys.argv[:1])
