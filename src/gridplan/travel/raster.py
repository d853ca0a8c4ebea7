"""The raster travel-time model (AccessMod style) behind the common interface."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridplan._types import BoolArray, Float32Array, IntArray, XYArray
from gridplan._validate import positive
from gridplan.errors import InputError
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimes, check_cutoff, check_mode
from gridplan.travel.costdistance import cost_distance
from gridplan.travel.friction import (
    ENGINES,
    TOBLER_RULES,
    Engine,
    ToblerRule,
    raster_problems,
    speed_surface,
)
from gridplan.travel.pairs import Pairs, point_dtype, time_point_order
from gridplan.travel.speeds import OFFROAD_SPEEDS_KMH, Mode, metres_per_minute

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
    _speed_cache: dict[CellGrid, Float32Array] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        problems = raster_problems()
        check_mode(problems, self.mode)
        problems.choice("costdistance.tobler", "tobler", self.tobler, TOBLER_RULES)
        problems.choice("costdistance.engine", "engine", self.engine, ENGINES)
        check_cutoff(problems, self.cutoff_min)
        if self.speed_kmh is not None and not positive(self.speed_kmh):
            problems.add(
                "costdistance.base_speed",
                f"speed must be a positive number of km/h, got {self.speed_kmh!r}",
                speed=self.speed_kmh,
            )
        problems.raise_if_any()

    def speed_surface(self, grid: CellGrid) -> Float32Array:
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

    def travel_times(self, grid: CellGrid, mask: BoolArray, facilities_xy: XYArray) -> TravelTimes:
        """Minutes from each masked cell to its nearest facility (``inf`` beyond the cutoff).

        Travel may cross any passable cell; ``mask`` only selects the cells
        answered (the others are ``inf`` / -1).
        """
        problems = raster_problems()
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
        speed: Float32Array | None = None
        try:
            speed = self.speed_surface(grid)
        except InputError as err:
            problems.merge(err)
        if xy.ndim != 2 or xy.shape[1] != 2:
            problems.raise_if_any()

        sources = SourceCells.locate(grid, speed, xy)
        if len(sources.used) == 0:
            problems.add(
                "costdistance.no_facility",
                f"no facility on a passable cell of the grid ({len(xy)} given, "
                f"{int(sources.outside.sum())} outside the grid, "
                f"{int(sources.on_barrier.sum())} on a barrier)",
                n=len(xy),
                outside=int(sources.outside.sum()),
                on_barrier=int(sources.on_barrier.sum()),
            )
        problems.raise_if_any()
        assert speed is not None

        result = cost_distance(speed, grid.cell_m, sources.rc, self.cutoff_min, engine=self.engine)
        used = sources.used
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
                **sources.params(),
            },
            cutoff_min=self.cutoff_min,
        )

    def pairs(
        self, grid: CellGrid, points_xy: XYArray, facilities_xy: XYArray, max_minutes: float
    ) -> Pairs:
        """Minutes from every point to every facility within ``max_minutes`` (and the cutoff).

        The journeys of :meth:`travel_times`, per facility
        (:func:`raster_pairs`): a point's minutes are those of its cell;
        points outside the grid, and facilities outside it or on a barrier,
        get no pair.
        """
        speed = self.speed_surface(grid)
        cap = min(float(self.cutoff_min), float(max_minutes))
        pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
        rows, cols, inside = grid.cell_of(pts[:, 0], pts[:, 1])
        rc = np.column_stack([rows[inside], cols[inside]])
        found = raster_facility_pairs(grid, speed, rc, facilities_xy, cap, engine=self.engine)
        point = np.flatnonzero(inside)[found.point].astype(found.point.dtype)
        params = {**found.params, "mode": self.mode}
        return Pairs(
            point, found.facility, found.minutes, len(pts), found.n_facilities, cap, params
        )


@dataclass(frozen=True)
class SourceCells:
    """Where facilities stand on a speed surface: the cells of those used, and those left out.

    As AccessMod does, a facility outside the grid (or without finite
    coordinates) or on a barrier cell (speed 0) is left out.  ``used`` are
    the indices of the others, ``rc`` their rows and columns.
    """

    rc: IntArray
    used: IntArray
    outside: BoolArray
    on_barrier: BoolArray

    @classmethod
    def locate(
        cls, grid: CellGrid, speed: NDArray[np.floating[Any]] | None, facilities_xy: ArrayLike
    ) -> SourceCells:
        """The facilities' cells on ``grid``; without ``speed`` none is on a barrier."""
        xy = np.asarray(facilities_xy, dtype=np.float64).reshape(-1, 2)
        rows, cols, inside = grid.cell_of(xy[:, 0], xy[:, 1])
        inside &= np.isfinite(xy).all(axis=1)
        on_barrier = np.zeros(len(xy), dtype=bool)
        if speed is not None:
            on_barrier[inside] = speed[rows[inside], cols[inside]] <= 0
        used = np.flatnonzero(inside & ~on_barrier)
        return cls(np.column_stack([rows[used], cols[used]]), used, ~inside, on_barrier)

    def params(self) -> dict[str, Any]:
        return {
            "facilities_used": len(self.used),
            "facilities_outside": np.flatnonzero(self.outside).tolist(),
            "facilities_on_barrier": np.flatnonzero(self.on_barrier).tolist(),
        }


def raster_facility_pairs(
    grid: CellGrid,
    speed_kmh: NDArray[np.floating[Any]],
    points: NDArray[np.integer[Any]] | BoolArray,
    facilities_xy: ArrayLike,
    max_minutes: float,
    *,
    engine: Engine = "buckets",
) -> Pairs:
    """:func:`raster_pairs` from the facilities' coordinates, facility indices kept.

    As :meth:`RasterModel.travel_times`, facilities outside the grid or on a
    barrier reach nobody; they are listed in ``params``
    (:meth:`SourceCells.params`).
    """
    sources = SourceCells.locate(grid, speed_kmh, facilities_xy)
    found = raster_pairs(speed_kmh, grid.cell_m, points, sources.rc, max_minutes, engine=engine)
    return Pairs(
        found.point,
        sources.used[found.facility].astype(np.int32),
        found.minutes,
        found.n_points,
        len(sources.outside),
        found.max_minutes,
        {**found.params, **sources.params()},
    )


def raster_pairs(
    speed_kmh: NDArray[np.floating[Any]],
    cell_m: float,
    points: NDArray[np.integer[Any]] | BoolArray,
    sources_rc: NDArray[np.integer[Any]],
    max_minutes: float,
    *,
    engine: Engine = "buckets",
) -> Pairs:
    """Raster minutes of every (point, source) pair within ``max_minutes``.

    One :func:`~gridplan.travel.costdistance.cost_distance` run per source
    with the cutoff, on the window of cells the fastest speed can reach
    within it: a move of length L costs at least L / (fastest speed), so no
    path within the cutoff leaves the window and the minutes are those of a
    run on the whole grid, while the work grows with the area reachable.  A
    point's minutes are those of its cell: ``points`` are ``(n, 2)`` rows and
    columns on the raster (several points may share a cell), or a boolean
    mask of the raster whose cells, in row-major order, are the points.  As in
    :func:`~gridplan.travel.costdistance.cost_distance`, a source on a
    barrier reaches only its own cell.  Travel may cross cells without points.
    """
    speed = np.asarray(speed_kmh)
    nr, nc = speed.shape
    src = np.asarray(sources_rc, dtype=np.int64).reshape(-1, 2)
    pts = np.asarray(points)
    if pts.dtype == np.bool_ and pts.shape == speed.shape:
        cells = _PointsByCell.of_mask(pts)
    else:
        cells = _PointsByCell(pts.astype(np.int64, copy=False).reshape(-1, 2), speed.shape)
    vmax = float(speed.max()) if speed.size else 0.0
    if vmax > 0 and math.isfinite(max_minutes):
        rad = math.ceil(max_minutes * metres_per_minute(vmax) / cell_m) + 1
    else:
        rad = max(nr, nc)
    parts = []
    settled = 0
    for j, (r, c) in enumerate(src.tolist()):
        r0, r1 = max(0, r - rad), min(nr, r + rad + 1)
        c0, c1 = max(0, c - rad), min(nc, c + rad + 1)
        window = speed[r0:r1, c0:c1]
        res = cost_distance(window, cell_m, [[r - r0, c - c0]], max_minutes, engine=engine)
        settled += res.settled
        point, mins = cells.reached(res.minutes, r0, c0)
        order = time_point_order(point, mins)
        parts.append((point[order], np.full(len(point), j, dtype=np.int32), mins[order]))
    params = {"window_cells": 2 * rad + 1, "max_speed_kmh": vmax, "settled": settled}
    return Pairs.concat(parts, cells.n_points, len(src), max_minutes, params=params)


class _PointsByCell:
    """The points of each raster cell.

    Points on distinct cells (the masked cells of a reach) are looked up in a
    grid of point indices; several points on one cell (demand points sharing
    a representative cell) in a CSR list over the flat cell index.
    """

    def __init__(self, points_rc: IntArray, shape: tuple[int, int]) -> None:
        flat = points_rc[:, 0] * shape[1] + points_rc[:, 1]
        self.n_points = n = len(flat)
        dtype = point_dtype(n)
        self.point_of = np.full(shape, -1, dtype=dtype)
        self.point_of.ravel()[flat] = np.arange(n, dtype=dtype)
        # distinct cells: increasing (the cells of a mask), or as many cells as points
        increasing = n < 2 or bool((flat[1:] > flat[:-1]).all())
        self.single = increasing or int(np.count_nonzero(self.point_of >= 0)) == n
        if not self.single:
            self.order = np.argsort(flat, kind="stable").astype(dtype)
            self.counts = np.bincount(flat, minlength=shape[0] * shape[1])
            self.starts = np.zeros(len(self.counts) + 1, dtype=np.int64)
            np.cumsum(self.counts, out=self.starts[1:])

    @classmethod
    def of_mask(cls, mask: BoolArray) -> _PointsByCell:
        """The cells of ``mask`` as points, in row-major order."""
        self = cls.__new__(cls)
        n = int(np.count_nonzero(mask))
        self.n_points, self.single = n, True
        point_of = np.cumsum(mask.ravel(), dtype=point_dtype(n))
        point_of -= 1
        point_of[~mask.ravel()] = -1
        self.point_of = point_of.reshape(mask.shape)
        return self

    def reached(self, minutes: Float32Array, r0: int, c0: int) -> tuple[NDArray[Any], Float32Array]:
        """The points of the window at ``(r0, c0)`` with finite ``minutes``, and those minutes."""
        nr, nc = minutes.shape
        here = self.point_of[r0 : r0 + nr, c0 : c0 + nc]
        lr, lc = np.nonzero(np.isfinite(minutes) & (here >= 0))
        if self.single:
            return here[lr, lc], minutes[lr, lc]
        cells = (lr + r0) * self.point_of.shape[1] + (lc + c0)
        n = self.counts[cells]
        first = np.repeat(self.starts[cells] - (np.cumsum(n) - n), n)
        return self.order[first + np.arange(len(first))], np.repeat(minutes[lr, lc], n)
