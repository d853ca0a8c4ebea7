"""Import the dashboard's libraries while the server starts, before the first visitor.

``streamlit run`` imports a page's modules (geopandas, shapely, pyproj, the
library, the panels: about 2 s here) only when the first session runs its
script, so the first planner waits for them after the browser has already loaded
the page.  The launcher (:mod:`ui.serve`) starts :func:`start` beside the server:
a thread that waits for Streamlit's runtime (caches declared before it exists
would not use the server's cache storage), then imports every module ``app.py``
and ``pages/`` import.  The first script run calls :func:`join` before its own
imports, so a module is never imported by two threads at once.  (A page run directly, in
Streamlit's legacy pages mode for the first deep link of a new server, may import beside
the thread: safe while no two modules import each other as they load, which
``tests/test_preload.py`` checks.)  Without the
launcher (``streamlit run app.py``, AppTest) nothing is started and
:func:`join` returns at once.
"""

from __future__ import annotations

import ast
import importlib
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Longest wait for Streamlit's runtime before the libraries are imported anyway.
RUNTIME_WAIT_S = 30.0
#: Printed (with the seconds) when the libraries are loaded; the benchmarks wait for it.
READY_LINE = "GridPlan: libraries loaded"

_thread: threading.Thread | None = None


def page_modules(root: Path = ROOT) -> list[str]:
    """The absolute imports of ``app.py`` and ``pages/*.py``, as importable module names."""
    names: list[str] = []
    for path in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names += [f"{node.module}.{alias.name}" for alias in node.names]
    return list(dict.fromkeys(names))


def _import(name: str) -> None:
    """Import ``name``, or its parent when ``name`` is an attribute (``from x import f``)."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        parent = name.rpartition(".")[0]
        if parent:
            importlib.import_module(parent)


def _wait_for_runtime() -> None:
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + RUNTIME_WAIT_S
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _preload() -> None:
    t0 = time.perf_counter()
    _wait_for_runtime()
    for name in page_modules():
        try:
            _import(name)
        except Exception:  # the page's own import shows the error to the planner
            continue
    from ui.memory import trim

    trim()
    print(f"{READY_LINE} in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def start() -> None:
    """Import the dashboard's libraries on a thread (once per process)."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_preload, name="gridplan-preload", daemon=True)
        _thread.start()


def join() -> None:
    """Wait for :func:`start`'s imports, if they were started (a script run calls this first)."""
    if _thread is not None:
        _thread.join()
