"""The house rules that keep the code findable, checked so they cannot rot:

* `kpgui/core` imports no Qt and nothing from the UI — not at the top of a module and not
  lazily inside a function (the same check import-linter would make, on every import
  statement of every core module);
* the command-line tools that need no window never load Qt;
* the shipped files live inside the package and are found with importlib.resources;
* the public API is `kpgui.core`, with no re-export modules beside it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kpgui

PACKAGE = Path(kpgui.__file__).resolve().parent
CORE = PACKAGE / "core"
FORBIDDEN = (
    "PySide6",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "shiboken6",
    "pyqtgraph",
    "qtpy",
    "kpgui.ui",
    "kpgui.cli",
)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement in `path` names, with its line (nested ones too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.append((node.lineno, str(node.args[0].value)))
    return found


def test_core_imports_no_qt_and_no_ui_even_lazily():
    offences = []
    for path in sorted(CORE.rglob("*.py")):
        for line, module in _imports(path):
            if any(module == f or module.startswith(f + ".") for f in FORBIDDEN):
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert offences == []


def test_the_check_catches_a_lazy_qt_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from PySide6.QtCore import QStandardPaths\n")
    assert (2, "PySide6.QtCore") in _imports(sneaky)


def test_importing_every_core_module_loads_no_qt_and_no_tensorflow():
    modules = sorted(
        "kpgui.core." + ".".join(p.relative_to(CORE).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if p.name != "__init__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = [m for m in ('PySide6', 'pyqtgraph', 'tensorflow', 'keras') if m in sys.modules]\n"
        "print(bad)\nsys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


COMMANDS = [["runs"], ["samples"], ["evaluate", "--help"], ["predict", "--help"], ["train", "--help"]]


def test_command_line_tools_load_no_qt(tmp_path):
    """Each command in turn in one fresh interpreter (modules only accumulate, so the first
    command after which Qt is loaded is the one that loaded it)."""
    import json
    import os

    code = (
        "import json, sys\nfrom kpgui.cli import main\n"
        "for args in json.loads(sys.argv[1]):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "    qt = any(m in sys.modules for m in ('PySide6', 'pyqtgraph'))\n"
        "    print('QT' if qt else 'NO_QT', ' '.join(args), flush=True)\n"
    )
    env = {
        "KPGUI_DATA_DIR": str(tmp_path / "d"),
        "KPGUI_CONFIG_DIR": str(tmp_path / "c"),
        "PATH": "/usr/bin:/bin",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith(("PYTHON", "VIRTUAL"))})
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(COMMANDS)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    said = [line for line in out.stdout.splitlines() if line.startswith(("QT ", "NO_QT "))]
    assert said == [f"NO_QT {' '.join(args)}" for args in COMMANDS], out.stdout + out.stderr


def test_shipped_files_live_in_the_package():
    from importlib import resources

    from kpgui.core.storage.resources import default_model_path

    assert (resources.files("kpgui") / "resources" / "models" / "default.keras").is_file()
    assert default_model_path().is_relative_to(PACKAGE)
    assert (PACKAGE / "resources" / "icons" / "kpgui.svg").is_file()


def test_the_public_api_is_kpgui_core_without_re_export_modules():
    import kpgui.core as core

    for name in core.__all__:
        assert hasattr(core, name), name
    leftovers = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert leftovers == []
