"""Caching and computation helpers of the 15-minute page (keys, not GeoDataFrames)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import osmnx as ox
import pandas as pd
import rasterio
import rasterio.errors
import streamlit as st

from gridplan import workflow
from gridplan.access.coverage import CoverageIndex
from gridplan.access.reach import Reach, facility_reach
from gridplan.errors import GridPlanError, UploadError
from gridplan.i18n import error_text
from gridplan.inputs.boundaries import load_prefecture_outline
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.population import provenance_label
from gridplan.report.webmap import WarpPlan, warp_plan
from gridplan.surface.files import surface_from_file
from gridplan.surface.grid import PopulationSurface
from gridplan.surface.worldpop import fetch_worldpop
from gridplan.travel.base import TravelTimeModel, TravelTimes, speed_m_per_min
from gridplan.travel.roads import load_roads
from gridplan.travel.straight import StraightLineModel
from gridplan.workflow import ModelSpec, SurfaceSpec, UnitsSource
from ui import state
from ui.texts import lang, tr

#: Facility dot colours on the map, and the coloured glyph naming them in the caption.
TYPE_COLORS = {
    "社区卫生服务中心": (31, 119, 180),
    "乡镇卫生院": (44, 160, 44),
    "社区卫生服务站": (148, 103, 189),
    "村卫生室": (140, 86, 75),
    "二级医院": (214, 39, 40),
    "医疗次中心": (255, 127, 14),
    "三级医院": (120, 0, 0),
    "其他": (90, 90, 90),
}
TYPE_DOTS = {
    "社区卫生服务中心": "🔵",
    "乡镇卫生院": "🟢",
    "社区卫生服务站": "🟣",
    "村卫生室": "🟤",
    "二级医院": "🔴",
    "医疗次中心": "🟠",
    "三级医院": "🔴",
    "其他": "⚫",
}


def surface_key(sel: state.Selection, cell_m: float) -> SurfaceSpec:
    """The population surface of this session at ``cell_m`` (uploaded, else modelled census)."""
    return SurfaceSpec(
        state.units_source(sel),
        float(cell_m),
        st.session_state.get("surface_path"),
        st.session_state.get("surface_datum", "wgs84"),
    )


@st.cache_resource(show_spinner=False, max_entries=6)
def load_surface(key: SurfaceSpec) -> PopulationSurface:
    return workflow.population_surface(state.load_units(key.units), key)


@st.cache_resource(show_spinner=False, max_entries=6)
def load_warp(key: SurfaceSpec) -> WarpPlan:
    return warp_plan(load_surface(key).grid)


@st.cache_data(show_spinner=False, max_entries=8)
def default_facilities(source: UnitsSource) -> pd.DataFrame:
    """The illustrative network (示意) of the units before any population table."""
    return workflow.illustrative_network(state.load_units(source.without_population()))


def facility_table(sel: state.Selection) -> pd.DataFrame:
    """The facilities being planned for this prefecture (session copy, editable)."""
    store: dict[str, pd.DataFrame] = st.session_state.setdefault("facilities", {})
    if sel.prefecture not in store:
        store[sel.prefecture] = default_facilities(state.units_source(sel)).copy()
    return store[sel.prefecture]


def set_facility_table(sel: state.Selection, df: pd.DataFrame) -> None:
    st.session_state.setdefault("facilities", {})[sel.prefecture] = df.reset_index(drop=True)


def facility_digest(
    df: pd.DataFrame, columns: tuple[str, ...] = ("facility_id", "lon", "lat")
) -> str:
    """Cache key of a facility table: a digest of the ``columns`` its user reads."""
    cols = df[list(columns)].astype(str).agg("|".join, axis=1)
    return hashlib.sha256("\n".join(cols).encode()).hexdigest()[:16]


@dataclass
class Computed:
    times: TravelTimes
    index: CoverageIndex
    base_scale: float  # minutes per base unit at the slider values used to compute


@st.cache_resource(show_spinner=False, max_entries=8)
def straight_index(key: SurfaceSpec, digest: str, _xy: np.ndarray) -> Computed:
    """Straight-line distances (the base surface; speed and detour only rescale)."""
    surface = load_surface(key)
    model = StraightLineModel()
    dist, nearest = model.distances(surface.grid, surface.populated(), _xy)
    times = TravelTimes(surface.grid, dist, nearest, "straight", {"unit": "metres"})
    return Computed(times, CoverageIndex.build(surface, times), 1.0)


@st.cache_resource(show_spinner=False, max_entries=8)
def model_index(key: SurfaceSpec, digest: str, _xy: np.ndarray, spec: ModelSpec) -> Computed:
    """Travel times of the friction-raster or road-network model (cutoff: the slider maximum)."""
    surface = load_surface(key)
    tm = travel_model(surface.grid, spec)
    times = tm.travel_times(surface.grid, surface.populated(), _xy)
    return Computed(times, CoverageIndex.build(surface, times), 1.0)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_network(path: str):  # type: ignore[no-untyped-def]
    return load_roads(path)


def travel_model(grid, spec: ModelSpec) -> TravelTimeModel:  # type: ignore[no-untyped-def]
    """The model of ``spec``; a road network is built once per file and mode."""
    if spec.model == "network" and spec.roads_path:
        return network_model(spec.roads_path, spec.mode)
    return workflow.travel_model(grid, spec)


@st.cache_resource(show_spinner=False, max_entries=3)
def network_model(roads_path: str, mode: str) -> TravelTimeModel:
    """One road-network model per file and mode: it keeps its sparse graph between calls."""
    spec = ModelSpec("network", mode, roads_path=roads_path)
    return workflow.travel_model(None, spec, roads=load_network(roads_path))


def compute(
    model: str,
    key: SurfaceSpec,
    digest: str,
    xy: np.ndarray,
    mode: str,
    speed: float,
    roads_path: str | None,
) -> Computed:
    if model == "straight":
        return straight_index(key, digest, xy)
    # raster/network times depend on speed: they are cached per speed value
    spec = ModelSpec(
        model, mode, round(speed, 1), roads_path=roads_path,
        landcover_path=st.session_state.get("landcover_path"),
        dem_path=st.session_state.get("dem_path"),
    )  # fmt: skip
    return model_index(key, digest, xy, spec)


def raster_inputs_panel(model: str) -> None:
    """Land cover and DEM uploads for the friction-raster model."""
    if model != "raster":
        return
    with st.expander(tr("raster_inputs")):
        for kind, label in (("landcover", tr("landcover_upload")), ("dem", tr("dem_upload"))):
            up = st.file_uploader(label, type=["tif", "tiff"], key=f"{kind}_file")
            if up is None:
                continue
            path = str(state.save_upload(up.getvalue(), up.name))
            try:
                with rasterio.open(path) as src:
                    if src.crs is None:
                        raise UploadError(
                            "no CRS", code="upload.no_crs", params={"filename": up.name}
                        )
            except (rasterio.errors.RasterioIOError, GridPlanError) as exc:
                msg = error_text(exc, lang()) if isinstance(exc, GridPlanError) else str(exc)
                st.error(msg + "\n\n" + tr("upload_failed"))
            else:
                st.session_state[f"{kind}_path"] = path
        st.caption(tr("raster_inputs_note"))


def roads_panel(model: str, sel: state.Selection | None = None) -> str | None:
    """Road-network file (.osm / .graphml, or downloaded from OSM) for the network model."""
    if model != "network":
        return st.session_state.get("roads_path")
    kinds = ["osm", "xml", "graphml", "pbf"]
    up = st.file_uploader(tr("roads_upload"), type=kinds, key="roads_file")
    path = str(state.save_upload(up.getvalue(), up.name)) if up is not None else None
    if sel is not None and st.button(tr("roads_online"), key="roads_online"):
        try:
            with st.spinner(tr("roads_downloading")):
                graph = load_roads(None, polygon=load_prefecture_outline(sel.prefecture))
                target = state.UPLOAD_DIR / f"roads_{sel.prefecture}.graphml"
                target.parent.mkdir(parents=True, exist_ok=True)
                ox.save_graphml(graph, target)
            path = str(target)
        except GridPlanError as exc:
            st.error(error_text(exc, lang()))
    if path is not None:
        try:
            load_network(path)
        except GridPlanError as exc:
            st.error(error_text(exc, lang()) + "\n\n" + tr("upload_failed"))
        else:
            st.session_state["roads_path"] = path
    if st.session_state.get("roads_path") is None:
        st.info(tr("roads_needed"))
    return st.session_state.get("roads_path")


def provenance_caption(pop_source: str, n: int, fac_sources: pd.Series) -> str:
    """Where the population and the facilities come from, said plainly."""
    pop = provenance_label(pop_source, lang())
    fac = "、".join(tr(f"src_{x}") for x in sorted(set(fac_sources))) or "—"
    return tr("provenance_line", pop=pop, n=n, fac=fac)


def straight_scale(speed_kmh: float, detour: float) -> float:
    """Minutes per metre of straight-line distance."""
    return detour / speed_m_per_min(speed_kmh)


def population_panel(sel: state.Selection) -> None:
    """Upload a population raster or point table, or fetch WorldPop (online)."""
    with st.expander(tr("surface_panel")):
        with st.form("surface_upload", border=False):
            up = st.file_uploader(
                tr("surface_upload"), type=["tif", "tiff", "csv", "xlsx"], key="srf_file"
            )
            datum = st.selectbox(tr("datum"), ["wgs84", "gcj02", "bd09"], key="srf_datum")
            b1, b2, b3 = st.columns(3)
            load = b1.form_submit_button(tr("load"), type="primary")
            worldpop = b2.form_submit_button(tr("worldpop"))
            reset = b3.form_submit_button(tr("surface_reset"))
        if reset:
            st.session_state.pop("surface_path", None)
        path = None
        try:
            if load and up is not None:
                path = str(state.save_upload(up.getvalue(), up.name))
            elif worldpop:
                units = state.current_units(sel)
                with st.spinner(tr("worldpop_running")):
                    path = str(fetch_worldpop(units, state.UPLOAD_DIR / "worldpop"))
            if path is not None:
                units = state.current_units(sel)
                _, report = surface_from_file(path, units, 1000.0, datum=str(datum))
                st.session_state["surface_path"] = path
                st.session_state["surface_datum"] = str(datum)
                if report is not None:
                    st.success(report.summary(lang()))
        except GridPlanError as exc:
            st.error(error_text(exc, lang()) + "\n\n" + tr("upload_failed"))
        except OSError as exc:
            st.error(str(exc) + "\n\n" + tr("upload_failed"))


@st.cache_data(show_spinner=False, max_entries=16)
def _outlines_json(prefecture: str, township_path: str | None, datum: str, plan_json: str) -> dict:  # type: ignore[type-arg]
    import json

    from gridplan.plan.grids import GridPlan
    from gridplan.plan.units import display_geometry

    units = state.load_units(UnitsSource(prefecture, township_path, datum))
    plan = GridPlan.from_dict(json.loads(plan_json))
    assignment = resolve_assignment(plan, units.units)
    shapes = units.units.assign(grid_id=assignment.to_numpy(), geometry=display_geometry(units))
    shapes = shapes[shapes["has_geometry"] & shapes["grid_id"].notna()]
    return json.loads(shapes[["grid_id", "geometry"]].dissolve("grid_id").reset_index().to_json())


def grid_outlines(sel: state.Selection, plan: GridPlan) -> dict:  # type: ignore[type-arg]
    """The plan's grid outlines (simplified) as GeoJSON for the map, cached on the plan."""
    import json

    return _outlines_json(
        sel.prefecture,
        st.session_state.get("township_path"),
        st.session_state.get("township_datum", "wgs84"),
        json.dumps(plan.to_dict(), ensure_ascii=False, sort_keys=True),
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def reach_for(
    key: SurfaceSpec,
    digest: str,
    _xy: np.ndarray,
    model: str,
    mode: str,
    speed: float,
    detour: float,
    minutes: float,
    roads_path: str | None = None,
) -> Reach:
    """Every (cell, facility) pair within ``minutes``, for capacity and 2SFCA analyses."""
    surface = load_surface(key)
    network = None
    if model == "network":
        network = travel_model(surface.grid, ModelSpec(model, mode, speed, roads_path=roads_path))
    return facility_reach(
        surface.grid, surface.populated(), _xy, model=model,  # type: ignore[arg-type]
        speed_kmh=speed, detour=detour, max_minutes=minutes, mode=mode, network=network,
    )  # fmt: skip
