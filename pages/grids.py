"""Grids (网格划分): map, assignment editor, validation, uploads and downloads."""

import json

import pandas as pd
import streamlit as st

from gridplan.i18n import error_text, t
from gridplan.inputs.tables import read_table_upload
from gridplan.inputs.vector import read_vector_upload
from gridplan.plan.grids import resolve_assignment
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.validate import validate_plan
from gridplan.report.exports import grids_to_geojson, plan_to_csv
from gridplan.report.gridmap import render_grid_map_png
from gridplan.report.style import grid_colors
from gridplan.workflow import UnitsSource
from ui import navigation, state
from ui.mapview import BASEMAPS, build_deck
from ui.tables import assignment_changes, grid_option_labels, grid_stats_table, seed_block
from ui.texts import lang, tr

navigation.keep_navigation_in_charge()
sel = state.selection()
st.title(tr("page_grids"))


# --- uploads ----------------------------------------------------------------------------
def handle_uploads() -> None:
    with st.expander(tr("uploads"), expanded=False), st.form("uploads", border=False):
        tw = st.file_uploader(
            tr("township_upload"), type=["geojson", "json", "zip", "gpkg"], key="tw_file"
        )
        datum = st.selectbox(
            tr("datum"),
            ["wgs84", "gcj02", "bd09"],
            key="tw_datum",
            format_func={
                "wgs84": "WGS-84 / CGCS2000",
                "gcj02": "GCJ-02（高德/腾讯）",
                "bd09": "BD-09（百度）",
            }.get,
        )
        pop = st.file_uploader(tr("population_upload"), type=["csv", "txt", "xlsx"], key="pop_file")
        c1, c2 = st.columns(2)
        load = c1.form_submit_button(tr("load"), type="primary")
        clear = c2.form_submit_button(tr("clear_uploads"))
    if clear:
        for k in ("township_path", "population_path", "township_datum", "upload_report"):
            st.session_state.pop(k, None)
    if load:
        try_load(tw, str(datum), pop)
    for msg in st.session_state.get("upload_report", []):
        st.info(msg)


def try_load(tw, datum: str, pop) -> None:  # type: ignore[no-untyped-def]
    """Read the uploads; keep the previous data whenever anything fails."""
    new = {
        "township_path": st.session_state.get("township_path"),
        "township_datum": st.session_state.get("township_datum", "wgs84"),
        "population_path": st.session_state.get("population_path"),
    }
    report_lines = []
    try:
        if tw is not None:
            path = state.save_upload(tw.getvalue(), tw.name)
            gdf, rep = read_vector_upload(path, datum=datum)
            new["township_path"], new["township_datum"] = str(path), datum
            report_lines.append(tr("upload_ok", name=tw.name, n=len(gdf)))
        if pop is not None:
            path = state.save_upload(pop.getvalue(), pop.name)
            df, _ = read_table_upload(path)
            new["population_path"] = str(path)
            report_lines.append(tr("upload_ok", name=pop.name, n=len(df)))
        units = state.load_units(
            UnitsSource(
                sel.prefecture, new["township_path"], new["township_datum"], new["population_path"]
            )
        )
    except Exception as exc:
        st.error(error_text(exc, lang()) + "\n\n" + tr("upload_failed"))
        return
    tr_rep = units.township_report
    if tr_rep is not None:
        report_lines.append(
            tr(
                "township_summary",
                n=tr_rep.n_features,
                by_code=tr_rep.n_county_by_code,
                by_loc=tr_rep.n_county_by_location,
                ref=tr_rep.n_reference_matched,
                repaired=rep.n_repaired if tw is not None else 0,
            )
        )
        report_lines.extend(tr_rep.notes + units.notes)
    if units.unmatched_population:
        report_lines.append(
            t("table.unmatched", lang(), names="、".join(units.unmatched_population[:20]))
        )
    st.session_state.update(new)
    st.session_state["upload_report"] = report_lines


handle_uploads()

units = state.current_units(sel)
plan = state.current_plan(sel, units)
assignment = resolve_assignment(plan, units.units)
grids = grid_statistics(plan, units, assignment)
problems = validate_plan(plan, units, assignment)
grid_names = {g.grid_id: g.name for g in plan.grids}
grid_colors = grid_colors(plan)
seed_block(plan)


# --- map ----------------------------------------------------------------------------------
@st.fragment
def map_panel() -> None:
    c1, c2 = st.columns([3, 1])
    basemap = c1.radio(
        tr("basemap"),
        BASEMAPS,
        horizontal=True,
        key="basemap",
        format_func=lambda b: tr(f"basemap_{b}"),
    )
    labels = c2.toggle(tr("show_labels"), value=True, key="map_labels")
    deck = build_deck(
        units.units,
        state.current_display_geometry(sel),
        assignment,
        grid_names,
        grid_colors,
        lang=lang(),
        basemap=str(basemap),
        labels=labels,
    )
    st.pydeck_chart(deck, height=560, key="grid_map")
    st.caption(tr("boundary_source"))


left, right = st.columns([3, 2])
with left:
    st.subheader(tr("map"))
    map_panel()
    undrawn = [n for names in grids["undrawn_units"] for n in names]
    if undrawn:
        st.info(tr("undrawn", names="、".join(undrawn)))
with right:
    st.subheader(tr("validation"))
    if not [p for p in problems if p.severity == "error"]:
        st.success(tr("valid_ok"))
    for p in problems:
        (st.error if p.severity == "error" else st.warning)(p.message(lang()))
    st.subheader(tr("balance"))
    bal = population_balance(grids)
    b1, b2 = st.columns(2)
    b1.metric(tr("balance_ratio"), f"{bal['max_min_ratio']:.2f}")
    b2.metric(tr("balance_cv"), f"{bal['cv']:.2f}")

st.subheader(tr("grid_stats"))
st.dataframe(grid_stats_table(grids), hide_index=True, width="stretch")

# --- assignment editor ----------------------------------------------------------------------
st.subheader(tr("assignment"))
unassigned = tr("unassigned")
grid_labels = grid_option_labels(grid_names)
label_to_id = {v: k for k, v in grid_labels.items()}
u = units.units
unit_names = dict(zip(u["unit_id"], u["name"], strict=True))
with st.form("move_unit", border=False):
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    moving = c1.selectbox(
        tr("move_unit"),
        list(u["unit_id"]),
        key="move_unit",
        format_func=lambda x: f"{unit_names[x]}（{x}）",
    )
    target = c2.selectbox(
        tr("move_to"), list(grid_names), key="move_target", format_func=lambda g: grid_names[g]
    )
    if c3.form_submit_button(tr("move")):
        state.set_plan(sel, plan.reassign({str(moving): str(target)}))
        st.rerun()
table = pd.DataFrame(
    {
        tr("col_code"): u["unit_id"],
        tr("col_unit"): u["name"],
        tr("col_level"): u["level"].map(lambda x: tr(f"level_{x}")),
        tr("col_county"): u["county_name"].fillna("—"),
        tr("col_pop"): u["population"].round(0),
        tr("col_source"): u["population_source"].map(lambda s: provenance_label(s, lang())),
        tr("col_grid"): assignment.map(
            lambda g: grid_labels.get(g, unassigned) if g else unassigned
        ),
    }
)
version = st.session_state.get("plan_version", 0)
edited = st.data_editor(
    table,
    key=f"assign_{sel.prefecture}_{sel.preset}_{version}",
    hide_index=True,
    width="stretch",
    disabled=[c for c in table.columns if c != tr("col_grid")],
    column_config={
        tr("col_grid"): st.column_config.SelectboxColumn(
            tr("col_grid"), options=[*grid_labels.values(), unassigned], required=True
        ),
        tr("col_pop"): st.column_config.NumberColumn(format="localized"),
    },
)
changes = assignment_changes(table, edited, tr("col_code"), tr("col_grid"), label_to_id)
if changes:
    state.set_plan(sel, plan.reassign(changes))
    st.rerun()

# --- grid editor ----------------------------------------------------------------------------
st.subheader(tr("grids_table"))
gtable = pd.DataFrame(
    {
        "grid_id": [g.grid_id for g in plan.grids],
        tr("col_name"): [g.name for g in plan.grids],
        tr("col_lead"): [g.lead_hospital for g in plan.grids],
        tr("col_members"): ["、".join(g.members) for g in plan.grids],
    }
)
gedited = st.data_editor(
    gtable,
    key=f"grids_{sel.prefecture}_{sel.preset}_{version}",
    hide_index=True,
    width="stretch",
    disabled=["grid_id"],
)
if not gedited.equals(gtable):
    new_plan = state.copy_plan(plan)
    by_id = {g.grid_id: g for g in new_plan.grids}
    for row in gedited.itertuples(index=False):
        g = by_id[row[0]]
        g.name, g.lead_hospital = str(row[1] or "").strip() or g.name, str(row[2] or "").strip()
        g.members = [m for m in str(row[3] or "").replace(",", "、").split("、") if m.strip()]
    state.set_plan(sel, new_plan)
    st.rerun()
with st.form("add_grid", border=False):
    c1, c2 = st.columns([3, 1])
    new_name = c1.text_input(tr("new_grid_name"))
    if c2.form_submit_button(tr("add_grid")) and new_name.strip():
        state.set_plan(sel, plan.add_grid(new_name.strip()))
        st.rerun()
if st.button(tr("reset_plan")):
    state.set_plan(sel, state.original_plan(sel, units))
    st.rerun()

# --- downloads --------------------------------------------------------------------------------
st.subheader(tr("downloads"))
d1, d2, d3, d4 = st.columns(4)
stem = f"gridplan_{plan.plan_id}"
ui_lang = lang()  # the downloads are built later, outside this script run
d1.download_button(
    tr("dl_geojson"),
    lambda: grids_to_geojson(plan, units, assignment),
    f"{stem}.geojson",
    "application/geo+json",
)
d2.download_button(
    tr("dl_csv"),
    lambda: plan_to_csv(plan, units, assignment, lang=ui_lang),
    f"{stem}.csv",
    "text/csv",
)
d3.download_button(
    tr("dl_png"),
    lambda: render_grid_map_png(plan, units, assignment=assignment, lang=ui_lang),
    f"{stem}.png",
    "image/png",
)
d4.download_button(
    tr("dl_plan"),
    json.dumps(plan.to_dict(), ensure_ascii=False, indent=1),
    f"{stem}.json",
    "application/json",
)
