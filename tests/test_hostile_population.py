"""Hostile and careless population uploads (issue 9, items 3 and 4): tables by unit and points.

The impossible (no number, ``inf``, ``1e400``, negative, more people than China,
one unit given different figures, a table naming no unit) is refused with the
rows named; the implausible (far from the census, denser than any real place,
a total far above the prefecture's, rows matching no unit or several) waits for
the planner's confirmation.  Each case runs through the library, the CLI
(``--lang zh``: exit 2, one Chinese line, no traceback) and the grids page.
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridplan import settings
from gridplan.cli import main
from gridplan.errors import InputError, UploadError
from gridplan.i18n import error_text
from gridplan.plan.population import (
    census_for_prefecture,
    match_table,
    parse_population_table,
    table_problems,
)
from gridplan.plan.units import build_units
from gridplan.surface.files import surface_from_file
from gridplan.surface.points import surface_from_points

SJZ = "130100"
RIZHAO = "371100"


def census(pref: str = SJZ) -> dict[str, int]:
    c = census_for_prefecture(pref)
    return dict(zip(c["adcode"], c["pop_2020"].astype(int), strict=True))


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def problem_codes(err: InputError) -> list[str]:
    return [p["code"] for p in err.params["problems"]]


def csv_bytes(rows: list[tuple[object, ...]], header: str = "区划代码,常住人口") -> bytes:
    lines = [header] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------
# tables by unit: the library


def test_table_matching_no_unit_says_what_was_expected_and_what_it_had():
    table = pd.DataFrame({"name": ["火星区", "木星镇"], "population": [5, 6]})
    with pytest.raises(InputError) as e:  # was a TypeError from pandas
        build_units(SJZ, population_table=table)
    assert e.value.code == "population.table_invalid"
    assert problem_codes(e.value) == ["population.no_match"]
    zh = error_text(e.value, "zh")
    assert "长安区" in zh and "130102" in zh  # the prefecture's units, as examples
    assert "火星区" in zh and "木星镇" in zh  # what the table had
    assert "Traceback" not in zh and "dtype" not in zh


def test_duplicate_codes_with_different_figures_are_refused_naming_rows_and_figures():
    pop = census()
    table = pd.DataFrame(
        {"区划代码": ["130102", "130104", "130102"], "常住人口": [pop["130102"], 900_000, 304_680]}
    )
    with pytest.raises(InputError) as e:
        build_units(SJZ, population_table=table)
    assert problem_codes(e.value) == ["population.duplicate_conflict"]
    zh = error_text(e.value, "zh")
    assert "长安区" in zh and "第 2, 4 行" in zh
    assert f"{pop['130102']:,}" in zh and "304,680" in zh


def test_exact_duplicate_rows_are_counted_once_with_a_note():
    pop = census()
    table = pd.DataFrame({"区划代码": ["130102", "130102"], "常住人口": [pop["130102"] + 5] * 2})
    us = build_units(SJZ, population_table=table)
    u = us.units.set_index("unit_id")
    assert u.loc["130102", "population"] == pop["130102"] + 5
    assert [n["code"] for n in us.population_notes] == ["population.note.collapsed"]
    assert us.population_notes[0]["rows"] == "2, 3"


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("inf", "population.rows.not_finite"),
        ("1e400", "population.rows.not_finite"),
        ("-5", "population.rows.negative"),
        ("约三十万", "population.rows.not_number"),
        ("1e30", "population.rows.too_large"),
        ("", "population.rows.missing"),
    ],
)
def test_impossible_figures_are_refused_with_their_rows(cell, code):
    table = pd.DataFrame({"adcode": ["130102", "130104", "130105"], "人口": ["1000", cell, cell]})
    with pytest.raises(InputError) as e:
        parse_population_table(table)
    assert problem_codes(e.value) == [code]
    zh = error_text(e.value, "zh")
    assert "第 3, 4 行" in zh and has_chinese(zh)
    with pytest.raises(InputError) as e:  # and through the units: nothing replaced
        build_units(SJZ, population_table=table)
    assert e.value.code == "population.table_invalid"


def test_every_impossible_row_is_reported_in_one_message():
    table = pd.DataFrame(
        {"adcode": ["130102", "130104", "130105", "130107", "130102"],
         "population": ["inf", "-3", "abc", "1000", "2000"]}
    )  # fmt: skip
    with pytest.raises(InputError) as e:
        build_units(SJZ, population_table=table)
    assert sorted(problem_codes(e.value)) == [
        "population.rows.negative",
        "population.rows.not_finite",
        "population.rows.not_number",
    ]  # the repeated 130102 (row 6) has only one usable figure: no conflict


def test_a_thousandfold_figure_waits_for_confirmation_then_is_used():
    pop = census()
    table = pd.DataFrame({"区划代码": ["130104"], "常住人口": [pop["130104"] * 1000]})
    with pytest.raises(InputError) as e:
        build_units(SJZ, population_table=table)
    assert e.value.code == "population.unconfirmed"
    assert "population.warn.census_high" in problem_codes(e.value)
    zh = error_text(e.value, "zh")
    assert "桥西区" in zh and "1,000 倍" in zh and "第 2 行" in zh
    us = build_units(SJZ, population_table=table, accept_warnings=True)
    assert us.units.set_index("unit_id").loc["130104", "population"] == pop["130104"] * 1000
    assert "population.warn.census_high" in [w["code"] for w in us.population_warnings]


def test_figures_in_wan_ren_are_flagged_as_far_below_the_census():
    pop = census()
    table = pd.DataFrame({"区划代码": ["130102", "130104"], "常住人口": [105.96, 97.96]})
    with pytest.raises(InputError) as e:
        build_units(SJZ, population_table=table)
    assert problem_codes(e.value) == ["population.warn.census_low"] * 2
    assert f"{pop['130104']:,}" in error_text(e.value, "zh")


def test_density_above_any_real_district_is_a_warning():
    u = build_units(SJZ).units.set_index("unit_id")
    area = float(u.loc["130102", "area_km2"])
    value = settings.max_density_county_per_km2 * area * 1.1  # dense, yet < 10× the census
    assert value < settings.census_ratio_warn * u.loc["130102", "population"]
    table = pd.DataFrame({"adcode": ["130102"], "population": [round(value)]})
    with pytest.raises(InputError) as e:
        build_units(SJZ, population_table=table)
    assert problem_codes(e.value) == ["population.warn.density"]
    assert "平方公里" in error_text(e.value, "zh")


def test_total_far_above_the_prefecture_census_is_a_warning():
    pop = census()
    table = pd.DataFrame({"adcode": list(pop), "population": [v * 3 for v in pop.values()]})
    with pytest.raises(InputError) as e:
        build_units(SJZ, population_table=table)
    codes = problem_codes(e.value)
    assert "population.warn.total" in codes and "population.warn.census_high" not in codes
    assert f"{sum(pop.values()):,}" in error_text(e.value, "zh")


def test_rows_matching_no_unit_are_listed_not_dropped_silently():
    pop = census()
    table = pd.DataFrame({"name": ["长安区", "火星区"], "population": [pop["130102"], 10]})
    with pytest.raises(InputError) as e:
        build_units(SJZ, population_table=table)
    assert problem_codes(e.value) == ["population.warn.unmatched"]
    assert "第 3 行" in error_text(e.value, "zh") and "火星区" in error_text(e.value, "zh")


def test_a_name_several_units_have_is_ambiguous_and_not_used():
    units = pd.DataFrame({"unit_id": ["130102001", "130121001"], "name": ["城关镇", "城关镇"]})
    parsed = parse_population_table(pd.DataFrame({"名称": ["城关镇"], "人口": [5000]}))
    problems = table_problems()
    match = match_table(units, parsed, problems)
    assert match.ambiguous == [(2, "城关镇", ["130102001", "130121001"])]
    assert match.values.empty and not match.unmatched


def test_township_figures_far_below_their_county_census_are_flagged(sjz_townships):
    us = build_units(SJZ, townships=sjz_townships)
    tw = us.units[(us.units["level"] == "township") & (us.units["county_adcode"] == "130102")]
    table = pd.DataFrame({"code": tw["unit_id"], "population": 3.5})  # 万人 per township
    with pytest.raises(InputError) as e:
        build_units(SJZ, townships=sjz_townships, population_table=table)
    assert "population.warn.census_low" in problem_codes(e.value)
    assert "长安区" in error_text(e.value, "zh")


# --------------------------------------------------------------------------------------
# points and tables by unit as a population surface


@pytest.fixture(scope="module")
def rizhao():
    return build_units(RIZHAO)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("inf", "population.rows.not_finite"),
        ("1e400", "population.rows.not_finite"),
        ("-1", "population.rows.negative"),
        ("1e30", "population.rows.too_large"),
        ("许多", "population.rows.not_number"),
    ],
)
def test_points_with_impossible_people_are_refused_with_rows(rizhao, cell, code):
    data = csv_bytes([(119.46, 35.42, 5000), (119.20, 35.60, cell)], "lon,lat,population")
    with pytest.raises(UploadError) as e:
        surface_from_points(data, rizhao, 1000, filename="pts.csv")
    assert e.value.code == "points.invalid" and problem_codes(e.value) == [code]
    assert "第 3 行" in error_text(e.value, "zh")


def test_points_mostly_outside_the_prefecture_wait_for_confirmation(rizhao):
    rows = [(119.46, 35.42, 5000), (116.40, 39.90, 90_000), (116.41, 39.91, 10)]
    data = csv_bytes(rows, "lon,lat,population")
    with pytest.raises(InputError) as e:
        surface_from_points(data, rizhao, 1000, filename="pts.csv")
    assert problem_codes(e.value) == ["population.warn.points_outside"]
    zh = error_text(e.value, "zh")
    assert "第 3, 4 行" in zh and "90,010" in zh
    s, rep = surface_from_points(data, rizhao, 1000, filename="pts.csv", accept_warnings=True)
    assert rep.n_outside == 2 and rep.outside_rows == [3, 4]
    assert s.total == pytest.approx(5000)
    assert [w["code"] for w in rep.warnings] == ["population.warn.points_outside"]


def test_points_far_above_the_census_or_too_dense_are_warnings(rizhao):
    pop = census(RIZHAO)
    huge = pop["371102"] * 20
    data = csv_bytes([(119.46, 35.42, huge)], "lon,lat,population")
    with pytest.raises(InputError) as e:
        surface_from_points(data, rizhao, 1000, filename="pts.csv")
    codes = problem_codes(e.value)
    assert {"population.warn.census_high", "population.warn.total"} <= set(codes)
    assert "东港区" in error_text(e.value, "zh")


def test_table_by_unit_as_population_surface_is_checked_too(rizhao, tmp_path):
    pop = census(RIZHAO)
    path = tmp_path / "by_unit.csv"
    path.write_bytes(csv_bytes([("371102", pop["371102"] * 1000)]))
    with pytest.raises(InputError) as e:
        surface_from_file(path, rizhao, 1000)
    assert e.value.code == "population.unconfirmed"
    surface, report = surface_from_file(path, rizhao, 1000, accept_warnings=True)
    assert report is not None and report.kind == "units"
    assert "population.warn.census_high" in [w["code"] for w in report.warnings]
    assert surface.total > pop["371102"] * 999
    path.write_bytes(csv_bytes([("371102", "1e400")]))
    with pytest.raises(InputError) as e:
        surface_from_file(path, rizhao, 1000, accept_warnings=True)  # impossible: no way round
    assert e.value.code == "population.table_invalid"


# --------------------------------------------------------------------------------------
# the CLI


def run_zh(capfd, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--lang", "zh"])
    out, err = capfd.readouterr()
    return code, out, err


def refused(code: int, out: str, err: str) -> None:
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("gridplan: error: ") and has_chinese(err)
    assert "Traceback" not in err and "TypeError" not in err


def strict_json(text: str) -> object:
    def no_constant(name: str) -> None:
        raise AssertionError(f"JSON contains {name}")

    return json.loads(text, parse_constant=no_constant)


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ([("火星区", 5)], "长安区"),  # matches no unit: the expected units named
        ([("130102", 1364247), ("130102", 304680)], "第 2, 3 行"),
        ([("130102", "inf")], "无穷大"),
        ([("130102", "1e400")], "无穷大"),
        ([("130102", -5)], "负数"),
        ([("130102", "abc")], "不是数字"),
    ],
)
def test_cli_refuses_impossible_population_files(capfd, tmp_path, rows, said):
    path = tmp_path / "人口.csv"
    path.write_bytes(
        csv_bytes(rows, "区划代码,常住人口" if rows[0][0] != "火星区" else "名称,人口")
    )
    code, out, err = run_zh(capfd, "grids", "--preset", "shijiazhuang",
                            "--population-file", str(path), "--accept-warnings")  # fmt: skip
    refused(code, out, err)
    assert said in err


def test_cli_implausible_figures_need_accept_warnings(capfd, tmp_path):
    pop = census()
    path = tmp_path / "pop.csv"
    path.write_bytes(csv_bytes([("130104", pop["130104"] * 1000)]))
    args = ["grids", "--preset", "shijiazhuang", "--population-file", str(path)]
    code, out, err = run_zh(capfd, *args)
    refused(code, out, err)
    assert "--accept-warnings" in err and "桥西区" in err
    code, out, err = run_zh(capfd, *args, "--accept-warnings")
    assert code == 0, err
    d = strict_json(out)
    warned = [p for p in d["problems"] if p["kind"] == "population"]
    assert warned and all(p["severity"] == "warning" for p in warned)
    assert any("桥西区" in p["message"] for p in warned)
    grids = {g["grid_id"]: g for g in d["grids"]}
    assert grids["sjz-qiaoxi"]["population"] == pop["130104"] * 1000


def test_cli_regions_prints_accepted_warnings_on_stderr(capfd, tmp_path):
    path = tmp_path / "pop.csv"
    path.write_bytes(csv_bytes([("130102", 100)]))
    code, out, err = run_zh(capfd, "regions", "--prefecture", SJZ, "--population-file", str(path),
                            "--accept-warnings")  # fmt: skip
    assert code == 0 and err.startswith("gridplan: warning: ") and "长安区" in err
    rows = strict_json(out)
    assert {r["adcode"]: r["population"] for r in rows}["130102"] == 100


def test_cli_points_checked_for_coverage(capfd, tmp_path):
    pts = tmp_path / "villages.csv"
    pts.write_bytes(csv_bytes([(119.46, 35.42, 5000), (119.20, 35.60, "1e30")], "经度,纬度,人口"))
    base = ["coverage", "--preset", "rizhao", "--cell-m", "1000", "--population", str(pts)]
    code, out, err = run_zh(capfd, *base, "--accept-warnings")
    refused(code, out, err)
    assert "第 3 行" in err
    rows = [(119.46, 35.42, 5000), (116.40, 39.90, 90_000)]  # most people in Beijing
    pts.write_bytes(csv_bytes(rows, "经度,纬度,人口"))
    code, out, err = run_zh(capfd, *base)
    refused(code, out, err)
    assert "单元之外" in err
    code, out, err = run_zh(capfd, *base, "--accept-warnings")
    assert code == 0, err
    d = strict_json(out)
    assert d["population"] == pytest.approx(5000)
    assert any("单元之外" in n for n in d["notes"])


def test_cli_table_by_unit_as_population_checked(capfd, tmp_path):
    pop = census(RIZHAO)
    path = tmp_path / "by_unit.csv"
    path.write_bytes(csv_bytes([("371102", pop["371102"] * 1000)]))
    base = ["coverage", "--preset", "rizhao", "--cell-m", "1000", "--population", str(path)]
    refused(*run_zh(capfd, *base))
    code, out, err = run_zh(capfd, *base, "--accept-warnings")
    assert code == 0, err
    d = strict_json(out)
    assert any("东港区" in n for n in d["notes"])
    assert math.isfinite(d["population"])


# --------------------------------------------------------------------------------------
# the grids page


TIMEOUT = 120


def grids_page() -> AppTest:
    return AppTest.from_file("../pages/grids.py", default_timeout=TIMEOUT)


def upload_population(at: AppTest, data: bytes, name: str = "人口.csv") -> AppTest:
    at.file_uploader(key="pop_file").set_value((name, data, "text/csv"))
    return at.button(key="FormSubmitter:uploads-加载").click().run()


def grid_populations(at: AppTest) -> dict[str, float]:
    stats = at.dataframe[0].value
    return dict(zip(stats["网格"], stats["人口"], strict=True))


def as_read(markdown: str) -> str:
    """Message text as the planner reads it: the UI escapes every punctuation mark."""
    return re.sub(r"\\(.)", r"\1", markdown)


def shown(at: AppTest) -> str:
    return as_read("\n".join(str(e.value) for e in [*at.error, *at.warning, *at.info]))


def test_grids_page_refuses_an_impossible_table_and_keeps_the_data():
    at = grids_page().run()
    before = grid_populations(at)
    rows = [("130102", 1364247), ("130102", 304680), ("130104", "inf")]
    upload_population(at, csv_bytes(rows))
    assert not at.exception
    errors = as_read("\n".join(str(e.value) for e in at.error))
    assert "第 2, 3 行" in errors and "无穷大" in errors and "已保留原有数据" in errors
    assert "population_path" not in at.session_state
    assert grid_populations(at) == before
    upload_population(at, csv_bytes([("火星区", 5)], "名称,人口"))  # matches no unit
    assert not at.exception and "长安区" in "\n".join(str(e.value) for e in at.error)
    assert grid_populations(at) == before


def test_grids_page_holds_implausible_figures_until_confirmed():
    pop = census()
    at = grids_page().run()
    before = grid_populations(at)
    upload_population(at, csv_bytes([("130104", pop["130104"] * 1000)]))
    assert not at.exception
    text = shown(at)
    assert "疑点" in text and "桥西区" in text and "1,000 倍" in text
    assert "population_path" not in at.session_state
    assert grid_populations(at) == before  # the previous data stay until confirmed
    at.button(key="pop_discard").click().run()
    assert not at.exception and "疑点" not in shown(at)
    assert grid_populations(at) == before
    upload_population(at, csv_bytes([("130104", pop["130104"] * 1000)]))
    at.button(key="pop_confirm").click().run()
    assert not at.exception
    assert at.session_state["population_accepted"] is True
    after = grid_populations(at)
    assert after["桥西医疗集团"] == pop["130104"] * 1000
    assert after["长安医疗集团"] == before["长安医疗集团"]
    assert "桥西区" in "\n".join(str(e.value) for e in at.info)  # the accepted warning kept in view


def test_county_figure_checked_when_its_townships_replace_it(sjz_townships):
    pop = census()
    us = build_units(SJZ, townships=sjz_townships)
    assert "130102" in us.township_counties  # the county is drawn by its townships
    table = pd.DataFrame({"adcode": ["130102"], "population": [pop["130102"] * 1000]})
    with pytest.raises(InputError) as e:
        build_units(SJZ, townships=sjz_townships, population_table=table)
    assert "population.warn.census_high" in problem_codes(e.value)
    us = build_units(SJZ, townships=sjz_townships, population_table=table, accept_warnings=True)
    tw = us.units[us.units["county_adcode"] == "130102"]
    assert tw["population"].sum() == pytest.approx(pop["130102"] * 1000)
    assert set(tw["population_source"]) == {"uploaded+modelled"}


def test_cli_unknown_populations_are_null_in_json(capfd):
    code, out, err = run_zh(capfd, "grids", "--prefecture", "香港特别行政区")  # no census
    assert code == 0, err
    d = strict_json(out)
    assert all(g["population"] is None for g in d["grids"])
