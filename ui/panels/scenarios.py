"""The 方案管理 page's panels: the scenario shown and its versions, every scenario, new and
import.  Each action goes through :mod:`ui.store`; what fails is said in the sidebar."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from gridplan import workflow
from gridplan.errors import GridPlanError
from gridplan.i18n import t
from gridplan.plan.grids import GridPlan
from gridplan.store import ScenarioInfo, VersionInfo
from ui import cache, state
from ui import store as scenarios
from ui.panels.common import show_error
from ui.panels.picker import prefecture_labels
from ui.state import Selection, lang
from ui.texts import md_text, tr


def local_time(when: datetime) -> str:
    """A stored (UTC) time in the server's local time, to the minute."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def history_table(versions: list[VersionInfo], shown: int | None) -> pd.DataFrame:
    """The version list, newest first: who changed what when."""
    rows = [
        {
            tr("col_version"): v.number,
            tr("col_time"): local_time(v.created),
            tr("col_author"): v.author or tr("anonymous"),
            tr("col_change"): v.note,
            tr("col_shown"): "●" if v.number == shown else "",
        }
        for v in reversed(versions)
    ]
    return pd.DataFrame(rows)


def current_panel(sel: Selection) -> None:
    """The scenario shown: rename, its versions (view, restore, branch)."""
    sid = sel.scenario_id
    if sid is None:
        st.info(tr("scn_template_shown"))
        return
    try:
        info, versions = scenarios.store().info(sid), scenarios.store().history(sid)
    except GridPlanError as exc:
        show_error(exc)
        return
    shown = state.shown_version(sid)
    st.markdown(
        tr(
            "scn_header",
            name=md_text(info.name),
            n=info.versions,
            author=md_text(info.author or "—"),
        )
    )
    if state.read_only() is not None:
        st.dataframe(history_table(versions, shown), hide_index=True, width="stretch")
        return
    with st.form("scn_rename", border=False):
        name = st.text_input(tr("scn_name"), value=info.name, key="scn_rename_name")
        note = st.text_area(tr("scn_note"), value=info.note, key="scn_note", height=80)
        if st.form_submit_button(tr("scn_rename")) and scenarios.rename(sid, name, note):
            st.rerun()
    st.subheader(tr("scn_history"))
    st.dataframe(history_table(versions, shown), hide_index=True, width="stretch")
    numbers = [v.number for v in reversed(versions)]
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
    pick = c1.selectbox(tr("col_version"), numbers, key="scn_pick_version")
    if c2.button(tr("scn_view_version"), key="scn_view_btn"):
        scenarios.go_to_version(sel, int(pick), undo=[*state.undo_stack(sid), shown or 1], redo=[])
        st.rerun()
    if c3.button(tr("scn_restore_version"), key="scn_restore_btn"):
        scenarios.restore_version(sel, int(pick))
        st.rerun()
    branch_name = tr("scn_branch_name", name=info.name, version=pick)
    if c4.button(tr("scn_branch"), key="scn_branch_btn"):
        scenarios.branch(sid, int(pick), branch_name)
        st.rerun()


def list_table(found: list[ScenarioInfo]) -> pd.DataFrame:
    labels = prefecture_labels()
    return pd.DataFrame(
        [
            {
                tr("col_id"): s.id,
                tr("scn_name"): s.name,
                tr("prefecture"): labels.get(s.prefecture, s.prefecture).split(" ")[0],
                tr("col_versions"): s.versions,
                tr("col_updated"): local_time(s.updated),
                tr("col_author"): s.author or tr("anonymous"),
            }
            for s in found
        ]
    )


def all_panel(sel: Selection) -> None:
    """Every scenario: open, duplicate, delete (confirmed, recoverable); deleted ones back."""
    try:
        found = scenarios.store().list_scenarios(include_deleted=True)
    except GridPlanError as exc:
        show_error(exc)
        return
    live = [s for s in found if s.deleted_at is None]
    deleted = [s for s in found if s.deleted_at is not None]
    if not live:
        st.caption(tr("scn_none"))
    else:
        st.dataframe(list_table(live), hide_index=True, width="stretch")
        names = {s.id: f"{s.name}（#{s.id}）" for s in live}
        by_id = {s.id: s for s in live}
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        pick = int(
            c1.selectbox(
                tr("scn_pick"), list(names), format_func=lambda i: names[i], key="scn_pick_scenario"
            )
            or live[0].id
        )
        if c2.button(tr("scn_open"), key="scn_open_btn", type="primary"):
            scenarios.open_scenario(by_id[pick].prefecture, int(pick))
            st.rerun()
        if c3.button(tr("scn_duplicate"), key="scn_dup_btn") and state.read_only() is None:
            scenarios.duplicate(int(pick), tr("scn_copy_name", name=by_id[pick].name))
            st.rerun()
        if state.read_only() is None:
            with st.expander(tr("scn_delete")):
                st.caption(tr("scn_delete_help", days=int(scenarios.purge_days())))
                # one box per scenario: a tick given for one never deletes another
                sure = st.checkbox(
                    tr("scn_delete_confirm", name=names[pick]), key=f"scn_del_ok_{pick}"
                )
                if st.button(tr("scn_delete"), key="scn_del_btn", disabled=not sure):
                    scenarios.delete(sel, int(pick))
                    st.rerun()
    if deleted and state.read_only() is None:
        with st.expander(tr("scn_deleted", n=len(deleted))):
            gone = {s.id: f"{s.name}（#{s.id}）" for s in deleted}
            back = st.selectbox(
                tr("scn_pick"), list(gone), format_func=lambda i: gone[i], key="scn_gone"
            )
            if st.button(tr("scn_undelete"), key="scn_undelete_btn"):
                scenarios.restore_deleted(int(back or deleted[0].id))
                st.rerun()


def new_panel(sel: Selection) -> None:
    """A new scenario of this prefecture: from a template, the default plan, or a file."""
    presets = cache.presets_of(sel.prefecture)
    from ui.sidebar import preset_label  # the sidebar imports the store; this page comes later

    with st.form("scn_new", border=False):
        c1, c2 = st.columns(2)
        template = c1.selectbox(
            tr("scn_from"), presets, format_func=preset_label, key="scn_new_from"
        )
        name = c2.text_input(tr("scn_name"), key="scn_new_name")
        if st.form_submit_button(tr("scn_create"), type="primary"):
            units = cache.load_units(state.units_source(sel))
            plan = workflow.starting_plan(None if template == state.PER_UNIT else template, units)
            note = t("change.from_template", lang(), name=preset_label(template))
            chosen = name.strip() or f"{preset_label(template)} · {scenarios.now_text()}"
            if scenarios.create_scenario(sel.prefecture, chosen, plan, note) is not None:
                st.rerun()


def import_panel(sel: Selection) -> None:
    """A plan file (the plan JSON or grids GeoJSON GridPlan writes) as a new scenario or as
    the next version of the one shown; a bad file is said and nothing changes."""
    from gridplan.plan.importing import read_plan_file

    with st.form("scn_import", border=False):
        upload = st.file_uploader(
            tr("scn_import_file"), type=["json", "geojson"], key="scn_import_file"
        )
        modes = {"new": tr("scn_import_new")}
        if sel.scenario_id is not None:
            modes["version"] = tr("scn_import_version")
        mode = st.radio(
            tr("scn_import_as"), list(modes), format_func=lambda m: modes[m],
            horizontal=True, key="scn_import_mode",
        )  # fmt: skip
        if not st.form_submit_button(tr("scn_import")) or upload is None:
            return
    try:
        path = state.save_upload(upload.getvalue(), upload.name)
        units = cache.load_units(state.units_source(sel))
        plan = read_plan_file(path, prefecture=sel.prefecture, units=units)
    except GridPlanError as exc:
        show_error(exc, upload=True)
        return
    note = t("change.imported", lang(), name=upload.name[:80])
    if mode == "version":
        scenarios.save_plan_as_version(sel, plan, note)
        state.add_store_notice("success", tr("scn_imported_version", file=upload.name[:80]))
    else:
        name = _imported_name(plan, upload.name)
        if scenarios.create_scenario(sel.prefecture, name, plan, note) is not None:
            state.add_store_notice("success", tr("scn_imported_new", name=name))
    st.rerun()


def _imported_name(plan: GridPlan, filename: str) -> str:
    return f"{plan.name.get(lang()) or filename[:80]} · {scenarios.now_text()}"
