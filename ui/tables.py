"""Tables and text blocks shared by the pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridplan.facilities.types import type_label
from gridplan.plan.grids import GridPlan
from gridplan.plan.population import provenance_label
from ui.state import lang
from ui.texts import UNIT_LEVEL, md_text, tr


def seed_block(plan: GridPlan) -> None:
    """The plan's source as a document (title, issuer, date: never a file name), its words
    and the plan's notes."""
    with st.expander(tr("seed"), expanded=False):
        if plan.seed:
            s = plan.seed
            cite = tr("seed_cite", issuer=md_text(s.get("issuer", "")),
                      date=document_date(str(s.get("date", "")), lang()))  # fmt: skip
            st.markdown(f"**{document_title(str(s.get('title', '')), lang())}**  \n{cite}")
            if plan.seed_quote:
                st.markdown(f"> {md_text(plan.seed_quote)}")
        else:
            st.markdown(tr("seed_none"))
        for n in plan.notes:  # a plan's notes may carry names from planners' files
            st.markdown(f"- {md_text(n)}")
        if plan.networks:
            st.markdown(f"**{tr('networks')}**")
            for net in plan.networks:
                lead = md_text(net.lead_hospital)
                lead = tr("network_lead", lead=lead) if net.lead_hospital else ""
                name, note = md_text(net.name), md_text(net.note)
                st.markdown(tr("network_line", name=name, lead=lead, n=len(net.units), note=note))


def document_title(title: str, ui_lang: str) -> str:
    """A document's title as a Chinese text cites it: in 《》 (a title already in them is kept)."""
    if not title or ui_lang != "zh" or title.startswith("《"):
        return md_text(title)
    return md_text(f"《{title}》")


def document_date(date: str, ui_lang: str) -> str:
    """A document's date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) as a report writes it:
    2023年10月25日 in Chinese, 25 Oct 2023 in English; anything else as it is."""
    parts = date.split("-")
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3:
        return date
    y, *rest = (int(p) for p in parts)
    if rest and not 1 <= rest[0] <= 12:
        return date
    if ui_lang == "zh":
        return f"{y}年" + "".join(f"{v}{u}" for v, u in zip(rest, ("月", "日"), strict=False))
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    if len(rest) == 2:
        return f"{rest[1]} {months[rest[0] - 1]} {y}"
    return f"{months[rest[0] - 1]} {y}" if rest else str(y)


def grid_stats_table(grids: pd.DataFrame) -> pd.DataFrame:
    """Per-grid statistics with translated headers and provenance labels."""
    return pd.DataFrame(
        {
            tr("col_grid"): grids["name"],
            tr("col_lead"): grids["lead_hospital"].replace("", "—"),
            tr("col_n_units"): grids["n_units"],
            tr("col_pop"): grids["population"].round(0),
            tr("col_source"): grids["population_source"].map(lambda s: provenance_label(s, lang())),
            tr("col_age65"): grids["age65plus"].round(0),
            tr("col_share65"): grids["share_65plus_pct"].round(1),
            tr("col_area"): grids["area_km2"].round(1),
            tr("col_density"): grids["density"].round(0),
        }
    )


def grid_option_labels(grid_names: dict[str, str]) -> dict[str, str]:
    """A unique label per grid id for select boxes (the id is added to repeated names)."""
    counts = pd.Series(list(grid_names.values())).value_counts()
    return {g: (f"{n} [{g}]" if counts[n] > 1 else n) for g, n in grid_names.items()}


def assignment_changes(
    before: pd.DataFrame,
    after: pd.DataFrame,
    code_col: str,
    grid_col: str,
    label_to_id: dict[str, str],
) -> dict[str, str]:
    """Units whose grid was edited in the assignment table: ``{unit code: new grid id}``.

    Rows are joined by unit code, never by position, so a sorted or filtered
    table still edits the right units.  A label that names no grid (the
    "unassigned" entry) maps to ``""``.
    """
    merged = before[[code_col, grid_col]].merge(
        after[[code_col, grid_col]], on=code_col, suffixes=("_before", "_after")
    )
    moved = merged[merged[f"{grid_col}_before"] != merged[f"{grid_col}_after"]]
    return {
        str(code): label_to_id.get(str(label), "")
        for code, label in zip(moved[code_col], moved[f"{grid_col}_after"], strict=True)
    }


def planner_headers() -> dict[str, str]:
    """The header, in the UI language, of each column the library's tables name in code.

    Internal ids (``grid_id``, ``facility_id``) are not here: :func:`planner_table` drops them.
    """
    return {
        "unit_id": tr("col_code"),
        "name": tr("col_name"),
        "unit": tr("col_unit"),
        "level": tr("col_level"),
        "grid": tr("col_grid"),
        "type": tr("col_type"),
        "population": tr("col_pop"),
        "covered": tr("covered_pop"),
        "share": tr("covered_share"),
        "mean_minutes": tr("mean_minutes"),
        "median_minutes": tr("median_minutes"),
        "p90_minutes": tr("p90_minutes"),
        "not_assessed": tr("col_not_assessed"),
        "accessibility": tr("col_accessibility"),
        "cells": tr("col_cells"),
        "area_km2": tr("col_area"),
        "served": tr("col_served"),
        "within": tr("col_served_within"),
        "standard": tr("col_centre_standard"),
        "from_grid": tr("col_from_grid"),
        "to_grid": tr("col_to_grid"),
        "units": tr("col_units"),
        "nearest_minutes": tr("col_nearest_minutes"),
        "unreachable_population": tr("col_unreachable"),
        "reachable": tr("col_reachable"),
        "unreachable": tr("col_unreachable"),
        "unreachable_share": tr("col_unreachable_share"),
        "lon": tr("col_lon"),
        "lat": tr("col_lat"),
    }


#: Columns that only link rows to other tables (the grid's and unit's names are shown instead).
INTERNAL_COLUMNS = ("grid_id", "facility_id", "population_g", "from_grid_id", "to_grid_id")
#: Shares (0–1) shown as percentages with one decimal.
SHARE_COLUMNS = ("share", "unreachable_share")


def planner_table(table: pd.DataFrame, grid_names: dict[str, str] | None = None) -> pd.DataFrame:
    """A table of the library as a planner reads it: headers in the UI language, codes as words.

    Internal link columns are dropped (a ``grid_id`` becomes the grid's name when
    ``grid_names`` is given), unit levels and facility types are named, shares are
    percentages; a column with no known header keeps its own name (a test lists none).
    """
    out = table.copy()
    if grid_names is not None and "grid_id" in out.columns:
        out.insert(list(out.columns).index("grid_id"), "grid",
                   out["grid_id"].map(lambda g: grid_names.get(str(g), "—")))  # fmt: skip
    out = out.drop(columns=[c for c in INTERNAL_COLUMNS if c in out.columns])
    if "level" in out.columns:
        out["level"] = out["level"].map(lambda v: UNIT_LEVEL.get(v) if isinstance(v, str) else v)
    if "type" in out.columns:
        out["type"] = out["type"].map(lambda v: type_label(str(v), lang()))
    for c in SHARE_COLUMNS:
        if c in out.columns:
            out[c] = (out[c].astype(float) * 100).round(1)
    return out.rename(columns=planner_headers())
