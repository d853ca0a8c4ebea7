"""Overview (概览): the selected prefecture and plan at a glance."""

import streamlit as st

from gridplan.plan.grids import resolve_assignment
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.validate import validate_plan
from gridplan.workflow import has_population
from ui import navigation, scenario
from ui.panels.census import census_check_panel
from ui.panels.common import metric_row, num_text, plan_check, readable, upload_notices
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
# no census figure and no upload: "no data", not a total of 0
total_pop = num_text(units.units["population"].sum()) if has_population(units) else tr("no_data")
metric_row(
    [
        (tr("n_grids"), str(len(plan.grids))),
        (tr("total_pop"), total_pop),
        (tr("balance_ratio"), num_text(bal["max_min_ratio"], ".2f")),
        (tr("balance_cv"), num_text(bal["cv"], ".2f")),
    ]
)
sources = sorted(set(units.units["population_source"]))
st.caption(tr("pop_source_note", sources=join_list(provenance_label(s, lang()) for s in sources)))
if units.units["population_source"].eq("none").all():
    st.warning(tr("no_census"))
census_check_panel(units)

st.subheader(tr("grid_stats"))
st.dataframe(readable(grid_stats_table(grids)), hide_index=True, width="stretch")
st.subheader(tr("validation"))
plan_check(validate_plan(plan, units, assignment))
st.info(tr("go_grids"))
