"""National overview (全国概览): the 15-minute coverage of every prefecture from a batch run."""

import streamlit as st

from ui import navigation
from ui.panels import national
from ui.texts import tr

navigation.keep_navigation_in_charge()
st.title(tr("page_national"))
st.caption(tr("nat_intro"))
national.page_body()
