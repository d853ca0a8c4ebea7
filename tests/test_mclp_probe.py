"""The exact MCLP by LP probing (gridplan.siting.mclp_probe): exact optima against brute
force and against the plain HiGHS MIP, honest bounds, reduced-cost fixing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gridplan.siting.costs import cost_matrix_straight
from gridplan.siting.mclp import MCLP
from gridplan.siting.mclp_probe import _CoverLP, lagrangian_fixing, probe_solve
from gridplan.solvers.budget import Deadline


def instance(seed: int, n: int, m: int, scale: float):
    rng = np.random.default_rng(seed)
    d_xy = rng.uniform(0, scale, (n, 2))
    c_xy = rng.uniform(0, scale, (m, 2))
    minutes = np.hypot(*(d_xy[:, None, :] - c_xy[None, :, :]).transpose(2, 0, 1))
    return minutes, rng.integers(1, 200, n).astype(float)


def brute_force(d, w, t, k) -> float:
    cover = d <= t
    return max(
        float(w[cover[:, list(s)].any(axis=1)].sum())
        for s in itertools.combinations(range(d.shape[1]), k)
    )


def clustered(seed: int, n: int, m: int, t: float):
    """Clustered demand and a dense candidate grid (illustrative): the LP opens fractions of
    many neighbouring candidates, as on city instances, so probing has work to do."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 40_000, (12, 2))
    d_xy = centres[rng.integers(0, 12, n)] + rng.normal(0, 3_000, (n, 2))
    w = np.round(rng.lognormal(5.0, 1.0, n))
    c_xy = rng.uniform(0, 40_000, (m, 2))
    return cost_matrix_straight(d_xy, c_xy, "drive", 1.3, max_minutes=t), w


def city(seed: int, n: int, grid: int, t: float, size: float = 40_000.0):
    """Five population blobs and a candidate grid (illustrative, not a real city): the LP
    opens fractions of many neighbouring candidates, so probing has sites to fix."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.2 * size, 0.8 * size, (5, 2))
    spread = rng.uniform(2_000, 6_000, 5)
    which = rng.integers(0, 5, n)
    d_xy = centres[which] + rng.normal(0, 1, (n, 2)) * spread[which, None]
    w = np.round(rng.lognormal(5, 0.8, n))
    xs = np.linspace(0, size, grid)
    c_xy = np.array([(x, y) for x in xs for y in xs])
    return cost_matrix_straight(d_xy, c_xy, "drive", 1.3, max_minutes=t), w


@pytest.mark.parametrize(("seed", "t"), [(0, 10.0), (1, 15.0)])
def test_probing_fixes_sites_and_keeps_the_optimum(seed, t):
    cost, w = city(seed, 2_000, 15, t)
    probed = MCLP.from_cost_matrix(cost, w, t, 6).solve(gap=0)
    plain = MCLP.from_cost_matrix(cost, w, t, 6).solve(gap=0, probe=False)
    assert probed.probe is not None and probed.probe.fixed > 0  # probes did fix sites
    assert plain.status == probed.status == "optimal"
    assert probed.objective == pytest.approx(plain.objective, rel=1e-9)
    assert probed.bound >= plain.objective * (1 - 1e-9)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_probing_in_threads_keeps_the_optimum(monkeypatch, threads):
    """The probes dealt round one to three LPs (threads) end at the same optimum as the
    plain MIP, and the fixings of every thread reach the LP solved next."""
    from gridplan.siting import mclp_probe

    monkeypatch.setattr(mclp_probe, "_probe_threads", lambda: threads)
    cost, w = city(1, 2_000, 15, 15.0)
    probed = MCLP.from_cost_matrix(cost, w, 15.0, 6).solve(gap=0)
    plain = MCLP.from_cost_matrix(cost, w, 15.0, 6).solve(gap=0, probe=False)
    assert probed.probe is not None and probed.probe.fixed > 0
    assert probed.status == "optimal"
    assert probed.objective == pytest.approx(plain.objective, rel=1e-9)
    assert probed.bound >= plain.objective * (1 - 1e-9)


def test_the_support_mip_only_ever_improves_the_incumbent(monkeypatch):
    """Without the root LP's support MIP the same optimum is proven (it is a heuristic)."""
    from gridplan.siting import mclp_probe

    cost, w = city(0, 2_000, 15, 10.0)
    with_mip = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0)
    monkeypatch.setattr(mclp_probe, "_support_mip", lambda *a, **k: None)
    without = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0)
    assert with_mip.status == without.status == "optimal"
    assert with_mip.objective == pytest.approx(without.objective, rel=1e-9)


def test_mip_fallback_keeps_the_optimum(monkeypatch):
    import gridplan.siting.mclp_probe as mclp_probe

    def fix_nothing(lp, y, free, keep, inc, **kw):
        return kw["outside"], 0

    cost, w = city(0, 2_000, 15, 10.0)
    plain = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0, probe=False)
    monkeypatch.setattr(mclp_probe, "_probe_round", fix_nothing)
    p = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0)
    assert p.probe is not None and p.probe.mip and p.probe.fixed == 0
    assert p.status == "optimal"
    assert p.objective == pytest.approx(plain.objective, rel=1e-9)
    assert p.bound >= plain.objective * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [2, 3])
def test_probe_equals_brute_force(seed, k):
    d, w = instance(seed, n=60, m=14, scale=40.0)
    t = 9.0
    p = MCLP.from_cost_matrix(d, w, t, k).solve(gap=0)
    best = brute_force(d, w, t, k)
    assert p.probe is not None  # the probing path answered
    assert p.status == "optimal"
    assert p.objective == pytest.approx(best, rel=1e-12)
    assert p.bound >= best - 1e-6 and p.gap <= 1e-9
    assert len(set(p.sites.tolist())) == k


@pytest.mark.parametrize("seed", range(3))
def test_probe_equals_plain_mip_on_medium_instances(seed):
    cost, w = clustered(seed, 1_500, 150, 10.0)
    probed = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0)
    plain = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0, probe=False)
    assert plain.probe is None and probed.probe is not None
    assert plain.status == probed.status == "optimal"
    assert probed.objective == pytest.approx(plain.objective, rel=1e-9)
    assert probed.bound >= plain.objective * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_probe_bound_is_honest_at_a_gap(seed):
    cost, w = clustered(10 + seed, 1_500, 150, 10.0)
    exact = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0, probe=False).objective
    p = MCLP.from_cost_matrix(cost, w, 10.0, 6).solve(gap=0.01)
    assert p.bound >= exact * (1 - 1e-9)  # never below the true optimum
    assert p.objective <= exact * (1 + 1e-9)
    assert p.gap == pytest.approx((p.bound - p.objective) / p.objective, abs=1e-12)
    assert p.status == "optimal" and p.gap <= 0.01 + 1e-12


def test_probing_fixes_sites_on_a_clustered_instance():
    cost, w = clustered(3, 3_000, 300, 12.0)
    p = MCLP.from_cost_matrix(cost, w, 12.0, 8).solve(gap=1e-3)
    assert p.probe is not None
    assert p.probe.dropped + p.probe.fixed > 0
    assert p.probe.lps >= 2


def test_lagrangian_fixing_only_drops_sites_no_better_plan_contains():
    d, w = instance(7, n=50, m=12, scale=40.0)
    t, k = 9.0, 3
    p = MCLP.from_cost_matrix(d, w, t, k)
    cov = p._cov
    keep, _ = lagrangian_fixing(cov.a_t, cov.group_w, np.zeros(len(cov.group_w)), k, -1.0)
    assert len(keep) == len(p._in.new)  # a cutoff below every plan drops nothing
    lp = _CoverLP(cov.a, cov.group_w, k)
    lp.solve()
    cutoff = brute_force(d, w, t, k)
    keep, outside = lagrangian_fixing(cov.a_t, cov.group_w, lp.duals(), k, cutoff)
    assert 0 < len(keep) < len(p._in.new)
    for j in sorted(set(range(len(p._in.new))) - set(keep.tolist())):
        others = [c for c in range(d.shape[1]) if c != j]
        best_with_j = max(
            float(w[(d[:, [j, *s]] <= t).any(axis=1)].sum())
            for s in itertools.combinations(others, k - 1)
        )
        assert best_with_j <= outside + 1e-6 and outside < cutoff


def test_a_probe_stopped_below_the_cutoff_returns_a_bound_on_its_optimum():
    cost, w = clustered(4, 2_000, 200, 12.0)
    p = MCLP.from_cost_matrix(cost, w, 12.0, 6)
    lp = _CoverLP(p._cov.a, p._cov.group_w, 6)
    root, y = lp.solve()
    assert y is not None
    basis = lp.basis()
    for j in np.flatnonzero((y > 1e-6) & (y < 1 - 1e-6))[:5]:
        lp.restart_from(basis)
        lp.set_site(int(j), 1.0, 1.0)
        forced, y_forced = lp.solve()  # to the optimum
        assert y_forced is not None and forced <= root + 1e-6
        lp.restart_from(basis)
        stopped, none = lp.solve(stop_below=forced + 0.01 * root)  # the cutoff above it
        assert none is None  # stopped early: a bound, not a solution
        assert forced - 1e-6 <= stopped < forced + 0.01 * root
        lp.restart_from(basis)
        again, y_again = lp.solve(stop_below=forced - 1.0)  # never below: solved through
        assert y_again is not None and again == pytest.approx(forced, abs=1e-6)
        lp.set_site(int(j), 0.0, 1.0)


def test_probe_honours_the_deadline():
    cost, w = clustered(5, 3_000, 300, 12.0)
    p = MCLP.from_cost_matrix(cost, w, 12.0, 8)
    local = list(range(8))
    res = probe_solve(p._cov, len(p._in.new), 8, local, gap=0.0, deadline=Deadline(0.0))
    assert res.status in {"optimal", "time_limit"}
    assert res.bound >= res.objective - 1e-6 and len(res.sites) == 8


def test_benchmark_small_mode_rows(capsys):
    from benchmarks.bench_optimize import print_mclp, synthetic

    d_xy, w, c_xy = synthetic(2_000, 200)

    class Args:
        k, time_limit, gap = 10, 60.0, 1e-3

    print_mclp(Args(), d_xy, w, c_xy, [("drive", 10.0, False)])
    rows = [line.split("|") for line in capsys.readouterr().out.splitlines()]
    found = {r[2].strip(): r for r in rows if len(r) > 7 and "exact" in r[2]}
    mip = found["exact, HiGHS MIP alone (optimal)"]
    probe = found["exact, LP probing (optimal)"]
    cov = [float(r[3].replace(",", "")) for r in (mip, probe)]
    assert abs(cov[0] - cov[1]) <= 1e-3 * max(cov)  # both within the gap of the optimum
    assert float(probe[5].strip(" %")) <= 0.1 + 1e-9
