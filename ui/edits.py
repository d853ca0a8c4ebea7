"""Plan edits applied in widget callbacks: saved, then only the grids page's fragment and
the sidebar's status are drawn again (not the whole page).

A callback runs before anything is drawn, so the page draws the edited plan in
the same run (no second run), and :func:`finish_edit` saves the edit as the
scenario's next version (``ui.store.autosave``).  The first edit of a template
makes it a new scenario: the sidebar's plan chooser changes then, so a template's
plan is drawn with the whole page and its edit reruns the whole page once.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gridplan.plan.grids import GridPlan
from ui import state, timing
from ui import store as scenarios
from ui.state import Selection

#: The keys of the fragments an edit redraws (``st.fragment(key=...)``).
GRIDS_FRAGMENT = "grids_page"
STATUS_FRAGMENT = "scenario_status"


def _drawn(*keys: str) -> bool:
    """Whether the fragments ``keys`` were drawn (the status: the page runs under ``app.py``)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    try:
        ctx.fragment_storage.resolve_target(list(keys))
    except StreamlitAPIException:
        return False
    return True


def finish_edit(sel: Selection) -> None:
    """Save the plan's edits and redraw what shows the plan (called at a callback's end).

    A preset's plan is drawn as part of the whole page (:mod:`ui.panels.gridpage`):
    its edit reruns the whole page, which saves it first (a new scenario) and
    shows it in the sidebar's plan chooser, in one run.  Without ``app.py``
    around the page (a page run alone) nothing is saved here either and the
    page runs again, as ``app.py`` would save after it.
    """
    if not _drawn(GRIDS_FRAGMENT):
        return  # the interaction reruns the whole page: nothing more to ask for
    if not _drawn(STATUS_FRAGMENT):
        st.rerun()
    if scenarios.autosave(sel) != sel:
        st.rerun()  # a template became a scenario: the sidebar's choice changed
    st.rerun([GRIDS_FRAGMENT, STATUS_FRAGMENT])


def replan(sel: Selection, new: GridPlan) -> None:
    """Use ``new`` as the plan of ``sel``, save it, redraw the page's plan and status."""
    with timing.timed("callback:edit"):
        state.set_plan(sel, new)
        finish_edit(sel)
