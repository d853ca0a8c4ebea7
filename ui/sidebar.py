"""The sidebar every page shares: language, prefecture and grid plan."""

from __future__ import annotations

import streamlit as st

from gridplan.plan.grids import GridPlan
from ui import cache, state
from ui.panels.picker import prefecture_labels
from ui.state import PER_UNIT, Key, Selection
from ui.texts import tr

#: Each language named in itself (the radio reads the same in both languages).
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def sidebar() -> Selection:
    """Language, prefecture and preset choosers; kept across pages in session state."""
    state.persistent(
        st.sidebar.radio,
        Key.LANG,
        state.DEFAULT_LANG,
        list(LANGUAGE_NAMES),
        label=tr("language"),
        horizontal=True,
        format_func=LANGUAGE_NAMES.get,
    )
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
    preset = state.persistent(
        st.sidebar.selectbox,
        Key.PRESET,
        presets[0],
        presets,
        label=tr("preset"),
        format_func=preset_label,
    )
    return Selection(prefecture=str(pref), preset=str(preset))


def preset_label(preset_id: str) -> str:
    """A preset's name in the UI language ("one grid per unit" for the starting plan)."""
    if preset_id == PER_UNIT:
        return tr("preset_per_unit")
    plan = GridPlan.from_preset(preset_id)
    return plan.name.get(state.lang(), plan.name.get("zh", preset_id))
