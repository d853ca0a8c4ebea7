"""15-minute coverage at Shijiazhuang, 100 m cells (≈1.4 M populated cells), ≥ 400 facilities.

For each travel-time model available offline: cold computation (travel times +
coverage index + every KPI table), a slider re-threshold (minutes), a speed /
detour slider (straight-line model: a rescale), a growth slider, and the peak
resident memory of the process.  Facilities: the illustrative network (示意).

Run: ``.venv/bin/python -m benchmarks.bench_coverage [--models straight,raster,network]``
(one model per run gives each its own peak memory).  ``network`` is a 1 km
street lattice over the prefecture's extent, not the real roads (no OSM
download here); its cold time includes building the sparse graph.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

import numpy as np
from pyproj import Transformer

from benchmarks.timing import timeit
from gridplan.access.coverage import CoverageIndex, kpi_tables
from gridplan.facilities.illustrative import illustrative_facilities
from gridplan.facilities.types import PRIMARY_CARE
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import build_units
from gridplan.surface.grid import census_surface
from gridplan.travel.base import TravelTimeModel
from gridplan.travel.straight import StraightLineModel


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(fn: Callable[[], object]) -> float:
    """Median of 7 runs in milliseconds (a slider move)."""
    return timeit(fn, repeat=7)[0]


def model_named(name: str, surface) -> TravelTimeModel:  # type: ignore[no-untyped-def]
    if name == "straight":
        return StraightLineModel()
    if name == "network":
        return synthetic_network(surface)
    from gridplan.travel.raster import RasterModel

    return RasterModel(mode="walk", cutoff_min=60.0)


def synthetic_network(surface) -> TravelTimeModel:  # type: ignore[no-untyped-def]
    """A 1 km street lattice over the prefecture's extent: NOT Shijiazhuang's real roads.

    OpenStreetMap cannot be downloaded on the development machine, so the
    network model is timed on a lattice of the prefecture's size (walking,
    densified every 50 m as the model does by default).
    """
    from benchmarks.bench_network import synthetic_prefecture
    from gridplan.travel.network import NetworkModel

    g = surface.grid
    km = int(max(g.ncols, g.nrows) * g.cell_m / 1000) + 1
    graph, _ = synthetic_prefecture(km, 1000.0, (g.x0, g.y0 - g.nrows * g.cell_m), g.crs)
    return NetworkModel(graph, mode="walk", cutoff_min=60.0)


def bench_model(name: str, surface, xy, plan, units) -> str:  # type: ignore[no-untyped-def]
    """One table row: cold, re-threshold, speed slider, growth slider, peak memory."""
    model = model_named(name, surface)
    t0 = time.perf_counter()
    times = model.travel_times(surface.grid, surface.population > 0, xy)
    index = CoverageIndex.build(surface, times)
    kpi_tables(index, plan, units, 15)
    cold = time.perf_counter() - t0
    thresholds = iter(range(5, 61))
    rethreshold = median_ms(lambda: kpi_tables(index, plan, units, next(thresholds)))
    speed_txt = "recompute (= cold)"  # friction/network times are not proportional to one speed
    if name == "straight":
        scales = iter(np.linspace(0.5, 2.0, 20))
        ms = median_ms(lambda: kpi_tables(index.with_sliders(next(scales)), plan, units, 15))
        speed_txt = f"{ms:.0f}"
    growth = iter(np.linspace(0.8, 1.5, 20))
    grow = median_ms(lambda: kpi_tables(index.with_sliders(1.0, next(growth)), plan, units, 15))
    return (
        f"| {name} | {cold:.2f} | {rethreshold:.0f} | {speed_txt} | {grow:.0f} | {peak_mb():.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="straight,raster")
    args = ap.parse_args()
    units = build_units("130100")
    plan = GridPlan.from_preset("shijiazhuang")
    t0 = time.perf_counter()
    surface = census_surface(units, 100.0)
    surface_s = time.perf_counter() - t0
    fac = illustrative_facilities(units, census_surface(units, 500.0))
    used = fac[fac["type"].isin(PRIMARY_CARE)]
    tf = Transformer.from_crs(4326, surface.grid.crs, always_xy=True)
    xy = np.column_stack(tf.transform(used["lon"].to_numpy(float), used["lat"].to_numpy(float)))
    n_cells = int((surface.population > 0).sum())
    print(f"Shijiazhuang, 100 m: {n_cells:,} populated cells, {len(used)} primary-care facilities "
          f"(illustrative); census surface built in {surface_s:.2f} s")  # fmt: skip
    print(
        "| model | cold: travel times + all KPIs (s) | re-threshold (ms) "
        "| speed/detour slider (ms) | growth slider (ms) | peak memory (MB) |"
    )  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name in args.models.split(","):
        print(bench_model(name, surface, xy, plan, units))


if __name__ == "__main__":
    main()
