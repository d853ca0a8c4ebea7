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
    _LOCATION_RE,
    CostModel,
    Hospital,
    StraightLineCost,
    _fill_free_costs,
    unit_lonlat,
)
from gridplan.regions.instance import _balance


# --- comparing plans ----------------------------------------------------------------------------
@dataclass
class PlanComparison:
    """Two plans side by side.

    ``summary`` has one row per plan (index ``a``, ``b``): ``plan_id``,
    ``n_grids``, ``mean_minutes`` (population-weighted travel time to the
    grid's lead hospital), ``assessed_population``, ``not_assessed_population``,
    the balance figures, and ``stand_in_grids`` (grids whose lead hospital
    location is unknown and was stood in for, see :func:`plan_travel_minutes`).
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


def _location_from_note(note: str) -> tuple[float, float] | None:
    m = _LOCATION_RE.search(note or "")
    return (float(m.group(1)), float(m.group(2))) if m else None


def plan_travel_minutes(
    plan: GridPlan,
    unit_set: UnitSet,
    cost: CostModel | None = None,
    hospitals: Mapping[str, Hospital | tuple[float, float]] | None = None,
    zone_anchors: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.Series, list[str]]:
    """Minutes from every unit to its grid's lead hospital, and the grids stood in for.

    A grid's hospital location is, in this order: ``hospitals[grid_id]`` or
    ``hospitals[lead_hospital]``; the location written in the grid's note by
    :func:`propose_grids`; else a *stand-in*: the point of the grid's most
    populous drawn unit (a county hospital is usually in the county seat) —
    such grids are returned in the list.  With a :class:`MatrixCost`, the
    column named like the lead hospital is used whatever the location.
    """
    model: CostModel = cost if cost is not None else StraightLineCost()
    u = unit_set.units
    assignment = resolve_assignment(plan, u)
    lonlat = unit_lonlat(unit_set, getattr(model, "surface", None))
    pop = u["population"].fillna(0).to_numpy(dtype=float)
    drawn = u["has_geometry"].to_numpy(dtype=bool)
    hosp: list[Hospital] = []
    stand_in: list[str] = []
    given = dict(hospitals or {})
    for g in plan.grids:
        hname = g.lead_hospital or g.name
        h = given.get(g.grid_id, given.get(g.lead_hospital))
        if isinstance(h, Hospital):
            hosp.append(Hospital(hname, h.lon, h.lat))
            continue
        if h is not None:
            hosp.append(Hospital(hname, float(h[0]), float(h[1])))
            continue
        loc = _location_from_note(g.note)
        if loc is not None:
            hosp.append(Hospital(hname, *loc))
            continue
        sel = np.flatnonzero((assignment == g.grid_id).to_numpy() & drawn)
        stand_in.append(g.grid_id)
        if len(sel) == 0:
            hosp.append(Hospital(hname, math.nan, math.nan))
            continue
        r = int(sel[np.argmax(pop[sel])])
        hosp.append(Hospital(hname, float(lonlat[r, 0]), float(lonlat[r, 1])))
    minutes = np.asarray(model.unit_minutes(unit_set, hosp), dtype=np.float64)
    minutes = _fill_free_costs(unit_set, minutes, zone_anchors)
    col = {g.grid_id: i for i, g in enumerate(plan.grids)}
    out = np.full(len(u), np.nan)
    for r, gid in enumerate(assignment):
        if gid is not None and gid in col:
            out[r] = minutes[r, col[gid]]
    return pd.Series(out, index=u.index, name="minutes"), stand_in


def _plan_row(
    plan: GridPlan,
    unit_set: UnitSet,
    assignment: pd.Series,
    minutes: pd.Series,
    stand_in: list[str],
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
    return {
        "plan_id": plan.plan_id,
        "name": plan.name.get("zh", plan.plan_id),
        "n_grids": len(plan.grids),
        "mean_minutes": float((pop[ok] * minutes.to_numpy()[ok]).sum() / pa)
        if pa > 0
        else math.nan,
        "assessed_population": pa,
        "not_assessed_population": float(pop[inside].sum()) - pa,
        **bal,
        "stand_in_grids": stand_in,
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
    or lead-hospital names to locations (see :func:`plan_travel_minutes` for
    grids without one).
    """
    u = unit_set.units
    rows = {}
    assigns = {}
    for key, plan in (("a", plan_a), ("b", plan_b)):
        assignment = resolve_assignment(plan, u)
        minutes, stand_in = plan_travel_minutes(plan, unit_set, cost, hospitals, zone_anchors)
        rows[key] = _plan_row(plan, unit_set, assignment, minutes, stand_in)
        assigns[key] = assignment
    moved, match = moved_units(plan_a, plan_b, unit_set, (assigns["a"], assigns["b"]))
    return PlanComparison(
        summary=pd.DataFrame([rows["a"], rows["b"]], index=["a", "b"]),
        moved=moved,
        grid_match=match,
    )
