"""Grids (网格划分): map, assignment editor, validation, uploads and downloads.

In presentation mode (演示模式, for a projector) the map comes first with the figures
beside it; uploads, editors, tables and downloads are folded into 设置 below.
"""

import streamlit as st

from gridplan.plan.grids import resolve_assignment
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.validate import validate_plan
from gridplan.report.style import grid_colors
from gridplan.workflow import has_population
from ui import navigation, scenario, state
from ui.panels import grids as panels
from ui.panels.common import (
    PRESENTATION_MAP_HEIGHT,
    metric_row,
    num_text,
    plan_check,
    presentation_layout,
    readable,
    upload_notices,
)
from ui.tables import grid_stats_table, seed_block
from ui.texts import join_list, md_text, tr

navigation.keep_navigation_in_charge()
upload_notices()
sel = scenario.selection()
presenting = presentation_layout()
editable = state.read_only() is None  # a read-only link: the plan is shown, not edited
if not presenting:
    st.title(tr("page_grids"))
    if editable:
        panels.uploads_panel(sel)

sc = scenario.current()
assignment = resolve_assignment(sc.plan, sc.units.units)
grids = grid_statistics(sc.plan, sc.units, assignment)
view = panels.PlanView(sc.units, sc.display_geometry(), sc.plan, assignment, grid_colors(sc.plan))
bal = population_balance(grids)
balance = [
    (tr("balance_ratio"), num_text(bal["max_min_ratio"], ".2f")),
    (tr("balance_cv"), num_text(bal["cv"], ".2f")),
]
problems = validate_plan(sc.plan, sc.units, assignment)
undrawn = [n for names in grids["undrawn_units"] for n in names]
# no census figure and no upload: "no data", not a total of 0
total_pop = num_text(grids["population"].sum()) if has_population(sc.units) else tr("no_data")

if presenting:  # the map and its figures fill the screen; everything else below, folded
    left, right = st.columns([3, 1])
    with left:
        panels.grid_map_panel(view, height=PRESENTATION_MAP_HEIGHT)
    with right:
        metric_row(
            [
                (tr("n_grids"), str(len(sc.plan.grids))),
                (tr("total_pop"), total_pop),
                *balance,
            ],
            per_row=1,
        )
    st.subheader(tr("validation"))
    plan_check(problems)
    if undrawn:
        st.info(tr("undrawn", names=join_list(md_text(n) for n in undrawn)))
    seed_block(sc.plan)
    st.subheader(tr("grid_stats"))
    st.dataframe(readable(grid_stats_table(grids)), hide_index=True, width="stretch")
    if editable:  # each in its own folded panel (Streamlit does not nest expanders)
        panels.uploads_panel(sel)
        with st.expander(tr("assignment")):
            panels.assignment_editor(sc.sel, view)
            st.markdown(f"**{tr('grids_table')}**")
            panels.grid_editor(sc.sel, sc.plan, lambda: scenario.starting_plan(sc.sel, sc.units))
        panels.delete_merge_panel(sc.sel, view)
    with st.expander(tr("downloads")):
        panels.plan_downloads(view)
else:
    seed_block(sc.plan)
    left, right = st.columns([3, 2])
    with left:
        st.subheader(tr("map"))
        panels.grid_map_panel(view)
        if undrawn:
            st.info(tr("undrawn", names=join_list(md_text(n) for n in undrawn)))
    with right:
        st.subheader(tr("validation"))
        plan_check(problems)
        st.subheader(tr("balance"))
        metric_row(balance)

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
