"""Scenarios (方案管理): the scenario shown and its versions, every scenario, new and import."""

import streamlit as st

from ui import navigation, scenario, state
from ui.panels import scenarios as panels
from ui.texts import tr

navigation.keep_navigation_in_charge()
sel = scenario.selection()
st.title(tr("page_scenarios"))
st.caption(tr("scn_intro"))
if state.read_only() is not None:  # a read-only link shows its scenario and nothing else
    panels.current_panel(sel)
    st.stop()
current, everything, new = st.tabs([tr("scn_tab_current"), tr("scn_tab_all"), tr("scn_tab_new")])
with current:
    panels.current_panel(sel)
with everything:
    panels.all_panel(sel)
with new:
    panels.new_panel(sel)
    st.divider()
    panels.import_panel(sel)
