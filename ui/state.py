"""Session state, sidebar choices and cached data loaders shared by all pages."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from gridplan import workflow
from gridplan.inputs.boundaries import list_prefectures, resolve_prefecture
from gridplan.plan.grids import GridPlan, list_presets, preset_prefecture
from gridplan.plan.units import UnitSet, display_geometry
from gridplan.workflow import UnitsSource
from ui.texts import tr

DEFAULT_PREFECTURE = "130100"
PER_UNIT = "per_unit"
UPLOAD_DIR = Path(tempfile.gettempdir()) / "gridplan_uploads"


@st.cache_data(show_spinner=False)
def prefecture_options() -> pd.DataFrame:
    return list_prefectures()


@st.cache_data(show_spinner=False)
def preset_index() -> dict[str, str]:
    """Preset id → prefecture adcode."""
    return {p: preset_prefecture(p) for p in list_presets()}


@st.cache_resource(show_spinner=False, max_entries=16)
def load_units(source: UnitsSource) -> UnitSet:
    """Planning units, cached on file paths (uploads are stored by content hash)."""
    return workflow.load_units(source)


@st.cache_resource(show_spinner=False, max_entries=16)
def load_display_geometry(source: UnitsSource) -> gpd.GeoSeries:
    """Simplified unit polygons for the web map, cached with the units."""
    return display_geometry(load_units(source))


def save_upload(data: bytes, filename: str) -> Path:
    """Store an upload under its content hash so it can serve as a cache key."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = UPLOAD_DIR / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(filename).name
    if not path.exists():
        path.write_bytes(data)
    return path


@dataclass
class Selection:
    prefecture: str
    preset: str


def _persistent(widget, store_key: str, default: str, options: list[str], on_change=None, **kwargs):  # type: ignore[no-untyped-def]
    """Draw a widget whose value survives page switches and label changes.

    Streamlit may drop or reset a widget's state when the page changes or its
    label changes with the language, so the value lives under ``store_key``:
    the widget's change callback copies it there, and it is copied back into
    the widget's own key before each draw (Streamlit's documented pattern).
    """
    wkey = f"w_{store_key}"

    def sync() -> None:
        st.session_state[store_key] = st.session_state[wkey]
        if on_change is not None:
            on_change()

    value = st.session_state.get(store_key, default)
    if value not in options:
        value = default if default in options else options[0]
    st.session_state[store_key] = st.session_state[wkey] = value
    return widget(options=options, key=wkey, on_change=sync, **kwargs)


def _forget_prefecture_data() -> None:
    for k in ("preset", "township_path", "population_path", "township_datum", "upload_report"):
        st.session_state.pop(k, None)


def sidebar() -> Selection:
    """Language, prefecture and preset choosers; kept across pages in session state."""
    _persistent(
        st.sidebar.radio,
        "lang",
        "zh",
        ["zh", "en"],
        label=tr("language"),
        horizontal=True,
        format_func=lambda x: "中文" if x == "zh" else "English",
    )
    prefs = prefecture_options()
    labels = {r.adcode: f"{r.name}（{r.province}）" for r in prefs.itertuples()}
    pref = _persistent(
        st.sidebar.selectbox,
        "prefecture",
        DEFAULT_PREFECTURE,
        list(labels),
        on_change=_forget_prefecture_data,
        label=tr("prefecture"),
        format_func=lambda a: labels.get(a, a),
    )
    presets = [p for p, a in preset_index().items() if a == pref] + [PER_UNIT]
    preset = _persistent(
        st.sidebar.selectbox,
        "preset",
        presets[0],
        presets,
        label=tr("preset"),
        format_func=preset_label,
    )
    return Selection(prefecture=str(pref), preset=str(preset))


def preset_label(preset_id: str) -> str:
    if preset_id == PER_UNIT:
        return tr("preset_per_unit")
    plan = GridPlan.from_preset(preset_id)
    return plan.name.get(st.session_state.get("lang", "zh"), plan.name.get("zh", preset_id))


def units_source(sel: Selection) -> UnitsSource:
    """Where the units of the sidebar's prefecture come from (the uploads of this session)."""
    return UnitsSource(
        sel.prefecture,
        st.session_state.get("township_path"),
        st.session_state.get("township_datum", "wgs84"),
        st.session_state.get("population_path"),
    )


def current_units(sel: Selection) -> UnitSet:
    return load_units(units_source(sel))


def current_display_geometry(sel: Selection) -> gpd.GeoSeries:
    return load_display_geometry(units_source(sel))


def current_plan(sel: Selection, units: UnitSet) -> GridPlan:
    """The plan being edited for this prefecture and preset (created on first use)."""
    plans: dict[tuple[str, str], GridPlan] = st.session_state.setdefault("plans", {})
    key = (sel.prefecture, sel.preset)
    if key not in plans:
        plans[key] = original_plan(sel, units)
    return plans[key]


def original_plan(sel: Selection, units: UnitSet) -> GridPlan:
    return workflow.starting_plan(None if sel.preset == PER_UNIT else sel.preset, units)


def set_plan(sel: Selection, plan: GridPlan) -> None:
    st.session_state.setdefault("plans", {})[(sel.prefecture, sel.preset)] = plan
    st.session_state["plan_version"] = st.session_state.get("plan_version", 0) + 1


def prefecture_name(adcode: str) -> str:
    return resolve_prefecture(adcode).name


def selection() -> Selection:
    """The prefecture and preset chosen in the sidebar (app.py draws it).

    Falls back to the defaults the sidebar would choose, so a page also runs on
    its own (as AppTest runs it).
    """
    pref = str(st.session_state.get("prefecture", DEFAULT_PREFECTURE))
    presets = [p for p, a in preset_index().items() if a == pref] + [PER_UNIT]
    preset = st.session_state.get("preset")
    return Selection(prefecture=pref, preset=str(preset if preset in presets else presets[0]))


def copy_plan(plan: GridPlan) -> GridPlan:
    return GridPlan.from_dict(plan.to_dict())
