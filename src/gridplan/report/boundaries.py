"""The grid boundaries of a plan as straight segments, each drawn once, for web maps.

A web map that draws the grids as polygon outlines draws every shared boundary twice
(once per neighbour) with deck.gl's path shader, whose per-vertex work is heavy; in a
software-rendered browser (no GPU, as in a meeting room's virtual machine) that redraw
took a few hundred milliseconds every time the map changed.  The same lines as unique
two-point segments cost a fraction of it with the far simpler line shader.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridplan._types import FloatArray
from gridplan.plan.units import UnitSet


def grid_boundary_segments(
    unit_set: UnitSet,
    assignment: pd.Series,
    tolerance_m: float = 30.0,
    grid_size_deg: float = 1e-5,
) -> FloatArray:
    """Unique boundary segments of the grids, ``(n, 4)`` rows of lon0, lat0, lon1, lat1.

    Parameters
    ----------
    unit_set
        The units with their polygons (``has_geometry`` marks those that have one).
    assignment
        The grid id of each unit, aligned with ``unit_set.units``; units without a grid
        (NaN) are left out.
    tolerance_m
        Simplification in the metric CRS, after the boundaries are merged into lines, so
        that two neighbouring grids keep one common line (the same tolerance as the units'
        display geometry).
    grid_size_deg
        Coordinates are snapped to this grid in degrees (1e-5° is about 1 m).

    Returns
    -------
    numpy.ndarray
        One row per straight segment, each shared boundary once.
    """
    u = unit_set.units
    keep = u["has_geometry"].to_numpy(dtype=bool) & assignment.notna().to_numpy()
    if not keep.any():
        return np.empty((0, 4))
    metric = u.geometry.to_crs(unit_set.metric_crs).to_numpy()[keep]
    groups = pd.Series(assignment.to_numpy()[keep]).astype(str)
    grids = [shapely.union_all(metric[idx]) for idx in groups.groupby(groups).indices.values()]
    # the union of the boundaries nodes them: a line shared by two grids is kept once
    lines = shapely.line_merge(shapely.union_all(shapely.boundary(np.asarray(grids))))
    simple = shapely.simplify(lines, tolerance_m, preserve_topology=True)
    return _segments_lonlat(simple, unit_set.metric_crs, grid_size_deg)


def _segments_lonlat(lines: shapely.Geometry, crs: str, grid_size_deg: float) -> FloatArray:
    """Consecutive vertex pairs of every part of ``lines``, in lon/lat, zero-length dropped."""
    from gridplan.inputs.crs import transformer

    rows = []
    for part in shapely.get_parts(lines):
        xy = shapely.get_coordinates(part)
        if len(xy) >= 2:
            rows.append(np.hstack([xy[:-1], xy[1:]]))
    if not rows:
        return np.empty((0, 4))
    seg = np.vstack(rows)
    to_lonlat = transformer(crs, 4326)
    lon0, lat0 = to_lonlat.transform(seg[:, 0], seg[:, 1])
    lon1, lat1 = to_lonlat.transform(seg[:, 2], seg[:, 3])
    out = np.round(np.column_stack([lon0, lat0, lon1, lat1]) / grid_size_deg) * grid_size_deg
    return out[(out[:, 0] != out[:, 2]) | (out[:, 1] != out[:, 3])]
