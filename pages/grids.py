"""Grids (网格划分): map, assignment editor, validation, uploads and downloads.

In presentation mode (演示模式, for a projector) the map comes first with the figures
beside it; uploads, editors, tables and downloads are folded into 设置 below.  The
part that shows the plan is one fragment (:mod:`ui.panels.gridpage`): an edit
redraws it alone.
"""

import streamlit as st

from ui import navigation, scenario, state
from ui.panels import grids as panels
from ui.panels.common import presentation_layout, upload_notices
from ui.panels.gridpage import grids_page
from ui.texts import tr

navigation.keep_navigation_in_charge()
upload_notices()
sel = scenario.selection()
presenting = presentation_layout()
if not presenting:
    st.title(tr("page_grids"))
    if state.read_only() is None:  # a read-only link: the plan is shown, not edited
        panels.uploads_panel(sel)
grids_page(presenting, sel)
