"""The 方案对比 page's panels: pick two scenarios (or versions), see them side by side.

Each side is a stored scenario at a version, or the plan shown now; its plan
and its own facility list (a scenario's facility edits) are read from the
store.  Coverage is the straight-line model at the chosen mode's speed over
the modelled (or uploaded) population surface, one index per facility list,
grouped by each plan's grids (:func:`gridplan.workflow.compare_scenarios`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from gridplan import settings, workflow
from gridplan.access.coverage import CoverageIndex
from gridplan.errors import GridPlanError
from gridplan.facilities.edits import apply_edits
from gridplan.plan.compare import ScenarioComparison
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.report.method import Method, method_items
from gridplan.report.style import GRID_HUES, dsatur_colouring, grid_neighbours
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH, minutes_per_metre
from ui import cache, scenario, state
from ui import store as scenarios
from ui.cache import CoverageKey
from ui.panels.common import how_computed, metric_row, num_text, readable, show_error
from ui.panels.grids import PlanView, grid_map
from ui.panels.report import report_buttons
from ui.scenario import Scenario
from ui.state import Selection, lang, scenario_choice_id
from ui.texts import MODE, md_text, tr

#: The plan choice "the plan shown now" (it may be a template not saved yet).
SHOWN = "shown"


@dataclass(frozen=True)
class Side:
    """One side of the comparison: its label, plan and facility list."""

    label: str
    plan: GridPlan
    facilities: pd.DataFrame


def side_picker(sel: Selection, stored: dict[str, str], column: str, default: str) -> Side | None:
    """Choose a scenario (or the plan shown) and its version; the side, or ``None`` (said)."""
    options = [SHOWN, *stored]
    choice = st.selectbox(
        tr("cmp_scenario"), options, index=options.index(default) if default in options else 0,
        format_func=lambda c: tr("cmp_shown") if c == SHOWN else stored[c], key=f"cmp_{column}",
    )  # fmt: skip
    sid = scenario_choice_id(str(choice))
    if sid is None:
        sc = scenario.current()
        return Side(tr("cmp_shown"), sc.plan, scenario.facilities(sc.sel))
    try:
        versions = [v.number for v in reversed(scenarios.store().history(sid))]
        number = st.selectbox(tr("col_version"), versions, key=f"cmp_{column}_v_{sid}")
        snap = scenarios.store().get(sid, int(number or versions[0]))
        network = cache.default_facilities(state.units_source(sel))
        facilities = apply_edits(network, snap.payload.get("facility_edits", {}))
    except GridPlanError as exc:
        show_error(exc)
        return None
    label = tr("cmp_side_label", name=snap.scenario.name, version=snap.version.number)
    return Side(label, GridPlan.from_dict(snap.payload["plan"]), facilities)


def coverage_index(
    sc: Scenario, facilities: pd.DataFrame, mode: str, cell_m: int
) -> CoverageIndex | None:
    """Straight-line coverage of the primary-care facilities of one side (cached per list)."""
    used = workflow.used_facilities(facilities, "primary")
    if used.empty:
        return None
    key = CoverageKey(sc.surface(cell_m), cache.facility_digest(used))
    xy = workflow.facilities_xy(used, cache.load_surface(key.surface).grid.crs)
    computed = cache.coverage(key, xy)
    scale = minutes_per_metre(MODE_SPEEDS_KMH[mode], DEFAULT_DETOUR)
    return computed.index.with_sliders(scale, 1.0)


def grid_table(cmp: ScenarioComparison) -> pd.DataFrame:
    """Per grid: residents, share, area, 15-minute coverage, mean minutes, and B - A."""
    g = cmp.grids
    pct = 100.0
    return readable(
        pd.DataFrame(
            {
                tr("cmp_grid"): g["name_b"].fillna(g["name_a"]),
                tr("cmp_pop_a"): g["population_a"].round(0),
                tr("cmp_pop_b"): g["population_b"].round(0),
                tr("cmp_pop_diff"): g["population_diff"].round(0),
                tr("cmp_share_a"): (g["share_a"] * pct).round(1),
                tr("cmp_share_b"): (g["share_b"] * pct).round(1),
                tr("cmp_area_a"): g["area_km2_a"].round(1),
                tr("cmp_area_b"): g["area_km2_b"].round(1),
                tr("cmp_cov_a"): (g["covered_share_a"] * pct).round(1),
                tr("cmp_cov_b"): (g["covered_share_b"] * pct).round(1),
                tr("cmp_cov_diff"): (g["covered_share_diff"] * pct).round(1),
                tr("cmp_min_a"): g["mean_minutes_a"].round(1),
                tr("cmp_min_b"): g["mean_minutes_b"].round(1),
                tr("cmp_min_diff"): g["mean_minutes_diff"].round(1),
            }
        )
    )


def moved_table(cmp: ScenarioComparison) -> pd.DataFrame:
    m = cmp.moved
    return readable(
        pd.DataFrame(
            {
                tr("col_code"): m["code"],
                tr("col_unit"): m["name"],
                tr("col_pop"): m["population"].round(0),
                tr("cmp_from"): m["from"],
                tr("cmp_to"): m["to"],
            }
        )
    )


def side_map(sc: Scenario, side: Side, colors: dict[str, str], key: str) -> None:
    """One side's grids, on the same prefecture extent as the other (the same first view)."""
    assignment = resolve_assignment(side.plan, sc.units.units)
    view = PlanView(
        sc.units, sc.display_geometry(), sc.unit_borders(), side.plan, assignment, colors
    )
    grid_map(view, key=key, height=440, labels=False)


def shared_colors(sc: Scenario, a: GridPlan, b: GridPlan) -> tuple[dict[str, str], dict[str, str]]:
    """Each side's grid colours: a grid both plans have gets the same colour on both maps, and
    grids that touch on either map never share one (the two plans' adjacency graphs coloured
    together)."""
    u = sc.units.units
    ids = list(dict.fromkeys([g.grid_id for g in a.grids] + [g.grid_id for g in b.grids]))
    touching: dict[str, set[str]] = {gid: set() for gid in ids}
    for plan in (a, b):
        plan_ids = [g.grid_id for g in plan.grids]
        for gid, near in grid_neighbours(plan_ids, u, resolve_assignment(plan, u)).items():
            touching[gid] |= near
    colour_of = dsatur_colouring(ids, touching, len(GRID_HUES))
    colours = {gid: GRID_HUES[colour_of[gid]] for gid in ids}
    return (
        {g.grid_id: colours[g.grid_id] for g in a.grids},
        {g.grid_id: colours[g.grid_id] for g in b.grids},
    )


def comparison_panel(sc: Scenario, a: Side, b: Side, mode: str, minutes: int, cell_m: int) -> None:
    """Maps, balance, the per-grid table and the units that move."""
    try:
        index_a = coverage_index(sc, a.facilities, mode, cell_m)
        index_b = coverage_index(sc, b.facilities, mode, cell_m)
        cmp = workflow.compare_scenarios(
            sc.units, a.plan, b.plan, index=index_a, index_b=index_b, minutes=minutes
        )
    except GridPlanError as exc:
        show_error(exc)
        return
    colors_a, colors_b = shared_colors(sc, a.plan, b.plan)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**A · {md_text(a.label)}**")
        side_map(sc, a, colors_a, "cmp_map_a")
    with right:
        st.markdown(f"**B · {md_text(b.label)}**")
        side_map(sc, b, colors_b, "cmp_map_b")
    metric_row(
        [
            (tr("cmp_grids"), f"{len(a.plan.grids)} → {len(b.plan.grids)}"),
            (
                tr("balance_ratio"),
                num_text(cmp.balance_b["max_min_ratio"], ".2f"),
                _delta(cmp.balance_a["max_min_ratio"], cmp.balance_b["max_min_ratio"]),
            ),
            (
                tr("balance_cv"),
                num_text(cmp.balance_b["cv"], ".2f"),
                _delta(cmp.balance_a["cv"], cmp.balance_b["cv"]),
            ),
            (tr("cmp_moved"), f"{len(cmp.moved):,}"),
        ]
    )
    st.caption(tr("cmp_balance_note"))
    st.subheader(tr("cmp_by_grid"))
    st.caption(tr("cmp_method", minutes=minutes, mode=MODE(mode), cell=cell_m))
    st.dataframe(grid_table(cmp), hide_index=True, width="stretch")
    used = workflow.used_facilities(a.facilities, "primary")
    if not used.empty:
        model = workflow.ModelSpec("straight", mode).facts()  # as coverage_index computes it
        surface = cache.load_surface(sc.surface(cell_m))
        how = Method(surface, sc.units, used, model, float(minutes))
        how_computed(method_items(how, lang()), key="cmp_how")
    st.subheader(tr("cmp_moved_units"))
    if cmp.moved.empty:
        st.caption(tr("cmp_no_moves"))
    else:
        st.dataframe(moved_table(cmp), hide_index=True, width="stretch")
    with st.expander(tr("report_with_comparison")):
        cmp.a["name"], cmp.b["name"] = a.label, b.label
        report_buttons("report_compare", cmp)


def _delta(a: float, b: float) -> str:
    if not (np.isfinite(a) and np.isfinite(b)):
        return "—"
    return f"{b - a:+.2f}"


def settings_row() -> tuple[str, int, int]:
    """Mode of travel, threshold and cell size of the coverage columns."""
    c1, c2, c3 = st.columns(3)
    modes = list(workflow.MODES)
    mode = c1.selectbox(tr("mode"), modes, format_func=MODE, key="cmp_mode")
    minutes = c2.slider(tr("minutes"), 5, 60, 15, key="cmp_minutes")
    cells = [200, 500, 1000]
    cell = c3.selectbox(
        tr("cell_size"), cells, index=cells.index(500), format_func=lambda c: f"{c} m",
        key="cmp_cell",
    )  # fmt: skip
    return str(mode), int(minutes), int(cell or settings.cell_m)
