"""Capacity-aware accessibility: every facility's reach, capacity coverage and Gaussian 2SFCA.

The 15-minute KPIs of :mod:`gridplan.access.coverage` only ask whether a cell's
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
  (:func:`gridplan.access.coverage.gaussian_weight`).

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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gridplan._types import BoolArray, Float32Array, FloatArray, IntArray
from gridplan._validate import Problems, positive
from gridplan.access._checks import capacity_problems, check_minutes, check_values
from gridplan.access.reach import Reach, unit_sums
from gridplan.surface.grid import CellGrid, PopulationSurface

#: Residents one facility of each primary-care type is assumed to serve when
#: the table gives neither a capacity nor staff.  The centres follow the
#: Zhengzhou standard (seed 004: one community health centre per street or per
#: 30,000–100,000 residents; one township health centre per township): 50,000
#: is inside that band and is the rule that places the illustrative network
#: (:func:`gridplan.facilities.illustrative.illustrative_facilities`, ``per_residents``;
#: the 196 centres of Shijiazhuang's county medical communities, seed 003,
#: serve roughly 37,000 residents each).  The township figure is *assumed*
#: equal to the community centre's (township sizes vary widely; none are
#: published for our areas).  Stations: 10,000, the illustrative
#: network's rule (:data:`gridplan.facilities.illustrative.STATION_PER_RESIDENTS`), *assumed*
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

#: The rules :func:`facility_capacity` uses, in order (``capacity_source``); the
#: label of each is the text ``capacity_source.<rule>`` of :mod:`gridplan.i18n.access`.
CAPACITY_RULES: tuple[str, ...] = ("column", "gps", "doctors", "type_default")


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
        ``capacity_source`` (one of :data:`CAPACITY_RULES`; label:
        ``gridplan.i18n.t(f"capacity_source.{rule}", lang)``), on the
        table's index.
    """
    p = capacity_problems()
    n = len(facilities)
    defaults = DEFAULT_RESIDENTS_BY_TYPE if type_defaults is None else type_defaults
    _check_rule_figures(p, residents_per_gp, residents_per_doctor, defaults)
    cap = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)

    def first_rule(rule: str, values: FloatArray, usable: BoolArray) -> None:
        use = np.isnan(cap) & usable  # rows an earlier rule did not cover
        cap[use], source[use] = values[use], rule

    if column is not None and _has_column(p, facilities, column):
        given = _numbers(facilities, column)
        neg = given < 0
        p.count("capacity.negative", neg, "{name}: {n} value(s) are negative", name=column)
        first_rule("column", given, np.isfinite(given) & ~neg)
    for rule, ratio in (("gps", residents_per_gp), ("doctors", residents_per_doctor)):
        if ratio is not None and positive(ratio):
            count = _numbers(facilities, rule)
            first_rule(rule, count * float(ratio), np.isfinite(count) & (count > 0))
    types = facilities["type"].astype(str).to_numpy() if "type" in facilities else np.full(n, "")
    by_type = np.array([defaults.get(str(ty), np.nan) for ty in types], dtype=np.float64)
    first_rule("type_default", by_type, np.isfinite(by_type))
    missing = np.flatnonzero(np.isnan(cap))
    if len(missing):
        ids = _facility_ids(facilities, missing)
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


def _check_rule_figures(
    p: Problems,
    residents_per_gp: float | None,
    residents_per_doctor: float | None,
    defaults: Mapping[str, float],
) -> None:
    """Problems of the ratios (positive) and the per-type defaults (finite, ≥ 0)."""
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


def _has_column(p: Problems, facilities: pd.DataFrame, column: str) -> bool:
    """Whether the facility table has ``column``; a ``capacity.column_missing`` problem if not."""
    if column in facilities.columns:
        return True
    columns = [str(c) for c in facilities.columns]
    p.add(
        "capacity.column_missing",
        f"the facility table has no {column!r} column (columns: {columns})",
        column=column,
        columns=columns,
    )
    return False


def _numbers(facilities: pd.DataFrame, column: str) -> FloatArray:
    """A column as numbers, NaN where not a number (all NaN without the column)."""
    if column not in facilities.columns:
        return np.full(len(facilities), np.nan)
    return np.asarray(pd.to_numeric(facilities[column], errors="coerce"), dtype=np.float64)


def _facility_ids(facilities: pd.DataFrame, rows: IntArray) -> NDArray[Any]:
    """The ``facility_id`` of the given rows as text, or their positions without that column."""
    if "facility_id" in facilities:
        return facilities["facility_id"].astype(str).to_numpy()[rows]
    return rows.astype(str)


def facility_supply(
    facilities: pd.DataFrame,
    column: str | None = "gps",
    *,
    missing: float | Literal["error"] = "error",
) -> FloatArray:
    """The supply ``S_j`` of 2SFCA: a staff column (``gps``, ``doctors``, ``beds``) or 1 each.

    ``column=None`` counts every facility as 1 (supply unknown: the result
    is then facilities per resident).  Missing values of ``column`` are an
    error unless ``missing`` gives the value to use (e.g. ``1.0``, or the
    median of the known ones: say which in the report).
    """
    p = capacity_problems()
    n = len(facilities)
    if column is None:
        return np.ones(n)
    if not _has_column(p, facilities, column):
        p.raise_if_any()
    v = _numbers(facilities, column)
    gap = ~np.isfinite(v)
    if gap.any():
        if isinstance(missing, str):
            ids = _facility_ids(facilities, np.flatnonzero(gap))
            p.add(
                "capacity.missing_supply",
                f"{column}: {int(gap.sum())} facilit(y/ies) without a value: "
                f"{', '.join(ids[:10].tolist())} (give missing=... to fill them)",
                column=column,
                n=int(gap.sum()),
                ids=ids.tolist(),
            )
        v = np.where(gap, 0.0 if isinstance(missing, str) else float(missing), v)
    checked = check_values(p, column, v, n)
    p.raise_if_any()
    assert checked is not None
    return checked


def order_by(values: ArrayLike, *, descending: bool = True) -> IntArray:
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
    order: IntArray
    capacity: FloatArray
    covered: FloatArray
    full: BoolArray
    reachable: FloatArray
    catchment_minutes: Float32Array
    remaining: Float32Array
    covered_cells: Float32Array
    unit_ids: list[str]
    population_by_unit: FloatArray
    covered_by_unit: FloatArray
    total_population: float
    total_covered: float
    not_assessed_population: float
    zone_minutes: float | None = None

    @property
    def share(self) -> float:
        """Covered share of the residents on the map (NaN without residents)."""
        return self.total_covered / self.total_population if self.total_population else math.nan

    @property
    def rank(self) -> IntArray:
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


def _check_surface(p: Problems, surface: PopulationSurface, reach: Reach) -> bool:
    if surface.grid != reach.grid:
        p.add(
            "capacity.grid_mismatch",
            "the reach and the population surface are on different grids",
            surface=str(surface.grid),
            reach=str(reach.grid),
        )
        return False
    return True


def _check_order(p: Problems, order: ArrayLike, n: int) -> IntArray | None:
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
    p = capacity_problems()
    grid_ok = _check_surface(p, surface, reach)
    n = reach.n_facilities
    cap = check_values(p, "capacity", capacity, n, allow_inf=True)
    o = None if order is None else _check_order(p, order, n)
    t = reach.max_minutes
    if max_minutes is not None:
        t = check_minutes(p, "max_minutes", max_minutes, upper=reach.max_minutes) or math.nan
    zone = None
    if zone_minutes is not None:
        zone = check_minutes(p, "zone_minutes", zone_minutes)
    p.raise_if_any()
    assert cap is not None and grid_ok
    if o is None:
        o = order_by(cap, descending=True)
    pairs = reach if max_minutes is None else reach.within(t)
    pop = surface.population.ravel().astype(np.float64)
    remaining = pop.copy()
    served = _serve_in_order(pairs, o, cap, remaining, zone)
    covered_cell = pop - remaining
    return CapacityResult(
        grid=surface.grid,
        max_minutes=float(t),
        order=o,
        capacity=cap,
        **served,
        remaining=remaining.astype(np.float32).reshape(surface.grid.shape),
        covered_cells=covered_cell.astype(np.float32).reshape(surface.grid.shape),
        unit_ids=list(surface.unit_ids),
        population_by_unit=unit_sums(surface, pop),
        covered_by_unit=unit_sums(surface, covered_cell),
        total_population=float(pop.sum()),
        total_covered=float(covered_cell.sum()),
        not_assessed_population=float(sum(surface.unplaced.values())),
        zone_minutes=zone,
    )


class _Served(TypedDict):
    """What each facility did in its turn: the per-facility fields of :class:`CapacityResult`."""

    covered: FloatArray
    full: BoolArray
    reachable: FloatArray
    catchment_minutes: Float32Array


def _serve_in_order(
    pairs: Reach, order: IntArray, capacity: FloatArray, remaining: FloatArray, zone: float | None
) -> _Served:
    """Each facility, in ``order``, takes its residents from ``remaining`` (:func:`_serve`)."""
    n = len(capacity)
    covered = np.zeros(n)
    reachable = np.zeros(n)
    full = np.zeros(n, dtype=bool)
    catchment = np.full(n, np.nan, dtype=np.float32)
    indptr = pairs.indptr()
    for j in order:
        a, b = indptr[j], indptr[j + 1]
        covered[j], reachable[j], full[j], catchment[j] = _serve(
            pairs.cell[a:b], pairs.minutes[a:b], remaining, float(capacity[j]), zone
        )
    return _Served(covered=covered, full=full, reachable=reachable, catchment_minutes=catchment)


def _serve(
    cells: NDArray[np.signedinteger[Any]],
    minutes: Float32Array,
    remaining: FloatArray,
    capacity: float,
    zone: float | None,
) -> tuple[float, float, bool, float]:
    """One facility takes the residents left in its ``cells``, nearest first, up to ``capacity``.

    ``remaining`` (residents not yet covered, per flat cell) loses what it
    takes.  The zone (cells at equal time, or in the same ``zone`` minutes)
    where the capacity runs out loses the same share in every cell.  Returns
    the residents covered, those reachable, whether the facility is full and
    the minutes of the farthest cell it took residents from (NaN if none).
    """
    rem = remaining[cells]
    cum = np.cumsum(rem)
    total = float(cum[-1]) if len(cum) else 0.0
    if total <= capacity:
        remaining[cells] = 0.0
        took = np.flatnonzero(rem > 0)
        return total, total, total >= capacity, minutes[took[-1]] if len(took) else math.nan
    key = minutes if zone is None else np.floor(minutes.astype(np.float64) / zone)
    ends = np.flatnonzero(np.r_[key[1:] != key[:-1], True])  # last index of each zone
    g = int(np.searchsorted(cum[ends], capacity, side="right"))  # first zone over capacity
    whole = int(ends[g - 1]) + 1 if g > 0 else 0
    before = float(cum[whole - 1]) if whole > 0 else 0.0
    stop = int(ends[g]) + 1
    frac = min(max((capacity - before) / (float(cum[stop - 1]) - before), 0.0), 1.0)
    remaining[cells[:whole]] = 0.0
    remaining[cells[whole:stop]] = rem[whole:stop] * (1.0 - frac)
    took = np.flatnonzero(rem[: stop if frac > 0 else whole] > 0)
    return capacity, total, True, minutes[took[-1]] if len(took) else math.nan
