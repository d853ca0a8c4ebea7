"""GridPlan dashboard entry point: ``streamlit run app.py``."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui import state
from ui.texts import tr

st.set_page_config(page_title="GridPlan", page_icon="🗺️", layout="wide")
state.sidebar()
nav = st.navigation(
    [
        st.Page(
            "views/overview.py", title=tr("page_overview"), icon=":material/home:", default=True
        ),
        st.Page("views/grids.py", title=tr("page_grids"), icon=":material/map:", url_path="grids"),
        st.Page(
            "views/access.py", title=tr("page_access"), icon=":material/timer:", url_path="access"
        ),
        st.Page(
            "views/siting.py", title=tr("page_siting"), icon=":material/hub:", url_path="siting"
        ),
    ]
)
nav.run()
