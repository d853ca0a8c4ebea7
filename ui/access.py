"""Caching and computation helpers of the 15-minute page (keys, not GeoDataFrames)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from pyproj import Transformer

from gridplan.coverage import CoverageIndex
from gridplan.facilities import CENTRES, HOSPITALS, PRIMARY_CARE, illustrative_facilities
from gridplan.rasterview import WarpPlan, warp_plan
from gridplan.surface import PopulationSurface, census_surface
from gridplan.traveltime import StraightLineModel, TravelTimes, speed_m_per_min
from ui import state

TARGET_TYPES = {"primary": PRIMARY_CARE, "centres": CENTRES, "hospitals": HOSPITALS}


@dataclass(frozen=True)
class SurfaceKey:
    prefecture: str
    township_path: str | None
    datum: str
    population_path: str | None
    cell_m: float


def surface_key(sel: state.Selection, cell_m: float) -> SurfaceKey:
    return SurfaceKey(
        sel.prefecture,
        st.session_state.get("township_path"),
        st.session_state.get("township_datum", "wgs84"),
        st.session_state.get("population_path"),
        float(cell_m),
    )


@st.cache_resource(show_spinner=False, max_entries=6)
def load_surface(key: SurfaceKey) -> PopulationSurface:
    units = state.load_units(key.prefecture, key.township_path, key.datum, key.population_path)
    return census_surface(units, key.cell_m)


@st.cache_resource(show_spinner=False, max_entries=6)
def load_warp(key: SurfaceKey) -> WarpPlan:
    return warp_plan(load_surface(key).grid)


@st.cache_data(show_spinner=False, max_entries=8)
def default_facilities(prefecture: str, township_path: str | None, datum: str) -> pd.DataFrame:
    """The illustrative network (示意), from a 500 m surface so it does not depend on the slider."""
    units = state.load_units(prefecture, township_path, datum, None)
    return illustrative_facilities(units, census_surface(units, 500.0))


def facility_table(sel: state.Selection) -> pd.DataFrame:
    """The facilities being planned for this prefecture (session copy, editable)."""
    store: dict[str, pd.DataFrame] = st.session_state.setdefault("facilities", {})
    if sel.prefecture not in store:
        store[sel.prefecture] = default_facilities(
            sel.prefecture,
            st.session_state.get("township_path"),
            st.session_state.get("township_datum", "wgs84"),
        ).copy()
    return store[sel.prefecture]


def set_facility_table(sel: state.Selection, df: pd.DataFrame) -> None:
    st.session_state.setdefault("facilities", {})[sel.prefecture] = df.reset_index(drop=True)


def facilities_xy(df: pd.DataFrame, crs: str) -> np.ndarray:
    tf = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = tf.transform(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    return np.column_stack([x, y])


def used_facilities(df: pd.DataFrame, target: str) -> pd.DataFrame:
    """Active facilities of the target group."""
    return df[df["active"].astype(bool) & df["type"].isin(TARGET_TYPES[target])].reset_index(
        drop=True
    )


def facility_digest(df: pd.DataFrame) -> str:
    cols = df[["facility_id", "lon", "lat"]].astype(str).agg("|".join, axis=1)
    return hashlib.sha256("\n".join(cols).encode()).hexdigest()[:16]


@dataclass
class Computed:
    times: TravelTimes
    index: CoverageIndex
    base_scale: float  # minutes per base unit at the slider values used to compute


@st.cache_resource(show_spinner=False, max_entries=8)
def straight_index(key: SurfaceKey, digest: str, _xy: np.ndarray) -> Computed:
    """Straight-line distances (the base surface; speed and detour only rescale)."""
    surface = load_surface(key)
    model = StraightLineModel()
    dist, nearest = model.distances(surface.grid, surface.populated(), _xy)
    times = TravelTimes(surface.grid, dist, nearest, "straight", {"unit": "metres"})
    return Computed(times, CoverageIndex.build(surface, times), 1.0)


def straight_scale(speed_kmh: float, detour: float) -> float:
    """Minutes per metre of straight-line distance."""
    return detour / speed_m_per_min(speed_kmh)
