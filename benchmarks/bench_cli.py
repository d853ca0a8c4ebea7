"""Whole-process time of CLI commands (what an analyst waits for at the command line).

Each command runs as a new process ``--repeat`` times after one warm-up run
(the warm-up fills the disk cache, as any earlier run on the machine would);
prints the median and range of the wall time and the largest resident memory
of a run.  ``--cold-cache`` gives every run an empty cache folder instead.

Run: ``.venv/bin/python -m benchmarks.bench_cli [--repeat 5] [--cold-cache]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS: dict[str, list[str]] = {
    "coverage, straight, walk 15 min": [
        "coverage", "--preset", "shijiazhuang", "--minutes", "15", "--mode", "walk",
        "--model", "straight", "--json",
    ],
    "grids, Shijiazhuang preset": ["grids", "--preset", "shijiazhuang", "--json"],
}  # fmt: skip


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one CLI process."""
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
    return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold-cache", action="store_true", help="an empty disk cache for every run")
    args = ap.parse_args()
    print("| command | wall s, median | min–max | peak MB |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as shared:
        for label, cli in COMMANDS.items():
            times, peak = [], 0.0
            for i in range(args.repeat + 1):
                with tempfile.TemporaryDirectory() as own:
                    cache = own if args.cold_cache else shared
                    wall, mb = _run(cli, {**os.environ, "GRIDPLAN_CACHE_DIR": cache})
                if i > 0:  # the first run is the warm-up
                    times.append(wall)
                    peak = max(peak, mb)
            print(
                f"| {label} | {statistics.median(times):.2f} | "
                f"{min(times):.2f}–{max(times):.2f} | {peak:.0f} |"
            )


if __name__ == "__main__":
    main()
