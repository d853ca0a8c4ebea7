"""One speed table (gridplan.travel.speeds): the raster and network models drive every road alike.

A straight road runs along the middle row of a strip of 100 m cells, from the
centre of its first cell to the centre of its last, 4 km long.  The raster
model burns it onto the strip (off-road speed 1 km/h, slower than any road);
the network model gets the same line as one edge between two nodes on those
two cell centres.  From a facility on the first cell to the last cell, the
raster model moves 40 axial steps along the road cells (each ``100 m × 0.06 /
v`` minutes) and the network model travels the edge (legs of 0 m): both must
take ``4,000 m / v``.  Road speeds run from 4.8 to 80 km/h, so a difference
of one speed table entry changes the minutes by far more than the tolerance.
(The network joins cells only to roads a pedestrian may step onto, so both
ends of its road get a 0 m residential street.)
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString

from gridplan.surface.grid import CellGrid
from gridplan.travel.network import NetworkModel
from gridplan.travel.raster import RasterModel
from gridplan.travel.speeds import (
    CLOSED_CLASSES,
    KNOWN_CLASSES,
    MODES,
    ROAD_SPEEDS_KMH,
    metres_per_minute,
    road_speed_kmh,
    road_table,
)

CRS = "EPSG:4547"
CELL = 100.0
N_CELLS = 41  # the road: 40 cells from centre to centre, 4 km
ROW = 2
OFFROAD_KMH = 1.0
GRID = CellGrid(crs=CRS, x0=500_000.0, y0=4_200_000.0, cell_m=CELL, nrows=5, ncols=N_CELLS)
ROAD_M = (N_CELLS - 1) * CELL

CLASSES = [*sorted(KNOWN_CLASSES), "some_local_tag"]  # an unknown class: like "road"


def _ends() -> tuple[tuple[float, float], tuple[float, float]]:
    x, y = GRID.centres(np.array([ROW, ROW]), np.array([0, N_CELLS - 1]))
    return (float(x[0]), float(y[0])), (float(x[1]), float(y[1]))


def raster_minutes(highway: object, mode: str, maxspeed: str | None = None) -> float:
    start, end = _ends()
    roads = gpd.GeoDataFrame(
        {"highway": [highway], "maxspeed": [maxspeed]},
        geometry=[LineString([start, end])],
        crs=CRS,
    )
    model = RasterModel(mode=mode, speed_kmh=OFFROAD_KMH, roads=roads, cutoff_min=1e6)  # type: ignore[arg-type]
    mask = np.zeros(GRID.shape, bool)
    mask[ROW, -1] = True
    tt = model.travel_times(GRID, mask, np.array([start]))
    return float(tt.minutes[ROW, -1])


def network_minutes(highway: object, mode: str, maxspeed: str | None = None) -> float:
    start, end = _ends()
    g = nx.MultiDiGraph(crs=CRS)
    g.add_node("A", x=start[0], y=start[1])
    g.add_node("B", x=end[0], y=end[1])
    for u, v in (("A", "B"), ("B", "A")):
        g.add_edge(u, v, length=ROAD_M, highway=highway, maxspeed=maxspeed)
    # cells join a road only where a pedestrian may step onto it: a car reaches
    # a motorway by a ramp of 0 m from a residential street at each end
    g.add_node("a", x=start[0], y=start[1])
    g.add_node("b", x=end[0], y=end[1])
    for u, v in (("a", "A"), ("A", "a"), ("b", "B"), ("B", "b")):
        g.add_edge(u, v, length=0.0, highway="residential")
    model = NetworkModel(
        g, mode=mode, cutoff_min=1e6, densify_m=None, direct_walk=False, max_snap_m=1.0
    )
    mask = np.zeros(GRID.shape, bool)
    mask[ROW, -1] = True
    tt = model.travel_times(GRID, mask, np.array([start]))
    return float(tt.minutes[ROW, -1])


@pytest.mark.parametrize("mode", MODES)
def test_raster_and_network_take_the_same_minutes_on_every_class(mode):
    table = road_table(mode)
    for cls in CLASSES:
        speed = road_speed_kmh(cls, mode, table)
        raster = raster_minutes(cls, mode)
        network = network_minutes(cls, mode)
        if speed is None:  # closed to the mode in both models
            # the raster line does not raise its cells' speed (no barrier either) ...
            assert raster == pytest.approx(ROAD_M / metres_per_minute(OFFROAD_KMH)), cls
            # ... and the network has no edge to travel
            assert math.isinf(network), cls
            continue
        expected = ROAD_M / metres_per_minute(speed)
        assert raster == pytest.approx(expected, rel=1e-6), (cls, speed)
        assert network == pytest.approx(expected, rel=1e-6), (cls, speed)


@pytest.mark.parametrize(
    ("highway", "maxspeed", "kmh"),
    [
        ("primary", "30", 30.0),  # a posted limit lowers a car's class speed
        ("residential", "80", 20.0),  # ... and never raises it
        (["residential", "primary"], None, 20.0),  # merged ways: the slowest class
        (["primary", "footway"], None, None),  # closed if any listed class is
    ],
)
def test_limits_and_class_lists_are_read_alike(highway, maxspeed, kmh):
    raster = raster_minutes(highway, "drive", maxspeed)
    network = network_minutes(highway, "drive", maxspeed)
    if kmh is None:
        assert math.isinf(network)
        assert raster == pytest.approx(ROAD_M / metres_per_minute(OFFROAD_KMH))
    else:
        assert raster == pytest.approx(ROAD_M / metres_per_minute(kmh), rel=1e-6)
        assert network == pytest.approx(ROAD_M / metres_per_minute(kmh), rel=1e-6)


def test_every_mode_speed_names_its_source_in_both_languages():
    from gridplan.i18n import MESSAGES, t
    from gridplan.travel.speeds import MODE_SPEEDS_KMH

    for mode, kmh in MODE_SPEEDS_KMH.items():
        assert set(MESSAGES[f"speed_source.{mode}"]) == {"zh", "en"}
        for lang in ("zh", "en"):
            assert f"{kmh:g} km/h" in t(f"speed_source.{mode}", lang)


def test_the_table_rules():
    # walking and e-bikes never on motorways or expressway ramps; cars never on footways
    for mode in ("walk", "ebike"):
        for cls in ("motorway", "motorway_link", "trunk_link"):
            assert cls not in ROAD_SPEEDS_KMH[mode]
    assert "steps" in ROAD_SPEEDS_KMH["walk"] and "steps" not in ROAD_SPEEDS_KMH["ebike"]
    for cls in ("footway", "path", "pedestrian", "cycleway", "steps"):
        assert cls not in ROAD_SPEEDS_KMH["drive"]
    assert not CLOSED_CLASSES & {c for t in ROAD_SPEEDS_KMH.values() for c in t}
    # the walking and e-bike speeds are the modes' own speeds everywhere
    assert set(ROAD_SPEEDS_KMH["walk"].values()) == {4.8}
    assert set(ROAD_SPEEDS_KMH["ebike"].values()) == {15.0}
    # a car's ramps are slower than their road
    for road in ("motorway", "trunk", "primary", "secondary", "tertiary"):
        assert ROAD_SPEEDS_KMH["drive"][f"{road}_link"] < ROAD_SPEEDS_KMH["drive"][road]


# --- one check of a speed and a detour factor ----------------------------------------


def test_one_speed_and_detour_check_for_every_caller():
    from gridplan._validate import Problems
    from gridplan.access.reach import facility_reach
    from gridplan.errors import InputError
    from gridplan.i18n import error_text
    from gridplan.regions.costs import StraightLineCost
    from gridplan.siting.costs import cost_matrix_straight
    from gridplan.travel.speeds import check_speed_detour, minutes_per_metre
    from gridplan.travel.straight import StraightLineModel

    p = Problems("x.invalid", "x")
    assert check_speed_detour(p, "walk", 1.3) == 1.3 / 80.0 and not p
    assert check_speed_detour(p, 15.0, 1.0) == 1.0 / 250.0 and not p
    assert check_speed_detour(p, 500, 0.5) is None
    assert p.codes == ["traveltime.speed", "traveltime.detour"]
    p = Problems("x.invalid", "x")
    assert check_speed_detour(p, "bike", float("nan")) is None
    assert p.codes == ["traveltime.mode", "traveltime.detour"]

    bad = {"speed_kmh": 500.0, "detour": 0.5}
    raising = [
        lambda: minutes_per_metre(bad["speed_kmh"], bad["detour"]),
        lambda: StraightLineModel(**bad),
        lambda: StraightLineCost(**bad),
        lambda: cost_matrix_straight(np.zeros((1, 2)), np.zeros((1, 2)), 500.0, 0.5),
        lambda: facility_reach(GRID, np.ones(GRID.shape), np.zeros((1, 2)), max_minutes=5, **bad),
    ]
    for call in raising:
        with pytest.raises(InputError) as e:
            call()
        assert {"traveltime.speed", "traveltime.detour"} <= set(e.value.params["codes"])
        assert "1.0–3.0" in error_text(e.value, "zh")
