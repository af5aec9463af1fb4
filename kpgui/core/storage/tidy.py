"""Nothing orphaned: what a crash or kill -9 can leave in kpgui's folders, cleaned with a line
saying so. `kpgui train` and `kpgui runs` call `tidy_data_folder` (the window should call it
once at start, off the GUI thread); `kpgui train` also cleans its --out folder.

* Temporary files of saves whose process is gone (kpgui.core.storage.atomic.clean_stale_temp_files),
  in the models folder and in any folder a save went to.
* Model files in the models folder that no run in the history points to (a run killed between
  saving its model and recording it), once they are an hour old (Store.clean_orphan_models).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kpgui.core.storage.atomic import clean_stale_temp_files


def _folder_of(path: str | os.PathLike) -> Path:
    folder = Path(path).expanduser().parent
    return folder if str(folder) else Path(".")


def tidy_out_folder(out: str | os.PathLike) -> list[str]:
    """Remove leftover temporary files of interrupted saves beside `out`; lines saying so."""
    removed = clean_stale_temp_files(_folder_of(out))
    return (
        [f"removed {len(removed)} unfinished save(s) left in {_folder_of(out)} by an interrupted kpgui"]
        if removed
        else []
    )


def tidy_data_folder(store: Any) -> list[str]:
    """Clean kpgui's models folder (temporary files, models no run points to); lines saying
    what went. Never raises: tidying must not stop anything."""
    lines: list[str] = []
    try:
        from kpgui.core.storage.paths import models_dir

        folder = models_dir()
        temps = clean_stale_temp_files(folder)
        if temps:
            lines.append(f"removed {len(temps)} unfinished save(s) left in {folder} by an interrupted kpgui")
        orphans = store.clean_orphan_models()
        if orphans:
            names = ", ".join(p.name for p in orphans[:3]) + (" …" if len(orphans) > 3 else "")
            lines.append(
                f"removed {len(orphans)} model file(s) in {folder} that no run in the "
                f"history points to (saved by runs that were never recorded): {names}"
            )
    except Exception:  # noqa: BLE001 - tidying never stops kpgui
        pass
    return lines
