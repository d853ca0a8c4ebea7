"""Checking a plan: every unit in exactly one grid, contiguity, lead hospitals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridplan import settings
from gridplan.i18n import Lang, t
from gridplan.inputs.crs import project_geoms
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.units import UnitSet

# --- validation ---------------------------------------------------------------------------
#: Every kind of plan problem; each has its text ``problem.<kind>`` in the catalogue.
PROBLEM_KINDS: tuple[str, ...] = (
    "outside",
    "outside_listed",
    "unknown_units",
    "unassigned",
    "duplicate",
    "not_contiguous",
    "no_lead",
    "empty_grid",
)


@dataclass
class Problem:
    """One thing wrong with a plan: its kind and the parameters of its text.

    The text is ``problem.<kind>`` in :data:`gridplan.i18n.MESSAGES`, rendered
    in the caller's language by :meth:`message`.  A list parameter (unit or
    grid names) is joined with the language's list separator; a list of lists
    (the parts of a grid) is numbered part by part.
    """

    kind: str
    severity: str  # "error" or "warning"
    grid_id: str | None
    units: list[str]
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PROBLEM_KINDS:  # a programming error: every kind needs its text
            raise ValueError(f"unknown plan problem kind {self.kind!r}")

    @property
    def code(self) -> str:
        return f"problem.{self.kind}"

    def message(self, lang: Lang = "zh") -> str:
        return t(self.code, lang, **_joined(self.params, lang))


def _joined(params: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """``params`` with lists of unit and grid names joined (``A、B``; groups ``1: A、B；2: C``)."""
    enum, clause = t("sep.names", lang), t("sep.name_groups", lang)
    out = dict(params)
    for key, value in params.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            out[key] = clause.join(
                f"{k + 1}: " + enum.join(map(str, part)) for k, part in enumerate(value)
            )
        elif isinstance(value, list):
            out[key] = enum.join(map(str, value))
    return out


def unit_adjacency(unit_set: UnitSet) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of unit row positions whose polygons touch (within a tolerance).

    Measured in the unit set's metric CRS; the tolerance
    (:data:`gridplan.settings.adjacency_tolerance_m`) absorbs the small gaps of
    simplified boundary data.
    """
    u = unit_set.units
    has = u["has_geometry"].to_numpy()
    idx = np.flatnonzero(has)
    geoms = project_geoms(u.geometry.to_numpy()[idx], u.crs, unit_set.metric_crs)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=settings.adjacency_tolerance_m)
    keep = a < b
    return idx[a[keep]], idx[b[keep]]


def grid_components(
    unit_set: UnitSet, assignment: pd.Series, adjacency: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, list[list[int]]]:
    """Connected parts of each grid, as lists of unit row positions (drawn units only)."""
    ia, ib = adjacency if adjacency is not None else unit_adjacency(unit_set)
    gids = assignment.to_numpy()
    same = np.array(
        [gids[i] is not None and gids[i] == gids[j] for i, j in zip(ia, ib, strict=True)],
        dtype=bool,
    )
    n = len(gids)
    graph = coo_matrix((np.ones(same.sum()), (ia[same], ib[same])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    drawn = unit_set.units["has_geometry"].to_numpy()
    parts: dict[str, dict[int, list[int]]] = {}
    for i in np.flatnonzero(drawn):
        gid = gids[i]
        if gid is not None:
            parts.setdefault(str(gid), {}).setdefault(int(labels[i]), []).append(int(i))
    return {g: sorted(p.values(), key=len, reverse=True) for g, p in parts.items()}


def validate_plan(
    plan: GridPlan,
    unit_set: UnitSet,
    assignment: pd.Series | None = None,
    adjacency: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Problem]:
    """Every problem of a plan, reported together.

    Checks: units outside the prefecture, units in no grid, units in two
    grids, grid members that are not units of this prefecture, grids that are
    not contiguous (naming each part), grids without a lead hospital, and
    empty grids.
    """
    assignment = resolve_assignment(plan, unit_set.units) if assignment is None else assignment
    return [
        *_unit_problems(plan, unit_set, assignment),
        *_listed_twice(plan, unit_set),
        *_not_contiguous(plan, unit_set, assignment, adjacency),
        *_grid_problems(plan, assignment),
    ]


def _listing(
    kind: str, severity: str, unit_ids: Iterable[str], names: Iterable[str], key: str = "units"
) -> list[Problem]:
    """One problem naming every unit (or grid) in ``names``; none when there is none."""
    listed = [str(n) for n in names]
    if not listed:
        return []
    return [Problem(kind, severity, None, list(unit_ids), {key: listed, "n": len(listed)})]


def _unit_problems(plan: GridPlan, unit_set: UnitSet, assignment: pd.Series) -> list[Problem]:
    """Units outside the prefecture, listed codes that are not its units, units in no grid."""
    u = unit_set.units
    outside = u[~u["inside_prefecture"]]
    known = set(u["unit_id"]) | set(u["county_adcode"].dropna())
    foreign = sorted({c for c in plan.listed() if c not in known})
    prefix = unit_set.prefecture.prefix
    other_prefecture = [c for c in foreign if not c.startswith(prefix)]
    unknown = [c for c in foreign if c.startswith(prefix)]
    unassigned = u[assignment.isna() & u["inside_prefecture"]]
    return [
        *_listing("outside", "error", outside["unit_id"], outside["name"]),
        *_listing("outside_listed", "error", other_prefecture, other_prefecture),
        *_listing("unknown_units", "warning", unknown, unknown),
        *_listing("unassigned", "error", unassigned["unit_id"], unassigned["name"]),
    ]


def _listed_twice(plan: GridPlan, unit_set: UnitSet) -> list[Problem]:
    """One problem per unit that more than one grid lists."""
    u = unit_set.units
    names = dict(zip(u["unit_id"], u["name"], strict=True))
    grid_names = {g.grid_id: g.name for g in plan.grids}
    return [
        Problem(
            "duplicate",
            "error",
            gids[0],
            [code],
            {"unit": names.get(code, code), "grids": [grid_names[g] for g in gids]},
        )
        for code, gids in plan.listed().items()
        if len(gids) > 1
    ]


def _not_contiguous(
    plan: GridPlan,
    unit_set: UnitSet,
    assignment: pd.Series,
    adjacency: tuple[np.ndarray, np.ndarray] | None,
) -> list[Problem]:
    """One problem per grid in several parts, naming the units of each part."""
    u = unit_set.units
    comps = grid_components(unit_set, assignment, adjacency)
    out = []
    for g in plan.grids:
        parts = comps.get(g.grid_id, [])
        if len(parts) > 1:
            names_of_parts = [[str(u["name"].iat[i]) for i in part] for part in parts]
            unit_ids = [str(u["unit_id"].iat[i]) for p in parts for i in p]
            params = {"grid": g.name, "n": len(parts), "parts": names_of_parts}
            out.append(Problem("not_contiguous", "error", g.grid_id, unit_ids, params))
    return out


def _grid_problems(plan: GridPlan, assignment: pd.Series) -> list[Problem]:
    """Grids without a lead hospital, grids without units."""
    no_lead = [g.name for g in plan.grids if not g.lead_hospital.strip()]
    used = set(assignment.dropna())
    empty = [g.name for g in plan.grids if g.grid_id not in used]
    return [
        *_listing("no_lead", "warning", [], no_lead, key="grids"),
        *_listing("empty_grid", "warning", [], empty, key="grids"),
    ]
