"""The raster travel-time model (AccessMod style) behind the common interface."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gridplan._validate import positive
from gridplan.errors import InputError
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimes
from gridplan.travel.costdistance import cost_distance
from gridplan.travel.friction import (
    ENGINES,
    TOBLER_RULES,
    Engine,
    ToblerRule,
    _Problems,
    speed_surface,
)
from gridplan.travel.speeds import MODES, OFFROAD_SPEEDS_KMH, Mode

if TYPE_CHECKING:
    import geopandas as gpd

# --- the model ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RasterModel:
    """AccessMod-style travel time over a friction raster (``raster`` model).

    Parameters mirror :func:`speed_surface` (``speed_kmh`` is its
    ``base_speed_kmh``: the off-road speed where no land cover is given) and
    :func:`cost_distance` (``cutoff_min``, ``engine``).  Arrays must be on the
    grid passed to :meth:`travel_times`.  The speed surface is built once per
    grid and cached; the model is frozen so the cache cannot go stale.

    Facilities are snapped to the cell holding them.  Facilities outside the
    grid, and (as AccessMod does) facilities on a barrier cell, are left out
    and listed in ``params``; ``nearest`` keeps the indices of the input (of
    two facilities in one cell, the first).  Every problem with the inputs
    (layers, mask, facilities) is reported in one ``InputError``.
    """

    mode: Mode = "walk"
    speed_kmh: float | None = None
    landcover: NDArray[np.integer] | None = None
    landcover_speeds: Mapping[int, float] | None = None
    roads: gpd.GeoDataFrame | None = None
    road_speeds: Mapping[str, float] | None = None
    dem: NDArray[np.floating] | None = None
    cutoff_min: float = 60.0
    tobler: ToblerRule = "round_trip"
    engine: Engine = "buckets"
    name: str = "raster"
    _speed_cache: dict[CellGrid, NDArray[np.float32]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        problems = _Problems()
        problems.choice("costdistance.mode", "mode", self.mode, MODES)
        problems.choice("costdistance.tobler", "tobler", self.tobler, TOBLER_RULES)
        problems.choice("costdistance.engine", "engine", self.engine, ENGINES)
        problems.cutoff(self.cutoff_min)
        if self.speed_kmh is not None and not positive(self.speed_kmh):
            problems.add(
                "costdistance.base_speed",
                f"speed must be a positive number of km/h, got {self.speed_kmh!r}",
                speed=self.speed_kmh,
            )
        problems.raise_if_any()

    def speed_surface(self, grid: CellGrid) -> NDArray[np.float32]:
        """The model's speed (km/h) per cell of ``grid`` (cached)."""
        speed = self._speed_cache.get(grid)
        if speed is None:
            speed = speed_surface(
                grid,
                mode=self.mode,
                landcover=self.landcover,
                landcover_speeds=self.landcover_speeds,
                roads=self.roads,
                road_speeds=self.road_speeds,
                dem=self.dem,
                base_speed_kmh=self.speed_kmh,
                tobler=self.tobler,
            )
            self._speed_cache[grid] = speed
        return speed

    def travel_times(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> TravelTimes:
        """Minutes from each masked cell to its nearest facility (``inf`` beyond the cutoff).

        Travel may cross any passable cell; ``mask`` only selects the cells
        answered (the others are ``inf`` / -1).
        """
        problems = _Problems()
        problems.shape("mask", mask, grid.shape)
        xy = np.asarray(facilities_xy, dtype=np.float64)
        if xy.size == 0:
            xy = xy.reshape(0, 2)
        if xy.ndim != 2 or xy.shape[1] != 2:
            problems.add(
                "costdistance.facilities_shape",
                f"facilities must be (x, y) pairs, got shape {xy.shape}",
                shape=tuple(xy.shape),
            )
        speed: NDArray[np.float32] | None = None
        try:
            speed = self.speed_surface(grid)
        except InputError as err:
            problems.merge(err)
        if xy.ndim != 2 or xy.shape[1] != 2:
            problems.raise_if_any()

        rows, cols, inside = grid.cell_of(xy[:, 0], xy[:, 1])
        inside &= np.isfinite(xy).all(axis=1)
        on_barrier = np.zeros(len(xy), dtype=bool)
        if speed is not None:
            on_barrier[inside] = speed[rows[inside], cols[inside]] <= 0
        used = np.flatnonzero(inside & ~on_barrier)
        if len(used) == 0:
            problems.add(
                "costdistance.no_facility",
                f"no facility on a passable cell of the grid ({len(xy)} given, "
                f"{int((~inside).sum())} outside the grid, {int(on_barrier.sum())} on a barrier)",
                n=len(xy),
                outside=int((~inside).sum()),
                on_barrier=int(on_barrier.sum()),
            )
        problems.raise_if_any()
        assert speed is not None

        result = cost_distance(
            speed,
            grid.cell_m,
            np.column_stack([rows[used], cols[used]]),
            self.cutoff_min,
            engine=self.engine,
        )
        minutes = result.minutes
        nearest = np.where(result.nearest >= 0, used[np.clip(result.nearest, 0, None)], -1)
        m = np.asarray(mask, dtype=bool)
        minutes[~m] = np.inf
        nearest[~m] = -1
        return TravelTimes(
            grid=grid,
            minutes=minutes,
            nearest=nearest.astype(np.int32),
            model=self.name,
            params={
                "mode": self.mode,
                "engine": result.engine,
                "cutoff_min": self.cutoff_min,
                "tobler": self.tobler if self.dem is not None else None,
                "layers": [
                    name
                    for name, layer in (
                        ("landcover", self.landcover),
                        ("roads", self.roads),
                        ("dem", self.dem),
                    )
                    if layer is not None
                ],
                "base_speed_kmh": (
                    OFFROAD_SPEEDS_KMH[self.mode] if self.speed_kmh is None else self.speed_kmh
                ),
                "max_speed_kmh": float(speed.max()),
                "settled": result.settled,
                "work_cells": result.work_cells,
                "facilities_used": len(used),
                "facilities_outside": np.flatnonzero(~inside).tolist(),
                "facilities_on_barrier": np.flatnonzero(on_barrier).tolist(),
            },
            cutoff_min=self.cutoff_min,
        )
