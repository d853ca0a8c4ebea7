"""Lead hospitals and the travel-time cost of assigning a unit to a hospital."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from gridplan._validate import Problems
from gridplan.inputs.crs import transformer
from gridplan.plan.townships import reference_townships
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.speeds import (
    DEFAULT_DETOUR,
    MODE_SPEEDS_KMH,
    metres_per_minute,
    minutes_per_metre,
)

_LEGAL_PARENT_RE = re.compile(r"legally in ([^)）\s]+)")

#: Default speed (km/h) of the straight-line travel-time model: driving.
DEFAULT_SPEED_KMH = MODE_SPEEDS_KMH["drive"]


def regions_problems() -> Problems:
    """The collector of a grid proposal's input problems (error ``regions.invalid``)."""
    return Problems("regions.invalid", "cannot propose grids")


# --- hospitals and travel-time models -------------------------------------------------
@dataclass(frozen=True)
class Hospital:
    """A lead hospital: a name and a WGS-84 location."""

    name: str
    lon: float
    lat: float


HospitalLike = Hospital | tuple[float, float] | tuple[str, float, float]


class CostModel(Protocol):
    """Travel minutes from every unit to each of some hospitals."""

    @property
    def name(self) -> str: ...

    def unit_minutes(self, unit_set: UnitSet, hospitals: Sequence[Hospital]) -> NDArray[np.float64]:
        """Array (units × hospitals) of minutes; NaN where the model does not know."""
        ...


def _to_metric(unit_set: UnitSet) -> Transformer:
    return transformer("EPSG:4326", unit_set.metric_crs)


def _surface_cells(
    unit_set: UnitSet, surface: PopulationSurface
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Populated cells of ``surface``: metric x, y (unit set's CRS), residents, unit row."""
    rows, cols = np.nonzero(surface.population > 0)
    unit = surface.unit_index[rows, cols]
    keep = unit >= 0
    rows, cols, unit = rows[keep], cols[keep], unit[keep]
    w = surface.population[rows, cols].astype(np.float64)
    x, y = surface.grid.centres(rows, cols)
    if surface.grid.crs != unit_set.metric_crs:
        tr = transformer(surface.grid.crs, unit_set.metric_crs)
        x, y = (np.asarray(v, dtype=float) for v in tr.transform(x, y))
    pos = {uid: i for i, uid in enumerate(unit_set.units["unit_id"].astype(str))}
    to_row = np.array([pos.get(str(uid), -1) for uid in surface.unit_ids], dtype=np.int64)
    row = to_row[unit] if len(to_row) else np.zeros(0, dtype=np.int64)
    ok = row >= 0
    return x[ok], y[ok], w[ok], row[ok]


def unit_points(unit_set: UnitSet, surface: PopulationSurface | None = None) -> NDArray[np.float64]:
    """The point of every unit in the metric CRS (array units × 2; NaN without polygon).

    The population-weighted centroid of the unit's cells when ``surface`` is
    given and the unit holds populated cells; otherwise the representative
    point of its polygon (a point inside it).
    """
    u = unit_set.units
    out = np.full((len(u), 2), np.nan)
    has = u["has_geometry"].to_numpy(dtype=bool)
    if has.any():
        geoms = u.geometry[has].to_crs(unit_set.metric_crs).to_numpy()
        pts = shapely.point_on_surface(geoms)
        out[has, 0] = shapely.get_x(pts)
        out[has, 1] = shapely.get_y(pts)
    if surface is not None:
        x, y, w, row = _surface_cells(unit_set, surface)
        wsum = np.bincount(row, weights=w, minlength=len(u))
        cx = np.bincount(row, weights=w * x, minlength=len(u))
        cy = np.bincount(row, weights=w * y, minlength=len(u))
        ok = (wsum > 0) & has
        out[ok, 0] = cx[ok] / wsum[ok]
        out[ok, 1] = cy[ok] / wsum[ok]
    return out


def unit_lonlat(unit_set: UnitSet, surface: PopulationSurface | None = None) -> NDArray[np.float64]:
    """:func:`unit_points` as WGS-84 longitude, latitude (array units × 2)."""
    pts = unit_points(unit_set, surface)
    back = transformer(unit_set.metric_crs, "EPSG:4326")
    lon, lat = back.transform(pts[:, 0], pts[:, 1])
    return np.column_stack([np.atleast_1d(lon), np.atleast_1d(lat)]).astype(np.float64)


@dataclass
class StraightLineCost:
    """Straight line × detour at a constant speed, from each unit's point.

    See :func:`unit_points` for the point (population-weighted centroid with a
    ``surface``, else representative point).  Defaults: 30 km/h, detour 1.3.

    With ``cell_mean`` (needs ``surface``), a unit's minutes are instead the
    population-weighted mean over its cells of the minutes from each cell:
    travel inside the unit counts too, so a hospital in the unit is not 0
    minutes away from all its residents.  Slower: cells × hospitals distances.
    """

    speed_kmh: float = DEFAULT_SPEED_KMH
    detour: float = DEFAULT_DETOUR
    surface: PopulationSurface | None = None
    cell_mean: bool = False
    name: str = "straight"

    def __post_init__(self) -> None:
        minutes_per_metre(self.speed_kmh, self.detour)  # raises traveltime.invalid
        if self.cell_mean and self.surface is None:
            problems = regions_problems()
            problems.add("regions.cell_mean", "cell_mean needs a population surface")
            problems.raise_if_any()

    def unit_minutes(self, unit_set: UnitSet, hospitals: Sequence[Hospital]) -> NDArray[np.float64]:
        pts = unit_points(unit_set, self.surface)
        if not hospitals:
            return np.zeros((len(pts), 0))
        hx, hy = (
            np.atleast_1d(np.asarray(v, dtype=float))
            for v in _to_metric(unit_set).transform(
                np.array([h.lon for h in hospitals]), np.array([h.lat for h in hospitals])
            )
        )
        d = np.hypot(pts[:, [0]] - hx[None, :], pts[:, [1]] - hy[None, :])
        if self.cell_mean and self.surface is not None:
            x, y, w, row = _surface_cells(unit_set, self.surface)
            wsum = np.bincount(row, weights=w, minlength=len(pts))
            has = wsum > 0
            for j in range(len(hospitals)):
                dj = np.hypot(x - hx[j], y - hy[j])
                s = np.bincount(row, weights=w * dj, minlength=len(pts))
                d[has, j] = s[has] / wsum[has]
        return np.asarray(d * self.detour / metres_per_minute(self.speed_kmh), dtype=np.float64)


@dataclass
class MatrixCost:
    """Precomputed minutes: rows ``unit_id``, columns hospital names.

    Units or hospitals not in the table get NaN (not assessed).
    """

    minutes: pd.DataFrame
    name: str = "matrix"

    def unit_minutes(self, unit_set: UnitSet, hospitals: Sequence[Hospital]) -> NDArray[np.float64]:
        m = self.minutes.copy()
        m.index = m.index.astype(str)
        m.columns = [str(c) for c in m.columns]
        m = m[~m.index.duplicated()]
        out = m.reindex(
            index=unit_set.units["unit_id"].astype(str), columns=[h.name for h in hospitals]
        )
        return out.to_numpy(dtype=np.float64)


def default_zone_anchors(unit_set: UnitSet) -> dict[str, list[str]]:
    """Where each undrawn unit's residents are taken to live, for travel time.

    From the embedded township reference: the districts named as the legal
    parents of a functional zone's townships (``legally in 裕华区``).  Zones
    the reference says nothing about get no anchor.
    """
    u = unit_set.units
    free = u.loc[~u["has_geometry"].astype(bool), "unit_id"].astype(str)
    if free.empty:
        return {}
    ref = reference_townships(unit_set.prefecture.adcode)
    by_name = dict(zip(u["county_name"].astype(str), u["county_adcode"].astype(str), strict=False))
    out: dict[str, list[str]] = {}
    for z in free:
        notes = ref.loc[ref["county_adcode"].astype(str) == z, "administered_by"].dropna()
        anchors: list[str] = []
        for note in notes.astype(str):
            for name in _LEGAL_PARENT_RE.findall(note):
                code = by_name.get(name)
                if code and code != z and code not in anchors:
                    anchors.append(code)
        if anchors:
            out[z] = anchors
    return out


def _fill_free_costs(
    unit_set: UnitSet,
    minutes: NDArray[np.float64],
    zone_anchors: Mapping[str, Sequence[str]] | None,
) -> NDArray[np.float64]:
    """Rows of undrawn units with unknown minutes: the mean over their anchors' rows
    (``zone_anchors``, default :func:`default_zone_anchors`)."""
    anchors = default_zone_anchors(unit_set) if zone_anchors is None else zone_anchors
    u = unit_set.units
    out = minutes.copy()
    ids = u["unit_id"].astype(str).to_numpy()
    county = u["county_adcode"].astype(str).to_numpy()
    drawn = u["has_geometry"].to_numpy(dtype=bool)
    for r in np.flatnonzero(~drawn):
        if np.isfinite(out[r]).all():
            continue
        codes = list(anchors.get(ids[r], ()))
        rows = np.flatnonzero(drawn & (np.isin(ids, codes) | np.isin(county, codes)))
        if len(rows):
            vals = out[rows]
            ok = np.isfinite(vals)
            n = ok.sum(axis=0)
            total = np.where(ok, vals, 0.0).sum(axis=0)
            out[r] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    return out
