"""What the PNG maps share: geometry and text helpers, the image options, the page layout,
the canvas (figure, title, legend rows, footer) and the map view (unit polygons, outlines).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from shapely.geometry.polygon import orient

from gridplan import __version__, settings
from gridplan._validate import Problems
from gridplan.errors import InputError
from gridplan.i18n import Lang
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import UnitSet
from gridplan.report.fonts import _Fonts

#: A map's extent: min x, min y, max x, max y (metres).
_Bounds = tuple[float, float, float, float]

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


#: Page margins, title block height and footer font size (inches, points), both maps.
_MARGIN = 0.35
_TITLE_H = 0.85
_FOOTER_FS = 7.5
#: Legend rows: swatch width and the label's offset from the swatch's left edge (inches).
_SWATCH_W = 0.24
_LABEL_DX = 0.32


class MapImage(TypedDict, total=False):
    """The image options of both PNG maps, all optional keywords.

    ``lang``: ``"zh"`` (default) or ``"en"``, the language of every text;
    ``title``: the title on top (default: the map's own); ``dpi``: dots per
    inch (default 150); ``width_in``: the width in inches (default 10, at
    least 6); the height follows the map and its legend.
    """

    lang: Lang
    title: str | None
    dpi: int
    width_in: float


@dataclass(frozen=True)
class _Image:
    """:class:`MapImage` with its defaults."""

    lang: Lang = "zh"
    title: str | None = None
    dpi: int = 150
    width_in: float = 10

    def check(self, problems: Problems) -> None:
        """The image-size problems: ``report.image_size`` and ``report.map_width``."""
        dpi, width_in = self.dpi, self.width_in
        if dpi <= 0 or width_in <= 0 or width_in * dpi > 12_000:
            problems.add(
                "report.image_size",
                f"bad image size: width_in={width_in!r}, dpi={dpi!r}",
                width_in=width_in,
                dpi=dpi,
            )
        elif width_in < 6:
            problems.add(
                "report.map_width",
                f"width_in must be at least 6 inches for a legible map, got {width_in!r}",
                width_in=width_in,
            )


@dataclass
class _Frame:
    """Where the parts of a map go on the page, in inches from its lower left corner."""

    width: float
    height: float
    map_box: tuple[float, float, float, float]  # x, y, w, h
    legend_origin: tuple[float, float]  # top-left of the legend block
    side: bool  # legend beside the map, else below it
    footer_lines: list[str]
    footer_fs: float
    title_y: float


@dataclass
class _Page:
    """What both maps' layouts start from: the usable width and the wrapped footer."""

    width: float
    usable: float
    footer_lines: list[str]
    footer_h: float
    max_map_h: float

    def beside(self, aspect: float, col_w: float, legend_h: float) -> _Frame | None:
        """The map on the left, the legend (``col_w`` wide) on its right; None if it does not
        fit."""
        map_w = self.usable - col_w - 0.2
        if map_w < 0.55 * self.usable:
            return None
        map_h = max(min(map_w * aspect, self.max_map_h), 0.5 * map_w)
        if legend_h > max(map_h, 0.9 * self.max_map_h):
            return None
        body_h = max(map_h, legend_h)
        height = _TITLE_H + body_h + self.footer_h + 0.15
        return _Frame(
            width=self.width,
            height=height,
            map_box=(_MARGIN, self.footer_h + 0.15 + (body_h - map_h), map_w, map_h),
            legend_origin=(_MARGIN + map_w + 0.25, height - _TITLE_H),
            side=True,
            footer_lines=self.footer_lines,
            footer_fs=_FOOTER_FS,
            title_y=height - 0.25,
        )

    def below(self, aspect: float, legend_h: float) -> _Frame:
        """The map across the page, the legend (``legend_h`` high) below it."""
        map_h = min(self.usable * aspect, self.max_map_h * 0.8)
        height = _TITLE_H + map_h + 0.2 + legend_h + self.footer_h
        map_y = self.footer_h + legend_h + 0.2
        return _Frame(
            width=self.width,
            height=height,
            map_box=(_MARGIN, map_y, self.usable, map_h),
            legend_origin=(_MARGIN, map_y - 0.15),
            side=False,
            footer_lines=self.footer_lines,
            footer_fs=_FOOTER_FS,
            title_y=height - 0.25,
        )


def _padded_bounds(drawn_m: Any) -> _Bounds:
    """Bounds of the drawn units, padded by 4 % of the longer side."""
    if len(drawn_m) == 0:
        raise InputError(
            "no unit of this prefecture has a polygon to draw", code="report.nothing_to_draw"
        )
    minx, miny, maxx, maxy = (float(v) for v in drawn_m.total_bounds)
    pad = 0.04 * max(maxx - minx, maxy - miny)
    return minx - pad, miny - pad, maxx + pad, maxy + pad


def _map_axes(
    fig: Figure, frame: _Frame, bounds: _Bounds
) -> tuple[Axes, float, tuple[float, float], tuple[float, float]]:
    """The map axes in ``frame.map_box``, limits filling the box at equal aspect.

    Returns the axes, the scale (metres per inch) and the x and y limits.
    """
    minx, miny, maxx, maxy = bounds
    W, H = frame.width, frame.height  # noqa: N806
    bx, by, bw, bh = frame.map_box
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


@dataclass
class _MapView:
    """The map's axes in a metric CRS: where they sit on the page, metres per inch, limits."""

    ax: Axes
    frame: _Frame
    crs: str
    scale: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def draw_units(
        self,
        geoms: Iterable[Any],
        fills: Iterable[str],
        *,
        edgecolors: str,
        linewidths: float,
        zorder: float,
    ) -> None:
        """The unit polygons, each filled with its colour."""
        patches, colors = [], []
        for geom, fill in zip(geoms, fills, strict=True):
            path = _to_path(geom)
            if path is not None:
                patches.append(PathPatch(path))
                colors.append(fill)
        self.ax.add_collection(
            PatchCollection(
                patches,
                facecolors=colors,
                edgecolors=edgecolors,
                linewidths=linewidths,
                zorder=zorder,
            )
        )

    def draw_outlines(self, grid_geoms: Iterable[Any] | None, drawn_m: Any) -> list[Any]:
        """The grids' outlines (if given) and the prefecture's; the grid outlines, for the
        labels.

        Outlines are closed morphologically first: the borders of simplified
        boundary data leave slivers inside a union.
        """
        tol = settings.adjacency_tolerance_m / 2
        outline_geoms: list[Any] = []
        if grid_geoms is not None:
            outline_geoms = [_close_gaps(g, tol) for g in grid_geoms]
            _draw_grid_outlines(self.ax, outline_geoms)
        _draw_prefecture_outline(self.ax, drawn_m, tol)
        return outline_geoms


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


@dataclass
class _Canvas:
    """One PNG map being drawn: its figure, the renderer that measures text, fonts, options.

    The page parts common to both maps are its methods: the page layout
    (:meth:`page`), the title and map axes (:meth:`open_map`), the legend rows
    (:meth:`heading`, :meth:`swatch`, :meth:`row_label`), and the footer with
    the encoded image (:meth:`png`).
    """

    fig: Figure
    renderer: RendererAgg
    fonts: _Fonts
    image: _Image

    @classmethod
    def new(cls, fonts: _Fonts, image: _Image) -> _Canvas:
        """A square figure ``image.width_in`` wide (resized once the layout is known)."""
        fig = Figure(figsize=(image.width_in, image.width_in), dpi=image.dpi, facecolor="white")
        return cls(fig, FigureCanvasAgg(fig).get_renderer(), fonts, image)

    def width_of(self, text: str, prop: FontProperties) -> float:
        """The width of ``text`` in inches."""
        return _text_width_in(self.renderer, text, prop, float(self.image.dpi))

    def page(self, footer: list[str]) -> _Page:
        """The page of the image's width, with ``footer`` wrapped to it."""
        width = self.image.width_in
        usable = width - 2 * _MARGIN
        prop = self.fonts.prop(_FOOTER_FS)
        dpi = float(self.image.dpi)
        lines = [ln for line in footer for ln in _wrap(self.renderer, line, prop, dpi, usable)]
        footer_h = 0.3 + len(lines) * _FOOTER_FS * 1.55 / 72
        return _Page(width, usable, lines, footer_h, 1.25 * width)

    def open_map(
        self, frame: _Frame, crs: str, bounds: _Bounds, title: str, subtitle: str
    ) -> _MapView:
        """The figure sized to ``frame``, the title and subtitle drawn, and the map's axes."""
        self.fig.set_size_inches(frame.width, frame.height)
        self._draw_title(frame, title, subtitle)
        ax, scale, xlim, ylim = _map_axes(self.fig, frame, bounds)
        return _MapView(ax, frame, crs, scale, xlim, ylim)

    def _draw_title(self, frame: _Frame, title: str, subtitle: str) -> None:
        inch = self.fig.dpi_scale_trans
        self.fig.text(
            0.35,
            frame.title_y,
            title,
            transform=inch,
            fontproperties=self.fonts.prop(15, True),
            va="top",
            ha="left",
            color="#1a1a1a",
            parse_math=False,
        )
        self.fig.text(
            0.35,
            frame.title_y - 0.36,
            subtitle,
            transform=inch,
            fontproperties=self.fonts.prop(9),
            va="top",
            ha="left",
            color="#555555",
            parse_math=False,
        )

    def heading(self, x: float, y: float, text: str, fs: float) -> None:
        """A legend heading in bold, its top at ``y`` (inches)."""
        self.fig.text(
            x,
            y,
            text,
            transform=self.fig.dpi_scale_trans,
            fontproperties=self.fonts.prop(fs + 1, True),
            va="top",
            ha="left",
            color="#1a1a1a",
            parse_math=False,
        )

    def swatch(
        self, x: float, yc: float, row_h: float, face: str, edge: str, linestyle: str = "-"
    ) -> None:
        """A legend row's colour swatch, centred on ``yc``."""
        sw_h = row_h * 0.62
        self.fig.add_artist(
            Rectangle(
                (x, yc - sw_h / 2),
                _SWATCH_W,
                sw_h,
                transform=self.fig.dpi_scale_trans,
                facecolor=face,
                edgecolor=edge,
                linewidth=0.6,
                linestyle=linestyle,
            )
        )

    def row_label(
        self, x: float, yc: float, text: str, prop: FontProperties, color: str = "#1a1a1a"
    ) -> None:
        """A legend row's text, right of the symbol of the row starting at ``x``."""
        self.fig.text(
            x + _LABEL_DX,
            yc,
            text,
            transform=self.fig.dpi_scale_trans,
            fontproperties=prop,
            va="center",
            ha="left",
            color=color,
            parse_math=False,
        )

    def png(self, frame: _Frame) -> bytes:
        """The footer drawn, then the image as PNG bytes."""
        self._draw_footer(frame)
        buf = io.BytesIO()
        self.fig.savefig(
            buf,
            format="png",
            dpi=self.image.dpi,
            facecolor="white",
            metadata={"Software": f"GridPlan {__version__} (matplotlib)"},
        )
        return buf.getvalue()

    def _draw_footer(self, frame: _Frame) -> None:
        fy = 0.22 + (len(frame.footer_lines) - 1) * frame.footer_fs * 1.55 / 72
        for line in frame.footer_lines:
            self.fig.text(
                0.35,
                fy,
                line,
                transform=self.fig.dpi_scale_trans,
                fontproperties=self.fonts.prop(frame.footer_fs),
                va="bottom",
                ha="left",
                color="#444444",
                parse_math=False,
            )
            fy -= frame.footer_fs * 1.55 / 72


# --- the map body --------------------------------------------------------------------------


def _plan_name(plan: GridPlan, lang: Lang) -> str:
    return plan.name.get(lang) or plan.name.get("zh") or plan.plan_id


def _drawn_units(unit_set: UnitSet, crs: str) -> tuple[Any, _Bounds, float]:
    """The units with a polygon in ``crs``, the padded map bounds and their aspect (h / w)."""
    u = unit_set.units
    drawn_m = u[u["has_geometry"].to_numpy()].to_crs(crs)
    bounds = _padded_bounds(drawn_m)
    minx, miny, maxx, maxy = bounds
    return drawn_m, bounds, (maxy - miny) / (maxx - minx)
