"""Whole-process time and memory of CLI commands (what an analyst waits for at the command line).

Each command runs as a new process ``--repeat`` times, with a warm and with a
cold disk cache:

* warm: one run first fills a shared cache folder (the illustrative facility
  network, as any earlier run on the machine would have), then the timed runs
  read it;
* cold: every run gets an empty cache folder, so it lays the illustrative
  network out again (a k-means with scikit-learn).

Prints, per command and cache, the median and range of the wall time, the
median CPU time (user + system, all threads) and the largest resident memory
of a run (``ru_maxrss`` of the process, from ``os.wait4``).  On a shared
machine the wall time grows with the others' load and the CPU time much less:
compare both before and after on the same machine, back to back.

``--big`` adds 赣州市 at 50 m (some 15 million populated cells: about 1.4 GB and
half a minute a run); ``--quick`` runs every command once at 1 km cells (the
check a test runs).

Run: ``.venv/bin/python -m benchmarks.bench_cli [--repeat 5] [--big] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

_COVERAGE = ["--minutes", "15", "--mode", "walk", "--model", "straight", "--json"]

COMMANDS: dict[str, list[str]] = {
    "coverage, straight, walk 15 min": ["coverage", "--preset", "shijiazhuang", *_COVERAGE],
    "grids, Shijiazhuang preset": ["grids", "--preset", "shijiazhuang", "--json"],
}
#: Run with ``--big``: the memory check of a large prefecture at the finest cells.
BIG_COMMANDS: dict[str, list[str]] = {
    "coverage, 赣州市 50 m, straight, walk 15 min": [
        "coverage", "--prefecture", "赣州市", "--cell-m", "50", *_COVERAGE,
    ],
}  # fmt: skip


@dataclass(frozen=True)
class Run:
    """One CLI process: wall seconds, CPU seconds (user + system) and peak resident MB."""

    wall: float
    cpu: float
    peak_mb: float


def run_once(args: list[str], cache_dir: str) -> Run:
    """Run ``python -m gridplan ARGS`` with ``cache_dir`` as its disk cache."""
    env = {**os.environ, "GRIDPLAN_CACHE_DIR": cache_dir}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridplan", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    _, status, usage = os.wait4(proc.pid, 0)  # this run's own resource usage
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"gridplan {' '.join(args)} failed ({proc.returncode})")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0)


def measure(args: list[str], repeat: int, *, cold: bool) -> list[Run]:
    """``repeat`` timed runs, each with an empty cache (``cold``) or a filled one."""
    runs = []
    with tempfile.TemporaryDirectory() as shared:
        if not cold:
            run_once(args, shared)  # fills the cache, as any earlier run would
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as own:
                runs.append(run_once(args, own if cold else shared))
    return runs


def row(label: str, cache: str, runs: list[Run]) -> str:
    """A Markdown row of the README's table."""
    walls = [r.wall for r in runs]
    return (
        f"| {label} | {cache} | {statistics.median(walls):.2f} | "
        f"{min(walls):.2f}–{max(walls):.2f} | {statistics.median(r.cpu for r in runs):.2f} | "
        f"{max(r.peak_mb for r in runs):.0f} |"
    )


HEADER = (
    "| command | cache | wall s, median | min–max | CPU s, median | peak MB |\n"
    "|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--big", action="store_true", help="add 赣州市 at 50 m (≈1.4 GB a run)")
    ap.add_argument("--quick", action="store_true", help="once each, 1 km cells (a test)")
    args = ap.parse_args(argv)
    commands = dict(COMMANDS)
    if args.big:
        commands.update(BIG_COMMANDS)
    repeat = 1 if args.quick else args.repeat
    print(HEADER)
    rows = []
    for label, cli in commands.items():
        if args.quick and cli[0] == "coverage":
            cli = [*cli, "--cell-m", "1000"] if "--cell-m" not in cli else cli
            label = f"{label} (1 km)"
        for cache, cold in (("warm", False), ("cold", True)):
            rows.append(row(label, cache, measure(cli, repeat, cold=cold)))
            print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    main()
