"""Capacity-aware accessibility: every facility's reach, capacity coverage and Gaussian 2SFCA.

The 15-minute KPIs of :mod:`gridplan.coverage` only ask whether a cell's
*nearest* facility is close enough.  A facility that is close but full does
not serve anybody more, so two analyses here look at every facility within
the threshold of every cell, with the facilities' capacities:

* :func:`capacity_coverage`: AccessMod 5's *geographic coverage* analysis
  (capacity analysis).  Facilities take, one after another, the residents
  nearest to them until their capacity is used up; residents taken are
  removed before the next facility.
* :func:`g2sfca`: the Gaussian two-step floating catchment area method
  (Dai 2010; 2SFCA of Luo & Wang 2003): supply per resident of each cell,
  counting every facility within ``d0`` minutes with a Gaussian distance decay
  (:func:`gridplan.coverage.gaussian_weight`).

Both read one sparse cell × facility travel-time structure, a :class:`Reach`,
built once by :func:`facility_reach` (or :meth:`Reach.from_arrays`).

Memory
------
A :class:`Reach` holds one entry per (cell, facility) pair within
``max_minutes``: ``pairs = Σ_j (masked cells reachable from facility j)``, at
12 bytes a pair (``int32`` cell, ``int32`` facility, ``float32`` minutes; 16
on grids of 2³¹ cells or more).  A facility reaches about ``π·R²/cell²``
cells (``R`` the farthest it gets in ``max_minutes``; the raster model's
8-neighbour moves reach an octagon of ``2√2·R²/cell²``), fewer where the mask
(populated cells) is sparse.  Building a reach needs about twice its final
size (k-d tree, per-chunk sorting, concatenation); :func:`g2sfca` adds 4
bytes a pair (the weights), :func:`capacity_coverage` only grid-sized arrays.
Shijiazhuang at 100 m (1.41 M populated cells), the 660 primary-care points of
the illustrative network (``benchmarks/bench_capacity.py``):

=====================================  =======  ============  ==========  ======  ===========
case (straight: detour 1.3)            R        pairs/facil.  pairs       MB      build peak
=====================================  =======  ============  ==========  ======  ===========
straight, walk 4.8 km/h, 15 min        923 m    277           182,820     2.1     81 MB
raster, uniform 4.8 km/h, 15 min       1.2 km   409           269,940     3.1     31 MB
straight, walk 4.8 km/h, 30 min        1.8 km   1,085         716,040     8.2     81 MB
raster, uniform 4.8 km/h, 30 min       2.4 km   1,633         1,077,463   12.3    51 MB
straight, 30 km/h, 30 min              11.5 km  41,036        27.1 M      310     660 MB
raster, uniform 30 km/h, 30 min        15 km    62,124        41.0 M      469     951 MB
=====================================  =======  ============  ==========  ======  ===========

Capacities
----------
:func:`facility_capacity` turns a facility table into residents served per
facility: a capacity column if given, else GPs × :data:`RESIDENTS_PER_GP`,
else (optionally) doctors × a residents-per-doctor ratio, else the assumed
default of the facility's type (:data:`DEFAULT_RESIDENTS_BY_TYPE`).  Every
row says which rule gave its number (``capacity_source``).

All inputs are checked at the boundary: every problem of one call is reported
together in one :class:`~gridplan.errors.InputError` with code
``capacity.invalid`` whose ``params["problems"]`` lists each problem's code
(see :mod:`gridplan.i18n`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from gridplan._validate import Problems, positive
from gridplan.costdistance import RasterModel, cost_distance
from gridplan.costdistance import speed_surface as raster_speed_surface
from gridplan.coverage import gaussian_weight
from gridplan.errors import InputError
from gridplan.surface import CellGrid, PopulationSurface
from gridplan.traveltime import DEFAULT_DETOUR, MODE_SPEEDS_KMH

__all__ = [
    "CAPACITY_SOURCES",
    "DEFAULT_RESIDENTS_BY_TYPE",
    "REACH_MODELS",
    "RESIDENTS_PER_GP",
    "CapacityResult",
    "G2sfcaResult",
    "Reach",
    "capacity_coverage",
    "facility_capacity",
    "facility_reach",
    "facility_supply",
    "g2sfca",
    "order_by",
]

ReachModel = Literal["straight", "raster", "network"]
REACH_MODELS: tuple[str, ...] = ("straight", "raster", "network")

#: Pairs produced per chunk when building a reach (bounds the temporaries).
CHUNK_PAIRS = 4_000_000

#: Residents one facility of each primary-care type is assumed to serve when
#: the table gives neither a capacity nor staff.  The centres follow the
#: Zhengzhou standard (seed 004: one community health centre per street or per
#: 30,000–100,000 residents; one township health centre per township): 50,000
#: is inside that band and is the rule that places the illustrative network
#: (:func:`gridplan.facilities.illustrative_facilities`, ``per_residents``;
#: the 196 centres of Shijiazhuang's county medical communities, seed 003,
#: serve roughly 37,000 residents each).  The township figure is *assumed*
#: equal to the community centre's (township sizes vary widely; none are
#: published for our areas).  Stations: 10,000, the illustrative
#: network's rule (:data:`gridplan.facilities.STATION_PER_RESIDENTS`), *assumed*
#: (no national count standard).  Village clinics: 1,000, *assumed*: about
#: one administrative village's residents (one clinic per village, seeds 001
#: and 004; village sizes unverified).  Hospitals and other types have no
#: default: their primary-care capacity is not a per-type constant.
DEFAULT_RESIDENTS_BY_TYPE: dict[str, float] = {
    "社区卫生服务中心": 50_000.0,
    "乡镇卫生院": 50_000.0,
    "社区卫生服务站": 10_000.0,
    "村卫生室": 1_000.0,
}

#: Residents served per general practitioner: the Rizhao target of 4.8 GPs per
#: 10,000 residents (seed 002), i.e. about 2,083 residents per GP.  Reading a
#: staffing target as a GP's capacity is an assumption.  (Zhengzhou's floor of
#: 2 GPs per 10,000, seed 004, would give 5,000.)
RESIDENTS_PER_GP: float = 10_000 / 4.8

#: Labels of the rules :func:`facility_capacity` uses (``capacity_source``).
CAPACITY_SOURCES: dict[str, dict[str, str]] = {
    "column": {"zh": "表中给出的服务能力", "en": "capacity given in the table"},
    "gps": {
        "zh": "全科医生数 × 每名全科医生服务人口（日照：每万人 4.8 名全科医生）",
        "en": "GPs × residents per GP (Rizhao: 4.8 GPs per 10,000 residents)",
    },
    "doctors": {
        "zh": "医生数 × 每名医生服务人口（给定参数）",
        "en": "doctors × residents per doctor (given ratio)",
    },
    "type_default": {
        "zh": "按机构类型的假定服务人口（假定值）",
        "en": "assumed residents per facility of its type (assumed)",
    },
}


# --- validation ---------------------------------------------------------------------


class _Problems(Problems):
    """Collects every problem of one call, raised together as one InputError."""

    def __init__(self) -> None:
        super().__init__("capacity.invalid", "cannot run the capacity-aware accessibility analysis")

    def merge(self, err: InputError) -> None:
        """Take over the problems of an InputError raised by another module's checks."""
        details = err.params.get("problems")
        if isinstance(details, list) and len(details) == len(err.problems):
            for text, detail in zip(err.problems, details, strict=True):
                params = dict(detail)
                self.add(str(params.pop("code", err.code)), text, **params)
        else:
            self.add(err.code, str(err), **err.params)

    def minutes(self, name: str, value: Any, *, upper: float | None = None) -> float | None:
        """A threshold in minutes: finite, above 0 and, if given, at most ``upper``."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if isinstance(value, (bool, np.bool_)) or not math.isfinite(v) or v <= 0:
            self.add(
                "capacity.threshold",
                f"{name} must be a finite number of minutes above 0, got {value!r}",
                name=name,
                value=value,
            )
            return None
        if upper is not None and v > upper:
            self.add(
                "capacity.beyond_reach",
                f"{name} = {v:g} min is beyond the reach's {upper:g} min: pairs farther than "
                f"that were not computed (rebuild the reach with max_minutes ≥ {v:g})",
                name=name,
                value=v,
                max_minutes=upper,
            )
            return None
        return v

    def values(
        self, name: str, values: Any, n_expected: int, *, allow_inf: bool = False
    ) -> NDArray[np.float64] | None:
        """Per-facility numbers: one per facility, not NaN, not negative."""
        try:
            v = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            self.add("capacity.not_numeric", f"{name} must be numbers", name=name)
            return None
        if v.ndim != 1:
            v = v.reshape(-1) if v.ndim == 0 else v
        ok = True
        if v.ndim != 1 or len(v) != n_expected:
            self.add(
                "capacity.length",
                f"{name} has {v.size} value(s), expected one per facility ({n_expected})",
                name=name,
                n=int(v.size),
                expected=int(n_expected),
            )
            ok = False
        bad = np.isnan(v) if allow_inf else ~np.isfinite(v)
        if bad.any():
            self.add(
                "capacity.nonfinite",
                f"{name}: {int(bad.sum())} value(s) are not numbers"
                + ("" if allow_inf else " or infinite"),
                name=name,
                n=int(bad.sum()),
            )
            ok = False
        neg = v < 0
        if neg.any():
            self.add(
                "capacity.negative",
                f"{name}: {int(neg.sum())} value(s) are negative",
                name=name,
                n=int(neg.sum()),
            )
            ok = False
        return v.ravel() if ok else None


def _bincount(
    index: NDArray[np.integer[Any]], weights: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    return np.bincount(index, weights=weights, minlength=n).astype(np.float64)


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
    mask: NDArray[np.bool_]
    cell: NDArray[np.signedinteger[Any]]
    facility: NDArray[np.int32]
    minutes: NDArray[np.float32]
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

    def indptr(self) -> NDArray[np.int64]:
        """Start of each facility's slice of the pairs, and the end (``n_facilities + 1``)."""
        return np.searchsorted(self.facility, np.arange(self.n_facilities + 1)).astype(np.int64)

    def cells_per_facility(self) -> NDArray[np.int64]:
        """Number of cells each facility reaches within ``max_minutes``."""
        return np.diff(self.indptr())

    def within(self, max_minutes: float) -> Reach:
        """The pairs within ``max_minutes`` (at most :attr:`max_minutes`), same order."""
        p = _Problems()
        t = p.minutes("max_minutes", max_minutes, upper=self.max_minutes)
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

    def nearest_minutes(self) -> NDArray[np.float32]:
        """Minutes from each cell to its nearest facility (``inf`` where none within reach)."""
        out = np.full(self.grid.nrows * self.grid.ncols, np.inf, dtype=np.float32)
        np.minimum.at(out, self.cell, self.minutes)
        return out.reshape(self.grid.shape)

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
        p = _Problems()
        size = grid.nrows * grid.ncols
        c = np.asarray(cell)
        f = np.asarray(facility)
        m = np.asarray(minutes, dtype=np.float64) if np.size(minutes) else np.zeros(0)
        c, f, m = c.ravel(), f.ravel(), m.ravel()
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
        if not (len(c) == len(f) == len(m)):
            p.add(
                "capacity.pairs_length",
                f"cell, facility and minutes must have one value per pair, got lengths "
                f"{len(c)}, {len(f)}, {len(m)}",
                lengths=[len(c), len(f), len(m)],
            )
        for name, arr in (("cell", c), ("facility", f)):
            if len(arr) and not np.issubdtype(arr.dtype, np.integer):
                p.add(
                    "capacity.pairs_index",
                    f"{name} must hold integer indices, got {arr.dtype}",
                    name=name,
                    dtype=str(arr.dtype),
                )
        if np.issubdtype(c.dtype, np.integer) and len(c):
            bad = int(np.count_nonzero((c < 0) | (c >= size)))
            if bad:
                p.add(
                    "capacity.pairs_cell",
                    f"{bad} cell index(es) outside the {grid.nrows}×{grid.ncols} grid",
                    n=bad,
                    size=size,
                )
        if np.issubdtype(f.dtype, np.integer) and len(f) and n_fac >= 0:
            bad = int(np.count_nonzero((f < 0) | (f >= n_fac)))
            if bad:
                p.add(
                    "capacity.pairs_facility",
                    f"{bad} facility index(es) outside 0..{n_fac - 1}",
                    n=bad,
                    n_facilities=n_fac,
                )
        bad = int(np.count_nonzero(~np.isfinite(m) | (m < 0)))
        if bad:
            p.add(
                "capacity.pairs_minutes",
                f"{bad} travel time(s) are negative or not finite",
                n=bad,
            )
        try:
            mx = float(max_minutes)
        except (TypeError, ValueError):
            mx = math.nan
        if math.isnan(mx) or mx <= 0:
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
        c = c.astype(np.int64)
        f = f.astype(np.int64)
        keep = (m <= mx) & mk.ravel()[c]
        c, f, m32 = c[keep], f[keep], m[keep].astype(np.float32)
        order = np.lexsort((c, m32, f))
        c, f, m32 = c[order], f[order], m32[order]
        key = f * size + c
        dup = np.unique(key).size != key.size
        if dup:
            p.add(
                "capacity.pairs_duplicate",
                "some (cell, facility) pairs are given more than once",
                n=int(key.size - np.unique(key).size),
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
        :func:`gridplan.facilities.facility_xy` gives); pair facility indices
        are rows of this array.
    model
        ``straight``: straight line × ``detour`` at ``speed_kmh`` (default
        :data:`~gridplan.traveltime.MODE_SPEEDS_KMH` ``["walk"]``), the same
        minutes as :class:`~gridplan.traveltime.StraightLineModel`.  Found with
        a k-d tree of the masked cell centres
        (``cKDTree.sparse_distance_matrix`` with radius ``max_minutes ×
        speed / detour``, in chunks of facilities).
        ``raster``: the AccessMod-style friction surface of
        :mod:`gridplan.costdistance`, one :func:`~gridplan.costdistance.cost_distance`
        run per facility with the cutoff.  Each run works on a window of
        radius ``max_minutes × fastest speed`` around its facility (no path
        within the cutoff leaves it, so the minutes are those of a run on the
        whole grid), so its work grows with the area reachable.  Travel may
        cross unmasked cells.  As :class:`~gridplan.costdistance.RasterModel`,
        facilities outside the grid or on a barrier (speed 0) reach nothing
        and are listed in ``params``.
        ``network``: the road network of ``network`` (a
        :class:`~gridplan.network.NetworkModel`), the journeys of its
        ``travel_times`` per facility (:meth:`~gridplan.network.NetworkModel.pair_minutes`:
        one Dijkstra per facility with the cutoff); ``max_minutes`` is capped
        by the model's ``cutoff_min``.
    speed_kmh, detour
        Straight model: speed and detour factor (checked as the straight
        model does: 0.5–150 km/h, 1.0–3.0).  Raster model without
        ``speed_surface``: ``speed_kmh`` is the off-road base speed of
        :func:`gridplan.costdistance.speed_surface` for ``mode`` (default the
        mode's off-road speed); ``detour`` is not used.
    max_minutes
        Pairs up to this time (inclusive) are kept.
    speed_surface
        Raster model: speeds (km/h per cell, 0 = barrier) on ``grid``, or a
        :class:`~gridplan.costdistance.RasterModel` whose speed surface
        (land cover, roads, DEM) is used.  Default: a uniform surface from
        ``mode`` and ``speed_kmh``.

    Memory: pairs = Σ over facilities of the masked cells each reaches, 12
    bytes a pair (see the module's docstring for sizes).
    """
    p = _Problems()
    if model not in REACH_MODELS:
        p.add(
            "capacity.model",
            f"model must be one of {', '.join(REACH_MODELS)}, got {model!r}",
            value=model,
            allowed=list(REACH_MODELS),
        )
    mk: NDArray[np.bool_] | None = None
    if p.shape("mask", mask, grid.shape):
        mk = np.asarray(mask, dtype=bool)
    xy = _facility_points(p, facilities_xy)
    t = p.minutes("max_minutes", max_minutes)
    speed: NDArray[np.float32] | None = None
    mpm = 0.0
    if model == "straight":
        v = MODE_SPEEDS_KMH["walk"] if speed_kmh is None else speed_kmh
        mpm = _straight_minutes_per_metre(p, v, detour)
    elif model == "raster":
        speed = _raster_speeds(p, grid, speed_surface, speed_kmh, mode)
    elif model == "network" and not hasattr(network, "pair_minutes"):
        p.add("capacity.network", "the network model needs network=NetworkModel(...)")
    p.raise_if_any()
    assert mk is not None and xy is not None and t is not None

    if model == "straight":
        cell, fac, mins = _straight_pairs(grid, mk, xy, mpm, t)
        params: dict[str, Any] = {
            "speed_kmh": MODE_SPEEDS_KMH["walk"] if speed_kmh is None else float(speed_kmh),
            "detour": float(detour),
            "radius_m": t / mpm,
        }
    elif model == "network":
        cell, fac, mins = _network_pairs(grid, mk, xy, network, t)
        params = {"mode": network.mode, "cutoff_min": float(network.cutoff_min)}
        t = min(t, float(network.cutoff_min))
    else:
        assert speed is not None
        cell, fac, mins, params = _raster_pairs(grid, mk, xy, speed, t)
        params["mode"] = mode
    params["max_minutes"] = t
    return Reach(
        grid,
        mk,
        cell,
        fac,
        mins,
        len(xy),
        t,
        model,
        params,
    )


def _facility_points(p: _Problems, facilities_xy: ArrayLike) -> NDArray[np.float64] | None:
    try:
        xy = np.asarray(facilities_xy, dtype=np.float64)
    except (TypeError, ValueError):
        p.add("capacity.facilities_shape", "facilities must be (x, y) pairs of numbers", shape=None)
        return None
    if xy.size == 0:
        xy = xy.reshape(0, 2)
    if xy.ndim != 2 or xy.shape[1] != 2:
        p.add(
            "capacity.facilities_shape",
            f"facilities must be (x, y) pairs, got shape {xy.shape}",
            shape=tuple(xy.shape),
        )
        return None
    bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if len(bad):
        p.add(
            "capacity.facilities_nonfinite",
            f"{len(bad)} facility coordinate(s) are not finite numbers: rows {bad[:10].tolist()}",
            n=len(bad),
            indices=bad.tolist(),
        )
        return None
    return xy


def _straight_minutes_per_metre(p: _Problems, speed_kmh: Any, detour: Any) -> float:
    """``detour / speed`` in minutes per metre, with the straight model's ranges."""
    try:
        v = float(speed_kmh)
    except (TypeError, ValueError):
        v = math.nan
    try:
        d = float(detour)
    except (TypeError, ValueError):
        d = math.nan
    ok = True
    if not 0.5 <= v <= 150:
        p.add(
            "traveltime.speed",
            f"speed must be between 0.5 and 150 km/h, got {speed_kmh!r}",
            speed=speed_kmh,
        )
        ok = False
    if not 1.0 <= d <= 3.0:
        p.add(
            "traveltime.detour",
            f"detour factor must be between 1.0 and 3.0, got {detour!r}",
            detour=detour,
        )
        ok = False
    # the same float arithmetic as StraightLineModel.minutes_per_metre
    return d / (v * 1000.0 / 60.0) if ok else 0.0


def _raster_speeds(
    p: _Problems,
    grid: CellGrid,
    speed_surface: ArrayLike | RasterModel | None,
    speed_kmh: float | None,
    mode: str,
) -> NDArray[np.float32] | None:
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
    if not np.issubdtype(s.dtype, np.number) or np.issubdtype(s.dtype, np.complexfloating):
        p.add(
            "costdistance.speed_dtype", f"speed must be numeric, got {s.dtype}", dtype=str(s.dtype)
        )
        return None
    n_bad = int(np.count_nonzero(~np.isfinite(s)))
    n_neg = int(np.count_nonzero(s < 0))
    if n_bad:
        p.add(
            "costdistance.nonfinite_speed",
            f"speed_surface: {n_bad} speed(s) are not finite numbers",
            name="speed_surface",
            n=n_bad,
        )
    if n_neg:
        p.add(
            "costdistance.negative_speed",
            f"speed_surface: {n_neg} speed(s) are negative",
            name="speed_surface",
            n=n_neg,
        )
    return None if n_bad or n_neg else s.astype(np.float32)


def _time_cell_order(cell: NDArray[Any], mins: NDArray[np.float32]) -> NDArray[np.intp]:
    """Order of pairs by (minutes, cell): one sort of a unique 64-bit key.

    Minutes are ≥ 0, and the bits of non-negative float32 numbers sort like the
    numbers; cell indices fit 32 bits (grids have fewer than 2³¹ cells in
    practice; larger ones fall back to ``lexsort``).
    """
    if len(cell) and int(cell.max()) >= 2**32:
        return np.lexsort((cell, mins))
    key = (mins + np.float32(0.0)).view(np.uint32).astype(np.uint64) << np.uint64(32)
    key |= cell.astype(np.uint64)
    return np.argsort(key)


def _sort_pairs(
    cell: NDArray[Any], fac: NDArray[np.int64], mins: NDArray[np.float32], n_fac: int
) -> tuple[NDArray[Any], NDArray[np.int64], NDArray[np.float32]]:
    """Pairs of facilities ``0..n_fac-1`` sorted by (facility, minutes, cell)."""
    order = _time_cell_order(cell, mins)
    # stable sort of the facility on top: a radix sort for small integer types
    small = np.int16 if n_fac < 2**15 else np.int32
    order = order[np.argsort(fac[order].astype(small), kind="stable")]
    return cell[order], fac[order], mins[order]


def _concat(
    parts: list[tuple[NDArray[Any], NDArray[Any], NDArray[Any]]],
    cell_dtype: type[np.signedinteger[Any]],
) -> tuple[NDArray[Any], NDArray[np.int32], NDArray[np.float32]]:
    """One array each of cells, facilities and minutes, in their final dtypes."""
    if not parts:
        return np.zeros(0, cell_dtype), np.zeros(0, np.int32), np.zeros(0, np.float32)
    cell = np.concatenate([q[0] for q in parts]).astype(cell_dtype, copy=False)
    fac = np.concatenate([q[1] for q in parts]).astype(np.int32, copy=False)
    mins = np.concatenate([q[2] for q in parts]).astype(np.float32, copy=False)
    return cell, fac, mins


#: Most facilities per k-d tree query chunk (their local index sorts as int16).
_MAX_CHUNK_FACILITIES = 2**15 - 1


def _straight_pairs(
    grid: CellGrid,
    mask: NDArray[np.bool_],
    xy: NDArray[np.float64],
    mpm: float,
    max_minutes: float,
) -> tuple[NDArray[Any], NDArray[np.int32], NDArray[np.float32]]:
    """Pairs of the straight model: a k-d tree of the masked cell centres, chunks of facilities."""
    cell_dtype = _cell_dtype(grid)
    rows, cols = np.nonzero(mask)
    if len(rows) == 0 or len(xy) == 0:
        return _concat([], cell_dtype)
    flat = (rows.astype(np.int64) * grid.ncols + cols).astype(cell_dtype)
    x, y = grid.centres(rows, cols)
    tree = cKDTree(np.column_stack([x, y]))
    del x, y, rows, cols
    radius = max_minutes / mpm
    # slightly wider than exact: the float32 minutes decide (≤ max_minutes)
    query_r = radius * (1 + 1e-6) + 1e-6
    per_facility = math.pi * (radius / grid.cell_m + 1) ** 2
    chunk = min(_MAX_CHUNK_FACILITIES, max(1, int(CHUNK_PAIRS // per_facility)))
    mpm32 = np.float32(mpm)
    limit = np.float32(max_minutes)
    parts = []
    for start in range(0, len(xy), chunk):
        part = xy[start : start + chunk]
        sdm = cKDTree(part).sparse_distance_matrix(tree, query_r, output_type="ndarray")
        # StraightLineModel: float32 distance × float32 minutes per metre
        mins = sdm["v"].astype(np.float32) * mpm32
        keep = mins <= limit
        cell, fac, mins = _sort_pairs(flat[sdm["j"][keep]], sdm["i"][keep], mins[keep], len(part))
        del sdm, keep
        parts.append((cell, (fac + start).astype(np.int32), mins))
    return _concat(parts, cell_dtype)


def _network_pairs(
    grid: CellGrid, mask: NDArray[np.bool_], xy: NDArray[np.float64], network: Any, t: float
) -> tuple[NDArray[Any], NDArray[np.int32], NDArray[np.float32]]:
    """Pairs of the road-network model (its per-facility journeys, cutoff ``t``)."""
    cell_dtype = _cell_dtype(grid)
    rows, cols = np.nonzero(mask)
    if len(rows) == 0 or len(xy) == 0:
        return _concat([], cell_dtype)
    x, y = grid.centres(rows, cols)
    pt, fac, mins = network.pair_minutes(grid.crs, np.column_stack([x, y]), xy, t)
    flat = (rows.astype(np.int64) * grid.ncols + cols).astype(cell_dtype)
    mins32 = mins.astype(np.float32)
    keep = mins32 <= np.float32(min(t, float(network.cutoff_min)))
    cell, fac_s, mins_s = _sort_pairs(flat[pt[keep]], fac[keep], mins32[keep], len(xy))
    return _concat([(cell, fac_s, mins_s)], cell_dtype)


def _raster_pairs(
    grid: CellGrid,
    mask: NDArray[np.bool_],
    xy: NDArray[np.float64],
    speed: NDArray[np.float32],
    max_minutes: float,
) -> tuple[NDArray[Any], NDArray[np.int32], NDArray[np.float32], dict[str, Any]]:
    """Pairs of the raster model: one windowed cost-distance run per facility."""
    cell_dtype = _cell_dtype(grid)
    rows, cols, inside = grid.cell_of(xy[:, 0], xy[:, 1])
    on_barrier = np.zeros(len(xy), dtype=bool)
    on_barrier[inside] = speed[rows[inside], cols[inside]] <= 0
    used = np.flatnonzero(inside & ~on_barrier)
    vmax = float(speed.max()) if speed.size else 0.0
    # no path within the cutoff goes farther than cutoff × fastest speed (centre to centre)
    reach_m = max_minutes * vmax * 1000.0 / 60.0
    rad = math.ceil(reach_m / grid.cell_m) + 1
    nr, nc = grid.shape
    parts = []
    settled = 0
    for j in used:
        r, c = int(rows[j]), int(cols[j])
        r0, r1 = max(0, r - rad), min(nr, r + rad + 1)
        c0, c1 = max(0, c - rad), min(nc, c + rad + 1)
        res = cost_distance(speed[r0:r1, c0:c1], grid.cell_m, [[r - r0, c - c0]], max_minutes)
        settled += res.settled
        ok = np.isfinite(res.minutes)
        ok &= mask[r0:r1, c0:c1]
        lr, lc = np.nonzero(ok)
        cell = ((lr.astype(np.int64) + r0) * nc + (lc + c0)).astype(cell_dtype)
        mins = res.minutes[lr, lc]
        order = _time_cell_order(cell, mins)
        parts.append((cell[order], np.full(len(cell), j, dtype=np.int32), mins[order]))
    cell_a, fac_a, mins_a = _concat(parts, cell_dtype)
    params = {
        "window_cells": 2 * rad + 1,
        "max_speed_kmh": vmax,
        "settled": settled,
        "facilities_used": len(used),
        "facilities_outside": np.flatnonzero(~inside).tolist(),
        "facilities_on_barrier": np.flatnonzero(on_barrier).tolist(),
    }
    return cell_a, fac_a, mins_a, params


# --- capacities and supply ----------------------------------------------------------


def facility_capacity(
    facilities: pd.DataFrame,
    *,
    column: str | None = None,
    residents_per_gp: float | None = RESIDENTS_PER_GP,
    residents_per_doctor: float | None = None,
    type_defaults: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Residents each facility can serve, and the rule that gave the number.

    Per row, the first rule that applies:

    1. ``column`` (e.g. a planner's ``capacity`` column), where given;
    2. ``gps`` × ``residents_per_gp`` (default :data:`RESIDENTS_PER_GP`, the
       Rizhao target) where ``gps`` is above 0;
    3. ``doctors`` × ``residents_per_doctor`` where that ratio is given
       (no default: no source for all doctors) and ``doctors`` is above 0;
    4. ``type_defaults[type]`` (default :data:`DEFAULT_RESIDENTS_BY_TYPE`,
       partly assumed).

    A missing or 0 staff count falls through to the next rule (the
    illustrative network has no staff).  Rows no rule covers (hospitals,
    ``其他`` without a capacity) are reported in one InputError.  Pass the
    rows in the order of ``facilities_xy`` (e.g. ``facilities[facility_mask(...)]``).

    Returns
    -------
    pandas.DataFrame
        ``facility_id`` (if the table has it), ``capacity`` (float) and
        ``capacity_source`` (a key of :data:`CAPACITY_SOURCES`), on the
        table's index.
    """
    p = _Problems()
    n = len(facilities)
    cap = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)
    defaults = DEFAULT_RESIDENTS_BY_TYPE if type_defaults is None else type_defaults

    def numbers(name: str) -> NDArray[np.float64]:
        if name not in facilities.columns:
            return np.full(n, np.nan)
        return np.asarray(pd.to_numeric(facilities[name], errors="coerce"), dtype=np.float64)

    ratios = {"residents_per_gp": residents_per_gp, "residents_per_doctor": residents_per_doctor}
    for name, ratio in ratios.items():
        if ratio is not None and not positive(ratio):
            p.add(
                "capacity.ratio",
                f"{name} must be a positive number, got {ratio!r}",
                name=name,
                value=ratio,
            )
    bad_defaults = [k for k, v in defaults.items() if not (math.isfinite(float(v)) and v >= 0)]
    if bad_defaults:
        p.add(
            "capacity.negative",
            f"type_defaults: {len(bad_defaults)} value(s) are negative or not finite",
            name="type_defaults",
            n=len(bad_defaults),
        )
    if column is not None:
        if column not in facilities.columns:
            p.add(
                "capacity.column_missing",
                f"the facility table has no {column!r} column (columns: "
                f"{[str(c) for c in facilities.columns]})",
                column=column,
                columns=[str(c) for c in facilities.columns],
            )
        else:
            given = numbers(column)
            neg = given < 0
            if neg.any():
                p.add(
                    "capacity.negative",
                    f"{column}: {int(neg.sum())} value(s) are negative",
                    name=column,
                    n=int(neg.sum()),
                )
            use = np.isfinite(given) & ~neg
            cap[use], source[use] = given[use], "column"
    staff: Iterable[tuple[str, str, float | None]] = (
        ("gps", "gps", residents_per_gp),
        ("doctors", "doctors", residents_per_doctor),
    )
    for col, key, ratio in staff:
        if ratio is None or not positive(ratio):
            continue
        count = numbers(col)
        use = np.isnan(cap) & np.isfinite(count) & (count > 0)
        cap[use], source[use] = count[use] * float(ratio), key
    types = facilities["type"].astype(str).to_numpy() if "type" in facilities else np.full(n, "")
    by_type = np.array([defaults.get(str(ty), np.nan) for ty in types], dtype=np.float64)
    use = np.isnan(cap) & np.isfinite(by_type)
    cap[use], source[use] = by_type[use], "type_default"
    missing = np.flatnonzero(np.isnan(cap))
    if len(missing):
        ids = (
            facilities["facility_id"].astype(str).to_numpy()[missing]
            if "facility_id" in facilities
            else missing.astype(str)
        )
        kinds = sorted({str(ty) for ty in types[missing]})
        p.add(
            "capacity.no_capacity",
            f"{len(missing)} facilit(y/ies) have no capacity, staff count or default for their "
            f"type ({', '.join(kinds)}): {', '.join(ids[:10].tolist())}",
            n=len(missing),
            types=kinds,
            ids=ids.tolist(),
        )
    p.raise_if_any()
    out = pd.DataFrame({"capacity": cap, "capacity_source": source}, index=facilities.index)
    if "facility_id" in facilities:
        out.insert(0, "facility_id", facilities["facility_id"].to_numpy())
    return out


def facility_supply(
    facilities: pd.DataFrame,
    column: str | None = "gps",
    *,
    missing: float | Literal["error"] = "error",
) -> NDArray[np.float64]:
    """The supply ``S_j`` of 2SFCA: a staff column (``gps``, ``doctors``, ``beds``) or 1 each.

    ``column=None`` counts every facility as 1 (supply unknown: the result
    is then facilities per resident).  Missing values of ``column`` are an
    error unless ``missing`` gives the value to use (e.g. ``1.0``, or the
    median of the known ones: say which in the report).
    """
    p = _Problems()
    n = len(facilities)
    if column is None:
        return np.ones(n)
    if column not in facilities.columns:
        p.add(
            "capacity.column_missing",
            f"the facility table has no {column!r} column (columns: "
            f"{[str(c) for c in facilities.columns]})",
            column=column,
            columns=[str(c) for c in facilities.columns],
        )
        p.raise_if_any()
    v = np.asarray(pd.to_numeric(facilities[column], errors="coerce"), dtype=np.float64)
    gap = ~np.isfinite(v)
    if gap.any():
        if isinstance(missing, str):
            ids = (
                facilities["facility_id"].astype(str).to_numpy()[gap]
                if "facility_id" in facilities
                else np.flatnonzero(gap).astype(str)
            )
            p.add(
                "capacity.missing_supply",
                f"{column}: {int(gap.sum())} facilit(y/ies) without a value: "
                f"{', '.join(ids[:10].tolist())} (give missing=... to fill them)",
                column=column,
                n=int(gap.sum()),
                ids=ids.tolist(),
            )
        v = np.where(gap, 0.0 if isinstance(missing, str) else float(missing), v)
    checked = p.values(column, v, n)
    p.raise_if_any()
    assert checked is not None
    return checked


def order_by(values: ArrayLike, *, descending: bool = True) -> NDArray[np.int64]:
    """Processing order from per-facility values (AccessMod's order field): ties and NaN kept
    in table order, NaN last."""
    v = np.asarray(values, dtype=np.float64)
    key = np.where(np.isnan(v), np.inf, -v if descending else v)
    return np.argsort(key, kind="stable").astype(np.int64)


# --- capacity coverage --------------------------------------------------------------


@dataclass
class CapacityResult:
    """AccessMod-style geographic coverage of a facility network with capacities.

    Per facility (input order): ``capacity``, ``covered`` (residents taken),
    ``full`` (capacity reached), ``reachable`` (residents not yet taken
    within the threshold when its turn came: AccessMod's
    ``amPopTravelTimeMax``), ``catchment_minutes`` (travel time of the
    farthest cell it took residents from, NaN if none) and ``rank`` (its
    position in the processing ``order``).  Per cell: ``remaining``
    (residents not covered) and ``covered_cells`` (``float32`` grids).  Per
    unit of the surface: ``population_by_unit``, ``covered_by_unit``.
    """

    grid: CellGrid
    max_minutes: float
    order: NDArray[np.int64]
    capacity: NDArray[np.float64]
    covered: NDArray[np.float64]
    full: NDArray[np.bool_]
    reachable: NDArray[np.float64]
    catchment_minutes: NDArray[np.float32]
    remaining: NDArray[np.float32]
    covered_cells: NDArray[np.float32]
    unit_ids: list[str]
    population_by_unit: NDArray[np.float64]
    covered_by_unit: NDArray[np.float64]
    total_population: float
    total_covered: float
    not_assessed_population: float
    zone_minutes: float | None = None

    @property
    def share(self) -> float:
        """Covered share of the residents on the map (NaN without residents)."""
        return self.total_covered / self.total_population if self.total_population else math.nan

    @property
    def rank(self) -> NDArray[np.int64]:
        out = np.empty(len(self.order), dtype=np.int64)
        out[self.order] = np.arange(len(self.order))
        return out

    def facility_table(self, facility_ids: ArrayLike | None = None) -> pd.DataFrame:
        """One row per facility (input order)."""
        df = pd.DataFrame(
            {
                "rank": self.rank,
                "capacity": self.capacity,
                "reachable": self.reachable,
                "covered": self.covered,
                "full": self.full,
                "catchment_minutes": self.catchment_minutes,
            }
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            df["used_share"] = np.where(self.capacity > 0, self.covered / self.capacity, np.nan)
        if facility_ids is not None:
            df.insert(0, "facility_id", np.asarray(facility_ids))
        return df

    def unit_table(self) -> pd.DataFrame:
        """Population and covered residents per unit of the surface."""
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(
                self.population_by_unit > 0, self.covered_by_unit / self.population_by_unit, np.nan
            )
        return pd.DataFrame(
            {
                "unit_id": self.unit_ids,
                "population": self.population_by_unit,
                "covered": self.covered_by_unit,
                "share": share,
            }
        )


def _check_surface(p: _Problems, surface: PopulationSurface, reach: Reach) -> bool:
    if surface.grid != reach.grid:
        p.add(
            "capacity.grid_mismatch",
            "the reach and the population surface are on different grids",
            surface=str(surface.grid),
            reach=str(reach.grid),
        )
        return False
    return True


def _check_order(p: _Problems, order: ArrayLike, n: int) -> NDArray[np.int64] | None:
    o = np.asarray(order)
    if o.size == 0:
        o = o.reshape(0)
    ok = (
        o.ndim == 1
        and (o.size == 0 or np.issubdtype(o.dtype, np.integer))
        and len(o) == n
        and np.array_equal(np.sort(o), np.arange(n))
    )
    if not ok:
        p.add(
            "capacity.order",
            f"order must list every facility index 0..{n - 1} exactly once",
            n=n,
        )
        return None
    return o.astype(np.int64)


def capacity_coverage(
    surface: PopulationSurface,
    reach: Reach,
    capacity: ArrayLike,
    order: ArrayLike | None = None,
    *,
    max_minutes: float | None = None,
    zone_minutes: float | None = None,
) -> CapacityResult:
    """AccessMod's geographic coverage (capacity analysis) on the reach's pairs.

    Facilities are processed one at a time in ``order`` (a permutation of
    the facility indices; default: capacity descending, ties in table order;
    see :func:`order_by` for an order column).  Each takes the residents not
    yet covered of the cells within ``max_minutes`` (default: the reach's),
    nearest first, until its ``capacity`` (residents; ``inf`` = no limit) is
    used up; the residents it takes are removed before the next facility.

    Partial cells, as AccessMod 5 (``amCatchmentAnalyst``): cells at equal
    travel time form one zone; the zone where the capacity runs out loses
    the same share of its residents in every cell (AccessMod removes
    ``pop × (capacity left / zone population)`` from the residual
    population).  AccessMod's zones are whole minutes (the cost map is cut
    to integers); ``zone_minutes=1`` reproduces that, the default ``None``
    uses the exact times (zones are then cells at exactly equal times).

    The number of residents covered never exceeds a facility's capacity or a
    cell's residents.  Cells outside the reach's mask are never covered, and
    residents of units without cells (``surface.unplaced``) are not assessed
    (``not_assessed_population``).  Sequential over the facilities (each
    sees what the previous ones left), vectorised over each one's cells.
    """
    p = _Problems()
    grid_ok = _check_surface(p, surface, reach)
    n = reach.n_facilities
    cap = p.values("capacity", capacity, n, allow_inf=True)
    o = None if order is None else _check_order(p, order, n)
    t = reach.max_minutes
    if max_minutes is not None:
        t = p.minutes("max_minutes", max_minutes, upper=reach.max_minutes) or math.nan
    zone = None
    if zone_minutes is not None:
        zone = p.minutes("zone_minutes", zone_minutes)
    p.raise_if_any()
    assert cap is not None and grid_ok
    if o is None:
        o = order_by(cap, descending=True)
    pairs = reach if max_minutes is None else reach.within(t)
    indptr = pairs.indptr()
    pop = surface.population.ravel().astype(np.float64)
    remaining = pop.copy()
    covered = np.zeros(n)
    reachable = np.zeros(n)
    full = np.zeros(n, dtype=bool)
    catchment = np.full(n, np.nan, dtype=np.float32)
    for j in o:
        a, b = indptr[j], indptr[j + 1]
        cells = pairs.cell[a:b]
        rem = remaining[cells]
        cum = np.cumsum(rem)
        total = float(cum[-1]) if len(cum) else 0.0
        reachable[j] = total
        capj = float(cap[j])
        if total <= capj:
            remaining[cells] = 0.0
            covered[j] = total
            full[j] = total >= capj
            took = np.flatnonzero(rem > 0)
            if len(took):
                catchment[j] = pairs.minutes[a + took[-1]]
            continue
        mins = pairs.minutes[a:b]
        key = mins if zone is None else np.floor(mins.astype(np.float64) / zone)
        ends = np.flatnonzero(np.r_[key[1:] != key[:-1], True])  # last index of each zone
        g = int(np.searchsorted(cum[ends], capj, side="right"))  # first zone over capacity
        whole = int(ends[g - 1]) + 1 if g > 0 else 0
        before = float(cum[whole - 1]) if whole > 0 else 0.0
        stop = int(ends[g]) + 1
        frac = min(max((capj - before) / (float(cum[stop - 1]) - before), 0.0), 1.0)
        remaining[cells[:whole]] = 0.0
        remaining[cells[whole:stop]] = rem[whole:stop] * (1.0 - frac)
        covered[j] = capj
        full[j] = True
        took = np.flatnonzero(rem[: stop if frac > 0 else whole] > 0)
        if len(took):
            catchment[j] = mins[took[-1]]
    covered_cell = pop - remaining
    uidx = surface.unit_index.ravel()
    inu = uidx >= 0
    n_units = len(surface.unit_ids)
    return CapacityResult(
        grid=surface.grid,
        max_minutes=float(t),
        order=o,
        capacity=cap,
        covered=covered,
        full=full,
        reachable=reachable,
        catchment_minutes=catchment,
        remaining=remaining.astype(np.float32).reshape(surface.grid.shape),
        covered_cells=covered_cell.astype(np.float32).reshape(surface.grid.shape),
        unit_ids=list(surface.unit_ids),
        population_by_unit=_bincount(uidx[inu], pop[inu], n_units),
        covered_by_unit=_bincount(uidx[inu], covered_cell[inu], n_units),
        total_population=float(pop.sum()),
        total_covered=float(covered_cell.sum()),
        not_assessed_population=float(sum(surface.unplaced.values())),
        zone_minutes=zone,
    )


# --- Gaussian 2SFCA -----------------------------------------------------------------


@dataclass
class G2sfcaResult:
    """Gaussian 2SFCA accessibility (Dai 2010).

    ``accessibility`` (``float32`` grid): ``A_i``, supply per resident
    reachable from cell ``i`` (×10,000 for e.g. GPs per 10,000 residents, the
    unit of the Rizhao and Zhengzhou targets); 0 where no facility is within
    ``d0``, NaN outside the reach's mask.  ``ratio``: ``R_j``, supply per
    weighted resident of each facility's catchment (NaN where the catchment
    holds no weighted residents: that supply reaches nobody and is counted in
    ``unreached_supply``).  ``demand``: ``Σ_k G(t_kj) P_k``.  Per unit:
    population-weighted mean of ``A`` over the unit's assessed cells
    (``by_unit``; NaN without residents).  ``mean``: the same over every
    assessed cell.
    """

    grid: CellGrid
    d0: float
    supply: NDArray[np.float64]
    demand: NDArray[np.float64]
    ratio: NDArray[np.float64]
    accessibility: NDArray[np.float32]
    unit_ids: list[str]
    population_by_unit: NDArray[np.float64]
    by_unit: NDArray[np.float64]
    mean: float
    unreached_supply: float

    def unit_table(self, per: float = 10_000.0) -> pd.DataFrame:
        """Per unit: residents assessed and mean accessibility × ``per``."""
        return pd.DataFrame(
            {
                "unit_id": self.unit_ids,
                "population": self.population_by_unit,
                "accessibility": self.by_unit * per,
            }
        )


def g2sfca(
    surface: PopulationSurface,
    reach: Reach,
    supply: ArrayLike,
    d0: float,
) -> G2sfcaResult:
    """Gaussian two-step floating catchment area accessibility (Dai 2010).

    With ``G`` the Gaussian decay of :func:`gridplan.coverage.gaussian_weight`
    (1 at 0 minutes, 0 at and beyond ``d0``), ``P`` residents per cell and
    ``t`` the reach's minutes:

    1. ``R_j = S_j / Σ_{k: t_kj ≤ d0} G(t_kj) P_k``
    2. ``A_i = Σ_{j: t_ij ≤ d0} G(t_ij) R_j``

    ``supply`` is ``S_j`` per facility (GPs, doctors, beds, or 1 each: see
    :func:`facility_supply`).  Vectorised over the pairs (``numpy.bincount``,
    in chunks of :data:`CHUNK_PAIRS`).  When every facility has weighted
    residents in its catchment, ``Σ_i P_i A_i = Σ_j S_j`` (2SFCA conserves
    supply).  ``d0`` must not exceed the reach's ``max_minutes``.
    """
    p = _Problems()
    grid_ok = _check_surface(p, surface, reach)
    s = p.values("supply", supply, reach.n_facilities)
    d = p.minutes("d0", d0, upper=reach.max_minutes)
    p.raise_if_any()
    assert s is not None and d is not None and grid_ok
    n = reach.n_facilities
    size = reach.grid.nrows * reach.grid.ncols
    pop = surface.population.ravel().astype(np.float64)
    chunks = [slice(a, a + CHUNK_PAIRS) for a in range(0, reach.n_pairs, CHUNK_PAIRS)]
    # G(t) of every pair, once (0 beyond d0); float32 keeps it at a third of the reach
    weight = np.empty(reach.n_pairs, dtype=np.float32)
    demand = np.zeros(n)
    for k in chunks:
        weight[k] = gaussian_weight(reach.minutes[k], d)
        w = weight[k].astype(np.float64)
        demand += np.bincount(reach.facility[k], weights=w * pop[reach.cell[k]], minlength=n)
    has = demand > 0
    ratio = np.full(n, np.nan)
    np.divide(s, demand, out=ratio, where=has)
    r0 = np.where(has, ratio, 0.0)
    acc = np.zeros(size)
    for k in chunks:
        w = weight[k].astype(np.float64)
        acc += np.bincount(reach.cell[k], weights=w * r0[reach.facility[k]], minlength=size)
    del weight
    mask = reach.mask.ravel()
    uidx = surface.unit_index.ravel()
    sel = mask & (uidx >= 0)
    n_units = len(surface.unit_ids)
    pa = pop * acc
    pop_u = _bincount(uidx[sel], pop[sel], n_units)
    pa_u = _bincount(uidx[sel], pa[sel], n_units)
    by_unit = np.full(n_units, np.nan)
    np.divide(pa_u, pop_u, out=by_unit, where=pop_u > 0)
    total_pop = float(pop[mask].sum())
    return G2sfcaResult(
        grid=reach.grid,
        d0=d,
        supply=s,
        demand=demand,
        ratio=ratio,
        accessibility=np.where(mask, acc, np.nan).astype(np.float32).reshape(reach.grid.shape),
        unit_ids=list(surface.unit_ids),
        population_by_unit=pop_u,
        by_unit=by_unit,
        mean=float(pa[mask].sum() / total_pop) if total_pop > 0 else math.nan,
        unreached_supply=float(s[~has].sum()),
    )
