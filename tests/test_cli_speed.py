"""The quick command-line start and the lean coverage statistics give the same figures.

The coverage statistics sort the populated cells with 16-bit radix passes
(:mod:`gridplan.access._order`) instead of 64-bit merge sorts; the census
surface and the straight-line model work band by band.  Each is checked here
to give exactly (bit for bit) what the former whole-array code gave, kept
below as the reference.  The start of the command line is checked by the
modules it loads, never by its time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gridplan.access._order import minutes_order, slot_order
from gridplan.access.coverage import CoverageIndex, kpi_tables
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import build_units
from gridplan.surface.grid import CellGrid, PopulationSurface, census_surface
from gridplan.travel.base import TravelTimes
from gridplan.travel.straight import StraightLineModel

# --- the former code, as the reference ------------------------------------------------------


def _reference_quantiles(g, v, w, n_groups, qs):
    """The former ``_weighted_quantiles(..., presorted=True)``."""
    if len(w) == 0:
        return [np.full(n_groups, np.nan) for _ in qs]
    starts = np.searchsorted(g, np.arange(n_groups), side="left")
    ends = np.searchsorted(g, np.arange(n_groups), side="right")
    cum = np.cumsum(w)
    before = np.where(starts > 0, cum[np.clip(starts - 1, 0, None)], 0.0)
    totals = np.where(ends > starts, cum[np.clip(ends - 1, 0, None)] - before, 0.0)
    out = []
    for q in qs:
        target = before + q * totals
        pos = np.searchsorted(cum, target, side="left")
        pos = np.minimum(np.maximum(pos, starts), np.maximum(ends - 1, 0))
        res = np.where(ends > starts, v[np.clip(pos, 0, len(v) - 1)] if len(v) else np.nan, np.nan)
        out.append(res.astype(np.float64))
    return out


def _reference_group_times(unit, population, minutes, unit_group, n_groups):
    """The former ``CoverageIndex._base_group_times`` (float64 residents, int64 sorts), with
    the time statistics over the reachable residents and the reachable counted apart."""
    population = population.astype(np.float64)

    def groups():
        return np.where(unit >= 0, unit_group[np.clip(unit, 0, None)], -1)

    by_minutes = np.argsort(minutes, kind="stable")
    order = by_minutes[np.argsort(groups()[by_minutes], kind="stable")]
    g = groups()[order]
    keep = g >= 0
    g, pop, mins = g[keep], population[order][keep], minutes[order][keep]
    total = np.bincount(g, weights=pop, minlength=n_groups)
    finite = np.isfinite(mins)
    wsum = np.bincount(g, weights=np.where(finite, pop * mins, 0.0), minlength=n_groups)
    wpop = np.bincount(g, weights=np.where(finite, pop, 0.0), minlength=n_groups)
    # the quantiles of the reachable cells alone (issue 14: the unreachable are counted apart)
    median, p90 = _reference_quantiles(g[finite], mins[finite], pop[finite], n_groups, (0.5, 0.9))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(wpop > 0, wsum / wpop, np.nan)
    return pd.DataFrame(
        {"population": total, "reachable": wpop, "unreachable": total - wpop,
         "mean_minutes": mean, "median_minutes": median, "p90_minutes": p90}
    )  # fmt: skip


def _reference_unit_covered(unit, population, minutes, n_units, thr):
    """The former ``CoverageIndex.unit_covered`` (its by-unit sort and float64 cumsum)."""
    slot = unit.astype(np.int64) + 1
    by_minutes = np.argsort(minutes, kind="stable")
    order = by_minutes[np.argsort(slot[by_minutes], kind="stable")]
    m = minutes[order]
    cum = np.concatenate([[0.0], np.cumsum(population.astype(np.float64)[order])])
    starts = np.searchsorted(slot[order], np.arange(n_units + 2), side="left")
    out = np.empty(n_units)
    for u in range(n_units):
        a, b = starts[u + 1], starts[u + 2]
        out[u] = cum[a + np.searchsorted(m[a:b], np.float32(thr), side="right")] - cum[a]
    return out


def _reference_census_surface(unit_set, cell_m):
    """The former :func:`census_surface` (a float64 grid, rounded to float32 at the end)."""
    import rasterio.features

    drawn = unit_set.units[unit_set.units["has_geometry"]]
    bounds = tuple(float(v) for v in drawn.to_crs(unit_set.metric_crs).total_bounds)
    grid = CellGrid.from_bounds(bounds, cell_m, unit_set.metric_crs)
    u = unit_set.units.reset_index(drop=True)
    order = np.argsort((u["level"] == "township").to_numpy(), kind="stable")
    geoms = u.geometry.to_crs(grid.crs)
    shapes = [(geoms.iat[i], int(i)) for i in order if u["has_geometry"].iat[i]]
    index = rasterio.features.rasterize(
        shapes, out_shape=grid.shape, transform=grid.transform, fill=-1, dtype="int32"
    )
    pop = u["population"].fillna(0.0).to_numpy(dtype=np.float64)
    counts = np.bincount(index[index >= 0], minlength=len(u)).astype(np.float64)
    per_cell = np.divide(pop, counts, out=np.zeros_like(pop), where=counts > 0)
    surface = np.where(index >= 0, per_cell[np.clip(index, 0, None)], 0.0)
    for i in np.flatnonzero((counts == 0) & (pop > 0)):
        if not u["has_geometry"].iat[i] or u.geometry.iat[i] is None:
            continue
        pt = u.iloc[[i]].to_crs(grid.crs).geometry.iat[0].representative_point()
        r, c, ok = grid.cell_of(np.array([pt.x]), np.array([pt.y]))
        if ok[0]:
            surface[r[0], c[0]] += pop[i]
            if index[r[0], c[0]] < 0:
                index[r[0], c[0]] = i
    return surface.astype(np.float32), index.astype(np.int32)


# --- the sort orders --------------------------------------------------------------------------


def _awkward_minutes(rng, n):
    """Minutes with many ties, zeros, unreachable cells and values near float32 steps."""
    v = np.round(rng.uniform(0, 90, n), 1).astype(np.float32)
    v[rng.random(n) < 0.05] = np.inf
    v[rng.random(n) < 0.05] = 0.0
    v[rng.random(n) < 0.02] = np.nextafter(np.float32(15), np.float32(16))
    return v


def test_minutes_order_is_the_stable_argsort():
    rng = np.random.default_rng(7)
    v = _awkward_minutes(rng, 200_003)
    v[::1001] = np.nan  # NaN sorts last in both
    assert minutes_order(v).dtype == np.int32
    assert np.array_equal(minutes_order(v), np.argsort(v, kind="stable"))
    neg = v.copy()
    neg[::7] = -neg[::7]  # negative values: the merge-sort fallback, same order
    neg[3] = -0.0
    assert np.array_equal(minutes_order(neg), np.argsort(neg, kind="stable"))
    f64 = v.astype(np.float64)
    assert np.array_equal(minutes_order(f64), np.argsort(f64, kind="stable"))


@pytest.mark.parametrize("n_slots", [3, 300, 70_000])  # uint16 keys, and uint32 beyond
def test_slot_order_sorts_by_slot_then_minutes_then_position(n_slots):
    rng = np.random.default_rng(n_slots)
    n = 100_000
    minutes = _awkward_minutes(rng, n)
    unit = rng.integers(-1, n_slots - 1, n).astype(np.int32)
    slot_of_unit = np.concatenate([[0], rng.integers(0, n_slots, n_slots - 1)])
    order, starts = slot_order(slot_of_unit, unit, minutes_order(minutes), n_slots)
    slot = slot_of_unit[unit + 1]
    expected = np.lexsort((np.arange(n), minutes, slot))
    assert np.array_equal(order, expected)
    assert np.array_equal(starts, np.searchsorted(slot[expected], np.arange(n_slots + 1)))


# --- the statistics, bit for bit --------------------------------------------------------------


def _index(rng, shape, n_units, *, unreachable=True):
    grid = CellGrid("EPSG:4547", 500_000.0, 4_200_000.0, 100.0, *shape)
    pop = rng.integers(0, 40, shape).astype(np.float32) * np.float32(1.37)
    unit = rng.integers(-1, n_units, shape).astype(np.int32)
    minutes = _awkward_minutes(rng, pop.size).reshape(shape)
    if not unreachable:
        minutes[~np.isfinite(minutes)] = 99.0
    surface = PopulationSurface(grid, pop, unit, [str(i) for i in range(n_units)])
    times = TravelTimes(grid, minutes, np.zeros(shape, dtype=np.int32), "test")
    return CoverageIndex.build(surface, times)


@pytest.mark.parametrize("unreachable", [True, False])
def test_group_statistics_equal_the_former_code_exactly(unreachable):
    rng = np.random.default_rng(11)
    ix = _index(rng, (300, 400), 57, unreachable=unreachable)
    n_units = ix.n_units
    groupings = {
        "units": (np.arange(n_units), n_units),
        "grids": (rng.integers(-1, 9, n_units), 9),  # -1: units in no grid
        "all": (np.zeros(n_units, dtype=np.int64), 1),
    }
    for name, (unit_group, n_groups) in groupings.items():
        got = ix.group_times(unit_group, n_groups)
        want = _reference_group_times(ix.unit, ix.population, ix.base_minutes, unit_group, n_groups)
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)
    for thr in (0.0, 15.0, 30.5, np.inf):
        want = _reference_unit_covered(ix.unit, ix.population, ix.base_minutes, n_units, thr)
        assert np.array_equal(ix.unit_covered(thr), want)


def test_more_groups_than_a_uint16_key_holds():
    rng = np.random.default_rng(3)
    ix = _index(rng, (400, 500), 70_000)
    unit_group = np.arange(ix.n_units)
    got = ix.group_times(unit_group, ix.n_units)
    want = _reference_group_times(ix.unit, ix.population, ix.base_minutes, unit_group, ix.n_units)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_residents_stay_float64_for_every_sum():
    rng = np.random.default_rng(5)
    ix = _index(rng, (20, 30), 4)
    assert ix.population.dtype == np.float32 and ix.residents.dtype == np.float64
    slid = ix.with_sliders(1.0, 1.5).residents
    assert np.array_equal(slid, ix.population.astype(np.float64) * 1.5)  # not a float32 product


@pytest.fixture(scope="module")
def shijiazhuang():
    plan = GridPlan.from_preset("shijiazhuang")
    return plan, build_units(plan.prefecture)


def test_census_surface_equals_the_former_whole_grid_code(shijiazhuang):
    _, units = shijiazhuang
    for cell_m in (1000.0, 250.0):  # at 1 km small units fall back to their nearest cell
        s = census_surface(units, cell_m)
        pop, index = _reference_census_surface(units, cell_m)
        assert s.population.dtype == np.float32 and s.unit_index.dtype == np.int32
        assert np.array_equal(s.population, pop) and np.array_equal(s.unit_index, index)
    # the areas by the shared transformer are those of geopandas' own
    metric = units.units.to_crs(units.metric_crs).area.to_numpy() / 1e6
    has = units.units["has_geometry"].to_numpy()
    assert np.array_equal(units.units["area_km2"].to_numpy()[has], metric[has])


def _kdtree_nearest(grid, mask, xy):
    """The former ``StraightLineModel.distances``: one k-d tree query of the masked cells."""
    from scipy.spatial import cKDTree

    dist = np.full(grid.shape, np.inf, dtype=np.float32)
    nearest = np.full(grid.shape, -1, dtype=np.int32)
    rows, cols = np.nonzero(mask)
    x, y = grid.centres(rows, cols)
    d, i = cKDTree(xy).query(np.column_stack([x, y]), k=1)
    dist[rows, cols] = d
    nearest[rows, cols] = i
    return dist, nearest


def _lowest_nearest(grid, mask, xy):
    """Brute force: every cell against every facility, ties to the lowest index."""
    rows, cols = np.nonzero(mask)
    x, y = grid.centres(rows, cols)
    dx = x[:, None] - xy[None, :, 0]
    dy = y[:, None] - xy[None, :, 1]
    return rows, cols, np.argmin(dx * dx + dy * dy, axis=1)


@pytest.mark.parametrize(("block", "band_cells"), [(None, None), (1, 500), (5, None), (64, 1)])
def test_nearest_on_grid_equals_a_kd_tree_on_a_preset(shijiazhuang, monkeypatch, block, band_cells):
    from gridplan.travel import nearest as module
    from gridplan.travel.nearest import nearest_on_grid

    if band_cells is not None:  # many bands of a few block rows, many bound chunks
        monkeypatch.setattr(module, "_BAND_CELLS", band_cells)
        monkeypatch.setattr(module, "_BOUND_PAIRS", 100)
        monkeypatch.setattr(module, "_DIST_ELEMENTS", 1000)

    _, units = shijiazhuang
    s = census_surface(units, 500.0)
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = s.grid.bounds
    # some facilities outside the grid, which can still be the nearest of edge cells
    xy = np.column_stack([rng.uniform(x0 - 5e3, x1 + 5e3, 40), rng.uniform(y0 - 5e3, y1 + 5e3, 40)])
    want_d, want_i = _kdtree_nearest(s.grid, s.populated(), xy)
    dist, nearest = nearest_on_grid(s.grid, s.populated(), xy, block=block)
    assert dist.dtype == np.float32 and nearest.dtype == np.int32
    assert np.array_equal(dist, want_d)  # bit for bit, inf outside the mask
    assert np.array_equal(nearest, want_i)  # no ties among random points
    assert np.isfinite(dist[s.populated()]).all() and (nearest[~s.populated()] == -1).all()
    minutes = StraightLineModel().travel_times(s.grid, s.populated(), xy)
    assert np.array_equal(minutes.nearest, want_i)


@pytest.mark.parametrize("block", [None, 1, 3, 8])
def test_nearest_on_grid_gives_ties_to_the_lowest_index(block):
    from gridplan.travel.nearest import nearest_on_grid

    grid = CellGrid("EPSG:32650", 500_000.0, 4_200_000.0, 100.0, 37, 53)
    rng = np.random.default_rng(7)
    mask = rng.random(grid.shape) < 0.7
    # facilities on cell centres, several twice: many cells equally near two or more
    r, c = rng.integers(0, 37, 30), rng.integers(0, 53, 30)
    r, c = np.concatenate([r, r[:8]]), np.concatenate([c, c[:8]])
    xy = np.column_stack(grid.centres(r, c))
    dist, nearest = nearest_on_grid(grid, mask, xy, block=block)
    want_d, _ = _kdtree_nearest(grid, mask, xy)
    assert np.array_equal(dist, want_d)
    rows, cols, lowest = _lowest_nearest(grid, mask, xy)
    assert np.array_equal(nearest[rows, cols], lowest)
    assert (nearest[rows, cols] < 30).all()  # a duplicate never wins over its first copy


def test_nearest_on_grid_without_facilities_or_cells():
    from gridplan.travel.nearest import nearest_on_grid

    grid = CellGrid("EPSG:32650", 0.0, 1000.0, 100.0, 4, 5)
    dist, nearest = nearest_on_grid(grid, np.ones(grid.shape, bool), np.empty((0, 2)))
    assert np.isinf(dist).all() and (nearest == -1).all()
    dist, nearest = nearest_on_grid(grid, np.zeros(grid.shape, bool), np.array([[50.0, 950.0]]))
    assert np.isinf(dist).all() and (nearest == -1).all()
    one = np.zeros(grid.shape, bool)
    one[3, 4] = True
    dist, nearest = nearest_on_grid(grid, one, np.array([[50.0, 950.0]]))
    assert dist[3, 4] == np.float32(np.hypot(400.0, 300.0)) and nearest[3, 4] == 0
    assert np.isinf(dist[~one]).all()


def test_kpi_tables_of_a_preset_equal_the_former_code(shijiazhuang):
    plan, units = shijiazhuang
    s = census_surface(units, 500.0)
    xy = np.array(
        [[s.grid.x0 + 20_000.0, s.grid.y0 - 30_000.0], [s.grid.x0 + 60_000, s.grid.y0 - 90_000]]
    )
    ix = CoverageIndex.build(s, StraightLineModel().travel_times(s.grid, s.populated(), xy))
    tables = kpi_tables(ix, plan, units, 15.0)
    from gridplan.access.coverage import plan_groups

    groups, ids = plan_groups(plan, units)
    want = _reference_group_times(ix.unit, ix.population, ix.base_minutes, groups, len(ids))
    columns = ["population", "reachable", "unreachable", "mean_minutes", "median_minutes",
               "p90_minutes"]  # fmt: skip
    pd.testing.assert_frame_equal(tables.by_grid[columns], want, check_exact=True)
    covered = _reference_unit_covered(ix.unit, ix.population, ix.base_minutes, ix.n_units, 15.0)
    assert np.array_equal(tables.by_unit["covered"].to_numpy(), covered)
    every = np.zeros(ix.n_units, dtype=np.int64)
    summary = _reference_group_times(ix.unit, ix.population, ix.base_minutes, every, 1)
    for key in columns:
        assert tables.summary[key] == summary.loc[0, key]


# --- what the command line loads --------------------------------------------------------------

#: Modules the coverage command does not need; each costs a tenth of a second or more to load.
HEAVY = ("matplotlib", "scipy.ndimage", "sklearn", "PIL", "docx", "networkx", "osmnx",
         "highspy", "pulp", "spopt", "scipy.optimize", "scipy.stats", "pyogrio",
         "scipy.spatial", "scipy.sparse")  # fmt: skip


def _loaded(code: str, env: dict[str, str] | None = None) -> list[str]:
    """The :data:`HEAVY` modules a new interpreter holds after running ``code``."""
    probe = (
        f"{code}\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    loaded: list[str] = json.loads(r.stdout.splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_none_of_the_heavy_modules():
    assert _loaded("import gridplan.cli") == []
    assert _loaded("import gridplan, gridplan.workflow") == []


def test_the_coverage_command_loads_none_of_the_heavy_modules(tmp_path):
    run = (
        "import contextlib, io\nfrom gridplan.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['coverage', '--preset', 'shijiazhuang', '--minutes', '15', '--mode',"
        " 'walk', '--model', 'straight', '--cell-m', '1000', '--json']) == 0\n"
    )
    cache = {"GRIDPLAN_CACHE_DIR": str(tmp_path)}
    # a cold cache lays out the illustrative network (k-means: scikit-learn), a warm one reads it
    assert "sklearn" in _loaded(run, cache)
    assert _loaded(run, cache) == []
    # nor the facility file readers (the table of the illustrative network needs none)
    probe = f"{run}\nimport sys\nassert 'gridplan.facilities.reader' not in sys.modules\n"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       check=False, env={**os.environ, **cache})  # fmt: skip
    assert r.returncode == 0, r.stderr


def test_the_cli_benchmark_quick_mode_prints_its_rows(capsys):
    import re

    from benchmarks.bench_cli import HEADER, main

    rows = main(["--quick"])
    assert capsys.readouterr().out.splitlines() == [*HEADER.splitlines(), *rows]
    number = r"\d+\.\d\d"
    pattern = rf"\| (.+) \| (warm|cold) \| {number} \| {number}–{number} \| {number} \| (\d+) \|"
    parsed = [re.fullmatch(pattern, r) for r in rows]
    assert all(parsed), rows
    assert [(m[1], m[2]) for m in parsed if m] == [
        ("coverage, straight, walk 15 min (1 km)", "warm"),
        ("coverage, straight, walk 15 min (1 km)", "cold"),
        ("grids, Shijiazhuang preset", "warm"),
        ("grids, Shijiazhuang preset", "cold"),
    ]
    assert all(int(m[3]) > 50 for m in parsed if m)  # a real process's memory, in MB


# --- census matching by plain lookups ---------------------------------------------------------


@pytest.mark.parametrize("prefecture", ["130100", "330100", "532300", "350500"])
def test_census_figures_by_lookups_equal_pandas_sums(prefecture):
    from gridplan.inputs.boundaries import load_county_boundaries, resolve_prefecture
    from gridplan.plan.census import match_census
    from gridplan.plan.population import census_for_prefecture

    boundary = load_county_boundaries(resolve_prefecture(prefecture))[["adcode", "name"]]
    # one unit under an unknown code: found by its name once its own code is gone
    boundary = pd.concat(
        [boundary.iloc[1:], boundary.iloc[:1].assign(adcode="999999")], ignore_index=True
    )
    units = match_census(prefecture, boundary).units
    census = census_for_prefecture(prefecture).set_index("adcode")
    for row in units.itertuples():
        codes = [c for c in row.census_codes.split(";") if c]
        if not codes:
            assert np.isnan(row.population) and np.isnan(row.age65plus)
            continue
        # the former figures: a pandas Series indexed by the codes, summed
        assert row.population == census["pop_2020"].astype(float)[codes].sum()
        assert row.age65plus == census["age65plus"].astype(float)[codes].sum()
    assert units.loc[len(units) - 1, "census_match"] in {"name", "missing"}
    if prefecture == "130100":
        assert units.loc[len(units) - 1, "census_match"] == "name"


# --- transformers of the Gauss-Krüger zones from their pipelines ------------------------------


@pytest.mark.parametrize("epsg", range(4534, 4555))
def test_gauss_kruger_pipelines_are_projs_own(epsg):
    from pyproj import Transformer

    from gridplan.inputs.crs import _cached_transformer, gauss_kruger_epsg, known_pipeline

    zone = f"EPSG:{epsg}"
    cm = 75 + 3 * (epsg - 4534)
    assert gauss_kruger_epsg(cm) == epsg
    rng = np.random.default_rng(epsg)
    lon, lat = rng.uniform(cm - 2, cm + 2, 500), rng.uniform(18, 53, 500)
    forward = Transformer.from_crs("EPSG:4326", zone, always_xy=True)
    metric = forward.transform(lon, lat)
    for src, dst, points in (("EPSG:4326", zone, (lon, lat)), (zone, "EPSG:4326", metric)):
        proj = Transformer.from_crs(src, dst, always_xy=True)
        assert known_pipeline(src, dst) == proj.definition
        want = proj.transform(*points)
        got = _cached_transformer(src, dst).transform(*points)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_other_pairs_have_no_known_pipeline():
    from gridplan.inputs.crs import known_pipeline

    assert known_pipeline("EPSG:4326", "EPSG:32650") is None  # UTM: PROJ's database
    assert known_pipeline("EPSG:4490", "EPSG:4547") is None  # CGCS2000 lon/lat
    assert known_pipeline("EPSG:4547", "EPSG:3857") is None
    assert known_pipeline("EPSG:4326", "EPSG:4533") is None  # not a zone of the table
