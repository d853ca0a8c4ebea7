"""Grid proposals (gridplan.regions): exact MILP against brute force, heuristic, real data."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from gridplan.errors import InputError
from gridplan.i18n import error_text
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.units import UnitSet, build_units
from gridplan.plan.validate import grid_components, unit_adjacency, validate_plan
from gridplan.regions.compare import compare_plans, plan_travel_minutes
from gridplan.regions.costs import (
    Hospital,
    MatrixCost,
    StraightLineCost,
    default_zone_anchors,
    unit_points,
)
from gridplan.regions.propose import propose_grids
from gridplan.surface.grid import census_surface
from tests.synthetic import toy_unit_set

highspy = pytest.importorskip("highspy")

# --- a toy prefecture: a 4 x 4 lattice of 10 km squares plus one zone without polygon ------
N = 4
SIDE = 10_000.0
X0, Y0 = 500_000.0, 4_200_000.0
POP = np.array(
    [
        [120, 80, 60, 150],
        [90, 200, 70, 110],
        [60, 130, 180, 40],
        [100, 50, 90, 160],
    ],
    dtype=float,
).ravel()  # cell (row, col) is unit row*4 + col; row 0 at the bottom
ZONE_POP = 55.0  # makes the total odd: no exact balance exists
ZONE_ANCHOR = "990111"  # the zone's residents are taken to live in cell (1, 1)
TO_WGS = Transformer.from_crs(4547, 4326, always_xy=True)


def _cell_id(i: int) -> str:
    return f"9901{i // N}{i % N}"


def _toy() -> UnitSet:
    cells, ids = [], []
    for i in range(N * N):
        r, c = divmod(i, N)
        x0, y0 = X0 + c * SIDE, Y0 + r * SIDE
        cells.append(shapely.box(x0, y0, x0 + SIDE, y0 + SIDE))
        ids.append(_cell_id(i))
    return toy_unit_set(cells, ids, POP, ZONE_POP)


def _centre(i: int) -> tuple[float, float]:
    r, c = divmod(i, N)
    return X0 + (c + 0.5) * SIDE, Y0 + (r + 0.5) * SIDE


def _hospital(i: int, name: str) -> Hospital:
    lon, lat = TO_WGS.transform(*_centre(i))
    return Hospital(name, lon, lat)


def _toy_cost(roots: list[int]) -> np.ndarray:
    """Minutes: 2 min per km between cell centres (anisotropic so optima are unique-ish)."""
    out = np.zeros((N * N + 1, len(roots)))
    for g, r in enumerate(roots):
        hx, hy = _centre(r)
        for i in range(N * N):
            x, y = _centre(i)
            out[i, g] = 2.0 * np.hypot((x - hx) / 1000, 1.3 * (y - hy) / 1000)
    out[N * N] = np.nan  # the zone: filled from its anchor by propose_grids
    return out


# --- brute force over every contiguous partition -------------------------------------------
def _king_neighbours() -> list[int]:
    nb = []
    for i in range(N * N):
        r, c = divmod(i, N)
        m = 0
        for dr, dc in itertools.product((-1, 0, 1), repeat=2):
            rr, cc = r + dr, c + dc
            if (dr, dc) != (0, 0) and 0 <= rr < N and 0 <= cc < N:
                m |= 1 << (rr * N + cc)
        nb.append(m)
    return nb


def _connected_masks() -> np.ndarray:
    """conn[mask]: the cells of ``mask`` form one king-connected piece."""
    masks = np.arange(1 << (N * N), dtype=np.int64)
    nb = _king_neighbours()
    reach = masks & -masks  # lowest set bit
    while True:
        grown = reach.copy()
        for i in range(N * N):
            grown |= np.where((reach >> i) & 1, nb[i], 0)
        grown &= masks
        if np.array_equal(grown, reach):
            break
        reach = grown
    return (reach == masks) & (masks > 0)


CONNECTED = None


def _brute_force(roots: list[int], cost: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """Minimum person-minutes over contiguous partitions within [lo, hi], and min max-deviation."""
    global CONNECTED
    if CONNECTED is None:
        CONNECTED = _connected_masks()
    k = len(roots)
    full = (1 << (N * N)) - 1
    masks = np.arange(1 << (N * N), dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(N * N)) & 1).astype(float)
    pop_m = bits @ POP
    zone_cost = cost[int(ZONE_ANCHOR[-2]) * N + int(ZONE_ANCHOR[-1])]
    mean = (POP.sum() + ZONE_POP) / k
    best, best_dev = np.inf, np.inf
    rbits = [1 << r for r in roots]
    others = [sum(rbits) - b for b in rbits]
    valid = [CONNECTED & ((masks & rbits[g]) > 0) & ((masks & others[g]) == 0) for g in range(k)]
    cost_m = [bits @ (POP * cost[: N * N, g]) for g in range(k)]
    for z in range(k):
        zp = np.array([ZONE_POP if g == z else 0.0 for g in range(k)])
        zc = ZONE_POP * zone_cost[z]
        if k == 2:
            m1 = np.flatnonzero(valid[0])
            m2 = full ^ m1
            ok = valid[1][m2]
            m1, m2 = m1[ok], m2[ok]
            p1, p2 = pop_m[m1] + zp[0], pop_m[m2] + zp[1]
            dev = np.maximum(np.abs(p1 - mean), np.abs(p2 - mean)) / mean
            best_dev = min(best_dev, float(dev.min()))
            inb = (p1 >= lo) & (p1 <= hi) & (p2 >= lo) & (p2 <= hi)
            if inb.any():
                best = min(best, float((cost_m[0][m1] + cost_m[1][m2])[inb].min() + zc))
        else:
            m1s = np.flatnonzero(valid[0])
            m2_all = np.flatnonzero(valid[1])
            for m1 in m1s:
                m2 = m2_all[(m2_all & m1) == 0]
                m3 = full ^ m1 ^ m2
                ok = valid[2][m3]
                m2, m3 = m2[ok], m3[ok]
                if not len(m2):
                    continue
                p = np.stack([np.full(len(m2), pop_m[m1]), pop_m[m2], pop_m[m3]]) + zp[:, None]
                dev = np.abs(p - mean).max(axis=0) / mean
                best_dev = min(best_dev, float(dev.min()))
                inb = ((p >= lo) & (p <= hi)).all(axis=0)
                if inb.any():
                    c = cost_m[0][m1] + cost_m[1][m2] + cost_m[2][m3] + zc
                    best = min(best, float(c[inb].min()))
    return best, best_dev


def _check_plan(prop, us: UnitSet) -> None:
    """Every unit in one grid, each grid one piece holding its hospital, kind proposal."""
    assert prop.assignment[us.units["inside_prefecture"]].notna().all()
    comps = grid_components(us, prop.assignment)
    for g in prop.plan.grids:
        assert len(comps[g.grid_id]) == 1, g.name
        assert g.kind == "proposal" and g.lead_hospital and "GridPlan proposal" in g.note
    assert prop.contiguous
    by_id = dict(zip(us.units["unit_id"], prop.assignment, strict=True))
    assert [by_id[r] for r in prop.root_units] == [g.grid_id for g in prop.plan.grids]
    errors = [p for p in validate_plan(prop.plan, us) if p.severity == "error"]
    assert errors == []
    assert any("GridPlan proposal" in n for n in prop.plan.notes)


def _within(prop) -> bool:
    pops = prop.grid_table["population"].to_numpy()
    lo, hi = prop.bounds
    return bool(((pops >= lo * (1 - 1e-9)) & (pops <= hi * (1 + 1e-9))).all())


# (roots, X): loose and binding balance bounds, two and three grids
TOY_CASES = [
    ([0, 15], 0.5),
    ([0, 15], 0.005),
    ([0, 3], 0.05),
    ([0, 3, 13], 0.5),
    ([0, 3, 13], 0.08),
    ([5, 12, 11], 0.05),
]


def test_toy_cases_include_binding_bounds():
    loose = {
        tuple(r): _brute_force(r, np.nan_to_num(_toy_cost(r)), 0, np.inf)[0] for r, _ in TOY_CASES
    }
    mean = {k: (POP.sum() + ZONE_POP) / k for k in (2, 3)}
    binding = 0
    for roots, x in TOY_CASES:
        m = mean[len(roots)]
        best, _ = _brute_force(roots, np.nan_to_num(_toy_cost(roots)), m * (1 - x), m * (1 + x))
        binding += best > loose[tuple(roots)] * (1 + 1e-9)
    assert binding >= 3


@pytest.mark.parametrize(("roots", "x"), TOY_CASES)
def test_exact_equals_brute_force_and_heuristic_is_feasible_and_not_better(roots, x):
    us = _toy()
    hosp = [_hospital(r, f"H{j}") for j, r in enumerate(roots)]
    cost = _toy_cost(roots)
    anchors = {"990171": [ZONE_ANCHOR]}
    exact = propose_grids(us, hosp, x, cost=cost, method="exact", zone_anchors=anchors)
    lo, hi = exact.bounds
    best, _ = _brute_force(roots, np.where(np.isnan(cost), 0, cost), lo, hi)
    assert np.isfinite(best), "the toy case must be feasible"
    assert exact.method == "exact" and exact.status == "optimal" and exact.gap == 0.0
    assert exact.bounds_met and _within(exact)
    assert exact.objective_person_minutes == pytest.approx(best, rel=1e-6)
    assert exact.mean_minutes == pytest.approx(best / (POP.sum() + ZONE_POP), rel=1e-6)
    _check_plan(exact, us)

    heur = propose_grids(us, hosp, x, cost=cost, method="heuristic", zone_anchors=anchors)
    assert heur.method == "heuristic" and heur.gap is None
    assert heur.bounds_met and _within(heur)
    assert heur.objective_person_minutes >= exact.objective_person_minutes * (1 - 1e-9)
    _check_plan(heur, us)


def test_auto_uses_exact_on_small_instances():
    us = _toy()
    roots = [0, 15]
    prop = propose_grids(us, [_hospital(r, f"H{r}") for r in roots], 0.1, cost=_toy_cost(roots))
    assert prop.method == "exact" and prop.solve_seconds > 0
    assert set(prop.summary()) >= {"method", "mean_minutes", "max_deviation", "gap", "bounds_met"}


@pytest.mark.parametrize("roots", [[0, 15], [0, 3, 13]])
def test_zero_tolerance_is_reported_infeasible_with_best_balance(roots):
    us = _toy()
    hosp = [_hospital(r, f"H{r}") for r in roots]
    cost = _toy_cost(roots)
    anchors = {"990171": [ZONE_ANCHOR]}
    exact = propose_grids(us, hosp, 0.0, cost=cost, method="exact", zone_anchors=anchors)
    assert not exact.bounds_met and not _within(exact)
    assert exact.best_tolerance_proven
    _, best_dev = _brute_force(roots, np.where(np.isnan(cost), 0, cost), 0, 0)
    assert exact.best_tolerance == pytest.approx(best_dev, rel=1e-6)
    assert exact.balance["max_deviation"] == pytest.approx(best_dev, rel=1e-6)
    assert "未满足" in exact.plan.name["zh"] and "not met" in exact.plan.name["en"]
    assert any("不存在" in n for n in exact.note_texts("zh"))
    assert any("proven by the solver" in n for n in exact.note_texts("en"))
    _check_plan(exact, us)

    heur = propose_grids(us, hosp, 0.0, cost=cost, method="heuristic", zone_anchors=anchors)
    assert not heur.bounds_met and heur.best_tolerance is not None
    assert heur.best_tolerance >= best_dev - 1e-9 and not heur.best_tolerance_proven
    assert any("启发式" in n for n in heur.note_texts("zh"))


def test_zone_is_free_unit_counted_for_balance_and_placed_by_its_anchor():
    us = _toy()
    roots = [0, 15]
    prop = propose_grids(
        us,
        [_hospital(r, f"H{r}") for r in roots],
        0.3,
        cost=_toy_cost(roots),
        zone_anchors={"990171": ["990100"]},  # anchored in the corner of the first hospital
    )
    assert prop.free_units == ["990171"]
    assert prop.assignment.iloc[-1] == prop.plan.grids[0].grid_id
    assert prop.grid_table["population"].sum() == POP.sum() + ZONE_POP
    assert prop.not_assessed_population == 0
    # without anchor: placed by balance alone, residents not assessed
    free = propose_grids(
        us, [_hospital(r, f"H{r}") for r in roots], 0.3, cost=_toy_cost(roots), zone_anchors={}
    )
    assert free.not_assessed_population == ZONE_POP and free.bounds_met


def test_default_straight_line_cost_and_population_weighted_points():
    us = _toy()
    h = [_hospital(0, "A")]
    minutes = StraightLineCost().unit_minutes(us, h)
    assert minutes[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert minutes[1, 0] == pytest.approx(10 * 1.3 / 30 * 60, rel=1e-6)  # 10 km east: 26 min
    assert np.isnan(minutes[-1, 0])  # the zone has no point
    surf = census_surface(us, cell_m=1000)
    pts = unit_points(us, surf)
    assert pts[5] == pytest.approx(_centre(5), abs=1.0)
    w = StraightLineCost(speed_kmh=60, detour=1.0, surface=surf).unit_minutes(us, h)
    assert w[4, 0] == pytest.approx(10.0, rel=1e-6)  # 10 km north at 60 km/h
    # cell_mean: the mean over the unit's cells, so travel inside the unit counts
    cm = StraightLineCost(speed_kmh=60, detour=1.0, surface=surf, cell_mean=True)
    m = cm.unit_minutes(us, h)
    # mean distance from a square's points to its centre is 0.3826 × side
    assert m[0, 0] == pytest.approx(0.3826 * 10, rel=0.01)
    assert (m[:16, 0] >= w[:16, 0] - 1e-9).all()  # never below the centroid's (Jensen)
    with pytest.raises(InputError):
        StraightLineCost(cell_mean=True)


def test_matrix_cost_table_and_seed_choice():
    us = _toy()
    roots = [0, 15]
    cost = _toy_cost(roots)
    table = pd.DataFrame(cost, index=us.units["unit_id"], columns=["A", "B"])
    hosp = [_hospital(0, "A"), _hospital(15, "B")]
    a = propose_grids(us, hosp, 0.1, cost=MatrixCost(table), zone_anchors={"990171": ["990111"]})
    b = propose_grids(us, hosp, 0.1, cost=cost, zone_anchors={"990171": ["990111"]})
    assert a.objective_person_minutes == pytest.approx(b.objective_person_minutes)
    assert a.cost_model == "matrix"
    seeded = propose_grids(us, 3, 0.3)
    assert len(seeded.plan.grids) == 3 and all("待定" in g.lead_hospital for g in seeded.plan.grids)
    assert [g.name for g in seeded.plan.grids] == ["方案网格 1", "方案网格 2", "方案网格 3"]
    _check_plan(seeded, us)


def test_bad_inputs_are_reported():
    us = _toy()

    def codes(e: pytest.ExceptionInfo[InputError]) -> list[str]:
        assert e.value.code == "regions.invalid"
        return list(e.value.params["codes"])

    with pytest.raises(InputError) as e:
        propose_grids(us, [_hospital(0, "A"), _hospital(0, "B")], 0.2)
    assert codes(e) == ["regions.shared_unit"] * 2 and "U990100" in error_text(e.value, "zh")
    with pytest.raises(InputError) as e:
        propose_grids(us, [_hospital(0, "A")], 1.5)
    assert codes(e) == ["regions.tolerance"]
    with pytest.raises(InputError) as e:
        propose_grids(us, [_hospital(0, "A"), _hospital(5, "B")], 0.2, cost=np.zeros((3, 2)))
    assert codes(e) == ["regions.cost_shape"]
    with pytest.raises(InputError) as e:
        propose_grids(us, [(500.0, 38.0)], 0.2)
    assert codes(e) == ["regions.bad_hospital"]
    with pytest.raises(InputError) as e:
        propose_grids(us, 2, 0.2, cost=np.zeros((17, 2)))
    assert codes(e) == ["regions.seeds_need_model"]
    # every problem of the settings in one error, each in both languages
    with pytest.raises(InputError) as e:
        propose_grids(us, [(500.0, 38.0), (1.0,)], -0.1, method="magic")  # type: ignore[arg-type]
    assert codes(e) == [
        "regions.tolerance", "regions.method", "regions.bad_hospital", "regions.hospital"
    ]  # fmt: skip
    zh, en = error_text(e.value, "zh"), error_text(e.value, "en")
    assert zh.startswith("无法生成网格方案") and "must" not in zh
    assert en.startswith("Cannot propose grids") and "须" not in en


def test_compare_plans_on_toy_counts_moves_and_reads_locations_from_the_plan():
    us = _toy()
    roots = [0, 15]
    hosp = [_hospital(r, f"H{r}") for r in roots]
    p1 = propose_grids(us, hosp, 0.1)
    # the given hospitals are stored with their location in the plan
    assert [g.lead_location for g in p1.plan.grids] == [(h.lon, h.lat) for h in hosp]
    same = compare_plans(p1.plan, p1.plan, us)
    assert same.n_moved == 0 and same.summary.loc["a", "unlocated_grids"] == []
    assert same.summary.loc["a", "mean_minutes"] == pytest.approx(p1.mean_minutes)
    again = GridPlan.from_dict(p1.plan.to_dict())  # survives the JSON round trip
    minutes, unlocated = plan_travel_minutes(again, us)
    assert unlocated == [] and np.isfinite(minutes[:16]).all() and np.isnan(minutes.iloc[16])
    p2 = propose_grids(us, hosp, 0.45)
    c = compare_plans(p1.plan, p2.plan, us)
    a1 = p1.assignment.to_numpy()
    a2 = p2.assignment.to_numpy()
    assert c.n_moved == int((a1 != a2).sum())  # same grid ids: matched one to one
    assert set(c.moved.columns) >= {"unit_id", "from_grid", "to_grid"}
    assert c.summary.loc["b", "n_grids"] == 2


def test_a_grid_without_a_located_lead_gets_no_stand_in():
    """The old comparison stood the most populous unit's point in for an unlocated lead
    hospital (1.3 min against 48 min): now the plan's mean is unknown and the grid named."""
    us = _toy()
    hosp = [_hospital(r, f"H{r}") for r in (0, 15)]
    located = propose_grids(us, hosp, 0.1).plan
    first = located.grids[0].grid_id
    half = located.set_lead(first, located.grids[0].lead_hospital)  # named, location dropped
    minutes, unlocated = plan_travel_minutes(half, us)
    assert unlocated == [first]
    in_first = (resolve_assignment(half, us.units) == first).to_numpy()
    assert np.isnan(minutes.to_numpy()[in_first]).all()
    assert np.isfinite(minutes.to_numpy()[~in_first][:15]).all()  # the located grid: known
    c = compare_plans(half, located, us)
    assert math.isnan(c.summary.loc["a", "mean_minutes"])
    assert c.summary.loc["a", "unlocated_names"] == [located.grids[0].name]
    assert np.isfinite(c.summary.loc["b", "mean_minutes"])
    # grids proposed around chosen sites (k only) have a lead to be decided: not located
    seeded = propose_grids(us, 2, 0.3).plan
    assert [g.lead_location for g in seeded.grids] == [None, None]
    assert math.isnan(compare_plans(seeded, seeded, us).summary.loc["a", "mean_minutes"])


# --- Shijiazhuang ---------------------------------------------------------------------------
LEADS = {
    "新华区": "石家庄市第二医院",
    "长安区": "石家庄市第三医院",
    "桥西区": "石家庄市中医院",
    "裕华区": "石家庄市第一医院",
}


def _sjz_hospitals(us: UnitSet) -> list[Hospital]:
    """The preset's four lead hospitals, placed at their districts' representative points.

    No hospital coordinates are verified (DOMAIN.md): the points are stand-ins.
    """
    u = us.units
    back = Transformer.from_crs(us.metric_crs, 4326, always_xy=True)
    pts = unit_points(us)
    out = []
    for district, name in LEADS.items():
        r = int(np.flatnonzero(u["name"] == district)[0])
        out.append(Hospital(name, *back.transform(*pts[r])))
    return out


@pytest.fixture(scope="module")
def sjz():
    return build_units("130100")


def test_default_zone_anchors_from_the_township_reference(sjz):
    anchors = default_zone_anchors(sjz)
    assert anchors == {"130171": ["130108", "130111"], "130172": ["130109"]}


@pytest.mark.parametrize("method", ["exact", "heuristic"])
def test_shijiazhuang_county_level_k4(sjz, method):
    us = sjz
    assert len(us.units) == 24
    ia, _ = unit_adjacency(us)
    assert len(ia) > 0
    hosp = _sjz_hospitals(us)
    prop = propose_grids(us, hosp, 0.3, method=method, time_limit_s=60)
    assert prop.method == method
    if not prop.bounds_met:  # allowed, but then it must be said
        assert prop.best_tolerance is not None and prop.best_tolerance > 0.3
        pytest.fail(f"expected ±30% to be feasible, best {prop.best_tolerance:.3f}")
    assert _within(prop) and prop.balance["max_deviation"] <= 0.3 + 1e-9
    _check_plan(prop, us)
    assert sorted(prop.free_units) == ["130171", "130172"]
    assert [g.name for g in prop.plan.grids] == [f"{n}网格" for n in LEADS.values()]
    assert prop.root_units == ["130105", "130102", "130104", "130108"]
    assert 20 < prop.mean_minutes < 120

    preset = GridPlan.from_preset("shijiazhuang")
    c = compare_plans(preset, prop.plan, us)
    assert list(c.summary["n_grids"]) == [22, 4]
    # the preset's lead hospitals are named, not located: no mean to compare, and said so
    assert math.isnan(c.summary.loc["a", "mean_minutes"])
    assert set(c.summary.loc["a", "unlocated_grids"]) == {g.grid_id for g in preset.grids}
    assert c.summary.loc["b", "mean_minutes"] == pytest.approx(prop.mean_minutes)
    assert c.summary.loc["b", "unlocated_grids"] == []
    # once the four medical groups' leads are placed, the comparison has both means
    placed = preset
    for g, h in zip(preset.grids[:4], hosp, strict=True):
        placed = placed.set_lead(g.grid_id, h.name, h.lon, h.lat)
    assert len(placed.unlocated_grids()) == 18  # the county communities: still to place
    moved = c.moved.set_index("unit_id")
    # the 18 county communities are merged into the four proposed grids
    assert moved.loc["130123", "from_grid"] == "正定县县域医共体"
    assert moved.loc["130123", "to_grid"] in {g.name for g in prop.plan.grids}
    assert c.n_moved >= 18 and c.moved_population == pytest.approx(moved["population"].sum())


def test_shijiazhuang_heuristic_close_to_exact(sjz):
    hosp = _sjz_hospitals(sjz)
    ex = propose_grids(sjz, hosp, 0.3, method="exact")
    he = propose_grids(sjz, hosp, 0.3, method="heuristic")
    assert ex.status == "optimal"
    assert ex.mean_minutes <= he.mean_minutes + 1e-9
    assert he.mean_minutes <= ex.mean_minutes * 1.05


def test_shijiazhuang_impossible_tolerance_is_flagged(sjz):
    prop = propose_grids(sjz, _sjz_hospitals(sjz), 0.0, method="heuristic", time_limit_s=5)
    assert not prop.bounds_met and prop.best_tolerance is not None and prop.best_tolerance > 0
    assert "未满足" in prop.plan.name["zh"]
    assert prop.contiguous


def test_shijiazhuang_township_level(sjz_townships):
    us = build_units("130100", townships=sjz_townships)
    assert (us.units["level"] == "township").sum() == 66
    prop = propose_grids(us, _sjz_hospitals(build_units("130100")), 0.3, time_limit_s=60)
    assert prop.bounds_met and _within(prop)
    _check_plan(prop, us)
    assert prop.free_units == ["130172"]  # 高新区 is drawn through its townships here
    listed = {u for g in prop.plan.grids for u in g.units}
    assert listed == set(us.units["unit_id"])
    c = compare_plans(GridPlan.from_preset("shijiazhuang"), prop.plan, us)
    assert c.summary.loc["a", "n_grids"] == 22 and c.summary.loc["b", "n_grids"] == 4
    assert (c.moved["unit_id"].str.len() == 9).any()  # townships move too
    heur = propose_grids(us, _sjz_hospitals(build_units("130100")), 0.3, method="heuristic")
    assert heur.bounds_met and heur.objective_person_minutes >= prop.objective_person_minutes * (
        1 - 1e-6
    )
    _check_plan(heur, us)


def test_toy_adjacency_is_the_king_graph_the_brute_force_uses():
    ia, ib = unit_adjacency(_toy())
    pairs = {(int(a), int(b)) for a, b in zip(ia, ib, strict=True)}
    nb = _king_neighbours()
    king = {(i, j) for i in range(N * N) for j in range(i + 1, N * N) if nb[i] >> j & 1}
    assert pairs == king


def test_time_limit_is_honoured_and_gap_reported(sjz_townships):
    us = build_units("130100", townships=sjz_townships)
    sjz = build_units("130100")
    more = _sjz_hospitals(sjz)
    back = Transformer.from_crs(sjz.metric_crs, 4326, always_xy=True)
    pts = unit_points(sjz)
    for county in ("辛集市", "平山县", "行唐县", "赵县"):
        r = int(np.flatnonzero(sjz.units["name"] == county)[0])
        more.append(Hospital(f"{county}人民医院", *back.transform(*pts[r])))
    prop = propose_grids(us, more, 0.3, time_limit_s=2.0)
    assert prop.solve_seconds < 6.0
    assert len(prop.plan.grids) == 8 and prop.contiguous
    if prop.method == "exact":
        assert prop.status in ("optimal", "time_limit") and prop.gap is not None
        assert (prop.gap > 0) == (prop.status == "time_limit")
    else:
        assert prop.gap is None
    if prop.bounds_met:
        assert _within(prop)
    else:
        assert prop.best_tolerance is not None


def test_island_is_bridged_and_reported_not_contiguous():
    us = _toy()
    island = us.units.iloc[[0]].copy()
    island["unit_id"] = "990199"
    island["name"] = "Island"
    island["county_adcode"] = "990199"
    x0 = X0 + 8 * SIDE  # 40 km east of the lattice
    island = island.set_geometry(
        gpd.GeoSeries([shapely.box(x0, Y0, x0 + SIDE, Y0 + SIDE)], crs=4547).to_crs(4326).values
    )
    units = gpd.GeoDataFrame(pd.concat([us.units, island], ignore_index=True), crs=4326)
    us = UnitSet(us.prefecture, units, us.metric_crs)
    prop = propose_grids(us, [_hospital(0, "A"), _hospital(15, "B")], 0.5)
    assert prop.bridges == [("U990103", "Island")]
    assert not prop.contiguous
    assert prop.assignment.iloc[-1] == prop.assignment.iloc[3]  # with its bridge neighbour
    assert any("不相邻" in n for n in prop.plan.notes)


def test_hospital_outside_every_unit_goes_to_the_nearest():
    us = _toy()
    lon, lat = TO_WGS.transform(X0 - 3000, Y0 + 5000)  # 3 km west of cell 0
    prop = propose_grids(us, [Hospital("A", lon, lat), _hospital(15, "B")], 0.3)
    assert prop.root_units[0] == "990100"
    assert any("最近的单元" in n for n in prop.note_texts("zh"))
    assert any("nearest" in n for n in prop.note_texts("en"))
