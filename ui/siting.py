"""Caching of the sub-centre siting tab (keys: surface key, facility digest, settings, files)."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import streamlit as st

from gridplan import workflow
from gridplan.plan.grids import GridPlan
from gridplan.siting.study import SitingSettings, SitingStudy, run_siting
from gridplan.workflow import ModelSpec, SurfaceSpec
from ui import access, state

#: What a study reads from the facility table (types and switches decide existing/candidates).
STUDY_COLUMNS = ("facility_id", "type", "active", "lon", "lat")


@st.cache_data(show_spinner=False, max_entries=8)
def candidate_list(path: str, datum: str, prefecture: str, level: str) -> pd.DataFrame:
    """A planner's candidate list (name, lon, lat; type optional), checked like a facility list."""
    return workflow.candidate_list(path, prefecture, level, datum)


@st.cache_resource(show_spinner=False, max_entries=4)
def exclusion_areas(path: str, datum: str) -> gpd.GeoDataFrame:
    return workflow.read_exclusions(path, datum)


@st.cache_resource(show_spinner=False, max_entries=4)
def study(
    key: SurfaceSpec,
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
    units = state.load_units(key.units)
    plan = GridPlan.from_dict(json.loads(plan_json))
    model = access.travel_model(surface.grid, spec)
    cands = None
    if settings.candidates == "list" and candidates_path:
        prefecture = key.units.prefecture
        cands = candidate_list(candidates_path, candidates_datum, prefecture, settings.level)
    layer = exclusion_areas(exclusions_path, exclusions_datum) if exclusions_path else None
    return run_siting(
        units, plan, surface, _facilities, model, settings, candidate_list=cands,
        exclusions=workflow.exclusion_areas(surface.grid.crs, layer, circles),
    )  # fmt: skip
