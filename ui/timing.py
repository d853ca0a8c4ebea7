"""Server-side timings of script runs, fragments and edit callbacks, for the benchmarks.

Off unless ``GRIDPLAN_TIMING_LOG`` names a file: then every timed block appends
one line ``<name>\\t<milliseconds>`` to it (``benchmarks/bench_dashboard.py``
reads them to report the server time of an edit apart from the browser's).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: The environment variable naming the timing log (unset: nothing is timed).
TIMING_ENV = "GRIDPLAN_TIMING_LOG"


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Append the wall time of the block to the timing log, if there is one."""
    path = os.environ.get(TIMING_ENV)
    if not path:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        ms = 1000 * (time.perf_counter() - t0)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{name}\t{ms:.1f}\n")


def read_log(path: str) -> list[tuple[str, float]]:
    """The (name, milliseconds) lines of a timing log, oldest first."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as log:
        rows = [line.rstrip("\n").split("\t") for line in log if "\t" in line]
    return [(name, float(ms)) for name, ms in rows]
