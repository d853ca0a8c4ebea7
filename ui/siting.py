"""Caching of the sub-centre siting tab (keys: surface key, facility digest, settings, files)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from gridplan.facilities.reader import read_facilities
from gridplan.inputs.boundaries import load_prefecture_outline
from gridplan.inputs.vector import read_vector_upload
from gridplan.plan.grids import GridPlan
from gridplan.siting.study import SitingSettings, SitingStudy, exclusion_circles, run_siting
from ui import access, state


@dataclass(frozen=True)
class ModelSpec:
    """The travel-time model of a study, as hashable cache key."""

    model: str
    mode: str
    speed_kmh: float
    detour: float
    roads_path: str | None
    landcover_path: str | None
    dem_path: str | None


#: What a study reads from the facility table (types and switches decide existing/candidates).
STUDY_COLUMNS = ("facility_id", "type", "active", "lon", "lat")


@st.cache_data(show_spinner=False, max_entries=8)
def candidate_list(path: str, datum: str, prefecture: str, level: str) -> pd.DataFrame:
    """A planner's candidate list (name, lon, lat; type optional), checked like a facility list."""
    default = "医疗次中心" if level == "secondary" else "社区卫生服务中心"
    df, _ = read_facilities(
        path,
        datum=datum,
        prefecture_outline=load_prefecture_outline(prefecture),
        default_type=default,
    )
    return df


@st.cache_resource(show_spinner=False, max_entries=4)
def exclusion_areas(path: str, datum: str):  # type: ignore[no-untyped-def]
    gdf, _ = read_vector_upload(path, datum=datum)
    return gdf


@st.cache_resource(show_spinner=False, max_entries=4)
def study(
    key: access.SurfaceKey,
    digest: str,
    plan_json: str,
    settings: SitingSettings,
    spec: ModelSpec,
    candidates_path: str | None,
    candidates_datum: str,
    exclusions_path: str | None,
    exclusions_datum: str,
    circles: tuple[tuple[float, float, float], ...],
    _facilities: pd.DataFrame,
) -> SitingStudy:
    """Run (once per key) the siting study on the cached surface."""
    surface = access.load_surface(key)
    units = state.load_units(key.prefecture, key.township_path, key.datum, key.population_path)
    plan = GridPlan.from_dict(json.loads(plan_json))
    model = access.travel_model(
        surface.grid, spec.model, spec.mode, spec.speed_kmh, spec.roads_path,
        spec.landcover_path, spec.dem_path, detour=spec.detour,
    )  # fmt: skip
    cands = None
    if settings.candidates == "list" and candidates_path:
        cands = candidate_list(candidates_path, candidates_datum, key.prefecture, settings.level)
    crs = surface.grid.crs
    areas = []
    if exclusions_path:
        areas.append(exclusion_areas(exclusions_path, exclusions_datum).to_crs(crs).geometry)
    if circles:
        table = pd.DataFrame(list(circles), columns=["lon", "lat", "radius_km"])
        areas.append(exclusion_circles(table, crs))
    excl = gpd.GeoSeries(pd.concat(areas, ignore_index=True), crs=crs) if areas else None
    return run_siting(
        units, plan, surface, _facilities, model, settings,
        candidate_list=cands, exclusions=excl,
    )  # fmt: skip
