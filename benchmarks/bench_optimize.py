"""MCLP at Shijiazhuang: 20,000 demand points × 2,000 candidate cells, k = 10 new sites.

Instance: the census surface of Shijiazhuang (``build_units("130100")``, 100 m
cells, ≈1.4 M populated cells, 10.9 M residents on the map) aggregated to at
most 20,000 demand points (population-weighted block centroids,
:func:`gridplan.siting.demand.demand_points`), 2,000 candidate cells
(:func:`gridplan.siting.demand.candidate_grid`) and straight-line minutes
(:func:`gridplan.siting.costs.cost_matrix_straight`, detour 1.3) within the
coverage threshold.  No existing facilities: every resident counts.

Headline setting: e-bike (15 km/h) within 15 minutes, where the instance is
not trivial (greedy is ~2 % below the optimum and HiGHS has to branch).
Walking 15 minutes is trivial (greedy is optimal); driving 10 and 15 minutes
are harder and are shown as extra rows (``--also``).

Rows: lazy greedy (CELF), greedy + swap local search, the exact solve at a
relative gap ≤ 0.1 % two ways: the covering MIP in HiGHS alone (warm-started
with greedy + swap) and LP probing (the default: reduced-cost fixing, then
``y_j = 1`` probes that fix sites, the MIP only on what is left;
:mod:`gridplan.siting.mclp_probe`), and PySAL spopt (PuLP + CBC) on the same matrix; the
ratio is spopt's seconds (building its PuLP model + CBC) over ours (the
``solve`` call, model building included).  The cost matrix (shared by both)
is timed separately.

p-median rows (``--pmedian``, default on): the same demand and candidates,
driving with a 30-minute cutoff (a resident with no open site within it is
charged 30 minutes), k = 10: greedy, then the exact solve (Lagrangian bound +
fast interchange, the radius MIP of the sites left only when needed) within
``--pmedian-time-limit`` seconds and a 1 % gap.  Before this solve the radius
MIP alone (784k rows, 23M entries) returned after 200 s with a 120 s limit and
an 87 % gap.  The independent check solves a sub-instance (``--check-demand``
× ``--check-candidates``, dense) with spopt (PuLP + CBC) and with ours at gap 0.

Run: ``.venv/bin/python -m benchmarks.bench_optimize`` (about 10 minutes, most
of it spopt building its model); ``--no-spopt`` for the HiGHS rows only;
``--small`` a seeded synthetic instance of 2,000 × 200 (seconds; CI runs it).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from gridplan.plan.units import build_units
from gridplan.siting.costs import cost_matrix_straight
from gridplan.siting.demand import candidate_grid, demand_points
from gridplan.siting.mclp import MCLP
from gridplan.siting.pmedian import PMedian
from gridplan.surface.grid import census_surface


def run_spopt(cost, weights, threshold, k, time_limit: float | None) -> tuple[float, float, float]:
    """spopt's MCLP on the same matrix: (objective, build seconds, solve seconds)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pulp
        from spopt import locate

        dense = cost.to_dense()
        dense[~np.isfinite(dense)] = 1e9
        t0 = time.perf_counter()
        model = locate.MCLP.from_cost_matrix(
            dense, weights, service_radius=threshold, p_facilities=k
        )
        built = time.perf_counter() - t0
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
        solved = time.perf_counter() - t0 - built
    return float(pulp.value(model.problem.objective)), built, solved


def pmedian_rows(
    demand_xy: np.ndarray,
    weights: np.ndarray,
    cand_xy: np.ndarray,
    k: int,
    cutoff: float,
    time_limit: float,
) -> list[tuple[str, float, float, float, float, str]]:
    """p-median, driving within ``cutoff`` minutes: (method, objective, bound, gap, seconds,
    status) of greedy and of the exact solve at a 1 % gap within ``time_limit``."""
    cost = cost_matrix_straight(demand_xy, cand_xy, "drive", 1.3, max_minutes=cutoff)
    problem = PMedian.from_cost_matrix(cost, weights, k, max_minutes=cutoff)
    exact = problem.solve(time_limit=time_limit, gap=0.01)
    g = exact.greedy
    assert g is not None
    g_gap = (g.objective - exact.bound) / g.objective
    rows = [("greedy (lazy, CELF)", g.objective, exact.bound, g_gap, g.seconds, "greedy")]
    rows.append(
        ("Lagrangian + swap (+ MIP)", exact.objective, exact.bound, exact.gap, exact.seconds,
         exact.status)
    )  # fmt: skip
    return rows


def pmedian_check(
    demand_xy: np.ndarray, weights: np.ndarray, cand_xy: np.ndarray, k: int, cutoff: float
) -> tuple[float, float]:
    """Ours (gap 0) and spopt's (PuLP + CBC) p-median objective on a dense sub-instance with
    times capped at ``cutoff`` (the penalty our cutoff model charges)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pulp
        from spopt import locate

        cost = cost_matrix_straight(demand_xy, cand_xy, "drive", 1.3).to_dense()
        capped = np.minimum(cost, cutoff)
        ours = PMedian.from_cost_matrix(capped, weights, k).solve(gap=0).objective
        model = locate.PMedian.from_cost_matrix(capped, weights, p_facilities=k)
        model.solve(pulp.PULP_CBC_CMD(msg=False))
    return ours, float(pulp.value(model.problem.objective))


def synthetic(n: int, m: int, seed: int = 13) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded instance: ``n`` demand points with lognormal weights and ``m`` candidates,
    uniform in a 60 km square (illustrative, not a real city)."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 60_000, (n, 2))
    w = np.round(rng.lognormal(6.0, 1.0, n))
    c = rng.uniform(0, 60_000, (m, 2))
    return d, w, c


def print_pmedian(args: argparse.Namespace, d_xy, w, c_xy, label: str) -> None:
    print(f"\n{label}: p-median, drive, cutoff {args.cutoff:g} min, k = {args.k}\n")
    print("| method | objective (resident-minutes) | bound | gap | seconds | status |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, obj, bound, gap, secs, status in pmedian_rows(
        d_xy, w, c_xy, args.k, args.cutoff, args.pmedian_time_limit
    ):
        print(f"| {name} | {obj:,.0f} | {bound:,.0f} | {fmt_gap(gap)} | {secs:.2f} | {status} |")
    if not args.no_spopt:
        nd, nc = args.check_demand, args.check_candidates
        ours, theirs = pmedian_check(d_xy[:nd], w[:nd], c_xy[:nc], args.k, args.cutoff)
        same = abs(ours - theirs) <= 1e-6 * max(ours, theirs)
        print(
            f"\n- independent check on {nd:,} × {nc:,} (dense, times capped at the cutoff): "
            f"ours {ours:,.2f}, spopt (PuLP + CBC) {theirs:,.2f}: {'equal' if same else 'DIFFER'}"
        )


def print_mclp(args: argparse.Namespace, d_xy, w, c_xy, settings) -> None:
    """The MCLP rows of each ``(mode, minutes, with spopt)`` setting, then the notes."""
    print("| setting | method | objective (residents covered) | coverage | gap | seconds | ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    notes = []
    for mode, minutes, with_spopt in settings:
        t = time.perf_counter()
        cost = cost_matrix_straight(d_xy, c_xy, mode, 1.3, max_minutes=minutes)
        matrix_s = time.perf_counter() - t
        setting = f"{mode} {minutes:g} min, k = {args.k}"
        problem = MCLP.from_cost_matrix(cost, w, minutes, args.k)
        total = problem.total_weight

        greedy = problem.solve("greedy", polish=False)
        g_obj, g_s = greedy.objective, greedy.seconds
        polished = problem.solve("greedy")
        p_obj, p_s = polished.objective, polished.seconds
        mip = problem.solve(time_limit=args.time_limit, gap=args.gap, probe=False)
        m_obj, m_s, m_gap, m_status = mip.objective, mip.seconds, mip.gap, mip.status
        exact = problem.solve(time_limit=args.time_limit, gap=args.gap)
        e_obj, e_s, e_gap, e_status = exact.objective, exact.seconds, exact.gap, exact.status
        e_bound = exact.bound
        probe = exact.probe
        rows = [
            ("greedy (lazy, CELF)", g_obj, (e_bound - g_obj) / g_obj, g_s),
            ("greedy + swap", p_obj, (e_bound - p_obj) / p_obj, p_s),
            (f"exact, HiGHS MIP alone ({m_status})", m_obj, m_gap, m_s),
            (f"exact, LP probing ({e_status})", e_obj, e_gap, e_s),
        ]
        for name, obj, gap, secs in rows:
            print(
                f"| {setting} | {name} | {obj:,.0f} | {obj / total * 100:.2f} % | "
                f"{fmt_gap(gap)} | {secs:.3f} | |"
            )
        if probe is not None:
            notes.append(
                f"{setting}, LP probing: {probe.dropped:,} candidates dropped by reduced-cost "
                f"fixing, {probe.fixed:,} fixed by {probe.lps:,} LP solves"
                f"{', then the HiGHS MIP' if probe.mip else ''}."
            )
        notes.append(
            f"{setting}: {cost.n_pairs:,} pairs within {minutes:g} min "
            f"(matrix {matrix_s:.2f} s); greedy gaps are against HiGHS's bound."
        )
        if with_spopt:
            s_obj, built, solved = run_spopt(cost, w, minutes, args.k, args.spopt_time_limit)
            s_total = built + solved
            same = abs(s_obj - e_obj) <= args.gap * max(s_obj, e_obj)
            print(
                f"| {setting} | spopt (PuLP + CBC) | {s_obj:,.0f} | {s_obj / total * 100:.2f} % | "
                f"— | {s_total:.1f} | {s_total / e_s:,.0f}× |"
            )
            notes.append(
                f"spopt: {built:.1f} s building the PuLP model, {solved:.1f} s in CBC "
                f"(CBC alone is {solved / e_s:,.1f}× our solve); objectives "
                f"{'equal' if same else 'DIFFER'} within the {args.gap * 100:g} % gap "
                f"(ours {e_obj:,.2f}, spopt {s_obj:,.2f})."
            )
    print()
    for note in notes:
        print(f"- {note}")


def fmt_gap(gap: float) -> str:
    return "—" if math.isnan(gap) else f"{gap * 100:.3f} %"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="ebike", choices=["walk", "ebike", "drive"])
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--demand", type=int, default=20_000)
    ap.add_argument("--candidates", type=int, default=2_000)
    ap.add_argument("--gap", type=float, default=1e-3)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--no-spopt", action="store_true", help="skip the spopt (PuLP + CBC) row")
    ap.add_argument("--spopt-time-limit", type=float, default=None)
    ap.add_argument(
        "--also",
        default="walk:15,drive:10,drive:15",
        help="extra mode:minutes settings, HiGHS and greedy only ('' for none)",
    )
    ap.add_argument("--no-pmedian", action="store_true", help="skip the p-median rows")
    ap.add_argument("--no-mclp", action="store_true", help="skip the MCLP rows")
    ap.add_argument("--cutoff", type=float, default=30.0, help="p-median cutoff (minutes)")
    ap.add_argument("--pmedian-time-limit", type=float, default=120.0)
    ap.add_argument("--check-demand", type=int, default=600)
    ap.add_argument("--check-candidates", type=int, default=80)
    ap.add_argument("--small", action="store_true", help="a synthetic 2,000 × 200 instance")
    args = ap.parse_args(argv)
    if args.small:
        d_xy, w, c_xy = synthetic(2_000, 200)
        print_pmedian(args, d_xy, w, c_xy, "synthetic 2,000 × 200 (illustrative)")
        if not args.no_mclp:
            print("\nsynthetic 2,000 × 200 (illustrative): MCLP\n")
            print_mclp(args, d_xy, w, c_xy, [("drive", 10.0, False)])
        return

    t0 = time.perf_counter()
    units = build_units("130100")
    surface = census_surface(units, 100.0)
    demand = demand_points(surface, args.demand)
    cand = candidate_grid(surface, max_candidates=args.candidates)
    prep = time.perf_counter() - t0
    print(
        f"Shijiazhuang 100 m: {int((surface.population > 0).sum()):,} populated cells, "
        f"{demand.weights.sum():,.0f} residents → {len(demand):,} demand points "
        f"(blocks of {demand.block_m:.0f} m), {len(cand):,} candidates; "
        f"prepared in {prep:.1f} s\n"
    )
    if not args.no_pmedian:
        print_pmedian(args, demand.xy, demand.weights, cand.xy, "Shijiazhuang")
    if args.no_mclp:
        return
    settings = [(args.mode, args.minutes, not args.no_spopt)]
    for item in filter(None, args.also.split(",")):
        mode, minutes = item.split(":")
        if (mode, float(minutes)) != (args.mode, args.minutes):
            settings.append((mode, float(minutes), False))

    print_mclp(args, demand.xy, demand.weights, cand.xy, settings)


if __name__ == "__main__":
    main()
