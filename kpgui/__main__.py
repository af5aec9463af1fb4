"""`python -m kpgui` does exactly what the `kpgui` command does."""

from kpgui.cli import main

raise SystemExit(main())
