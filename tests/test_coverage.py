import numpy as np
import pandas as pd
import pytest

from gridplan.access.coverage import (
    CoverageIndex,
    catchments,
    centre_standard_flag,
    gaussian_weight,
)
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.base import TravelTimes
from gridplan.travel.straight import StraightLineModel


def toy(minutes, population, unit):
    grid = CellGrid("EPSG:4547", 500_000.0, 4_200_000.0, 100.0, *np.shape(minutes))
    surface = PopulationSurface(
        grid,
        np.asarray(population, dtype=np.float32),
        np.asarray(unit, dtype=np.int32),
        ["A", "B"],
    )
    times = TravelTimes(
        grid,
        np.asarray(minutes, dtype=np.float32),
        np.zeros(np.shape(minutes), dtype=np.int32),
        "test",
    )
    return surface, times


def test_cell_exactly_at_threshold_is_covered():
    s, t = toy([[15.0, 15.000001, 14.999]], [[10, 20, 30]], [[0, 0, 0]])
    ix = CoverageIndex.build(s, t)
    k = ix.group_kpis(15, np.array([0, 1]), 2)
    assert k.loc[0, "covered"] == 40  # 15.0 and 14.999 in, 15.000001 out
    assert k.loc[0, "share"] == pytest.approx(40 / 60)


def test_weighted_quantiles_match_brute_force():
    rng = np.random.default_rng(1)
    minutes = rng.uniform(0, 60, (30, 40)).astype(np.float32)
    pop = rng.integers(0, 50, (30, 40)).astype(np.float32)
    unit = rng.integers(0, 2, (30, 40))
    s, t = toy(minutes, pop, unit)
    ix = CoverageIndex.build(s, t)
    k = ix.group_times(np.array([0, 1]), 2)
    for g in (0, 1):
        m = (unit == g) & (pop > 0)
        v, w = minutes[m], pop[m].astype(float)
        order = np.argsort(v, kind="stable")
        cum = np.cumsum(w[order])
        for q, col in ((0.5, "median_minutes"), (0.9, "p90_minutes")):
            expected = v[order][np.searchsorted(cum, q * cum[-1])]
            assert k.loc[g, col] == pytest.approx(expected)
        assert k.loc[g, "mean_minutes"] == pytest.approx(np.average(v, weights=w), rel=1e-5)
        assert k.loc[g, "population"] == pytest.approx(w.sum())


def test_unreachable_residents_are_counted_apart_and_as_uncovered():
    """The raster model's ``inf`` cells: p90 read ``inf`` while the mean left them out
    silently.  Now every statistic is over the reachable, who are counted, with the rest."""
    s, t = toy([[5.0, np.inf, np.inf, 7.0]], [[10, 5, 5, 30]], [[0, 0, 0, 0]])
    ix = CoverageIndex.build(s, t)
    k = ix.group_kpis(60, np.array([0, 1]), 2)
    row = k.loc[0]
    assert row["population"] == 50 and row["reachable"] == 40 and row["unreachable"] == 10
    assert row["unreachable_share"] == pytest.approx(0.2)
    assert row["covered"] == 40 and row["share"] == pytest.approx(0.8)  # never covered
    assert row["mean_minutes"] == pytest.approx((5 * 10 + 7 * 30) / 40)
    assert row["median_minutes"] == 7 and row["p90_minutes"] == 7  # finite: the reachable
    # a group whose residents all reach nothing: no time statistic, all unreachable
    s, t = toy([[np.inf, np.inf]], [[3, 4]], [[0, 0]])
    k = CoverageIndex.build(s, t).group_kpis(60, np.array([0, -1]), 1).loc[0]
    assert k["unreachable"] == 7 and k["covered"] == 0
    assert np.isnan(k["mean_minutes"]) and np.isnan(k["median_minutes"])
    assert np.isnan(k["p90_minutes"])
    summary = CoverageIndex.build(s, t).summary(60)
    assert summary["reachable"] + summary["unreachable"] == summary["population"] == 7


def test_sliders_equal_recomputation():
    rng = np.random.default_rng(2)
    grid = CellGrid("EPSG:4547", 500_000.0, 4_200_000.0, 100.0, 40, 50)
    pop = rng.integers(0, 30, grid.shape).astype(np.float32)
    unit = rng.integers(0, 2, grid.shape).astype(np.int32)
    s = PopulationSurface(grid, pop, unit, ["A", "B"])
    xy = np.array([[500_500.0, 4_199_500.0], [503_000.0, 4_197_000.0]])
    mask = pop > 0
    slow = StraightLineModel(speed_kmh=4.8, detour=1.3)
    fast = StraightLineModel(speed_kmh=15.0, detour=1.5)
    ix = CoverageIndex.build(s, slow.travel_times(grid, mask, xy))
    slid = ix.with_sliders(fast.minutes_per_metre / slow.minutes_per_metre, 1.2)
    direct = CoverageIndex.build(s, fast.travel_times(grid, mask, xy))
    a = slid.group_kpis(10, np.array([0, 1]), 2)
    b = direct.group_kpis(10, np.array([0, 1]), 2)
    assert np.allclose(a["covered"], b["covered"] * 1.2, rtol=1e-5)
    assert np.allclose(a["median_minutes"], b["median_minutes"], rtol=1e-5)
    assert np.allclose(a["population"], b["population"] * 1.2)


def test_catchments_and_standard_flags():
    s, t = toy([[1.0, 2.0, 50.0]], [[40_000, 20_000, 70_000]], [[0, 0, 0]])
    t.nearest[:] = [[0, 1, 1]]
    ix = CoverageIndex.build(s, t)
    c = catchments(ix, 3, threshold_min=15)
    assert list(c["served"]) == [40_000, 90_000, 0]
    assert list(c["served_within"]) == [40_000, 20_000, 0]
    assert list(centre_standard_flag(c["served"].to_numpy())) == ["within", "within", "below"]
    assert centre_standard_flag(np.array([100_001.0]))[0] == "above"


def test_gaussian_weight_formula():
    d0 = 30.0
    w = gaussian_weight(np.array([0.0, d0, d0 + 1, 15.0]), d0)
    assert w[0] == pytest.approx(1.0) and w[1] == pytest.approx(0.0, abs=1e-12) and w[2] == 0
    e = np.exp(-0.5)
    assert w[3] == pytest.approx((np.exp(-0.5 * 0.25) - e) / (1 - e))


def test_summary_counts_unplaced_zone_population_separately():
    s, t = toy([[5.0]], [[100]], [[0]])
    s.unplaced = {"130171": 50.0}
    ix = CoverageIndex.build(s, t)
    out = ix.summary(15)
    assert out["population"] == 100 and out["not_assessed_population"] == 50
    assert isinstance(pd.Series(out), pd.Series)


def test_travel_times_on_another_grid_are_refused_in_both_languages():
    from gridplan.errors import InputError
    from gridplan.i18n import error_text

    _, t = toy([[1.0, 2.0]], [[1, 1]], [[0, 0]])
    other, _ = toy([[1.0, 2.0, 3.0]], [[1, 1, 1]], [[0, 0, 0]])
    with pytest.raises(InputError) as e:
        CoverageIndex.build(other, t)
    assert e.value.code == "capacity.grid_mismatch" and isinstance(e.value, ValueError)
    assert "同一格网" in error_text(e.value, "zh")


def test_unknown_travel_time_model_is_named():
    from gridplan.errors import InputError
    from gridplan.i18n import error_text
    from gridplan.travel.models import make_model

    with pytest.raises(InputError) as e:
        make_model("taxi")
    assert e.value.code == "traveltime.model"
    assert "taxi" in error_text(e.value, "zh") and "straight" in error_text(e.value, "en")
