"""Overview (概览): the selected prefecture and plan at a glance."""

import streamlit as st

from gridplan.plan.grids import resolve_assignment
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.validate import validate_plan
from ui import navigation, state
from ui.tables import grid_stats_table, seed_block
from ui.texts import lang, tr

navigation.keep_navigation_in_charge()
sel = state.selection()
units = state.current_units(sel)
plan = state.current_plan(sel, units)
assignment = resolve_assignment(plan, units.units)
grids = grid_statistics(plan, units, assignment)
problems = validate_plan(plan, units, assignment)

st.title(tr("app_title"))
st.caption(tr("overview_intro"))
st.subheader(f"{units.prefecture.name} · {state.preset_label(sel.preset)}")
seed_block(plan)

bal = population_balance(grids)
c1, c2, c3, c4 = st.columns(4)
c1.metric(tr("n_grids"), len(plan.grids))
c2.metric(tr("total_pop"), f"{units.units['population'].sum():,.0f}")
c3.metric(tr("balance_ratio"), f"{bal['max_min_ratio']:.2f}")
c4.metric(tr("balance_cv"), f"{bal['cv']:.2f}")
sources = sorted(set(units.units["population_source"]))
st.caption(tr("pop_source_note", sources="、".join(provenance_label(s, lang()) for s in sources)))
if units.units["population_source"].eq("none").all():
    st.warning(tr("no_census"))

st.subheader(tr("grid_stats"))
st.dataframe(grid_stats_table(grids), hide_index=True, width="stretch")
errors = [p for p in problems if p.severity == "error"]
st.subheader(tr("validation"))
if not errors:
    st.success(tr("valid_ok"))
for p in problems:
    (st.error if p.severity == "error" else st.warning)(p.message(lang()))
st.info(tr("go_grids"))
