"""Sub-centres and grid proposals (次中心选址): where to put centres, how to draw grids."""

import pandas as pd
import streamlit as st

from gridplan import report
from gridplan.errors import GridPlanError
from gridplan.grids import resolve_assignment
from gridplan.i18n import error_text
from gridplan.regions import compare_plans, propose_grids
from ui import state
from ui.mapview import build_deck
from ui.texts import lang, tr

sel = state.selection()
units = state.current_units(sel)
plan = state.current_plan(sel, units)
st.title(tr("page_siting"))
st.caption(tr("siting_intro"))

tab_sites, tab_grids = st.tabs([tr("tab_sites"), tr("tab_grids")])

with tab_sites:
    st.info(tr("sites_pending"))


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_proposal(prefecture: str, township_path, datum: str, k: int, balance: float):  # type: ignore[no-untyped-def]
    us = state.load_units(prefecture, township_path, datum, None)
    return propose_grids(us, k, tolerance=balance, time_limit_s=20.0)


with tab_grids:
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    k = c1.number_input(tr("k_grids"), 2, 30, min(4, max(2, len(plan.grids))), key="prop_k")
    balance = c2.slider(tr("balance_tol"), 0.05, 0.5, 0.2, 0.05, key="prop_balance")
    run = c3.button(tr("propose"), type="primary", key="prop_run")
    if run:
        try:
            with st.spinner(tr("proposing")):
                st.session_state["proposal"] = cached_proposal(
                    sel.prefecture,
                    st.session_state.get("township_path"),
                    st.session_state.get("township_datum", "wgs84"),
                    int(k),
                    float(balance),
                )
        except GridPlanError as exc:
            st.error(error_text(exc, lang()))
    proposal = st.session_state.get("proposal")
    if proposal is not None and proposal.plan.prefecture == sel.prefecture:
        if proposal.bounds_met:
            st.success(tr("proposal_ok", method=proposal.method, status=proposal.status,
                          secs=proposal.solve_seconds))  # fmt: skip
        else:
            st.warning(tr("proposal_infeasible", tol=proposal.tolerance,
                          best=proposal.best_tolerance or float("nan")))  # fmt: skip
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
        deck = build_deck(units.units, state.current_display_geometry(sel), assignment, names,
                          report.grid_colors(proposal.plan), lang=lang())  # fmt: skip
        st.pydeck_chart(deck, height=480, key="proposal_map")
        with st.expander(tr("moved_units")):
            st.dataframe(cmp.moved, hide_index=True)
        if st.button(tr("adopt"), key="prop_adopt"):
            state.set_plan(sel, proposal.plan)
            st.success(tr("adopted"))
