"""The p-median on sparse pairs: Lagrangian bound, fast interchange, variable fixing.

The problem: demand ``i`` is charged the cost ``c_ij`` of the cheapest open
site ``j`` among its pairs, or its fallback ``f_i`` (an existing facility, or
the penalty beyond a cutoff; ``inf``: none) when that is cheaper; choose
``k`` sites minimising the total.  Costs are already weighted (residents ×
minutes).

* :func:`lagrangian_bound`: the assignment constraints ``Σ_j x_ij + u_i = 1``
  relaxed with multipliers ``μ_i`` (Beasley 1993): ``L(μ) = Σ_i μ_i +
  Σ_i min(0, f_i − μ_i) + (the k smallest ρ_j)``, ``ρ_j = Σ_i min(0, c_ij −
  μ_i)``, maximised by subgradient steps (Polyak's step length).  Every
  ``L(μ)`` is a lower bound; its best equals the LP bound, which for the
  p-median is usually within a fraction of a percent of the optimum.  The k
  sites of each ``L(μ)`` are also a feasible answer (an upper bound).
* :func:`fast_swap`: best-improvement interchange (Teitz & Bart 1968) with
  Whitaker's (1983) bookkeeping: the change of every (in, out) pair from
  one pass over the pairs.
* :func:`fixed_by_bound`: sites that cannot be in (or out of) any answer
  better than an incumbent, by the bound with the site forced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridplan._types import BoolArray, FloatArray, IntArray
from gridplan.solvers.budget import Deadline

__all__ = ["Assignment", "LagrangeBound", "PairCosts", "fast_swap", "fixed_by_bound"]


@dataclass
class PairCosts:
    """Weighted costs of the (demand, site) pairs, grouped by site.

    ``indptr`` (sites + 1) delimits each site's pairs in ``demand`` and
    ``cost``; ``fallback`` is each demand's cost without an open site among
    its pairs (``inf``: none).
    """

    indptr: IntArray
    demand: IntArray
    cost: FloatArray
    fallback: FloatArray

    @property
    def n_sites(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_demand(self) -> int:
        return len(self.fallback)

    def site_of_pair(self) -> IntArray:
        """The site of each pair."""
        return np.repeat(np.arange(self.n_sites, dtype=np.int64), np.diff(self.indptr))

    def pairs_of(self, sites: IntArray) -> IntArray:
        """The pair indices of ``sites``."""
        starts, ends = self.indptr[sites], self.indptr[sites + 1]
        sizes = ends - starts
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
        return np.arange(int(sizes.sum()), dtype=np.int64) + offsets


@dataclass
class Assignment:
    """Each demand's cheapest (``first``) and second cheapest (``second``) cost with
    ``sites`` open (the fallback counts as an option), and the position in ``sites``
    of the cheapest (``near``; -1: the fallback)."""

    sites: IntArray
    first: FloatArray
    second: FloatArray
    near: IntArray

    @property
    def total(self) -> float:
        return float(self.first.sum())


def assign(pc: PairCosts, sites: IntArray) -> Assignment:
    """The :class:`Assignment` of the demand to ``sites`` (and their fallbacks)."""
    sites = np.asarray(sites, dtype=np.int64)
    idx = pc.pairs_of(sites)
    pos = np.repeat(np.arange(len(sites), dtype=np.int64), np.diff(pc.indptr)[sites])
    d, c = pc.demand[idx], pc.cost[idx]
    order = np.lexsort((c, d))
    d, c, pos = d[order], c[order], pos[order]
    first = pc.fallback.copy()
    second = np.full(pc.n_demand, np.inf)
    near = np.full(pc.n_demand, -1, dtype=np.int64)
    head = np.concatenate([[True], d[1:] != d[:-1]]) if len(d) else np.zeros(0, dtype=bool)
    runner = np.concatenate([[False], head[:-1]]) & ~head if len(d) else head
    # the cheapest pair of a demand, and its runner-up, against the fallback
    better = c[head] < first[d[head]]
    second[d[head]] = np.where(better, first[d[head]], c[head])
    near[d[head][better]] = pos[head][better]
    first[d[head][better]] = c[head][better]
    run_d, run_c = d[runner], c[runner]
    second[run_d] = np.minimum(second[run_d], np.maximum(run_c, first[run_d]))
    return Assignment(sites, first, second, near)


def _k_smallest(values: FloatArray, k: int) -> IntArray:
    """The indices of the ``k`` smallest ``values`` (ties: lowest index), in increasing order."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(values)), values))
    return np.asarray(order[:k], dtype=np.int64)


@dataclass
class LagrangeBound:
    """What :func:`lagrangian_bound` found.

    ``bound``: the best ``L(μ)`` (a lower bound of the optimum), ``mu`` its
    multipliers, ``sites`` / ``upper``: the best answer met on the way and its
    cost, ``iterations`` the subgradient steps taken.
    """

    bound: float
    mu: FloatArray
    sites: IntArray
    upper: float
    iterations: int


def _reduced(pc: PairCosts, mu: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per pair ``min(0, c_ij − μ_i)`` and per site ``ρ_j``, their sum."""
    red = np.minimum(0.0, pc.cost - mu[pc.demand])
    rho = np.add.reduceat(red, pc.indptr[:-1]) if len(red) else np.zeros(pc.n_sites)
    rho[np.diff(pc.indptr) == 0] = 0.0  # reduceat repeats the next value for an empty site
    return red, rho


def _value(pc: PairCosts, mu: FloatArray, rho: FloatArray, top: IntArray) -> float:
    finite = np.isfinite(pc.fallback)
    fall = np.minimum(0.0, pc.fallback[finite] - mu[finite]).sum()
    return float(mu.sum() + fall + rho[top].sum())


def _start_mu(pc: PairCosts) -> FloatArray:
    """Multipliers to start from: each demand's fallback, or its dearest pair without one."""
    dearest = np.zeros(pc.n_demand)
    np.maximum.at(dearest, pc.demand, pc.cost)
    return np.where(np.isfinite(pc.fallback), pc.fallback, dearest)


def lagrangian_bound(
    pc: PairCosts,
    k: int,
    start: IntArray,
    deadline: Deadline,
    *,
    gap: float,
    max_iter: int = 2000,
    mu0: FloatArray | None = None,
) -> LagrangeBound:
    """Maximise ``L(μ)`` by subgradient steps from the answer ``start`` (an upper bound).

    Stops once the relative gap between the best answer and the best bound is
    at most ``gap``, the step length has shrunk to nothing, after
    ``max_iter`` steps, or at the ``deadline``.  The step is Polyak's,
    ``θ (upper − L) / ‖g‖²``, with ``θ`` halved after 10 steps without a
    better bound; every 10 steps the k sites of ``L(μ)`` are evaluated as an
    answer.  ``mu0``: multipliers to start from (default: :func:`_start_mu`).
    """
    best_sites = np.asarray(start, dtype=np.int64)
    upper = assign(pc, best_sites).total
    mu = _start_mu(pc) if mu0 is None else mu0.copy()
    best, best_mu = -math.inf, mu.copy()
    theta, stall, it = 1.0, 0, 0
    finite = np.isfinite(pc.fallback)
    for it in range(1, max_iter + 1):
        red, rho = _reduced(pc, mu)
        top = _k_smallest(rho, k)
        value = _value(pc, mu, rho, top)
        if value > best + 1e-12 * abs(value):
            best, best_mu, stall = value, mu.copy(), 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2.0, 0
        if it % 10 == 1:
            cost = assign(pc, top).total
            if cost < upper:
                upper, best_sites = cost, top
        if upper - best <= gap * abs(upper) or theta < 1e-6 or deadline.expired():
            break
        served = np.zeros(pc.n_demand)
        open_pairs = pc.pairs_of(top)
        took = open_pairs[red[open_pairs] < 0.0]
        np.add.at(served, pc.demand[took], 1.0)
        served += finite & (pc.fallback < mu)
        step = 1.0 - served
        norm = float(step @ step)
        if norm == 0.0:  # the relaxed answer is feasible: L(μ) is its cost, the optimum
            cost = assign(pc, top).total
            if cost < upper:
                upper, best_sites = cost, top
            break
        target = upper if math.isfinite(upper) else value + 0.1 * abs(value) + 1.0
        mu = mu + theta * max(target - value, 1e-9 * abs(target)) / norm * step
        mu = np.where(finite, np.minimum(mu, pc.fallback), mu)
    return LagrangeBound(min(best, upper), best_mu, np.sort(best_sites), upper, it)


def fixed_by_bound(
    pc: PairCosts, k: int, mu: FloatArray, upper: float
) -> tuple[BoolArray, BoolArray]:
    """Sites closed (``out``) or open (``in``) in every answer cheaper than ``upper``.

    ``L(μ)`` with site ``j`` forced open is ``L(μ) − ρ_(k) + ρ_j`` (it
    replaces the k-th smallest ``ρ``); forced closed, ``L(μ) − ρ_j +
    ρ_(k+1)``.  When that bound exceeds ``upper`` (by more than rounding),
    no answer cheaper than ``upper`` has the site open (closed).
    """
    _, rho = _reduced(pc, mu)
    n = pc.n_sites
    out = np.zeros(n, dtype=bool)
    into = np.zeros(n, dtype=bool)
    if k <= 0 or k >= n:
        return out, into
    order = np.lexsort((np.arange(n), rho))
    top = order[:k]
    value = _value(pc, mu, rho, top)
    slack = 1e-9 * abs(upper) + 1e-9
    kth, next_ = rho[order[k - 1]], rho[order[k]]
    chosen = np.zeros(n, dtype=bool)
    chosen[top] = True
    out = ~chosen & (value - kth + rho > upper + slack)
    into = chosen & (value - rho + next_ > upper + slack)
    return out, into


def _big(pc: PairCosts) -> float:
    """A cost above any answer serving every demand: stands for ``inf`` where a difference
    of costs is needed."""
    finite = pc.fallback[np.isfinite(pc.fallback)]
    top = max(float(pc.cost.max()) if len(pc.cost) else 0.0, float(finite.max(initial=0.0)))
    return (top + 1.0) * (pc.n_demand + 1)


def fast_swap(
    pc: PairCosts,
    sites: IntArray,
    deadline: Deadline,
    *,
    allowed: BoolArray | None = None,
    max_rounds: int = 200,
) -> IntArray:
    """Best-improvement interchange from ``sites`` until no swap lowers the cost.

    Per round, with each demand's cheapest and second cheapest open option
    (``d1``, ``d2``) and the site of the cheapest: the change of swapping
    ``c`` in for ``r`` is ``gain(c) − loss(r) + extra(c, r)`` (Whitaker
    1983), ``gain(c) = Σ_i max(0, d1_i − c_ic)``, ``loss(r) = Σ_{i near r}
    (d2_i − d1_i)``, ``extra(c, r) = Σ_{i near r, c_ic < d2_i} (d2_i −
    max(c_ic, d1_i))``: one pass over the pairs for all ``(c, r)``.
    ``allowed``: the sites that may come in (default all).
    """
    cur = np.asarray(sites, dtype=np.int64).copy()
    k, n = len(cur), pc.n_sites
    if k == 0 or k >= n:
        return np.sort(cur)
    site_of = pc.site_of_pair()
    may = np.ones(n, dtype=bool) if allowed is None else allowed.copy()
    big = _big(pc)
    for _ in range(max_rounds):
        a = assign(pc, cur)
        # a demand left with no option costs ``big`` (finite, so that differences stay numbers)
        d1, d2 = np.minimum(a.first, big), np.minimum(a.second, big)
        saved = np.maximum(0.0, d1[pc.demand] - pc.cost)
        gain = np.bincount(site_of, weights=saved, minlength=n)
        near_some = a.near >= 0
        loss = np.bincount(a.near[near_some], weights=(d2 - d1)[near_some], minlength=k).astype(
            np.float64
        )
        r = a.near[pc.demand]
        hit = (r >= 0) & (pc.cost < d2[pc.demand])
        dd = pc.demand[hit]
        extra_val = d2[dd] - np.maximum(pc.cost[hit], d1[dd])
        extra = np.bincount(site_of[hit] * k + r[hit], weights=extra_val, minlength=n * k)
        profit = gain[:, None] - loss[None, :] + extra.reshape(n, k)
        blocked = ~may
        blocked[cur] = True
        profit[blocked] = -np.inf
        c, out = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if profit[c, out] <= 1e-9 * float(d1.sum()) or deadline.expired():
            break
        cur[out] = c
    return np.sort(cur)
