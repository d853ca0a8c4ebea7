"""The sidebar every page shares: language, prefecture, the plan (a stored scenario or a
preset to start one from), and the scenario's status with undo, redo and its links."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from gridplan.errors import GridPlanError
from gridplan.plan.grids import GridPlan
from ui import cache, state, timing
from ui import store as scenarios
from ui.edits import STATUS_FRAGMENT
from ui.panels.common import error_message
from ui.panels.picker import prefecture_labels
from ui.state import PER_UNIT, Key, Selection, scenario_choice, scenario_choice_id
from ui.texts import md_text, tr

#: Each language named in itself (the radio reads the same in both languages).
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def sidebar() -> Selection:
    """Language, prefecture and plan choosers; kept across pages in session state.

    A read-only link shows its scenario only: no chooser, nothing to edit.
    """
    state.persistent(
        st.sidebar.radio,
        Key.LANG,
        state.DEFAULT_LANG,
        list(LANGUAGE_NAMES),
        label=tr("language"),
        horizontal=True,
        format_func=LANGUAGE_NAMES.get,
    )
    state.persistent_flag(
        st.sidebar.toggle, Key.PRESENTATION, label=tr("presentation"), help=tr("presentation_help")
    )
    if state.read_only() is not None:
        return state.selection(cache.presets_of)
    labels = prefecture_labels()  # name, province, pinyin: type "nj" or "nanjing" to find 南京市
    pref = state.persistent(
        st.sidebar.selectbox,
        Key.PREFECTURE,
        state.DEFAULT_PREFECTURE,
        list(labels),
        on_change=state.forget_prefecture_data,
        label=tr("prefecture"),
        help=tr("prefecture_help"),
        format_func=lambda a: labels.get(a, a),
    )
    presets = cache.presets_of(str(pref))
    stored = stored_scenarios(str(pref))
    preset = state.persistent(
        st.sidebar.selectbox,
        Key.PRESET,
        presets[0],
        [*stored, *presets],
        label=tr("preset"),
        help=tr("preset_help"),
        format_func=plan_choice_label(stored),
    )
    return Selection(prefecture=str(pref), preset=str(preset))


def stored_scenarios(prefecture: str) -> dict[str, str]:
    """The prefecture's stored scenarios, newest first: plan choice → name (empty when the
    store cannot be read; the page says why)."""
    try:
        found = scenarios.store().list_scenarios()
    except GridPlanError as exc:
        state.add_store_notice("error", error_message(exc))
        return {}
    return {scenario_choice(s.id): s.name for s in found if s.prefecture == prefecture}


def plan_choice_label(stored: dict[str, str]) -> Callable[[str], str]:
    """How the plan chooser names a stored scenario and a preset."""

    def label(choice: str) -> str:
        if choice in stored:
            return tr("scenario_choice", name=stored[choice])
        if scenario_choice_id(choice) is not None:
            return tr("scenario_choice", name=choice)
        return tr("template_choice", name=preset_label(choice))

    return label


def preset_label(preset_id: str) -> str:
    """A preset's name in the UI language ("one grid per unit" for the starting plan)."""
    if preset_id == PER_UNIT:
        return tr("preset_per_unit")
    sid = scenario_choice_id(preset_id)
    if sid is not None:
        try:
            return tr("scenario_choice", name=scenarios.store().info(sid).name)
        except GridPlanError:
            return tr("scenario_choice", name=f"#{sid}")
    plan = GridPlan.from_preset(preset_id)
    return plan.name.get(state.lang(), plan.name.get("zh", preset_id))


@st.fragment(key=STATUS_FRAGMENT)
def status_fragment(box: st.delta_generator.DeltaGenerator) -> None:
    """The scenario's status in ``box``, its URL kept in step (a fragment: an edit of the
    grids page redraws it with the page's plan, not the whole page; see :mod:`ui.edits`)."""
    with timing.timed("fragment:status"):
        sel = scenarios.shown_selection()
        scenarios.sync_url(sel)
        scenario_status(box, sel)


def _undo(sel: Selection) -> None:
    scenarios.undo(sel)
    st.rerun()  # the page shows the version gone back to


def _redo(sel: Selection) -> None:
    scenarios.redo(sel)
    st.rerun()


def scenario_status(box: st.delta_generator.DeltaGenerator, sel: Selection) -> None:
    """The plan's save status, undo and redo, and its links (drawn after the page ran, so
    it shows the version the page's edits were saved as)."""
    with box.container():
        for kind, text in state.store_notices():
            getattr(st, kind)(md_text(text))
        sid = sel.scenario_id
        shown = None if sid is None else state.shown_version(sid)
        if state.read_only() is not None:
            st.info(tr("read_only_banner", version=shown or "—"))
            return
        if sid is None or shown is None:
            st.caption(tr("store_template_note"))
        else:
            latest = state.latest_seen(sid) or shown
            st.caption(tr("store_status", version=shown, latest=latest))
        c1, c2 = st.columns(2)
        c1.button(
            tr("undo"), on_click=_undo, args=(sel,), disabled=not scenarios.can_undo(sel),
            key="store_undo", width="stretch",
        )  # fmt: skip
        c2.button(
            tr("redo"), on_click=_redo, args=(sel,), disabled=not scenarios.can_redo(sel),
            key="store_redo", width="stretch",
        )  # fmt: skip
        state.persistent_text(st.text_input, Key.AUTHOR, label=tr("author"), help=tr("author_help"))
        links = scenarios.share_links(sel) if shown is not None else None
        if links is not None:
            with st.expander(tr("share_links")):
                base = scenarios.base_url()
                st.caption(tr("share_edit"))
                st.code(base + links[0], language=None)
                st.caption(tr("share_view"))
                st.code(base + links[1], language=None)
