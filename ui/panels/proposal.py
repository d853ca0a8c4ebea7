"""The grid-proposal tab: balanced contiguous grids, compared with the plan being edited."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import streamlit as st

from gridplan import workflow
from gridplan.errors import GridPlanError
from gridplan.i18n import t
from gridplan.plan.grids import resolve_assignment
from gridplan.regions.compare import compare_plans
from gridplan.regions.instance import Proposal
from gridplan.report.method import proposal_items
from gridplan.report.style import grid_colors
from ui import cache, state
from ui import store as scenarios
from ui.cache import ProposalKey
from ui.panels.common import how_computed, readable, show_error
from ui.panels.grids import PlanView, grid_map
from ui.panels.leads import real_hospitals
from ui.scenario import Scenario
from ui.state import lang
from ui.tables import planner_table
from ui.texts import SOURCE, join_list, md_lines, md_text, tr


def lead_choices(sc: Scenario) -> pd.DataFrame:
    """The hospitals a planner may choose as lead hospitals: the active, real ones of the
    facility list (the illustrative network's hospitals are not real places)."""
    return real_hospitals(sc.sel)


def proposal_panel(sc: Scenario) -> None:
    """Ask for k grids (or one per chosen lead hospital); show and adopt the answer."""
    hospitals = lead_choices(sc)
    picked = st.multiselect(
        tr("lead_pick"),
        hospitals["facility_id"].tolist(),
        format_func=lambda f: str(hospitals.set_index("facility_id").loc[f, "name"]),
        key="prop_leads",
        help=tr("lead_pick_help"),
    )
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    k0 = min(4, max(2, len(sc.plan.grids)))
    k = c1.number_input(tr("k_grids"), 2, 30, k0, key="prop_k", disabled=bool(picked))
    balance = c2.slider(tr("balance_tol"), 0.05, 0.5, 0.2, 0.05, key="prop_balance")
    run = c3.button(tr("propose"), type="primary", key="prop_run")
    if hospitals.empty:
        st.caption(tr("leads_no_list"))
    if picked:
        chosen = hospitals[hospitals["facility_id"].isin(picked)]
        origin = join_list(SOURCE(x) for x in sorted(set(chosen["source"])))
        st.caption(tr("lead_picked", n=len(picked), src=md_text(origin)))
    if run:
        leads = tuple(workflow.lead_sites(hospitals.set_index("facility_id").loc[picked]))
        try:
            with st.spinner(tr("proposing")):
                state.keep_proposal(
                    cache.proposal(ProposalKey(sc.source, int(k), float(balance), leads))
                )
        except GridPlanError as exc:
            show_error(exc)
    answer = state.proposal()
    if answer is not None and answer.plan.prefecture == sc.sel.prefecture:
        proposal_answer(sc, answer)


def proposal_answer(sc: Scenario, answer: Proposal) -> None:
    """The proposal against the current plan: status, comparison, map, moved units, adopt."""
    if answer.bounds_met:
        st.success(
            tr("proposal_ok", method=answer.method, status=answer.status, secs=answer.solve_seconds)
        )
    else:
        best = answer.best_tolerance
        if best is None or not np.isfinite(best):  # no balanced plan found at all: no "nan %"
            st.warning(tr("proposal_infeasible_unknown", tol=answer.tolerance))
        else:
            st.warning(tr("proposal_infeasible", tol=answer.tolerance, best=best))
    for note in answer.note_texts(lang()):  # it may name lead hospitals: shown as text
        st.caption(md_lines(note))
    cmp = compare_plans(sc.plan, answer.plan, sc.units)
    summary = cmp.summary
    st.dataframe(
        readable(
            pd.DataFrame(
                {
                    tr("plan"): summary["plan_id"],
                    tr("n_grids"): summary["n_grids"],
                    tr("mean_minutes"): summary["mean_minutes"].round(1),
                    tr("balance_ratio"): summary["max_min_ratio"].round(2),
                    tr("balance_cv"): summary["cv"].round(3),
                }
            )
        ),
        hide_index=True,
    )
    for _, row in summary.iterrows():  # a mean over part of a plan would mislead: said instead
        if row["unlocated_names"]:
            names = join_list(md_text(n) for n in row["unlocated_names"])
            st.info(tr("cmp_unlocated", plan=md_text(row["plan_id"]), names=names,
                       n=len(row["unlocated_names"])))  # fmt: skip
    st.caption(tr("units_moved", n=cmp.n_moved, pop=f"{cmp.moved_population:,.0f}"))
    assignment = resolve_assignment(answer.plan, sc.units.units)
    view = PlanView(
        sc.units,
        sc.display_geometry(),
        sc.unit_borders(),
        answer.plan,
        assignment,
        grid_colors(answer.plan, sc.units, assignment),
    )
    grid_map(view, key="proposal_map", height=480)
    how_computed(proposal_items(answer, lang()), key="prop_how")
    with st.expander(tr("moved_units")):
        st.dataframe(readable(planner_table(cmp.moved)), hide_index=True)
    if state.read_only() is not None:
        return
    name = st.text_input(tr("adopt_name"), value=adopted_name(answer), key="prop_adopt_name")
    if st.button(tr("adopt"), key="prop_adopt"):
        note = t("change.adopted", lang(), name=answer.plan.name.get(lang(), answer.plan.plan_id))
        if scenarios.create_scenario(sc.sel.prefecture, name, answer.plan, note) is not None:
            st.success(tr("adopted", name=name))


def adopted_name(answer: Proposal) -> str:
    """The name a proposal adopted as a scenario starts with: its plan's name and the time."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    return f"{answer.plan.name.get(lang(), answer.plan.plan_id)} · {stamp}"
