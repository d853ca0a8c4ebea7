"""Every (cell, facility) pair within a time: the reach that capacity analyses read."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray
from gridplan._validate import Problems, as_float
from gridplan.access._checks import capacity_problems, check_minutes
from gridplan.errors import InputError
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.friction import check_speed_raster
from gridplan.travel.friction import speed_surface as raster_speed_surface
from gridplan.travel.models import MODEL_NAMES
from gridplan.travel.pairs import Pairs, sort_pairs
from gridplan.travel.raster import RasterModel, raster_facility_pairs
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH, check_speed_detour
from gridplan.travel.straight import StraightLineModel

ReachModel = Literal["straight", "raster", "network"]
REACH_MODELS: tuple[str, ...] = MODEL_NAMES  # every model gives its pairs


def unit_sums(
    surface: PopulationSurface,
    values: FloatArray,
    where: BoolArray | None = None,
) -> FloatArray:
    """The sum of per-cell ``values`` (flat) over each unit's cells (``where`` only, if given)."""
    unit = surface.unit_index.ravel()
    sel = unit >= 0 if where is None else where & (unit >= 0)
    n = len(surface.unit_ids)
    return np.bincount(unit[sel], weights=values[sel], minlength=n).astype(np.float64)


def _cell_dtype(grid: CellGrid) -> type[np.signedinteger[Any]]:
    return np.int32 if grid.nrows * grid.ncols < 2**31 else np.int64


# --- reach --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Reach:
    """Travel time of every (cell, facility) pair within ``max_minutes``: a sparse COO matrix.

    Attributes
    ----------
    grid
        The cell grid.
    mask
        The cells assessed (``bool`` of ``grid.shape``); pairs exist only for them.
    cell
        Flat cell index (``row * ncols + col``) of each pair.
    facility
        Facility index of each pair (rows of the ``facilities_xy`` given).
    minutes
        ``float32`` travel time of each pair, at most ``max_minutes``.
    n_facilities
        Number of facilities (including those that reach no cell).
    max_minutes
        Pairs up to this time (inclusive) are all present; ``inf`` when the
        caller vouches for every pair (:meth:`from_arrays`).
    model, params
        How the times were computed.

    Pairs are sorted by facility, then minutes, then cell, so each facility's
    cells form one slice (:meth:`indptr`), nearest first.
    """

    grid: CellGrid
    mask: BoolArray
    cell: NDArray[np.signedinteger[Any]]
    facility: Int32Array
    minutes: Float32Array
    n_facilities: int
    max_minutes: float
    model: str = "given"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        return len(self.cell)

    @property
    def nbytes(self) -> int:
        """Bytes held by the pair arrays (the mask excluded)."""
        return int(self.cell.nbytes + self.facility.nbytes + self.minutes.nbytes)

    def indptr(self) -> IntArray:
        """Start of each facility's slice of the pairs, and the end (``n_facilities + 1``)."""
        return np.searchsorted(self.facility, np.arange(self.n_facilities + 1)).astype(np.int64)

    def cells_per_facility(self) -> IntArray:
        """Number of cells each facility reaches within ``max_minutes``."""
        return np.diff(self.indptr())

    def within(self, max_minutes: float) -> Reach:
        """The pairs within ``max_minutes`` (at most :attr:`max_minutes`), same order."""
        p = capacity_problems()
        t = check_minutes(p, "max_minutes", max_minutes, upper=self.max_minutes)
        p.raise_if_any()
        assert t is not None
        if t >= self.max_minutes:
            return self
        keep = self.minutes <= np.float32(t)
        return Reach(
            self.grid,
            self.mask,
            self.cell[keep],
            self.facility[keep],
            self.minutes[keep],
            self.n_facilities,
            t,
            self.model,
            dict(self.params),
        )

    def nearest_minutes(self) -> Float32Array:
        """Minutes from each cell to its nearest facility (``inf`` where none within reach)."""
        out = np.full(self.grid.nrows * self.grid.ncols, np.inf, dtype=np.float32)
        np.minimum.at(out, self.cell, self.minutes)
        return out.reshape(self.grid.shape)

    @classmethod
    def from_pairs(
        cls,
        grid: CellGrid,
        mask: BoolArray,
        cells: NDArray[np.signedinteger[Any]],
        pairs: Pairs,
        model: str,
    ) -> Reach:
        """A reach from a travel-time model's pairs of the masked cells.

        ``cells`` is the flat cell index of each point of ``pairs``, in
        increasing order (``numpy.flatnonzero(mask)``), so that the pairs'
        order (facility, minutes, point) is the reach's (facility, minutes,
        cell).  Pairs whose minutes round to more than ``float32(max_minutes)``
        (possible for the network's ``float64`` minutes) are left out.
        """
        minutes = pairs.minutes.astype(np.float32, copy=False)
        point, facility = pairs.point, pairs.facility
        keep = minutes <= np.float32(pairs.max_minutes)
        if not keep.all():
            point, facility, minutes = point[keep], facility[keep], minutes[keep]
        params = {**pairs.params, "max_minutes": pairs.max_minutes}
        return cls(
            grid,
            mask,
            cells[point],
            facility.astype(np.int32, copy=False),
            minutes,
            pairs.n_facilities,
            pairs.max_minutes,
            model,
            params,
        )

    @classmethod
    def from_arrays(
        cls,
        grid: CellGrid,
        cell: ArrayLike,
        facility: ArrayLike,
        minutes: ArrayLike,
        n_facilities: int,
        *,
        max_minutes: float = math.inf,
        mask: ArrayLike | None = None,
        model: str = "given",
        params: Mapping[str, Any] | None = None,
    ) -> Reach:
        """A reach from given pairs (flat cell index, facility index, minutes).

        ``max_minutes`` says up to which time the pairs are complete (default
        ``inf``: every pair that matters is given); pairs beyond it and pairs
        on cells outside ``mask`` (default: every cell) are dropped.  Pairs
        may come in any order; each (cell, facility) at most once.
        """
        p = capacity_problems()
        c = np.asarray(cell).ravel()
        f = np.asarray(facility).ravel()
        m = np.asarray(minutes, dtype=np.float64).ravel() if np.size(minutes) else np.zeros(0)
        n_fac = _check_pair_arrays(p, grid, c, f, m, n_facilities)
        mx = as_float(max_minutes)
        if mx is None or mx <= 0:
            p.add(
                "capacity.threshold",
                f"max_minutes must be a number of minutes above 0, got {max_minutes!r}",
                name="max_minutes",
                value=max_minutes,
            )
        mk = np.ones(grid.shape, dtype=bool)
        if mask is not None and p.shape("mask", mask, grid.shape):
            mk = np.asarray(mask, dtype=bool)
        p.raise_if_any()
        assert mx is not None
        c = c.astype(np.int64)
        keep = (m <= mx) & mk.ravel()[c]
        c, f, m32 = sort_pairs(c[keep], f[keep].astype(np.int64), m[keep].astype(np.float32), n_fac)
        n_dup = len(c) - np.unique(f * (grid.nrows * grid.ncols) + c).size
        if n_dup:
            p.add(
                "capacity.pairs_duplicate",
                "some (cell, facility) pairs are given more than once",
                n=n_dup,
            )
            p.raise_if_any()
        return cls(
            grid,
            mk,
            c.astype(_cell_dtype(grid)),
            f.astype(np.int32),
            m32,
            n_fac,
            mx,
            model,
            dict(params or {}),
        )


def _check_pair_arrays(
    p: Problems,
    grid: CellGrid,
    cell: NDArray[Any],
    facility: NDArray[Any],
    minutes: FloatArray,
    n_facilities: Any,
) -> int:
    """Problems of given pairs (lengths, index types and ranges, times); the facility count."""
    size = grid.nrows * grid.ncols
    try:
        n_fac = int(n_facilities)
    except (TypeError, ValueError):
        n_fac = -1
    if n_fac < 0 or isinstance(n_facilities, (bool, np.bool_)):
        p.add(
            "capacity.n_facilities",
            f"n_facilities must be a whole number ≥ 0, got {n_facilities!r}",
            value=n_facilities,
        )
    if not (len(cell) == len(facility) == len(minutes)):
        p.add(
            "capacity.pairs_length",
            f"cell, facility and minutes must have one value per pair, got lengths "
            f"{len(cell)}, {len(facility)}, {len(minutes)}",
            lengths=[len(cell), len(facility), len(minutes)],
        )
    for name, arr in (("cell", cell), ("facility", facility)):
        if len(arr) and not np.issubdtype(arr.dtype, np.integer):
            p.add(
                "capacity.pairs_index",
                f"{name} must hold integer indices, got {arr.dtype}",
                name=name,
                dtype=str(arr.dtype),
            )
    if np.issubdtype(cell.dtype, np.integer) and len(cell):
        outside = (cell < 0) | (cell >= size)
        text = f"{{n}} cell index(es) outside the {grid.nrows}×{grid.ncols} grid"
        p.count("capacity.pairs_cell", outside, text, size=size)
    if np.issubdtype(facility.dtype, np.integer) and len(facility) and n_fac >= 0:
        outside = (facility < 0) | (facility >= n_fac)
        text = f"{{n}} facility index(es) outside 0..{n_fac - 1}"
        p.count("capacity.pairs_facility", outside, text, n_facilities=n_fac)
    bad = ~np.isfinite(minutes) | (minutes < 0)
    p.count("capacity.pairs_minutes", bad, "{n} travel time(s) are negative or not finite")
    return n_fac


def facility_reach(
    grid: CellGrid,
    mask: ArrayLike,
    facilities_xy: ArrayLike,
    *,
    model: ReachModel = "straight",
    speed_kmh: float | None = None,
    detour: float = DEFAULT_DETOUR,
    max_minutes: float,
    speed_surface: ArrayLike | RasterModel | None = None,
    mode: str = "walk",
    network: Any = None,
) -> Reach:
    """Travel time from every masked cell to every facility within ``max_minutes``.

    Parameters
    ----------
    grid, mask
        The cell grid and the cells to answer (e.g. ``surface.population > 0``).
    facilities_xy
        ``(n, 2)`` metric coordinates in the grid's CRS (as
        :func:`gridplan.facilities.table.facility_xy` gives); pair facility indices
        are rows of this array.
    model
        ``straight``: straight line × ``detour`` at ``speed_kmh`` (default
        :data:`~gridplan.travel.speeds.MODE_SPEEDS_KMH` ``["walk"]``), the same
        minutes as :class:`~gridplan.travel.straight.StraightLineModel`.  Found with
        a k-d tree of the masked cell centres
        (``cKDTree.sparse_distance_matrix`` with radius ``max_minutes ×
        speed / detour``, in chunks of facilities).
        ``raster``: the AccessMod-style friction surface of
        :mod:`gridplan.travel.costdistance`, one :func:`~gridplan.travel.costdistance.cost_distance`
        run per facility with the cutoff.  Each run works on a window of
        radius ``max_minutes × fastest speed`` around its facility (no path
        within the cutoff leaves it, so the minutes are those of a run on the
        whole grid), so its work grows with the area reachable.  Travel may
        cross unmasked cells.  As :class:`~gridplan.travel.raster.RasterModel`,
        facilities outside the grid or on a barrier (speed 0) reach nothing
        and are listed in ``params``.
        ``network``: the road network of ``network`` (a
        :class:`~gridplan.travel.network.NetworkModel`), the journeys of its
        ``travel_times`` per facility (:meth:`~gridplan.travel.network.NetworkModel.pairs`:
        one Dijkstra per facility with the cutoff); ``max_minutes`` is capped
        by the model's ``cutoff_min``.
    speed_kmh, detour
        Straight model: speed and detour factor (checked as the straight
        model does: 0.5–150 km/h, 1.0–3.0).  Raster model without
        ``speed_surface``: ``speed_kmh`` is the off-road base speed of
        :func:`gridplan.travel.friction.speed_surface` for ``mode`` (default the
        mode's off-road speed); ``detour`` is not used.
    max_minutes
        Pairs up to this time (inclusive) are kept.
    speed_surface
        Raster model: speeds (km/h per cell, 0 = barrier) on ``grid``, or a
        :class:`~gridplan.travel.raster.RasterModel` whose speed surface
        (land cover, roads, DEM) is used.  Default: a uniform surface from
        ``mode`` and ``speed_kmh``.

    Memory: pairs = Σ over facilities of the masked cells each reaches, 12
    bytes a pair (see the module's docstring for sizes).
    """
    p = capacity_problems()
    p.choice("capacity.model", "model", model, REACH_MODELS)
    mk = np.asarray(mask, dtype=bool) if p.shape("mask", mask, grid.shape) else None
    xy = p.points("facilities_xy", facilities_xy)
    t = check_minutes(p, "max_minutes", max_minutes)
    speed: Float32Array | None = None
    v = MODE_SPEEDS_KMH["walk"] if speed_kmh is None else speed_kmh
    if model == "straight":
        check_speed_detour(p, v, detour)
    elif model == "raster":
        speed = _raster_speeds(p, grid, speed_surface, speed_kmh, mode)
    elif model == "network" and not hasattr(network, "pairs"):
        p.add("capacity.network", "the network model needs network=NetworkModel(...)")
    p.raise_if_any()
    assert mk is not None and xy is not None and t is not None

    cells = np.flatnonzero(mk).astype(_cell_dtype(grid))
    if model == "raster":
        assert speed is not None
        pairs = raster_facility_pairs(grid, speed, mk, xy, t)
        pairs.params["mode"] = mode
    else:
        points = np.column_stack(grid.centres(*np.divmod(cells, grid.ncols)))
        travel = StraightLineModel(float(v), float(detour)) if model == "straight" else network
        pairs = travel.pairs(grid, points, xy, t)
    return Reach.from_pairs(grid, mk, cells, pairs, model)


def _raster_speeds(
    p: Problems,
    grid: CellGrid,
    speed_surface: ArrayLike | RasterModel | None,
    speed_kmh: float | None,
    mode: str,
) -> Float32Array | None:
    try:
        if isinstance(speed_surface, RasterModel):
            return speed_surface.speed_surface(grid)
        if speed_surface is None:
            return raster_speed_surface(grid, mode=mode, base_speed_kmh=speed_kmh)
    except InputError as err:
        p.merge(err)
        return None
    if not p.shape("speed_surface", speed_surface, grid.shape):
        return None
    s = np.asarray(speed_surface)
    return s.astype(np.float32) if check_speed_raster(p, "speed_surface", s) else None
