"""Blocks several pages share: messages, the plan check, metric rows, grid tables, maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pydeck as pdk
import streamlit as st

from gridplan.i18n import error_text
from gridplan.plan.population import provenance_label
from gridplan.plan.validate import Problem
from gridplan.report.webmap import WebImage
from ui import state
from ui.mapview import fitted_deck, image_layer, outline_layer
from ui.state import lang
from ui.texts import SOURCE, join_list, tr

#: Grid outlines over the raster maps.
OUTLINE_RGBA = [30, 30, 30, 230]


def show_error(exc: BaseException, *, upload: bool = False) -> None:
    """An error in the planner's language; after a failed upload, say the old data are kept."""
    text = error_text(exc, lang())
    st.error(text + "\n\n" + tr("upload_failed") if upload else text)


def plan_check(problems: Sequence[Problem]) -> None:
    """The plan check: passed, or each error and warning."""
    if not [p for p in problems if p.severity == "error"]:
        st.success(tr("valid_ok"))
    for p in problems:
        (st.error if p.severity == "error" else st.warning)(p.message(lang()))


def metric_row(items: Sequence[tuple[str, str] | tuple[str, str, str]]) -> None:
    """One row of metrics: ``(label, value)`` or ``(label, value, delta)`` each."""
    for column, item in zip(st.columns(len(items)), items, strict=True):
        column.metric(*item)


def saved(upload: Any) -> str:
    """Store a Streamlit upload under its content hash; its path (a cache key)."""
    return str(state.save_upload(upload.getvalue(), upload.name))


def provenance_caption(pop_source: str, n: int, fac_sources: pd.Series) -> str:
    """Where the population and the facilities come from, said plainly."""
    pop = provenance_label(pop_source, lang())
    fac = join_list(SOURCE(x) for x in sorted(set(fac_sources))) or "—"
    return tr("provenance_line", pop=pop, n=n, fac=fac)


def grid_table(by_grid: pd.DataFrame, columns: dict[str, pd.Series]) -> None:
    """A table per grid: its name and residents, then ``columns`` (header → values)."""
    table = {tr("col_grid"): by_grid["name"], tr("col_pop"): by_grid["population"].round(0)}
    st.dataframe(pd.DataFrame({**table, **columns}), hide_index=True, width="stretch")


def csv_with_note(note: str, table: pd.DataFrame) -> bytes:
    """A CSV (UTF-8 with BOM, for Excel) whose first line says where its figures come from."""
    return (f"# {note}\n" + table.to_csv(index=False)).encode("utf-8-sig")


def raster_map(
    img: WebImage,
    outlines: dict[str, Any],
    layers: Sequence[pdk.Layer],
    *,
    tooltip: str,
    key: str,
    height: int,
    image_id: str = "surface",
) -> None:
    """A coverage image with the plan's grid outlines and ``layers`` on top, fitted to the image."""
    base = [image_layer(img, image_id), outline_layer(outlines, "grid-outlines", OUTLINE_RGBA)]
    st.pydeck_chart(fitted_deck([*base, *layers], img.bounds, tooltip), height=height, key=key)
