"""Overview (概览): the selected prefecture and plan at a glance."""

import streamlit as st

from gridplan.plan.grids import resolve_assignment
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.validate import validate_plan
from ui import navigation, scenario
from ui.panels.common import metric_row, plan_check, upload_notices
from ui.panels.picker import prefecture_picker
from ui.sidebar import preset_label
from ui.state import lang
from ui.tables import grid_stats_table, seed_block
from ui.texts import join_list, tr

navigation.keep_navigation_in_charge()
upload_notices()
sc = scenario.current()
units, plan = sc.units, sc.plan
assignment = resolve_assignment(plan, units.units)
grids = grid_statistics(plan, units, assignment)

st.title(tr("app_title"))
st.caption(tr("overview_intro"))
prefecture_picker(sc.sel.prefecture)
st.subheader(f"{units.prefecture.name} · {preset_label(sc.sel.preset)}")
seed_block(plan)

bal = population_balance(grids)
metric_row(
    [
        (tr("n_grids"), str(len(plan.grids))),
        (tr("total_pop"), f"{units.units['population'].sum():,.0f}"),
        (tr("balance_ratio"), f"{bal['max_min_ratio']:.2f}"),
        (tr("balance_cv"), f"{bal['cv']:.2f}"),
    ]
)
sources = sorted(set(units.units["population_source"]))
st.caption(tr("pop_source_note", sources=join_list(provenance_label(s, lang()) for s in sources)))
if units.units["population_source"].eq("none").all():
    st.warning(tr("no_census"))

st.subheader(tr("grid_stats"))
st.dataframe(grid_stats_table(grids), hide_index=True, width="stretch")
st.subheader(tr("validation"))
plan_check(validate_plan(plan, units, assignment))
st.info(tr("go_grids"))
