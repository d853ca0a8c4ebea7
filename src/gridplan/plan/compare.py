"""Two plans of one prefecture side by side: grid by grid, and the units that move.

:func:`moved_units` is the one way GridPlan tells which units move between two
plans; the grid proposal's comparison (:func:`gridplan.regions.compare.compare_plans`)
and the scenario comparison (:func:`compare_grids`, with coverage added by
:func:`gridplan.workflow.compare_scenarios`) both use it.  Grids correspond
when they share a grid id, else by the largest population they share
(:func:`match_grids`), so a unit moves only when its grid really changes, not
when a grid was renamed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.units import UnitSet

__all__ = [
    "GRID_COLUMNS",
    "MOVED_COLUMNS",
    "ScenarioComparison",
    "compare_grids",
    "match_grids",
    "moved_units",
]

#: Columns of :func:`moved_units`.
MOVED_COLUMNS: list[str] = [
    "unit_id", "name", "population", "from_grid_id", "from_grid", "to_grid_id", "to_grid",
]  # fmt: skip

#: Columns of :attr:`ScenarioComparison.grids`, in order.
GRID_COLUMNS: list[str] = [
    "grid_id", "name_a", "name_b", "population_a", "population_b", "share_a", "share_b",
    "deviation_a", "deviation_b", "area_km2_a", "area_km2_b", "units_a", "units_b",
    "covered_share_a", "covered_share_b", "mean_minutes_a", "mean_minutes_b",
    "population_diff", "covered_share_diff", "mean_minutes_diff",
]  # fmt: skip

#: :func:`moved_units`' columns as :attr:`ScenarioComparison.moved` names them.
_MOVED_NAMES = {
    "unit_id": "code", "from_grid_id": "from_id", "from_grid": "from",
    "to_grid_id": "to_id", "to_grid": "to",
}  # fmt: skip


def match_grids(
    plan_a: GridPlan, plan_b: GridPlan, a: pd.Series, b: pd.Series, pop: NDArray[np.float64]
) -> dict[str, str]:
    """Grid of ``plan_a`` → its grid of ``plan_b``.

    Grids with the same id correspond; the others are paired one to one by the
    largest population they share (``a``, ``b``: the plans' assignments; ``pop``
    the units' residents), the unit count breaking ties between empty units.
    """
    ids_a = [g.grid_id for g in plan_a.grids]
    ids_b = [g.grid_id for g in plan_b.grids]
    match = {g: g for g in ids_a if g in set(ids_b)}
    rest_a = [g for g in ids_a if g not in match]
    rest_b = [g for g in ids_b if g not in set(match.values())]
    if rest_a and rest_b:
        va, vb = a.to_numpy(), b.to_numpy()
        overlap = np.zeros((len(rest_a), len(rest_b)))
        for i, ga in enumerate(rest_a):
            in_a = va == ga
            for j, gb in enumerate(rest_b):
                both = in_a & (vb == gb)
                overlap[i, j] = pop[both].sum() + 1e-6 * both.sum()
        ri, cj = linear_sum_assignment(overlap, maximize=True)
        for i, j in zip(ri, cj, strict=True):
            if overlap[i, j] > 0:
                match[rest_a[i]] = rest_b[j]
    return match


def moved_units(
    plan_a: GridPlan,
    plan_b: GridPlan,
    unit_set: UnitSet,
    assignments: tuple[pd.Series, pd.Series] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The units of the prefecture whose grid changes from ``plan_a`` to ``plan_b``.

    Returns the table (:data:`MOVED_COLUMNS`: code, name, residents, the grid
    left and the grid joined, ``—`` for none) and the grid match of
    :func:`match_grids`.  A unit moves when it joins or leaves every grid, or
    when its grid in ``plan_b`` is not the match of its grid in ``plan_a``.
    ``assignments``: the plans' :func:`resolve_assignment`, if already made.
    """
    u = unit_set.units
    a, b = assignments or (resolve_assignment(plan_a, u), resolve_assignment(plan_b, u))
    pop = u["population"].fillna(0).to_numpy(dtype=float)
    match = match_grids(plan_a, plan_b, a, b, pop)
    names_a = {g.grid_id: g.name for g in plan_a.grids}
    names_b = {g.grid_id: g.name for g in plan_b.grids}
    inside = u["inside_prefecture"].to_numpy(dtype=bool)
    rows = []
    for r in range(len(u)):
        ga = None if a.iat[r] is None else str(a.iat[r])
        gb = None if b.iat[r] is None else str(b.iat[r])
        if not inside[r] or (ga is None and gb is None):
            continue
        if ga is not None and gb is not None and match.get(ga) == gb:
            continue
        rows.append(
            {
                "unit_id": str(u["unit_id"].iat[r]),
                "name": str(u["name"].iat[r]),
                "population": float(pop[r]),
                "from_grid_id": ga,
                "from_grid": names_a.get(ga, "—") if ga is not None else "—",
                "to_grid_id": gb,
                "to_grid": names_b.get(gb, "—") if gb is not None else "—",
            }
        )
    return pd.DataFrame(rows, columns=MOVED_COLUMNS), match


@dataclass
class ScenarioComparison:
    """Two plans (scenarios, or versions of one) side by side.

    Attributes
    ----------
    grids
        One row per grid id present in either plan (plan a's grids in order, then
        b's new ones), :data:`GRID_COLUMNS`: names, residents, share of the
        prefecture's residents, deviation from the mean grid population, area
        (km², drawn units), number of units, 15-minute coverage share and mean
        minutes (NaN until :func:`gridplan.workflow.compare_scenarios` adds
        them), and the differences b - a.  A side without the grid is NaN.
    moved
        The units that move: ``code``, ``name``, ``population``, ``from_id``,
        ``from``, ``to_id``, ``to`` (:func:`moved_units`).
    balance_a, balance_b
        :func:`gridplan.plan.stats.population_balance` of each plan.
    a, b
        What each side is: ``plan`` (id), ``name`` and ``prefecture``; a caller
        may add its own keys (a scenario's id and version).
    minutes
        The coverage threshold of the coverage columns (``None``: not assessed).
    """

    grids: pd.DataFrame
    moved: pd.DataFrame
    balance_a: dict[str, float]
    balance_b: dict[str, float]
    a: dict[str, Any] = field(default_factory=dict)
    b: dict[str, Any] = field(default_factory=dict)
    minutes: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The comparison as JSON (NaN as ``null``; residents to 0.1, shares to 6 decimals)."""
        return {
            "a": dict(self.a),
            "b": dict(self.b),
            "minutes": self.minutes,
            "grids": [_grid_json(r) for r in self.grids.to_dict("records")],
            "moved_units": [
                {
                    "code": r["code"],
                    "name": r["name"],
                    "population": _round(r["population"], 1),
                    "from_id": r["from_id"],
                    "from": r["from"],
                    "to_id": r["to_id"],
                    "to": r["to"],
                }
                for r in self.moved.to_dict("records")
            ],
            "balance_a": {k: _round(v, 6) for k, v in self.balance_a.items()},
            "balance_b": {k: _round(v, 6) for k, v in self.balance_b.items()},
        }


#: Decimals of each grid column in :meth:`ScenarioComparison.to_json` (others as they are).
_DIGITS = {
    "population": 1, "share": 6, "deviation": 6, "area_km2": 3, "covered_share": 6,
    "mean_minutes": 3,
}  # fmt: skip


def _round(value: Any, digits: int) -> Any:
    """``value`` rounded, ``None`` for NaN and infinity, an ``int`` when whole."""
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v):
        return None
    v = round(v, digits)
    return int(v) if v.is_integer() else v


def _grid_json(row: Mapping[Hashable, Any]) -> dict[str, Any]:
    name = row["name_a"] if isinstance(row["name_a"], str) else row["name_b"]
    out: dict[str, Any] = {"grid_id": row["grid_id"], "name": name}
    for col in GRID_COLUMNS[1:]:
        value = row[col]
        if col.startswith("name_"):
            out[col] = value if isinstance(value, str) else None
            continue
        stem = col.removesuffix("_diff").removesuffix("_a").removesuffix("_b")
        out[col] = _round(value, _DIGITS.get(stem, 0))
    return out


def _side(plan: GridPlan) -> dict[str, Any]:
    return {
        "plan": plan.plan_id,
        "name": plan.name.get("zh", plan.plan_id),
        "prefecture": plan.prefecture,
    }


def _plan_grid_table(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per grid of ``plan`` (name, residents, share, deviation from the mean, area, units),
    and the plan's population balance."""
    stats = grid_statistics(plan, unit_set, assignment)
    balance = population_balance(stats)
    total = float(np.nansum(unit_set.units["population"].to_numpy(dtype=float)))
    pop = stats["population"].to_numpy(dtype=float)
    mean = balance["mean"]
    table = pd.DataFrame(
        {
            "name": stats["name"].to_numpy(),
            "population": pop,
            "share": pop / total if total > 0 else np.full(len(pop), np.nan),
            "deviation": pop / mean - 1.0 if mean > 0 else np.full(len(pop), np.nan),
            "area_km2": stats["area_km2"].to_numpy(dtype=float),
            "units": stats["n_units"].to_numpy(dtype=float),
        },
        index=pd.Index(stats["grid_id"].astype(str), name="grid_id"),
    )
    return table, balance


def compare_grids(plan_a: GridPlan, plan_b: GridPlan, unit_set: UnitSet) -> ScenarioComparison:
    """Grid by grid and unit by unit, what changes from ``plan_a`` to ``plan_b``.

    Both plans are read on ``unit_set`` (one prefecture).  The coverage columns
    are NaN here: :func:`gridplan.workflow.compare_scenarios` fills them.
    """
    u = unit_set.units
    assignments = (resolve_assignment(plan_a, u), resolve_assignment(plan_b, u))
    ta, balance_a = _plan_grid_table(plan_a, unit_set, assignments[0])
    tb, balance_b = _plan_grid_table(plan_b, unit_set, assignments[1])
    ids = list(ta.index) + [g for g in tb.index if g not in set(ta.index)]
    grids = pd.DataFrame({"grid_id": ids})
    for side, table in (("a", ta), ("b", tb)):
        for col in table.columns:
            grids[f"{col}_{side}"] = table[col].reindex(ids).to_numpy()
    for side in ("a", "b"):
        grids[f"covered_share_{side}"] = np.nan
        grids[f"mean_minutes_{side}"] = np.nan
    grids["population_diff"] = grids["population_b"] - grids["population_a"]
    grids["covered_share_diff"] = np.nan
    grids["mean_minutes_diff"] = np.nan
    moved, _ = moved_units(plan_a, plan_b, unit_set, assignments)
    return ScenarioComparison(
        grids=grids[GRID_COLUMNS],
        moved=moved.rename(columns=_MOVED_NAMES),
        balance_a=balance_a,
        balance_b=balance_b,
        a=_side(plan_a),
        b=_side(plan_b),
    )
