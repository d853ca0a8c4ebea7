"""Grid statistics, population balance and dissolved grid polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.population import combine_sources
from gridplan.plan.units import UnitSet


# --- dissolve and statistics ---------------------------------------------------------
def grid_statistics(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None
) -> pd.DataFrame:
    """Per-grid statistics.

    Columns: ``grid_id``, ``name``, ``lead_hospital``, ``n_units``, ``units``
    (codes), ``population`` (functional zones included), ``population_source``,
    ``area_km2`` (drawn units), ``density`` (residents per km²),
    ``undrawn_units`` (names of units without a polygon), and the ages of
    :func:`grid_ages`: ``age65plus`` (the sum of the units' residents 65+),
    ``age65plus_source``, ``share_65plus_pct`` and ``share_0_14_pct``.
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    members = _members_by_grid(plan, assignment)
    pop = _column(u, "population")
    area = _column(u, "area_km2")
    drawn = u["has_geometry"].to_numpy(dtype=bool)
    unit_ids, names = u["unit_id"].to_numpy(dtype=object), u["name"].to_numpy(dtype=object)
    sources = u["population_source"].to_numpy(dtype=object)
    ages = pd.DataFrame(u[[c for c in _AGE_COLUMNS if c in u.columns]])
    rows = []
    for g, m in zip(plan.grids, members, strict=True):
        p = pop[m]
        total = _nansum(p) if (~np.isnan(p)).any() else np.nan
        size = _nansum(area[m]) if drawn[m].any() else 0.0
        rows.append(
            {
                "grid_id": g.grid_id,
                "name": g.name,
                "lead_hospital": g.lead_hospital,
                "n_units": len(m),
                "units": list(unit_ids[m]),
                "population": total,
                "population_source": combine_sources(sources[m]),
                "area_km2": size,
                "density": total / size if size > 0 else np.nan,
                "undrawn_units": list(names[m[~drawn[m]]]),
                **_ages(ages, m),
            }
        )
    return pd.DataFrame(rows)


def _nansum(values: np.ndarray) -> float:
    """The sum skipping NaN, as pandas' ``sum`` adds (NaN filled with 0: the same bits)."""
    return float(np.where(np.isnan(values), 0.0, values).sum())


def _column(units: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as floats (missing figures NaN)."""
    return pd.to_numeric(units[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _members_by_grid(plan: GridPlan, assignment: pd.Series) -> list[np.ndarray]:
    """Per grid of ``plan``, the row positions of its units in unit order (one pass: a
    grid edit redraws the statistics, and a mask per grid cost a table copy each)."""
    index = {g.grid_id: i for i, g in enumerate(plan.grids)}
    codes = np.fromiter(
        (index.get(a, -1) if isinstance(a, str) else -1 for a in assignment.to_numpy()),
        dtype=np.int64,
        count=len(assignment),
    )
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(plan.grids) + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(len(plan.grids))]


def _ages(units: pd.DataFrame, rows: np.ndarray) -> dict[str, float | str]:
    """:func:`grid_ages` of the units at positions ``rows`` of ``units`` (their age columns)."""
    if "age65plus" not in units.columns or not len(rows):
        return grid_ages(units.iloc[:0])
    return grid_ages(units.iloc[rows])


#: What :func:`grid_ages` reads of the units.
_AGE_COLUMNS = ("population", "age65plus", "share_0_14_pct", "age65plus_source")


def grid_ages(members: pd.DataFrame) -> dict[str, float | str]:
    """Residents 65+ of a grid's units and the grid's age shares.

    ``age65plus`` is the exact sum of the units' figures (NaN when no unit has
    one: never 0 for "unknown"); ``share_65plus_pct`` is it over the residents
    of those same units; ``share_0_14_pct`` the units' shares weighted by
    their residents.  Units built without age columns give NaN.
    """
    if "age65plus" not in members.columns or members.empty:
        return {"age65plus": np.nan, "age65plus_source": "none",
                "share_65plus_pct": np.nan, "share_0_14_pct": np.nan}  # fmt: skip
    pop = members["population"].to_numpy(dtype=float)
    old = members["age65plus"].to_numpy(dtype=float)
    young = members["share_0_14_pct"].to_numpy(dtype=float)
    known = np.isfinite(old) & np.isfinite(pop)
    base = float(pop[known].sum())
    both = np.isfinite(young) & np.isfinite(pop)
    weight = float(pop[both].sum())
    return {
        "age65plus": float(old[known].sum()) if known.any() else np.nan,
        "age65plus_source": combine_sources(members["age65plus_source"]),
        "share_65plus_pct": 100.0 * float(old[known].sum()) / base if base > 0 else np.nan,
        "share_0_14_pct": float((young[both] * pop[both]).sum()) / weight if weight > 0 else np.nan,
    }


def population_balance(stats: pd.DataFrame) -> dict[str, float]:
    """Balance of grid populations: ``max_min_ratio`` and coefficient of variation ``cv``.

    Grids without population are left out.  ``cv`` uses the population
    standard deviation (ddof=0).
    """
    pop = stats["population"].dropna().to_numpy(dtype=float)
    pop = pop[pop > 0]
    if len(pop) == 0:
        return {
            "n_grids": 0,
            "max": np.nan,
            "min": np.nan,
            "mean": np.nan,
            "max_min_ratio": np.nan,
            "cv": np.nan,
        }
    return {
        "n_grids": len(pop),
        "max": float(pop.max()),
        "min": float(pop.min()),
        "mean": float(pop.mean()),
        "max_min_ratio": float(pop.max() / pop.min()),
        "cv": float(pop.std(ddof=0) / pop.mean()),
    }


def dissolve_grids(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None
) -> gpd.GeoDataFrame:
    """Grid polygons (WGS-84) with the statistics of :func:`grid_statistics`.

    A grid made only of undrawn units (functional zones without townships)
    has an empty geometry.
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    stats = grid_statistics(plan, unit_set, assignment)
    geoms = []
    for g in plan.grids:
        m = u[(assignment == g.grid_id).to_numpy() & u["has_geometry"].to_numpy()]
        geom = shapely.union_all(m.geometry.to_numpy()) if len(m) else shapely.Polygon()
        geoms.append(shapely.make_valid(geom) if not geom.is_valid else geom)
    return gpd.GeoDataFrame(stats, geometry=geoms, crs="EPSG:4326")
