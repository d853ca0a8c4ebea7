"""GIS and Excel exports (issue 12), each file opened with an independent reader.

GeoPackage and Shapefile with pyogrio (GDAL), workbooks with openpyxl, the
GeoTIFF with rasterio; through the library, the CLI (``grids -o``,
``coverage -o``) and the dashboard's download buttons.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pyogrio
import pytest

from gridplan import workflow
from gridplan.cli import main
from gridplan.plan.grids import GridPlan
from gridplan.report import gis, workbooks
from gridplan.report.workbooks import CoverageAbout, minutes_cell

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What a planner's table must never show.
RAW = ("nan", "None", "inf", "census2020", "modelled", "type_default", "illustrative", ".txt")
FORMULA_NAME = '=HYPERLINK("http://example.com","点此")'


@pytest.fixture(scope="module")
def sjz():
    return workflow.plan_and_units("shijiazhuang", None)


def _renamed(plan: GridPlan, grid_id: str, name: str) -> GridPlan:
    d = plan.to_dict()
    next(g for g in d["grids"] if g["grid_id"] == grid_id)["name"] = name
    return GridPlan.from_dict(d)


def _cells(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _assert_planner_words(book) -> None:
    """No cell of any sheet shows a raw value, an internal code or a file name."""
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    assert not any(w in v for w in RAW), (ws.title, v)
                if isinstance(v, float):
                    assert math.isfinite(v), (ws.title, v)


# --- GeoPackage -------------------------------------------------------------------------------


def test_geopackage_has_both_layers_in_cgcs2000_with_chinese_names(sjz, tmp_path):
    plan, units = sjz
    path = tmp_path / "plan.gpkg"
    path.write_bytes(gis.plan_to_gpkg(plan, units))
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert set(layers) == {"grids", "units", "fields"} and layers["fields"] is None
    grids = pyogrio.read_dataframe(path, layer="grids")
    assert grids.crs.to_epsg() == 4490
    assert list(grids.columns[:-1]) == [f.full for f in gis.GRID_FIELDS]
    assert list(grids["name"]) == [g.name for g in plan.grids]
    changan = grids.set_index("grid_id").loc["sjz-changan"]
    assert changan["population"] == 1_364_247 and grids["population"].dtype == np.int64
    assert changan["lead_hospital"] == "石家庄市第三医院"
    assert changan["units"] == "130102,130171" and changan["n_undrawn"] == 1
    assert changan["undrawn_units"] == "石家庄高新技术产业开发区"
    assert changan["population_source"] == "2020年人口普查"
    units_layer = pyogrio.read_dataframe(path, layer="units").set_index("unit_id")
    assert len(units_layer) == len(units.units) == 24
    zone = units_layer.loc["130171"]  # a functional zone: listed, without a polygon
    assert zone.geometry is None and zone["has_geometry"] == 0 and zone["population"] == 304_675
    assert units_layer.loc["130102", "grid_name"] == "长安医疗集团"
    assert units_layer.loc["130102", "level"] == "县级"
    # the coordinates are the boundaries' own (CGCS2000 and WGS-84 agree within centimetres)
    bounds = units_layer.loc["130102"].geometry.bounds
    assert bounds == pytest.approx(units.units.set_index("unit_id").loc["130102"].geometry.bounds)
    fields = pyogrio.read_dataframe(path, layer="fields")
    assert len(fields) == len(gis.GRID_FIELDS) + len(gis.UNIT_FIELDS)


def test_geopackage_labels_follow_the_language(sjz, tmp_path):
    plan, units = sjz
    path = tmp_path / "plan.gpkg"
    path.write_bytes(gis.plan_to_gpkg(plan, units, lang="en"))
    u = pyogrio.read_dataframe(path, layer="units").set_index("unit_id")
    assert u.loc["130102", "level"] == "county"
    assert u.loc["130102", "population_source"] == "census 2020"


# --- zipped Shapefile -------------------------------------------------------------------------


def _shapefile_zip(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "plan.shp.zip"
    path.write_bytes(data)
    return path


def test_shapefile_zip_holds_two_layers_with_prj_cpg_and_field_table(sjz, tmp_path):
    plan, units = sjz
    path = _shapefile_zip(tmp_path, gis.plan_to_shapefile_zip(plan, units))
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        layer_files = {f"{n}{e}" for n in ("grids", "units")
                       for e in (".shp", ".shx", ".dbf", ".prj", ".cpg")}  # fmt: skip
        assert names == layer_files | {"fields.csv"}
        cpg = zf.read("grids.cpg").decode("ascii").strip()
        prj = zf.read("grids.prj").decode("ascii")
        table = list(csv.reader(io.StringIO(zf.read("fields.csv").decode("utf-8-sig"))))
    assert cpg == "UTF-8"
    assert "China_Geodetic_Coordinate_System_2000" in prj and "CGCS2000" in prj
    for layer, fields in gis.FIELDS.items():
        shp = pyogrio.read_dataframe(f"/vsizip/{path}/{layer}.shp", encoding=cpg)
        assert shp.crs.to_epsg() == 4490
        columns = list(shp.columns[:-1])
        assert columns == [f.short for f in fields if f.in_shapefile]
        assert all(len(c) <= 10 for c in columns)
        # every field of the file is in the table, with a meaning in both languages
        rows = {(r[0], r[1]): r for r in table[1:]}
        for c in columns:
            row = rows[(layer, c)]
            assert row[4] and row[5] and row[4] != row[5]
    grids = pyogrio.read_dataframe(f"/vsizip/{path}/grids.shp", encoding=cpg)
    assert list(grids["name"]) == [g.name for g in plan.grids]
    assert grids.set_index("grid_id").loc["sjz-yuhua", "lead_hosp"] == "石家庄市第一医院"
    assert grids.set_index("grid_id").loc["sjz-changan", "pop"] == 1_364_247
    assert table[0][:2] == ["图层 / layer", "字段名（Shapefile） / field (Shapefile)"]


def test_long_names_are_cut_to_a_dbase_field_at_a_character_boundary(sjz, tmp_path):
    plan, units = sjz
    long_name = "长安" * 90 + "医疗集团"  # 544 bytes of UTF-8, over the 254 a field holds
    cut = gis.fit_dbf_text(long_name)
    assert len(cut.encode("utf-8")) <= 254 and cut.endswith("…")
    assert long_name.startswith(cut[:-1]) and len(cut) == 1 + (254 - 3) // 3
    path = _shapefile_zip(
        tmp_path, gis.plan_to_shapefile_zip(_renamed(plan, "sjz-changan", long_name), units)
    )  # GDAL would warn (an error under pytest) if it had to cut the text itself
    grids = pyogrio.read_dataframe(f"/vsizip/{path}/grids.shp", encoding="UTF-8")
    assert grids.set_index("grid_id").loc["sjz-changan", "name"] == cut
    gpkg = tmp_path / "long.gpkg"  # the GeoPackage has no such limit: the name stays whole
    gpkg.write_bytes(gis.plan_to_gpkg(_renamed(plan, "sjz-changan", long_name), units))
    whole = pyogrio.read_dataframe(gpkg, layer="grids").set_index("grid_id")
    assert whole.loc["sjz-changan", "name"] == long_name


# --- Excel: the grid workbook -----------------------------------------------------------------

GRID_HEADERS_ZH = [
    "网格编号", "网格名称", "牵头医院", "成员单位", "单元数（个）", "所含单元", "人口（人）",
    "人口来源",
    "65岁及以上人口（人）", "65岁及以上占比（%）", "面积（km²）", "人口密度（人/km²）",
    "无独立边界的单元（计入人口）",
]  # fmt: skip


def test_grid_workbook_headers_integer_people_and_sources(sjz):
    plan, units = sjz
    plan = plan.add_grid("空网格")  # a grid without units: empty cells, never nan
    book = openpyxl.load_workbook(io.BytesIO(workbooks.grid_workbook(plan, units)))
    assert book.sheetnames == ["网格", "单元", "数据来源与方法"]
    grids = _cells(book["网格"])
    assert grids[0] == GRID_HEADERS_ZH
    by_id = {r[0]: dict(zip(grids[0], r, strict=True)) for r in grids[1:]}
    changan = by_id["sjz-changan"]
    assert changan["人口（人）"] == 1_364_247 and type(changan["人口（人）"]) is int
    assert changan["所含单元"] == "长安区、石家庄高新技术产业开发区"
    assert changan["人口来源"] == "2020年人口普查"
    people = [r[6] for r in grids[1:] if r[6] is not None]
    assert len(people) == len(plan.grids) - 1 and all(type(p) is int for p in people)
    assert sum(people) == 11_235_086
    empty = next(r for r in grids[1:] if r[1] == "空网格")
    assert empty[6] is None and empty[7] is None and empty[4] == 0  # empty cells
    ws = book["网格"]
    assert ws["G2"].number_format == "#,##0" and ws.freeze_panes == "A2"
    unit_rows = _cells(book["单元"])
    assert unit_rows[0][:3] == ["单元代码", "单元名称", "层级"] and len(unit_rows) == 25
    assert all(type(r[6]) is int for r in unit_rows[1:])
    sources = dict(_cells(book["数据来源与方法"])[1:])
    assert sources["人口（人）"].startswith("2020年人口普查")
    assert "石家庄市卫生健康委员会" in sources["方案依据"]  # the document, not its file name
    assert "面积（km²）" in sources and "行政区划边界" in sources
    _assert_planner_words(book)


def test_grid_workbook_in_english(sjz):
    plan, units = sjz
    book = openpyxl.load_workbook(io.BytesIO(workbooks.grid_workbook(plan, units, lang="en")))
    assert book.sheetnames == ["Grids", "Units", "Sources and method"]
    head = _cells(book["Grids"])[0]
    assert head[6:8] == ["Population (persons)", "Source of the population"]
    assert "Area (km²)" in head


def test_workbook_keeps_a_formula_name_as_text(sjz, tmp_path):
    plan, units = sjz
    plan = _renamed(plan, "sjz-xinhua", FORMULA_NAME)
    book = openpyxl.load_workbook(io.BytesIO(workbooks.grid_workbook(plan, units)))
    cell = next(c for c in book["网格"]["B"] if c.value and "HYPERLINK" in str(c.value))
    assert cell.value == "'" + FORMULA_NAME and cell.data_type == "s"
    assert [c for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"] == []
    # the GIS files are no spreadsheets: the name stays exactly as the planner typed it
    gpkg = tmp_path / "f.gpkg"
    gpkg.write_bytes(gis.plan_to_gpkg(plan, units))
    names = pyogrio.read_dataframe(gpkg, layer="grids")["name"]
    assert FORMULA_NAME in list(names)


def test_minutes_cells_say_unreachable_in_words():
    assert minutes_cell(float("inf"), 60.0, "zh") == "超过60分钟"
    assert minutes_cell(float("inf"), None, "en") == "not reachable"
    assert minutes_cell(float("nan"), 60.0, "zh") is None
    assert minutes_cell(12.345, 60.0, "zh") == 12.3


# --- CLI round trips --------------------------------------------------------------------------


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["g.gpkg", "g.shp.zip", "g.xlsx", "g.geojson", "g.json"])
def test_grids_cli_writes_every_plan_file(capsys, tmp_path, name):
    path = tmp_path / name
    code, _, err = run(capsys, "grids", "--preset", "shijiazhuang", "--lang", "zh", "-o", str(path))
    assert code == 0, err
    if name.endswith(".gpkg"):
        grids = pyogrio.read_dataframe(path, layer="grids")
        assert grids.crs.to_epsg() == 4490 and "长安医疗集团" in set(grids["name"])
    elif name.endswith(".shp.zip"):
        grids = pyogrio.read_dataframe(f"/vsizip/{path}/grids.shp", encoding="UTF-8")
        assert grids.crs.to_epsg() == 4490 and "长安医疗集团" in set(grids["name"])
    elif name.endswith(".xlsx"):
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == ["网格", "单元", "数据来源与方法"]
        assert _cells(book["网格"])[0] == GRID_HEADERS_ZH
    elif name.endswith(".geojson"):
        grids = pyogrio.read_dataframe(path)
        assert grids.crs.to_epsg() == 4326 and len(grids) == 22
    else:
        assert GridPlan.from_dict(json.loads(path.read_text("utf-8"))).plan_id == "shijiazhuang"


@pytest.mark.parametrize("name", ["grids.csv", "grids.zip", "grids.shp", "grids"])
def test_grids_cli_refuses_other_names_listing_the_allowed_ones(capsys, tmp_path, name):
    code, out, err = run(capsys, "grids", "--preset", "shijiazhuang", "-o", str(tmp_path / name))
    assert code == 2 and out == ""
    assert ".json, .geojson, .gpkg, .shp.zip, .xlsx" in err and name in err
    assert not (tmp_path / name).exists()
    code, _, err = run(capsys, "grids", "--preset", "shijiazhuang", "--lang", "zh",
                       "-o", str(tmp_path / name))  # fmt: skip
    assert code == 2 and "方案文件名须以" in err and ".shp.zip" in err


def test_coverage_cli_writes_the_kpi_workbook(capsys, tmp_path):
    path = tmp_path / "cov.xlsx"
    code, out, err = run(
        capsys, "coverage", "--preset", "rizhao", "--cell-m", "1000", "--lang", "zh",
        "-o", str(path),
    )  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "按网格", "按单元", "按机构", "数据来源与方法"]
    by_grid = _cells(book["按网格"])
    assert by_grid[0] == [
        "网格编号", "网格名称", "人口（人）", "已覆盖人口（人）", "覆盖率（%）",
        "能到达机构的人口（人）", "无法到达机构的人口（人，计为未覆盖）", "无法到达占比（%）",
        "平均用时（分钟，按可达居民）", "中位用时（分钟，按可达居民）",
        "90%可达居民用时不超过（分钟）", "未评估人口（人）",
    ]  # fmt: skip
    json_grids = {g["grid_id"]: g for g in d["by_grid"]}
    for row in by_grid[1:]:
        g = json_grids[row[0]]
        assert row[2] == round(g["population"]) and type(row[2]) is int
        assert row[3] == round(g["covered"]) and type(row[3]) is int
        if g["share"] is None:  # no resident on the map (a zone without boundary): empty cells
            assert row[4] is None and row[8] is None and row[11] == g["not_assessed_population"]
            continue
        assert row[4] == round(g["share"] * 100, 1)
        assert row[5] == round(g["reachable_population"])
        assert row[6] == round(g["unreachable_population"])
        assert row[8] == round(g["mean_minutes"], 1)
    facilities = _cells(book["按机构"])
    assert facilities[0] == ["机构名称", "机构类型", "机构来源", "服务人口（人）",
                             "其中时限内可达（人）", "服务人口标准（3万–10万人）"]  # fmt: skip
    assert len(facilities) - 1 == d["provenance"]["n_facilities"]
    assert {r[2] for r in facilities[1:]} == {"示意网络，非真实位置"}
    served = sum(r[3] for r in facilities[1:])
    assert served == pytest.approx(d["population"], abs=len(facilities))  # each rounded
    assert all(r[4] <= r[3] for r in facilities[1:])
    summary = dict(_cells(book["汇总"])[1:])
    assert summary["覆盖率（%）"] == round(d["share"] * 100, 1)
    assert summary["人口（人）"] == round(d["population"])
    sources = dict(_cells(book["数据来源与方法"])[1:])
    assert "示意" in sources["示意网络"] and sources["出行时间模型"] == "直线距离 × 绕行系数"
    assert sources["出行方式与速度"] == "步行；4.8 千米/小时"
    assert "15 分钟" in sources["覆盖判定"] and "1000 米" in sources["人口空间分布"]
    _assert_planner_words(book)


def test_coverage_cli_workbook_in_english_and_bad_names(capsys, tmp_path):
    path = tmp_path / "cov.XLSX"
    code, _, err = run(capsys, "coverage", "--preset", "rizhao", "--cell-m", "1000",
                       "-o", str(path))  # fmt: skip
    assert code == 0, err  # without --lang the file is for a Chinese planner
    assert openpyxl.load_workbook(path).sheetnames[:2] == ["汇总", "按网格"]
    code, _, err = run(capsys, "coverage", "--preset", "rizhao", "--cell-m", "1000",
                       "--lang", "en", "-o", str(path))  # fmt: skip
    assert code == 0, err
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "By grid", "By unit", "By facility", "Sources and method"]
    assert _cells(book["By grid"])[0][2:5] == [
        "Population (persons)", "Covered population (persons)", "Coverage (%)"]  # fmt: skip
    code, out, err = run(capsys, "coverage", "--preset", "rizhao", "-o", str(tmp_path / "c.csv"))
    assert code == 2 and out == "" and ".tif, .tiff, .geojson, .json, .xlsx" in err


def test_coverage_workbook_counts_residents_65plus_in_its_headers(sjz):
    from gridplan.access.coverage import KpiTables

    plan, units = sjz
    tables = KpiTables(
        {"population": 10.0, "covered": 5.0, "share": 0.5, "reachable": 8.0, "unreachable": 2.0,
         "unreachable_share": 0.2, "mean_minutes": 3.0,
         "median_minutes": 2.0, "p90_minutes": float("inf"), "not_assessed_population": 0.0},
        _by_grid(plan), _by_unit(units),
    )  # fmt: skip
    facilities = workflow.illustrative_network(units).head(2)
    served = _served(2)
    about = CoverageAbout(15, "raster", "walk", 4.8, None, 100.0, cutoff_min=60.0,
                          population_source="uploaded", demand="65plus", growth_pct=10)  # fmt: skip
    data = workbooks.coverage_workbook(
        tables, plan, units, facilities=facilities, served=served, about=about
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    head = _cells(book["按网格"])[0]
    assert head[2:4] == ["65岁及以上人口（人）", "已覆盖65岁及以上人口（人）"]
    summary = dict(_cells(book["汇总"])[1:])
    assert summary["90%可达居民用时不超过（分钟）"] == "超过60分钟"
    assert summary["无法到达机构的65岁及以上人口（人，计为未覆盖）"] == 2
    assert summary["人口口径"] == "65岁及以上老年人口"
    sources = dict(_cells(book["数据来源与方法"])[1:])
    assert sources["人口增长假设"] == "在上述人口基础上按 +10% 计算（情景分析）"
    assert (
        sources["计算时限"].startswith("60 分钟")
        and "绕行系数（道路距离 ÷ 直线距离）" not in sources
    )
    # the 30,000–100,000 standard counts every resident: not judged on residents 65+
    assert {r[5] for r in _cells(book["按机构"])[1:]} == {None}  # empty cells


def _by_grid(plan):
    import pandas as pd

    n = len(plan.grids)
    return pd.DataFrame({
        "grid_id": [g.grid_id for g in plan.grids], "name": [g.name for g in plan.grids],
        "population": np.full(n, 1000.4), "covered": np.full(n, 500.6),
        "share": np.full(n, 0.5), "reachable": np.full(n, 900.0), "unreachable": np.full(n, 100.4),
        "unreachable_share": np.full(n, 0.1), "mean_minutes": np.full(n, 7.25),
        "median_minutes": np.full(n, np.nan), "p90_minutes": np.full(n, np.inf),
        "not_assessed": np.zeros(n),
    })  # fmt: skip


def _by_unit(units):
    import pandas as pd

    u = units.units
    n = len(u)
    return pd.DataFrame({
        "unit_id": u["unit_id"], "name": u["name"], "level": u["level"], "grid_id": [None] * n,
        "population": np.full(n, 10.0), "covered": np.full(n, 5.0), "share": np.full(n, 0.5),
        "reachable": np.full(n, 10.0), "unreachable": np.zeros(n), "unreachable_share": np.zeros(n),
        "mean_minutes": np.full(n, 3.0), "median_minutes": np.full(n, 3.0),
        "p90_minutes": np.full(n, 4.0), "not_assessed": np.zeros(n),
    })  # fmt: skip


def _served(n):
    import pandas as pd

    return pd.DataFrame({"served": np.full(n, 40_000.0), "served_within": np.full(n, 100.0)})


# --- dashboard downloads ----------------------------------------------------------------------


@pytest.fixture
def deferred(monkeypatch):
    """The files the download buttons registered: file name → (mime type, builder)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen: dict[str, tuple[str | None, object]] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        seen[file_name] = (mimetype, data_callable)
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def test_grids_page_offers_gis_and_excel_downloads_that_never_rerun(deferred, tmp_path):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../pages/grids.py", default_timeout=120).run()
    assert not at.exception
    buttons = at.get("download_button")
    assert len(buttons) == 7 and all(b.proto.ignore_rerun for b in buttons)
    labels = [b.proto.label for b in buttons]
    assert labels[:4] == ["网格 GeoJSON", "网格与单元 GeoPackage", "网格与单元 Shapefile（zip）",
                          "网格与单元 Excel"]  # fmt: skip
    stem = "gridplan_shijiazhuang"
    assert {k: v[0] for k, v in deferred.items()} == {
        f"{stem}.geojson": "application/geo+json",
        f"{stem}.gpkg": "application/geopackage+sqlite3",
        f"{stem}.shp.zip": "application/zip",
        f"{stem}.xlsx": XLSX_MIME,
        f"{stem}.csv": "text/csv",
        f"{stem}.png": "image/png",
        f"{stem}.json": "application/json",
    }
    gpkg = tmp_path / "d.gpkg"
    gpkg.write_bytes(deferred[f"{stem}.gpkg"][1]())
    assert "长安医疗集团" in set(pyogrio.read_dataframe(gpkg, layer="grids")["name"])
    shp = tmp_path / "d.shp.zip"
    shp.write_bytes(deferred[f"{stem}.shp.zip"][1]())
    assert pyogrio.read_dataframe(f"/vsizip/{shp}/units.shp").crs.to_epsg() == 4490
    book = openpyxl.load_workbook(io.BytesIO(deferred[f"{stem}.xlsx"][1]()))
    assert _cells(book["网格"])[0] == GRID_HEADERS_ZH


def test_access_page_offers_the_kpi_workbook_and_the_geotiff(deferred, tmp_path):
    import rasterio
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../pages/access.py", default_timeout=120).run()
    assert not at.exception
    buttons = at.get("download_button")
    assert buttons and all(b.proto.ignore_rerun for b in buttons)
    files = {k: v[0] for k, v in deferred.items()}
    assert files["coverage_15min.xlsx"] == XLSX_MIME
    assert files["travel_minutes_walk.tif"] == "image/tiff"
    book = openpyxl.load_workbook(io.BytesIO(deferred["coverage_15min.xlsx"][1]()))
    assert book.sheetnames == ["汇总", "按网格", "按单元", "按机构", "数据来源与方法"]
    share = float(at.metric[0].value.rstrip("%"))
    assert dict(_cells(book["汇总"])[1:])["覆盖率（%）"] == pytest.approx(share, abs=0.05)
    _assert_planner_words(book)
    # the KPI CSV: the 按网格 sheet, after a line saying where the figures come from
    kpi_csv = deferred["coverage_15min.csv"][1]().decode("utf-8-sig").splitlines()
    assert kpi_csv[0].startswith("# ") and "示意" in kpi_csv[0]
    rows = list(csv.reader(kpi_csv[1:]))
    assert rows[0] == _cells(book["按网格"])[0]
    changan = next(r for r in rows if r[0] == "sjz-changan")
    assert changan[2] == str(int(changan[2])) and int(changan[2]) > 1_000_000  # whole people
    tif = tmp_path / "t.tif"
    tif.write_bytes(deferred["travel_minutes_walk.tif"][1]())
    with rasterio.open(tif) as src:
        band = src.read(1)
        assert src.nodata == -1 and src.crs.is_projected
        assert src.tags()["units"] == "minutes" and src.tags()["speed_kmh"] == "4.8"
        assert band.max() > 15 and (band[band != -1] >= 0).all()


def test_readme_field_table_is_the_files_own():
    """The README's field-name table lists every field with the meaning the files carry."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for layer, fields in gis.FIELDS.items():
        for f in fields:
            short = f"`{f.short}`" if f.in_shapefile else "—"
            row = f"| {layer} | {short} | `{f.full}` | {f.meaning(layer, 'zh')} | "
            assert row + f.meaning(layer, "en") + " |" in readme, row


def test_scenario_export_writes_the_new_plan_files(capsys, tmp_path, own_store):
    plan_json = tmp_path / "plan.json"
    code, _, err = run(capsys, "grids", "--preset", "rizhao", "-o", str(plan_json))
    assert code == 0, err
    code, out, err = run(capsys, "scenario", "save", "--from-plan", str(plan_json),
                         "--name", "日照方案", "--store", own_store)  # fmt: skip
    assert code == 0, err
    sid = json.loads(out)["id"]
    for name in ("s.gpkg", "s.shp.zip", "s.xlsx"):
        code, _, err = run(capsys, "scenario", "export", str(sid), "-o", str(tmp_path / name),
                           "--store", own_store, "--lang", "zh")  # fmt: skip
        assert code == 0, err
    gpkg = pyogrio.read_dataframe(tmp_path / "s.gpkg", layer="grids")
    shp = pyogrio.read_dataframe(f"/vsizip/{tmp_path / 's.shp.zip'}/grids.shp")
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    names = [g.name for g in GridPlan.from_preset("rizhao").grids]
    assert list(gpkg["name"]) == list(shp["name"]) == names
    assert [r[1] for r in _cells(book["网格"])[1:]] == names
