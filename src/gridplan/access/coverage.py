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
from scipy import ndimage

from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray, ObjectArray
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
    """

    rows: Int32Array
    cols: Int32Array
    population: FloatArray
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
        rows, cols = np.nonzero(surface.population > 0)
        if len(rows) == 0:  # nothing to assess: a clear message, not empty statistics
            raise InputError(
                "no residents on the population surface: give a population table or raster",
                code="access.no_population",
            )
        return cls(
            rows=rows.astype(np.int32),
            cols=cols.astype(np.int32),
            population=surface.population[rows, cols].astype(np.float64),
            base_minutes=times.minutes[rows, cols],
            unit=surface.unit_index[rows, cols],
            nearest=times.nearest[rows, cols],
            n_units=len(surface.unit_ids),
            unplaced=dict(surface.unplaced),
        )

    def covered(self, threshold_min: float) -> BoolArray:
        """Cells whose travel time is at most ``threshold_min`` (inclusive)."""
        return self.minutes <= np.float32(threshold_min)

    @property
    def residents(self) -> FloatArray:
        """Residents per cell after the growth factor."""
        return self.population * self.pop_factor if self.pop_factor != 1.0 else self.population

    def _groups(self, unit_group: IntArray) -> IntArray:
        return np.where(self.unit >= 0, unit_group[np.clip(self.unit, 0, None)], -1)

    def group_times(self, unit_group: IntArray, n_groups: int) -> pd.DataFrame:
        """Population and travel-time statistics per group (independent of the threshold).

        ``unit_group[i]`` is the group of unit ``i`` (-1: none); cells outside
        every unit form no group.  Statistics are population-weighted over
        cells with a finite time; ``p90_minutes`` is ``inf`` when more than
        10 % of the group's residents reach no facility within the model's
        cutoff.  Computed once per grouping; thresholds use
        :meth:`group_covered`.
        """
        key = np.asarray(unit_group, dtype=np.int64).tobytes() + n_groups.to_bytes(8, "little")
        base = self._cache.get(key)
        if base is None:
            base = self._base_group_times(unit_group, n_groups)
            self._cache[key] = base
        out = base.copy()
        out["population"] *= self.pop_factor
        for c in ("mean_minutes", "median_minutes", "p90_minutes"):
            out[c] *= self.time_scale
        return out

    def _minutes_order(self) -> IntArray:
        """Cells sorted by base minutes, computed once and shared by every grouping."""
        if "order" not in self._cache:
            self._cache["order"] = np.argsort(self.base_minutes, kind="stable")
        order: IntArray = self._cache["order"]
        return order

    def _base_group_times(self, unit_group: IntArray, n_groups: int) -> pd.DataFrame:
        # sort by (group, minutes): a stable sort of the small group ids over the minutes order
        by_minutes = self._minutes_order()
        g_all = self._groups(unit_group)[by_minutes]
        order = by_minutes[np.argsort(g_all, kind="stable")]
        g = self._groups(unit_group)[order]
        keep = g >= 0
        g, pop, mins = g[keep], self.population[order][keep], self.base_minutes[order][keep]
        total = np.bincount(g, weights=pop, minlength=n_groups)
        finite = np.isfinite(mins)
        wsum = np.bincount(g, weights=np.where(finite, pop * mins, 0.0), minlength=n_groups)
        wpop = np.bincount(g, weights=np.where(finite, pop, 0.0), minlength=n_groups)
        median, p90 = _weighted_quantiles(g, mins, pop, n_groups, (0.5, 0.9), presorted=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(wpop > 0, wsum / wpop, np.nan)
        return pd.DataFrame(
            {
                "population": total,
                "mean_minutes": mean,
                "median_minutes": median,
                "p90_minutes": p90,
            }
        )

    def _unit_sorted(self) -> tuple[Float32Array, FloatArray, IntArray]:
        """Cells sorted by (unit, base minutes): minutes, cumulative residents, unit starts.

        Built once; then the residents of a unit within any threshold are one
        binary search in its slice, whatever the number of cells.
        """
        if "by_unit" not in self._cache:
            slot = self.unit.astype(np.int64) + 1  # slot 0: cells outside every unit
            by_minutes = self._minutes_order()
            order = by_minutes[np.argsort(slot[by_minutes], kind="stable")]
            minutes = self.base_minutes[order]
            cum = np.concatenate([[0.0], np.cumsum(self.population[order])])
            starts = np.searchsorted(slot[order], np.arange(self.n_units + 2), side="left")
            self._cache["by_unit"] = (minutes, cum, starts)
        by_unit: tuple[Float32Array, FloatArray, IntArray]
        by_unit = self._cache["by_unit"]
        return by_unit

    def unit_covered(self, threshold_min: float) -> FloatArray:
        """Residents of each unit reached within ``threshold_min`` (inclusive)."""
        minutes, cum, starts = self._unit_sorted()
        thr = self._base_threshold(threshold_min)
        out = np.empty(self.n_units, dtype=np.float64)
        for u in range(self.n_units):
            a, b = starts[u + 1], starts[u + 2]
            k = a + np.searchsorted(minutes[a:b], thr, side="right")
            out[u] = cum[k] - cum[a]
        return out * self.pop_factor

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
        out.insert(2, "share", share)
        return out

    def summary(self, threshold_min: float) -> dict[str, float]:
        """KPIs over all units together (residents of cells outside every unit excluded)."""
        row = self.group_kpis(threshold_min, np.zeros(max(self.n_units, 1), np.int64), 1).iloc[0]
        out = {k: float(row[k]) for k in row.index}
        out["not_assessed_population"] = float(sum(self.unplaced.values())) * self.pop_factor
        return out


def _weighted_quantiles(
    group: IntArray,
    values: Float32Array,
    weights: FloatArray,
    n_groups: int,
    qs: tuple[float, ...],
    *,
    presorted: bool = False,
) -> list[FloatArray]:
    """Population-weighted quantiles of ``values`` per group (lower quantile, no interpolation).

    With ``presorted``, the inputs are already sorted by (group, value).
    """
    if presorted:
        g, v, w = group, values, weights
    else:
        order = np.lexsort((values, group))
        g, v, w = group[order], values[order], weights[order]
    if len(w) == 0:  # no cell in any group (no residents): every quantile is undefined
        return [np.full(n_groups, np.nan) for _ in qs]
    starts = np.searchsorted(g, np.arange(n_groups), side="left")
    ends = np.searchsorted(g, np.arange(n_groups), side="right")
    cum = np.cumsum(w)
    before = np.where(starts > 0, cum[np.clip(starts - 1, 0, None)], 0.0)
    totals = np.where(ends > starts, cum[np.clip(ends - 1, 0, None)] - before, 0.0)
    out = []
    for q in qs:
        target = before + q * totals
        pos = np.searchsorted(cum, target, side="left")
        pos = np.minimum(np.maximum(pos, starts), np.maximum(ends - 1, 0))
        res = np.where(ends > starts, v[np.clip(pos, 0, len(v) - 1)] if len(v) else np.nan, np.nan)
        out.append(res.astype(np.float64))
    return out


def uncovered_hotspots(
    index: CoverageIndex,
    surface: PopulationSurface,
    threshold_min: float,
    unit_names: list[str],
    top: int = 20,
) -> pd.DataFrame:
    """Clusters of uncovered populated cells (8-connected), ranked by population.

    Each hotspot: ``population``, ``cells``, ``area_km2``, centroid ``x``, ``y``
    (metric) and the ``unit`` (name) holding its most populous cell.
    """
    grid = surface.grid
    mask = np.zeros(grid.shape, dtype=bool)
    unc = ~index.covered(threshold_min)
    mask[index.rows[unc], index.cols[unc]] = True
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=int))
    if n == 0:
        return pd.DataFrame(columns=["population", "cells", "area_km2", "x", "y", "unit"])
    lab = labels[index.rows[unc], index.cols[unc]]
    pop = index.residents[unc]
    sums = np.bincount(lab, weights=pop, minlength=n + 1)[1:]
    cells = np.bincount(lab, minlength=n + 1)[1:]
    x, y = grid.centres(index.rows[unc], index.cols[unc])
    cx = np.bincount(lab, weights=x * pop, minlength=n + 1)[1:] / np.maximum(sums, 1e-9)
    cy = np.bincount(lab, weights=y * pop, minlength=n + 1)[1:] / np.maximum(sums, 1e-9)
    # the unit of each cluster's most populous cell
    order = np.lexsort((pop, lab))
    last = np.searchsorted(lab[order], np.arange(1, n + 1), side="right") - 1
    top_unit = index.unit[unc][order][last]
    df = pd.DataFrame(
        {
            "population": sums,
            "cells": cells,
            "area_km2": cells * grid.cell_m**2 / 1e6,
            "x": cx,
            "y": cy,
            "unit": [unit_names[u] if u >= 0 else "—" for u in top_unit],
        }
    )
    return df.sort_values("population", ascending=False).head(top).reset_index(drop=True)


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
    by_grid = index.group_kpis(threshold_min, groups, len(ids))
    by_grid.insert(0, "grid_id", ids)
    by_grid.insert(1, "name", [g.name for g in plan.grids])
    has = groups >= 0
    by_grid["not_assessed"] = np.bincount(groups[has], weights=unplaced[has], minlength=len(ids))
    by_unit = index.group_kpis(threshold_min, np.arange(len(u), dtype=np.int64), len(u))
    by_unit["not_assessed"] = unplaced
    by_unit.insert(0, "unit_id", u["unit_id"].to_numpy())
    by_unit.insert(1, "name", u["name"].to_numpy())
    by_unit.insert(2, "level", u["level"].to_numpy())
    by_unit.insert(3, "grid_id", [ids[g] if g >= 0 else None for g in groups])
    return KpiTables(index.summary(threshold_min), by_grid, by_unit)
