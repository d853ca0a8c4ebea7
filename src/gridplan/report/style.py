"""Colours, legends and number formats shared by the maps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.i18n import Lang, t
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.population import combine_sources, provenance_label
from gridplan.plan.stats import grid_statistics
from gridplan.plan.units import UnitSet

# --- colours, legend, scale -----------------------------------------------------------------

UNASSIGNED_COLOR = "#d4d4d4"


#: Paul Tol's "muted" qualitative scheme (colour-blind safe), each lightened by a fifth so
#: black labels and outlines stay readable on it.  Ordered so the first colours differ most.
GRID_HUES: tuple[str, ...] = (
    "#d68592",  # rose
    "#5c4ea0",  # indigo
    "#e4d692",  # sand
    "#41925c",  # green
    "#a0d6f1",  # cyan
    "#a04e77",  # wine
    "#69bbad",  # teal
    "#adad5c",  # olive
    "#bb69ad",  # purple
)
#: Two unit polygons closer than this (degrees, about 100 m) make their grids neighbours:
#: boundary layers leave slivers and gaps along shared borders.
NEIGHBOUR_TOLERANCE_DEG = 1e-3


def grid_palette(n: int) -> list[str]:
    """``n`` fill colours (hex): :data:`GRID_HUES` repeated.

    A qualitative palette every colour-blind viewer can tell apart (pairwise
    CIEDE2000 over 11, also under simulated deuteranopia); it has nine colours,
    so a plan with more grids repeats them, and :func:`grid_colors` gives
    neighbouring grids different ones.
    """
    return [GRID_HUES[i % len(GRID_HUES)] for i in range(n)]


def grid_colors(
    plan: GridPlan, unit_set: UnitSet | None = None, assignment: pd.Series | None = None
) -> dict[str, str]:
    """Fill colour of each grid, keyed by grid id, in plan order.

    Without ``unit_set`` the grids take :func:`grid_palette` in plan order.
    With it, neighbouring grids (their units' polygons touch) never share a
    colour: the grid adjacency graph is coloured greedily
    (:func:`dsatur_colouring`), so the screen map and the PNG export agree.
    """
    ids = [g.grid_id for g in plan.grids]
    if unit_set is None:
        return dict(zip(ids, grid_palette(len(ids)), strict=True))
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    neighbours = grid_neighbours(ids, u, assignment)
    colour_of = dsatur_colouring(ids, neighbours, len(GRID_HUES))
    return {gid: GRID_HUES[colour_of[gid]] for gid in ids}


def grid_neighbours(
    grid_ids: Sequence[str], units: pd.DataFrame, assignment: pd.Series
) -> dict[str, set[str]]:
    """Each grid's neighbours: the grids owning a unit whose polygon touches one of its units."""
    has = units["has_geometry"].to_numpy()
    geoms = units.geometry.to_numpy()[has]
    owner = assignment.to_numpy()[has]
    out: dict[str, set[str]] = {g: set() for g in grid_ids}
    if len(geoms) == 0:
        return out
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=NEIGHBOUR_TOLERANCE_DEG)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        a, b = owner[i], owner[j]
        if a != b and not _missing(a) and not _missing(b) and a in out and b in out:
            out[str(a)].add(str(b))
            out[str(b)].add(str(a))
    return out


def dsatur_colouring(
    nodes: Sequence[str], neighbours: dict[str, set[str]], n_colours: int
) -> dict[str, int]:
    """Colour indices (0 … ``n_colours``-1) with neighbours apart, by DSATUR (Brélaz 1979).

    The next node is the one whose neighbours already use the most colours
    (then the one with most neighbours, then the first in ``nodes``); it takes
    the least used colour none of its neighbours has, so the palette is used
    evenly.  Only a node with ``n_colours`` or more coloured neighbours of
    all colours (impossible for grids on a map with nine colours in practice)
    takes the colour least used among them.
    """
    order = {n: i for i, n in enumerate(nodes)}
    colour: dict[str, int] = {}
    used = [0] * n_colours
    while len(colour) < len(nodes):
        node = max(
            (n for n in nodes if n not in colour),
            key=lambda n: (
                len({colour[m] for m in neighbours.get(n, ()) if m in colour}),
                len(neighbours.get(n, ())),
                -order[n],
            ),
        )
        taken = [colour[m] for m in neighbours.get(node, ()) if m in colour]
        free = [c for c in range(n_colours) if c not in taken]
        pool = free or range(n_colours)
        pick = min(pool, key=lambda c: (taken.count(c), used[c], c))
        colour[node] = pick
        used[pick] += 1
    return colour


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
    colors = grid_colors(plan, unit_set, assignment)
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
        name = t("report.grid.unassigned", lang)
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
            label = t("report.grid.legend_empty", lang, name=name)
        elif population is None:
            label = f"{name} {figure}"
        else:
            row = "report.grid.legend_row" if drawn else "report.grid.legend_row_undrawn"
            label = t(row, lang, name=name, figure=figure, prov=prov)
        out.append(LegendEntry(gid, name, population, src, prov, color, label, n, drawn))
    return out


def nice_scale_length(extent_m: float, fraction: float = 0.25) -> float:
    """A round scale-bar length in metres, near ``fraction`` of ``extent_m``.

    The length is 1, 2 or 5 × 10ⁿ metres, whichever is nearest the target
    ``extent_m * fraction`` on a log scale: a 200 km wide map gets a 50 km
    bar, a 120 km one 20 km (target 30 km), a 3 km one 1 km (target 750 m).
    """
    if not math.isfinite(extent_m) or extent_m <= 0:
        raise InputError(
            f"map extent must be a positive length in metres, got {extent_m!r}",
            code="report.extent",
            params={"value": extent_m},
        )
    target = extent_m * fraction
    exp = math.floor(math.log10(target))
    candidates = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in (1.0, 2.0, 5.0)]
    best = min(candidates, key=lambda c: (abs(math.log(c / target)), c))
    return float(f"{best:.6g}")


# --- coverage map (15-minute health-service circle) ----------------------------------------

#: The web map's coverage colours (RGBA of :func:`gridplan.report.webmap.coverage_image`).
COVERAGE_WEB_RGBA: dict[str, tuple[int, int, int, int]] = {
    "covered": (46, 160, 67, 150),
    "uncovered": (214, 39, 40, 170),
}
#: Opacity and "beyond / unreachable" grey of :func:`gridplan.report.webmap.minutes_image`.
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
    from matplotlib.colors import to_hex  # here: the tables and GIS files need no matplotlib

    return to_hex((r, g, b))


def coverage_colors() -> dict[str, str]:
    """Covered / uncovered colours (hex) of the coverage layer, as the web map shows them."""
    return {k: _over_white(v[:3], v[3]) for k, v in COVERAGE_WEB_RGBA.items()}


def coverage_change_colors() -> dict[str, str]:
    """Covered before / newly covered / still uncovered colours (hex) of the siting map."""
    from gridplan.report.webmap import CHANGE_RGBA

    return {k: _over_white(v[:3], v[3]) for k, v in CHANGE_RGBA.items()}


def minutes_colors() -> list[str]:
    """Colours (hex) of the 5-minute classes up to 60 min, then the grey of beyond/unreachable."""
    from gridplan.report.webmap import band_colors, minute_bands

    n = len(minute_bands(MINUTES_VMAX, MINUTES_STEP))
    out = [_over_white(c, MINUTES_WEB_ALPHA) for c in band_colors(n).tolist()]
    return [*out, _over_white(MINUTES_BEYOND_RGB, MINUTES_WEB_ALPHA)]


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))
