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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

from gridplan import __version__
from gridplan._validate import Problems
from gridplan.i18n import Lang, label, t
from gridplan.inputs.crs import transformer
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.networks import network_links
from gridplan.plan.population import combine_sources, provenance_label
from gridplan.plan.stats import dissolve_grids
from gridplan.plan.units import UnitSet
from gridplan.report.draw import (
    _LABEL_DX,
    MapImage,
    _Canvas,
    _drawn_units,
    _Frame,
    _Image,
    _Page,
    _plan_name,
)
from gridplan.report.fonts import _fonts
from gridplan.report.furniture import _draw_furniture
from gridplan.report.style import (
    UNASSIGNED_COLOR,
    LegendEntry,
    _missing,
    format_population,
    grid_colors,
    legend_entries,
)

#: Most legend rows per column below the map; further grids are counted in a last row.
_MAX_LEGEND_ROWS = 22


def render_grid_map_png(
    plan: GridPlan,
    unit_set: UnitSet,
    *,
    assignment: pd.Series | None = None,
    **image: Unpack[MapImage],
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

    The image options ``lang``, ``title``, ``dpi`` and ``width_in`` are
    those of :class:`~gridplan.report.draw.MapImage`.  The image is
    ``width_in × dpi`` pixels wide; its height follows the prefecture's shape
    and the legend.

    Raises
    ------
    CJKFontMissingError
        When no CJK font is installed (code ``report.no_cjk_font``).
    InputError
        ``report.invalid`` with the problem ``report.image_size`` (a
        non-positive ``dpi`` or ``width_in``, or an image over 12,000 pixels
        wide) or ``report.map_width`` (``width_in`` under 6 inches).
    """
    img = _Image(**image)
    problems = Problems("report.invalid", "cannot draw the grid map")
    img.check(problems)
    problems.raise_if_any()
    fonts = _fonts()
    lang = img.lang
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    grids = dissolve_grids(plan, unit_set, assignment)
    entries = legend_entries(plan, unit_set, assignment, lang, stats=grids)
    metric = unit_set.metric_crs
    drawn_m, bounds, aspect = _drawn_units(unit_set, metric)

    canvas = _Canvas.new(fonts, img)
    footer = _footer_lines(plan, unit_set, assignment, lang)
    frame, key = _layout(canvas, canvas.page(footer), entries, aspect)
    title = img.title if img.title is not None else _plan_name(plan, lang)
    view = canvas.open_map(frame, metric, bounds, title, _subtitle(plan, unit_set, lang))

    gids = assignment.to_numpy()[u["has_geometry"].to_numpy()]
    fills = _unit_fills(gids, drawn_m["inside_prefecture"], grid_colors(plan, unit_set, assignment))
    view.draw_units(drawn_m.geometry, fills, edgecolors="#ffffff", linewidths=0.5, zorder=1)
    outline_geoms = view.draw_outlines(grids.to_crs(metric).geometry, drawn_m)
    _draw_links(view.ax, link_segments(plan, unit_set))
    _draw_furniture(canvas, view, plan, outline_geoms)
    _draw_legend(canvas, entries, frame, key)
    return canvas.png(frame)


#: The network links' colour, as on the dashboard's map (purple: apart from fills and outlines).
LINK_HEX = "#762a83"


def link_segments(plan: GridPlan, unit_set: UnitSet) -> np.ndarray:
    """The plan's network links (:func:`~gridplan.plan.networks.network_links`) as metric
    segments ``(n, 4)``: x0, y0, x1, y1 in ``unit_set.metric_crs``."""
    links = network_links(plan, unit_set)
    if links.empty:
        return np.zeros((0, 4))
    to_metric = transformer("EPSG:4326", unit_set.metric_crs)
    x0, y0 = to_metric.transform(links["lon0"].to_numpy(), links["lat0"].to_numpy())
    x1, y1 = to_metric.transform(links["lon1"].to_numpy(), links["lat1"].to_numpy())
    return np.column_stack([x0, y0, x1, y1])


def _draw_links(ax: Any, segments: np.ndarray) -> None:
    """Each link as a line, each origin as a dot, above the grids and below the labels."""
    if not len(segments):
        return
    ax.add_collection(
        LineCollection(list(segments.reshape(-1, 2, 2)), colors=LINK_HEX, linewidths=1.3, zorder=5)
    )
    origins = np.unique(segments[:, :2], axis=0)
    ax.scatter(origins[:, 0], origins[:, 1], s=18, color=LINK_HEX, zorder=6)


def _subtitle(plan: GridPlan, unit_set: UnitSet, lang: Lang) -> str:
    """``医疗网格划分图 · 22 个网格 · 24 个单元 · 常住人口合计 11,235,086（…）``."""
    u = unit_set.units
    inside = u[u["inside_prefecture"].to_numpy()]
    total_pop = float(inside["population"].sum(min_count=1))
    return t(
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


def _unit_fills(gids: Any, inside: Iterable[bool], colors: dict[str, str]) -> list[str]:
    """Each unit's fill: its grid's colour; grey in no grid (lighter outside the prefecture)."""
    return [
        colors[str(gid)]
        if gid is not None and str(gid) in colors
        else UNASSIGNED_COLOR
        if ins
        else "#eeeeee"
        for gid, ins in zip(gids, inside, strict=True)
    ]


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
    if plan.networks:
        unlocated = sum(n.lead_location is None for n in plan.networks)
        lines.append(t("report.grid.networks", lang, n=len(plan.networks), unlocated=unlocated))
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


@dataclass
class _GridKey:
    """The grid legend's columns and rows; ``shown`` entries before the "more" row."""

    cols: int
    col_w: float
    rows: int
    fs: float
    row_h: float
    shown: int


_LEGEND_HEAD_H = 0.32


def _layout(
    canvas: _Canvas, page: _Page, entries: list[LegendEntry], aspect: float
) -> tuple[_Frame, _GridKey]:
    """The legend beside the map in one column when it fits, else in columns below the map."""
    n = len(entries)
    fs = 8.5 if n <= 26 else 7.5 if n <= 48 else 6.5
    row_h = fs * 1.85 / 72
    prop = canvas.fonts.prop(fs)
    label_w = max((canvas.width_of(e.label, prop) for e in entries), default=1.0)
    col_w = _LABEL_DX + label_w + 0.25
    frame = page.beside(aspect, col_w, _LEGEND_HEAD_H + n * row_h)
    if frame is not None:
        return frame, _GridKey(1, col_w, n, fs, row_h, n)
    cols = max(1, min(4, int(page.usable // col_w)))
    rows, shown = math.ceil(n / cols), n
    if rows > _MAX_LEGEND_ROWS:
        rows = _MAX_LEGEND_ROWS
        shown = cols * rows - 1
    frame = page.below(aspect, _LEGEND_HEAD_H + rows * row_h + 0.1)
    return frame, _GridKey(cols, page.usable / cols, rows, fs, row_h, shown)


def _draw_legend(canvas: _Canvas, entries: list[LegendEntry], frame: _Frame, key: _GridKey) -> None:
    """Each grid's swatch and label, column by column; a last row counts the grids left out."""
    lang = canvas.image.lang
    x0, y0 = frame.legend_origin
    canvas.heading(x0, y0, t("report.grid.legend_title", lang), key.fs)
    top = y0 - _LEGEND_HEAD_H
    prop = canvas.fonts.prop(key.fs)
    for k, e in enumerate(entries[: key.shown]):
        col, row = divmod(k, key.rows)
        x = x0 + col * key.col_w
        yc = top - row * key.row_h - key.row_h / 2
        if e.drawn:
            canvas.swatch(x, yc, key.row_h, e.color, "#3a3a3a")
        else:  # in the legend but not on the map: a dashed empty swatch
            canvas.swatch(x, yc, key.row_h, "white", "#888888", linestyle="--")
        canvas.row_label(x, yc, e.label, prop)
    if key.shown < len(entries):
        col, row = divmod(key.shown, key.rows)
        more = t("report.grid.more", lang, n=len(entries) - key.shown)
        yc = top - row * key.row_h - key.row_h / 2
        canvas.row_label(x0 + col * key.col_w, yc, more, prop, color="#555555")
