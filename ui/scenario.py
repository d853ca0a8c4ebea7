"""What every page starts from: the sidebar's choice, its units and plan, its facilities."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from gridplan import workflow
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import UnitSet
from gridplan.report.boundaries import UnitBorders
from gridplan.workflow import SurfaceSpec, UnitsSource
from ui import cache, state, store
from ui.state import Selection


@dataclass(frozen=True)
class Scenario:
    """The prefecture and preset of the sidebar, the units they are drawn on, the plan edited."""

    sel: Selection
    source: UnitsSource
    units: UnitSet
    plan: GridPlan

    def display_geometry(self) -> gpd.GeoSeries:
        """The units' simplified polygons for the web maps."""
        return cache.load_display_geometry(self.source)

    def unit_borders(self) -> UnitBorders:
        """The units' boundaries, each once, for the grid maps' lines."""
        return cache.load_unit_borders(self.source)

    def plan_key(self) -> cache.PlanKey:
        return cache.PlanKey.of(self.source, self.plan)

    def surface(self, cell_m: float) -> SurfaceSpec:
        return state.surface_spec(self.sel, cell_m)


def selection() -> Selection:
    """The prefecture and plan chosen in the sidebar (its defaults on a page run alone); a
    stored scenario is read into the session the first time it is shown."""
    sel = store.ensure_loaded(state.selection(cache.presets_of))
    state.apply_analysis_settings()  # the pages' widgets are drawn after this
    return sel


def starting_plan(sel: Selection, units: UnitSet) -> GridPlan:
    """The preset's plan, or one grid per county-level unit (a stored scenario: its first
    version's plan, what "reset" goes back to)."""
    if sel.scenario_id is not None:
        return GridPlan.from_dict(store.store().get(sel.scenario_id, 1).payload["plan"])
    return workflow.starting_plan(sel.preset_id, units)


def current() -> Scenario:
    """The scenario of this session, as the sidebar chose it."""
    sel = selection()
    source = state.units_source(sel)
    units = cache.load_units(source)
    plan = state.plan(sel, lambda: starting_plan(sel, units))
    return Scenario(sel, source, units, plan)


def facilities(sel: Selection) -> pd.DataFrame:
    """The facilities being planned for this prefecture (the illustrative network at first).

    An empty network (no population to lay it out on when first asked) is laid out again
    once there is population: after a population upload the planner gets the network.
    """
    table = state.facilities(sel, lambda: cache.default_facilities(state.units_source(sel)))
    if table.empty:
        fresh = cache.default_facilities(state.units_source(sel))
        if not fresh.empty:
            state.edit_facilities(sel, fresh, edit=False)
            return fresh
    return table
