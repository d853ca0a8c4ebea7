"""Lead hospitals with a place: chosen from the facility list or typed as coordinates; the
plan's networks listed with their members.

A lead hospital (and a member institution) is stored in the plan with its WGS-84
point, so the analyses that need one (the grid proposal's comparison, the report)
use it; a grid without one is said to lack it, never given a stand-in.  The
illustrative network's hospitals are not offered: they are not real places.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridplan.errors import InputError
from gridplan.facilities.table import facility_mask
from gridplan.facilities.types import HOSPITALS
from gridplan.plan.grids import Grid, GridPlan
from gridplan.plan.networks import network_records
from gridplan.plan.units import UnitSet
from ui import scenario, state
from ui.panels.common import readable, show_error
from ui.state import Selection
from ui.texts import LEAD_PLACING, SOURCE, join_list, md_text, tr


def real_hospitals(sel: Selection) -> pd.DataFrame:
    """The active hospitals of the facility list that are real places (uploaded, OpenStreetMap
    or added by the planner): the illustrative network's are left out."""
    fac = scenario.facilities(sel)
    hospitals = fac[facility_mask(fac, HOSPITALS)]
    return hospitals[hospitals["source"].astype(str) != "illustrative"]


def hospital_labels(hospitals: pd.DataFrame) -> dict[str, str]:
    """Each hospital's id → how the picker lists it: name · type · where the row comes from."""
    columns = ("facility_id", "name", "type", "source")
    rows = zip(*(hospitals[c] for c in columns), strict=True)
    return {
        str(f): tr("lead_option", name=n, type=kind, src=SOURCE(str(s))) for f, n, kind, s in rows
    }


def lead_status(plan: GridPlan) -> None:
    """How many grids have a located lead hospital, naming those without."""
    missing = plan.unlocated_grids()
    if not missing:
        st.success(tr("leads_all_located", n=len(plan.grids)))
        return
    names = join_list(md_text(g.name) for g in missing)
    st.info(tr("leads_missing", n=len(missing), total=len(plan.grids), names=names))


def leads_panel(sel: Selection, plan: GridPlan, units: UnitSet) -> None:
    """Place a grid's lead hospital and members: from the facility list, or by coordinates
    (the prefecture's centre as the example)."""
    lead_status(plan)
    hospitals = real_hospitals(sel)
    if hospitals.empty:
        st.caption(tr("leads_no_list"))
    grids = {g.grid_id: g for g in plan.grids}
    gid = st.selectbox(
        tr("leads_grid"), list(grids), format_func=lambda g: grids[g].name, key="leads_grid"
    )
    grid = grids[str(gid)]
    how = st.radio(
        tr("leads_how"), LEAD_PLACING.members, horizontal=True, key="leads_how",
        format_func=LEAD_PLACING, index=0 if len(hospitals) else 1,
    )  # fmt: skip
    with st.form(f"leads_{gid}", border=False):
        lead = (
            _lead_from_list(hospitals)
            if how == "from_list"
            else _lead_by_coordinates(grid, _centre(units))
        )
        labels = hospital_labels(hospitals)
        members = st.multiselect(
            tr("leads_members"), list(labels), format_func=labels.__getitem__,
            help=tr("leads_members_help"),
        )  # fmt: skip
        if st.form_submit_button(tr("leads_save")):
            chosen = hospitals[hospitals["facility_id"].astype(str).isin(members)]
            _save(sel, plan, str(gid), lead, chosen)


def _lead_from_list(hospitals: pd.DataFrame) -> tuple[str, float | None, float | None] | None:
    if hospitals.empty:
        return None
    labels = hospital_labels(hospitals)
    pick = st.selectbox(tr("leads_pick"), list(labels), format_func=labels.__getitem__)
    i = list(labels).index(str(pick))
    lon, lat = hospitals[["lon", "lat"]].to_numpy(dtype=float)[i]
    return str(hospitals["name"].iat[i]), float(lon), float(lat)


def _centre(units: UnitSet) -> tuple[float, float]:
    """The middle of the prefecture's drawn units (WGS-84): what the coordinates look like."""
    u = units.units
    x0, y0, x1, y1 = u[u["has_geometry"].to_numpy(dtype=bool)].total_bounds
    return (x0 + x1) / 2, (y0 + y1) / 2


def _lead_by_coordinates(
    grid: Grid, example: tuple[float, float]
) -> tuple[str, float | None, float | None]:
    name = st.text_input(tr("leads_name"), value=grid.lead_hospital)
    at = grid.lead_location or (None, None)
    c1, c2 = st.columns(2)
    lon = c1.number_input(
        tr("leads_lon"), value=at[0], format="%.6f", placeholder=f"{example[0]:.4f}"
    )
    lat = c2.number_input(
        tr("leads_lat"), value=at[1], format="%.6f", placeholder=f"{example[1]:.4f}"
    )
    return name, lon, lat


def _save(
    sel: Selection,
    plan: GridPlan,
    grid_id: str,
    lead: tuple[str, float | None, float | None] | None,
    members: pd.DataFrame,
) -> None:
    """Store the lead hospital and members in the plan; a bad location changes nothing."""
    try:
        new = plan
        if lead is not None and lead[0].strip():
            new = new.set_lead(grid_id, *lead)
        if len(members):
            grid = new.grid(grid_id)
            kept = [(m, *grid.member_locations.get(m, (None, None))) for m in grid.members]
            chosen = [
                (str(n), float(x), float(y))
                for n, x, y in zip(members["name"], members["lon"], members["lat"], strict=True)
            ]
            listed = {n for n, _, _ in chosen}
            new = new.set_members(grid_id, [*(k for k in kept if k[0] not in listed), *chosen])
    except InputError as exc:
        show_error(exc)
        return
    if new is not plan:
        state.set_plan(sel, new)
        st.rerun()


def networks_table(plan: GridPlan, units: UnitSet) -> pd.DataFrame:
    """The plan's networks as the grid page lists them: name, leading institution, where it
    is, member units and institutions."""
    rows = []
    for n in network_records(plan, units):
        lead = n["lead_hospital"]
        if lead["lon"] is not None:
            where = tr("net_located", lon=lead["lon"], lat=lead["lat"])
        elif n["lead_unit"]:
            where = tr("net_in_unit", unit=n["lead_unit"]["name"])
        else:
            where = tr("net_unknown")
        rows.append(
            {
                tr("net_name"): n["name"],
                tr("net_lead"): lead["name"] or tr("net_no_lead"),
                tr("net_where"): where,
                tr("net_units"): "、".join(m["name"] for m in n["members"]),
                tr("net_institutions"): "、".join(n["institutions"]),
            }
        )
    return pd.DataFrame(rows)


def networks_panel(plan: GridPlan, units: UnitSet) -> None:
    """The networks of the plan (1+1+N alliances), listed; drawn on the map as links."""
    if not plan.networks:
        return
    st.markdown(f"**{tr('networks_title')}**")
    st.dataframe(readable(networks_table(plan, units)), hide_index=True, width="stretch")
