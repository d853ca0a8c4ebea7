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
:data:`gridplan.travel.speeds.MODE_SPEEDS_KMH`).  A unit's point is its
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
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridplan._validate import Problems, as_float
from gridplan.i18n import LANGS, t
from gridplan.plan.grids import Grid, GridPlan
from gridplan.plan.units import UnitSet
from gridplan.plan.validate import grid_components
from gridplan.regions.costs import CostModel, Hospital, HospitalLike, regions_problems
from gridplan.regions.instance import (
    _REL,
    Note,
    Proposal,
    _balance,
    _build_instance,
    _choose_seeds,
    _evaluate,
    _grid_pops,
    _Instance,
    _max_deviation,
    _normalise_hospitals,
    default_hospital_name,
)
from gridplan.regions.milp import _solve_milp
from gridplan.regions.search import _Search
from gridplan.solvers.highs import highs_available

#: ``auto`` solves exactly when (drawn units × grids) is at most this.
EXACT_MAX_PAIRS = 1500
#: Grid kind of proposed grids.
PROPOSAL_KIND = "proposal"

Method = Literal["auto", "exact", "heuristic"]
METHODS: tuple[str, ...] = ("auto", "exact", "heuristic")


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

    Returns
    -------
    Proposal
        The plan, how it was found and how good it is; ``notes`` are its
        remarks (:meth:`Proposal.note_texts` in either language).

    Raises
    ------
    InputError
        ``regions.invalid``, listing every problem with the settings and the
        hospitals (``regions.tolerance``, ``regions.method``,
        ``regions.bad_hospital`` ...), then with the units (``regions.shared_unit``,
        ``regions.cost_missing`` ...).
    """
    t0 = time.perf_counter()
    hosp, seeded, notes = _lead_hospitals(unit_set, hospitals, tolerance, method, cost)
    inst, inst_notes, bridges, model_name = _build_instance(
        unit_set, hosp, float(tolerance), cost, zone_anchors
    )
    notes += inst_notes
    seconds = float(time_limit_s)
    run = _Run(method, float(tolerance), seconds, t0 + seconds, mip_gap, heuristic_rounds, seed)
    sol = _solve(inst, run, notes)
    if bridges:
        pairs = [f"{inst.names[a]}—{inst.names[b]}" for a, b in bridges]
        notes.append(Note("regions.note.bridges", {"pairs": pairs}))
    if not inst.drawn.all():
        free = [inst.names[i] for i in np.flatnonzero(~inst.drawn)]
        notes.append(Note("regions.note.free_units", {"units": free}))
    return _assemble(
        unit_set,
        inst,
        hosp,
        sol,
        tolerance=float(tolerance),
        elapsed=time.perf_counter() - t0,
        bridges=bridges,
        model_name=model_name,
        notes=notes,
        seeded=seeded,
    )


def _lead_hospitals(
    unit_set: UnitSet,
    hospitals: int | Sequence[HospitalLike],
    tolerance: float,
    method: str,
    cost: CostModel | NDArray[np.float64] | pd.DataFrame | None,
) -> tuple[list[Hospital], bool, list[Note]]:
    """Check the settings (one ``regions.invalid`` error listing every problem); the lead
    hospitals, whether they were chosen here (only ``k`` given), and a note if so."""
    problems = regions_problems()
    tol = as_float(tolerance)
    if tol is None or not 0.0 <= tol < 1.0:
        problems.add(
            "regions.tolerance",
            f"balance tolerance must be between 0 and 1, got {tolerance}",
            tolerance=tolerance,
        )
    problems.choice("regions.method", "method", method, METHODS)
    if method == "exact" and not highs_available():
        problems.add("regions.no_solver", "the exact method needs highspy")
    n_units = len(unit_set.units)
    _check_population(unit_set, problems)
    if isinstance(hospitals, int | np.integer):
        if hospitals < 1:
            problems.add(
                "regions.k", f"need at least one grid, got {hospitals}", k=int(hospitals), n=n_units
            )
        problems.raise_if_any()
        active = unit_set.units["inside_prefecture"].to_numpy(dtype=bool)
        rows = np.flatnonzero(active).astype(np.int64)
        return (
            _choose_seeds(unit_set, rows, int(hospitals), cost),
            True,
            [Note("regions.note.seeds")],
        )
    hosp = _normalise_hospitals(hospitals, problems)
    if not hospitals:
        problems.add("regions.k", "need at least one lead hospital", k=0, n=n_units)
    problems.raise_if_any()
    return hosp, False, []


def _check_population(unit_set: UnitSet, problems: Problems) -> None:
    """Grids are balanced by population: without any, there is nothing to balance."""
    u = unit_set.units
    pop = u.loc[u["inside_prefecture"].astype(bool), "population"].to_numpy(dtype=float)
    if not np.nansum(pop) > 0:
        problems.add(
            "regions.no_population",
            f"no population for {unit_set.prefecture.name}: upload a population table",
            prefecture=unit_set.prefecture.name,
        )


@dataclass(frozen=True)
class _Run:
    """How a proposal is solved: the method and tolerance asked for, the time (its length in
    seconds and its ``perf_counter`` deadline), HiGHS's gap, the heuristic's rounds and seed."""

    method: str
    tolerance: float
    seconds: float
    deadline: float
    mip_gap: float
    rounds: int
    seed: int

    def left(self) -> float:
        return self.deadline - time.perf_counter()


@dataclass
class _Solution:
    """The chosen plan and how it was found (see :class:`Proposal`)."""

    assign: NDArray[np.int64]
    method: str = "heuristic"
    status: str = "local_optimum"
    gap: float | None = None
    best_tolerance: float | None = None
    proven: bool = False


def _solve(inst: _Instance, run: _Run, notes: list[Note]) -> _Solution:
    """The heuristic (the fallback and the warm start), then the exact programme if it applies."""
    share = 0.8 if run.method == "heuristic" else 0.2
    h_deadline = min(run.deadline, time.perf_counter() + max(run.seconds * share, 0.5))
    search = _Search(inst, run.seed)
    h_assign = search.run(run.rounds, h_deadline)
    h_feasible = _evaluate(inst, h_assign)[0] <= search.eps_p
    exact_ok = highs_available() and (
        run.method == "exact"
        or (run.method == "auto" and int(inst.drawn.sum()) * inst.k <= EXACT_MAX_PAIRS)
    )
    sol = _solve_exact(inst, h_assign, h_feasible, run, notes) if exact_ok else None
    if sol is not None:
        return sol
    if h_feasible:
        return _Solution(h_assign)
    return _best_balance_heuristic(inst, h_assign, run, notes)


def _solve_exact(
    inst: _Instance,
    h_assign: NDArray[np.int64],
    h_feasible: bool,
    run: _Run,
    notes: list[Note],
) -> _Solution | None:
    """The cost MILP; if the bounds are infeasible, the most balanced plan (balance MILP)
    then its best travel time within the balance reached.  None: no plan found in time."""
    start = h_assign if h_feasible else None
    r = _solve_milp(inst, "cost", run.left(), run.mip_gap, start)
    if r.status in ("optimal", "time_limit") and r.assign is not None:
        return _Solution(r.assign, "exact", r.status, r.gap)
    if r.status != "infeasible":
        notes.append(Note("regions.note.no_feasible_plan"))
        return None
    notes.append(Note("regions.infeasible", {"tolerance": f"{run.tolerance:.0%}"}))
    rb = _solve_milp(inst, "balance", run.left(), run.mip_gap, h_assign)
    if rb.assign is None:
        notes.append(Note("regions.note.no_balanced_plan"))
        return None
    t_star = _max_deviation(inst, rb.assign)
    wide = inst.with_tolerance(t_star * (1 + 1e-7) + 1e-12)
    r2 = _solve_milp(wide, "cost", run.left(), run.mip_gap, rb.assign)
    best = r2 if r2.assign is not None else rb
    assert best.assign is not None
    return _Solution(best.assign, "exact", best.status, best.gap, t_star, rb.status == "optimal")


def _best_balance_heuristic(
    inst: _Instance, h_assign: NDArray[np.int64], run: _Run, notes: list[Note]
) -> _Solution:
    """The heuristic's best balance, its travel time polished within the balance it reaches."""
    wide = inst.with_tolerance(_max_deviation(inst, h_assign) * (1 + 1e-7) + 1e-12)
    polish = _Search(wide, run.seed)
    deadline = time.perf_counter() + max(run.seconds * 0.1, 0.2)
    chosen = polish.run(max(run.rounds // 3, 1), deadline, h_assign)
    notes.append(Note("regions.infeasible_heuristic", {"tolerance": f"{run.tolerance:.0%}"}))
    return _Solution(chosen, best_tolerance=_max_deviation(inst, chosen))


def _proposed_grids(
    inst: _Instance, hosp: list[Hospital], assign: NDArray[np.int64], seeded: bool
) -> list[Grid]:
    """One grid per lead hospital, named after it (numbered when it has no name of its own)."""
    grids: list[Grid] = []
    for g, h in enumerate(hosp):
        numbered = seeded or h.name == default_hospital_name(g + 1)
        name = (
            t("regions.grid_numbered", "zh", i=g + 1)
            if numbered
            else t("regions.grid_of", "zh", hospital=h.name)
        )
        unit = inst.names[inst.roots[g]]
        # a site chosen here is where a lead hospital could be, not a hospital: not located
        note = (
            t("regions.grid_note_seeded", "zh", lon=h.lon, lat=h.lat, unit=unit)
            if seeded
            else t("regions.grid_note", "zh", unit=unit)
        )
        grids.append(
            Grid(
                grid_id=f"proposal-{g + 1}",
                name=name,
                lead_hospital=h.name,
                units=[inst.ids[i] for i in np.flatnonzero(assign == g)],
                kind=PROPOSAL_KIND,
                note=note,
                lead_lon=None if seeded else h.lon,
                lead_lat=None if seeded else h.lat,
            )
        )
    return grids


def _grid_table(
    inst: _Instance, grids: list[Grid], hosp: list[Hospital], assign: NDArray[np.int64]
) -> pd.DataFrame:
    """Per grid: its units, residents, deviation from the mean, mean minutes, within bounds."""
    pops = _grid_pops(inst, assign)
    minutes = inst.pop * inst.cost[np.arange(inst.m), assign]
    rows = []
    for g, grid in enumerate(grids):
        sel = assign == g
        sel_a = sel & inst.assessed
        pg = float(inst.pop[sel_a].sum())
        rows.append(
            {
                "grid_id": grid.grid_id,
                "name": grid.name,
                "lead_hospital": hosp[g].name,
                "root_unit": inst.names[inst.roots[g]],
                "n_units": int(sel.sum()),
                "population": float(pops[g]),
                "deviation": float(pops[g] / inst.mean - 1) if inst.mean > 0 else math.nan,
                "mean_minutes": float(minutes[sel_a].sum() / pg) if pg > 0 else math.nan,
                "within_bounds": bool(_within(inst, float(pops[g]))),
            }
        )
    return pd.DataFrame(rows)


def _within(inst: _Instance, pop: float) -> bool:
    return inst.lo * (1 - _REL) <= pop <= inst.hi * (1 + _REL)


@dataclass(frozen=True)
class _Outcome:
    """What the plan's notes say of it: the tolerance asked for, whether every grid meets the
    bounds (else the largest deviation reached), the travel-time model and the mean minutes."""

    tolerance: float
    met: bool
    max_deviation: float
    model_name: str
    mean_minutes: float


def _proposed_plan(
    unit_set: UnitSet, grids: list[Grid], sol: _Solution, outcome: _Outcome, notes: list[Note]
) -> GridPlan:
    """The proposal as a plan: its name in both languages, its notes (in Chinese)."""
    pref = unit_set.prefecture
    tolerance = outcome.tolerance
    name_code = "regions.plan_name" if outcome.met else "regions.plan_name_unmet"
    labels = {"prefecture": pref.name, "k": len(grids), "tolerance": tolerance}
    method = t(f"regions.method.{sol.method}", "zh")
    how = {"method": method, "status": sol.status, "tolerance": tolerance}
    plan_notes = [
        t("regions.plan_note", "zh"),
        t("regions.plan_method_met", "zh", **how)
        if outcome.met
        else t("regions.plan_method_unmet", "zh", best=outcome.max_deviation, **how),
        t("regions.plan_travel", "zh", model=outcome.model_name, minutes=outcome.mean_minutes)
        if all(g.lead_location is not None for g in grids)
        else t("regions.plan_travel_unlocated", "zh", model=outcome.model_name),
        *(n.text("zh") for n in notes),
    ]
    return GridPlan(
        plan_id=f"proposal-{pref.adcode}-k{len(grids)}",
        name={lang: t(name_code, lang, **labels) for lang in LANGS},
        prefecture=pref.adcode,
        grids=grids,
        notes=plan_notes,
    )


def _assemble(
    unit_set: UnitSet,
    inst: _Instance,
    hosp: list[Hospital],
    sol: _Solution,
    *,
    tolerance: float,
    elapsed: float,
    bridges: list[tuple[int, int]],
    model_name: str,
    notes: list[Note],
    seeded: bool,
) -> Proposal:
    """The :class:`Proposal` of the plan ``sol``: its grids, plan, balance and travel time."""
    u = unit_set.units
    assign = sol.assign
    grids = _proposed_grids(inst, hosp, assign, seeded)
    assignment = pd.Series([None] * len(u), index=u.index, name="grid_id", dtype=object)
    assignment.iloc[inst.rows] = [grids[g].grid_id for g in assign]
    pops = _grid_pops(inst, assign)
    bal = _balance(pops, inst.mean)
    met = all(_within(inst, float(p)) for p in pops)
    comps = grid_components(unit_set, assignment)
    minutes = np.where(inst.assessed, inst.pop * inst.cost[np.arange(inst.m), assign], 0.0)
    obj = float(minutes.sum())
    pa = float(inst.pop[inst.assessed].sum())
    mean_minutes = obj / pa if pa > 0 else math.nan
    outcome = _Outcome(tolerance, met, bal["max_deviation"], model_name, mean_minutes)
    plan = _proposed_plan(unit_set, grids, sol, outcome, notes)
    best_tol = sol.best_tolerance if sol.best_tolerance is not None else bal["max_deviation"]
    return Proposal(
        plan=plan,
        assignment=assignment,
        hospitals=list(hosp),
        root_units=[inst.ids[r] for r in inst.roots],
        method=sol.method,
        status=sol.status,
        tolerance=tolerance,
        bounds=(inst.lo, inst.hi),
        bounds_met=met,
        objective_person_minutes=obj,
        mean_minutes=mean_minutes,
        balance=bal,
        contiguous=all(len(comps.get(g.grid_id, [])) <= 1 for g in grids),
        solve_seconds=elapsed,
        gap=sol.gap,
        best_tolerance=None if met else best_tol,
        best_tolerance_proven=sol.proven and not met,
        free_units=[inst.ids[i] for i in np.flatnonzero(~inst.drawn)],
        not_assessed_population=float(inst.pop.sum()) - pa,
        bridges=[(inst.names[a], inst.names[b]) for a, b in bridges],
        cost_model=model_name,
        notes=notes,
        grid_table=_grid_table(inst, grids, hosp, assign),
    )
