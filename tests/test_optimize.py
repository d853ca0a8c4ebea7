"""Sub-centre siting (gridplan.siting.models): exact optima against brute force and PySAL spopt."""

from __future__ import annotations

import itertools
import math
import re
import string
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.optimize import linprog

from gridplan.errors import InputError
from gridplan.i18n import error_text, text_of
from gridplan.siting.capacitated import CapacitatedMCLP, CapacitatedPMedian
from gridplan.siting.costs import (
    CostMatrix,
    cost_matrix_model,
    cost_matrix_raster,
    cost_matrix_straight,
)
from gridplan.siting.demand import (
    candidate_grid,
    candidates_from_facilities,
    candidates_from_lonlat,
    demand_points,
)
from gridplan.siting.kmeans import KMeansSiting
from gridplan.siting.mclp import MCLP, coverage_curve, sites_needed
from gridplan.siting.pmedian import PMedian
from gridplan.siting.target import SetCoverTarget
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.costdistance import cost_distance
from gridplan.travel.straight import StraightLineModel

CRS = "EPSG:32650"  # UTM 50N: Shijiazhuang's zone

# --- instances and brute force ------------------------------------------------------


def instance(seed: int, n: int = 30, m: int = 10, *, scale: float = 30.0):
    """Demand and candidate points in a square; minutes = distance; integer weights."""
    rng = np.random.default_rng(seed)
    d_xy = rng.uniform(0, scale, (n, 2))
    c_xy = rng.uniform(0, scale, (m, 2))
    minutes = np.hypot(*(d_xy[:, None, :] - c_xy[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 200, n).astype(float)
    return minutes, weights


def subsets(m: int, k: int, fixed: tuple[int, ...] = ()):
    free = [j for j in range(m) if j not in fixed]
    for s in itertools.combinations(free, k):
        yield list(s)


def bf_mclp(d, w, t, k, existing=()):
    base = (d[:, list(existing)] <= t).any(axis=1) if existing else np.zeros(len(w), bool)
    best = -1.0
    for s in subsets(d.shape[1], k, tuple(existing)):
        cov = (d[:, s] <= t).any(axis=1) if s else np.zeros(len(w), bool)
        best = max(best, float(w[cov & ~base].sum()))
    return best


def bf_pmedian(d, w, k, existing=(), penalty=math.inf):
    best = math.inf
    for s in subsets(d.shape[1], k, tuple(existing)):
        cols = s + list(existing)
        cost = np.minimum(d[:, cols].min(axis=1) if cols else np.inf, penalty)
        best = min(best, float((w * cost).sum()))
    return best


def bf_set_cover(d, w, t, target, existing=()):
    m = d.shape[1]
    free = [j for j in range(m) if j not in existing]
    for k in range(len(free) + 1):
        for s in subsets(m, k, tuple(existing)):
            cols = s + list(existing)
            cov = (d[:, cols] <= t).any(axis=1) if cols else np.zeros(len(w), bool)
            if w[cov].sum() >= target * w.sum() - 1e-9:
                return k
    return None


def transport_lp(d, w, sites, cap, *, t=None, penalty=None):
    """Best fractional assignment of demand to open ``sites`` (an independent LP via scipy).

    Coverage (``t``): maximise residents served within t.  Median: minimise
    Σ residents × minutes, unserved residents at ``penalty`` (if given).
    """
    n = len(w)
    pairs = [(i, j) for i in range(n) for j in sites if (t is None or d[i, j] <= t)]
    if penalty is not None:
        pairs = [(i, j) for i, j in pairs if d[i, j] < penalty]
    if not pairs and t is not None:
        return 0.0
    nv = len(pairs) + (n if penalty is not None else 0)
    c = np.zeros(nv)
    a_ub, b_ub, a_eq, b_eq = [], [], [], []
    for p, (i, j) in enumerate(pairs):
        c[p] = -w[i] if t is not None else w[i] * d[i, j]
    if penalty is not None:
        c[len(pairs) :] = w * penalty
    for i in range(n):
        row = np.zeros(nv)
        for p, (ii, _) in enumerate(pairs):
            if ii == i:
                row[p] = w[i]
        if penalty is not None:
            row[len(pairs) + i] = w[i]
        if t is not None:
            a_ub.append(row)
            b_ub.append(w[i])
        else:
            a_eq.append(row)
            b_eq.append(w[i])
    for j in sites:
        row = np.zeros(nv)
        for p, (i, jj) in enumerate(pairs):
            if jj == j:
                row[p] = w[i]
        a_ub.append(row)
        b_ub.append(cap)
    res = linprog(
        c,
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=np.array(b_ub) if b_ub else None,
        A_eq=np.array(a_eq) if a_eq else None,
        b_eq=np.array(b_eq) if b_eq else None,
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        return None
    return -res.fun if t is not None else res.fun


# --- exact optima against brute force -------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_mclp_equals_brute_force(seed, k):
    d, w = instance(seed, n=40, m=12)
    t = 9.0
    p = MCLP.from_cost_matrix(d, w, t, k).solve(gap=0)
    assert p.status == "optimal"
    assert p.objective == pytest.approx(bf_mclp(d, w, t, k), rel=1e-12)
    assert len(p.sites) == k and len(set(p.sites)) == k
    assert p.gap <= 1e-9
    assert p.greedy.objective <= p.objective + 1e-9
    assert p.bound >= p.objective - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_mclp_with_existing_facilities_kept(seed):
    d, w = instance(seed, n=40, m=12)
    t, k, existing = 9.0, 2, (0, 5)
    p = MCLP.from_cost_matrix(d, w, t, k, existing=list(existing)).solve(gap=0)
    assert p.objective == pytest.approx(bf_mclp(d, w, t, k, existing), rel=1e-12)
    assert not set(p.sites) & set(existing)
    # demand covered by the existing facilities counts as covered, not in the objective
    base = (d[:, list(existing)] <= t).any(axis=1)
    cov = (d[:, list(p.sites) + list(existing)] <= t).any(axis=1)
    assert p.covered == pytest.approx(w[cov].sum())
    assert p.objective == pytest.approx(w[cov & ~base].sum())
    assert p.coverage == pytest.approx(w[cov].sum() / w.sum())
    # the same through baseline minutes instead of matrix columns
    keep = [j for j in range(d.shape[1]) if j not in existing]
    q = MCLP.from_cost_matrix(d[:, keep], w, t, k, baseline_minutes=d[:, list(existing)].min(1))
    q.solve(gap=0)
    assert q.objective == pytest.approx(p.objective)
    assert q.covered == pytest.approx(p.covered)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_pmedian_equals_brute_force(seed, k):
    d, w = instance(seed + 10, n=30, m=11)
    p = PMedian.from_cost_matrix(d, w, k).solve(gap=0)
    assert p.status == "optimal"
    assert p.objective == pytest.approx(bf_pmedian(d, w, k), rel=1e-9)
    assert p.greedy.objective >= p.objective - 1e-6
    assert p.mean_minutes == pytest.approx(p.objective / w.sum())
    assert p.unserved == 0
    assert len(p.sites) == k


@pytest.mark.parametrize("seed", range(4))
def test_pmedian_with_cutoff_and_existing(seed):
    d, w = instance(seed + 20, n=30, m=11)
    cutoff, k, existing = 12.0, 2, (3,)
    # sparse matrix of the pairs within the cutoff; beyond it a resident costs the cutoff
    cm = cost_matrix_from_dense_cutoff(d, cutoff)
    p = PMedian.from_cost_matrix(cm, w, k, existing=list(existing), max_minutes=cutoff)
    p.solve(gap=0)
    assert p.objective == pytest.approx(bf_pmedian(d, w, k, existing, penalty=cutoff), rel=1e-9)
    assert 3 not in p.sites
    far = d[:, [*p.sites, 3]].min(axis=1) > cutoff
    assert p.unserved == pytest.approx(w[far].sum())
    # an explicit penalty
    q = PMedian.from_cost_matrix(cm, w, k, unreachable_minutes=30.0).solve(gap=0)
    assert q.objective == pytest.approx(bf_pmedian(np.where(d <= cutoff, d, 30.0), w, k))
    # without max_minutes a sparse matrix's largest stored time is the penalty
    r = PMedian.from_cost_matrix(cm, w, k).solve(gap=0)
    assert r.objective == pytest.approx(bf_pmedian(d, w, k, penalty=d[d <= cutoff].max()))


def cost_matrix_from_dense_cutoff(d, cutoff):
    """A scipy sparse matrix of the pairs within ``cutoff`` (absent pairs: unreachable)."""
    r, c = np.nonzero(d <= cutoff)
    return sp.coo_matrix((d[r, c], (r, c)), shape=d.shape)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("target", [0.9, 0.95, 1.0])
def test_set_cover_target_equals_brute_force(seed, target):
    d, w = instance(seed + 30, n=35, m=12)
    t = 12.0
    p = SetCoverTarget.from_cost_matrix(d, w, t, target)
    want = bf_set_cover(d, w, t, target)
    p.solve(gap=0)
    if want is None:
        assert p.status == "infeasible" and not p.feasible
        assert p.max_coverage < target
        return
    assert p.status == "optimal"
    assert p.objective == want == len(p.sites)
    assert p.coverage >= target - 1e-12
    assert p.greedy.objective >= p.objective


def test_set_cover_target_with_existing():
    d, w = instance(41, n=35, m=12)
    t, existing = 12.0, (2, 7)
    p = SetCoverTarget.from_cost_matrix(d, w, t, 0.95, existing=list(existing)).solve(gap=0)
    assert p.objective == bf_set_cover(d, w, t, 0.95, existing)
    assert p.coverage >= 0.95 and not set(p.sites) & set(existing)


def test_set_cover_target_infeasible_is_reported():
    d, w = instance(3, n=20, m=5)
    d[0, :] = 100.0  # one demand point no candidate reaches
    p = SetCoverTarget.from_cost_matrix(d, w, 10.0, 1.0).solve()
    assert p.status == "infeasible"
    assert len(p.sites) == 0 and math.isnan(p.objective)
    assert p.max_coverage < 1.0
    assert "无法达到" in p.message("zh") and "cannot be reached" in p.message("en")
    assert f"{p.max_coverage * 100:.1f}" in p.message("en")
    ok = SetCoverTarget.from_cost_matrix(d, w, 10.0, p.max_coverage * 0.99).solve()
    assert ok.status == "optimal" and ok.message() == ""


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_capacitated_mclp_equals_brute_force(seed, k):
    d, w = instance(seed + 50, n=14, m=8)
    t, cap = 10.0, 350.0
    p = CapacitatedMCLP.from_cost_matrix(d, w, t, k, cap).solve(gap=0)
    best = max(transport_lp(d, w, s, cap, t=t) for s in subsets(8, k))
    assert p.status == "optimal"
    assert p.objective == pytest.approx(best, rel=1e-7, abs=1e-6)
    check_capacitated(p, d, w, cap, k, t=t)
    assert p.greedy.objective <= p.objective + 1e-6


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_capacitated_pmedian_equals_brute_force(seed, k):
    d, w = instance(seed + 60, n=14, m=8)
    cap = w.sum() / k * 0.8 + 50  # binding capacities
    p = CapacitatedPMedian.from_cost_matrix(d, w, k, cap, unreachable_minutes=40.0)
    p.solve(gap=0)
    values = [transport_lp(d, w, s, cap, penalty=40.0) for s in subsets(8, k)]
    best = min(v for v in values if v is not None)
    assert p.status == "optimal"
    assert p.objective == pytest.approx(best, rel=1e-7)
    check_capacitated(p, d, w, cap, k)
    assert p.greedy.objective >= p.objective - 1e-6


def test_capacitated_pmedian_without_fallback():
    d, w = instance(70, n=14, m=8)
    k = 3
    cap = w.sum() / 2.5
    p = CapacitatedPMedian.from_cost_matrix(d, w, k, cap).solve(gap=0)
    values = [transport_lp(d, w, s, cap) for s in subsets(8, k)]
    assert p.objective == pytest.approx(min(v for v in values if v is not None), rel=1e-7)
    check_capacitated(p, d, w, cap, k)
    served = p.flows.groupby("demand")["residents"].sum()
    assert np.allclose(served.reindex(range(len(w))).to_numpy(), w)  # everybody assigned
    too_small = CapacitatedPMedian.from_cost_matrix(d, w, k, w.sum() / 4).solve()
    assert too_small.status == "infeasible"


def test_capacitated_existing_columns_keep_their_capacity():
    d, w = instance(71, n=14, m=8)
    t, cap, k = 10.0, 300.0, 2
    p = CapacitatedMCLP.from_cost_matrix(d, w, t, k, cap, existing=[0]).solve(gap=0)
    best = max(transport_lp(d, w, [*s, 0], cap, t=t) for s in subsets(8, k, (0,)))
    assert p.objective == pytest.approx(best, rel=1e-7)
    assert 0 not in p.sites
    assert p.load[0] <= cap + 1e-6


def check_capacitated(p, d, w, cap, k, t=None):
    """Capacities, site count and the flows' consistency in a returned solution."""
    assert len(p.sites) == k and len(set(p.sites)) == k
    assert (p.load <= cap * (1 + 1e-9) + 1e-6).all()
    open_ = set(p.sites) | set(p.existing)
    assert set(p.flows["candidate"]) <= open_
    per_demand = p.flows.groupby("demand")["residents"].sum()
    assert (per_demand.to_numpy() <= w[per_demand.index.to_numpy()] * (1 + 1e-9) + 1e-6).all()
    if t is not None:
        fd = d[p.flows["demand"], p.flows["candidate"]]
        assert (fd <= t).all()
        assert p.flows["residents"].sum() == pytest.approx(p.objective, rel=1e-9)


# --- spopt as an oracle ---------------------------------------------------------------


class _Quiet:
    """spopt's classes, built and solved with PuLP's deprecation warnings silenced."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name):
        cls = getattr(self.module, name)

        class Wrapped:
            @staticmethod
            def from_cost_matrix(*args, **kwargs):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return cls.from_cost_matrix(*args, **kwargs)

        return Wrapped


@pytest.fixture(scope="module")
def spopt():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sp_locate = pytest.importorskip("spopt.locate")
        pulp = pytest.importorskip("pulp")

    def solve(problem):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            problem.solve(pulp.PULP_CBC_CMD(msg=False))
        return float(pulp.value(problem.problem.objective))

    return _Quiet(sp_locate), solve


@pytest.mark.parametrize("seed", range(4))
def test_mclp_equals_spopt(spopt, seed):
    locate, solve = spopt
    d, w = instance(seed + 100, n=60, m=15)
    for k in (2, 4):
        ours = MCLP.from_cost_matrix(d, w, 8.0, k).solve(gap=0)
        theirs = solve(locate.MCLP.from_cost_matrix(d, w, service_radius=8.0, p_facilities=k))
        assert ours.objective == pytest.approx(theirs, rel=1e-9)


def test_mclp_with_existing_equals_spopt_predefined(spopt):
    locate, solve = spopt
    d, w = instance(107, n=60, m=15)
    existing = np.zeros(15, dtype=int)
    existing[[1, 9]] = 1
    ours = MCLP.from_cost_matrix(d, w, 8.0, 3, existing=[1, 9]).solve(gap=0)
    theirs = solve(
        locate.MCLP.from_cost_matrix(
            d, w, service_radius=8.0, p_facilities=5, predefined_facilities_arr=existing
        )
    )
    assert ours.covered == pytest.approx(theirs, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_pmedian_equals_spopt(spopt, seed):
    locate, solve = spopt
    d, w = instance(seed + 110, n=40, m=12)
    for k in (1, 3):
        ours = PMedian.from_cost_matrix(d, w, k).solve(gap=0)
        theirs = solve(locate.PMedian.from_cost_matrix(d, w, p_facilities=k))
        assert ours.objective == pytest.approx(theirs, rel=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_full_set_cover_equals_spopt_lscp(spopt, seed):
    locate, solve = spopt
    d, w = instance(seed + 120, n=50, m=15)
    t = 10.0
    while not (d <= t).any(axis=1).all():
        t += 1.0
    ours = SetCoverTarget.from_cost_matrix(d, w, t, 1.0).solve(gap=0)
    theirs = solve(locate.LSCP.from_cost_matrix(d, service_radius=t))
    assert ours.objective == pytest.approx(theirs)


def test_capacitated_pmedian_fractional_at_most_spopt_single_source(spopt):
    locate, solve = spopt
    d, w = instance(130, n=25, m=8)
    cap = np.full(8, w.sum() / 2.5)
    ours = CapacitatedPMedian.from_cost_matrix(d, w, 3, cap).solve(gap=0)
    theirs = solve(locate.PMedian.from_cost_matrix(d, w, p_facilities=3, facility_capacities=cap))
    # splitting demand can only help: the fractional optimum is at most the single-source one
    assert ours.objective <= theirs * (1 + 1e-9)


# --- greedy ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_lazy_greedy_equals_plain_greedy(seed):
    rng = np.random.default_rng(seed)
    d, _ = instance(seed + 200, n=150, m=40)
    w = rng.integers(1, 4, 150).astype(float)  # many ties
    for k in (1, 5, 12):
        p = MCLP.from_cost_matrix(np.round(d), w, 7.0, k)
        lazy, plain = p.run_greedy(lazy=True), p.run_greedy(lazy=False)
        assert lazy.sites.tolist() == plain.sites.tolist()
        assert lazy.objective == plain.objective
        assert lazy.evaluations < plain.evaluations or k == 1
        q = PMedian.from_cost_matrix(np.round(d), w, k)
        assert q.run_greedy(lazy=True).sites.tolist() == q.run_greedy(lazy=False).sites.tolist()
        c = CapacitatedMCLP.from_cost_matrix(np.round(d), w, 7.0, k, 20.0)
        assert c._greedy_run(True).sites.tolist() == c._greedy_run(False).sites.tolist()


def test_greedy_curve_and_sites_needed():
    d, w = instance(210, n=80, m=20)
    p = MCLP.from_cost_matrix(d, w, 8.0, 3)
    curve = p.coverage_curve(8, exact=True, gap=0)
    assert curve["k"].tolist() == list(range(9))
    assert curve["covered_greedy"].iat[0] == 0
    assert (np.diff(curve["covered_greedy"]) >= 0).all()
    assert (curve["covered_exact"] >= curve["covered_greedy"] - 1e-9).all()
    for k in range(1, 5):
        assert curve["covered_exact"].iat[k] == pytest.approx(bf_mclp(d, w, 8.0, k))
    k90 = sites_needed(curve, 0.9)
    exact = SetCoverTarget.from_cost_matrix(d, w, 8.0, 0.9).solve(gap=0)
    assert k90 == exact.objective
    assert sites_needed(curve, 0.9, "coverage_greedy") >= exact.objective
    assert sites_needed(curve, 1.01) is None
    same = coverage_curve(p, 3)
    assert same["covered_greedy"].tolist() == curve["covered_greedy"].iloc[:4].tolist()


def test_greedy_method_and_swap_polish():
    d, w = instance(220, n=200, m=40)
    p = MCLP.from_cost_matrix(d, w, 6.0, 5)
    g = p.solve("greedy", polish=False)
    plain = g.objective
    assert g.status == "greedy" and plain == g.greedy.objective
    polished = p.solve("greedy").objective
    exact = p.solve(gap=0).objective
    assert plain <= polished <= exact


# --- k-means ----------------------------------------------------------------------------


def test_weighted_kmeans_is_reproducible_and_keeps_only_clusters_with_members():
    from gridplan.solvers.kmeans import weighted_kmeans

    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 10_000, (400, 2)) + np.array([500_000.0, 4_200_000.0])
    w = rng.uniform(1, 50, 400)
    a = weighted_kmeans(xy, w, 7, seed=[3, 1])
    b = weighted_kmeans(xy, w, 7, seed=[3, 1])
    assert np.array_equal(a.centres, b.centres) and np.array_equal(a.labels, b.labels)
    assert a.weights.sum() == pytest.approx(w.sum()) and len(a.nonempty()) == 7
    # a centre is the weighted mean of its members
    for c in range(7):
        mine = a.labels == c
        assert np.allclose(a.centres[c], np.average(xy[mine], axis=0, weights=w[mine]))
    same = weighted_kmeans(np.zeros((5, 2)), np.ones(5), 3).nonempty()  # points that coincide
    assert len(same) == 1 and (same.labels == 0).all() and same.weights.tolist() == [5.0]
    every = weighted_kmeans(xy[:4], w[:4], 9)  # more clusters than points: one each
    assert np.array_equal(every.centres, xy[:4]) and every.labels.tolist() == [0, 1, 2, 3]


def test_kmeans_deterministic_and_distinct():
    rng = np.random.default_rng(5)
    d_xy = np.vstack([rng.normal(c, 300, (200, 2)) for c in ((0, 0), (5000, 0), (0, 5000))])
    w = rng.uniform(1, 50, len(d_xy))
    c_xy = rng.uniform(-1000, 6000, (25, 2))
    c_xy[:3] = [(0, 0), (10, 10), (20, 20)]  # several candidates near one centre
    a = KMeansSiting.from_points(d_xy, w, c_xy, 3, seed=1).solve()
    b = KMeansSiting.from_points(d_xy, w, c_xy, 3, seed=1).solve()
    assert a.sites.tolist() == b.sites.tolist()
    assert len(set(a.sites)) == 3 and (a.sites >= 0).all()
    assert np.allclose(a.centres, b.centres)
    assert a.cluster_weight.sum() == pytest.approx(w.sum())
    many = KMeansSiting.from_points(d_xy, w, c_xy[:4], 4, seed=0).solve()
    assert sorted(many.sites.tolist()) == [0, 1, 2, 3]  # distinct even when crowded


# --- cost matrices -------------------------------------------------------------------------


def test_cost_matrix_straight_matches_model():
    rng = np.random.default_rng(1)
    d_xy = rng.uniform(0, 5000, (300, 2))
    c_xy = rng.uniform(0, 5000, (20, 2))
    model = StraightLineModel(speed_kmh=15.0, detour=1.2)
    dense = cost_matrix_straight(d_xy, c_xy, 15.0, 1.2)
    assert dense.complete
    direct = np.hypot(*(d_xy[:, None] - c_xy[None]).transpose(2, 0, 1)) * model.minutes_per_metre
    assert np.allclose(dense.to_dense(), direct)
    # the model's own arithmetic: float32 distance × float32 minutes per metre
    grid = CellGrid(crs=CRS, x0=0.0, y0=5000.0, cell_m=100.0, nrows=50, ncols=50)
    rc = np.column_stack(grid.cell_of(d_xy[:, 0], d_xy[:, 1])[:2])
    centres = np.column_stack(grid.centres(rc[:, 0], rc[:, 1]))
    mask = np.zeros(grid.shape, bool)
    mask[rc[:, 0], rc[:, 1]] = True
    for j in (0, 7):
        tt = model.travel_times(grid, mask, c_xy[j : j + 1]).minutes[rc[:, 0], rc[:, 1]]
        col = cost_matrix_straight(centres, c_xy, 15.0, 1.2).to_dense()[:, j]
        assert np.array_equal(col, tt.astype(np.float64))
    sparse = cost_matrix_straight(d_xy, c_xy, 15.0, 1.2, max_minutes=6.0)
    want = np.where(direct <= 6.0, direct, np.inf)
    assert np.allclose(sparse.to_dense(), want)
    assert sparse.max_minutes == 6.0 and not sparse.complete
    walk = cost_matrix_straight(d_xy, c_xy, "walk")
    assert np.allclose(walk.to_dense(), direct * 15.0 / 4.8 * 1.3 / 1.2)
    # a candidate on a demand point is a pair at 0 minutes
    z = cost_matrix_straight(c_xy[:2], c_xy, "walk", max_minutes=1.0)
    assert z.to_dense()[0, 0] == 0 and z.to_dense()[1, 1] == 0


def test_cost_matrix_accepts_dense_sparse_and_pairs():
    d = np.array([[1.0, np.inf, 3.0], [0.0, 2.0, 9.0]])
    a = CostMatrix.from_dense(d)
    s = sp.coo_matrix(([1.0, 3.0, 0.0, 2.0, 9.0], ([0, 0, 1, 1, 1], [0, 2, 0, 1, 2])), (2, 3))
    b = CostMatrix.from_sparse(s)
    c = CostMatrix.coerce(d, max_minutes=5.0)
    assert np.array_equal(a.to_dense(), b.to_dense())
    assert a.n_pairs == 5 and c.n_pairs == 4 and np.isinf(c.to_dense()[1, 2])
    best, which = a.nearest([1, 2])
    assert best.tolist() == [3.0, 2.0] and which.tolist() == [2, 1]


def test_cost_matrix_raster_matches_cost_distance():
    rng = np.random.default_rng(2)
    grid = CellGrid(crs=CRS, x0=0.0, y0=6000.0, cell_m=100.0, nrows=60, ncols=60)
    speed = rng.choice([0.0, 2.0, 4.8, 30.0], size=grid.shape, p=[0.05, 0.3, 0.5, 0.15])
    d_rc = np.column_stack([rng.integers(0, 60, 200), rng.integers(0, 60, 200)])
    c_rc = np.array([[5, 5], [30, 30], [59, 0], [10, 50]])
    cm = cost_matrix_raster(grid, speed, d_rc, c_rc, max_minutes=8.0)
    got = cm.to_dense()
    for j, rc in enumerate(c_rc):
        full = cost_distance(speed, grid.cell_m, [rc], 8.0).minutes.astype(np.float64)
        want = full[d_rc[:, 0], d_rc[:, 1]]
        assert np.array_equal(got[:, j], want), j
    assert np.isfinite(got).any() and not np.isfinite(got).all()


def test_cost_matrix_model_generic_path():
    grid = CellGrid(crs=CRS, x0=0.0, y0=3000.0, cell_m=100.0, nrows=30, ncols=30)
    pop = np.zeros(grid.shape, np.float32)
    pop[::3, ::3] = 10
    surf = PopulationSurface(grid, pop, np.zeros(grid.shape, np.int32), ["u"])
    dem = demand_points(surf, None)
    c_xy = np.array([[550.0, 2450.0], [2050.0, 650.0]])

    class Wrapped:  # any TravelTimeModel goes through travel_times per candidate
        name = "wrapped"

        def __init__(self):
            self.inner = StraightLineModel()

        def travel_times(self, grid, mask, facilities_xy):
            return self.inner.travel_times(grid, mask, facilities_xy)

    generic = cost_matrix_model(Wrapped(), grid, dem, c_xy, 20.0)
    fast = cost_matrix_model(StraightLineModel(), grid, dem, c_xy, 20.0)
    # the straight model's pairs are its travel_times minutes, bit for bit
    assert np.array_equal(generic.to_dense(), fast.to_dense())


# --- demand, candidates, surfaces ----------------------------------------------------------


def surface(seed=0, n=80):
    rng = np.random.default_rng(seed)
    grid = CellGrid(crs=CRS, x0=380_000.0, y0=4_220_000.0, cell_m=100.0, nrows=n, ncols=n)
    pop = (rng.random(grid.shape) < 0.4) * rng.uniform(1, 30, grid.shape)
    pop[:20, :20] *= 10  # a town
    return PopulationSurface(
        grid, pop.astype(np.float32), np.zeros(grid.shape, np.int32), ["u"], unplaced={"z": 5.0}
    )


def test_demand_points_aggregate_and_conserve_population():
    s = surface()
    n_cells = int((s.population > 0).sum())
    every = demand_points(s, None)
    assert len(every) == n_cells and every.block_m == 0
    agg = demand_points(s, 300)
    assert 250 <= len(agg) <= 300
    assert agg.weights.sum() == pytest.approx(float(s.population.sum(dtype=np.float64)))
    assert len(agg.cell_point) == n_cells and agg.cell_point.max() == len(agg) - 1
    # each representative cell is populated and in its own block
    assert (s.population[agg.rc[:, 0], agg.rc[:, 1]] > 0).all()
    fixed = demand_points(s, block_m=500.0)
    assert fixed.block_m == 500.0 and len(fixed) <= 16 * 16


def test_candidate_grid_variants():
    s = surface()
    a = candidate_grid(s, spacing_m=1000.0)
    assert len(a) <= 64 and a.source == "grid" and a.crs == CRS
    r, c, inside = s.grid.cell_of(a.xy[:, 0], a.xy[:, 1])
    assert inside.all() and (s.population[r, c] > 0).all()
    b = candidate_grid(s, every=50)
    assert len(b) == math.ceil(int((s.population > 0).sum()) / 50)
    cap = candidate_grid(s, max_candidates=40)
    assert 30 <= len(cap) <= 40
    with pytest.raises(InputError) as e:
        candidate_grid(s, every=3, spacing_m=500.0)
    assert e.value.params["codes"] == ["optimize.grid_choice"]


def test_exclusion_areas_in_wgs84():
    s = surface()
    cand = candidate_grid(s, spacing_m=500.0)
    lon, lat = cand.lonlat()
    box = shapely.box(lon.min() - 1e-6, lat.min() - 1e-6, np.median(lon), lat.max() + 1e-6)
    kept = cand.excluding([box])
    assert 0 < len(kept) < len(cand)
    klon, _ = kept.lonlat()
    assert (klon > np.median(lon)).all()
    assert set(kept.ids) <= set(cand.ids)
    gdf = pytest.importorskip("geopandas").GeoDataFrame(geometry=[box], crs="EPSG:4326")
    assert kept.ids == cand.excluding(gdf.to_crs(3857)).ids  # a frame's own CRS is used
    assert len(cand.excluding([])) == len(cand)


def test_candidates_from_facilities_and_lonlat():
    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform([381_000.0, 382_000.0, 383_000.0], [4_215_000.0] * 3)
    fac = pd.DataFrame(
        {
            "facility_id": ["A", "B", "C"],
            "name": ["a", "b", "c"],
            "type": ["乡镇卫生院", "村卫生室", "社区卫生服务中心"],
            "lon": lon,
            "lat": lat,
            "active": [True, True, False],
        }
    )
    cand = candidates_from_facilities(fac, CRS)
    assert cand.ids == ["A"] and cand.source == "facility"
    assert np.allclose(cand.xy, [[381_000.0, 4_215_000.0]], atol=1e-3)
    both = candidates_from_facilities(fac, CRS, types=["乡镇卫生院", "村卫生室"])
    assert both.ids == ["A", "B"]
    user = candidates_from_lonlat(lon, lat, CRS)
    assert user.ids == ["U0001", "U0002", "U0003"] and user.source == "user"
    assert np.allclose(user.xy[:, 0], [381_000.0, 382_000.0, 383_000.0], atol=1e-3)


def test_from_surface_end_to_end():
    s = surface(3)
    cand = candidate_grid(s, spacing_m=1000.0)
    existing = cand.xy[:2] + 50.0
    p = MCLP.from_surface(s, cand, 3, 10.0, existing_xy=existing, max_demand=500)
    p.solve(gap=0)
    assert p.status == "optimal" and len(p.sites) == 3
    assert p.cost.n_candidates == len(cand) + 2
    assert p.existing.tolist() == [len(cand), len(cand) + 1]
    table = p.sites_table()
    assert list(table.columns) == ["candidate", "id", "x", "y", "lon", "lat"]
    assert table["id"].tolist() == [cand.ids[i] for i in p.sites]
    assert table["lon"].between(114, 116).all()
    q = PMedian.from_surface(s, cand, 3, max_minutes=30.0, max_demand=500).solve(gap=1e-6)
    assert q.status == "optimal" and q.mean_minutes > 0
    r = SetCoverTarget.from_surface(s, cand, 0.5, 10.0, max_demand=500).solve()
    assert r.coverage >= 0.5
    c = CapacitatedMCLP.from_surface(s, cand, 2, 10.0, 5_000.0, max_demand=200).solve()
    assert (c.load <= 5_000.0 + 1e-6).all()
    km = KMeansSiting.from_surface(s, cand, 4, seed=0, max_demand=500).solve()
    assert len(set(km.sites)) == 4
    kt = km.sites_table()
    assert kt["id"].tolist() == [cand.ids[i] for i in km.sites]
    assert kt["cluster_residents"].sum() == pytest.approx(float(s.population.sum()), rel=1e-6)
    lon, lat = cand.lonlat()
    box = shapely.box(lon.min() - 0.1, lat.min() - 0.1, lon.max() + 0.1, lat.max() + 0.1)
    with pytest.raises(InputError) as e:
        MCLP.from_surface(s, cand, 2, 10.0, exclusions=[box])
    assert "optimize.no_candidates" in e.value.params["codes"]


def test_time_limit_reports_status_and_gap():
    d, w = instance(300, n=400, m=120, scale=100.0)
    p = MCLP.from_cost_matrix(d, w, 12.0, 8).solve(time_limit=0.05, gap=0)
    assert p.status in {"optimal", "time_limit"}
    assert len(p.sites) == 8 and p.objective >= p.greedy.objective
    assert p.seconds >= 0
    if p.status == "time_limit":
        assert p.gap >= 0 and p.bound >= p.objective
    s = p.summary()
    assert {"objective", "gap", "seconds", "status", "coverage"} <= set(s)


# --- validation --------------------------------------------------------------------------


def test_every_problem_in_one_input_error():
    d = np.array([[1.0, -2.0], [np.nan, 3.0]])
    with pytest.raises(InputError) as e:
        MCLP.from_cost_matrix(d, [1.0, -1.0, 2.0], threshold_min=-5, k=7)
    codes = e.value.params["codes"]
    assert e.value.code == "optimize.invalid"
    assert {
        "optimize.minutes_nan",
        "optimize.minutes_negative",
        "optimize.weights_shape",
        "optimize.weights",
        "optimize.threshold",
    } <= set(codes)
    zh = error_text(e.value, "zh")
    assert zh.startswith("无法建立选址问题")
    with pytest.raises(InputError) as e:
        MCLP.from_cost_matrix(np.ones((3, 2)), [1, 1, 1], 5.0, k=3)
    assert e.value.params["codes"] == ["optimize.k"]
    with pytest.raises(InputError) as e:
        CapacitatedMCLP.from_cost_matrix(np.ones((3, 2)), [1, 1, 1], 5.0, 1, capacity=-1)
    assert e.value.params["codes"] == ["optimize.capacity"]
    with pytest.raises(InputError) as e:
        SetCoverTarget.from_cost_matrix(np.ones((3, 2)), [1, 1, 1], 5.0, target=1.5)
    assert e.value.params["codes"] == ["optimize.target"]
    with pytest.raises(InputError) as e:
        MCLP.from_cost_matrix(CostMatrix.from_dense(np.ones((3, 2)), 4.0), [1, 1, 1], 5.0, 1)
    assert e.value.params["codes"] == ["optimize.threshold_cutoff"]
    with pytest.raises(InputError) as e:
        MCLP.from_cost_matrix(np.ones((3, 2)), [1, 1, 1], 5.0, 1, existing=[0, 5])
    assert e.value.params["codes"] == ["optimize.existing"]
    with pytest.raises(InputError) as e:
        MCLP.from_cost_matrix(np.ones((3, 2)), [0, 0, 0], 5.0, 1).solve(time_limit=0)
    assert e.value.params["codes"] == ["optimize.no_demand"]
    with pytest.raises(InputError) as e:
        MCLP.from_cost_matrix(np.ones((3, 2)), [1, 1, 1], 5.0, 1).solve("magic", gap=-1)
    assert set(e.value.params["codes"]) == {"optimize.method", "optimize.gap"}
    with pytest.raises(InputError) as e:
        cost_matrix_straight(np.zeros((3, 2)), np.zeros((2, 3)), speed=500, detour=0.5)
    assert {"optimize.xy_shape", "traveltime.speed", "traveltime.detour"} <= set(
        e.value.params["codes"]
    )
    with pytest.raises(InputError) as e:
        PMedian.from_cost_matrix(np.ones((2, 2)), [1, 1], 0)  # nothing open, no fallback
    assert e.value.params["codes"] == ["optimize.unreachable_demand"]


def test_every_error_code_has_chinese_and_english_text():
    package = Path(__file__).resolve().parents[1] / "src/gridplan"
    src = "".join(p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py")))
    used = set(re.findall(r'"(optimize\.[a-z_]+)"', src))
    assert "optimize.invalid" in used and len(used) > 15
    for code in used:  # a generic check's code may use the common "check.*" text
        entry = text_of(code)
        assert entry is not None and set(entry) == {"zh", "en"}, code
        zh = {f for _, f, _, _ in string.Formatter().parse(entry["zh"]) if f}
        en = {f for _, f, _, _ in string.Formatter().parse(entry["en"]) if f}
        assert zh == en, code


def test_problem_params_render_in_both_languages():
    with pytest.raises(InputError) as e:
        MCLP.from_cost_matrix(np.ones((3, 2)), [1, 1, 1], 5.0, k=3)
    from gridplan.i18n import t

    for problem in e.value.params["problems"]:
        params = dict(problem)
        code = params.pop("code")
        for lang in ("zh", "en"):
            text = t(code, lang, **params)
            assert "{" not in text and text != code


def test_edge_cases_everyone_already_covered_and_k_zero():
    d, w = instance(400, n=20, m=6)
    d[:, 0] = 1.0  # an existing facility next to everybody
    p = MCLP.from_cost_matrix(d, w, 5.0, 2, existing=[0]).solve(time_limit=math.inf)
    assert p.status == "optimal" and p.objective == 0 and p.coverage == 1.0
    assert len(p.sites) == 2 and 0 not in p.sites
    s = SetCoverTarget.from_cost_matrix(d, w, 5.0, 1.0, existing=[0]).solve()
    assert s.status == "optimal" and s.objective == 0 and len(s.sites) == 0
    z = MCLP.from_cost_matrix(d, w, 5.0, 0).solve(gap=0)
    assert len(z.sites) == 0 and z.objective == 0
    q = PMedian.from_cost_matrix(d, w, 0, existing=[0]).solve()
    assert q.objective == pytest.approx(w.sum() * 1.0) and (q.assignment == 0).all()


def test_a_misspelt_option_raises_type_error_as_a_signature_would():
    d, w = np.ones((3, 2)), [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="'exsting'"):
        MCLP.from_cost_matrix(d, w, 5.0, 1, exsting=[0])
    with pytest.raises(TypeError, match="'max_minutes'"):
        MCLP.from_cost_matrix(d, w, 5.0, 1, max_minutes=3.0)  # a p-median option
    with pytest.raises(TypeError, match="'time_limt'"):
        MCLP.from_cost_matrix(d, w, 5.0, 1).solve(time_limt=3.0)
    with pytest.raises(TypeError, match="'polish'"):
        PMedian.from_cost_matrix(d, w, 1).solve(polish=False)  # a covering option
    with pytest.raises(TypeError, match="'sed'"):
        KMeansSiting.from_points(d, w, d, 1, sed=1)
