"""Unit and grid boundaries as straight segments, each shared boundary once, for web maps.

A web map that draws units or grids as polygon outlines draws every shared boundary
twice (once per neighbour) with deck.gl's path shader, whose per-vertex work is heavy;
in a software-rendered browser (no GPU, as in a meeting room's virtual machine) the
grid map's two outline layers (7,300 vertices each on Shijiazhuang) took about a second
each to draw.  The same lines as unique two-point segments cost a fraction of it with
the far simpler line shader.

The units' boundaries are found once per unit set (:func:`unit_borders`), each segment
with the units on its two sides; a plan then only picks the segments between two grids
(:func:`grid_border_mask`), so an edit needs no polygon union.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gridplan._types import BoolArray, FloatArray, IntArray
from gridplan.inputs.crs import project_geoms, transformer
from gridplan.plan.units import UnitSet

#: A boundary line belongs to the units within this distance (metres) of its midpoint:
#: the two units it separates, or one on the prefecture's edge.
SIDE_TOLERANCE_M = 1.0
#: The side of a boundary with no unit (the prefecture's edge, a gap between units).
OUTSIDE = -1


@dataclass(frozen=True)
class UnitBorders:
    """Every unit boundary once, as straight segments with the units on either side.

    Attributes
    ----------
    segments
        ``(n, 4)`` rows of lon0, lat0, lon1, lat1 (WGS-84).
    sides
        ``(n, 2)`` row positions in ``unit_set.units`` of the units the segment
        separates; :data:`OUTSIDE` where there is no unit on that side.
    """

    segments: FloatArray
    sides: IntArray


def unit_borders(
    unit_set: UnitSet, tolerance_m: float = 30.0, grid_size_deg: float = 1e-5
) -> UnitBorders:
    """The boundaries of the units that have a polygon, each shared boundary once.

    Parameters
    ----------
    unit_set
        The units with their polygons (``has_geometry`` marks those that have one).
    tolerance_m
        Simplification in the metric CRS, line by line between the points where three
        units meet, so neighbouring units keep one common line (the same tolerance as
        the units' display geometry).
    grid_size_deg
        Coordinates are snapped to this grid in degrees (1e-5° is about 1 m).
    """
    u = unit_set.units
    rows = np.flatnonzero(u["has_geometry"].to_numpy(dtype=bool))
    if not len(rows):
        return UnitBorders(np.empty((0, 4)), np.empty((0, 2), dtype=np.int64))
    polys = project_geoms(u.geometry.to_numpy()[rows], u.crs, unit_set.metric_crs)
    # the union of the boundaries nodes them: a line shared by two units is kept once
    merged = shapely.line_merge(shapely.union_all(shapely.boundary(polys)))
    parts = shapely.get_parts(merged)
    sides = _sides_of(parts, polys)
    sides = np.where(sides == OUTSIDE, OUTSIDE, rows[np.maximum(sides, 0)])
    simple = shapely.simplify(parts, tolerance_m, preserve_topology=True)
    segments, part = _segments_lonlat(simple, unit_set.metric_crs, grid_size_deg)
    return UnitBorders(segments, sides[part])


def _sides_of(parts: np.ndarray, polys: np.ndarray) -> IntArray:
    """The (up to) two polygons nearest each line's midpoint, within :data:`SIDE_TOLERANCE_M`."""
    mid = shapely.line_interpolate_point(parts, 0.5, normalized=True)
    line, poly = shapely.STRtree(polys).query(mid, predicate="dwithin", distance=SIDE_TOLERANCE_M)
    order = np.lexsort((shapely.distance(mid[line], polys[poly]), line))
    line, poly = line[order], poly[order]
    starts = np.r_[True, line[1:] != line[:-1]]
    rank = np.arange(len(line)) - np.maximum.accumulate(np.where(starts, np.arange(len(line)), 0))
    out = np.full((len(parts), 2), OUTSIDE, dtype=np.int64)
    near = rank < 2
    out[line[near], rank[near]] = poly[near]
    return out


def grid_border_mask(borders: UnitBorders, assignment: pd.Series) -> BoolArray:
    """Which of ``borders`` lie between two grids, or between a grid and no grid.

    ``assignment`` holds each unit's grid id, aligned with the units (NaN: no grid).
    A boundary between two units of one grid, or between two units without a grid,
    is not a grid boundary.
    """
    codes, _ = pd.factorize(assignment, use_na_sentinel=True)
    grid = np.append(codes, -1)  # position OUTSIDE (-1) reads this last entry: no grid
    a, b = grid[borders.sides[:, 0]], grid[borders.sides[:, 1]]
    return (a != b) & ((a >= 0) | (b >= 0))


def grid_boundary_segments(
    unit_set: UnitSet,
    assignment: pd.Series,
    tolerance_m: float = 30.0,
    grid_size_deg: float = 1e-5,
) -> FloatArray:
    """Unique boundary segments of the grids, ``(n, 4)`` rows of lon0, lat0, lon1, lat1.

    Units without a grid (NaN in ``assignment``, aligned with ``unit_set.units``) are
    left out; see :func:`unit_borders` for the parameters.
    """
    borders = unit_borders(unit_set, tolerance_m, grid_size_deg)
    return borders.segments[grid_border_mask(borders, assignment)]


def _segments_lonlat(
    lines: np.ndarray, crs: str, grid_size_deg: float
) -> tuple[FloatArray, IntArray]:
    """Consecutive vertex pairs of each line in lon/lat (zero-length dropped), and the
    index of the line each came from."""
    xy, line = shapely.get_coordinates(lines, return_index=True)
    same = line[:-1] == line[1:]  # a segment joins two vertices of one line
    seg = np.hstack([xy[:-1][same], xy[1:][same]])
    of = line[:-1][same]
    if not len(seg):
        return np.empty((0, 4)), np.empty(0, dtype=np.int64)
    to_lonlat = transformer(crs, 4326)
    lon0, lat0 = to_lonlat.transform(seg[:, 0], seg[:, 1])
    lon1, lat1 = to_lonlat.transform(seg[:, 2], seg[:, 3])
    out = np.round(np.column_stack([lon0, lat0, lon1, lat1]) / grid_size_deg) * grid_size_deg
    keep = (out[:, 0] != out[:, 2]) | (out[:, 1] != out[:, 3])
    return out[keep], of[keep]
