"""Capacitated MCLP and p-median with fractional assignment."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import replace
from typing import Any, Unpack

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gridplan._types import FloatArray, IntArray
from gridplan._validate import Problems
from gridplan.siting.demand import _FLOW_EPS, Candidates
from gridplan.siting.models import (
    _fallback,
    _Inputs,
    _Siting,
    _start_minutes,
    _unreachable,
)
from gridplan.siting.options import (
    DEFAULT_TIME_LIMIT_S,
    CutoffOptions,
    CutoffSurface,
    MatrixOptions,
    Method,
    SolveOptions,
    SurfaceOptions,
)
from gridplan.solvers.greedy import GreedySolution, greedy
from gridplan.solvers.highs import Mip, MipResult, solve_mip
from gridplan.solvers.mip import MipBuilder
from gridplan.surface.grid import PopulationSurface

# --- capacitated ----------------------------------------------------------------------


class _Capacitated(_Siting):
    """Shared by the capacitated models: pair variables, capacity rows, LP evaluation."""

    def __init__(self, inputs: _Inputs, capacity: FloatArray, **kw: Any) -> None:
        super().__init__(inputs, **kw)
        self.capacity = capacity
        self.flows = pd.DataFrame(columns=["demand", "candidate", "residents"])
        self.load: FloatArray = np.zeros(inputs.cost.n_candidates)

    # subclasses define the pairs (i, j, d), fallback per demand, objective coefficients
    def _keep_pairs(self) -> NDArray[np.bool_]:
        """Which pairs of the cost matrix are assignment variables (each model its own)."""
        raise NotImplementedError

    @functools.cached_property
    def _pair_arrays(self) -> tuple[IntArray, IntArray, FloatArray]:
        cm = self._in.cost
        keep = self._keep_pairs()
        return (
            cm.demand[keep].astype(np.int64),
            cm.candidate[keep].astype(np.int64),
            cm.minutes[keep],
        )

    def _pairs(self) -> tuple[IntArray, IntArray, FloatArray]:
        """The assignment pairs: demand, candidate, minutes (computed once)."""
        return self._pair_arrays

    def _pairs_by_candidate(
        self, nearest_first: bool
    ) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
        """The pairs sorted by candidate (then by minutes with ``nearest_first``) and the
        start of each candidate's run (``indptr``, one more than the candidates)."""
        pi, pj, pd_ = self._pairs()
        order = np.lexsort((pd_, pj)) if nearest_first else np.argsort(pj, kind="stable")
        pi, pj, pd_ = pi[order], pj[order], pd_[order]
        indptr = np.searchsorted(pj, np.arange(self._in.cost.n_candidates + 1)).astype(np.int64)
        return pi, pj, pd_, indptr

    def _fallback_cost(self) -> FloatArray | None:
        return None

    def _model(self, fixed_sites: IntArray | None) -> Mip:
        """Columns y (new candidates), x (pairs), u (fallback; p-median only).

        Rows: one assignment row per demand point with pairs (``Σ_j x_ij ≤ 1``;
        p-median ``Σ_j x_ij + u_i = 1``), one capacity row per candidate with
        pairs (``Σ_i w_i x_ij ≤ C_j y_j``, or ``≤ C_j`` when it exists), the
        links ``x_ij ≤ y_j`` and ``Σ y_j = k``.  With ``fixed_sites`` the
        ``y`` are fixed to those sites (an LP: the best assignment to them).
        """
        inp = self._in
        w = self.weights
        n_new = len(inp.new)
        pi, pj, pd_ = self._pairs()
        local = inp.local()
        fb = self._fallback_cost()
        dem = np.unique(pi)
        u_dem = dem[np.isfinite(fb[dem])] if fb is not None else np.zeros(0, np.int64)
        model = MipBuilder()
        if fixed_sites is None:
            y = model.columns(n_new, integer=True)
        else:
            y_fixed = np.zeros(n_new)
            y_fixed[local[fixed_sites]] = 1.0
            y = model.columns(n_new, lower=y_fixed, upper=y_fixed)
        x = model.columns(len(pi), cost=w[pi] if fb is None else w[pi] * pd_)
        u = model.columns(len(u_dem), cost=0.0 if fb is None else w[u_dem] * fb[u_dem])
        # assignment rows; coverage: Σ x ≤ 1, median: Σ x + u = 1
        r_of = np.full(inp.cost.n_demand, -1, dtype=np.int64)
        r_of[dem] = np.arange(len(dem))
        x_all = x + np.arange(len(pi))
        model.rows(
            len(dem),
            -np.inf if fb is None else 1.0,
            1.0,
            (r_of[pi], x_all, 1.0),
            (r_of[u_dem], u + np.arange(len(u_dem)), 1.0),
        )
        # capacity rows, one per candidate with pairs
        cand_used = np.unique(pj)
        c_of = np.full(inp.cost.n_candidates, -1, dtype=np.int64)
        c_of[cand_used] = np.arange(len(cand_used))
        is_new = local[cand_used] >= 0
        cap = self.capacity[cand_used]
        model.rows(
            len(cand_used),
            -np.inf,
            np.where(is_new, 0.0, cap),
            (c_of[pj], x_all, w[pi]),
            (c_of[cand_used[is_new]], y + local[cand_used[is_new]], -cap[is_new]),
        )
        linked = np.flatnonzero(local[pj] >= 0)
        model.link_rows(x_all[linked], y + local[pj][linked])
        if fixed_sites is None:
            model.cardinality(y, n_new, self.k)
        offset = 0.0
        if fb is not None:
            no_pairs = np.ones(inp.cost.n_demand, dtype=bool)
            no_pairs[dem] = False
            no_pairs &= w > 0
            offset = float((w[no_pairs] * fb[no_pairs]).sum())
        return model.build(maximize=self.maximize, offset=offset)

    def evaluate_sites(
        self, sites: ArrayLike, *, time_limit: float = DEFAULT_TIME_LIMIT_S
    ) -> tuple[float, MipResult]:
        """The best assignment to ``sites`` (plus existing): an LP with the sites fixed."""
        s = np.asarray(sites, dtype=np.int64)
        res = solve_mip(self._model(s), time_limit=time_limit, gap=0.0)
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

    def _solve_cap(self, method: str, options: SolveOptions) -> None:
        """The solve of both capacitated models: greedy sites assigned by an LP, then the MIP."""
        run, t0 = self._begin(method, options)
        picked = self._greedy_run(run.lazy)
        sites = self._in.new[picked.sites]
        # the greedy's objective is that of the best assignment to its sites
        obj, res_g = self.evaluate_sites(sites, time_limit=run.time_limit)
        self.greedy = replace(picked, sites=sites, objective=obj, seconds=time.perf_counter() - t0)
        if method == "greedy":
            self.status = "greedy" if res_g.x is not None else res_g.status
            if res_g.x is not None:
                self._set_flows(res_g.x, sites)
                self.objective = obj
            self.bound = self.gap = math.nan
            self.seconds = time.perf_counter() - t0
            return
        mip = self._model(None)
        start = None
        if run.warm_start and res_g.x is not None:
            start = res_g.x.copy()
        res = solve_mip(
            mip, time_limit=run.time_limit, gap=run.gap, start=start, verbose=run.verbose
        )
        n_new = len(self._in.new)
        self._finish(res, res.x[:n_new] if res.x is not None else None)
        if res.x is not None:
            # re-evaluate the rounded sites exactly (removes integrality-tolerance noise)
            obj, res_f = self.evaluate_sites(self.sites, time_limit=run.time_limit)
            if res_f.x is not None:
                self._set_flows(res_f.x, self.sites)
                self.objective = obj
        else:
            self.objective = math.nan
        self.seconds = time.perf_counter() - t0

    def _greedy_run(self, lazy: bool) -> GreedySolution:
        """The greedy over the new candidates (local indices)."""
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

    # alike in every model on purpose: spopt-style signatures spell out the model's own parameters
    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        threshold_min: float,
        k: int,
        capacity: float | ArrayLike,
        **kw: Unpack[MatrixOptions],
    ) -> CapacitatedMCLP:
        """From a matrix and demand weights (keyword options: see :meth:`MCLP.from_cost_matrix`);
        ``capacity``: residents a site serves at most, one number or one per candidate."""
        args = {"threshold_min": threshold_min, "capacity": capacity}
        return cls._from_matrix(cost_matrix, weights, k, kw, **args)

    # alike in every model on purpose: spopt-style signatures spell out the model's own parameters
    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        threshold_min: float,
        capacity: float,
        **kw: Unpack[SurfaceOptions],
    ) -> CapacitatedMCLP:
        """From a surface (keyword options: see :meth:`MCLP.from_surface`)."""
        cm, weights, found = cls._surface_matrix(surface, candidates, threshold_min, kw)
        return cls.from_cost_matrix(cm, weights, threshold_min, k, capacity, **found)

    def _keep_pairs(self) -> NDArray[np.bool_]:
        cm = self._in.cost
        keep = (cm.minutes <= self.threshold_min) & ~self._covered0[cm.demand]
        return np.asarray(keep & (self.weights[cm.demand] > 0), dtype=bool)

    def _greedy_run(self, lazy: bool) -> GreedySolution:
        inp = self._in
        pi, _, _, indptr = self._pairs_by_candidate(nearest_first=True)
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

        return greedy(len(new), self.k, gain, lambda jl: serve(int(new[jl])), lazy=lazy)

    def _set_coverage(self) -> None:
        base = float(self.weights[self._covered0].sum())
        self.covered = base + (self.objective if math.isfinite(self.objective) else 0.0)
        self.coverage = self.covered / self.total_weight

    def solve(self, method: Method = "exact", **kw: Unpack[SolveOptions]) -> CapacitatedMCLP:
        """Solve greedily or exactly; returns ``self`` (options: see :meth:`PMedian.solve`)."""
        self._solve_cap(method, kw)
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
    _matrix_options = CutoffOptions

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
        **kw: Unpack[CutoffOptions],
    ) -> CapacitatedPMedian:
        """From a matrix and demand weights (keyword options: see :meth:`PMedian.from_cost_matrix`);
        ``capacity`` as in :meth:`CapacitatedMCLP.from_cost_matrix`."""
        args = {
            "capacity": capacity,
            "unreachable_minutes": kw.pop("unreachable_minutes", None),
        }
        return cls._from_matrix(cost_matrix, weights, k, kw, **args)

    @classmethod
    def _check_model(cls, inp: _Inputs, args: dict[str, Any], problems: Problems) -> None:
        """Every resident has a pair or a fallback (a facility or a penalty)."""
        b = _fallback(inp, args["unreachable_minutes"], inp.user_base)
        _unreachable(inp, b, inp.cost.demand, problems)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        capacity: float,
        **kw: Unpack[CutoffSurface],
    ) -> CapacitatedPMedian:
        """From a surface (keyword options: see :meth:`PMedian.from_surface`)."""
        cm, weights, found = cls._cutoff_matrix(surface, candidates, kw)
        return cls.from_cost_matrix(cm, weights, k, capacity, **found)

    def _fallback_cost(self) -> FloatArray | None:
        return self._b

    def _keep_pairs(self) -> NDArray[np.bool_]:
        cm = self._in.cost
        return np.asarray((cm.minutes < self._b[cm.demand]) & (self.weights[cm.demand] > 0))

    def _greedy_run(self, lazy: bool) -> GreedySolution:
        inp = self._in
        pi, _, pd_, indptr = self._pairs_by_candidate(nearest_first=False)
        cur = _start_minutes(self._b, float(pd_.max()) if len(pd_) else 0.0)
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

        return greedy(len(new), self.k, gain, lambda jl: open_(int(new[jl])), lazy=lazy)

    def solve(self, method: Method = "exact", **kw: Unpack[SolveOptions]) -> CapacitatedPMedian:
        """Solve greedily or exactly; returns ``self`` (options: see :meth:`PMedian.solve`)."""
        self._solve_cap(method, kw)
        self.mean_minutes = self.objective / self.total_weight
        return self

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(mean_minutes=self.mean_minutes)
        return out
