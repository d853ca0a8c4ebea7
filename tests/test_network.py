"""Road-network travel time (gridplan.travel.network).

The hand-built graphs use the metric CRS directly (node x/y in metres), so
every expected value below is worked out by hand: walk 4.8 km/h = 80 m/min,
e-bike 15 km/h = 250 m/min, car on a tertiary road 30 km/h = 500 m/min, and
off-road legs at 4.8 km/h × 1.3 detour = 0.01625 min/m.
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from pyproj import Transformer

from gridplan.access.coverage import CoverageIndex
from gridplan.errors import InputError
from gridplan.i18n import error_text
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.graph import build_road_graph
from gridplan.travel.network import NetworkModel
from gridplan.travel.roads import load_roads
from gridplan.travel.speeds import ROAD_SPEEDS_KMH, edge_speed_kmh, parse_maxspeed

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "roads_sample.osm"
CRS = "EPSG:4547"  # CGCS2000 3-degree Gauss-Krüger, central meridian 114°E
X0, Y0 = 500_000.0, 4_210_000.0
LEG = 1.3 / 80.0  # minutes per off-road metre (4.8 km/h, detour 1.3)


def nid(r: int, c: int) -> int:
    """OSM id of the fixture's intersection at row r (south = 0), column c (west = 0)."""
    return 10000 + 100 * r + c


@pytest.fixture(scope="module")
def roads() -> nx.MultiDiGraph:
    return load_roads(FIXTURE)


@pytest.fixture(scope="module")
def to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", CRS, always_xy=True)


def square(*, oneway_ab: bool = False, highway: str = "tertiary", side: float = 800.0):
    """A square block A(0,0) B(side,0) C(side,side) D(0,side); A→B optionally one-way."""
    g = nx.MultiDiGraph(crs=CRS)
    for name, (dx, dy) in {"A": (0, 0), "B": (side, 0), "C": (side, side), "D": (0, side)}.items():
        g.add_node(name, x=X0 + dx, y=Y0 + dy)

    def road(u: str, v: str, oneway: bool = False) -> None:
        g.add_edge(u, v, length=side, highway=highway, oneway=oneway)
        if not oneway:
            g.add_edge(v, u, length=side, highway=highway, oneway=False)

    road("A", "B", oneway=oneway_ab)
    road("B", "C")
    road("C", "D")
    road("D", "A")
    return g


def cell_at(x: float, y: float, cell_m: float = 100.0) -> CellGrid:
    """A one-cell grid whose centre is (x, y)."""
    h = cell_m / 2
    return CellGrid(crs=CRS, x0=x - h, y0=y + h, cell_m=cell_m, nrows=1, ncols=1)


def time_at(model: NetworkModel, x: float, y: float, facilities) -> tuple[float, int]:
    grid = cell_at(x, y)
    tt = model.travel_times(grid, np.ones(grid.shape, bool), np.asarray(facilities, float))
    return float(tt.minutes[0, 0]), int(tt.nearest[0, 0])


# --------------------------------------------------------------------------- loading, speeds


def test_fixture_loads_roads_only(roads):
    assert roads.number_of_edges() > 300
    assert all("highway" in d for _, _, d in roads.edges(data=True))
    # the building outline (corner 114.49544E 38.0364N) is not a road
    assert not any(
        abs(d["x"] - 114.49544) < 1e-5 and abs(d["y"] - 38.0364) < 1e-5
        for _, d in roads.nodes(data=True)
    )
    # one-way column 7 (northbound): edges only south → north
    assert roads.has_edge(nid(3, 7), nid(4, 7))
    assert not roads.has_edge(nid(4, 7), nid(3, 7))
    # a two-way street has both directions
    assert roads.has_edge(nid(5, 4), nid(5, 5)) and roads.has_edge(nid(5, 5), nid(5, 4))


def test_speeds_per_class_and_mode(roads):
    primary = next(d for _, _, d in roads.edges(data=True) if d["highway"] == "primary")
    motorway = next(d for _, _, d in roads.edges(data=True) if d["highway"] == "motorway")
    footway = next(d for _, _, d in roads.edges(data=True) if d["highway"] == "footway")
    school = next(d for _, _, d in roads.edges(data=True) if d.get("maxspeed") == "30")
    assert edge_speed_kmh(primary, "drive") == 50.0
    assert edge_speed_kmh(primary, "walk") == 4.8
    assert edge_speed_kmh(primary, "ebike") == 15.0
    assert edge_speed_kmh(motorway, "drive") == 80.0
    assert edge_speed_kmh(motorway, "walk") is None
    assert edge_speed_kmh(motorway, "ebike") is None
    assert edge_speed_kmh(footway, "drive") is None
    assert edge_speed_kmh(footway, "walk") == 4.8
    # secondary (40 km/h) with maxspeed 30: the limit lowers it, for cars only
    assert school["highway"] == "secondary"
    assert edge_speed_kmh(school, "drive") == 30.0
    assert edge_speed_kmh(school, "ebike") == 15.0
    # a high limit never raises the class speed
    assert edge_speed_kmh({"highway": "residential", "maxspeed": "80"}, "drive") == 20.0


def test_speed_rules_lists_unknown_closed():
    # lists (merged ways): usable only if every class is, at the slowest speed
    assert edge_speed_kmh({"highway": ["residential", "service"]}, "drive") == 15.0
    assert edge_speed_kmh({"highway": ["primary", "footway"]}, "drive") is None
    assert edge_speed_kmh({"highway": "['primary', 'secondary']"}, "drive") == 40.0
    # unknown class → like "road"; closed classes never
    assert edge_speed_kmh({"highway": "some_local_tag"}, "drive") == 20.0
    assert edge_speed_kmh({}, "walk") == 4.8
    assert edge_speed_kmh({"highway": "construction"}, "walk") is None
    assert edge_speed_kmh({"highway": "trunk_link"}, "walk") is None
    assert edge_speed_kmh({"highway": "steps"}, "ebike") is None
    # overrides
    assert edge_speed_kmh({"highway": "primary"}, "drive", {"primary": 35.0}) == 35.0
    with pytest.raises(InputError):
        edge_speed_kmh({"highway": "primary"}, "bike")
    # every mode's table is positive and walking is never faster than 4.8
    assert all(v > 0 for t in ROAD_SPEEDS_KMH.values() for v in t.values())
    assert set(ROAD_SPEEDS_KMH["walk"].values()) == {4.8}


def test_parse_maxspeed():
    assert parse_maxspeed("60") == 60.0
    assert parse_maxspeed("60 km/h") == 60.0
    assert parse_maxspeed("30 mph") == pytest.approx(48.28032)
    assert parse_maxspeed(["40", "60"]) == 40.0
    assert parse_maxspeed("50;70") == 50.0
    for bad in ("CN:urban", "none", "signals", "walk", None, "", "0", "999"):
        assert parse_maxspeed(bad) is None


# --------------------------------------------------------------------------- exact small cases


@pytest.mark.parametrize("densify_m", [None, 50.0])
@pytest.mark.parametrize(
    ("mode", "oneway_ab", "expected_road_min"),
    [
        ("walk", False, 800 / 80),  # B → A direct
        ("walk", True, 800 / 80),  # walking ignores oneway
        ("ebike", True, 800 / 250),
        ("drive", False, 800 / 500),  # B → A on a two-way tertiary
        ("drive", True, 3 * 800 / 500),  # A→B one-way: B → C → D → A
    ],
)
def test_hand_computed_minutes(mode, oneway_ab, expected_road_min, densify_m):
    g = square(oneway_ab=oneway_ab)
    model = NetworkModel(g, mode=mode, densify_m=densify_m, direct_walk=False)
    # facility 100 m off A (outwards), cell 50 m off B (outwards): nearest nodes A and B
    fac = [[X0 - 60.0, Y0 - 80.0]]
    minutes, nearest = time_at(model, X0 + 800 + 30.0, Y0 - 40.0, fac)
    assert minutes == pytest.approx(100 * LEG + expected_road_min + 50 * LEG, rel=1e-6)
    assert nearest == 0
    # the other way round (cell near A, facility near B): A → B is always allowed
    fac_b = [[X0 + 800 + 30.0, Y0 - 40.0]]
    minutes_a, _ = time_at(model, X0 - 60.0, Y0 - 80.0, fac_b)
    road = {"walk": 10.0, "ebike": 3.2, "drive": 1.6}[mode]
    assert minutes_a == pytest.approx(100 * LEG + road + 50 * LEG, rel=1e-6)


def test_undirected_graph_is_two_way_for_cars():
    g = nx.Graph(square(oneway_ab=True))  # an undirected graph has no direction to honour
    g.graph["crs"] = CRS
    model = NetworkModel(g, mode="drive", direct_walk=False)
    minutes, _ = time_at(model, X0 + 800, Y0, [[X0, Y0]])
    assert minutes == pytest.approx(1.6)


def test_maxspeed_lowers_drive_speed_in_routing():
    g = square(highway="primary")
    for _, _, d in g.edges(data=True):
        d["maxspeed"] = "30"
    model = NetworkModel(g, mode="drive", direct_walk=False)
    minutes, _ = time_at(model, X0 + 800, Y0, [[X0, Y0]])
    assert minutes == pytest.approx(800 / 500)  # 30 km/h, not the primary's 50


def _reference_graph(g: nx.MultiDiGraph, mode: str) -> nx.DiGraph:
    """Reversed travel graph with networkx, straight from the speed table."""
    h = nx.DiGraph()
    h.add_nodes_from(g.nodes)
    for u, v, d in g.edges(data=True):
        s = edge_speed_kmh(d, mode)
        if s is None:
            continue
        w = float(d["length"]) / (s * 1000.0 / 60.0)
        for a, b in [(u, v)] if mode == "drive" else [(u, v), (v, u)]:
            if not h.has_edge(b, a) or h[b][a]["weight"] > w:
                h.add_edge(b, a, weight=w)
    return h


@pytest.mark.parametrize("densify_m", [None, 50.0])
@pytest.mark.parametrize("mode", ["walk", "ebike", "drive"])
def test_node_minutes_match_networkx(roads, mode, densify_m):
    rg = build_road_graph(roads, mode, CRS, densify_m=densify_m)
    facilities = [nid(5, 5), nid(2, 8)]
    fac_idx = np.array([rg.node_ids.index(f) for f in facilities])
    legs = np.array([0.0, 1.5])  # the second facility sits 1.5 min off its node
    minutes, label = rg.minutes_from_nodes(fac_idx, legs, np.array([0, 1]))
    h = _reference_graph(roads, mode)
    h.add_edge("S", facilities[0], weight=0.0)
    h.add_edge("S", facilities[1], weight=1.5)
    ref = nx.single_source_dijkstra_path_length(h, "S", weight="weight")
    each = [nx.single_source_dijkstra_path_length(h, f, weight="weight") for f in facilities]
    for i, node in enumerate(rg.node_ids):
        if node in ref:
            assert minutes[i] == pytest.approx(ref[node], rel=1e-9, abs=1e-9)
            t0 = each[0].get(node, math.inf)
            t1 = each[1].get(node, math.inf) + 1.5
            if abs(t0 - t1) > 1e-6:
                assert label[i] == (0 if t0 < t1 else 1)
        else:
            assert math.isinf(minutes[i]) and label[i] == -1
    # with several sources and no legs, same as networkx's multi-source Dijkstra
    m0, _ = rg.minutes_from_nodes(fac_idx, np.zeros(2), np.array([0, 1]))
    ms = nx.multi_source_dijkstra_path_length(h, set(facilities), weight="weight")
    for i, node in enumerate(rg.node_ids):
        assert m0[i] == pytest.approx(ms.get(node, math.inf), rel=1e-9, abs=1e-9)


def test_drive_is_from_cell_to_facility(roads):
    """On the one-way column 7 (northbound) a car goes north freely but not south."""
    rg = build_road_graph(roads, "drive", CRS, densify_m=None)
    south, north = rg.node_ids.index(nid(3, 7)), rg.node_ids.index(nid(4, 7))
    # facility at the north node: from the south node a car drives the block (500 m)
    m_north, _ = rg.minutes_from_nodes(np.array([north]), np.zeros(1), np.zeros(1, int))
    block_m = roads[nid(3, 7)][nid(4, 7)][0]["length"]
    assert m_north[south] == pytest.approx(block_m / (20 * 1000 / 60))  # residential 20 km/h
    # facility at the south node: from the north node a car must go around
    m_south, _ = rg.minutes_from_nodes(np.array([south]), np.zeros(1), np.zeros(1, int))
    assert m_south[north] > 2 * m_north[south]  # 1.5 km around the block, partly at 40


# --------------------------------------------------------------------------- facilities, cutoff


def _fixture_grid(to_metric: Transformer, cell_m: float) -> CellGrid:
    x0, y0 = to_metric.transform(114.4715, 38.0175)
    x1, y1 = to_metric.transform(114.5285, 38.0625)
    return CellGrid.from_bounds((x0, y0, x1, y1), cell_m, CRS)


def _facilities(to_metric: Transformer) -> np.ndarray:
    lon = [114.4829, 114.5114, 114.5200]
    lat = [38.0400, 38.0580, 38.0220]
    return np.column_stack(to_metric.transform(lon, lat))


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_two_facilities_nearest_is_the_faster(roads, to_metric, mode):
    grid = _fixture_grid(to_metric, 200.0)
    mask = np.ones(grid.shape, bool)
    fac = _facilities(to_metric)[:2]
    model = NetworkModel(roads, mode=mode)
    both = model.travel_times(grid, mask, fac)
    t0 = model.travel_times(grid, mask, fac[:1]).minutes
    t1 = model.travel_times(grid, mask, fac[1:]).minutes
    np.testing.assert_allclose(both.minutes, np.minimum(t0, t1), rtol=1e-6)
    with np.errstate(invalid="ignore"):  # inf - inf where neither is within the cutoff
        clear = ~(np.abs(t0 - t1) <= 1e-3)
    clear &= np.isfinite(np.minimum(t0, t1))
    assert clear.sum() > 0.9 * clear.size
    np.testing.assert_array_equal(both.nearest[clear], np.where(t0 < t1, 0, 1)[clear])


def test_cutoff_keeps_a_time_equal_to_it():
    g = square()
    # cells centred on A, A+100 m, ..., B along the road; facility on A
    grid = CellGrid(crs=CRS, x0=X0 - 50, y0=Y0 + 50, cell_m=100.0, nrows=1, ncols=9)
    mask = np.ones(grid.shape, bool)
    fac = np.array([[X0, Y0]])
    exact = NetworkModel(g, mode="walk", cutoff_min=10.0).travel_times(grid, mask, fac)
    np.testing.assert_array_equal(exact.minutes[0], np.arange(9) * 1.25)  # 100 m = 1.25 min
    assert exact.minutes[0, 8] == 10.0 and exact.nearest[0, 8] == 0
    below = NetworkModel(g, mode="walk", cutoff_min=9.99).travel_times(grid, mask, fac)
    assert math.isinf(below.minutes[0, 8]) and below.nearest[0, 8] == -1
    assert np.isfinite(below.minutes[0, :8]).all()
    assert below.cutoff_min == 9.99


def test_beyond_cutoff_is_inf(roads, to_metric):
    grid = _fixture_grid(to_metric, 200.0)
    tt = NetworkModel(roads, mode="walk", cutoff_min=15.0).travel_times(
        grid, np.ones(grid.shape, bool), _facilities(to_metric)[:1]
    )
    finite = np.isfinite(tt.minutes)
    assert 0 < finite.sum() < finite.size
    assert tt.minutes[finite].max() <= 15.0
    assert (tt.nearest[~finite] == -1).all() and (tt.nearest[finite] == 0).all()


def test_covered_exactly_when_time_at_most_threshold():
    g = square()
    grid = CellGrid(crs=CRS, x0=X0 - 50, y0=Y0 + 50, cell_m=100.0, nrows=1, ncols=9)
    tt = NetworkModel(g, mode="walk").travel_times(
        grid, np.ones(grid.shape, bool), np.array([[X0, Y0]])
    )
    surface = PopulationSurface(
        grid=grid,
        population=np.ones(grid.shape, np.float32),
        unit_index=np.zeros(grid.shape, np.int32),
        unit_ids=["u"],
    )
    idx = CoverageIndex.build(surface, tt)
    assert idx.covered(10.0).sum() == 9  # the cell at exactly 10.0 min is covered
    assert idx.covered(9.99).sum() == 8
    assert idx.covered(8.75).sum() == 8  # 700 m = 8.75 min exactly
    for t in np.arange(0, 11, 1.25):
        np.testing.assert_array_equal(idx.covered(float(t)), idx.minutes <= t)


# --------------------------------------------------------------------------- off-road legs


def test_off_network_cell_walks_straight():
    g = square()
    x, y = X0 + 400.0, Y0 - 3000.0  # 3 km south of the block: no node within 2 km
    d = math.hypot(400.0, 3000.0)
    model = NetworkModel(g, mode="walk")
    grid = cell_at(x, y)
    tt = model.travel_times(grid, np.ones((1, 1), bool), np.array([[X0, Y0]]))
    assert tt.minutes[0, 0] == pytest.approx(d * LEG, rel=1e-6)
    assert tt.params["cells_off_network"] == 1 and tt.params["cells_direct_walk"] == 1
    no_walk = NetworkModel(g, mode="walk", direct_walk=False)
    assert math.isinf(time_at(no_walk, x, y, [[X0, Y0]])[0])
    # with a larger snap radius the cell joins the network: 2,600 m to the A–B road
    far = NetworkModel(g, mode="walk", max_snap_m=5000.0, direct_walk=False)
    assert time_at(far, x, y, [[X0, Y0]])[0] == pytest.approx(3000 * LEG + 400 / 80, rel=1e-6)


def test_facility_inside_a_block_is_reached_on_foot():
    g = square()
    # facility inside the block, 380 m from the A–B road (its nearest node: the
    # middle of A–B); the cell 70 m north of it is 350 m from the C–D road
    fac = [[X0 + 400.0, Y0 + 380.0]]
    x, y = X0 + 400.0, Y0 + 450.0
    minutes, nearest = time_at(NetworkModel(g, mode="walk"), x, y, fac)
    assert minutes == pytest.approx(70 * LEG) and nearest == 0
    # without the direct walk: 350 m to C–D, 400 + 800 + 400 m round the block, 380 m in
    no_walk = NetworkModel(g, mode="walk", direct_walk=False)
    assert time_at(no_walk, x, y, fac)[0] == pytest.approx((350 + 380) * LEG + 1600 / 80)
    # a cell nearer its road than the facility keeps the network time
    assert time_at(NetworkModel(g, mode="walk"), x, Y0 + 790.0, fac)[0] == pytest.approx(
        time_at(no_walk, x, Y0 + 790.0, fac)[0]
    )


def test_cars_join_motorways_only_at_ramps(roads, to_metric):
    rg = build_road_graph(roads, "drive", CRS)
    # a point on the motorway carriageway north of the grid
    x, y = to_metric.transform(114.4905, 38.0652)
    _, node = rg.snap(np.array([[x, y]]), 1, 2000.0)
    joined = int(node[0, 0])
    assert joined >= 0
    motorway_nodes = {
        rg.node_ids.index(n)
        for u, v, d in roads.edges(data=True)
        if d["highway"] == "motorway"
        for n in (u, v)
        if roads.degree(n) <= 2
    }
    assert joined not in motorway_nodes
    # the joining node lies on the tertiary road along the grid's north edge (38.0625N)
    _, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(*rg.xy[joined])
    assert lat == pytest.approx(38.0625, abs=2e-4)


def test_snap_k_tries_several_nodes():
    # a 40 m fragment far from the block, closer to the cell than the block's road
    g = square()
    g.add_node("F1", x=X0 + 1000.0, y=Y0 - 200.0)
    g.add_node("F2", x=X0 + 1040.0, y=Y0 - 200.0)
    g.add_edge("F1", "F2", length=40.0, highway="service")
    g.add_edge("F2", "F1", length=40.0, highway="service")
    x, y = X0 + 1000.0, Y0 - 150.0
    one = NetworkModel(g, mode="walk", direct_walk=False, densify_m=None)
    assert math.isinf(time_at(one, x, y, [[X0, Y0]])[0])  # stuck on the fragment
    four = NetworkModel(g, mode="walk", direct_walk=False, densify_m=None, snap_k=4)
    assert time_at(four, x, y, [[X0, Y0]])[0] == pytest.approx(
        math.hypot(200.0, 150.0) * LEG + 800 / 80, rel=1e-6
    )


# --------------------------------------------------------------------------- end to end


def test_end_to_end_on_the_fixture(roads, to_metric):
    grid = _fixture_grid(to_metric, 100.0)
    mask = np.ones(grid.shape, bool)
    fac = _facilities(to_metric)
    model = NetworkModel(roads, mode="walk")
    tt = model.travel_times(grid, mask, fac)
    assert tt.model == "network" and tt.minutes.dtype == np.float32
    assert tt.minutes.shape == grid.shape and tt.nearest.dtype == np.int32
    assert set(np.unique(tt.nearest)) == {0, 1, 2}
    rg = model.road_graph(CRS)
    assert model.road_graph(CRS) is rg  # cached per CRS
    rows, cols = np.nonzero(mask)
    cx, cy = grid.centres(rows, cols)
    d, _ = rg.snap(np.column_stack([cx, cy]), 1, 2000.0)
    near_road = d[:, 0] <= 75.0
    assert near_road.mean() > 0.3
    assert np.isfinite(tt.minutes[rows, cols][near_road]).all()
    assert np.isfinite(tt.minutes).all()  # 3 facilities reach the whole 5 × 5 km on foot

    # along the primary road (row 5) eastwards from a facility on it: times increase
    fx, fy = to_metric.transform(114.4829, 38.0400)
    single = model.travel_times(grid, mask, np.array([[fx, fy]]))
    r, c, _ = grid.cell_of(np.array([fx]), np.array([fy]))
    east_x, _ = to_metric.transform(114.5285, 38.0400)
    _, c_end, _ = grid.cell_of(np.array([east_x]), np.array([fy]))
    along = single.minutes[r[0], c[0] + 1 : int(c_end[0])]  # cells east of the facility
    assert len(along) > 30
    assert (np.diff(along) > 0).all()
    # an e-bike is never slower than walking (same roads but steps, 15 vs 4.8 km/h)
    ebike = NetworkModel(roads, mode="ebike").travel_times(grid, mask, fac)
    assert (ebike.minutes <= tt.minutes + 1e-4).all()
    # a car is, only just north of facility 1, which stands on the one-way
    # (northbound) column 7: cars go round the block, pedestrians walk back
    drive = NetworkModel(roads, mode="drive").travel_times(grid, mask, fac)
    slower = drive.minutes > tt.minutes + 1e-4
    assert 0 < slower.sum() < 0.01 * slower.size
    sx, sy = grid.centres(*np.nonzero(slower))
    assert (np.hypot(sx - fac[1, 0], sy - fac[1, 1]) < 400).all()
    assert (sy > fac[1, 1]).all()


def test_graphml_round_trip(roads, tmp_path, to_metric):
    import osmnx as ox

    path = tmp_path / "roads_copy.graphml"
    ox.save_graphml(roads, path)
    again = load_roads(path)
    assert again.number_of_edges() == roads.number_of_edges()
    grid = _fixture_grid(to_metric, 250.0)
    mask = np.ones(grid.shape, bool)
    fac = _facilities(to_metric)
    a = NetworkModel(roads, mode="drive").travel_times(grid, mask, fac)
    b = NetworkModel(again, mode="drive").travel_times(grid, mask, fac)
    np.testing.assert_allclose(a.minutes, b.minutes, rtol=1e-5)


def test_no_facilities_all_inf():
    grid = cell_at(X0 + 10, Y0 + 10)
    tt = NetworkModel(square()).travel_times(grid, np.ones((1, 1), bool), np.empty((0, 2)))
    assert math.isinf(tt.minutes[0, 0]) and tt.nearest[0, 0] == -1


# --------------------------------------------------------------------------- errors


def _zh(exc: BaseException) -> str:
    text = error_text(exc, "zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
    return text


def test_empty_file(tmp_path):
    p = tmp_path / "roads_empty.osm"
    p.write_bytes(b"")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.empty_file"
    assert "是空的" in _zh(e.value) and "roads_empty.osm" in _zh(e.value)


def test_not_xml(tmp_path):
    p = tmp_path / "roads_bad.osm"
    p.write_text("this is not XML at all\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.unreadable"
    assert "无法读取道路网络文件" in _zh(e.value)


def test_xml_without_roads(tmp_path):
    p = tmp_path / "roads_none.osm"
    p.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="38.04" lon="114.5"/><node id="2" lat="38.05" lon="114.5"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="river"/></way></osm>',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.no_roads"
    assert "没有道路" in _zh(e.value)


def test_pbf_without_reader(tmp_path, monkeypatch):
    import gridplan.travel.roads as network

    monkeypatch.setattr(network, "_pbf_reader", lambda: None)
    p = tmp_path / "hebei-latest.osm.pbf"
    p.write_bytes(b"\x00\x00\x00\x0dnot really a pbf")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.pbf_unsupported"
    text = _zh(e.value)
    assert "osmium" in text and "hebei-latest.osm.pbf" in text
    assert "osmium" in error_text(e.value, "en")


def test_missing_and_unknown_format(tmp_path):
    with pytest.raises(InputError) as e:
        load_roads(tmp_path / "nope.osm")
    assert e.value.code == "network.not_found" and "找不到" in _zh(e.value)
    p = tmp_path / "roads.shp"
    p.write_bytes(b"x")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.unknown_format" and "无法识别" in _zh(e.value)
    with pytest.raises(InputError) as e:
        load_roads(None)
    assert e.value.code == "network.no_source"


def test_all_parameter_problems_in_one_error():
    with pytest.raises(InputError) as e:
        NetworkModel(square(), mode="bike", cutoff_min=-1, snap_k=0, offroad_detour=5.0)
    err = e.value
    assert err.code == "network.invalid"
    assert len(err.problems) == 4
    assert err.params["codes"] == [
        "network.mode",
        "network.cutoff",
        "traveltime.detour",
        "network.integer",  # snap_k: the generic whole-number check
    ]
    text = _zh(err)
    assert "出行方式" in text and "时间上限" in text and "绕行系数" in text and "snap_k" in text
    _renders_in_both_languages(err)


def _renders_in_both_languages(err: InputError) -> None:
    from gridplan.i18n import t, text_of

    for problem in err.params["problems"]:
        params = dict(problem)
        code = params.pop("code")
        assert text_of(code) is not None, code
        for lang in ("zh", "en"):
            assert "{" not in t(code, lang, **params), (code, lang)


def test_every_travel_problem_code_has_chinese_and_english_text():
    import re
    import string

    from gridplan.i18n import MESSAGES

    package = Path(__file__).resolve().parents[1] / "src/gridplan"
    src = "".join(p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py")))
    used = set(re.findall(r'"((?:network|traveltime)\.[a-z_]+)"', src))
    assert {"network.invalid", "traveltime.speed", "network.crs_not_metric"} <= used
    for code in used:
        assert set(MESSAGES[code]) == {"zh", "en"}, code
        fields = [
            {f for _, f, _, _ in string.Formatter().parse(MESSAGES[code][lang]) if f}
            for lang in ("zh", "en")
        ]
        assert fields[0] == fields[1], code


def test_all_input_problems_in_one_error():
    model = NetworkModel(square())
    grid = CellGrid(crs=CRS, x0=X0, y0=Y0, cell_m=100.0, nrows=2, ncols=3)
    with pytest.raises(InputError) as e:
        model.travel_times(grid, np.ones((3, 3), bool), np.array([[X0, np.nan]]))
    assert e.value.code == "network.invalid"
    assert e.value.params["codes"] == ["network.shape", "network.xy_nonfinite"]
    _renders_in_both_languages(e.value)
    geo = CellGrid(crs="EPSG:4326", x0=114.0, y0=38.0, cell_m=100.0, nrows=1, ncols=1)
    with pytest.raises(InputError) as e:
        model.travel_times(geo, np.ones((1, 1), bool), np.array([[114.0, 38.0]]))
    assert "not metric" in str(e.value)
    assert e.value.params["codes"] == ["network.crs_not_metric"]
    assert "不是投影坐标系" in _zh(e.value)
    with pytest.raises(InputError) as e:
        build_road_graph(square(), "bike", "EPSG:4326", densify_m=0.5)
    assert e.value.params["codes"] == ["network.mode", "network.densify", "network.crs_not_metric"]
    _renders_in_both_languages(e.value)
    with pytest.raises(InputError) as e:
        NetworkModel(square(), speeds_kmh={"primary": 0.0})
    assert e.value.params["codes"] == ["traveltime.road_speed"]


def test_pbf_extract_loads_the_same_roads_as_its_xml(tmp_path, roads):
    osmium = pytest.importorskip("osmium")  # a runtime dependency; skip only if removed
    pbf = tmp_path / "石家庄-roads.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(FIXTURE)):
            writer.add(obj)
    assert pbf.read_bytes()[:4] != b"<?xm"  # really PBF, not XML
    graph = load_roads(pbf)
    assert set(graph.nodes) == set(roads.nodes)
    assert set(graph.edges(keys=False)) == set(roads.edges(keys=False))
    # the building outline in the extract is left out, as from XML
    assert all("highway" in d for _, _, d in graph.edges(data=True))


def test_corrupt_pbf_is_reported_as_unreadable(tmp_path):
    pytest.importorskip("osmium")
    p = tmp_path / "broken.osm.pbf"
    p.write_bytes(b"\x00\x00\x00\x0dnot really a pbf")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.unreadable"
    assert "broken.osm.pbf" in _zh(e.value)


# --------------------------------------------------------------------------- pair minutes


def fixture_grid(roads, to_metric, cell_m=50.0) -> CellGrid:
    xs = [d["x"] for _, d in roads.nodes(data=True)]
    ys = [d["y"] for _, d in roads.nodes(data=True)]
    x0, y0 = to_metric.transform(min(xs), min(ys))
    x1, y1 = to_metric.transform(max(xs), max(ys))
    nrows, ncols = int((y1 - y0 + 600) // cell_m), int((x1 - x0 + 600) // cell_m)
    return CellGrid(crs=CRS, x0=x0 - 300, y0=y1 + 300, cell_m=cell_m, nrows=nrows, ncols=ncols)


@pytest.mark.parametrize(
    ("mode", "snap_k", "direct"), [("walk", 1, True), ("drive", 3, True), ("ebike", 2, False)]
)
def test_pairs_best_pair_is_the_travel_time(roads, to_metric, mode, snap_k, direct):
    model = NetworkModel(roads, mode=mode, cutoff_min=20, snap_k=snap_k, direct_walk=direct)
    grid = fixture_grid(roads, to_metric)
    rng = np.random.default_rng(1)
    x0, y1 = grid.x0, grid.y0
    fac = np.column_stack(
        [rng.uniform(x0, x0 + grid.ncols * 50, 7), rng.uniform(y1 - grid.nrows * 50, y1, 7)]
    )
    mask = np.ones(grid.shape, bool)
    tt = model.travel_times(grid, mask, fac)
    r, c = np.nonzero(mask)
    x, y = grid.centres(r, c)
    # a small batch forces several Dijkstra batches
    pairs = model.pairs(grid, np.column_stack([x, y]), fac, 20, max_batch_cells=10_000)
    p, f, m = pairs.point, pairs.facility, pairs.minutes
    assert np.bincount(p).max() > 1  # some cells reach several facilities
    # sorted by facility, then minutes (as float32), then point
    key = np.lexsort((p, m.astype(np.float32), f))
    assert np.array_equal(key, np.arange(len(p)))
    assert pairs.n_points == len(r) and pairs.n_facilities == len(fac)
    best = np.full(len(r), np.inf)
    np.minimum.at(best, p, m)
    ref = tt.minutes[r, c].astype(float)
    assert np.array_equal(np.isfinite(best), np.isfinite(ref))
    ok = np.isfinite(ref)
    np.testing.assert_allclose(best[ok], ref[ok], atol=1e-4)
    # each facility's pairs are its own one-facility travel times
    for j in (0, 3):
        one = model.travel_times(grid, mask, fac[j : j + 1]).minutes[r, c].astype(float)
        mine = np.full(len(r), np.inf)
        mine[p[f == j]] = m[f == j]
        assert np.array_equal(np.isfinite(mine), np.isfinite(one))
        np.testing.assert_allclose(mine[np.isfinite(one)], one[np.isfinite(one)], atol=1e-4)
    # a lower max_minutes keeps exactly the pairs within it
    five = model.pairs(grid, np.column_stack([x, y]), fac, 5)
    assert five.max_minutes == 5
    assert five.minutes.max() <= 5 + 1e-6 and five.n_pairs == int((m <= 5 + 1e-9).sum())


def test_pairs_one_way_street_is_directed():
    g = square(oneway_ab=True)
    model = NetworkModel(g, mode="drive", max_snap_m=10, direct_walk=False, densify_m=None)
    a, b = np.array([[X0, Y0]]), np.array([[X0 + 800, Y0]])
    grid = cell_at(X0, Y0)
    ab = model.pairs(grid, a, b, math.inf).minutes  # from A to a facility at B: the one-way
    ba = model.pairs(grid, b, a, math.inf).minutes  # from B to A: round the block, 2,400 m
    assert ba[0] == pytest.approx(3 * ab[0], rel=1e-6)


def test_capacity_reach_and_siting_matrix_use_the_network(roads, to_metric):
    from gridplan.access.capacity import capacity_coverage
    from gridplan.access.reach import facility_reach
    from gridplan.siting.costs import cost_matrix_model
    from gridplan.siting.demand import demand_points

    model = NetworkModel(roads, mode="walk", cutoff_min=15)
    grid = fixture_grid(roads, to_metric, cell_m=100.0)
    rng = np.random.default_rng(4)
    pop = (rng.random(grid.shape) < 0.5) * rng.uniform(5, 50, grid.shape)
    surface = PopulationSurface(grid, pop.astype(np.float32), np.zeros(grid.shape, np.int32), ["u"])
    mask = surface.population > 0
    cx, cy = grid.centres(np.array([5, 12, 20]), np.array([6, 18, 9]))
    fac = np.column_stack([cx, cy])
    # capacity analyses: the reach's nearest pair is the model's travel time
    reach = facility_reach(grid, mask, fac, model="network", network=model, max_minutes=12.0)
    tt = model.travel_times(grid, mask, fac).minutes
    expected = np.where(tt <= 12.0, tt, np.inf)
    np.testing.assert_allclose(reach.nearest_minutes(), expected, atol=1e-4)
    result = capacity_coverage(surface, reach, np.array([500.0, 500.0, 500.0]))
    assert (result.covered <= 500.0 + 1e-3).all() and result.covered.sum() > 0
    # siting: the fast matrix equals one travel_times run per candidate
    demand = demand_points(surface, None)

    class PerCandidate:  # has no pairs: the generic path of cost_matrix_model
        name = "per-candidate"

        def travel_times(self, g, m, xy):
            return model.travel_times(g, m, xy)

    fast = cost_matrix_model(model, grid, demand, fac, 12.0)
    slow = cost_matrix_model(PerCandidate(), grid, demand, fac, 12.0)
    a, b = fast.to_dense(), slow.to_dense()
    both = np.isfinite(a) & np.isfinite(b)
    assert both.sum() > 10 and np.array_equal(np.isfinite(a), np.isfinite(b) & (b <= 12.0))
    np.testing.assert_allclose(a[both], b[both], atol=1e-4)


def test_siting_study_on_the_road_network_is_the_best_by_enumeration(roads, to_metric):
    import itertools

    import shapely

    from gridplan.facilities.table import add_facility
    from gridplan.facilities.types import empty_facilities
    from gridplan.plan.grids import GridPlan
    from gridplan.siting.study import SitingSettings, run_siting
    from gridplan.surface.grid import census_surface
    from tests.synthetic import toy_unit_set

    grid = fixture_grid(roads, to_metric, cell_m=100.0)
    x0, y1 = grid.x0, grid.y0
    x1, y0 = x0 + grid.ncols * 100, y1 - grid.nrows * 100
    units = toy_unit_set([shapely.box(x0, y0, x1, y1)], ["990101"], [20_000.0], 0.0)
    plan = GridPlan.one_grid_per_unit(units)
    surface = census_surface(units, 100.0)
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    fac = add_facility(empty_facilities(), "甲中心", "社区卫生服务中心",
                       *to_lonlat.transform(x0 + 300, y0 + 300))  # fmt: skip
    model = NetworkModel(roads, mode="walk", cutoff_min=30)
    s = SitingSettings(method="mclp", k=2, minutes=8.0, level="primary", candidates="grid",
                       grid_spacing_m=500.0, max_demand=100_000)  # fmt: skip
    study = run_siting(units, plan, surface, fac, model, s)
    assert study.status == "optimal" and study.k == 2
    mask = surface.populated()
    ex = np.array([to_metric.transform(*to_lonlat.transform(x0 + 300, y0 + 300))])
    cand = study.candidates.xy

    # one travel_times run per site, combined per pair (independent of pairs)
    base = model.travel_times(surface.grid, mask, ex).minutes
    each = [
        model.travel_times(surface.grid, mask, cand[j : j + 1]).minutes for j in range(len(cand))
    ]
    pop = surface.population
    best = max(
        float(pop[np.minimum(base, np.minimum(each[a], each[b])) <= 8.0].sum())
        for a, b in itertools.combinations(range(len(cand)), 2)
    )
    assert study.covered_after == pytest.approx(best, rel=1e-6)


def test_roads_cut_at_junctions_equal_osmnx_simplified_graph():
    """The reader cuts ways at their junctions itself (no node per shape point): shortest
    distances between the nodes both graphs share, edge lengths in total, and the direction of
    one-way streets are those of osmnx's graph_from_xml + simplify_graph on the same file."""
    import networkx as nx
    import osmnx as ox

    path = DATA / "roads_sample.osm"
    ours = load_roads(path)
    theirs = ox.simplify_graph(
        ox.graph_from_xml(path, simplify=False, retain_all=True),
        edge_attrs_differ=["highway", "maxspeed"],
    )
    theirs.remove_edges_from(
        [(u, v, k) for u, v, k, d in theirs.edges(keys=True, data=True) if "highway" not in d]
    )
    theirs.remove_nodes_from(list(nx.isolates(theirs)))
    assert set(theirs.nodes) <= set(ours.nodes)
    total = sum(d["length"] for *_, d in ours.edges(data=True))
    assert total == pytest.approx(sum(d["length"] for *_, d in theirs.edges(data=True)), rel=1e-9)
    shared = sorted(theirs.nodes)
    for source in shared:
        a = nx.single_source_dijkstra_path_length(ours, source, weight="length")
        b = nx.single_source_dijkstra_path_length(theirs, source, weight="length")
        assert {n: round(a[n], 6) for n in shared if n in a} == {
            n: round(b[n], 6) for n in shared if n in b
        }
    for u, _, d in ours.edges(data=True):
        geom = d.get("geometry")
        if geom is not None:  # drawn from the edge's start to its end
            x0, y0 = geom.coords[0]
            assert (x0, y0) == pytest.approx((ours.nodes[u]["x"], ours.nodes[u]["y"]))
