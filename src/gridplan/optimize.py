"""Where to put sub-centres (次中心): facility-location models on a population surface.

Demand is the populated cells of a :class:`~gridplan.surface.PopulationSurface`
(aggregated to at most ``max_points`` blocks, :func:`demand_points`);
candidates are sites (:class:`Candidates`: facility rows to upgrade, a user
list, or a grid over the populated cells, minus exclusion areas); the cost is
the travel minutes of every demand × candidate pair (:class:`CostMatrix`).

Problems (spopt-like: ``from_cost_matrix(...)`` / ``from_surface(...)``,
``solve(...)`` returns the problem, results are attributes):

:class:`MCLP`
    Choose ``k`` new sites maximising the residents newly covered within ``T``
    minutes; existing facilities stay open and the residents they already
    cover count as covered but not in the objective.
:class:`PMedian`
    Choose ``k`` new sites minimising the population-weighted minutes to the
    nearest open facility (existing ones count as open).
:class:`SetCoverTarget`
    The fewest new sites bringing coverage within ``T`` to a share ``X`` of
    all residents (partial set covering); an unreachable target is reported
    as ``status == "infeasible"`` with :attr:`SetCoverTarget.max_coverage`.
:class:`CapacitatedMCLP`, :class:`CapacitatedPMedian`
    The same with a site serving at most ``C`` residents.
:class:`KMeansSiting`
    Population-weighted k-means centres snapped to distinct candidates (no
    cost matrix; a quick geometric baseline).

Every problem has a greedy heuristic (``solve(method="greedy")``: lazy
evaluation of marginal gains, CELF) and an exact mixed-integer program solved
by HiGHS (``highspy``; ``method="exact"``, the default) with a time limit,
warm-started with the greedy solution.  Results: ``sites`` (candidate
indices), ``objective``, ``bound`` (HiGHS's dual bound), ``gap`` (HiGHS's
``mip_gap``: ``|objective − bound| / |objective|``; 0 when proven optimal to
HiGHS's absolute tolerance), ``seconds`` (wall time of ``solve``, model
building included) and ``status`` (``optimal``, ``time_limit`` (a solution
with a gap), ``infeasible``, ``greedy``, ...).  ``objective`` is recomputed
from the chosen sites, not taken from the solver.

Formulations
------------
``i`` demand point (weight ``w_i`` residents), ``j`` candidate, ``d_ij``
minutes, ``y_j ∈ {0, 1}`` a new site at ``j``, ``N_i = {j : d_ij ≤ T}``.
Existing facilities are columns of the matrix forced open (``existing``) or a
per-demand ``baseline_minutes`` (minutes to the nearest existing facility,
e.g. :attr:`gridplan.coverage.CoverageIndex.minutes`); in the uncapacitated
models both reduce to ``b_i`` = minutes to the nearest existing facility.

* MCLP: ``max Σ w_i (1 − u_i)`` s.t. ``u_i + Σ_{j∈N_i} y_j ≥ 1``,
  ``Σ y_j = k``, ``u_i ≥ 0`` (the uncovered share; continuous, integral at
  every optimum), over the demand with ``b_i > T``.  Demand points with the
  same ``N_i`` are merged into one row (weights summed).  This covering form
  has the LP relaxation of the textbook ``z_i ≤ Σ y_j`` but HiGHS's dual
  simplex solves it 10–50× faster on large overlapping instances, provided
  HiGHS's presolve is off (it turns the model back into the slow form).
* p-median, radius formulation (García, Labbé & Marín 2011): for demand
  ``i`` with distinct pair times ``D_1 < … < D_L`` below ``b_i`` and
  ``D_{L+1} = b_i``: ``min Σ_i w_i (D_1 + Σ_l (D_{l+1} − D_l) z_il)`` s.t.
  ``z_il + Σ_{j: d_ij ≤ D_l} y_j ≥ 1``, ``Σ y_j = k``, ``z ≥ 0``.  Same LP
  bound as the classic ``x_ij ≤ y_j`` model, covering rows again (5–10×
  faster), and rows with the same candidate set merged across demand points.
  With a cost *cutoff* (a sparse matrix of the pairs within
  ``max_minutes``) a resident with no open site among its pairs costs
  ``unreachable_minutes`` (default: the cutoff; a sparse matrix without
  ``max_minutes``: its largest time), so the model minimises travel time
  *truncated at the cutoff*: exact when every resident reaches an open site
  within it (``unserved == 0``), a lower bound otherwise.  A complete dense
  matrix needs no penalty.
* set cover target: ``min Σ y_j`` s.t. ``u_i + Σ_{j∈N_i} y_j ≥ 1``,
  ``Σ w_i u_i ≤ (coverable) − (X·W − covered by existing)``.
* capacitated MCLP: ``max Σ w_i x_ij`` over pairs within ``T`` s.t.
  ``Σ_j x_ij ≤ 1``, ``Σ_i w_i x_ij ≤ C_j y_j``, ``x_ij ≤ y_j``,
  ``Σ y_j = k``; existing columns are open with their capacity.
* capacitated p-median: ``min Σ w_i d_ij x_ij + Σ w_i b_i u_i`` s.t.
  ``Σ_j x_ij + u_i = 1``, ``Σ_i w_i x_ij ≤ C_j y_j``, ``x_ij ≤ y_j``,
  ``Σ y_j = k`` (``u_i`` only where ``b_i`` is finite).

In both capacitated models the assignment ``x_ij ∈ [0, 1]`` is *fractional*:
a demand point's residents may split between sites.  Demand points are
already aggregates of many cells, and single-sourcing (binary ``x``) would
make the MIP orders of magnitude harder; so the answer is the fractional
(transportation) optimum, at most the single-source one for p-median.
``baseline_minutes`` stays uncapacitated there.

Sizes and speed
---------------
MCLP and set covering only need the pairs within ``T``: pass a sparse matrix
(:func:`cost_matrix_straight` with ``max_minutes=T``); the model goes to
HiGHS as CSC arrays through ``passModel`` (no per-variable Python objects),
so 20,000 demand points × 2,000 candidates with ~270,000 pairs within T
build in ~0.1 s.  On that Shijiazhuang instance (``benchmarks/
bench_optimize.py``, k = 10) the exact MCLP takes 0.4 s (e-bike 15 min),
4 s (drive 10 min) and ~20 s (drive 15 min, gap 0.1 %); greedy ~0.02 s.
p-median needs all pairs or a cutoff with the penalty above (5,000 × 500
within 30 min driving: ~5 s).  Partial set covering with a hundred or more
sites, and the capacitated models beyond a few thousand demand points × a
few hundred candidates, may stop at the time limit: the answer then comes
with its ``gap`` (status ``time_limit``).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from gridplan.costdistance import RasterModel, cost_distance
from gridplan.errors import InputError
from gridplan.surface import CellGrid, PopulationSurface
from gridplan.traveltime import (
    DEFAULT_DETOUR,
    MODE_SPEEDS_KMH,
    StraightLineModel,
    TravelTimeModel,
)

if TYPE_CHECKING:
    import highspy

__all__ = [
    "DEFAULT_GAP",
    "DEFAULT_TIME_LIMIT_S",
    "MCLP",
    "Candidates",
    "CapacitatedMCLP",
    "CapacitatedPMedian",
    "CostMatrix",
    "Demand",
    "GreedySolution",
    "KMeansSiting",
    "PMedian",
    "SetCoverTarget",
    "candidate_grid",
    "candidates_from_facilities",
    "candidates_from_lonlat",
    "cost_matrix_model",
    "cost_matrix_raster",
    "cost_matrix_straight",
    "coverage_curve",
    "demand_points",
    "sites_needed",
]

Method = Literal["exact", "greedy"]

#: Default time limit of an exact solve (seconds).
DEFAULT_TIME_LIMIT_S = 60.0
#: Default relative optimality gap at which HiGHS stops (its own default).
DEFAULT_GAP = 1e-4
#: Largest dense matrix built without a cutoff (pairs).
MAX_DENSE_PAIRS = 50_000_000
#: Default number of demand points :func:`demand_points` aggregates a surface to.
DEFAULT_MAX_DEMAND = 20_000
#: Assignment amounts below this (share of a demand point) are reported as 0.
_FLOW_EPS = 1e-9

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


# --- validation ---------------------------------------------------------------------


class _Problems:
    """Collects every problem of one call, raised together as one InputError."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, dict[str, Any]]] = []

    def add(self, code: str, text: str, **params: Any) -> None:
        self.items.append((code, text, params))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        raise InputError(
            f"cannot set up the siting problem ({len(self.items)} problem(s))",
            code="optimize.invalid",
            params={
                "n": len(self.items),
                "codes": [c for c, _, _ in self.items],
                "problems": [{"code": c, **p} for c, _, p in self.items],
            },
            problems=[t for _, t, _ in self.items],
        )

    def number(
        self,
        name: str,
        value: Any,
        *,
        low: float = 0.0,
        high: float = math.inf,
        low_inclusive: bool = False,
        allow_inf: bool = False,
        code: str = "optimize.number",
    ) -> float | None:
        """``value`` as a float in (low, high] (or [low, high]), else a problem."""
        ok = not isinstance(value, (bool, np.bool_))
        v = math.nan
        if ok:
            try:
                v = float(value)
            except (TypeError, ValueError):
                ok = False
        if ok:
            ok = not math.isnan(v) and (allow_inf or math.isfinite(v))
            ok = ok and (v >= low if low_inclusive else v > low) and v <= high
        if not ok:
            lo = "[" if low_inclusive else "("
            self.add(
                code,
                f"{name} must be a number in {lo}{low:g}, {high:g}], got {value!r}",
                name=name,
                value=repr(value),
                low=low,
                high=high,
            )
            return None
        return v

    def integer(
        self, name: str, value: Any, low: int, high: int, code: str = "optimize.integer"
    ) -> int | None:
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not ok or not low <= int(value) <= high:
            self.add(
                code,
                f"{name} must be a whole number from {low} to {high}, got {value!r}",
                name=name,
                value=repr(value),
                low=low,
                high=high,
            )
            return None
        return int(value)


def _weights(weights: ArrayLike, n: int | None, problems: _Problems) -> FloatArray:
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        problems.add("optimize.weights", "weights must be numbers", n=0)
        return np.zeros(0)
    if w.ndim != 1:
        problems.add(
            "optimize.weights_shape",
            f"weights must be a 1-D array, got shape {w.shape}",
            shape=tuple(w.shape),
            expected=n,
        )
        return np.zeros(0)
    if n is not None and len(w) != n:
        problems.add(
            "optimize.weights_shape",
            f"weights has {len(w)} values, the cost matrix {n} demand rows",
            shape=(len(w),),
            expected=n,
        )
    bad = int(np.count_nonzero(~np.isfinite(w) | (w < 0)))
    if bad:
        problems.add(
            "optimize.weights",
            f"{bad} weight(s) are negative or not finite numbers",
            n=bad,
        )
    elif len(w) and not w.sum() > 0:
        problems.add("optimize.no_demand", "the weights sum to 0: nobody to serve")
    if len(w) == 0:
        problems.add("optimize.no_demand", "no demand point given")
    return w


# --- cost matrices ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Travel minutes of demand × candidate pairs, stored as sorted COO pairs.

    A pair that is not stored is unreachable (beyond ``max_minutes`` or
    ``inf``).  Build one with :meth:`from_dense`, :meth:`from_sparse`,
    :meth:`coerce` or the ``cost_matrix_*`` functions.
    """

    n_demand: int
    n_candidates: int
    demand: NDArray[np.int32]
    candidate: NDArray[np.int32]
    minutes: FloatArray
    max_minutes: float = math.inf
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_pairs(self) -> int:
        return len(self.minutes)

    @property
    def complete(self) -> bool:
        """Whether every demand × candidate pair is reachable."""
        return self.n_pairs == self.n_demand * self.n_candidates

    @classmethod
    def from_pairs(
        cls,
        n_demand: int,
        n_candidates: int,
        demand: ArrayLike,
        candidate: ArrayLike,
        minutes: ArrayLike,
        max_minutes: float | None = None,
    ) -> CostMatrix:
        """From pair arrays; pairs with non-finite or larger-than-``max_minutes`` times dropped."""
        d = np.asarray(demand, dtype=np.int64).ravel()
        c = np.asarray(candidate, dtype=np.int64).ravel()
        m = np.asarray(minutes, dtype=np.float64).ravel()
        problems = _Problems()
        if not len(d) == len(c) == len(m):
            problems.add(
                "optimize.shape",
                f"pair arrays differ in length ({len(d)}, {len(c)}, {len(m)})",
                shape=(len(d), len(c), len(m)),
                expected=None,
            )
            problems.raise_if_any()
        _check_minutes(m, problems)
        outside = (d < 0) | (d >= n_demand) | (c < 0) | (c >= n_candidates)
        if outside.any():
            problems.add(
                "optimize.shape",
                f"{int(outside.sum())} pair(s) outside the {n_demand}×{n_candidates} matrix",
                shape=(n_demand, n_candidates),
                expected=None,
            )
        cap = _cutoff(max_minutes, problems)
        problems.raise_if_any()
        keep = np.isfinite(m) & (m <= cap)
        d, c, m = d[keep], c[keep], m[keep]
        order = np.lexsort((c, d))
        d, c, m = d[order], c[order], m[order]
        if len(d) > 1:
            dup = (d[1:] == d[:-1]) & (c[1:] == c[:-1])
            if dup.any():  # keep the shortest (sorted by minutes within equal keys below)
                order = np.lexsort((m, c, d))
                d, c, m = d[order], c[order], m[order]
                first = np.concatenate([[True], (d[1:] != d[:-1]) | (c[1:] != c[:-1])])
                d, c, m = d[first], c[first], m[first]
        return cls(
            n_demand=int(n_demand),
            n_candidates=int(n_candidates),
            demand=d.astype(np.int32),
            candidate=c.astype(np.int32),
            minutes=m,
            max_minutes=cap,
        )

    @classmethod
    def from_dense(cls, minutes: ArrayLike, max_minutes: float | None = None) -> CostMatrix:
        """From a dense ``(n_demand, n_candidates)`` array; ``inf`` is unreachable."""
        a = np.asarray(minutes, dtype=np.float64)
        problems = _Problems()
        if a.ndim != 2:
            problems.add(
                "optimize.shape",
                f"the cost matrix must be 2-D, got shape {a.shape}",
                shape=tuple(a.shape),
                expected=None,
            )
            problems.raise_if_any()
        _check_minutes(a, problems)
        cap = _cutoff(max_minutes, problems)
        problems.raise_if_any()
        d, c = np.nonzero(np.isfinite(a) & (a <= cap))
        return cls(
            n_demand=a.shape[0],
            n_candidates=a.shape[1],
            demand=d.astype(np.int32),
            candidate=c.astype(np.int32),
            minutes=a[d, c],
            max_minutes=cap,
        )

    @classmethod
    def from_sparse(cls, matrix: Any, max_minutes: float | None = None) -> CostMatrix:
        """From a scipy sparse matrix: the *stored* entries are the reachable pairs.

        A stored 0 is a pair at 0 minutes (a candidate in the demand's own
        cell); an entry that is not stored is unreachable.
        """
        coo = sp.coo_matrix(matrix)
        return cls.from_pairs(
            coo.shape[0], coo.shape[1], coo.row, coo.col, coo.data, max_minutes=max_minutes
        )

    @classmethod
    def coerce(cls, cost: Any, max_minutes: float | None = None) -> CostMatrix:
        """A :class:`CostMatrix` from itself, a scipy sparse matrix or a dense array."""
        if isinstance(cost, CostMatrix):
            if max_minutes is None or max_minutes >= cost.max_minutes:
                return cost
            return cls.from_pairs(
                cost.n_demand,
                cost.n_candidates,
                cost.demand,
                cost.candidate,
                cost.minutes,
                max_minutes,
            )
        if sp.issparse(cost):
            return cls.from_sparse(cost, max_minutes)
        return cls.from_dense(cost, max_minutes)

    def to_dense(self) -> FloatArray:
        """The dense matrix, ``inf`` for unreachable pairs."""
        out = np.full((self.n_demand, self.n_candidates), np.inf)
        out[self.demand, self.candidate] = self.minutes
        return out

    def to_sparse(self) -> sp.csr_matrix:
        """A CSR matrix of the pairs (explicit zeros kept)."""
        return sp.csr_matrix(
            (self.minutes, (self.demand, self.candidate)),
            shape=(self.n_demand, self.n_candidates),
        )

    def by_candidate(self) -> tuple[IntArray, NDArray[np.int32], FloatArray]:
        """Pairs grouped by candidate: ``indptr`` (``n_candidates + 1``), demand, minutes."""
        if "by_candidate" not in self._cache:
            order = np.argsort(self.candidate, kind="stable")
            indptr = np.searchsorted(
                self.candidate[order], np.arange(self.n_candidates + 1), side="left"
            ).astype(np.int64)
            self._cache["by_candidate"] = (indptr, self.demand[order], self.minutes[order])
        out: tuple[IntArray, NDArray[np.int32], FloatArray] = self._cache["by_candidate"]
        return out

    def nearest(self, columns: ArrayLike) -> tuple[FloatArray, IntArray]:
        """Minutes from each demand point to the nearest of ``columns`` and which (-1: none)."""
        cols = np.asarray(columns, dtype=np.int64)
        best = np.full(self.n_demand, np.inf)
        which = np.full(self.n_demand, -1, dtype=np.int64)
        if len(cols) == 0 or self.n_pairs == 0:
            return best, which
        mask = np.zeros(self.n_candidates, dtype=bool)
        mask[cols] = True
        sel = mask[self.candidate]
        d, c, m = self.demand[sel], self.candidate[sel], self.minutes[sel]
        order = np.lexsort((c, m, d))
        d, c, m = d[order], c[order], m[order]
        first = np.concatenate([[True], d[1:] != d[:-1]]) if len(d) else np.zeros(0, bool)
        best[d[first]] = m[first]
        which[d[first]] = c[first]
        return best, which


def _check_minutes(m: FloatArray, problems: _Problems) -> None:
    n_nan = int(np.count_nonzero(np.isnan(m)))
    n_neg = int(np.count_nonzero(m < 0))
    if n_nan:
        problems.add(
            "optimize.minutes_nan",
            f"{n_nan} travel time(s) are NaN (use inf for unreachable pairs)",
            n=n_nan,
        )
    if n_neg:
        problems.add("optimize.minutes_negative", f"{n_neg} travel time(s) are negative", n=n_neg)


def _cutoff(max_minutes: float | None, problems: _Problems) -> float:
    if max_minutes is None:
        return math.inf
    v = problems.number("max_minutes", max_minutes, allow_inf=True, code="optimize.cutoff")
    return math.inf if v is None else v


def _speed_m_per_min(speed: float | str, problems: _Problems) -> float | None:
    if isinstance(speed, str):
        if speed not in MODE_SPEEDS_KMH:
            problems.add(
                "optimize.mode",
                f"mode must be one of {', '.join(MODE_SPEEDS_KMH)}, got {speed!r}",
                value=speed,
                allowed=list(MODE_SPEEDS_KMH),
            )
            return None
        speed = MODE_SPEEDS_KMH[speed]
    v = problems.number("speed (km/h)", speed, low=0.5, high=150.0, low_inclusive=True)
    return None if v is None else v * 1000.0 / 60.0


def _xy(name: str, xy: ArrayLike, problems: _Problems) -> FloatArray:
    a = np.asarray(xy, dtype=np.float64)
    if a.size == 0:
        a = a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        problems.add(
            "optimize.xy_shape",
            f"{name} must be (x, y) pairs, got shape {a.shape}",
            name=name,
            shape=tuple(a.shape),
        )
        return np.zeros((0, 2))
    bad = int(np.count_nonzero(~np.isfinite(a).all(axis=1)))
    if bad:
        problems.add(
            "optimize.xy_nonfinite",
            f"{name}: {bad} point(s) without finite coordinates",
            name=name,
            n=bad,
        )
    return a


def cost_matrix_straight(
    demand_xy: ArrayLike,
    cand_xy: ArrayLike,
    speed: float | str = "walk",
    detour: float = DEFAULT_DETOUR,
    max_minutes: float | None = None,
) -> CostMatrix:
    """Straight-line minutes (distance × ``detour`` / ``speed``) of demand × candidate pairs.

    ``speed`` is km/h or a mode (``walk``, ``ebike``, ``drive``: the
    :data:`~gridplan.traveltime.MODE_SPEEDS_KMH`).  With ``max_minutes`` only
    the pairs within it are found (k-d trees, ``sparse_distance_matrix``);
    without it the matrix is dense (at most :data:`MAX_DENSE_PAIRS` pairs).
    The minutes are those of :class:`~gridplan.traveltime.StraightLineModel`.
    """
    problems = _Problems()
    d_xy = _xy("demand_xy", demand_xy, problems)
    c_xy = _xy("cand_xy", cand_xy, problems)
    mpm = _speed_m_per_min(speed, problems)
    det = problems.number("detour", detour, low=1.0, high=3.0, low_inclusive=True)
    cap = _cutoff(max_minutes, problems)
    if math.isinf(cap) and len(d_xy) * len(c_xy) > MAX_DENSE_PAIRS:
        problems.add(
            "optimize.too_large",
            f"{len(d_xy)}×{len(c_xy)} pairs are too many for a dense matrix: give max_minutes",
            n=len(d_xy) * len(c_xy),
            limit=MAX_DENSE_PAIRS,
        )
    problems.raise_if_any()
    assert mpm is not None and det is not None
    per_m = det / mpm
    if math.isinf(cap):
        diff = d_xy[:, None, :] - c_xy[None, :, :]
        dist = np.sqrt((diff**2).sum(axis=2))
        return CostMatrix.from_dense(dist * per_m)
    radius = cap / per_m * (1 + 1e-9)
    pairs = cKDTree(d_xy).sparse_distance_matrix(cKDTree(c_xy), radius, output_type="ndarray")
    return CostMatrix.from_pairs(
        len(d_xy), len(c_xy), pairs["i"], pairs["j"], pairs["v"] * per_m, max_minutes=cap
    )


def cost_matrix_raster(
    grid: CellGrid,
    speed_surface: ArrayLike,
    demand_rc: ArrayLike,
    cand_rc: ArrayLike,
    max_minutes: float,
    *,
    engine: Literal["buckets", "scipy"] = "buckets",
) -> CostMatrix:
    """Raster (friction-surface) minutes of demand × candidate pairs within ``max_minutes``.

    One :func:`~gridplan.costdistance.cost_distance` per candidate with the
    cutoff, on the window of cells the fastest speed can reach within it (so
    a run costs the reachable area, not the grid): fine for hundreds of
    candidates, slow for many thousands (use the straight-line matrix there,
    or a coarser candidate grid).  Travel is symmetric in this cost model
    (mean of both cells' costs), so candidate → demand equals demand →
    candidate.  Candidates on a barrier reach only their own cell.
    """
    problems = _Problems()
    speed = np.asarray(speed_surface, dtype=np.float64)
    if speed.shape != grid.shape:
        problems.add(
            "optimize.shape",
            f"speed_surface has shape {speed.shape}, expected the grid's {grid.shape}",
            shape=tuple(speed.shape),
            expected=grid.shape,
        )
    d_rc = _rc("demand_rc", demand_rc, grid, problems)
    c_rc = _rc("cand_rc", cand_rc, grid, problems)
    cap = problems.number("max_minutes", max_minutes, allow_inf=True, code="optimize.cutoff")
    problems.raise_if_any()
    assert cap is not None
    finite = speed[np.isfinite(speed)]
    vmax = float(finite.max()) if finite.size else 0.0
    if vmax <= 0 or math.isinf(cap):
        reach = max(grid.nrows, grid.ncols)
    else:
        reach = math.ceil(vmax * 1000.0 / 60.0 * cap / grid.cell_m) + 2
    # demand cells in a lookup grid: several demand points may share a cell
    order = np.lexsort((d_rc[:, 1], d_rc[:, 0]))
    flat = d_rc[order, 0] * grid.ncols + d_rc[order, 1]
    rows_out: list[IntArray] = []
    cols_out: list[IntArray] = []
    mins_out: list[FloatArray] = []
    for j, (r, c) in enumerate(c_rc):
        r0, r1 = max(0, r - reach), min(grid.nrows, r + reach + 1)
        c0, c1 = max(0, c - reach), min(grid.ncols, c + reach + 1)
        res = cost_distance(
            speed[r0:r1, c0:c1], grid.cell_m, [[r - r0, c - c0]], cap, engine=engine
        )
        lo = np.searchsorted(flat, r0 * grid.ncols, side="left")
        hi = np.searchsorted(flat, (r1 - 1) * grid.ncols + grid.ncols, side="left")
        idx = order[lo:hi]
        rr, cc = d_rc[idx, 0], d_rc[idx, 1]
        inside = (cc >= c0) & (cc < c1)
        idx, rr, cc = idx[inside], rr[inside], cc[inside]
        m = res.minutes[rr - r0, cc - c0].astype(np.float64)
        ok = np.isfinite(m)
        rows_out.append(idx[ok])
        cols_out.append(np.full(int(ok.sum()), j, dtype=np.int64))
        mins_out.append(m[ok])
    cat = np.concatenate
    return CostMatrix.from_pairs(
        len(d_rc),
        len(c_rc),
        cat(rows_out) if rows_out else np.zeros(0, np.int64),
        cat(cols_out) if cols_out else np.zeros(0, np.int64),
        cat(mins_out) if mins_out else np.zeros(0),
        max_minutes=cap,
    )


def _rc(name: str, rc: ArrayLike, grid: CellGrid, problems: _Problems) -> IntArray:
    a = np.asarray(rc)
    if a.size == 0:
        a = a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2 or a.dtype.kind not in "iu":
        problems.add(
            "optimize.rc_shape",
            f"{name} must be integer (row, col) pairs, got shape {a.shape} of {a.dtype}",
            name=name,
            shape=tuple(a.shape),
        )
        return np.zeros((0, 2), dtype=np.int64)
    a = a.astype(np.int64)
    out = (a[:, 0] < 0) | (a[:, 0] >= grid.nrows) | (a[:, 1] < 0) | (a[:, 1] >= grid.ncols)
    if out.any():
        problems.add(
            "optimize.rc_outside",
            f"{name}: {int(out.sum())} cell(s) outside the {grid.nrows}×{grid.ncols} grid",
            name=name,
            n=int(out.sum()),
        )
    return a


def cost_matrix_model(
    model: TravelTimeModel,
    grid: CellGrid,
    demand: Demand,
    cand_xy: ArrayLike,
    max_minutes: float | None,
) -> CostMatrix:
    """Demand × candidate minutes from any travel-time model.

    :class:`~gridplan.traveltime.StraightLineModel` and
    :class:`~gridplan.costdistance.RasterModel` use the fast
    :func:`cost_matrix_straight` / :func:`cost_matrix_raster` (the raster
    cutoff is the smaller of ``max_minutes`` and the model's); the road network
    (:class:`~gridplan.network.NetworkModel`) its ``pair_minutes`` from the
    demand points (one Dijkstra per candidate with the cutoff); any other
    model runs ``travel_times`` once per candidate, slow for many candidates.
    """
    problems = _Problems()
    c_xy = _xy("cand_xy", cand_xy, problems)
    problems.raise_if_any()
    if isinstance(model, StraightLineModel):
        return cost_matrix_straight(demand.xy, c_xy, model.speed_kmh, model.detour, max_minutes)
    d_rc = demand.cells(grid)
    if isinstance(model, RasterModel):
        cap = min(model.cutoff_min, math.inf if max_minutes is None else float(max_minutes))
        r, c, inside = grid.cell_of(c_xy[:, 0], c_xy[:, 1])
        if not inside.all():
            problems.add(
                "optimize.rc_outside",
                f"candidates: {int((~inside).sum())} outside the grid",
                name="candidates",
                n=int((~inside).sum()),
            )
            problems.raise_if_any()
        return cost_matrix_raster(
            grid,
            model.speed_surface(grid),
            d_rc,
            np.column_stack([r, c]),
            cap,
            engine=model.engine,
        )
    if hasattr(model, "pair_minutes"):  # the road network: one Dijkstra per candidate
        cap = min(float(getattr(model, "cutoff_min", math.inf)),
                  math.inf if max_minutes is None else float(max_minutes))  # fmt: skip
        pi, pj, pm = model.pair_minutes(grid.crs, demand.xy, c_xy, cap)
        return CostMatrix.from_pairs(
            len(demand.xy), len(c_xy), pi, pj, pm, max_minutes=cap if math.isfinite(cap) else None
        )
    mask = np.zeros(grid.shape, dtype=bool)
    mask[d_rc[:, 0], d_rc[:, 1]] = True
    rows, cols, mins = [], [], []
    for j in range(len(c_xy)):
        tt = model.travel_times(grid, mask, c_xy[j : j + 1])
        m = tt.minutes[d_rc[:, 0], d_rc[:, 1]].astype(np.float64)
        ok = np.flatnonzero(np.isfinite(m))
        rows.append(ok)
        cols.append(np.full(len(ok), j))
        mins.append(m[ok])
    return CostMatrix.from_pairs(
        len(d_rc),
        len(c_xy),
        np.concatenate(rows) if rows else np.zeros(0, np.int64),
        np.concatenate(cols) if cols else np.zeros(0, np.int64),
        np.concatenate(mins) if mins else np.zeros(0),
        max_minutes=max_minutes,
    )


# --- demand and candidates ----------------------------------------------------------


def _blocks(rows: IntArray, cols: IntArray, grid: CellGrid, block_m: float) -> tuple[IntArray, int]:
    """Block label of each cell for square blocks of ``block_m`` from the grid's corner."""
    f = block_m / grid.cell_m
    br = np.floor((rows + 0.5) / f).astype(np.int64)
    bc = np.floor((cols + 0.5) / f).astype(np.int64)
    nbc = int(bc.max()) + 1 if len(bc) else 1
    key = br * nbc + bc
    uniq, label = np.unique(key, return_inverse=True)
    return label.astype(np.int64), len(uniq)


def _count_blocks(rows: IntArray, cols: IntArray, grid: CellGrid, block_m: float) -> int:
    f = block_m / grid.cell_m
    br = np.floor((rows + 0.5) / f).astype(np.int64)
    bc = np.floor((cols + 0.5) / f).astype(np.int64)
    nbc = int(bc.max()) + 1 if len(bc) else 1
    return int(np.count_nonzero(np.bincount(br * nbc + bc)))


def _block_size_for(rows: IntArray, cols: IntArray, grid: CellGrid, max_blocks: int) -> float:
    """The smallest block size (to 0.5 %) giving at most ``max_blocks`` occupied blocks."""
    lo, hi = grid.cell_m, grid.cell_m
    while _count_blocks(rows, cols, grid, hi) > max_blocks:
        lo, hi = hi, hi * 2
    if hi == grid.cell_m:
        return hi
    while hi - lo > 0.005 * lo:
        mid = 0.5 * (lo + hi)
        if _count_blocks(rows, cols, grid, mid) > max_blocks:
            lo = mid
        else:
            hi = mid
    return hi


def _representatives(
    x: FloatArray, y: FloatArray, w: FloatArray, label: IntArray, n: int
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """Per block: total weight, weighted centroid and the cell nearest the centroid."""
    tot = np.bincount(label, weights=w, minlength=n).astype(np.float64)
    safe = np.where(tot > 0, tot, 1.0)
    cx = np.bincount(label, weights=w * x, minlength=n) / safe
    cy = np.bincount(label, weights=w * y, minlength=n) / safe
    d = np.hypot(x - cx[label], y - cy[label])
    order = np.lexsort((d, label))
    first = order[np.searchsorted(label[order], np.arange(n), side="left")]
    return tot, cx, cy, first.astype(np.int64)


@dataclass
class Demand:
    """Demand points: weighted metric points, each with a representative cell.

    ``xy`` are population-weighted centroids of the aggregated cells;
    ``rc`` the populated cell nearest each centroid (for raster travel
    times); ``cell_point[c]`` the demand point of populated cell ``c`` (cells
    as ``numpy.nonzero(surface.population > 0)``), for mapping results back.
    """

    xy: FloatArray
    weights: FloatArray
    rc: IntArray | None = None
    crs: str | None = None
    block_m: float = 0.0
    cell_point: IntArray | None = None

    def __len__(self) -> int:
        return len(self.weights)

    def cells(self, grid: CellGrid) -> IntArray:
        """Row, column of each point's cell on ``grid``."""
        if self.rc is not None:
            return self.rc
        r, c, inside = grid.cell_of(self.xy[:, 0], self.xy[:, 1])
        if not inside.all():
            problems = _Problems()
            n_out = int((~inside).sum())
            problems.add(
                "optimize.rc_outside",
                f"demand: {n_out} cell(s) outside the {grid.nrows}×{grid.ncols} grid",
                name="demand",
                n=n_out,
            )
            problems.raise_if_any()
        return np.column_stack([r, c]).astype(np.int64)


def demand_points(
    surface: PopulationSurface,
    max_points: int | None = DEFAULT_MAX_DEMAND,
    *,
    block_m: float | None = None,
) -> Demand:
    """The populated cells as demand points, aggregated to at most ``max_points``.

    Cells are grouped into square blocks (``block_m``, or the smallest size,
    found by bisection, that leaves at most ``max_points`` occupied blocks);
    each block is one point at its population-weighted centroid with the
    block's residents.  Population is conserved exactly (``unplaced``
    residents excepted: they have no cell).  ``max_points=None`` and no
    ``block_m``: one point per populated cell.
    """
    problems = _Problems()
    if max_points is not None:
        problems.integer("max_points", max_points, 1, 10**8)
    if block_m is not None:
        problems.number("block_m", block_m, low=surface.grid.cell_m, low_inclusive=True)
    problems.raise_if_any()
    grid = surface.grid
    rows, cols = np.nonzero(surface.population > 0)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    w = surface.population[rows, cols].astype(np.float64)
    x, y = grid.centres(rows, cols)
    if block_m is None:
        if max_points is None or len(rows) <= max_points:
            return Demand(
                xy=np.column_stack([x, y]),
                weights=w,
                rc=np.column_stack([rows, cols]),
                crs=grid.crs,
                block_m=0.0,
                cell_point=np.arange(len(rows), dtype=np.int64),
            )
        block_m = _block_size_for(rows, cols, grid, max_points)
    label, n = _blocks(rows, cols, grid, float(block_m))
    tot, cx, cy, first = _representatives(x, y, w, label, n)
    return Demand(
        xy=np.column_stack([cx, cy]),
        weights=tot,
        rc=np.column_stack([rows[first], cols[first]]),
        crs=grid.crs,
        block_m=float(block_m),
        cell_point=label,
    )


@dataclass
class Candidates:
    """Candidate sites in a metric CRS, with ids and where they come from."""

    xy: FloatArray
    ids: list[str]
    crs: str
    source: str = "user"

    def __post_init__(self) -> None:
        problems = _Problems()
        self.xy = _xy("candidates", self.xy, problems)
        if len(self.ids) != len(self.xy):
            problems.add(
                "optimize.ids",
                f"{len(self.ids)} ids for {len(self.xy)} candidates",
                n=len(self.ids),
                expected=len(self.xy),
            )
        problems.raise_if_any()

    def __len__(self) -> int:
        return len(self.xy)

    def take(self, index: ArrayLike) -> Candidates:
        idx = np.asarray(index, dtype=np.int64)
        return Candidates(self.xy[idx], [self.ids[i] for i in idx], self.crs, self.source)

    def lonlat(self) -> tuple[FloatArray, FloatArray]:
        """WGS-84 longitude and latitude of the candidates."""
        tr = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(self.xy[:, 0], self.xy[:, 1])
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def excluding(self, areas: Any, areas_crs: str = "EPSG:4326") -> Candidates:
        """The candidates outside ``areas`` (shapely geometries, a GeoSeries/GeoDataFrame).

        Areas are in WGS-84 unless ``areas_crs`` says otherwise (a
        GeoSeries/GeoDataFrame with a CRS uses its own).  A candidate on an
        area's boundary is excluded.
        """
        return self.take(np.flatnonzero(~self.in_areas(areas, areas_crs)))

    def in_areas(self, areas: Any, areas_crs: str = "EPSG:4326") -> NDArray[np.bool_]:
        """Whether each candidate lies in (or on the boundary of) one of ``areas``."""
        geoms, src = _geometries(areas, areas_crs)
        if len(geoms) == 0 or len(self) == 0:
            return np.zeros(len(self), dtype=bool)
        tr = Transformer.from_crs(src, self.crs, always_xy=True)

        def project(coords: FloatArray) -> FloatArray:
            x, y = tr.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        if CRS.from_user_input(src).is_geographic:
            geoms = shapely.segmentize(geoms, 0.01)  # edges follow the projection (~1 km)
        metric = shapely.transform(geoms, project)
        union = shapely.union_all(metric)
        return np.asarray(shapely.intersects_xy(union, self.xy[:, 0], self.xy[:, 1]), dtype=bool)


def _geometries(areas: Any, default_crs: str) -> tuple[NDArray[np.object_], str]:
    crs = default_crs
    geo_crs = getattr(areas, "crs", None)
    if hasattr(areas, "geometry") and not isinstance(areas, shapely.Geometry):
        areas = areas.geometry
    if geo_crs is not None:
        crs = geo_crs.to_string() if hasattr(geo_crs, "to_string") else str(geo_crs)
    if isinstance(areas, shapely.Geometry):
        areas = [areas]
    geoms = np.asarray([g for g in areas if g is not None and not g.is_empty], dtype=object)
    bad = [type(g).__name__ for g in geoms if not isinstance(g, shapely.Geometry)]
    if bad:
        problems = _Problems()
        problems.add(
            "optimize.areas",
            f"exclusion areas must be shapely geometries, got {bad[:5]}",
            types=bad[:5],
        )
        problems.raise_if_any()
    return geoms, crs


def candidates_from_facilities(
    facilities: pd.DataFrame, crs: str, types: Iterable[str] | None = None
) -> Candidates:
    """Existing facility rows as candidates (upgrade a township/community centre).

    ``types`` defaults to :data:`gridplan.facilities.CENTRES`; inactive rows
    and rows without coordinates are left out.  Ids are ``facility_id``.
    """
    from gridplan.facilities import CENTRES, facility_mask, facility_xy

    wanted = list(CENTRES if types is None else types)
    mask = facility_mask(facilities, wanted)
    ids = facilities.loc[mask, "facility_id"].astype(str).tolist()
    return Candidates(facility_xy(facilities, crs, wanted), ids, crs, "facility")


def candidates_from_lonlat(
    lon: ArrayLike, lat: ArrayLike, crs: str, ids: Sequence[str] | None = None
) -> Candidates:
    """A user's list of WGS-84 points as candidates (ids default to ``U0001``...)."""
    lo = np.asarray(lon, dtype=np.float64).ravel()
    la = np.asarray(lat, dtype=np.float64).ravel()
    problems = _Problems()
    if len(lo) != len(la):
        problems.add(
            "optimize.xy_shape",
            f"{len(lo)} longitudes and {len(la)} latitudes",
            name="candidates",
            shape=(len(lo), len(la)),
        )
    problems.raise_if_any()
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(lo, la)
    names = list(ids) if ids is not None else [f"U{i + 1:04d}" for i in range(len(lo))]
    return Candidates(np.column_stack([x, y]), [str(s) for s in names], crs, "user")


def candidate_grid(
    surface: PopulationSurface,
    *,
    spacing_m: float | None = None,
    every: int | None = None,
    max_candidates: int | None = None,
) -> Candidates:
    """Candidate cells over the populated cells of ``surface``.

    Exactly one of: ``spacing_m`` (one candidate per occupied block of a
    coarser grid: the populated cell nearest the block's population-weighted
    centroid), ``every`` (every n-th populated cell in row-major order) or
    ``max_candidates`` (the block size giving at most that many).  Ids are
    ``G<row>_<col>`` of the cell.
    """
    problems = _Problems()
    given = [v is not None for v in (spacing_m, every, max_candidates)]
    if sum(given) != 1:
        problems.add(
            "optimize.grid_choice",
            "give exactly one of spacing_m, every, max_candidates",
        )
    if spacing_m is not None:
        problems.number("spacing_m", spacing_m, low=surface.grid.cell_m, low_inclusive=True)
    if every is not None:
        problems.integer("every", every, 1, 10**9)
    if max_candidates is not None:
        problems.integer("max_candidates", max_candidates, 1, 10**8)
    problems.raise_if_any()
    grid = surface.grid
    rows, cols = np.nonzero(surface.population > 0)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    if every is not None:
        pick = np.arange(0, len(rows), every)
    else:
        if spacing_m is None:
            assert max_candidates is not None
            spacing_m = _block_size_for(rows, cols, grid, max_candidates)
        w = surface.population[rows, cols].astype(np.float64)
        x, y = grid.centres(rows, cols)
        label, n = _blocks(rows, cols, grid, float(spacing_m))
        pick = np.sort(_representatives(x, y, w, label, n)[3])
    r, c = rows[pick], cols[pick]
    x, y = grid.centres(r, c)
    ids = [f"G{a}_{b}" for a, b in zip(r.tolist(), c.tolist(), strict=True)]
    return Candidates(np.column_stack([x, y]), ids, grid.crs, "grid")


# --- HiGHS --------------------------------------------------------------------------


@dataclass
class _Mip:
    """A MIP in arrays: columns (cost, bounds, integrality) and rows as COO triplets."""

    cost: FloatArray
    lower: FloatArray
    upper: FloatArray
    integer: NDArray[np.bool_]
    row: IntArray
    col: IntArray
    val: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    maximize: bool
    offset: float = 0.0


@dataclass
class _MipResult:
    status: str
    objective: float
    bound: float
    gap: float
    x: FloatArray | None
    seconds: float


_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kTimeLimit": "time_limit",
    "kUnboundedOrInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "solution_limit",
    "kInterrupt": "interrupted",
    "kMemoryLimit": "memory_limit",
    "kModelEmpty": "optimal",
}


def _highs() -> highspy.Highs:
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise InputError(
            "the exact solver needs highspy (pip install highspy)",
            code="optimize.no_solver",
        ) from exc
    return highspy.Highs()


def _solve_mip(
    mip: _Mip,
    *,
    time_limit: float,
    gap: float,
    start: FloatArray | None = None,
    verbose: bool = False,
    presolve: bool = True,
) -> _MipResult:
    """Solve ``mip`` with HiGHS (model passed as CSC arrays), optionally warm-started."""
    import highspy

    t0 = time.perf_counter()
    n_col, n_row = len(mip.cost), len(mip.row_lower)
    a = sp.csc_matrix((mip.val, (mip.row, mip.col)), shape=(n_row, n_col))
    a.sum_duplicates()
    h = _highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    if not presolve:
        h.setOptionValue("presolve", "off")
    h.passModel(
        n_col,
        n_row,
        int(a.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMaximize if mip.maximize else highspy.ObjSense.kMinimize),
        float(mip.offset),
        np.ascontiguousarray(mip.cost, dtype=np.float64),
        np.ascontiguousarray(mip.lower, dtype=np.float64),
        np.ascontiguousarray(mip.upper, dtype=np.float64),
        np.ascontiguousarray(mip.row_lower, dtype=np.float64),
        np.ascontiguousarray(mip.row_upper, dtype=np.float64),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(np.float64),
        mip.integer.astype(np.int32),
    )
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = _STATUS.get(h.getModelStatus().name, h.getModelStatus().name.lstrip("k").lower())
    info = h.getInfo()
    has_x = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_x else None
    integral = bool(mip.integer.any())
    if x is None:
        objective, bound, gap_out = math.nan, math.nan, math.nan
    else:
        objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if integral else objective
        gap_out = float(info.mip_gap) if integral else 0.0
        if status == "optimal" and not math.isfinite(gap_out):
            gap_out = 0.0
    return _MipResult(status, objective, bound, gap_out, x, time.perf_counter() - t0)


# --- greedy -------------------------------------------------------------------------


@dataclass
class GreedySolution:
    """A greedy answer: sites in order of choice, the marginal gain of each, the objective."""

    sites: IntArray
    gains: FloatArray
    objective: float
    seconds: float
    lazy: bool = True
    evaluations: int = 0


def _greedy(
    n: int,
    k: int,
    gain: Callable[[int], float],
    commit: Callable[[int], None],
    *,
    lazy: bool,
    stop: Callable[[], bool] | None = None,
) -> tuple[list[int], list[float], int]:
    """Greedy maximisation of marginal gains; ties go to the lowest index.

    With ``lazy`` (CELF), stored gains are upper bounds that are only
    recomputed when they reach the top of a priority queue: valid whenever a
    candidate's gain can only shrink as sites are added (coverage,
    p-median savings, capacity-capped coverage), and then it picks exactly
    the sites of plain greedy.
    """
    chosen: list[int] = []
    gains: list[float] = []
    evals = 0
    used = np.zeros(n, dtype=bool)
    if lazy:
        heap = []
        for j in range(n):
            heap.append((-gain(j), j))
        evals += n
        heapq.heapify(heap)
        stamp = np.zeros(n, dtype=np.int64)
        for it in range(k):
            if stop is not None and stop():
                break
            while True:
                neg, j = heapq.heappop(heap)
                if stamp[j] == it:
                    break
                g = gain(j)
                evals += 1
                stamp[j] = it
                heapq.heappush(heap, (-g, j))
            chosen.append(j)
            gains.append(-neg)
            used[j] = True
            commit(j)
    else:
        for _ in range(k):
            if stop is not None and stop():
                break
            best_j, best_g = -1, -math.inf
            for j in range(n):
                if used[j]:
                    continue
                g = gain(j)
                evals += 1
                if g > best_g:
                    best_j, best_g = j, g
            chosen.append(best_j)
            gains.append(best_g)
            used[best_j] = True
            commit(best_j)
    return chosen, gains, evals


# --- problems -----------------------------------------------------------------------


@dataclass
class _Inputs:
    cost: CostMatrix
    weights: FloatArray
    k: int
    existing: IntArray
    is_existing: NDArray[np.bool_]
    new: IntArray  # columns that may become new sites
    base: FloatArray  # minutes to the nearest existing facility (uncapacitated)
    user_base: FloatArray  # baseline_minutes alone


def _inputs(
    cost: Any,
    weights: ArrayLike,
    k: int | None,
    existing: ArrayLike | None,
    baseline_minutes: ArrayLike | None,
    problems: _Problems,
    max_minutes: float | None = None,
) -> _Inputs | None:
    cm: CostMatrix | None = None
    try:
        cm = CostMatrix.coerce(cost, max_minutes)
    except InputError as err:
        details = err.params.get("problems")
        if err.code != "optimize.invalid" or not isinstance(details, list):
            raise
        for text, detail in zip(err.problems, details, strict=True):
            params = dict(detail)
            problems.add(params.pop("code"), text, **params)
    n = cm.n_demand if cm is not None else None
    if n is None and len(getattr(cost, "shape", ())) == 2:
        n = int(cost.shape[0])  # the matrix is unusable, but its shape is known
    w = _weights(weights, n, problems)
    m = cm.n_candidates if cm is not None else 0
    ex = np.zeros(0, dtype=np.int64)
    if existing is not None:
        raw = np.asarray(existing)
        if raw.dtype == bool and raw.ndim == 1 and len(raw) == m:
            ex = np.flatnonzero(raw)
        elif raw.size == 0:
            ex = np.zeros(0, dtype=np.int64)
        elif raw.dtype.kind not in "iu" or raw.ndim != 1:
            problems.add(
                "optimize.existing",
                "existing must be candidate indices or a boolean mask over the candidates",
                n=int(raw.size),
                m=m,
            )
        else:
            ex = raw.astype(np.int64)
            bad = (ex < 0) | (ex >= m)
            if bad.any() or len(np.unique(ex)) != len(ex):
                problems.add(
                    "optimize.existing",
                    f"existing: indices must be distinct and in 0..{m - 1}",
                    n=int(raw.size),
                    m=m,
                )
    ub = np.full(len(w), np.inf)
    if baseline_minutes is not None:
        b = np.asarray(baseline_minutes, dtype=np.float64)
        if b.shape != (len(w),):
            problems.add(
                "optimize.baseline",
                f"baseline_minutes has shape {b.shape}, expected ({len(w)},)",
                shape=tuple(b.shape),
                expected=len(w),
            )
        elif np.any(b < 0) or np.isnan(b).any():
            problems.add(
                "optimize.baseline",
                "baseline_minutes must be 0 or more (inf: no facility reachable)",
                shape=tuple(b.shape),
                expected=len(w),
            )
        else:
            ub = b.copy()
    kk = k
    if k is not None and cm is not None:
        n_new = m - len(np.unique(ex[(ex >= 0) & (ex < m)]))
        kk = problems.integer("k", k, 0, n_new, code="optimize.k")
    if problems or cm is None:
        return None
    is_ex = np.zeros(m, dtype=bool)
    is_ex[ex] = True
    ex_min, _ = cm.nearest(ex)
    return _Inputs(
        cost=cm,
        weights=w,
        k=0 if kk is None else kk,
        existing=np.sort(ex),
        is_existing=is_ex,
        new=np.flatnonzero(~is_ex),
        base=np.minimum(ub, ex_min),
        user_base=ub,
    )


def _threshold(value: Any, cm_cap: float | None, problems: _Problems) -> float | None:
    t = problems.number("threshold_min", value, code="optimize.threshold")
    if t is not None and cm_cap is not None and t > cm_cap:
        problems.add(
            "optimize.threshold_cutoff",
            f"threshold_min {t:g} is above the cost matrix's cutoff {cm_cap:g}: "
            "pairs between the two are missing",
            threshold=t,
            cutoff=cm_cap,
        )
    return t


class _Siting:
    """Shared state and results of every siting problem."""

    maximize: ClassVar[bool] = True
    kind: ClassVar[str] = ""

    def __init__(
        self,
        inputs: _Inputs,
        *,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
        name: str | None = None,
    ) -> None:
        self._in = inputs
        self.name = name or self.kind
        self.demand = demand
        self.candidates = candidates
        self.k = inputs.k
        self.sites: IntArray = np.zeros(0, dtype=np.int64)
        self.objective = math.nan
        self.bound = math.nan
        self.gap = math.nan
        self.seconds = math.nan
        self.status = "not_solved"
        self.method = ""
        self.greedy: GreedySolution | None = None

    # shared inputs
    @property
    def cost(self) -> CostMatrix:
        return self._in.cost

    @property
    def weights(self) -> FloatArray:
        return self._in.weights

    @property
    def existing(self) -> IntArray:
        return self._in.existing

    @property
    def total_weight(self) -> float:
        return float(self._in.weights.sum())

    def summary(self) -> dict[str, Any]:
        return {
            "problem": self.kind,
            "method": self.method,
            "status": self.status,
            "k": len(self.sites),
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seconds": self.seconds,
        }

    def sites_table(self) -> pd.DataFrame:
        """The chosen sites: candidate index, id, metric x/y and WGS-84 lon/lat when known."""
        return _sites_table(self.sites, self.candidates)

    def _check_run(self, method: str, time_limit: float, gap: float, problems: _Problems) -> None:
        if method not in ("exact", "greedy"):
            problems.add(
                "optimize.method",
                f"method must be exact or greedy, got {method!r}",
                value=method,
                allowed=["exact", "greedy"],
            )
        problems.number("time_limit", time_limit, code="optimize.time_limit", allow_inf=True)
        problems.number("gap", gap, low_inclusive=True, high=1.0, code="optimize.gap")

    def _finish(self, res: _MipResult, y: FloatArray | None) -> None:
        self.status = res.status
        self.bound = res.bound
        self.gap = res.gap
        if y is not None:
            self.sites = np.sort(self._in.new[np.flatnonzero(y > 0.5)])


def _sites_table(sites: IntArray, candidates: Candidates | None) -> pd.DataFrame:
    out = pd.DataFrame({"candidate": sites})
    if candidates is not None:
        inside = sites < len(candidates)
        idx = sites[inside]
        out["id"] = None
        out.loc[inside, "id"] = [candidates.ids[i] for i in idx]
        for col in ("x", "y", "lon", "lat"):
            out[col] = np.nan
        if len(idx):
            sel = candidates.take(idx)
            lon, lat = sel.lonlat()
            out.loc[inside, "x"] = sel.xy[:, 0]
            out.loc[inside, "y"] = sel.xy[:, 1]
            out.loc[inside, "lon"] = lon
            out.loc[inside, "lat"] = lat
    return out


def _from_surface_common(
    surface: PopulationSurface,
    candidates: Candidates,
    model: TravelTimeModel | None,
    existing_xy: ArrayLike | None,
    max_minutes: float | None,
    max_demand: int | None,
    exclusions: Any,
) -> tuple[Demand, Candidates, CostMatrix, IntArray]:
    """Demand points, the kept candidates and the matrix (existing facilities appended)."""
    problems = _Problems()
    if candidates.crs != surface.grid.crs:
        problems.add(
            "optimize.crs",
            f"candidates are in {candidates.crs}, the surface in {surface.grid.crs}",
            crs=candidates.crs,
            expected=surface.grid.crs,
        )
    ex_xy = _xy("existing_xy", existing_xy if existing_xy is not None else [], problems)
    problems.raise_if_any()
    if exclusions is not None:
        candidates = candidates.excluding(exclusions)
    if len(candidates) == 0:
        problems.add("optimize.no_candidates", "no candidate left (all excluded or none given)")
        problems.raise_if_any()
    demand = demand_points(surface, max_demand)
    xy = np.vstack([candidates.xy, ex_xy])
    m = model if model is not None else StraightLineModel()
    cm = cost_matrix_model(m, surface.grid, demand, xy, max_minutes)
    existing = np.arange(len(candidates), len(xy), dtype=np.int64)
    return demand, candidates, cm, existing


# --- coverage family (MCLP, set cover target) ------------------------------------------


@dataclass
class _Cover:
    """Coverage structure over the demand not covered by existing facilities.

    Groups of demand points with the same set of new candidates within T.
    ``a`` is a CSR matrix group × local new candidate (local index into ``new``).
    """

    covered0: NDArray[np.bool_]
    group_of: IntArray  # demand -> group (-1: no new candidate within T, or covered0)
    group_w: FloatArray
    a: sp.csr_matrix  # groups × n_new
    a_t: sp.csr_matrix  # n_new × groups


def _cover(inp: _Inputs, t: float) -> _Cover:
    cm = inp.cost
    covered0 = inp.base <= t
    local = np.full(cm.n_candidates, -1, dtype=np.int64)
    local[inp.new] = np.arange(len(inp.new))
    keep = (cm.minutes <= t) & (local[cm.candidate] >= 0) & ~covered0[cm.demand]
    d, c = cm.demand[keep].astype(np.int64), local[cm.candidate[keep]]
    # pairs are sorted by (demand, candidate): group identical candidate sets
    group_of = np.full(cm.n_demand, -1, dtype=np.int64)
    starts: IntArray = np.flatnonzero(np.concatenate([[True], d[1:] != d[:-1]]) if len(d) else [])
    ends: IntArray = np.append(starts[1:], len(d)) if len(d) else starts
    seen: dict[bytes, int] = {}
    g_rows: list[IntArray] = []
    c_bytes = c.astype(np.int32)
    for s, e in zip(starts, ends, strict=True):
        key = c_bytes[s:e].tobytes()
        g = seen.get(key)
        if g is None:
            g = len(seen)
            seen[key] = g
            g_rows.append(c[s:e])
        group_of[d[s]] = g
    n_g = len(seen)
    ok = group_of >= 0
    group_w = np.bincount(group_of[ok], weights=inp.weights[ok], minlength=n_g).astype(np.float64)
    if n_g:
        indptr = np.concatenate([[0], np.cumsum([len(r) for r in g_rows])])
        indices = np.concatenate(g_rows)
    else:
        indptr, indices = np.zeros(1, np.int64), np.zeros(0, np.int64)
    a = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n_g, len(inp.new)))
    return _Cover(covered0, group_of, group_w, a, a.T.tocsr())


def _cover_greedy(
    cov: _Cover,
    n_new: int,
    k: int,
    *,
    lazy: bool,
    need: float | None = None,
) -> tuple[list[int], list[float], int]:
    """Greedy (CELF) maximal coverage over the groups; stops early once ``need`` is met."""
    unc = np.ones(len(cov.group_w), dtype=np.float64)
    w = cov.group_w
    indptr, indices = cov.a_t.indptr, cov.a_t.indices
    state = {"covered": 0.0}

    def gain(j: int) -> float:
        idx = indices[indptr[j] : indptr[j + 1]]
        return float((w[idx] * unc[idx]).sum())

    def commit(j: int) -> None:
        idx = indices[indptr[j] : indptr[j + 1]]
        state["covered"] += float((w[idx] * unc[idx]).sum())
        unc[idx] = 0.0

    stop: Callable[[], bool] | None = None
    if need is not None:
        target = need

        def reached() -> bool:
            return state["covered"] >= target

        stop = reached
    return _greedy(n_new, k, gain, commit, lazy=lazy, stop=stop)


def _cover_mip(cov: _Cover, n_new: int) -> tuple[_Mip, int]:
    """Covering rows ``u_g + Σ_{j∈N_g} y_j ≥ 1``; columns y (n_new, binary) then u (groups).

    ``u_g`` is the uncovered share of group ``g`` (``z_g = 1 − u_g``).  This
    form of the MCLP has the same LP relaxation as ``z_g ≤ Σ y_j`` but HiGHS's
    dual simplex solves it one to two orders of magnitude faster on large
    overlapping instances (with MIP presolve off: presolve turns it back
    into the slow form).
    """
    n_g = len(cov.group_w)
    a = cov.a.tocoo()
    row = np.concatenate([a.row, np.arange(n_g)]).astype(np.int64)
    col = np.concatenate([a.col, n_new + np.arange(n_g)]).astype(np.int64)
    val = np.ones(a.nnz + n_g)
    n_col = n_new + n_g
    return (
        _Mip(
            cost=np.zeros(n_col),
            lower=np.zeros(n_col),
            upper=np.concatenate([np.ones(n_new), np.full(n_g, np.inf)]),
            integer=np.concatenate([np.ones(n_new, bool), np.zeros(n_g, bool)]),
            row=row,
            col=col,
            val=val,
            row_lower=np.ones(n_g),
            row_upper=np.full(n_g, np.inf),
            maximize=True,
        ),
        n_g,
    )


def _add_row(mip: _Mip, cols: IntArray, vals: FloatArray, lo: float, hi: float) -> None:
    r = len(mip.row_lower)
    mip.row = np.concatenate([mip.row, np.full(len(cols), r, dtype=np.int64)])
    mip.col = np.concatenate([mip.col, cols.astype(np.int64)])
    mip.val = np.concatenate([mip.val, vals])
    mip.row_lower = np.append(mip.row_lower, lo)
    mip.row_upper = np.append(mip.row_upper, hi)


def _cover_start(cov: _Cover, n_new: int, local_sites: Sequence[int]) -> FloatArray:
    y = np.zeros(n_new)
    y[list(local_sites)] = 1.0
    z = np.minimum(cov.a @ y, 1.0) if len(cov.group_w) else np.zeros(0)
    return np.concatenate([y, 1.0 - z])


def _cover_swap(
    cov: _Cover, n_new: int, local_sites: Sequence[int], max_rounds: int = 1000
) -> list[int]:
    """Best-improvement swap local search (one site out, one in) on the groups' coverage.

    Per round, for every chosen site ``s`` the gain of every other candidate
    given the sites without ``s`` is one sparse product over the groups only
    ``s`` covers, so a round costs about one pass over the pairs.
    """
    sites = [int(j) for j in local_sites]
    if not sites or len(sites) >= n_new or len(cov.group_w) == 0:
        return sites
    w = cov.group_w
    a, a_t = cov.a, cov.a_t
    y = np.zeros(n_new)
    y[sites] = 1.0
    cnt = np.asarray(a @ y).ravel()
    tol = 1e-12 * float(w.sum())
    for _ in range(max_rounds):
        gain0 = a_t @ (w * (cnt == 0))
        best_delta, best = tol, None
        chosen = np.zeros(n_new, dtype=bool)
        chosen[sites] = True
        for pos, s in enumerate(sites):
            groups = a_t.indices[a_t.indptr[s] : a_t.indptr[s + 1]]
            only = groups[cnt[groups] == 1]
            loss = float(w[only].sum())
            delta = gain0 - loss
            if len(only):
                delta = delta + a[only].T @ w[only]
            delta[chosen] = -np.inf
            c = int(np.argmax(delta))
            if delta[c] > best_delta:
                best_delta, best = float(delta[c]), (pos, c)
        if best is None:
            break
        pos, c = best
        s = sites[pos]
        cnt[a_t.indices[a_t.indptr[s] : a_t.indptr[s + 1]]] -= 1
        cnt[a_t.indices[a_t.indptr[c] : a_t.indptr[c + 1]]] += 1
        sites[pos] = c
    return sites


def _drop_redundant(cov: _Cover, n_new: int, local_sites: Sequence[int], need: float) -> list[int]:
    """Drop sites (latest added first) whose removal keeps the covered weight at ``need``."""
    sites = [int(j) for j in local_sites]
    if not sites:
        return sites
    y = np.zeros(n_new)
    y[sites] = 1.0
    cnt = np.asarray(cov.a @ y).ravel()
    covered = float(cov.group_w[cnt > 0].sum())
    a_t = cov.a_t
    for j in reversed(list(sites)):
        groups = a_t.indices[a_t.indptr[j] : a_t.indptr[j + 1]]
        loss = float(cov.group_w[groups[cnt[groups] == 1]].sum())
        if covered - loss >= need:
            covered -= loss
            cnt[groups] -= 1
            sites.remove(j)
    return sites


class MCLP(_Siting):
    """Maximal covering location: ``k`` new sites maximising residents newly covered within T.

    Results after :meth:`solve`: ``sites``, ``objective`` (residents newly
    covered), ``covered`` (all residents covered, existing facilities
    included), ``coverage`` (``covered`` / all residents), ``bound``,
    ``gap``, ``seconds``, ``status``, ``greedy`` (the greedy answer, also the
    warm start) and ``assignment`` (per demand point, the nearest open
    candidate within T or -1).
    """

    kind = "mclp"

    def __init__(self, inputs: _Inputs, threshold_min: float, **kw: Any) -> None:
        super().__init__(inputs, **kw)
        self.threshold_min = float(threshold_min)
        self._cov = _cover(inputs, self.threshold_min)
        self.covered = math.nan
        self.coverage = math.nan
        self.assignment: IntArray = np.zeros(0, dtype=np.int64)

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        threshold_min: float,
        k: int,
        *,
        existing: ArrayLike | None = None,
        baseline_minutes: ArrayLike | None = None,
        name: str | None = None,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
    ) -> MCLP:
        """From a dense or sparse matrix (or :class:`CostMatrix`) and demand weights.

        ``existing``: columns of existing facilities (kept open, never new
        sites); ``baseline_minutes``: per demand point, minutes to the nearest
        existing facility outside the matrix.
        """
        problems = _Problems()
        inp = _inputs(cost_matrix, weights, k, existing, baseline_minutes, problems)
        _threshold(threshold_min, inp.cost.max_minutes if inp else None, problems)
        problems.raise_if_any()
        assert inp is not None
        return cls(inp, threshold_min, name=name, demand=demand, candidates=candidates)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        threshold_min: float,
        *,
        model: TravelTimeModel | None = None,
        existing_xy: ArrayLike | None = None,
        max_demand: int | None = DEFAULT_MAX_DEMAND,
        exclusions: Any = None,
    ) -> MCLP:
        """From a population surface: demand aggregated to ``max_demand`` points,
        travel minutes by ``model`` (default: walking straight line) within T.

        ``existing_xy``: metric coordinates of the existing facilities (kept open).
        """
        demand, cand, cm, ex = _from_surface_common(
            surface, candidates, model, existing_xy, threshold_min, max_demand, exclusions
        )
        return cls.from_cost_matrix(
            cm, demand.weights, threshold_min, k, existing=ex, demand=demand, candidates=cand
        )

    # evaluation
    def evaluate(self, sites: ArrayLike) -> float:
        """Residents newly covered by ``sites`` (candidate columns)."""
        return self._covered_by(np.asarray(sites, dtype=np.int64))[0]

    def _covered_by(self, sites: IntArray) -> tuple[float, float, IntArray]:
        inp = self._in
        best, _ = inp.cost.nearest(sites)
        within = best <= self.threshold_min
        new = within & ~self._cov.covered0
        w = inp.weights
        newly = float(w[new].sum())
        total = float(w[within | self._cov.covered0].sum())
        near, which = inp.cost.nearest(np.concatenate([sites, inp.existing]))
        return newly, total, np.where(near <= self.threshold_min, which, -1)

    def _set_result(self, sites: IntArray) -> None:
        self.sites = np.sort(sites)
        self.objective, self.covered, self.assignment = self._covered_by(self.sites)
        self.coverage = self.covered / self.total_weight

    def run_greedy(self, k: int | None = None, *, lazy: bool = True) -> GreedySolution:
        """Greedy sites (CELF with ``lazy``), without touching the results."""
        t0 = time.perf_counter()
        kk = self.k if k is None else k
        local, gains, evals = _cover_greedy(self._cov, len(self._in.new), kk, lazy=lazy)
        sites = self._in.new[np.asarray(local, dtype=np.int64)]
        return GreedySolution(
            sites=sites,
            gains=np.asarray(gains, dtype=np.float64),
            objective=self.evaluate(sites),
            seconds=time.perf_counter() - t0,
            lazy=lazy,
            evaluations=evals,
        )

    def solve(
        self,
        method: Method = "exact",
        *,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        gap: float = DEFAULT_GAP,
        warm_start: bool = True,
        lazy: bool = True,
        polish: bool = True,
        verbose: bool = False,
    ) -> MCLP:
        """Solve greedily or exactly; returns ``self``.

        ``greedy``: lazy greedy (CELF), then (``polish``) swap local search.
        ``exact``: the covering MIP solved by HiGHS within ``time_limit``
        seconds to a relative ``gap``, warm-started with the greedy answer.
        ``self.greedy`` always holds the plain greedy answer.
        """
        problems = _Problems()
        self._check_run(method, time_limit, gap, problems)
        problems.raise_if_any()
        t0 = time.perf_counter()
        self.greedy = self.run_greedy(lazy=lazy)
        self.method = method
        n_new = len(self._in.new)
        local = np.searchsorted(self._in.new, self.greedy.sites).tolist()
        if polish:
            local = _cover_swap(self._cov, n_new, local)
        heuristic = self._in.new[np.asarray(local, dtype=np.int64)]
        if method == "greedy":
            self._set_result(heuristic)
            self.status, self.bound, self.gap = "greedy", math.nan, math.nan
            self.seconds = time.perf_counter() - t0
            return self
        mip, _ = _cover_mip(self._cov, n_new)
        mip.cost[n_new:] = -self._cov.group_w
        mip.offset = float(self._cov.group_w.sum())
        _add_row(mip, np.arange(n_new), np.ones(n_new), self.k, self.k)
        start = _cover_start(self._cov, n_new, local) if warm_start else None
        res = _solve_mip(
            mip, time_limit=time_limit, gap=gap, start=start, verbose=verbose, presolve=False
        )
        self._finish(res, res.x[:n_new] if res.x is not None else None)
        self._set_result(self.sites if res.x is not None else heuristic)
        self.seconds = time.perf_counter() - t0
        return self

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(covered=self.covered, coverage=self.coverage, threshold_min=self.threshold_min)
        return out

    def coverage_curve(
        self,
        k_max: int,
        *,
        exact: bool = False,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        gap: float = DEFAULT_GAP,
    ) -> pd.DataFrame:
        """Coverage for k = 0…``k_max`` new sites (see :func:`coverage_curve`)."""
        return coverage_curve(self, k_max, exact=exact, time_limit=time_limit, gap=gap)


def coverage_curve(
    problem: MCLP,
    k_max: int,
    *,
    exact: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT_S,
    gap: float = DEFAULT_GAP,
) -> pd.DataFrame:
    """Residents covered within T with k = 0…``k_max`` new sites.

    The greedy curve is one greedy run (greedy sites are nested), so it is
    instant; it is a lower bound of the best coverage at each k (and at least
    ``1 − 1/e`` of the best *new* coverage).  With ``exact`` every k is also
    solved by the MIP (columns ``covered_exact``, ``coverage_exact``,
    ``gap_exact``).  :func:`sites_needed` reads off the k reaching a share;
    :class:`SetCoverTarget` answers that exactly.
    """
    problems = _Problems()
    n_new = len(problem._in.new)
    kk = problems.integer("k_max", k_max, 0, n_new, code="optimize.k")
    problems.raise_if_any()
    assert kk is not None
    g = problem.run_greedy(kk)
    base = float(problem.weights[problem._cov.covered0].sum())
    covered = base + np.concatenate([[0.0], np.cumsum(g.gains)])
    total = problem.total_weight
    out = pd.DataFrame(
        {
            "k": np.arange(kk + 1),
            "covered_greedy": covered,
            "coverage_greedy": covered / total,
            "site_added": np.concatenate([[-1], g.sites]),
        }
    )
    if exact:
        cov, cov_gap = [], []
        for k in range(kk + 1):
            p = MCLP(_with_k(problem._in, k), problem.threshold_min)
            p.solve(time_limit=time_limit, gap=gap)
            cov.append(p.covered)
            cov_gap.append(p.gap)
        out["covered_exact"] = cov
        out["coverage_exact"] = np.asarray(cov) / total
        out["gap_exact"] = cov_gap
    return out


def sites_needed(curve: pd.DataFrame, target: float, column: str | None = None) -> int | None:
    """Smallest k of a :func:`coverage_curve` whose coverage reaches ``target`` (None: never)."""
    col = column or ("coverage_exact" if "coverage_exact" in curve else "coverage_greedy")
    hit = np.flatnonzero(curve[col].to_numpy() >= target - 1e-12)
    return int(curve["k"].to_numpy()[hit[0]]) if len(hit) else None


def _with_k(inp: _Inputs, k: int) -> _Inputs:
    return _Inputs(
        cost=inp.cost,
        weights=inp.weights,
        k=k,
        existing=inp.existing,
        is_existing=inp.is_existing,
        new=inp.new,
        base=inp.base,
        user_base=inp.user_base,
    )


class SetCoverTarget(_Siting):
    """The fewest new sites bringing coverage within T to ``target`` of all residents.

    ``target`` is a share (0.9, 0.95, 1.0) of all residents (``weights``
    sum), those covered by existing facilities included.  Results:
    ``sites``, ``objective`` (number of new sites), ``covered``,
    ``coverage``, and ``max_coverage`` (the share all candidates together
    reach).  A target above ``max_coverage`` gives ``status ==
    "infeasible"`` and no sites; :meth:`message` explains it in zh/en.
    """

    kind = "set_cover_target"
    maximize = False

    def __init__(self, inputs: _Inputs, threshold_min: float, target: float, **kw: Any) -> None:
        super().__init__(inputs, **kw)
        self.threshold_min = float(threshold_min)
        self.target = float(target)
        self._cov = _cover(inputs, self.threshold_min)
        total = self.total_weight
        base = float(inputs.weights[self._cov.covered0].sum())
        self.max_coverage = (base + float(self._cov.group_w.sum())) / total
        self._need = self.target * total - base
        self.covered = math.nan
        self.coverage = math.nan

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        threshold_min: float,
        target: float,
        *,
        existing: ArrayLike | None = None,
        baseline_minutes: ArrayLike | None = None,
        name: str | None = None,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
    ) -> SetCoverTarget:
        problems = _Problems()
        inp = _inputs(cost_matrix, weights, None, existing, baseline_minutes, problems)
        _threshold(threshold_min, inp.cost.max_minutes if inp else None, problems)
        problems.number("target", target, high=1.0, code="optimize.target")
        problems.raise_if_any()
        assert inp is not None
        return cls(inp, threshold_min, target, name=name, demand=demand, candidates=candidates)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        target: float,
        threshold_min: float,
        *,
        model: TravelTimeModel | None = None,
        existing_xy: ArrayLike | None = None,
        max_demand: int | None = DEFAULT_MAX_DEMAND,
        exclusions: Any = None,
    ) -> SetCoverTarget:
        demand, cand, cm, ex = _from_surface_common(
            surface, candidates, model, existing_xy, threshold_min, max_demand, exclusions
        )
        return cls.from_cost_matrix(
            cm, demand.weights, threshold_min, target, existing=ex, demand=demand, candidates=cand
        )

    @property
    def feasible(self) -> bool:
        return self.max_coverage >= self.target * (1 - 1e-12)

    def message(self, lang: Literal["zh", "en"] = "zh") -> str:
        """Why the target cannot be reached (empty when it can)."""
        if self.feasible:
            return ""
        from gridplan.i18n import t

        return t(
            "optimize.target_infeasible",
            lang,
            target=self.target * 100,
            max_coverage=self.max_coverage * 100,
            threshold=self.threshold_min,
        )

    def covered_by(self, sites: ArrayLike) -> float:
        s = np.asarray(sites, dtype=np.int64)
        best, _ = self._in.cost.nearest(s)
        return float(self.weights[(best <= self.threshold_min) | self._cov.covered0].sum())

    def _set_result(self, sites: IntArray) -> None:
        self.sites = np.sort(sites)
        self.objective = float(len(sites))
        self.covered = self.covered_by(self.sites)
        self.coverage = self.covered / self.total_weight

    def solve(
        self,
        method: Method = "exact",
        *,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        gap: float = DEFAULT_GAP,
        warm_start: bool = True,
        lazy: bool = True,
        polish: bool = True,
        verbose: bool = False,
    ) -> SetCoverTarget:
        """Greedy (sites added until the target is met; with ``polish``, sites
        that became redundant dropped, latest first) or exact (HiGHS, warm-started).
        ``self.greedy`` holds the (polished) greedy answer."""
        problems = _Problems()
        self._check_run(method, time_limit, gap, problems)
        problems.raise_if_any()
        t0 = time.perf_counter()
        self.method = method
        n_new = len(self._in.new)
        if not self.feasible:
            self.status = "infeasible"
            self.sites = np.zeros(0, dtype=np.int64)
            self.objective = self.bound = self.gap = math.nan
            self.covered = self.covered_by(self._in.new)
            self.coverage = self.max_coverage
            self.seconds = time.perf_counter() - t0
            return self
        tol = 1e-9 * self.total_weight
        local, gains, evals = _cover_greedy(
            self._cov, n_new, n_new, lazy=lazy, need=self._need - tol
        )
        if polish:
            local = _drop_redundant(self._cov, n_new, local, self._need - tol)
        sites = self._in.new[np.asarray(local, dtype=np.int64)]
        self.greedy = GreedySolution(
            sites=sites,
            gains=np.asarray(gains[: len(local)]),
            objective=float(len(sites)),
            seconds=time.perf_counter() - t0,
            lazy=lazy,
            evaluations=evals,
        )
        if method == "greedy" or self._need <= tol:
            self._set_result(sites)
            self.status = "greedy" if method == "greedy" else "optimal"
            self.bound = math.nan if method == "greedy" else self.objective
            self.gap = math.nan if method == "greedy" else 0.0
            self.seconds = time.perf_counter() - t0
            return self
        mip, n_g = _cover_mip(self._cov, n_new)
        mip.maximize = False
        mip.cost[:n_new] = 1.0
        # uncovered residents at most (coverable − need); weights scaled so that the
        # smallest group weighs at least ~1 (HiGHS's feasibility tolerances are absolute)
        wmin = float(self._cov.group_w[self._cov.group_w > 0].min())
        scale = 1.0 / wmin if wmin < 1.0 else 1.0
        slack = float(self._cov.group_w.sum()) - self._need + tol
        _add_row(mip, n_new + np.arange(n_g), self._cov.group_w * scale, -np.inf, slack * scale)
        start = _cover_start(self._cov, n_new, local) if warm_start else None
        res = _solve_mip(
            mip, time_limit=time_limit, gap=gap, start=start, verbose=verbose, presolve=False
        )
        self._finish(res, res.x[:n_new] if res.x is not None else None)
        self._set_result(self.sites if res.x is not None else sites)
        self.seconds = time.perf_counter() - t0
        return self

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(
            covered=self.covered,
            coverage=self.coverage,
            target=self.target,
            max_coverage=self.max_coverage,
        )
        return out


# --- p-median -------------------------------------------------------------------------


def _fallback(inp: _Inputs, unreachable_minutes: float | None, base: FloatArray) -> FloatArray:
    """Per demand, the minutes charged without an open candidate among its pairs."""
    cm = inp.cost
    if unreachable_minutes is not None:
        pen = float(unreachable_minutes)
    elif math.isfinite(cm.max_minutes):
        pen = cm.max_minutes
    elif cm.complete:
        pen = math.inf
    else:
        pen = float(cm.minutes.max()) if cm.n_pairs else math.inf
    return np.minimum(base, pen)


def _radius_rows(inp: _Inputs, b: FloatArray) -> tuple[sp.csr_matrix, FloatArray, float]:
    """Covering rows of the radius formulation of the p-median (García, Labbé, Marín 2011).

    For demand point ``i`` with distinct pair times ``D_1 < … < D_L`` (below
    its fallback ``b_i``) and ``D_{L+1} = b_i``, its minutes are ``D_1 +
    Σ_l (D_{l+1} − D_l)·z_il`` with ``z_il ≥ 1 − Σ_{j: d_ij ≤ D_l} y_j``: one
    covering row per level (none for the last when ``b_i`` is infinite).  Rows
    with the same candidate set are merged (their costs summed): neighbouring
    demand points share their nearest candidates.  Sets are compared by two
    independent random 64-bit hashes plus their size.

    Returns the set matrix (rows × new candidates), each row's cost and the
    constant (``Σ w_i D_1`` and the fallback of demand with no pair).
    """
    cm = inp.cost
    w = inp.weights
    n_new = len(inp.new)
    local = np.full(cm.n_candidates, -1, dtype=np.int64)
    local[inp.new] = np.arange(n_new)
    keep = (cm.minutes < b[cm.demand]) & (local[cm.candidate] >= 0) & (w[cm.demand] > 0)
    d = cm.demand[keep].astype(np.int64)
    c = local[cm.candidate[keep]]
    m = cm.minutes[keep]
    order = np.lexsort((c, m, d))
    d, c, m = d[order], c[order], m[order]
    has = np.zeros(cm.n_demand, dtype=bool)
    has[d] = True
    lone = ~has & (w > 0)
    offset = float((w[lone] * b[lone]).sum())
    if len(d) == 0:
        return sp.csr_matrix((0, n_new)), np.zeros(0), offset
    first = np.concatenate([[True], d[1:] != d[:-1]])
    offset += float((w[d[first]] * m[first]).sum())
    # a level ends at the last pair of a run of equal minutes within a demand point
    same_next = np.concatenate([(d[1:] == d[:-1]), [False]])
    ends = np.flatnonzero(~(same_next & np.concatenate([m[1:] == m[:-1], [False]])))
    nxt = np.where(same_next[ends], m[np.minimum(ends + 1, len(m) - 1)], b[d[ends]])
    ends, nxt = ends[np.isfinite(nxt)], nxt[np.isfinite(nxt)]
    row_cost = w[d[ends]] * (nxt - m[ends])
    starts = np.searchsorted(d, d[ends], side="left")
    size = ends - starts + 1
    rng = np.random.default_rng(20_240_601)
    keys = np.empty((len(ends), 3), dtype=np.uint64)
    for col in range(2):
        h = rng.integers(0, np.iinfo(np.uint64).max, n_new, dtype=np.uint64, endpoint=True)
        with np.errstate(over="ignore"):
            cum = np.cumsum(h[c], dtype=np.uint64)
            before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], np.uint64(0))
            keys[:, col] = cum[ends] - before
    keys[:, 2] = size.astype(np.uint64)
    _, rep, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    cost = np.bincount(inverse.ravel(), weights=row_cost, minlength=len(rep)).astype(np.float64)
    r_start, r_size = starts[rep], size[rep]
    indptr = np.concatenate([[0], np.cumsum(r_size)])
    within = np.arange(int(indptr[-1])) - np.repeat(indptr[:-1], r_size)
    indices = c[np.repeat(r_start, r_size) + within]
    sets = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rep), n_new))
    return sets, cost, offset


class PMedian(_Siting):
    """p-median: ``k`` new sites minimising population-weighted minutes to the nearest open site.

    Existing facilities count as open.  Results: ``sites``, ``objective``
    (Σ residents × minutes, the penalty included for unserved residents),
    ``mean_minutes`` (objective / residents), ``unserved`` (residents with no
    open facility within the matrix: charged ``unreachable_minutes``),
    ``assignment`` (per demand point, the open candidate used, -1 for an
    existing ``baseline_minutes`` facility or unserved), ``bound``, ``gap``,
    ``seconds``, ``status``, ``greedy``.
    """

    kind = "p_median"
    maximize = False

    def __init__(self, inputs: _Inputs, unreachable_minutes: float | None = None, **kw: Any):
        super().__init__(inputs, **kw)
        self.unreachable_minutes = unreachable_minutes
        self._b = _fallback(inputs, unreachable_minutes, inputs.base)
        self.mean_minutes = math.nan
        self.unserved = math.nan
        self.assignment: IntArray = np.zeros(0, dtype=np.int64)

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        k: int,
        *,
        existing: ArrayLike | None = None,
        baseline_minutes: ArrayLike | None = None,
        max_minutes: float | None = None,
        unreachable_minutes: float | None = None,
        name: str | None = None,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
    ) -> PMedian:
        """``max_minutes`` cuts the matrix; ``unreachable_minutes`` (default: the cutoff)
        is charged to a resident with no open candidate within it."""
        problems = _Problems()
        inp = _inputs(cost_matrix, weights, k, existing, baseline_minutes, problems, max_minutes)
        if unreachable_minutes is not None:
            problems.number("unreachable_minutes", unreachable_minutes, code="optimize.unreachable")
        if inp is not None and not problems:
            b = _fallback(inp, unreachable_minutes, inp.base)
            cm = inp.cost
            has = np.zeros(cm.n_demand, dtype=bool)
            has[cm.demand[~inp.is_existing[cm.candidate]]] = True
            stuck = int(np.count_nonzero(~np.isfinite(b) & ~has & (inp.weights > 0)))
            if stuck:
                problems.add(
                    "optimize.unreachable_demand",
                    f"{stuck} demand point(s) reach no candidate: give unreachable_minutes",
                    n=stuck,
                )
            elif inp.k == 0 and not np.isfinite(b[inp.weights > 0]).all():
                problems.add(
                    "optimize.unreachable_demand",
                    "with k = 0 some residents reach no facility: give unreachable_minutes",
                    n=int(np.count_nonzero(~np.isfinite(b))),
                )
        problems.raise_if_any()
        assert inp is not None
        return cls(inp, unreachable_minutes, name=name, demand=demand, candidates=candidates)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        *,
        max_minutes: float = 60.0,
        model: TravelTimeModel | None = None,
        existing_xy: ArrayLike | None = None,
        max_demand: int | None = DEFAULT_MAX_DEMAND,
        exclusions: Any = None,
        unreachable_minutes: float | None = None,
    ) -> PMedian:
        """From a surface, with pairs within ``max_minutes`` (the cutoff; see the module doc)."""
        demand, cand, cm, ex = _from_surface_common(
            surface, candidates, model, existing_xy, max_minutes, max_demand, exclusions
        )
        return cls.from_cost_matrix(
            cm,
            demand.weights,
            k,
            existing=ex,
            unreachable_minutes=unreachable_minutes,
            demand=demand,
            candidates=cand,
        )

    def _costs(self, sites: IntArray) -> tuple[FloatArray, IntArray]:
        """Minutes charged per demand point and the open column used (-1: fallback)."""
        inp = self._in
        best, which = inp.cost.nearest(np.concatenate([sites, inp.existing]))
        fallback = _fallback(inp, self.unreachable_minutes, inp.user_base)
        use = best <= fallback
        return np.minimum(best, fallback), np.where(use & np.isfinite(best), which, -1)

    def evaluate(self, sites: ArrayLike) -> float:
        """Σ residents × minutes with ``sites`` (and the existing facilities) open."""
        cost, _ = self._costs(np.asarray(sites, dtype=np.int64))
        w = self.weights
        pos = w > 0
        return float((w[pos] * cost[pos]).sum())

    def _set_result(self, sites: IntArray) -> None:
        self.sites = np.sort(sites)
        cost, which = self._costs(self.sites)
        w = self.weights
        pos = w > 0
        self.objective = float((w[pos] * cost[pos]).sum())
        self.mean_minutes = self.objective / self.total_weight
        self.assignment = which
        by_baseline = self._in.user_base <= cost
        self.unserved = float(w[(which < 0) & ~by_baseline].sum())

    def run_greedy(self, k: int | None = None, *, lazy: bool = True) -> GreedySolution:
        t0 = time.perf_counter()
        kk = self.k if k is None else k
        inp = self._in
        cm = inp.cost
        indptr, dem, mins = cm.by_candidate()
        finite = self._b[np.isfinite(self._b)]
        big = max(
            float(cm.minutes.max()) if cm.n_pairs else 0.0,
            float(finite.max()) if len(finite) else 0.0,
        )
        # an unreached resident saves "big + 1 − d": reaching people first, then nearer
        cur = np.where(np.isfinite(self._b), self._b, big + 1.0)
        w = self.weights
        new = inp.new

        def gain(jl: int) -> float:
            j = new[jl]
            d = dem[indptr[j] : indptr[j + 1]]
            return float((w[d] * np.maximum(cur[d] - mins[indptr[j] : indptr[j + 1]], 0.0)).sum())

        def commit(jl: int) -> None:
            j = new[jl]
            d = dem[indptr[j] : indptr[j + 1]]
            np.minimum.at(cur, d, mins[indptr[j] : indptr[j + 1]])

        local, gains, evals = _greedy(len(new), kk, gain, commit, lazy=lazy)
        sites = new[np.asarray(local, dtype=np.int64)]
        return GreedySolution(
            sites=sites,
            gains=np.asarray(gains),
            objective=self.evaluate(sites),
            seconds=time.perf_counter() - t0,
            lazy=lazy,
            evaluations=evals,
        )

    def _mip(self) -> tuple[_Mip, sp.csr_matrix]:
        """The radius formulation (see :func:`_radius_rows`): columns y then z."""
        n_new = len(self._in.new)
        sets, row_cost, offset = _radius_rows(self._in, self._b)
        a = sets.tocoo()
        n_u = sets.shape[0]
        n_col = n_new + n_u
        mip = _Mip(
            cost=np.concatenate([np.zeros(n_new), row_cost]),
            lower=np.zeros(n_col),
            upper=np.concatenate([np.ones(n_new), np.full(n_u, np.inf)]),
            integer=np.concatenate([np.ones(n_new, bool), np.zeros(n_u, bool)]),
            row=np.concatenate([a.row, np.arange(n_u)]).astype(np.int64),
            col=np.concatenate([a.col, n_new + np.arange(n_u)]).astype(np.int64),
            val=np.ones(a.nnz + n_u),
            row_lower=np.ones(n_u),
            row_upper=np.full(n_u, np.inf),
            maximize=False,
            offset=offset,
        )
        _add_row(mip, np.arange(n_new), np.ones(n_new), self.k, self.k)
        return mip, sets

    def solve(
        self,
        method: Method = "exact",
        *,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        gap: float = DEFAULT_GAP,
        warm_start: bool = True,
        lazy: bool = True,
        verbose: bool = False,
    ) -> PMedian:
        problems = _Problems()
        self._check_run(method, time_limit, gap, problems)
        problems.raise_if_any()
        t0 = time.perf_counter()
        self.greedy = self.run_greedy(lazy=lazy)
        self.method = method
        if method == "greedy":
            self._set_result(self.greedy.sites)
            self.status, self.bound, self.gap = "greedy", math.nan, math.nan
            self.seconds = time.perf_counter() - t0
            return self
        mip, sets = self._mip()
        n_new = len(self._in.new)
        start = None
        if warm_start:
            y = np.zeros(n_new)
            y[np.searchsorted(self._in.new, self.greedy.sites)] = 1.0
            start = np.concatenate([y, 1.0 - np.minimum(sets @ y, 1.0)])
        res = _solve_mip(
            mip, time_limit=time_limit, gap=gap, start=start, verbose=verbose, presolve=False
        )
        self._finish(res, res.x[:n_new] if res.x is not None else None)
        self._set_result(self.sites if res.x is not None else self.greedy.sites)
        self.seconds = time.perf_counter() - t0
        return self

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(mean_minutes=self.mean_minutes, unserved=self.unserved)
        return out


# --- capacitated ----------------------------------------------------------------------


def _capacities(capacity: Any, m: int, problems: _Problems) -> FloatArray:
    try:
        c = np.asarray(capacity, dtype=np.float64)
    except (TypeError, ValueError):
        c = np.array(np.nan)
    if c.ndim == 0:
        c = np.full(m, float(c))
    if c.shape != (m,) or np.isnan(c).any() or (c <= 0).any():
        problems.add(
            "optimize.capacity",
            f"capacity must be a positive number or one per candidate ({m}), got "
            f"{np.asarray(capacity).shape if hasattr(capacity, '__len__') else capacity!r}",
            m=m,
        )
        return np.full(m, np.inf)
    return c


class _Capacitated(_Siting):
    """Shared by the capacitated models: pair variables, capacity rows, LP evaluation."""

    def __init__(self, inputs: _Inputs, capacity: FloatArray, **kw: Any) -> None:
        super().__init__(inputs, **kw)
        self.capacity = capacity
        self.flows = pd.DataFrame(columns=["demand", "candidate", "residents"])
        self.load: FloatArray = np.zeros(inputs.cost.n_candidates)

    # subclasses define the pairs (i, j, d), fallback per demand, objective coefficients
    def _pairs(self) -> tuple[IntArray, IntArray, FloatArray]:
        raise NotImplementedError

    def _fallback_cost(self) -> FloatArray | None:
        return None

    def _model(self, fixed_sites: IntArray | None) -> tuple[_Mip, IntArray, IntArray]:
        """Columns: y (new candidates), x (pairs), u (fallback; p-median only)."""
        inp = self._in
        w = self.weights
        n_new = len(inp.new)
        pi, pj, pd_ = self._pairs()
        local = np.full(inp.cost.n_candidates, -1, dtype=np.int64)
        local[inp.new] = np.arange(n_new)
        pl = local[pj]
        n_p = len(pi)
        fb = self._fallback_cost()
        dem = np.unique(pi)
        r_of = np.full(inp.cost.n_demand, -1, dtype=np.int64)
        r_of[dem] = np.arange(len(dem))
        n_d = len(dem)
        u_dem = dem[np.isfinite(fb[dem])] if fb is not None else np.zeros(0, np.int64)
        n_u = len(u_dem)
        x0, u0 = n_new, n_new + n_p
        n_col = n_new + n_p + n_u
        ar = np.arange(n_p)
        # assignment rows
        rows = [r_of[pi], r_of[u_dem]]
        cols = [x0 + ar, u0 + np.arange(n_u)]
        vals = [np.ones(n_p), np.ones(n_u)]
        if fb is None:  # coverage: Σ x ≤ 1
            rlo, rhi = np.full(n_d, -np.inf), np.ones(n_d)
        else:  # median: Σ x + u = 1
            rlo, rhi = np.ones(n_d), np.ones(n_d)
        # capacity rows, one per column with pairs
        cand_used = np.unique(pj)
        c_of = np.full(inp.cost.n_candidates, -1, dtype=np.int64)
        c_of[cand_used] = n_d + np.arange(len(cand_used))
        rows.append(c_of[pj])
        cols.append(x0 + ar)
        vals.append(w[pi])
        is_new = local[cand_used] >= 0
        cap = self.capacity[cand_used]
        rows.append(c_of[cand_used[is_new]])
        cols.append(local[cand_used[is_new]])
        vals.append(-cap[is_new])
        cap_hi = np.where(is_new, 0.0, cap)
        # linking rows x_ij ≤ y_j for new columns
        lk = np.flatnonzero(pl >= 0)
        base = n_d + len(cand_used)
        rows += [base + np.arange(len(lk)), base + np.arange(len(lk))]
        cols += [x0 + lk, pl[lk]]
        vals += [np.ones(len(lk)), -np.ones(len(lk))]
        row_lower = np.concatenate(
            [rlo, np.full(len(cand_used), -np.inf), np.full(len(lk), -np.inf)]
        )
        row_upper = np.concatenate([rhi, cap_hi, np.zeros(len(lk))])
        lower = np.zeros(n_col)
        upper = np.ones(n_col)
        integer = np.concatenate([np.ones(n_new, bool), np.zeros(n_p + n_u, bool)])
        if fixed_sites is not None:
            y = np.zeros(n_new)
            y[local[fixed_sites]] = 1.0
            lower[:n_new] = upper[:n_new] = y
            integer[:] = False
        if fb is None:
            cost = np.concatenate([np.zeros(n_new), w[pi], np.zeros(n_u)])
            offset = 0.0
        else:
            cost = np.concatenate([np.zeros(n_new), w[pi] * pd_, w[u_dem] * fb[u_dem]])
            no_pairs = np.ones(inp.cost.n_demand, dtype=bool)
            no_pairs[dem] = False
            no_pairs &= w > 0
            offset = float((w[no_pairs] * fb[no_pairs]).sum())
        mip = _Mip(
            cost=cost,
            lower=lower,
            upper=upper,
            integer=integer,
            row=np.concatenate(rows).astype(np.int64),
            col=np.concatenate(cols).astype(np.int64),
            val=np.concatenate(vals).astype(np.float64),
            row_lower=row_lower,
            row_upper=row_upper,
            maximize=self.maximize,
            offset=offset,
        )
        if fixed_sites is None:
            _add_row(mip, np.arange(n_new), np.ones(n_new), self.k, self.k)
        return mip, pi, pj

    def evaluate_sites(
        self, sites: ArrayLike, *, time_limit: float = DEFAULT_TIME_LIMIT_S
    ) -> tuple[float, _MipResult]:
        """The best assignment to ``sites`` (plus existing): an LP with the sites fixed."""
        s = np.asarray(sites, dtype=np.int64)
        mip, _, _ = self._model(s)
        res = _solve_mip(mip, time_limit=time_limit, gap=0.0)
        return res.objective, res

    def _set_flows(self, x: FloatArray, sites: IntArray) -> None:
        n_new = len(self._in.new)
        pi, pj, _ = self._pairs()
        xs = x[n_new : n_new + len(pi)]
        keep = xs > _FLOW_EPS
        res = self.weights[pi[keep]] * xs[keep]
        self.flows = pd.DataFrame({"demand": pi[keep], "candidate": pj[keep], "residents": res})
        self.load = np.bincount(pj[keep], weights=res, minlength=self._in.cost.n_candidates).astype(
            np.float64
        )
        self.sites = np.sort(sites)

    def _solve_cap(
        self,
        method: str,
        time_limit: float,
        gap: float,
        warm_start: bool,
        lazy: bool,
        verbose: bool,
    ) -> None:
        problems = _Problems()
        self._check_run(method, time_limit, gap, problems)
        problems.raise_if_any()
        t0 = time.perf_counter()
        self.method = method
        tg = time.perf_counter()
        sites = self._greedy_sites(lazy)
        obj, res_g = self.evaluate_sites(sites, time_limit=time_limit)
        self.greedy = GreedySolution(
            sites=sites,
            gains=np.zeros(len(sites)),
            objective=obj,
            seconds=time.perf_counter() - tg,
            lazy=lazy,
        )
        if method == "greedy":
            self.status = "greedy" if res_g.x is not None else res_g.status
            if res_g.x is not None:
                self._set_flows(res_g.x, sites)
                self.objective = obj
            self.bound = self.gap = math.nan
            self.seconds = time.perf_counter() - t0
            return
        mip, _, _ = self._model(None)
        start = None
        if warm_start and res_g.x is not None:
            start = res_g.x.copy()
        res = _solve_mip(mip, time_limit=time_limit, gap=gap, start=start, verbose=verbose)
        n_new = len(self._in.new)
        self._finish(res, res.x[:n_new] if res.x is not None else None)
        if res.x is not None:
            # re-evaluate the rounded sites exactly (removes integrality-tolerance noise)
            obj, res_f = self.evaluate_sites(self.sites, time_limit=time_limit)
            if res_f.x is not None:
                self._set_flows(res_f.x, self.sites)
                self.objective = obj
        else:
            self.objective = math.nan
        self.seconds = time.perf_counter() - t0

    def _greedy_sites(self, lazy: bool) -> IntArray:
        raise NotImplementedError


class CapacitatedMCLP(_Capacitated):
    """Maximal covering with capacities: a site serves at most ``capacity`` residents within T.

    Residents of a demand point may split between sites (fractional
    assignment; see the module doc).  Existing columns are open with their
    capacity; demand already within T of a ``baseline_minutes`` facility is
    covered and left out.  Results: ``sites``, ``objective`` (residents
    served within T by the matrix's sites, existing ones included),
    ``covered`` (plus the baseline-covered), ``coverage``, ``flows``
    (demand, candidate, residents), ``load`` (residents per candidate),
    ``bound``, ``gap``, ``seconds``, ``status``, ``greedy``.

    Greedy: add the site with the most residual residents within T, capped
    by its capacity, serving them nearest first (lazy evaluation is exact:
    the capped gains only shrink); the greedy sites are then assigned
    optimally by an LP.
    """

    kind = "capacitated_mclp"

    def __init__(
        self, inputs: _Inputs, threshold_min: float, capacity: FloatArray, **kw: Any
    ) -> None:
        super().__init__(inputs, capacity, **kw)
        self.threshold_min = float(threshold_min)
        self._covered0 = inputs.user_base <= self.threshold_min
        self.covered = math.nan
        self.coverage = math.nan

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        threshold_min: float,
        k: int,
        capacity: float | ArrayLike,
        *,
        existing: ArrayLike | None = None,
        baseline_minutes: ArrayLike | None = None,
        name: str | None = None,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
    ) -> CapacitatedMCLP:
        problems = _Problems()
        inp = _inputs(cost_matrix, weights, k, existing, baseline_minutes, problems)
        _threshold(threshold_min, inp.cost.max_minutes if inp else None, problems)
        cap = _capacities(capacity, inp.cost.n_candidates if inp else 0, problems)
        problems.raise_if_any()
        assert inp is not None
        return cls(inp, threshold_min, cap, name=name, demand=demand, candidates=candidates)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        threshold_min: float,
        capacity: float,
        *,
        model: TravelTimeModel | None = None,
        existing_xy: ArrayLike | None = None,
        max_demand: int | None = DEFAULT_MAX_DEMAND,
        exclusions: Any = None,
    ) -> CapacitatedMCLP:
        demand, cand, cm, ex = _from_surface_common(
            surface, candidates, model, existing_xy, threshold_min, max_demand, exclusions
        )
        return cls.from_cost_matrix(
            cm,
            demand.weights,
            threshold_min,
            k,
            capacity,
            existing=ex,
            demand=demand,
            candidates=cand,
        )

    def _pairs(self) -> tuple[IntArray, IntArray, FloatArray]:
        if "pairs" not in self.__dict__:
            cm = self._in.cost
            keep = (cm.minutes <= self.threshold_min) & ~self._covered0[cm.demand]
            keep &= self.weights[cm.demand] > 0
            self.__dict__["pairs"] = (
                cm.demand[keep].astype(np.int64),
                cm.candidate[keep].astype(np.int64),
                cm.minutes[keep],
            )
        out: tuple[IntArray, IntArray, FloatArray] = self.__dict__["pairs"]
        return out

    def _greedy_sites(self, lazy: bool) -> IntArray:
        inp = self._in
        pi, pj, pd_ = self._pairs()
        order = np.lexsort((pd_, pj))
        pi, pj, pd_ = pi[order], pj[order], pd_[order]
        m = inp.cost.n_candidates
        indptr = np.searchsorted(pj, np.arange(m + 1)).astype(np.int64)
        resid = self.weights.copy()

        def serve(j: int) -> None:
            d = pi[indptr[j] : indptr[j + 1]]
            left = self.capacity[j]
            for i in d:  # nearest first
                if left <= 0:
                    break
                take = min(left, resid[i])
                resid[i] -= take
                left -= take

        for j in inp.existing:
            serve(int(j))
        new = inp.new

        def gain(jl: int) -> float:
            j = new[jl]
            return float(min(self.capacity[j], resid[pi[indptr[j] : indptr[j + 1]]].sum()))

        local, _, _ = _greedy(len(new), self.k, gain, lambda jl: serve(int(new[jl])), lazy=lazy)
        return np.asarray(new[np.asarray(local, dtype=np.int64)], dtype=np.int64)

    def _set_coverage(self) -> None:
        base = float(self.weights[self._covered0].sum())
        self.covered = base + (self.objective if math.isfinite(self.objective) else 0.0)
        self.coverage = self.covered / self.total_weight

    def solve(
        self,
        method: Method = "exact",
        *,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        gap: float = DEFAULT_GAP,
        warm_start: bool = True,
        lazy: bool = True,
        verbose: bool = False,
    ) -> CapacitatedMCLP:
        self._solve_cap(method, time_limit, gap, warm_start, lazy, verbose)
        self._set_coverage()
        return self

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(covered=self.covered, coverage=self.coverage, threshold_min=self.threshold_min)
        return out


class CapacitatedPMedian(_Capacitated):
    """p-median with capacities: a site serves at most ``capacity`` residents.

    Fractional assignment (see the module doc); existing columns are open
    with their capacity; ``baseline_minutes`` and ``unreachable_minutes``
    are uncapacitated fallbacks.  Without a fallback (complete matrix, no
    baseline) too little capacity makes the problem ``infeasible``.
    Results as :class:`PMedian` plus ``flows`` and ``load``.

    Greedy (a heuristic): add the site whose capacity-capped saving
    (fractional knapsack of Σ residents × minutes saved against the current
    nearest open site) is largest; the sites are then assigned optimally by
    an LP.
    """

    kind = "capacitated_p_median"
    maximize = False

    def __init__(
        self,
        inputs: _Inputs,
        capacity: FloatArray,
        unreachable_minutes: float | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(inputs, capacity, **kw)
        self.unreachable_minutes = unreachable_minutes
        self._b = _fallback(inputs, unreachable_minutes, inputs.user_base)
        self.mean_minutes = math.nan

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        k: int,
        capacity: float | ArrayLike,
        *,
        existing: ArrayLike | None = None,
        baseline_minutes: ArrayLike | None = None,
        max_minutes: float | None = None,
        unreachable_minutes: float | None = None,
        name: str | None = None,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
    ) -> CapacitatedPMedian:
        problems = _Problems()
        inp = _inputs(cost_matrix, weights, k, existing, baseline_minutes, problems, max_minutes)
        cap = _capacities(capacity, inp.cost.n_candidates if inp else 0, problems)
        if unreachable_minutes is not None:
            problems.number("unreachable_minutes", unreachable_minutes, code="optimize.unreachable")
        if inp is not None and not problems:
            b = _fallback(inp, unreachable_minutes, inp.user_base)
            has = np.zeros(inp.cost.n_demand, dtype=bool)
            has[inp.cost.demand] = True
            stuck = int(np.count_nonzero(~np.isfinite(b) & ~has & (inp.weights > 0)))
            if stuck:
                problems.add(
                    "optimize.unreachable_demand",
                    f"{stuck} demand point(s) reach no candidate: give unreachable_minutes",
                    n=stuck,
                )
        problems.raise_if_any()
        assert inp is not None
        return cls(inp, cap, unreachable_minutes, name=name, demand=demand, candidates=candidates)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        capacity: float,
        *,
        max_minutes: float = 60.0,
        model: TravelTimeModel | None = None,
        existing_xy: ArrayLike | None = None,
        max_demand: int | None = DEFAULT_MAX_DEMAND,
        exclusions: Any = None,
        unreachable_minutes: float | None = None,
    ) -> CapacitatedPMedian:
        demand, cand, cm, ex = _from_surface_common(
            surface, candidates, model, existing_xy, max_minutes, max_demand, exclusions
        )
        return cls.from_cost_matrix(
            cm,
            demand.weights,
            k,
            capacity,
            existing=ex,
            unreachable_minutes=unreachable_minutes,
            demand=demand,
            candidates=cand,
        )

    def _fallback_cost(self) -> FloatArray | None:
        return self._b

    def _pairs(self) -> tuple[IntArray, IntArray, FloatArray]:
        if "pairs" not in self.__dict__:
            cm = self._in.cost
            keep = (cm.minutes < self._b[cm.demand]) & (self.weights[cm.demand] > 0)
            self.__dict__["pairs"] = (
                cm.demand[keep].astype(np.int64),
                cm.candidate[keep].astype(np.int64),
                cm.minutes[keep],
            )
        out: tuple[IntArray, IntArray, FloatArray] = self.__dict__["pairs"]
        return out

    def _greedy_sites(self, lazy: bool) -> IntArray:
        inp = self._in
        pi, pj, pd_ = self._pairs()
        order = np.argsort(pj, kind="stable")
        pi, pj, pd_ = pi[order], pj[order], pd_[order]
        m = inp.cost.n_candidates
        indptr = np.searchsorted(pj, np.arange(m + 1)).astype(np.int64)
        finite = self._b[np.isfinite(self._b)]
        big = max(
            float(pd_.max()) if len(pd_) else 0.0, float(finite.max()) if len(finite) else 0.0
        )
        cur = np.where(np.isfinite(self._b), self._b, big + 1.0)
        w = self.weights

        def open_(j: int) -> None:
            d = pi[indptr[j] : indptr[j + 1]]
            np.minimum.at(cur, d, pd_[indptr[j] : indptr[j + 1]])

        for j in inp.existing:
            open_(int(j))
        new = inp.new

        def gain(jl: int) -> float:
            j = new[jl]
            d = pi[indptr[j] : indptr[j + 1]]
            save = np.maximum(cur[d] - pd_[indptr[j] : indptr[j + 1]], 0.0)
            o = np.argsort(-save, kind="stable")
            amount = w[d][o]
            before = np.concatenate([[0.0], np.cumsum(amount)[:-1]])
            take = np.clip(self.capacity[j] - before, 0.0, amount)
            return float((take * save[o]).sum())

        local, _, _ = _greedy(len(new), self.k, gain, lambda jl: open_(int(new[jl])), lazy=lazy)
        return np.asarray(new[np.asarray(local, dtype=np.int64)], dtype=np.int64)

    def solve(
        self,
        method: Method = "exact",
        *,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        gap: float = DEFAULT_GAP,
        warm_start: bool = True,
        lazy: bool = True,
        verbose: bool = False,
    ) -> CapacitatedPMedian:
        self._solve_cap(method, time_limit, gap, warm_start, lazy, verbose)
        self.mean_minutes = self.objective / self.total_weight
        return self

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(mean_minutes=self.mean_minutes)
        return out


# --- k-means ----------------------------------------------------------------------------


class KMeansSiting:
    """Population-weighted k-means centres snapped to distinct candidates.

    scikit-learn's ``KMeans`` with ``sample_weight`` (``n_init`` seeded
    restarts, ``random_state=seed``: deterministic) on the demand points;
    centres are taken in order of their cluster's residents and each snaps
    to the nearest candidate not yet taken, so the ``k`` sites are distinct.
    No travel times: a quick geometric baseline.  Results: ``sites``,
    ``centres`` (metric), ``labels`` (cluster of each demand point),
    ``cluster_weight``, ``objective`` (residents × straight-line metres to
    the nearest chosen site), ``inertia`` (k-means' weighted squared
    distances to the centres), ``seconds``, ``status`` (``heuristic``).
    """

    kind = "kmeans"

    def __init__(
        self,
        demand_xy: FloatArray,
        weights: FloatArray,
        candidates_xy: FloatArray,
        k: int,
        *,
        seed: int = 0,
        n_init: int = 4,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
    ) -> None:
        self.demand_xy = demand_xy
        self.weights = weights
        self.candidates_xy = candidates_xy
        self.k = k
        self.seed = seed
        self.n_init = n_init
        self.demand = demand
        self.candidates = candidates
        self.sites: IntArray = np.zeros(0, dtype=np.int64)
        self.centres: FloatArray = np.zeros((0, 2))
        self.labels: IntArray = np.zeros(0, dtype=np.int64)
        self.cluster_weight: FloatArray = np.zeros(0)
        self.objective = math.nan
        self.inertia = math.nan
        self.seconds = math.nan
        self.status = "not_solved"
        self.gap = math.nan

    @classmethod
    def from_points(
        cls,
        demand_xy: ArrayLike,
        weights: ArrayLike,
        candidates_xy: ArrayLike,
        k: int,
        *,
        seed: int = 0,
        n_init: int = 4,
    ) -> KMeansSiting:
        problems = _Problems()
        d = _xy("demand_xy", demand_xy, problems)
        c = _xy("candidates_xy", candidates_xy, problems)
        w = _weights(weights, len(d), problems)
        problems.integer(
            "k", k, 1, max(1, min(len(c), int(np.count_nonzero(w > 0)))), code="optimize.k"
        )
        problems.integer("n_init", n_init, 1, 1000)
        problems.raise_if_any()
        return cls(d, w, c, k, seed=seed, n_init=n_init)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        *,
        seed: int = 0,
        n_init: int = 4,
        max_demand: int | None = DEFAULT_MAX_DEMAND,
        exclusions: Any = None,
    ) -> KMeansSiting:
        if exclusions is not None:
            candidates = candidates.excluding(exclusions)
        demand = demand_points(surface, max_demand)
        out = cls.from_points(demand.xy, demand.weights, candidates.xy, k, seed=seed, n_init=n_init)
        out.demand, out.candidates = demand, candidates
        return out

    def solve(self) -> KMeansSiting:
        from sklearn.cluster import KMeans

        t0 = time.perf_counter()
        pos = self.weights > 0
        xy, w = self.demand_xy[pos], self.weights[pos]
        origin = xy.mean(axis=0)
        km = KMeans(n_clusters=self.k, n_init=self.n_init, random_state=self.seed)
        km.fit(xy - origin, sample_weight=w)
        centres = km.cluster_centers_ + origin
        labels_pos = km.labels_.astype(np.int64)
        cw = np.bincount(labels_pos, weights=w, minlength=self.k)
        tree = cKDTree(self.candidates_xy)
        nq = min(len(self.candidates_xy), self.k)
        taken = np.zeros(len(self.candidates_xy), dtype=bool)
        sites = np.full(self.k, -1, dtype=np.int64)
        for ci in np.lexsort((np.arange(self.k), -cw)):
            _, idx = tree.query(centres[ci], k=nq)
            for j in np.atleast_1d(idx):
                if not taken[j]:
                    taken[j] = True
                    sites[ci] = int(j)
                    break
        self.centres = centres
        self.labels = np.full(len(self.weights), -1, dtype=np.int64)
        self.labels[pos] = labels_pos
        self.cluster_weight = cw.astype(np.float64)
        self.sites = sites
        self.inertia = float(km.inertia_)
        dist, _ = cKDTree(self.candidates_xy[sites]).query(self.demand_xy)
        self.objective = float((self.weights * dist).sum())
        self.status = "heuristic"
        self.seconds = time.perf_counter() - t0
        return self

    def sites_table(self) -> pd.DataFrame:
        """The chosen sites with their cluster's residents (see :meth:`MCLP.sites_table`)."""
        out = _sites_table(self.sites, self.candidates)
        out["cluster_residents"] = self.cluster_weight
        return out
