"""15-minute health-service circle (15分钟健康服务圈): travel time, coverage, KPIs, what-if."""

import io

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from gridplan import settings, workflow
from gridplan.access.capacity import capacity_coverage, facility_capacity, facility_supply
from gridplan.access.coverage import (
    KpiTables,
    catchments,
    centre_standard_flag,
    kpi_tables,
    plan_groups,
    uncovered_hotspots,
)
from gridplan.access.g2sfca import g2sfca
from gridplan.access.standards import grid_standards
from gridplan.errors import GridPlanError, InputError
from gridplan.facilities.osm import facilities_from_osm
from gridplan.facilities.reader import read_facilities
from gridplan.facilities.table import add_facility
from gridplan.facilities.types import CENTRES, FACILITY_TYPES, type_label
from gridplan.i18n import error_text
from gridplan.inputs.boundaries import load_prefecture_outline
from gridplan.report.coveragemap import render_coverage_map_png
from gridplan.report.webmap import coverage_image, minute_bands, minutes_image
from gridplan.travel.modes import DEFAULT_DETOUR, MODE_SPEED_SOURCES, MODE_SPEEDS_KMH
from ui import access, navigation, state
from ui.mapview import fitted_deck, image_layer, outline_layer
from ui.texts import lang, tr

navigation.keep_navigation_in_charge()
sel = state.selection()
units = state.current_units(sel)
plan = state.current_plan(sel, units)
st.title(tr("page_access"))
st.caption(tr("access_intro"))

# --- scenario controls (changing these recomputes travel times) --------------------------
c1, c2, c3, c4 = st.columns(4)
model = c1.selectbox(
    tr("model"), workflow.MODELS, format_func=lambda m: tr(f"model_{m}"), key="acc_model"
)
mode = c2.selectbox(
    tr("mode"), list(MODE_SPEEDS_KMH), format_func=lambda m: tr(f"mode_{m}"), key="acc_mode"
)
target = c3.selectbox(
    tr("target"),
    list(workflow.TARGET_GROUPS),
    format_func=lambda t: tr(f"target_{t}"),
    key="acc_target",
)
CELL_SIZES = [50, 100, 200, 500, 1000]
cell_m = c4.selectbox(
    tr("cell_size"),
    CELL_SIZES,
    index=CELL_SIZES.index(int(settings.cell_m)),
    key="acc_cell",
    format_func=lambda c: f"{c} m",
)


# --- facilities: upload, OpenStreetMap, switch on/off, add -------------------------------
def facility_panel() -> None:
    with st.expander(tr("facilities_panel"), expanded=False):
        with st.form("fac_upload", border=False):
            up = st.file_uploader(
                tr("facility_upload"), type=["csv", "txt", "xlsx"], key="fac_file"
            )
            datum = st.selectbox(tr("datum"), ["wgs84", "gcj02", "bd09"], key="fac_datum")
            osm = st.file_uploader(tr("osm_upload"), type=["osm", "xml"], key="osm_file")
            b1, b2, b3 = st.columns(3)
            load = b1.form_submit_button(tr("load"), type="primary")
            online = b2.form_submit_button(tr("osm_online"))
            reset = b3.form_submit_button(tr("facility_reset"))
        if load or online:
            load_facilities(up, str(datum), osm, online)
        if reset:
            st.session_state.get("facilities", {}).pop(sel.prefecture, None)
            st.rerun()
        rejected = st.session_state.get("fac_rejected")
        if rejected is not None and len(rejected):
            st.warning(tr("facility_rejected", n=len(rejected)))
            col = "reason_zh" if lang() == "zh" else "reason_en"
            st.dataframe(rejected[["row", "name", col]], hide_index=True)
        df = access.facility_table(sel)
        table = pd.DataFrame(
            {
                "facility_id": df["facility_id"],
                tr("fac_active"): df["active"].astype(bool),
                tr("col_name"): df["name"],
                tr("fac_type"): df["type"].map(lambda t: type_label(t, lang())),
                tr("fac_source"): df["source"].map(lambda x: tr(f"src_{x}")),
            }
        )
        edited = st.data_editor(
            table,
            key=f"fac_editor_{st.session_state.get('fac_version', 0)}",
            hide_index=True,
            disabled=[c for c in table.columns if c != tr("fac_active")],
            width="stretch",
            height=260,
        )
        if not edited[tr("fac_active")].equals(table[tr("fac_active")]):
            flags = dict(zip(edited["facility_id"], edited[tr("fac_active")], strict=True))
            access.set_facility_table(
                sel, df.assign(active=df["facility_id"].map(flags).astype(bool))
            )
            st.session_state["fac_version"] = st.session_state.get("fac_version", 0) + 1
            st.rerun()
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
                        raise InputError(
                            "name, lon and lat are required", code="facility.add_missing"
                        )
                    access.set_facility_table(sel, add_facility(df, name.strip(), ftype, lon, lat))
                    st.session_state["fac_version"] = st.session_state.get("fac_version", 0) + 1
                    st.rerun()
                except GridPlanError as exc:
                    st.error(error_text(exc, lang()))


def load_facilities(up, datum: str, osm, online: bool) -> None:  # type: ignore[no-untyped-def]
    """Replace the facility list from an upload or OSM; keep the old list on any failure."""
    try:
        if online:
            df = facilities_from_osm(units.prefecture)
            rejected = None
        elif osm is not None:
            path = state.save_upload(osm.getvalue(), osm.name)
            df = facilities_from_osm(load_prefecture_outline(units.prefecture), path=path)
            rejected = None
        elif up is not None:
            path = state.save_upload(up.getvalue(), up.name)
            df, rep = read_facilities(path, datum=datum, prefecture_outline=units.prefecture)
            rejected = rep.rejected
        else:
            return
    except Exception as exc:
        st.error(error_text(exc, lang()) + "\n\n" + tr("upload_failed"))
        return
    access.set_facility_table(sel, df)
    st.session_state["fac_rejected"] = rejected
    st.session_state["fac_version"] = st.session_state.get("fac_version", 0) + 1
    st.success(tr("facility_loaded", n=len(df)))


facility_panel()
access.population_panel(sel)
key = access.surface_key(sel, cell_m)
surface = access.load_surface(key)
facilities = access.facility_table(sel)
used = workflow.used_facilities(facilities, target)
xy = workflow.facilities_xy(used, surface.grid.crs)
digest = access.facility_digest(used)
roads_path = access.roads_panel(model, sel)
access.raster_inputs_panel(model)


# --- what-if sliders and map: a fragment, so only this part reruns and the view stays --------
@st.fragment
def what_if() -> None:
    s1, s2, s3, s4 = st.columns(4)
    max_minutes = int(settings.model_cutoff_min)  # raster and network times stop there
    default_t = int(workflow.default_minutes(target))
    minutes = s1.slider(tr("minutes"), 5, max_minutes, default_t, key=f"acc_minutes_{target}")
    speed = s2.slider(
        tr("speed"), 1.0, 80.0, float(MODE_SPEEDS_KMH[mode]), 0.1, key=f"acc_speed_{mode}"
    )
    detour = s3.slider(
        tr("detour"), 1.0, 2.0, DEFAULT_DETOUR, 0.05, key="acc_detour", disabled=model != "straight"
    )
    growth = s4.slider(tr("growth"), -20, 50, 0, key="acc_growth")
    st.caption(MODE_SPEED_SOURCES[mode][lang()] + " · " + tr(f"model_note_{model}"))
    try:
        computed = access.compute(model, key, digest, xy, mode, speed, roads_path)
    except GridPlanError as exc:
        st.error(error_text(exc, lang()))
        return
    scale = access.straight_scale(speed, detour) if model == "straight" else 1.0
    index = computed.index.with_sliders(scale, 1 + growth / 100)
    tables = kpi_tables(index, plan, units, minutes)
    s = tables.summary
    m1, m2, m3, m4, m5 = st.columns(5)
    m1.metric(tr("covered_share"), f"{s['share']:.1%}")
    m2.metric(tr("covered_pop"), f"{s['covered']:,.0f}")
    m3.metric(tr("mean_minutes"), f"{s['mean_minutes']:.1f}")
    m4.metric(tr("median_minutes"), f"{s['median_minutes']:.1f}")
    m5.metric(tr("p90_minutes"), f"{s['p90_minutes']:.1f}")
    st.caption(access.provenance_caption(surface.source, len(used), used["source"]))
    if s["not_assessed_population"] > 0:
        st.info(tr("not_assessed", pop=f"{s['not_assessed_population']:,.0f}"))

    layer_choice = st.radio(
        tr("layer"),
        ["coverage", "minutes"],
        horizontal=True,
        format_func=lambda x: tr(f"layer_{x}"),
        key="acc_layer",
    )
    warp = access.load_warp(key)
    populated = surface.population > 0
    minutes_grid = computed.times.minutes * np.float32(index.time_scale)
    if layer_choice == "minutes":
        img = minutes_image(warp, minutes_grid, populated)
    else:
        img = coverage_image(warp, minutes_grid <= minutes, populated)
    fac = used.assign(
        type_label=used["type"].map(lambda t: type_label(t, lang())),
        color=used["type"].map(lambda t: list(access.TYPE_COLORS.get(t, (90, 90, 90)))),
    )
    layers = [
        image_layer(img, "surface"),
        outline_layer(access.grid_outlines(sel, plan), "grid-outlines", [30, 30, 30, 230]),
        pdk.Layer(
            "ScatterplotLayer",
            fac[["name", "type_label", "lon", "lat", "color"]],
            id="facilities",
            get_position=["lon", "lat"],
            get_radius=3,
            radius_units="'pixels'",
            get_fill_color="color",
            stroked=True,
            get_line_color=[255, 255, 255, 200],
            line_width_min_pixels=0.5,
            pickable=True,
        ),
    ]
    st.pydeck_chart(
        fitted_deck(layers, img.bounds, "<b>{name}</b><br/>{type_label}"),
        height=520,
        key="access_map",
    )
    if layer_choice == "minutes":
        edges = minute_bands()
        legend = tr("legend_minutes", step=int(edges[0]), vmax=int(edges[-1]))
    else:
        legend = tr("legend_coverage", minutes=minutes)
    types = sorted(set(used["type"]))
    dots = "；".join(f"{access.TYPE_DOTS.get(t, '●')} {type_label(t, lang())}" for t in types)
    st.caption(
        f"{legend} {dots}。" + access.provenance_caption(surface.source, len(used), used["source"])
    )

    st.subheader(tr("kpi_by_grid"))
    g = tables.by_grid
    st.dataframe(
        pd.DataFrame(
            {
                tr("col_grid"): g["name"],
                tr("col_pop"): g["population"].round(0),
                tr("covered_pop"): g["covered"].round(0),
                tr("covered_share"): (g["share"] * 100).round(1),
                tr("mean_minutes"): g["mean_minutes"].round(1),
                tr("median_minutes"): g["median_minutes"].round(1),
                tr("p90_minutes"): g["p90_minutes"].round(1),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    with st.expander(tr("kpi_by_unit")):
        st.dataframe(tables.by_unit.round(2), hide_index=True, width="stretch")
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        tr("dl_kpi_csv"), lambda: kpi_csv(tables), f"coverage_{minutes}min.csv", "text/csv"
    )
    d2.download_button(
        tr("dl_kpi_xlsx"), lambda: kpi_xlsx(tables, len(used)), f"coverage_{minutes}min.xlsx"
    )
    model_settings = {"model": model, "mode": mode, "speed_kmh": speed}
    if model == "straight":
        model_settings["detour"] = detour
    ui_lang = lang()  # the PNG is drawn later, outside this run
    d3.download_button(
        tr("dl_png_map"),
        lambda: render_coverage_map_png(
            units, surface, minutes_grid, minutes, plan=plan, facilities=used,
            layer=layer_choice, lang=ui_lang, summary=s, provenance=model_settings,
        ),
        f"coverage_{minutes}min.png",
        "image/png",
    )  # fmt: skip
    with st.expander(tr("standards")):
        groups, _ = plan_groups(plan, units)
        share15 = index.group_kpis(15, groups, len(plan.grids))["share"]
        std = grid_standards(plan, units, surface, facilities, share15)
        st.dataframe(
            pd.DataFrame(
                {
                    tr("col_grid"): std["name"],
                    tr("std_name"): std["label_zh" if lang() == "zh" else "label_en"],
                    tr("std_value"): std["value"].round(3),
                    tr("std_target"): [
                        fmt_target(lo, hi) for lo, hi in zip(std["low"], std["high"], strict=True)
                    ],
                    tr("std_status"): std["status"].map(lambda x: tr(f"status_{x}")),
                    tr("std_seed"): "seed " + std["seed"] + "：" + std["seed_zh"],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(tr("standards_note"))
    # the slower analyses run only when asked for, so the sliders stay quick
    if st.toggle(tr("capacity_toggle"), key="acc_cap"):
        capacity_panel(minutes, speed, detour, s["share"])
    if st.toggle(tr("hotspots"), key="acc_hot"):
        hot = uncovered_hotspots(index, surface, minutes, list(units.units["name"]), top=10)
        st.dataframe(hot[["population", "cells", "area_km2", "unit"]].round(1), hide_index=True)
    if st.toggle(tr("catchments"), key="acc_catch"):
        served = catchments(index, len(used), minutes)
        flags = centre_standard_flag(served["served"].to_numpy())
        std = [
            tr(f"std_{f}") if t in CENTRES else "" for f, t in zip(flags, used["type"], strict=True)
        ]
        st.dataframe(
            used[["name", "type"]].assign(
                served=served["served"].round(0),
                within=served["served_within"].round(0),
                standard=std,
            ),
            hide_index=True,
        )


def capacity_panel(minutes: float, speed: float, detour: float, plain_share: float) -> None:
    """AccessMod geographic coverage with capacities, and Gaussian 2SFCA, at the threshold."""
    try:
        reach = access.reach_for(
            key, digest, xy, model, mode, round(speed, 1), detour, minutes, roads_path
        )
        caps = facility_capacity(used)
        result = capacity_coverage(surface, reach, caps["capacity"].to_numpy())
        supply_col = "gps" if used["gps"].notna().all() and len(used) else None
        g = g2sfca(surface, reach, facility_supply(used, supply_col), d0=minutes)
    except GridPlanError as exc:
        st.error(error_text(exc, lang()))
        return
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("cap_share"), f"{result.share:.1%}", f"{(result.share - plain_share) * 100:+.1f}")
    c2.metric(tr("cap_full"), f"{int(result.full.sum())} / {len(used)}")
    c3.metric(tr("g2sfca_mean"), f"{g.mean * 10_000:.2f}")
    rules = sorted(set(caps["capacity_source"]))
    st.caption(tr("cap_note", rules="、".join(rules), supply=supply_col or tr("per_facility")))
    names = dict(zip(units.units["unit_id"], units.units["name"], strict=True))
    table = result.unit_table().merge(g.unit_table(), on="unit_id", suffixes=("", "_g"))
    table.insert(1, "name", table["unit_id"].map(names))
    st.dataframe(table.round(3), hide_index=True, width="stretch")


def fmt_target(low: float | None, high: float | None) -> str:
    if low is not None and high is not None and np.isfinite(high):
        return f"{low:,.0f}–{high:,.0f}"
    return f"≥ {low:g}" if low is not None and np.isfinite(low) else "—"


def kpi_csv(tables: KpiTables) -> bytes:
    note = tr("provenance_access", n=len(used))
    return (f"# {note}\n" + tables.by_grid.to_csv(index=False)).encode("utf-8-sig")


def kpi_xlsx(tables: KpiTables, n_facilities: int) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        tables.by_grid.to_excel(w, sheet_name="by_grid", index=False)
        tables.by_unit.to_excel(w, sheet_name="by_unit", index=False)
        summary = {**tables.summary, "provenance": tr("provenance_access", n=n_facilities)}
        pd.DataFrame([summary]).to_excel(w, sheet_name="summary", index=False)
    return buf.getvalue()


what_if()
