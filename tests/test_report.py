"""Tests of gridplan.report: grid map PNG, CSV and GeoJSON exports (real Shijiazhuang, Chuxiong)."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

from gridplan.errors import CJKFontMissingError, GridPlanError, InputError
from gridplan.i18n import MESSAGES, error_text, t
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.stats import grid_statistics
from gridplan.plan.units import build_units
from gridplan.report.exports import CSV_COLUMNS, grids_to_geojson, plan_to_csv, units_to_geojson
from gridplan.report.fonts import find_cjk_font
from gridplan.report.gridmap import render_grid_map_png
from gridplan.report.style import grid_colors, grid_palette, legend_entries, nice_scale_length

SJZ_TOTAL = 11_235_086
CX_TOTAL = 2_416_747
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sjz():
    plan = GridPlan.from_preset("shijiazhuang")
    return plan, build_units(plan.prefecture)


@pytest.fixture(scope="module")
def chuxiong():
    plan = GridPlan.from_preset("chuxiong")
    return plan, build_units(plan.prefecture)


@pytest.fixture(scope="module")
def sjz_png(sjz):
    plan, us = sjz
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_grid_map_png(plan, us)
    assert [str(w.message) for w in caught] == []
    return png


def _open_png(data: bytes) -> Image.Image:
    assert data[:8] == PNG_MAGIC
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.format == "PNG"
    return img


# --- fonts ----------------------------------------------------------------------------------


def test_find_cjk_font_finds_an_installed_font(monkeypatch):
    monkeypatch.delenv("GRIDPLAN_CJK_FONT", raising=False)
    path = find_cjk_font()
    assert path is not None, "install fonts-noto-cjk"
    assert path.is_file()


def test_font_env_var_overrides_and_bad_value_is_ignored(monkeypatch, tmp_path):
    import matplotlib

    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setenv("GRIDPLAN_CJK_FONT", str(dejavu))
    assert find_cjk_font() == dejavu
    monkeypatch.setenv("GRIDPLAN_CJK_FONT", str(tmp_path / "missing.ttc"))
    default = find_cjk_font()
    assert default is not None and default != tmp_path / "missing.ttc"


def test_missing_font_gives_a_translated_error(monkeypatch, sjz):
    plan, us = sjz
    monkeypatch.setattr("gridplan.report.fonts.find_cjk_font", lambda: None)
    with pytest.raises(CJKFontMissingError) as info:
        render_grid_map_png(plan, us)
    exc = info.value
    assert isinstance(exc, GridPlanError)
    assert exc.code == "report.no_cjk_font"
    assert "report.no_cjk_font" in MESSAGES
    zh = error_text(exc, "zh")
    assert "中文字体" in zh and "fonts-noto-cjk" in zh and "GRIDPLAN_CJK_FONT" in zh
    en = error_text(exc, "en")
    assert "fonts-noto-cjk" in en and "{" not in en


def test_a_font_without_chinese_glyphs_would_warn(monkeypatch, sjz):
    """The no-warning check is meaningful: a Latin-only font makes matplotlib warn."""
    import matplotlib

    plan, us = sjz
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setattr("gridplan.report.fonts.find_cjk_font", lambda: dejavu)
    with pytest.warns(UserWarning, match="missing from font"):
        render_grid_map_png(plan, us)


# --- the map ---------------------------------------------------------------------------------


def test_png_is_valid_and_sized(sjz_png):
    img = _open_png(sjz_png)
    width, height = img.size
    assert width == 1500  # 10 in × 150 dpi
    assert 900 <= height <= 2500
    # a real map: many colours, not a blank canvas
    arr = np.asarray(img.convert("RGB"))
    assert len(np.unique(arr.reshape(-1, 3), axis=0)) > 200


def test_png_width_follows_dpi_and_width(sjz):
    plan, us = sjz
    img = _open_png(render_grid_map_png(plan, us, dpi=72, width_in=8, lang="en", title="Test"))
    assert img.size[0] == 576


def test_png_chuxiong_english_without_warnings(chuxiong):
    plan, us = chuxiong
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_grid_map_png(plan, us, lang="en")
    assert [str(w.message) for w in caught] == []
    assert _open_png(png).size[0] == 1500


def test_png_bad_size_rejected(sjz):
    plan, us = sjz
    with pytest.raises(InputError) as err:
        render_grid_map_png(plan, us, dpi=0)
    assert err.value.code == "report.invalid"
    assert err.value.params["codes"] == ["report.image_size"]
    with pytest.raises(InputError) as err:
        render_grid_map_png(plan, us, width_in=2)
    assert err.value.params["codes"] == ["report.map_width"]
    assert "6" in error_text(err.value, "zh") and "{" not in error_text(err.value, "en")


def test_png_with_townships_and_unassigned_units(sjz_townships):
    us = build_units("石家庄市", townships=sjz_townships)
    plan = copy.deepcopy(GridPlan.from_preset("shijiazhuang"))
    plan.grid("130107").units = []  # 井陉矿区 now in no grid
    township = us.units.loc[us.units["county_adcode"] == "130104", "unit_id"].iloc[0]
    plan = plan.reassign({township: "sjz-xinhua"})
    entries = legend_entries(plan, us)
    free = [e for e in entries if e.grid_id == ""]
    assert len(free) == 1 and free[0].population == 77015
    assert any("模型估算" in e.label for e in entries)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_grid_map_png(plan, us, width_in=12, dpi=100)
    assert [str(w.message) for w in caught] == []
    assert _open_png(png).size[0] == 1200


def test_rendering_does_not_import_pyplot():
    code = (
        "import sys, matplotlib\n"
        "before = matplotlib.get_backend() if 'matplotlib.pyplot' in sys.modules else None\n"
        "from gridplan.plan.grids import GridPlan\n"
        "from gridplan.plan.units import build_units\n"
        "from gridplan.report.gridmap import render_grid_map_png\n"
        "p = GridPlan.from_preset('rizhao'); us = build_units(p.prefecture)\n"
        "assert render_grid_map_png(p, us, dpi=50)[:4] == b'\\x89PNG'\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr


# --- legend, palette, scale ------------------------------------------------------------------


def test_legend_entries_match_grid_statistics(sjz):
    plan, us = sjz
    entries = legend_entries(plan, us)
    stats = grid_statistics(plan, us)
    assert [e.grid_id for e in entries] == list(stats["grid_id"])
    assert [e.population for e in entries] == list(stats["population"])
    changan = next(e for e in entries if e.name == "长安医疗集团")
    assert changan.population == 1_364_247
    assert changan.provenance == "2020年人口普查"
    assert changan.label == "长安医疗集团 1,364,247（2020年人口普查）"
    assert sum(e.population or 0 for e in entries) == SJZ_TOTAL
    en = legend_entries(plan, us, lang="en")
    assert en[1].label == "长安医疗集团 1,364,247 (census 2020)"


def test_legend_entry_without_population(sjz):
    plan, us = sjz
    plan = plan.add_grid("空网格", grid_id="empty")
    last = legend_entries(plan, us)[-1]
    assert last.grid_id == "empty" and last.population is None
    assert last.label == "空网格（无单元）" and not last.drawn
    assert legend_entries(plan, us, lang="en")[-1].label == "空网格 (no units)"


def test_legend_marks_grids_without_polygon(sjz):
    plan, us = sjz
    plan = plan.add_grid("高新区网格", grid_id="zone").reassign({"130171": "zone"})
    entries = {e.grid_id: e for e in legend_entries(plan, us)}
    assert entries["zone"].population == 304_675 and not entries["zone"].drawn
    assert entries["zone"].label == "高新区网格 304,675（2020年人口普查；未绘制）"
    assert entries["sjz-changan"].population == 1_059_572 and entries["sjz-changan"].drawn


def test_palette_is_stable_and_distinct(sjz):
    plan, _ = sjz
    colors = grid_colors(plan)
    assert list(colors) == [g.grid_id for g in plan.grids]
    # nine colour-blind safe colours, in plan order without the units (tests/test_maps_palette.py
    # checks that neighbouring grids differ once the units are given)
    assert len(set(colors.values())) == min(len(plan.grids), 9)
    assert grid_palette(5) == grid_palette(30)[:5]
    assert all(c.startswith("#") and len(c) == 7 for c in grid_palette(100))


@pytest.mark.parametrize(
    ("extent_m", "expected"),
    [
        (200_000, 50_000),
        (197_858, 50_000),
        (120_000, 20_000),
        (40_000, 10_000),
        (60_000, 20_000),
        (3_000, 1_000),
        (1_000, 200),
        (100, 20),
        (5_000_000, 1_000_000),
    ],
)
def test_nice_scale_length(extent_m, expected):
    length = nice_scale_length(extent_m)
    assert length == expected
    mantissa = length / 10 ** np.floor(np.log10(length))
    assert round(mantissa, 9) in (1, 2, 5)
    assert 0.1 * extent_m <= length <= 0.4 * extent_m


def test_nice_scale_length_rejects_bad_extent():
    for bad in (0, -5, float("nan"), float("inf")):
        with pytest.raises(InputError):
            nice_scale_length(bad)


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_one_row_per_unit_with_bom(sjz):
    plan, us = sjz
    data = plan_to_csv(plan, us)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == len(us.units) == 24
    assert list(rows[0]) == [t(f"report.csv.{c}", "zh") for c in CSV_COLUMNS]
    assert sum(int(r["常住人口"]) for r in rows) == SJZ_TOTAL
    assert {r["单元代码"] for r in rows} == set(us.units["unit_id"])
    zone = next(r for r in rows if r["单元代码"] == "130171")
    assert zone["网格名称"] == "长安医疗集团"
    assert zone["牵头医院"] == "石家庄市第三医院"
    assert zone["有边界"] == "否" and zone["面积（平方公里）"] == ""
    assert zone["人口来源代码"] == "census2020" and zone["人口来源"] == "2020年人口普查"
    # rows follow the plan's grid order
    order = [g.grid_id for g in plan.grids]
    ranks = [order.index(r["网格编号"]) for r in rows]
    assert ranks == sorted(ranks)


def test_csv_english_and_assignment(chuxiong):
    plan, us = chuxiong
    assignment = resolve_assignment(plan, us.units)
    rows = list(
        csv.DictReader(
            io.StringIO(plan_to_csv(plan, us, assignment, lang="en").decode("utf-8-sig"))
        )
    )
    assert len(rows) == len(us.units)
    assert sum(int(r["population"]) for r in rows) == CX_TOTAL
    assert {r["population_source_label"] for r in rows} == {"census 2020"}
    assert all(r["has_geometry"] == "yes" for r in rows)
    assert abs(sum(float(r["area_km2"]) for r in rows) - us.units["area_km2"].sum()) < 0.1


# --- GeoJSON --------------------------------------------------------------------------------


def test_grids_geojson_round_trips(sjz):
    plan, us = sjz
    data = grids_to_geojson(plan, us)
    gdf = gpd.read_file(io.BytesIO(data))
    assert len(gdf) == 22
    assert gdf.crs.to_epsg() == 4326
    for col in (
        "grid_id",
        "name",
        "lead_hospital",
        "units",
        "population",
        "population_source",
        "area_km2",
        "density",
        "undrawn_units",
    ):
        assert col in gdf.columns
    assert int(gdf["population"].sum()) == SJZ_TOTAL
    row = gdf.set_index("grid_id").loc["sjz-changan"]
    assert row["name"] == "长安医疗集团"
    assert row["population"] == 1_364_247
    assert list(row["units"]) == ["130102", "130171"]
    assert list(row["undrawn_units"]) == ["石家庄高新技术产业开发区"]
    minx, miny, maxx, maxy = gdf.total_bounds
    assert 113 < minx < maxx < 116 and 37 < miny < maxy < 39  # degrees, not metres

    fc = json.loads(data)
    meta = fc["gridplan"]
    assert meta["plan"] == "shijiazhuang"
    assert meta["prefecture"] == "130100"
    assert meta["seed"] == plan.seed_document
    assert "census2020" in meta["population_sources"]
    assert "GCJ-02" in meta["boundary_source"]
    props = fc["features"][1]["properties"]
    assert isinstance(props["population"], int) and props["population_source"] == "census2020"


def test_grids_geojson_empty_grid_has_null_geometry(sjz):
    plan, us = sjz
    plan = plan.add_grid("空网格", grid_id="empty")
    fc = json.loads(grids_to_geojson(plan, us))
    empty = fc["features"][-1]
    assert empty["geometry"] is None
    assert empty["properties"]["population"] is None
    assert empty["properties"]["units"] == []


def test_units_geojson(sjz):
    plan, us = sjz
    data = units_to_geojson(us, None, plan)
    gdf = gpd.read_file(io.BytesIO(data))
    assert len(gdf) == 24
    assert gdf.geometry.isna().sum() == 2  # the two functional zones
    zone = gdf.set_index("unit_id").loc["130172"]
    assert zone["grid_id"] == "sjz-yuhua" and zone["grid_name"] == "裕华医疗集团"
    assert int(gdf["population"].sum()) == SJZ_TOTAL
    assert json.loads(data)["gridplan"]["layer"] == "units"


def test_grid_map_png_draws_the_networks_and_says_so():
    """楚雄's 1+1+N networks as purple lines on the PNG (the report's and the download's map),
    with a footer line; a plan without networks has none."""
    from gridplan import workflow
    from gridplan.report.gridmap import LINK_HEX, _footer_lines, link_segments

    plan, units = workflow.plan_and_units("chuxiong", None)
    assert link_segments(plan, units).shape == (54, 4)  # six networks × nine other counties
    purple = np.array([int(LINK_HEX[i : i + 2], 16) for i in (1, 3, 5)])

    def purple_pixels(p) -> int:
        png = render_grid_map_png(p, units, dpi=60, width_in=8)
        rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
        return int((np.abs(rgb - purple).sum(axis=2) < 30).sum())

    assert purple_pixels(plan) > 500
    footer = "\n".join(_footer_lines(plan, units, resolve_assignment(plan, units.units), "zh"))
    assert "6 个跨网格网络" in footer and "其中 6 个牵头机构未定位" in footer
    plan.networks = []
    assert purple_pixels(plan) == 0
