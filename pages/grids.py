"""Grids (网格划分): map, assignment editor, validation, uploads and downloads."""

import streamlit as st

from gridplan.plan.grids import resolve_assignment
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.validate import validate_plan
from gridplan.report.style import grid_colors
from ui import navigation, scenario, state
from ui.panels import grids as panels
from ui.panels.common import metric_row, num_text, plan_check, readable, upload_notices
from ui.tables import grid_stats_table, seed_block
from ui.texts import join_list, md_text, tr

navigation.keep_navigation_in_charge()
upload_notices()
sel = scenario.selection()
st.title(tr("page_grids"))
editable = state.read_only() is None  # a read-only link: the plan is shown, not edited
if editable:
    panels.uploads_panel(sel)

sc = scenario.current()
assignment = resolve_assignment(sc.plan, sc.units.units)
grids = grid_statistics(sc.plan, sc.units, assignment)
view = panels.PlanView(sc.units, sc.display_geometry(), sc.plan, assignment, grid_colors(sc.plan))
seed_block(sc.plan)

left, right = st.columns([3, 2])
with left:
    st.subheader(tr("map"))
    panels.grid_map_panel(view)
    undrawn = [n for names in grids["undrawn_units"] for n in names]
    if undrawn:
        st.info(tr("undrawn", names=join_list(md_text(n) for n in undrawn)))
with right:
    st.subheader(tr("validation"))
    plan_check(validate_plan(sc.plan, sc.units, assignment))
    st.subheader(tr("balance"))
    bal = population_balance(grids)
    metric_row(
        [
            (tr("balance_ratio"), num_text(bal["max_min_ratio"], ".2f")),
            (tr("balance_cv"), num_text(bal["cv"], ".2f")),
        ]
    )

st.subheader(tr("grid_stats"))
st.dataframe(readable(grid_stats_table(grids)), hide_index=True, width="stretch")
if editable:
    st.subheader(tr("assignment"))
    panels.assignment_editor(sc.sel, view)
    st.subheader(tr("grids_table"))
    panels.grid_editor(sc.sel, sc.plan, lambda: scenario.starting_plan(sc.sel, sc.units))
    panels.delete_merge_panel(sc.sel, view)
st.subheader(tr("downloads"))
panels.plan_downloads(view)
