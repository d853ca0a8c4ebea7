"""The travel graph built from road tables equals the former per-edge build, array for array.

The former build (``benchmarks.roadgraph_former``) walked the networkx graph
edge by edge; the new one reads a :class:`~gridplan.travel.roadtable.RoadTable`
(from the OSM reader, or read in bulk from the graph).  Compared on graphs with
one-way streets, ``maxspeed`` tags, closed and motorway classes, lists of
classes, curved and unmeasured edges, parallel roads, loops and disconnected
parts, for every mode and kind of networkx graph.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString

from benchmarks.bench_network import CRS
from benchmarks.bench_roadgraph import assert_same, city_lattice
from benchmarks.roadgraph_former import build_road_graph_former
from gridplan.surface.grid import CellGrid
from gridplan.travel.graph import RoadGraph, build_road_graph
from gridplan.travel.network import NetworkModel
from gridplan.travel.roadtable import road_table, tag_codes

MODES = ("walk", "ebike", "drive")


def lattice_with_variety() -> nx.MultiDiGraph:
    """A 12 × 12 lattice with every kind of edge the build treats apart, and an island."""
    g = city_lattice(side=12, block_m=100.0)
    edges = list(g.edges(keys=True))
    for i, (u, v, k) in enumerate(edges):
        d = g.edges[u, v, k]
        if i % 7 == 0:
            d["highway"] = "motorway"
        elif i % 11 == 0:
            d["highway"] = ["residential", "service"]
        elif i % 13 == 0:
            d["highway"] = "construction"
        if i % 5 == 0:
            d["maxspeed"] = "20"
        elif i % 23 == 0:
            d["maxspeed"] = 50  # a number and its text are different tags
        if i % 17 == 0:
            del d["length"]
        if i % 9 == 0:
            a, b = g.nodes[u], g.nodes[v]
            mx, my = (a["x"] + b["x"]) / 2 + 10.0, (a["y"] + b["y"]) / 2 + 10.0
            d["geometry"] = LineString([(a["x"], a["y"]), (mx, my), (b["x"], b["y"])])
    for u, v, _k in edges[::19]:  # one-way: drop the twin
        if g.has_edge(v, u):
            g.remove_edge(v, u)
    # parallel roads between the same two nodes, short (unsplit) and curved
    a, b = g.nodes[0], g.nodes[1]
    bend = LineString([(a["x"], a["y"]), (a["x"] + 50.0, a["y"] - 30.0), (b["x"], b["y"])])
    g.add_edge(0, 1, length=40.0, highway="service")
    g.add_edge(1, 0, length=45.0, highway="service")
    g.add_edge(0, 1, length=120.0, highway="residential", geometry=bend)
    # a loop back to the same node, one unsplit and one split into pieces
    g.add_edge(5, 5, length=30.0, highway="residential")
    c = g.nodes[7]
    ring = LineString([(c["x"], c["y"]), (c["x"] + 40, c["y"] + 40), (c["x"], c["y"] + 80)])
    g.add_edge(7, 7, length=90.0, highway="residential", geometry=ring)
    g.add_edge(7, 7, length=90.0, highway="residential", geometry=ring.reverse())
    # an island away from the rest, with string node ids
    x0, y0 = a["x"] + 5000.0, a["y"] + 5000.0
    g.add_node("i1", x=x0, y=y0)
    g.add_node("i2", x=x0 + 300.0, y=y0)
    g.add_edge("i1", "i2", length=300.0, highway="tertiary", maxspeed="40")
    g.add_edge("i2", "i1", length=300.0, highway="tertiary", maxspeed="40")
    return g


@pytest.fixture(scope="module")
def varied() -> nx.MultiDiGraph:
    return lattice_with_variety()


def _kinds(g: nx.MultiDiGraph) -> dict[str, nx.Graph]:
    return {"multidigraph": g, "digraph": nx.DiGraph(g), "graph": nx.Graph(g)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["multidigraph", "digraph", "graph"])
def test_build_equals_the_former_build(varied, mode: str, kind: str) -> None:
    graph = _kinds(varied)[kind]
    old = build_road_graph_former(graph, mode, CRS)
    assert old.n_nodes > graph.number_of_nodes() and old.n_segments > 0
    assert_same(build_road_graph(graph, mode, CRS), old)
    assert_same(build_road_graph(road_table(graph), mode, CRS), old)


@pytest.mark.parametrize("densify_m", [None, 35.0])
def test_build_equals_the_former_build_with_speeds_and_densification(varied, densify_m) -> None:
    speeds = {"tertiary": 12.0, "motorway": 90.0}
    for mode in MODES:
        old = build_road_graph_former(varied, mode, CRS, densify_m=densify_m, speeds_kmh=speeds)
        new = build_road_graph(varied, mode, CRS, densify_m=densify_m, speeds_kmh=speeds)
        assert_same(new, old)


def _former_model(graph: nx.Graph, mode: str) -> NetworkModel:
    """A model whose travel graph is the former build's."""
    model = NetworkModel(graph, mode=mode, cutoff_min=30.0)
    old = build_road_graph_former(graph, mode, CRS)
    model._cache[(CRS, mode, model.densify_m, ())] = old
    assert isinstance(model.road_graph(CRS), RoadGraph) and model.road_graph(CRS) is old
    return model


@pytest.mark.parametrize("mode", MODES)
def test_minutes_equal_the_former_build(varied, mode: str) -> None:
    xs = [d["x"] for _, d in varied.nodes(data=True)]
    ys = [d["y"] for _, d in varied.nodes(data=True)]
    grid = CellGrid.from_bounds(
        (min(xs) - 200, min(ys) - 200, max(xs) + 200, max(ys) + 200), 50.0, CRS
    )
    mask = np.ones(grid.shape, dtype=bool)
    fac = np.array([[xs[30] + 20.0, ys[30] + 15.0], [xs[100] - 35.0, ys[100]]])
    old = _former_model(varied, mode).travel_times(grid, mask, fac)
    new = NetworkModel(varied, mode=mode, cutoff_min=30.0).travel_times(grid, mask, fac)
    reached = np.isfinite(new.minutes)
    assert 100 < reached.sum() < mask.sum()  # some cells beyond the cutoff or unreachable
    np.testing.assert_array_equal(new.minutes, old.minutes)
    np.testing.assert_array_equal(new.nearest, old.nearest)
    pts = np.column_stack(grid.centres(*np.nonzero(mask)))
    old_pairs = _former_model(varied, mode).pairs(grid, pts, fac, 20.0)
    new_pairs = NetworkModel(varied, mode=mode, cutoff_min=30.0).pairs(grid, pts, fac, 20.0)
    assert new_pairs.n_pairs == old_pairs.n_pairs > 0
    np.testing.assert_array_equal(new_pairs.minutes, old_pairs.minutes)


def test_the_table_reads_what_the_former_loop_read(varied) -> None:
    t = road_table(varied)
    assert t.n_nodes == varied.number_of_nodes() and t.n_edges == varied.number_of_edges()
    assert t.directed and t.crs == CRS and t.node_ids == list(varied.nodes)
    for e, (u, v, d) in enumerate(varied.edges(data=True)):
        assert (t.node_ids[t.u[e]], t.node_ids[t.v[e]]) == (u, v)
        assert t.tags[t.tag[e]] == (d.get("highway"), d.get("maxspeed"))
        assert t.geom[e] is d.get("geometry")
        if "length" in d:
            assert t.length[e] == d["length"]
        else:
            assert np.isnan(t.length[e])
    # a number is a tag of its own; the lists of classes count by their items
    assert any(m == 50 and isinstance(m, int) for _, m in t.tags)
    assert any(isinstance(h, list) for h, _ in t.tags)
    assert len(t.tags) == len({(repr(h), repr(m)) for h, m in t.tags})


def test_wkt_geometry_and_text_numbers_are_read_as_before() -> None:
    g = nx.MultiDiGraph(crs=CRS)
    g.add_node(1, x="500000", y=4_210_000.0)
    g.add_node(2, x=500_300.0, y="4210000.5")
    g.add_edge(
        1,
        2,
        length="310.5",
        highway="residential",
        geometry="LINESTRING (500000 4210000, 500150 4210040, 500300 4210000.5)",
    )
    g.add_edge(2, 1, length="n/a", highway="residential")
    for mode in MODES:
        old = build_road_graph_former(g, mode, CRS)
        assert_same(build_road_graph(g, mode, CRS), old)
    t = road_table(g)
    assert t.length[0] == 310.5 and np.isnan(t.length[1]) and t.has_geom.tolist() == [True, False]


def test_tag_codes_tell_values_and_types_apart() -> None:
    codes, pairs = tag_codes(
        ["a", ["b", "c"], "a", ("b", "c"), ["b", "c"], "a"], [None, "50", 50, "50", "50", None]
    )
    assert codes.tolist() == [0, 1, 2, 3, 1, 0]
    assert pairs == [("a", None), (["b", "c"], "50"), ("a", 50), (("b", "c"), "50")]
    codes, pairs = tag_codes(["a", {"x": 1}, {"x": 1}], ["1", None, None])  # unhashable: by text
    assert codes.tolist() == [0, 1, 1] and pairs[1] == ({"x": 1}, None)
