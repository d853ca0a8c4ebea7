"""One entry point for population uploads: pick the reader from the file's content."""

from __future__ import annotations

from pathlib import Path

from gridplan.errors import InputError
from gridplan.inputs.tables import read_table_upload
from gridplan.plan.population import combine_sources
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import (
    PopulationSurface,
    census_surface,
)
from gridplan.surface.points import surface_from_points
from gridplan.surface.raster import surface_from_raster
from gridplan.surface.report import SurfaceReport


def surface_from_file(
    path: str | Path,
    unit_set: UnitSet,
    cell_m: float | None = None,
    *,
    datum: str = "wgs84",
    accept_warnings: bool = False,
) -> tuple[PopulationSurface, SurfaceReport | None]:
    """A population surface from any file a planner brings (the CLI's ``--population``).

    * a GeoTIFF (``.tif``/``.tiff``): a population-count raster;
    * a table with lon/lat and population columns: points;
    * any other table: population by unit (adcode, township code or name),
      applied to the units and spread uniformly over their cells (modelled).

    ``cell_m`` is the cell size in metres (default :data:`gridplan.settings.cell_m`).
    ``accept_warnings``: use points or a table by unit whose figures are
    implausible (else ``population.unconfirmed`` lists them); a table's
    accepted warnings are in the report of kind ``"units"``.
    """
    from gridplan.plan.units import build_units

    p = Path(path)
    if p.suffix.lower() in (".tif", ".tiff"):
        return surface_from_raster(p, unit_set, cell_m, accept_warnings=accept_warnings)
    try:
        return surface_from_points(
            p, unit_set, cell_m, datum=datum, accept_warnings=accept_warnings
        )
    except InputError as exc:
        if exc.code != "points.missing_columns":
            raise
    table, _ = read_table_upload(p)
    townships = unit_set.units[unit_set.units["level"] == "township"]
    if len(townships):
        raise InputError(
            "a population table by unit cannot be combined with a township layer here; "
            "give it to build_units instead",
            code="population.table_with_townships",
        )
    units = build_units(
        unit_set.prefecture, population_table=table, accept_warnings=accept_warnings
    )
    surface = census_surface(units, cell_m)
    surface.source = combine_sources(units.units["population_source"]) + "+modelled"
    report = SurfaceReport(
        kind="units",
        input_total=surface.total,
        kept_total=surface.total,
        n_input=len(table),
        warnings=units.population_warnings,
    )
    return surface, report
