"""Capacity-aware accessibility at Shijiazhuang, 100 m cells, the illustrative primary-care network.

For walking 15 and 30 minutes and each travel-time model available offline
(``straight``: 4.8 km/h × detour 1.3; ``raster``: uniform 4.8 km/h walking
surface, no land cover; ``--speed`` for other speeds): time of
:func:`~gridplan.access.reach.facility_reach`, the number of (cell, facility)
pairs and their bytes, the residents within the threshold of their nearest
facility (the plain 15-minute KPI) against those covered with capacities, then
:func:`~gridplan.access.capacity.capacity_coverage` (capacities: the per-type
defaults, all assumed or standard-derived, since the illustrative network has
no staff) and :func:`~gridplan.access.g2sfca.g2sfca` (supply 1 per facility,
``d0`` = the threshold; ``A = 0``: residents with no facility within
``d0``).  Peak memory is the peak of the traced allocations
(``tracemalloc``, numpy included) of each step, measured in a second run, and
the process's peak resident set at the end.

Run: ``.venv/bin/python -m benchmarks.bench_capacity [--models straight,raster]
[--minutes 15,30]``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from gridplan.access.capacity import capacity_coverage, facility_capacity, facility_supply
from gridplan.access.g2sfca import g2sfca
from gridplan.access.reach import facility_reach
from gridplan.facilities.illustrative import illustrative_facilities
from gridplan.facilities.table import facility_mask, facility_xy
from gridplan.facilities.types import PRIMARY_CARE
from gridplan.plan.units import build_units
from gridplan.surface.grid import census_surface


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """Result of the last run and the median seconds."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def traced_peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced allocation (MB) of one run of ``fn`` above what was allocated before."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="straight,raster")
    ap.add_argument("--minutes", default="15,30")
    ap.add_argument("--speed", type=float, default=4.8, help="km/h (both models)")
    args = ap.parse_args()
    units = build_units("130100")
    t0 = time.perf_counter()
    surface = census_surface(units, 100.0)
    surface_s = time.perf_counter() - t0
    fac = illustrative_facilities(units, census_surface(units, 500.0))
    used = fac[facility_mask(fac, PRIMARY_CARE)]
    xy = facility_xy(fac, surface.grid.crs, PRIMARY_CARE)
    caps = facility_capacity(used)
    capacity = caps["capacity"].to_numpy()
    supply = facility_supply(used, None)
    mask = surface.population > 0
    grid = surface.grid
    types = used["type"].value_counts().to_dict()
    print(
        f"Shijiazhuang, 100 m: {grid.nrows}×{grid.ncols} cells, {int(mask.sum()):,} populated, "
        f"{surface.total:,.0f} residents; census surface built in {surface_s:.2f} s"
    )
    print(f"{len(used)} primary-care facilities (illustrative): {types}")
    print(
        f"capacities: per-type defaults ({dict(caps['capacity_source'].value_counts())}), "
        f"total {capacity.sum():,.0f} residents"
    )
    print()
    print(
        f"| model | {args.speed:g} km/h, min | reach (s) | pairs | pairs/facility | reach MB "
        "| reach peak MB | within T (nearest) | capacity coverage (ms) | covered with capacity "
        "| full facilities | cov. peak MB | G2SFCA (ms) | A = 0 | G2SFCA peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for minutes in (float(m) for m in args.minutes.split(",")):
        for model in args.models.split(","):

            def build(model: str = model, minutes: float = minutes) -> Any:
                return facility_reach(
                    grid,
                    mask,
                    xy,
                    model=model,  # type: ignore[arg-type]
                    speed_kmh=args.speed,
                    detour=1.3,
                    max_minutes=minutes,
                )

            reach, reach_s = timed(build)
            reach_peak = traced_peak_mb(build)

            def cover(reach: Any = reach) -> Any:
                return capacity_coverage(surface, reach, capacity)

            def access(reach: Any = reach, minutes: float = minutes) -> Any:
                return g2sfca(surface, reach, supply, minutes)

            cov, cov_s = timed(cover, repeat=3)
            acc, acc_s = timed(access, repeat=3)
            cov_peak = traced_peak_mb(cover)
            acc_peak = traced_peak_mb(access)
            pop = surface.population
            within = float(pop[np.isfinite(reach.nearest_minutes())].sum(dtype=np.float64))
            no_access = float(pop[acc.accessibility == 0].sum(dtype=np.float64))
            total = float(pop.sum(dtype=np.float64))
            print(
                f"| {model} | {minutes:g} | {reach_s:.2f} | {reach.n_pairs:,} "
                f"| {reach.n_pairs / len(xy):,.0f} | {reach.nbytes / 2**20:.1f} "
                f"| {reach_peak:.0f} | {within / total:.1%} | {cov_s * 1000:.0f} "
                f"| {cov.share:.1%} | {int(cov.full.sum())} | {cov_peak:.0f} | {acc_s * 1000:.0f} "
                f"| {no_access / total:.1%} | {acc_peak:.0f} |"
            )
            del reach, cov, acc
    print()
    print(f"process peak resident memory: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
