"""Covering: who a set of new sites covers within T, and the covering model.

The coverage structure (:class:`_Cover`) groups the demand points not yet
covered by existing facilities by their set of new candidates within T; the
maximal covering (:class:`~gridplan.siting.mclp.MCLP`) and the set-cover
target (:class:`~gridplan.siting.target.SetCoverTarget`) search over it
(greedy, swaps, dropping redundant sites).  :func:`covering_model` is the
covering formulation they share with the radius p-median
(:class:`~gridplan.siting.pmedian.PMedian`): binary sites ``y``, an uncovered
share ``u_r`` per row and ``u_r + Σ_{j∈S_r} y_j ≥ 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gridplan._types import FloatArray, IntArray
from gridplan.siting.models import _Inputs
from gridplan.solvers.greedy import GreedySolution, greedy
from gridplan.solvers.mip import MipBuilder


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
    local = inp.local()
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
) -> GreedySolution:
    """Greedy (CELF) maximal coverage over the groups; stops early once ``need`` is met.

    Sites are local indices into the new candidates.
    """
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
    return greedy(n_new, k, gain, commit, lazy=lazy, stop=stop)


def covering_model(
    sets: sp.csr_matrix, *, site_cost: float, uncovered_cost: ArrayLike | float
) -> MipBuilder:
    """Columns ``y`` (binary, one per candidate of ``sets``) then ``u`` (one per row), and
    the covering rows ``u_r + Σ_{j∈S_r} y_j ≥ 1``.

    ``u_r`` is the uncovered share of row ``r`` (continuous, integral at
    every optimum).  This form of the MCLP has the same LP relaxation as
    ``z_r ≤ Σ y_j`` but HiGHS's dual simplex solves it one to two orders of
    magnitude faster on large overlapping instances, with presolve off
    (presolve turns it back into the slow form): solve it with
    ``presolve=False``.
    """
    b = MipBuilder()
    y = b.columns(sets.shape[1], cost=site_cost, integer=True)
    u = b.columns(sets.shape[0], cost=uncovered_cost, upper=np.inf)
    b.cover_rows(sets, y, u)
    return b


def cover_start(sets: sp.csr_matrix, local_sites: ArrayLike) -> FloatArray:
    """The values of :func:`covering_model`'s columns with ``local_sites`` open (a warm start)."""
    y = np.zeros(sets.shape[1])
    y[np.asarray(local_sites, dtype=np.int64)] = 1.0
    z = np.minimum(sets @ y, 1.0) if sets.shape[0] else np.zeros(0)
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
