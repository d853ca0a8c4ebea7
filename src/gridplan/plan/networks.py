"""Lead hospitals, members and networks as records and map links: located or not, never guessed.

A lead hospital or member institution is *located* when the plan stores its
WGS-84 point (chosen from the facility list or typed by the planner).  A
network (a prefecture-wide alliance, see :class:`~gridplan.plan.grids.Network`)
links its leading institution with its member units; when the leading
institution has no location but the unit it is in is known (``lead_unit``),
its links start from that unit's point, and say so (``origin_located`` false).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from gridplan.inputs.crs import project_geoms
from gridplan.plan.grids import Grid, GridPlan, resolve_assignment
from gridplan.plan.units import UnitSet

#: Columns of :func:`network_links`.
LINK_COLUMNS = (
    "kind", "group_id", "group", "origin", "origin_located", "lon0", "lat0", "member", "lon1",
    "lat1",
)  # fmt: skip


def site_record(name: str, location: tuple[float, float] | None) -> dict[str, Any]:
    """``{"name", "lon", "lat"}``; lon and lat ``None`` when the site is not located."""
    lon, lat = location if location is not None else (None, None)
    return {"name": name, "lon": lon, "lat": lat}


def lead_lonlat(plan: GridPlan, grid_id: str) -> dict[str, float | None]:
    """``lead_lon`` and ``lead_lat`` of a grid's lead hospital (``None`` when not located), as
    the exports' attributes carry them."""
    at = plan.grid(grid_id).lead_location
    return {"lead_lon": at[0] if at else None, "lead_lat": at[1] if at else None}


def member_records(grid: Grid) -> list[dict[str, Any]]:
    """The grid's member institutions, each ``{"name", "lon", "lat"}`` (``None`` unlocated)."""
    out = []
    for name in grid.members:
        at = grid.member_locations.get(name)
        out.append(site_record(name, (float(at[0]), float(at[1])) if at else None))
    return out


def unit_codes_points(unit_set: UnitSet, codes: list[str]) -> dict[str, tuple[float, float]]:
    """A WGS-84 point inside each of ``codes`` (a unit, or a county of a township layer).

    The point on the surface of the unit's polygon, or of its townships' union;
    codes without a drawn unit are left out.
    """
    u = unit_set.units
    drawn = u[u["has_geometry"].to_numpy(dtype=bool)]
    out: dict[str, tuple[float, float]] = {}
    metric = unit_set.metric_crs
    for code in dict.fromkeys(codes):
        rows = drawn[(drawn["unit_id"] == code) | (drawn["county_adcode"] == code)]
        if rows.empty:
            continue
        geoms = project_geoms(rows.geometry.to_numpy(), rows.crs, metric)
        point = shapely.point_on_surface(shapely.union_all(geoms))
        ((lon, lat),) = project_geoms(np.array([point]), metric, "EPSG:4326")[0].coords
        out[code] = (float(lon), float(lat))
    return out


def _unit_names(unit_set: UnitSet) -> dict[str, str]:
    u = unit_set.units
    return dict(zip(u["unit_id"].astype(str), u["name"].astype(str), strict=True))


def network_records(plan: GridPlan, unit_set: UnitSet) -> list[dict[str, Any]]:
    """Each network: id, name, kind, its leading hospital (``{"name", "lon", "lat"}``), the unit
    it is in, its member units (each with the grid it belongs to), member institutions, note."""
    names = _unit_names(unit_set)
    u = unit_set.units
    assignment = dict(zip(u["unit_id"].astype(str), resolve_assignment(plan, u), strict=True))
    grid_names = {g.grid_id: g.name for g in plan.grids}
    out = []
    for n in plan.networks:
        members = []
        for code in n.units:
            gid = assignment.get(str(code))
            members.append(
                {
                    "unit_id": str(code),
                    "name": names.get(str(code), str(code)),
                    "grid_id": gid,
                    "grid": grid_names.get(gid) if gid else None,
                }
            )
        lead_unit = (
            {"unit_id": n.lead_unit, "name": names.get(n.lead_unit, n.lead_unit)}
            if n.lead_unit
            else None
        )
        out.append(
            {
                "network_id": n.network_id,
                "name": n.name,
                "kind": n.kind,
                "lead_hospital": site_record(n.lead_hospital, n.lead_location),
                "lead_unit": lead_unit,
                "members": members,
                "institutions": list(n.members),
                "note": n.note,
            }
        )
    return out


def network_links(plan: GridPlan, unit_set: UnitSet) -> pd.DataFrame:
    """Lines to draw: each network's leading institution to its member units, and each grid's
    located lead hospital to its located members (columns :data:`LINK_COLUMNS`).

    A network whose leading institution has neither a location nor a ``lead_unit``
    has nowhere to start: it is listed, not drawn.
    """
    codes = [c for n in plan.networks for c in [*n.units, n.lead_unit] if c]
    points = unit_codes_points(unit_set, codes) if codes else {}
    names = _unit_names(unit_set)
    rows: list[tuple[Any, ...]] = []
    for n in plan.networks:
        origin = n.lead_location or points.get(n.lead_unit)
        if origin is None:
            continue
        label = n.lead_hospital or names.get(n.lead_unit, n.lead_unit)
        for code in n.units:
            if code == n.lead_unit or code not in points:
                continue
            end = points[code]
            rows.append(("network", n.network_id, n.name, label, n.lead_location is not None,
                         *origin, names.get(code, code), *end))  # fmt: skip
    for g in plan.grids:
        if g.lead_location is None:
            continue
        for name, at in g.member_locations.items():
            rows.append(("members", g.grid_id, g.name, g.lead_hospital, True, *g.lead_location,
                         name, float(at[0]), float(at[1])))  # fmt: skip
    return pd.DataFrame(rows, columns=list(LINK_COLUMNS))
