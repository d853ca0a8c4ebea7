"""Plan exports: CSV table and GeoJSON of grids and units."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import shapely

from gridplan import __version__
from gridplan.i18n import Lang, label, t
from gridplan.inputs.boundaries import BOUNDARY_SOURCE
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.networks import lead_lonlat
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import dissolve_grids
from gridplan.plan.units import UnitSet
from gridplan.report.style import _missing
from gridplan.report.tables import table_to_csv

# --- tables -------------------------------------------------------------------------------

#: CSV columns, in order; the header of column ``key`` is the text ``report.csv.<key>``.
CSV_COLUMNS: tuple[str, ...] = (
    "unit_id",
    "name",
    "level",
    "county_adcode",
    "county_name",
    "grid_id",
    "grid_name",
    "lead_hospital",
    "population",
    "population_source",
    "population_source_label",
    "age65plus",
    "age65plus_source",
    "share_0_14_pct",
    "share_65plus_pct",
    "area_km2",
    "has_geometry",
)


def _num(x: Any, digits: int | None = None) -> Any:
    """JSON/CSV-friendly number: ``None`` for NaN, ``int`` for whole numbers."""
    if x is None:
        return None
    v = float(x)
    if math.isnan(v):
        return None
    if digits is not None:
        v = round(v, digits)
    return int(v) if v.is_integer() else v


def plan_to_csv(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None, lang: Lang = "zh"
) -> bytes:
    """One row per unit with its grid, population and provenance; UTF-8 with BOM.

    Columns (:data:`CSV_COLUMNS`; headers in ``lang``): unit code, name,
    level, county code and name, grid id, grid name, lead hospital,
    population, provenance key and label, area (km², empty for units without a
    polygon) and whether the unit has a polygon.  Rows follow the plan's
    grid order, unassigned units last.  Names that a spreadsheet would run as
    formulas are quoted (:func:`gridplan.report.tables.neutralise_formulas`).
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    order = {g.grid_id: k for k, g in enumerate(plan.grids)}
    by_id = {g.grid_id: g for g in plan.grids}
    yes, no = t("report.csv.yes", lang), t("report.csv.no", lang)
    rows = []
    for i, (r, gid) in enumerate(zip(u.itertuples(), assignment.to_numpy(), strict=True)):
        g = by_id.get(str(gid)) if not _missing(gid) else None
        rows.append(
            (
                order.get(g.grid_id, len(order)) if g else len(order),
                i,
                {
                    "unit_id": str(r.unit_id),
                    "name": r.name,
                    "level": label("report.level", str(r.level), lang),
                    "county_adcode": "" if _missing(r.county_adcode) else str(r.county_adcode),
                    "county_name": "" if _missing(r.county_name) else str(r.county_name),
                    "grid_id": g.grid_id if g else "",
                    "grid_name": g.name if g else "",
                    "lead_hospital": g.lead_hospital if g else "",
                    "population": _num(r.population, 1),
                    "population_source": str(r.population_source),
                    "population_source_label": provenance_label(str(r.population_source), lang),
                    **_ages(r),
                    "area_km2": _num(r.area_km2, 3) if r.has_geometry else None,
                    "has_geometry": yes if r.has_geometry else no,
                },
            )
        )
    rows.sort(key=lambda item: (item[0], item[1]))
    df = pd.DataFrame([row for _, _, row in rows], columns=list(CSV_COLUMNS), dtype=object)
    df.columns = [t(f"report.csv.{c}", lang) for c in CSV_COLUMNS]
    return table_to_csv(df)


def _ages(row: Any) -> dict[str, Any]:
    """Residents 65+ of a unit or grid row, their provenance and the age shares (``None``
    where unknown, never 0)."""
    return {
        "age65plus": _num(getattr(row, "age65plus", None), 1),
        "age65plus_source": str(getattr(row, "age65plus_source", "none")),
        "share_0_14_pct": _num(getattr(row, "share_0_14_pct", None), 2),
        "share_65plus_pct": _num(getattr(row, "share_65plus_pct", None), 2),
    }


# --- GeoJSON ------------------------------------------------------------------------------

POPULATION_SOURCES_NOTE = (
    "census2020 = 2020 census; uploaded = user table; "
    "modelled = county census spread over townships by area; "
    "age65plus: residents aged 65+ (census2020, modelled = the county's 65+ share applied, "
    "census_share = census 65+ share applied to an uploaded population)"
)


def _geometry(geom: Any) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    out: dict[str, Any] = shapely.geometry.mapping(geom)
    return out


def _feature_collection(
    features: list[dict[str, Any]], plan: GridPlan, unit_set: UnitSet, layer: str
) -> bytes:
    fc: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": plan.plan_id if layer == "grids" else f"{plan.plan_id}-units",
        "crs_note": "WGS-84 (EPSG:4326)",
        "features": features,
        "gridplan": {
            "plan": plan.plan_id,
            "plan_name": plan.name,
            "layer": layer,
            "prefecture": unit_set.prefecture.adcode,
            "prefecture_name": unit_set.prefecture.name,
            "seed": plan.seed_document,
            "population_sources": POPULATION_SOURCES_NOTE,
            "boundary_source": BOUNDARY_SOURCE,
            "version": __version__,
        },
    }
    return json.dumps(fc, ensure_ascii=False).encode("utf-8")


def grids_to_geojson(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None
) -> bytes:
    """The dissolved grids as a WGS-84 GeoJSON FeatureCollection (UTF-8 bytes).

    Properties: ``grid_id``, ``name``, ``lead_hospital``, ``lead_lon`` / ``lead_lat``
    (its WGS-84 point, ``null`` when not located), ``n_units``,
    ``units`` (codes), ``population``, ``population_source``, ``area_km2``,
    ``density`` (per km²), ``undrawn_units`` (names of units without a
    polygon, counted in the population).  A grid of undrawn units only has
    a ``null`` geometry.  The foreign member ``gridplan`` carries the plan
    id and name, prefecture adcode and name, seed document and provenance
    notes.
    """
    assignment = resolve_assignment(plan, unit_set.units) if assignment is None else assignment
    gdf = dissolve_grids(plan, unit_set, assignment)
    features = []
    for r in gdf.itertuples():
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "grid_id": str(r.grid_id),
                    "name": r.name,
                    "lead_hospital": r.lead_hospital,
                    **lead_lonlat(plan, str(r.grid_id)),
                    "n_units": int(r.n_units),
                    "units": [str(x) for x in r.units],
                    "population": _num(r.population, 1),
                    "population_source": str(r.population_source),
                    **_ages(r),
                    "area_km2": _num(r.area_km2, 3),
                    "density": _num(r.density, 1),
                    "undrawn_units": [str(x) for x in r.undrawn_units],
                },
                "geometry": _geometry(r.geometry),
            }
        )
    return _feature_collection(features, plan, unit_set, "grids")


def units_to_geojson(unit_set: UnitSet, assignment: pd.Series | None, plan: GridPlan) -> bytes:
    """The units as a WGS-84 GeoJSON FeatureCollection with their grid's attributes.

    Properties: ``unit_id``, ``name``, ``level``, ``county_adcode``,
    ``county_name``, ``population``, ``population_source``, ``area_km2``,
    ``has_geometry``, ``inside_prefecture``, ``grid_id``, ``grid_name``,
    ``lead_hospital``.  Units without a polygon (functional zones) are kept
    with a ``null`` geometry so the layer lists every unit.  ``assignment``
    defaults to :func:`gridplan.plan.grids.resolve_assignment` of ``plan``.
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    by_id = {g.grid_id: g for g in plan.grids}
    features = []
    for r, gid in zip(u.itertuples(), assignment.to_numpy(), strict=True):
        g = by_id.get(str(gid)) if not _missing(gid) else None
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "unit_id": str(r.unit_id),
                    "name": r.name,
                    "level": str(r.level),
                    "county_adcode": None if _missing(r.county_adcode) else str(r.county_adcode),
                    "county_name": None if _missing(r.county_name) else str(r.county_name),
                    "population": _num(r.population, 1),
                    "population_source": str(r.population_source),
                    **_ages(r),
                    "area_km2": _num(r.area_km2, 3) if r.has_geometry else None,
                    "has_geometry": bool(r.has_geometry),
                    "inside_prefecture": bool(r.inside_prefecture),
                    "grid_id": g.grid_id if g else None,
                    "grid_name": g.name if g else None,
                    "lead_hospital": g.lead_hospital if g else None,
                },
                "geometry": _geometry(r.geometry) if r.has_geometry else None,
            }
        )
    return _feature_collection(features, plan, unit_set, "units")
