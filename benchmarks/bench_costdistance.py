"""Raster travel time (gridplan.travel.costdistance) on Shijiazhuang at 100 m vs scikit-image.

Run: ``.venv/bin/python -m benchmarks.bench_costdistance [--repeat N] [--facilities K]``.
Prints a Markdown table.

* Population: the census surface of Shijiazhuang (130100) at 100 m; K (450)
  facilities at random populated cells (seed 0).
* ``RasterModel`` rows are *cold*: a new model each run, so the speed surface
  (incl. rasterising the roads) is rebuilt; time = median of N runs (the
  first call of the process, which also pays page faults, is printed below).
* Roads: no OSM extract ships with GridPlan, so "with roads" burns a
  *synthetic* road lattice (slanted lines: motorways every 50 km, primary
  every 15 km, secondary 7.5 km, tertiary 3 km, residential 1 km) —
  illustrative of the rasterising cost, not of Shijiazhuang's network.  In
  walk mode roads change little (4.8 km/h on and off road); the drive rows
  show the heavy case (80 km/h motorways: 800 buckets for 60 min).
* scikit-image ``MCP_Geometric`` on the same speed raster and sources, with
  ``costs = cell_m · 0.06 / speed``: ``full`` (no cutoff) and ``cutoff`` via
  the ``goal_reached`` hook returning 2 (stop) once the popped cost exceeds
  the cutoff.  ``find_costs(max_cost=...)`` is *not* a cumulative cutoff: it
  is the deprecated name of ``max_step_cost``, a per-step barrier.
* Peak memory: ``tracemalloc`` peak of a separate (untimed) run; it sees
  NumPy buffers but not scikit-image's internal heap.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np


def synthetic_roads(grid: Any, seed: int = 1) -> Any:
    """A slanted lattice of roads over the grid's bounds (illustrative only)."""
    import geopandas as gpd
    from shapely.geometry import LineString

    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = grid.bounds
    geoms, classes = [], []
    for cls, spacing in (
        ("residential", 1_000),
        ("tertiary", 3_000),
        ("secondary", 7_500),
        ("primary", 15_000),
        ("motorway", 50_000),
    ):
        for x in np.arange(minx + spacing / 2, maxx, spacing):
            dx = rng.uniform(-0.1, 0.1) * (maxy - miny)
            geoms.append(LineString([(x, miny), (x + dx, maxy)]))
            classes.append(cls)
        for y in np.arange(miny + spacing / 2, maxy, spacing):
            dy = rng.uniform(-0.1, 0.1) * (maxx - minx)
            geoms.append(LineString([(minx, y), (maxx, y + dy)]))
            classes.append(cls)
    return gpd.GeoDataFrame({"highway": classes}, geometry=geoms, crs=grid.crs)


def skimage_minutes(speed: np.ndarray, cell_m: float, rc: np.ndarray, cutoff: float) -> np.ndarray:
    """MCP_Geometric minutes; with a cutoff, stop once the cheapest open cell is beyond it."""
    from skimage.graph import MCP_Geometric

    class StopAtCutoff(MCP_Geometric):  # type: ignore[misc]
        def goal_reached(self, index: int, cumcost: float) -> int:
            return 2 if cumcost > cutoff else 0

    with np.errstate(divide="ignore"):
        costs = (0.06 / speed.astype(np.float64)) * cell_m
    cls = MCP_Geometric if math.isinf(cutoff) else StopAtCutoff
    mcp = cls(costs, fully_connected=True)
    cum, _ = mcp.find_costs([tuple(map(int, x)) for x in rc])
    return np.where(cum <= cutoff, cum, np.inf)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--facilities", type=int, default=450)
    args = ap.parse_args()

    from gridplan.plan.units import build_units
    from gridplan.surface.grid import census_surface
    from gridplan.travel.costdistance import cost_distance
    from gridplan.travel.raster import RasterModel

    t0 = time.perf_counter()
    surface = census_surface(build_units("130100"), 100)
    t_surface = time.perf_counter() - t0
    grid = surface.grid
    mask = surface.populated()
    rng = np.random.default_rng(0)
    pr, pc = np.nonzero(mask)
    pick = rng.choice(len(pr), args.facilities, replace=False)
    rc = np.column_stack([pr[pick], pc[pick]])
    x, y = grid.centres(rc[:, 0], rc[:, 1])
    xy = np.column_stack([x, y])
    roads = synthetic_roads(grid)

    t0 = time.perf_counter()
    first = RasterModel(cutoff_min=60.0).travel_times(grid, mask, xy)
    t_first = time.perf_counter() - t0

    rows: list[dict[str, Any]] = []

    def model_row(label: str, mode: str, with_roads: bool, cutoff: float, engine: str) -> None:
        def run() -> Any:
            model = RasterModel(
                mode=mode,  # type: ignore[arg-type]
                roads=roads if with_roads else None,
                cutoff_min=cutoff,
                engine=engine,  # type: ignore[arg-type]
            )
            return model.travel_times(grid, mask, xy)

        sec, tt = timed(run, args.repeat)
        rows.append(
            {
                "case": label,
                "cutoff": cutoff,
                "method": f"RasterModel ({engine})",
                "sec": sec,
                "settled": tt.params["settled"],
                "work": tt.params["work_cells"],
                "mib": peak_mib(run),
                "minutes": None,
            }
        )

    def skimage_row(label: str, speed: np.ndarray, cutoff: float) -> None:
        sec, m = timed(lambda: skimage_minutes(speed, grid.cell_m, rc, cutoff), args.repeat)
        rows.append(
            {
                "case": label,
                "cutoff": cutoff,
                "method": "skimage MCP_Geometric" + ("" if math.isinf(cutoff) else " + stop"),
                "sec": sec,
                "settled": int(np.isfinite(m).sum()),
                "work": None,
                "mib": peak_mib(lambda: skimage_minutes(speed, grid.cell_m, rc, cutoff)),
                "minutes": m,
            }
        )

    walk_speed = RasterModel().speed_surface(grid)
    drive_speed = RasterModel(mode="drive", roads=roads).speed_surface(grid)
    for cutoff in (15.0, 30.0, 60.0):
        model_row("walk, no roads", "walk", False, cutoff, "buckets")
        model_row("walk, synthetic roads", "walk", True, cutoff, "buckets")
        model_row("walk, no roads", "walk", False, cutoff, "scipy")
        skimage_row("walk, no roads", walk_speed, cutoff)
    skimage_row("walk, no roads", walk_speed, math.inf)
    for cutoff in (15.0, 60.0):
        model_row("drive, synthetic roads", "drive", True, cutoff, "buckets")
        model_row("drive, synthetic roads", "drive", True, cutoff, "scipy")
        skimage_row("drive, synthetic roads", drive_speed, cutoff)

    # correctness: our minutes equal scikit-image's on the populated cells
    ours = cost_distance(walk_speed, grid.cell_m, rc, 60.0).minutes
    ref = next(r for r in rows if r["minutes"] is not None and r["cutoff"] == 60.0)["minutes"]
    identical = bool(np.array_equal(ours[mask], ref[mask].astype(np.float32)))

    def sk_time(case: str, cutoff: float) -> float | None:
        for r in rows:
            same_case = r["case"].split(",")[0] == case.split(",")[0]
            if same_case and r["cutoff"] == cutoff and r["method"].startswith("skimage"):
                return float(r["sec"])
        return None

    print(
        f"Shijiazhuang 100 m: grid {grid.nrows}×{grid.ncols} = {grid.nrows * grid.ncols:,} cells, "
        f"{int(mask.sum()):,} populated, {args.facilities} facilities; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; median of {args.repeat}."
    )
    print(
        f"census surface {t_surface:.2f} s; first RasterModel call of the process "
        f"(walk, 60 min) {t_first:.2f} s, {first.params['settled']:,} cells settled; "
        f"minutes identical to skimage on populated cells: {identical}."
    )
    print()
    print(
        "| case | cutoff min | method | seconds | settled cells | work cells | peak MiB "
        "| ours/skimage |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        sk = sk_time(r["case"], r["cutoff"])
        ratio = (
            f"{r['sec'] / sk:.2f}"
            if sk and not r["method"].startswith("skimage")
            else ("1.00" if r["method"].startswith("skimage") else "")
        )
        cutoff = "none" if math.isinf(r["cutoff"]) else f"{r['cutoff']:.0f}"
        work = "" if r["work"] is None else f"{r['work']:,}"
        print(
            f"| {r['case']} | {cutoff} | {r['method']} | {r['sec']:.3f} | {r['settled']:,} "
            f"| {work} | {r['mib']:.0f} | {ratio} |"
        )


if __name__ == "__main__":
    main()
