"""The friction surface of the raster model: speeds from land cover, roads and slope (Tobler)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import rasterio.features
from numpy.typing import ArrayLike, NDArray

from gridplan._types import Float32Array, FloatArray
from gridplan._validate import Problems, positive
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import check_mode
from gridplan.travel.speeds import (
    LANDCOVER_SPEEDS_KMH,
    MODES,
    OFFROAD_SPEEDS_KMH,
    check_road_speeds,
    road_speed_kmh,
    road_table,
)

if TYPE_CHECKING:
    import geopandas as gpd

Engine = Literal["buckets", "scipy"]
ToblerRule = Literal["round_trip", "uphill"]

ENGINES = ("buckets", "scipy")
TOBLER_RULES = ("round_trip", "uphill")

#: Tobler's hiking function at flat ground (km/h): 6·exp(−3.5·0.05) ≈ 5.04.
TOBLER_FLAT_KMH = float(6.0 * np.exp(-3.5 * np.abs(0.0 + 0.05)))


# --- validation ---------------------------------------------------------------------


def raster_problems() -> Problems:
    """The collector of the raster model's checks: one ``costdistance.invalid`` error."""
    return Problems("costdistance.invalid", "cannot compute raster travel times")


def check_speed_values(problems: Problems, name: str, values: Any) -> bool:
    """Whether every speed in ``values`` is a finite number ≥ 0 (0: a barrier).

    Problems ``costdistance.nonfinite_speed`` and ``costdistance.negative_speed``,
    with the count of each.
    """
    v = np.asarray(values)
    if v.dtype.kind not in "fiu":
        v = v.astype(np.float64)
    not_finite = "{name}: {n} speed(s) are not finite numbers"
    n_bad = problems.count("costdistance.nonfinite_speed", ~np.isfinite(v), not_finite, name=name)
    negative = "{name}: {n} speed(s) are negative"
    n_neg = problems.count("costdistance.negative_speed", v < 0, negative, name=name)
    return not (n_bad or n_neg)


def check_speed_raster(problems: Problems, name: str, speed: NDArray[Any]) -> bool:
    """Whether ``speed`` holds numbers (not complex), each finite and ≥ 0.

    Problems ``costdistance.speed_dtype``, else those of :func:`check_speed_values`.
    """
    if not np.issubdtype(speed.dtype, np.number) or np.issubdtype(speed.dtype, np.complexfloating):
        problems.add(
            "costdistance.speed_dtype",
            f"{name} must be numeric, got {speed.dtype}",
            dtype=str(speed.dtype),
        )
        return False
    return check_speed_values(problems, name, speed)


# --- speed surface ------------------------------------------------------------------


def tobler_factor(slope: ArrayLike, rule: ToblerRule = "round_trip") -> FloatArray:
    """Walking speed on a slope relative to flat ground, by Tobler's hiking function.

    Tobler (1993): ``W(S) = 6·exp(−3.5·|S + 0.05|)`` km/h for the slope ``S``
    (rise over run) in the direction of travel; ``W(0) = 6·e^(−0.175) ≈ 5.04``.
    A cell's speed cannot depend on the direction of travel, so ``slope`` is
    the slope *magnitude* (steepest gradient) and ``rule`` picks the direction:

    ``round_trip`` (default)
        The harmonic mean of the uphill and downhill speeds, i.e. the mean
        time of crossing the cell once up and once down:
        ``2 / (W(0)/W(S) + W(0)/W(−S))``.  Never above 1; 10 % gives
        ``2 / (e^0.35 + 1) ≈ 0.827``.
    ``uphill``
        Always climbing: ``W(S)/W(0) = e^(−3.5·S)``; 10 % gives
        ``e^(−0.35) ≈ 0.705``.  Conservative.

    (Downhill alone, ``W(−S)/W(0)``, is above 1 up to 10 % and exactly 1 at
    10 %: Tobler's fastest walk is 5 % downhill.)  Slopes that are not finite
    (no DEM data) give 1.
    """
    problems = raster_problems()
    problems.choice("costdistance.tobler", "tobler", rule, TOBLER_RULES)
    problems.raise_if_any()
    s = np.abs(np.asarray(slope, dtype=np.float64))
    up = _tobler_kmh(s) / TOBLER_FLAT_KMH
    f = up if rule == "uphill" else 2.0 / (1.0 / up + TOBLER_FLAT_KMH / _tobler_kmh(-s))
    return np.where(np.isfinite(f), f, 1.0)


def _tobler_kmh(slope: FloatArray) -> FloatArray:
    """Tobler's hiking function (km/h) for the signed slope in the direction of travel."""
    return 6.0 * np.exp(-3.5 * np.abs(slope + 0.05))


def slope_magnitude(dem: ArrayLike, cell_m: float) -> FloatArray:
    """Steepest slope (rise over run) of each cell: ``|∇h|`` with ``numpy.gradient``.

    Central differences inside, one-sided at the edges; cells next to a
    non-finite elevation get a non-finite slope (treated as flat by
    :func:`tobler_factor`).
    """
    h = np.asarray(dem, dtype=np.float64)
    grads = [
        np.gradient(h, float(cell_m), axis=ax) if h.shape[ax] > 1 else np.zeros_like(h)
        for ax in (0, 1)
    ]
    return np.hypot(grads[0], grads[1])


def road_speeds_of(
    roads: gpd.GeoDataFrame,
    mode: str,
    table: Mapping[str, float],
    *,
    column: str = "highway",
    maxspeed_column: str = "maxspeed",
) -> FloatArray:
    """Speed (km/h) of each road line in ``mode``, 0 where the road is closed to it.

    The rules of :func:`gridplan.travel.speeds.road_speed_kmh`, as the network
    model applies them to its edges (``maxspeed`` when the column exists).
    """
    posted = roads[maxspeed_column] if maxspeed_column in roads.columns else None
    memo: dict[tuple[str, str], float] = {}  # few distinct (class, limit) pairs
    out = np.zeros(len(roads), dtype=np.float64)
    for i, highway in enumerate(roads[column]):
        limit = None if posted is None else posted.iat[i]
        key = (repr(highway), repr(limit))
        speed = memo.get(key)
        if speed is None:
            speed = road_speed_kmh(highway, mode, table, limit) or 0.0
            memo[key] = speed
        out[i] = speed
    return out


def rasterize_roads(
    grid: CellGrid,
    roads: gpd.GeoDataFrame,
    speeds_kmh: FloatArray,
) -> Float32Array:
    """Road speed (km/h) per cell, 0 where no road open to the mode touches it.

    ``speeds_kmh`` is the speed of each line (:func:`road_speeds_of`; 0:
    closed).  Lines are burnt with ``all_touched=True`` (every cell a line
    crosses gets its speed) in increasing speed, so a cell crossed by several
    roads keeps the fastest.
    """
    out = np.zeros(grid.shape, dtype=np.float32)
    if len(roads) == 0:
        return out
    geoms = roads.geometry.to_crs(grid.crs) if roads.crs is not None else roads.geometry
    v = np.asarray(speeds_kmh, dtype=np.float64)
    ok = (v > 0) & geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out
    idx = idx[np.argsort(v[idx], kind="stable")]
    shapes = [(geoms.iat[i], float(v[i])) for i in idx]
    return rasterio.features.rasterize(
        shapes,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0.0,
        all_touched=True,
        dtype="float32",
    )


def speed_surface(
    grid: CellGrid,
    *,
    mode: str = "walk",
    landcover: ArrayLike | None = None,
    landcover_speeds: Mapping[int, float] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    road_speeds: Mapping[str, float] | None = None,
    dem: ArrayLike | None = None,
    base_speed_kmh: float | None = None,
    tobler: ToblerRule = "round_trip",
    highway_column: str = "highway",
) -> Float32Array:
    """Travel speed (km/h) per cell of ``grid`` for ``mode``; 0 marks a barrier.

    Parameters
    ----------
    mode
        ``walk``, ``ebike`` or ``drive``: picks the default tables.
    landcover
        Integer class per cell (ESA WorldCover codes for the default tables).
        Without it every cell gets ``base_speed_kmh``.
    landcover_speeds
        Class → km/h; replaces (does not amend)
        :data:`~gridplan.travel.speeds.LANDCOVER_SPEEDS_KMH`
        ``[mode]``, so that another classification cannot silently inherit
        ESA meanings (amend with ``LANDCOVER_SPEEDS_KMH[mode] | {...}``).
        Every class present in ``landcover`` must have a speed.
    roads
        OSM lines (any CRS, reprojected) with a ``highway`` column (a string,
        or a list of strings as osmnx gives for merged edges) and optionally
        ``maxspeed``.  Each line's speed follows the network model's rules
        (:func:`gridplan.travel.speeds.road_speed_kmh`: lists at the slowest
        class, unknown classes as ``road``, closed classes and classes closed
        to the mode not used, ``maxspeed`` lowering car speeds), so both
        models drive the same road at the same speed.  Burnt onto the grid
        (:func:`rasterize_roads`); a cell takes the faster of its road and
        off-road speed, so roads also bridge water.  A road closed to the mode
        does not raise the speed of its cells, and is no barrier either: at
        100 m cells a road line would also block the underpasses and bridges
        that cross it.
    road_speeds
        ``highway`` class → km/h; amends
        :data:`~gridplan.travel.speeds.ROAD_SPEEDS_KMH` ``[mode]`` as the
        network model's ``speeds_kmh`` does (a new class opens it).
    dem
        Elevation (m) per cell.  Walking-type cells are scaled by
        :func:`tobler_factor` of :func:`slope_magnitude`: every off-road cell
        in every mode (off the roads people walk), and road cells in ``walk``
        mode.  Road cells of ``ebike`` and ``drive`` are not scaled (motor;
        AccessMod leaves MOTORIZED classes uncorrected too).
    base_speed_kmh
        Off-road speed without land cover; default
        :data:`~gridplan.travel.speeds.OFFROAD_SPEEDS_KMH`.
    tobler
        ``round_trip`` or ``uphill``, see :func:`tobler_factor`.

    Raises
    ------
    InputError
        ``costdistance.invalid`` listing every problem at once (shapes,
        negative or non-finite speeds, road speeds outside 0.5–150 km/h,
        unknown mode or land cover classes, roads without CRS or
        ``highway`` column).
    """
    problems = raster_problems()
    check_mode(problems, mode)
    problems.choice("costdistance.tobler", "tobler", tobler, TOBLER_RULES)
    known_mode = mode if mode in MODES else "walk"
    base = OFFROAD_SPEEDS_KMH[known_mode] if base_speed_kmh is None else base_speed_kmh
    if not positive(base):
        problems.add(
            "costdistance.base_speed",
            f"base speed must be a positive number of km/h, got {base!r}",
            speed=base,
        )
        base = OFFROAD_SPEEDS_KMH[known_mode]
    lc_table = dict(
        LANDCOVER_SPEEDS_KMH[known_mode] if landcover_speeds is None else landcover_speeds
    )
    check_speed_values(problems, "landcover_speeds", list(lc_table.values()))
    lc = _checked_landcover(problems, grid, landcover, lc_table)
    check_road_speeds(problems, road_speeds)
    if roads is not None:
        _check_roads(problems, roads, highway_column)
    elev: FloatArray | None = None
    if dem is not None and problems.shape("dem", dem, grid.shape):
        elev = np.asarray(dem, dtype=np.float64)
    problems.raise_if_any()

    speed = _offroad_speeds(grid, base, lc, lc_table)
    walking = np.ones(grid.shape, dtype=bool)
    if roads is not None and len(roads):
        table = road_table(known_mode, road_speeds)
        line_speeds = road_speeds_of(roads, known_mode, table, column=highway_column)
        road = rasterize_roads(grid, roads, line_speeds).astype(np.float64)
        on_road = road > speed
        speed = np.where(on_road, road, speed)
        if known_mode != "walk":  # motor traffic on the road: no walking there
            walking = ~on_road
    if elev is not None:
        factor = tobler_factor(slope_magnitude(elev, grid.cell_m), tobler)
        speed = np.where(walking, speed * factor, speed)
    return speed.astype(np.float32)


def _checked_landcover(
    problems: Problems, grid: CellGrid, landcover: ArrayLike | None, table: Mapping[int, float]
) -> NDArray[Any] | None:
    """The land cover classes on ``grid``, if given, integer and each with a speed in ``table``."""
    if landcover is None or not problems.shape("landcover", landcover, grid.shape):
        return None
    lc = np.asarray(landcover)
    if not np.issubdtype(lc.dtype, np.integer):
        problems.add(
            "costdistance.landcover_dtype",
            f"landcover must hold integer classes, got {lc.dtype}",
            dtype=str(lc.dtype),
        )
        return None
    keys = np.array(sorted(table), dtype=np.int64)
    pos = np.searchsorted(keys, lc).clip(0, max(len(keys) - 1, 0))
    unknown = lc[keys[pos] != lc] if len(keys) else lc.ravel()
    missing = [int(c) for c in np.unique(unknown)]
    if missing:
        problems.add(
            "costdistance.landcover_classes",
            f"land cover classes without a speed: {missing}",
            classes=missing,
        )
    return lc


def _check_roads(problems: Problems, roads: gpd.GeoDataFrame, highway_column: str) -> None:
    if highway_column not in roads.columns:
        problems.add(
            "costdistance.roads_column",
            f"roads have no {highway_column!r} column (columns: {list(roads.columns)})",
            column=highway_column,
            columns=[str(c) for c in roads.columns],
        )
    if roads.crs is None and len(roads):
        problems.add("costdistance.roads_crs", "roads have no coordinate reference system")


def _offroad_speeds(
    grid: CellGrid, base: float, lc: NDArray[Any] | None, table: Mapping[int, float]
) -> FloatArray:
    """Speed off the roads: ``base`` everywhere, or the speed of each cell's land cover class."""
    if lc is None:
        return np.full(grid.shape, base, dtype=np.float64)
    keys = np.array(sorted(table), dtype=np.int64)
    vals = np.array([table[int(k)] for k in keys], dtype=np.float64)
    return vals[np.searchsorted(keys, lc.astype(np.int64))]
