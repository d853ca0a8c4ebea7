"""Tables and text blocks shared by the pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridplan.plan.grids import GridPlan
from gridplan.plan.population import provenance_label
from ui.state import lang
from ui.texts import md_text, tr


def seed_block(plan: GridPlan) -> None:
    """Cite the seed document of a plan and show its notes."""
    with st.expander(tr("seed"), expanded=False):
        if plan.seed:
            s = plan.seed
            cite = tr("seed_cite", issuer=s.get("issuer", ""), date=s.get("date", ""),
                      file=s.get("file", ""))  # fmt: skip
            st.markdown(f"**{s.get('title', '')}**  \n{cite}")
            if plan.seed_quote:
                st.markdown(f"> {plan.seed_quote}")
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
