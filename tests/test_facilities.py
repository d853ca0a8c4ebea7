"""Facility tables: uploads, the illustrative network, OpenStreetMap, editing helpers."""

from __future__ import annotations

import io
import string
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from gridplan.errors import FacilitiesError, InputError
from gridplan.facilities.illustrative import illustrative_facilities
from gridplan.facilities.osm import facilities_from_osm, osm_type
from gridplan.facilities.reader import read_facilities
from gridplan.facilities.table import add_facility, facility_mask, facility_xy, set_active
from gridplan.facilities.types import (
    CENTRES,
    FACILITY_COLUMNS,
    FACILITY_TYPES,
    HOSPITALS,
    PRIMARY_CARE,
    SECONDARY_CARE,
    normalise_type,
    type_label,
)
from gridplan.i18n import MESSAGES, error_text
from gridplan.inputs import crs as gcrs
from gridplan.inputs.boundaries import load_prefecture_outline

DATA = Path(__file__).resolve().parent / "data"
OSM_SAMPLE = DATA / "osm_health_sample.osm"

# (name, type as a planner writes it, lon, lat, beds, doctors, GPs), all in Shijiazhuang.
GOOD_ROWS = [
    ("示例人民医院", "三级甲等医院", 114.5149, 38.0428, 1200, 350, None),
    ("示例街道社区卫生服务中心", "社区卫生服务中心（站）", 114.4800, 38.0500, 20, 12, 4),
    ("示例镇卫生院", "卫生院", 114.6000, 37.9000, 40, 15, 3),
    ("示例村卫生室", "村卫生所/卫生室", 114.7000, 38.2000, None, 1, 1),
    ("示例县医院", "Secondary hospital", 114.3000, 38.3000, 300, 80, None),
    ("示例社区卫生服务站", "community health station", 114.5200, 38.0600, None, 2, 1),
    ("示例三甲医院", "三甲", 114.4900, 38.0200, 800, 200, None),
]
EXPECTED_TYPES = [
    "三级医院",
    "社区卫生服务中心",
    "乡镇卫生院",
    "村卫生室",
    "二级医院",
    "社区卫生服务站",
    "三级医院",
]
HEADER = ["机构名称", "机构类别", "经度", "纬度", "床位数（张）", "执业医师", "全科医生"]


def good_frame() -> pd.DataFrame:
    return pd.DataFrame(GOOD_ROWS, columns=HEADER)


def xlsx_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False, engine="openpyxl")
    return buf.getvalue()


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def check_messages(exc: InputError) -> str:
    """The error's code has zh/en texts whose fields are exactly its params."""
    assert exc.code in MESSAGES
    for lang in ("zh", "en"):
        fields = {
            f.split(":")[0]
            for _, f, _, _ in string.Formatter().parse(MESSAGES[exc.code][lang])
            if f
        }
        # "problems": the listed details, each rendered on its own line by error_text
        assert fields == set(exc.params) - {"problems"}, (lang, fields, exc.params)
    zh, en = error_text(exc, "zh"), error_text(exc, "en")
    assert has_cjk(zh) and zh != en and "{" not in zh + en
    return zh


@pytest.fixture(scope="module")
def sjz_outline():
    return load_prefecture_outline("130100")


# --------------------------------------------------------------------------------------
# types


def test_type_groups_and_labels():
    # the display order spelled out on purpose: the test pins it, not a copy of the constant
    assert list(FACILITY_TYPES) == [
        "三级医院",
        "二级医院",
        "医疗次中心",
        "社区卫生服务中心",
        "社区卫生服务站",
        "乡镇卫生院",
        "村卫生室",
        "其他",
    ]
    assert type_label("乡镇卫生院", "en") == "Township health centre"
    assert type_label("乡镇卫生院", "zh") == "乡镇卫生院" and type_label("药店", "en") == "药店"
    # every type's English label is accepted as that type
    assert all(normalise_type(type_label(ty, "en")) == ty for ty in FACILITY_TYPES)
    assert set(PRIMARY_CARE) == {
        "社区卫生服务中心", "社区卫生服务站", "乡镇卫生院", "村卫生室", "医疗次中心"
    }  # fmt: skip
    assert set(CENTRES) == {"社区卫生服务中心", "乡镇卫生院", "医疗次中心"}
    assert set(HOSPITALS) == {"三级医院", "二级医院"}
    assert set(SECONDARY_CARE) == {"三级医院", "二级医院", "医疗次中心"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("社区卫生服务中心（站）", "社区卫生服务中心"),
        ("社区卫生服务中心(站)", "社区卫生服务中心"),
        ("卫生院", "乡镇卫生院"),
        ("中心卫生院", "乡镇卫生院"),
        ("县域医疗服务次中心", "医疗次中心"),
        ("莒县洛河镇卫生院次中心", "医疗次中心"),
        ("Medical sub-centre", "医疗次中心"),
        ("村卫生所/卫生室", "村卫生室"),
        ("卫生所", "村卫生室"),
        ("三甲", "三级医院"),
        ("三级甲等医院", "三级医院"),
        ("二级甲等医院", "二级医院"),
        ("Township health center", "乡镇卫生院"),
        ("Community Health Centre", "社区卫生服务中心"),
        ("village clinic", "村卫生室"),
        ("Tertiary hospital", "三级医院"),
        (" 社区卫生服务站 ", "社区卫生服务站"),
        ("其它", "其他"),
        ("药店", None),
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_normalise_type(value, expected):
    assert normalise_type(value) == expected


# --------------------------------------------------------------------------------------
# uploads


def check_good(df: pd.DataFrame, report) -> None:
    assert list(df.columns) == FACILITY_COLUMNS
    assert report.n_rejected == 0, report.rejected
    assert len(df) == len(GOOD_ROWS) == report.n_loaded
    assert list(df["name"]) == [r[0] for r in GOOD_ROWS]
    assert list(df["type"]) == EXPECTED_TYPES
    np.testing.assert_allclose(df["lon"], [r[2] for r in GOOD_ROWS])
    np.testing.assert_allclose(df["lat"], [r[3] for r in GOOD_ROWS])
    assert df["beds"].iloc[0] == 1200 and np.isnan(df["beds"].iloc[3])
    assert df["doctors"].iloc[1] == 12
    assert df["gps"].iloc[2] == 3 and np.isnan(df["gps"].iloc[0])
    assert (df["source"] == "uploaded").all()
    assert df["active"].dtype == bool and df["active"].all()
    assert df["facility_id"].is_unique
    assert report.columns["name"] == "机构名称"
    assert report.columns["beds"] == "床位数（张）"


def test_read_csv_utf8(sjz_outline):
    data = good_frame().to_csv(index=False).encode("utf-8")
    df, report = read_facilities(data, "机构.csv", prefecture_outline=sjz_outline)
    check_good(df, report)
    assert report.encoding == "UTF-8"


def test_read_csv_gbk():
    data = good_frame().to_csv(index=False).encode("gbk")
    df, report = read_facilities(data, "机构.csv")
    check_good(df, report)
    assert report.encoding == "GBK"


def test_read_xlsx(tmp_path, sjz_outline):
    path = tmp_path / "机构.xlsx"
    path.write_bytes(xlsx_bytes(good_frame()))
    df, report = read_facilities(path, prefecture_outline="石家庄市")
    check_good(df, report)


def test_english_headers_and_ids():
    df = good_frame()
    df.columns = ["name", "type", "lng", "latitude", "beds", "doctors", "gps"]
    df.insert(0, "id", [f"H{i}" for i in range(len(df))])
    out, report = read_facilities(df.to_csv(index=False).encode(), "f.csv")
    assert list(out["facility_id"]) == [f"H{i}" for i in range(len(df))]
    assert list(out["type"]) == EXPECTED_TYPES
    assert report.columns["lon"] == "lng" and report.columns["lat"] == "latitude"


def test_counts_read_leniently():
    text = "名称,类型,经度,纬度,床位,医生\n"
    text += '甲医院,二级医院,114.5,38.05,"1,200",80人\n'
    text += "乙卫生院,卫生院,114.6,38.1,四十,-3\n"
    df, report = read_facilities(text.encode(), "f.csv")
    assert report.n_rejected == 0
    assert df["beds"].iat[0] == 1200 and df["doctors"].iat[0] == 80
    assert np.isnan(df["beds"].iat[1]) and np.isnan(df["doctors"].iat[1])


def test_single_lonlat_column_and_dms():
    text = '名称,类型,经纬度\n甲社区卫生服务站,社区卫生服务站,"114.5,38.05"\n'
    text += '乙卫生院,卫生院,"114°30′0″,38°3′0″"\n'
    df, report = read_facilities(text.encode(), "f.csv")
    assert report.n_rejected == 0
    np.testing.assert_allclose(df["lon"], [114.5, 114.5])
    np.testing.assert_allclose(df["lat"], [38.05, 38.05])


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_declared_datum_converted(datum):
    lon = np.array([r[2] for r in GOOD_ROWS])
    lat = np.array([r[3] for r in GOOD_ROWS])
    slon, slat = gcrs.from_wgs84(lon, lat, datum)
    df = good_frame()
    df["经度"], df["纬度"] = slon, slat
    out, report = read_facilities(df.to_csv(index=False).encode(), "f.csv", datum=datum)
    assert report.datum == datum
    wlon, wlat = gcrs.to_wgs84(slon, slat, datum)
    np.testing.assert_allclose(out["lon"], wlon, atol=1e-9)
    np.testing.assert_allclose(out["lat"], wlat, atol=1e-9)
    np.testing.assert_allclose(out["lon"], lon, atol=1e-7)  # round trip to the truth
    np.testing.assert_allclose(out["lat"], lat, atol=1e-7)


def test_per_row_datum_column():
    df = good_frame().head(3)
    datums = ["WGS-84", "高德", "百度"]
    keys = ["wgs84", "gcj02", "bd09"]
    lon, lat = [], []
    for (_, _, x, y, *_), d in zip(df.itertuples(index=False), keys, strict=True):
        sx, sy = gcrs.from_wgs84(x, y, d)  # type: ignore[arg-type]
        lon.append(float(sx))
        lat.append(float(sy))
    df["经度"], df["纬度"], df["坐标系"] = lon, lat, datums
    out, _ = read_facilities(df.to_csv(index=False).encode(), "f.csv")
    for i, d in enumerate(keys):
        wx, wy = gcrs.to_wgs84(lon[i], lat[i], d)  # type: ignore[arg-type]
        assert out["lon"].iat[i] == pytest.approx(float(wx), abs=1e-9)
        assert out["lat"].iat[i] == pytest.approx(float(wy), abs=1e-9)
    np.testing.assert_allclose(out["lon"], [r[2] for r in GOOD_ROWS[:3]], atol=1e-7)
    np.testing.assert_allclose(out["lat"], [r[3] for r in GOOD_ROWS[:3]], atol=1e-7)


BAD_ROWS = [
    # spreadsheet row 2: a good row
    ("示例人民医院", "三级医院", "114.5149", "38.0428"),
    ("缺坐标社区卫生服务站", "社区卫生服务站", "", "38.05"),  # 3 missing
    ("文字坐标卫生院", "卫生院", "abc", "38.05"),  # 4 non-numeric
    ("颠倒社区卫生服务中心", "社区卫生服务中心", "38.05", "114.51"),  # 5 swapped
    ("北京某医院", "二级医院", "116.40", "39.90"),  # 6 outside the prefecture
    ("示例人民医院", "三级医院", "114.5151", "38.0429"),  # 7 same name, ~20 m away
    ("示例药店", "药店", "114.52", "38.05"),  # 8 unknown type
    ("示例人民医院", "三级医院", "114.5149", "38.0428"),  # 9 identical to row 2
    ("投影坐标卫生院", "卫生院", "500000", "4200000"),  # 10 out of range
    ("示例卫生室", "村卫生室", "114.70", "38.20"),  # 11 good
    ("", "村卫生室", "114.71", "38.21"),  # 12 no name
    ("欧洲诊所", "其他", "14.5", "38.0"),  # 13 not in China
]
EXPECTED_REJECTIONS = {
    3: ("missing_coordinates", "缺少经纬度"),
    4: ("non_numeric", "不是数字"),
    5: ("swapped", "经纬度可能颠倒"),
    6: ("outside_prefecture", "不在本地级市范围内"),
    7: ("near_duplicate", "与第 2 行重复"),
    8: ("unknown_type", "无法识别的机构类型"),
    9: ("duplicate_row", "与第 2 行完全相同"),
    10: ("out_of_range", "超出有效范围"),
    12: ("missing_name", "缺少机构名称"),
    13: ("not_in_china", "不在中国境内"),
}


def bad_frame() -> pd.DataFrame:
    return pd.DataFrame(BAD_ROWS, columns=["名称", "类型", "经度", "纬度"])


def check_rejections(df: pd.DataFrame, report) -> None:
    assert list(df["name"]) == ["示例人民医院", "示例卫生室"]
    rej = report.rejected
    assert list(rej.columns) == ["row", "name", "code", "params"]
    assert list(rej["row"]) == sorted(EXPECTED_REJECTIONS)
    zh, en = report.rejection_table("zh"), report.rejection_table("en")
    assert list(zh.columns) == ["row", "name", "reason"] and list(zh["row"]) == list(rej["row"])
    for rec, reason_zh, reason_en in zip(rej.itertuples(), zh["reason"], en["reason"], strict=True):
        code, fragment = EXPECTED_REJECTIONS[rec.row]
        assert rec.code == code
        assert fragment in reason_zh, (rec.row, reason_zh)
        assert reason_en and not has_cjk(reason_en.split("'")[0]), reason_en
        assert "{" not in reason_zh + reason_en
        assert rec.name == BAD_ROWS[rec.row - 2][0]
    assert report.n_rows == len(BAD_ROWS)
    assert report.n_loaded == 2


def test_every_rejection_reason_csv(sjz_outline):
    data = bad_frame().to_csv(index=False).encode("utf-8")
    df, report = read_facilities(data, "bad.csv", prefecture_outline=sjz_outline)
    check_rejections(df, report)


def test_rejection_row_numbers_survive_blank_rows(sjz_outline):
    """Blank rows in the sheet are skipped by the reader but still counted."""
    frame = bad_frame()
    blank = pd.DataFrame([[None] * 4], columns=frame.columns)
    with_blanks = pd.concat([frame.iloc[:3], blank, blank, frame.iloc[3:]], ignore_index=True)
    shift = {r if r < 5 else r + 2: v for r, v in EXPECTED_REJECTIONS.items()}

    for data, name in (
        (with_blanks.to_csv(index=False).encode("gbk"), "bad.csv"),
        (xlsx_bytes(with_blanks), "bad.xlsx"),
    ):
        df, report = read_facilities(data, name, prefecture_outline=sjz_outline)
        assert list(df["name"]) == ["示例人民医院", "示例卫生室"]
        assert dict(zip(report.rejected["row"], report.rejected["code"], strict=True)) == {
            r: c for r, (c, _) in shift.items()
        }, name


def test_every_rejection_reason_xlsx(sjz_outline):
    df, report = read_facilities(
        xlsx_bytes(bad_frame()), "bad.xlsx", prefecture_outline=sjz_outline
    )
    check_rejections(df, report)


def test_missing_columns_error():
    df = good_frame().drop(columns=["经度", "纬度"])
    with pytest.raises(InputError) as info:
        read_facilities(df.to_csv(index=False).encode(), "f.csv")
    exc = info.value
    assert isinstance(exc, FacilitiesError) and exc.code == "facilities.missing_columns"
    assert exc.params["codes"] == ["missing_column.lon", "missing_column.lat"]
    zh, en = error_text(exc, "zh"), error_text(exc, "en")
    assert "经度" in zh and "纬度" in zh and "longitude" in en and "latitude" in en
    assert "机构名称" in zh and "机构名称" in en  # the columns that were found
    assert "{" not in zh + en and zh.count("•") == en.count("•") == 2  # one line per column


def test_no_valid_rows_error(sjz_outline):
    df = bad_frame().iloc[1:5]
    with pytest.raises(InputError) as info:
        read_facilities(df.to_csv(index=False).encode(), "bad.csv", prefecture_outline=sjz_outline)
    exc = info.value
    assert isinstance(exc, FacilitiesError)
    assert exc.code == "facilities.no_valid_rows"
    zh = check_messages(exc)
    assert "bad.csv" in zh and "4" in zh
    assert exc.report is not None and list(exc.report.rejected["row"]) == [2, 3, 4, 5]


def test_row_reason_messages_exist():
    for code, _ in EXPECTED_REJECTIONS.values():
        entry = MESSAGES[f"facilities.row.{code}"]
        assert has_cjk(entry["zh"]) and entry["en"]


# --------------------------------------------------------------------------------------
# illustrative network


@pytest.fixture(scope="module")
def sjz_surface():
    from gridplan.plan.units import build_units
    from gridplan.surface.grid import census_surface

    units = build_units("130100")
    return units, census_surface(units, 100)


def test_illustrative_shijiazhuang(sjz_surface, sjz_outline):
    units, surface = sjz_surface
    fac = illustrative_facilities(units, surface)
    assert list(fac.columns) == FACILITY_COLUMNS
    assert len(fac) >= 400
    assert fac["facility_id"].is_unique
    assert (fac["source"] == "illustrative").all()
    assert fac["name"].str.startswith("示意").all()
    assert fac[["beds", "doctors", "gps"]].isna().all().all()
    # every facility inside the prefecture
    assert shapely.contains_xy(sjz_outline, fac["lon"], fac["lat"]).all()
    # types as documented: hospitals one per drawn county-level unit
    drawn = units.units[units.units["has_geometry"]]
    hosp = fac[fac["type"] == "二级医院"]
    assert len(hosp) == len(drawn)
    assert set(fac["type"]) == {"二级医院", "社区卫生服务中心", "社区卫生服务站", "乡镇卫生院"}
    districts = drawn[drawn["name"].str.endswith("区")]
    for rec in drawn.itertuples():
        mine = fac[fac["facility_id"].str.startswith(f"ILL-{rec.unit_id}-")]
        centres = mine[mine["type"].isin(CENTRES)]
        expected_centres = max(1, int(np.ceil(rec.population / 50_000)))
        assert len(centres) == expected_centres, rec.name
        if rec.unit_id in set(districts["unit_id"]):
            assert set(centres["type"]) == {"社区卫生服务中心"}
            assert len(mine) - 1 == int(np.ceil(rec.population / 10_000))
        else:
            assert set(centres["type"]) == {"乡镇卫生院"}
            assert not (mine["type"] == "社区卫生服务站").any()
    assert (fac["name"] == "示意中心 长安区-01").sum() == 1
    # each facility lies in its own unit
    for rec in drawn.head(6).itertuples():
        mine = fac[fac["facility_id"].str.startswith(f"ILL-{rec.unit_id}-")]
        assert shapely.contains_xy(rec.geometry.buffer(0.001), mine["lon"], mine["lat"]).all()


def test_illustrative_deterministic(sjz_surface):
    units, surface = sjz_surface
    a = illustrative_facilities(units, surface, seed=3)
    b = illustrative_facilities(units, surface, seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_illustrative_parameters(sjz_surface):
    units, surface = sjz_surface
    fewer = illustrative_facilities(
        units, surface, per_residents=100_000, station_per_residents=None
    )
    assert not (fewer["type"] == "社区卫生服务站").any()
    assert (fewer["type"].isin(CENTRES)).sum() < 150
    with pytest.raises(InputError):
        illustrative_facilities(units, surface, per_residents=0)


def test_illustrative_with_townships(sjz_townships):
    from gridplan.plan.units import build_units
    from gridplan.surface.grid import census_surface

    units = build_units("130100", townships=sjz_townships)
    surface = census_surface(units, 200)
    fac = illustrative_facilities(units, surface)
    tws = units.units[(units.units["level"] == "township") & units.units["inside_prefecture"]]
    placed = set(np.flatnonzero(np.bincount(surface.unit_index[surface.population > 0].ravel())))
    for rec in tws.itertuples():
        pos = surface.unit_ids.index(rec.unit_id)
        if pos not in placed:
            continue
        centres = fac[fac["facility_id"].str.startswith(f"ILL-{rec.unit_id}-C")]
        assert len(centres) >= 1, rec.name  # one per township/街道 at least
        expected = "社区卫生服务中心" if rec.name.endswith("街道") else "乡镇卫生院"
        assert set(centres["type"]) == {expected}, rec.name
    # one hospital per county-level unit, the functional zones drawn by their townships too
    hosp = fac[fac["type"] == "二级医院"]
    assert "ILL-130171-H" in set(hosp["facility_id"])
    assert hosp["facility_id"].is_unique


# --------------------------------------------------------------------------------------
# OpenStreetMap (recorded synthetic extract; the online path differs only in the osmnx call)


def extract_bounds() -> tuple[float, float, float, float]:
    b = ET.parse(OSM_SAMPLE).getroot().find("bounds")
    assert b is not None
    return (
        float(b.get("minlon")),  # type: ignore[arg-type]
        float(b.get("minlat")),  # type: ignore[arg-type]
        float(b.get("maxlon")),  # type: ignore[arg-type]
        float(b.get("maxlat")),  # type: ignore[arg-type]
    )


def test_osm_extract():
    fac = facilities_from_osm(None, path=OSM_SAMPLE)
    assert list(fac.columns) == FACILITY_COLUMNS
    assert len(fac) == 10
    by_name = dict(zip(fac["name"], fac["type"], strict=True))
    assert by_name == {
        "示例第一人民医院": "二级医院",
        "示例第二医院": "二级医院",
        "示例中医院": "二级医院",
        "示例街道社区卫生服务中心": "社区卫生服务中心",
        "示例社区卫生服务站": "社区卫生服务站",
        "示例诊所": "社区卫生服务站",
        "示例镇卫生院": "乡镇卫生院",
        "示例村卫生室": "村卫生室",
        "示例口腔门诊部": "其他",
        "未命名医疗机构": "社区卫生服务站",
    }
    assert "示例大药房" not in by_name and "示例小学" not in by_name
    assert (fac["source"] == "osm").all()
    assert fac["facility_id"].is_unique
    minx, miny, maxx, maxy = extract_bounds()
    assert fac["lon"].between(minx, maxx).all() and fac["lat"].between(miny, maxy).all()
    # the campus polygon became one point inside it and kept its beds; its node duplicate went
    campus = fac[fac["name"] == "示例第二医院"].iloc[0]
    assert campus["facility_id"] == "osm-way-3001"
    assert shapely.box(114.495, 38.06, 114.498, 38.0625).contains(
        shapely.Point(campus["lon"], campus["lat"])
    )
    assert campus["beds"] == 300
    assert fac.loc[fac["name"] == "示例第一人民医院", "beds"].iat[0] == 600


def test_osm_extract_clipped_to_polygon(sjz_outline):
    west = shapely.box(114.40, 38.00, 114.50, 38.10)
    fac = facilities_from_osm(west, path=OSM_SAMPLE)
    assert set(fac["facility_id"]) == {
        "osm-way-3001",
        "osm-node-1002",
        "osm-node-1004",
        "osm-node-1005",
        "osm-node-1009",
    }
    assert len(facilities_from_osm(sjz_outline, path=OSM_SAMPLE)) == 10
    assert len(facilities_from_osm("石家庄市", path=OSM_SAMPLE)) == 10


def test_osm_type_mapping():
    assert osm_type({"amenity": "hospital"}) == "二级医院"
    assert osm_type({"healthcare": "hospital"}, "某某镇中心卫生院") == "乡镇卫生院"
    assert osm_type({"amenity": "clinic"}) == "社区卫生服务站"
    assert osm_type({"amenity": "doctors"}) == "社区卫生服务站"
    assert osm_type({"healthcare": "centre"}) == "社区卫生服务站"
    assert osm_type({"amenity": "hospital"}, "某社区卫生服务中心") == "社区卫生服务中心"
    assert osm_type({"amenity": "clinic"}, "某村卫生所") == "村卫生室"
    assert osm_type({"healthcare": "dentist"}) == "其他"
    assert osm_type({"healthcare": "pharmacy", "amenity": "pharmacy"}, "某卫生院药房") is None
    assert osm_type({"amenity": "school"}) is None


def test_osm_bad_extract(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node", encoding="utf-8")
    with pytest.raises(InputError) as info:
        facilities_from_osm(None, path=bad)
    assert info.value.code == "upload.unreadable"
    with pytest.raises(InputError):
        facilities_from_osm(None)


# --------------------------------------------------------------------------------------
# helpers


def test_facility_xy_and_mask():
    fac, _ = read_facilities(good_frame().to_csv(index=False).encode(), "f.csv")
    fac = set_active(fac, [fac["facility_id"].iat[1]], False)
    mask = facility_mask(fac)
    assert mask.tolist() == [True, False, True, True, True, True, True]
    xy = facility_xy(fac, "EPSG:4547")
    assert xy.shape == (6, 2) and xy.dtype == np.float64
    tr = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    x, y = tr.transform(fac["lon"][mask].to_numpy(), fac["lat"][mask].to_numpy())
    np.testing.assert_allclose(xy, np.column_stack([x, y]))
    primary = facility_mask(fac, PRIMARY_CARE)
    assert primary.tolist() == [False, False, True, True, False, True, False]
    assert facility_xy(fac, "EPSG:4547", PRIMARY_CARE).shape == (3, 2)
    assert facility_xy(fac.iloc[:0], "EPSG:4547").shape == (0, 2)


def test_add_and_set_active():
    fac, _ = read_facilities(good_frame().to_csv(index=False).encode(), "f.csv")
    more = add_facility(fac, "规划社区卫生服务站", "社区卫生服务站", 114.50, 38.03, beds=5)
    assert len(more) == len(fac) + 1 and len(fac) == len(GOOD_ROWS)  # original untouched
    new = more.iloc[-1]
    assert new["source"] == "added" and new["type"] == "社区卫生服务站" and new["beds"] == 5
    assert new["active"] and more["facility_id"].is_unique
    again = add_facility(more, "规划卫生院", "卫生院", 114.6, 38.1)
    assert again["facility_id"].is_unique and again["type"].iat[-1] == "乡镇卫生院"
    assert list(again.columns) == FACILITY_COLUMNS

    off = set_active(again, [new["facility_id"]], False)
    assert not off.loc[off["facility_id"] == new["facility_id"], "active"].iat[0]
    assert off["active"].sum() == len(off) - 1
    on = set_active(off, new["facility_id"], True)
    assert on["active"].all()

    with pytest.raises(InputError) as info:
        add_facility(fac, "x", "药店", 114.5, 38.0)
    assert info.value.code == "facilities.unknown_type"
    check_messages(info.value)
    with pytest.raises(InputError) as info:
        add_facility(fac, "x", "村卫生室", 38.0, 114.5)
    assert info.value.code == "facilities.bad_coordinates"
    check_messages(info.value)
    with pytest.raises(InputError) as info:
        set_active(fac, ["nope"], False)
    assert info.value.code == "facilities.unknown_ids"
    check_messages(info.value)
    with pytest.raises(InputError) as info:
        add_facility(fac, "x", "村卫生室", 114.5, 38.0, facility_id=fac["facility_id"].iat[0])
    assert info.value.code == "facilities.duplicate_id"


def test_add_to_empty_table():
    from gridplan.facilities.types import empty_facilities

    out = add_facility(empty_facilities(), "新站", "社区卫生服务站", 114.5, 38.0)
    assert list(out["facility_id"]) == ["ADD-0001"]
    assert out["active"].dtype == bool
