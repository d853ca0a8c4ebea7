"""Demand points (aggregated populated cells) and candidate sites."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from gridplan._types import FloatArray, IntArray
from gridplan.inputs.crs import transformer
from gridplan.siting._checks import _xy, siting_problems
from gridplan.surface.grid import CellGrid, PopulationSurface

#: Default number of demand points :func:`demand_points` aggregates a surface to.
DEFAULT_MAX_DEMAND = 20_000
#: Assignment amounts below this (share of a demand point) are reported as 0.
_FLOW_EPS = 1e-9


# --- demand and candidates ----------------------------------------------------------


def _blocks(rows: IntArray, cols: IntArray, grid: CellGrid, block_m: float) -> tuple[IntArray, int]:
    """Block label of each cell for square blocks of ``block_m`` from the grid's corner."""
    f = block_m / grid.cell_m
    br = np.floor((rows + 0.5) / f).astype(np.int64)
    bc = np.floor((cols + 0.5) / f).astype(np.int64)
    nbc = int(bc.max()) + 1 if len(bc) else 1
    key = br * nbc + bc
    uniq, label = np.unique(key, return_inverse=True)
    return label.astype(np.int64), len(uniq)


def _count_blocks(rows: IntArray, cols: IntArray, grid: CellGrid, block_m: float) -> int:
    f = block_m / grid.cell_m
    br = np.floor((rows + 0.5) / f).astype(np.int64)
    bc = np.floor((cols + 0.5) / f).astype(np.int64)
    nbc = int(bc.max()) + 1 if len(bc) else 1
    return int(np.count_nonzero(np.bincount(br * nbc + bc)))


def _block_size_for(rows: IntArray, cols: IntArray, grid: CellGrid, max_blocks: int) -> float:
    """The smallest block size (to 0.5 %) giving at most ``max_blocks`` occupied blocks."""
    lo, hi = grid.cell_m, grid.cell_m
    while _count_blocks(rows, cols, grid, hi) > max_blocks:
        lo, hi = hi, hi * 2
    if hi == grid.cell_m:
        return hi
    while hi - lo > 0.005 * lo:
        mid = 0.5 * (lo + hi)
        if _count_blocks(rows, cols, grid, mid) > max_blocks:
            lo = mid
        else:
            hi = mid
    return hi


def _representatives(
    x: FloatArray, y: FloatArray, w: FloatArray, label: IntArray, n: int
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """Per block: total weight, weighted centroid and the cell nearest the centroid."""
    tot = np.bincount(label, weights=w, minlength=n).astype(np.float64)
    safe = np.where(tot > 0, tot, 1.0)
    cx = np.bincount(label, weights=w * x, minlength=n) / safe
    cy = np.bincount(label, weights=w * y, minlength=n) / safe
    d = np.hypot(x - cx[label], y - cy[label])
    order = np.lexsort((d, label))
    first = order[np.searchsorted(label[order], np.arange(n), side="left")]
    return tot, cx, cy, first.astype(np.int64)


@dataclass
class Demand:
    """Demand points: weighted metric points, each with a representative cell.

    ``xy`` are population-weighted centroids of the aggregated cells;
    ``rc`` the populated cell nearest each centroid (for raster travel
    times); ``cell_point[c]`` the demand point of populated cell ``c`` (cells
    as ``numpy.nonzero(surface.population > 0)``), for mapping results back.
    """

    xy: FloatArray
    weights: FloatArray
    rc: IntArray | None = None
    crs: str | None = None
    block_m: float = 0.0
    cell_point: IntArray | None = None

    def __len__(self) -> int:
        return len(self.weights)

    def cells(self, grid: CellGrid) -> IntArray:
        """Row, column of each point's cell on ``grid``."""
        if self.rc is not None:
            return self.rc
        r, c, inside = grid.cell_of(self.xy[:, 0], self.xy[:, 1])
        if not inside.all():
            problems = siting_problems()
            n_out = int((~inside).sum())
            problems.add(
                "optimize.rc_outside",
                f"demand: {n_out} cell(s) outside the {grid.nrows}×{grid.ncols} grid",
                name="demand",
                n=n_out,
            )
            problems.raise_if_any()
        return np.column_stack([r, c]).astype(np.int64)


def demand_points(
    surface: PopulationSurface,
    max_points: int | None = DEFAULT_MAX_DEMAND,
    *,
    block_m: float | None = None,
) -> Demand:
    """The populated cells as demand points, aggregated to at most ``max_points``.

    Cells are grouped into square blocks (``block_m``, or the smallest size,
    found by bisection, that leaves at most ``max_points`` occupied blocks);
    each block is one point at its population-weighted centroid with the
    block's residents.  Population is conserved exactly (``unplaced``
    residents excepted: they have no cell).  ``max_points=None`` and no
    ``block_m``: one point per populated cell.
    """
    problems = siting_problems()
    if max_points is not None:
        problems.integer("max_points", max_points, 1, 10**8)
    if block_m is not None:
        problems.number("block_m", block_m, low=surface.grid.cell_m, low_inclusive=True)
    problems.raise_if_any()
    grid = surface.grid
    rows, cols = np.nonzero(surface.population > 0)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    w = surface.population[rows, cols].astype(np.float64)
    x, y = grid.centres(rows, cols)
    if block_m is None:
        if max_points is None or len(rows) <= max_points:
            return Demand(
                xy=np.column_stack([x, y]),
                weights=w,
                rc=np.column_stack([rows, cols]),
                crs=grid.crs,
                block_m=0.0,
                cell_point=np.arange(len(rows), dtype=np.int64),
            )
        block_m = _block_size_for(rows, cols, grid, max_points)
    label, n = _blocks(rows, cols, grid, float(block_m))
    tot, cx, cy, first = _representatives(x, y, w, label, n)
    return Demand(
        xy=np.column_stack([cx, cy]),
        weights=tot,
        rc=np.column_stack([rows[first], cols[first]]),
        crs=grid.crs,
        block_m=float(block_m),
        cell_point=label,
    )


@dataclass
class Candidates:
    """Candidate sites in a metric CRS, with ids and where they come from."""

    xy: FloatArray
    ids: list[str]
    crs: str
    source: str = "user"

    def __post_init__(self) -> None:
        problems = siting_problems()
        self.xy = _xy("candidates", self.xy, problems)
        if len(self.ids) != len(self.xy):
            problems.add(
                "optimize.ids",
                f"{len(self.ids)} ids for {len(self.xy)} candidates",
                n=len(self.ids),
                expected=len(self.xy),
            )
        problems.raise_if_any()

    def __len__(self) -> int:
        return len(self.xy)

    def take(self, index: ArrayLike) -> Candidates:
        idx = np.asarray(index, dtype=np.int64)
        return Candidates(self.xy[idx], [self.ids[i] for i in idx], self.crs, self.source)

    def lonlat(self) -> tuple[FloatArray, FloatArray]:
        """WGS-84 longitude and latitude of the candidates."""
        tr = transformer(self.crs, "EPSG:4326")
        lon, lat = tr.transform(self.xy[:, 0], self.xy[:, 1])
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def excluding(self, areas: Any, areas_crs: str = "EPSG:4326") -> Candidates:
        """The candidates outside ``areas`` (shapely geometries, a GeoSeries/GeoDataFrame).

        Areas are in WGS-84 unless ``areas_crs`` says otherwise (a
        GeoSeries/GeoDataFrame with a CRS uses its own).  A candidate on an
        area's boundary is excluded.
        """
        return self.take(np.flatnonzero(~self.in_areas(areas, areas_crs)))

    def in_areas(self, areas: Any, areas_crs: str = "EPSG:4326") -> NDArray[np.bool_]:
        """Whether each candidate lies in (or on the boundary of) one of ``areas``."""
        geoms, src = _geometries(areas, areas_crs)
        if len(geoms) == 0 or len(self) == 0:
            return np.zeros(len(self), dtype=bool)
        tr = transformer(src, self.crs)

        def project(coords: FloatArray) -> FloatArray:
            x, y = tr.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        if CRS.from_user_input(src).is_geographic:
            geoms = shapely.segmentize(geoms, 0.01)  # edges follow the projection (~1 km)
        metric = shapely.transform(geoms, project)
        union = shapely.union_all(metric)
        return np.asarray(shapely.intersects_xy(union, self.xy[:, 0], self.xy[:, 1]), dtype=bool)


def _geometries(areas: Any, default_crs: str) -> tuple[NDArray[np.object_], str]:
    crs = default_crs
    geo_crs = getattr(areas, "crs", None)
    if hasattr(areas, "geometry") and not isinstance(areas, shapely.Geometry):
        areas = areas.geometry
    if geo_crs is not None:
        crs = geo_crs.to_string() if hasattr(geo_crs, "to_string") else str(geo_crs)
    if isinstance(areas, shapely.Geometry):
        areas = [areas]
    geoms = np.asarray([g for g in areas if g is not None and not g.is_empty], dtype=object)
    bad = [type(g).__name__ for g in geoms if not isinstance(g, shapely.Geometry)]
    if bad:
        problems = siting_problems()
        problems.add(
            "optimize.areas",
            f"exclusion areas must be shapely geometries, got {bad[:5]}",
            types=bad[:5],
        )
        problems.raise_if_any()
    return geoms, crs


def candidates_from_facilities(
    facilities: pd.DataFrame, crs: str, types: Iterable[str] | None = None
) -> Candidates:
    """Existing facility rows as candidates (upgrade a township/community centre).

    ``types`` defaults to :data:`gridplan.facilities.types.CENTRES`; inactive rows
    and rows without coordinates are left out.  Ids are ``facility_id``.
    """
    from gridplan.facilities.table import facility_mask, facility_xy
    from gridplan.facilities.types import CENTRES

    wanted = list(CENTRES if types is None else types)
    mask = facility_mask(facilities, wanted)
    ids = facilities.loc[mask, "facility_id"].astype(str).tolist()
    return Candidates(facility_xy(facilities, crs, wanted), ids, crs, "facility")


def candidates_from_lonlat(
    lon: ArrayLike, lat: ArrayLike, crs: str, ids: Sequence[str] | None = None
) -> Candidates:
    """A user's list of WGS-84 points as candidates (ids default to ``U0001``...)."""
    lo = np.asarray(lon, dtype=np.float64).ravel()
    la = np.asarray(lat, dtype=np.float64).ravel()
    problems = siting_problems()
    if len(lo) != len(la):
        problems.add(
            "optimize.xy_shape",
            f"{len(lo)} longitudes and {len(la)} latitudes",
            name="candidates",
            shape=(len(lo), len(la)),
        )
    problems.raise_if_any()
    tr = transformer("EPSG:4326", crs)
    x, y = tr.transform(lo, la)
    names = list(ids) if ids is not None else [f"U{i + 1:04d}" for i in range(len(lo))]
    return Candidates(np.column_stack([x, y]), [str(s) for s in names], crs, "user")


def candidate_grid(
    surface: PopulationSurface,
    *,
    spacing_m: float | None = None,
    every: int | None = None,
    max_candidates: int | None = None,
) -> Candidates:
    """Candidate cells over the populated cells of ``surface``.

    Exactly one of: ``spacing_m`` (one candidate per occupied block of a
    coarser grid: the populated cell nearest the block's population-weighted
    centroid), ``every`` (every n-th populated cell in row-major order) or
    ``max_candidates`` (the block size giving at most that many).  Ids are
    ``G<row>_<col>`` of the cell.
    """
    problems = siting_problems()
    given = [v is not None for v in (spacing_m, every, max_candidates)]
    if sum(given) != 1:
        problems.add(
            "optimize.grid_choice",
            "give exactly one of spacing_m, every, max_candidates",
        )
    if spacing_m is not None:
        problems.number("spacing_m", spacing_m, low=surface.grid.cell_m, low_inclusive=True)
    if every is not None:
        problems.integer("every", every, 1, 10**9)
    if max_candidates is not None:
        problems.integer("max_candidates", max_candidates, 1, 10**8)
    problems.raise_if_any()
    grid = surface.grid
    rows, cols = np.nonzero(surface.population > 0)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    if every is not None:
        pick = np.arange(0, len(rows), every)
    else:
        if spacing_m is None:
            assert max_candidates is not None
            spacing_m = _block_size_for(rows, cols, grid, max_candidates)
        w = surface.population[rows, cols].astype(np.float64)
        x, y = grid.centres(rows, cols)
        label, n = _blocks(rows, cols, grid, float(spacing_m))
        pick = np.sort(_representatives(x, y, w, label, n)[3])
    r, c = rows[pick], cols[pick]
    x, y = grid.centres(r, c)
    ids = [f"G{a}_{b}" for a, b in zip(r.tolist(), c.tolist(), strict=True)]
    return Candidates(np.column_stack([x, y]), ids, grid.crs, "grid")
