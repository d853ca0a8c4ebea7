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
from gridplan.report.method import Method, method_items
from gridplan.report.style import coverage_change_colors
from gridplan.report.webmap import coverage_change_image
from gridplan.siting.study import LEVELS, SitingSettings, SitingStudy, accept_sites
from gridplan.surface.ageing import demand_label
from gridplan.workflow import ModelSpec
from ui import cache, legend, scenario, state
from ui.cache import ExclusionKey, StudyKey
from ui.mapview import FACILITY_RADIUS_M, outline_layer, scatter_layer, urban_core_bounds
from ui.panels.common import (
    csv_with_note,
    download,
    grid_table,
    how_computed,
    metric_row,
    num_text,
    provenance_caption,
    raster_map,
    saved,
    show_error,
)
from ui.panels.coverage import demand_choice
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
    md_lines,
    md_text,
    tr,
)

#: The siting page's cell sizes (a finer grid would make the study slow).
CELL_SIZES = [100, 200, 500, 1000]
#: Proposed sites, their catchments and the existing facilities on the map.
SITE_RGBA = [255, 127, 14, 240]
CATCHMENT_RGBA = [255, 127, 14, 255]
EXISTING_RGBA = [20, 20, 20, 220]
#: The methods in the order the form offers them.
METHOD_ORDER = ["mclp", "pmedian", "target", "kmeans"]
#: Candidate sources per level: upgrading existing centres makes sub-centres only.
SOURCES = {"secondary": ["centres", "grid", "list"], "primary": ["grid", "list"]}


@dataclass(frozen=True)
class Asked:
    """What the planner asked for when pressing Run."""

    settings: SitingSettings
    model: ModelSpec
    cell_m: int
    circles: tuple[tuple[float, float, float], ...]
    demand: str = "all"


@dataclass(frozen=True)
class StudyControls:
    """The form's first rows: the question."""

    method: str
    k: int
    minutes: int
    mode: str
    candidates: str
    target: float
    capacity: float
    solver: str


@dataclass(frozen=True)
class MoreControls:
    """The form's expander: model, resolution, candidate grid, files and typed circles."""

    model: str
    cell_m: int
    spacing_m: float
    time_limit_s: float
    candidates: Any
    exclusions: Any
    datum: str
    circles: tuple[tuple[float, float, float], ...]


def siting_form(sel: state.Selection, level: str) -> Asked | None:
    """The controls; returns the settings when the planner presses Run."""
    with st.form(f"sit_form_{level}"):
        basics = study_controls(level)
        demand = demand_choice(f"sit_demand_{level}")
        with st.expander(tr("sit_more")):
            more = more_controls(level)
        run = st.form_submit_button(tr("sit_run"), type="primary")
    if not run:
        return None
    for kind, up in (("cand", more.candidates), ("excl", more.exclusions)):
        if up is None:  # the planner removed the file (or never gave one): forget it
            state.set_siting_file(level, kind, None)
        elif not keep_upload(sel, kind, up, more.datum, level):
            return None
    uses_capacity = basics.method in ("mclp", "pmedian")  # a leftover capacity must not block
    asked = SitingSettings(
        method=basics.method,
        k=basics.k,
        minutes=float(basics.minutes),
        level=level,
        candidates=basics.candidates,
        target=basics.target,
        capacity=basics.capacity if basics.capacity and uses_capacity else None,
        solver=basics.solver,
        time_limit_s=more.time_limit_s,
        grid_spacing_m=more.spacing_m,
    )
    spec = ModelSpec(
        more.model,
        basics.mode,
        roads_path=state.roads_path(),
        landcover_path=state.raster_path("landcover"),
        dem_path=state.raster_path("dem"),
    )
    return Asked(asked, spec, more.cell_m, more.circles, demand)


def study_controls(level: str) -> StudyControls:
    """Method, number of sites, coverage time and mode; candidates, target, capacity, solver."""
    defaults = workflow.LEVEL_DEFAULTS[level]
    c1, c2, c3, c4 = st.columns(4)
    method = c1.selectbox(
        tr("sit_method"), METHOD_ORDER, format_func=SITING_METHOD, key=f"sit_method_{level}"
    )
    k = c2.number_input(tr("sit_k"), 1, 50, 5, key=f"sit_k_{level}")
    longest = int(settings.model_cutoff_min)
    minutes = c3.slider(
        tr("sit_minutes"), 5, longest, int(defaults.minutes), key=f"sit_minutes_{level}"
    )
    mode = c4.selectbox(
        tr("mode"), workflow.MODES, index=workflow.MODES.index(defaults.mode), format_func=MODE,
        key=f"sit_mode_{level}",
    )  # fmt: skip
    c5, c6, c7, c8 = st.columns(4)
    sources = SOURCES[level]
    source = c5.selectbox(
        tr("sit_candidates"), sources, index=sources.index(defaults.candidates),
        format_func=SITING_CANDIDATES, key=f"sit_src_{level}",
    )  # fmt: skip
    target = c6.slider(
        tr("sit_target"), 0.5, 1.0, 0.9, 0.01, key=f"sit_target_{level}",
        help=tr("sit_target_note"),
    )  # fmt: skip
    capacity = c7.number_input(tr("sit_capacity"), 0, 2_000_000, 0, 5_000, key=f"sit_cap_{level}")
    solver = c8.radio(
        tr("sit_solver"), SITING_SOLVER.members, format_func=SITING_SOLVER,
        key=f"sit_solver_{level}",
    )  # fmt: skip
    return StudyControls(
        str(method), int(k), int(minutes), str(mode), str(source), float(target),
        float(capacity), str(solver),
    )  # fmt: skip


def more_controls(level: str) -> MoreControls:
    """Model, cell size, candidate grid spacing, time limit; candidate list, exclusions."""
    m1, m2, m3, m4 = st.columns(4)
    model = m1.selectbox(tr("model"), workflow.MODELS, format_func=MODEL, key=f"sit_model_{level}")
    cell0 = state.coverage_cell_size(int(settings.cell_m))
    cell = m2.selectbox(
        tr("cell_size"), CELL_SIZES, index=CELL_SIZES.index(cell0) if cell0 in CELL_SIZES else 0,
        format_func=lambda c: f"{c} m", key=f"sit_cell_{level}",
    )  # fmt: skip
    spacing = m3.selectbox(
        tr("sit_spacing"), [500, 1000, 2000, 5000], index=2, key=f"sit_spacing_{level}"
    )
    limit = m4.number_input(tr("sit_time_limit"), 1, 600, 30, key=f"sit_limit_{level}")
    u1, u2 = st.columns(2)
    cand_file = u1.file_uploader(
        tr("sit_cand_upload"), type=["csv", "txt", "xlsx"], key=f"sit_cand_file_{level}"
    )
    excl_file = u2.file_uploader(
        tr("sit_excl_upload"), type=["geojson", "json", "zip", "gpkg"],
        key=f"sit_excl_file_{level}",
    )  # fmt: skip
    datum = st.selectbox(tr("datum"), list(DATUMS), key=f"sit_datum_{level}", format_func=DATUM)
    st.caption(tr("sit_circles"))
    return MoreControls(
        str(model), int(cell), float(spacing), float(limit), cand_file, excl_file, str(datum),
        circles_editor(level),
    )  # fmt: skip


def circles_editor(level: str) -> tuple[tuple[float, float, float], ...]:
    """Exclusion circles typed in a table: ``(lon, lat, radius_km)`` per filled row."""
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
    typed = circles.dropna(how="all")
    return tuple(
        (float(a), float(b), float(c))
        for a, b, c in typed[["lon", "lat", "radius_km"]].itertuples(index=False)
    )


def keep_upload(sel: state.Selection, kind: str, up: Any, datum: str, level: str) -> bool:
    """Check an uploaded candidate list / exclusion layer; keep it only if it reads."""
    try:
        path = saved(up)
        if kind == "cand":
            cache.candidate_list(path, datum, sel.prefecture, level)
        else:
            cache.exclusion_areas(path, datum)
    except (GridPlanError, OSError) as exc:
        show_error(exc, upload=True)
        return False
    state.set_siting_file(level, kind, UploadedFile(path, datum))
    return True


def run_study(sc: Scenario, asked: Asked) -> None:
    """Solve and keep the answer; on bad input say why and keep the previous answer."""
    surface = sc.surface(asked.cell_m).for_demand(asked.demand)
    facilities = scenario.facilities(sc.sel)
    level = asked.settings.level
    key = StudyKey(
        surface,
        cache.facility_digest(facilities, cache.STUDY_COLUMNS),
        sc.plan_key(),
        asked.settings,
        asked.model,
        state.siting_file(level, "cand"),
        ExclusionKey(state.siting_file(level, "excl"), asked.circles),
    )
    try:
        with st.spinner(tr("sit_running")):
            study = cache.study(key, facilities)
    except GridPlanError as exc:
        show_error(exc)
        return
    state.keep_study(HeldStudy(sc.sel.prefecture, surface, study, asked.model))


def fmt_gap(gap: float) -> str:
    return "—" if not np.isfinite(gap) else f"{gap:.2%}"


def sites_map(sc: Scenario, held: HeldStudy) -> None:
    """Coverage before and after, the proposed sites (numbered) and their catchments."""
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
    sites = sites.assign(
        tip=sites["label"]
        + " "
        + sites["where"].astype(str)
        + "\n"
        + sites["served"].map(lambda v: tr("sit_tip_served", pop=num_text(v)))
    )
    catchments = json.loads(study.catchments().to_json())
    layers = [
        outline_layer(catchments, "catchments", CATCHMENT_RGBA, 2),
        scatter_layer(
            existing[["name", "lon", "lat"]].assign(tip=existing["name"]), "existing",
            radius=FACILITY_RADIUS_M, fill=EXISTING_RGBA, metres=True,
        ),
        scatter_layer(
            sites[["tip", "lon", "lat"]], "sites", radius=9, fill=SITE_RGBA,
            outline=[255, 255, 255, 255], outline_px=2,
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
    ]  # fmt: skip
    raster_map(
        img, cache.grid_outlines(sc.plan_key()), layers, image_id="change",
        tooltip="{tip}", key="sites_map", height=480, core=urban_core_bounds(sc.units.units),
    )  # fmt: skip
    legend.show(legend.swatch_chart(site_swatches()), key="sites_map_legend")
    st.caption(tr("sit_map_minutes", minutes=int(study.settings.minutes)))


def site_swatches() -> list[legend.Swatch]:
    """The siting map's legend: coverage before and after, sites, catchments, facilities."""
    colours = coverage_change_colors()
    rgba = {"site": SITE_RGBA, "catch": CATCHMENT_RGBA, "existing": EXISTING_RGBA}
    hexes = {k: "#{:02x}{:02x}{:02x}".format(*v[:3]) for k, v in rgba.items()}
    return [
        legend.Swatch(tr("legend_before"), colours["before"]),
        legend.Swatch(tr("legend_newly"), colours["new"]),
        legend.Swatch(tr("legend_still"), colours["uncovered"]),
        legend.Swatch(tr("legend_sites"), hexes["site"], "circle"),
        legend.Swatch(tr("legend_catchments"), hexes["catch"], "ring"),
        legend.Swatch(tr("legend_existing"), hexes["existing"], "circle"),
    ]


def curve_chart(study: SitingStudy) -> None:
    """Coverage against the number of new sites, with the target as a dashed line."""
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
    """The last answer of this level: summary, map, sites to accept, per grid, curve, downloads."""
    held = state.held_study()
    if held is None or held.prefecture != sc.sel.prefecture:
        st.info(tr("sit_none", prefecture=sc.units.prefecture.name))
        return
    study = held.study
    if study.settings.level != level:
        st.info(tr("sit_other_level", level=SITING_LEVEL(study.settings.level)))
        return
    facilities = scenario.facilities(sc.sel)
    note = provenance_caption(study.population_source, study.n_existing, facilities["source"])
    note += tr("provenance_demand", demand=demand_label(study.demand, lang()))
    answer_summary(study)
    if not study.recommended:  # an even spread cannot tell places within a unit apart
        st.warning(tr("sit_uniform_warning"))
    cells = tr("sit_note", n=study.settings.max_demand, cell=int(held.surface.cell_m))
    st.caption(md_text(note) + " " + cells)
    sites_map(sc, held)
    st.subheader(tr("sit_sites") if study.recommended else tr("sit_sites_not_recommended"))
    sites_editor(sc, study, facilities)
    st.subheader(tr("sit_by_grid"))
    g = study.by_grid()
    grid_table(
        g,
        {
            tr("sit_cov_before"): (g["share_before"] * 100).round(1),
            tr("sit_cov_after"): (g["share_after"] * 100).round(1),
            tr("sit_newly"): g["newly_covered"].round(0),
            tr("mean_minutes"): g["mean_minutes_after"].round(1),
            tr("sit_n_sites"): g["new_sites"],
        },
    )
    st.subheader(tr("sit_curve"))
    curve_chart(study)
    if held.model is not None:
        # the existing facilities the study counted: those of its level
        used = facilities[facility_mask(facilities, LEVELS[study.settings.level])]
        how = Method(cache.load_surface(held.surface), sc.units, used, held.model.facts(),
                     float(study.settings.minutes))  # fmt: skip
        how_computed(method_items(how, lang()), key="sit_how")
    d1, d2 = st.columns(2)
    download(
        tr("sit_dl_csv"), csv_with_note(note, study.sites), "sites.csv", "text/csv",
        key="dl_sites_csv", container=d1,
    )  # fmt: skip
    download(
        tr("sit_dl_geojson"),
        lambda: study.catchments().to_json(drop_id=True, ensure_ascii=False),
        "site_catchments.geojson",
        "application/geo+json",
        key="dl_sites_geojson",
        container=d2,
    )


def answer_summary(study: SitingStudy) -> None:
    """How the study was solved, and coverage before and after the new sites."""
    s = study.settings
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
        st.warning(md_lines(study.problem.message(lang())))
    need = study.sites_for_target
    gain = (study.share_after - study.share_before) * 100
    metric_row(
        [
            (tr("sit_cov_before"), f"{study.share_before:.1%}"),
            (tr("sit_cov_after"), f"{study.share_after:.1%}", f"{gain:+.1f}"),
            (tr("sit_newly"), f"{study.covered_after - study.covered_before:,.0f}"),
            (
                tr("sit_for_target", target=s.target),
                f"{need}" if need is not None else tr("sit_for_target_none"),
            ),
        ]
    )


def sites_editor(sc: Scenario, study: SitingStudy, facilities: pd.DataFrame) -> None:
    """The proposed sites with a tick each; the ticked ones join the facility list."""
    sites = study.sites
    table = pd.DataFrame(
        {
            tr("sit_accept_col"): study.recommended,
            tr("sit_site_no"): sites["site"] + 1,
            tr("col_name"): sites["name"].fillna(sites["candidate_id"]),
            tr("sit_unit"): sites["unit_name"],
            tr("col_grid"): sites["grid_id"],
            tr("sit_served"): sites["served_population"].round(0),
            tr("sit_newly"): sites["newly_covered"].round(0),
            "lon": sites["lon"].round(5),
            "lat": sites["lat"].round(5),
        }
    )
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        key=state.sites_editor_key(),
        disabled=[c for c in table.columns if c != tr("sit_accept_col")],
        column_config={
            "lon": st.column_config.NumberColumn(tr("col_lon"), format="%.5f"),
            "lat": st.column_config.NumberColumn(tr("col_lat"), format="%.5f"),
        },
    )
    if not study.recommended:
        st.caption(tr("sit_accept_uniform"))
    if st.button(tr("sit_accept"), type="primary", key="sit_accept_btn"):
        chosen = (edited.loc[edited[tr("sit_accept_col")], tr("sit_site_no")] - 1).tolist()
        if not chosen:
            st.info(tr("sit_none_ticked"))
            return
        new_table, n = accept_sites(facilities, study, chosen)
        if n:
            state.edit_facilities(sc.sel, new_table)
            st.success(tr("sit_accepted", n=n))
        else:
            st.info(tr("sit_accepted_none"))
