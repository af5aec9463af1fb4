"""Opening the window from the command line, with a clear message when Qt cannot start."""

from __future__ import annotations

import os
import sys

QT_LIBRARIES = (
    "libegl1 libgl1 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 libx11-6 "
    "libx11-xcb1 libxkbcommon0 libxkbcommon-x11-0 libxcb1 libxcb-cursor0 "
    "libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 "
    "libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1"
)


def xcb_problem() -> str | None:
    """On Linux X11, load Qt's xcb platform plugin the way Qt will; the missing system library
    it names, or None. (When it is missing Qt itself aborts, and its message often blames
    another library.)"""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    if os.environ.get("QT_QPA_PLATFORM", "xcb").split(":")[0] != "xcb":
        return None
    import ctypes
    from pathlib import Path

    try:
        import PySide6
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return str(exc).split(":")[0]
    return None


def launch() -> int:
    missing = xcb_problem()
    if missing:
        print(
            f"kpgui: the window cannot open: Qt's X11 support needs {missing}, which is not "
            f"installed. On Debian/Ubuntu: sudo apt-get install {QT_LIBRARIES}. "
            "(`kpgui train`, `predict` and `evaluate` work without the window.)",
            file=sys.stderr,
        )
        return 1
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
