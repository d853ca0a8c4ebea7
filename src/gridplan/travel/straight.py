"""The straight-line travel-time model: distance × detour at a speed per mode."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimes, check_detour, speed_m_per_min
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH


@dataclass
class StraightLineModel:
    """Straight line × detour factor at a constant speed.

    The nearest facility is found once with a k-d tree; the minutes are the
    distance scaled by ``detour / speed``, so changing speed or detour only
    rescales (:meth:`rescale`).
    """

    speed_kmh: float = MODE_SPEEDS_KMH["walk"]
    detour: float = DEFAULT_DETOUR
    name: str = "straight"

    def __post_init__(self) -> None:
        speed_m_per_min(self.speed_kmh)
        check_detour(self.detour)

    @property
    def minutes_per_metre(self) -> float:
        return self.detour / speed_m_per_min(self.speed_kmh)

    def distances(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> tuple[NDArray[np.float32], NDArray[np.int32]]:
        """Straight-line metres from each masked cell centre to its nearest facility."""
        dist = np.full(grid.shape, np.inf, dtype=np.float32)
        nearest = np.full(grid.shape, -1, dtype=np.int32)
        xy = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
        if len(xy) == 0:
            return dist, nearest
        rows, cols = np.nonzero(mask)
        x, y = grid.centres(rows, cols)
        d, i = cKDTree(xy).query(np.column_stack([x, y]), k=1, workers=-1)
        dist[rows, cols] = d
        nearest[rows, cols] = i
        return dist, nearest

    def travel_times(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> TravelTimes:
        dist, nearest = self.distances(grid, mask, facilities_xy)
        return self.from_distances(grid, dist, nearest)

    def from_distances(
        self, grid: CellGrid, dist: NDArray[np.float32], nearest: NDArray[np.int32]
    ) -> TravelTimes:
        minutes = (dist * np.float32(self.minutes_per_metre)).astype(np.float32)
        return TravelTimes(
            grid=grid,
            minutes=minutes,
            nearest=nearest,
            model=self.name,
            params={"speed_kmh": self.speed_kmh, "detour": self.detour},
        )
