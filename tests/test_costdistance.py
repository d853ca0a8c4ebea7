"""Raster travel time (gridplan.travel.costdistance): speed surface, cost distance, model."""

from __future__ import annotations

import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString
from skimage.graph import MCP_Geometric

from gridplan.errors import InputError
from gridplan.i18n import MESSAGES, error_text
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimeModel
from gridplan.travel.costdistance import cost_distance
from gridplan.travel.friction import speed_surface, tobler_factor
from gridplan.travel.raster import RasterModel
from gridplan.travel.speeds import LANDCOVER_SPEEDS_KMH

CELL = 100.0
ENGINES = ["buckets", "scipy"]
CRS = "EPSG:4547"


def mcp_minutes(speed, cell_m, sources, cutoff=math.inf):
    """Reference: scikit-image MCP_Geometric with costs = minutes per metre × cell size."""
    with np.errstate(divide="ignore"):
        costs = (0.06 / np.asarray(speed, dtype=np.float64)) * cell_m
    mcp = MCP_Geometric(costs, fully_connected=True)
    cum, _ = mcp.find_costs([tuple(int(v) for v in s) for s in sources])
    return np.where(cum <= cutoff, cum, np.inf)


def crossing_minutes(speed, cell_m):
    with np.errstate(divide="ignore"):
        return cell_m * 0.06 / np.asarray(speed, dtype=np.float64)


def _rasters():
    rng = np.random.default_rng(42)
    uniform = np.full((40, 50), 4.8, dtype=np.float32)
    gradient = np.tile(np.linspace(1.0, 60.0, 50, dtype=np.float32), (40, 1))
    rand = rng.uniform(0.5, 80.0, (40, 50)).astype(np.float32)
    rand[rng.random((40, 50)) < 0.2] = 0.0
    rand[5, 5] = rand[30, 40] = 3.0
    return {
        "uniform": (uniform, [(20, 25)]),
        "gradient": (gradient, [(10, 3)]),
        "random_impassable": (rand, [(5, 5)]),
        "two_sources": (rand, [(5, 5), (30, 40)]),
    }


RASTERS = _rasters()


# --- cost distance vs scikit-image --------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(RASTERS))
def test_matches_mcp_geometric(case, engine):
    speed, sources = RASTERS[case]
    ours, nearest = cost_distance(speed, CELL, sources, engine=engine)
    ref = mcp_minutes(speed, CELL, sources)
    assert np.array_equal(np.isfinite(ours), np.isfinite(ref))
    fin = np.isfinite(ref)
    # within one cell's crossing time everywhere ...
    assert np.all(np.abs(ours[fin] - ref[fin]) <= crossing_minutes(speed, CELL)[fin])
    # ... and in fact identical: same move costs, same float64 sums
    assert np.array_equal(ours, ref.astype(np.float32))
    assert np.array_equal(nearest >= 0, fin)
    result = cost_distance(speed, CELL, sources, engine=engine)
    assert result.settled == int(fin.sum())


@pytest.mark.parametrize("engine", ENGINES)
def test_matches_mcp_many_random_rasters(engine):
    rng = np.random.default_rng(7)
    for _ in range(25):
        nr, nc = (int(v) for v in rng.integers(2, 40, 2))
        speed = rng.uniform(0.5, 100.0, (nr, nc)).astype(np.float32)
        speed[rng.random((nr, nc)) < 0.25] = 0.0
        k = int(rng.integers(1, 5))
        src = np.column_stack([rng.integers(0, nr, k), rng.integers(0, nc, k)])
        cutoff = float(rng.choice([math.inf, 3.0, 0.5]))
        ours = cost_distance(speed, CELL, src, cutoff, engine=engine).minutes
        assert np.array_equal(ours, mcp_minutes(speed, CELL, src, cutoff).astype(np.float32))


def test_engines_agree_on_nearest_source():
    speed, sources = RASTERS["two_sources"]
    a = cost_distance(speed, CELL, sources, 4.0)
    b = cost_distance(speed, CELL, sources, 4.0, engine="scipy")
    assert np.array_equal(a.minutes, b.minutes)
    assert np.array_equal(a.nearest, b.nearest)  # no exact ties on random speeds
    assert a.settled == b.settled == int(np.isfinite(a.minutes).sum())


# --- uniform speed: octile distance -------------------------------------------------


def _octile(shape, r0, c0):
    dr = np.abs(np.arange(shape[0])[:, None] - r0)
    dc = np.abs(np.arange(shape[1])[None, :] - c0)
    lo, hi = np.minimum(dr, dc), np.maximum(dr, dc)
    return (hi - lo) + math.sqrt(2.0) * lo


@pytest.mark.parametrize("engine", ENGINES)
def test_uniform_speed_is_octile_distance_over_speed(engine):
    shape, src = (61, 47), (20, 30)
    for v in (5.0, 4.8, 3.3):
        minutes, nearest = cost_distance(np.full(shape, v), CELL, [src], engine=engine)
        expected = (_octile(shape, *src) * CELL / (v * 1000.0 / 60.0)).astype(np.float32)
        # the float64 sum of step costs can differ from the closed form in the
        # last float64 bits, which after rounding to float32 is at most 1 ulp
        np.testing.assert_array_max_ulp(minutes, expected, maxulp=1)
        assert (nearest == 0).all()
        if v == 5.0:  # step costs 1.2 and 1.2·√2: exact here
            assert np.array_equal(minutes, expected)


# --- cutoff -------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_cutoff_keeps_exact_times_inside_and_inf_beyond(engine):
    speed, sources = RASTERS["two_sources"]
    full = cost_distance(speed, CELL, sources, engine=engine)
    for cutoff in (0.5, 2.0, 7.3):
        cut = cost_distance(speed, CELL, sources, cutoff, engine=engine)
        inside = full.minutes <= cutoff
        assert np.array_equal(cut.minutes[inside], full.minutes[inside])
        assert np.isinf(cut.minutes[~inside]).all()
        assert (cut.nearest[~inside] == -1).all()
        assert cut.settled == int(inside.sum()) < full.settled


@pytest.mark.parametrize("engine", ENGINES)
def test_cell_exactly_at_cutoff_is_kept(engine):
    # 4 km/h over 100 m: an axial step costs 100 × 0.06 / 4 = 1.5 min exactly
    speed = np.full((9, 9), 4.0)
    minutes, _ = cost_distance(speed, CELL, [(4, 4)], cutoff_min=4.5, engine=engine)
    assert minutes[4, 7] == minutes[4, 1] == minutes[1, 4] == np.float32(4.5)  # kept (≤)
    assert np.isinf(minutes[4, 8])  # 6.0 min
    assert np.isinf(minutes[3, 7])  # 4.5 + diagonal excess
    below = cost_distance(speed, CELL, [(4, 4)], cutoff_min=np.nextafter(4.5, 0), engine=engine)
    assert np.isinf(below.minutes[4, 7])


# --- nearest ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_nearest_is_the_source_with_the_smaller_time(engine):
    speed, sources = RASTERS["two_sources"]
    both = cost_distance(speed, CELL, sources, engine=engine)
    m0 = cost_distance(speed, CELL, sources[:1], engine=engine).minutes
    m1 = cost_distance(speed, CELL, sources[1:], engine=engine).minutes
    assert np.array_equal(both.minutes, np.minimum(m0, m1))
    assert (both.nearest[m0 < m1] == 0).all()
    assert (both.nearest[m1 < m0] == 1).all()
    tie = (m0 == m1) & np.isfinite(m0)
    assert np.isin(both.nearest[tie], [0, 1]).all()
    assert (both.nearest[np.isinf(both.minutes)] == -1).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_shared_cell_goes_to_first_source_and_barrier_source_stays_put(engine):
    speed = np.full((5, 5), 4.8)
    speed[0, 0] = 0.0
    minutes, nearest = cost_distance(speed, CELL, [(2, 2), (2, 2), (0, 0)], engine=engine)
    assert nearest[2, 2] == 0 and nearest[4, 4] == 0
    # as MCP_Geometric: a source on an impassable cell reaches its own cell only
    assert minutes[0, 0] == 0 and nearest[0, 0] == 2
    assert np.array_equal(minutes, mcp_minutes(speed, CELL, [(2, 2), (0, 0)]).astype(np.float32))


# --- work grows with the reachable area --------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_work_grows_with_reachable_area_not_grid(engine):
    speed = np.full((1500, 1500), 4.8, dtype=np.float32)
    small = cost_distance(speed, CELL, [(750, 750)], cutoff_min=5.0, engine=engine)
    # 5 min at 80 m/min = 400 m = 4 cells: a 9 × 9 octile disc
    assert small.settled == int(np.isfinite(small.minutes).sum()) <= 81
    assert small.work_cells < 500 < speed.size // 1000
    bigger = cost_distance(speed, CELL, [(750, 750)], cutoff_min=50.0, engine=engine)
    assert 50 * small.work_cells < bigger.work_cells < speed.size // 100


# --- speed surface ------------------------------------------------------------------


def small_grid(n=20):
    return CellGrid(crs=CRS, x0=500_000.0, y0=4_000_000.0, cell_m=CELL, nrows=n, ncols=n)


def roads_gdf(grid, rows_classes):
    """Horizontal roads through the centres of the given rows."""
    geoms, classes = [], []
    for row, cls in rows_classes:
        y = grid.y0 - (row + 0.5) * grid.cell_m
        geoms.append(LineString([(grid.x0 + 1, y), (grid.x0 + grid.ncols * grid.cell_m - 1, y)]))
        classes.append(cls)
    return gpd.GeoDataFrame({"highway": classes}, geometry=geoms, crs=grid.crs)


def test_default_base_speeds():
    g = small_grid()
    assert (speed_surface(g, mode="walk") == np.float32(4.8)).all()
    assert (speed_surface(g, mode="drive") == np.float32(4.8)).all()
    assert (speed_surface(g, mode="ebike") == np.float32(6.0)).all()
    assert (speed_surface(g, base_speed_kmh=3.0) == np.float32(3.0)).all()


def test_landcover_table():
    g = small_grid()
    lc = np.full(g.shape, 40)
    lc[:, 10] = 80
    lc[0, 0] = 10
    v = speed_surface(g, landcover=lc)
    assert v[5, 5] == np.float32(LANDCOVER_SPEEDS_KMH["walk"][40]) == np.float32(4.0)
    assert (v[:, 10] == 0).all() and v[0, 0] == np.float32(2.0)
    custom = speed_surface(g, landcover=lc, landcover_speeds={10: 1.0, 40: 5.0, 80: 0.5})
    assert custom[5, 5] == 5.0 and custom[0, 10] == 0.5


@pytest.mark.parametrize(
    ("mode", "cls", "expected"),
    [
        ("drive", "primary", 50.0),
        ("drive", "motorway", 80.0),
        ("drive", "residential", 20.0),
        ("walk", "primary", 4.8),
        ("walk", "motorway", 4.0),  # no walking on expressways: cropland speed stays
        ("ebike", "primary", 15.0),
        ("drive", ["residential", "primary"], 20.0),  # osmnx lists: the slowest counts
        ("drive", "proposed", 4.0),  # closed class ignored
        ("drive", "some_local_tag", 20.0),  # unknown class: like "road"
    ],
)
def test_roads_raise_speed_along_the_road(mode, cls, expected):
    g = small_grid()
    lc = np.full(g.shape, 40)
    v = speed_surface(g, mode=mode, landcover=lc, roads=roads_gdf(g, [(7, cls)]))
    off = LANDCOVER_SPEEDS_KMH[mode][40]
    assert (v[7] == np.float32(expected)).all()
    assert (np.delete(v, 7, axis=0) == np.float32(off)).all()


def test_roads_reprojected_and_fastest_road_wins():
    g = small_grid()
    roads = roads_gdf(g, [(3, "tertiary"), (3, "primary"), (3, "residential")])
    v = speed_surface(g, mode="drive", roads=roads.to_crs(4326))
    assert (v[3, 1:-1] == 50.0).all()


def test_tobler_exact_numbers():
    assert tobler_factor(0.0) == 1.0
    assert tobler_factor(0.0, "uphill") == 1.0
    # 10 %: uphill W(0.1)/W(0) = e^-0.35; downhill W(-0.1)/W(0) = 1 (Tobler peaks at -5 %)
    assert tobler_factor(0.1, "uphill") == pytest.approx(math.exp(-0.35), rel=1e-12)
    assert tobler_factor(0.1, "uphill") == pytest.approx(0.704688, abs=1e-6)
    assert tobler_factor(0.1) == pytest.approx(2 / (math.exp(0.35) + 1), rel=1e-12)
    assert tobler_factor(0.1) == pytest.approx(0.826765, abs=1e-6)
    # sign does not matter (slope magnitude), no slope ever speeds walking up
    assert tobler_factor(-0.1) == tobler_factor(0.1)
    s = np.linspace(0, 1, 101)
    assert (tobler_factor(s) <= 1).all() and (np.diff(tobler_factor(s)) <= 0).all()
    assert tobler_factor(np.nan) == 1.0


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("rule", ["round_trip", "uphill"])
def test_dem_slope_scales_walking(axis, sign, rule):
    g = small_grid()
    ramp = np.arange(g.ncols, dtype=float) * 10.0 * sign  # 10 m per 100 m cell: 10 %
    dem = np.tile(ramp, (g.nrows, 1)) if axis == 1 else np.tile(ramp[:, None], (1, g.ncols))
    flat = speed_surface(g, dem=np.full(g.shape, 123.0), tobler=rule)
    assert (flat == np.float32(4.8)).all()  # slope 0: unchanged
    v = speed_surface(g, dem=dem, tobler=rule)
    expected = {"round_trip": 2 / (math.exp(0.35) + 1), "uphill": math.exp(-0.35)}[rule]
    np.testing.assert_allclose(v, 4.8 * expected, rtol=1e-6)


def test_slope_does_not_slow_driving_on_roads():
    g = small_grid()
    dem = np.tile(np.arange(g.ncols) * 10.0, (g.nrows, 1))
    roads = roads_gdf(g, [(7, "primary")])
    v = speed_surface(g, mode="drive", roads=roads, dem=dem)
    assert (v[7] == np.float32(50.0)).all()  # motorised: unaffected
    # off the road the patient walks: scaled like walking
    np.testing.assert_allclose(v[0], 4.8 * 2 / (math.exp(0.35) + 1), rtol=1e-6)
    walk = speed_surface(g, mode="walk", roads=roads, dem=dem)
    np.testing.assert_allclose(walk[7], 4.8 * 2 / (math.exp(0.35) + 1), rtol=1e-6)


# --- barriers -----------------------------------------------------------------------


def water_line(g, gap):
    lc = np.full(g.shape, 50)
    lc[: g.nrows - gap, 10] = 80  # water column, open `gap` cells at the bottom
    return lc


@pytest.mark.parametrize("engine", ENGINES)
def test_water_is_impassable_except_around_it(engine):
    g = small_grid()
    src = [(2, 5)]
    closed = cost_distance(speed_surface(g, landcover=water_line(g, 0)), CELL, src, engine=engine)
    assert np.isinf(closed.minutes[:, 10:]).all()
    assert np.isfinite(closed.minutes[:, :10]).all()

    open_ = cost_distance(speed_surface(g, landcover=water_line(g, 2)), CELL, src, engine=engine)
    assert np.isinf(open_.minutes[:18, 10]).all()
    assert np.isfinite(open_.minutes[:, 11:]).all()
    # (2, 15) must be reached around the bottom of the line: at least down to
    # row 18 and back up, far more than the straight 10 cells
    step = CELL * 0.06 / 4.8
    assert open_.minutes[2, 15] >= (15 + 14) * step
    uniform = cost_distance(np.full(g.shape, 4.8), CELL, src, engine=engine)
    assert open_.minutes[2, 15] > 2 * uniform.minutes[2, 15]


def test_road_bridges_water():
    g = small_grid()
    lc = water_line(g, 0)
    v = speed_surface(g, landcover=lc, roads=roads_gdf(g, [(4, "residential")]))
    assert v[4, 10] == np.float32(4.8)
    minutes, _ = cost_distance(v, CELL, [(2, 5)])
    assert np.isfinite(minutes[:, 11:]).all()


# --- the model ----------------------------------------------------------------------


def facility_xy(g, rc):
    x, y = g.centres(np.array([r for r, _ in rc]), np.array([c for _, c in rc]))
    return np.column_stack([x, y])


def test_raster_model_implements_the_interface():
    model: TravelTimeModel = RasterModel()
    assert model.name == "raster"


def test_raster_model_snaps_facilities_and_keeps_indices():
    g = small_grid()
    lc = water_line(g, 2)
    xy = np.vstack(
        [
            [[g.x0 - 500.0, g.y0 + 500.0]],  # 0: outside the grid
            facility_xy(g, [(2, 5)]),  # 1
            facility_xy(g, [(5, 10)]),  # 2: on water
            facility_xy(g, [(2, 15)]) + 30.0,  # 3: off-centre, snapped to (2, 15)
        ]
    )
    mask = np.ones(g.shape, dtype=bool)
    mask[0, 0] = False
    tt = RasterModel(landcover=lc, cutoff_min=math.inf).travel_times(g, mask, xy)
    assert tt.model == "raster"
    assert tt.params["facilities_outside"] == [0]
    assert tt.params["facilities_on_barrier"] == [2]
    assert tt.params["facilities_used"] == 2
    assert tt.nearest[2, 5] == 1 and tt.nearest[2, 15] == 3
    assert tt.minutes[2, 5] == 0 and tt.minutes[2, 15] == 0
    assert set(np.unique(tt.nearest)) == {-1, 1, 3}
    assert np.isinf(tt.minutes[0, 0]) and tt.nearest[0, 0] == -1  # outside the mask
    assert np.isinf(tt.minutes[:18, 10]).all()  # water
    # same as cost_distance on the model's speed surface
    ref = cost_distance(speed_surface(g, landcover=lc), CELL, [(2, 5), (2, 15)])
    assert np.array_equal(tt.minutes[mask], ref.minutes[mask])


def test_raster_model_cutoff_and_cache():
    g = small_grid(60)
    model = RasterModel(cutoff_min=15.0)
    xy = facility_xy(g, [(30, 30)])
    tt = model.travel_times(g, np.ones(g.shape, dtype=bool), xy)
    assert tt.cutoff_min == 15.0
    assert np.nanmax(np.where(np.isfinite(tt.minutes), tt.minutes, np.nan)) <= 15.0
    assert tt.params["settled"] == int(np.isfinite(tt.minutes).sum())
    assert tt.params["settled"] < g.nrows * g.ncols
    assert model.speed_surface(g) is model.speed_surface(g)


# --- bad input ----------------------------------------------------------------------


def codes(exc_info):
    err = exc_info.value
    assert err.code == "costdistance.invalid"
    assert err.params["n"] == len(err.problems) == len(err.params["codes"])
    return set(err.params["codes"])


def _speed_with_bad_cells():
    speed = np.full((5, 5), 4.8)
    speed[1, 1] = -2.0
    speed[2, 2] = np.nan
    return speed


# each call and the problems it must report together (codes without "costdistance.")
_BAD_CALLS = [
    pytest.param(
        lambda: cost_distance(_speed_with_bad_cells(), CELL, [(0, 0), (9, 9)], cutoff_min=0.0),
        {"negative_speed", "nonfinite_speed", "cutoff", "source_outside"},
        id="speeds-cutoff-sources",
    ),
    pytest.param(
        lambda: cost_distance(np.ones(5), -1.0, np.zeros((0, 2), dtype=int), cutoff_min=-5),
        {"shape", "cell_size", "cutoff", "no_facility"},
        id="shape-cell-cutoff-none",
    ),
    pytest.param(
        lambda: cost_distance(np.ones((3, 3)), CELL, [[0, 0, 0]], engine="heap"),  # type: ignore[arg-type]
        {"sources_shape", "engine"},
        id="sources-engine",
    ),
]


@pytest.mark.parametrize(("call", "expected"), _BAD_CALLS)
def test_cost_distance_reports_every_problem_at_once(call, expected):
    with pytest.raises(InputError) as e:
        call()
    assert codes(e) == {f"costdistance.{code}" for code in expected}


def test_speed_surface_reports_every_problem_at_once():
    g = small_grid()
    lc = np.full(g.shape, 40)
    lc[0, 0] = 99
    with pytest.raises(InputError) as e:
        speed_surface(
            g,
            mode="bike",
            landcover=lc,
            dem=np.zeros((3, 3)),
            road_speeds={"primary": -1.0},
            roads=gpd.GeoDataFrame({"kind": ["x"]}, geometry=[LineString([(0, 0), (1, 1)])]),
        )
    assert codes(e) == {
        "costdistance.mode",
        "costdistance.landcover_classes",
        "costdistance.shape",
        "traveltime.road_speed",  # road speeds amend the table, from 0.5 to 150 km/h
        "costdistance.roads_column",
        "costdistance.roads_crs",
    }
    assert e.value.params["problems"][1]["classes"] == [99]
    with pytest.raises(InputError) as e:
        speed_surface(g, landcover=np.full(g.shape, 40), landcover_speeds={40: -1.0})
    assert codes(e) == {"costdistance.negative_speed"}


def test_model_reports_bad_parameters_and_missing_facilities():
    with pytest.raises(InputError) as e:
        RasterModel(mode="bike", cutoff_min=0.0, speed_kmh=-1.0)  # type: ignore[arg-type]
    assert codes(e) == {"costdistance.mode", "costdistance.cutoff", "costdistance.base_speed"}

    g = small_grid()
    mask = np.ones(g.shape, dtype=bool)
    with pytest.raises(InputError) as e:
        RasterModel().travel_times(g, np.ones((3, 3), dtype=bool), np.zeros((2, 3)))
    assert codes(e) == {"costdistance.shape", "costdistance.facilities_shape"}
    outside = np.array([[0.0, 0.0]])
    with pytest.raises(InputError) as e:
        RasterModel().travel_times(g, mask, outside)
    assert codes(e) == {"costdistance.no_facility"}
    assert e.value.params["problems"][0] == {
        "code": "costdistance.no_facility",
        "n": 1,
        "outside": 1,
        "on_barrier": 0,
    }
    on_water = facility_xy(g, [(5, 10)])
    with pytest.raises(InputError) as e:
        RasterModel(landcover=water_line(g, 0)).travel_times(g, mask, on_water)
    assert e.value.params["problems"][0]["on_barrier"] == 1
    with pytest.raises(InputError):
        RasterModel().travel_times(g, mask, np.zeros((0, 2)))
    # layer, mask and facility problems together in one error
    with pytest.raises(InputError) as e:
        RasterModel(landcover=np.full((4, 4), 99), dem=np.zeros((2, 2))).travel_times(
            g, np.ones((3, 3), dtype=bool), outside
        )
    assert e.value.params["codes"].count("costdistance.shape") == 3
    assert codes(e) == {"costdistance.shape", "costdistance.no_facility"}


def test_every_error_code_has_chinese_and_english_text():
    package = Path(__file__).resolve().parents[1] / "src/gridplan"
    src = "".join(p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py")))
    used = set(re.findall(r'"(costdistance\.[a-z_]+)"', src))
    assert "costdistance.invalid" in used and len(used) > 10
    for code in used:
        assert set(MESSAGES[code]) == {"zh", "en"}, code
    with pytest.raises(InputError) as e:
        RasterModel(cutoff_min=-1.0)
    text = error_text(e.value, "zh")
    # each collected problem is rendered in Chinese too, with its value
    assert text.startswith("无法计算栅格出行时间") and "时间上限" in text and "-1" in text
    assert "cutoff" in error_text(e.value, "en")


# --- pairs: every (point, facility) within a time ------------------------------------


def _pair_case():
    g = small_grid(30)
    rng = np.random.default_rng(3)
    lc = rng.choice([10, 30, 40, 50], size=g.shape)
    lc[12, :] = 80  # a river ...
    lc[12, 20] = 50  # ... with one ford
    rc = [(3, 4), (25, 25), (12, 5), (20, 8)]  # the third stands in the river
    xy = np.vstack([facility_xy(g, rc), [[g.x0 - 500.0, g.y0]]])  # the last: outside
    rows, cols = np.nonzero(rng.random(g.shape) < 0.6)
    points = np.column_stack(g.centres(rows, cols))
    return g, lc, xy, rows, cols, points


@pytest.mark.parametrize("model_name", ["straight", "raster"])
def test_pairs_best_is_the_travel_time_and_each_slice_one_facility(model_name):
    from gridplan.travel.base import pairs_from_travel_times
    from gridplan.travel.straight import StraightLineModel

    g, lc, xy, rows, cols, points = _pair_case()
    model = (
        StraightLineModel(4.8, 1.3)
        if model_name == "straight"
        else RasterModel(landcover=lc, cutoff_min=30.0)
    )
    pairs = model.pairs(g, points, xy, 12.0)
    assert pairs.n_points == len(points) and pairs.n_facilities == len(xy)
    assert (pairs.minutes <= np.float32(12.0)).all() and pairs.minutes.dtype == np.float32
    key = np.lexsort((pairs.point, pairs.minutes, pairs.facility))
    assert np.array_equal(key, np.arange(pairs.n_pairs))  # sorted (facility, minutes, point)
    mask = np.zeros(g.shape, bool)
    mask[rows, cols] = True
    tt = model.travel_times(g, mask, xy).minutes[rows, cols]
    best = np.full(len(points), np.inf, dtype=np.float32)
    np.minimum.at(best, pairs.point, pairs.minutes)
    assert np.array_equal(best, np.where(tt <= 12.0, tt, np.inf))  # bit for bit
    used = [0, 1, 2, 3, 4]
    if model_name == "raster":  # facilities in the river or off the grid reach nobody
        assert pairs.params["facilities_on_barrier"] == [2]
        assert pairs.params["facilities_outside"] == [4]
        used = [0, 1, 3]
        assert np.isin(pairs.facility, used).all()
    # the generic path (one travel_times run per facility) finds the same pairs
    generic = pairs_from_travel_times(model, g, np.column_stack([rows, cols]), xy[used], 12.0)
    assert np.array_equal(pairs.point, generic.point)
    assert np.array_equal(pairs.facility, np.array(used)[generic.facility])
    assert np.array_equal(pairs.minutes, generic.minutes)


def test_raster_pairs_read_the_cell_of_each_point():
    from gridplan.travel.raster import raster_pairs

    speed = np.full((20, 20), 4.8)
    speed[:, 9] = 0.0  # a wall ...
    speed[15, 9] = 4.8  # ... with a gap
    # two points share cell (2, 12); one point on the wall reaches nothing
    points = np.array([[2, 12], [5, 5], [2, 12], [4, 9]])
    pairs = raster_pairs(speed, CELL, points, np.array([[2, 2]]), 60.0)
    full = cost_distance(speed, CELL, [(2, 2)], 60.0).minutes
    assert sorted(pairs.point.tolist()) == [0, 1, 2]
    for p, m in zip(pairs.point, pairs.minutes, strict=True):
        assert m == full[tuple(points[p])]
    assert pairs.params["settled"] == int(np.isfinite(full).sum())
