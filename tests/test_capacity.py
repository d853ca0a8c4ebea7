"""Capacity-aware accessibility (gridplan.access): reach, capacity coverage, Gaussian 2SFCA."""

from __future__ import annotations

import math
import string

import numpy as np
import pandas as pd
import pytest

from gridplan.access.capacity import (
    DEFAULT_RESIDENTS_BY_TYPE,
    RESIDENTS_PER_GP,
    capacity_coverage,
    facility_capacity,
    facility_supply,
    order_by,
)
from gridplan.access.g2sfca import g2sfca
from gridplan.access.reach import Reach, facility_reach
from gridplan.errors import InputError
from gridplan.i18n import MESSAGES, error_text
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.costdistance import cost_distance
from gridplan.travel.raster import RasterModel
from gridplan.travel.straight import StraightLineModel

CRS = "EPSG:4547"
X0, Y0 = 500_000.0, 4_200_000.0


def strip_surface(pop, units=None, unit_ids=("A",)):
    """A 1 × n strip of 100 m cells with the given residents."""
    pop = np.asarray(pop, dtype=np.float32).reshape(1, -1)
    grid = CellGrid(CRS, X0, Y0, 100.0, 1, pop.shape[1])
    unit = np.zeros(pop.shape, np.int32) if units is None else np.asarray(units, np.int32)
    return PopulationSurface(grid, pop, unit.reshape(1, -1), list(unit_ids))


def strip_reach(surface, times, **kw):
    """Reach from a dict {facility: [minutes per cell, None = out of reach]}."""
    cells, facs, mins = [], [], []
    for j, row in times.items():
        for i, t in enumerate(row):
            if t is not None:
                cells.append(i)
                facs.append(j)
                mins.append(t)
    return Reach.from_arrays(
        surface.grid, np.array(cells), np.array(facs), np.array(mins), len(times), **kw
    )


def check_problem_messages(err: InputError) -> None:
    """Every problem code has a zh/en message whose fields its params fill."""
    assert err.code == "capacity.invalid"
    assert error_text(err, "zh") and error_text(err, "en")
    for problem in err.params["problems"]:
        params = dict(problem)
        code = params.pop("code")
        assert code in MESSAGES, code
        for lang in ("zh", "en"):
            fields = {f for _, f, _, _ in string.Formatter().parse(MESSAGES[code][lang]) if f}
            assert fields <= set(params), (code, fields - set(params))


# --- capacity coverage: hand-computed ---------------------------------------------------

# Strip of six cells; facility 0 sits at the left end, facility 1 at the right end.
POP = [100, 200, 300, 400, 500, 600]
TIMES = {0: [1, 2, 3, 4, 5, 6], 1: [6, 5, 4, 3, 2, 1]}


def test_first_facility_fills_capacity_nearest_first_and_second_covers_the_rest():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES)
    res = capacity_coverage(s, r, [650, 1800], order=[0, 1])
    # facility 0: cells 0-2 whole (100+200+300 = 600), then 50 of cell 3's 400
    # facility 1: cells 5, 4 whole (600+500), the 350 left in cell 3 -> 1450 < 1800
    np.testing.assert_allclose(res.covered, [650, 1450])
    np.testing.assert_array_equal(res.full, [True, False])
    np.testing.assert_allclose(res.remaining[0], [0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(res.reachable, [2100, 1450])
    np.testing.assert_allclose(res.catchment_minutes, [4, 3])
    assert res.total_covered == pytest.approx(2100)
    assert res.share == pytest.approx(1.0)


def test_partial_cell_at_the_capacity_edge():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES)
    res = capacity_coverage(s, r, [650, 400], order=[0, 1])
    # facility 0 takes 600 whole + 50/400 of cell 3; facility 1 takes 400 of cell 5's 600
    np.testing.assert_allclose(res.remaining[0], [0, 0, 0, 350, 500, 200])
    np.testing.assert_allclose(res.covered_cells[0], [100, 200, 300, 50, 0, 400])
    np.testing.assert_allclose(res.covered, [650, 400])
    assert res.full.all()
    assert res.total_covered == pytest.approx(1050)
    np.testing.assert_allclose(res.catchment_minutes, [4, 1])


def test_default_order_is_capacity_descending_and_an_order_is_respected():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES)
    # default: facility 1 (1800) first: cells 5, 4, 3 (1500) + cell 2 (300) = 1800
    # exactly (AccessMod's case D: nothing taken from the next zone); facility 0 then
    # finds only cells 0 and 1 (300 < 650)
    res = capacity_coverage(s, r, [650, 1800])
    np.testing.assert_array_equal(res.order, [1, 0])
    np.testing.assert_array_equal(res.rank, [1, 0])
    np.testing.assert_allclose(res.covered, [300, 1800])
    np.testing.assert_array_equal(res.full, [False, True])
    # the other order gives another split of the same residents
    other = capacity_coverage(s, r, [650, 1800], order=[0, 1])
    np.testing.assert_allclose(other.covered, [650, 1450])
    # an order column, AccessMod style (ascending)
    np.testing.assert_array_equal(order_by([5.0, 1.0], descending=False), [1, 0])
    np.testing.assert_array_equal(order_by([np.nan, 1.0, 1.0]), [1, 2, 0])


def test_threshold_limits_the_cells_a_facility_may_take():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES)
    res = capacity_coverage(s, r, [650, 1800], max_minutes=3)
    # facility 1: cells 5, 4, 3 (1 to 3 min) = 1500 < 1800; facility 0: cells 0-2 = 600 < 650
    np.testing.assert_allclose(res.covered, [600, 1500])
    assert not res.full.any()
    assert res.max_minutes == 3


def test_zero_capacity_covers_nothing():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES)
    res = capacity_coverage(s, r, [0, 1000], order=[0, 1])
    assert res.covered[0] == 0
    # facility 1 took 600 + 400 of 500 (cell 4: 100 left); cells 0-3 untouched by facility 0
    np.testing.assert_allclose(res.remaining[0], [100, 200, 300, 400, 100, 0])
    tab = res.facility_table(["F0", "F1"])
    assert tab["facility_id"].tolist() == ["F0", "F1"]
    assert tab.loc[0, "covered"] == 0 and tab.loc[1, "used_share"] == pytest.approx(1.0)


def test_unlimited_capacity_covers_every_cell_within_the_threshold():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES)
    res = capacity_coverage(s, r, [np.inf, 0], max_minutes=4)
    np.testing.assert_allclose(res.covered, [1000, 0])
    np.testing.assert_allclose(res.remaining[0], [0, 0, 0, 0, 500, 600])


def test_cells_at_equal_time_share_the_partial_cover():
    s = strip_surface([100, 300, 50])
    r = strip_reach(s, {0: [2.0, 2.0, 1.0]})
    res = capacity_coverage(s, r, [250])
    # cell 2 (1 min) whole: 50; then the 2-minute zone holds 400 for 200 left: half each
    np.testing.assert_allclose(res.remaining[0], [50, 150, 0])
    assert res.covered[0] == pytest.approx(250)


@pytest.mark.parametrize(
    ("case", "pops", "remaining", "covered", "full"),
    [
        # AccessMod's amCatchmentAnalyst cases (capacity 10, time limit 4, 1-minute zones)
        ("A", [1, 2, 2, 4, 6], [0, 0, 0, 0, 5], 10, True),  # 9 whole, 1/6 of zone 4
        ("B", [11, 2, 7, 5, 25], [1, 2, 7, 5, 25], 10, True),  # 10/11 of zone 0
        ("C", [1, 2, 1, 1, 1], [0, 0, 0, 0, 0], 6, False),  # all 6, capacity left 4
        ("D", [2, 2, 5, 1, 1], [0, 0, 0, 0, 1], 10, True),  # exactly 10 at zone 3
    ],
)
def test_accessmod_cases(case, pops, remaining, covered, full):
    s = strip_surface(pops)
    r = strip_reach(s, {0: [0.5, 1.5, 2.5, 3.5, 4.0]}, max_minutes=4)
    res = capacity_coverage(s, r, [10], zone_minutes=1)
    np.testing.assert_allclose(res.remaining[0], remaining, rtol=1e-6)
    assert res.covered[0] == pytest.approx(covered)
    assert bool(res.full[0]) is full


def test_zone_minutes_groups_cells_like_accessmod():
    # zone 3 holds two cells (3.1 and 3.9 min) with 2 and 4 residents
    s = strip_surface([1, 2, 2, 2, 4])
    r = strip_reach(s, {0: [0.5, 1.5, 2.5, 3.1, 3.9]})
    exact = capacity_coverage(s, r, [10])
    # exact times: cell 3 whole (cumulated 7), 3 of cell 4's 4
    np.testing.assert_allclose(exact.remaining[0], [0, 0, 0, 0, 1], rtol=1e-6)
    zoned = capacity_coverage(s, r, [10], zone_minutes=1)
    # 1-minute zones: 5 before zone 3, which gives 5 of its 6: 1/6 left in both cells
    np.testing.assert_allclose(zoned.remaining[0], [0, 0, 0, 2 / 6, 4 / 6], rtol=1e-6)


def test_covered_per_unit_uses_the_surface_units():
    s = strip_surface(POP, units=[0, 0, 1, 1, -1, 1], unit_ids=("A", "B"))
    r = strip_reach(s, TIMES)
    res = capacity_coverage(s, r, [650, 400], order=[0, 1])
    # covered per cell [100, 200, 300, 50, 0, 400]; cell 4 is outside every unit
    np.testing.assert_allclose(res.covered_by_unit, [300, 750])
    np.testing.assert_allclose(res.population_by_unit, [300, 1300])
    tab = res.unit_table()
    assert tab["unit_id"].tolist() == ["A", "B"]
    np.testing.assert_allclose(tab["share"], [1.0, 750 / 1300])


# --- capacity coverage: randomized invariants -------------------------------------------


def reference_coverage(pop, reach, capacity, order, max_minutes):
    """Plain-Python capacity coverage, cell by cell (zones of equal time)."""
    remaining = pop.ravel().astype(np.float64).copy()
    covered = np.zeros(reach.n_facilities)
    for j in order:
        sel = (reach.facility == j) & (reach.minutes <= np.float32(max_minutes))
        cells, mins = reach.cell[sel], reach.minutes[sel]
        left = float(capacity[j])
        for t in sorted(set(mins.tolist())):
            zone = cells[mins == t]
            zone_pop = remaining[zone].sum()
            if zone_pop <= left:
                remaining[zone] = 0.0
                left -= zone_pop
                covered[j] += zone_pop
            else:
                remaining[zone] *= 1 - left / zone_pop
                covered[j] += left
                break
    return remaining, covered


def random_case(seed, n_fac=12, shape=(20, 30)):
    rng = np.random.default_rng(seed)
    grid = CellGrid(CRS, X0, Y0, 100.0, *shape)
    pop = rng.integers(0, 120, shape).astype(np.float32)
    pop[rng.random(shape) < 0.3] = 0
    unit = rng.integers(-1, 3, shape).astype(np.int32)
    surface = PopulationSurface(grid, pop, unit, ["A", "B", "C"])
    xmin, ymin, xmax, ymax = grid.bounds
    xy = np.column_stack([rng.uniform(xmin, xmax, n_fac), rng.uniform(ymin, ymax, n_fac)])
    return rng, surface, xy


@pytest.mark.parametrize("seed", range(6))
def test_random_capacity_coverage_respects_capacity_and_population(seed):
    rng, s, xy = random_case(seed)
    reach = facility_reach(s.grid, s.population > 0, xy, max_minutes=15.0)
    n = len(xy)
    for _ in range(8):
        cap = rng.uniform(0, 8000, n)
        cap[rng.random(n) < 0.15] = 0
        cap[rng.random(n) < 0.1] = np.inf
        order = rng.permutation(n)
        t = float(rng.uniform(3, 15))
        res = capacity_coverage(s, reach, cap, order, max_minutes=t)
        pop = s.population.astype(np.float64)
        tol = 1e-9 * max(1.0, pop.sum())
        # Σ covered_j ≤ C_j, and covered cells ≤ residents
        assert (res.covered <= cap + tol).all()
        assert (res.covered <= res.reachable + tol).all()
        assert (res.covered_cells >= 0).all()
        assert (res.covered_cells <= s.population).all()
        assert (res.remaining >= 0).all() and (res.remaining <= s.population).all()
        assert res.total_covered <= min(cap.sum(), pop.sum()) + tol
        assert res.total_covered == pytest.approx(res.covered.sum(), rel=1e-9, abs=1e-6)
        in_unit = s.unit_index >= 0
        assert res.covered_by_unit.sum() == pytest.approx(
            res.covered_cells[in_unit].sum(dtype=np.float64), rel=1e-6
        )
        # a facility short of its capacity leaves nobody uncovered within its reach
        within = reach.within(t)
        for j in np.flatnonzero(~res.full):
            assert res.remaining.ravel()[within.cell[within.facility == j]].sum() == 0
        np.testing.assert_allclose(res.covered[res.full], cap[res.full])
        # the same as the cell-by-cell reference
        ref_rem, ref_cov = reference_coverage(s.population, reach, cap, order, t)
        np.testing.assert_allclose(res.remaining.ravel(), ref_rem, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(res.covered, ref_cov, rtol=1e-9, atol=1e-6)


# --- Gaussian 2SFCA ---------------------------------------------------------------------


def test_g2sfca_hand_computed():
    # 3 cells (P = 100, 200, 300), 2 facilities (S = 2, 3), d0 = 10 minutes.
    # facility 0: cell 0 at 0 min, cell 1 at 5 min; facility 1: cell 1 at 0, cell 2 at 5.
    # G(0) = 1; G(5) = (e^-0.125 - e^-0.5) / (1 - e^-0.5) = 0.2759662 / 0.3934693 = 0.7013666
    # demand_0 = 1·100 + 0.7013666·200 = 240.27331;  R_0 = 2 / 240.27331 = 0.00832385
    # demand_1 = 1·200 + 0.7013666·300 = 410.40997;  R_1 = 3 / 410.40997 = 0.00730976
    # A_0 = 1·R_0                 = 0.00832385
    # A_1 = 0.7013666·R_0 + 1·R_1 = 0.00583811 + 0.00730976 = 0.01314784
    # A_2 = 0.7013666·R_1         = 0.00512682
    # Σ P·A = 100·0.00832385 + 200·0.01314784 + 300·0.00512682 = 5 = S_0 + S_1
    s = strip_surface([100, 200, 300])
    r = strip_reach(s, {0: [0.0, 5.0, None], 1: [None, 0.0, 5.0]})
    res = g2sfca(s, r, [2, 3], d0=10)
    g5 = (math.exp(-0.125) - math.exp(-0.5)) / (1 - math.exp(-0.5))
    assert g5 == pytest.approx(0.7013666, rel=1e-7)
    np.testing.assert_allclose(res.demand, [240.27331, 410.40997], rtol=1e-7)
    np.testing.assert_allclose(res.ratio, [0.00832385, 0.00730976], rtol=1e-5)
    np.testing.assert_allclose(
        res.accessibility[0], [0.00832385, 0.01314784, 0.00512682], rtol=1e-5
    )
    np.testing.assert_allclose(
        res.accessibility[0],
        [2 / 240.27331, g5 * 2 / 240.27331 + 3 / 410.40997, g5 * 3 / 410.40997],
        rtol=1e-6,
    )
    assert float((s.population * res.accessibility).sum()) == pytest.approx(5.0, rel=1e-6)
    assert res.mean == pytest.approx(5.0 / 600, rel=1e-6)
    np.testing.assert_allclose(res.by_unit, [5.0 / 600], rtol=1e-6)
    assert res.unreached_supply == 0


def test_g2sfca_weight_is_zero_at_d0_and_pairs_beyond_are_ignored():
    s = strip_surface([100, 200, 300])
    r = strip_reach(s, {0: [0.0, 10.0, 12.0]})
    res = g2sfca(s, r, [4], d0=10)
    # only cell 0 weighs (G(10) = 0, 12 > d0): R = 4 / 100, A = [0.04, 0, 0]
    np.testing.assert_allclose(res.accessibility[0], [0.04, 0, 0], rtol=1e-6)


def test_g2sfca_facility_without_residents_keeps_its_supply_unreached():
    s = strip_surface([100, 0, 0])
    r = strip_reach(s, {0: [0.0, None, None], 1: [None, None, 1.0]})
    res = g2sfca(s, r, [2, 7], d0=10)
    assert math.isnan(res.ratio[1])
    assert res.unreached_supply == 7
    np.testing.assert_allclose(res.accessibility[0], [0.02, 0, 0], rtol=1e-6)


def test_g2sfca_unassessed_cells_are_nan():
    s = strip_surface([100, 0, 50])
    mask = np.array([[True, False, True]])
    r = Reach.from_arrays(s.grid, [0, 1, 2], [0, 0, 0], [0.0, 1.0, 2.0], 1, mask=mask)
    assert r.n_pairs == 2  # the pair on the unmasked cell is dropped
    res = g2sfca(s, r, [1], d0=10)
    assert math.isnan(res.accessibility[0, 1])
    assert np.isfinite(res.accessibility[0, [0, 2]]).all()


@pytest.mark.parametrize("seed", range(4))
def test_g2sfca_conserves_supply_and_scales_with_it(seed):
    rng, s, xy = random_case(seed, n_fac=10)
    d0 = 12.0
    reach = facility_reach(s.grid, np.ones(s.grid.shape, bool), xy, max_minutes=20.0)
    supply = rng.uniform(0.5, 10, len(xy))
    res = g2sfca(s, reach, supply, d0)
    assert (res.demand > 0).all()  # every catchment holds residents
    pop = s.population.astype(np.float64)
    # Σ_i P_i A_i = Σ_j S_j Σ_i G_ij P_i / Σ_k G_kj P_k = Σ_j S_j
    assert float((pop * res.accessibility).sum()) == pytest.approx(supply.sum(), rel=1e-5)
    double = g2sfca(s, reach, 2 * supply, d0)
    np.testing.assert_allclose(double.accessibility, 2 * res.accessibility, rtol=1e-6)
    np.testing.assert_allclose(double.by_unit, 2 * res.by_unit, rtol=1e-9)
    # against a dense matrix computation
    t = np.full((s.grid.nrows * s.grid.ncols, len(xy)), np.inf)
    t[reach.cell, reach.facility] = reach.minutes
    e = math.exp(-0.5)
    g = np.where(t <= d0, (np.exp(-0.5 * (t / d0) ** 2) - e) / (1 - e), 0.0)
    ratio = supply / (g * pop.ravel()[:, None]).sum(axis=0)
    dense = (g * ratio).sum(axis=1)
    np.testing.assert_allclose(res.accessibility.ravel(), dense, rtol=1e-5, atol=1e-12)
    # per-unit population-weighted means
    for u in range(3):
        m = s.unit_index.ravel() == u
        expect = (pop.ravel()[m] * dense[m]).sum() / pop.ravel()[m].sum()
        assert res.by_unit[u] == pytest.approx(expect, rel=1e-5)
    assert res.unit_table(per=10_000)["accessibility"].iloc[0] == pytest.approx(
        res.by_unit[0] * 10_000
    )


# --- facility reach ---------------------------------------------------------------------


def brute_force_straight(grid, mask, xy, speed_kmh, detour, max_minutes):
    rows, cols = np.nonzero(mask)
    x, y = grid.centres(rows, cols)
    d = np.hypot(x[:, None] - xy[None, :, 0], y[:, None] - xy[None, :, 1])
    mpm = np.float32(detour / (speed_kmh * 1000.0 / 60.0))
    minutes = d.astype(np.float32) * mpm
    ci, fj = np.nonzero(minutes <= np.float32(max_minutes))
    flat = rows[ci] * grid.ncols + cols[ci]
    return {(int(c), int(f)): float(m) for c, f, m in zip(flat, fj, minutes[ci, fj], strict=True)}


@pytest.mark.parametrize(("speed", "detour", "max_minutes"), [(4.8, 1.3, 10.0), (15.0, 1.0, 4.0)])
def test_straight_reach_equals_brute_force(speed, detour, max_minutes):
    rng, s, xy = random_case(7, n_fac=9, shape=(30, 40))
    xy[0] = [X0 - 300.0, Y0 + 150.0]  # outside the grid: still reaches the cells near it
    cx, cy = s.grid.centres(np.array([4]), np.array([6]))
    xy[1] = [cx[0], cy[0]]  # on a cell centre: 0 minutes
    mask = rng.random(s.grid.shape) < 0.7
    reach = facility_reach(
        s.grid, mask, xy, speed_kmh=speed, detour=detour, max_minutes=max_minutes
    )
    expected = brute_force_straight(s.grid, mask, xy, speed, detour, max_minutes)
    got = {
        (int(c), int(f)): float(m)
        for c, f, m in zip(reach.cell, reach.facility, reach.minutes, strict=True)
    }
    assert got.keys() == expected.keys()
    np.testing.assert_allclose(
        [got[k] for k in expected], list(expected.values()), rtol=1e-6, atol=1e-6
    )
    assert reach.n_facilities == len(xy) and reach.model == "straight"
    assert reach.mask[np.unravel_index(reach.cell, s.grid.shape)].all()
    if mask[4, 6]:
        assert got[(4 * s.grid.ncols + 6, 1)] == 0.0
    # sorted by facility, then minutes
    key = reach.facility.astype(np.float64) * 1e6 + reach.minutes
    assert (np.diff(key) >= 0).all()
    assert reach.cells_per_facility().sum() == reach.n_pairs
    assert reach.nbytes == reach.n_pairs * 12


def test_straight_reach_nearest_matches_the_straight_line_model():
    _, s, xy = random_case(3, n_fac=15, shape=(40, 50))
    mask = s.population > 0
    reach = facility_reach(s.grid, mask, xy, speed_kmh=4.8, detour=1.3, max_minutes=12.0)
    times = StraightLineModel(4.8, 1.3).travel_times(s.grid, mask, xy)
    expected = np.where(times.minutes <= 12.0, times.minutes, np.inf)
    np.testing.assert_allclose(reach.nearest_minutes(), expected, rtol=1e-6)


def test_reach_within_keeps_the_nearer_pairs():
    _, s, xy = random_case(2)
    reach = facility_reach(s.grid, s.population > 0, xy, max_minutes=15.0)
    near = reach.within(6.0)
    assert near.max_minutes == 6.0 and (near.minutes <= 6.0).all()
    assert near.n_pairs == int((reach.minutes <= 6.0).sum())
    assert reach.within(15.0) is reach
    with pytest.raises(InputError) as e:
        reach.within(20.0)
    assert e.value.params["codes"] == ["capacity.beyond_reach"]


def random_speed(rng, shape):
    speed = rng.choice([2.0, 4.0, 4.8], size=shape).astype(np.float32)
    speed[rng.random(shape) < 0.1] = 0.0  # barriers
    speed[shape[0] // 2, :] = 30.0  # a fast road across
    return speed


def test_raster_reach_equals_per_facility_cost_distance():
    rng = np.random.default_rng(11)
    shape = (45, 60)
    grid = CellGrid(CRS, X0, Y0, 100.0, *shape)
    speed = random_speed(rng, shape)
    rc = np.array([[5, 5], [22, 30], [40, 55], [22, 2], [30, 31]])
    speed[rc[:, 0], rc[:, 1]] = 4.8
    speed[10, 10] = 0.0  # facility 5: on a barrier
    x, y = grid.centres(np.r_[rc[:, 0], 10], np.r_[rc[:, 1], 10])
    xy = np.column_stack([x, y])
    xy = np.vstack([xy, [[X0 - 500.0, Y0 + 500.0]]])  # facility 6: outside the grid
    mask = rng.random(shape) < 0.8
    reach = facility_reach(grid, mask, xy, model="raster", speed_surface=speed, max_minutes=9.0)
    assert reach.params["facilities_on_barrier"] == [5]
    assert reach.params["facilities_outside"] == [6]
    assert reach.cells_per_facility()[5:].sum() == 0
    for j, (r, c) in enumerate(rc):
        full = cost_distance(speed, grid.cell_m, [[r, c]], 9.0).minutes
        ok = np.isfinite(full) & mask
        sel = reach.facility == j
        got = np.full(shape, np.inf, dtype=np.float32)
        got.ravel()[reach.cell[sel]] = reach.minutes[sel]
        np.testing.assert_array_equal(np.isfinite(got), ok)
        np.testing.assert_array_equal(got[ok], full[ok])  # bit-identical minutes


def test_raster_reach_takes_a_raster_model_speed_surface():
    rng = np.random.default_rng(5)
    grid = CellGrid(CRS, X0, Y0, 100.0, 30, 30)
    lc = rng.choice([10, 30, 40, 50], size=grid.shape).astype(np.int16)
    model = RasterModel(mode="walk", landcover=lc, cutoff_min=20.0)
    xy = np.column_stack(grid.centres(np.array([15]), np.array([15])))
    mask = np.ones(grid.shape, bool)
    reach = facility_reach(grid, mask, xy, model="raster", speed_surface=model, max_minutes=20.0)
    times = model.travel_times(grid, mask, xy)
    np.testing.assert_array_equal(reach.nearest_minutes(), times.minutes)
    # default speed surface: uniform walking
    plain = facility_reach(grid, mask, xy, model="raster", max_minutes=5.0)
    assert plain.params["max_speed_kmh"] == pytest.approx(4.8)
    assert plain.minutes.max() <= 5.0


# --- Reach.from_arrays ------------------------------------------------------------------


def test_from_arrays_sorts_and_drops_pairs_beyond_max_minutes():
    grid = CellGrid(CRS, X0, Y0, 100.0, 2, 3)
    r = Reach.from_arrays(grid, [5, 0, 2, 1], [1, 1, 0, 0], [3.0, 1.0, 9.0, 2.0], 3, max_minutes=5)
    assert r.cell.tolist() == [1, 0, 5]
    assert r.facility.tolist() == [0, 1, 1]
    assert r.minutes.tolist() == [2.0, 1.0, 3.0]
    assert r.indptr().tolist() == [0, 1, 3, 3]


def test_from_arrays_reports_every_problem():
    grid = CellGrid(CRS, X0, Y0, 100.0, 2, 3)
    with pytest.raises(InputError) as e:
        Reach.from_arrays(grid, [0, 6, 1], [0, 0, 4], [1.0, -1.0, np.nan], 2, mask=np.ones((3, 3)))
    codes = set(e.value.params["codes"])
    assert {"capacity.pairs_cell", "capacity.pairs_facility", "capacity.pairs_minutes"} <= codes
    assert "capacity.shape" in codes
    check_problem_messages(e.value)
    with pytest.raises(InputError) as e:
        Reach.from_arrays(grid, [0, 0], [1, 1], [1.0, 2.0], 2)
    assert e.value.params["codes"] == ["capacity.pairs_duplicate"]


# --- validation -------------------------------------------------------------------------


def test_capacity_coverage_reports_every_problem_at_once():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES, max_minutes=10)
    other = strip_surface([1, 2, 3])
    with pytest.raises(InputError) as e:
        capacity_coverage(other, r, [-5, np.nan, 3], order=[0, 0], max_minutes=12, zone_minutes=0)
    codes = e.value.params["codes"]
    for code in (
        "capacity.grid_mismatch",
        "capacity.length",
        "capacity.nonfinite",
        "capacity.negative",
        "capacity.order",
        "capacity.beyond_reach",
        "capacity.threshold",
    ):
        assert code in codes, code
    assert isinstance(e.value, ValueError)
    check_problem_messages(e.value)


def test_g2sfca_reports_every_problem_at_once():
    s = strip_surface(POP)
    r = strip_reach(s, TIMES, max_minutes=10)
    with pytest.raises(InputError) as e:
        g2sfca(s, r, [1.0, -2.0], d0=0)
    assert set(e.value.params["codes"]) == {"capacity.negative", "capacity.threshold"}
    with pytest.raises(InputError) as e:
        g2sfca(s, r, [1.0], d0=30)
    assert set(e.value.params["codes"]) == {"capacity.length", "capacity.beyond_reach"}
    check_problem_messages(e.value)


def test_facility_reach_reports_every_problem_at_once():
    grid = CellGrid(CRS, X0, Y0, 100.0, 4, 5)
    with pytest.raises(InputError) as e:
        facility_reach(
            grid, np.ones((3, 3)), [[X0, np.nan]], speed_kmh=500, detour=0.5, max_minutes=0
        )
    codes = set(e.value.params["codes"])
    assert codes == {
        "capacity.shape",
        "capacity.xy_nonfinite",
        "capacity.threshold",
        "traveltime.speed",
        "traveltime.detour",
    }
    check_problem_messages(e.value)
    with pytest.raises(InputError) as e:
        facility_reach(grid, np.ones(grid.shape), [[X0, Y0]], model="taxi", max_minutes=5)
    assert e.value.params["codes"] == ["capacity.model"]
    bad = np.full(grid.shape, -1.0)
    with pytest.raises(InputError) as e:
        facility_reach(
            grid, np.ones(grid.shape), [[X0, Y0]], model="raster", speed_surface=bad, max_minutes=5
        )
    assert e.value.params["codes"] == ["costdistance.negative_speed"]
    with pytest.raises(InputError) as e:
        facility_reach(
            grid, np.ones(grid.shape), [[X0, Y0]], model="raster", mode="boat", max_minutes=5
        )
    assert "costdistance.mode" in e.value.params["codes"]


def test_empty_inputs_give_an_empty_reach():
    grid = CellGrid(CRS, X0, Y0, 100.0, 4, 5)
    r = facility_reach(grid, np.ones(grid.shape, bool), np.zeros((0, 2)), max_minutes=5)
    assert r.n_pairs == 0 and r.n_facilities == 0
    s = PopulationSurface(
        grid, np.ones(grid.shape, np.float32), np.zeros(grid.shape, np.int32), ["A"]
    )
    assert capacity_coverage(s, r, []).total_covered == 0
    assert g2sfca(s, r, [], d0=5).mean == 0


# --- capacities and supply --------------------------------------------------------------


def facilities_table():
    return pd.DataFrame(
        {
            "facility_id": ["a", "b", "c", "d", "e", "f"],
            "type": [
                "社区卫生服务中心",
                "社区卫生服务站",
                "乡镇卫生院",
                "村卫生室",
                "社区卫生服务中心",
                "二级医院",
            ],
            "capacity": [np.nan, np.nan, 30_000, np.nan, np.nan, 80_000],
            "gps": [np.nan, 3, 4, np.nan, 0, np.nan],
            "doctors": [np.nan, np.nan, np.nan, 2, 12, np.nan],
        }
    )


def test_facility_capacity_rules_in_order():
    out = facility_capacity(facilities_table(), column="capacity", residents_per_doctor=1500)
    assert out["facility_id"].tolist() == list("abcdef")
    np.testing.assert_allclose(
        out["capacity"], [50_000, 3 * RESIDENTS_PER_GP, 30_000, 3000, 18_000, 80_000]
    )
    assert out["capacity_source"].tolist() == [
        "type_default",
        "gps",
        "column",
        "doctors",
        "doctors",  # 0 GPs fall through to the doctors
        "column",
    ]
    assert round(RESIDENTS_PER_GP, 2) == 2083.33


def test_every_capacity_rule_has_a_label_in_both_languages():
    from gridplan.access.capacity import CAPACITY_RULES
    from gridplan.i18n import t

    out = facility_capacity(facilities_table(), column="capacity", residents_per_doctor=1500)
    assert set(out["capacity_source"]) == set(CAPACITY_RULES)
    for rule in CAPACITY_RULES:
        assert set(MESSAGES[f"capacity_source.{rule}"]) == {"zh", "en"}
    assert t("capacity_source.gps", "zh").startswith("全科医生数")
    assert t("capacity_source.gps", "en").startswith("GPs")


def test_facility_capacity_defaults_by_type_and_missing_hospital():
    df = facilities_table().drop(columns=["capacity", "gps", "doctors"])
    with pytest.raises(InputError) as e:
        facility_capacity(df)
    assert e.value.params["codes"] == ["capacity.no_capacity"]
    assert e.value.params["problems"][0]["ids"] == ["f"]
    check_problem_messages(e.value)
    out = facility_capacity(df.iloc[:5])
    np.testing.assert_allclose(
        out["capacity"], [DEFAULT_RESIDENTS_BY_TYPE[t] for t in df["type"].iloc[:5]]
    )
    assert set(out["capacity_source"]) == {"type_default"}
    with pytest.raises(InputError) as e:
        facility_capacity(df, column="beds", residents_per_gp=-1)
    assert {"capacity.column_missing", "capacity.ratio"} <= set(e.value.params["codes"])


def test_facility_supply():
    df = facilities_table()
    np.testing.assert_array_equal(facility_supply(df, None), np.ones(6))
    with pytest.raises(InputError) as e:
        facility_supply(df, "gps")
    assert e.value.params["codes"] == ["capacity.missing_supply"]
    check_problem_messages(e.value)
    np.testing.assert_array_equal(facility_supply(df, "gps", missing=1.0), [1, 3, 4, 1, 0, 1])
    with pytest.raises(InputError):
        facility_supply(df.assign(gps=-1.0), "gps")
