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
    rows = []
    for g in plan.grids:
        m = u[(assignment == g.grid_id).to_numpy()]
        pop = float(m["population"].sum(min_count=1)) if len(m) else np.nan
        area = float(m["area_km2"].sum()) if m["has_geometry"].any() else 0.0
        rows.append(
            {
                "grid_id": g.grid_id,
                "name": g.name,
                "lead_hospital": g.lead_hospital,
                "n_units": len(m),
                "units": list(m["unit_id"]),
                "population": pop,
                "population_source": combine_sources(m["population_source"]),
                "area_km2": area,
                "density": pop / area if area > 0 else np.nan,
                "undrawn_units": list(m.loc[~m["has_geometry"], "name"]),
                **grid_ages(m),
            }
        )
    return pd.DataFrame(rows)


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
