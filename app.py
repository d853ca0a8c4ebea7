"""GridPlan dashboard entry point: ``python -m ui.serve`` (or ``streamlit run app.py``).

The sidebar (language, prefecture, plan) is drawn here for every page; the
page scripts in ``pages/`` run through ``st.navigation`` (``ui.navigation``).
Around the page: the scenario of the URL is opened at a session's start, and
every edit the page made is saved as the scenario's next version after it
(``ui.store``); the sidebar's scenario status is filled in last, so it shows
the version just saved, followed by the report document in one click.
"""

import streamlit as st

from ui import preload

preload.join()  # the launcher's thread imports the libraries; never two threads at once
from ui import navigation, timing  # noqa: E402
from ui import store as scenarios  # noqa: E402
from ui.panels.report import sidebar_report  # noqa: E402
from ui.sidebar import sidebar, status_fragment  # noqa: E402

navigation.keep_navigation_in_charge(entry=True)
with timing.timed("run"):  # a full run of the page, for the benchmarks (off by default)
    st.set_page_config(page_title="GridPlan", page_icon="🗺️", layout="wide")
    scenarios.open_from_url()
    scenarios.autosave_pending()
    sidebar()
    status = st.sidebar.empty()
    navigation.navigation().run()
    scenarios.autosave(scenarios.shown_selection())
    status_fragment(status)  # the URL and the status of the plan now shown
    sidebar_report()
