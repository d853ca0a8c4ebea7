"""Everything the dashboard keeps in Streamlit's session state, behind named accessors.

This module is the only one that reads or writes ``st.session_state`` (a test
checks it): every key is a member of :class:`Key`, pages and panels call the
accessors below.  Values that other code caches on are returned as frozen
dataclasses (:class:`~gridplan.workflow.UnitsSource`,
:class:`~gridplan.workflow.SurfaceSpec`, :class:`UploadedFile`); edits that
must redraw an editor widget bump its version here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pandas as pd
import streamlit as st

from gridplan.i18n import LANGS, Lang
from gridplan.plan.grids import GridPlan
from gridplan.workflow import ModelSpec, SurfaceSpec, UnitsSource
from ui.uploads import SessionFolder

if TYPE_CHECKING:
    from gridplan.regions.instance import Proposal
    from gridplan.siting.study import SitingStudy

DEFAULT_PREFECTURE = "130100"
DEFAULT_LANG: Lang = "zh"
#: The preset choice "one grid per county-level unit" (the starting plan).
PER_UNIT = "per_unit"
#: A plan choice that is a stored scenario: ``scn:<id>``.
SCENARIO_PREFIX = "scn:"

T = TypeVar("T")


class Key(StrEnum):
    """Every session-state key of the dashboard (the values are the keys' names)."""

    LANG = "lang"
    PREFECTURE = "prefecture"
    PRESET = "preset"
    # the prefecture's uploads (grids page): township layer, population table
    TOWNSHIP_PATH = "township_path"
    TOWNSHIP_DATUM = "township_datum"
    POPULATION_PATH = "population_path"
    POPULATION_ACCEPTED = "population_accepted"
    POPULATION_PENDING = "population_pending"
    UPLOAD_REPORT = "upload_report"
    # population surface and model inputs (15-minute and siting pages)
    SURFACE_PATH = "surface_path"
    SURFACE_DATUM = "surface_datum"
    SURFACE_ACCEPTED = "surface_accepted"
    SURFACE_PENDING = "surface_pending"
    ROADS_PATH = "roads_path"
    LANDCOVER_PATH = "landcover_path"
    DEM_PATH = "dem_path"
    # what the planner edits: plans per (prefecture, preset), facilities per prefecture
    PLANS = "plans"
    PLAN_VERSION = "plan_version"
    FACILITIES = "facilities"
    FACILITY_VERSION = "fac_version"
    FACILITY_REJECTED = "fac_rejected"
    # answers kept between runs
    SITING_FILES = "siting_files"
    SITING_STUDY = "siting_study"
    SITING_RUN = "sit_run_no"
    PROPOSAL = "proposal"
    # a widget of the 15-minute page the siting page starts from
    COVERAGE_CELL = "acc_cell"
    # the session's private upload folder, and the uploads found gone from it
    UPLOAD_FOLDER = "upload_folder"
    VANISHED = "vanished_uploads"
    # the scenario store: versions shown and last seen, undo/redo, the edits waiting to be saved
    SHOWN_VERSION = "shown_version"
    LATEST_SEEN = "latest_seen"
    UNDO = "undo"
    REDO = "redo"
    UNSAVED = "unsaved"
    LOADED = "loaded_versions"
    READ_ONLY = "read_only"
    AUTHOR = "author"
    URL_READ = "url_read"
    STORE_NOTICES = "store_notices"
    ANALYSIS = "analysis"
    SETTINGS_PENDING = "settings_pending"
    # each map's chosen view (whole prefecture or urban core) and how often it was asked for
    MAP_VIEWS = "map_views"
    # the sidebar's presentation mode (meeting layout: map first, controls folded away)
    PRESENTATION = "presentation"
    # the national overview's uploaded batch table (kept when a later upload is refused)
    NATIONAL_UPLOAD = "national_upload"


#: What the grids page's "clear uploads" forgets: the township layer and population table
#: the planning units are built from (back to the embedded boundaries and census).
UPLOAD_KEYS: tuple[Key, ...] = (
    Key.TOWNSHIP_PATH,
    Key.TOWNSHIP_DATUM,
    Key.POPULATION_PATH,
    Key.POPULATION_ACCEPTED,
    Key.POPULATION_PENDING,
    Key.UPLOAD_REPORT,
)
#: What a change of prefecture forgets: every file drawn on the old prefecture's territory,
#: those uploads and the population surface, roads, land cover, elevation and siting files.
PREFECTURE_FILE_KEYS: tuple[Key, ...] = (
    *UPLOAD_KEYS,
    Key.SURFACE_PATH,
    Key.SURFACE_DATUM,
    Key.SURFACE_ACCEPTED,
    Key.SURFACE_PENDING,
    Key.ROADS_PATH,
    Key.LANDCOVER_PATH,
    Key.DEM_PATH,
    Key.SITING_FILES,
)


def _get(key: Key, default: T) -> T:
    return st.session_state.get(key, default)


def _set(key: Key, value: Any) -> None:
    st.session_state[key] = value


def _slots(key: Key) -> dict[Any, Any]:
    """The dictionary kept under ``key`` (an empty one if there is none yet)."""
    found = _get(key, None)
    return found if isinstance(found, dict) else {}


def _bump(key: Key) -> None:
    _set(key, _get(key, 0) + 1)


# --- language and sidebar choices ---------------------------------------------------------


def lang() -> Lang:
    """Current UI language (``zh`` by default)."""
    value = _get(Key.LANG, DEFAULT_LANG)
    return cast(Lang, value) if value in LANGS else DEFAULT_LANG


@dataclass(frozen=True)
class Selection:
    """The prefecture (adcode) and preset chosen in the sidebar."""

    prefecture: str
    preset: str

    @property
    def preset_id(self) -> str | None:
        """The preset, ``None`` for one grid per county-level unit or a stored scenario."""
        return None if self.preset == PER_UNIT or self.scenario_id is not None else self.preset

    @property
    def scenario_id(self) -> int | None:
        """The stored scenario chosen, ``None`` for a preset (a plan not saved yet)."""
        return scenario_choice_id(self.preset)


def scenario_choice(scenario_id: int) -> str:
    """The plan choice of a stored scenario."""
    return f"{SCENARIO_PREFIX}{int(scenario_id)}"


def scenario_choice_id(choice: str) -> int | None:
    """The scenario id of a plan choice (``None`` if it is a preset)."""
    if not choice.startswith(SCENARIO_PREFIX):
        return None
    digits = choice[len(SCENARIO_PREFIX) :]
    return int(digits) if digits.isdigit() else None


def persistent(
    widget: Callable[..., Any],
    key: Key,
    default: str,
    options: list[str],
    on_change: Callable[[], None] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw a widget whose value survives page switches and label changes.

    Streamlit may drop or reset a widget's state when the page changes or its
    label changes with the language, so the value lives under ``key``: the
    widget's change callback copies it there, and it is copied back into the
    widget's own key before each draw (Streamlit's documented pattern).
    """
    wkey = f"w_{key}"

    def sync() -> None:
        st.session_state[key] = st.session_state[wkey]
        if on_change is not None:
            on_change()

    value = _get(key, default)
    if value not in options:
        value = default if default in options else options[0]
    st.session_state[key] = st.session_state[wkey] = value
    return widget(options=options, key=wkey, on_change=sync, **kwargs)


def selection(presets_of: Callable[[str], list[str]]) -> Selection:
    """The prefecture and preset chosen in the sidebar (``app.py`` draws it).

    Falls back to the defaults the sidebar would choose, so a page also runs
    on its own (as AppTest runs it).  ``presets_of`` lists a prefecture's
    presets, :data:`PER_UNIT` last.
    """
    pref = str(_get(Key.PREFECTURE, DEFAULT_PREFECTURE))
    presets = presets_of(pref)
    preset = _get(Key.PRESET, None)
    if isinstance(preset, str) and scenario_choice_id(preset) is not None:
        return Selection(prefecture=pref, preset=preset)
    return Selection(prefecture=pref, preset=str(preset if preset in presets else presets[0]))


def choose_prefecture(adcode: str) -> None:
    """The planner picked ``adcode`` outside the sidebar (the overview's national picker)."""
    if _get(Key.PREFECTURE, DEFAULT_PREFECTURE) != adcode:
        _set(Key.PREFECTURE, adcode)
        forget_prefecture_data()


def forget_prefecture_data() -> None:
    """A new prefecture: its preset and every file drawn on the previous one no longer apply."""
    for key in (Key.PRESET, *PREFECTURE_FILE_KEYS):
        st.session_state.pop(key, None)


# --- uploads: files in the session's own folder ------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A stored upload, the offset datum its coordinates were declared in, and whether the
    planner confirmed its implausible figures."""

    path: str
    datum: str = "wgs84"
    accepted: bool = False


def upload_folder() -> SessionFolder:
    """This session's private upload folder, made on first use.

    The session holds the only reference: when Streamlit drops the session,
    the folder object is collected and the folder removed (see :mod:`ui.uploads`).
    """
    folder = _get(Key.UPLOAD_FOLDER, None)
    if not isinstance(folder, SessionFolder) or folder.closed:
        folder = SessionFolder()
        _set(Key.UPLOAD_FOLDER, folder)
    return folder


def save_upload(data: bytes, filename: str) -> Path:
    """Store an upload in the session's folder under a generated name; its path.

    ``filename`` (the name the planner uploaded) is kept for messages only
    (:func:`shown_text`); the same content stored twice is one file.
    """
    return upload_folder().save(data, filename)


def session_file(name: str) -> Path:
    """A path in the session's folder for a file the dashboard fetches (WorldPop, OSM roads)."""
    return upload_folder().file(name)


def shown_text(text: str) -> str:
    """``text`` with this session's stored file names replaced by the names uploaded."""
    folder = _get(Key.UPLOAD_FOLDER, None)
    return folder.shown(text) if isinstance(folder, SessionFolder) else text


#: What each kind of stored file takes with it when it is found gone from the disk.
STORED_FILES: dict[str, tuple[Key, ...]] = {
    "township": (Key.TOWNSHIP_PATH, Key.TOWNSHIP_DATUM, Key.UPLOAD_REPORT),
    "population": (Key.POPULATION_PATH, Key.UPLOAD_REPORT),
    "surface": (Key.SURFACE_PATH, Key.SURFACE_DATUM),
    "roads": (Key.ROADS_PATH,),
    "landcover": (Key.LANDCOVER_PATH,),
    "dem": (Key.DEM_PATH,),
}


def _gone(path: object) -> bool:
    return path is not None and not Path(str(path)).is_file()


def _vanished(kind: str) -> None:
    """Remember that an upload of ``kind`` was found gone (shown by :func:`vanished_uploads`)."""
    gone = list(_get(Key.VANISHED, []))
    if kind not in gone:
        gone.append(kind)
    _set(Key.VANISHED, gone)


def _stored_path(kind: str) -> str | None:
    """The stored file of ``kind``; ``None``, and the state forgotten, if it is gone."""
    keys = STORED_FILES[kind]
    path = _get(keys[0], None)
    if not _gone(path):
        return path
    for key in keys:
        st.session_state.pop(key, None)
    _vanished(kind)
    return None


def vanished_uploads() -> list[str]:
    """The kinds of stored upload found gone since last asked (their state is forgotten).

    Every stored path is checked here, so a page that asks first says so before
    anything tries to read a file the temporary folder no longer has.
    """
    for kind in STORED_FILES:
        _stored_path(kind)
    files: dict[tuple[str, str], UploadedFile] = _get(Key.SITING_FILES, {})
    for level, kind in [k for k, up in files.items() if _gone(up.path)]:
        set_siting_file(level, kind, None)
        _vanished(f"siting_{kind}")
    return list(st.session_state.pop(Key.VANISHED, []))


def units_source(sel: Selection) -> UnitsSource:
    """Where the units of the sidebar's prefecture come from (the uploads of this session)."""
    township, population = _stored_path("township"), _stored_path("population")
    return UnitsSource(
        sel.prefecture,
        township,
        _get(Key.TOWNSHIP_DATUM, "wgs84"),
        population,
        bool(_get(Key.POPULATION_ACCEPTED, False)),
    )


def keep_uploads(source: UnitsSource, report: list[str]) -> None:
    """Use the township layer and population table of ``source`` from now on."""
    _set(Key.TOWNSHIP_PATH, source.township_path)
    _set(Key.TOWNSHIP_DATUM, source.datum)
    _set(Key.POPULATION_PATH, source.population_path)
    _set(Key.POPULATION_ACCEPTED, source.accept_warnings)
    _set(Key.UPLOAD_REPORT, report)
    st.session_state.pop(Key.POPULATION_PENDING, None)


@dataclass(frozen=True)
class PendingUpload:
    """Uploads whose population figures wait for the planner's confirmation (not used yet).

    ``error`` lists the warnings (``population.unconfirmed``); ``report`` and
    ``repaired`` are what the upload report will say once they are confirmed.
    """

    source: UnitsSource
    error: Exception
    report: tuple[str, ...] = ()
    repaired: int = 0


def pending_upload() -> PendingUpload | None:
    """The uploads waiting for confirmation, if any."""
    return _get(Key.POPULATION_PENDING, None)


def set_pending_upload(pending: PendingUpload | None) -> None:
    """Hold uploads until the planner confirms them; ``None``: drop them."""
    if pending is None:
        st.session_state.pop(Key.POPULATION_PENDING, None)
    else:
        _set(Key.POPULATION_PENDING, pending)


def upload_report() -> list[str]:
    """What the last successful upload said (features read, matches, repairs)."""
    return list(_get(Key.UPLOAD_REPORT, []))


def forget_uploads() -> None:
    """Back to the embedded boundaries and census for the planning units."""
    for key in UPLOAD_KEYS:
        st.session_state.pop(key, None)


def surface_file() -> UploadedFile | None:
    """The population raster or point table the planner loaded, if any."""
    path = _stored_path("surface")
    if path is None:
        return None
    datum, accepted = _get(Key.SURFACE_DATUM, "wgs84"), bool(_get(Key.SURFACE_ACCEPTED, False))
    return UploadedFile(str(path), datum, accepted)


def set_surface_file(upload: UploadedFile | None) -> None:
    """Use ``upload`` as the population surface; ``None``: back to the modelled census."""
    st.session_state.pop(Key.SURFACE_PENDING, None)
    if upload is None:
        st.session_state.pop(Key.SURFACE_PATH, None)
        return
    _set(Key.SURFACE_PATH, upload.path)
    _set(Key.SURFACE_DATUM, upload.datum)
    _set(Key.SURFACE_ACCEPTED, upload.accepted)


def pending_surface() -> tuple[UploadedFile, Exception] | None:
    """A population surface file whose figures wait for the planner's confirmation."""
    return _get(Key.SURFACE_PENDING, None)


def set_pending_surface(pending: tuple[UploadedFile, Exception] | None) -> None:
    """Hold a surface file until the planner confirms it; ``None``: drop it."""
    if pending is None:
        st.session_state.pop(Key.SURFACE_PENDING, None)
    else:
        _set(Key.SURFACE_PENDING, pending)


def surface_spec(sel: Selection, cell_m: float) -> SurfaceSpec:
    """The population surface of this session at ``cell_m`` (uploaded, else modelled census)."""
    upload = surface_file()
    return SurfaceSpec(
        units_source(sel),
        float(cell_m),
        None if upload is None else upload.path,
        "wgs84" if upload is None else upload.datum,
        accept_warnings=upload is not None and upload.accepted,
    )


def roads_path() -> str | None:
    """The road file of the network model (uploaded or downloaded)."""
    return _stored_path("roads")


def set_roads_path(path: str) -> None:
    _set(Key.ROADS_PATH, path)


RASTER_KEYS = {"landcover": Key.LANDCOVER_PATH, "dem": Key.DEM_PATH}


def raster_path(kind: str) -> str | None:
    """The land-cover (``landcover``) or elevation (``dem``) raster of the raster model."""
    return _stored_path(kind)


def set_raster_path(kind: str, path: str) -> None:
    _set(RASTER_KEYS[kind], path)


def siting_file(level: str, kind: str) -> UploadedFile | None:
    """The candidate list (``cand``) or exclusion layer (``excl``) of a siting level."""
    files: dict[tuple[str, str], UploadedFile] = _get(Key.SITING_FILES, {})
    upload = files.get((level, kind))
    if upload is not None and _gone(upload.path):
        set_siting_file(level, kind, None)
        _vanished(f"siting_{kind}")
        return None
    return upload


def set_siting_file(level: str, kind: str, upload: UploadedFile | None) -> None:
    """Keep (or, with ``None``, forget) a siting level's candidate list or exclusion layer."""
    files: dict[tuple[str, str], UploadedFile] = dict(_get(Key.SITING_FILES, {}))
    if upload is None:
        files.pop((level, kind), None)
    else:
        files[(level, kind)] = upload
    _set(Key.SITING_FILES, files)


# --- plans ----------------------------------------------------------------------------------


def plan(sel: Selection, starting: Callable[[], GridPlan]) -> GridPlan:
    """The plan being edited for this prefecture and preset (``starting()`` on first use)."""
    plans: dict[tuple[str, str], GridPlan] = st.session_state.setdefault(Key.PLANS, {})
    key = (sel.prefecture, sel.preset)
    if key not in plans:
        plans[key] = starting()
    return plans[key]


def session_plan(sel: Selection) -> GridPlan | None:
    """The session's copy of the plan of ``sel``, if it has one yet."""
    plans: dict[tuple[str, str], GridPlan] = _get(Key.PLANS, {})
    return plans.get((sel.prefecture, sel.preset))


def set_plan(sel: Selection, new: GridPlan, *, edit: bool = True) -> None:
    """Replace the plan of this prefecture and preset; its editors are drawn afresh.

    ``edit``: a planner's edit, saved as the scenario's next version (see
    :func:`unsaved_edits`); ``False`` when a stored version is being shown.
    """
    plans = st.session_state.setdefault(Key.PLANS, {})
    old = plans.get((sel.prefecture, sel.preset))
    plans[(sel.prefecture, sel.preset)] = new
    _bump(Key.PLAN_VERSION)
    if edit:
        _record_edit(sel, ("plan", old, new))


def plan_editor_key(name: str, sel: Selection) -> str:
    """Widget key of a plan editor: new after every plan change, so it shows the new plan."""
    return f"{name}_{sel.prefecture}_{sel.preset}_{_get(Key.PLAN_VERSION, 0)}"


# --- facilities -------------------------------------------------------------------------------


def _plan_key(sel: Selection) -> tuple[str, str]:
    return (sel.prefecture, sel.preset)


def has_facilities(sel: Selection) -> bool:
    """Whether this plan has a facility list of its own in the session yet."""
    return _plan_key(sel) in _get(Key.FACILITIES, {})


def facilities(sel: Selection, default: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The facilities of this plan (a session copy of ``default()`` at first).

    Each plan (preset or stored scenario) has its own list: facility edits belong
    to the scenario they were made in.
    """
    store: dict[tuple[str, str], pd.DataFrame] = st.session_state.setdefault(Key.FACILITIES, {})
    if _plan_key(sel) not in store:
        store[_plan_key(sel)] = default().copy()
    return store[_plan_key(sel)]


def set_facilities(
    sel: Selection,
    table: pd.DataFrame,
    rejected: pd.DataFrame | None = None,
    *,
    edit: bool = True,
) -> None:
    """Replace the plan's facility list (and the rows an upload rejected)."""
    store = st.session_state.setdefault(Key.FACILITIES, {})
    old = store.get(_plan_key(sel))
    store[_plan_key(sel)] = table.reset_index(drop=True)
    _set(Key.FACILITY_REJECTED, rejected)
    _bump(Key.FACILITY_VERSION)
    if edit:
        _record_edit(sel, ("facilities", old, store[_plan_key(sel)]))


def edit_facilities(sel: Selection, table: pd.DataFrame, *, edit: bool = True) -> None:
    """An edit of the facility list (a switch, an added facility or accepted sites).

    ``edit=False``: not the planner's edit (the default network laid out again).
    """
    store = st.session_state.setdefault(Key.FACILITIES, {})
    old = store.get(_plan_key(sel))
    store[_plan_key(sel)] = table.reset_index(drop=True)
    _bump(Key.FACILITY_VERSION)
    if edit:
        _record_edit(sel, ("facilities", old, store[_plan_key(sel)]))


def forget_facilities(sel: Selection, *, edit: bool = True) -> None:
    """Back to the default (illustrative) network of this plan."""
    store: dict[tuple[str, str], pd.DataFrame] = _get(Key.FACILITIES, {})
    old = store.pop(_plan_key(sel), None)
    _set(Key.FACILITY_REJECTED, None)
    _bump(Key.FACILITY_VERSION)
    if edit:
        _record_edit(sel, ("facilities", old, None))


def rejected_facilities() -> pd.DataFrame | None:
    """The rows the last facility upload rejected, with the reasons."""
    return _get(Key.FACILITY_REJECTED, None)


def facility_editor_key() -> str:
    """Widget key of the facility editor: new after every change of the list."""
    return f"fac_editor_{_get(Key.FACILITY_VERSION, 0)}"


# --- answers kept between runs ------------------------------------------------------------


@dataclass(frozen=True)
class HeldStudy:
    """The last siting answer: its prefecture, the surface it was computed on, the study."""

    prefecture: str
    surface: SurfaceSpec
    study: SitingStudy
    #: the travel-time model the study ran with (its account: the 计算方法 panel)
    model: ModelSpec | None = None


def held_study() -> HeldStudy | None:
    return _get(Key.SITING_STUDY, None)


def keep_study(held: HeldStudy) -> None:
    """Keep a new siting answer; its sites table starts afresh (its ticks are this answer's)."""
    _set(Key.SITING_STUDY, held)
    _bump(Key.SITING_RUN)


def sites_editor_key() -> str:
    return f"sit_sites_editor_{_get(Key.SITING_RUN, 0)}"


def proposal() -> Proposal | None:
    """The last grid proposal."""
    return _get(Key.PROPOSAL, None)


def keep_proposal(answer: Proposal) -> None:
    _set(Key.PROPOSAL, answer)


def coverage_cell_size(default: int) -> int:
    """The cell size last chosen on the 15-minute page (the siting form starts from it)."""
    return int(_get(Key.COVERAGE_CELL, default))


# --- the scenario store: what is shown, what waits to be saved ------------------------------
#: One edit waiting to be saved: what changed ("plan" or "facilities"), before, after.
Edit = tuple[str, Any, Any]


def _record_edit(sel: Selection, change: Edit) -> None:
    if read_only() is not None:
        return  # a read-only link: nothing is saved (its pages draw no editors either)
    pending: dict[tuple[str, str], list[Edit]] = st.session_state.setdefault(Key.UNSAVED, {})
    pending.setdefault(_plan_key(sel), []).append(change)


def plans_with_unsaved_edits() -> list[Selection]:
    """The plans of this session whose edits are not saved yet."""
    pending: dict[tuple[str, str], list[Edit]] = _slots(Key.UNSAVED)
    return [Selection(p, c) for (p, c), edits in pending.items() if edits]


def unsaved_edits(sel: Selection) -> list[Edit]:
    """The edits of this plan made since its last save, oldest first."""
    return list(_slots(Key.UNSAVED).get(_plan_key(sel), []))


def mark_saved(sel: Selection) -> None:
    """The plan's edits are in the store now."""
    _slots(Key.UNSAVED).pop(_plan_key(sel), None)


def move_plan(sel: Selection, choice: str) -> Selection:
    """The session's plan, facilities and pending edits of ``sel`` now belong to plan ``choice``
    (a preset's plan saved as a new scenario); the preset starts afresh when chosen again."""
    new = Selection(sel.prefecture, choice)
    for key in (Key.PLANS, Key.FACILITIES, Key.UNSAVED):
        slots = st.session_state.setdefault(key, {})
        if _plan_key(sel) in slots:
            slots[_plan_key(new)] = slots.pop(_plan_key(sel))
    _set(Key.PRESET, choice)
    _bump(Key.PLAN_VERSION)
    return new


def choose_plan(prefecture: str, choice: str) -> None:
    """Show plan ``choice`` of ``prefecture`` (a page other than the sidebar opened it)."""
    if _get(Key.PREFECTURE, DEFAULT_PREFECTURE) != prefecture:
        forget_prefecture_data()
    _set(Key.PREFECTURE, prefecture)
    _set(Key.PRESET, choice)
    _bump(Key.PLAN_VERSION)


def shown_version(scenario_id: int) -> int | None:
    """The version of the scenario shown in this session (``None``: not loaded yet)."""
    return _slots(Key.SHOWN_VERSION).get(scenario_id)


def latest_seen(scenario_id: int) -> int | None:
    """The scenario's latest version as this session last saw it (for conflict checks)."""
    return _slots(Key.LATEST_SEEN).get(scenario_id)


def set_versions(scenario_id: int, shown: int, latest: int) -> None:
    """The session shows version ``shown`` of the scenario, whose latest is ``latest``."""
    st.session_state.setdefault(Key.SHOWN_VERSION, {})[scenario_id] = shown
    st.session_state.setdefault(Key.LATEST_SEEN, {})[scenario_id] = latest


def loaded_version(sel: Selection) -> int | None:
    """The version whose contents are in this session's plan slot of ``sel`` (if any)."""
    return _slots(Key.LOADED).get(_plan_key(sel))


def set_loaded_version(sel: Selection, version: int | None) -> None:
    loaded = st.session_state.setdefault(Key.LOADED, {})
    if version is None:
        loaded.pop(_plan_key(sel), None)
    else:
        loaded[_plan_key(sel)] = version


def forget_plan(sel: Selection) -> None:
    """Drop the session's copy of the plan (it is read again from its scenario or preset)."""
    for key in (Key.PLANS, Key.FACILITIES, Key.UNSAVED, Key.LOADED):
        _slots(key).pop(_plan_key(sel), None)
    _bump(Key.PLAN_VERSION)
    _bump(Key.FACILITY_VERSION)


def undo_stack(scenario_id: int) -> list[int]:
    """Versions to go back to with 撤销, the last one first to go."""
    return list(_slots(Key.UNDO).get(scenario_id, []))


def redo_stack(scenario_id: int) -> list[int]:
    """Versions to go forward to with 重做, the last one first to go."""
    return list(_slots(Key.REDO).get(scenario_id, []))


def set_stacks(scenario_id: int, undo: list[int], redo: list[int]) -> None:
    st.session_state.setdefault(Key.UNDO, {})[scenario_id] = list(undo)
    st.session_state.setdefault(Key.REDO, {})[scenario_id] = list(redo)


def read_only() -> str | None:
    """The read-only link this session was opened with (``None``: the session may edit)."""
    return _get(Key.READ_ONLY, None)


def set_read_only(token: str) -> None:
    _set(Key.READ_ONLY, token)


def author() -> str:
    """The name the planner signs edits with (empty: anonymous)."""
    return str(_get(Key.AUTHOR, ""))


def persistent_text(widget: Callable[..., Any], key: Key, **kwargs: Any) -> str:
    """A text input whose value survives page switches (kept under ``key``)."""
    wkey = f"w_{key}"

    def sync() -> None:
        st.session_state[key] = st.session_state[wkey]

    st.session_state[wkey] = str(_get(key, ""))
    return str(widget(key=wkey, on_change=sync, **kwargs))


def presentation() -> bool:
    """Whether the pages are laid out for a meeting (the sidebar's 演示模式 toggle)."""
    return bool(_get(Key.PRESENTATION, False))


def persistent_flag(widget: Callable[..., Any], key: Key, **kwargs: Any) -> bool:
    """A toggle or checkbox whose value survives page switches (kept under ``key``)."""
    wkey = f"w_{key}"

    def sync() -> None:
        st.session_state[key] = bool(st.session_state[wkey])

    st.session_state[wkey] = bool(_get(key, False))
    return bool(widget(key=wkey, on_change=sync, **kwargs))


def url_read() -> bool:
    """Whether this session has read the scenario of its URL yet (done once, at its start)."""
    return bool(_get(Key.URL_READ, False))


def set_url_read() -> None:
    _set(Key.URL_READ, True)


def add_store_notice(kind: str, text: str) -> None:
    """A message about saving or opening (``kind``: info, warning, error) for the next draw."""
    st.session_state.setdefault(Key.STORE_NOTICES, []).append((kind, text))


def store_notices() -> list[tuple[str, str]]:
    """The store's messages since last asked."""
    return list(st.session_state.pop(Key.STORE_NOTICES, []))


#: Widget keys whose values are the analysis settings a scenario keeps (prefixes); uploads,
#: buttons, editors and maps are not settings.
ANALYSIS_PREFIXES = ("acc_", "sit_")
_NOT_SETTINGS = ("_file", "_btn", "_editor", "_map", "_run")


def analysis_settings() -> dict[str, Any]:
    """The 15-minute and siting pages' choices (minutes, mode, model, speeds, cell size,
    demand, ...): the last values seen, kept across pages."""
    kept: dict[str, Any] = dict(_slots(Key.ANALYSIS))
    for key, value in st.session_state.items():
        name = str(key)
        if not name.startswith(ANALYSIS_PREFIXES) or any(p in name for p in _NOT_SETTINGS):
            continue
        if isinstance(value, bool | int | float | str) and not isinstance(value, bytes):
            kept[name] = value
    _set(Key.ANALYSIS, kept)
    return kept


def restore_analysis_settings(values: dict[str, Any]) -> None:
    """Set the analysis widgets to a scenario's saved choices when the next run starts.

    A widget's value cannot change once it is drawn in a run, and a scenario may
    be opened in the middle of one (a proposal adopted): the choices wait here
    until :func:`apply_analysis_settings`, called before any page draws.
    """
    clean = {
        k: v
        for k, v in values.items()
        if isinstance(k, str)
        and k.startswith(ANALYSIS_PREFIXES)
        and not any(p in k for p in _NOT_SETTINGS)
        and isinstance(v, bool | int | float | str)
    }
    _set(Key.ANALYSIS, clean)
    _set(Key.SETTINGS_PENDING, True)


def apply_analysis_settings() -> None:
    """Give the analysis widgets the choices a scenario opened since the last run saved."""
    if not st.session_state.pop(Key.SETTINGS_PENDING, False):
        return
    for key, value in _slots(Key.ANALYSIS).items():
        st.session_state[key] = value


# --- map views (issue 12) -------------------------------------------------------------------


def map_view(map_key: str) -> tuple[str, int]:
    """The view a map shows (``"full"`` or ``"core"``) and how many times one was asked for.

    The count goes into the map's key: asking again (reset after panning) draws the map anew.
    """
    view, asked = _slots(Key.MAP_VIEWS).get(map_key, ("full", 0))
    return str(view), int(asked)


def set_map_view(map_key: str, view: str) -> None:
    """Show ``view`` on the map ``map_key`` from now on (kept across reruns and fragments)."""
    views = dict(_slots(Key.MAP_VIEWS))
    _, asked = views.get(map_key, ("full", 0))
    views[map_key] = (view, int(asked) + 1)
    _set(Key.MAP_VIEWS, views)


# --- the national overview: an uploaded batch table (issue 13) ----------------------------


def national_upload() -> tuple[str, pd.DataFrame] | None:
    """The batch table the planner uploaded last that passed the checks, and its file name."""
    found = _get(Key.NATIONAL_UPLOAD, None)
    return found if isinstance(found, tuple) else None


def set_national_upload(filename: str, table: pd.DataFrame) -> None:
    """Keep an uploaded batch table that passed the checks (it replaces the previous one)."""
    _set(Key.NATIONAL_UPLOAD, (filename, table))


# --- widget values read in callbacks (issue 13: edits applied before the page redraws) -----


def widget_value(key: str, default: Any = None) -> Any:
    """The value of the widget ``key`` as its callback sees it (``default`` if not drawn)."""
    return st.session_state.get(key, default)
