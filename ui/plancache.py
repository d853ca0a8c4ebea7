"""The grids page's derived views of a plan, computed once per plan and shared by sessions.

A plan's assignment, statistics, checks and colours, and its web map as deck.gl
JSON, depend only on the units it is drawn on and the plan's content
(:class:`ui.cache.PlanKey`): a rerun that changed neither (a slider elsewhere,
another session showing the same preset) reuses them.  The returned objects are
shared: callers read them and never change them.

The map is serialised once per plan, view and basemap, compactly (pydeck's own
``to_json`` indents every coordinate on its own line: five times the bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st
from pydeck.bindings.json_tools import default_serialize

from gridplan.plan.grids import resolve_assignment
from gridplan.plan.stats import grid_statistics
from gridplan.plan.units import UnitSet
from gridplan.plan.validate import Problem, unit_adjacency, validate_plan
from gridplan.report.style import grid_colors
from gridplan.workflow import UnitsSource
from ui import cache
from ui.cache import PlanKey


@dataclass(frozen=True)
class PlanFigures:
    """What the grids page shows of a plan besides its map (read-only, shared)."""

    assignment: pd.Series
    grids: pd.DataFrame
    problems: list[Problem]
    #: neighbouring grids apart (the web map and its legend)
    colors: dict[str, str]


@st.cache_resource(show_spinner=False, max_entries=16)
def adjacency(source: UnitsSource) -> tuple[np.ndarray, np.ndarray]:
    """Which units touch: fixed for a set of units, whatever the plan."""
    return unit_adjacency(cache.load_units(source))


@st.cache_resource(show_spinner=False, max_entries=16)
def unit_table(source: UnitsSource) -> UnitSet:
    """The units without their polygons (a plain table): the grid statistics select each
    grid's members from it about a quarter faster than from the GeoDataFrame, same result."""
    units = cache.load_units(source)
    return replace(units, units=pd.DataFrame(units.units.drop(columns="geometry")))


@st.cache_resource(show_spinner=False, max_entries=64)
def plan_figures(key: PlanKey) -> PlanFigures:
    """The assignment, grid statistics, checks and map colours of a plan."""
    units = cache.load_units(key.units)
    plan = key.plan()
    assignment = resolve_assignment(plan, units.units)
    return PlanFigures(
        assignment=assignment,
        grids=grid_statistics(plan, unit_table(key.units), assignment),
        problems=validate_plan(plan, units, assignment, adjacency(key.units)),
        colors=grid_colors(plan, units, assignment),
    )


def compact_json(deck: pdk.Deck) -> str:
    """The deck's JSON as pydeck writes it, without indentation."""
    return json.dumps(deck, sort_keys=True, default=default_serialize, separators=(",", ":"))


class SpecDeck(pdk.Deck):
    """A deck whose JSON is already written (``st.pydeck_chart`` sends it as it is)."""

    def __init__(self, spec: str, tooltip: Any) -> None:
        super().__init__(layers=[], tooltip=tooltip, map_provider=None, map_style=None)
        self.spec = spec

    def to_json(self) -> str:
        return self.spec


@st.cache_resource(show_spinner=False, max_entries=64)
def deck_spec(key: PlanKey, style: tuple[Any, ...], _build: Any) -> str:
    """The map of the plan ``key`` drawn with ``style`` (language, basemap, labels, view and
    size), as compact JSON; ``_build()`` draws it (its inputs are what the key names)."""
    return compact_json(_build())
