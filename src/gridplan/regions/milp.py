"""The exact flow-based MILP for contiguous balanced grids, solved by HiGHS."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gridplan.regions.instance import _REL, _Instance, _max_deviation
from gridplan.solvers.highs import Mip, solve_mip


# --- exact: MILP with HiGHS ------------------------------------------------------------
@dataclass
class _MilpResult:
    status: str  # optimal, time_limit, infeasible, no_solution
    assign: NDArray[np.int64] | None
    objective: float
    gap: float | None
    t: float | None = None


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

    mip = Mip(
        cost=cost,
        lower=col_lo,
        upper=col_hi,
        integer=np.arange(n_col) < nx,
        row=np.concatenate(rr),
        col=np.concatenate(cc),
        val=np.concatenate(vv),
        row_lower=np.concatenate(row_lo),
        row_upper=np.concatenate(row_hi),
        maximize=False,
    )
    start = None
    if warm is not None:
        arc_index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(tail, head, strict=True))}
        start = np.zeros(n_col)
        start[np.arange(m) * k + warm] = 1.0
        for col, flow in _tree_flows(inst, warm, arc_index).items():
            start[nx + col] = flow
        if mode == "balance":
            start[tcol] = _max_deviation(inst, warm)
    res = solve_mip(mip, time_limit=max(float(time_limit), 0.05), gap=mip_gap, start=start)
    if res.highs_status == "kInfeasible":
        return _MilpResult("infeasible", None, math.nan, None)
    if res.x is None:
        return _MilpResult("no_solution", None, math.nan, None)
    assign = res.x[:nx].reshape(m, k).argmax(axis=1).astype(np.int64)
    st = "optimal" if res.highs_status == "kOptimal" else "time_limit"
    gap = 0.0 if st == "optimal" else res.gap
    tval = float(res.x[tcol]) if mode == "balance" else None
    return _MilpResult(st, assign, res.objective, gap, tval)
