"""Coverage and accessibility KPIs on a population surface and a travel-time surface.

Everything here is vectorised over the populated cells: :class:`CoverageIndex`
flattens the cells once (population, minutes, unit) so that a slider only
re-thresholds (``minutes <= T`` and a ``numpy.bincount``).

A cell is covered exactly when its travel time is at most the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray, ObjectArray
from gridplan.access._order import minutes_order, slot_order
from gridplan.errors import InputError
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.base import TravelTimes

#: Standard of seed 004 (Zhengzhou): one community health centre per 30,000–100,000 residents.
CENTRE_MIN_RESIDENTS = 30_000
CENTRE_MAX_RESIDENTS = 100_000


@dataclass
class CoverageIndex:
    """The populated cells of a surface, flattened, with their travel times.

    ``time_scale`` and ``pop_factor`` let sliders change speed / detour (for
    models whose minutes are proportional to one base surface, such as the
    straight-line model) and population growth without touching the cells:
    travel time = ``base_minutes × time_scale``, residents = ``population ×
    pop_factor``.  Threshold-independent statistics are computed once per
    grouping on the base values and scaled.

    The residents are the surface's ``float32`` values (every sum is taken in
    ``float64``): half the memory of a ``float64`` copy, the same figures.  The
    cells are kept as flat positions in the grid (``cells``; ``ncols`` columns
    a row): :attr:`rows` and :attr:`cols` are computed when asked for.
    """

    cells: Int32Array | IntArray  # int64 only for grids of more than 2**31 cells
    ncols: int
    population: Float32Array
    base_minutes: Float32Array
    unit: Int32Array
    nearest: Int32Array
    n_units: int
    unplaced: dict[str, float]
    time_scale: float = 1.0
    pop_factor: float = 1.0
    # shared by every with_sliders() copy: sort orders and per-grouping statistics
    _cache: dict[object, Any] = field(default_factory=dict, repr=False)

    @property
    def rows(self) -> Int32Array | IntArray:
        """Grid row of each cell."""
        return self.cells // self.ncols

    @property
    def cols(self) -> Int32Array | IntArray:
        """Grid column of each cell."""
        return self.cells % self.ncols

    @property
    def minutes(self) -> Float32Array:
        """Travel time of each cell in minutes (``inf`` if unreachable)."""
        if self.time_scale == 1.0:
            return self.base_minutes
        return self.base_minutes * np.float32(self.time_scale)

    def with_sliders(self, time_scale: float = 1.0, pop_factor: float = 1.0) -> CoverageIndex:
        """The same cells under other slider values; shares the statistics cache."""
        return replace(self, time_scale=float(time_scale), pop_factor=float(pop_factor))

    def _base_threshold(self, threshold_min: float) -> np.float32:
        return np.float32(threshold_min / self.time_scale)

    @classmethod
    def build(cls, surface: PopulationSurface, times: TravelTimes) -> CoverageIndex:
        """Flatten the populated cells of ``surface`` with ``times`` (same grid)."""
        if times.grid != surface.grid:
            raise InputError(
                "travel times and population surface are on different grids",
                code="capacity.grid_mismatch",
            )
        # flat positions: one int64 array, not two, while the grids are large
        flat = np.flatnonzero(surface.population > 0)
        if len(flat) == 0:  # nothing to assess: a clear message, not empty statistics
            raise InputError(
                "no residents on the population surface: give a population table or raster",
                code="access.no_population",
            )
        small = surface.population.size < 2**31  # positions as int32: half the memory
        return cls(
            cells=flat.astype(np.int32) if small else flat,
            ncols=surface.grid.ncols,
            population=surface.population.ravel()[flat].astype(np.float32, copy=False),
            base_minutes=times.minutes.ravel()[flat],
            unit=surface.unit_index.ravel()[flat].astype(np.int32, copy=False),
            nearest=times.nearest.ravel()[flat].astype(np.int32, copy=False),
            n_units=len(surface.unit_ids),
            unplaced=dict(surface.unplaced),
        )

    def covered(self, threshold_min: float) -> BoolArray:
        """Cells whose travel time is at most ``threshold_min`` (inclusive)."""
        return self.minutes <= np.float32(threshold_min)

    @property
    def residents(self) -> FloatArray:
        """Residents per cell after the growth factor (``float64``)."""
        pop = self.population.astype(np.float64)
        return pop * self.pop_factor if self.pop_factor != 1.0 else pop

    def group_times(self, unit_group: IntArray, n_groups: int) -> pd.DataFrame:
        """Population and travel-time statistics per group (independent of the threshold).

        ``unit_group[i]`` is the group of unit ``i`` (-1: none); cells outside
        every unit form no group.  ``reachable`` and ``unreachable`` are the
        residents who reach a facility within the model's cutoff and those who
        reach none (``inf`` minutes).  The mean, median and p90 minutes are
        population-weighted over the reachable residents only (NaN when none
        is); the unreachable are counted apart, and as not covered.  Computed
        once per grouping; thresholds use :meth:`group_covered`.
        """
        key = np.asarray(unit_group, dtype=np.int64).tobytes() + n_groups.to_bytes(8, "little")
        base = self._cache.get(key)
        if base is None:
            base = self._base_group_times(unit_group, n_groups)
            self._cache[key] = base
        out = base.copy()
        for c in ("population", "reachable", "unreachable"):
            out[c] *= self.pop_factor
        for c in ("mean_minutes", "median_minutes", "p90_minutes"):
            out[c] *= self.time_scale
        return out

    def _minutes_order(self) -> Int32Array:
        """Cells sorted by base minutes (ties by position), computed once and shared by
        every grouping."""
        if "order" not in self._cache:
            self._cache["order"] = minutes_order(self.base_minutes)
        order: Int32Array = self._cache["order"]
        return order

    def _slot_sorted(self, unit_group: IntArray, n_groups: int) -> tuple[Int32Array, IntArray]:
        """Cells sorted by (group, minutes, position), and where each group starts.

        Cells of no group (outside every unit, or of a unit whose group is -1 or
        not below ``n_groups``) come first, in ``order[:starts[0]]``; group ``j``
        holds ``order[starts[j]:starts[j + 1]]``.
        """
        groups = np.asarray(unit_group, dtype=np.int64)
        slot_of_unit = np.zeros(len(groups) + 1, dtype=np.int64)  # slot 0: no group
        slot_of_unit[1:] = np.where((groups >= 0) & (groups < n_groups), groups + 1, 0)
        order, starts = slot_order(slot_of_unit, self.unit, self._minutes_order(), n_groups + 1)
        return order, starts[1:]

    def _is_units(self, unit_group: IntArray, n_groups: int) -> bool:
        """Whether a grouping is the units themselves (the per-unit table)."""
        return n_groups == self.n_units and np.array_equal(unit_group, np.arange(self.n_units))

    def _base_group_times(self, unit_group: IntArray, n_groups: int) -> pd.DataFrame:
        order, starts = self._slot_sorted(unit_group, n_groups)
        if "by_unit" not in self._cache and self._is_units(unit_group, n_groups):
            self._keep_unit_sorted(order, starts)  # the same sort: done once for both
        kept = order[starts[0] :]
        pop = self.population[kept].astype(np.float64)  # exact: every sum in float64
        mins = self.base_minutes[kept]
        del order, kept
        bounds = starts - starts[0]
        unreached = ~np.isfinite(mins)
        # the quantiles over the residents who reach a facility (the others weigh nothing);
        # first, so their running sum is freed before the group ids are made
        qpop = np.where(unreached, 0.0, pop) if unreached.any() else pop
        median, p90 = _sorted_quantiles(mins, qpop, bounds[:-1], bounds[1:], (0.5, 0.9))
        del qpop
        g = np.repeat(np.arange(n_groups), np.diff(bounds))  # the group of each sorted cell
        total = np.bincount(g, weights=pop, minlength=n_groups)
        wpop = total  # every cell reached (the usual case): no masking
        if unreached.any():
            wpop = np.bincount(g, weights=np.where(unreached, 0.0, pop), minlength=n_groups)
        pop *= mins  # now the minutes weighted by residents (in place: one array less)
        pop[unreached] = 0.0
        wsum = np.bincount(g, weights=pop, minlength=n_groups)
        del g, unreached, pop, mins
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(wpop > 0, wsum / wpop, np.nan)
        return pd.DataFrame(
            {
                "population": total,
                "reachable": wpop,
                "unreachable": total - wpop,
                "mean_minutes": mean,
                "median_minutes": median,
                "p90_minutes": p90,
            }
        )

    def _keep_unit_sorted(self, order: Int32Array, starts: IntArray) -> None:
        """Keep the cells sorted by (unit, minutes) as :meth:`unit_covered` searches them."""
        minutes = self.base_minutes[order]
        cum = np.empty(len(order) + 1, dtype=np.float64)
        cum[0] = 0.0
        np.cumsum(self.population[order], dtype=np.float64, out=cum[1:])
        self._cache["by_unit"] = (minutes, cum, np.concatenate([[0], starts]))

    def _unit_sorted(self) -> tuple[Float32Array, FloatArray, IntArray]:
        """Cells sorted by (unit, base minutes): minutes, cumulative residents, unit starts.

        Built once; then the residents of a unit within any threshold are one
        binary search in its slice, whatever the number of cells.  Slot 0 holds
        the cells outside every unit, slot ``u + 1`` unit ``u``.
        """
        if "by_unit" not in self._cache:
            self._keep_unit_sorted(*self._slot_sorted(np.arange(self.n_units), self.n_units))
        by_unit: tuple[Float32Array, FloatArray, IntArray]
        by_unit = self._cache["by_unit"]
        return by_unit

    def unit_covered(self, threshold_min: float) -> FloatArray:
        """Residents of each unit reached within ``threshold_min`` (inclusive)."""
        thr = self._base_threshold(threshold_min)
        last = self._cache.get("covered_at")
        if last is None or last[0] != thr:  # the three tables of one threshold search once
            minutes, cum, starts = self._unit_sorted()
            out = np.empty(self.n_units, dtype=np.float64)
            for u in range(self.n_units):
                a, b = starts[u + 1], starts[u + 2]
                k = a + np.searchsorted(minutes[a:b], thr, side="right")
                out[u] = cum[k] - cum[a]
            last = self._cache["covered_at"] = (thr, out)
        covered: FloatArray = last[1] * self.pop_factor
        return covered

    def group_covered(
        self, threshold_min: float, unit_group: IntArray, n_groups: int
    ) -> FloatArray:
        """Covered residents per group at ``threshold_min`` (the fast, per-slider part)."""
        per_unit = self.unit_covered(threshold_min)
        groups = np.asarray(unit_group, dtype=np.int64)
        ok = groups >= 0
        covered = np.bincount(groups[ok], weights=per_unit[ok], minlength=n_groups)[:n_groups]
        return covered.astype(np.float64)

    def group_kpis(
        self,
        threshold_min: float,
        unit_group: IntArray,
        n_groups: int,
        times: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Population, covered, share and travel-time statistics per group.

        Pass ``times`` (from :meth:`group_times`) to skip recomputing the
        threshold-independent part.
        """
        out = (times if times is not None else self.group_times(unit_group, n_groups)).copy()
        out.insert(1, "covered", self.group_covered(threshold_min, unit_group, n_groups))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(out["population"] > 0, out["covered"] / out["population"], np.nan)
            unreachable = np.where(
                out["population"] > 0, out["unreachable"] / out["population"], np.nan
            )
        out.insert(2, "share", share)
        out["unreachable_share"] = unreachable
        return out

    def summary(self, threshold_min: float) -> dict[str, float]:
        """KPIs over all units together (residents of cells outside every unit excluded)."""
        row = self.group_kpis(threshold_min, np.zeros(max(self.n_units, 1), np.int64), 1).iloc[0]
        out = {k: float(row[k]) for k in row.index}
        out["not_assessed_population"] = float(sum(self.unplaced.values())) * self.pop_factor
        return out


def _sorted_quantiles(
    v: Float32Array,
    w: NDArray[np.floating],
    starts: IntArray,
    ends: IntArray,
    qs: tuple[float, ...],
) -> list[FloatArray]:
    """Weighted lower quantiles of groups held in ``v[starts[j]:ends[j]]``, sorted by value."""
    n_groups = len(starts)
    if len(w) == 0:  # no cell in any group (no residents): every quantile is undefined
        return [np.full(n_groups, np.nan) for _ in qs]
    cum = np.cumsum(w, dtype=np.float64)
    before = np.where(starts > 0, cum[np.clip(starts - 1, 0, None)], 0.0)
    totals = np.where(ends > starts, cum[np.clip(ends - 1, 0, None)] - before, 0.0)
    out = []
    for q in qs:
        target = before + q * totals
        pos = np.searchsorted(cum, target, side="left")
        pos = np.minimum(np.maximum(pos, starts), np.maximum(ends - 1, 0))
        found = v[np.clip(pos, 0, len(v) - 1)] if len(v) else np.nan
        res = np.where((ends > starts) & (totals > 0), found, np.nan)  # no weight: undefined
        out.append(res.astype(np.float64))
    return out


def catchments(
    index: CoverageIndex, n_facilities: int, threshold_min: float | None = None
) -> pd.DataFrame:
    """Population served by each facility (each cell to its nearest facility by time).

    With ``threshold_min``, only cells reached within it count (``served_within``).
    """
    has = index.nearest >= 0
    res = index.residents
    served = np.bincount(index.nearest[has], weights=res[has], minlength=n_facilities)
    out = pd.DataFrame({"served": served})
    if threshold_min is not None:
        w = has & index.covered(threshold_min)
        out["served_within"] = np.bincount(index.nearest[w], weights=res[w], minlength=n_facilities)
    return out


def centre_standard_flag(served: FloatArray) -> ObjectArray:
    """Flag community-centre catchments against 30,000–100,000 residents (seed 004)."""
    return np.where(
        served < CENTRE_MIN_RESIDENTS,
        "below",
        np.where(served > CENTRE_MAX_RESIDENTS, "above", "within"),
    ).astype(object)


def gaussian_weight(d: NDArray[np.floating], d0: float) -> FloatArray:
    """Gaussian distance decay of Dai (2010), 0 beyond ``d0`` (see DOMAIN.md)."""
    d = np.asarray(d, dtype=float)
    e = np.exp(-0.5)
    w = (np.exp(-0.5 * (d / d0) ** 2) - e) / (1.0 - e)
    return np.where(d <= d0, w, 0.0)


def plan_groups(plan: GridPlan, unit_set: UnitSet) -> tuple[IntArray, list[str]]:
    """Grid position of every unit (-1 unassigned) and the grid ids, for :meth:`group_kpis`."""
    assignment = resolve_assignment(plan, unit_set.units)
    ids = [g.grid_id for g in plan.grids]
    pos = {g: i for i, g in enumerate(ids)}
    groups = np.array([pos.get(g, -1) if g else -1 for g in assignment], dtype=np.int64)
    return groups, ids


@dataclass
class KpiTables:
    """Coverage KPIs of a plan at one threshold: whole plan, per grid, per unit."""

    summary: dict[str, float]
    by_grid: pd.DataFrame
    by_unit: pd.DataFrame


def kpi_tables(
    index: CoverageIndex, plan: GridPlan, unit_set: UnitSet, threshold_min: float
) -> KpiTables:
    """Per-grid and per-unit KPIs (population, covered, share, mean/median/p90 minutes).

    ``not_assessed`` is the population of units without a polygon (functional
    zones without townships): counted in the grid, outside the spatial
    analysis, so ``share`` is over the assessed residents.
    """
    groups, ids = plan_groups(plan, unit_set)
    u = unit_set.units.reset_index(drop=True)
    unplaced = u["unit_id"].map(index.unplaced).fillna(0.0).to_numpy() * index.pop_factor
    # the units first: their sort is also the one every threshold then searches
    by_unit = index.group_kpis(threshold_min, np.arange(len(u), dtype=np.int64), len(u))
    by_grid = index.group_kpis(threshold_min, groups, len(ids))
    by_grid.insert(0, "grid_id", ids)
    by_grid.insert(1, "name", [g.name for g in plan.grids])
    has = groups >= 0
    by_grid["not_assessed"] = np.bincount(groups[has], weights=unplaced[has], minlength=len(ids))
    by_unit["not_assessed"] = unplaced
    by_unit.insert(0, "unit_id", u["unit_id"].to_numpy())
    by_unit.insert(1, "name", u["name"].to_numpy())
    by_unit.insert(2, "level", u["level"].to_numpy())
    by_unit.insert(3, "grid_id", [ids[g] if g >= 0 else None for g in groups])
    return KpiTables(index.summary(threshold_min), by_grid, by_unit)
