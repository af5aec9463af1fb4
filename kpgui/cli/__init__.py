"""The `kpgui` command: no arguments opens the window; subcommands work without one."""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys

import kpgui
from kpgui.core.display.errors import printable

# Each module has register(subparsers), which adds its parser with set_defaults(run=...).
COMMANDS = ("train", "search", "predict", "evaluate", "runs", "samples", "lesson", "fool")


class CliError(Exception):
    """A problem to report as one clear line (exit code 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpgui",
        description="Draw digits and watch a neural network read them; train it on MNIST. "
        "Run without arguments to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"kpgui {kpgui.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"kpgui.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"kpgui.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush does not complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


QUIET_TF_COMMANDS = ("predict", "evaluate")  # may load a model only Keras runs (train: its own)


def _run_quietly(args: argparse.Namespace) -> int:
    """Run a command that may import TensorFlow with its log lines kept off the terminal: its
    C++ side writes straight to file descriptor 2 (even with TF_CPP_MIN_LOG_LEVEL=3, before
    absl is initialised), so fd 2 goes to a log while Python's own stderr stays the terminal;
    absl's and TensorFlow's Python loggers keep only errors."""
    import logging

    from kpgui.core.storage.paths import log_path
    from kpgui.core.training.worker import stderr_to

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    for name in ("absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    saved = sys.stderr
    with stderr_to(log_path("tensorflow-cli.log")) as terminal:
        if saved is sys.__stderr__:  # Python's own stderr stays the terminal (a caller's stays)
            sys.stderr = terminal
        try:
            return int(args.run(args) or 0)
        finally:
            sys.stderr = saved


def main(argv: list[str] | None = None) -> int:
    """Run the command; every error a person can cause ends in one line and a non-zero exit
    code, never a traceback (set KPGUI_DEBUG=1 to see tracebacks of unexpected errors)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up chatter out
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # the window: no need to import every subcommand to build the parser first
        # The window's NumPy work is small (one drawing at a time): one BLAS thread reads
        # fastest and leaves the cores to the training process (TensorFlow does not use it).
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from kpgui.cli.gui import launch

        return launch()
    _tolerant_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from kpgui.cli.gui import launch

        return launch()
    try:
        if args.command in QUIET_TF_COMMANDS:
            return _run_quietly(args)
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("kpgui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `kpgui runs | head`: the reader has all it wanted
        _quiet_stdout()
        return 0
    except CliError as exc:
        print(f"kpgui {args.command}: {printable(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - errors are for people: one line, no traceback
        if os.environ.get("KPGUI_DEBUG"):
            raise
        from kpgui.core.display.errors import one_line

        print(f"kpgui {args.command}: {printable(one_line(exc, args.command.capitalize()))}", file=sys.stderr)
        return 2


def _tolerant_streams() -> None:
    """A terminal that cannot show a character ("—", "é" on an ASCII console) gets "?" for it,
    instead of a UnicodeEncodeError stopping a batch half-way."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper):  # replaced (tests, embedding): left as it is
            continue
        try:
            stream.reconfigure(errors="replace")
        except (ValueError, OSError):
            pass
