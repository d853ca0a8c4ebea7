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

Rows: lazy greedy (CELF), greedy + swap local search, the exact MIP (HiGHS,
relative gap ≤ 0.1 %), and PySAL spopt (PuLP + CBC) on the same matrix; the
ratio is spopt's seconds (building its PuLP model + CBC) over ours (the
``solve`` call, model building included).  The cost matrix (shared by both)
is timed separately.

Run: ``.venv/bin/python -m benchmarks.bench_optimize`` (about 10 minutes, most
of it spopt building its model); ``--no-spopt`` for the HiGHS rows only.
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


def fmt_gap(gap: float) -> str:
    return "—" if math.isnan(gap) else f"{gap * 100:.3f} %"


def main() -> None:
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
    args = ap.parse_args()

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
    settings = [(args.mode, args.minutes, not args.no_spopt)]
    for item in filter(None, args.also.split(",")):
        mode, minutes = item.split(":")
        if (mode, float(minutes)) != (args.mode, args.minutes):
            settings.append((mode, float(minutes), False))

    print("| setting | method | objective (residents covered) | coverage | gap | seconds | ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    notes = []
    for mode, minutes, with_spopt in settings:
        t = time.perf_counter()
        cost = cost_matrix_straight(demand.xy, cand.xy, mode, 1.3, max_minutes=minutes)
        matrix_s = time.perf_counter() - t
        setting = f"{mode} {minutes:g} min, k = {args.k}"
        problem = MCLP.from_cost_matrix(cost, demand.weights, minutes, args.k)
        total = problem.total_weight

        greedy = problem.solve("greedy", polish=False)
        g_obj, g_s = greedy.objective, greedy.seconds
        polished = problem.solve("greedy")
        p_obj, p_s = polished.objective, polished.seconds
        exact = problem.solve(time_limit=args.time_limit, gap=args.gap)
        e_obj, e_s, e_gap, e_status = exact.objective, exact.seconds, exact.gap, exact.status
        e_bound = exact.bound
        rows = [
            ("greedy (lazy, CELF)", g_obj, (e_bound - g_obj) / g_obj, g_s),
            ("greedy + swap", p_obj, (e_bound - p_obj) / p_obj, p_s),
            (f"exact, HiGHS ({e_status})", e_obj, e_gap, e_s),
        ]
        for name, obj, gap, secs in rows:
            print(
                f"| {setting} | {name} | {obj:,.0f} | {obj / total * 100:.2f} % | "
                f"{fmt_gap(gap)} | {secs:.3f} | |"
            )
        notes.append(
            f"{setting}: {cost.n_pairs:,} pairs within {minutes:g} min "
            f"(matrix {matrix_s:.2f} s); greedy gaps are against HiGHS's bound."
        )
        if with_spopt:
            s_obj, built, solved = run_spopt(
                cost, demand.weights, minutes, args.k, args.spopt_time_limit
            )
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


if __name__ == "__main__":
    main()
