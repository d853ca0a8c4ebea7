import pandas as pd
import pytest

from gridplan.errors import InputError
from gridplan.i18n import error_text
from gridplan.plan.population import (
    census_2020,
    match_population,
    parse_population_table,
    provenance_label,
)
from gridplan.plan.units import build_units

BULLETIN_TOTALS = {
    "130100": 11_235_086,
    "532300": 2_416_747,
    "360700": 8_970_014,
    "371100": 2_968_365,
    "410100": 12_600_574,
}


def test_census_totals_match_published_bulletins():
    c = census_2020()
    assert (c["source"] == "census2020").all()
    totals = c.groupby("prefecture_adcode")["pop_2020"].sum().to_dict()
    assert {p: totals[p] for p in BULLETIN_TOTALS} == BULLETIN_TOTALS


@pytest.mark.parametrize("pref", sorted(BULLETIN_TOTALS))
def test_every_census_row_becomes_a_unit(pref):
    us = build_units(pref)
    assert us.units["population"].sum() == BULLETIN_TOTALS[pref]
    assert (us.units["population_source"] == "census2020").all()


def test_functional_zones_have_population_but_no_polygon():
    u = build_units("130100").units.set_index("unit_id")
    assert u.loc["130171", "level"] == "zone" and not u.loc["130171", "has_geometry"]
    assert u.loc["130171", "population"] == 304_675


def test_lufeng_alias_code_joins_census():
    u = build_units("532300").units.set_index("unit_id")
    assert u.loc["532331", "population"] == 366_512


def test_prefecture_without_census_has_no_population():
    u = build_units("香港特别行政区").units  # not enumerated by the 2020 census
    assert u["population"].isna().all() and (u["population_source"] == "none").all()


def test_uploaded_table_overrides_census_and_says_so():
    table = pd.DataFrame({"区划代码": ["130102", "130104"], "常住人口": ["1,100,000", "900000"]})
    us = build_units("130100", population_table=table)
    u = us.units.set_index("unit_id")
    assert u.loc["130102", "population"] == 1_100_000
    assert u.loc["130102", "population_source"] == "uploaded"
    assert u.loc["130105", "population_source"] == "census2020"


def test_table_by_name_and_unmatched_rows_reported():
    table = pd.DataFrame({"name": ["新华区", "火星区"], "population": [1, 2]})
    with pytest.raises(InputError) as e:  # an unmatched row and 1 person: confirmed first
        build_units("130100", population_table=table)
    assert e.value.code == "population.unconfirmed"
    us = build_units("130100", population_table=table, accept_warnings=True)
    assert us.units.set_index("unit_id").loc["130105", "population"] == 1
    assert us.unmatched_population == ["火星区"]
    codes = [w["code"] for w in us.population_warnings]
    assert codes == ["population.warn.unmatched", "population.warn.census_low"]


def test_township_code_12_digit_matches_9_digit_unit():
    units = pd.DataFrame({"unit_id": ["130102001"], "name": ["建北街道"]})
    parsed = parse_population_table(pd.DataFrame({"code": ["130102001000"], "人口": [5]}))
    values, unmatched = match_population(units, parsed)
    assert values.to_dict() == {"130102001": 5.0} and unmatched == []


@pytest.mark.parametrize(
    ("table", "code"),
    [
        (pd.DataFrame({"foo": [1], "人口": [1]}), "table.missing_key"),
        (pd.DataFrame({"adcode": ["130102"], "bar": [1]}), "table.missing_population"),
        (
            pd.DataFrame({"adcode": ["130102", "130104"], "population": ["x", "-3"]}),
            "population.table_invalid",
        ),
    ],
)
def test_bad_tables_give_one_clear_message(table, code):
    with pytest.raises(InputError) as e:
        parse_population_table(table)
    assert e.value.code == code
    text = error_text(e.value, "zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    if code == "population.table_invalid":  # both bad rows named, by spreadsheet row number
        assert "第 2 行" in text and "第 3 行" in text


def test_provenance_labels():
    assert provenance_label("census2020") == "2020年人口普查"
    assert provenance_label("census2020+modelled", "en") == "census 2020 + modelled"
