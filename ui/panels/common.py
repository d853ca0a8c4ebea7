"""Blocks several pages share: messages, the plan check, metric rows, grid tables, maps."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from gridplan.errors import GridPlanError
from gridplan.i18n import error_text, text_of
from gridplan.plan.population import provenance_label
from gridplan.plan.validate import Problem
from gridplan.report.tables import table_to_csv
from gridplan.report.webmap import WebImage
from ui import state
from ui.mapview import (
    MAP_WIDTH_PX,
    Bounds,
    fitted_deck,
    image_layer,
    outline_layer,
    view_controls,
)
from ui.state import lang
from ui.texts import SOURCE, UPLOAD_KIND, join_list, md_lines, tr

log = logging.getLogger(__name__)

#: Grid outlines over the raster maps.
OUTLINE_RGBA = [30, 30, 30, 230]


def show_error(exc: BaseException, *, upload: bool = False) -> None:
    """An error in the planner's language; after a failed upload, say the old data are kept.

    Everything the error carries (file and column names, values) is shown as
    text (:func:`ui.texts.md_text`), under the names the planner uploaded.  An
    error GridPlan does not know (a Python or GDAL error) is logged on the
    server and the planner reads a plain message: its text may hold server paths.
    """
    text = md_lines(error_message(exc))
    st.error(text + "\n\n" + tr("upload_failed") if upload else text)


def error_message(exc: BaseException) -> str:
    """The plain (not Markdown) text of ``exc`` for the planner, in the session's language."""
    if not isinstance(exc, GridPlanError):
        log.warning("unexpected error shown as a generic message", exc_info=exc)
        return tr("error_unexpected")
    if text_of(exc.code) is None:
        return state.shown_text(str(exc))
    shown = GridPlanError(
        exc.code,
        code=exc.code,
        params=_shown_names(exc.params),
        problems=[state.shown_text(p) for p in exc.problems],
    )
    return error_text(shown, lang())


def _shown_names(value: Any) -> Any:
    """``value`` (an error's parameters) with stored file names replaced by the uploaded ones."""
    if isinstance(value, str):
        return state.shown_text(value)
    if isinstance(value, Mapping):
        return {k: _shown_names(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shown_names(v) for v in value]
    return value


def upload_notices() -> None:
    """Say which stored uploads were found gone (their data are back to the defaults)."""
    for kind in state.vanished_uploads():
        st.warning(tr("upload_vanished", what=UPLOAD_KIND.get(kind)))


def plan_check(problems: Sequence[Problem]) -> None:
    """The plan check: passed, or each error and warning (their unit and grid names as text)."""
    if not [p for p in problems if p.severity == "error"]:
        st.success(tr("valid_ok"))
    for p in problems:
        (st.error if p.severity == "error" else st.warning)(md_lines(p.message(lang())))


#: How a missing or infinite figure is shown (never nan, inf or None).
MISSING = "—"


def num_text(value: Any, spec: str = ",.0f") -> str:
    """``value`` formatted with ``spec``, or :data:`MISSING` when it is not a finite number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return MISSING
    return format(x, spec) if np.isfinite(x) else MISSING


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` as shown: every missing or infinite value becomes :data:`MISSING`.

    Only the columns that hold one turn into text (whole numbers keep no decimals);
    the others stay numbers, so they sort as numbers.
    """
    out = table.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_bool_dtype(col):
            continue
        if pd.api.types.is_numeric_dtype(col):
            values = col.to_numpy(dtype=float)
            if not np.isfinite(values).all():
                out[c] = [num_text(v, ",.0f" if float(v).is_integer() else ",") for v in values]
        elif col.isna().any():
            out[c] = col.astype(object).where(col.notna(), MISSING)
    return out


def metric_row(
    items: Sequence[tuple[str, str] | tuple[str, str, str]], per_row: int | None = None
) -> None:
    """Metrics side by side: ``(label, value)`` or ``(label, value, delta)`` each.

    ``per_row``: at most this many in a row (the narrow column of the presentation
    layout), the others in the rows below.
    """
    if not items:
        return
    n = len(items) if per_row is None else max(1, min(per_row, len(items)))
    for start in range(0, len(items), n):
        row = items[start : start + n]
        for column, item in zip(st.columns(n), row, strict=False):
            column.metric(*item)


#: Height (px) of a map in the presentation layout: with the page's top margin and the map's
#: own controls it ends above the bottom of a 1280×720 projector screen.
PRESENTATION_MAP_HEIGHT = 500
#: Less empty space above the page in the presentation layout (Streamlit's default is 6rem).
_PRESENTATION_CSS = """<style>
.stMainBlockContainer, .block-container { padding-top: 3.2rem; padding-bottom: 1rem; }
</style>"""


def presentation_layout() -> bool:
    """Whether the page is laid out for a meeting; if so, the page's top margin is narrowed."""
    if not state.presentation():
        return False
    st.html(_PRESENTATION_CSS)
    return True


def saved(upload: Any) -> str:
    """Store a Streamlit upload in the session's folder; its path (a cache key).

    Stored under a generated name (:mod:`ui.uploads`): the uploaded name, however
    long or strange, is kept for messages only.
    """
    return str(state.save_upload(upload.getvalue(), upload.name))


def provenance_caption(pop_source: str, n: int, fac_sources: pd.Series) -> str:
    """Where the population and the facilities come from, said plainly (plain text, not Markdown:
    the CSV downloads carry it too; show it through :func:`ui.texts.md_text`)."""
    pop = provenance_label(pop_source, lang())
    fac = join_list(SOURCE(x) for x in sorted(set(fac_sources))) or "—"
    return tr("provenance_line", pop=pop, n=n, fac=fac)


def grid_table(by_grid: pd.DataFrame, columns: dict[str, pd.Series]) -> None:
    """A table per grid: its name and residents, then ``columns`` (header → values)."""
    table = {tr("col_grid"): by_grid["name"], tr("col_pop"): by_grid["population"].round(0)}
    st.dataframe(readable(pd.DataFrame({**table, **columns})), hide_index=True, width="stretch")


def csv_with_note(note: str, table: pd.DataFrame) -> bytes:
    """A CSV (UTF-8 with BOM, for Excel) whose first line says where its figures come from.

    Names a spreadsheet would run as formulas are quoted
    (:func:`gridplan.report.tables.neutralise_formulas`).
    """
    return table_to_csv(table, note=note)


#: The media type of an Excel workbook (.xlsx).
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: What a download serves: the file's content, or a function that builds it when clicked.
DownloadData = str | bytes | IO[bytes] | IO[str] | Callable[[], str | bytes | IO[bytes] | IO[str]]


def download(
    label: str,
    data: DownloadData,
    file_name: str,
    mime: str,
    key: str,
    *,
    container: Any = None,
    help: str | None = None,
    primary: bool = False,
    stretch: bool = False,
) -> None:
    """A download button that never reruns the page (every download of the dashboard uses it).

    Streamlit's default download button reruns the script on click.  The rerun
    replaces the file ids of every download button on the page; a second button
    clicked before the browser has the new ids (about 1.5 s on the 15-minute
    page) asks for a file that is gone and fails, or waits for an answer that
    never comes.  ``on_click="ignore"`` serves the file and leaves the page as it
    is, so downloads clicked in quick succession all work.

    ``data`` may be a function: it is called when the button is clicked (outside
    the script run, so it must not draw anything) and the button shows a spinner
    while the file is built, the progress a large file needs.  ``key`` keeps the
    button (and its file) the same across reruns and a change of language.  ``primary``:
    the page's main download; ``stretch``: as wide as its column.
    """
    target = st if container is None else container
    target.download_button(
        label, data, file_name=file_name, mime=mime, key=key, help=help, on_click="ignore",
        type="primary" if primary else "secondary", width="stretch" if stretch else "content",
    )  # fmt: skip


def raster_map(
    img: WebImage,
    outlines: dict[str, Any],
    layers: Sequence[pdk.Layer],
    *,
    tooltip: str,
    key: str,
    height: int,
    image_id: str = "surface",
    core: Bounds | None = None,
    width: int = MAP_WIDTH_PX,
    below: Sequence[pdk.Layer] = (),
    outline: pdk.Layer | None = None,
) -> None:
    """A coverage image with the plan's grid outlines and ``layers`` on top, fitted to the image,
    with the view buttons (``core``: the urban core's bounds).  ``below`` layers go under the
    outlines (hover cells); ``width`` is the map's expected width in pixels; ``outline``, when
    given, draws the outlines instead of ``outlines`` (a lighter layer of the same lines)."""
    view, map_key = view_controls(key, img.bounds, core, (width, height))
    if outline is None:
        outline = outline_layer(outlines, "grid-outlines", OUTLINE_RGBA)
    base = [image_layer(img, image_id), *below, outline]
    deck = fitted_deck([*base, *layers], img.bounds, tooltip, view=view)
    st.pydeck_chart(deck, height=height, key=map_key)


def how_computed(rows: Sequence[tuple[str, str]], *, key: str) -> None:
    """The 计算方法 panel: the (item, text) rows of how a result was computed, e.g. population
    source and method, facilities, travel model and speeds with their sources, the threshold
    rule and the known limits (:func:`gridplan.report.method.method_items`, as the report's
    appendix and the CLI's ``provenance`` give them)."""
    with st.expander(tr("how_computed")), st.container(key=key):
        table = pd.DataFrame(list(rows), columns=[tr("how_item"), tr("how_text")])
        # a static table: its long texts wrap, where a data grid would cut them
        st.table(table.set_index(tr("how_item")))
