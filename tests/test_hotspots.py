"""Uncovered hotspots are compact places, named by the units they lie in (issue 14)."""

import math

import numpy as np
import pytest

from gridplan.access.coverage import CoverageIndex
from gridplan.access.hotspots import HOTSPOT_RADIUS_M, uncovered_hotspots
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.base import TravelTimes

CELL = 100.0


def toy(minutes, population, unit, names=("A", "B", "C")):
    grid = CellGrid("EPSG:4547", 500_000.0, 4_200_000.0, CELL, *np.shape(minutes))
    surface = PopulationSurface(
        grid,
        np.asarray(population, dtype=np.float32),
        np.asarray(unit, dtype=np.int32),
        list(names),
    )
    times = TravelTimes(
        grid, np.asarray(minutes, dtype=np.float32), np.zeros(np.shape(minutes), np.int32), "t"
    )
    return surface, CoverageIndex.build(surface, times)


def test_a_wide_uncovered_countryside_is_split_into_bounded_places():
    # 40 km × 40 km of thinly settled, uncovered land: one connected patch of 1,600 km²
    n = 400
    minutes = np.full((n, n), 30.0)
    pop = np.full((n, n), 1.0)
    pop[100:105, 300:305] = 500.0  # a village of 12,500 people in unit B
    unit = np.zeros((n, n), dtype=np.int32)
    unit[:, 200:] = 1
    s, ix = toy(minutes, pop, unit)
    hot = uncovered_hotspots(ix, s, 15, ["A", "B"], top=5)
    disc_km2 = math.pi * (HOTSPOT_RADIUS_M / 1000) ** 2
    assert len(hot) == 5
    assert (hot["area_km2"] <= disc_km2 * 1.05).all()  # a place, not the countryside
    first = hot.iloc[0]
    assert first["units"] == ["B"] and first["unit"] == "B"
    # the whole village and the thin settlement round it, each resident once
    assert first["population"] == pytest.approx(12_500 + (first["cells"] - 25), rel=1e-6)
    # it sits on the village (its centre is weighted by residents: within a few cells)
    x, y = s.grid.centres(np.array([102]), np.array([302]))
    assert math.hypot(first["x"] - x[0], first["y"] - y[0]) < 3 * CELL
    assert list(hot["population"]) == sorted(hot["population"], reverse=True)
    assert np.isfinite(hot["lon"]).all() and (hot["lon"] > 110).all() and (hot["lat"] > 30).all()


def test_hotspots_never_share_a_cell_and_stop_when_everyone_is_covered():
    minutes = np.full((60, 60), 5.0)
    minutes[10:50, 10:50] = 40.0
    pop = np.full((60, 60), 10.0)
    s, ix = toy(minutes, pop, np.zeros((60, 60), dtype=np.int32))
    hot = uncovered_hotspots(ix, s, 15, ["A"], top=50)
    uncovered = 40 * 40 * 10.0
    assert hot["population"].sum() == pytest.approx(uncovered)  # every one, each once
    assert hot["cells"].sum() == 40 * 40
    assert uncovered_hotspots(ix, s, 60, ["A"]).empty  # all covered: no hotspot


def test_a_hotspot_across_two_units_names_both_most_residents_first():
    minutes = np.full((30, 30), 30.0)
    pop = np.zeros((30, 30))
    pop[10:20, 10:15] = 30.0  # unit A side: 1,500
    pop[10:20, 15:20] = 10.0  # unit B side: 500
    unit = np.zeros((30, 30), dtype=np.int32)
    unit[:, 15:] = 1
    s, ix = toy(minutes, pop, unit)
    hot = uncovered_hotspots(ix, s, 15, ["A", "B"], top=3)
    assert hot.iloc[0]["units"] == ["A", "B"]
    assert hot.iloc[0]["population"] == pytest.approx(2_000)


def test_travel_time_is_over_those_who_reach_a_facility_the_rest_counted_apart():
    minutes = np.full((10, 10), 5.0)
    minutes[4, 4] = 20.0
    minutes[4, 5] = 40.0
    minutes[5, 4] = np.inf  # reaches no facility
    pop = np.ones((10, 10))
    pop[4, 4], pop[4, 5], pop[5, 4] = 100.0, 300.0, 50.0
    s, ix = toy(minutes, pop, np.zeros((10, 10), dtype=np.int32))
    hot = uncovered_hotspots(ix, s, 15, ["A"])
    assert len(hot) == 1
    row = hot.iloc[0]
    assert row["population"] == pytest.approx(450)
    assert row["nearest_minutes"] == pytest.approx((100 * 20 + 300 * 40) / 400)
    assert row["unreachable_population"] == pytest.approx(50)


def test_shijiazhuang_top_hotspot_is_a_place_not_the_countryside():
    """The bug of issue 14: 6.5 million people over 12,811 km² named 桥西区."""
    from gridplan import workflow
    from gridplan.workflow import ModelSpec, SurfaceSpec, UnitsSource

    source = UnitsSource("130100")
    units = workflow.load_units(source)
    c = workflow.coverage_inputs(
        units, workflow.illustrative_network(units), SurfaceSpec(source, cell_m=500.0),
        ModelSpec("straight", "walk"),
    )  # fmt: skip
    hot = uncovered_hotspots(c.index, c.surface, 15, list(units.units["name"]))
    assert len(hot) == 10
    assert hot["area_km2"].max() <= math.pi * 4 * 1.1
    assert hot["population"].max() < 500_000
    assert "桥西区" not in hot.iloc[0]["units"]  # 99.97 % covered: not the top hotspot
