"""The grids page's panels: uploads, the grid map, the assignment and grid editors, deleting and
merging grids, downloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import pandas as pd
import pydeck as pdk
import streamlit as st

from gridplan.errors import InputError
from gridplan.i18n import error_text
from gridplan.inputs.crs import DATUMS
from gridplan.inputs.tables import read_table_upload
from gridplan.inputs.vector import read_vector_upload
from gridplan.plan.grids import GridPlan
from gridplan.plan.networks import network_links
from gridplan.plan.population import message_texts, provenance_label
from gridplan.plan.units import UnitSet
from gridplan.report.boundaries import UnitBorders
from gridplan.report.exports import grids_to_geojson, plan_to_csv
from gridplan.report.gis import plan_to_gpkg, plan_to_shapefile_zip
from gridplan.report.gridmap import render_grid_map_png
from gridplan.report.style import grid_colors
from gridplan.report.workbooks import grid_workbook
from gridplan.workflow import UnitsSource
from ui import cache, edits, legend, plancache, state
from ui.cache import PlanKey
from ui.mapview import (
    GRID_MAP_HEIGHT_PX,
    GRID_MAP_WIDTH_PX,
    UNASSIGNED_HEX,
    UNIT_TOOLTIP,
    build_deck,
    urban_core_bounds,
    view_controls,
)
from ui.panels.common import download, num_text, readable, saved, show_error
from ui.state import Selection, lang
from ui.tables import assignment_changes, grid_option_labels
from ui.texts import BASEMAP, DATUM, UNIT_LEVEL, join_list, md_lines, md_text, tr

# --- uploads ------------------------------------------------------------------------------


def uploads_panel(sel: Selection) -> None:
    """Township boundaries and a population table; the report of the last upload."""
    with st.expander(tr("uploads"), expanded=False), st.form("uploads", border=False):
        township = st.file_uploader(
            tr("township_upload"), type=["geojson", "json", "zip", "gpkg"], key="tw_file"
        )
        datum = st.selectbox(tr("datum"), list(DATUMS), key="tw_datum", format_func=DATUM)
        population = st.file_uploader(
            tr("population_upload"), type=["csv", "txt", "xlsx"], key="pop_file"
        )
        c1, c2 = st.columns(2)
        load = c1.form_submit_button(tr("load"), type="primary")
        clear = c2.form_submit_button(tr("clear_uploads"))
    if clear:
        state.forget_uploads()
    if load:
        load_uploads(sel, township, str(datum), population)
    pending_panel(sel)
    for msg in state.upload_report():  # names from the files: shown as text
        st.info(md_lines(msg))


def load_uploads(sel: Selection, township: Any, datum: str, population: Any) -> None:
    """Read the uploads; keep the previous data whenever anything fails."""
    current = state.units_source(sel)
    source = UnitsSource(sel.prefecture, current.township_path, current.datum,
                         current.population_path)  # fmt: skip
    report: list[str] = []
    repaired = 0
    try:
        if township is not None:
            path = saved(township)
            gdf, rep = read_vector_upload(path, datum=datum)
            source = UnitsSource(sel.prefecture, path, datum, source.population_path)
            repaired = rep.n_repaired
            report.append(tr("upload_ok", name=township.name, n=len(gdf)))
        if population is not None:
            path = saved(population)
            df, _ = read_table_upload(path)
            source = UnitsSource(sel.prefecture, source.township_path, source.datum, path)
            report.append(tr("upload_ok", name=population.name, n=len(df)))
        units = cache.load_units(source)
    except InputError as exc:
        if exc.code == "population.unconfirmed":  # held until the planner confirms
            state.set_pending_upload(state.PendingUpload(source, exc, tuple(report), repaired))
        else:
            show_error(exc, upload=True)
        return
    except Exception as exc:
        show_error(exc, upload=True)
        return
    state.keep_uploads(source, report + units_report(units, repaired))


def pending_panel(sel: Selection) -> None:
    """Implausible population figures: listed, used only once the planner confirms them.

    Until then the previous units and figures stay in use.
    """
    pending = state.pending_upload()
    if pending is None or pending.source.prefecture != sel.prefecture:
        return
    st.warning(md_lines(error_text(pending.error, lang())))  # unit names from the table
    c1, c2 = st.columns(2)
    if c1.button(tr("population_confirm"), key="pop_confirm", type="primary"):
        source = replace(pending.source, accept_warnings=True)
        try:
            units = cache.load_units(source)
        except Exception as exc:
            state.set_pending_upload(None)
            show_error(exc, upload=True)
            return
        state.keep_uploads(source, [*pending.report, *units_report(units, pending.repaired)])
        st.rerun()
    if c2.button(tr("population_discard"), key="pop_discard"):
        state.set_pending_upload(None)
        st.rerun()


def units_report(units: UnitSet, repaired: int) -> list[str]:
    """How a township layer and a population table were matched to the units."""
    lines = []
    rep = units.township_report
    if rep is not None:
        lines.append(
            tr(
                "township_summary",
                n=rep.n_features,
                by_code=rep.n_county_by_code,
                by_loc=rep.n_county_by_location,
                ref=rep.n_reference_matched,
                repaired=repaired,
            )
        )
        lines.extend(rep.notes + units.notes)
    # the table's notes (repeats counted once) and the warnings the planner confirmed
    lines += message_texts([*units.population_notes, *units.population_warnings], lang())
    return lines


# --- the grid map ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    """A plan as the grid map and the editors show it."""

    units: UnitSet
    display: gpd.GeoSeries
    #: the units' boundaries, each once (:func:`gridplan.report.boundaries.unit_borders`)
    borders: UnitBorders
    plan: GridPlan
    assignment: pd.Series
    colors: dict[str, str]
    #: the plan by content on the embedded or uploaded units it is drawn on: its map is then
    #: drawn once per plan, view and basemap (:mod:`ui.plancache`); ``None``: drawn every run
    key: PlanKey | None = None

    @property
    def grid_names(self) -> dict[str, str]:
        return {g.grid_id: g.name for g in self.plan.grids}


@st.fragment
def grid_map_panel(
    view: PlanView, *, key: str = "grid_map", height: int = GRID_MAP_HEIGHT_PX
) -> None:
    """The plan on a web map, with a basemap choice and grid names (a fragment: redraws alone).

    Neighbouring grids get different colours here (:func:`grid_colors` on the
    units), as in the PNG download.
    """
    if view.key is not None:
        view = replace(view, colors=plancache.plan_figures(view.key).colors)
    else:
        view = replace(view, colors=grid_colors(view.plan, view.units, view.assignment))
    c1, c2 = st.columns([3, 1])
    basemap = c1.radio(
        tr("basemap"),
        BASEMAP.members,
        horizontal=True,
        key="basemap",
        format_func=BASEMAP,
    )
    labels = c2.toggle(tr("show_labels"), value=True, key="map_labels")
    has_links = bool(view.plan.networks) or any(g.member_locations for g in view.plan.grids)
    networks = has_links and c2.toggle(tr("show_networks"), value=True, key="map_networks")
    grid_map(view, key=key, height=height, basemap=str(basemap), labels=labels, networks=networks)
    st.caption(tr("boundary_source"))
    if networks:
        st.caption(tr("networks_caption"))


def grid_map(
    view: PlanView,
    *,
    key: str,
    height: int,
    basemap: str = "none",
    labels: bool = True,
    width: int = GRID_MAP_WIDTH_PX,
    networks: bool = False,
) -> None:
    """The plan's units coloured by grid, outlined and named, with the view buttons and a
    legend of the grids' colours.  ``width`` is the map's expected width in pixels;
    ``networks`` draws the plan's networks and located members as links."""
    u = view.units.units
    drawn = u[u["has_geometry"].to_numpy()]
    map_view, map_key = view_controls(
        key, tuple(drawn.total_bounds), urban_core_bounds(u), (width, height)
    )

    def build() -> pdk.Deck:
        return build_deck(
            u, view.display, view.assignment, view.grid_names, view.colors, borders=view.borders,
            lang=lang(), basemap=basemap, labels=labels, view=map_view, size=(width, height),
            links=network_links(view.plan, view.units) if networks else None,
        )  # fmt: skip

    if view.key is None:
        spec = plancache.compact_json(build())
    else:
        style = (lang(), basemap, labels, map_view, width, height, networks)
        spec = plancache.deck_spec(view.key, style, build)
    st.pydeck_chart(plancache.SpecDeck(spec, UNIT_TOOLTIP), height=height, key=map_key)
    legend.show(legend.swatch_chart(grid_swatches(view)), key=f"{key}_legend")


def grid_swatches(view: PlanView) -> list[legend.Swatch]:
    """The legend of a grid map: each grid with units drawn, its colour and name; then the
    colour of units in no grid, if there are any."""
    u = view.units.units
    drawn = u["has_geometry"].to_numpy()
    owners = set(view.assignment.to_numpy()[drawn].tolist())
    out = [
        legend.Swatch(g.name, view.colors[g.grid_id])
        for g in view.plan.grids
        if g.grid_id in owners and g.grid_id in view.colors
    ]
    free = drawn & u["inside_prefecture"].to_numpy() & view.assignment.isna().to_numpy()
    if free.any():
        out.append(legend.Swatch(tr("unassigned"), UNASSIGNED_HEX))
    return out


# --- editors --------------------------------------------------------------------------------


def assignment_editor(sel: Selection, view: PlanView) -> None:
    """Move a unit to another grid: with the form, or in the table's grid column."""
    unassigned = tr("unassigned")
    grid_names = view.grid_names
    grid_labels = grid_option_labels(grid_names)
    u = view.units.units
    unit_names = dict(zip(u["unit_id"], u["name"], strict=True))
    with st.form("move_unit", border=False):
        c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
        c1.selectbox(
            tr("move_unit"),
            list(u["unit_id"]),
            key="move_unit",
            format_func=lambda x: tr("name_code", name=unit_names[x], code=x),
        )
        c2.selectbox(
            tr("move_to"), list(grid_names), key="move_target", format_func=lambda g: grid_names[g]
        )
        c3.form_submit_button(tr("move"), on_click=move_unit, args=(sel, view.plan))
    table = readable(pd.DataFrame(
        {
            tr("col_code"): u["unit_id"],
            tr("col_unit"): u["name"],
            tr("col_level"): u["level"].map(UNIT_LEVEL),
            tr("col_county"): u["county_name"].fillna("—"),
            tr("col_pop"): u["population"].round(0),
            tr("col_source"): u["population_source"].map(lambda s: provenance_label(s, lang())),
            tr("col_age65"): u["age65plus"].round(0),
            tr("col_share65"): u["share_65plus_pct"].round(1),
            tr("col_grid"): view.assignment.map(
                lambda g: grid_labels.get(g, unassigned) if g else unassigned
            ),
        }
    ))  # fmt: skip
    # a population column with a unit without figures is text ("—"): no number format then
    numeric = pd.api.types.is_numeric_dtype(table[tr("col_pop")])
    pop_format = {tr("col_pop"): st.column_config.NumberColumn(format="localized")}
    label_to_id = {v: k for k, v in grid_labels.items()}
    edited = st.data_editor(
        table,
        key=state.plan_editor_key("assign", sel),
        on_change=assignment_edited,
        args=(sel, view.plan, table, label_to_id),
        hide_index=True,
        width="stretch",
        disabled=[c for c in table.columns if c != tr("col_grid")],
        column_config={
            tr("col_grid"): st.column_config.SelectboxColumn(
                tr("col_grid"), options=[*grid_labels.values(), unassigned], required=True
            ),
            **(pop_format if numeric else {}),
        },
    )
    changes = assignment_changes(table, edited, tr("col_code"), tr("col_grid"), label_to_id)
    if changes:
        state.set_plan(sel, view.plan.reassign(changes))
        st.rerun()


def grid_editor(sel: Selection, plan: GridPlan, starting: Callable[[], GridPlan]) -> None:
    """Rename grids, name their lead hospitals and members; add a grid; reset the plan."""
    gtable = pd.DataFrame(
        {
            tr("col_id"): [g.grid_id for g in plan.grids],
            tr("col_name"): [g.name for g in plan.grids],
            tr("col_lead"): [g.lead_hospital for g in plan.grids],
            tr("col_members"): ["、".join(g.members) for g in plan.grids],
        }
    )
    gedited = st.data_editor(
        gtable,
        key=state.plan_editor_key("grids", sel),
        on_change=grids_edited,
        args=(sel, plan, gtable),
        hide_index=True,
        width="stretch",
        disabled=[tr("col_id")],
    )
    if not gedited.equals(gtable):
        state.set_plan(sel, edited_grids(plan, gedited))
        st.rerun()
    with st.form("add_grid", border=False):
        c1, c2 = st.columns([3, 1])
        new_name = c1.text_input(tr("new_grid_name"))
        if c2.form_submit_button(tr("add_grid")) and new_name.strip():
            state.set_plan(sel, plan.add_grid(new_name.strip()))
            st.rerun()
    if st.button(tr("reset_plan")):
        state.set_plan(sel, starting())
        st.rerun()


def the_plan(sel: Selection, drawn: GridPlan) -> GridPlan:
    """The plan as it is now (a callback runs before the page draws it again)."""
    return state.session_plan(sel) or drawn


def move_unit(sel: Selection, drawn: GridPlan) -> None:
    """The 移动 button: the unit chosen goes to the grid chosen (a callback)."""
    unit, target = state.widget_value("move_unit"), state.widget_value("move_target")
    plan = the_plan(sel, drawn)
    if unit is not None and target in {g.grid_id for g in plan.grids}:
        edits.replan(sel, plan.reassign({str(unit): str(target)}))


def table_edits(key: str, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the cell edits the data editor ``key`` holds (read in its callback)."""
    delta = state.widget_value(key) or {}
    out = table.copy()
    for row, cells in (delta.get("edited_rows") or {}).items():
        for column, value in cells.items():
            if column in out.columns:
                out.loc[out.index[int(row)], column] = value
    return out


def assignment_edited(
    sel: Selection, drawn: GridPlan, table: pd.DataFrame, label_to_id: dict[str, str]
) -> None:
    """Units moved in the assignment table's grid column (a callback)."""
    edited = table_edits(state.plan_editor_key("assign", sel), table)
    changes = assignment_changes(table, edited, tr("col_code"), tr("col_grid"), label_to_id)
    if changes:
        edits.replan(sel, the_plan(sel, drawn).reassign(changes))


def grids_edited(sel: Selection, drawn: GridPlan, table: pd.DataFrame) -> None:
    """Names, lead hospitals or members changed in the grid table (a callback)."""
    edited = table_edits(state.plan_editor_key("grids", sel), table)
    if not edited.equals(table):
        edits.replan(sel, edited_grids(the_plan(sel, drawn), edited))


def edited_grids(plan: GridPlan, table: pd.DataFrame) -> GridPlan:
    """A copy of ``plan`` with the names, lead hospitals and members of the grid table.

    A lead hospital renamed here is another hospital: its location is dropped (to be
    chosen again in the lead-hospital panel); members keep theirs while listed.
    """
    new_plan = GridPlan.from_dict(plan.to_dict())
    by_id = {g.grid_id: g for g in new_plan.grids}
    for row in table.itertuples(index=False):
        g = by_id[row[0]]
        lead = str(row[2] or "").strip()
        if lead != g.lead_hospital:
            g.lead_lon = g.lead_lat = None
        g.name, g.lead_hospital = str(row[1] or "").strip() or g.name, lead
        g.members = [m for m in str(row[3] or "").replace(",", "、").split("、") if m.strip()]
        g.member_locations = {m: at for m, at in g.member_locations.items() if m in g.members}
    return new_plan


# --- deleting and merging grids --------------------------------------------------------------

#: The actions of the delete-or-merge panel.
GRID_OPS: tuple[str, ...] = ("merge", "delete")


@dataclass(frozen=True)
class GridOp:
    """A planned merge or delete: the grids picked and where their units go."""

    action: str  # "merge" or "delete"
    grids: tuple[str, ...]
    target: str  # merge: the grid that stays; delete: where the units go ("" for none)
    name: str = ""  # merge: the new name ("" keeps the old one)

    def apply(self, plan: GridPlan) -> GridPlan:
        """The plan after this change (an :class:`InputError` when it cannot be made)."""
        if self.action == "merge":
            return plan.merge_grids(self.grids, self.target, self.name or None)
        for gid in self.grids:
            plan = plan.delete_grid(gid, self.target or None)
        return plan

    @property
    def moving(self) -> list[str]:
        """The grids whose units move (all but the one that stays)."""
        return [g for g in self.grids if g != self.target]


def delete_merge_panel(sel: Selection, view: PlanView) -> None:
    """Delete or merge grids: pick them and the action, read what will move, confirm, apply.

    The new plan is built first, so a change the plan refuses (a grid merged
    into itself, units with nowhere to go) is explained before anything can be
    confirmed; the plan stays as it is until the planner ticks the box that
    names the change and clicks the button.
    """
    with st.expander(tr("grid_ops"), expanded=False):
        op = grid_op_form(sel, view)
        if op is None:
            return
        try:
            new_plan = op.apply(view.plan)
        except InputError as exc:
            show_error(exc)
            return
        # the label names the change: another change is a new box, unticked
        confirmed = st.checkbox(tr("grid_ops_confirm", summary=grid_op_summary(op, view, new_plan)))
        if st.button(tr("grid_ops_apply"), key=state.plan_editor_key("grid_ops_apply", sel)):
            if not confirmed:
                st.warning(tr("grid_ops_confirm_first"))
                return
            state.set_plan(sel, new_plan)
            st.rerun()


def grid_op_form(sel: Selection, view: PlanView) -> GridOp | None:
    """The panel's choices; ``None`` until a grid is picked.

    The widgets that list grids are new after every plan change (their keys
    carry the plan's version), so they never offer a grid that is gone.
    """
    labels = grid_option_labels(view.grid_names)
    op_names = {"merge": tr("grid_op_merge"), "delete": tr("grid_op_delete")}
    action = st.radio(
        tr("grid_ops_action"),
        GRID_OPS,
        horizontal=True,
        key="grid_ops_action",
        format_func=op_names.__getitem__,
    )
    key = state.plan_editor_key("grid_ops", sel)
    picked = st.multiselect(
        tr("grid_ops_grids"), list(labels), key=f"{key}_grids", format_func=labels.__getitem__
    )
    if not picked:
        st.caption(tr("grid_ops_pick"))
        return None
    if action == "merge":
        c1, c2 = st.columns(2)
        into = c1.selectbox(
            tr("grid_ops_into"), picked, key=f"{key}_into", format_func=labels.__getitem__
        )
        name = c2.text_input(tr("grid_ops_new_name"), key=f"{key}_name")
        return GridOp("merge", tuple(picked), str(into), name.strip())
    # labels looked up now, in the session's language, not when the widget is drawn again
    targets = {"": tr("grid_ops_no_target")} | {g: n for g, n in labels.items() if g not in picked}
    target = st.selectbox(
        tr("grid_ops_move_to"), list(targets), key=f"{key}_target", format_func=targets.__getitem__
    )
    return GridOp("delete", tuple(picked), str(target))


def grid_op_summary(op: GridOp, view: PlanView, new_plan: GridPlan) -> str:
    """What the change does, as Markdown text: units and people that move, and where."""
    names = view.grid_names
    moving = view.assignment.isin(op.moving).to_numpy()
    people = view.units.units.loc[moving, "population"].sum(min_count=1)
    before, after = len(view.plan.grids), len(new_plan.grids)
    n, people_text = int(moving.sum()), num_text(people)
    grids = join_list(f"“{md_text(names[g])}”" for g in op.moving)
    if op.action == "delete" and not op.target:
        return tr("grid_ops_delete_empty", grids=grids, before=before, after=after)
    target = md_text(names[op.target])
    if op.action == "delete":
        return tr("grid_ops_delete_summary", grids=grids, target=target, n=n, people=people_text,
                  before=before, after=after)  # fmt: skip
    text = tr("grid_ops_merge_summary", grids=grids, into=target, n=n, people=people_text,
              before=before, after=after)  # fmt: skip
    return text + (tr("grid_ops_rename", name=md_text(op.name)) if op.name else "")


# --- downloads ------------------------------------------------------------------------------


#: Mime types of the plan downloads.
MIME = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "shp.zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "png": "image/png",
    "json": "application/json",
}


def plan_downloads(view: PlanView) -> None:
    """The plan as GeoJSON, GeoPackage, zipped Shapefile, Excel, assignment CSV, PNG map and
    plan JSON.

    Each file is built when its button is clicked (a callable), and a click does not
    rerun the page (``on_click="ignore"``): a rerun would replace the other buttons'
    pending files, and a second download clicked meanwhile would fail.
    """
    plan, units, assignment = view.plan, view.units, view.assignment
    stem = f"gridplan_{plan.plan_id}"
    ui_lang = lang()  # the downloads are built later, outside this script run
    # label, file type, builder, help
    files: list[tuple[str, str, Callable[[], Any], str | None]] = [
        (tr("dl_geojson"), "geojson", lambda: grids_to_geojson(plan, units, assignment), None),
        (tr("dl_gpkg"), "gpkg", lambda: plan_to_gpkg(plan, units, assignment, ui_lang),
         tr("dl_gpkg_help")),
        (tr("dl_shp"), "shp.zip", lambda: plan_to_shapefile_zip(plan, units, assignment, ui_lang),
         tr("dl_shp_help")),
        (tr("dl_xlsx"), "xlsx", lambda: grid_workbook(plan, units, assignment, ui_lang),
         tr("dl_xlsx_help")),
        (tr("dl_csv"), "csv", lambda: plan_to_csv(plan, units, assignment, lang=ui_lang), None),
        (tr("dl_png"), "png",
         lambda: render_grid_map_png(plan, units, assignment=assignment, lang=ui_lang), None),
        (tr("dl_plan"), "json", lambda: json.dumps(plan.to_dict(), ensure_ascii=False, indent=1),
         None),
    ]  # fmt: skip
    per_row = 4
    for start in range(0, len(files), per_row):
        row = files[start : start + per_row]
        for col, (text, ext, build, help_text) in zip(st.columns(per_row), row, strict=False):
            download(
                text, build, f"{stem}.{ext}", MIME[ext], key=f"dl_grids_{ext}", container=col,
                help=help_text,
            )  # fmt: skip
