"""Sub-centres and grid proposals (次中心选址): where to put centres, how to draw grids."""

import json

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from gridplan import settings, workflow
from gridplan.errors import GridPlanError
from gridplan.facilities.table import facility_mask
from gridplan.facilities.types import HOSPITALS
from gridplan.i18n import error_text
from gridplan.plan.grids import resolve_assignment
from gridplan.regions.compare import compare_plans
from gridplan.regions.propose import propose_grids
from gridplan.report.style import grid_colors
from gridplan.report.webmap import coverage_change_image
from gridplan.siting.study import LEVELS, SitingSettings, SitingStudy, accept_sites
from gridplan.travel.modes import MODE_SPEEDS_KMH
from gridplan.workflow import ModelSpec, SurfaceSpec, UnitsSource
from ui import access, navigation, state
from ui import siting as ui_siting
from ui.mapview import build_deck, fitted_deck, image_layer, outline_layer
from ui.texts import TEXTS, lang, tr

navigation.keep_navigation_in_charge()
sel = state.selection()
units = state.current_units(sel)
plan = state.current_plan(sel, units)
st.title(tr("page_siting"))
st.caption(tr("siting_intro"))

tab_sites, tab_grids = st.tabs([tr("tab_sites"), tr("tab_grids")])

Asked = tuple[SitingSettings, ModelSpec, int, tuple[tuple[float, float, float], ...]]


def siting_form(level: str) -> Asked | None:
    """The controls; returns the settings when the planner presses Run."""
    defaults = workflow.LEVEL_DEFAULTS[level]
    minutes0, mode0, source0 = int(defaults.minutes), defaults.mode, defaults.candidates
    sources = ["centres", "grid", "list"] if level == "secondary" else ["grid", "list"]
    with st.form(f"sit_form_{level}"):
        c1, c2, c3, c4 = st.columns(4)
        method = c1.selectbox(
            tr("sit_method"),
            ["mclp", "pmedian", "target", "kmeans"],
            format_func=lambda m: tr(f"sit_method_{m}"),
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
            format_func=lambda m: tr(f"mode_{m}"),
            key=f"sit_mode_{level}",
        )
        c5, c6, c7, c8 = st.columns(4)
        source = c5.selectbox(
            tr("sit_candidates"),
            sources,
            index=sources.index(source0),
            format_func=lambda x: tr(f"sit_cand_{x}"),
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
            format_func=lambda x: tr(f"sit_solver_{x}"),
            key=f"sit_solver_{level}",
        )
        with st.expander(tr("sit_more")):
            m1, m2, m3, m4 = st.columns(4)
            model = m1.selectbox(
                tr("model"),
                workflow.MODELS,
                format_func=lambda m: tr(f"model_{m}"),
                key=f"sit_model_{level}",
            )
            cells = [100, 200, 500, 1000]
            cell0 = st.session_state.get("acc_cell", int(settings.cell_m))
            cell = m2.selectbox(
                tr("cell_size"),
                cells,
                index=cells.index(cell0) if cell0 in cells else 0,
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
            datum = st.selectbox(tr("datum"), ["wgs84", "gcj02", "bd09"], key=f"sit_datum_{level}")
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
            st.session_state.pop(f"sit_{kind}_path_{level}", None)
        elif not keep_upload(kind, up, str(datum), level):
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
        roads_path=st.session_state.get("roads_path"),
        landcover_path=st.session_state.get("landcover_path"),
        dem_path=st.session_state.get("dem_path"),
    )
    typed = circles.dropna(how="all")
    rings = tuple(
        (float(a), float(b), float(c))
        for a, b, c in typed[["lon", "lat", "radius_km"]].itertuples(index=False)
    )
    return asked, spec, int(cell), rings


def keep_upload(kind: str, up, datum: str, level: str) -> bool:  # type: ignore[no-untyped-def]
    """Check an uploaded candidate list / exclusion layer; keep it only if it reads."""
    path = str(state.save_upload(up.getvalue(), up.name))
    try:
        if kind == "cand":
            ui_siting.candidate_list(path, datum, sel.prefecture, level)
        else:
            ui_siting.exclusion_areas(path, datum)
    except GridPlanError as exc:
        st.error(error_text(exc, lang()) + "\n\n" + tr("upload_failed"))
        return False
    st.session_state[f"sit_{kind}_path_{level}"] = path
    st.session_state[f"sit_{kind}_datum_{level}"] = datum
    return True


def run_study(
    asked: SitingSettings,
    spec: ModelSpec,
    cell: int,
    circles: tuple[tuple[float, float, float], ...],
) -> None:
    """Solve and keep the answer; on bad input say why and keep the previous answer."""
    key = access.surface_key(sel, cell)
    facilities = access.facility_table(sel)
    try:
        with st.spinner(tr("sit_running")):
            study = ui_siting.study(
                key,
                access.facility_digest(facilities, ui_siting.STUDY_COLUMNS),
                json.dumps(plan.to_dict(), ensure_ascii=False, sort_keys=True),
                asked,
                spec,
                st.session_state.get(f"sit_cand_path_{asked.level}"),
                st.session_state.get(f"sit_cand_datum_{asked.level}", "wgs84"),
                st.session_state.get(f"sit_excl_path_{asked.level}"),
                st.session_state.get(f"sit_excl_datum_{asked.level}", "wgs84"),
                circles,
                facilities,
            )
    except GridPlanError as exc:
        st.error(error_text(exc, lang()))
        return
    st.session_state["siting_study"] = (sel.prefecture, key, study)
    # a fresh sites table (its ticks belong to this answer, not the previous one)
    st.session_state["sit_run_no"] = st.session_state.get("sit_run_no", 0) + 1


def status_text(status: str) -> str:
    return tr(f"sit_status_{status}") if f"sit_status_{status}" in TEXTS else status


def fmt_gap(gap: float) -> str:
    return "—" if not np.isfinite(gap) else f"{gap:.2%}"


def sites_map(study: SitingStudy, key: SurfaceSpec) -> None:
    surface = access.load_surface(key)
    t = np.float32(study.settings.minutes)
    img = coverage_change_image(
        access.load_warp(key),
        study.before.minutes <= t,
        study.after.minutes <= t,
        surface.population > 0,
    )
    facilities = access.facility_table(sel)
    existing = facilities[facility_mask(facilities, LEVELS[study.settings.level])]
    sites = study.sites.assign(
        label=(study.sites["site"] + 1).astype(str),
        where=study.sites["unit_name"].fillna(""),
        served=study.sites["served_population"].round(0),
    )
    layers = [
        image_layer(img, "change"),
        outline_layer(access.grid_outlines(sel, plan), "grid-outlines", [30, 30, 30, 230]),
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
def results(level: str) -> None:
    held = st.session_state.get("siting_study")
    if held is None or held[0] != sel.prefecture:
        st.info(tr("sit_none"))
        return
    _, key, study = held
    s = study.settings
    if s.level != level:
        st.info(tr("sit_other_level", level=tr(f"sit_level_{s.level}")))
        return
    st.success(
        tr(
            "sit_done",
            method=tr(f"sit_method_{s.method}"),
            status=status_text(study.status),
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
    facilities = access.facility_table(sel)
    st.caption(
        access.provenance_caption(study.population_source, study.n_existing, facilities["source"])
        + " "
        + tr("sit_note", n=s.max_demand, cell=int(key.cell_m))
    )
    sites_map(study, key)
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
        key=f"sit_sites_editor_{st.session_state.get('sit_run_no', 0)}",
        disabled=[c for c in table.columns if c != tr("sit_accept_col")],
    )
    if st.button(tr("sit_accept"), type="primary", key="sit_accept_btn"):
        chosen = (edited.loc[edited[tr("sit_accept_col")], tr("sit_site_no")] - 1).tolist()
        new_table, n = accept_sites(facilities, study, chosen)
        if n:
            access.set_facility_table(sel, new_table)
            st.session_state["fac_version"] = st.session_state.get("fac_version", 0) + 1
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
    note = access.provenance_caption(
        study.population_source, study.n_existing, facilities["source"]
    )
    d1, d2 = st.columns(2)
    csv = (f"# {note}\n" + study.sites.to_csv(index=False)).encode("utf-8-sig")
    d1.download_button(tr("sit_dl_csv"), csv, "sites.csv", "text/csv")
    d2.download_button(
        tr("sit_dl_geojson"),
        lambda: study.catchments().to_json(drop_id=True, ensure_ascii=False),
        "site_catchments.geojson",
        "application/geo+json",
    )


with tab_sites:
    level = st.radio(
        tr("sit_level"),
        ["secondary", "primary"],
        horizontal=True,
        format_func=lambda x: tr(f"sit_level_{x}"),
        key="sit_level",
    )
    asked = siting_form(str(level))
    if asked is not None:
        run_study(*asked)
    results(str(level))


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_proposal(  # type: ignore[no-untyped-def]
    prefecture: str,
    township_path,
    datum: str,
    k: int,
    balance: float,
    leads: tuple[tuple[str, float, float], ...] = (),
):
    us = state.load_units(UnitsSource(prefecture, township_path, datum))
    return propose_grids(us, list(leads) or k, tolerance=balance, time_limit_s=20.0)


def lead_choices() -> pd.DataFrame:
    """The active hospitals of the facility list, the planner's choice of lead hospitals."""
    fac = access.facility_table(sel)
    return fac[facility_mask(fac, HOSPITALS)]


with tab_grids:
    hospitals = lead_choices()
    picked = st.multiselect(
        tr("lead_pick"),
        hospitals["facility_id"].tolist(),
        format_func=lambda f: str(hospitals.set_index("facility_id").loc[f, "name"]),
        key="prop_leads",
        help=tr("lead_pick_help"),
    )
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    k = c1.number_input(
        tr("k_grids"), 2, 30, min(4, max(2, len(plan.grids))), key="prop_k", disabled=bool(picked)
    )
    balance = c2.slider(tr("balance_tol"), 0.05, 0.5, 0.2, 0.05, key="prop_balance")
    run = c3.button(tr("propose"), type="primary", key="prop_run")
    if picked:
        chosen = hospitals[hospitals["facility_id"].isin(picked)]
        origin = "、".join(tr(f"src_{x}") for x in sorted(set(chosen["source"])))
        st.caption(tr("lead_picked", n=len(picked), src=origin))
    if run:
        rows = hospitals.set_index("facility_id").loc[picked]
        leads = tuple(workflow.lead_sites(rows))
        try:
            with st.spinner(tr("proposing")):
                st.session_state["proposal"] = cached_proposal(
                    sel.prefecture,
                    st.session_state.get("township_path"),
                    st.session_state.get("township_datum", "wgs84"),
                    int(k),
                    float(balance),
                    leads,
                )
        except GridPlanError as exc:
            st.error(error_text(exc, lang()))
    proposal = st.session_state.get("proposal")
    if proposal is not None and proposal.plan.prefecture == sel.prefecture:
        if proposal.bounds_met:
            st.success(
                tr(
                    "proposal_ok",
                    method=proposal.method,
                    status=proposal.status,
                    secs=proposal.solve_seconds,
                )
            )
        else:
            st.warning(
                tr(
                    "proposal_infeasible",
                    tol=proposal.tolerance,
                    best=proposal.best_tolerance or float("nan"),
                )
            )
        for note in proposal.notes:
            st.caption(note)
        cmp = compare_plans(plan, proposal.plan, units)
        summary = cmp.summary
        st.dataframe(
            pd.DataFrame(
                {
                    tr("plan"): summary["plan_id"],
                    tr("n_grids"): summary["n_grids"],
                    tr("mean_minutes"): summary["mean_minutes"].round(1),
                    tr("balance_ratio"): summary["max_min_ratio"].round(2),
                    tr("balance_cv"): summary["cv"].round(3),
                }
            ),
            hide_index=True,
        )
        st.caption(tr("units_moved", n=cmp.n_moved, pop=f"{cmp.moved_population:,.0f}"))
        names = {g.grid_id: g.name for g in proposal.plan.grids}
        assignment = resolve_assignment(proposal.plan, units.units)
        deck = build_deck(
            units.units,
            state.current_display_geometry(sel),
            assignment,
            names,
            grid_colors(proposal.plan),
            lang=lang(),
        )
        st.pydeck_chart(deck, height=480, key="proposal_map")
        with st.expander(tr("moved_units")):
            st.dataframe(cmp.moved, hide_index=True)
        if st.button(tr("adopt"), key="prop_adopt"):
            state.set_plan(sel, proposal.plan)
            st.success(tr("adopted"))
