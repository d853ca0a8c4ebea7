"""Map legends: colour swatches with their names, and the travel-time scale with its minutes.

Streamlit's pydeck maps have no legend, so each map gets a small Vega-Lite
chart under it.  Names (grid and facility names come from uploaded files) are
chart data drawn as SVG text, never HTML or Markdown, so they show as the
characters they are.  The chart's data are plain rows (label, colour, shape,
position), which the tests read back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
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


def swatch_chart(swatches: Sequence[Swatch], *, columns: int = 3) -> alt.LayerChart:
    """A legend of coloured symbols and their labels in ``columns`` columns."""
    rows = swatch_rows(swatches, columns)
    n_cols = int(rows["col"].max()) + 1 if len(rows) else 1
    n_rows = int(rows["row"].max()) + 1 if len(rows) else 1
    x = alt.X("col:Q", axis=None, scale=alt.Scale(domain=[-0.05, n_cols]))
    y = alt.Y("row:O", axis=None)
    base = alt.Chart(rows).encode(x=x, y=y)
    filled = base.transform_filter(alt.datum.shape != "ring").mark_point(
        filled=True, size=170, opacity=1, stroke="#333333", strokeWidth=0.6
    )
    filled = filled.encode(
        color=alt.Color("color:N", scale=None),
        shape=alt.Shape("shape:N", scale=None),
    )
    rings = (
        base.transform_filter(alt.datum.shape == "ring")
        .mark_point(filled=False, size=170, strokeWidth=2.5, shape="circle")
        .encode(color=alt.Color("color:N", scale=None))
    )
    text = base.mark_text(align="left", dx=11, fontSize=13, font=LEGEND_FONT, color="#222222")
    text = text.encode(text="label:N")
    chart = alt.layer(filled, rings, text).properties(
        width=n_cols * COLUMN_PX, height=n_rows * ROW_PX
    )
    return _plain(chart)


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


def scale_chart(title: str, beyond: str, vmax: float = 60.0, step: float = 5.0) -> alt.LayerChart:
    """The minutes colour scale: coloured boxes with the minutes under their edges and the
    grey box of ``beyond`` (over ``vmax`` or unreachable) at the end."""
    rows = scale_rows(vmax, step)
    end = float(rows["end"].iloc[-1])
    x = alt.X("start:Q", scale=alt.Scale(domain=[0, end]), axis=None)
    boxes = alt.Chart(rows).mark_rect(stroke="#ffffff", strokeWidth=0.5, height=16)
    boxes = boxes.encode(x=x, x2="end:Q", color=alt.Color("color:N", scale=None))
    ticks = pd.DataFrame({"at": [*rows["start"].iloc[1:-1].tolist(), float(vmax)]})
    ticks["text"] = ticks["at"].map(lambda m: f"{m:g}")
    numbers = alt.Chart(ticks).mark_text(dy=18, fontSize=12, font=LEGEND_FONT, color="#222222")
    numbers = numbers.encode(x=alt.X("at:Q", scale=alt.Scale(domain=[0, end])), text="text:N")
    label = pd.DataFrame({"at": [float(rows["start"].iloc[-1])], "text": [beyond]})
    beyond_text = alt.Chart(label).mark_text(
        align="left", dy=-16, fontSize=12, font=LEGEND_FONT, color="#222222"
    )
    beyond_text = beyond_text.encode(
        x=alt.X("at:Q", scale=alt.Scale(domain=[0, end])), text="text:N"
    )
    chart = alt.layer(boxes, numbers, beyond_text).properties(
        title=alt.TitleParams(title, anchor="start", fontSize=13, font=LEGEND_FONT),
        height=48,
    )
    return _plain(chart)


def _plain(chart: Any) -> Any:
    """No frame, no axes, no tooltips, no zoom: a legend, not a chart."""
    return chart.configure_view(strokeWidth=0).configure(font=LEGEND_FONT, padding=4)


def show(chart: Any, *, key: str) -> None:
    """Draw a legend chart under its map (full width, no chart menu)."""
    st.altair_chart(chart, width="stretch", key=key, theme=None)
