"""Two plans side by side (plan.compare, workflow.compare_scenarios) on a hand-made pair."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from gridplan import workflow
from gridplan.access.coverage import CoverageIndex
from gridplan.plan.compare import GRID_COLUMNS, compare_grids, moved_units
from gridplan.plan.grids import Grid, GridPlan
from gridplan.regions.compare import compare_plans
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.base import TravelTimes
from tests.synthetic import toy_unit_set

# four 10 km squares (units U0..U3, residents 100..400) and the undrawn zone Z (50)
SIDE = 10_000.0
X0, Y0 = 500_000.0, 4_200_000.0
IDS = ["990100", "990101", "990110", "990111"]
ZONE = "990171"


@pytest.fixture(scope="module")
def units():
    boxes = [
        shapely.box(X0 + c * SIDE, Y0 + r * SIDE, X0 + (c + 1) * SIDE, Y0 + (r + 1) * SIDE)
        for r in (0, 1)
        for c in (0, 1)
    ]
    return toy_unit_set(boxes, IDS, [100.0, 200.0, 300.0, 400.0], 50.0)


def _plan(plan_id: str, grids: dict[str, list[str]]) -> GridPlan:
    return GridPlan(
        plan_id, {"zh": plan_id, "en": plan_id}, "990100",
        [Grid(g, f"网格{g}", units=list(members)) for g, members in grids.items()],
    )  # fmt: skip


# A: g1 = U0 U1 Z, g2 = U2 U3;  B: g1 = U0, g2 = U1 U2 U3, g3 = Z
PLAN_A = _plan("A", {"g1": [IDS[0], IDS[1], ZONE], "g2": [IDS[2], IDS[3]]})
PLAN_B = _plan("B", {"g1": [IDS[0]], "g2": [IDS[1], IDS[2], IDS[3]], "g3": [ZONE]})


@pytest.fixture(scope="module")
def index(units):
    """One cell per square unit; minutes 10, 20 (U0, U1) and 5, 30 (U2, U3)."""
    grid = CellGrid("EPSG:4547", X0, Y0, SIDE, 2, 2)
    surface = PopulationSurface(
        grid,
        np.array([[100, 200], [300, 400]], dtype=np.float32),
        np.array([[0, 1], [2, 3]], dtype=np.int32),
        [*IDS, ZONE],
        unplaced={ZONE: 50.0},
    )
    minutes = np.array([[10, 20], [5, 30]], dtype=np.float32)
    times = TravelTimes(grid, minutes, np.zeros((2, 2), dtype=np.int32), "test")
    return CoverageIndex.build(surface, times)


def test_moved_units_are_those_whose_grid_changes(units):
    moved, match = moved_units(PLAN_A, PLAN_B, units)
    assert match == {"g1": "g1", "g2": "g2"}
    assert moved.to_dict("records") == [
        {"unit_id": IDS[1], "name": "U990101", "population": 200.0, "from_grid_id": "g1",
         "from_grid": "网格g1", "to_grid_id": "g2", "to_grid": "网格g2"},
        {"unit_id": ZONE, "name": "Z", "population": 50.0, "from_grid_id": "g1",
         "from_grid": "网格g1", "to_grid_id": "g3", "to_grid": "网格g3"},
    ]  # fmt: skip
    # the grid proposal's comparison tells the same units, through the same function
    assert compare_plans(PLAN_A, PLAN_B, units).moved.equals(moved)


def test_a_renamed_grid_moves_no_unit(units):
    renamed = _plan("A2", {"x": [IDS[0], IDS[1], ZONE], "g2": [IDS[2], IDS[3]]})
    c = compare_grids(PLAN_A, renamed, units)
    assert c.moved.empty
    assert list(c.grids["grid_id"]) == ["g1", "g2", "x"]  # one row per grid id of either plan
    assert math.isnan(c.grids.loc[0, "population_b"]) and c.grids.loc[2, "population_b"] == 350


def test_grids_side_by_side_without_coverage(units):
    c = compare_grids(PLAN_A, PLAN_B, units)
    g = c.grids.set_index("grid_id")
    assert list(c.grids.columns) == GRID_COLUMNS and list(g.index) == ["g1", "g2", "g3"]
    assert g["population_a"].tolist()[:2] == [350.0, 700.0]
    assert g["population_b"].tolist() == [100.0, 900.0, 50.0]
    assert g["share_a"].tolist()[:2] == pytest.approx([1 / 3, 2 / 3])
    assert g["share_b"].tolist() == pytest.approx([100 / 1050, 900 / 1050, 50 / 1050])
    assert g["deviation_a"].tolist()[:2] == pytest.approx([-1 / 3, 1 / 3])
    assert g["area_km2_a"].tolist()[:2] == [200.0, 200.0] and g.loc["g3", "area_km2_b"] == 0.0
    assert g["units_a"].tolist()[:2] == [3, 2] and g["units_b"].tolist() == [1, 3, 1]
    assert g["population_diff"].tolist()[:2] == [-250.0, 200.0]
    assert math.isnan(g.loc["g3", "population_a"]) and math.isnan(g.loc["g3", "population_diff"])
    assert g[["covered_share_a", "mean_minutes_b", "covered_share_diff"]].isna().all().all()
    assert c.balance_a == {"n_grids": 2, "max": 700.0, "min": 350.0, "mean": 525.0,
                           "max_min_ratio": 2.0, "cv": pytest.approx(1 / 3)}  # fmt: skip
    assert c.balance_b["n_grids"] == 3 and c.balance_b["max_min_ratio"] == 18.0


def test_coverage_per_grid_from_one_index(units, index):
    c = workflow.compare_scenarios(units, PLAN_A, PLAN_B, index=index, minutes=15.0)
    g = c.grids.set_index("grid_id")
    # A: g1 = U0 (10 min, 100) + U1 (20 min, 200); g2 = U2 (5 min, 300) + U3 (30 min, 400)
    assert g["covered_share_a"].tolist()[:2] == pytest.approx([100 / 300, 300 / 700])
    assert g["mean_minutes_a"].tolist()[:2] == pytest.approx([5000 / 300, 13500 / 700])
    # B: g1 = U0; g2 = U1 U2 U3; g3 = the zone, which has no cell: not assessed
    assert g["covered_share_b"].tolist()[:2] == pytest.approx([1.0, 300 / 900])
    assert g["mean_minutes_b"].tolist()[:2] == pytest.approx([10.0, 17500 / 900])
    assert math.isnan(g.loc["g3", "covered_share_b"]) and math.isnan(g.loc["g3", "mean_minutes_b"])
    assert g.loc["g1", "covered_share_diff"] == pytest.approx(1 - 1 / 3)
    assert g.loc["g2", "mean_minutes_diff"] == pytest.approx(17500 / 900 - 13500 / 700)
    assert c.minutes == 15.0
    at_20 = workflow.compare_scenarios(units, PLAN_A, PLAN_B, index=index, minutes=20.0)
    assert at_20.grids.set_index("grid_id").loc["g1", "covered_share_a"] == 1.0


def test_to_json_is_strict_and_rounded(units, index):
    out = workflow.compare_scenarios(units, PLAN_A, PLAN_B, index=index).to_json()
    assert out["a"] == {"plan": "A", "name": "A", "prefecture": "990100"}
    g3 = out["grids"][2]
    assert g3["grid_id"] == "g3" and g3["name"] == "网格g3" and g3["name_a"] is None
    assert g3["population_a"] is None and g3["population_b"] == 50 and g3["units_b"] == 1
    g2 = out["grids"][1]
    assert g2["share_a"] == 0.666667 and g2["mean_minutes_a"] == 19.286
    assert g2["covered_share_b"] == 0.333333 and g2["population_diff"] == 200
    assert out["moved_units"][0] == {
        "code": IDS[1], "name": "U990101", "population": 200, "from_id": "g1", "from": "网格g1",
        "to_id": "g2", "to": "网格g2",
    }  # fmt: skip
    assert out["balance_a"]["cv"] == 0.333333 and out["balance_a"]["n_grids"] == 2
