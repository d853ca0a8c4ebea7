"""The straight-line travel-time model: distance × detour at a speed per mode."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray, XYArray
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimes
from gridplan.travel.nearest import nearest_on_grid
from gridplan.travel.pairs import CHUNK_PAIRS, Pairs, sort_pairs
from gridplan.travel.speeds import (
    DEFAULT_DETOUR,
    MODE_SPEEDS_KMH,
    metres_per_minute,
    minutes_per_metre,
)


@dataclass
class StraightLineModel:
    """Straight line × detour factor at a constant speed.

    The nearest facility is found once
    (:func:`~gridplan.travel.nearest.nearest_on_grid`); the minutes are the
    distance scaled by ``detour / speed``, so changing speed or detour only
    rescales (:meth:`rescale`).
    """

    speed_kmh: float = MODE_SPEEDS_KMH["walk"]
    detour: float = DEFAULT_DETOUR
    name: str = "straight"

    def __post_init__(self) -> None:
        minutes_per_metre(self.speed_kmh, self.detour)  # raises traveltime.invalid

    @property
    def minutes_per_metre(self) -> float:
        return self.detour / metres_per_minute(self.speed_kmh)

    def distances(
        self, grid: CellGrid, mask: BoolArray, facilities_xy: XYArray
    ) -> tuple[Float32Array, Int32Array]:
        """Straight-line metres from each masked cell centre to its nearest facility.

        :func:`~gridplan.travel.nearest.nearest_on_grid`: the distances a k-d
        tree gives, bit for bit; of facilities equally near, the lowest index.
        """
        return nearest_on_grid(grid, mask, facilities_xy)

    def travel_times(self, grid: CellGrid, mask: BoolArray, facilities_xy: XYArray) -> TravelTimes:
        dist, nearest = self.distances(grid, mask, facilities_xy)
        return self.from_distances(grid, dist, nearest)

    def pairs(
        self, grid: CellGrid, points_xy: XYArray, facilities_xy: XYArray, max_minutes: float
    ) -> Pairs:
        """Minutes from every point to every facility within ``max_minutes``.

        :func:`straight_pairs`; ``grid``'s cell size bounds the points per
        facility (points no closer together than cells).
        """
        pairs = straight_pairs(
            points_xy, facilities_xy, self.minutes_per_metre, max_minutes, spacing_m=grid.cell_m
        )
        pairs.params.update(speed_kmh=self.speed_kmh, detour=self.detour)
        return pairs

    def from_distances(
        self, grid: CellGrid, dist: Float32Array, nearest: Int32Array
    ) -> TravelTimes:
        minutes = (dist * np.float32(self.minutes_per_metre)).astype(np.float32, copy=False)
        return TravelTimes(
            grid=grid,
            minutes=minutes,
            nearest=nearest,
            model=self.name,
            params={"speed_kmh": self.speed_kmh, "detour": self.detour},
        )


#: Most facilities per k-d tree query chunk (their local index sorts as int16).
_MAX_CHUNK_FACILITIES = 2**15 - 1


def straight_pairs(
    points_xy: XYArray,
    facilities_xy: XYArray,
    minutes_per_metre: float,
    max_minutes: float,
    *,
    spacing_m: float | None = None,
) -> Pairs:
    """Straight-line minutes of every (point, facility) pair within ``max_minutes``.

    The arithmetic of :meth:`StraightLineModel.travel_times`: the ``float32``
    distance times the ``float32`` minutes per metre, kept when at most
    ``float32(max_minutes)``.  Pairs within a radius come from
    ``cKDTree.sparse_distance_matrix`` (a tree of the points against a tree
    of each chunk of facilities; every pair when ``max_minutes`` is
    infinite).  ``spacing_m``, the least distance between points (a grid's
    cell size), bounds the pairs per facility and so the chunks; default: the
    mean spacing of the points.
    """
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    xy = np.asarray(facilities_xy, dtype=np.float64).reshape(-1, 2)
    radius = max_minutes / minutes_per_metre
    params: dict[str, Any] = {"radius_m": radius}
    if len(pts) == 0 or len(xy) == 0:
        return Pairs.concat([], len(pts), len(xy), max_minutes, params=params)
    from scipy.spatial import cKDTree  # only here: a coverage run needs no SciPy

    tree = cKDTree(pts)
    chunk = _facilities_per_chunk(pts, radius, spacing_m)
    # slightly wider than exact: the float32 minutes decide (≤ max_minutes)
    query_r = radius * (1 + 1e-6) + 1e-6
    mpm32 = np.float32(minutes_per_metre)
    limit = np.float32(max_minutes)
    parts = []
    for start in range(0, len(xy), chunk):
        part = xy[start : start + chunk]
        if math.isinf(radius):
            j, i, dist = _all_distances(pts, part)
        else:
            sdm = cKDTree(part).sparse_distance_matrix(tree, query_r, output_type="ndarray")
            i, j, dist = sdm["i"], sdm["j"], sdm["v"]
            del sdm
        mins = dist.astype(np.float32) * mpm32
        keep = mins <= limit
        point, fac, mins = sort_pairs(j[keep], i[keep], mins[keep], len(part))
        parts.append((point, (fac + start).astype(np.int32), mins))
    return Pairs.concat(parts, len(pts), len(xy), max_minutes, params=params)


def _facilities_per_chunk(pts: FloatArray, radius: float, spacing_m: float | None) -> int:
    """Facilities per chunk so that a chunk yields about :data:`CHUNK_PAIRS` pairs at most."""
    if spacing_m is None:
        extent = np.ptp(pts, axis=0) if len(pts) > 1 else np.zeros(2)
        spacing_m = math.sqrt(max(float(extent[0] * extent[1]), 1.0) / len(pts))
    per_facility = float(len(pts))
    if math.isfinite(radius):
        per_facility = min(per_facility, math.pi * (radius / spacing_m + 1) ** 2)
    return min(_MAX_CHUNK_FACILITIES, max(1, int(CHUNK_PAIRS // max(per_facility, 1.0))))


def _all_distances(pts: FloatArray, part: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Every (point, facility) index and distance of a chunk of facilities."""
    dx = pts[:, None, 0] - part[None, :, 0]
    dy = pts[:, None, 1] - part[None, :, 1]
    dist = np.sqrt(dx * dx + dy * dy).ravel()
    j, i = np.divmod(np.arange(dist.size, dtype=np.int64), len(part))
    return j, i, dist
