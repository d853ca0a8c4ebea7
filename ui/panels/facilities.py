"""The facility list of a prefecture: upload, OpenStreetMap, switch on/off, add."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from gridplan.errors import FacilitiesError, GridPlanError, InputError, UploadError
from gridplan.facilities.osm import facilities_from_osm
from gridplan.facilities.reader import read_facilities, rejection_table
from gridplan.facilities.table import add_facility
from gridplan.facilities.types import FACILITY_TYPES, type_label
from gridplan.inputs.boundaries import Prefecture, load_prefecture_outline
from gridplan.inputs.crs import DATUMS
from ui import scenario, state
from ui.panels.common import saved, show_error
from ui.state import Selection, lang
from ui.texts import DATUM, SOURCE, tr


def facility_panel(sel: Selection, prefecture: Prefecture) -> None:
    """Replace, switch and extend the facility list the coverage and siting pages count."""
    with st.expander(tr("facilities_panel"), expanded=False):
        with st.form("fac_upload", border=False):
            up = st.file_uploader(
                tr("facility_upload"), type=["csv", "txt", "xlsx"], key="fac_file"
            )
            datum = st.selectbox(tr("datum"), list(DATUMS), key="fac_datum", format_func=DATUM)
            osm = st.file_uploader(tr("osm_upload"), type=["osm", "xml"], key="osm_file")
            b1, b2, b3 = st.columns(3)
            load = b1.form_submit_button(tr("load"), type="primary")
            online = b2.form_submit_button(tr("osm_online"))
            reset = b3.form_submit_button(tr("facility_reset"))
        if load or online:
            load_facilities(sel, prefecture, up, str(datum), osm, online)
        if reset:
            state.forget_facilities(sel)
            st.rerun()
        rejected = state.rejected_facilities()
        if rejected is not None and len(rejected):
            st.warning(tr("facility_rejected", n=len(rejected)))
            st.dataframe(rejection_table(rejected, lang()), hide_index=True)
        df = scenario.facilities(sel)
        switches_editor(sel, df)
        add_facility_form(sel, df)


def illustrative_banner(facilities: pd.DataFrame, prefecture: Prefecture) -> None:
    """Say the facilities are illustrative (示意) and how to upload the real list.

    With no network at all (no population to lay it out on), say what to provide.
    """
    if facilities.empty:
        st.warning(tr("illustrative_none", prefecture=prefecture.name))
    elif facilities["source"].eq("illustrative").any():
        st.info(tr("illustrative_banner"))


def switches_editor(sel: Selection, df: pd.DataFrame) -> None:
    """The facility table with a switch per facility."""
    table = pd.DataFrame(
        {
            "facility_id": df["facility_id"],
            tr("fac_active"): df["active"].astype(bool),
            tr("col_name"): df["name"],
            tr("fac_type"): df["type"].map(lambda t: type_label(t, lang())),
            tr("fac_source"): df["source"].map(SOURCE),
        }
    )
    edited = st.data_editor(
        table,
        key=state.facility_editor_key(),
        hide_index=True,
        disabled=[c for c in table.columns if c != tr("fac_active")],
        width="stretch",
        height=260,
        # the switches are read back by facility_id: the column keeps its name, shown as 编号
        column_config={"facility_id": st.column_config.TextColumn(tr("col_facility_id"))},
    )
    if not edited[tr("fac_active")].equals(table[tr("fac_active")]):
        flags = dict(zip(edited["facility_id"], edited[tr("fac_active")], strict=True))
        state.edit_facilities(sel, df.assign(active=df["facility_id"].map(flags).astype(bool)))
        st.rerun()


def add_facility_form(sel: Selection, df: pd.DataFrame) -> None:
    """Add one planned facility by name, type and WGS-84 coordinates."""
    with st.form("fac_add", border=False):
        a1, a2, a3, a4, a5 = st.columns([2, 2, 1, 1, 1], vertical_alignment="bottom")
        name = a1.text_input(tr("col_name"), key="add_name")
        ftype = a2.selectbox(
            tr("fac_type"),
            list(FACILITY_TYPES),
            key="add_type",
            format_func=lambda t: type_label(t, lang()),
        )
        lon = a3.number_input(tr("lon"), value=None, format="%.6f", key="add_lon")
        lat = a4.number_input(tr("lat"), value=None, format="%.6f", key="add_lat")
        if a5.form_submit_button(tr("add_facility")):
            try:
                if lon is None or lat is None or not name.strip():
                    raise InputError("name, lon and lat are required", code="facility.add_missing")
                state.edit_facilities(sel, add_facility(df, name.strip(), ftype, lon, lat))
                st.rerun()
            except GridPlanError as exc:
                show_error(exc)


def load_facilities(
    sel: Selection, prefecture: Prefecture, up: Any, datum: str, osm: Any, online: bool
) -> None:
    """Replace the facility list from an upload or OSM; keep the old list on any failure."""
    rejected = None
    try:
        if online:
            df = facilities_from_osm(prefecture)
        elif osm is not None:
            path = saved(osm)
            df = facilities_from_osm(load_prefecture_outline(prefecture), path=path)
        elif up is not None:
            path = saved(up)
            df, rep = read_facilities(path, datum=datum, prefecture_outline=prefecture)
            rejected = rep.rejected
        else:
            return
    except GridPlanError as exc:
        show_error(exc, upload=True)
        _show_all_rejected(exc)
        return
    except Exception as exc:  # a library's own failure: its text may name server folders
        name = getattr(up if up is not None else osm, "name", "") or "—"
        show_error(
            UploadError(
                f"cannot read {name}: {type(exc).__name__}",
                code="upload.unreadable",
                params={"filename": name, "detail": type(exc).__name__},
            ),
            upload=True,
        )
        return
    state.set_facilities(sel, df, rejected)
    st.success(tr("facility_loaded", n=len(df)))


def _show_all_rejected(exc: Exception) -> None:
    """Every rejected row with its reason when no row of a list was usable.

    The message names the first rows; the table lists them all, as text.
    """
    report = exc.report if isinstance(exc, FacilitiesError) else None
    if report is not None and report.n_rejected:
        st.dataframe(rejection_table(report.rejected, lang()), hide_index=True)
