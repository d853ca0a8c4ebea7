"""15-minute health-service circle (15分钟健康服务圈): travel time, coverage, KPIs, what-if."""

import io

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from gridplan.coverage import catchments, kpi_tables, uncovered_hotspots
from gridplan.facilities import type_label
from gridplan.rasterview import coverage_image, minute_bands, minutes_image
from gridplan.traveltime import MODE_SPEED_SOURCES, MODE_SPEEDS_KMH
from ui import access, state
from ui.texts import lang, tr

sel = state.selection()
units = state.current_units(sel)
plan = state.current_plan(sel, units)
st.title(tr("page_access"))
st.caption(tr("access_intro"))

# --- scenario controls (changing these recomputes travel times) --------------------------
c1, c2, c3, c4 = st.columns(4)
model = c1.selectbox(
    tr("model"), ["straight"], format_func=lambda m: tr(f"model_{m}"), key="acc_model"
)
mode = c2.selectbox(
    tr("mode"), list(MODE_SPEEDS_KMH), format_func=lambda m: tr(f"mode_{m}"), key="acc_mode"
)
target = c3.selectbox(
    tr("target"),
    list(access.TARGET_TYPES),
    format_func=lambda t: tr(f"target_{t}"),
    key="acc_target",
)
cell_m = c4.selectbox(
    tr("cell_size"),
    [50, 100, 200, 500, 1000],
    index=1,
    key="acc_cell",
    format_func=lambda c: f"{c} m",
)

key = access.surface_key(sel, cell_m)
surface = access.load_surface(key)
facilities = access.facility_table(sel)
used = access.used_facilities(facilities, target)
xy = access.facilities_xy(used, surface.grid.crs)
computed = access.straight_index(key, access.facility_digest(used), xy)


# --- what-if sliders and map: a fragment, so only this part reruns and the view stays --------
@st.fragment
def what_if() -> None:
    s1, s2, s3, s4 = st.columns(4)
    default_t = 30 if target == "hospitals" else 15
    minutes = s1.slider(tr("minutes"), 5, 60, default_t, key=f"acc_minutes_{target}")
    speed = s2.slider(
        tr("speed"), 1.0, 80.0, float(MODE_SPEEDS_KMH[mode]), 0.1, key=f"acc_speed_{mode}"
    )
    detour = s3.slider(tr("detour"), 1.0, 2.0, 1.3, 0.05, key="acc_detour")
    growth = s4.slider(tr("growth"), -20, 50, 0, key="acc_growth")
    st.caption(MODE_SPEED_SOURCES[mode][lang()] + " · " + tr("detour_note"))
    index = computed.index.with_sliders(access.straight_scale(speed, detour), 1 + growth / 100)
    tables = kpi_tables(index, plan, units, minutes)
    s = tables.summary
    m1, m2, m3, m4, m5 = st.columns(5)
    m1.metric(tr("covered_share"), f"{s['share']:.1%}")
    m2.metric(tr("covered_pop"), f"{s['covered']:,.0f}")
    m3.metric(tr("mean_minutes"), f"{s['mean_minutes']:.1f}")
    m4.metric(tr("median_minutes"), f"{s['median_minutes']:.1f}")
    m5.metric(tr("p90_minutes"), f"{s['p90_minutes']:.1f}")
    st.caption(tr("provenance_access", n=len(used)))
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
    west, south, east, north = img.bounds
    fac = used.assign(type_label=used["type"].map(lambda t: type_label(t, lang())))
    layers = [
        pdk.Layer(
            "BitmapLayer",
            image=img.data_url,
            bounds=[[west, south], [west, north], [east, north], [east, south]],
            id="surface",
            opacity=0.9,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            fac[["name", "type_label", "lon", "lat"]],
            id="facilities",
            get_position=["lon", "lat"],
            get_radius=4,
            radius_units="'pixels'",
            get_fill_color=[20, 20, 20, 230],
            pickable=True,
        ),
    ]
    view = pdk.ViewState(longitude=(west + east) / 2, latitude=(south + north) / 2, zoom=8)
    st.pydeck_chart(
        pdk.Deck(
            layers=layers,
            initial_view_state=view,
            map_provider=None,
            map_style=None,
            tooltip={"html": "<b>{name}</b><br/>{type_label}"},
        ),
        height=520,
        key="access_map",
    )
    if layer_choice == "minutes":
        edges = minute_bands()
        st.caption(tr("legend_minutes", step=int(edges[0]), vmax=int(edges[-1])))
    else:
        st.caption(tr("legend_coverage", minutes=minutes))

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
    hot = uncovered_hotspots(index, surface, minutes, list(units.units["name"]), top=10)
    st.subheader(tr("hotspots"))
    st.dataframe(
        hot[["population", "cells", "area_km2", "unit"]].round(1), hide_index=True, width="stretch"
    )
    d1, d2 = st.columns(2)
    csv = tables.by_grid.to_csv(index=False).encode("utf-8-sig")
    d1.download_button(tr("dl_kpi_csv"), csv, f"coverage_{minutes}min.csv", "text/csv")
    xlsx = io.BytesIO()
    with pd.ExcelWriter(xlsx) as w:
        tables.by_grid.to_excel(w, sheet_name="by_grid", index=False)
        tables.by_unit.to_excel(w, sheet_name="by_unit", index=False)
        pd.DataFrame([{**s, "provenance": tr("provenance_access", n=len(used))}]).to_excel(
            w, sheet_name="summary", index=False
        )
    d2.download_button(tr("dl_kpi_xlsx"), xlsx.getvalue(), f"coverage_{minutes}min.xlsx")
    served = catchments(index, len(used), minutes)
    with st.expander(tr("catchments")):
        st.dataframe(
            used[["name", "type"]].assign(served=served["served"].round(0)), hide_index=True
        )


what_if()
