"""The exact flow-based MILP for contiguous balanced grids, solved by HiGHS."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gridplan.regions.instance import _REL, _Instance, _max_deviation
from gridplan.solvers.highs import solve_mip
from gridplan.solvers.mip import MipBuilder


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


@dataclass
class _Layout:
    """Numbering of the MILP: arcs (both directions of every edge), columns and row blocks.

    Columns: ``x[i, g]`` at ``i·k + g``, then the flows ``f[a, g]`` at
    ``nx + a·k + g``, then (balance mode) ``t``.  The rows of the flow
    families are one per (drawn unit, grid), at ``dpos[i]·k + g``.
    """

    m: int
    k: int
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    drawn_idx: NDArray[np.int64]
    dpos: NDArray[np.int64]

    @classmethod
    def of(cls, inst: _Instance) -> _Layout:
        drawn_idx = np.flatnonzero(inst.drawn).astype(np.int64)
        dpos = np.full(inst.m, -1, dtype=np.int64)
        dpos[drawn_idx] = np.arange(len(drawn_idx))
        tail = np.concatenate([inst.edges[:, 0], inst.edges[:, 1]]).astype(np.int64)
        head = np.concatenate([inst.edges[:, 1], inst.edges[:, 0]]).astype(np.int64)
        return cls(inst.m, inst.k, tail, head, drawn_idx, dpos)

    @property
    def nx(self) -> int:
        return self.m * self.k

    @property
    def n_arc(self) -> int:
        return len(self.tail)

    @property
    def t_col(self) -> int:
        return self.nx + self.n_arc * self.k


def _big_m(inst: _Instance, lay: _Layout, mode: str) -> NDArray[np.float64]:
    """Per grid, the most units it can hold besides its root (the flow's capacity)."""
    k = inst.k
    m_g = np.full(k, float(max(len(lay.drawn_idx) - k, 0)))
    if mode == "cost":
        roots = np.array(inst.roots)
        others = np.sort(inst.pop[np.setdiff1d(lay.drawn_idx, roots)])
        for g in range(k):
            cap = inst.hi * (1 + _REL) - inst.pop[roots[g]]
            m_g[g] = min(m_g[g], float(np.searchsorted(np.cumsum(others), cap, side="right")))
    return m_g


def _add_columns(
    model: MipBuilder, inst: _Instance, lay: _Layout, mode: str, m_g: NDArray[np.float64]
) -> None:
    """``x`` (binary; roots fixed to their grid, unreachable pairs fixed to 0), flows, ``t``."""
    k = inst.k
    x_lo = np.zeros(lay.nx)
    x_hi = np.where(_reachable(inst).ravel(), 1.0, 0.0)
    f_hi = np.repeat(m_g[None, :], lay.n_arc, axis=0).ravel()
    for g, r in enumerate(inst.roots):
        x_lo[r * k + g] = 1.0
        x_hi[r * k : (r + 1) * k] = 0.0
        x_hi[r * k + g] = 1.0
        f_hi[np.flatnonzero(lay.head == r) * k + g] = 0.0  # no flow into the own root
    x_cost = np.zeros(lay.nx)
    if mode == "cost":  # mean minutes of the assessed residents
        assessed_pop = float(inst.pop[inst.assessed].sum()) or 1.0
        x_cost = (inst.pop[:, None] * inst.cost).ravel() / assessed_pop
    model.columns(lay.nx, cost=x_cost, lower=x_lo, upper=x_hi, integer=True)
    model.columns(lay.n_arc * k, upper=f_hi)
    if mode == "balance":
        model.columns(1, cost=1.0, upper=np.inf)


def _add_partition_rows(model: MipBuilder, inst: _Instance, lay: _Layout, mode: str) -> None:
    """Every unit in exactly one grid; every grid's population within the bounds (cost
    mode) or within ``±t`` of the mean (balance mode)."""
    m, k = inst.m, inst.k
    i_all = np.repeat(np.arange(m), k)
    g_all = np.tile(np.arange(k), m)
    x_all = i_all * k + g_all
    model.rows(m, 1.0, 1.0, (i_all, x_all, 1.0))
    share = inst.pop / inst.mean if inst.mean > 0 else inst.pop
    members = (g_all, x_all, share[i_all])
    if mode == "cost":
        lo = inst.lo / inst.mean * (1 - _REL)
        hi = inst.hi / inst.mean * (1 + _REL)
        model.rows(k, lo, hi, members)
        return
    for sign in (-1.0, 1.0):  # Σ share·x − t ≤ 1 ; Σ share·x + t ≥ 1
        lo, hi = (-np.inf, 1.0) if sign < 0 else (1.0, np.inf)
        model.rows(k, lo, hi, members, (np.arange(k), np.full(k, lay.t_col), sign))


def _add_flow_rows(
    model: MipBuilder, inst: _Instance, lay: _Layout, m_g: NDArray[np.float64]
) -> None:
    """Single-commodity flow per grid from its root: conservation, capacity, neighbours.

    Rows of a root in its own grid are left free.
    """
    k = inst.k
    n = len(lay.drawn_idx) * k
    free_row = np.zeros(n, dtype=bool)
    for g, r in enumerate(inst.roots):
        free_row[lay.dpos[r] * k + g] = True
    a_all = np.repeat(np.arange(lay.n_arc), k)
    ga_all = np.tile(np.arange(k), lay.n_arc)
    f_col = lay.nx + a_all * k + ga_all
    into = lay.dpos[lay.head[a_all]] * k + ga_all  # row of the arc's head
    out_of = lay.dpos[lay.tail[a_all]] * k + ga_all  # row of the arc's tail
    dg_i = np.repeat(lay.drawn_idx, k)
    dg_g = np.tile(np.arange(k), len(lay.drawn_idx))
    own = lay.dpos[dg_i] * k + dg_g  # row of (unit, grid)
    x_own = dg_i * k + dg_g
    free_hi = np.where(free_row, np.inf, 0.0)
    # inflow − outflow − x = 0: every member consumes one unit of its grid's flow
    model.rows(
        n, np.where(free_row, -np.inf, 0.0), free_hi,
        (into, f_col, 1.0), (out_of, f_col, -1.0), (own, x_own, -1.0),
    )  # fmt: skip
    # inflow ≤ M_g · x: flow only passes through members
    model.rows(n, -np.inf, free_hi, (into, f_col, 1.0), (own, x_own, -m_g[dg_g]))
    # x[i,g] − Σ_{j ~ i} x[j,g] ≤ 0: a non-root member has a neighbour in its grid
    x_head = lay.head[a_all] * k + ga_all
    model.rows(n, -np.inf, free_hi, (own, x_own, 1.0), (out_of, x_head, -1.0))


def _warm_start(
    inst: _Instance, lay: _Layout, mode: str, warm: NDArray[np.int64], n_cols: int
) -> NDArray[np.float64]:
    """Column values of the plan ``warm``: its x, flows along BFS trees, its deviation."""
    k = inst.k
    arc_index = {
        (int(a), int(b)): i for i, (a, b) in enumerate(zip(lay.tail, lay.head, strict=True))
    }
    start = np.zeros(n_cols)
    start[np.arange(inst.m) * k + warm] = 1.0
    for col, flow in _tree_flows(inst, warm, arc_index).items():
        start[lay.nx + col] = flow
    if mode == "balance":
        start[lay.t_col] = _max_deviation(inst, warm)
    return start


def _solve_milp(
    inst: _Instance,
    mode: Literal["cost", "balance"],
    time_limit: float,
    mip_gap: float,
    warm: NDArray[np.int64] | None = None,
) -> _MilpResult:
    """The flow MILP: minimise mean minutes within the bounds (``cost``) or the largest
    deviation from the mean (``balance``), warm-started from the plan ``warm``."""
    lay = _Layout.of(inst)
    m_g = _big_m(inst, lay, mode)
    model = MipBuilder()
    _add_columns(model, inst, lay, mode, m_g)
    _add_partition_rows(model, inst, lay, mode)
    _add_flow_rows(model, inst, lay, m_g)
    mip = model.build(maximize=False)
    start = None if warm is None else _warm_start(inst, lay, mode, warm, mip.n_cols)
    res = solve_mip(mip, time_limit=max(float(time_limit), 0.05), gap=mip_gap, start=start)
    if res.highs_status == "kInfeasible":
        return _MilpResult("infeasible", None, math.nan, None)
    if res.x is None:
        return _MilpResult("no_solution", None, math.nan, None)
    assign = res.x[: lay.nx].reshape(inst.m, inst.k).argmax(axis=1).astype(np.int64)
    status = "optimal" if res.highs_status == "kOptimal" else "time_limit"
    gap = 0.0 if status == "optimal" else res.gap
    t = float(res.x[lay.t_col]) if mode == "balance" else None
    return _MilpResult(status, assign, res.objective, gap, t)
