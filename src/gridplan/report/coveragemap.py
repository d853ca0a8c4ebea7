"""The 15-minute coverage map as a PNG: coverage or minutes, facilities, legend, footer."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Unpack

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D

from gridplan import __version__
from gridplan._validate import Problems
from gridplan.facilities.table import facility_mask
from gridplan.facilities.types import FACILITY_TYPES, type_label
from gridplan.i18n import Lang, label, t
from gridplan.inputs.crs import transformer
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import dissolve_grids
from gridplan.plan.units import UnitSet
from gridplan.report.draw import (
    _LABEL_DX,
    _SWATCH_W,
    MapImage,
    _boundary_segments,
    _Canvas,
    _drawn_units,
    _Frame,
    _Image,
    _MapView,
    _Page,
    _plan_name,
)
from gridplan.report.fonts import _fonts
from gridplan.report.furniture import _draw_furniture
from gridplan.report.style import (
    _MAX_RASTER_PX,
    FACILITY_STYLES,
    MINUTES_STEP,
    MINUTES_VMAX,
    coverage_colors,
    format_population,
    minutes_colors,
)
from gridplan.report.webmap import minute_bands
from gridplan.surface.ageing import demand_label
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.base import TravelTimes

#: The two layers of the map: coverage within the threshold, or the minutes themselves.
LAYERS: tuple[str, ...] = ("coverage", "minutes")
#: Outlines drawn over the cells, with their legend rows: colour and line width (points).
OUTLINES: dict[str, tuple[str, float]] = {
    "grid": ("#3a3a3a", 1.1),
    "unit": ("#8a8a8a", 0.5),
    "pref": ("#111111", 2.0),
}


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
    minutes_text = _fmt_threshold(threshold_min)
    rows = [
        MapKeyRow(
            t(
                "report.cov.covered",
                lang,
                share=_fmt_share(share),
                pop=format_population(None if math.isnan(covered) else covered, lang),
            ),
            color=colors["covered"],
            key="covered",
        ),
        MapKeyRow(
            t(
                "report.cov.uncovered",
                lang,
                share=_fmt_share(1.0 - share),
                pop=format_population(None if math.isnan(pop - covered) else pop - covered, lang),
            ),
            color=colors["uncovered"],
            key="uncovered",
        ),
        MapKeyRow(t("report.cov.threshold", lang, t=minutes_text), kind="note", key="threshold"),
        MapKeyRow(
            t(
                "report.cov.assessed",
                lang,
                pop=format_population(None if math.isnan(pop) else pop, lang),
            ),
            kind="note",
            key="assessed",
        ),
    ]
    for key in ("mean", "median", "p90"):
        value = summary.get(f"{key}_minutes")
        if value is not None:
            rows.append(
                MapKeyRow(t(f"report.cov.{key}", lang, v=_fmt_minutes(value)), kind="note", key=key)
            )
    unreachable = summary.get("unreachable")
    if unreachable is not None:  # the times above are over the others: said, with how many
        share = float(summary.get("unreachable_share", math.nan))
        rows.append(
            MapKeyRow(
                t("report.cov.unreachable", lang, pop=format_population(unreachable, lang),
                  share=_fmt_share(share)),
                kind="note", key="unreachable",
            )
        )  # fmt: skip
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
        MapKeyRow(
            t("report.cov.band", lang, a=float(b - MINUTES_STEP), b=float(b)),
            color=c,
            key=f"band{k}",
        )
        for k, (b, c) in enumerate(zip(edges, colors, strict=False))
    ]
    rows.append(
        MapKeyRow(t("report.cov.beyond", lang, v=MINUTES_VMAX), color=colors[-1], key="beyond")
    )
    if summary is not None and threshold_min is not None:
        covered = float(summary.get("covered", math.nan))
        rows.append(
            MapKeyRow(
                t(
                    "report.cov.within",
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
                t("report.cov.fac_row", lang, label=type_label(ftype, lang), n=f"{n:,}"),
                kind="marker",
                color=face,
                edge=edge,
                marker=marker,
                size=size,
                key=ftype,
            )
        )
    return rows


def _travel_text(mode: Any, speed: Any, lang: Lang) -> str:
    """The mode and speed of a travel-time model, e.g. ``步行 4.8 km/h``."""
    mode_txt = label("report.mode", str(mode), lang) if mode is not None else ""
    speed_txt = f"{float(speed):g} km/h" if speed is not None else ""
    return " ".join(p for p in (mode_txt, speed_txt) if p)


def _model_text(provenance: dict[str, Any] | None, lang: Lang) -> tuple[str, str]:
    """Model name and other parameters, e.g. ``直线距离 × 绕行系数 1.3`` and ``，步行 4.8 km/h``."""
    if not provenance:
        return t("report.cov.model_unknown", lang), ""
    prov = dict(provenance)
    model = str(prov.pop("model", "") or "")
    name = label("report.model", model, lang) if model else t("report.cov.model_unknown", lang)
    parts: list[str] = []
    detour = prov.pop("detour", None)
    if detour is not None:
        name += f" {float(detour):g}"
    mode = prov.pop("mode", None)
    speed = prov.pop("speed_kmh", None)
    if mode is not None or speed is not None:
        parts.append(_travel_text(mode, speed, lang))
    cutoff = prov.pop("cutoff_min", None)
    if cutoff is not None and math.isfinite(float(cutoff)):
        parts.append(t("report.cov.cutoff", lang, v=float(cutoff)))
    parts += [f"{k}={v}" for k, v in prov.items() if v is not None and v != ""]
    sep = t("sep.comma", lang)
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
    lines = [t("report.map.boundary", lang, crs=surface.grid.crs or unit_set.metric_crs)]
    method = label("surface.method", surface.method, lang)
    lines.append(
        t(
            "report.cov.pop_line",
            lang,
            prov=provenance_label(surface.source, lang),
            method=method,
            cell=f"{surface.grid.cell_m:g}",
        )
    )
    lines.append(t("report.cov.demand_line", lang, demand=demand_label(surface.demand, lang)))
    if facilities is None:
        lines.append(t("report.cov.fac_none", lang))
    else:
        df = _drawable_facilities(facilities)
        counts = df["source"].astype(str).value_counts()
        labels = {s: label("facilities.source", s, lang) for s in counts.index if s != "None"}
        if len(labels) == 1:
            parts = next(iter(labels.values()))
        else:
            parts = t("sep.clause", lang).join(
                t("report.cov.fac_part", lang, label=labels[s], n=f"{int(counts[s]):,}")
                for s in sorted(labels, key=lambda s: (-int(counts[s]), s))
            ) or ("—")
        lines.append(t("report.cov.fac_line", lang, n=f"{len(df):,}", parts=parts))
    model, params = _model_text(provenance, lang)
    lines.append(
        t(
            "report.cov.model_line",
            lang,
            model=model,
            params=params,
            t=_fmt_threshold(threshold_min),
        )
    )
    not_assessed = (summary or {}).get("not_assessed_population")
    if not_assessed is None:
        not_assessed = float(sum(surface.unplaced.values()))
    if surface.unplaced or not_assessed > 0:
        names = dict(
            zip(unit_set.units["unit_id"].astype(str), unit_set.units["name"], strict=True)
        )
        items = [str(names.get(uid, uid)) for uid in surface.unplaced]
        units = t("sep.enum", lang).join(items)
        lead = t("report.cov.not_assessed_units", lang, units=units) if items else ""
        lines.append(
            t(
                "report.cov.not_assessed",
                lang,
                items=lead,
                pop=format_population(not_assessed, lang),
            )
        )
    lines.append(t("report.map.made", lang, version=__version__))
    return lines


def _summary_of(
    surface: PopulationSurface, minutes: np.ndarray, threshold_min: float
) -> dict[str, float]:
    """KPIs over all units, as :func:`gridplan.access.coverage.kpi_tables` computes them."""
    from gridplan.access.coverage import CoverageIndex

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
class _SectionKey:
    """The coverage legend's sections: column width, font size and vertical spacing."""

    col_w: float
    fs: float
    row_h: float
    head_h: float
    gap: float


def _key_layout(
    canvas: _Canvas, page: _Page, sections: list[tuple[str, list[MapKeyRow]]], aspect: float
) -> tuple[_Frame, _SectionKey]:
    """Side legend (map left) when it fits, else the legend sections as columns below the map."""
    fs, head_h, gap = 8.5, 0.3, 0.16
    row_h = fs * 1.85 / 72
    prop, bold = canvas.fonts.prop(fs), canvas.fonts.prop(fs + 1, True)
    widths = [
        max(
            [canvas.width_of(head, bold)]
            + [_LABEL_DX + canvas.width_of(r.label, prop) for r in rows]
        )
        for head, rows in sections
    ]
    col_w = max(widths, default=1.0) + 0.25
    section_h = [head_h + len(rows) * row_h for _, rows in sections]
    stacked_h = sum(section_h) + gap * max(len(sections) - 1, 0)
    frame = page.beside(aspect, col_w, stacked_h)
    if frame is not None:
        return frame, _SectionKey(col_w, fs, row_h, head_h, gap)
    frame = page.below(aspect, max(section_h, default=0.0) + 0.1)
    return frame, _SectionKey(page.usable / max(len(sections), 1), fs, row_h, head_h, gap)


def _draw_key(
    canvas: _Canvas, sections: list[tuple[str, list[MapKeyRow]]], frame: _Frame, key: _SectionKey
) -> None:
    """The legend sections, stacked beside the map or side by side below it."""
    x0, y0 = frame.legend_origin
    prop, note_prop = canvas.fonts.prop(key.fs), canvas.fonts.prop(key.fs - 0.5)
    y = y0
    for i, (head, rows) in enumerate(sections):
        x = x0 if frame.side else x0 + i * key.col_w
        if not frame.side:
            y = y0
        canvas.heading(x, y, head, key.fs)
        y -= key.head_h
        for r in rows:
            yc = y - key.row_h / 2
            _draw_symbol(canvas, x, yc, key.row_h, r)
            if r.kind == "note":
                canvas.row_label(x, yc, r.label, note_prop, color="#555555")
            else:
                canvas.row_label(x, yc, r.label, prop)
            y -= key.row_h
        y -= key.gap


def _draw_symbol(canvas: _Canvas, x: float, yc: float, row_h: float, row: MapKeyRow) -> None:
    """A legend row's symbol: a swatch, a facility marker or a line (notes have none)."""
    fig = canvas.fig
    inch = fig.dpi_scale_trans
    if row.kind == "patch":
        canvas.swatch(x, yc, row_h, row.color, row.edge)
    elif row.kind == "marker":
        fig.add_artist(
            Line2D(
                [x + 0.12],
                [yc],
                transform=inch,
                marker=row.marker,
                markersize=row.size,
                markerfacecolor=row.color,
                markeredgecolor=row.edge,
                markeredgewidth=0.5 if row.size >= 3 else 0.35,
                linestyle="none",
            )
        )
    elif row.kind == "line":
        fig.add_artist(
            Line2D(
                [x, x + _SWATCH_W],
                [yc, yc],
                transform=inch,
                color=row.color,
                linewidth=row.size,
                solid_capstyle="butt",
            )
        )


def _subtitle_parts(
    plan: GridPlan | None,
    provenance: dict[str, Any] | None,
    summary: dict[str, float],
    surface: PopulationSurface,
    minutes_text: str,
    lang: Lang,
) -> dict[str, str]:
    """The subtitle's parts: ``plan`` (方案), ``travel`` (步行 4.8 km/h), ``pop`` (已评估常住人口
    …) and ``share`` (15 分钟覆盖率 …); empty where unknown."""
    prov = provenance or {}
    mode, speed = prov.get("mode"), prov.get("speed_kmh")
    travel = _travel_text(mode, speed, lang)
    pop = float(summary.get("population", math.nan))
    parts = {
        "plan": t(
            "report.cov.sub_plan",
            lang,
            name=_plan_name(plan, lang),
        )
        if plan is not None
        else "",
        "travel": travel,
        "pop": t(
            "report.cov.sub_pop_65plus" if surface.demand == "65plus" else "report.cov.sub_pop",
            lang,
            pop=format_population(None if math.isnan(pop) else pop, lang),
            prov=provenance_label(surface.source, lang),
        ),
        "share": t(
            "report.cov.sub_share",
            lang,
            t=minutes_text,
            share=_fmt_share(summary.get("share", math.nan)),
        ),
    }
    return parts


def _one_line(canvas: _Canvas, parts: dict[str, str], width_in: float) -> str:
    """The subtitle's parts joined by ``·``, shortened to fit ``width_in``: the plan, the
    population and the travel mode are left out in turn, the coverage share never."""
    prop = canvas.fonts.prop(9)
    for drop in ((), ("plan",), ("plan", "pop"), ("plan", "pop", "travel")):
        text = " · ".join(v for k, v in parts.items() if v and k not in drop)
        if canvas.width_of(text, prop) <= width_in:
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
    summary: dict[str, float] | None = None,
    provenance: dict[str, Any] | None = None,
    **image: Unpack[MapImage],
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
    "speed_kmh": 4.8, "detour": 1.3}``).  Same image options (``lang``,
    ``title``, ``dpi``, ``width_in``: :class:`~gridplan.report.draw.MapImage`),
    fonts, scale bar and north arrow as :func:`render_grid_map_png`.

    A grid wider than the drawn map (or than 2,000 cells) is aggregated to
    about the output resolution first: each block takes the class holding
    most of its residents.

    Raises
    ------
    CJKFontMissingError
        When no CJK font is installed (code ``report.no_cjk_font``).
    InputError
        ``report.invalid``, listing every problem: a bad image size (as
        :func:`render_grid_map_png`), an unknown ``layer``
        (``report.coverage_layer``), ``minutes`` not of the grid's shape
        (``report.coverage_shape``) or a threshold that is not a positive
        number of minutes (``report.coverage_threshold``).
    """
    img = _Image(**image)
    lang = img.lang
    minutes = np.asarray(minutes)
    threshold = _checked_inputs(layer, minutes, surface.grid, threshold_min, img)
    fonts = _fonts()
    summary = dict(summary) if summary is not None else _summary_of(surface, minutes, threshold)
    metric = surface.grid.crs
    drawn_m, bounds, aspect = _drawn_units(unit_set, metric)
    fac = _drawable_facilities(facilities)
    sections = _key_sections(layer, summary, threshold, fac, plan is not None, lang)
    footer = coverage_footer_lines(
        unit_set,
        surface,
        facilities=facilities,
        provenance=provenance,
        threshold_min=threshold,
        summary=summary,
        lang=lang,
    )

    canvas = _Canvas.new(fonts, img)
    frame, key = _key_layout(canvas, canvas.page(footer), sections, aspect)
    minutes_text = _fmt_threshold(threshold)
    title = img.title
    if title is None:
        title = t(f"report.cov.title_{layer}", lang, pref=unit_set.prefecture.name, t=minutes_text)
    parts = _subtitle_parts(plan, provenance, summary, surface, minutes_text, lang)
    subtitle = _one_line(canvas, parts, frame.width - 0.7)
    view = canvas.open_map(frame, metric, bounds, title, subtitle)

    # land: white inside the prefecture, light grey outside
    fills = ["#ffffff" if ins else "#eeeeee" for ins in drawn_m["inside_prefecture"]]
    view.draw_units(drawn_m.geometry, fills, edgecolors="none", linewidths=0, zorder=0.5)
    classes, colors = _class_raster(surface, minutes, threshold, layer)
    _draw_cells(view, surface.grid, (classes, colors), surface.population, dpi=img.dpi)
    view.ax.set_xlim(*view.xlim)  # imshow widens the limits to the raster: the map keeps its own
    view.ax.set_ylim(*view.ylim)
    _draw_unit_borders(view.ax, drawn_m)
    grid_geoms = None
    if plan is not None:
        assignment = resolve_assignment(plan, unit_set.units)
        grid_geoms = dissolve_grids(plan, unit_set, assignment).to_crs(metric).geometry
    outline_geoms = view.draw_outlines(grid_geoms, drawn_m)
    sections = _draw_facilities(view, fac, sections)
    _draw_furniture(canvas, view, plan, outline_geoms)
    _draw_key(canvas, sections, frame, key)
    return canvas.png(frame)


def _checked_inputs(
    layer: str, minutes: np.ndarray, grid: CellGrid, threshold_min: Any, image: _Image
) -> float:
    """The threshold in minutes, once the image size, layer, raster and threshold are checked."""
    problems = Problems("report.invalid", "cannot draw the coverage map")
    image.check(problems)
    problems.choice("report.coverage_layer", "layer", layer, LAYERS)
    if minutes.shape != grid.shape:
        problems.add(
            "report.coverage_shape",
            f"minutes has shape {minutes.shape}, the population grid {grid.shape}",
            shape=str(minutes.shape),
            grid=str(grid.shape),
        )
    threshold = problems.number("threshold_min", threshold_min, code="report.coverage_threshold")
    problems.raise_if_any()
    assert threshold is not None  # else a problem was raised
    return threshold


def _key_sections(
    layer: str,
    summary: dict[str, float],
    threshold: float,
    fac: pd.DataFrame,
    with_grids: bool,
    lang: Lang,
) -> list[tuple[str, list[MapKeyRow]]]:
    """The legend: the layer's classes, the facility types, the boundary lines."""
    if layer == "coverage":
        head = t("report.cov.head_coverage", lang, t=_fmt_threshold(threshold))
        sections = [(head, coverage_legend_entries(summary, threshold, lang))]
    else:
        head = t("report.cov.head_minutes", lang)
        sections = [(head, minutes_legend_entries(lang, summary, threshold))]
    fac_rows = facility_legend_entries(fac, lang)
    if fac_rows:
        illustrative = bool((fac["source"].astype(str) == "illustrative").all())
        fac_head = "head_facilities_ill" if illustrative else "head_facilities"
        sections.append((t(f"report.cov.{fac_head}", lang, n=f"{len(fac):,}"), fac_rows))
    shown = [k for k in OUTLINES if with_grids or k != "grid"]
    line_rows = [
        MapKeyRow(
            t(f"report.cov.line_{k}", lang),
            kind="line",
            color=OUTLINES[k][0],
            size=OUTLINES[k][1],
            key=k,
        )
        for k in shown
    ]
    sections.append((t("report.cov.head_lines", lang), line_rows))
    return sections


def _draw_cells(
    view: _MapView,
    grid: CellGrid,
    classes: tuple[np.ndarray, list[str]],
    population: np.ndarray,
    *,
    dpi: int,
) -> None:
    """The populated cells in their class colours (:func:`_class_raster`), aggregated to the
    output resolution when finer (by the ``population`` of each class)."""
    cls, colors = classes
    image_px = (grid.ncols * grid.cell_m / view.scale) * dpi  # drawn width of the grid, pixels
    factor = grid.ncols / max(min(image_px, _MAX_RASTER_PX), 1.0)
    if factor > 1.0:
        cls = _block_classes(cls, population, factor, len(colors))
    else:
        factor = 1.0
    left, top = grid.x0, grid.y0
    right = left + cls.shape[1] * factor * grid.cell_m
    bottom = top - cls.shape[0] * factor * grid.cell_m
    view.ax.imshow(
        _rgba_image(cls, colors),
        extent=(left, right, bottom, top),
        origin="upper",
        interpolation="nearest",
        zorder=1,
    )


def _draw_unit_borders(ax: Axes, drawn_m: Any) -> None:
    ax.add_collection(
        LineCollection(
            [s for g in drawn_m.geometry for s in _boundary_segments(g)],
            colors="#8a8a8a",
            linewidths=0.5,
            zorder=2,
        )
    )


def _draw_facilities(
    view: _MapView, fac: pd.DataFrame, sections: list[tuple[str, list[MapKeyRow]]]
) -> list[tuple[str, list[MapKeyRow]]]:
    """The facilities as symbols per type; the legend with its symbols scaled to match.

    Symbols shrink where facilities crowd (:func:`_marker_scale`), the legend's
    less so that they stay legible.  The largest symbols are drawn first so
    that small ones stay visible on top.
    """
    if not len(fac):
        return sections
    ax, metric, scale = view.ax, view.crs, view.scale
    fx, fy = transformer("EPSG:4326", metric).transform(
        fac["lon"].to_numpy(float), fac["lat"].to_numpy(float)
    )
    xy = np.column_stack([np.asarray(fx, dtype=float), np.asarray(fy, dtype=float)])
    f = _marker_scale(xy, scale)
    types = fac["type"].astype(str).to_numpy()
    for ftype in sorted(set(types), key=lambda ty: -_facility_style(ty)[3]):
        marker, face, edge, size = _facility_style(ftype)
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
    lf = max(f, 0.75)
    return [
        (head, [replace(r, size=r.size * lf) if r.kind == "marker" else r for r in rows])
        for head, rows in sections
    ]


def _facility_style(facility_type: str) -> tuple[str, str, str, float]:
    """Marker, face colour, edge colour and size of a facility type's symbol."""
    return FACILITY_STYLES.get(facility_type, FACILITY_STYLES["其他"])
