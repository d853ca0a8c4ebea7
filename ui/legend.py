"""Map legends: colour swatches with their names, and the travel-time scale with its minutes.

Streamlit's pydeck maps have no legend, so each map gets a small Vega-Lite
chart under it, written as a plain Vega-Lite spec (no charting library to
import or to validate the spec with: a legend is drawn again with every edit of
a plan).  Names (grid and facility names come from uploaded files) are chart
data drawn as SVG text, never HTML or Markdown, so they show as the characters
they are.  The chart's data are plain rows (label, colour, shape, position),
which the tests read back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from gridplan.report.style import minutes_colors
from gridplan.report.webmap import minute_bands

#: Legend text: the CJK fonts of the maps' labels.
LEGEND_FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
#: Height (pixels) of one legend row; the width (pixels) a column of the legend is given.
ROW_PX = 22
COLUMN_PX = 210
#: Longest label (characters) before it is cut with an ellipsis.
MAX_LABEL = 16


@dataclass(frozen=True)
class Swatch:
    """One legend row: a colour (hex) drawn as a ``square``, ``circle`` or ``ring``, its label."""

    label: str
    color: str
    shape: str = "square"


@dataclass(frozen=True)
class LegendChart:
    """A Vega-Lite legend: its spec and its named tables of rows (sent as data, not text)."""

    spec: dict[str, Any]
    datasets: dict[str, pd.DataFrame]

    def spec_with_data(self) -> dict[str, Any]:
        """The spec with its tables and the look of a legend (no frame, no axes)."""
        return {
            **self.spec,
            "config": {"view": {"strokeWidth": 0}, "font": LEGEND_FONT},
            # an object: Streamlit sets its bottom (a number here breaks the chart)
            "padding": {"left": 4, "right": 4, "top": 4, "bottom": 4},
            "datasets": dict(self.datasets),  # Streamlit sends each named table as Arrow data
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole spec as plain JSON values (the tables as lists of rows)."""
        spec = self.spec_with_data()
        spec["datasets"] = {k: v.to_dict("records") for k, v in self.datasets.items()}
        return spec


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def swatch_rows(swatches: Sequence[Swatch], columns: int) -> pd.DataFrame:
    """The legend's rows laid out column by column: ``col``, ``row``, label, colour, shape."""
    per_col = max(1, math.ceil(len(swatches) / max(columns, 1)))
    return pd.DataFrame(
        {
            "col": [i // per_col for i in range(len(swatches))],
            "row": [i % per_col for i in range(len(swatches))],
            "label": [_short(s.label) for s in swatches],
            "color": [s.color for s in swatches],
            "shape": [s.shape for s in swatches],
        }
    )


def _position(field: str, kind: str, domain: list[float] | None = None) -> dict[str, Any]:
    """An encoding channel without an axis (where a legend's symbols and texts go)."""
    channel: dict[str, Any] = {"field": field, "type": kind, "axis": None}
    if domain is not None:
        channel["scale"] = {"domain": domain}
    return channel


def _as_is(field: str) -> dict[str, Any]:
    """A channel whose values are used as they are (colours, shapes): no scale."""
    return {"field": field, "type": "nominal", "scale": None}


def swatch_chart(swatches: Sequence[Swatch], *, columns: int = 3) -> LegendChart:
    """A legend of coloured symbols and their labels in ``columns`` columns."""
    rows = swatch_rows(swatches, columns)
    n_cols = int(rows["col"].max()) + 1 if len(rows) else 1
    n_rows = int(rows["row"].max()) + 1 if len(rows) else 1
    at = {"x": _position("col", "quantitative", [-0.05, n_cols]), "y": _position("row", "ordinal")}
    filled = {
        "transform": [{"filter": "datum.shape !== 'ring'"}],
        "mark": {"type": "point", "filled": True, "size": 170, "opacity": 1,
                 "stroke": "#333333", "strokeWidth": 0.6},
        "encoding": {**at, "color": _as_is("color"), "shape": _as_is("shape")},
    }  # fmt: skip
    rings = {
        "transform": [{"filter": "datum.shape === 'ring'"}],
        "mark": {"type": "point", "filled": False, "size": 170, "strokeWidth": 2.5,
                 "shape": "circle"},
        "encoding": {**at, "color": _as_is("color")},
    }  # fmt: skip
    text = {
        "mark": {"type": "text", "align": "left", "dx": 11, "fontSize": 13,
                 "font": LEGEND_FONT, "color": "#222222"},
        "encoding": {**at, "text": {"field": "label", "type": "nominal"}},
    }  # fmt: skip
    spec = {
        "data": {"name": "swatches"},
        "layer": [filled, rings, text],
        "width": n_cols * COLUMN_PX,
        "height": n_rows * ROW_PX,
    }
    return LegendChart(spec, {"swatches": rows})


def scale_rows(vmax: float = 60.0, step: float = 5.0) -> pd.DataFrame:
    """The travel-time scale's boxes: one per class, then grey beyond ``vmax``; their colours
    are those of the web map's minutes layer (:func:`gridplan.report.style.minutes_colors`)."""
    edges = minute_bands(vmax, step)
    colors = minutes_colors()
    starts = [0.0, *edges[:-1].tolist()]
    return pd.DataFrame(
        {
            "start": [*starts, float(edges[-1])],
            "end": [*edges.tolist(), float(edges[-1]) + step * 1.5],
            "color": colors[: len(edges) + 1],
        }
    )


def scale_chart(title: str, beyond: str, vmax: float = 60.0, step: float = 5.0) -> LegendChart:
    """The minutes colour scale: coloured boxes with the minutes under their edges and the
    grey box of ``beyond`` (over ``vmax`` or unreachable) at the end."""
    rows = scale_rows(vmax, step)
    end = float(rows["end"].iloc[-1])
    ticks = pd.DataFrame({"at": [*rows["start"].iloc[1:-1].tolist(), float(vmax)]})
    ticks["text"] = ticks["at"].map(lambda m: f"{m:g}")
    label = pd.DataFrame({"at": [float(rows["start"].iloc[-1])], "text": [beyond]})
    text = {"type": "text", "fontSize": 12, "font": LEGEND_FONT, "color": "#222222"}
    at = {
        "x": _position("at", "quantitative", [0, end]),
        "text": {"field": "text", "type": "nominal"},
    }
    boxes = {
        "data": {"name": "boxes"},
        "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 0.5, "height": 16},
        "encoding": {
            "x": _position("start", "quantitative", [0, end]),
            "x2": {"field": "end"},
            "color": _as_is("color"),
        },
    }
    numbers = {"data": {"name": "ticks"}, "mark": {**text, "dy": 18}, "encoding": at}
    beyond_text = {
        "data": {"name": "beyond"},
        "mark": {**text, "align": "left", "dy": -16},
        "encoding": at,
    }
    spec = {
        "layer": [boxes, numbers, beyond_text],
        "title": {"text": title, "anchor": "start", "fontSize": 13, "font": LEGEND_FONT},
        "height": 48,
    }
    return LegendChart(spec, {"boxes": rows, "ticks": ticks, "beyond": label})


def show(chart: LegendChart, *, key: str) -> None:
    """Draw a legend chart under its map (full width, no chart menu)."""
    st.vega_lite_chart(chart.spec_with_data(), width="stretch", key=key, theme=None)
