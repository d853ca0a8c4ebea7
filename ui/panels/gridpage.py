"""The grids page below its title and uploads, as one fragment: an edit redraws it alone
(a stored scenario; a preset's plan is drawn with the whole page, see :func:`grids_page`).

Everything here shows the plan: the map, its checks and figures, the editors
and the downloads.  The edits are applied in the editors' callbacks
(:mod:`ui.edits`), which save them and rerun this fragment and the sidebar's
status only, so the rest of the page (sidebar choosers, uploads) is not run
or sent again.  The plan's figures and map come from :mod:`ui.plancache`.
"""

from __future__ import annotations

import streamlit as st

from gridplan.plan.stats import population_balance
from gridplan.report.style import grid_colors
from gridplan.workflow import has_population
from ui import edits, plancache, scenario, state, timing
from ui.panels import grids as panels
from ui.panels import leads
from ui.panels.common import PRESENTATION_MAP_HEIGHT, metric_row, num_text, plan_check, readable
from ui.state import Selection
from ui.tables import grid_stats_table, seed_block
from ui.texts import join_list, md_text, tr


def grids_page(presenting: bool, sel: Selection) -> None:
    """The plan of the sidebar's choice: map, checks, figures, editors, downloads.

    A preset's plan (``sel`` names no stored scenario) is drawn as part of the whole
    page: its first edit makes it a new scenario, which the sidebar's plan chooser
    shows, so that edit reruns the whole page once (the edit saved at the run's
    start, ``ui.store.autosave_pending``), never the fragment first and then the page.
    """
    if sel.scenario_id is None and state.read_only() is None:
        with timing.timed("page:grids"):
            _grids_page(presenting)
    else:
        _grids_fragment(presenting)


@st.fragment(key=edits.GRIDS_FRAGMENT)
def _grids_fragment(presenting: bool) -> None:
    with timing.timed("fragment:grids"):
        _grids_page(presenting)


def _grids_page(presenting: bool) -> None:
    editable = state.read_only() is None  # a read-only link: the plan is shown, not edited
    sc = scenario.current()
    key = sc.plan_key()
    figures = plancache.plan_figures(key)
    grids = figures.grids
    view = panels.PlanView(
        sc.units,
        sc.display_geometry(),
        sc.unit_borders(),
        sc.plan,
        figures.assignment,
        grid_colors(sc.plan),
        key,
    )
    bal = population_balance(grids)
    balance = [
        (tr("balance_ratio"), num_text(bal["max_min_ratio"], ".2f")),
        (tr("balance_cv"), num_text(bal["cv"], ".2f")),
    ]
    undrawn = [n for names in grids["undrawn_units"] for n in names]
    # no census figure and no upload: "no data", not a total of 0
    total_pop = num_text(grids["population"].sum()) if has_population(sc.units) else tr("no_data")

    if presenting:  # the map and its figures fill the screen; everything else below, folded
        left, right = st.columns([3, 1])
        with left:
            panels.grid_map_panel(view, height=PRESENTATION_MAP_HEIGHT)
        with right:
            metric_row(
                [(tr("n_grids"), str(len(sc.plan.grids))), (tr("total_pop"), total_pop), *balance],
                per_row=1,
            )
        st.subheader(tr("validation"))
        plan_check(figures.problems)
        if undrawn:
            st.info(tr("undrawn", names=join_list(md_text(n) for n in undrawn)))
        seed_block(sc.plan)
        st.subheader(tr("grid_stats"))
        st.dataframe(readable(grid_stats_table(grids)), hide_index=True, width="stretch")
        leads.networks_panel(sc.plan, sc.units)
        if editable:  # each in its own folded panel (Streamlit does not nest expanders)
            panels.uploads_panel(sc.sel)
            with st.expander(tr("assignment")):
                panels.assignment_editor(sc.sel, view)
                st.markdown(f"**{tr('grids_table')}**")
                panels.grid_editor(
                    sc.sel, sc.plan, lambda: scenario.starting_plan(sc.sel, sc.units)
                )
            with st.expander(tr("leads_title")):
                leads.leads_panel(sc.sel, sc.plan, sc.units)
            panels.delete_merge_panel(sc.sel, view)
        with st.expander(tr("downloads")):
            panels.plan_downloads(view)
        return

    seed_block(sc.plan)
    left, right = st.columns([3, 2])
    with left:
        st.subheader(tr("map"))
        panels.grid_map_panel(view)
        if undrawn:
            st.info(tr("undrawn", names=join_list(md_text(n) for n in undrawn)))
    with right:
        st.subheader(tr("validation"))
        plan_check(figures.problems)
        st.subheader(tr("balance"))
        metric_row(balance)

    st.subheader(tr("grid_stats"))
    st.dataframe(readable(grid_stats_table(grids)), hide_index=True, width="stretch")
    leads.networks_panel(sc.plan, sc.units)
    if editable:
        st.subheader(tr("assignment"))
        panels.assignment_editor(sc.sel, view)
        st.subheader(tr("grids_table"))
        panels.grid_editor(sc.sel, sc.plan, lambda: scenario.starting_plan(sc.sel, sc.units))
        st.subheader(tr("leads_title"))
        leads.leads_panel(sc.sel, sc.plan, sc.units)
        panels.delete_merge_panel(sc.sel, view)
    st.subheader(tr("downloads"))
    panels.plan_downloads(view)
