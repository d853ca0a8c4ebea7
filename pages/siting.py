"""Sub-centres and grid proposals (次中心选址): where to put centres, how to draw grids."""

import streamlit as st

from gridplan import workflow
from ui import navigation, scenario, state, texts
from ui.panels.common import upload_notices
from ui.panels.facilities import illustrative_banner
from ui.panels.proposal import proposal_panel
from ui.panels.siting import results, run_study, siting_form
from ui.texts import tr

navigation.keep_navigation_in_charge()
upload_notices()
sc = scenario.current()
st.title(tr("page_siting"))
st.caption(tr("siting_intro"))
illustrative_banner(scenario.facilities(sc.sel), sc.units.prefecture)
if not workflow.has_population(sc.units) and state.surface_file() is None:
    st.warning(tr("no_population_page", prefecture=sc.units.prefecture.name))

tab_sites, tab_grids = st.tabs([tr("tab_sites"), tr("tab_grids")])
with tab_sites:
    level = st.radio(
        tr("sit_level"),
        ["secondary", "primary"],
        horizontal=True,
        format_func=texts.SITING_LEVEL,
        key="sit_level",
    )
    asked = siting_form(sc.sel, str(level))
    if asked is not None:
        run_study(sc, asked)
    results(sc, str(level))
with tab_grids:
    proposal_panel(sc)
