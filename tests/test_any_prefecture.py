"""Any prefecture works out of the box: default plan, illustrative network, no NaN, no traceback.

The prefectures: two without a preset (南京市, all districts; 保定市, districts and
counties), a province-administered county-level city (济源市 419001), and two
one-unit cities (东莞市, 嘉峪关市).  Whatever the embedded census holds for them
(figures, or none yet), every CLI command exits 0 with strict JSON, or 2 with one
Chinese line naming what to provide; every page runs without an exception and
shows no ``nan``, ``inf`` or ``None``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridplan import cli, workflow
from gridplan.errors import InputError
from gridplan.inputs.boundaries import resolve_prefecture
from gridplan.plan.grids import URBAN_GRID_ID, GridPlan, is_city_district
from gridplan.plan.units import UnitSet
from gridplan.workflow import UnitsSource

PREFECTURES = ["南京市", "保定市", "419001", "东莞市", "620200"]
#: What a refusal must name: the population or the facilities to provide.
WHAT_TO_PROVIDE = re.compile(r"人口表|人口栅格|设施名单")
#: Shown words that mean a number went missing on the way to the planner.
MISSING_WORDS = re.compile(r"(?<![A-Za-z])(nan|NaN|inf|-inf|Infinity|None)(?![A-Za-z])")


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def _units(prefecture: str) -> UnitSet:
    return workflow.load_units(UnitsSource(prefecture))


def _table_figures(prefecture: str) -> np.ndarray:
    """The planner's own figures: 3 % above the census where it has one (plausible, so no
    confirmation is asked), else 200,000 + 10,000 per unit."""
    u = _units(prefecture).units
    own = 200_000 + 10_000 * np.arange(len(u))
    census = u["population"].to_numpy(float)
    return np.where(np.isfinite(census), np.round(census * 1.03), own)


def _population_table(tmp_path, prefecture: str) -> str:
    """A population table by adcode for every unit (the planner's own figures)."""
    u = _units(prefecture).units
    path = tmp_path / f"pop_{prefecture}.csv"
    pd.DataFrame(
        {"adcode": u["unit_id"], "name": u["name"], "population": _table_figures(prefecture)}
    ).to_csv(path, index=False)
    return str(path)


# --- default plan --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adcode", "name", "district"),
    [
        ("320102", "玄武区", True),
        ("320118", "高淳区", True),
        ("130171", "石家庄高新技术产业开发区", False),  # a functional zone (x70-x79)
        ("130121", "井陉县", False),
        ("130181", "辛集市", False),
        ("419001", "济源市", False),
        ("13010", "短码区", False),
    ],
)
def test_city_districts_are_the_xx01_xx30_districts(adcode, name, district):
    assert is_city_district(adcode, name) is district


def test_default_plan_groups_the_urban_districts_and_keeps_counties_apart():
    units = _units("保定市")
    plan = workflow.starting_plan(None, units)
    top = units.units[units.units["level"].isin(["county", "zone"])]
    districts = [
        c for c, n in zip(top["unit_id"], top["name"], strict=True) if is_city_district(c, n)
    ]
    assert len(districts) >= 2
    urban = plan.grid(URBAN_GRID_ID)
    assert set(districts) <= set(urban.units)
    others = [g for g in plan.grids if g.grid_id != URBAN_GRID_ID]
    assert all(len(g.units) == 1 for g in others)
    assert len(plan.grids) == 1 + len(top) - len(urban.units)
    listed = [u for g in plan.grids for u in g.units]
    assert sorted(listed) == sorted(top["unit_id"])  # every unit once
    assert all(g.lead_hospital == "" for g in plan.grids)  # never invented


def test_default_plan_reports_the_missing_lead_hospitals():
    from gridplan.plan.grids import resolve_assignment
    from gridplan.plan.validate import validate_plan

    units = _units("南京市")
    plan = workflow.starting_plan(None, units)
    problems = validate_plan(plan, units, resolve_assignment(plan, units.units))
    no_lead = [p for p in problems if p.kind == "no_lead"]
    assert no_lead and "南京市市区网格" in no_lead[0].message("zh")


def test_default_plan_puts_the_functional_zones_in_the_urban_grid():
    units = _units("石家庄市")
    plan = GridPlan.starting_plan(units)
    assert {"130171", "130172"} <= set(plan.grid(URBAN_GRID_ID).units)


@pytest.mark.parametrize("prefecture", ["419001", "东莞市", "620200"])
def test_one_unit_city_is_one_grid(prefecture):
    units = _units(prefecture)
    plan = workflow.starting_plan(None, units)
    assert len(plan.grids) == 1 and plan.grids[0].units == [units.units["unit_id"].iloc[0]]


def test_province_administered_city_is_found_by_its_own_code():
    assert resolve_prefecture("419001").name == "济源市"
    assert resolve_prefecture("130102").adcode == "130100"  # a district's code: its prefecture


# --- degenerate inputs in the stages ---------------------------------------------------------


def _no_population(prefecture: str) -> UnitSet:
    units = _units(prefecture)
    u = units.units.copy()
    u["population"] = np.nan
    u["population_source"] = "none"
    return dataclasses.replace(units, units=u)


def _codes(err: InputError) -> list[str]:
    """The codes of the problems an error lists."""
    return [d["code"] for d in err.params.get("problems", [])]


def test_no_population_proposal_says_to_upload_a_table():
    from gridplan.regions.propose import propose_grids

    with pytest.raises(InputError) as err:
        propose_grids(_no_population("东莞市"), 1)
    assert _codes(err.value) == ["regions.no_population"]


def test_no_population_coverage_and_siting_say_what_to_provide():
    from gridplan.access.coverage import CoverageIndex
    from gridplan.siting.study import SitingSettings, run_siting
    from gridplan.surface.grid import census_surface
    from gridplan.travel.straight import StraightLineModel

    units = _no_population("620200")
    surface = census_surface(units, 1000.0)
    times = StraightLineModel().travel_times(surface.grid, surface.populated(), np.zeros((0, 2)))
    with pytest.raises(InputError) as err:
        CoverageIndex.build(surface, times)
    assert err.value.code == "access.no_population"
    plan = GridPlan.starting_plan(units)
    with pytest.raises(InputError) as err:
        run_siting(
            units, plan, surface, workflow.illustrative_network(units), StraightLineModel(),
            SitingSettings(),
        )  # fmt: skip
    assert _codes(err.value) == ["siting.no_population"]


def test_without_population_there_is_no_illustrative_network_and_with_a_table_there_is(tmp_path):
    assert workflow.illustrative_network(_no_population("620200")).empty
    units = workflow.load_units(
        UnitsSource("620200", population_path=_population_table(tmp_path, "620200"))
    )
    net = workflow.illustrative_network(units)
    assert len(net) > 0
    assert net["source"].eq("illustrative").all()
    assert net["name"].str.startswith("示意").all()


# --- CLI -------------------------------------------------------------------------------------

COMMANDS = {
    "regions": [],
    "grids": [],
    "coverage": ["--cell-m", "1000"],
    "propose-grids": ["--k", "1", "--time-limit", "5"],
    "optimize": ["--cell-m", "1000", "--time-limit", "5", "--curve-k", "3", "--k", "2"],
}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("populated", [False, True], ids=["as-embedded", "with-table"])
@pytest.mark.parametrize("prefecture", PREFECTURES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_cli_any_prefecture_answers_or_says_what_to_provide(
    capsys, tmp_path, command, prefecture, populated
):
    """As embedded (census figures, or none yet), and with the planner's population table."""
    table = ["--population-file", _population_table(tmp_path, prefecture)] if populated else []
    code, out, err = _run(
        capsys, command, "--prefecture", prefecture, *COMMANDS[command], *table, "--lang", "zh"
    )
    assert code in (0, 2), err
    if code == 0:
        _strict(out)
        return
    assert out == "" and err.count("\n") == 1 and err.startswith("gridplan: error:")
    assert WHAT_TO_PROVIDE.search(err), err
    assert re.search(r"[\u4e00-\u9fff]", err)


@pytest.mark.parametrize("command", ["grids", "coverage", "propose-grids", "optimize"])
def test_cli_with_a_population_table_runs_on_the_illustrative_network(capsys, tmp_path, command):
    table = _population_table(tmp_path, "南京市")
    argv = [command, "--prefecture", "南京市", "--population-file", table, *COMMANDS[command]]
    if command == "propose-grids":
        argv[argv.index("--k") + 1] = "2"
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    result = _strict(out)
    assert isinstance(result, dict)
    if command == "coverage":
        assert result["provenance"]["facilities"] == "illustrative"
        assert result["provenance"]["n_facilities"] > 0
        drawn = _units("南京市").units["has_geometry"].to_numpy(bool)
        assert result["population"] == pytest.approx(
            _table_figures("南京市")[drawn].sum(), rel=1e-6
        )
        assert all(math.isfinite(r["share"]) for r in result["by_grid"])


# --- pages -----------------------------------------------------------------------------------

PAGES = ["overview", "grids", "access", "siting"]


def _page(name: str, prefecture: str, **state: object) -> AppTest:
    at = AppTest.from_file(f"../pages/{name}.py", default_timeout=300)
    at.session_state["prefecture"] = prefecture
    at.session_state["preset"] = "per_unit"
    at.session_state["acc_cell"] = 1000  # a coarse surface: the test is about texts
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def _shown(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.title]
    parts += [e.value for e in at.subheader] + [e.value for e in at.caption]
    for kind in (at.info, at.error, at.warning, at.success):
        parts += [str(e.value) for e in kind]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for df in at.dataframe:
        parts.append(df.value.to_csv(index=False, na_rep="None"))
    return "\n".join(parts)


@pytest.mark.parametrize("populated", [False, True], ids=["as-embedded", "with-table"])
@pytest.mark.parametrize("prefecture", ["320100", "130600", "419001", "441900", "620200"])
@pytest.mark.parametrize("name", PAGES)
def test_every_page_runs_for_any_prefecture_without_nan(tmp_path, name, prefecture, populated):
    """As embedded (census figures, or none yet), and with the planner's population table."""
    state = {"population_path": _population_table(tmp_path, prefecture)} if populated else {}
    at = _page(name, prefecture, **state)
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    assert not MISSING_WORDS.search(shown), MISSING_WORDS.search(shown)
    assert "石家庄" not in shown  # seed texts name the current prefecture


@pytest.mark.parametrize("name", ["access", "siting"])
def test_coverage_and_siting_pages_say_illustrative_or_what_to_provide(name, tmp_path):
    at = _page(name, "320100", population_path=_population_table(tmp_path, "南京市"))
    assert not at.exception
    shown = _shown(at)
    assert "示意网络" in shown and "上传真实名单" in shown
    assert not MISSING_WORDS.search(shown), MISSING_WORDS.search(shown)


# --- one unit with a functional zone drawn nowhere (zero area) ---------------------------------


def _one_unit_and_a_zone() -> UnitSet:
    """嘉峪关市 with census-like figures and a functional zone without a boundary."""
    import geopandas as gpd

    units = _units("620200")
    u = units.units.copy()
    u["population"], u["population_source"] = 250_000.0, "census2020"
    zone = u.iloc[[0]].copy()
    zone[["unit_id", "county_adcode"]] = "620271"
    zone[["name", "county_name"]] = "示例开发区"
    zone["level"], zone["population"], zone["has_geometry"] = "zone", 20_000.0, False
    zone["area_km2"], zone["geometry"] = np.nan, None
    both = gpd.GeoDataFrame(pd.concat([u, zone], ignore_index=True), crs=u.crs)
    return dataclasses.replace(units, units=both)


def test_zero_area_zone_is_its_own_grid_and_reported_not_assessed():
    from gridplan.access.coverage import CoverageIndex, kpi_tables
    from gridplan.plan.grids import resolve_assignment
    from gridplan.plan.stats import grid_statistics
    from gridplan.surface.grid import census_surface
    from gridplan.travel.straight import StraightLineModel

    units = _one_unit_and_a_zone()
    plan = GridPlan.starting_plan(units)
    assert [g.units for g in plan.grids] == [["620200"], ["620271"]]
    stats = grid_statistics(plan, units, resolve_assignment(plan, units.units))
    assert stats["population"].tolist() == [250_000.0, 20_000.0]
    surface = census_surface(units, 1000.0)
    net = workflow.illustrative_network(units)
    xy = workflow.facilities_xy(net, surface.grid.crs)
    times = StraightLineModel().travel_times(surface.grid, surface.populated(), xy)
    tables = kpi_tables(CoverageIndex.build(surface, times), plan, units, 15)
    assert tables.summary["not_assessed_population"] == pytest.approx(20_000)
    assert math.isfinite(tables.summary["share"])


def test_readable_tables_show_a_dash_for_missing_figures():
    from ui.panels.common import MISSING, num_text, readable

    table = pd.DataFrame(
        {"name": ["a", None], "pop": [1200.0, np.nan], "share": [0.5, np.inf], "n": [1, 2]}
    )
    shown = readable(table)
    assert shown["name"].tolist() == ["a", MISSING]
    assert shown["pop"].tolist() == ["1,200", MISSING]
    assert shown["share"].tolist() == ["0.5", MISSING]
    assert shown["n"].tolist() == [1, 2]  # a complete column stays numeric
    assert num_text(float("nan")) == MISSING and num_text(12345.6) == "12,346"


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("grids", []),
        ("coverage", ["--cell-m", "1000"]),
        ("optimize", ["--cell-m", "1000", "--k", "2", "--curve-k", "3"]),
    ],
)
@pytest.mark.parametrize("populated", [False, True], ids=["as-embedded", "with-table"])
def test_cli_exports_are_strict_json(capsys, tmp_path, command, extra, populated):
    table = ["--population-file", _population_table(tmp_path, "620200")] if populated else []
    out_path = tmp_path / "out.geojson"
    code, _, err = _run(
        capsys,
        command,
        "--prefecture",
        "620200",
        *extra,
        *table,
        "-o",
        str(out_path),
        "--lang",
        "zh",
    )
    if code == 2:  # no population yet: said, and nothing written
        assert WHAT_TO_PROVIDE.search(err) and not out_path.exists()
        return
    assert code == 0, err
    _strict(out_path.read_text(encoding="utf-8"))
