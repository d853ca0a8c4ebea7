"""p-median at planners' sizes: Lagrangian bound, interchange, fixing, one time budget."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from benchmarks.bench_optimize import pmedian_check, pmedian_rows, synthetic
from gridplan.siting.costs import cost_matrix_straight
from gridplan.siting.cover import covering_model
from gridplan.siting.pmedian import PMedian, _radius_rows, pair_costs
from gridplan.solvers.budget import Deadline
from gridplan.solvers.highs import solve_mip
from gridplan.solvers.pmedian_lagrange import assign, fast_swap, fixed_by_bound, lagrangian_bound


def _problem(n: int, m: int, k: int, cutoff: float, seed: int = 3) -> PMedian:
    d_xy, w, c_xy = synthetic(n, m, seed)
    cost = cost_matrix_straight(d_xy, c_xy, "drive", 1.3, max_minutes=cutoff)
    return PMedian.from_cost_matrix(cost, w, k, max_minutes=cutoff)


def _old_radius_mip(p: PMedian) -> float:
    """The optimum of the radius MIP over every candidate (the model before this solve)."""
    sets, row_cost, offset = _radius_rows(p._in, p._b)
    model = covering_model(sets, site_cost=0.0, uncovered_cost=row_cost)
    model.cardinality(0, len(p._in.new), p.k)
    res = solve_mip(model.build(maximize=False, offset=offset), time_limit=math.inf, gap=0,
                    presolve=False)  # fmt: skip
    assert res.status == "optimal"
    return res.objective


@pytest.mark.parametrize(("seed", "k"), [(1, 3), (2, 6), (5, 10)])
def test_exact_equals_the_radius_mip_over_all_candidates(seed, k):
    p = _problem(700, 90, k, 20.0, seed)
    p.solve(gap=0)
    assert p.status == "optimal"
    assert p.objective == pytest.approx(_old_radius_mip(p), rel=1e-9)
    assert p.bound <= p.objective + 1e-6 and p.gap <= 1e-9


def test_fixing_never_drops_an_optimal_site():
    p = _problem(120, 12, 3, 15.0, 7)
    pc = pair_costs(p._in, p._b)
    costs = {s: assign(pc, np.array(s)).total for s in itertools.combinations(range(12), 3)}
    best = min(costs, key=costs.__getitem__)
    lag = lagrangian_bound(pc, 3, np.array([0, 1, 2]), Deadline(math.inf), gap=0)
    assert lag.bound <= costs[best] + 1e-6
    out, into = fixed_by_bound(pc, 3, lag.mu, costs[best] * (1 + 1e-12))
    assert not out[list(best)].any()
    assert set(np.flatnonzero(into)) <= set(best)


def test_fast_swap_ends_where_no_single_swap_improves():
    p = _problem(300, 25, 4, 20.0, 11)
    pc = pair_costs(p._in, p._b)
    sites = fast_swap(pc, np.array([0, 1, 2, 3]), Deadline(math.inf))
    here = assign(pc, sites).total
    for pos, c in itertools.product(range(4), range(25)):
        if c in sites:
            continue
        other = sites.copy()
        other[pos] = c
        assert assign(pc, other).total >= here - 1e-6 * here


def test_a_tiny_time_limit_still_answers_with_an_honest_gap():
    p = _problem(2_000, 200, 10, 30.0, 13)
    p.solve(time_limit=1e-3, gap=0)
    assert len(p.sites) == 10
    assert p.objective <= p.greedy.objective + 1e-6
    assert p.status in {"optimal", "time_limit"}
    assert p.bound <= p.objective
    assert p.gap == pytest.approx((p.objective - p.bound) / p.objective)


def test_small_benchmark_proves_one_percent_and_agrees_with_cbc():
    d_xy, w, c_xy = synthetic(2_000, 200)
    rows = pmedian_rows(d_xy, w, c_xy, 10, 30.0, 120.0)
    greedy_row, exact_row = rows
    assert exact_row[5] == "optimal" and exact_row[3] <= 0.01
    assert exact_row[1] <= greedy_row[1]
    ours, theirs = pmedian_check(d_xy[:300], w[:300], c_xy[:40], 5, 30.0)
    assert ours == pytest.approx(theirs, rel=1e-9)
