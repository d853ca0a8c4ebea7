"""Compare (方案对比): two scenarios, or two versions of one, side by side."""

import streamlit as st

from ui import navigation, scenario
from ui.panels import compare as panels
from ui.sidebar import stored_scenarios
from ui.texts import tr

navigation.keep_navigation_in_charge()
sc = scenario.current()
st.title(tr("page_compare"))
st.caption(tr("cmp_intro"))
stored = stored_scenarios(sc.sel.prefecture)
shown = sc.sel.preset  # by default: the plan shown (B) against the latest other scenario (A)
first = next((c for c in stored if c != shown), panels.SHOWN)
left, right = st.columns(2)
with left:
    st.markdown("**A**")
    a = panels.side_picker(sc.sel, stored, "a", first)
with right:
    st.markdown("**B**")
    b = panels.side_picker(sc.sel, stored, "b", panels.SHOWN)
mode, minutes, cell = panels.settings_row()
if a is not None and b is not None:
    panels.comparison_panel(sc, a, b, mode, minutes, cell)
