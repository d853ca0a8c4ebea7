"""GridPlan dashboard entry point: ``streamlit run app.py``.

The sidebar (language, prefecture, plan) is drawn here for every page; the
page scripts in ``pages/`` run through ``st.navigation`` (``ui.navigation``).
"""

import streamlit as st

from ui import navigation
from ui.sidebar import sidebar

navigation.keep_navigation_in_charge()
st.set_page_config(page_title="GridPlan", page_icon="🗺️", layout="wide")
sidebar()
navigation.navigation().run()
