"""A grid-proposal instance and its result type; evaluating an assignment."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridplan._validate import Problems
from gridplan.i18n import Lang, t
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import UnitSet
from gridplan.plan.validate import unit_adjacency
from gridplan.regions.costs import (
    CostModel,
    Hospital,
    HospitalLike,
    MatrixCost,
    StraightLineCost,
    _fill_free_costs,
    _to_metric,
    regions_problems,
    unit_lonlat,
)
from gridplan.solvers.greedy import greedy

_REL = 1e-9  # relative slack when checking population bounds


# --- result types -------------------------------------------------------------------------
@dataclass(frozen=True)
class Note:
    """A remark on a proposal: a catalogue code and its parameters (lists are joined)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: Lang = "zh") -> str:
        """The remark in ``lang``."""
        sep = t("regions.separator", lang)
        params = {
            k: sep.join(map(str, v)) if isinstance(v, list) else v for k, v in self.params.items()
        }
        return t(self.code, lang, **params)


def default_hospital_name(i: int) -> str:
    """The name of the ``i``-th lead hospital given without one (1-based)."""
    return t("regions.default_hospital", "zh", i=i)


@dataclass
class Proposal:
    """A proposed grid plan with how it was found and how good it is.

    Attributes
    ----------
    plan
        The grids, as a :class:`~gridplan.plan.grids.GridPlan` (kind ``"proposal"``).
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
    notes: list[Note] = field(default_factory=list)
    grid_table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def note_texts(self, lang: Lang = "zh") -> list[str]:
        """The remarks (seed hospitals, bridges, bounds not met...) in ``lang``."""
        return [n.text(lang) for n in self.notes]

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
    """What a proposal solves: the active units (inside the prefecture) and the grids.

    Per active unit: its row in ``unit_set.units``, id, name, residents, minutes to each
    grid's lead hospital, whether they are assessed and whether it is drawn (has a polygon).
    Then the adjacency (neighbour lists and edges, bridges included), each grid's root unit,
    the mean grid population and the population bounds ``lo`` and ``hi``.
    """

    # a record of arrays, alike in shape to the road graph's: field lists, nothing shared
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

    # counts read off the arrays, as Mip's n_cols/n_rows are: alike in shape only, nothing shared
    @property
    def m(self) -> int:
        """The number of active units."""
        return len(self.ids)

    @property
    def k(self) -> int:
        """The number of grids (one per lead hospital)."""
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


# --- instance building ---------------------------------------------------------------------
def _normalise_hospitals(hospitals: Sequence[HospitalLike], problems: Problems) -> list[Hospital]:
    """The lead hospitals as :class:`Hospital`; problems for malformed ones or coordinates
    that are not WGS-84."""
    out: list[Hospital] = []
    for i, h in enumerate(hospitals, 1):
        try:
            if isinstance(h, Hospital):
                hh = h
            elif len(h) == 2:
                hh = Hospital(default_hospital_name(i), float(h[0]), float(h[1]))
            elif len(h) == 3:
                hh = Hospital(str(h[0]), float(h[1]), float(h[2]))
            else:
                raise ValueError(h)
        except (TypeError, ValueError):
            problems.add(
                "regions.hospital",
                f"hospital {i}: expected (lon, lat) or (name, lon, lat), got {h!r}",
                row=i,
                value=repr(h),
            )
            continue
        if not (-180 <= hh.lon <= 180 and -90 <= hh.lat <= 90):
            problems.add(
                "regions.bad_hospital",
                f"{hh.name}: ({hh.lon}, {hh.lat}) is not a WGS-84 longitude/latitude",
                hospital=hh.name,
                lon=hh.lon,
                lat=hh.lat,
            )
        out.append(hh)
    return out


def _locate(
    unit_set: UnitSet, active_rows: NDArray[np.int64], hospitals: Sequence[Hospital]
) -> tuple[list[int], list[Note]]:
    """Row of the drawn active unit holding each hospital (nearest if none holds it)."""
    u = unit_set.units
    drawn_rows = active_rows[u["has_geometry"].to_numpy(dtype=bool)[active_rows]]
    geoms = u.geometry.iloc[drawn_rows].to_crs(unit_set.metric_crs).to_numpy()
    tree = shapely.STRtree(geoms)
    hx, hy = _to_metric(unit_set).transform(
        np.array([h.lon for h in hospitals]), np.array([h.lat for h in hospitals])
    )
    notes: list[Note] = []
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
            Note(
                "regions.note.outside_unit",
                {"hospital": h.name, "unit": names[row], "km": dist / 1000},
            )
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
    """Minutes of every unit (rows of ``unit_set.units``) to each hospital, and the model's name."""
    n = len(unit_set.units)
    if cost is None:
        cost = StraightLineCost()
    if isinstance(cost, pd.DataFrame):
        cost = MatrixCost(cost)
    if isinstance(cost, np.ndarray):
        arr = np.asarray(cost, dtype=np.float64)
        if arr.shape != (n, len(hospitals)):
            problems = regions_problems()
            problems.add(
                "regions.cost_shape",
                f"cost matrix must have shape (units, hospitals) = {(n, len(hospitals))}, "
                f"got {arr.shape}",
                expected=f"{n} × {len(hospitals)}",
                got=" × ".join(map(str, arr.shape)),
            )
            problems.raise_if_any()
        return arr.copy(), "matrix"
    return np.asarray(cost.unit_minutes(unit_set, hospitals), dtype=np.float64), cost.name


def _choose_seeds(
    unit_set: UnitSet,
    active_rows: NDArray[np.int64],
    k: int,
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None,
) -> list[Hospital]:
    """k hospital sites at unit points by a population-weighted p-median (greedy + swaps)."""
    problems = regions_problems()
    u = unit_set.units
    drawn = u["has_geometry"].to_numpy(dtype=bool)
    cand_rows = active_rows[drawn[active_rows]]
    if isinstance(cost, np.ndarray | pd.DataFrame):
        problems.add(
            "regions.seeds_need_model",
            "a precomputed cost matrix needs the hospitals; give their locations, not only k",
        )
    if k > len(cand_rows):
        problems.add(
            "regions.k", f"{k} grids but only {len(cand_rows)} drawn units", k=k, n=len(cand_rows)
        )
    problems.raise_if_any()
    given = None if isinstance(cost, np.ndarray | pd.DataFrame) else cost
    model: CostModel = given if given is not None else StraightLineCost()
    if isinstance(model, StraightLineCost) and model.cell_mean:
        model = replace(model, cell_mean=False)  # candidates × cells would be slow
    lonlat = unit_lonlat(unit_set, getattr(model, "surface", None))
    names = u["name"].astype(str).to_numpy()
    cands = [
        Hospital(t("regions.seed_hospital", "zh", unit=names[r]), *map(float, lonlat[r]))
        for r in cand_rows
    ]
    d = np.asarray(model.unit_minutes(unit_set, cands), dtype=np.float64)[cand_rows]
    d = np.where(np.isfinite(d), d, np.nanmax(np.where(np.isfinite(d), d, 0)) * 10 + 1)
    w = u["population"].fillna(0).to_numpy(dtype=float)[cand_rows]
    chosen = _vertex_substitution(d, w, _greedy_median(d, w, k))
    return [cands[c] for c in chosen]


def _greedy_median(d: NDArray[np.float64], w: NDArray[np.float64], k: int) -> list[int]:
    """Greedy p-median over the dense minutes ``d`` (points × candidates), lazily evaluated."""
    # before any site is open, every point is one minute beyond its farthest candidate
    cur = np.full(len(w), float(d.max(initial=0.0)) + 1.0)

    def saving(c: int) -> float:
        return float((w * np.maximum(cur - d[:, c], 0.0)).sum())

    def open_site(c: int) -> None:
        np.minimum(cur, d[:, c], out=cur)

    return [int(c) for c in greedy(d.shape[1], k, saving, open_site).sites]


def _vertex_substitution(
    d: NDArray[np.float64], w: NDArray[np.float64], chosen: list[int]
) -> list[int]:
    """Swap sites for better ones until none improves (Teitz & Bart)."""
    chosen = list(chosen)
    k = len(chosen)
    improved = True
    while improved:
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
    return chosen


def _check_roots(unit_set: UnitSet, hospitals: list[Hospital], root_rows: list[int]) -> None:
    """One lead hospital per unit: a ``regions.shared_unit`` problem for each that shares."""
    problems = regions_problems()
    names = unit_set.units["name"].astype(str).to_numpy()
    shared = pd.Series(root_rows).duplicated(keep=False).to_numpy()
    for h, r, dup in zip(hospitals, root_rows, shared, strict=True):
        if dup:
            problems.add(
                "regions.shared_unit",
                f"{h.name} → {names[r]}: two lead hospitals lie in the same unit",
                hospital=h.name,
                unit=names[r],
            )
    problems.raise_if_any()


def _active_minutes(
    unit_set: UnitSet,
    hospitals: list[Hospital],
    active_rows: NDArray[np.int64],
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None,
    zone_anchors: Mapping[str, Sequence[str]] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Minutes of all units (free units from their anchors) and of the active ones; a problem
    for each drawn active unit the model gives no minutes for (at most 20 listed)."""
    u = unit_set.units
    minutes, model_name = _cost_matrix(unit_set, hospitals, cost)
    minutes = _fill_free_costs(unit_set, minutes, zone_anchors)
    sub = minutes[active_rows]
    drawn = u["has_geometry"].to_numpy(dtype=bool)[active_rows]
    missing = drawn & np.isnan(sub).any(axis=1)
    problems = regions_problems()
    for name in u["name"].astype(str).to_numpy()[active_rows[missing]][:20]:
        problems.add(
            "regions.cost_missing", f"the travel-time model gives no minutes for {name}", unit=name
        )
    problems.raise_if_any()
    return minutes, sub, model_name


def _penalised(sub: NDArray[np.float64], notes: list[Note]) -> NDArray[np.float64]:
    """Unknown minutes (a free unit without anchors) cost nothing; unreachable: a penalty."""
    finite = sub[np.isfinite(sub)]
    penalty = (float(finite.max()) if finite.size else 1.0) * 10 + 600.0
    if np.isinf(sub).any():
        notes.append(Note("regions.note.unreachable", {"penalty": penalty}))
    return np.where(np.isnan(sub), 0.0, np.where(np.isinf(sub), penalty, sub))


def _graph(
    unit_set: UnitSet,
    active_rows: NDArray[np.int64],
    drawn: NDArray[np.bool_],
    roots: list[int],
) -> tuple[NDArray[np.int64], list[list[int]], list[tuple[int, int]]]:
    """Edges between active units (bridges to islands included), neighbour lists, bridges."""
    pos = np.full(len(unit_set.units), -1, dtype=np.int64)
    pos[active_rows] = np.arange(len(active_rows))
    ia, ib = unit_adjacency(unit_set)
    keep = (pos[ia] >= 0) & (pos[ib] >= 0)
    edges = [(int(pos[a]), int(pos[b])) for a, b in zip(ia[keep], ib[keep], strict=True)]
    bridges = _bridges(unit_set, active_rows, drawn, edges, roots)
    all_edges = np.array(edges + bridges, dtype=np.int64).reshape(-1, 2)
    nbrs: list[list[int]] = [[] for _ in range(len(active_rows))]
    for a, b in all_edges:
        nbrs[int(a)].append(int(b))
        nbrs[int(b)].append(int(a))
    return all_edges, nbrs, bridges


def _build_instance(
    unit_set: UnitSet,
    hospitals: list[Hospital],
    tolerance: float,
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None,
    zone_anchors: Mapping[str, Sequence[str]] | None,
) -> tuple[_Instance, list[Note], list[tuple[int, int]], str]:
    """The instance of the active units (inside the prefecture), its notes, bridges, model."""
    u = unit_set.units
    active_rows = np.flatnonzero(u["inside_prefecture"].to_numpy(dtype=bool)).astype(np.int64)
    root_rows, notes = _locate(unit_set, active_rows, hospitals)
    _check_roots(unit_set, hospitals, root_rows)
    _, sub, model_name = _active_minutes(unit_set, hospitals, active_rows, cost, zone_anchors)
    names = u["name"].astype(str).to_numpy()[active_rows]
    pop_raw = u["population"].to_numpy(dtype=float)[active_rows]
    if np.isnan(pop_raw).any():
        notes.append(
            Note("regions.note.no_population", {"units": list(names[np.isnan(pop_raw)][:20])})
        )
    pop = np.nan_to_num(pop_raw, nan=0.0)
    assessed = np.asarray(np.isfinite(sub).all(axis=1), dtype=bool)
    sub = _penalised(sub, notes)
    drawn = u["has_geometry"].to_numpy(dtype=bool)[active_rows]
    roots = [int(np.searchsorted(active_rows, r)) for r in root_rows]
    edges, nbrs, bridges = _graph(unit_set, active_rows, drawn, roots)
    mean = float(pop.sum()) / len(hospitals)
    inst = _Instance(
        rows=active_rows,
        ids=list(u["unit_id"].astype(str).to_numpy()[active_rows]),
        names=list(names),
        pop=pop,
        cost=sub,
        assessed=assessed,
        drawn=drawn,
        nbrs=nbrs,
        edges=edges,
        roots=roots,
        mean=mean,
        lo=mean * (1 - tolerance),
        hi=mean * (1 + tolerance),
    )
    return inst, notes, bridges, model_name


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
