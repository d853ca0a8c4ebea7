"""The report document in one click, from every page (the sidebar) and from the compare page.

The report is the commission's planning annex :func:`gridplan.workflow.build_report`
writes for the CLI's ``gridplan report``: the plan shown, its facilities (edits
included), the 15-minute page's model and threshold as last chosen, the siting
answer when there is one for this prefecture, and a comparison when asked from the
compare page.  It is built on a click (a few seconds) and offered for download;
the download does not rerun the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from gridplan import settings, workflow
from gridplan.errors import GridPlanError
from gridplan.travel.speeds import DEFAULT_DETOUR
from gridplan.workflow import ModelSpec
from ui import scenario, state
from ui import store as scenarios
from ui.panels.common import download, show_error
from ui.scenario import Scenario
from ui.state import lang
from ui.texts import tr

if TYPE_CHECKING:  # the document's and the comparison's modules (matplotlib, scipy's
    # optimiser) are imported when a report is made, not with every page
    from gridplan.plan.compare import ScenarioComparison
    from gridplan.report.document import ReportMeta

#: What each format is called and its MIME type.
FORMATS = {
    "docx": ("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": ("PDF", "application/pdf"),
}


def analysis_choices() -> tuple[ModelSpec, float, int]:
    """The 15-minute page's model, threshold and cell size as last chosen (its defaults
    before it was opened)."""
    chosen = state.analysis_settings()
    model = str(chosen.get("acc_model", "straight"))
    mode = str(chosen.get("acc_mode", "walk"))
    speed = chosen.get(f"acc_speed_{mode}")
    minutes = float(chosen.get("acc_minutes_primary", workflow.default_minutes("primary")))
    cell = int(chosen.get("acc_cell", settings.cell_m))
    if model != "straight" and not (state.roads_path() or state.raster_path("landcover")):
        model = "straight"  # the page's other models need files this session may not have
    spec = ModelSpec(
        model, mode, None if speed is None else float(speed),
        float(chosen.get("acc_detour", DEFAULT_DETOUR)),
        roads_path=state.roads_path(), landcover_path=state.raster_path("landcover"),
        dem_path=state.raster_path("dem"),
    )  # fmt: skip
    return spec, minutes, cell


def report_meta(sc: Scenario) -> ReportMeta:
    """The cover: the scenario's name and the version shown, the sidebar's name."""
    from gridplan.report.document import ReportMeta

    sid = sc.sel.scenario_id
    if sid is None:
        return ReportMeta(author=state.author())
    try:
        info = scenarios.store().info(sid)
    except GridPlanError:
        return ReportMeta(author=state.author())
    return ReportMeta(info.name, state.shown_version(sid), state.author())


def build(sc: Scenario, fmt: str, comparison: ScenarioComparison | None = None) -> bytes:
    """The report of the plan shown, in ``fmt`` (``docx``/``pdf``)."""
    spec, minutes, cell = analysis_choices()
    held = state.held_study()
    siting: Any = held.study if held is not None and held.prefecture == sc.sel.prefecture else None
    made = workflow.build_report(
        sc.plan, sc.units, scenario.facilities(sc.sel), sc.surface(cell), spec,
        fmt=fmt, minutes=minutes, lang=lang(), meta=report_meta(sc),
        comparison=comparison, siting=siting,
    )  # fmt: skip
    return made.data


def file_name(sc: Scenario, fmt: str) -> str:
    """``石家庄市_网格规划报告.pdf``: the prefecture and what it is, in the UI language."""
    return f"{sc.units.prefecture.name}_{tr('report_file')}.{fmt}"


def report_buttons(key: str, comparison: ScenarioComparison | None = None) -> None:
    """Two buttons (Word, PDF) that build the report, then its download button."""
    sc = scenario.current()
    held: dict[str, bytes] = {}
    cols = st.columns(len(FORMATS))
    for col, (fmt, (label, _)) in zip(cols, FORMATS.items(), strict=True):
        if col.button(tr("report_make", fmt=label), key=f"{key}_{fmt}", width="stretch"):
            with st.spinner(tr("report_making")):
                try:
                    held[fmt] = build(sc, fmt, comparison)
                except GridPlanError as exc:
                    show_error(exc)
    for fmt, data in held.items():
        label, mime = FORMATS[fmt]
        download(
            tr("report_download", fmt=label), data, file_name(sc, fmt), mime,
            key=f"{key}_{fmt}_dl", primary=True, stretch=True,
        )  # fmt: skip


def sidebar_report() -> None:
    """The sidebar's report block, on every page."""
    with st.sidebar.expander(tr("report_title")):
        st.caption(tr("report_help"))
        report_buttons("report_sidebar")
