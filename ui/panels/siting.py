"""The siting tab: the study's form, running it, and its answer (map, sites, per grid, curve)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from gridplan import settings, workflow
from gridplan.errors import GridPlanError
from gridplan.facilities.table import facility_mask
from gridplan.inputs.crs import DATUMS
from gridplan.report.webmap import coverage_change_image
from gridplan.siting.study import LEVELS, SitingSettings, SitingStudy, accept_sites
from gridplan.travel.modes import MODE_SPEEDS_KMH
from gridplan.workflow import ModelSpec
from ui import cache, scenario, state
from ui.cache import StudyKey
from ui.mapview import fitted_deck, image_layer, outline_layer
from ui.panels.common import show_error
from ui.panels.coverage import provenance_caption
from ui.scenario import Scenario
from ui.state import HeldStudy, UploadedFile, lang
from ui.texts import (
    DATUM,
    MODE,
    MODEL,
    SITING_CANDIDATES,
    SITING_LEVEL,
    SITING_METHOD,
    SITING_SOLVER,
    SITING_STATUS,
    tr,
)

#: The siting page's cell sizes (a finer grid would make the study slow).
CELL_SIZES = [100, 200, 500, 1000]
#: Candidate sources per level: upgrading existing centres makes sub-centres only.
SOURCES = {"secondary": ["centres", "grid", "list"], "primary": ["grid", "list"]}


@dataclass(frozen=True)
class Asked:
    """What the planner asked for when pressing Run."""

    settings: SitingSettings
    model: ModelSpec
    cell_m: int
    circles: tuple[tuple[float, float, float], ...]


def siting_form(sel: state.Selection, level: str) -> Asked | None:
    """The controls; returns the settings when the planner presses Run."""
    defaults = workflow.LEVEL_DEFAULTS[level]
    minutes0, mode0, source0 = int(defaults.minutes), defaults.mode, defaults.candidates
    sources = SOURCES[level]
    with st.form(f"sit_form_{level}"):
        c1, c2, c3, c4 = st.columns(4)
        method = c1.selectbox(
            tr("sit_method"),
            ["mclp", "pmedian", "target", "kmeans"],
            format_func=SITING_METHOD,
            key=f"sit_method_{level}",
        )
        k = c2.number_input(tr("sit_k"), 1, 50, 5, key=f"sit_k_{level}")
        longest = int(settings.model_cutoff_min)
        minutes = c3.slider(tr("sit_minutes"), 5, longest, minutes0, key=f"sit_minutes_{level}")
        modes = list(MODE_SPEEDS_KMH)
        mode = c4.selectbox(
            tr("mode"),
            modes,
            index=modes.index(mode0),
            format_func=MODE,
            key=f"sit_mode_{level}",
        )
        c5, c6, c7, c8 = st.columns(4)
        source = c5.selectbox(
            tr("sit_candidates"),
            sources,
            index=sources.index(source0),
            format_func=SITING_CANDIDATES,
            key=f"sit_src_{level}",
        )
        target = c6.slider(
            tr("sit_target"),
            0.5,
            1.0,
            0.9,
            0.01,
            key=f"sit_target_{level}",
            help=tr("sit_target_note"),
        )
        capacity = c7.number_input(
            tr("sit_capacity"), 0, 2_000_000, 0, 5_000, key=f"sit_cap_{level}"
        )
        solver = c8.radio(
            tr("sit_solver"),
            ["exact", "greedy"],
            format_func=SITING_SOLVER,
            key=f"sit_solver_{level}",
        )
        with st.expander(tr("sit_more")):
            m1, m2, m3, m4 = st.columns(4)
            model = m1.selectbox(
                tr("model"),
                workflow.MODELS,
                format_func=MODEL,
                key=f"sit_model_{level}",
            )
            cell0 = state.coverage_cell_size(int(settings.cell_m))
            cell = m2.selectbox(
                tr("cell_size"),
                CELL_SIZES,
                index=CELL_SIZES.index(cell0) if cell0 in CELL_SIZES else 0,
                format_func=lambda c: f"{c} m",
                key=f"sit_cell_{level}",
            )
            spacing = m3.selectbox(
                tr("sit_spacing"), [500, 1000, 2000, 5000], index=2, key=f"sit_spacing_{level}"
            )
            limit = m4.number_input(tr("sit_time_limit"), 1, 600, 30, key=f"sit_limit_{level}")
            u1, u2 = st.columns(2)
            cand_file = u1.file_uploader(
                tr("sit_cand_upload"), type=["csv", "txt", "xlsx"], key=f"sit_cand_file_{level}"
            )
            excl_file = u2.file_uploader(
                tr("sit_excl_upload"),
                type=["geojson", "json", "zip", "gpkg"],
                key=f"sit_excl_file_{level}",
            )
            datum = st.selectbox(
                tr("datum"), list(DATUMS), key=f"sit_datum_{level}", format_func=DATUM
            )
            st.caption(tr("sit_circles"))
            circles = st.data_editor(
                pd.DataFrame({c: pd.Series(dtype=float) for c in ("lon", "lat", "radius_km")}),
                num_rows="dynamic",
                key=f"sit_circles_{level}",
                column_config={
                    "lon": st.column_config.NumberColumn(tr("col_lon"), format="%.5f"),
                    "lat": st.column_config.NumberColumn(tr("col_lat"), format="%.5f"),
                    "radius_km": st.column_config.NumberColumn(tr("sit_radius"), format="%.1f"),
                },
            )
        run = st.form_submit_button(tr("sit_run"), type="primary")
    if not run:
        return None
    for kind, up in (("cand", cand_file), ("excl", excl_file)):
        if up is None:  # the planner removed the file (or never gave one): forget it
            state.set_siting_file(level, kind, None)
        elif not keep_upload(sel, kind, up, str(datum), level):
            return None
    uses_capacity = method in ("mclp", "pmedian")  # a leftover capacity must not block the others
    asked = SitingSettings(
        method=str(method),
        k=int(k),
        minutes=float(minutes),
        level=level,
        candidates=str(source),
        target=float(target),
        capacity=float(capacity) if capacity and uses_capacity else None,
        solver=str(solver),
        time_limit_s=float(limit),
        grid_spacing_m=float(spacing),
    )
    spec = ModelSpec(
        str(model),
        str(mode),
        roads_path=state.roads_path(),
        landcover_path=state.raster_path("landcover"),
        dem_path=state.raster_path("dem"),
    )
    typed = circles.dropna(how="all")
    rings = tuple(
        (float(a), float(b), float(c))
        for a, b, c in typed[["lon", "lat", "radius_km"]].itertuples(index=False)
    )
    return Asked(asked, spec, int(cell), rings)


def keep_upload(sel: state.Selection, kind: str, up: Any, datum: str, level: str) -> bool:
    """Check an uploaded candidate list / exclusion layer; keep it only if it reads."""
    path = str(state.save_upload(up.getvalue(), up.name))
    try:
        if kind == "cand":
            cache.candidate_list(path, datum, sel.prefecture, level)
        else:
            cache.exclusion_areas(path, datum)
    except GridPlanError as exc:
        show_error(exc, upload=True)
        return False
    state.set_siting_file(level, kind, UploadedFile(path, datum))
    return True


def run_study(sc: Scenario, asked: Asked) -> None:
    """Solve and keep the answer; on bad input say why and keep the previous answer."""
    surface = sc.surface(asked.cell_m)
    facilities = scenario.facilities(sc.sel)
    level = asked.settings.level
    key = StudyKey(
        surface,
        cache.facility_digest(facilities, cache.STUDY_COLUMNS),
        sc.plan_key(),
        asked.settings,
        asked.model,
        state.siting_file(level, "cand"),
        state.siting_file(level, "excl"),
        asked.circles,
    )
    try:
        with st.spinner(tr("sit_running")):
            study = cache.study(key, facilities)
    except GridPlanError as exc:
        show_error(exc)
        return
    state.keep_study(HeldStudy(sc.sel.prefecture, surface, study))


def fmt_gap(gap: float) -> str:
    return "—" if not np.isfinite(gap) else f"{gap:.2%}"


def sites_map(sc: Scenario, held: HeldStudy) -> None:
    study = held.study
    surface = cache.load_surface(held.surface)
    t = np.float32(study.settings.minutes)
    img = coverage_change_image(
        cache.load_warp(held.surface),
        study.before.minutes <= t,
        study.after.minutes <= t,
        surface.population > 0,
    )
    facilities = scenario.facilities(sc.sel)
    existing = facilities[facility_mask(facilities, LEVELS[study.settings.level])]
    sites = study.sites.assign(
        label=(study.sites["site"] + 1).astype(str),
        where=study.sites["unit_name"].fillna(""),
        served=study.sites["served_population"].round(0),
    )
    layers = [
        image_layer(img, "change"),
        outline_layer(cache.grid_outlines(sc.plan_key()), "grid-outlines", [30, 30, 30, 230]),
        outline_layer(
            json.loads(study.catchments().to_json()), "catchments", [255, 127, 14, 255], 2
        ),
        pdk.Layer(
            "ScatterplotLayer",
            existing[["name", "lon", "lat"]],
            id="existing",
            get_position=["lon", "lat"],
            get_radius=3,
            radius_units="'pixels'",
            get_fill_color=[20, 20, 20, 220],
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            sites[["label", "where", "served", "lon", "lat"]],
            id="sites",
            get_position=["lon", "lat"],
            get_radius=9,
            radius_units="'pixels'",
            get_fill_color=[255, 127, 14, 240],
            stroked=True,
            get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=2,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            sites[["label", "lon", "lat"]],
            id="site-labels",
            get_position=["lon", "lat"],
            get_text="label",
            get_size=13,
            get_color=[0, 0, 0, 255],
            get_pixel_offset=[0, -16],
        ),
    ]
    deck = fitted_deck(layers, img.bounds, "<b>{label} {where}</b><br/>{served}")
    st.pydeck_chart(deck, height=480, key="sites_map")
    st.caption(tr("sit_map_legend", minutes=int(study.settings.minutes)))


def curve_chart(study: SitingStudy) -> None:
    import altair as alt

    curve = study.curve.assign(share=study.curve["coverage_greedy"] * 100)
    target = study.settings.target
    line = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("k:Q", title=tr("sit_k")),
            y=alt.Y("share:Q", title="%", scale=alt.Scale(zero=False)),
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"y": [target * 100]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q")
    )
    st.altair_chart(line + rule, width="stretch")
    st.caption(tr("sit_curve_note", target=target))


@st.fragment
def results(sc: Scenario, level: str) -> None:
    held = state.held_study()
    if held is None or held.prefecture != sc.sel.prefecture:
        st.info(tr("sit_none"))
        return
    study = held.study
    s = study.settings
    if s.level != level:
        st.info(tr("sit_other_level", level=SITING_LEVEL(s.level)))
        return
    st.success(
        tr(
            "sit_done",
            method=SITING_METHOD(s.method),
            status=SITING_STATUS.get(study.status),
            gap=fmt_gap(study.gap),
            solve=study.solve_seconds,
            secs=study.seconds,
        )
    )
    if s.method == "target" and not study.problem.feasible:
        st.warning(study.problem.message(lang()))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(tr("sit_cov_before"), f"{study.share_before:.1%}")
    m2.metric(
        tr("sit_cov_after"),
        f"{study.share_after:.1%}",
        f"{(study.share_after - study.share_before) * 100:+.1f}",
    )
    m3.metric(tr("sit_newly"), f"{study.covered_after - study.covered_before:,.0f}")
    need = study.sites_for_target
    m4.metric(
        tr("sit_for_target", target=s.target),
        f"{need}" if need is not None else tr("sit_for_target_none"),
    )
    facilities = scenario.facilities(sc.sel)
    st.caption(
        provenance_caption(study.population_source, study.n_existing, facilities["source"])
        + " "
        + tr("sit_note", n=s.max_demand, cell=int(held.surface.cell_m))
    )
    sites_map(sc, held)
    st.subheader(tr("sit_sites"))
    table = pd.DataFrame(
        {
            tr("sit_accept_col"): True,
            tr("sit_site_no"): study.sites["site"] + 1,
            tr("col_name"): study.sites["name"].fillna(study.sites["candidate_id"]),
            tr("sit_unit"): study.sites["unit_name"],
            tr("col_grid"): study.sites["grid_id"],
            tr("sit_served"): study.sites["served_population"].round(0),
            tr("sit_newly"): study.sites["newly_covered"].round(0),
            "lon": study.sites["lon"].round(5),
            "lat": study.sites["lat"].round(5),
        }
    )
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        key=state.sites_editor_key(),
        disabled=[c for c in table.columns if c != tr("sit_accept_col")],
    )
    if st.button(tr("sit_accept"), type="primary", key="sit_accept_btn"):
        chosen = (edited.loc[edited[tr("sit_accept_col")], tr("sit_site_no")] - 1).tolist()
        new_table, n = accept_sites(facilities, study, chosen)
        if n:
            state.edit_facilities(sc.sel, new_table)
            st.success(tr("sit_accepted", n=n))
        else:
            st.info(tr("sit_accepted_none"))
    st.subheader(tr("sit_by_grid"))
    g = study.by_grid()
    st.dataframe(
        pd.DataFrame(
            {
                tr("col_grid"): g["name"],
                tr("col_pop"): g["population"].round(0),
                tr("sit_cov_before"): (g["share_before"] * 100).round(1),
                tr("sit_cov_after"): (g["share_after"] * 100).round(1),
                tr("sit_newly"): g["newly_covered"].round(0),
                tr("mean_minutes"): g["mean_minutes_after"].round(1),
                tr("sit_n_sites"): g["new_sites"],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.subheader(tr("sit_curve"))
    curve_chart(study)
    note = provenance_caption(study.population_source, study.n_existing, facilities["source"])
    d1, d2 = st.columns(2)
    csv = (f"# {note}\n" + study.sites.to_csv(index=False)).encode("utf-8-sig")
    d1.download_button(tr("sit_dl_csv"), csv, "sites.csv", "text/csv")
    d2.download_button(
        tr("sit_dl_geojson"),
        lambda: study.catchments().to_json(drop_id=True, ensure_ascii=False),
        "site_catchments.geojson",
        "application/geo+json",
    )
