"""Population surfaces for Shijiazhuang at 100 m: seconds and peak memory per method.

Run: ``.venv/bin/python -m benchmarks.bench_popsurface [--cell 100] [--repeat 3]``.
Prints a Markdown table.  All inputs are synthetic and written to a temporary
folder: a WorldPop-like count raster over the whole prefecture (3 arc-seconds,
~0.00083°, ≈ 100 m; EPSG:4326; nodata -99999), 50,000 random points as a CSV,
the illustrative township layer of tests/synthetic.py (66 Voronoi townships
cut from the real county polygons) and the county units themselves.

Peak memory is tracemalloc's peak during one run: every numpy array and
Python object allocated, not GDAL's own warp buffers (at most its 64 MB
warp memory limit) nor GEOS's.  The process's maximum resident set over the
whole benchmark is printed as well.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median seconds over ``repeat`` runs, and tracemalloc's peak (MB) of one more run."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


def write_raster(path: Path, bounds: tuple[float, float, float, float], res: float) -> tuple:
    import rasterio
    from affine import Affine

    minx, miny, maxx, maxy = bounds
    west, north = np.floor(minx / res) * res - 10 * res, np.ceil(maxy / res) * res + 10 * res
    width = int(np.ceil((maxx - west) / res)) + 10
    height = int(np.ceil((north - miny) / res)) + 10
    rng = np.random.default_rng(0)
    values = rng.gamma(0.3, 30.0, size=(height, width)).astype(np.float32)
    values[rng.random((height, width)) < 0.02] = -99999.0
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(res, 0.0, west, 0.0, -res, north),
        "nodata": -99999.0,
        "compress": "deflate",
        "tiled": True,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(values, 1)
    return width, height, float(values[values >= 0].sum(dtype=np.float64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--points", type=int, default=50_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import pandas as pd

    from gridplan.plan.units import build_units
    from gridplan.surface.grid import census_surface, grid_for_units
    from gridplan.surface.points import surface_from_points
    from gridplan.surface.polygons import surface_from_polygons
    from gridplan.surface.raster import surface_from_raster
    from tests.synthetic import shijiazhuang_townships

    us = build_units("130100")
    grid = grid_for_units(us, args.cell)
    bounds = tuple(float(v) for v in us.units.total_bounds)
    tws = shijiazhuang_townships()
    rng = np.random.default_rng(1)
    tws["人口"] = rng.integers(10_000, 80_000, len(tws)).astype(float)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tif = folder / "pop_3arcsec.tif"
        width, height, raster_total = write_raster(tif, bounds, 1 / 1200)
        n = args.points
        pts = pd.DataFrame(
            {
                "经度": rng.uniform(bounds[0], bounds[2], n),
                "纬度": rng.uniform(bounds[1], bounds[3], n),
                "常住人口": rng.integers(10, 5000, n),
            }
        )
        csv = folder / "points.csv"
        pts.to_csv(csv, index=False)
        weights = np.asarray(
            surface_from_raster(tif, us, args.cell, max_mb=10_000)[0].population, dtype=float
        )

        cases: list[tuple[str, Callable[[], tuple]]] = [
            (
                "census_surface (default, uniform per county)",
                lambda: (census_surface(us, args.cell), None),
            ),
            (
                f"surface_from_raster, {width}x{height} px 3″ raster (sum)",
                lambda: surface_from_raster(tif, us, args.cell, max_mb=10_000),
            ),
            (
                f"surface_from_raster, {width}x{height} px 3″ raster (average)",
                lambda: surface_from_raster(
                    tif, us, args.cell, max_mb=10_000, resampling="average"
                ),
            ),
            (
                f"surface_from_points, {n:,} points from CSV",
                lambda: surface_from_points(csv, us, args.cell),
            ),
            (
                "surface_from_polygons, 22 county units, uniform",
                lambda: surface_from_polygons(
                    us.units, us, args.cell, population_column="population"
                ),
            ),
            (
                f"surface_from_polygons, {len(tws)} townships, uniform",
                lambda: surface_from_polygons(tws, us, args.cell, population_column="人口"),
            ),
            (
                f"surface_from_polygons, {len(tws)} townships, weighted by the 3″ raster",
                lambda: surface_from_polygons(
                    tws, us, args.cell, population_column="人口", weights=tif, max_mb=10_000
                ),
            ),
            (
                f"surface_from_polygons, {len(tws)} townships, weighted by a grid array",
                lambda: surface_from_polygons(
                    tws, us, args.cell, population_column="人口", weights=weights
                ),
            ),
        ]
        for label, fn in cases:
            seconds, peak = measure(fn, args.repeat)
            surface, report = fn()
            total = surface.total
            check = ""
            if report is not None:
                gap = abs(report.kept_total + report.dropped_population - report.input_total)
                check = f"{gap / max(report.input_total, 1):.1e}"
            rows.append((label, seconds, peak, total, check))

    print(
        f"Shijiazhuang (130100), {args.cell:g} m cells: grid {grid.nrows} x {grid.ncols} "
        f"= {grid.nrows * grid.ncols:,} cells; median of {args.repeat} runs; "
        f"raster total {raster_total:,.0f}\n"
    )
    print("| case | seconds | peak memory (MB, tracemalloc) | surface total | conservation gap |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, seconds, peak, total, check in rows:
        print(f"| {label} | {seconds:.2f} | {peak:,.0f} | {total:,.0f} | {check or '–'} |")
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmaximum resident set of the benchmark process: {max_rss:,.0f} MB")


if __name__ == "__main__":
    main()
