"""Maximal covering (MCLP) and the coverage-versus-k curve."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gridplan._types import FloatArray, IntArray
from gridplan.siting._checks import _Problems
from gridplan.siting.demand import DEFAULT_MAX_DEMAND, Candidates, Demand
from gridplan.siting.models import (
    DEFAULT_GAP,
    DEFAULT_TIME_LIMIT_S,
    Method,
    _from_surface_common,
    _Inputs,
    _inputs,
    _Siting,
    _threshold,
)
from gridplan.solvers.greedy import GreedySolution, _greedy
from gridplan.solvers.highs import Mip, solve_mip
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.base import TravelTimeModel

if TYPE_CHECKING:
    pass

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


def _cover_mip(cov: _Cover, n_new: int) -> tuple[Mip, int]:
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
        Mip(
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


def _add_row(mip: Mip, cols: IntArray, vals: FloatArray, lo: float, hi: float) -> None:
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
        res = solve_mip(
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
