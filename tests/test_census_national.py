"""The 2020 census for every prefecture, matched to the boundary layer, and the sweep.

The sweep runs every prefecture of four provinces (the seed provinces 河北, 云南,
江西 and 浙江, whose 杭州 was restructured in 2021) through ``regions``, ``grids``
and a coarse ``coverage`` and checks the units add up to the census total.
``benchmarks/bench_prefectures.py`` runs all of China the same way.
"""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.bench_prefectures import COVERAGE_TOLERANCE, run_cli, sweep_prefecture
from gridplan.i18n import label
from gridplan.inputs.boundaries import boundary_index, list_prefectures
from gridplan.plan.census import census_check, census_total, code_changes, match_census
from gridplan.plan.population import census_2020, census_for_prefecture
from gridplan.plan.units import build_units

SWEEP_PROVINCES = ("河北省", "云南省", "江西省", "浙江省")
#: Prefectures the 2020 census did not enumerate (the documented gaps).
NO_CENSUS = {"710000", "810000", "820000"}


def _prefectures(provinces: tuple[str, ...]) -> list[tuple[str, str]]:
    p = list_prefectures()
    p = p[p["province"].isin(provinces)]
    return list(zip(p["adcode"], p["name"], strict=True))


def _county_rows() -> pd.DataFrame:
    """The boundary layer's county-level rows with their prefecture's code."""
    idx = boundary_index()
    city = idx[idx["level"] == "市"].set_index(["province", "city"])["adcode"]
    rows = idx[idx["level"] == "区县"].copy()
    rows["prefecture"] = [city[(p, c)] for p, c in zip(rows["province"], rows["city"], strict=True)]
    return rows.rename(columns={"district": "name"})


# --- the embedded table ------------------------------------------------------------------


def test_every_prefecture_with_a_census_has_rows_and_the_columns_come_along():
    c = census_2020()
    assert {"age65plus", "share_0_14_pct", "share_65plus_pct"} <= set(c.columns)
    assert (c["age65plus"] < c["pop_2020"]).all() and (c["age65plus"] >= 0).all()
    assert c["share_65plus_pct"].between(0, 100).all()
    assert not c["adcode"].duplicated().any()
    assert set(c["kind"]) == {"county", "zone"}
    prefs = set(list_prefectures()["adcode"])
    assert set(c["prefecture_adcode"]) == prefs - NO_CENSUS


def test_zones_without_a_code_get_a_stable_synthetic_id():
    c = census_2020().set_index("adcode")
    assert c.loc["140100Z01", "name"] == "山西转型综合改革示范区"
    assert c.loc["140100Z01", "kind"] == "zone"
    synthetic = c.index[c.index.str.contains("Z")]
    assert len(synthetic) == 39
    assert all(s[:6] == c.loc[s, "prefecture_adcode"] for s in synthetic)


def test_code_changes_name_real_units():
    ch = code_changes()
    assert set(ch["kind"]) <= {"rename", "merge", "split", "none"}
    rows = _county_rows().set_index("adcode")
    census = census_2020().set_index("adcode")
    for r in ch.itertuples():
        assert (
            r.boundary_adcode in rows.index
            and rows.loc[r.boundary_adcode, "name"] == r.boundary_name
        )
        codes = [c for c in r.census_adcodes.split(";") if c]
        assert len(codes) == len([n for n in r.census_names.split(";") if n])
        for code in codes:
            assert (
                census.loc[code, "prefecture_adcode"] == rows.loc[r.boundary_adcode, "prefecture"]
            )
        assert r.source, r.boundary_name


# --- matching ----------------------------------------------------------------------------


def test_every_boundary_unit_of_a_census_prefecture_is_matched_or_documented():
    rows = _county_rows()
    documented = set(code_changes()["boundary_adcode"])
    missing = []
    for pref, group in rows.groupby("prefecture"):
        if pref in NO_CENSUS:
            continue
        m = match_census(str(pref), group[["adcode", "name"]]).units
        assert set(m["census_match"]) <= {"code", "alias", "rename", "merge", "name", "split",
                                          "none", "missing"}  # fmt: skip
        missing += list(m.loc[m["census_match"] == "missing", "adcode"])
        without = m.loc[m["population_source"] == "none", "adcode"]
        assert set(without) <= documented, pref
    assert missing == []


def test_merge_sums_its_census_units_and_renames_take_theirs():
    u = build_units("洛阳市").units.set_index("unit_id")
    census = census_for_prefecture("410300").set_index("adcode")["pop_2020"]
    assert u.loc["410308", "population"] == census["410322"] + census["410306"]  # 孟津区
    assert u.loc["410307", "population"] == census["410381"]  # 偃师区 ← 偃师市
    assert (u["population_source"] == "census2020").all()
    assert "410306" not in u.index  # 吉利区 is inside 孟津区, not listed again


def test_a_restructure_that_is_no_sum_gets_no_figure_and_the_old_units_stay_listed():
    us = build_units("杭州市")
    u = us.units.set_index("unit_id")
    for uid in ("330113", "330114", "330102"):  # 临平区, 钱塘区, new 上城区
        assert pd.isna(u.loc[uid, "population"]) and u.loc[uid, "population_source"] == "none"
    assert u.loc["330104", "name"] == "原江干区" and u.loc["330104", "level"] == "zone"
    assert u.loc["330110-2020", "name"] == "原余杭区" and not u.loc["330110-2020", "has_geometry"]
    check = census_check(us.units, "330100")
    assert check["difference"] == 0 and check["prefecture_total"] == census_total("330100")
    assert {x["unit_id"] for x in check["units_without_figure"]} == {
        "330102", "330109", "330110", "330113", "330114"
    }  # fmt: skip
    assert len(check["census_units_without_boundary"]) == 4


def test_name_match_within_the_prefecture(monkeypatch):
    group = pd.DataFrame({"adcode": ["999999"], "name": ["桥西区"]})
    m = match_census("130100", group).units.iloc[0]
    assert m["census_match"] == "name" and m["census_codes"] == "130104"
    assert m["unit_id"] == "999999"


def test_seed_ids_are_kept():
    u = build_units("楚雄州").units.set_index("unit_id")
    assert u.loc["532331", "population"] == 366_512  # 禄丰市 keeps the census code
    sjz = build_units("130100").units
    assert list(sjz.loc[sjz["level"] == "zone", "unit_id"]) == ["130171", "130172"]


def test_prefectures_without_counties_and_without_census():
    dg = build_units("东莞市").units
    assert len(dg) == 1 and dg["population"].iloc[0] == census_total("441900")
    hk = build_units("香港特别行政区")
    check = census_check(hk.units, "810000")
    assert check["prefecture_total"] is None and check["difference"] is None
    assert len(check["units_without_figure"]) == len(hk.units)
    assert label("population.source", "none", "zh") == "无普查数据"


def test_cli_says_no_census_figure_as_null():
    code, data, _ = run_cli("regions", "--prefecture", "泉州市", "--census-check", "--json")
    assert code == 0
    jinmen = next(r for r in data["units"] if r["adcode"] == "350527")
    assert jinmen["population"] is None and jinmen["population_source"] == "none"
    assert data["census_check"]["difference"] == 0
    assert data["census_check"]["units_without_figure"] == [{"unit_id": "350527", "name": "金门县"}]


# --- the sweep ---------------------------------------------------------------------------


@pytest.mark.parametrize(("adcode", "name"), _prefectures(SWEEP_PROVINCES))
def test_sweep(adcode, name):
    o = sweep_prefecture(adcode, name, cell_m=1000)
    assert o.failures == []
    assert o.census_total is not None
    assert o.sums["regions"] == o.census_total
    assert o.sums["grids"] == o.census_total
    assert o.sums["coverage"] == pytest.approx(o.census_total, abs=COVERAGE_TOLERANCE)


# --- the overview page -------------------------------------------------------------------


def _overview_texts(prefecture: str) -> str:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../pages/overview.py", default_timeout=60)
    at.session_state["prefecture"] = prefecture
    at.run()
    assert not at.exception
    parts = [e.value for e in at.caption] + [str(e.value) for e in at.info]
    return "\n".join(parts + [str(e.value) for e in at.warning])


def test_overview_reports_the_census_check():
    text = _overview_texts("330100")
    assert f"{census_total('330100'):,}" in text and "一致" in text
    assert "5 个单元无普查数据" in text and "临平区" in text
    assert "原江干区" in text
    text = _overview_texts("810000")
    assert "2020年人口普查未覆盖香港特别行政区" in text


def test_prefecture_codes_that_are_not_xxxx00_resolve():
    from gridplan.inputs.boundaries import resolve_prefecture

    assert resolve_prefecture("419001").name == "济源市"  # province-administered city
    assert resolve_prefecture("500101").adcode == "500000"  # 重庆市 is one prefecture
    assert resolve_prefecture("130102").adcode == "130100"
