"""``gridplan batch`` on a local Dask cluster: every prefecture, with 1 and 2 workers.

For each number of workers a :class:`~distributed.LocalCluster` of single-threaded
worker processes runs the 15-minute walk coverage of the chosen prefectures (the
same task as ``gridplan batch``), then reports the wall time, the speed-up over
the fewest workers, the task seconds (wall and CPU) summed, the populated cells and
each worker's peak resident memory (``ru_maxrss`` of the worker process).  Prints
Markdown rows for the README and an extrapolation to 100 m cells from the
measured seconds per cell.

Run: ``.venv/bin/python -m benchmarks.bench_batch`` (all prefectures at 500 m with 1
and 2 workers: about 10-20 min on 2 cores), ``--quick`` (宁夏, 1000 m, CI),
``--province 河北省``, ``--cell-m 1000``, ``--workers 2 1``, ``-o national.csv`` (the rows,
written when the first worker count has finished: the same for every count).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: Cell side of the national run the README extrapolates to.
TARGET_CELL_M = 100.0


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Measure:
    """One batch run: its workers, wall seconds, summed task seconds, cells and memory."""

    workers: int
    prefectures: int
    failed: int
    wall_s: float
    task_s: float
    cpu_s: float
    cells: int
    peak_mb: list[float]
    rows: list[dict[str, Any]]

    @property
    def s_per_cell(self) -> float:
        """Task CPU seconds per populated cell: a core's work per cell, whatever else runs."""
        return self.cpu_s / max(self.cells, 1)


def _warm() -> None:
    """Import what a task needs (a new worker's first task would otherwise pay for it)."""
    import gridplan.access.coverage
    import gridplan.batch.tasks
    import gridplan.travel.models  # noqa: F401


@contextlib.contextmanager
def _cache(cold: bool) -> Iterator[None]:
    """With ``cold``, an empty disk cache for the workers started inside (they read
    ``GRIDPLAN_CACHE_DIR`` when they import gridplan): the illustrative networks are laid
    out again (k-means), as on a first run; else the user's cache as it is."""
    if not cold:
        yield
        return
    before = os.environ.get("GRIDPLAN_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="gridplan-bench-cache-") as folder:
        os.environ["GRIDPLAN_CACHE_DIR"] = folder
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("GRIDPLAN_CACHE_DIR", None)
            else:
                os.environ["GRIDPLAN_CACHE_DIR"] = before


def measure(
    prefs: Any, cell_m: float, workers: int, client: Any = None, *, cold: bool = False
) -> Measure:
    """Run the batch of ``prefs`` on a fresh local cluster of ``workers`` processes (or on
    ``client``'s cluster as it is), after warming the workers' imports up (not timed)."""
    from gridplan.batch.runner import batch_client

    if client is not None:
        return _measure_on(client, prefs, cell_m)
    with _cache(cold), batch_client(None, workers) as local:
        return _measure_on(local, prefs, cell_m)


def _measure_on(client: Any, prefs: Any, cell_m: float) -> Measure:
    from gridplan.batch.runner import run_batch
    from gridplan.batch.tasks import BatchSettings

    workers = len(client.nthreads())
    print(f"  {workers} worker(s): dashboard {client.dashboard_link}", file=sys.stderr)
    client.run(_warm)
    run = run_batch(client, prefs, BatchSettings(cell_m=cell_m, lang="en"), _progress)
    peaks = client.run(_peak_rss_mb)
    ok = [r for r in run.rows if not r.get("error")]
    return Measure(
        workers, len(run.rows), len(run.rows) - len(ok), run.seconds,
        sum(float(r["seconds"] or 0) for r in run.rows),
        sum(float(r["cpu_seconds"] or 0) for r in run.rows), sum(int(r["cells"]) for r in ok),
        sorted(float(v) for v in peaks.values()), run.rows,
    )  # fmt: skip


def _progress(row: dict[str, Any], done: int, total: int) -> None:
    if done % 25 == 0 or done == total:
        print(f"    {done}/{total} done ({row['name']})", file=sys.stderr, flush=True)


def _rows(measures: list[Measure], scope: str, cell_m: float) -> list[str]:
    base = min(measures, key=lambda m: m.workers)  # speed-up over the fewest workers
    lines = [
        "| scope | cell | workers | prefectures (failed) | wall | speed-up | task s summed "
        "| task CPU s summed | populated cells | peak MB per worker |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        speedup = base.wall_s / m.wall_s
        peaks = " / ".join(f"{p:.0f}" for p in m.peak_mb)
        lines.append(
            f"| {scope} | {cell_m:g} m | {m.workers} | {m.prefectures} ({m.failed}) "
            f"| {m.wall_s:.1f} s | {speedup:.2f}× | {m.task_s:.1f} s | {m.cpu_s:.1f} s "
            f"| {m.cells:,} | {peaks} |"
        )
    return lines


def extrapolation(m: Measure, cell_m: float, target_m: float = TARGET_CELL_M) -> list[str]:
    """What the same batch costs at ``target_m`` cells: (cell_m / target_m)² times the cells,
    at the measured CPU seconds per cell (an upper bound when ``cell_m`` is coarser: each
    prefecture's fixed cost, boundaries and units, is spread over fewer cells)."""
    done = [r for r in m.rows if not r.get("error")]
    if not done:
        return ["No prefecture finished: nothing to extrapolate."]
    factor = (cell_m / target_m) ** 2
    cells = m.cells * factor
    core_h = m.s_per_cell * cells / 3600
    biggest = max(done, key=lambda r: int(r["cells"]))
    return [
        f"At {target_m:g} m: about {cells:,.0f} populated cells ({factor:g}× the {cell_m:g} m "
        f"run), {m.s_per_cell * 1e6:.1f} µs of CPU per cell measured → about {core_h:.1f} "
        f"core-hours of tasks; the largest task ({biggest['name']}, "
        f"{int(biggest['cells']) * factor:,.0f} cells) bounds the wall time however many "
        "workers there are.",
    ]


def main(argv: Sequence[str] | None = None, client: Any = None) -> list[Measure]:
    """Run the benchmark of ``argv``; with ``client``, on its cluster (the CI test's)."""
    from gridplan.batch.files import write_rows
    from gridplan.batch.selection import select_prefectures

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="宁夏回族自治区 at 1000 m (CI)")
    ap.add_argument("--province", help="one province instead of all of China")
    ap.add_argument("--cell-m", type=float, default=None, help="default 500 (quick: 1000)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--cold", action="store_true",
        help="an empty disk cache for each run (illustrative networks computed again)",
    )  # fmt: skip
    ap.add_argument("-o", "--output", help="write the last run's rows (.csv or .gpkg)")
    args = ap.parse_args(argv)
    province = args.province or ("宁夏回族自治区" if args.quick else None)
    cell_m = args.cell_m or (1000.0 if args.quick else 500.0)
    prefs = select_prefectures(province=province, everything=province is None)
    scope = province or "China"
    print(f"batch: {len(prefs)} prefectures of {scope} at {cell_m:g} m", file=sys.stderr)
    counts = [len(client.nthreads())] if client is not None else args.workers
    measures = []
    for n in counts:
        measures.append(measure(prefs, cell_m, n, client, cold=args.cold))
        if args.output and len(measures) == 1:  # the rows are the same whatever the workers
            write_rows(measures[0].rows, args.output)
    print("\n".join(_rows(measures, f"{scope} ({'empty' if args.cold else 'user'} cache)", cell_m)))
    # the run least slowed by other load on the machine: the closest to a core's own speed
    print("\n".join(extrapolation(min(measures, key=lambda m: m.s_per_cell), cell_m)))
    return measures


if __name__ == "__main__":
    main()
