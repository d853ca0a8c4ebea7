"""Inputs of the travel-time scenario: population surface, road network, land cover and DEM."""

from __future__ import annotations

import os
import uuid
from typing import Any

import streamlit as st

from gridplan.errors import GridPlanError, InputError
from gridplan.i18n import error_text
from gridplan.inputs.boundaries import load_prefecture_outline
from gridplan.inputs.crs import DATUMS
from gridplan.surface.files import surface_from_file
from gridplan.surface.grid import CellGrid
from gridplan.surface.layers import check_layer_upload
from gridplan.surface.worldpop import fetch_worldpop
from gridplan.travel.roads import load_roads
from ui import cache, state
from ui.panels.common import saved, show_error
from ui.state import Selection, UploadedFile, lang
from ui.texts import DATUM, md_lines, tr


def population_panel(sel: Selection) -> None:
    """Upload a population raster or point table, or fetch WorldPop (online)."""
    with st.expander(tr("surface_panel")):
        with st.form("surface_upload", border=False):
            up = st.file_uploader(
                tr("surface_upload"), type=["tif", "tiff", "csv", "xlsx"], key="srf_file"
            )
            datum = st.selectbox(tr("datum"), list(DATUMS), key="srf_datum", format_func=DATUM)
            b1, b2, b3 = st.columns(3)
            load = b1.form_submit_button(tr("load"), type="primary")
            worldpop = b2.form_submit_button(tr("worldpop"))
            reset = b3.form_submit_button(tr("surface_reset"))
        if reset:
            state.set_surface_file(None)
        path = None
        try:
            if load and up is not None:
                path = saved(up)
            elif worldpop:
                units = cache.load_units(state.units_source(sel))
                with st.spinner(tr("worldpop_running")):
                    path = str(fetch_worldpop(units, state.session_file("worldpop")))
            if path is not None:
                try_surface(sel, UploadedFile(path, str(datum)))
        except (GridPlanError, OSError) as exc:
            show_error(exc, upload=True)
        pending_surface_panel(sel)


def try_surface(sel: Selection, upload: UploadedFile) -> None:
    """Use ``upload`` as the population surface if it reads; implausible figures wait for the
    planner's confirmation (the previous surface stays in use meanwhile)."""
    units = cache.load_units(state.units_source(sel))
    try:
        _, report = surface_from_file(
            upload.path, units, 1000.0, datum=upload.datum, accept_warnings=upload.accepted
        )
    except InputError as exc:
        if exc.code != "population.unconfirmed":
            raise
        state.set_pending_surface((upload, exc))
        return
    state.set_surface_file(upload)
    if report is not None:  # it names the table's columns and rows: shown as text
        st.success(md_lines(report.summary(lang())))


def pending_surface_panel(sel: Selection) -> None:
    """The implausible figures of a surface file, with confirm and discard buttons."""
    pending = state.pending_surface()
    if pending is None:
        return
    upload, error = pending
    st.warning(md_lines(error_text(error, lang())))
    c1, c2 = st.columns(2)
    if c1.button(tr("population_confirm"), key="srf_confirm", type="primary"):
        try:
            try_surface(sel, UploadedFile(upload.path, upload.datum, accepted=True))
        except (GridPlanError, OSError) as exc:
            state.set_pending_surface(None)
            show_error(exc, upload=True)
            return
        st.rerun()
    if c2.button(tr("population_discard"), key="srf_discard"):
        state.set_pending_surface(None)
        st.rerun()


def roads_panel(model: str, sel: Selection | None = None) -> str | None:
    """Road-network file (.osm / .graphml, or downloaded from OSM) for the network model."""
    if model != "network":
        return state.roads_path()
    kinds = ["osm", "xml", "graphml", "pbf", "bz2"]
    up = st.file_uploader(tr("roads_upload"), type=kinds, key="roads_file")
    path = None
    try:
        path = saved(up) if up is not None else None
        if sel is not None and st.button(tr("roads_online"), key="roads_online"):
            with st.spinner(tr("roads_downloading")):
                graph = load_roads(None, polygon=load_prefecture_outline(sel.prefecture))
                path = save_graph(graph, f"roads_{sel.prefecture}.graphml")
        if path is not None:
            cache.load_network(path)
            state.set_roads_path(path)
    except (GridPlanError, OSError) as exc:
        show_error(exc, upload=up is not None)
    if state.roads_path() is None:
        st.info(tr("roads_needed"))
    return state.roads_path()


def save_graph(graph: Any, name: str) -> str:
    """Write a downloaded road graph into the session's folder atomically; its path."""
    target = state.session_file(name)
    part = target.with_name(f".part-{uuid.uuid4().hex}.graphml")
    try:
        import osmnx as ox  # loaded when a network is saved, not with every page

        ox.save_graphml(graph, part)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return str(target)


def raster_inputs_panel(model: str, grid: CellGrid) -> None:
    """Land cover and DEM uploads for the friction-raster model."""
    if model != "raster":
        return
    with st.expander(tr("raster_inputs")):
        for kind, label in (("landcover", tr("landcover_upload")), ("dem", tr("dem_upload"))):
            up = st.file_uploader(label, type=["tif", "tiff"], key=f"{kind}_file")
            if up is None:
                continue
            path = saved(up)
            try:
                check_layer_upload(path, up.name, grid=grid)
            except (GridPlanError, OSError) as exc:
                show_error(exc, upload=True)
            else:
                state.set_raster_path(kind, path)
        st.caption(tr("raster_inputs_note"))
