"""Building the sparse travel graph of a city-sized road network (gridplan.travel.graph).

Run: ``.venv/bin/python -m benchmarks.bench_roadgraph [--quick]``.  Prints Markdown.

Two synthetic street lattices of 448 × 448 = 200,704 intersections with 100 m
blocks (made in memory, not real roads):

1. *OSM reader*: the lattice as the streaming OSM reader hands it over (rows
   and columns as ways, node positions in WGS-84; every 10th street primary
   with ``maxspeed=60``, every 7th a one-way residential street, every 3rd
   column bent by a shape point in each block), turned into the networkx
   graph and the road table exactly as ``load_roads`` does;
2. *networkx*: two-way tertiary streets in metric coordinates, built as a
   networkx graph (the GraphML / online-download path: no table, attributes
   read in bulk).

"before" is the former build (:mod:`benchmarks.roadgraph_former`, the code on
main before the road tables) on the networkx graph; "after" the current
``build_road_graph``: from the table for (1), from the graph for (2).  Every
"after" graph is checked equal, array for array, to the "before" one.
Medians and bests of 5 runs (``--quick``: a 40 × 40 lattice, 1 run, as the
test suite runs it).
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from benchmarks.bench_network import CRS, synthetic_prefecture
from benchmarks.roadgraph_former import build_road_graph_former


def city_lattice(side: int = 448, block_m: float = 100.0) -> Any:
    """A ``side`` × ``side`` street lattice (two-way tertiary), in :data:`CRS` metres."""
    graph, _ = synthetic_prefecture(km=(side - 1) * block_m / 1000.0, block_m=block_m)  # type: ignore[arg-type]
    return graph


def lattice_elements(side: int = 448, block_m: float = 100.0) -> Any:
    """The lattice as :class:`~gridplan.travel.osmroads.RoadElements` (see the module docstring)."""
    from pyproj import Transformer

    from gridplan.travel.osmroads import RoadElements

    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    x0, y0 = 450_000.0, 4_150_000.0
    cols, rows = np.meshgrid(np.arange(side), np.arange(side))
    ids = (rows * side + cols).ravel().astype(np.int64) + 1
    lon, lat = to_wgs.transform(x0 + cols.ravel() * block_m, y0 + rows.ravel() * block_m)
    # bend points: one per block of every third column, 8 m off the straight line
    n_bend = side * (side - 1)
    bend_ids = np.arange(n_bend, dtype=np.int64) + ids[-1] + 1
    bx = np.repeat(np.arange(side), side - 1) * block_m + 8.0
    by = np.tile(np.arange(side - 1), side) * block_m + block_m / 2
    blon, blat = to_wgs.transform(x0 + bx, y0 + by)
    ways: list[tuple[int, array[int], dict[str, str]]] = []
    for r in range(side):
        tags = _street_tags(r)
        ways.append((len(ways) + 1, array("q", ids[r * side : (r + 1) * side].tolist()), tags))
    for c in range(side):
        column = ids[c::side]
        if c % 3 == 0:
            refs = np.empty(2 * side - 1, dtype=np.int64)
            refs[0::2] = column
            refs[1::2] = bend_ids[c * (side - 1) : (c + 1) * (side - 1)]
            column = refs
        ways.append((len(ways) + 1, array("q", column.tolist()), _street_tags(c)))
    return RoadElements(
        ids=np.concatenate([ids, bend_ids]),
        lat=np.concatenate([np.asarray(lat), np.asarray(blat)]),
        lon=np.concatenate([np.asarray(lon), np.asarray(blon)]),
        ways=ways,
    )


def _street_tags(i: int) -> dict[str, str]:
    if i % 10 == 0:
        return {"highway": "primary", "maxspeed": "60"}
    if i % 7 == 0:
        return {"highway": "residential", "oneway": "yes"}
    return {"highway": "tertiary"}


@dataclass
class Networks:
    osm_graph: Any
    osm_table: Any
    nx_graph: Any


@contextmanager
def no_stretch_limit(side: int) -> Iterator[None]:
    """The reader's limit on road stretches (a memory guard for networkx) lifted for the lattice."""
    from gridplan import settings

    limit = settings.roads_max_road_edges
    settings.roads_max_road_edges = max(limit, 3 * side * side)
    try:
        yield
    finally:
        settings.roads_max_road_edges = limit


def networks(side: int) -> Networks:
    """Both lattices, the first as ``load_roads`` reads it (graph and table)."""
    from gridplan.travel.osmroads import roads_from_elements

    with no_stretch_limit(side):
        graph, table = roads_from_elements(lattice_elements(side), "lattice.osm")
    return Networks(graph, table, city_lattice(side))


def assert_same(a: Any, b: Any) -> None:
    """The two travel graphs are equal, array for array."""
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a.matrix, name), getattr(b.matrix, name))
    np.testing.assert_array_equal(a.xy, b.xy)
    np.testing.assert_array_equal(a.snappable, b.snappable)
    assert list(a.node_ids) == list(b.node_ids)
    assert (a.n_segments, a.road_km) == (b.n_segments, b.road_km)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median and best wall time and median CPU time (all threads) of ``repeat`` calls, in ms.

    CPU time is shown because this machine is shared: it is what the wall time
    would be on a quiet one, less the k-d tree built on the second core.
    """
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def rows(side: int = 448, repeat: int = 5) -> Iterator[str]:
    """The benchmark's Markdown rows (each after-graph checked equal to its before-graph)."""
    from gridplan.travel.graph import build_road_graph
    from gridplan.travel.roadtable import road_table

    net = networks(side)
    nx_table = road_table(net.nx_graph)  # as load_roads keeps it for a GraphML file
    cases = [
        ("networkx (tertiary, metric)", "its table", net.nx_graph, nx_table),
        ("networkx (tertiary, metric)", "the graph (bulk read)", net.nx_graph, net.nx_graph),
        ("OSM reader (bends, one-way, WGS-84)", "the reader's table", net.osm_graph, net.osm_table),
    ]
    for name, source, graph, after_input in cases:
        for mode in ("walk", "drive"):
            before = build_road_graph_former(graph, mode, CRS)
            after = build_road_graph(after_input, mode, CRS)
            assert_same(before, after)
            b_med, b_best, b_cpu = timed(
                lambda g=graph, m=mode: build_road_graph_former(g, m, CRS), repeat
            )
            a_med, a_best, a_cpu = timed(
                lambda g=after_input, m=mode: build_road_graph(g, m, CRS), repeat
            )
            yield (
                f"| {name} | {source} | {mode} | {b_med:,.0f} ({b_best:,.0f}) | {b_cpu:,.0f} "
                f"| {a_med:,.0f} ({a_best:,.0f}) | {a_cpu:,.0f} | {after.n_nodes:,} nodes, "
                f"{after.n_segments:,} arcs |"
            )
    med, best, cpu = _table_from_reader_ms(side, max(1, repeat // 2))
    yield (
        f"| OSM reader | the table itself (at load, once per file) | - | - | - "
        f"| {med:,.0f} ({best:,.0f}) | {cpu:,.0f} | {net.osm_table.n_edges:,} edges |"
    )
    med, best, cpu = timed(lambda: road_table(net.nx_graph), max(1, repeat // 2))
    yield (
        f"| networkx | the bulk read (at load for GraphML; part of the rows above) | - | - | - "
        f"| {med:,.0f} ({best:,.0f}) | {cpu:,.0f} | {net.nx_graph.number_of_edges():,} edges |"
    )


def _table_from_reader_ms(side: int, repeat: int) -> tuple[float, float, float]:
    """What the table adds to loading: its arrays, after the junction split the graph needs too."""
    from gridplan.travel.osmroads import _prepare, table_from_elements

    el = lattice_elements(side)
    wall, cpu = [], []
    for _ in range(repeat):
        with no_stretch_limit(side):
            prepared = _prepare(el, "lattice.osm")
        t0, c0 = time.perf_counter(), time.process_time()
        table_from_elements(el, "lattice.osm", prepared)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def cache_rows(side: int = 448) -> list[str]:
    """A second model of the same loaded file: the travel graph comes from the cache."""
    from gridplan.travel.graphcache import cache_info, clear_cache
    from gridplan.travel.network import NetworkModel
    from gridplan.travel.roadtable import attach_table

    net = networks(side)
    attach_table(net.osm_graph, replace(net.osm_table, digest="bench"))  # as load_roads does
    clear_cache()
    first, _, first_cpu = timed(lambda: NetworkModel(net.osm_graph, mode="walk").road_graph(CRS), 1)
    again, best, cpu = timed(lambda: NetworkModel(net.osm_graph, mode="walk").road_graph(CRS), 5)
    n, nbytes = cache_info()
    clear_cache()
    return [
        f"| OSM reader | a new model of the same file and mode (cache hit; first model: "
        f"miss) | walk | {first:,.0f} | {first_cpu:,.0f} | {again:,.2f} ({best:,.2f}) | {cpu:,.2f} "
        f"| {n} graph cached, {nbytes / 1e6:,.0f} MB |"
    ]


def main() -> None:
    quick = "--quick" in sys.argv
    side, repeat = (40, 1) if quick else (448, 5)
    print(
        f"Synthetic lattices of {side} × {side} = {side * side:,} intersections (not real roads)\n"
    )
    print(
        "| network | built from | mode | before median (best) ms | before CPU ms "
        "| after median (best) ms | after CPU ms | graph |"
    )
    print("|---|---|---|---:|---:|---:|---:|---|")
    for row in itertools.chain(rows(side, repeat), cache_rows(side)):
        print(row, flush=True)


if __name__ == "__main__":
    main()
