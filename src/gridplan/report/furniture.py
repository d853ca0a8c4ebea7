"""Map furniture of the PNG maps: scale bar, north arrow (true north) and the grid names."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from matplotlib import patheffects as pe
from matplotlib.patches import Polygon, Rectangle
from matplotlib.transforms import Bbox

from gridplan.i18n import t
from gridplan.inputs.crs import transformer
from gridplan.plan.grids import GridPlan
from gridplan.report.draw import _Canvas, _largest_part, _MapView, _overlaps, _text_width_in
from gridplan.report.style import nice_scale_length

_ADMIN_CHARS = "县市区州旗盟镇乡"
_KIND_SUFFIXES = ("紧密型", "县域医共体", "医共体", "医疗集团", "医联体", "网格")


def _true_north_angle(metric_crs: str, x: float, y: float) -> float:
    """Angle (radians, counter-clockwise from grid up) of true north at a metric point."""
    to_ll = transformer(metric_crs, "EPSG:4326")
    to_m = transformer("EPSG:4326", metric_crs)
    lon, lat = to_ll.transform(x, y)
    x2, y2 = to_m.transform(lon, lat + 0.05)
    return float(math.atan2(-(x2 - x), y2 - y))


def _draw_furniture(
    canvas: _Canvas, view: _MapView, plan: GridPlan | None, outline_geoms: list[Any]
) -> None:
    """Scale bar, north arrow and, with a plan, the grid names placed around them."""
    # the extents of the scale bar and north arrow, for the labels to avoid
    obstacles = [_draw_scale_bar(canvas, view), _draw_north_arrow(canvas, view)]
    if plan is not None:
        _draw_labels(canvas, view, plan, outline_geoms, obstacles)


def _draw_scale_bar(canvas: _Canvas, view: _MapView) -> Any:
    """A segmented scale bar in the lower left; returns its display bounding box."""
    ax, renderer, fonts, lang = view.ax, canvas.renderer, canvas.fonts, canvas.image.lang
    m_per_in = view.scale
    length = nice_scale_length(view.scale * view.frame.map_box[2])
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
    # the tick values and the unit: one text style
    style: dict[str, Any] = {
        "fontproperties": fonts.prop(7.5),
        "color": "#111111",
        "zorder": 8,
        "parse_math": False,
    }
    div = 1000.0 if length >= 1000 else 1.0
    tick_y = by + h + 0.05 * m_per_in
    texts = [
        ax.text(bx + value, tick_y, f"{value / div:g}", ha="center", va="bottom", **style)
        for value in (0.0, length / 2, length)
    ]
    unit = t("report.map.unit_km" if length >= 1000 else "report.map.unit_m", lang)
    unit_x = bx + length + 0.08 * m_per_in
    texts.append(ax.text(unit_x, by + h / 2, unit, ha="left", va="center", **style))
    bbs = [txt.get_window_extent(renderer) for txt in texts]
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
    return Bbox.union([*bbs, Bbox(ax.transData.transform([(bx, by), (bx + length, by + h)]))])


def _draw_north_arrow(canvas: _Canvas, view: _MapView) -> Any:
    """A north arrow (true north) in the upper right; returns its display bounding box."""
    ax, renderer, fonts, lang = view.ax, canvas.renderer, canvas.fonts, canvas.image.lang
    metric_crs, m_per_in = view.crs, view.scale
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
    west = _arrow_half([tip, left, base], "white")
    east = _arrow_half([tip, base, right], "#111111")
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
        t("report.map.north", lang),
        ha="center",
        va="center",
        fontproperties=fonts.prop(10, True),
        color="#111111",
        zorder=8,
        parse_math=False,
        path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
    )
    return Bbox.union(
        [
            label.get_window_extent(renderer),
            west.get_window_extent(renderer),
            east.get_window_extent(renderer),
        ]
    ).expanded(1.2, 1.1)


def _arrow_half(corners: list[tuple[float, float]], face: str) -> Polygon:
    """One half of the north arrow: a triangle with a dark edge, filled with ``face``."""
    return Polygon(
        corners, closed=True, facecolor=face, edgecolor="#111111", linewidth=0.8, zorder=8
    )


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
    canvas: _Canvas, view: _MapView, plan: GridPlan, outline_geoms: list[Any], obstacles: list[Any]
) -> None:
    """Grid names inside each grid's largest part; colliding labels move aside with a leader."""
    ax, renderer, fonts = view.ax, canvas.renderer, canvas.fonts
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
