"""Grid proposals: balanced, contiguous grids around lead hospitals.

:func:`propose_grids` partitions the planning units of a prefecture (counties,
or townships where a township layer is loaded) into ``k`` grids such that

* every grid is **contiguous** (its drawn units form one connected piece of
  the adjacency graph of :func:`gridplan.grids.unit_adjacency`),
* every grid contains its lead hospital's unit (the *root* of the grid),
* every grid's population lies within ``±X`` of the mean ``P / k``
  (``X`` is the balance tolerance, a 0.05–0.5 slider in the UI),

and the population-weighted travel time of every unit to its grid's lead
hospital is as small as possible.  The result is a :class:`Proposal` whose
``plan`` is an ordinary :class:`~gridplan.grids.GridPlan` (grids of kind
``"proposal"``) that the editor can adopt.

Travel time
-----------
The default (:class:`StraightLineCost`) is the straight line between a unit's
point and the hospital, × detour 1.3, at 30 km/h (car on rural roads, see
:data:`gridplan.traveltime.MODE_SPEED_SOURCES`).  A unit's point is its
population-weighted centroid when a :class:`~gridplan.surface.PopulationSurface`
is given, otherwise its representative point (always inside the polygon).
Other models plug in through :class:`MatrixCost` (a unit × hospital table of
minutes) or a plain ``numpy`` array of shape (units, k).

Functional zones without a polygon
----------------------------------
Units with ``has_geometry`` False (e.g. 高新区 at county level) have no
neighbours, so they cannot take part in contiguity.  They are *free units*:
they may join any grid, their residents count for balance, and they are
placed to minimise travel time subject to balance.  Their travel time is that
of their *anchor* units (mean over the anchors): by default the districts the
embedded township reference names as their legal parents (高新区 → 裕华区 and
栾城区; 循环化工园区 → 藁城区), or ``zone_anchors`` given by the caller.  A free
unit without anchors has no travel time: it is placed by balance alone and its
residents are reported as not assessed.  (The Shijiazhuang preset puts 高新区
with 长安 by policy; a proposal does not know that policy, so compare the two
with :func:`compare_plans`.)

Methods
-------
``exact``
    A mixed-integer programme solved by HiGHS (``highspy``), time-limited.
    Binary ``x[i, g]`` (unit i in grid g), and per grid a single-commodity
    flow from the root: every non-root member of grid g consumes one unit of
    flow of commodity g, flow on arcs into unit i is at most ``M_g · x[i, g]``
    (so flow only passes through members), hence every member is connected to
    the root inside the grid (Shirabe 2005; Duque, Church & Middleton 2011).
    ``M_g`` is the largest number of units grid g can hold within the upper
    population bound.  Valid inequalities ``x[i, g] ≤ Σ_{j ~ i} x[j, g]`` and
    reachability fixing (a unit cut off from root g by the other roots is
    never in g) tighten it.  Objective and balance rows are scaled so that
    the objective is the mean travel time in minutes.  When the bounds are
    infeasible, a second programme minimises the largest deviation ``t``
    from the mean, and a third minimises travel time within ``±t``.
``heuristic``
    Seeded region growing by travel time (respecting the upper bound), then
    local search that moves boundary units to neighbouring grids and swaps
    pairs of boundary units, keeping every grid connected, accepting a change
    when it lowers the balance violation or keeps it and lowers travel time;
    iterated with random perturbations (iterated local search).
``auto``
    The heuristic first (its solution warm-starts the solver), then the exact
    programme when ``highspy`` is installed and the instance is small
    (:data:`EXACT_MAX_PAIRS` unit × grid pairs).

A result never violates the bounds silently: ``bounds_met`` is False and
``best_tolerance`` gives the smallest tolerance the method achieved (proven
minimal when ``best_tolerance_proven``).

Islands
-------
Drawn units in a part of the adjacency graph with no lead hospital can join
no grid contiguously.  They are joined to the nearest other part by a
*bridge* (listed in ``Proposal.bridges``); the grid that takes them is then
not contiguous and ``contiguous`` is False.
"""

from __future__ import annotations

import heapq
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csc_matrix
from scipy.sparse.csgraph import connected_components

from gridplan.errors import InputError
from gridplan.grids import Grid, GridPlan, grid_components, resolve_assignment, unit_adjacency
from gridplan.i18n import t
from gridplan.surface import PopulationSurface
from gridplan.townships import reference_townships
from gridplan.traveltime import DEFAULT_DETOUR, MODE_SPEEDS_KMH, check_detour, speed_m_per_min
from gridplan.units import UnitSet

#: Default speed (km/h) of the straight-line travel-time model: driving.
DEFAULT_SPEED_KMH = MODE_SPEEDS_KMH["drive"]
#: The balance slider's range in the UI (the library accepts 0 ≤ X < 1).
TOLERANCE_SLIDER = (0.05, 0.5)
#: ``auto`` solves exactly when (drawn units × grids) is at most this.
EXACT_MAX_PAIRS = 1500
#: Grid kind of proposed grids.
PROPOSAL_KIND = "proposal"

Method = Literal["auto", "exact", "heuristic"]

_LOCATION_RE = re.compile(r"WGS-84\s+(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)")
_LEGAL_PARENT_RE = re.compile(r"legally in ([^)）\s]+)")
_REL = 1e-9  # relative slack when checking population bounds


# --- hospitals and travel-time models -------------------------------------------------
@dataclass(frozen=True)
class Hospital:
    """A lead hospital: a name and a WGS-84 location."""

    name: str
    lon: float
    lat: float


HospitalLike = Hospital | tuple[float, float] | tuple[str, float, float]


class CostModel(Protocol):
    """Travel minutes from every unit to each of some hospitals."""

    @property
    def name(self) -> str: ...

    def unit_minutes(self, unit_set: UnitSet, hospitals: Sequence[Hospital]) -> NDArray[np.float64]:
        """Array (units × hospitals) of minutes; NaN where the model does not know."""
        ...


def _to_metric(unit_set: UnitSet) -> Transformer:
    return Transformer.from_crs("EPSG:4326", unit_set.metric_crs, always_xy=True)


def _surface_cells(
    unit_set: UnitSet, surface: PopulationSurface
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Populated cells of ``surface``: metric x, y (unit set's CRS), residents, unit row."""
    rows, cols = np.nonzero(surface.population > 0)
    unit = surface.unit_index[rows, cols]
    keep = unit >= 0
    rows, cols, unit = rows[keep], cols[keep], unit[keep]
    w = surface.population[rows, cols].astype(np.float64)
    x, y = surface.grid.centres(rows, cols)
    if surface.grid.crs != unit_set.metric_crs:
        tr = Transformer.from_crs(surface.grid.crs, unit_set.metric_crs, always_xy=True)
        x, y = (np.asarray(v, dtype=float) for v in tr.transform(x, y))
    pos = {uid: i for i, uid in enumerate(unit_set.units["unit_id"].astype(str))}
    to_row = np.array([pos.get(str(uid), -1) for uid in surface.unit_ids], dtype=np.int64)
    row = to_row[unit] if len(to_row) else np.zeros(0, dtype=np.int64)
    ok = row >= 0
    return x[ok], y[ok], w[ok], row[ok]


def unit_points(unit_set: UnitSet, surface: PopulationSurface | None = None) -> NDArray[np.float64]:
    """The point of every unit in the metric CRS (array units × 2; NaN without polygon).

    The population-weighted centroid of the unit's cells when ``surface`` is
    given and the unit holds populated cells; otherwise the representative
    point of its polygon (a point inside it).
    """
    u = unit_set.units
    out = np.full((len(u), 2), np.nan)
    has = u["has_geometry"].to_numpy(dtype=bool)
    if has.any():
        geoms = u.geometry[has].to_crs(unit_set.metric_crs).to_numpy()
        pts = shapely.point_on_surface(geoms)
        out[has, 0] = shapely.get_x(pts)
        out[has, 1] = shapely.get_y(pts)
    if surface is not None:
        x, y, w, row = _surface_cells(unit_set, surface)
        wsum = np.bincount(row, weights=w, minlength=len(u))
        cx = np.bincount(row, weights=w * x, minlength=len(u))
        cy = np.bincount(row, weights=w * y, minlength=len(u))
        ok = (wsum > 0) & has
        out[ok, 0] = cx[ok] / wsum[ok]
        out[ok, 1] = cy[ok] / wsum[ok]
    return out


@dataclass
class StraightLineCost:
    """Straight line × detour at a constant speed, from each unit's point.

    See :func:`unit_points` for the point (population-weighted centroid with a
    ``surface``, else representative point).  Defaults: 30 km/h, detour 1.3.

    With ``cell_mean`` (needs ``surface``), a unit's minutes are instead the
    population-weighted mean over its cells of the minutes from each cell:
    travel inside the unit counts too, so a hospital in the unit is not 0
    minutes away from all its residents.  Slower: cells × hospitals distances.
    """

    speed_kmh: float = DEFAULT_SPEED_KMH
    detour: float = DEFAULT_DETOUR
    surface: PopulationSurface | None = None
    cell_mean: bool = False
    name: str = "straight"

    def __post_init__(self) -> None:
        speed_m_per_min(self.speed_kmh)
        check_detour(self.detour)
        if self.cell_mean and self.surface is None:
            raise InputError("cell_mean needs a population surface")

    def unit_minutes(self, unit_set: UnitSet, hospitals: Sequence[Hospital]) -> NDArray[np.float64]:
        pts = unit_points(unit_set, self.surface)
        if not hospitals:
            return np.zeros((len(pts), 0))
        hx, hy = (
            np.atleast_1d(np.asarray(v, dtype=float))
            for v in _to_metric(unit_set).transform(
                np.array([h.lon for h in hospitals]), np.array([h.lat for h in hospitals])
            )
        )
        d = np.hypot(pts[:, [0]] - hx[None, :], pts[:, [1]] - hy[None, :])
        if self.cell_mean and self.surface is not None:
            x, y, w, row = _surface_cells(unit_set, self.surface)
            wsum = np.bincount(row, weights=w, minlength=len(pts))
            has = wsum > 0
            for j in range(len(hospitals)):
                dj = np.hypot(x - hx[j], y - hy[j])
                s = np.bincount(row, weights=w * dj, minlength=len(pts))
                d[has, j] = s[has] / wsum[has]
        return np.asarray(d * self.detour / speed_m_per_min(self.speed_kmh), dtype=np.float64)


@dataclass
class MatrixCost:
    """Precomputed minutes: rows ``unit_id``, columns hospital names.

    Units or hospitals not in the table get NaN (not assessed).
    """

    minutes: pd.DataFrame
    name: str = "matrix"

    def unit_minutes(self, unit_set: UnitSet, hospitals: Sequence[Hospital]) -> NDArray[np.float64]:
        m = self.minutes.copy()
        m.index = m.index.astype(str)
        m.columns = [str(c) for c in m.columns]
        m = m[~m.index.duplicated()]
        out = m.reindex(
            index=unit_set.units["unit_id"].astype(str), columns=[h.name for h in hospitals]
        )
        return out.to_numpy(dtype=np.float64)


def default_zone_anchors(unit_set: UnitSet) -> dict[str, list[str]]:
    """Where each undrawn unit's residents are taken to live, for travel time.

    From the embedded township reference: the districts named as the legal
    parents of a functional zone's townships (``legally in 裕华区``).  Zones
    the reference says nothing about get no anchor.
    """
    u = unit_set.units
    free = u.loc[~u["has_geometry"].astype(bool), "unit_id"].astype(str)
    if free.empty:
        return {}
    ref = reference_townships(unit_set.prefecture.adcode)
    by_name = dict(zip(u["county_name"].astype(str), u["county_adcode"].astype(str), strict=False))
    out: dict[str, list[str]] = {}
    for z in free:
        notes = ref.loc[ref["county_adcode"].astype(str) == z, "administered_by"].dropna()
        anchors: list[str] = []
        for note in notes.astype(str):
            for name in _LEGAL_PARENT_RE.findall(note):
                code = by_name.get(name)
                if code and code != z and code not in anchors:
                    anchors.append(code)
        if anchors:
            out[z] = anchors
    return out


def _fill_free_costs(
    unit_set: UnitSet, minutes: NDArray[np.float64], anchors: Mapping[str, Sequence[str]]
) -> NDArray[np.float64]:
    """Rows of undrawn units with unknown minutes: the mean over their anchors' rows."""
    u = unit_set.units
    out = minutes.copy()
    ids = u["unit_id"].astype(str).to_numpy()
    county = u["county_adcode"].astype(str).to_numpy()
    drawn = u["has_geometry"].to_numpy(dtype=bool)
    for r in np.flatnonzero(~drawn):
        if np.isfinite(out[r]).all():
            continue
        codes = list(anchors.get(ids[r], ()))
        rows = np.flatnonzero(drawn & (np.isin(ids, codes) | np.isin(county, codes)))
        if len(rows):
            vals = out[rows]
            ok = np.isfinite(vals)
            n = ok.sum(axis=0)
            total = np.where(ok, vals, 0.0).sum(axis=0)
            out[r] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    return out


# --- result types -------------------------------------------------------------------------
@dataclass
class Proposal:
    """A proposed grid plan with how it was found and how good it is.

    Attributes
    ----------
    plan
        The grids, as a :class:`~gridplan.grids.GridPlan` (kind ``"proposal"``).
    assignment
        Grid id of every row of ``unit_set.units`` (None: outside the prefecture).
    hospitals
        Lead hospital of each grid, in grid order.
    root_units
        The unit holding each lead hospital, in grid order.
    method, status
        ``exact`` (HiGHS) or ``heuristic``; status ``optimal``,
        ``time_limit`` (exact, stopped with a gap), ``local_optimum``.
    tolerance, bounds
        The requested ``X`` and the population bounds ``(1 ∓ X) · P / k``.
    bounds_met
        Whether every grid is within the bounds.  When False, the plan is the
        best-balanced one found and ``best_tolerance`` is its largest deviation.
    objective_person_minutes, mean_minutes
        Population-weighted travel time to the lead hospital: the sum over
        assessed residents, and its mean.
    balance
        ``max``, ``min``, ``mean``, ``max_min_ratio``, ``cv``, ``max_deviation``
        (largest ``|pop − mean| / mean``).
    gap
        Relative MIP gap when exact, else None.
    """

    plan: GridPlan
    assignment: pd.Series
    hospitals: list[Hospital]
    root_units: list[str]
    method: str
    status: str
    tolerance: float
    bounds: tuple[float, float]
    bounds_met: bool
    objective_person_minutes: float
    mean_minutes: float
    balance: dict[str, float]
    contiguous: bool
    solve_seconds: float
    gap: float | None
    best_tolerance: float | None = None
    best_tolerance_proven: bool = False
    free_units: list[str] = field(default_factory=list)
    not_assessed_population: float = 0.0
    bridges: list[tuple[str, str]] = field(default_factory=list)
    cost_model: str = ""
    notes: list[str] = field(default_factory=list)
    grid_table: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def hospitals_by_grid(self) -> dict[str, Hospital]:
        """Grid id → lead hospital (pass to :func:`compare_plans`)."""
        return {g.grid_id: h for g, h in zip(self.plan.grids, self.hospitals, strict=True)}

    def summary(self) -> dict[str, Any]:
        """The headline figures in one flat dict."""
        return {
            "method": self.method,
            "status": self.status,
            "k": len(self.plan.grids),
            "tolerance": self.tolerance,
            "bounds_met": self.bounds_met,
            "best_tolerance": self.best_tolerance,
            "mean_minutes": self.mean_minutes,
            "objective_person_minutes": self.objective_person_minutes,
            "max_min_ratio": self.balance["max_min_ratio"],
            "cv": self.balance["cv"],
            "max_deviation": self.balance["max_deviation"],
            "contiguous": self.contiguous,
            "gap": self.gap,
            "solve_seconds": self.solve_seconds,
        }


# --- the instance ------------------------------------------------------------------------
@dataclass
class _Instance:
    rows: NDArray[np.int64]  # positions in unit_set.units of the active units
    ids: list[str]
    names: list[str]
    pop: NDArray[np.float64]
    cost: NDArray[np.float64]  # active units × k, minutes (finite)
    assessed: NDArray[np.bool_]
    drawn: NDArray[np.bool_]
    nbrs: list[list[int]]
    edges: NDArray[np.int64]  # (E, 2), active positions, i < j
    roots: list[int]
    mean: float
    lo: float
    hi: float

    @property
    def m(self) -> int:
        return len(self.ids)

    @property
    def k(self) -> int:
        return len(self.roots)

    def with_tolerance(self, x: float) -> _Instance:
        return replace(self, lo=self.mean * (1 - x), hi=self.mean * (1 + x))


def _viol(x: float, lo: float, hi: float) -> float:
    return max(0.0, x - hi) + max(0.0, lo - x)


def _evaluate(inst: _Instance, assign: NDArray[np.int64]) -> tuple[float, float]:
    """Balance violation (persons outside the bounds) and person-minutes."""
    gp = np.bincount(assign, weights=inst.pop, minlength=inst.k)
    v = sum(_viol(float(p), inst.lo, inst.hi) for p in gp)
    c = float((inst.pop * inst.cost[np.arange(inst.m), assign]).sum())
    return v, c


def _grid_pops(inst: _Instance, assign: NDArray[np.int64]) -> NDArray[np.float64]:
    return np.bincount(assign, weights=inst.pop, minlength=inst.k).astype(np.float64)


def _max_deviation(inst: _Instance, assign: NDArray[np.int64]) -> float:
    gp = _grid_pops(inst, assign)
    return float(np.abs(gp - inst.mean).max() / inst.mean) if inst.mean > 0 else 0.0


# --- heuristic ---------------------------------------------------------------------------
class _Search:
    """Region growing + iterated local search keeping every grid connected."""

    def __init__(self, inst: _Instance, seed: int = 0) -> None:
        self.inst = inst
        self.rng = np.random.default_rng(seed)
        self.w = inst.pop[:, None] * inst.cost  # person-minutes
        self.is_root = np.zeros(inst.m, dtype=bool)
        self.is_root[inst.roots] = True
        self.eps_p = 1e-6 * max(inst.mean, 1.0)
        self.eps_c = 1e-9 * max(float(self.w.max(initial=0.0)), 1.0)
        self.lam = math.inf  # balance penalty (minutes per person outside the bounds)

    # state: assign (array), gp (grid populations), size (drawn members per grid)
    def grow(self) -> NDArray[np.int64]:
        inst = self.inst
        a = np.full(inst.m, -1, dtype=np.int64)
        gp = np.zeros(inst.k)
        heap: list[tuple[float, int, int]] = []
        for g, r in enumerate(inst.roots):
            a[r] = g
            gp[g] += inst.pop[r]
        for g, r in enumerate(inst.roots):
            for j in inst.nbrs[r]:
                heapq.heappush(heap, (float(inst.cost[j, g]), j, g))
        while heap:
            _, j, g = heapq.heappop(heap)
            if a[j] >= 0 or gp[g] + inst.pop[j] > inst.hi:
                continue
            a[j] = g
            gp[g] += inst.pop[j]
            for n in inst.nbrs[j]:
                if a[n] < 0:
                    heapq.heappush(heap, (float(inst.cost[n, g]), n, g))
        # units blocked by the upper bound: to the cheapest adjacent grid
        left = [i for i in range(inst.m) if a[i] < 0 and inst.drawn[i]]
        while left:
            best: tuple[float, int, int] | None = None
            for i in left:
                for n in inst.nbrs[i]:
                    if a[n] >= 0:
                        cand = (float(inst.cost[i, a[n]]), i, int(a[n]))
                        if best is None or cand < best:
                            best = cand
            if best is None:  # unreachable (cannot happen after bridging)
                raise RuntimeError("units unreachable from every lead hospital")
            _, i, g = best
            a[i] = g
            gp[g] += inst.pop[i]
            left.remove(i)
        free = [i for i in range(inst.m) if a[i] < 0]
        for i in sorted(free, key=lambda i: -inst.pop[i]):
            room = [g for g in range(inst.k) if gp[g] + inst.pop[i] <= inst.hi]
            g = min(room, key=lambda g: inst.cost[i, g]) if room else int(np.argmin(gp))
            a[i] = g
            gp[g] += inst.pop[i]
        return a

    def connected(
        self, a: NDArray[np.int64], g: int, size: int, remove: int = -1, add: int = -1
    ) -> bool:
        """Whether grid g stays connected with ``remove`` taken out and ``add`` put in."""
        inst = self.inst
        root = inst.roots[g]
        if root == remove:
            return False
        expected = size - (remove >= 0) + (add >= 0)
        seen = {root}
        stack = [root]
        while stack:
            v = stack.pop()
            for n in inst.nbrs[v]:
                if n in seen or n == remove:
                    continue
                if a[n] == g or n == add:
                    seen.add(n)
                    stack.append(n)
        return len(seen) == expected

    def _better(self, dv: float, dc: float) -> bool:
        if math.isinf(self.lam):
            return dv < -self.eps_p or (dv <= self.eps_p and dc < -self.eps_c)
        return dc + self.lam * dv < -self.eps_c

    def _score(self, dv: float, dc: float) -> tuple[float, float]:
        return (dv, dc) if math.isinf(self.lam) else (dc + self.lam * dv, 0.0)

    def cut_set(self, a: NDArray[np.int64], g: int, i: int) -> NDArray[np.int64]:
        """Unit i and the members of grid g that lose their link to the root without it."""
        inst = self.inst
        root = inst.roots[g]
        seen = {root}
        stack = [root]
        while stack:
            v = stack.pop()
            for n in inst.nbrs[v]:
                if n != i and n not in seen and a[n] == g:
                    seen.add(n)
                    stack.append(n)
        members = np.flatnonzero((a == g) & inst.drawn)
        if len(seen) == len(members) - 1:
            return np.array([i], dtype=np.int64)
        return np.array([v for v in members if v not in seen], dtype=np.int64)

    def local_search(
        self,
        a: NDArray[np.int64],
        gp: NDArray[np.float64],
        size: NDArray[np.int64],
        deadline: float,
    ) -> None:
        """Best move of each unit in turn, then swaps, until neither improves.

        A move takes unit i to a neighbouring grid together with the members
        of its grid that would be cut off from the root without i (a branch),
        so every grid stays connected.
        """
        inst = self.inst
        lo, hi = inst.lo, inst.hi
        all_grids = set(range(inst.k))
        while time.perf_counter() < deadline:
            improved = False
            for i in self.rng.permutation(inst.m):
                if self.is_root[i]:
                    continue
                ga = int(a[i])
                if inst.drawn[i]:
                    cand = {int(a[j]) for j in inst.nbrs[i]} - {ga}
                    if not cand:
                        continue
                    branch = self.cut_set(a, ga, int(i))
                else:
                    cand = all_grids - {ga}
                    branch = np.array([i], dtype=np.int64)
                p = float(inst.pop[branch].sum())
                wb = self.w[branch].sum(axis=0)
                dva = _viol(gp[ga] - p, lo, hi) - _viol(gp[ga], lo, hi)
                best: tuple[tuple[float, float], int] | None = None
                for gb in cand:
                    dv = dva + _viol(gp[gb] + p, lo, hi) - _viol(gp[gb], lo, hi)
                    dc = float(wb[gb] - wb[ga])
                    if self._better(dv, dc):
                        key = self._score(dv, dc)
                        if best is None or key < best[0]:
                            best = (key, gb)
                if best is None:
                    continue
                gb = best[1]
                a[branch] = gb
                gp[ga] -= p
                gp[gb] += p
                nd = int(inst.drawn[branch].sum())
                size[ga] -= nd
                size[gb] += nd
                improved = True
            if not improved and not self.swap_pass(a, gp, size, deadline):
                return

    def swap_pass(
        self,
        a: NDArray[np.int64],
        gp: NDArray[np.float64],
        size: NDArray[np.int64],
        deadline: float,
    ) -> bool:
        """Apply the first improving swap of two units between two grids, if any."""
        inst = self.inst
        lo, hi = inst.lo, inst.hi
        border: dict[tuple[int, int], set[int]] = {}
        free_in: dict[int, list[int]] = {}
        for i in range(inst.m):
            if self.is_root[i]:
                continue
            if not inst.drawn[i]:
                free_in.setdefault(int(a[i]), []).append(i)
                continue
            for n in inst.nbrs[i]:
                if a[n] != a[i]:
                    border.setdefault((int(a[i]), int(a[n])), set()).add(i)
        pairs = {(min(x, y), max(x, y)) for x, y in border} | {
            (x, y)
            for x in range(inst.k)
            for y in range(x + 1, inst.k)
            if free_in.get(x) or free_in.get(y)
        }
        for ga, gb in sorted(pairs):
            if time.perf_counter() > deadline:
                return False
            side_a = sorted(border.get((ga, gb), set())) + free_in.get(ga, [])
            side_b = sorted(border.get((gb, ga), set())) + free_in.get(gb, [])
            va, vb = _viol(gp[ga], lo, hi), _viol(gp[gb], lo, hi)
            for i in side_a:
                for j in side_b:
                    d = inst.pop[j] - inst.pop[i]
                    dv = _viol(gp[ga] + d, lo, hi) - va + _viol(gp[gb] - d, lo, hi) - vb
                    dc = self.w[i, gb] + self.w[j, ga] - self.w[i, ga] - self.w[j, gb]
                    if not self._better(dv, dc):
                        continue
                    di, dj = bool(inst.drawn[i]), bool(inst.drawn[j])
                    sa = int(size[ga]) - di + dj
                    sb = int(size[gb]) - dj + di
                    ok = self.connected(
                        a, ga, int(size[ga]), remove=i if di else -1, add=j if dj else -1
                    ) and self.connected(
                        a, gb, int(size[gb]), remove=j if dj else -1, add=i if di else -1
                    )
                    if not ok:
                        continue
                    a[i], a[j] = gb, ga
                    gp[ga] += d
                    gp[gb] -= d
                    size[ga], size[gb] = sa, sb
                    return True
        return False

    def perturb(
        self, a: NDArray[np.int64], gp: NDArray[np.float64], size: NDArray[np.int64], n_moves: int
    ) -> None:
        inst = self.inst
        movable = [i for i in range(inst.m) if not self.is_root[i]]
        if not movable:
            return
        for _ in range(n_moves * 5):
            if n_moves <= 0:
                break
            i = int(self.rng.choice(movable))
            ga = int(a[i])
            if inst.drawn[i]:
                cand = sorted({int(a[j]) for j in inst.nbrs[i]} - {ga})
            else:
                cand = [g for g in range(inst.k) if g != ga]
            if not cand:
                continue
            gb = int(self.rng.choice(cand))
            if inst.drawn[i] and not self.connected(a, ga, int(size[ga]), remove=i):
                continue
            a[i] = gb
            gp[ga] -= inst.pop[i]
            gp[gb] += inst.pop[i]
            if inst.drawn[i]:
                size[ga] -= 1
                size[gb] += 1
            n_moves -= 1

    def _state(
        self, a: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        a = a.copy()
        size = np.bincount(a[self.inst.drawn], minlength=self.inst.k).astype(np.int64)
        return a, _grid_pops(self.inst, a), size

    def _improves(self, key: tuple[float, float], ref: tuple[float, float], slack: float) -> bool:
        """``key`` (violation, cost) is no worse than ``ref`` (cost within ``slack``)."""
        if key[0] < ref[0] - self.eps_p:
            return True
        return key[0] <= ref[0] + self.eps_p and key[1] < ref[1] * (1 + slack) - self.eps_c

    def run(
        self, rounds: int, deadline: float, start: NDArray[np.int64] | None = None
    ) -> NDArray[np.int64]:
        """Iterated local search; returns the best (violation, cost) solution found.

        Each round perturbs the current solution, descends with a finite
        balance penalty (strategic oscillation: the search may cross plans
        outside the bounds), then lexicographically (balance first), and
        accepts the result if it is within 1 % of the best travel time found.
        """
        inst = self.inst
        a, gp, size = self._state(self.grow() if start is None else start)
        self.lam = math.inf
        self.local_search(a, gp, size, deadline)
        best, best_key = a.copy(), _evaluate(inst, a)
        cur_key = best_key
        cur = a.copy()
        n_moves = max(2, inst.m // 12)
        scale = float(np.median(inst.cost)) or 1.0
        ladder = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
        for r in range(rounds):
            if time.perf_counter() > deadline:
                break
            self.perturb(a, gp, size, int(self.rng.integers(1, n_moves + 1)))
            self.lam = scale * ladder[r % len(ladder)]
            self.local_search(a, gp, size, deadline)
            self.lam = math.inf
            self.local_search(a, gp, size, deadline)
            key = _evaluate(inst, a)
            if self._improves(key, best_key, 0.0):
                best, best_key = a.copy(), key
            if self._improves(key, cur_key, 0.0) or self._improves(key, best_key, 0.01):
                cur, cur_key = a.copy(), key
            else:
                a, gp, size = self._state(cur)
        return best


# --- exact: MILP with HiGHS ------------------------------------------------------------
@dataclass
class _MilpResult:
    status: str  # optimal, time_limit, infeasible, no_solution
    assign: NDArray[np.int64] | None
    objective: float
    gap: float | None
    t: float | None = None


def _highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def _reachable(inst: _Instance) -> NDArray[np.bool_]:
    """``ok[i, g]``: unit i can reach root g without passing through another root."""
    ok = np.zeros((inst.m, inst.k), dtype=bool)
    roots = set(inst.roots)
    for g, r in enumerate(inst.roots):
        seen = {r}
        stack = [r]
        while stack:
            v = stack.pop()
            for n in inst.nbrs[v]:
                if n not in seen and n not in roots:
                    seen.add(n)
                    stack.append(n)
        ok[list(seen), g] = True
    ok[~inst.drawn, :] = True
    return ok


def _tree_flows(
    inst: _Instance, assign: NDArray[np.int64], arc_index: dict[tuple[int, int], int]
) -> dict[int, float]:
    """Flows of a warm start: along a BFS tree of each grid, the size of the subtree."""
    flows: dict[int, float] = {}
    for g, r in enumerate(inst.roots):
        parent = {r: -1}
        order = [r]
        q = [r]
        while q:
            v = q.pop(0)
            for n in inst.nbrs[v]:
                if n not in parent and assign[n] == g:
                    parent[n] = v
                    order.append(n)
                    q.append(n)
        sub = dict.fromkeys(order, 1.0)
        for v in reversed(order[1:]):
            sub[parent[v]] += sub[v]
            flows[arc_index[(parent[v], v)] * inst.k + g] = sub[v]
    return flows


def _solve_milp(
    inst: _Instance,
    mode: Literal["cost", "balance"],
    time_limit: float,
    mip_gap: float,
    warm: NDArray[np.int64] | None = None,
) -> _MilpResult:
    import highspy

    m, k = inst.m, inst.k
    drawn_idx = np.flatnonzero(inst.drawn)
    n_d = len(drawn_idx)
    dpos = np.full(m, -1, dtype=np.int64)
    dpos[drawn_idx] = np.arange(n_d)
    tail = np.concatenate([inst.edges[:, 0], inst.edges[:, 1]]).astype(np.int64)
    head = np.concatenate([inst.edges[:, 1], inst.edges[:, 0]]).astype(np.int64)
    n_arc = len(tail)
    nx, nf = m * k, n_arc * k
    n_col = nx + nf + (1 if mode == "balance" else 0)
    tcol = nx + nf

    # big-M per grid: the most units the grid can hold besides its root
    roots = np.array(inst.roots)
    m_g = np.full(k, float(max(n_d - k, 0)))
    if mode == "cost":
        others = np.setdiff1d(drawn_idx, roots)
        sp = np.sort(inst.pop[others])
        for g in range(k):
            cap = inst.hi * (1 + _REL) - inst.pop[roots[g]]
            m_g[g] = min(m_g[g], float(np.searchsorted(np.cumsum(sp), cap, side="right")))

    col_lo = np.zeros(n_col)
    col_hi = np.concatenate([np.ones(nx), np.repeat(m_g[None, :], n_arc, axis=0).ravel()])
    if mode == "balance":
        col_hi = np.append(col_hi, np.inf)
    reach = _reachable(inst)
    col_hi[:nx][~reach.ravel()] = 0.0
    for g, r in enumerate(inst.roots):
        col_lo[r * k + g] = 1.0
        for other in range(k):
            if other != g:
                col_hi[r * k + other] = 0.0
        col_hi[nx + np.flatnonzero(head == r) * k + g] = 0.0  # no flow into the own root
    assessed_pop = float(inst.pop[inst.assessed].sum()) or 1.0
    cost = np.zeros(n_col)
    if mode == "cost":
        cost[:nx] = (inst.pop[:, None] * inst.cost).ravel() / assessed_pop
    else:
        cost[tcol] = 1.0

    rr: list[NDArray[np.int64]] = []
    cc: list[NDArray[np.int64]] = []
    vv: list[NDArray[np.float64]] = []
    row_lo: list[NDArray[np.float64]] = []
    row_hi: list[NDArray[np.float64]] = []
    base = 0

    def add(r: NDArray[np.int64], c: NDArray[np.int64], v: NDArray[np.float64] | float) -> None:
        rr.append(base + np.asarray(r, dtype=np.int64))
        cc.append(np.asarray(c, dtype=np.int64))
        vv.append(np.broadcast_to(np.asarray(v, dtype=np.float64), np.shape(r)).copy())

    i_all = np.repeat(np.arange(m), k)
    g_all = np.tile(np.arange(k), m)
    # (1) every unit in exactly one grid
    add(i_all, i_all * k + g_all, 1.0)
    row_lo.append(np.ones(m))
    row_hi.append(np.ones(m))
    base += m
    # (2) balance
    share = inst.pop / inst.mean if inst.mean > 0 else inst.pop
    if mode == "cost":
        add(g_all, i_all * k + g_all, share[i_all])
        row_lo.append(np.full(k, inst.lo / inst.mean * (1 - _REL)))
        row_hi.append(np.full(k, inst.hi / inst.mean * (1 + _REL)))
        base += k
    else:
        for sign in (-1.0, 1.0):  # Σ share·x − t ≤ 1 ; Σ share·x + t ≥ 1
            add(g_all, i_all * k + g_all, share[i_all])
            add(np.arange(k), np.full(k, tcol), sign)
            row_lo.append(np.full(k, -np.inf if sign < 0 else 1.0))
            row_hi.append(np.full(k, 1.0 if sign < 0 else np.inf))
            base += k
    # rows per (drawn unit, grid); rows of a root in its own grid are left free
    free_row = np.zeros(n_d * k, dtype=bool)
    for g, r in enumerate(inst.roots):
        free_row[dpos[r] * k + g] = True
    a_all = np.repeat(np.arange(n_arc), k)
    ga_all = np.tile(np.arange(k), n_arc)
    fcol = nx + a_all * k + ga_all
    dg_i = np.repeat(drawn_idx, k)
    dg_g = np.tile(np.arange(k), n_d)
    # (3) flow conservation: inflow − outflow − x = 0
    add(dpos[head[a_all]] * k + ga_all, fcol, 1.0)
    add(dpos[tail[a_all]] * k + ga_all, fcol, -1.0)
    add(dpos[dg_i] * k + dg_g, dg_i * k + dg_g, -1.0)
    row_lo.append(np.where(free_row, -np.inf, 0.0))
    row_hi.append(np.where(free_row, np.inf, 0.0))
    base += n_d * k
    # (4) capacity: inflow ≤ M_g · x
    add(dpos[head[a_all]] * k + ga_all, fcol, 1.0)
    add(dpos[dg_i] * k + dg_g, dg_i * k + dg_g, -m_g[dg_g])
    row_lo.append(np.full(n_d * k, -np.inf))
    row_hi.append(np.where(free_row, np.inf, 0.0))
    base += n_d * k
    # (5) a non-root member has a neighbour in its grid: x[i,g] − Σ_j x[j,g] ≤ 0
    add(dpos[dg_i] * k + dg_g, dg_i * k + dg_g, 1.0)
    add(dpos[tail[a_all]] * k + ga_all, head[a_all] * k + ga_all, -1.0)
    row_lo.append(np.full(n_d * k, -np.inf))
    row_hi.append(np.where(free_row, np.inf, 0.0))
    base += n_d * k

    mat = csc_matrix(
        (np.concatenate(vv), (np.concatenate(rr), np.concatenate(cc))), shape=(base, n_col)
    )
    mat.sum_duplicates()
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = base
    lp.col_cost_ = cost
    lp.col_lower_ = col_lo
    lp.col_upper_ = col_hi
    lp.row_lower_ = np.concatenate(row_lo)
    lp.row_upper_ = np.concatenate(row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr
    lp.a_matrix_.index_ = mat.indices
    lp.a_matrix_.value_ = mat.data
    integrality = [highspy.HighsVarType.kInteger] * nx + [highspy.HighsVarType.kContinuous] * (
        n_col - nx
    )
    lp.integrality_ = integrality

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(float(time_limit), 0.05))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("random_seed", 0)
    h.passModel(lp)
    if warm is not None:
        arc_index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(tail, head, strict=True))}
        val = np.zeros(n_col)
        val[np.arange(m) * k + warm] = 1.0
        for col, flow in _tree_flows(inst, warm, arc_index).items():
            val[nx + col] = flow
        if mode == "balance":
            val[tcol] = _max_deviation(inst, warm)
        sol = highspy.HighsSolution()
        sol.col_value = list(val)
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    if status == ms.kInfeasible:
        return _MilpResult("infeasible", None, math.nan, None)
    has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if not has_solution:
        return _MilpResult("no_solution", None, math.nan, None)
    x = np.asarray(h.getSolution().col_value)[:nx].reshape(m, k)
    assign = x.argmax(axis=1).astype(np.int64)
    st = "optimal" if status == ms.kOptimal else "time_limit"
    gap = 0.0 if st == "optimal" else float(info.mip_gap)
    tval = float(np.asarray(h.getSolution().col_value)[tcol]) if mode == "balance" else None
    return _MilpResult(st, assign, float(info.objective_function_value), gap, tval)


# --- instance building ---------------------------------------------------------------------
def _normalise_hospitals(hospitals: Sequence[HospitalLike]) -> list[Hospital]:
    out: list[Hospital] = []
    problems: list[str] = []
    for i, h in enumerate(hospitals, 1):
        if isinstance(h, Hospital):
            hh = h
        elif len(h) == 2:
            hh = Hospital(f"牵头医院 {i}", float(h[0]), float(h[1]))
        elif len(h) == 3:
            hh = Hospital(str(h[0]), float(h[1]), float(h[2]))
        else:
            raise InputError(f"hospital {i}: expected (lon, lat) or (name, lon, lat), got {h!r}")
        if not (-180 <= hh.lon <= 180 and -90 <= hh.lat <= 90):
            problems.append(f"{hh.name}: ({hh.lon}, {hh.lat})")
        out.append(hh)
    if problems:
        raise InputError(
            "hospital coordinates are not WGS-84 longitude/latitude",
            code="regions.bad_hospital",
            params={"hospitals": "、".join(problems)},
            problems=problems,
        )
    return out


def _locate(
    unit_set: UnitSet, active_rows: NDArray[np.int64], hospitals: Sequence[Hospital]
) -> tuple[list[int], list[str]]:
    """Row of the drawn active unit holding each hospital (nearest if none holds it)."""
    u = unit_set.units
    drawn_rows = active_rows[u["has_geometry"].to_numpy(dtype=bool)[active_rows]]
    geoms = u.geometry.iloc[drawn_rows].to_crs(unit_set.metric_crs).to_numpy()
    tree = shapely.STRtree(geoms)
    hx, hy = _to_metric(unit_set).transform(
        np.array([h.lon for h in hospitals]), np.array([h.lat for h in hospitals])
    )
    notes: list[str] = []
    out: list[int] = []
    names = u["name"].astype(str).to_numpy()
    for h, x, y in zip(hospitals, np.atleast_1d(hx), np.atleast_1d(hy), strict=True):
        pt = shapely.Point(float(x), float(y))
        hit = tree.query(pt, predicate="intersects")
        if len(hit):
            out.append(int(drawn_rows[int(hit[0])]))
            continue
        near = int(tree.nearest(pt))
        row = int(drawn_rows[near])
        dist = float(shapely.distance(geoms[near], pt))
        notes.append(
            f"{h.name} 不在任何单元内，归入最近的单元 {names[row]}（{dist / 1000:.1f} km）"
        )
        out.append(row)
    return out, notes


def _bridges(
    unit_set: UnitSet,
    rows: NDArray[np.int64],
    drawn: NDArray[np.bool_],
    edges: list[tuple[int, int]],
    roots: list[int],
) -> list[tuple[int, int]]:
    """Extra edges joining parts of the adjacency graph that hold no root to the nearest part."""
    m = len(rows)
    idx = np.flatnonzero(drawn)
    geoms = unit_set.units.geometry.iloc[rows[idx]].to_crs(unit_set.metric_crs).to_numpy()
    added: list[tuple[int, int]] = []
    while True:
        all_e = edges + added
        ea = np.array([e[0] for e in all_e], dtype=np.int64)
        eb = np.array([e[1] for e in all_e], dtype=np.int64)
        graph = coo_matrix((np.ones(len(ea)), (ea, eb)), shape=(m, m))
        _, lab = connected_components(graph, directed=False)
        rooted = {int(lab[r]) for r in roots}
        orphan = [int(lab[i]) for i in idx if int(lab[i]) not in rooted]
        if not orphan:
            return added
        comp = orphan[0]
        inside = lab[idx] == comp
        tree = shapely.STRtree(geoms[~inside])
        best: tuple[float, int, int] | None = None
        for p in np.flatnonzero(inside):
            q = int(tree.nearest(geoms[p]))
            d = float(shapely.distance(geoms[p], geoms[~inside][q]))
            if best is None or d < best[0]:
                best = (d, int(idx[p]), int(idx[~inside][q]))
        assert best is not None
        added.append((min(best[1], best[2]), max(best[1], best[2])))


def _cost_matrix(
    unit_set: UnitSet,
    hospitals: list[Hospital],
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None,
) -> tuple[NDArray[np.float64], str]:
    n = len(unit_set.units)
    if cost is None:
        cost = StraightLineCost()
    if isinstance(cost, pd.DataFrame):
        cost = MatrixCost(cost)
    if isinstance(cost, np.ndarray):
        arr = np.asarray(cost, dtype=np.float64)
        if arr.shape != (n, len(hospitals)):
            raise InputError(
                f"cost matrix must have shape (units, hospitals) = {(n, len(hospitals))}, "
                f"got {arr.shape}",
                code="regions.cost_shape",
                params={
                    "expected": f"{n} × {len(hospitals)}",
                    "got": " × ".join(map(str, arr.shape)),
                },
            )
        return arr.copy(), "matrix"
    return np.asarray(cost.unit_minutes(unit_set, hospitals), dtype=np.float64), cost.name


def _choose_seeds(
    unit_set: UnitSet,
    active_rows: NDArray[np.int64],
    k: int,
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None,
) -> list[Hospital]:
    """k hospital sites at unit points by a population-weighted p-median (greedy + swaps)."""
    if isinstance(cost, np.ndarray | pd.DataFrame):
        raise InputError(
            "a precomputed cost matrix needs the hospitals; give their locations, not only k",
            code="regions.seeds_need_model",
        )
    model: CostModel = cost if cost is not None else StraightLineCost()
    if isinstance(model, StraightLineCost) and model.cell_mean:
        model = replace(model, cell_mean=False)  # candidates × cells would be slow
    u = unit_set.units
    drawn = u["has_geometry"].to_numpy(dtype=bool)
    cand_rows = active_rows[drawn[active_rows]]
    if k > len(cand_rows):
        raise InputError(
            f"{k} grids but only {len(cand_rows)} drawn units",
            code="regions.k",
            params={"k": k, "n": len(cand_rows)},
        )
    pts = unit_points(unit_set, getattr(model, "surface", None))[cand_rows]
    back = Transformer.from_crs(unit_set.metric_crs, "EPSG:4326", always_xy=True)
    lon, lat = back.transform(pts[:, 0], pts[:, 1])
    names = u["name"].astype(str).to_numpy()
    cands = [
        Hospital(f"待定（{names[r]}）", float(x), float(y))
        for r, x, y in zip(cand_rows, np.atleast_1d(lon), np.atleast_1d(lat), strict=True)
    ]
    d = np.asarray(model.unit_minutes(unit_set, cands), dtype=np.float64)[cand_rows]
    d = np.where(np.isfinite(d), d, np.nanmax(np.where(np.isfinite(d), d, 0)) * 10 + 1)
    w = u["population"].fillna(0).to_numpy(dtype=float)[cand_rows]
    chosen: list[int] = []
    best = np.full(len(cand_rows), np.inf)
    for _ in range(k):  # greedy add
        tot = (w[:, None] * np.minimum(best[:, None], d)).sum(axis=0)
        tot[chosen] = np.inf
        c = int(np.argmin(tot))
        chosen.append(c)
        best = np.minimum(best, d[:, c])
    improved = True
    while improved:  # vertex substitution (Teitz & Bart)
        improved = False
        cur = (w * d[:, chosen].min(axis=1)).sum()
        for pos in range(k):
            rest = [c for i, c in enumerate(chosen) if i != pos]
            base = d[:, rest].min(axis=1) if rest else np.full(len(w), np.inf)
            tot = (w[:, None] * np.minimum(base[:, None], d)).sum(axis=0)
            tot[chosen] = np.inf
            c = int(np.argmin(tot))
            if tot[c] < cur * (1 - 1e-12):
                chosen[pos] = c
                cur = tot[c]
                improved = True
    return [cands[c] for c in chosen]


def _build_instance(
    unit_set: UnitSet,
    hospitals: list[Hospital],
    tolerance: float,
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None,
    zone_anchors: Mapping[str, Sequence[str]] | None,
) -> tuple[_Instance, NDArray[np.float64], list[str], list[tuple[int, int]], str]:
    u = unit_set.units
    k = len(hospitals)
    active_rows = np.flatnonzero(u["inside_prefecture"].to_numpy(dtype=bool)).astype(np.int64)
    notes: list[str] = []
    root_rows, loc_notes = _locate(unit_set, active_rows, hospitals)
    notes += loc_notes
    dup = pd.Series(root_rows).duplicated(keep=False)
    if dup.any():
        names = u["name"].astype(str).to_numpy()
        shared = sorted({names[r] for r, d in zip(root_rows, dup, strict=True) if d})
        raise InputError(
            "two lead hospitals lie in the same unit; each grid needs its own unit",
            code="regions.shared_unit",
            params={"units": "、".join(shared)},
            problems=[
                f"{h.name} → {names[r]}"
                for h, r, d in zip(hospitals, root_rows, dup, strict=True)
                if d
            ],
        )
    minutes, model_name = _cost_matrix(unit_set, hospitals, cost)
    anchors = default_zone_anchors(unit_set) if zone_anchors is None else zone_anchors
    minutes = _fill_free_costs(unit_set, minutes, anchors)
    pos = np.full(len(u), -1, dtype=np.int64)
    pos[active_rows] = np.arange(len(active_rows))
    drawn = u["has_geometry"].to_numpy(dtype=bool)[active_rows]
    sub = minutes[active_rows]
    missing = drawn & np.isnan(sub).any(axis=1)
    if missing.any():
        names_missing = list(u["name"].astype(str).to_numpy()[active_rows[missing]][:20])
        raise InputError(
            "the travel-time model gives no minutes for some drawn units",
            code="regions.cost_missing",
            params={"n": int(missing.sum()), "units": "、".join(names_missing)},
            problems=names_missing,
        )
    pop_raw = u["population"].to_numpy(dtype=float)[active_rows]
    if np.isnan(pop_raw).any():
        nan_names = u["name"].astype(str).to_numpy()[active_rows[np.isnan(pop_raw)]]
        notes.append("以下单元没有人口数，按 0 计：" + "、".join(nan_names[:20]))
    pop = np.nan_to_num(pop_raw, nan=0.0)
    assessed = np.asarray(np.isfinite(sub).all(axis=1), dtype=bool)
    # unknown minutes (a free unit without anchors) cost nothing; unreachable: a penalty
    finite = sub[np.isfinite(sub)]
    penalty = (float(finite.max()) if finite.size else 1.0) * 10 + 600.0
    if np.isinf(sub).any():
        notes.append(f"部分单元到部分医院不可达，按 {penalty:.0f} 分钟惩罚计")
    sub = np.where(np.isnan(sub), 0.0, np.where(np.isinf(sub), penalty, sub))
    ia, ib = unit_adjacency(unit_set)
    keep = (pos[ia] >= 0) & (pos[ib] >= 0)
    edges = [(int(pos[a]), int(pos[b])) for a, b in zip(ia[keep], ib[keep], strict=True)]
    roots = [int(pos[r]) for r in root_rows]
    bridges = _bridges(unit_set, active_rows, drawn, edges, roots)
    all_edges = np.array(edges + bridges, dtype=np.int64).reshape(-1, 2)
    nbrs: list[list[int]] = [[] for _ in range(len(active_rows))]
    for a, b in all_edges:
        nbrs[int(a)].append(int(b))
        nbrs[int(b)].append(int(a))
    mean = float(pop.sum()) / k
    inst = _Instance(
        rows=active_rows,
        ids=list(u["unit_id"].astype(str).to_numpy()[active_rows]),
        names=list(u["name"].astype(str).to_numpy()[active_rows]),
        pop=pop,
        cost=sub,
        assessed=assessed,
        drawn=drawn,
        nbrs=nbrs,
        edges=all_edges,
        roots=roots,
        mean=mean,
        lo=mean * (1 - tolerance),
        hi=mean * (1 + tolerance),
    )
    return inst, minutes, notes, bridges, model_name


# --- the public entry point ----------------------------------------------------------------
def propose_grids(
    unit_set: UnitSet,
    hospitals: int | Sequence[HospitalLike],
    tolerance: float = 0.2,
    *,
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None = None,
    method: Method = "auto",
    time_limit_s: float = 30.0,
    mip_gap: float = 1e-6,
    heuristic_rounds: int = 60,
    zone_anchors: Mapping[str, Sequence[str]] | None = None,
    seed: int = 0,
) -> Proposal:
    """Propose ``k`` balanced, contiguous grids minimising population-weighted travel time.

    Parameters
    ----------
    unit_set
        Planning units (:func:`gridplan.units.build_units`).
    hospitals
        Lead hospitals as :class:`Hospital`, ``(lon, lat)`` or ``(name, lon, lat)``
        (WGS-84), one grid each, in this order; or just ``k``: then k sites are
        chosen at unit points by a population-weighted p-median and the lead
        hospitals are marked 待定 (to be decided).
    tolerance
        ``X``: every grid's population within ``(1 ∓ X) · P / k``.
    cost
        Travel-time model (:class:`StraightLineCost` by default,
        :class:`MatrixCost`), or an array (units × hospitals) of minutes in the
        rows' order of ``unit_set.units``.
    method
        ``auto``, ``exact`` (needs ``highspy``) or ``heuristic``.
    time_limit_s
        Wall-clock budget of the whole solve.
    mip_gap
        Relative gap at which HiGHS stops.
    heuristic_rounds
        Perturbation rounds of the iterated local search.
    zone_anchors
        Undrawn unit id → unit ids (county or township codes) whose minutes it
        takes; default :func:`default_zone_anchors`.
    seed
        Random seed of the heuristic (results are reproducible).
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    if not 0.0 <= float(tolerance) < 1.0:
        raise InputError(
            f"balance tolerance must be between 0 and 1, got {tolerance}",
            code="regions.tolerance",
            params={"tolerance": tolerance},
        )
    if method not in ("auto", "exact", "heuristic"):
        raise InputError(f"unknown method {method!r}; use auto, exact or heuristic")
    if method == "exact" and not _highs_available():
        raise InputError("the exact method needs highspy", code="regions.no_solver")
    u = unit_set.units
    active_rows = np.flatnonzero(u["inside_prefecture"].to_numpy(dtype=bool)).astype(np.int64)
    notes: list[str] = []
    if isinstance(hospitals, int | np.integer):
        k = int(hospitals)
        if k < 1:
            raise InputError(
                f"need at least one grid, got {k}", code="regions.k", params={"k": k, "n": len(u)}
            )
        hosp = _choose_seeds(unit_set, active_rows, k, cost)
        chosen_seeds = True
        notes.append("牵头医院位置由 p-中位模型在单元代表点中选出（待定），请替换为实际医院。")
    else:
        hosp = _normalise_hospitals(hospitals)
        chosen_seeds = False
        if not hosp:
            raise InputError(
                "need at least one lead hospital", code="regions.k", params={"k": 0, "n": len(u)}
            )
    inst, _minutes, inst_notes, bridges, model_name = _build_instance(
        unit_set, hosp, float(tolerance), cost, zone_anchors
    )
    notes += inst_notes

    # heuristic (always: it is the fallback and the warm start)
    share = 0.8 if method == "heuristic" else 0.2
    h_deadline = min(deadline, time.perf_counter() + max(float(time_limit_s) * share, 0.5))
    search = _Search(inst, seed)
    h_assign = search.run(heuristic_rounds, h_deadline)
    h_viol, _ = _evaluate(inst, h_assign)
    chosen = h_assign
    used, status, gap = "heuristic", "local_optimum", None
    best_tol: float | None = None
    proven = False
    exact_ok = _highs_available() and (
        method == "exact"
        or (method == "auto" and int(inst.drawn.sum()) * inst.k <= EXACT_MAX_PAIRS)
    )
    if exact_ok:
        warm = h_assign if h_viol <= search.eps_p else None
        r = _solve_milp(inst, "cost", deadline - time.perf_counter(), mip_gap, warm)
        if r.status in ("optimal", "time_limit") and r.assign is not None:
            chosen, used, status, gap = r.assign, "exact", r.status, r.gap
        elif r.status == "infeasible":
            notes.append(t("regions.infeasible", "zh", tolerance=f"{tolerance:.0%}"))
            rb = _solve_milp(inst, "balance", deadline - time.perf_counter(), mip_gap, h_assign)
            if rb.assign is not None:
                t_star = _max_deviation(inst, rb.assign)
                best_tol, proven = t_star, rb.status == "optimal"
                wide = inst.with_tolerance(t_star * (1 + 1e-7) + 1e-12)
                r2 = _solve_milp(wide, "cost", deadline - time.perf_counter(), mip_gap, rb.assign)
                if r2.assign is not None:
                    chosen, status, gap = r2.assign, r2.status, r2.gap
                else:
                    chosen, status, gap = rb.assign, rb.status, rb.gap
                used = "exact"
            else:
                notes.append("精确求解在时限内未找到最均衡方案，改用启发式结果。")
        else:
            notes.append("精确求解在时限内未找到可行方案，改用启发式结果。")
    if used == "heuristic" and h_viol > search.eps_p:
        # best balance found: polish travel time within the tolerance it achieves
        best_tol = _max_deviation(inst, h_assign)
        wide = inst.with_tolerance(best_tol * (1 + 1e-7) + 1e-12)
        polish = _Search(wide, seed)
        chosen = polish.run(
            max(heuristic_rounds // 3, 1),
            time.perf_counter() + max(float(time_limit_s) * 0.1, 0.2),
            h_assign,
        )
        best_tol = _max_deviation(inst, chosen)
        notes.append(t("regions.infeasible_heuristic", "zh", tolerance=f"{tolerance:.0%}"))
    elapsed = time.perf_counter() - t0
    return _assemble(
        unit_set,
        inst,
        hosp,
        root_names=[inst.ids[r] for r in inst.roots],
        assign=chosen,
        tolerance=float(tolerance),
        method=used,
        status=status,
        gap=gap,
        elapsed=elapsed,
        best_tol=best_tol,
        proven=proven,
        bridges=bridges,
        model_name=model_name,
        notes=notes,
        chosen_seeds=chosen_seeds,
    )


def _balance(pops: NDArray[np.float64], mean: float) -> dict[str, float]:
    if len(pops) == 0 or mean <= 0:
        nan = math.nan
        return {
            "max": nan,
            "min": nan,
            "mean": nan,
            "max_min_ratio": nan,
            "cv": nan,
            "max_deviation": nan,
        }
    mx, mn = float(pops.max()), float(pops.min())
    return {
        "max": mx,
        "min": mn,
        "mean": float(mean),
        "max_min_ratio": mx / mn if mn > 0 else math.inf,
        "cv": float(pops.std(ddof=0) / pops.mean()) if pops.mean() > 0 else math.nan,
        "max_deviation": float(np.abs(pops - mean).max() / mean),
    }


def _assemble(
    unit_set: UnitSet,
    inst: _Instance,
    hosp: list[Hospital],
    *,
    root_names: list[str],
    assign: NDArray[np.int64],
    tolerance: float,
    method: str,
    status: str,
    gap: float | None,
    elapsed: float,
    best_tol: float | None,
    proven: bool,
    bridges: list[tuple[int, int]],
    model_name: str,
    notes: list[str],
    chosen_seeds: bool,
) -> Proposal:
    u = unit_set.units
    k = inst.k
    pref = unit_set.prefecture
    names = inst.names
    gids = [f"proposal-{g + 1}" for g in range(k)]
    grids: list[Grid] = []
    for g, h in enumerate(hosp):
        members = [inst.ids[i] for i in np.flatnonzero(assign == g)]
        gname = (
            f"方案网格 {g + 1}"
            if chosen_seeds or h.name.startswith("牵头医院 ")
            else f"{h.name}网格"
        )
        grids.append(
            Grid(
                grid_id=gids[g],
                name=gname,
                lead_hospital=h.name,
                units=members,
                kind=PROPOSAL_KIND,
                note=(
                    "GridPlan proposal（自动生成的方案）；"
                    f"牵头医院位置 WGS-84 {h.lon:.6f}, {h.lat:.6f}"
                    f"（位于 {names[inst.roots[g]]}）"
                ),
            )
        )
    assignment = pd.Series([None] * len(u), index=u.index, name="grid_id", dtype=object)
    assignment.iloc[inst.rows] = [gids[g] for g in assign]
    pops = _grid_pops(inst, assign)
    bal = _balance(pops, inst.mean)
    met = bool(((pops >= inst.lo * (1 - _REL)) & (pops <= inst.hi * (1 + _REL))).all())
    if not met and best_tol is None:
        best_tol = bal["max_deviation"]
    comps = grid_components(unit_set, assignment)
    contiguous = all(len(comps.get(gid, [])) <= 1 for gid in gids)
    w = inst.pop * inst.cost[np.arange(inst.m), assign]
    w_ass = np.where(inst.assessed, w, 0.0)
    obj = float(w_ass.sum())
    pa = float(inst.pop[inst.assessed].sum())
    free = [inst.ids[i] for i in np.flatnonzero(~inst.drawn)]
    bridge_names = [(names[a], names[b]) for a, b in bridges]
    if bridge_names:
        notes.append(
            "以下单元与有牵头医院的部分不相邻，经最近的单元连接（网格不连片）："
            + "；".join(f"{a}—{b}" for a, b in bridge_names)
        )
    if free:
        notes.append(
            "无边界的功能区（"
            + "、".join(names[i] for i in np.flatnonzero(~inst.drawn))
            + "）不参与连片判断，按出行时间和人口均衡分配到网格。"
        )
    ptot = float(inst.pop.sum())
    rows = []
    for g in range(k):
        sel = assign == g
        sel_a = sel & inst.assessed
        pg = float(inst.pop[sel_a].sum())
        rows.append(
            {
                "grid_id": gids[g],
                "name": grids[g].name,
                "lead_hospital": hosp[g].name,
                "root_unit": names[inst.roots[g]],
                "n_units": int(sel.sum()),
                "population": float(pops[g]),
                "deviation": float(pops[g] / inst.mean - 1) if inst.mean > 0 else math.nan,
                "mean_minutes": float(w[sel_a].sum() / pg) if pg > 0 else math.nan,
                "within_bounds": bool(inst.lo * (1 - _REL) <= pops[g] <= inst.hi * (1 + _REL)),
            }
        )
    flag = "" if met else "（未满足均衡要求）"
    method_zh = (
        "精确（HiGHS 混合整数规划）" if method == "exact" else "启发式（区域生长 + 局部搜索）"
    )
    plan = GridPlan(
        plan_id=f"proposal-{pref.adcode}-k{k}",
        name={
            "zh": f"{pref.name}：{k} 个网格方案（人口均衡 ±{tolerance:.0%}）{flag}",
            "en": f"{pref.name}: proposal of {k} grids (balance ±{tolerance:.0%})"
            + ("" if met else " (bounds not met)"),
        },
        prefecture=pref.adcode,
        grids=grids,
        notes=[
            "GridPlan proposal：由 gridplan.regions 自动生成的网格方案，"
            "供编辑参考，非政策文件内容。",
            f"方法：{method_zh}，"
            f"状态 {status}；人口均衡要求 ±{tolerance:.0%}，"
            + ("已满足。" if met else f"未满足，最好做到 ±{bal['max_deviation']:.1%}。"),
            f"出行时间模型：{model_name}；"
            f"人口加权平均出行时间 {obj / pa if pa > 0 else math.nan:.1f} 分钟。",
            *notes,
        ],
    )
    return Proposal(
        plan=plan,
        assignment=assignment,
        hospitals=list(hosp),
        root_units=root_names,
        method=method,
        status=status,
        tolerance=tolerance,
        bounds=(inst.lo, inst.hi),
        bounds_met=met,
        objective_person_minutes=obj,
        mean_minutes=obj / pa if pa > 0 else math.nan,
        balance=bal,
        contiguous=contiguous,
        solve_seconds=elapsed,
        gap=gap,
        best_tolerance=None if met else best_tol,
        best_tolerance_proven=proven and not met,
        free_units=free,
        not_assessed_population=ptot - pa,
        bridges=bridge_names,
        cost_model=model_name,
        notes=notes,
        grid_table=pd.DataFrame(rows),
    )


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
    pts = unit_points(unit_set, getattr(model, "surface", None))
    back = Transformer.from_crs(unit_set.metric_crs, "EPSG:4326", always_xy=True)
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
        lon, lat = back.transform(pts[r, 0], pts[r, 1])
        hosp.append(Hospital(hname, float(lon), float(lat)))
    minutes = np.asarray(model.unit_minutes(unit_set, hosp), dtype=np.float64)
    anchors = default_zone_anchors(unit_set) if zone_anchors is None else zone_anchors
    minutes = _fill_free_costs(unit_set, minutes, anchors)
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


def _match_grids(
    plan_a: GridPlan, plan_b: GridPlan, a: pd.Series, b: pd.Series, pop: NDArray[np.float64]
) -> dict[str, str]:
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
    pop = u["population"].fillna(0).to_numpy(dtype=float)
    rows = {}
    assigns = {}
    for key, plan in (("a", plan_a), ("b", plan_b)):
        assignment = resolve_assignment(plan, u)
        minutes, stand_in = plan_travel_minutes(plan, unit_set, cost, hospitals, zone_anchors)
        rows[key] = _plan_row(plan, unit_set, assignment, minutes, stand_in)
        assigns[key] = assignment
    match = _match_grids(plan_a, plan_b, assigns["a"], assigns["b"], pop)
    names_a = {g.grid_id: g.name for g in plan_a.grids}
    names_b = {g.grid_id: g.name for g in plan_b.grids}
    moved = []
    inside = u["inside_prefecture"].to_numpy(dtype=bool)
    for r in range(len(u)):
        va, vb = assigns["a"].iat[r], assigns["b"].iat[r]
        ga = None if va is None else str(va)
        gb = None if vb is None else str(vb)
        if not inside[r] or (ga is None and gb is None):
            continue
        if ga is not None and gb is not None and match.get(ga) == gb:
            continue
        moved.append(
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
    cols = ["unit_id", "name", "population", "from_grid_id", "from_grid", "to_grid_id", "to_grid"]
    return PlanComparison(
        summary=pd.DataFrame([rows["a"], rows["b"]], index=["a", "b"]),
        moved=pd.DataFrame(moved, columns=cols),
        grid_match=match,
    )
