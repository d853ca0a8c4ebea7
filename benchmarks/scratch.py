"""A scenario store and a disk cache of a benchmark's own, never the user's.

The dashboard saves every edit as a scenario version and caches computed inputs
on disk; a benchmark's edits and caches go to a temporary folder removed at its
end (``GRIDPLAN_STORE`` and ``GRIDPLAN_CACHE_DIR`` are set for the servers and
processes it starts).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

STORE_ENV = "GRIDPLAN_STORE"
CACHE_ENV = "GRIDPLAN_CACHE_DIR"


@contextlib.contextmanager
def scratch_dirs() -> Iterator[Path]:
    """Point the store and the disk cache at a new temporary folder (yielded) meanwhile."""
    folder = Path(tempfile.mkdtemp(prefix="gridplan-bench-"))
    saved = {k: os.environ.get(k) for k in (STORE_ENV, CACHE_ENV)}
    (folder / "cache").mkdir()
    os.environ[STORE_ENV] = str(folder / "scenarios.sqlite")
    os.environ[CACHE_ENV] = str(folder / "cache")
    try:
        yield folder
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(folder, ignore_errors=True)
