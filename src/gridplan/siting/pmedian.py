"""p-median: Lagrangian bound and interchange, then the radius formulation on what is left.

An exact solve runs, within one time budget: greedy; the Lagrangian bound of
the assignment constraints with its k-site answers and a fast interchange
(:mod:`gridplan.solvers.pmedian_lagrange`), which usually proves the answer
within the gap already; otherwise the sites that no better answer can
contain are dropped (the bound with the site forced exceeds the incumbent)
and the radius MIP of the rest goes to HiGHS with the incumbent as its start
and what is left of the budget.  Dropping only sites no better answer uses
keeps the optimum exact.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, Unpack

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from gridplan._types import FloatArray, IntArray
from gridplan._validate import Problems
from gridplan.siting.cover import cover_start, covering_model
from gridplan.siting.demand import Candidates
from gridplan.siting.models import _fallback, _Inputs, _Siting, _start_minutes, _unreachable
from gridplan.siting.options import CutoffOptions, CutoffSurface, Method, Run, SolveOptions
from gridplan.solvers.budget import Deadline
from gridplan.solvers.greedy import GreedySolution, greedy
from gridplan.solvers.highs import Mip, solve_mip
from gridplan.solvers.pmedian_lagrange import (
    LagrangeBound,
    PairCosts,
    assign,
    fast_swap,
    fixed_by_bound,
    lagrangian_bound,
)
from gridplan.surface.grid import PopulationSurface

#: Above this many entries (before merging equal rows) the radius MIP is not built: the
#: Lagrangian bound goes on instead (building and solving it would not fit a planner's wait).
MAX_RADIUS_ENTRIES = 4_000_000


def _kept_pairs(inp: _Inputs, b: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    """The pairs that can matter: demand with weight, a new candidate (local index), minutes
    below the demand's fallback ``b``; as (demand, local candidate, minutes)."""
    cm = inp.cost
    w = inp.weights
    local = inp.local()
    keep = (cm.minutes < b[cm.demand]) & (local[cm.candidate] >= 0) & (w[cm.demand] > 0)
    return cm.demand[keep].astype(np.int64), local[cm.candidate[keep]], cm.minutes[keep]


def pair_costs(inp: _Inputs, b: FloatArray) -> PairCosts:
    """The weighted pair costs (residents × minutes) by new candidate, and the fallbacks."""
    d, c, m = _kept_pairs(inp, b)
    w = inp.weights
    order = np.lexsort((d, c))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=len(inp.new)))])
    fallback = np.where(w > 0, w * np.where(w > 0, b, 0.0), 0.0)
    return PairCosts(indptr.astype(np.int64), d[order], (w[d] * m)[order], fallback)


def radius_entries(inp: _Inputs, b: FloatArray, keep: IntArray) -> int:
    """Entries of the radius rows over the new candidates ``keep`` (before merging): a demand
    with ``l`` pairs has up to ``l`` rows of 1 … ``l`` entries."""
    d, c, _ = _kept_pairs(inp, b)
    mask = np.zeros(len(inp.new), dtype=bool)
    mask[keep] = True
    per = np.bincount(d[mask[c]], minlength=inp.cost.n_demand).astype(np.int64)
    return int((per * (per + 1) // 2).sum())


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
    d, c, m = _kept_pairs(inp, b)
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


def _gap(upper: float, bound: float) -> float:
    """The relative gap of a minimisation (0 when the bound meets the answer)."""
    if not math.isfinite(upper) or not math.isfinite(bound):
        return math.inf
    return max(0.0, upper - bound) / max(abs(upper), 1e-12)


def _share(deadline: Deadline, fraction: float) -> Deadline:
    """A deadline ``fraction`` of the way through ``deadline``'s budget (the same without one)."""
    if math.isinf(deadline.seconds):
        return deadline
    return Deadline(deadline.seconds * fraction, deadline.start)


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
    _matrix_options = CutoffOptions

    def __init__(self, inputs: _Inputs, unreachable_minutes: float | None = None, **kw: Any):
        super().__init__(inputs, **kw)
        self.unreachable_minutes = unreachable_minutes
        self._b = _fallback(inputs, unreachable_minutes, inputs.base)
        self.mean_minutes = math.nan
        self.unserved = math.nan
        self.assignment: IntArray = np.zeros(0, dtype=np.int64)

    @classmethod
    def from_cost_matrix(
        cls, cost_matrix: Any, weights: ArrayLike, k: int, **kw: Unpack[CutoffOptions]
    ) -> PMedian:
        """From a matrix and demand weights; keyword options:
        :class:`~gridplan.siting.options.CutoffOptions` (the cutoff and its penalty)."""
        unreachable = kw.pop("unreachable_minutes", None)
        return cls._from_matrix(cost_matrix, weights, k, kw, unreachable_minutes=unreachable)

    @classmethod
    def _check_model(cls, inp: _Inputs, args: dict[str, Any], problems: Problems) -> None:
        """Every resident reaches a new candidate or has a fallback (a facility or a penalty)."""
        b = _fallback(inp, args["unreachable_minutes"], inp.base)
        cm = inp.cost
        paired = cm.demand[~inp.is_existing[cm.candidate]]
        stuck = _unreachable(inp, b, paired, problems)
        if not stuck and inp.k == 0 and not np.isfinite(b[inp.weights > 0]).all():
            problems.add(
                "optimize.unreachable_demand",
                "with k = 0 some residents reach no facility: give unreachable_minutes",
                n=int(np.count_nonzero(~np.isfinite(b))),
            )

    @classmethod
    def from_surface(
        cls, surface: PopulationSurface, candidates: Candidates, k: int, **kw: Unpack[CutoffSurface]
    ) -> PMedian:
        """From a surface, with the pairs within ``max_minutes`` (the cutoff; see the module
        doc); keyword options: :class:`~gridplan.siting.options.CutoffSurface`."""
        cm, weights, found = cls._cutoff_matrix(surface, candidates, kw)
        return cls.from_cost_matrix(cm, weights, k, **found)

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
        cur = _start_minutes(self._b, float(cm.minutes.max()) if cm.n_pairs else 0.0)
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

        run = greedy(len(new), kk, gain, commit, lazy=lazy)
        return self._greedy_answer(run, t0, self.evaluate)

    def _mip(self) -> tuple[Mip, sp.csr_matrix]:
        """The radius formulation (see :func:`_radius_rows`): columns y then z."""
        sets, row_cost, offset = _radius_rows(self._in, self._b)
        model = covering_model(sets, site_cost=0.0, uncovered_cost=row_cost)
        model.cardinality(0, len(self._in.new), self.k)
        return model.build(maximize=False, offset=offset), sets

    def solve(self, method: Method = "exact", **kw: Unpack[SolveOptions]) -> PMedian:
        """Solve greedily or exactly; returns ``self``.  Keyword options:
        :class:`~gridplan.siting.options.SolveOptions`.

        ``exact``: greedy, the Lagrangian bound with interchange, and when
        their gap is above ``gap`` the radius MIP of the sites left (HiGHS,
        warm-started); ``time_limit`` bounds the whole solve (model building
        included).  ``bound`` is the best proven lower bound, ``gap`` the
        relative distance of ``objective`` to it.
        """
        run, t0 = self._begin(method, kw)
        deadline = Deadline(run.time_limit, t0)
        self.greedy = self.run_greedy(lazy=run.lazy)
        if method == "greedy":
            self._answer_greedy(self.greedy.sites, t0)
            return self
        pc = pair_costs(self._in, self._b)
        local = np.searchsorted(self._in.new, self.greedy.sites)
        lag = lagrangian_bound(pc, self.k, local, _share(deadline, 0.4), gap=run.gap)
        sites = fast_swap(pc, lag.sites, deadline)
        best, upper = sites, assign(pc, sites).total  # the swaps start from lag.sites
        bound, status = lag.bound, "optimal"
        if _gap(upper, bound) > run.gap:
            best, bound, status = self._refine(pc, lag, best, upper, deadline, run)
        self._set_result(self._in.new[best])
        self._report(bound, status, run.gap)
        self.seconds = time.perf_counter() - t0
        return self

    def _refine(
        self,
        pc: PairCosts,
        lag: LagrangeBound,
        best: IntArray,
        upper: float,
        deadline: Deadline,
        run: Run,
    ) -> tuple[IntArray, float, str]:
        """Close the gap left by the bound: the radius MIP over the sites no answer cheaper
        than ``upper`` can leave out of (or put in) consideration; or, when that model is too
        large, more Lagrangian steps from ``lag``.  Returns the answer, the bound and the
        status."""
        mu, bound = lag.mu, lag.bound
        out, into = fixed_by_bound(pc, self.k, mu, upper)
        keep = np.flatnonzero(~out)
        if radius_entries(self._in, self._b, keep) > MAX_RADIUS_ENTRIES:
            more = lagrangian_bound(pc, self.k, best, deadline, gap=run.gap, mu0=mu, max_iter=10**6)
            if more.upper < upper:
                best, upper = more.sites, more.upper
            bound = max(bound, more.bound)
            return best, bound, "optimal" if _gap(upper, bound) <= run.gap else "time_limit"
        sub = replace(self._in, new=self._in.new[keep])
        sets, row_cost, offset = _radius_rows(sub, self._b)
        model = covering_model(sets, site_cost=0.0, uncovered_cost=row_cost)
        model.cardinality(0, len(keep), self.k)
        mip = model.build(maximize=False, offset=offset)
        start = cover_start(sets, np.searchsorted(keep, best)) if run.warm_start else None
        res = solve_mip(
            mip,
            time_limit=run.time_limit,
            gap=run.gap,
            start=start,
            verbose=run.verbose,
            presolve=False,
            deadline=deadline,
            fixed=np.flatnonzero(into[keep]),
        )
        if res.x is not None:
            found = keep[np.flatnonzero(res.x[: len(keep)] > 0.5)]
            if assign(pc, found).total < upper:
                best, upper = np.sort(found), assign(pc, found).total
        if math.isfinite(res.bound):
            # an answer cheaper than ``upper`` keeps to ``keep``: the MIP's bound holds for it
            bound = max(bound, min(res.bound, upper))
        if res.status == "optimal":
            return best, max(bound, min(res.objective, upper)), "optimal"
        return best, bound, "optimal" if _gap(upper, bound) <= run.gap else "time_limit"

    def _report(self, bound: float, status: str, gap: float) -> None:
        """The proven ``bound`` against the evaluated objective (never above it), the gap
        and the status."""
        self.bound = min(bound, self.objective)
        self.gap = _gap(self.objective, self.bound)
        self.status = status if self.gap <= gap + 1e-9 or status != "optimal" else "time_limit"

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(mean_minutes=self.mean_minutes, unserved=self.unserved)
        return out
