"""`python -m kpgui` does exactly what the `kpgui` command does."""

from kpgui.cli import main

if __name__ == "__main__":  # not when the training process (multiprocessing "spawn") imports it
    raise SystemExit(main())
