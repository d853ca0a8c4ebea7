"""AccessMod-style travel time on a friction raster: the ``raster`` travel-time model.

Three layers, all on a :class:`~gridplan.surface.CellGrid`:

1. :func:`speed_surface` builds a speed (km/h) per cell from an off-road base
   speed, land cover classes, rasterised OSM roads and a DEM slope correction
   (Tobler's hiking function).  Speed 0 marks a barrier (water, no data).
2. :func:`cost_distance` computes, from several sources at once, the minutes to
   every cell and which source is nearest, moving between the 8 neighbours of a
   cell.  The cost of a move is its length (``cell_m`` or ``cell_m·√2``) times
   the mean of the two cells' minutes per metre — the cost model of
   ``skimage.graph.MCP_Geometric`` (the same averaging as GRASS ``r.cost``).
   The minutes are bit-identical to ``MCP_Geometric``'s (see the tests).
3. :class:`RasterModel` puts both behind the
   :class:`~gridplan.traveltime.TravelTimeModel` interface.

Algorithm
---------
:func:`cost_distance` is Dijkstra's algorithm with a *bucket* priority queue
(Dial, 1969) instead of a binary heap, vectorised with NumPy: the width of a
bucket is the smallest possible move cost (one axial step through the fastest
cell), so every cell in the current bucket already has its final time and the
whole bucket is settled and relaxed in one batch of array operations.  The
search stops at the cutoff: cells beyond it are never labelled, so the work
grows with the area reachable within the cutoff, not with the grid (apart from
allocating and filling the full-size result arrays).  The number of batches is
``cutoff / smallest move cost``: 48 for walking 60 minutes at 100 m, 800 for
driving 60 minutes at 100 m with 80 km/h motorways.

On Shijiazhuang at 100 m (2.5 M cells, 450 facilities, walking 60 min,
1.28 M cells settled) this takes about 0.4 s, against 1.5 s for
``MCP_Geometric`` (``benchmarks/bench_costdistance.py``).  Its weak spot is a
deep search with few cells per bucket (one source in a corner, driving,
no cutoff: ~3,800 batches, ~2.6 s).

``engine="scipy"`` runs ``scipy.sparse.csgraph.dijkstra`` (Fibonacci heap,
``min_only=True``, ``limit=cutoff``) on an 8-neighbour graph of the cells
within ``max speed × cutoff`` of a source instead.  It gives the same minutes
and is kept to cross-check and benchmark: 2.5–4× slower than the buckets and
several times the memory, mostly for building the graph.

Isotropy
--------
AccessMod corrects walking speeds *per move* with the slope in the direction
of travel (anisotropic, ``r.walk``).  A per-cell speed surface cannot know the
direction, so :func:`tobler_factor` uses the slope magnitude and, by default,
the round-trip mean of the uphill and downhill Tobler speeds (see there).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import rasterio.features
from numpy.typing import ArrayLike, NDArray

from gridplan._validate import Problems, positive
from gridplan.errors import InputError
from gridplan.surface import CellGrid
from gridplan.traveltime import MODE_SPEEDS_KMH, Mode, TravelTimes

if TYPE_CHECKING:
    import geopandas as gpd

Engine = Literal["buckets", "scipy"]
ToblerRule = Literal["round_trip", "uphill"]

MODES = ("walk", "ebike", "drive")
ENGINES = ("buckets", "scipy")
TOBLER_RULES = ("round_trip", "uphill")

#: Off-road speed (km/h) of each mode where no land cover is given.  Off the
#: mapped roads everybody moves on foot or close to it, as in AccessMod's
#: motorised scenarios where land cover classes keep the WALKING mode:
#: ``walk`` is the project's walking standard (15 min ≈ 1,200 m, see
#: :data:`gridplan.traveltime.MODE_SPEED_SOURCES`); ``drive`` is walking to
#: the nearest mapped road; ``ebike`` 6 km/h is riding slowly or pushing on
#: unmapped tracks (assumed).
OFFROAD_SPEEDS_KMH: dict[str, float] = {
    "walk": MODE_SPEEDS_KMH["walk"],
    "ebike": 6.0,
    "drive": MODE_SPEEDS_KMH["walk"],
}

#: Walking speeds (km/h) per ESA WorldCover class.  The vegetation classes
#: follow the examples of the AccessMod 5 manual (travelling scenario table:
#: urban/built-up 5, low dense vegetation 4, medium dense 3, dense 2, bare
#: soil 5 km/h); built-up and bare are set to the project's 4.8 km/h walking
#: standard so that towns match the straight-line model.  Snow, wetland,
#: mangrove and moss values are assumed.  0 (no data) and 80 (permanent water)
#: are barriers, as AccessMod treats no-data and zero-speed cells.
_WALK_LANDCOVER: dict[int, float] = {
    0: 0.0,  # no data: barrier
    10: 2.0,  # tree cover: dense vegetation (AccessMod 2)
    20: 3.0,  # shrubland: medium dense vegetation (AccessMod 3)
    30: 4.0,  # grassland: low dense vegetation (AccessMod 4)
    40: 4.0,  # cropland: low dense vegetation, field tracks (AccessMod 4)
    50: 4.8,  # built-up (AccessMod 5; project walking standard)
    60: 4.8,  # bare / sparse vegetation (AccessMod bare soil 5; walking standard)
    70: 1.5,  # snow and ice (assumed)
    80: 0.0,  # permanent water bodies: barrier
    90: 1.0,  # herbaceous wetland (assumed)
    95: 1.0,  # mangroves (assumed)
    100: 3.0,  # moss and lichen (assumed)
}

#: Off-road speeds (km/h) per ESA WorldCover class and mode.  ``drive`` uses
#: the walking table (off the mapped roads the patient walks); ``ebike`` rides
#: a little faster than walking on open flat classes with unmapped lanes and
#: field tracks (built-up 8, cropland and bare 6, grassland 5: assumed) and
#: pushes elsewhere.
LANDCOVER_SPEEDS_KMH: dict[str, dict[int, float]] = {
    "walk": dict(_WALK_LANDCOVER),
    "ebike": _WALK_LANDCOVER | {30: 5.0, 40: 6.0, 50: 8.0, 60: 6.0},
    "drive": dict(_WALK_LANDCOVER),
}

_LINKS = ("motorway", "trunk", "primary", "secondary", "tertiary")
_WALKABLE = (
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "road",
    "living_street",
    "service",
    "track",
    "path",
    "footway",
    "pedestrian",
    "steps",
    "cycleway",
    "bridleway",
)

#: Speeds (km/h) per OSM ``highway`` class and mode.  A class missing from a
#: mode's table does not raise the speed of its cells in that mode (motorways
#: for walking and e-bikes: pedestrians and e-bikes are banned from Chinese
#: expressways; footways for cars).  Such roads are not barriers either: at
#: 100 m cells a road line would also block the underpasses and bridges that
#: cross it.
#:
#: ``drive``: average planning speeds including junctions, well below the
#: design speeds of JTG B01-2014 (assumed; motorway 80, trunk 60, primary 50,
#: secondary 40, tertiary 30, residential/unclassified 20 as briefed; links
#: about half their road).  ``walk``: the 4.8 km/h walking standard on every
#: walkable class.  ``ebike``: 18 km/h on main roads and cycleways, 15 on
#: minor roads (the 15–20 km/h usual for e-bikes, under the 25 km/h cap of
#: GB 17761-2018), slower on service roads, tracks and paths (assumed).
ROAD_SPEEDS_KMH: dict[str, dict[str, float]] = {
    "drive": {
        "motorway": 80.0,
        "motorway_link": 40.0,
        "trunk": 60.0,
        "trunk_link": 30.0,
        "primary": 50.0,
        "primary_link": 25.0,
        "secondary": 40.0,
        "secondary_link": 20.0,
        "tertiary": 30.0,
        "tertiary_link": 15.0,
        "unclassified": 20.0,
        "residential": 20.0,
        "road": 20.0,
        "living_street": 10.0,
        "service": 10.0,
        "track": 10.0,
    },
    "walk": {cls: MODE_SPEEDS_KMH["walk"] for cls in _WALKABLE},
    "ebike": {
        **{c: 18.0 for c in ("trunk", "primary", "secondary", "cycleway")},
        **{f"{c}_link": 15.0 for c in _LINKS if c != "motorway"},
        **{c: 15.0 for c in ("tertiary", "unclassified", "residential", "road")},
        **{c: 10.0 for c in ("living_street", "service", "track")},
        "path": 8.0,
    },
}

#: Tobler's hiking function at flat ground (km/h): 6·exp(−3.5·0.05) ≈ 5.04.
TOBLER_FLAT_KMH = float(6.0 * np.exp(-3.5 * np.abs(0.0 + 0.05)))

_SQRT2 = math.sqrt(2.0)
# neighbour order: NW, N, NE, W, E, SW, S, SE (row-major, so a cell's
# neighbours appear in increasing flat index)
_DR = np.array([-1, -1, -1, 0, 0, 1, 1, 1])
_DC = np.array([-1, 0, 1, -1, 1, -1, 0, 1])
_HALF_LENGTH = np.where((_DR != 0) & (_DC != 0), _SQRT2, 1.0) * 0.5


# --- validation ---------------------------------------------------------------------


class _Problems(Problems):
    """Collects every problem of one call, raised together as one InputError."""

    def __init__(self) -> None:
        super().__init__("costdistance.invalid", "cannot compute raster travel times")

    def merge(self, err: InputError) -> None:
        """Take over the problems of an InputError raised by another check."""
        details = err.params.get("problems")
        if err.code != self.code or not isinstance(details, list):
            raise err
        for text, detail in zip(err.problems, details, strict=True):
            params = dict(detail)
            self.add(params.pop("code"), text, **params)

    def speeds(self, name: str, values: Any) -> None:
        v = np.asarray(values)
        if v.dtype.kind not in "fiu":
            v = v.astype(np.float64)
        n_bad = int(np.count_nonzero(~np.isfinite(v)))
        n_neg = int(np.count_nonzero(v < 0))
        if n_bad:
            self.add(
                "costdistance.nonfinite_speed",
                f"{name}: {n_bad} speed(s) are not finite numbers",
                name=name,
                n=n_bad,
            )
        if n_neg:
            self.add(
                "costdistance.negative_speed",
                f"{name}: {n_neg} speed(s) are negative",
                name=name,
                n=n_neg,
            )

    def cutoff(self, cutoff_min: float) -> None:
        c = float(cutoff_min)
        if math.isnan(c) or c <= 0:
            self.add(
                "costdistance.cutoff",
                f"cutoff must be more than 0 minutes, got {cutoff_min}",
                cutoff=cutoff_min,
            )

    def choice(self, code: str, name: str, value: Any, allowed: Sequence[str]) -> None:
        if value not in allowed:
            self.add(
                code,
                f"{name} must be one of {', '.join(allowed)}, got {value!r}",
                value=value,
                allowed=list(allowed),
            )


# --- speed surface ------------------------------------------------------------------


def tobler_factor(slope: ArrayLike, rule: ToblerRule = "round_trip") -> NDArray[np.float64]:
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
    problems = _Problems()
    problems.choice("costdistance.tobler", "tobler", rule, TOBLER_RULES)
    problems.raise_if_any()
    s = np.abs(np.asarray(slope, dtype=np.float64))
    up = _tobler_kmh(s) / TOBLER_FLAT_KMH
    f = up if rule == "uphill" else 2.0 / (1.0 / up + TOBLER_FLAT_KMH / _tobler_kmh(-s))
    return np.where(np.isfinite(f), f, 1.0)


def _tobler_kmh(slope: NDArray[np.float64]) -> NDArray[np.float64]:
    """Tobler's hiking function (km/h) for the signed slope in the direction of travel."""
    return 6.0 * np.exp(-3.5 * np.abs(slope + 0.05))


def slope_magnitude(dem: ArrayLike, cell_m: float) -> NDArray[np.float64]:
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


def _road_speed_of(value: Any, table: Mapping[str, float]) -> float:
    """Speed of an OSM ``highway`` value (a string, or a list as osmnx merges them)."""
    if isinstance(value, str):
        return float(table.get(value, 0.0))
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return max((_road_speed_of(v, table) for v in value), default=0.0)
    return 0.0


def rasterize_roads(
    grid: CellGrid,
    roads: gpd.GeoDataFrame,
    speeds: Mapping[str, float],
    *,
    column: str = "highway",
) -> NDArray[np.float32]:
    """Road speed (km/h) per cell, 0 where no road of a class in ``speeds`` touches it.

    Lines are burnt with ``all_touched=True`` (every cell a line crosses gets
    its speed) in increasing speed, so a cell crossed by several roads keeps
    the fastest.  Classes missing from ``speeds`` are ignored.
    """
    out = np.zeros(grid.shape, dtype=np.float32)
    if len(roads) == 0:
        return out
    geoms = roads.geometry.to_crs(grid.crs) if roads.crs is not None else roads.geometry
    v = np.array([_road_speed_of(h, speeds) for h in roads[column]], dtype=np.float64)
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
) -> NDArray[np.float32]:
    """Travel speed (km/h) per cell of ``grid`` for ``mode``; 0 marks a barrier.

    Parameters
    ----------
    mode
        ``walk``, ``ebike`` or ``drive``: picks the default tables.
    landcover
        Integer class per cell (ESA WorldCover codes for the default tables).
        Without it every cell gets ``base_speed_kmh``.
    landcover_speeds
        Class → km/h; replaces (does not amend) :data:`LANDCOVER_SPEEDS_KMH`
        ``[mode]``, so that another classification cannot silently inherit
        ESA meanings (amend with ``LANDCOVER_SPEEDS_KMH[mode] | {...}``).
        Every class present in ``landcover`` must have a speed.
    roads
        OSM lines (any CRS, reprojected) with a ``highway`` column (a string,
        or a list of strings as osmnx gives for merged edges: the fastest
        counts).  Burnt onto the grid (:func:`rasterize_roads`); a cell takes
        the faster of its road and off-road speed, so roads also bridge water.
    road_speeds
        ``highway`` class → km/h; replaces :data:`ROAD_SPEEDS_KMH` ``[mode]``.
    dem
        Elevation (m) per cell.  Walking-type cells are scaled by
        :func:`tobler_factor` of :func:`slope_magnitude`: every off-road cell
        in every mode (off the roads people walk), and road cells in ``walk``
        mode.  Road cells of ``ebike`` and ``drive`` are not scaled (motor;
        AccessMod leaves MOTORIZED classes uncorrected too).
    base_speed_kmh
        Off-road speed without land cover; default :data:`OFFROAD_SPEEDS_KMH`.
    tobler
        ``round_trip`` or ``uphill``, see :func:`tobler_factor`.

    Raises
    ------
    InputError
        ``costdistance.invalid`` listing every problem at once (shapes,
        negative or non-finite speeds, unknown mode or land cover classes,
        roads without CRS or ``highway`` column).
    """
    problems = _Problems()
    problems.choice("costdistance.mode", "mode", mode, MODES)
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
    lc: NDArray[Any] | None = None
    lc_table = dict(
        LANDCOVER_SPEEDS_KMH[known_mode] if landcover_speeds is None else landcover_speeds
    )
    problems.speeds("landcover_speeds", list(lc_table.values()))
    if landcover is not None and problems.shape("landcover", landcover, grid.shape):
        lc = np.asarray(landcover)
        if not np.issubdtype(lc.dtype, np.integer):
            problems.add(
                "costdistance.landcover_dtype",
                f"landcover must hold integer classes, got {lc.dtype}",
                dtype=str(lc.dtype),
            )
            lc = None
        else:
            keys = np.array(sorted(lc_table), dtype=np.int64)
            pos = np.searchsorted(keys, lc).clip(0, max(len(keys) - 1, 0))
            unknown = lc[keys[pos] != lc] if len(keys) else lc.ravel()
            missing = [int(c) for c in np.unique(unknown)]
            if missing:
                problems.add(
                    "costdistance.landcover_classes",
                    f"land cover classes without a speed: {missing}",
                    classes=missing,
                )
    rd_table = dict(ROAD_SPEEDS_KMH[known_mode] if road_speeds is None else road_speeds)
    problems.speeds("road_speeds", list(rd_table.values()))
    if roads is not None:
        if highway_column not in roads.columns:
            problems.add(
                "costdistance.roads_column",
                f"roads have no {highway_column!r} column (columns: {list(roads.columns)})",
                column=highway_column,
                columns=[str(c) for c in roads.columns],
            )
        if roads.crs is None and len(roads):
            problems.add(
                "costdistance.roads_crs",
                "roads have no coordinate reference system",
            )
    elev: NDArray[np.float64] | None = None
    if dem is not None and problems.shape("dem", dem, grid.shape):
        elev = np.asarray(dem, dtype=np.float64)
    problems.raise_if_any()

    # off-road speed
    if lc is None:
        speed = np.full(grid.shape, base, dtype=np.float64)
    else:
        keys = np.array(sorted(lc_table), dtype=np.int64)
        vals = np.array([lc_table[int(k)] for k in keys], dtype=np.float64)
        speed = vals[np.searchsorted(keys, lc.astype(np.int64))]
    walking = np.ones(grid.shape, dtype=bool)
    # roads
    if roads is not None and len(roads):
        road = rasterize_roads(grid, roads, rd_table, column=highway_column).astype(np.float64)
        on_road = road > speed
        speed = np.where(on_road, road, speed)
        if known_mode != "walk":
            walking = ~on_road
    # slope
    if elev is not None:
        factor = tobler_factor(slope_magnitude(elev, grid.cell_m), tobler)
        speed = np.where(walking, speed * factor, speed)
    return speed.astype(np.float32)


# --- cost distance ------------------------------------------------------------------


@dataclass
class CostDistance:
    """Result of :func:`cost_distance`; unpacks as ``minutes, nearest = ...``.

    Attributes
    ----------
    minutes
        ``float32`` minutes from the nearest source, ``inf`` beyond the cutoff
        or where no source can reach.
    nearest
        ``int32`` index into the sources of the source that reached the cell,
        -1 where none.  A cell at equal time from two sources gets either.
    settled
        Cells reached within the cutoff (finite minutes).
    work_cells
        Cells the engine handled: the settled cells for ``buckets`` (cells
        beyond the cutoff are never labelled); the graph's nodes for ``scipy``.
    engine
        ``buckets`` or ``scipy``.
    """

    minutes: NDArray[np.float32]
    nearest: NDArray[np.int32]
    settled: int
    work_cells: int
    engine: str
    batches: int = 0

    def __iter__(self) -> Iterator[NDArray[Any]]:
        yield self.minutes
        yield self.nearest


def _check_cost_inputs(
    speed: NDArray[Any], cell_m: float, rc: NDArray[Any], cutoff_min: float, engine: str
) -> None:
    problems = _Problems()
    if speed.ndim != 2 or speed.size == 0:
        problems.add(
            "costdistance.shape",
            f"speed must be a non-empty 2-D array, got shape {speed.shape}",
            name="speed",
            shape=tuple(speed.shape),
            expected=None,
        )
    elif not np.issubdtype(speed.dtype, np.number) or np.issubdtype(
        speed.dtype, np.complexfloating
    ):
        problems.add(
            "costdistance.speed_dtype",
            f"speed must be numeric, got {speed.dtype}",
            dtype=str(speed.dtype),
        )
    else:
        problems.speeds("speed", speed)
    if not (math.isfinite(float(cell_m)) and float(cell_m) > 0):
        problems.add(
            "costdistance.cell_size", f"cell size must be positive, got {cell_m}", cell_m=cell_m
        )
    problems.cutoff(cutoff_min)
    problems.choice("costdistance.engine", "engine", engine, ENGINES)
    if rc.ndim != 2 or rc.shape[1] != 2:
        problems.add(
            "costdistance.sources_shape",
            f"sources must be (row, col) pairs, got shape {rc.shape}",
            shape=tuple(rc.shape),
        )
    elif len(rc) == 0:
        problems.add(
            "costdistance.no_facility", "no source cell given", n=0, outside=0, on_barrier=0
        )
    elif speed.ndim == 2:
        nr, nc = speed.shape
        bad = np.flatnonzero((rc[:, 0] < 0) | (rc[:, 0] >= nr) | (rc[:, 1] < 0) | (rc[:, 1] >= nc))
        if len(bad):
            problems.add(
                "costdistance.source_outside",
                f"{len(bad)} source(s) lie outside the {nr}×{nc} raster: indices "
                f"{bad[:10].tolist()}",
                n=len(bad),
                indices=bad.tolist(),
            )
    problems.raise_if_any()


def cost_distance(
    speed_kmh: ArrayLike,
    cell_m: float,
    sources_rc: ArrayLike,
    cutoff_min: float = math.inf,
    *,
    engine: Engine = "buckets",
) -> CostDistance:
    """Minutes from the nearest of several sources to every cell, up to a cutoff.

    Parameters
    ----------
    speed_kmh
        Speed per cell (km/h); 0 is impassable.
    cell_m
        Cell size in metres.
    sources_rc
        ``(k, 2)`` integer rows and columns of the sources.  A source on an
        impassable cell reaches only its own cell (0 minutes), as in
        ``MCP_Geometric``; duplicated cells are reached by the first.
    cutoff_min
        Cells farther than this are left at ``inf`` and cost no work; a cell
        exactly at the cutoff is kept.
    engine
        ``buckets`` (default; bucket-queue Dijkstra) or ``scipy``
        (``scipy.sparse.csgraph.dijkstra``); identical minutes.

    Moves go to the 8 neighbours; a move costs its length (``cell_m``,
    diagonally ``cell_m·√2``) × the mean of the two cells' minutes per metre
    (``0.06 / speed``), exactly as ``skimage.graph.MCP_Geometric`` with
    ``costs = cell_m · 0.06 / speed``.  Sums are float64; the minutes are
    returned as float32.
    """
    speed = np.asarray(speed_kmh)
    rc = np.asarray(sources_rc)
    if rc.ndim == 1 and rc.size == 2:
        rc = rc.reshape(1, 2)
    if rc.size == 0:
        rc = rc.reshape(0, 2)
    _check_cost_inputs(speed, cell_m, rc, cutoff_min, engine)
    rc = rc.astype(np.int64)
    # minutes to cross one cell edge to edge, cell_m × minutes per metre, on the
    # grid padded by one impassable (inf) cell
    nr, nc = speed.shape
    cost = np.full((nr + 2, nc + 2), np.inf)
    inner = cost[1:-1, 1:-1]
    with np.errstate(divide="ignore"):
        np.divide(0.06, speed, out=inner, dtype=np.float64)
    inner *= float(cell_m)
    if engine == "scipy":
        return _cost_scipy(cost, rc, float(cutoff_min))
    return _cost_buckets(cost, rc, float(cutoff_min))


def _cost_buckets(
    cost_2d: NDArray[np.float64], rc: NDArray[np.int64], cutoff: float
) -> CostDistance:
    """Dial's bucket-queue Dijkstra, one vectorised batch per bucket.

    Works on the padded cost grid, flattened, so that a neighbour is ``index +
    offset`` without bounds checks.  The bucket width ``delta`` is just under
    the cheapest possible move (an axial step between two of the fastest
    cells), so a move always lands in a later bucket and every label in the
    current bucket is final when its bucket comes up.  Stale queue entries (a
    cell improved after being queued) are dropped when their bucket comes up.
    Unlabelled cells hold the smallest float above the cutoff, so ``cand <
    dist`` also enforces the cutoff (inclusive).
    """
    nr, nc = cost_2d.shape[0] - 2, cost_2d.shape[1] - 2
    width = nc + 2
    cost = cost_2d.ravel()
    beyond = float(np.nextafter(cutoff, np.inf))
    dist = np.full(cost.size, beyond)
    label = np.full(cost.size, -1, dtype=np.int32)
    stamp = np.zeros(cost.size, dtype=np.int32)
    offsets = (_DR * width + _DC).astype(np.int64)
    half = _HALF_LENGTH

    cheapest = float(cost.min())  # inf when nothing is passable
    src = (rc[:, 0] + 1) * width + rc[:, 1] + 1
    # first source wins a shared cell: assign in reverse order
    dist[src[::-1]] = 0.0
    label[src[::-1]] = np.arange(len(src), dtype=np.int32)[::-1]
    buckets: dict[int, list[tuple[NDArray[np.int64], NDArray[np.float64]]]] = {
        0: [(src, np.zeros(len(src)))]
    }
    heap = [0]
    inv_delta = 1.0 / (cheapest * (1.0 - 1e-9)) if math.isfinite(cheapest) else 0.0
    n_batches = 0
    while heap:
        k = heapq.heappop(heap)
        parts = buckets.pop(k)
        if len(parts) == 1:
            idx, cand = parts[0]
        else:
            idx = np.concatenate([p[0] for p in parts])
            cand = np.concatenate([p[1] for p in parts])
        idx = idx[cand == dist[idx]]  # drop stale entries
        if len(idx) == 0:
            continue
        order = np.arange(len(idx), dtype=np.int32)
        stamp[idx] = order  # drop duplicates (exact ties): keep one entry per cell
        idx = idx[stamp[idx] == order]
        n_batches += 1
        nb = idx[:, None] + offsets
        cand = cost[nb]
        cand += cost[idx][:, None]
        cand *= half  # (length / 2) × (cost_u + cost_v), as MCP_Geometric
        cand += dist[idx][:, None]
        better = np.flatnonzero(cand < dist[nb])
        if len(better) == 0:
            continue
        nb = nb.ravel()[better]
        cand = cand.ravel()[better]
        lab = label[idx][better >> 3]
        np.minimum.at(dist, nb, cand)
        win = cand == dist[nb]
        nb, cand = nb[win], cand[win]
        label[nb] = lab[win]
        _push(buckets, heap, nb, cand, inv_delta, k)

    d = dist.reshape(nr + 2, width)[1:-1, 1:-1]
    reached = d < beyond  # ≤ cutoff, and finite
    minutes = np.where(reached, d, np.inf).astype(np.float32)
    nearest = np.where(reached, label.reshape(nr + 2, width)[1:-1, 1:-1], -1).astype(np.int32)
    settled = int(np.count_nonzero(reached))
    return CostDistance(minutes, nearest, settled, settled, "buckets", n_batches)


def _push(
    buckets: dict[int, list[tuple[NDArray[np.int64], NDArray[np.float64]]]],
    heap: list[int],
    nb: NDArray[np.int64],
    cand: NDArray[np.float64],
    inv_delta: float,
    k: int,
) -> None:
    """Queue improved cells in the buckets of their new times (all after ``k``)."""
    if len(nb) == 0:
        return
    b = np.maximum((cand * inv_delta).astype(np.int64), k + 1)
    lo, hi = int(b.min()), int(b.max())
    if lo == hi:
        groups = [(lo, nb, cand)]
    else:
        rel = b - lo
        order = np.argsort(rel.astype(np.uint16) if hi - lo < 65535 else rel, kind="stable")
        b, nb, cand = b[order], nb[order], cand[order]
        cuts = [0, *(np.flatnonzero(np.diff(b)) + 1).tolist(), len(b)]
        groups = [(int(b[s]), nb[s:e], cand[s:e]) for s, e in itertools.pairwise(cuts)]
    for key, n_, c_ in groups:
        queued = buckets.get(key)
        if queued is None:
            buckets[key] = [(n_, c_)]
            heapq.heappush(heap, key)
        else:
            queued.append((n_, c_))


def _reachable_region(
    passable: NDArray[np.bool_], rc: NDArray[np.int64], radius_cells: float
) -> NDArray[np.bool_]:
    """Passable cells within ``radius_cells`` (centre to centre) of a source.

    No path of time ≤ cutoff leaves this region: a move of length L costs at
    least L / max speed.  Discs are stamped source by source (work ∝ sources ×
    disc area); when that exceeds the grid, every passable cell is kept.
    """
    nr, nc = passable.shape
    src = np.unique(rc[:, 0] * nc + rc[:, 1])
    if not math.isfinite(radius_cells) or len(src) * math.pi * radius_cells**2 > 2 * passable.size:
        return passable
    r = math.floor(radius_cells)
    dr, dc = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dr * dr + dc * dc <= radius_cells * radius_cells * (1 + 1e-9)
    dr, dc = dr[inside], dc[inside]
    region = np.zeros(passable.shape, dtype=bool)
    chunk = max(1, 2_000_000 // len(dr))
    for i in range(0, len(src), chunk):
        rows = src[i : i + chunk, None] // nc + dr
        cols = src[i : i + chunk, None] % nc + dc
        ok = (rows >= 0) & (rows < nr) & (cols >= 0) & (cols < nc)
        region[rows[ok], cols[ok]] = True
    return region & passable


def _cost_scipy(cost_2d: NDArray[np.float64], rc: NDArray[np.int64], cutoff: float) -> CostDistance:
    """``scipy.sparse.csgraph.dijkstra`` on the 8-neighbour graph of the reachable region."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    cell_cost = cost_2d[1:-1, 1:-1]
    nr, nc = cell_cost.shape
    passable = np.isfinite(cell_cost)
    src_passable = passable[rc[:, 0], rc[:, 1]]
    fastest = float(cell_cost[passable].min()) if passable.any() else math.inf
    # metres per minute of the fastest cell = cell_m / cost; radius in cells = cutoff / cost
    region = _reachable_region(passable, rc[src_passable], cutoff / fastest)
    width = nc + 2
    padded = np.zeros((nr + 2, width), dtype=bool)
    padded[1:-1, 1:-1] = region
    flat = np.flatnonzero(padded.ravel())
    n = len(flat)
    # non-nodes point to a dummy sink node n without out-edges: no masking needed
    node = np.full(padded.size, n, dtype=np.int32)
    node[flat] = np.arange(n, dtype=np.int32)
    cost_pad = np.zeros(padded.size)
    cost_pad.reshape(nr + 2, width)[1:-1, 1:-1] = np.where(region, cell_cost, 0.0)
    c_nodes = cost_pad[flat]
    nb = flat[:, None] + (_DR * width + _DC)
    cols = node[nb]
    data = cost_pad[nb]
    data += c_nodes[:, None]
    data *= _HALF_LENGTH
    data[cols == n] = 1.0  # edges to the sink: any positive weight
    indptr = np.empty(n + 2, dtype=np.int32)
    indptr[: n + 1] = np.arange(0, 8 * n + 1, 8, dtype=np.int32)
    indptr[n + 1] = 8 * n
    graph = csr_array((data.ravel(), cols.ravel(), indptr), shape=(n + 1, n + 1))

    minutes = np.full((nr, nc), np.inf, dtype=np.float32)
    nearest = np.full((nr, nc), -1, dtype=np.int32)
    src_flat = (rc[:, 0] + 1) * width + rc[:, 1] + 1
    src_nodes = node[src_flat[src_passable]]
    if len(src_nodes):
        # first source wins a shared cell
        uniq, first = np.unique(src_nodes, return_index=True)
        src_of_node = np.flatnonzero(src_passable)[first]
        dist, _, reached_from = dijkstra(
            graph,
            directed=True,
            indices=uniq,
            min_only=True,
            limit=cutoff,
            return_predecessors=True,
        )
        dist, reached_from = dist[:n], reached_from[:n]
        rows, cols_ = np.divmod(flat, width)
        minutes[rows - 1, cols_ - 1] = dist
        ok = reached_from >= 0
        near = np.full(n, -1, dtype=np.int32)
        near[ok] = src_of_node[np.searchsorted(uniq, reached_from[ok])]
        nearest[rows - 1, cols_ - 1] = near
    # sources on impassable cells reach their own cell only
    for i in np.flatnonzero(~src_passable)[::-1]:
        r, c = rc[i]
        minutes[r, c] = 0.0
        nearest[r, c] = i
    settled = int(np.count_nonzero(np.isfinite(minutes)))
    return CostDistance(minutes, nearest, settled, n, "scipy")


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
