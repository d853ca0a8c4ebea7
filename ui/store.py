"""The dashboard's side of the scenario store: open, autosave, undo and redo, links.

Every edit of a plan or its facilities (``state.set_plan``, ``state.edit_facilities``
...) is recorded in the session; :func:`autosave` writes the recorded edits as
the scenario's next version after the page has run (and at the start of the
next run, when a panel reran the script right after its edit).  The first
edit of a preset's plan creates a scenario from it, so the preset itself
stays as it is.  The URL carries the scenario and the version shown
(``?scenario=12&version=5``), so a refresh or a second tab opens the same
state; a read-only link carries a secret token instead (``?view=…``).
Undo and redo move between versions without writing one; the next edit is
saved on top of the version shown.  When the store cannot be reached the
dashboard goes on with the edits in the session and says so.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st

from gridplan import settings, workflow
from gridplan.errors import GridPlanError, StoreError
from gridplan.facilities.edits import apply_edits, edits_against, facility_changes
from gridplan.i18n import t
from gridplan.plan.changes import describe, plan_changes
from gridplan.plan.grids import GridPlan
from gridplan.store import STORE_ENV, Snapshot, Store, open_store
from ui import cache, state
from ui.panels.common import error_message
from ui.state import Selection, lang, scenario_choice
from ui.texts import tr

#: Query parameters of a link: the scenario, its version, a read-only link's token.
Q_SCENARIO, Q_VERSION, Q_VIEW = "scenario", "version", "view"


@st.cache_resource(show_spinner=False, max_entries=4)
def _open(location: str) -> Store:
    opened = open_store(location or None)
    # once per server process: scenarios deleted longer ago than the grace period go for good
    opened.purge()
    return opened


def store() -> Store:
    """The scenario store of this server (``$GRIDPLAN_STORE``, else the user's data folder)."""
    return _open(os.environ.get(STORE_ENV, ""))


def _notice_error(exc: BaseException) -> None:
    state.add_store_notice("error", error_message(exc))


# --- what a version holds -------------------------------------------------------------------


def _uploads(sel: Selection) -> list[dict[str, Any]]:
    """References to the files this session's units and surface were built from."""
    refs = []
    source = state.units_source(sel)
    surface = state.surface_file()
    for kind, path in (
        ("township", source.township_path),
        ("population", source.population_path),
        ("surface", None if surface is None else surface.path),
        ("roads", state.roads_path()),
        ("landcover", state.raster_path("landcover")),
        ("dem", state.raster_path("dem")),
    ):
        if path is None:
            continue
        file = Path(path)
        refs.append(
            {
                "kind": kind,
                "name": state.shown_text(file.name),
                "content_id": file.stem[:32],  # the first 128 bits of its SHA-256
                "bytes": file.stat().st_size if file.is_file() else None,
            }
        )
    return refs


def payload(sel: Selection, plan: GridPlan) -> dict[str, Any]:
    """What a version of this session's plan holds (see :mod:`gridplan.store.payload`)."""
    edits: dict[str, Any] = {}
    if state.has_facilities(sel):
        default = cache.default_facilities(state.units_source(sel))
        edits = edits_against(default, state.facilities(sel, lambda: default))
    return {
        "plan": plan.to_dict(),
        "facility_edits": edits,
        "uploads": _uploads(sel),
        "settings": state.analysis_settings(),
    }


def _show_snapshot(sel: Selection, snap: Snapshot) -> None:
    """Put a stored version into the session's plan slot of ``sel``."""
    body = snap.payload
    # the store checked the plan when it was written (gridplan.store.payload)
    state.set_plan(sel, GridPlan.from_dict(body["plan"]), edit=False)
    edits = body.get("facility_edits", {})
    state.forget_facilities(sel, edit=False)
    if edits:
        try:
            default = cache.default_facilities(state.units_source(sel))
            state.set_facilities(sel, apply_edits(default, edits), edit=False)
        except GridPlanError as exc:
            _notice_error(exc)
    state.restore_analysis_settings(body.get("settings", {}))
    here = {u["content_id"] for u in _uploads(sel)}
    missing = [
        str(u.get("name", ""))
        for u in body.get("uploads", [])
        if isinstance(u, dict) and u.get("content_id") not in here
    ]
    if missing:
        state.add_store_notice("warning", tr("store_uploads_not_kept", names="、".join(missing)))
    state.mark_saved(sel)
    state.set_loaded_version(sel, snap.version.number)
    state.set_versions(snap.scenario.id, snap.version.number, snap.scenario.versions)


def ensure_loaded(sel: Selection) -> Selection:
    """The stored scenario of ``sel`` in the session (read once per version shown).

    A scenario that is gone (deleted, or another store) is said and the
    prefecture's first preset is shown instead.
    """
    sid = sel.scenario_id
    if sid is None:
        return sel
    wanted = state.shown_version(sid)
    if state.loaded_version(sel) is not None and state.loaded_version(sel) == wanted:
        return sel
    try:
        snap = store().get(sid, wanted)
    except GridPlanError as exc:
        _notice_error(exc)
        state.forget_plan(sel)
        first = cache.presets_of(sel.prefecture)[0]
        state.choose_plan(sel.prefecture, first)
        return Selection(sel.prefecture, first)
    _show_snapshot(sel, snap)
    return sel


# --- saving -------------------------------------------------------------------------------


def _edit_note(sel: Selection) -> str:
    units = cache.load_units(state.units_source(sel))
    names = dict(zip(units.units["unit_id"].astype(str), units.units["name"], strict=False))
    changes = []
    for kind, old, new in state.unsaved_edits(sel):
        if kind == "plan":
            changes.extend(plan_changes(old, new, names))
        else:
            changes.append(facility_changes(old, new))
    return describe(changes, lang())


def _new_name(sel: Selection) -> str:
    return f"{_template_name(sel)} · {now_text()}"


def _create_from_template(sel: Selection, body: dict[str, Any]) -> int:
    """A new scenario whose version 1 is the template as it was chosen (so 撤销 goes back to
    it); the first edit is then saved as version 2."""
    units = cache.load_units(state.units_source(sel))
    template = workflow.starting_plan(sel.preset_id, units)
    first = {**body, "plan": template.to_dict(), "facility_edits": {}}
    note = t("change.from_template", lang(), name=_template_name(sel))
    sid, _ = store().create(_new_name(sel), sel.prefecture, first, author=state.author(), note=note)
    return sid


def _template_name(sel: Selection) -> str:
    from ui.sidebar import preset_label  # the sidebar names presets; it imports this module

    return preset_label(sel.preset)


def autosave(sel: Selection) -> Selection:
    """Save the edits of ``sel`` made since the last save as a new version; the selection
    now shown (a preset's plan becomes a new scenario on its first edit)."""
    if not state.unsaved_edits(sel):
        return sel
    if state.read_only() is not None:
        state.mark_saved(sel)
        return sel
    plan = state.session_plan(sel)
    if plan is None:
        return sel
    body, note = payload(sel, plan), _edit_note(sel)
    try:
        if sel.scenario_id is None:
            sid = _create_from_template(sel, body)
            number = store().add_version(sid, body, author=state.author(), note=note)
            sel = state.move_plan(sel, scenario_choice(sid))
            state.set_stacks(sid, [1], [])
        else:
            sid, number = sel.scenario_id, _add_version(sel.scenario_id, body, note)
    except GridPlanError as exc:
        _notice_error(exc)  # the edits stay in the session and are tried again on the next one
        return sel
    state.mark_saved(sel)
    state.set_loaded_version(sel, number)
    state.set_versions(sid, number, number)
    return sel


def _add_version(sid: int, body: dict[str, Any], note: str) -> int:
    shown, latest = state.shown_version(sid), state.latest_seen(sid)
    author = state.author()
    try:
        number = store().add_version(sid, body, author=author, note=note, base_version=latest)
    except StoreError as exc:
        if exc.code != "store.conflict":
            raise
        # someone saved meanwhile: keep both, theirs stays in the history, ours goes on top
        number = store().add_version(sid, body, author=author, note=note)
        state.add_store_notice(
            "warning", tr("store_saved_over", theirs=exc.params["latest"], ours=number)
        )
    undo = state.undo_stack(sid)
    if shown is not None:
        undo.append(shown)
    state.set_stacks(sid, undo, [])
    return number


def shown_selection() -> Selection:
    """The prefecture and plan the sidebar shows (nothing read or applied: after the page)."""
    return state.selection(cache.presets_of)


def autosave_pending() -> None:
    """Save every plan of the session with edits not yet saved (a panel reran the script
    right after its edit, before :func:`autosave` at the end of the page could run)."""
    for sel in state.plans_with_unsaved_edits():
        autosave(sel)


# --- moving between versions --------------------------------------------------------------


def go_to_version(sel: Selection, number: int, *, undo: list[int], redo: list[int]) -> None:
    """Show version ``number`` of the scenario (nothing is written)."""
    sid = sel.scenario_id
    if sid is None:
        return
    try:
        snap = store().get(sid, number)
    except GridPlanError as exc:
        _notice_error(exc)
        return
    _show_snapshot(sel, snap)
    state.set_stacks(sid, undo, redo)


def undo(sel: Selection) -> None:
    """Back to the version shown before the last edit (or the one before, after a refresh)."""
    sid = sel.scenario_id
    shown = None if sid is None else state.shown_version(sid)
    if sid is None or shown is None:
        return
    back = state.undo_stack(sid)
    target = back.pop() if back else shown - 1
    if target >= 1:
        go_to_version(sel, target, undo=back, redo=[*state.redo_stack(sid), shown])


def redo(sel: Selection) -> None:
    """Forward again to the version undone last."""
    sid = sel.scenario_id
    shown = None if sid is None else state.shown_version(sid)
    if sid is None or shown is None or not state.redo_stack(sid):
        return
    forward = state.redo_stack(sid)
    target = forward.pop()
    go_to_version(sel, target, undo=[*state.undo_stack(sid), shown], redo=forward)


def can_undo(sel: Selection) -> bool:
    sid = sel.scenario_id
    shown = None if sid is None else state.shown_version(sid)
    return sid is not None and shown is not None and (bool(state.undo_stack(sid)) or shown > 1)


def can_redo(sel: Selection) -> bool:
    return sel.scenario_id is not None and bool(state.redo_stack(sel.scenario_id))


def restore_version(sel: Selection, number: int) -> None:
    """Make version ``number`` the latest again (saved as a new version; nothing is lost)."""
    sid = sel.scenario_id
    if sid is None:
        return
    try:
        snap = store().get(sid, number)
        new = store().add_version(
            sid,
            snap.payload,
            author=state.author(),
            note=t("change.restored", lang(), version=number),
        )
        _show_snapshot(sel, store().get(sid, new))
        state.set_stacks(sid, [*state.undo_stack(sid), state.shown_version(sid) or 1], [])
    except GridPlanError as exc:
        _notice_error(exc)


# --- opening from a link --------------------------------------------------------------------


def open_from_url() -> None:
    """At a session's start: open the scenario (and version) its URL names.

    ``?scenario=ID[&version=N]`` opens it for editing, ``?view=TOKEN[&version=N]`` read-only.
    A link that does not work is said and the session starts on its defaults.
    """
    if state.url_read():
        return
    state.set_url_read()
    params = st.query_params
    token, sid_text = params.get(Q_VIEW), params.get(Q_SCENARIO)
    if not token and not sid_text:
        return
    try:
        if token:
            info = store().by_view_token(token)
            state.set_read_only(token)
        else:
            info = store().info(int(str(sid_text)) if str(sid_text).isdigit() else -1)
    except GridPlanError as exc:
        _notice_error(exc)
        return
    version = params.get(Q_VERSION)
    open_scenario(info.prefecture, info.id, int(version) if version and version.isdigit() else None)


def sync_url(sel: Selection) -> None:
    """Write the scenario and version shown into the URL (what a refresh or a copy reopens)."""
    sid = sel.scenario_id
    shown = None if sid is None else state.shown_version(sid)
    token = state.read_only()
    if token is not None:
        wanted = {Q_VIEW: token, Q_VERSION: str(shown)} if shown else {Q_VIEW: token}
    elif sid is not None and shown is not None:
        wanted = {Q_SCENARIO: str(sid), Q_VERSION: str(shown)}
    else:
        wanted = {}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def share_links(sel: Selection) -> tuple[str, str] | None:
    """The editing and read-only links of the scenario shown (query parts: ``?scenario=…``)."""
    sid = sel.scenario_id
    shown = None if sid is None else state.shown_version(sid)
    if sid is None or shown is None:
        return None
    try:
        token = store().view_token(sid)
    except GridPlanError as exc:
        _notice_error(exc)
        return None
    return (
        f"?{Q_SCENARIO}={sid}&{Q_VERSION}={shown}",
        f"?{Q_VIEW}={token}&{Q_VERSION}={shown}",
    )


def base_url() -> str:
    """The address this page was opened at, without its query (for links to copy)."""
    url = str(getattr(st.context, "url", "") or "")
    return url.split("?", 1)[0]


# --- managing scenarios (the 方案管理 page) --------------------------------------------------


def open_scenario(prefecture: str, scenario_id: int, version: int | None = None) -> None:
    """Show a stored scenario (at ``version``, else its latest) on every page."""
    sel = Selection(prefecture, scenario_choice(scenario_id))
    state.forget_plan(sel)  # read it afresh: someone may have saved since
    try:
        snap = store().get(scenario_id, version)
    except GridPlanError as exc:
        _notice_error(exc)
        return
    state.choose_plan(prefecture, sel.preset)
    _show_snapshot(sel, snap)
    state.set_stacks(scenario_id, [], [])


def create_scenario(
    prefecture: str, name: str, plan: GridPlan, note: str, body: dict[str, Any] | None = None
) -> int | None:
    """Store a new scenario from ``plan`` (or a whole version ``body``) and open it; its id
    (``None`` when it could not be stored: the reason is shown)."""
    first = dict(body) if body is not None else {"plan": plan.to_dict()}
    first.setdefault("settings", state.analysis_settings())
    try:
        sid, _ = store().create(name, prefecture, first, author=state.author(), note=note)
    except GridPlanError as exc:
        _notice_error(exc)
        return None
    open_scenario(prefecture, sid)
    return sid


def duplicate(scenario_id: int, name: str) -> int | None:
    """A copy of the scenario's latest version as a new scenario, opened."""
    try:
        snap = store().get(scenario_id)
    except GridPlanError as exc:
        _notice_error(exc)
        return None
    note = t("change.copied", lang(), name=snap.scenario.name)
    plan = GridPlan.from_dict(snap.payload["plan"])
    return create_scenario(snap.scenario.prefecture, name, plan, note, snap.payload)


def branch(scenario_id: int, version: int, name: str) -> int | None:
    """A new scenario starting from version ``version`` of this one, opened."""
    try:
        snap = store().get(scenario_id, version)
    except GridPlanError as exc:
        _notice_error(exc)
        return None
    note = t("change.branched", lang(), name=snap.scenario.name, version=version)
    plan = GridPlan.from_dict(snap.payload["plan"])
    return create_scenario(snap.scenario.prefecture, name, plan, note, snap.payload)


def save_plan_as_version(sel: Selection, plan: GridPlan, note: str) -> None:
    """Replace the plan shown by ``plan`` as the scenario's next version (an import)."""
    state.set_plan(sel, plan, edit=False)
    state.mark_saved(sel)
    if sel.scenario_id is None:
        return
    try:
        number = _add_version(sel.scenario_id, payload(sel, plan), note)
    except GridPlanError as exc:
        _notice_error(exc)
        return
    state.set_loaded_version(sel, number)
    state.set_versions(sel.scenario_id, number, number)


def rename(scenario_id: int, name: str, note: str | None = None) -> bool:
    """Rename the scenario (and set its note); whether it worked (else the reason is shown)."""
    try:
        store().rename(scenario_id, name, note=note)
    except GridPlanError as exc:
        _notice_error(exc)
        return False
    return True


def delete(sel: Selection, scenario_id: int) -> None:
    """Delete the scenario (recoverable); if it is shown, show its prefecture's template."""
    try:
        store().delete(scenario_id)
    except GridPlanError as exc:
        _notice_error(exc)
        return
    if sel.scenario_id == scenario_id:
        state.forget_plan(sel)
        state.choose_plan(sel.prefecture, cache.presets_of(sel.prefecture)[0])


def restore_deleted(scenario_id: int) -> None:
    """Bring a deleted scenario back."""
    try:
        store().restore(scenario_id)
    except GridPlanError as exc:
        _notice_error(exc)


def now_text() -> str:
    """The local time to the minute, as new scenarios' names carry it."""
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")


def purge_days() -> float:
    """Days a deleted scenario can still be brought back."""
    return float(settings.store_purge_after_days)
