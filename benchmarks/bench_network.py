"""Timings of the road-network travel-time model (gridplan.travel.network).

Run: ``.venv/bin/python -m benchmarks.bench_network [--scale]``.  Prints Markdown.

1. The test fixture ``tests/data/roads_sample.osm``: a synthetic 5 × 5 km
   street grid near Shijiazhuang (not real roads), on a 50 m cell grid with
   3 facilities.
2. ``--scale``: a synthetic prefecture-sized street grid (120 × 120 km, 1 km
   blocks, built in memory, not real roads) on a 100 m cell grid with 200
   facilities, to see how the method scales.

The real Shijiazhuang OSM network cannot be downloaded in this environment
(no network access), so no timing here is for real roads.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.timing import timeit

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "roads_sample.osm"
CRS = "EPSG:4547"


def fixture_rows() -> list[tuple[str, str, float, float, str]]:
    from pyproj import Transformer

    from gridplan.surface.grid import CellGrid
    from gridplan.travel.graph import build_road_graph
    from gridplan.travel.network import NetworkModel
    from gridplan.travel.roads import load_roads

    rows: list[tuple[str, str, float, float, str]] = []
    t0 = time.perf_counter()
    import osmnx  # noqa: F401  (import cost shown apart from parsing)

    import_ms = (time.perf_counter() - t0) * 1000
    rows.append(("import osmnx", "-", import_ms, import_ms, ""))
    med, best = timeit(lambda: load_roads(FIXTURE), repeat=3)
    graph = load_roads(FIXTURE)
    size = f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges"
    rows.append(("load_roads (.osm parse + simplify)", "-", med, best, size))

    tr = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x0, y0 = tr.transform(114.4715, 38.0175)
    x1, y1 = tr.transform(114.5285, 38.0625)
    grid = CellGrid.from_bounds((x0, y0, x1, y1), 50.0, CRS)
    mask = np.ones(grid.shape, bool)
    fac = np.column_stack(tr.transform([114.4829, 114.5114, 114.5200], [38.0400, 38.0580, 38.0220]))
    for mode in ("walk", "ebike", "drive"):
        med, best = timeit(lambda m=mode: build_road_graph(graph, m, CRS))
        rg = build_road_graph(graph, mode, CRS)
        rows.append(
            (
                "build sparse graph (densify 50 m)",
                mode,
                med,
                best,
                f"{rg.n_nodes} nodes, {rg.n_segments} segments",
            )
        )
        model = NetworkModel(graph, mode=mode)
        model.road_graph(CRS)  # cached from here on
        med, best = timeit(lambda m=model: m.travel_times(grid, mask, fac))
        rows.append(
            (
                "travel_times, 50 m grid, 3 facilities",
                mode,
                med,
                best,
                f"{mask.sum():,} cells",
            )
        )
    return rows


def synthetic_prefecture(
    km: int = 120,
    block_m: float = 1000.0,
    origin: tuple[float, float] = (450_000.0, 4_150_000.0),
    crs: str = CRS,
):
    """A km × km street grid (two-way tertiary roads) in CRS metres; not real roads."""
    import networkx as nx

    n = int(km * 1000 / block_m) + 1
    g = nx.MultiDiGraph(crs=crs)
    x0, y0 = origin
    for r in range(n):
        for c in range(n):
            g.add_node(r * n + c, x=x0 + c * block_m, y=y0 + r * block_m)
    hw = "tertiary"
    for r in range(n):
        for c in range(n):
            u = r * n + c
            for v in ([u + 1] if c + 1 < n else []) + ([u + n] if r + 1 < n else []):
                g.add_edge(u, v, length=block_m, highway=hw)
                g.add_edge(v, u, length=block_m, highway=hw)
    return g, (x0, y0, x0 + km * 1000.0, y0 + km * 1000.0)


def scale_rows() -> list[tuple[str, str, float, float, str]]:
    from gridplan.surface.grid import CellGrid
    from gridplan.travel.graph import build_road_graph
    from gridplan.travel.network import NetworkModel

    rows: list[tuple[str, str, float, float, str]] = []
    graph, bounds = synthetic_prefecture()
    grid = CellGrid.from_bounds(bounds, 100.0, CRS)
    mask = np.ones(grid.shape, bool)
    rng = np.random.default_rng(0)
    fac = np.column_stack(
        [rng.uniform(bounds[0], bounds[2], 200), rng.uniform(bounds[1], bounds[3], 200)]
    )
    for mode in ("walk", "drive"):
        med, best = timeit(lambda m=mode: build_road_graph(graph, m, CRS), repeat=1)
        rg = build_road_graph(graph, mode, CRS)
        rows.append(
            (
                "synthetic 120 km grid: build sparse graph",
                mode,
                med,
                best,
                f"{graph.number_of_edges():,} edges → {rg.n_nodes:,} nodes",
            )
        )
        model = NetworkModel(graph, mode=mode)
        model.road_graph(CRS)
        med, best = timeit(lambda m=model: m.travel_times(grid, mask, fac), repeat=3)
        rows.append(
            (
                "synthetic 120 km grid: travel_times, 100 m, 200 facilities",
                mode,
                med,
                best,
                f"{mask.sum():,} cells",
            )
        )
        # every (cell, facility) pair within 15 min: capacity analyses, siting matrices
        rows_, cols_ = np.nonzero(mask)
        cx, cy = grid.centres(rows_, cols_)
        cells = np.column_stack([cx, cy])
        found: list[int] = []
        med, best = timeit(
            lambda m=model, c=cells, out=found: out.append(m.pairs(grid, c, fac, 15.0).n_pairs),
            repeat=1,
        )
        rows.append(
            (
                "synthetic 120 km grid: pairs ≤ 15 min, 100 m, 200 facilities",
                mode,
                med,
                best,
                f"{found[-1]:,} pairs",
            )
        )
    return rows


def main() -> None:
    rows = fixture_rows()
    if "--scale" in sys.argv:
        rows += scale_rows()
    print("| step | mode | median ms | min ms | size |")
    print("|---|---|---:|---:|---|")
    for step, mode, med, best, size in rows:
        print(f"| {step} | {mode} | {med:,.1f} | {best:,.1f} | {size} |")
    print()
    print(
        "Fixture = synthetic 5 × 5 km street grid (tests/data/roads_sample.osm), not real "
        "roads. The real Shijiazhuang OSM network could not be downloaded here (no network "
        "access), so real-network timings are still to be measured."
    )


if __name__ == "__main__":
    main()
