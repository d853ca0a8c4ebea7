"""Where to put sub-centres (次中心): facility-location models on a population surface.

Demand is the populated cells of a :class:`~gridplan.surface.grid.PopulationSurface`
(aggregated to at most ``max_points`` blocks, :func:`demand_points`);
candidates are sites (:class:`Candidates`: facility rows to upgrade, a user
list, or a grid over the populated cells, minus exclusion areas); the cost is
the travel minutes of every demand × candidate pair (:class:`CostMatrix`).

Problems (spopt-like: ``from_cost_matrix(...)`` / ``from_surface(...)``,
``solve(...)`` returns the problem, results are attributes; the keyword options
they share are documented once, in :mod:`gridplan.siting.options`):

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
warm-started with the greedy solution (the MCLP by LP probing first, see
below).  Results: ``sites`` (candidate indices), ``objective``, ``bound``
(HiGHS's dual bound, or the probing's bound of every excluded part), ``gap`` (HiGHS's
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
e.g. :attr:`gridplan.access.coverage.CoverageIndex.minutes`); in the uncapacitated
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
build in ~0.1 s.  The exact MCLP is solved by LP probing by default
(:mod:`gridplan.siting.mclp_probe`: reduced-cost fixing, then ``y_j = 1``
probes that fix sites, the MIP only on what is left; ``probe=False``: the
warm-started HiGHS MIP alone).  On that Shijiazhuang instance (``benchmarks/
bench_optimize.py``, k = 10, gap 0.1 %, measured on a shared 2-core machine
under a load of 10–14, so several times slower than a quiet one) probing
takes 1.0 s (e-bike 15 min; MIP alone 1.2 s), 1.4 s (drive 10 min; MIP alone
16.6 s) and 45–76 s (drive 15 min: ~118 LP solves, a proven 0.09 % gap; the
MIP alone stopped at its 120 s limit with a 0.35–0.77 % gap, and takes ~16 s
on a quiet machine); walking 15 min (trivial) 0.5 s against 0.3 s; greedy
~0.02 s.
p-median needs all pairs or a cutoff with the penalty above (5,000 × 500
within 30 min driving: ~5 s).  Partial set covering with a hundred or more
sites, and the capacitated models beyond a few thousand demand points × a
few hundred candidates, may stop at the time limit: the answer then comes
with its ``gap`` (status ``time_limit``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gridplan._types import FloatArray, IntArray
from gridplan._validate import Problems
from gridplan.errors import InputError
from gridplan.siting._checks import _capacities, _threshold, _weights, _xy, siting_problems
from gridplan.siting.costs import CostMatrix, cost_matrix_model
from gridplan.siting.demand import DEFAULT_MAX_DEMAND, Candidates, Demand, demand_points
from gridplan.siting.options import (
    DEFAULT_CUTOFF_MIN,
    CutoffOptions,
    CutoffSurface,
    DemandOptions,
    MatrixOptions,
    Run,
    SolveOptions,
    SurfaceOptions,
    check_keys,
)
from gridplan.solvers.budget import Deadline
from gridplan.solvers.greedy import GreedySolution
from gridplan.solvers.highs import Mip, MipResult, solve_mip
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.straight import StraightLineModel

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

    def local(self) -> IntArray:
        """Per candidate column, its index among the new candidates (-1: an existing one)."""
        out = np.full(self.cost.n_candidates, -1, dtype=np.int64)
        out[self.new] = np.arange(len(self.new))
        return out


def _existing(existing: ArrayLike | None, m: int, problems: Problems) -> IntArray:
    """The existing facilities' columns: indices or a boolean mask over the ``m`` candidates."""
    if existing is None:
        return np.zeros(0, dtype=np.int64)
    raw = np.asarray(existing)
    if raw.dtype == bool and raw.ndim == 1 and len(raw) == m:
        return np.flatnonzero(raw)
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    if raw.dtype.kind not in "iu" or raw.ndim != 1:
        problems.add(
            "optimize.existing",
            "existing must be candidate indices or a boolean mask over the candidates",
            n=int(raw.size),
            m=m,
        )
        return np.zeros(0, dtype=np.int64)
    ex = raw.astype(np.int64)
    if ((ex < 0) | (ex >= m)).any() or len(np.unique(ex)) != len(ex):
        problems.add(
            "optimize.existing",
            f"existing: indices must be distinct and in 0..{m - 1}",
            n=int(raw.size),
            m=m,
        )
    return ex


def _baseline(baseline_minutes: ArrayLike | None, n: int, problems: Problems) -> FloatArray:
    """Per demand point, minutes to the nearest existing facility outside the matrix."""
    if baseline_minutes is None:
        return np.full(n, np.inf)
    b = np.asarray(baseline_minutes, dtype=np.float64)
    if b.shape != (n,):
        problems.add(
            "optimize.baseline",
            f"baseline_minutes has shape {b.shape}, expected ({n},)",
            shape=tuple(b.shape),
            expected=n,
        )
    elif np.any(b < 0) or np.isnan(b).any():
        problems.add(
            "optimize.baseline",
            "baseline_minutes must be 0 or more (inf: no facility reachable)",
            shape=tuple(b.shape),
            expected=n,
        )
    else:
        return b.copy()
    return np.full(n, np.inf)


def _inputs(
    cost: Any, weights: ArrayLike, k: int | None, options: Mapping[str, Any], problems: Problems
) -> _Inputs | None:
    """The checked inputs of a location model (None after problems, all in ``problems``).

    ``options``: those of ``from_cost_matrix`` (:class:`~gridplan.siting.options.CutoffOptions`).
    """
    cm: CostMatrix | None = None
    try:
        cm = CostMatrix.coerce(cost, options.get("max_minutes"))
    except InputError as err:
        if err.code != "optimize.invalid":
            raise
        problems.merge(err)  # reported with the other inputs' problems
    n = cm.n_demand if cm is not None else None
    if n is None and len(getattr(cost, "shape", ())) == 2:
        n = int(cost.shape[0])  # the matrix is unusable, but its shape is known
    w = _weights(weights, n, problems)
    m = cm.n_candidates if cm is not None else 0
    ex = _existing(options.get("existing"), m, problems)
    ub = _baseline(options.get("baseline_minutes"), len(w), problems)
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


def _start_minutes(fallback: FloatArray, pair_max: float) -> FloatArray:
    """Minutes each demand point starts from in a savings greedy: its fallback, or, when it
    has none, one minute more than any time, so that reaching people comes first."""
    finite = fallback[np.isfinite(fallback)]
    big = max(pair_max, float(finite.max()) if len(finite) else 0.0)
    return np.where(np.isfinite(fallback), fallback, big + 1.0)


def _unreachable(
    inp: _Inputs, fallback: FloatArray, paired: NDArray[np.integer[Any]], problems: Problems
) -> int:
    """The demand points with weight that have neither a pair (``paired``: the demand rows of
    the pairs that count) nor a finite ``fallback``; an ``optimize.unreachable_demand``
    problem when there are any.  Returns how many."""
    has = np.zeros(inp.cost.n_demand, dtype=bool)
    has[paired] = True
    stuck = ~np.isfinite(fallback) & ~has & (inp.weights > 0)
    text = "{n} demand point(s) reach no candidate: give unreachable_minutes"
    return problems.count("optimize.unreachable_demand", stuck, text)


def _check_threshold(value: Any, inp: _Inputs | None, problems: Problems) -> Any:
    _threshold(value, inp.cost.max_minutes if inp else None, problems)
    return value


def _check_target(value: Any, inp: _Inputs | None, problems: Problems) -> Any:
    problems.number("target", value, high=1.0, code="optimize.target")
    return value


def _check_capacity(value: Any, inp: _Inputs | None, problems: Problems) -> FloatArray:
    return _capacities(value, inp.cost.n_candidates if inp else 0, problems)


def _check_unreachable(value: Any, inp: _Inputs | None, problems: Problems) -> Any:
    if value is not None:
        problems.number("unreachable_minutes", value, code="optimize.unreachable")
    return value


#: The check of each model argument, whichever model takes it: ``(value, the inputs (None
#: when unusable), problems)`` → the value the model is built with (a capacity becomes one
#: per candidate).
_ARG_CHECKS: dict[str, Callable[[Any, _Inputs | None, Problems], Any]] = {
    "threshold_min": _check_threshold,
    "target": _check_target,
    "capacity": _check_capacity,
    "unreachable_minutes": _check_unreachable,
}


class _Siting:
    """Shared state and results of every siting problem."""

    maximize: ClassVar[bool] = True
    kind: ClassVar[str] = ""
    #: The options of ``from_cost_matrix`` (checked by :func:`~gridplan.siting.options.check_keys`).
    _matrix_options: ClassVar[type] = MatrixOptions

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

    # the spopt-style constructors' shared bodies
    @classmethod
    def _from_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        k: int | None,
        options: Mapping[str, Any],
        **args: Any,
    ) -> Self:
        """The body of every ``from_cost_matrix``.

        The matrix, ``weights``, ``k`` (None: the model has none), the
        ``options`` and the model's own ``args`` (each by its check in
        :data:`_ARG_CHECKS`) are checked together: one ``optimize.invalid``
        error lists every problem.  The model is built on the checked inputs,
        its ``args`` as checked and the labels among the ``options``.
        """
        check_keys(f"{cls.__name__}.from_cost_matrix", options, cls._matrix_options)
        problems = siting_problems()
        inp = _inputs(cost_matrix, weights, k, options, problems)
        checked = {name: _ARG_CHECKS[name](value, inp, problems) for name, value in args.items()}
        if inp is not None and not problems:
            cls._check_model(inp, checked, problems)
        problems.raise_if_any()
        assert inp is not None
        labels = {key: options.get(key) for key in ("name", "demand", "candidates")}
        return cls(inp, **checked, **labels)

    @classmethod
    def _check_model(cls, inp: _Inputs, args: dict[str, Any], problems: Problems) -> None:
        """The model's own checks of usable inputs and ``args`` (none but for the p-medians)."""

    @classmethod
    def _surface_matrix(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        cutoff: float | None,
        options: SurfaceOptions,
    ) -> tuple[CostMatrix, FloatArray, MatrixOptions]:
        """The shared part of every ``from_surface``: the matrix of pairs within ``cutoff``
        minutes, the demand weights and the options ``from_cost_matrix`` takes with them."""
        check_keys(f"{cls.__name__}.from_surface", options, SurfaceOptions)
        return _matrix_on_surface(surface, candidates, cutoff, options)

    @classmethod
    def _cutoff_matrix(
        cls, surface: PopulationSurface, candidates: Candidates, options: CutoffSurface
    ) -> tuple[CostMatrix, FloatArray, CutoffOptions]:
        """:meth:`_surface_matrix` of the p-median models: the cutoff is the options'
        ``max_minutes``, their ``unreachable_minutes`` passes on."""
        cutoff = options.pop("max_minutes", DEFAULT_CUTOFF_MIN)
        unreachable = options.pop("unreachable_minutes", None)
        cm, weights, found = cls._surface_matrix(surface, candidates, cutoff, options)
        return cm, weights, CutoffOptions(**found, unreachable_minutes=unreachable)

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

    def _begin(self, method: str, options: SolveOptions) -> tuple[Run, float]:
        """The solve's settings, checked (one error listing every problem); the start time."""
        check_keys(f"{type(self).__name__}.solve", options, SolveOptions)
        run = Run(method, **options)
        problems = siting_problems()
        if method not in ("exact", "greedy"):
            problems.add(
                "optimize.method",
                f"method must be exact or greedy, got {method!r}",
                value=method,
                allowed=["exact", "greedy"],
            )
        problems.number("time_limit", run.time_limit, code="optimize.time_limit", allow_inf=True)
        problems.number("gap", run.gap, low_inclusive=True, high=1.0, code="optimize.gap")
        problems.raise_if_any()
        self.method = method
        return run, time.perf_counter()

    def _greedy_answer(
        self, run: GreedySolution, t0: float, objective: Callable[[IntArray], float]
    ) -> GreedySolution:
        """``run`` (over the new candidates) with candidate columns as sites, their
        ``objective`` and the wall time since ``t0``."""
        sites = self._in.new[run.sites]
        return replace(
            run, sites=sites, objective=objective(sites), seconds=time.perf_counter() - t0
        )

    def _set_result(self, sites: IntArray) -> None:
        """Take ``sites`` as the answer and evaluate it (each model its own figures)."""
        raise NotImplementedError

    def _answer_greedy(self, sites: IntArray, t0: float) -> None:
        """The heuristic ``sites`` are the answer (no bound)."""
        self._set_result(sites)
        self.status, self.bound, self.gap = "greedy", math.nan, math.nan
        self.seconds = time.perf_counter() - t0

    def _answer_exact(
        self, mip: Mip, start: FloatArray | None, fallback: IntArray, t0: float, run: Run
    ) -> None:
        """Solve ``mip`` (site columns first) and take its sites, or ``fallback`` without any.

        The models solved here are in covering form, which HiGHS's presolve would turn
        back into the slow form (see the module doc): presolve is off.
        """
        res = solve_mip(
            mip,
            time_limit=run.time_limit,
            gap=run.gap,
            start=start,
            verbose=run.verbose,
            presolve=False,
            deadline=Deadline(run.time_limit, t0),  # the limit is the whole solve's
        )
        self._finish(res, res.x[: len(self._in.new)] if res.x is not None else None)
        self._set_result(self.sites if res.x is not None else fallback)
        self.seconds = time.perf_counter() - t0

    def _finish(self, res: MipResult, y: FloatArray | None) -> None:
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


def kept_candidates(candidates: Candidates, options: DemandOptions) -> Candidates:
    """The ``candidates`` outside the options' exclusion areas."""
    exclusions = options.get("exclusions")
    return candidates if exclusions is None else candidates.excluding(exclusions)


def surface_demand(surface: PopulationSurface, options: DemandOptions) -> Demand:
    """The demand points of ``surface``, aggregated as the options say."""
    return demand_points(surface, options.get("max_demand", DEFAULT_MAX_DEMAND))


def _matrix_on_surface(
    surface: PopulationSurface,
    candidates: Candidates,
    cutoff: float | None,
    options: SurfaceOptions,
) -> tuple[CostMatrix, FloatArray, MatrixOptions]:
    """The matrix of the demand points × the kept candidates (existing facilities appended),
    the demand weights, and the existing columns, demand and candidates as options."""
    problems = siting_problems()
    if candidates.crs != surface.grid.crs:
        problems.add(
            "optimize.crs",
            f"candidates are in {candidates.crs}, the surface in {surface.grid.crs}",
            crs=candidates.crs,
            expected=surface.grid.crs,
        )
    existing_xy = options.get("existing_xy")
    ex_xy = _xy("existing_xy", existing_xy if existing_xy is not None else [], problems)
    problems.raise_if_any()
    candidates = kept_candidates(candidates, options)
    if len(candidates) == 0:
        problems.add("optimize.no_candidates", "no candidate left (all excluded or none given)")
        problems.raise_if_any()
    demand = surface_demand(surface, options)
    xy = np.vstack([candidates.xy, ex_xy])
    model = options.get("model")
    m = model if model is not None else StraightLineModel()
    cm = cost_matrix_model(m, surface.grid, demand, xy, cutoff)
    existing = np.arange(len(candidates), len(xy), dtype=np.int64)
    return (
        cm,
        demand.weights,
        MatrixOptions(existing=existing, demand=demand, candidates=candidates),
    )
