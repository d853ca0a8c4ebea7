"""Grid proposals: balanced, contiguous grids around lead hospitals.

:func:`propose_grids` partitions the planning units of a prefecture (counties,
or townships where a township layer is loaded) into ``k`` grids such that

* every grid is **contiguous** (its drawn units form one connected piece of
  the adjacency graph of :func:`gridplan.plan.validate.unit_adjacency`),
* every grid contains its lead hospital's unit (the *root* of the grid),
* every grid's population lies within ``±X`` of the mean ``P / k``
  (``X`` is the balance tolerance, a 0.05–0.5 slider in the UI),

and the population-weighted travel time of every unit to its grid's lead
hospital is as small as possible.  The result is a :class:`Proposal` whose
``plan`` is an ordinary :class:`~gridplan.plan.grids.GridPlan` (grids of kind
``"proposal"``) that the editor can adopt.

Travel time
-----------
The default (:class:`StraightLineCost`) is the straight line between a unit's
point and the hospital, × detour 1.3, at 30 km/h (car on rural roads, see
:data:`gridplan.travel.modes.MODE_SPEED_SOURCES`).  A unit's point is its
population-weighted centroid when a :class:`~gridplan.surface.grid.PopulationSurface`
is given, otherwise its representative point (always inside the polygon).
Other models plug in through :class:`MatrixCost` (a unit × hospital table of
minutes) or a plain ``numpy`` array of shape (units, k).

Functional zones without a polygon
----------------------------------
Units with ``has_geometry`` False (e.g. 高新区 at county level) have no
neighbours, so they cannot take part in contiguity.  They are *free units*:
they may join any grid, their residents count for balance, and they are
placed to minimise travel time subject to balance.  Their travel time is that
of their *anchor* units (mean over the anchors): by default the districts the
embedded township reference names as their legal parents (高新区 → 裕华区 and
栾城区; 循环化工园区 → 藁城区), or ``zone_anchors`` given by the caller.  A free
unit without anchors has no travel time: it is placed by balance alone and its
residents are reported as not assessed.  (The Shijiazhuang preset puts 高新区
with 长安 by policy; a proposal does not know that policy, so compare the two
with :func:`compare_plans`.)

Methods
-------
``exact``
    A mixed-integer programme solved by HiGHS (``highspy``), time-limited.
    Binary ``x[i, g]`` (unit i in grid g), and per grid a single-commodity
    flow from the root: every non-root member of grid g consumes one unit of
    flow of commodity g, flow on arcs into unit i is at most ``M_g · x[i, g]``
    (so flow only passes through members), hence every member is connected to
    the root inside the grid (Shirabe 2005; Duque, Church & Middleton 2011).
    ``M_g`` is the largest number of units grid g can hold within the upper
    population bound.  Valid inequalities ``x[i, g] ≤ Σ_{j ~ i} x[j, g]`` and
    reachability fixing (a unit cut off from root g by the other roots is
    never in g) tighten it.  Objective and balance rows are scaled so that
    the objective is the mean travel time in minutes.  When the bounds are
    infeasible, a second programme minimises the largest deviation ``t``
    from the mean, and a third minimises travel time within ``±t``.
``heuristic``
    Seeded region growing by travel time (respecting the upper bound), then
    local search that moves boundary units to neighbouring grids and swaps
    pairs of boundary units, keeping every grid connected, accepting a change
    when it lowers the balance violation or keeps it and lowers travel time;
    iterated with random perturbations (iterated local search).
``auto``
    The heuristic first (its solution warm-starts the solver), then the exact
    programme when ``highspy`` is installed and the instance is small
    (:data:`EXACT_MAX_PAIRS` unit × grid pairs).

A result never violates the bounds silently: ``bounds_met`` is False and
``best_tolerance`` gives the smallest tolerance the method achieved (proven
minimal when ``best_tolerance_proven``).

Islands
-------
Drawn units in a part of the adjacency graph with no lead hospital can join
no grid contiguously.  They are joined to the nearest other part by a
*bridge* (listed in ``Proposal.bridges``); the grid that takes them is then
not contiguous and ``contiguous`` is False.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridplan.errors import InputError
from gridplan.i18n import t
from gridplan.plan.grids import Grid, GridPlan
from gridplan.plan.units import UnitSet
from gridplan.plan.validate import grid_components
from gridplan.regions.costs import CostModel, Hospital, HospitalLike
from gridplan.regions.instance import (
    _REL,
    Proposal,
    _balance,
    _build_instance,
    _choose_seeds,
    _evaluate,
    _grid_pops,
    _Instance,
    _max_deviation,
    _normalise_hospitals,
)
from gridplan.regions.milp import _solve_milp
from gridplan.regions.search import _Search
from gridplan.solvers.highs import highs_available

#: ``auto`` solves exactly when (drawn units × grids) is at most this.
EXACT_MAX_PAIRS = 1500
#: Grid kind of proposed grids.
PROPOSAL_KIND = "proposal"

Method = Literal["auto", "exact", "heuristic"]


# --- the public entry point ----------------------------------------------------------------
def propose_grids(
    unit_set: UnitSet,
    hospitals: int | Sequence[HospitalLike],
    tolerance: float = 0.2,
    *,
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None = None,
    method: Method = "auto",
    time_limit_s: float = 30.0,
    mip_gap: float = 1e-6,
    heuristic_rounds: int = 60,
    zone_anchors: Mapping[str, Sequence[str]] | None = None,
    seed: int = 0,
) -> Proposal:
    """Propose ``k`` balanced, contiguous grids minimising population-weighted travel time.

    Parameters
    ----------
    unit_set
        Planning units (:func:`gridplan.plan.units.build_units`).
    hospitals
        Lead hospitals as :class:`Hospital`, ``(lon, lat)`` or ``(name, lon, lat)``
        (WGS-84), one grid each, in this order; or just ``k``: then k sites are
        chosen at unit points by a population-weighted p-median and the lead
        hospitals are marked 待定 (to be decided).
    tolerance
        ``X``: every grid's population within ``(1 ∓ X) · P / k``.
    cost
        Travel-time model (:class:`StraightLineCost` by default,
        :class:`MatrixCost`), or an array (units × hospitals) of minutes in the
        rows' order of ``unit_set.units``.
    method
        ``auto``, ``exact`` (needs ``highspy``) or ``heuristic``.
    time_limit_s
        Wall-clock budget of the whole solve.
    mip_gap
        Relative gap at which HiGHS stops.
    heuristic_rounds
        Perturbation rounds of the iterated local search.
    zone_anchors
        Undrawn unit id → unit ids (county or township codes) whose minutes it
        takes; default :func:`default_zone_anchors`.
    seed
        Random seed of the heuristic (results are reproducible).
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    if not 0.0 <= float(tolerance) < 1.0:
        raise InputError(
            f"balance tolerance must be between 0 and 1, got {tolerance}",
            code="regions.tolerance",
            params={"tolerance": tolerance},
        )
    if method not in ("auto", "exact", "heuristic"):
        raise InputError(f"unknown method {method!r}; use auto, exact or heuristic")
    if method == "exact" and not highs_available():
        raise InputError("the exact method needs highspy", code="regions.no_solver")
    u = unit_set.units
    active_rows = np.flatnonzero(u["inside_prefecture"].to_numpy(dtype=bool)).astype(np.int64)
    notes: list[str] = []
    if isinstance(hospitals, int | np.integer):
        k = int(hospitals)
        if k < 1:
            raise InputError(
                f"need at least one grid, got {k}", code="regions.k", params={"k": k, "n": len(u)}
            )
        hosp = _choose_seeds(unit_set, active_rows, k, cost)
        chosen_seeds = True
        notes.append("牵头医院位置由 p-中位模型在单元代表点中选出（待定），请替换为实际医院。")
    else:
        hosp = _normalise_hospitals(hospitals)
        chosen_seeds = False
        if not hosp:
            raise InputError(
                "need at least one lead hospital", code="regions.k", params={"k": 0, "n": len(u)}
            )
    inst, _minutes, inst_notes, bridges, model_name = _build_instance(
        unit_set, hosp, float(tolerance), cost, zone_anchors
    )
    notes += inst_notes

    # heuristic (always: it is the fallback and the warm start)
    share = 0.8 if method == "heuristic" else 0.2
    h_deadline = min(deadline, time.perf_counter() + max(float(time_limit_s) * share, 0.5))
    search = _Search(inst, seed)
    h_assign = search.run(heuristic_rounds, h_deadline)
    h_viol, _ = _evaluate(inst, h_assign)
    chosen = h_assign
    used, status, gap = "heuristic", "local_optimum", None
    best_tol: float | None = None
    proven = False
    exact_ok = highs_available() and (
        method == "exact"
        or (method == "auto" and int(inst.drawn.sum()) * inst.k <= EXACT_MAX_PAIRS)
    )
    if exact_ok:
        warm = h_assign if h_viol <= search.eps_p else None
        r = _solve_milp(inst, "cost", deadline - time.perf_counter(), mip_gap, warm)
        if r.status in ("optimal", "time_limit") and r.assign is not None:
            chosen, used, status, gap = r.assign, "exact", r.status, r.gap
        elif r.status == "infeasible":
            notes.append(t("regions.infeasible", "zh", tolerance=f"{tolerance:.0%}"))
            rb = _solve_milp(inst, "balance", deadline - time.perf_counter(), mip_gap, h_assign)
            if rb.assign is not None:
                t_star = _max_deviation(inst, rb.assign)
                best_tol, proven = t_star, rb.status == "optimal"
                wide = inst.with_tolerance(t_star * (1 + 1e-7) + 1e-12)
                r2 = _solve_milp(wide, "cost", deadline - time.perf_counter(), mip_gap, rb.assign)
                if r2.assign is not None:
                    chosen, status, gap = r2.assign, r2.status, r2.gap
                else:
                    chosen, status, gap = rb.assign, rb.status, rb.gap
                used = "exact"
            else:
                notes.append("精确求解在时限内未找到最均衡方案，改用启发式结果。")
        else:
            notes.append("精确求解在时限内未找到可行方案，改用启发式结果。")
    if used == "heuristic" and h_viol > search.eps_p:
        # best balance found: polish travel time within the tolerance it achieves
        best_tol = _max_deviation(inst, h_assign)
        wide = inst.with_tolerance(best_tol * (1 + 1e-7) + 1e-12)
        polish = _Search(wide, seed)
        chosen = polish.run(
            max(heuristic_rounds // 3, 1),
            time.perf_counter() + max(float(time_limit_s) * 0.1, 0.2),
            h_assign,
        )
        best_tol = _max_deviation(inst, chosen)
        notes.append(t("regions.infeasible_heuristic", "zh", tolerance=f"{tolerance:.0%}"))
    elapsed = time.perf_counter() - t0
    return _assemble(
        unit_set,
        inst,
        hosp,
        root_names=[inst.ids[r] for r in inst.roots],
        assign=chosen,
        tolerance=float(tolerance),
        method=used,
        status=status,
        gap=gap,
        elapsed=elapsed,
        best_tol=best_tol,
        proven=proven,
        bridges=bridges,
        model_name=model_name,
        notes=notes,
        chosen_seeds=chosen_seeds,
    )


def _assemble(
    unit_set: UnitSet,
    inst: _Instance,
    hosp: list[Hospital],
    *,
    root_names: list[str],
    assign: NDArray[np.int64],
    tolerance: float,
    method: str,
    status: str,
    gap: float | None,
    elapsed: float,
    best_tol: float | None,
    proven: bool,
    bridges: list[tuple[int, int]],
    model_name: str,
    notes: list[str],
    chosen_seeds: bool,
) -> Proposal:
    u = unit_set.units
    k = inst.k
    pref = unit_set.prefecture
    names = inst.names
    gids = [f"proposal-{g + 1}" for g in range(k)]
    grids: list[Grid] = []
    for g, h in enumerate(hosp):
        members = [inst.ids[i] for i in np.flatnonzero(assign == g)]
        gname = (
            f"方案网格 {g + 1}"
            if chosen_seeds or h.name.startswith("牵头医院 ")
            else f"{h.name}网格"
        )
        grids.append(
            Grid(
                grid_id=gids[g],
                name=gname,
                lead_hospital=h.name,
                units=members,
                kind=PROPOSAL_KIND,
                note=(
                    "GridPlan proposal（自动生成的方案）；"
                    f"牵头医院位置 WGS-84 {h.lon:.6f}, {h.lat:.6f}"
                    f"（位于 {names[inst.roots[g]]}）"
                ),
            )
        )
    assignment = pd.Series([None] * len(u), index=u.index, name="grid_id", dtype=object)
    assignment.iloc[inst.rows] = [gids[g] for g in assign]
    pops = _grid_pops(inst, assign)
    bal = _balance(pops, inst.mean)
    met = bool(((pops >= inst.lo * (1 - _REL)) & (pops <= inst.hi * (1 + _REL))).all())
    if not met and best_tol is None:
        best_tol = bal["max_deviation"]
    comps = grid_components(unit_set, assignment)
    contiguous = all(len(comps.get(gid, [])) <= 1 for gid in gids)
    w = inst.pop * inst.cost[np.arange(inst.m), assign]
    w_ass = np.where(inst.assessed, w, 0.0)
    obj = float(w_ass.sum())
    pa = float(inst.pop[inst.assessed].sum())
    free = [inst.ids[i] for i in np.flatnonzero(~inst.drawn)]
    bridge_names = [(names[a], names[b]) for a, b in bridges]
    if bridge_names:
        notes.append(
            "以下单元与有牵头医院的部分不相邻，经最近的单元连接（网格不连片）："
            + "；".join(f"{a}—{b}" for a, b in bridge_names)
        )
    if free:
        notes.append(
            "无边界的功能区（"
            + "、".join(names[i] for i in np.flatnonzero(~inst.drawn))
            + "）不参与连片判断，按出行时间和人口均衡分配到网格。"
        )
    ptot = float(inst.pop.sum())
    rows = []
    for g in range(k):
        sel = assign == g
        sel_a = sel & inst.assessed
        pg = float(inst.pop[sel_a].sum())
        rows.append(
            {
                "grid_id": gids[g],
                "name": grids[g].name,
                "lead_hospital": hosp[g].name,
                "root_unit": names[inst.roots[g]],
                "n_units": int(sel.sum()),
                "population": float(pops[g]),
                "deviation": float(pops[g] / inst.mean - 1) if inst.mean > 0 else math.nan,
                "mean_minutes": float(w[sel_a].sum() / pg) if pg > 0 else math.nan,
                "within_bounds": bool(inst.lo * (1 - _REL) <= pops[g] <= inst.hi * (1 + _REL)),
            }
        )
    flag = "" if met else "（未满足均衡要求）"
    method_zh = (
        "精确（HiGHS 混合整数规划）" if method == "exact" else "启发式（区域生长 + 局部搜索）"
    )
    plan = GridPlan(
        plan_id=f"proposal-{pref.adcode}-k{k}",
        name={
            "zh": f"{pref.name}：{k} 个网格方案（人口均衡 ±{tolerance:.0%}）{flag}",
            "en": f"{pref.name}: proposal of {k} grids (balance ±{tolerance:.0%})"
            + ("" if met else " (bounds not met)"),
        },
        prefecture=pref.adcode,
        grids=grids,
        notes=[
            "GridPlan proposal：由 gridplan.regions 自动生成的网格方案，"
            "供编辑参考，非政策文件内容。",
            f"方法：{method_zh}，"
            f"状态 {status}；人口均衡要求 ±{tolerance:.0%}，"
            + ("已满足。" if met else f"未满足，最好做到 ±{bal['max_deviation']:.1%}。"),
            f"出行时间模型：{model_name}；"
            f"人口加权平均出行时间 {obj / pa if pa > 0 else math.nan:.1f} 分钟。",
            *notes,
        ],
    )
    return Proposal(
        plan=plan,
        assignment=assignment,
        hospitals=list(hosp),
        root_units=root_names,
        method=method,
        status=status,
        tolerance=tolerance,
        bounds=(inst.lo, inst.hi),
        bounds_met=met,
        objective_person_minutes=obj,
        mean_minutes=obj / pa if pa > 0 else math.nan,
        balance=bal,
        contiguous=contiguous,
        solve_seconds=elapsed,
        gap=gap,
        best_tolerance=None if met else best_tol,
        best_tolerance_proven=proven and not met,
        free_units=free,
        not_assessed_population=ptot - pa,
        bridges=bridge_names,
        cost_model=model_name,
        notes=notes,
        grid_table=pd.DataFrame(rows),
    )
