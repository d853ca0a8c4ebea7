"""The illustrative facility network (示意): placed by a documented rule, not real locations."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridplan._types import BoolArray, FloatArray, IntArray
from gridplan.errors import InputError
from gridplan.facilities.types import _finish, empty_facilities
from gridplan.inputs.crs import transformer
from gridplan.plan.units import UnitSet
from gridplan.solvers.kmeans import Clusters, weighted_kmeans
from gridplan.surface.grid import PopulationSurface

# --------------------------------------------------------------------------------------
# illustrative network

#: Residents per illustrative primary-care point in urban units (centre or station).
STATION_PER_RESIDENTS = 10_000
#: Populated cells per unit given to k-means: a seeded, weighted sample of
#: ``KMEANS_CELLS_PER_POINT`` per point to place, at least ``MIN_KMEANS_CELLS``
#: and at most ``MAX_KMEANS_CELLS`` (all cells when the unit has fewer).
KMEANS_CELLS_PER_POINT = 50
MIN_KMEANS_CELLS = 4_000
MAX_KMEANS_CELLS = 20_000
#: Seeded k-means restarts per placement (see :func:`gridplan.solvers.kmeans.weighted_kmeans`).
#: One: scikit-learn's greedy k-means++ seeding alone ends nearer the best of many
#: restarts than the earlier hand-written k-means did (Shijiazhuang's 22 units: weighted
#: inertia on average 1.0 % above the best found, at worst 3.8 %, against 1.6 % and
#: 11 %); two or four restarts gain under 1 % for 1.6 to 2.7 times the time.
KMEANS_N_INIT = 1


def is_urban_unit(name: str, level: str) -> bool:
    """Whether a unit is urban: a 街道/办事处 township, or a county-level 区."""
    if level == "township":
        return name.endswith(("街道", "办事处"))
    return name.endswith("区")


def _kmeans(xy: FloatArray, w: FloatArray, k: int, seed: list[int]) -> Clusters:
    """Weighted k-means clusters of the cells, each with at least one member."""
    return weighted_kmeans(xy, w, k, seed=seed, n_init=KMEANS_N_INIT).nonempty()


def _snap(xy: FloatArray, labels: IntArray, centres: FloatArray) -> tuple[IntArray, IntArray]:
    """For each cluster, its member nearest the centre and the second nearest (or the same)."""
    d = np.hypot(*(xy - centres[labels]).T)
    order = np.lexsort((d, labels))
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, np.arange(len(centres)))
    ends = np.searchsorted(sorted_labels, np.arange(len(centres)), side="right")
    first = order[starts]
    second = order[np.where(ends - starts > 1, starts + 1, starts)]
    return first, second


def illustrative_facilities(
    unit_set: UnitSet,
    surface: PopulationSurface,
    *,
    per_residents: float = 50_000,
    station_per_residents: float | None = STATION_PER_RESIDENTS,
    seed: int = 0,
) -> pd.DataFrame:
    """The embedded default facility network (示意网络), placed by a fixed rule.

    For offline use when no real facility list has been uploaded; every row
    has ``source="illustrative"`` and a name starting with 示意.  Doctors,
    GPs and beds are unknown (NaN).

    The rule follows the Zhengzhou resource standard (郑政〔2016〕31号, seed
    004): *one standard township health centre per township; one community
    health centre per 街道 or per 30,000-100,000 residents*.

    1. **Centres.**  Each planning unit with residents on the surface gets
       ``max(1, ceil(P / per_residents))`` centres, P being its residents on
       the surface.  ``per_residents`` defaults to 50,000, inside Zhengzhou's
       30,000-100,000 band (Shijiazhuang's 196 township/community centres in
       its 16 county medical communities serve about 37,000 residents each).
       When townships are loaded every township/街道 thus gets at least one,
       as the standard asks.  Type: 社区卫生服务中心 in urban units, 乡镇卫生院
       elsewhere.  Urban means a county-level unit whose name ends with 区
       (a district), or a township whose name ends with 街道/办事处.  (Some
       districts, e.g. 藁城区, are largely rural: a simplification.)
    2. **Stations** (urban units only).  Urban units get
       ``ceil(P / station_per_residents)`` primary-care points in all
       (default one per 10,000 residents, about the residents a 15-minute
       walk reaches in a dense district; an assumption, no national count
       standard), of which the centres above are a part and the rest are
       社区卫生服务站.  ``station_per_residents=None`` places no stations.
    3. **Placement.**  Points sit at population-weighted k-means centres
       (weights = residents per cell; scikit-learn's k-means, see
       :func:`gridplan.solvers.kmeans.weighted_kmeans`) of the unit's
       populated cells: all of them, or a seeded sample of 50 per point to
       place (4,000 to 20,000 cells; weights scaled up to the unit's total).
       Each point is snapped to the nearest populated cell of its cluster,
       so it lies inside the unit.  In urban units the
       points are grouped by a second weighted k-means into as many groups
       as centres; in each group the point nearest the group's centroid is
       the centre, the others are stations.
    4. **Hospitals.**  One 二级医院 per county-level unit (``county_adcode``,
       functional zones included where their townships are drawn), in the
       cell next to the centre serving most residents: the county seat's
       general hospital.
    5. **Not placed:** 村卫生室 (one per administrative village in reality;
       village locations are not in the embedded data) and tertiary
       hospitals, so rural 15-minute coverage by this network is a lower
       bound.  Units without cells (functional zones without townships) get
       nothing: their residents are not on the map either.

    With the census surface of Shijiazhuang (11.2 M residents) this gives
    about 680 facilities: ~230 centres, ~430 stations and 22 hospitals.

    Deterministic: the same inputs and ``seed`` give the same table.

    Returns
    -------
    pandas.DataFrame
        A facility table.  Ids: ``ILL-<unit>-C01`` (centre), ``ILL-<unit>-S001``
        (station), ``ILL-<county>-H`` (hospital).
    """
    if not per_residents > 0:
        raise InputError(
            f"per_residents must be positive, got {per_residents!r}",
            code="facilities.per_residents",
            params={"name": "per_residents", "value": per_residents},
        )
    if station_per_residents is not None and not station_per_residents > 0:
        raise InputError(
            f"station_per_residents must be positive, got {station_per_residents!r}",
            code="facilities.per_residents",
            params={"name": "station_per_residents", "value": station_per_residents},
        )
    info = unit_set.units.set_index("unit_id")
    rows: list[dict[str, Any]] = []
    # per county: (residents served, x, y, county name) of the best centre's second cell
    county_best: dict[str, tuple[float, float, float, str]] = {}
    for u, ucells in _cells_by_unit(surface):
        uid = surface.unit_ids[u]
        uname, level, county, county_name = _unit_meta(info, uid)
        urban = is_urban_unit(uname, level)
        weights = surface.population.ravel()[ucells].astype(np.float64)
        total = float(weights.sum())
        n_centres = max(1, math.ceil(total / per_residents))
        n_points = n_centres
        if urban and station_per_residents is not None:
            n_points = max(n_centres, math.ceil(total / station_per_residents))
        ucells, weights = _sample(ucells, weights, n_points, [seed, u])
        r, c = np.divmod(ucells, surface.grid.ncols)
        xy = np.column_stack(surface.grid.centres(r, c))
        placed = _place(xy, weights, n_centres, n_points, [seed, u])
        unit_rows, centres = _unit_rows(uid, uname, urban, placed)
        rows += unit_rows
        for j in centres:
            best = county_best.get(county)
            if best is None or placed.served[j] > best[0]:
                alt = placed.alt[j]
                county_best[county] = (float(placed.served[j]), alt[0], alt[1], county_name)
    rows += [
        {"facility_id": f"ILL-{county}-H", "name": f"示意医院 {cname}", "type": "二级医院",
         "x": hx, "y": hy}
        for county, (_, hx, hy, cname) in county_best.items()
    ]  # fmt: skip
    return _as_table(rows, surface.grid.crs)


def _cells_by_unit(surface: PopulationSurface) -> Iterator[tuple[int, IntArray]]:
    """Each unit with populated cells, and those cells (flat indices, in raster order)."""
    pop = surface.population.ravel()
    uidx = surface.unit_index.ravel()
    cells = np.flatnonzero((pop > 0) & (uidx >= 0))
    cell_unit = uidx[cells]
    order = np.argsort(cell_unit, kind="stable")
    cells, cell_unit = cells[order], cell_unit[order]
    n_units = len(surface.unit_ids)
    starts = np.searchsorted(cell_unit, np.arange(n_units))
    ends = np.searchsorted(cell_unit, np.arange(n_units), side="right")
    for u in range(n_units):
        if ends[u] > starts[u]:
            yield u, cells[starts[u] : ends[u]]


def _unit_meta(info: pd.DataFrame, uid: str) -> tuple[str, str, str, str]:
    """Name, level, county code and county name of a unit (the id itself when unknown)."""
    if uid not in info.index:
        return uid, "county", uid, uid
    meta = info.loc[uid]
    return (
        str(meta["name"]),
        str(meta["level"]),
        str(meta["county_adcode"]),
        str(meta["county_name"]),
    )


def _sample(
    cells: IntArray, weights: FloatArray, n_points: int, seed: list[int]
) -> tuple[IntArray, FloatArray]:
    """A seeded sample of the cells for k-means (weights scaled up to the unit's total)."""
    n_sample = min(MAX_KMEANS_CELLS, max(MIN_KMEANS_CELLS, KMEANS_CELLS_PER_POINT * n_points))
    if len(cells) <= n_sample:
        return cells, weights
    total = float(weights.sum())
    pick = np.sort(np.random.default_rng(seed).choice(len(cells), n_sample, replace=False))
    picked = weights[pick]
    return cells[pick], picked * (total / picked.sum())


@dataclass
class _Placed:
    """A unit's points: cell, the cell next to it, whether a centre, residents it serves."""

    pts: FloatArray
    alt: FloatArray
    is_centre: BoolArray
    served: FloatArray


def _place(
    xy: FloatArray,
    weights: FloatArray,
    n_centres: int,
    n_points: int,
    seed: list[int],
) -> _Placed:
    """Points at k-means centres snapped to cells; with more points than centres, a second
    k-means groups them and the point nearest each group's centre is the centre."""
    points = _kmeans(xy, weights, n_points, seed)
    first, second = _snap(xy, points.labels, points.centres)
    pts = xy[first]
    placed = _Placed(pts, xy[second], np.ones(len(pts), dtype=bool), points.weights.copy())
    if len(pts) > min(n_centres, len(pts)):
        groups = _kmeans(pts, points.weights, n_centres, [*seed, 1])
        heads, _ = _snap(pts, groups.labels, groups.centres)
        placed.is_centre[:] = False
        placed.is_centre[heads] = True
        placed.served = np.zeros(len(pts))
        placed.served[heads] = groups.weights
    return placed


def _unit_rows(
    uid: str, uname: str, urban: bool, placed: _Placed
) -> tuple[list[dict[str, Any]], list[int]]:
    """The unit's facility rows, numbered north to south, west to east, and its centres in
    that order."""
    ctype = "社区卫生服务中心" if urban else "乡镇卫生院"
    pts = placed.pts
    rows: list[dict[str, Any]] = []
    centres: list[int] = []
    for kind, mask, ftype, label in (
        ("C", placed.is_centre, ctype, "示意中心"),
        ("S", ~placed.is_centre, "社区卫生服务站", "示意服务站"),
    ):
        sel = np.flatnonzero(mask)
        sel = sel[np.lexsort((pts[sel, 0], -pts[sel, 1]))]
        width = 2 if kind == "C" else 3
        for k, j in enumerate(sel, start=1):
            rows.append(
                {
                    "facility_id": f"ILL-{uid}-{kind}{k:0{width}d}",
                    "name": f"{label} {uname}-{k:0{width}d}",
                    "type": ftype,
                    "x": pts[j, 0],
                    "y": pts[j, 1],
                }
            )
        if kind == "C":
            centres = [int(j) for j in sel]
    return rows, centres


def _as_table(rows: list[dict[str, Any]], crs: str) -> pd.DataFrame:
    """The facility table of the rows (metric x/y to WGS-84; no beds, doctors or GPs)."""
    if not rows:
        return empty_facilities()
    df = pd.DataFrame(rows)
    tr = transformer(crs, "EPSG:4326")
    lon, lat = tr.transform(df["x"].to_numpy(), df["y"].to_numpy())
    df["lon"] = np.round(np.asarray(lon, dtype=float), 7)
    df["lat"] = np.round(np.asarray(lat, dtype=float), 7)
    df["beds"] = np.nan
    df["doctors"] = np.nan
    df["gps"] = np.nan
    df["source"] = "illustrative"
    df["active"] = True
    return _finish(df)
