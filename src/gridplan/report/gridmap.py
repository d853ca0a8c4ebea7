"""Report outputs of a grid plan: a grid map (PNG), a unit table (CSV) and GeoJSON layers.

Nothing here touches a global matplotlib state: the map is drawn on a
:class:`matplotlib.figure.Figure` with its own Agg canvas (no ``pyplot``, no
backend switch), so it is safe inside a dashboard server.  All text is set in a
CJK font found by :func:`find_cjk_font` (Debian: ``fonts-noto-cjk``); without
one the map cannot be drawn and :class:`CJKFontMissingError` says how to fix it.

The map is drawn in the unit set's metric CRS (CGCS2000 Gauss-Krüger), never in
degrees.  The exports are WGS-84 (GeoJSON) and UTF-8 with a BOM (CSV, so Excel
shows Chinese correctly).  Every population figure carries its provenance
(:mod:`gridplan.plan.population`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle

from gridplan import __version__, settings
from gridplan.i18n import Lang, label, t
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.population import combine_sources, provenance_label
from gridplan.plan.stats import dissolve_grids
from gridplan.plan.units import UnitSet
from gridplan.report.draw import (
    _check_image_size,
    _close_gaps,
    _draw_footer,
    _draw_grid_outlines,
    _draw_labels,
    _draw_prefecture_outline,
    _draw_scale_and_north,
    _draw_title,
    _Layout,
    _map_axes,
    _new_figure,
    _padded_bounds,
    _png_bytes,
    _text_width_in,
    _to_path,
    _wrap,
)
from gridplan.report.fonts import _Fonts, _fonts
from gridplan.report.style import (
    UNASSIGNED_COLOR,
    LegendEntry,
    _missing,
    format_population,
    grid_colors,
    legend_entries,
)


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
    subtitle = t(
        "report.grid.subtitle",
        lang,
        n_grids=len(plan.grids),
        n_units=len(inside),
        pop=t(
            "report.grid.population_of",
            lang,
            pop=format_population(None if math.isnan(total_pop) else total_pop, lang),
            prov=provenance_label(_sources_of(inside), lang),
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


# --- footer -------------------------------------------------------------------------------


def _source_note(sources: Sequence[str], lang: Lang) -> str:
    """What each provenance among ``sources`` means, e.g. ``2020年人口普查（第七次…）``."""
    keys = sorted({p for s in sources for p in str(s).split("+") if p})
    notes = [label("report.source", k, lang) for k in keys]
    return t("sep.clause", lang).join(notes) or t("report.source.none", lang)


def _undrawn_notes(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[str]:
    """One note per unit without a polygon: the grid its residents are counted in, if any."""
    u = unit_set.units
    names = {g.grid_id: g.name for g in plan.grids}
    gids = assignment.to_numpy()
    items = []
    for i in np.flatnonzero(~u["has_geometry"].to_numpy()):
        unit = str(u["name"].iat[i])
        gid = gids[i]
        if _missing(gid):
            items.append(t("report.grid.undrawn_item_free", lang, unit=unit))
        else:
            grid = names.get(str(gid), str(gid))
            items.append(t("report.grid.undrawn_item", lang, unit=unit, grid=grid))
    return items


def _footer_lines(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[str]:
    """The grid map's footer: boundary source, population provenance, undrawn units, plan source."""
    u = unit_set.units
    inside = u[u["inside_prefecture"].to_numpy()]
    sources = _source_note(list(inside["population_source"]), lang)
    lines = [
        t("report.map.boundary", lang, crs=unit_set.metric_crs),
        t("report.grid.population", lang, sources=sources),
    ]
    items = _undrawn_notes(plan, unit_set, assignment, lang)
    if items:
        lines.append(t("report.grid.undrawn", lang, items=t("sep.clause", lang).join(items)))
    seed = plan.seed or {}
    if seed.get("title"):
        lines.append(
            t(
                "report.grid.seed",
                lang,
                issuer=seed.get("issuer", ""),
                title=seed["title"],
                date=seed.get("date", ""),
            )
        )
    lines.append(t("report.map.made", lang, version=__version__))
    return lines


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
        t("report.grid.legend_title", lang),
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
            t("report.grid.more", lang, n=len(entries) - layout.shown),
            transform=inch,
            fontproperties=prop,
            va="center",
            ha="left",
            color="#555555",
            parse_math=False,
        )
