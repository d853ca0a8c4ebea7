"""Comparing two plans: travel minutes, balance, units that move."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridplan.plan.compare import moved_units  # the one way of telling which units move
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.units import UnitSet
from gridplan.regions.costs import (
    CostModel,
    Hospital,
    StraightLineCost,
    _fill_free_costs,
)
from gridplan.regions.instance import _balance


# --- comparing plans ----------------------------------------------------------------------------
@dataclass
class PlanComparison:
    """Two plans side by side.

    ``summary`` has one row per plan (index ``a``, ``b``): ``plan_id``,
    ``n_grids``, ``mean_minutes`` (population-weighted travel time to the
    grid's lead hospital; NaN unless every grid's lead hospital is located),
    ``assessed_population``, ``not_assessed_population``, the balance figures,
    and ``unlocated_grids`` / ``unlocated_names`` (grids whose lead hospital has
    no location, see :func:`plan_travel_minutes`).
    ``moved`` lists the units whose grid changes: ``unit_id``, ``name``,
    ``population``, ``from_grid_id``, ``from_grid``, ``to_grid_id``, ``to_grid``.
    Grids correspond when they share a grid id, else by the largest shared
    population (``grid_match``: grid of a → grid of b).
    """

    summary: pd.DataFrame
    moved: pd.DataFrame
    grid_match: dict[str, str]

    @property
    def n_moved(self) -> int:
        return len(self.moved)

    @property
    def moved_population(self) -> float:
        return float(self.moved["population"].sum()) if len(self.moved) else 0.0


def plan_travel_minutes(
    plan: GridPlan,
    unit_set: UnitSet,
    cost: CostModel | None = None,
    hospitals: Mapping[str, Hospital | tuple[float, float]] | None = None,
    zone_anchors: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.Series, list[str]]:
    """Minutes from every unit to its grid's lead hospital, and the grids without a located one.

    A grid's hospital location is ``hospitals[grid_id]`` or
    ``hospitals[lead_hospital]`` when given, else the location stored in the
    plan (:attr:`~gridplan.plan.grids.Grid.lead_location`: chosen from the
    facility list or typed by the planner).  A grid with neither is *not
    located*: its units get NaN minutes and its id is returned in the list,
    never a stand-in point.  With a :class:`MatrixCost`, the column named
    like the lead hospital is used whatever the location.
    """
    model: CostModel = cost if cost is not None else StraightLineCost()
    u = unit_set.units
    assignment = resolve_assignment(plan, u)
    hosp: list[Hospital] = []
    located: list[str] = []
    unlocated: list[str] = []
    given = dict(hospitals or {})
    for g in plan.grids:
        h = (
            given.get(g.grid_id, given.get(g.lead_hospital))
            if g.lead_hospital
            else given.get(g.grid_id)
        )
        loc = (h.lon, h.lat) if isinstance(h, Hospital) else h if h is not None else g.lead_location
        if loc is None:
            unlocated.append(g.grid_id)
            continue
        hosp.append(Hospital(g.lead_hospital or g.name, float(loc[0]), float(loc[1])))
        located.append(g.grid_id)
    out = np.full(len(u), np.nan)
    if hosp:
        minutes = np.asarray(model.unit_minutes(unit_set, hosp), dtype=np.float64)
        minutes = _fill_free_costs(unit_set, minutes, zone_anchors)
        col = {gid: c for c, gid in enumerate(located)}
        for r, gid in enumerate(assignment):
            if gid is not None and gid in col:
                out[r] = minutes[r, col[gid]]
    return pd.Series(out, index=u.index, name="minutes"), unlocated


def _plan_row(
    plan: GridPlan,
    unit_set: UnitSet,
    assignment: pd.Series,
    minutes: pd.Series,
    unlocated: list[str],
) -> dict[str, Any]:
    u = unit_set.units
    pop = u["population"].fillna(0).to_numpy(dtype=float)
    inside = u["inside_prefecture"].to_numpy(dtype=bool)
    ok = np.isfinite(minutes.to_numpy()) & inside
    pa = float(pop[ok].sum())
    grid_pops = np.array(
        [pop[(assignment == g.grid_id).to_numpy() & inside].sum() for g in plan.grids], dtype=float
    )
    mean = float(pop[inside].sum()) / max(len(plan.grids), 1)
    bal = _balance(grid_pops, mean)
    # a mean over the located grids only would compare part of one plan with all of another
    complete = not unlocated and pa > 0
    return {
        "plan_id": plan.plan_id,
        "name": plan.name.get("zh", plan.plan_id),
        "n_grids": len(plan.grids),
        "mean_minutes": float((pop[ok] * minutes.to_numpy()[ok]).sum() / pa)
        if complete
        else math.nan,
        "assessed_population": pa,
        "not_assessed_population": float(pop[inside].sum()) - pa,
        **bal,
        "unlocated_grids": unlocated,
        "unlocated_names": [plan.grid(gid).name for gid in unlocated],
    }


def compare_plans(
    plan_a: GridPlan,
    plan_b: GridPlan,
    unit_set: UnitSet,
    cost: CostModel | None = None,
    hospitals: Mapping[str, Hospital | tuple[float, float]] | None = None,
    zone_anchors: Mapping[str, Sequence[str]] | None = None,
) -> PlanComparison:
    """Travel time, balance and the units that move between two plans of one prefecture.

    ``cost`` defaults to :class:`StraightLineCost`; ``hospitals`` maps grid ids
    or lead-hospital names to locations, over those stored in the plans (see
    :func:`plan_travel_minutes` for grids without one).
    """
    u = unit_set.units
    rows = {}
    assigns = {}
    for key, plan in (("a", plan_a), ("b", plan_b)):
        assignment = resolve_assignment(plan, u)
        minutes, unlocated = plan_travel_minutes(plan, unit_set, cost, hospitals, zone_anchors)
        rows[key] = _plan_row(plan, unit_set, assignment, minutes, unlocated)
        assigns[key] = assignment
    moved, match = moved_units(plan_a, plan_b, unit_set, (assigns["a"], assigns["b"]))
    return PlanComparison(
        summary=pd.DataFrame([rows["a"], rows["b"]], index=["a", "b"]),
        moved=moved,
        grid_match=match,
    )
