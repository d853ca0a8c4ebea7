"""The files of a plan and of a coverage, chosen by how their name ends.

``grids -o``, ``scenario export`` and ``coverage -o`` (through
:mod:`gridplan.workflow`) write what the file name asks for; a name ending
otherwise is refused with the list of the allowed endings, before any work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gridplan.errors import InputError
from gridplan.i18n import Lang

if TYPE_CHECKING:  # the writers are imported where a file is written: a quick start otherwise
    import pandas as pd

    from gridplan.access.coverage import CoverageIndex
    from gridplan.plan.grids import GridPlan
    from gridplan.plan.units import UnitSet
    from gridplan.report.workbooks import CoverageAbout
    from gridplan.travel.base import TravelTimes

#: The files a plan is written to, by how their name ends (``grids -o``, ``scenario export``).
PLAN_FILE_KINDS: tuple[str, ...] = (".json", ".geojson", ".gpkg", ".shp.zip", ".xlsx")
#: The files ``coverage -o`` writes, by how their name ends.
COVERAGE_FILE_KINDS: tuple[str, ...] = (".tif", ".tiff", ".geojson", ".json", ".xlsx")


def file_kind(path: str | Path, kinds: Sequence[str], code: str) -> str:
    """The ending of ``path`` among ``kinds`` (case-insensitive); an error listing them if none."""
    name = Path(path).name
    for kind in kinds:
        if name.lower().endswith(kind) and len(name) > len(kind):
            return kind
    allowed = ", ".join(kinds)
    raise InputError(
        f"the output file must end with one of {allowed}, not {name}",
        code=code,
        params={"filename": name, "allowed": allowed},
    )


def plan_file_kind(path: str | Path) -> str:
    """The kind of plan file ``path`` names, one of :data:`PLAN_FILE_KINDS` (else refused)."""
    return file_kind(path, PLAN_FILE_KINDS, "workflow.plan_file_name")


def write_plan_file(plan: GridPlan, units: UnitSet, path: str | Path, lang: Lang = "zh") -> None:
    """Write ``plan`` as the file ``path`` names (:data:`PLAN_FILE_KINDS`).

    ``.json``: the plan JSON (a scenario save reads it back); ``.geojson``: the
    dissolved grids (WGS-84); ``.gpkg``: grids and units as a GeoPackage,
    ``.shp.zip``: as zipped Shapefiles (both CGCS2000, :mod:`gridplan.report.gis`);
    ``.xlsx``: the grid and unit tables with a sources sheet
    (:mod:`gridplan.report.workbooks`).  ``lang`` is the language of the tables'
    headers and labels.
    """
    from gridplan.plan.importing import plan_to_json
    from gridplan.report import gis, workbooks
    from gridplan.report.exports import grids_to_geojson

    writers: dict[str, Callable[[], bytes]] = {
        ".json": lambda: plan_to_json(plan),
        ".geojson": lambda: grids_to_geojson(plan, units),
        ".gpkg": lambda: gis.plan_to_gpkg(plan, units, lang=lang),
        ".shp.zip": lambda: gis.plan_to_shapefile_zip(plan, units, lang=lang),
        ".xlsx": lambda: workbooks.grid_workbook(plan, units, lang=lang),
    }
    data = writers[plan_file_kind(path)]()  # built before the file is opened: no half file
    Path(path).write_bytes(data)


def coverage_file_kind(path: str | Path) -> str:
    """The kind of coverage file ``path`` names, one of :data:`COVERAGE_FILE_KINDS`."""
    return file_kind(path, COVERAGE_FILE_KINDS, "cli.output_coverage")


@dataclass(frozen=True)
class CoverageResult:
    """A computed coverage, as its files are written from it.

    Attributes
    ----------
    plan, units
        The plan and its units.
    used
        The facilities the times were computed to.
    times
        The travel times.
    index
        The coverage index of the population surface and ``times``.
    about
        How it was computed (threshold, model, speeds, population): the sources sheet.
    """

    plan: GridPlan
    units: UnitSet
    used: pd.DataFrame
    times: TravelTimes
    index: CoverageIndex
    about: CoverageAbout


def coverage_workbook(result: CoverageResult, lang: Lang = "zh") -> bytes:
    """The KPI workbook of ``result``: summary, per grid, unit and facility, sources."""
    from gridplan.access.coverage import catchments, kpi_tables
    from gridplan.report import workbooks

    minutes = result.about.minutes
    return workbooks.coverage_workbook(
        kpi_tables(result.index, result.plan, result.units, minutes),
        result.plan,
        result.units,
        facilities=result.used,
        served=catchments(result.index, len(result.used), minutes),
        about=result.about,
        lang=lang,
    )


def write_coverage_file(result: CoverageResult, path: str | Path, lang: Lang = "zh") -> None:
    """Write ``result`` as the file ``path`` names (:data:`COVERAGE_FILE_KINDS`).

    ``.tif``: the travel minutes as a GeoTIFF; ``.geojson``: each facility's
    catchment; ``.xlsx``: the KPI workbook (:func:`coverage_workbook`).
    """
    from gridplan.access.coverage import catchments
    from gridplan.report.rasterexports import catchments_geojson, write_minutes_geotiff

    kind = coverage_file_kind(path)
    if kind in (".tif", ".tiff"):
        write_minutes_geotiff(result.times, path)
    elif kind == ".xlsx":
        Path(path).write_bytes(coverage_workbook(result, lang))
    else:
        served = catchments(result.index, len(result.used))["served"].to_numpy()
        demand = result.about.demand
        Path(path).write_bytes(catchments_geojson(result.times, result.used, served, demand))
