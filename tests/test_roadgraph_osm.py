"""Road tables from the OSM reader, the travel-graph cache and the no-edges check.

The reader's table must describe the networkx graph ``load_roads`` returns
edge for edge (same order, lengths, geometries, tags), so that the travel graph
built from it equals the former build on the graph.  The sample file has
one-way streets (``yes``, ``-1``, a roundabout), ``maxspeed`` tags, bends,
a closed way, a way clipped at the file's edge and a separate island.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from benchmarks import bench_roadgraph
from benchmarks.bench_roadgraph import assert_same
from benchmarks.roadgraph_former import build_road_graph_former
from gridplan import settings
from gridplan._validate import Problems
from gridplan.travel import graphcache
from gridplan.travel.graph import build_road_graph
from gridplan.travel.network import NetworkModel
from gridplan.travel.roads import load_roads
from gridplan.travel.roadtable import RoadTable, graph_has_edges, road_table, table_of

CRS = "EPSG:4547"
MODES = ("walk", "ebike", "drive")


def _node(i: int, lat: float, lon: float) -> str:
    return f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}"/>'


def _way(i: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    tag = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{i}">{nds}{tag}</way>'


def sample_osm(path: Path) -> Path:
    """A 6 × 6 street grid (~110 m blocks) with every kind of way the reader treats apart."""
    lat0, lon0, step = 38.04, 114.50, 0.001
    nodes = [
        _node(100 + 10 * r + c, lat0 + r * step, lon0 + c * step * 1.27)
        for r in range(6)
        for c in range(6)
    ]
    nodes += [_node(900, lat0 + 0.0005, lon0 + 0.0003)]  # a bend in row 0
    nodes += [_node(950 + k, 38.10 + k * 0.001, 114.60) for k in range(3)]  # the island
    nodes += [
        _node(960, lat0 + 4.3 * step, lon0 + 4.6 * step),
        _node(961, lat0 + 4.6 * step, lon0 + 4.2 * step),
    ]
    nodes += [
        _node(970, lat0 + 5.3 * step, lon0 + 5.6 * step),
        _node(971, lat0 + 5.6 * step, lon0 + 5.2 * step),
    ]
    ways = []
    kinds = [
        {"highway": "primary", "maxspeed": "60"},
        {"highway": "residential", "oneway": "yes"},
        {"highway": "tertiary", "oneway": "-1"},
        {"highway": "secondary", "maxspeed": "40 mph"},
        {"highway": "footway"},
        {"highway": "motorway", "oneway": "yes", "maxspeed": "100"},
    ]
    for r in range(6):
        refs = [100 + 10 * r + c for c in range(6)]
        if r == 0:
            refs.insert(1, 900)
        ways.append(_way(1 + r, refs, **kinds[r]))
    for c in range(6):
        refs = [100 + 10 * r + c for r in range(6)]
        if c == 5:
            refs.append(999)  # clipped: node 999 is not in the file
        ways.append(_way(20 + c, refs, highway=["residential", "service"][c % 2]))
    ring = [111, 112, 122, 121, 111]
    ways.append(_way(40, ring, highway="residential", junction="roundabout"))
    ways.append(_way(41, [133, 134, 144, 143, 133], highway="service"))  # closed, two-way
    ways.append(_way(42, [950, 951, 952], highway="unclassified", maxspeed="30"))
    ways.append(_way(44, [144, 960, 961, 144], highway="service"))  # a loop off one junction
    ways.append(_way(45, [155, 970, 971, 155], highway="residential", oneway="-1"))
    ways.append(_way(43, [100, 101], waterway="river"))  # not a road
    body = "".join(nodes) + "".join(ways)
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{body}</osm>', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def osm_file(tmp_path_factory) -> Path:
    return sample_osm(tmp_path_factory.mktemp("roads") / "sample.osm")


@pytest.fixture(scope="module")
def loaded(osm_file) -> nx.MultiDiGraph:
    return load_roads(osm_file)


def assert_same_table(a: RoadTable, b: RoadTable) -> None:
    assert a.node_ids == b.node_ids and a.crs == b.crs and a.directed == b.directed
    for name in ("x", "y", "u", "v", "length", "has_geom"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert [a.tags[c] for c in a.tag] == [b.tags[c] for c in b.tag]
    assert all(
        shapely.equals_exact(g, h, 0.0)
        for g, h in zip(a.geom[a.has_geom], b.geom[b.has_geom], strict=True)
    )


def test_the_readers_table_is_the_graph_edge_for_edge(loaded) -> None:
    table = table_of(loaded)
    assert table is not None and table.digest
    assert table.n_edges == loaded.number_of_edges() > 60
    assert_same_table(table, road_table(loaded))
    # one-way streets kept one direction, oneway=-1 runs against the way, the island is there
    oneway = {(u, v) for u, v, d in loaded.edges(data=True) if d["oneway"]}
    assert (110, 111) in oneway and (111, 110) not in oneway
    assert (121, 120) in oneway and (120, 121) not in oneway
    assert (111, 112) in oneway and (112, 111) not in oneway  # the roundabout
    assert {950, 952} <= set(loaded.nodes) and 999 not in loaded.nodes
    assert loaded.number_of_edges(144, 144) == 2 and loaded.number_of_edges(155, 155) == 1


@pytest.mark.parametrize("mode", MODES)
def test_travel_graph_from_the_readers_table_equals_the_former_build(loaded, mode: str) -> None:
    old = build_road_graph_former(loaded, mode, CRS)
    assert_same(build_road_graph(loaded, mode, CRS), old)
    assert_same(build_road_graph(table_of(loaded), mode, CRS), old)
    assert old.n_segments > 0


def test_graphml_and_polygon_cut_get_their_tables_in_bulk(loaded, osm_file, tmp_path) -> None:
    import osmnx as ox

    path = tmp_path / "sample.graphml"
    ox.save_graphml(loaded, path)
    graphml = load_roads(path)
    t = table_of(graphml)
    assert t is not None and t.digest and t.n_edges == graphml.number_of_edges()
    assert_same_table(t, road_table(graphml))
    for mode in MODES:
        assert_same(
            build_road_graph(graphml, mode, CRS), build_road_graph_former(graphml, mode, CRS)
        )
    cut = load_roads(osm_file, polygon=box(114.499, 38.039, 114.5035, 38.0425))
    tc = table_of(cut)
    assert tc is not None and 0 < tc.n_edges == cut.number_of_edges() < t.n_edges
    assert tc.digest not in (t.digest, table_of(loaded).digest)
    assert_same(build_road_graph(cut, "drive", CRS), build_road_graph_former(cut, "drive", CRS))


def test_a_table_is_dropped_once_its_graph_changes(osm_file) -> None:
    graph = load_roads(osm_file)
    assert table_of(graph) is not None and table_of(graph.copy()) is None
    graph.add_node(-1, x=114.5, y=38.0)
    assert table_of(graph) is None  # read again from the graph, in bulk


def test_travel_graphs_are_cached_per_file_mode_and_setting(
    osm_file, tmp_path, monkeypatch
) -> None:
    graphcache.clear_cache()
    a, b = load_roads(osm_file), load_roads(osm_file)  # the same file read twice
    assert a is not b and table_of(a).digest == table_of(b).digest
    rg = NetworkModel(a, mode="walk").road_graph(CRS)
    assert NetworkModel(b, mode="walk", cutoff_min=15.0).road_graph(CRS) is rg
    assert NetworkModel(b, mode="drive").road_graph(CRS) is not rg
    assert NetworkModel(b, mode="walk", densify_m=25.0).road_graph(CRS) is not rg
    speeds = NetworkModel(b, mode="walk", speeds_kmh={"primary": 3.0}).road_graph(CRS)
    assert speeds is not rg and speeds.matrix.data.max() > rg.matrix.data.max()
    n, nbytes = graphcache.cache_info()
    assert n == 4 and nbytes == sum(graphcache.road_graph_nbytes(g) for g in _cached())
    assert graphcache.road_graph_nbytes(rg) > rg.matrix.data.nbytes + rg.xy.nbytes
    # another file: another key
    other = tmp_path / "other.osm"
    other.write_text(
        osm_file.read_text(encoding="utf-8").replace('v="60"', 'v="50"'), encoding="utf-8"
    )
    assert NetworkModel(load_roads(other), mode="walk").road_graph(CRS) is not rg
    # over the budget the least recently used go, the newest stays
    monkeypatch.setattr(settings, "road_graph_cache_mb", 0.0)
    newest = NetworkModel(a, mode="ebike").road_graph(CRS)
    assert graphcache.cache_info()[0] == 1 and _cached() == [newest]
    graphcache.clear_cache()
    assert graphcache.cache_info() == (0, 0)


def _cached() -> list:
    return [g for g, _ in graphcache._GRAPHS.values()]


def test_graphs_made_in_memory_are_not_shared(loaded) -> None:
    graphcache.clear_cache()
    g = nx.MultiDiGraph(loaded)  # a copy: no table, no file
    m1, m2 = NetworkModel(g, mode="walk"), NetworkModel(g, mode="walk")
    assert m1.road_graph(CRS) is not m2.road_graph(CRS)
    assert m1.road_graph(CRS) is m1.road_graph(CRS)  # each model keeps its own
    assert graphcache.cache_info() == (0, 0)


class _NoEdgeCount(nx.MultiDiGraph):
    def number_of_edges(self, u=None, v=None):  # type: ignore[override]
        raise AssertionError("number_of_edges counts every edge: not called per check")


def test_no_edges_check_does_not_count_edges(loaded) -> None:
    g = _NoEdgeCount(loaded)
    assert graph_has_edges(g) and graph_has_edges(loaded)
    problems = Problems("network.invalid", "test")
    NetworkModel(g, mode="walk")._check_parameters(problems)
    assert not problems.codes
    empty = nx.MultiDiGraph(crs=CRS)
    empty.add_node(1, x=0.0, y=0.0)
    empty.add_node(2, x=1.0, y=0.0)
    assert not graph_has_edges(empty)
    with pytest.raises(Exception, match="no edges"):
        NetworkModel(empty)


def test_benchmark_quick_mode_builds_equal_graphs() -> None:
    rows = [*bench_roadgraph.rows(side=12, repeat=1), *bench_roadgraph.cache_rows(side=12)]
    assert len(rows) == 9 and all(r.startswith("| ") for r in rows)
    assert "1 graph cached" in rows[-1]
    graphcache.clear_cache()
