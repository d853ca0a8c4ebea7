"""The dashboard's pages, and the guard that keeps ``st.navigation`` in charge of them.

The page scripts live in ``pages/`` beside ``app.py``.  Streamlit remembers,
once per server process, whether the entry script has a ``pages/`` folder
(``PagesManager.uses_pages_directory``, set when the first session starts);
while that flag is set it runs its legacy multipage mode (``_mpa_v1`` in
``streamlit/runtime/scriptrunner/script_runner.py``): the script of the URL's
page runs on its own, without ``app.py``, so a deep link such as ``/grids``
would lose the sidebar.  Only a call of ``st.navigation`` clears the flag, and
in that mode ``app.py`` may never run.  So every script, ``app.py`` and each
page, first calls :func:`keep_navigation_in_charge`: under the legacy mode it
clears the flag and reruns, and the rerun goes through ``app.py`` and its
``st.navigation`` to the same page (page hashes are derived from the URL path,
which both modes infer alike from the file name).  AppTest resets the flag at
every run, so the same guard serves it.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.pages_manager import PagesManager

from ui.texts import PAGE


@dataclass(frozen=True)
class PageSpec:
    """One page of the dashboard.

    Attributes
    ----------
    name
        The page's name: its script is ``pages/<name>.py``, its title the text ``page_<name>``.
    icon
        Material icon of the navigation entry.
    url_path
        Its URL path; the default page has none (the app's root URL).
    """

    name: str
    icon: str
    url_path: str | None = None

    @property
    def script(self) -> str:
        """Path of the page script, relative to ``app.py``."""
        return f"pages/{self.name}.py"


#: The pages in navigation order; the first is the default (the root URL).
PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", ":material/home:"),
    PageSpec("grids", ":material/map:", "grids"),
    PageSpec("access", ":material/timer:", "access"),
    PageSpec("siting", ":material/hub:", "siting"),
    PageSpec("scenarios", ":material/folder_open:", "scenarios"),
    PageSpec("compare", ":material/compare:", "compare"),
    PageSpec("national", ":material/public:", "national"),
)


def keep_navigation_in_charge(*, entry: bool = False) -> None:
    """Leave Streamlit's legacy ``pages/`` mode and rerun through ``app.py``'s navigation.

    Call it first in ``app.py`` (``entry=True``) and in every page script; it
    does nothing once ``st.navigation`` has run in this server process.  The
    entry script is already the one that should run: it clears the flag and
    goes on to its ``st.navigation`` without a rerun, which would drop the
    click that started this run (a button is true for one run only).
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not entry:
            st.rerun()


def navigation() -> StreamlitPage:
    """The sidebar navigation over :data:`PAGES`; returns the page to run."""
    pages = [
        st.Page(
            p.script,
            title=PAGE(p.name),
            icon=p.icon,
            url_path=p.url_path,
            default=p.url_path is None,
        )
        for p in PAGES
    ]
    return st.navigation(pages)
