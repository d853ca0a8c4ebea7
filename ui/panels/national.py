"""National / provincial overview (全国概览): a batch result as a choropleth and a table.

The result is a table written by ``gridplan batch -o`` (one row per prefecture): the
bundled national run (``data/batch/``, modelled: census spread uniformly and the
illustrative facilities) or one the planner uploads, checked by
:func:`gridplan.batch.files.read_batch_table`; a refused upload keeps the table shown
before.  Prefectures are drawn on the simplified outlines of ``data/batch/``,
coloured by their 15-minute coverage share.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from gridplan.batch.files import MAX_BATCH_FILE_MB, read_batch_table
from gridplan.errors import GridPlanError
from ui import legend, state
from ui.mapview import fitted_deck
from ui.panels.common import MISSING, csv_with_note, download, num_text, readable, show_error
from ui.texts import MODE, md_text, tr

#: The project's batch data: the bundled national result and the prefecture outlines.
DATA = Path(__file__).resolve().parents[2] / "data" / "batch"
BUNDLED = DATA / "national_walk15_500m.csv"
OUTLINES = DATA / "prefecture_outlines.geojson"
#: Coverage-share classes (lower bounds) and their colours, low (red) to high (green).
SHARE_BREAKS: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8)
SHARE_COLORS: tuple[str, ...] = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
NO_DATA_COLOR = "#bdbdbd"
#: Map size in pixels (the table stands beside it).
MAP_SIZE = (640.0, 560.0)
#: The choice of the province filter meaning "all of China".
ALL = ""


@dataclass(frozen=True)
class Source:
    """The table shown, where it comes from (file name) and whether it is the bundled one."""

    table: pd.DataFrame
    filename: str
    bundled: bool


@st.cache_data(show_spinner=False)
def bundled_table() -> pd.DataFrame:
    """The national result shipped with GridPlan (checked as an upload would be)."""
    return read_batch_table(BUNDLED.read_bytes(), BUNDLED.name)


@st.cache_resource(show_spinner=False)
def outlines() -> gpd.GeoDataFrame:
    """Every prefecture's simplified outline (WGS-84): read once per server."""
    return gpd.read_file(OUTLINES)


def share_color(share: float) -> str:
    """The colour of a coverage share (grey when the prefecture has none)."""
    if not np.isfinite(share):
        return NO_DATA_COLOR
    band = int(np.searchsorted(SHARE_BREAKS, share, side="right")) - 1
    return SHARE_COLORS[min(max(band, 0), len(SHARE_COLORS) - 1)]


def _rgb(hex_color: str) -> list[int]:
    return [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)] + [220]


def _source_label(choice: str) -> str:
    return tr("nat_source_bundled") if choice == "bundled" else tr("nat_source_upload")


def source_panel() -> Source:
    """The bundled result or the planner's upload (a refused file keeps the previous table)."""
    choice = st.radio(
        tr("nat_source"), ["bundled", "upload"], horizontal=True, key="nat_source",
        format_func=_source_label,
    )  # fmt: skip
    if choice == "upload":
        file = st.file_uploader(
            tr("nat_upload"), type=["csv", "gpkg"], key="nat_upload",
            help=tr("nat_upload_help", limit=MAX_BATCH_FILE_MB),
        )  # fmt: skip
        if file is not None:
            try:
                state.set_national_upload(file.name, read_batch_table(file.getvalue(), file.name))
            except GridPlanError as exc:
                show_error(exc, upload=True)
        kept = state.national_upload()
        if kept is not None:
            return Source(kept[1], kept[0], bundled=False)
        st.info(tr("nat_upload_none"))
    return Source(bundled_table(), BUNDLED.name, bundled=True)


def province_filter(table: pd.DataFrame) -> str:
    """The province chosen (:data:`ALL`: the whole table)."""
    provinces = [ALL, *sorted(p for p in set(table["province"].astype(str)) if p)]
    chosen = st.selectbox(
        tr("nat_province"), provinces, key="nat_province",
        format_func=lambda p: tr("nat_all_provinces") if p == ALL else p,
    )  # fmt: skip
    return str(chosen)


def shown_rows(table: pd.DataFrame, province: str) -> pd.DataFrame:
    """The rows of ``province`` (all when :data:`ALL`)."""
    return table if province == ALL else table[table["province"] == province]


def map_features(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The outlines of the table's prefectures with their colour and tooltip text."""
    shapes = outlines()[["adcode", "geometry"]].merge(table, on="adcode", how="inner")
    shares = shapes["share"].to_numpy(dtype=float)
    shapes["fill"] = [_rgb(share_color(s)) for s in shares]
    shapes["tip"] = [
        tr("nat_tip", name=r.name, province=r.province, share=num_text(r.share * 100, ".1f"),
           population=num_text(r.population), minutes=num_text(r.mean_minutes, ".1f"))
        if np.isfinite(r.share) else tr("nat_tip_none", name=r.name, province=r.province)
        for r in shapes.itertuples()
    ]  # fmt: skip
    return gpd.GeoDataFrame(shapes[["adcode", "fill", "tip", "geometry"]], crs="EPSG:4326")


def choropleth(table: pd.DataFrame) -> None:
    """The prefectures coloured by coverage share, fitted to the rows shown, and the legend."""
    import pydeck as pdk

    features = map_features(table)
    if features.empty:
        st.info(tr("nat_no_outline"))
        return
    layer = pdk.Layer(
        "GeoJsonLayer", json.loads(features.to_json(drop_id=True)), id="national-share",
        stroked=True, filled=True, get_fill_color="properties.fill",
        get_line_color=[90, 90, 90, 200], line_width_min_pixels=0.5, pickable=True,
    )  # fmt: skip
    deck = fitted_deck([layer], tuple(features.total_bounds), "{tip}", size=MAP_SIZE)
    st.pydeck_chart(deck, height=int(MAP_SIZE[1]), key="nat_map")
    swatches = [
        legend.Swatch(tr("nat_band", low=round(lo * 100), high=round(hi * 100)), color)
        for lo, hi, color in zip(SHARE_BREAKS, (*SHARE_BREAKS[1:], 1.0), SHARE_COLORS, strict=True)
    ]  # fmt: skip
    swatches.append(legend.Swatch(tr("nat_band_none"), NO_DATA_COLOR))
    legend.show(legend.swatch_chart(swatches, columns=3), key="nat_legend")


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """The table's main columns under Chinese (or English) labels, share in per cent."""
    out = pd.DataFrame(
        {
            tr("nat_col_name"): table["name"],
            tr("nat_col_province"): table["province"],
            tr("nat_col_adcode"): table["adcode"],
            tr("nat_col_population"): table["population"].round(0),
            tr("nat_col_covered"): table["covered"].round(0),
            tr("nat_col_share"): (table["share"] * 100).round(1),
            tr("nat_col_minutes"): table["mean_minutes"].round(1),
            tr("nat_col_not_assessed"): table["not_assessed_population"].round(0),
            tr("nat_col_problem"): table["error"].astype(str),
        }
    )
    return out.sort_values(tr("nat_col_share"), na_position="last").reset_index(drop=True)


def summary(table: pd.DataFrame) -> dict[str, str]:
    """Prefectures, residents assessed, their share covered (weighted) and the rows without."""
    done = table[np.isfinite(table["share"].to_numpy(dtype=float))]
    population = float(done["population"].sum())
    share = float(done["covered"].sum()) / population if population > 0 else float("nan")
    return {
        tr("nat_kpi_prefectures"): f"{len(done)} / {len(table)}",
        tr("nat_kpi_population"): num_text(population / 1e4, ",.0f") + tr("nat_unit_wan"),
        tr("nat_kpi_share"): num_text(share * 100, ".1f") + "%",
    }


def settings_caption(table: pd.DataFrame) -> str:
    """What the figures are: minutes, mode and cell size of the run (from the table)."""

    def first(column: str) -> Any:
        values = [v for v in table[column] if (isinstance(v, str) and v) or _finite(v)]
        return values[0] if values else None

    mode = first("mode")
    return tr(
        "nat_settings", minutes=num_text(first("minutes"), "g"),
        cell=num_text(first("cell_m"), "g"), mode=MODE(mode) if mode in MODE.members else MISSING,
    )  # fmt: skip


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and bool(np.isfinite(value))


def overview(source: Source, province: str) -> None:
    """Map and table side by side, the summary above and the CSV export below."""
    rows = shown_rows(source.table, province)
    for column, (label, value) in zip(st.columns(3), summary(rows).items(), strict=True):
        column.metric(label, value)
    st.caption(md_text(settings_caption(rows)))
    left, right = st.columns([3, 2])
    with left:
        choropleth(rows)
    with right:
        st.dataframe(readable(labelled(rows)), hide_index=True, height=560, key="nat_table")
    note = tr("nat_export_note", source=source.filename)
    download(
        tr("nat_download"), csv_with_note(note, labelled(rows)),
        "national_coverage.csv" if province == ALL else f"coverage_{province}.csv",
        "text/csv", key="nat_download",
    )  # fmt: skip


def modelled_banner(source: Source) -> None:
    """Say that the figures are modelled (bundled) or come from the uploaded file."""
    if source.bundled:
        st.warning(tr("nat_modelled"))
    else:
        st.info(tr("nat_uploaded", filename=md_text(source.filename)))


def page_body() -> Any:
    """The whole page below its title."""
    source = source_panel()
    modelled_banner(source)
    province = province_filter(source.table)
    overview(source, province)
    st.caption(tr("nat_county_note"))
