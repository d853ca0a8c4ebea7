"""The report document in one click: the sidebar's block on every page and the compare page's
report with the comparison (AppTest; the document's contents are tested in
test_report_document.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).parents[1] / "app.py")


pytestmark = pytest.mark.usefixtures("navigation_already_in_charge")


def downloads(at: AppTest) -> list:
    """The report's download buttons (the grids page has its own downloads)."""
    return [e for e in at.get("download_button") if e.proto.label.endswith("报告")]


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_the_sidebar_makes_the_report_on_any_page(own_store, fmt):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.session_state["acc_cell"] = 1000  # a coarse surface: the test is about the button
    at.switch_page("pages/grids.py").run()
    assert not downloads(at)
    at.sidebar.button(key=f"report_sidebar_{fmt}").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    [button] = downloads(at)
    assert button.proto.label == f"下载 {'Word' if fmt == 'docx' else 'PDF'} 报告"


def test_the_compare_page_reports_with_the_comparison(own_store):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.session_state["acc_cell"] = 1000
    at.switch_page("pages/compare.py").run()
    at.selectbox(key="cmp_cell").set_value(1000).run()
    at.button(key="report_compare_docx").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(downloads(at)) == 1
