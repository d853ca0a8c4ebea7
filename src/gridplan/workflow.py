"""One scenario for both faces: units → plan → population surface → facilities → travel model.

The CLI (:mod:`gridplan.cli`) and the dashboard (``app.py``, ``pages/``,
``ui/``) answer the same questions on the same inputs, so they assemble the
scenario here, with the defaults in one place (:mod:`gridplan.settings` for
the typed values, :data:`LEVEL_DEFAULTS` and :data:`TARGET_GROUPS` below).
Like the CLI this is a face: it may import every stage, and no stage imports
it.  The dashboard caches these functions on the frozen specs
(:class:`UnitsSource`, :class:`SurfaceSpec`, :class:`ModelSpec`), never on
GeoDataFrames.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridplan import settings
from gridplan.errors import InputError
from gridplan.facilities.types import CENTRES, PRIMARY_CARE, SECONDARY_CARE, SUBCENTRES
from gridplan.i18n import Lang
from gridplan.inputs.boundaries import Prefecture
from gridplan.inputs.crs import DATUMS, transformer
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import UnitSet
from gridplan.report.files import (
    COVERAGE_FILE_KINDS,
    PLAN_FILE_KINDS,
    CoverageResult,
    coverage_file_kind,
    plan_file_kind,
    write_coverage_file,
    write_plan_file,
)
from gridplan.surface.grid import CellGrid, PopulationSurface, census_surface
from gridplan.surface.report import SurfaceReport
from gridplan.travel.models import MODEL_NAMES
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH

if TYPE_CHECKING:
    from gridplan.access.coverage import CoverageIndex
    from gridplan.plan.compare import ScenarioComparison
    from gridplan.store import Store
    from gridplan.travel.base import TravelTimeModel

__all__ = [
    "COVERAGE_FILE_KINDS",
    "DATUMS",
    "LEAD_HOSPITAL_TYPE",
    "LEVEL_DEFAULTS",
    "MODELS",
    "MODES",
    "PLAN_FILE_KINDS",
    "TARGET_GROUPS",
    "CoverageResult",
    "LevelDefaults",
    "ModelSpec",
    "SurfaceSpec",
    "UnitsSource",
    "accepted_warnings",
    "candidate_list",
    "compare_scenarios",
    "coverage_about",
    "coverage_file_kind",
    "default_minutes",
    "exclusion_areas",
    "facilities_xy",
    "has_population",
    "illustrative_network",
    "lead_sites",
    "load_units",
    "plan_and_units",
    "plan_file_kind",
    "population_surface",
    "population_surface_report",
    "raster_layers",
    "read_exclusions",
    "read_site_list",
    "require_facilities",
    "save_plan_file",
    "scenario_payload",
    "speed_for",
    "starting_plan",
    "travel_model",
    "used_facilities",
    "write_coverage_file",
    "write_plan_file",
]

#: The travel-time models a planner chooses from.
MODELS: tuple[str, ...] = MODEL_NAMES
#: The modes of travel (their default speeds: :data:`gridplan.travel.speeds.MODE_SPEEDS_KMH`).
MODES: tuple[str, ...] = tuple(MODE_SPEEDS_KMH)

#: Facility groups a coverage question counts: every primary-care facility (the
#: 15-minute circle), the primary-care centres, or hospital-level care.
TARGET_GROUPS: dict[str, tuple[str, ...]] = {
    "primary": PRIMARY_CARE,
    "centres": CENTRES,
    "hospitals": SECONDARY_CARE,
}


@dataclass(frozen=True)
class LevelDefaults:
    """What a siting study of one level starts from.

    Attributes
    ----------
    minutes
        Coverage time: 15 minutes for primary care, 30 for hospital-level care.
    mode
        Mode of travel: on foot to primary care, by car to a sub-centre.
    candidates
        The dashboard's first candidate source (the CLI starts from ``grid``,
        or ``list`` when it is given a candidate file).
    new_site_type
        Facility type of a candidate list's rows that do not say.
    """

    minutes: float
    mode: str
    candidates: str
    new_site_type: str


#: Siting defaults per level: new primary-care centres on foot in 15 minutes,
#: sub-centres by car in 30.
LEVEL_DEFAULTS: dict[str, LevelDefaults] = {
    "primary": LevelDefaults(15.0, "walk", "grid", "社区卫生服务中心"),
    "secondary": LevelDefaults(30.0, "drive", "centres", SUBCENTRES[0]),
}


#: Type of the rows of a lead-hospital list that do not say.
LEAD_HOSPITAL_TYPE = "二级医院"


def default_minutes(target: str) -> float:
    """Coverage time of a target group: hospital-level care is judged at the secondary level's."""
    return LEVEL_DEFAULTS["secondary" if target == "hospitals" else "primary"].minutes


def speed_for(mode: str, speed_kmh: float | None = None) -> float:
    """``speed_kmh`` if given (and not 0), else the mode's default speed."""
    return float(speed_kmh or MODE_SPEEDS_KMH[mode])


# --- units and plan ----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitsSource:
    """Where a prefecture's planning units come from (hashable: a cache key).

    Attributes
    ----------
    prefecture
        Name or adcode.
    township_path
        Township layer (GeoJSON, zipped Shapefile, GPKG) replacing the counties it covers.
    datum
        Offset datum of the township layer (one of :data:`DATUMS`).
    population_path
        Population table (CSV or Excel) by adcode, township code or name.
    accept_warnings
        The planner confirmed the table's implausible figures (the dashboard's
        confirm button, the CLI's ``--accept-warnings``).
    """

    prefecture: str
    township_path: str | None = None
    datum: str = "wgs84"
    population_path: str | None = None
    accept_warnings: bool = False

    def without_population(self) -> UnitsSource:
        """The same units before a population table is applied (what the default network uses)."""
        return UnitsSource(self.prefecture, self.township_path, self.datum, None)


def load_units(source: UnitsSource) -> UnitSet:
    """Build the planning units of ``source`` (reads the township layer and population table).

    Raises ``population.unconfirmed`` listing the table's implausible figures
    unless ``source.accept_warnings`` (:func:`gridplan.plan.units.build_units`).
    """
    from gridplan.plan.units import build_units

    townships = None
    table = None
    if source.township_path:  # the readers (GDAL) are loaded only for a file to read
        from gridplan.inputs.vector import read_vector_upload

        townships, _ = read_vector_upload(Path(source.township_path), datum=source.datum)
    if source.population_path:
        from gridplan.inputs.tables import read_table_upload

        table, _ = read_table_upload(Path(source.population_path))
    return build_units(
        source.prefecture,
        townships=townships,
        population_table=table,
        accept_warnings=source.accept_warnings,
    )


def has_population(units: UnitSet) -> bool:
    """Whether any unit has residents (census or uploaded): coverage, siting and the
    illustrative network need some; without, the faces say to upload a population table."""
    return bool(np.nansum(units.units["population"].to_numpy(dtype=float)) > 0)


def starting_plan(preset: str | None, units: UnitSet) -> GridPlan:
    """The preset's plan, or the default starting plan when there is no preset.

    The default (:meth:`GridPlan.starting_plan`): each county its own grid,
    the urban districts one grid to split, no lead hospital.
    """
    if preset is None:
        return GridPlan.starting_plan(units)
    return GridPlan.from_preset(preset)


def plan_and_units(
    preset: str | None,
    prefecture: str | None,
    *,
    township_path: str | None = None,
    datum: str = "wgs84",
    population_path: str | None = None,
    accept_warnings: bool = False,
) -> tuple[GridPlan, UnitSet]:
    """A preset's plan on its prefecture's units, or the starting plan of ``prefecture``."""

    def units_of(where: str) -> UnitSet:
        return load_units(
            UnitsSource(where, township_path, datum, population_path, accept_warnings)
        )

    if preset:
        plan = GridPlan.from_preset(preset)
        return plan, units_of(plan.prefecture)
    if prefecture is None:
        raise InputError("give a preset or a prefecture", code="workflow.no_region")
    units = units_of(prefecture)
    return starting_plan(None, units), units


# --- population surface --------------------------------------------------------------


@dataclass(frozen=True)
class SurfaceSpec:
    """Residents per cell: on which units, at which cell size, from which file (a cache key).

    Without ``population_path`` or ``weights_path`` the surface is the 2020
    census spread uniformly over each unit's cells (labelled ``modelled``).

    Attributes
    ----------
    units
        The planning units the surface is built on.
    cell_m
        Side of a cell in metres.
    population_path
        A population GeoTIFF, a point table (lon, lat, population) or a table by unit.
    population_datum
        Offset datum of a point table's coordinates.
    weights_path
        A weight raster (built-up area, night lights) to spread the census totals by.
    accept_warnings
        The planner confirmed the population file's implausible figures.
    demand
        Whose demand the cells count: ``all`` residents or ``65plus``, the
        residents aged 65 and over (:mod:`gridplan.surface.ageing`); default
        :data:`gridplan.settings.demand`.
    """

    units: UnitsSource
    cell_m: float = field(default_factory=lambda: settings.cell_m)
    population_path: str | None = None
    population_datum: str = "wgs84"
    weights_path: str | None = None
    accept_warnings: bool = False
    demand: str = field(default_factory=lambda: settings.demand)

    def for_demand(self, demand: str) -> SurfaceSpec:
        """The same surface counting ``demand`` (``all`` or ``65plus``)."""
        return dataclasses.replace(self, demand=demand)


def population_surface(units: UnitSet, spec: SurfaceSpec) -> PopulationSurface:
    """The population surface of ``spec`` on ``units`` (built from ``spec.units``)."""
    return population_surface_report(units, spec)[0]


def population_surface_report(
    units: UnitSet, spec: SurfaceSpec
) -> tuple[PopulationSurface, SurfaceReport | None]:
    """The population surface of ``spec`` on ``units``, and the report of its file if any.

    Raises ``population.unconfirmed`` listing the file's implausible figures
    unless ``spec.accept_warnings``; accepted, they are in the report's ``warnings``.
    With ``spec.demand`` ``65plus`` the cells hold the residents 65+; the census
    spreads (uniform or by weights) then spread each unit's census 65+ itself.
    """
    from gridplan.surface.ageing import check_demand, older_residents

    older = check_demand(spec.demand) == "65plus"
    if spec.population_path:
        from gridplan.surface.files import surface_from_file

        surface, report = surface_from_file(
            Path(spec.population_path), units, spec.cell_m, datum=spec.population_datum,
            accept_warnings=spec.accept_warnings,
        )  # fmt: skip
        return (older_residents(surface, units) if older else surface), report
    column = "age65plus" if older else "population"
    if spec.weights_path:
        from gridplan.surface.polygons import surface_from_polygons

        surface, _ = surface_from_polygons(
            units.units[units.units["has_geometry"]], units, spec.cell_m,
            population_column=column, weights=Path(spec.weights_path),
            provenance="census2020",
        )  # fmt: skip
        return dataclasses.replace(surface, demand="65plus" if older else "all"), None
    return census_surface(units, spec.cell_m, column=column), None


def accepted_warnings(
    units: UnitSet, report: SurfaceReport | None = None, lang: Lang = "zh"
) -> list[str]:
    """The texts of the population warnings the planner accepted: the units' table, the file's."""
    from gridplan.plan.population import message_texts

    items = units.population_warnings + ([] if report is None else report.warnings)
    return message_texts(items, lang)


# --- facilities --------------------------------------------------------------------------


def illustrative_network(units: UnitSet) -> pd.DataFrame:
    """The illustrative facility network (示意, not real locations) of ``units``.

    Laid out on a census surface of :data:`gridplan.settings.illustrative_cell_m`,
    so the network does not move with the cell size a planner picks.  The
    network is fixed by the units and the code, so it is kept in the disk cache
    (:data:`gridplan.settings.cache_dir`) under a digest of both: a new
    process reads it back instead of running the k-means again.
    """
    try:
        path = _cache_path("illustrative", _units_digest(units))
    except TypeError:  # a unit column that cannot be hashed: compute without the cache
        path = None
    cached = _read_cached_table(path)
    if cached is not None:
        return cached
    from gridplan.facilities.illustrative import illustrative_facilities

    table = illustrative_facilities(units, census_surface(units, settings.illustrative_cell_m))
    _write_cached_table(path, table)
    return table


@functools.cache
def _code_digest() -> str:
    """A digest of the library's source: any change of code makes new cache keys."""
    h = hashlib.sha256()
    for py in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(py.read_bytes())
    return h.hexdigest()


def _sklearn_version() -> str:
    from importlib.metadata import version  # no import of scikit-learn itself: it is slow

    return version("scikit-learn")


def _units_digest(units: UnitSet) -> str:
    """A digest of what an illustrative network depends on: the units and the settings."""
    u = units.units
    h = hashlib.sha256()
    h.update(f"{units.prefecture.adcode}|{settings.illustrative_cell_m}|{_code_digest()}".encode())
    h.update(f"numpy {np.__version__}|scikit-learn {_sklearn_version()}".encode())
    h.update(
        pd.util.hash_pandas_object(u.drop(columns="geometry"), index=True).to_numpy().tobytes()
    )
    for wkb in shapely.to_wkb(u.geometry.to_numpy(), hex=False):
        h.update(b"-" if wkb is None else wkb)
    return h.hexdigest()[:32]


def _cache_path(kind: str, key: str) -> Path | None:
    return None if settings.cache_dir is None else Path(settings.cache_dir) / kind / f"{key}.npz"


def _read_cached_table(path: Path | None) -> pd.DataFrame | None:
    """A table the cache holds, or ``None`` (none yet, or unreadable: then it is recomputed).

    Numbers and flags are stored as arrays, text columns as JSON (no pickles), so a
    table comes back exactly as it was written.
    """
    if path is None or not path.is_file():
        return None
    try:
        # our own handle: numpy leaves its file open when the archive is damaged
        with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
            texts = json.loads(str(z["__texts__"]))
            columns = json.loads(str(z["__columns__"]))
            data = {c: pd.Series(texts[c], dtype=object) if c in texts else z[c] for c in columns}
        return pd.DataFrame(data)
    except (ValueError, KeyError, OSError, TypeError, EOFError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)  # damaged (a cut write, a full disk): computed again
        return None


def _write_cached_table(path: Path | None, table: pd.DataFrame) -> None:
    """Keep ``table`` in the cache; a cache that cannot be written is only a lost speed-up."""
    if path is None:
        return
    text_cols = [c for c in table.columns if table[c].dtype == object]
    texts = {c: [None if pd.isna(v) else str(v) for v in table[c]] for c in text_cols}
    payload: dict[str, Any] = {str(c): table[c].to_numpy() for c in table.columns if c not in texts}
    payload["__columns__"] = np.array(json.dumps([str(c) for c in table.columns]))
    payload["__texts__"] = np.array(json.dumps(texts, ensure_ascii=False))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.tmp.npz")  # one per writer
        np.savez(tmp, **payload)
        os.replace(tmp, path)
    except OSError:
        return


def read_site_list(
    path: str | Path,
    prefecture: str | Prefecture,
    *,
    datum: str = "wgs84",
    default_type: str | None = None,
) -> pd.DataFrame:
    """A facility, hospital or candidate list, checked against the prefecture's outline.

    Parameters
    ----------
    path
        CSV or Excel file (name, type, lon, lat; type optional with ``default_type``).
    prefecture
        Name, adcode or :class:`~gridplan.inputs.boundaries.Prefecture`.
    datum
        Offset datum of the coordinates (one of :data:`DATUMS`).
    default_type
        Type of the rows that do not say.
    """
    from gridplan.facilities.reader import read_facilities
    from gridplan.inputs.boundaries import load_prefecture_outline

    table, _ = read_facilities(
        Path(path),
        datum=datum,
        prefecture_outline=load_prefecture_outline(prefecture),
        default_type=default_type,
    )
    return table


def candidate_list(
    path: str | Path, prefecture: str | Prefecture, level: str, datum: str
) -> pd.DataFrame:
    """A planner's candidate sites (name, lon, lat; type optional: the level's new-site type).

    At most :data:`gridplan.settings.max_candidate_sites`: the siting matrix grows with
    demand points × candidates, so a longer list is refused before any travel time is computed.
    """
    default = LEVEL_DEFAULTS[level].new_site_type
    table = read_site_list(path, prefecture, datum=datum, default_type=default)
    limit = settings.max_candidate_sites
    if len(table) > limit:
        raise InputError(
            f"{len(table):,} candidate sites, over the limit of {limit:,}",
            code="siting.too_many_candidates",
            params={"n": len(table), "limit": limit},
        )
    return table


def used_facilities(facilities: pd.DataFrame, target: str) -> pd.DataFrame:
    """The active, located facilities of a target group (:data:`TARGET_GROUPS`)."""
    from gridplan.facilities.table import facility_mask

    mask = facility_mask(facilities, TARGET_GROUPS[target])
    return facilities[mask].reset_index(drop=True)


def require_facilities(used: pd.DataFrame, target: str) -> None:
    """Refuse a coverage question without any facility to reach (``workflow.no_facilities``).

    Every resident would be "not covered" and every time infinite: a planner learns
    more from being told what to provide.
    """
    if used.empty:
        raise InputError(
            f"no active facility of the group {target!r}: give a facility list",
            code="workflow.no_facilities",
        )


def facilities_xy(facilities: pd.DataFrame, crs: str) -> NDArray[np.float64]:
    """Metric coordinates ``(n, 2)`` in ``crs`` of every row of ``facilities`` (lon/lat WGS-84)."""
    tf = transformer(4326, crs)  # cached: building one takes tens of milliseconds
    x, y = tf.transform(facilities["lon"].to_numpy(float), facilities["lat"].to_numpy(float))
    return np.column_stack([x, y])


def lead_sites(hospitals: pd.DataFrame) -> list[tuple[str, float, float]]:
    """``(name, lon, lat)`` of each lead hospital, as grid proposals take them."""
    return [
        (str(n), float(x), float(y))
        for n, x, y in zip(hospitals["name"], hospitals["lon"], hospitals["lat"], strict=True)
    ]


# --- travel-time model -------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """A travel-time model and its inputs (hashable: a cache key).

    Attributes
    ----------
    model
        One of :data:`MODELS`.
    mode
        One of :data:`MODES`.
    speed_kmh
        Speed; ``None``: the mode's default.  The road network ignores it
        (speeds by road class and mode).
    detour
        Road distance over straight distance (straight-line model only).
    roads_path
        Road file (.osm, .osm.pbf, .graphml) of the network model.
    landcover_path, dem_path
        Land-cover classes and elevation rasters of the friction-raster model.
    cutoff_min
        Travel times beyond it are not computed (raster and network models).
    """

    model: str = "straight"
    mode: str = "walk"
    speed_kmh: float | None = None
    detour: float = DEFAULT_DETOUR
    roads_path: str | None = None
    landcover_path: str | None = None
    dem_path: str | None = None
    cutoff_min: float = field(default_factory=lambda: settings.model_cutoff_min)

    @property
    def speed(self) -> float:
        """The speed the model runs at (the mode's default unless one is given)."""
        return speed_for(self.mode, self.speed_kmh)

    def facts(self) -> dict[str, Any]:
        """The model as results cite it: ``model``, ``mode``, ``speed_kmh``, and ``detour``
        (straight line) or ``cutoff_min`` (raster and network)."""
        out: dict[str, Any] = {"model": self.model, "mode": self.mode, "speed_kmh": self.speed}
        if self.model == "straight":
            out["detour"] = self.detour
        else:
            out["cutoff_min"] = self.cutoff_min
        return out


def raster_layers(
    grid: CellGrid, landcover_path: str | None, dem_path: str | None
) -> dict[str, NDArray[Any]]:
    """Land cover (classes, nearest) and DEM (metres, bilinear) on ``grid``, for the raster model.

    Cells without land cover get class 0 (no effect); cells without elevation
    the mean elevation (flat).
    """
    from gridplan.surface.layers import raster_on_grid

    layers: dict[str, NDArray[Any]] = {}
    if landcover_path:
        lc = raster_on_grid(Path(landcover_path), grid, resampling="nearest")
        layers["landcover"] = np.where(np.isfinite(lc), lc, 0).astype(np.int32)
    if dem_path:
        dem = raster_on_grid(Path(dem_path), grid, resampling="bilinear")
        layers["dem"] = np.where(np.isfinite(dem), dem, np.nanmean(dem)).astype(np.float32)
    return layers


def travel_model(grid: CellGrid | None, spec: ModelSpec, *, roads: Any = None) -> TravelTimeModel:
    """The travel-time model of ``spec`` on ``grid``.

    Parameters
    ----------
    grid
        The surface's cells (the raster model reads its layers on them).
    spec
        Model, mode, speed and input files.
    roads
        An already loaded road graph for the network model (the dashboard keeps
        one per file); by default ``spec.roads_path`` is loaded.
    """
    from gridplan.travel.models import make_model  # scipy: only when a model is built

    if spec.model == "network" and roads is None and spec.roads_path:
        from gridplan.travel.roads import load_roads

        roads = load_roads(Path(spec.roads_path))
    layers: dict[str, NDArray[Any]] = {}
    if spec.model == "raster" and grid is not None:
        layers = raster_layers(grid, spec.landcover_path, spec.dem_path)
    return make_model(
        spec.model, mode=spec.mode, speed_kmh=spec.speed, detour=spec.detour,
        cutoff_min=spec.cutoff_min, roads=roads, **layers,
    )  # fmt: skip


# --- exclusion areas of a siting study -------------------------------------------------


def read_exclusions(path: str | Path, datum: str) -> gpd.GeoDataFrame:
    """Exclusion areas (GeoJSON, zipped Shapefile, GPKG; protected land, water), in WGS-84."""
    from gridplan.inputs.vector import read_vector_upload

    gdf, _ = read_vector_upload(Path(path), datum=datum)
    return gdf


def exclusion_areas(
    crs: str,
    layer: gpd.GeoDataFrame | None = None,
    circles: Sequence[tuple[float, float, float]] = (),
) -> Any:
    """The areas no new site may be in: a layer, typed circles ``(lon, lat, radius_km)``, or both.

    A layer alone is returned as read (the study projects it, following its
    edges); with circles both are drawn in the metric ``crs``.  ``None`` when
    there is nothing to exclude.
    """
    from gridplan.siting.study import exclusion_circles

    if not circles:
        return layer
    areas = [] if layer is None else [layer.to_crs(crs).geometry]
    table = pd.DataFrame(list(circles), columns=["lon", "lat", "radius_km"])
    areas.append(exclusion_circles(table, crs))
    return gpd.GeoSeries(pd.concat(areas, ignore_index=True), crs=crs)


# --- comparing two scenarios (issue 11) --------------------------------------------------


def compare_scenarios(
    units: UnitSet,
    plan_a: GridPlan,
    plan_b: GridPlan,
    *,
    index: CoverageIndex | None = None,
    index_b: CoverageIndex | None = None,
    minutes: float = 15.0,
) -> ScenarioComparison:
    """Two plans of one prefecture side by side: per grid, the units that move, the balance.

    Parameters
    ----------
    units
        The planning units both plans are read on.
    plan_a, plan_b
        The plans (two scenarios, or two versions of one).
    index
        The coverage of the population surface by the facilities
        (:class:`~gridplan.access.coverage.CoverageIndex`).  It does not depend
        on the plan, so it is built once and grouped by each plan's grids; each
        grid then gets its share of residents within ``minutes`` and its mean
        minutes.  ``None``: those columns stay NaN.
    minutes
        The coverage threshold.

    Returns
    -------
    ScenarioComparison
        :func:`gridplan.plan.compare.compare_grids` with the coverage columns
        (``covered_share_a/b``, ``mean_minutes_a/b`` and their differences b - a).
    """
    from gridplan.plan.compare import compare_grids

    comparison = compare_grids(plan_a, plan_b, units)
    if index is None:
        return comparison
    from gridplan.access.coverage import kpi_tables

    grids = comparison.grids.copy()
    for side, plan, covered in (("a", plan_a, index), ("b", plan_b, index_b or index)):
        by_grid = kpi_tables(covered, plan, units, minutes).by_grid.set_index("grid_id")
        ids = grids["grid_id"]
        grids[f"covered_share_{side}"] = ids.map(by_grid["share"]).astype(float).to_numpy()
        grids[f"mean_minutes_{side}"] = ids.map(by_grid["mean_minutes"]).astype(float).to_numpy()
    grids["covered_share_diff"] = grids["covered_share_b"] - grids["covered_share_a"]
    grids["mean_minutes_diff"] = grids["mean_minutes_b"] - grids["mean_minutes_a"]
    return dataclasses.replace(comparison, grids=grids, minutes=float(minutes))


# --- plans kept in the scenario store (issue 11) -----------------------------------------


def scenario_payload(plan: GridPlan) -> dict[str, Any]:
    """What a saved version holds for a plan alone: no facility edits, uploads or settings."""
    return {"plan": plan.to_dict(), "facility_edits": {}, "uploads": [], "settings": {}}


def save_plan_file(
    store: Store,
    path: str | Path,
    *,
    name: str | None = None,
    scenario_id: int | None = None,
    author: str = "",
    note: str = "",
    units_of: Callable[[str], UnitSet] | None = None,
) -> tuple[int, int, str]:
    """Save a plan file (plan JSON, grids or units GeoJSON) as a scenario; ``(id, version, name)``.

    Without ``scenario_id`` a new scenario named ``name`` is created; with it the
    plan becomes that scenario's next version (and ``name``, if given, its new
    name), and must be for the scenario's prefecture.  Everything is checked
    before anything is written: the name, the scenario (known, not deleted), the
    file (:func:`gridplan.plan.importing.read_plan_file`, on the units
    ``units_of`` gives for the prefecture; default: the census units), so a
    refused save leaves the store as it was.
    """
    from gridplan.plan.importing import read_plan_file
    from gridplan.store.payload import check_text

    limit = settings.store_max_name_chars
    current = None if scenario_id is None else store.get(scenario_id).scenario
    if name:
        new_name = check_text("name", name, limit, required=True)
    elif current is not None:
        new_name = current.name
    else:
        raise InputError("a new scenario needs a name", code="workflow.no_scenario_name")
    plan = read_plan_file(
        path,
        prefecture=None if current is None else current.prefecture,
        units_of=units_of or (lambda where: load_units(UnitsSource(where))),
    )
    if current is None:
        sid, version = store.create(
            new_name, plan.prefecture, scenario_payload(plan), author=author, note=note
        )
        return sid, version, new_name
    version = store.add_version(current.id, scenario_payload(plan), author=author, note=note)
    if new_name != current.name:  # checked above: the rename cannot fail on the name
        store.rename(current.id, new_name)
    return current.id, version, new_name


# --- plan and coverage files (issue 12): chosen by their name (gridplan.report.files) ---------


def coverage_about(
    surface: PopulationSurface, spec: ModelSpec, minutes: float, growth_pct: float = 0.0
) -> Any:
    """How a coverage of ``surface`` with the model ``spec`` at ``minutes`` was computed, for
    the sources sheet of its workbook (:class:`~gridplan.report.workbooks.CoverageAbout`)."""
    from gridplan.report.workbooks import CoverageAbout

    straight = spec.model == "straight"
    return CoverageAbout(
        minutes=minutes, model=spec.model, mode=spec.mode, speed_kmh=spec.speed,
        detour=spec.detour if straight else None, cell_m=float(surface.grid.cell_m),
        cutoff_min=None if straight else spec.cutoff_min, population_source=surface.source,
        demand=surface.demand, growth_pct=growth_pct,
    )  # fmt: skip


# --- the report document (issue 12) ------------------------------------------------------

#: The report files GridPlan writes, by suffix.
REPORT_FORMATS: dict[str, str] = {".docx": "docx", ".pdf": "pdf"}


@dataclass(frozen=True)
class ReportFile:
    """A written report: its bytes, format (``docx``/``pdf``), pages (PDF only) and sections."""

    data: bytes
    format: str
    pages: int | None
    sections: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """``pages`` (``None`` for Word), ``sections`` and ``bytes``, as the CLI prints them."""
        return {"pages": self.pages, "sections": list(self.sections), "bytes": len(self.data)}


def report_format(path: str | Path) -> str:
    """``docx`` or ``pdf``: the report ``path`` names (else ``workflow.report_file_name``)."""
    path = Path(path)
    fmt = REPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"a report is FILE.docx (Word) or FILE.pdf, not {path.name}",
            code="workflow.report_file_name",
            params={"filename": path.name},
        )
    return fmt


def build_report(
    plan: GridPlan,
    units: UnitSet,
    facilities: pd.DataFrame,
    surface_spec: SurfaceSpec,
    model_spec: ModelSpec,
    *,
    fmt: str = "pdf",
    minutes: float = 15.0,
    lang: Lang = "zh",
    meta: Any = None,
    comparison: ScenarioComparison | None = None,
    siting: Any = None,
    surface: PopulationSurface | None = None,
) -> ReportFile:
    """The report document of a plan (Word or PDF), its coverage computed as ``coverage`` does.

    Parameters
    ----------
    plan, units
        The plan and its planning units.
    facilities
        The facility table (uploaded, OSM or the illustrative network); the
        coverage reaches its active primary-care facilities.
    surface_spec, model_spec
        The population surface and the travel-time model (the dashboard's
        cache keys); ``surface``: the surface of ``surface_spec`` when the
        caller already has it.
    fmt
        ``docx`` or ``pdf`` (:func:`report_format` reads it from a file name).
    minutes
        The coverage time (the standards are checked at 15 minutes anyway).
    lang
        ``zh`` (default) or ``en``.
    meta
        :class:`gridplan.report.document.ReportMeta`: scenario name, version,
        author and date of the cover.
    comparison, siting
        A :class:`~gridplan.plan.compare.ScenarioComparison`
        (:func:`compare_scenarios`) and a
        :class:`~gridplan.siting.study.SitingStudy` to add their sections.
    """
    from gridplan.report.document import ReportMeta, build_document

    if fmt not in REPORT_FORMATS.values():
        report_format(f"report.{fmt}")  # says which formats there are
    inputs = report_inputs(
        plan, units, facilities, surface_spec, model_spec, minutes=minutes, lang=lang,
        surface=surface,
    )  # fmt: skip
    inputs.meta = meta or ReportMeta()
    inputs.comparison, inputs.siting = comparison, siting
    doc = build_document(inputs, lang)
    if fmt == "docx":
        from gridplan.report.word import write_docx

        return ReportFile(write_docx(doc), "docx", None, tuple(doc.section_keys))
    from gridplan.report.pdf import write_pdf

    data, pages = write_pdf(doc)
    return ReportFile(data, "pdf", pages, tuple(doc.section_keys))


@dataclass(frozen=True)
class CoverageInputs:
    """What a coverage question computes before any plan: the surface, the population warnings
    accepted, the facilities reached, the travel times and their coverage index."""

    surface: PopulationSurface
    notes: tuple[str, ...]
    used: pd.DataFrame
    times: Any
    index: Any


def coverage_inputs(
    units: UnitSet,
    facilities: pd.DataFrame,
    surface_spec: SurfaceSpec,
    model_spec: ModelSpec,
    *,
    lang: Lang = "zh",
    surface: PopulationSurface | None = None,
) -> CoverageInputs:
    """The surface of ``surface_spec`` (or ``surface``), the active primary-care facilities of
    ``facilities``, the travel times of ``model_spec`` to them and their coverage index: what
    ``gridplan coverage``, ``scenario compare`` and the report compute (plan-independent)."""
    from gridplan.access.coverage import CoverageIndex

    report = None
    if surface is None:
        surface, report = population_surface_report(units, surface_spec)
    used = used_facilities(facilities, "primary")
    xy = facilities_xy(used, surface.grid.crs)
    model = travel_model(surface.grid, model_spec)
    times = model.travel_times(surface.grid, surface.populated(), xy)
    index = CoverageIndex.build(surface, times)
    require_facilities(used, "primary")  # after the population check: said first
    notes = tuple(accepted_warnings(units, report, lang))
    return CoverageInputs(surface, notes, used, times, index)


def report_inputs(
    plan: GridPlan,
    units: UnitSet,
    facilities: pd.DataFrame,
    surface_spec: SurfaceSpec,
    model_spec: ModelSpec,
    *,
    minutes: float = 15.0,
    lang: Lang = "zh",
    surface: PopulationSurface | None = None,
) -> Any:
    """The :class:`~gridplan.report.document.ReportInputs` of a plan, its coverage computed by
    :func:`coverage_inputs` (as ``gridplan coverage`` computes it)."""
    from gridplan.report.document import ReportInputs

    c = coverage_inputs(units, facilities, surface_spec, model_spec, lang=lang, surface=surface)
    return ReportInputs(
        plan, units, c.surface, facilities, c.used, c.times, c.index, float(minutes),
        model_spec.facts(), notes=c.notes,
    )  # fmt: skip


def report_meta(snap: Any = None, author: str = "") -> Any:
    """The report cover's :class:`~gridplan.report.document.ReportMeta`: a saved scenario's
    name and version (``snap``, a store snapshot; ``None``: the plan's own name), the
    author (``author`` if given, else the version's)."""
    from gridplan.report.document import ReportMeta

    if snap is None:
        return ReportMeta(author=author)
    return ReportMeta(snap.scenario.name, snap.version.number, author or snap.version.author)


# --- where a coverage's figures come from (shared by the CLI's JSON outputs) ---------------


def coverage_provenance(
    surface: PopulationSurface,
    us: UnitSet,
    used: pd.DataFrame,
    spec: ModelSpec,
    minutes: float,
    lang: Lang = "en",
) -> dict[str, Any]:
    """How a coverage was computed, as the CLI's JSON gives it (``provenance``): the same
    account as the dashboard's panels and the report (:mod:`gridplan.report.method`)."""
    from gridplan.report.method import Method, provenance_json

    return provenance_json(Method(surface, us, used, spec.facts(), float(minutes)), lang)
