"""The dashboard's cached computations, keyed on frozen, hashable dataclasses.

Streamlit hashes the arguments of a cached function; these are small frozen
keys (:class:`~gridplan.workflow.UnitsSource`, :class:`~gridplan.workflow.SurfaceSpec`,
:class:`~gridplan.workflow.ModelSpec` and the keys below), never GeoDataFrames.
Arguments whose name starts with ``_`` are not hashed: they carry data the key
already identifies (the facility table behind a digest).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from numpy.typing import NDArray

from gridplan import workflow
from gridplan.inputs.boundaries import list_prefectures
from gridplan.plan.grids import GridPlan, list_presets, preset_prefecture, resolve_assignment
from gridplan.plan.units import UnitSet, display_geometry
from gridplan.report.boundaries import UnitBorders, grid_border_mask, unit_borders
from gridplan.report.webmap import HoverCells, WarpPlan, hover_cells, warp_plan
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.workflow import ModelSpec, SurfaceSpec, UnitsSource
from ui import memory
from ui.state import PER_UNIT, UploadedFile

# The analyses below load scipy, the solvers and OSMnx: imported where they run, so the
# first page a planner opens does not wait for them.
if TYPE_CHECKING:
    import networkx as nx

    from gridplan.access.coverage import CoverageIndex
    from gridplan.access.reach import Reach
    from gridplan.regions.instance import Proposal
    from gridplan.siting.study import SitingSettings, SitingStudy
    from gridplan.travel.base import TravelTimeModel, TravelTimes

#: What a siting study reads of the facility table (types and switches: existing, candidates).
STUDY_COLUMNS = ("facility_id", "type", "active", "lon", "lat")
#: What the coverage computations read from it.
LOCATION_COLUMNS = ("facility_id", "lon", "lat")


def facility_digest(table: pd.DataFrame, columns: tuple[str, ...] = LOCATION_COLUMNS) -> str:
    """Cache key of a facility table: a digest of the ``columns`` its user reads."""
    # column by column (a row-wise join took ~0.4 s on the first 15-minute page)
    text = table[list(columns)].astype(str)
    others: list[Any] = [text[c] for c in text.columns[1:]]
    lines = text.iloc[:, 0].str.cat(others, sep="|")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PlanKey:
    """A plan by its content, on the units it is drawn on."""

    units: UnitsSource
    plan_json: str

    @classmethod
    def of(cls, units: UnitsSource, plan: GridPlan) -> PlanKey:
        return cls(units, json.dumps(plan.to_dict(), ensure_ascii=False, sort_keys=True))

    def plan(self) -> GridPlan:
        return GridPlan.from_dict(json.loads(self.plan_json))


@dataclass(frozen=True)
class CoverageKey:
    """Travel times from a set of facilities over a surface with one model.

    ``model`` is ``None`` for the straight line: its base distances do not
    depend on speed or detour, which only rescale them.
    """

    surface: SurfaceSpec
    facilities: str
    model: ModelSpec | None = None


@dataclass(frozen=True)
class ReachKey:
    """The (cell, facility) pairs within ``minutes`` of a model (speed and detour included)."""

    surface: SurfaceSpec
    facilities: str
    model: ModelSpec
    minutes: float


@dataclass(frozen=True)
class ExclusionKey:
    """Where no new site may be: an uploaded layer and typed circles ``(lon, lat, radius_km)``.

    One key, as the study takes both as one set of areas
    (:func:`gridplan.workflow.exclusion_areas`).
    """

    layer: UploadedFile | None = None
    circles: tuple[tuple[float, float, float], ...] = ()


@dataclass(frozen=True)
class StudyKey:
    """Everything a siting study's answer depends on."""

    surface: SurfaceSpec
    facilities: str
    plan: PlanKey
    settings: SitingSettings
    model: ModelSpec
    candidates: UploadedFile | None
    exclusions: ExclusionKey


@dataclass(frozen=True)
class ProposalKey:
    """A grid proposal: k grids (or one per lead hospital) within a balance tolerance."""

    units: UnitsSource
    k: int
    balance: float
    leads: tuple[tuple[str, float, float], ...] = ()


@dataclass(frozen=True)
class HoverKey:
    """The hover blocks of a coverage at the sliders' time scale and population growth, with
    their tooltips in ``lang`` naming the facilities of digest ``names``."""

    coverage: CoverageKey
    time_scale: float
    pop_factor: float
    names: str
    lang: str


@dataclass
class Computed:
    """Travel times and their coverage index."""

    times: TravelTimes
    index: CoverageIndex


# --- prefectures, presets, units -------------------------------------------------------------


@st.cache_data(show_spinner=False)
def prefecture_options() -> pd.DataFrame:
    return list_prefectures()


@st.cache_data(show_spinner=False)
def preset_index() -> dict[str, str]:
    """Preset id → prefecture adcode."""
    return {p: preset_prefecture(p) for p in list_presets()}


def presets_of(prefecture: str) -> list[str]:
    """The presets of a prefecture, then "one grid per county-level unit"."""
    return [p for p, a in preset_index().items() if a == prefecture] + [PER_UNIT]


@st.cache_resource(show_spinner=False, max_entries=16)
def load_units(source: UnitsSource) -> UnitSet:
    """Planning units, cached on file paths (uploads are stored by content hash)."""
    return workflow.load_units(source)


@st.cache_resource(show_spinner=False, max_entries=16)
def load_display_geometry(source: UnitsSource) -> gpd.GeoSeries:
    """Simplified unit polygons for the web map, cached with the units."""
    return display_geometry(load_units(source))


@st.cache_resource(show_spinner=False, max_entries=16)
def load_unit_borders(source: UnitsSource) -> UnitBorders:
    """The units' boundaries, each once, with the units on either side (for the maps'
    unit and grid boundaries), cached with the units."""
    return unit_borders(load_units(source))


def census_units(source: UnitsSource) -> UnitSet:
    """The units with their census figures, so an upload does not move the network or the
    proposals; where the prefecture has no census figures, with the planner's table."""
    units = load_units(source.without_population())
    if source.population_path and not workflow.has_population(units):
        units = load_units(source)
    return units


@st.cache_resource(show_spinner=False, max_entries=16)
def grid_boundaries_json(key: PlanKey) -> bytes:
    """The plan's grid boundaries as unique straight segments (JSON rows ``{"s": [lon, lat],
    "t": [lon, lat]}``): each shared boundary once, drawn by a light line layer
    (:mod:`gridplan.report.boundaries`); served by URL, so immutable and kept once."""
    from ui.layerdata import compact_json, segment_rows

    units = load_units(key.units.without_population())
    borders = load_unit_borders(key.units.without_population())
    seg = borders.segments[grid_border_mask(borders, resolve_assignment(key.plan(), units.units))]
    return compact_json(segment_rows(seg))


@st.cache_data(show_spinner=False, max_entries=16)
def grid_outlines(key: PlanKey) -> dict[str, Any]:
    """The plan's grid outlines (simplified) as GeoJSON for the raster maps."""
    units = load_units(key.units.without_population())
    assignment = resolve_assignment(key.plan(), units.units)
    shapes = units.units.assign(grid_id=assignment.to_numpy(), geometry=display_geometry(units))
    shapes = shapes[shapes["has_geometry"] & shapes["grid_id"].notna()]
    return json.loads(shapes[["grid_id", "geometry"]].dissolve("grid_id").reset_index().to_json())


@st.cache_resource(show_spinner=False, max_entries=8)
def proposal(key: ProposalKey) -> Proposal:
    """Balanced contiguous grids (20 s for the exact solve: the planner is waiting)."""
    from gridplan.regions.propose import propose_grids

    units = census_units(key.units)
    return propose_grids(units, list(key.leads) or key.k, tolerance=key.balance, time_limit_s=20.0)


# --- surface and facilities ---------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=6)
def load_surface(key: SurfaceSpec) -> PopulationSurface:
    return workflow.population_surface(load_units(key.units), key)


@st.cache_resource(show_spinner=False, max_entries=6)
def load_warp(key: SurfaceSpec) -> WarpPlan:
    return warp_plan(load_surface(key).grid)


@st.cache_data(show_spinner=False, max_entries=8)
def default_facilities(source: UnitsSource) -> pd.DataFrame:
    """The illustrative network (示意) of the units before any population table.

    Where the prefecture has no census figures, the planner's population table places it
    (else there would be no network at all).
    """
    return workflow.illustrative_network(census_units(source))


@st.cache_data(show_spinner=False, max_entries=8)
def candidate_list(path: str, datum: str, prefecture: str, level: str) -> pd.DataFrame:
    """A planner's candidate list (name, lon, lat; type optional), checked like a facility list."""
    return workflow.candidate_list(path, prefecture, level, datum)


@st.cache_resource(show_spinner=False, max_entries=4)
def exclusion_areas(path: str, datum: str) -> gpd.GeoDataFrame:
    return workflow.read_exclusions(path, datum)


# --- travel times ----------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=2)
def load_network(path: str) -> nx.MultiDiGraph:
    from gridplan.travel.roads import load_roads

    return load_roads(path)


@st.cache_resource(show_spinner=False, max_entries=3)
def network_model(roads_path: str, mode: str) -> TravelTimeModel:
    """One road-network model per file and mode: it keeps its sparse graph between calls."""
    spec = ModelSpec("network", mode, roads_path=roads_path)
    return workflow.travel_model(None, spec, roads=load_network(roads_path))


def travel_model(grid: CellGrid, spec: ModelSpec) -> TravelTimeModel:
    """The model of ``spec``; a road network is built once per file and mode."""
    if spec.model == "network" and spec.roads_path:
        return network_model(spec.roads_path, spec.mode)
    return workflow.travel_model(grid, spec)


@st.cache_resource(show_spinner=False, max_entries=8)
def coverage(key: CoverageKey, _xy: NDArray[np.float64]) -> Computed:
    """Travel times from the facilities at ``_xy`` (identified by ``key.facilities``).

    The straight line keeps metres (speed and detour only rescale them); the
    raster and network models compute minutes, cut off at the slider maximum.
    """
    from gridplan.access.coverage import CoverageIndex
    from gridplan.travel.base import TravelTimes
    from gridplan.travel.straight import StraightLineModel

    surface = load_surface(key.surface)
    if key.model is None:
        dist, nearest = StraightLineModel().distances(surface.grid, surface.populated(), _xy)
        times = TravelTimes(surface.grid, dist, nearest, "straight", {"unit": "metres"})
    else:
        tm = travel_model(surface.grid, key.model)
        times = tm.travel_times(surface.grid, surface.populated(), _xy)
    computed = Computed(times, CoverageIndex.build(surface, times))
    memory.trim()  # the temporaries of the build are freed: hand them back
    return computed


@st.cache_resource(show_spinner=False, max_entries=8)
def hover_base(key: CoverageKey, _xy: NDArray[np.float64]) -> HoverCells:
    """The hover blocks of a coverage at time scale 1 and today's residents.

    The sliders only rescale them: a block's mean time scales with the time scale (the
    straight line's base holds metres), its residents with the growth, and which cells
    form the blocks and which facility is nearest stay the same.
    """
    computed = coverage(key, _xy)
    surface = load_surface(key.surface)
    return hover_cells(
        surface.grid, computed.times.minutes, surface.population, computed.times.nearest
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def hover_json(
    key: HoverKey, _xy: NDArray[np.float64], _tips: Callable[[HoverCells], list[str]]
) -> bytes:
    """The hover blocks at the sliders as JSON rows ``lon``, ``lat``, ``tip`` (``_tips``
    writes the tooltips of the scaled blocks, in ``key.lang``)."""
    from ui.layerdata import compact_json

    base = hover_base(key.coverage, _xy)
    cells = dataclasses.replace(
        base, minutes=base.minutes * key.time_scale, population=base.population * key.pop_factor
    )
    rows = [
        {"lon": round(float(x), 6), "lat": round(float(y), 6), "tip": tip}
        for x, y, tip in zip(cells.lon, cells.lat, _tips(cells), strict=True)
    ]
    return compact_json(rows)


@st.cache_resource(show_spinner=False, max_entries=4)
def reach(key: ReachKey, _xy: NDArray[np.float64]) -> Reach:
    """Every (cell, facility) pair within the minutes, for capacity and 2SFCA analyses."""
    from gridplan.access.reach import ReachModel, facility_reach

    surface = load_surface(key.surface)
    spec = key.model
    network = None
    if spec.model == "network":
        network = travel_model(surface.grid, spec)
    return facility_reach(
        surface.grid, surface.populated(), _xy, model=cast(ReachModel, spec.model),
        speed_kmh=spec.speed, detour=spec.detour, max_minutes=key.minutes, mode=spec.mode,
        network=network,
    )  # fmt: skip


# --- siting -------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4)
def study(key: StudyKey, _facilities: pd.DataFrame) -> SitingStudy:
    """Run (once per key) the siting study on the cached surface."""
    from gridplan.siting.study import run_siting

    surface = load_surface(key.surface)
    units = load_units(key.surface.units)
    model = travel_model(surface.grid, key.model)
    cands = None
    if key.settings.candidates == "list" and key.candidates is not None:
        cands = candidate_list(
            key.candidates.path, key.candidates.datum, key.surface.units.prefecture,
            key.settings.level,
        )  # fmt: skip
    upload, circles = key.exclusions.layer, key.exclusions.circles
    layer = None if upload is None else exclusion_areas(upload.path, upload.datum)
    return run_siting(
        units, key.plan.plan(), surface, _facilities, model, key.settings, candidate_list=cands,
        exclusions=workflow.exclusion_areas(surface.grid.crs, layer, circles),
    )  # fmt: skip
