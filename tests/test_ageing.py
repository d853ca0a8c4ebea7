"""Residents 65+ per unit and grid, a demand surface of residents 65+, and exports saying so."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridplan import workflow
from gridplan.cli import main
from gridplan.errors import InputError
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.population import census_for_prefecture
from gridplan.plan.stats import grid_statistics
from gridplan.plan.units import build_units
from gridplan.surface.ageing import check_demand, older_residents, unit_shares
from gridplan.surface.grid import census_surface
from gridplan.workflow import SurfaceSpec, UnitsSource

RIZHAO = "371100"


@pytest.fixture(scope="module")
def rizhao():
    return build_units(RIZHAO)


def _census65(prefecture: str) -> dict[str, float]:
    census = census_for_prefecture(prefecture)
    return dict(zip(census["adcode"], census["age65plus"].astype(float), strict=True))


def test_units_carry_the_census_65plus_and_shares(rizhao):
    u = rizhao.units.set_index("unit_id")
    census = _census65(RIZHAO)
    assert set(u.index) == set(census)
    for uid, older in census.items():
        assert u.at[uid, "age65plus"] == older
        assert u.at[uid, "age65plus_source"] == "census2020"
        expected = 100 * older / u.at[uid, "population"]
        assert u.at[uid, "share_65plus_pct"] == pytest.approx(expected)
    raw = census_for_prefecture(RIZHAO).set_index("adcode")
    shares = raw["share_0_14_pct"].astype(float)
    assert u.loc[shares.index, "share_0_14_pct"].to_numpy() == pytest.approx(shares.to_numpy())
    # the census's own rounded share agrees with ours to its two decimals
    pct = raw["share_65plus_pct"].astype(float)
    assert u.loc[pct.index, "share_65plus_pct"].to_numpy() == pytest.approx(pct, abs=0.006)


def test_grid_65plus_is_the_exact_sum_of_its_units():
    plan = GridPlan.from_preset("shijiazhuang")
    units = build_units(plan.prefecture)
    stats = grid_statistics(plan, units).set_index("grid_id")
    assignment = resolve_assignment(plan, units.units)
    sums = units.units.groupby(assignment.to_numpy())["age65plus"].sum()
    pops = units.units.groupby(assignment.to_numpy())["population"].sum()
    for gid in stats.index:
        assert stats.at[gid, "age65plus"] == sums[gid]  # exact: integers summed
        assert stats.at[gid, "share_65plus_pct"] == pytest.approx(100 * sums[gid] / pops[gid])
    assert stats["age65plus"].sum() == sum(_census65("130100").values())
    # 长安 holds 高新区 (a zone without polygon): its 65+ counts in the grid
    assert stats.at["sjz-changan", "age65plus"] == 110_120 + 21_892
    assert set(stats["age65plus_source"]) == {"census2020"}


def test_townships_get_their_county_65plus_in_proportion_to_population(sjz_townships):
    units = build_units("130100", townships=sjz_townships).units
    census = _census65("130100")
    tws = units[units["level"] == "township"]
    assert set(tws["age65plus_source"]) == {"modelled"}
    for county, part in tws.groupby("county_adcode"):
        assert part["age65plus"].sum() == pytest.approx(census[county], rel=1e-9)
        # every township of a county has the county's share
        share = 100 * census[county] / part["population"].sum()
        assert part["share_65plus_pct"].to_numpy() == pytest.approx(share)
    # the whole prefecture still holds the census 65+ exactly
    assert units["age65plus"].sum() == pytest.approx(sum(census.values()), rel=1e-9)


def test_uploaded_table_with_and_without_a_65plus_column():
    with_col = pd.DataFrame(
        {"区划代码": ["371102", "371103"], "常住人口": [1_000_000, 380_000],
         "65岁及以上人口": [150_000, None]}
    )  # fmt: skip
    u = build_units(RIZHAO, population_table=with_col).units.set_index("unit_id")
    assert u.at["371102", "age65plus"] == 150_000
    assert u.at["371102", "age65plus_source"] == "uploaded"
    # a blank cell: the census share applied to the uploaded figure, said so
    census = census_for_prefecture(RIZHAO).set_index("adcode")
    ratio = float(census.at["371103", "age65plus"]) / float(census.at["371103", "pop_2020"])
    assert u.at["371103", "age65plus"] == pytest.approx(380_000 * ratio)
    assert u.at["371103", "age65plus_source"] == "census_share"
    assert u.at["371121", "age65plus_source"] == "census2020"  # not in the table


def test_uploaded_65plus_over_the_population_is_refused_with_its_rows():
    table = pd.DataFrame(
        {"区划代码": ["371102", "371103", "371121"], "常住人口": [1_000_000, 380_000, 440_000],
         "65岁及以上": [1_200_000, -5, "many"]}
    )  # fmt: skip
    with pytest.raises(InputError) as err:
        build_units(RIZHAO, population_table=table)
    assert err.value.code == "ageing.table_invalid"
    codes = {p["code"]: p for p in err.value.params["problems"]}
    assert codes["ageing.rows.over_population"]["rows"] == "2"
    assert codes["ageing.rows.negative"]["rows"] == "3"
    assert codes["ageing.rows.not_number"]["rows"] == "4"


def test_65plus_surface_holds_the_census_65plus_of_every_unit(rizhao):
    surface = census_surface(rizhao, 500.0, column="age65plus")
    assert surface.demand == "65plus"
    units = rizhao.units.reset_index(drop=True)
    drawn = units["has_geometry"].to_numpy()
    per_unit = np.bincount(
        surface.unit_index[surface.unit_index >= 0],
        weights=surface.population[surface.unit_index >= 0].astype(float),
        minlength=len(units),
    )
    # each drawn unit's cells hold its census 65+ (float32 cells: relative 1e-5)
    assert per_unit[drawn] == pytest.approx(units.loc[drawn, "age65plus"].to_numpy(), rel=1e-5)
    assert surface.total == pytest.approx(units["age65plus"].sum(), rel=1e-6)
    assert surface.unplaced == {"371171": float(_census65(RIZHAO)["371171"])}


def test_weighting_any_surface_multiplies_each_cell_by_its_units_share(rizhao):
    everyone = census_surface(rizhao, 500.0)
    older = older_residents(everyone, rizhao)
    share = unit_shares(rizhao)
    idx = everyone.unit_index
    inside = idx >= 0
    expected = everyone.population[inside].astype(float) * share[idx[inside]]
    assert older.population[inside] == pytest.approx(expected, rel=1e-6)
    assert older.total == pytest.approx(rizhao.units["age65plus"].sum(), rel=1e-5)
    assert older_residents(older, rizhao) is older  # weighting twice is a no-op
    spec = SurfaceSpec(UnitsSource(RIZHAO), 500.0, demand="65plus")
    via_workflow = workflow.population_surface(rizhao, spec)
    assert via_workflow.total == pytest.approx(older.total, rel=1e-5)


def test_an_unknown_demand_is_refused_naming_the_choices():
    with pytest.raises(InputError) as err:
        check_demand("elderly")
    assert err.value.code == "surface.demand" and "65plus" in err.value.params["choices"]


def _coverage(capsys, tmp_path, demand: str) -> dict:
    out_path = tmp_path / f"catch_{demand}.geojson"
    code = main(["coverage", "--preset", "rizhao", "--cell-m", "1000", "--demand", demand,
                 "-o", str(out_path)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    data["_catchments"] = gpd.read_file(out_path)
    return data


def test_cli_coverage_by_65plus_differs_from_all_and_says_so(capsys, tmp_path, rizhao):
    everyone = _coverage(capsys, tmp_path, "all")
    older = _coverage(capsys, tmp_path, "65plus")
    assert everyone["provenance"]["demand"] == "all residents"
    assert older["provenance"]["demand"] == "residents 65+"
    u = rizhao.units
    drawn = u["has_geometry"]
    assert older["population"] == pytest.approx(u.loc[drawn, "age65plus"].sum(), rel=1e-5)
    assert everyone["population"] == pytest.approx(u.loc[drawn, "population"].sum(), rel=1e-5)
    assert older["not_assessed_population"] == pytest.approx(u.loc[~drawn, "age65plus"].sum())
    assert older["covered"] < everyone["covered"]
    assert set(older["_catchments"]["demand"]) == {"residents 65+"}
    assert set(everyone["_catchments"]["demand"]) == {"all residents"}


def test_cli_grids_json_has_65plus_per_grid(capsys):
    code = main(["grids", "--preset", "rizhao"])
    out, err = capsys.readouterr()
    assert code == 0, err
    grids = json.loads(out)["grids"]
    census = _census65(RIZHAO)
    for g in grids:
        assert g["age65plus"] == sum(census[uid] for uid in g["units"])
        assert 0 < g["share_65plus_pct"] < 100 and g["age65plus_source"] == "census2020"


def test_exports_carry_the_ages_and_the_map_footer_names_the_demand(rizhao):
    from gridplan.report.coveragemap import coverage_footer_lines
    from gridplan.report.exports import grids_to_geojson, plan_to_csv

    plan = GridPlan.one_grid_per_unit(rizhao)
    csv = plan_to_csv(plan, rizhao, lang="en").decode("utf-8-sig")
    assert "age65plus" in csv.splitlines()[0] and "share_65plus_pct" in csv.splitlines()[0]
    props = [f["properties"] for f in json.loads(grids_to_geojson(plan, rizhao))["features"]]
    assert sum(p["age65plus"] for p in props) == sum(_census65(RIZHAO).values())
    older = census_surface(rizhao, 1000.0, column="age65plus")
    assert any("residents 65+" in line for line in coverage_footer_lines(rizhao, older, lang="en"))
    zh = coverage_footer_lines(rizhao, census_surface(rizhao, 1000.0), lang="zh")
    assert any("全部常住人口" in line for line in zh)


def test_access_page_switches_to_residents_65plus():
    at = AppTest.from_file("../pages/access.py", default_timeout=180)
    at.session_state["prefecture"] = RIZHAO
    at.run()
    assert not at.exception
    covered_all = at.metric[1].value
    assert "全部常住人口" in "\n".join(c.value for c in at.caption)
    at.radio(key="acc_demand").set_value("65plus").run()
    assert not at.exception
    captions = "\n".join(c.value for c in at.caption)
    assert "65岁及以上老年人口" in captions
    assert at.metric[1].value != covered_all
    covered_older = float(at.metric[1].value.replace(",", ""))
    assert covered_older < float(covered_all.replace(",", ""))


def test_cli_optimize_by_65plus_says_so(capfd, rizhao):
    code = main(["optimize", "--preset", "rizhao", "--method", "kmeans", "--k", "2",
                 "--cell-m", "1000", "--demand", "65plus"])  # fmt: skip
    out, err = capfd.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["provenance"]["demand"] == "residents 65+"
    drawn = rizhao.units["has_geometry"]
    assert data["population"] == pytest.approx(rizhao.units.loc[drawn, "age65plus"].sum(), rel=1e-4)


def test_siting_page_runs_on_residents_65plus():
    at = AppTest.from_file("../pages/siting.py", default_timeout=180)
    at.session_state["prefecture"] = RIZHAO
    at.run()
    level = at.radio(key="sit_level").value
    at.radio(key=f"sit_demand_{level}").set_value("65plus")
    at.selectbox(key=f"sit_cell_{level}").set_value(1000)
    at.button(key=f"FormSubmitter:sit_form_{level}-运行选址").click().run()
    assert not at.exception
    assert at.success  # the study ran
    assert "65岁及以上老年人口" in "\n".join(c.value for c in at.caption)
