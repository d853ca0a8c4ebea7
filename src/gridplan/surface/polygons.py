"""Population from polygons: spread uniformly or weighted by a raster."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
import shapely
from numpy.typing import NDArray
from rasterio.enums import Resampling

from gridplan import settings
from gridplan._validate import Problems
from gridplan.errors import InputError, UploadError
from gridplan.inputs.columns import cell_text, column_numbers, find_column
from gridplan.inputs.crs import geoms_to_wgs84
from gridplan.inputs.files import _limit_mb, _warning_notes
from gridplan.inputs.raster import WARP_MEM_LIMIT_MB, _open_raster
from gridplan.inputs.vector import parse_datum, read_vector_upload
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import (
    CellGrid,
    PopulationSurface,
)
from gridplan.surface.raster import _read_window
from gridplan.surface.report import BadRow, SurfaceReport
from gridplan.surface.unitgrid import _grid_and_index, _locate_in_units, _unit_ids, _zone_note

#: Columns that name a polygon in notes, in order of preference.
_LABEL_NAMES = ("name", "名称", "xzqmc", "乡镇", "乡镇名称", "街道", "单位", "unit_id", "code")


def _label_of(frame: pd.DataFrame) -> list[str]:
    """A name for each row of ``frame`` (its name column, else ``#<row>``), for notes."""
    col, _ = find_column(list(frame.columns), _LABEL_NAMES)
    if col is None:
        return [f"#{i + 1}" for i in range(len(frame))]
    return [str(v) if pd.notna(v) else f"#{i + 1}" for i, v in enumerate(frame[col])]


# --------------------------------------------------------------------------------------
# weights


def _weights_on_grid(
    weights: bytes | str | Path | NDArray[Any],
    grid: CellGrid,
    *,
    max_mb: float | None,
    filename: str | None,
) -> tuple[NDArray[np.float64], str, list[str]]:
    if isinstance(weights, np.ndarray):
        if weights.shape != grid.shape:
            raise InputError(
                f"weights have shape {weights.shape}, the grid {grid.shape}",
                code="weights.shape",
                params={"shape": str(weights.shape), "expected": str(grid.shape)},
            )
        w = np.asarray(weights, dtype=np.float64)
        w = np.where(np.isfinite(w), w, 0.0)
        if (w < 0).any():
            raise UploadError(
                f"weights have {int((w < 0).sum())} negative values",
                code="weights.negative",
                params={
                    "filename": filename or "weights",
                    "n": int((w < 0).sum()),
                    "min": f"{float(w.min()):g}",
                },
            )
        return w, filename or "weights", []
    limit = _limit_mb(max_mb)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _open_raster(weights, filename, limit) as (ds, name):
            win = _read_window(ds, name, grid, 1, negative_code="weights")
        dst = np.full(grid.shape, np.nan, dtype=np.float64)
        rasterio.warp.reproject(
            win.values,
            dst,
            src_transform=win.transform,
            src_crs=win.crs,
            src_nodata=np.nan,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            dst_nodata=np.nan,
            resampling=Resampling.average,
            warp_mem_limit=WARP_MEM_LIMIT_MB,
        )
    notes = list(win.notes) + _warning_notes(caught)
    return np.nan_to_num(dst, nan=0.0), Path(name).stem, notes


# --------------------------------------------------------------------------------------
# polygons


def _check_layer(gdf: gpd.GeoDataFrame, population_column: str) -> None:
    """A usable layer: a CRS, features and the population column (all problems at once)."""
    problems = Problems("polygons.invalid", "cannot use the population polygon layer")
    if gdf.crs is None:
        problems.add("polygons.no_crs", "the polygon layer has no CRS")
    if len(gdf) == 0:
        problems.add("polygons.empty", "the polygon layer is empty")
    if population_column not in gdf.columns:
        shown = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
        problems.add(
            "polygons.no_column",
            f"no column {population_column!r}; columns: {shown}",
            column=population_column,
            columns=shown,
        )
    problems.raise_if_any()


def surface_from_polygons(
    polygons_gdf: gpd.GeoDataFrame | bytes | str | Path,
    unit_set: UnitSet,
    cell_m: float = 100,
    *,
    population_column: str,
    weights: bytes | str | Path | NDArray[Any] | None = None,
    weights_name: str | None = None,
    provenance: str = "uploaded",
    datum: str = "wgs84",
    max_mb: float | None = None,
) -> tuple[PopulationSurface, SurfaceReport]:
    """Spread polygon totals (census by county or township) over the grid's cells.

    Each polygon's total goes to the cells whose centre lies in it (and in a
    unit), uniformly or in proportion to ``weights``.  A polygon too small to
    hold a cell centre gives its total to the cell holding its representative
    point, as :func:`gridplan.surface.grid.census_surface` does.

    A polygon counts as inside the prefecture when at least
    ``1 - settings.outside_tolerance_share`` of its cells lie in units: its
    whole total is then spread over those cells (digitising differences along
    the prefecture's border cost nobody).  Other polygons (neighbouring
    townships in the layer) are dropped and reported.  Where polygons
    overlap, the later one holds the shared cells.

    Parameters
    ----------
    polygons_gdf
        Polygons with a population column, in any CRS (e.g. an uploaded
        township layer, or ``unit_set.units`` itself); or a file's content or
        path, read with :func:`gridplan.inputs.vector.read_vector_upload`.
    population_column
        The column holding each polygon's population.
    weights
        Optional weight raster (GeoTIFF path or bytes, resampled to the grid by
        ``average``; values >= 0, nodata = 0) or an array of ``grid.shape``.
        A polygon whose cells all weigh 0 is spread uniformly and reported
        (:attr:`SurfaceReport.fallback_uniform`).
    weights_name
        Name used in ``surface.method`` ("weighted by <name>"); defaults to the
        file's stem or ``"weights"``.
    provenance
        Provenance of the totals: ``"uploaded"`` (default) or e.g.
        ``"census2020"``; the surface's source is ``"<provenance>+modelled"``.
    max_mb
        Size limit for files (layer and weight raster).
    datum
        For longitude/latitude layers digitised on web maps: ``"gcj02"``
        (Amap, Tencent) or ``"bd09"`` (Baidu) are converted to WGS-84.

    Raises
    ------
    InputError
        ``polygons.invalid`` listing the problems ``polygons.no_crs``,
        ``polygons.empty`` and ``polygons.no_column`` of the layer;
        ``weights.shape`` when an array does not have the grid's shape.
    UploadError
        ``polygons.no_valid_rows``, ``weights.*`` and ``raster.*`` codes for
        the weight raster, and those of :func:`gridplan.inputs.vector.read_vector_upload`.
    """
    notes: list[str] = []
    datum_key = parse_datum(datum)
    if isinstance(polygons_gdf, gpd.GeoDataFrame):
        gdf = polygons_gdf
        if datum_key != "wgs84" and gdf.crs is not None and gdf.crs.is_geographic:
            gdf = gdf.to_crs(4326)
            gdf = gdf.set_geometry(geoms_to_wgs84(gdf.geometry.to_numpy(), datum_key), crs=4326)
            notes.append(f"polygons converted from {datum_key.upper()} to WGS-84")
    else:
        gdf, load = read_vector_upload(polygons_gdf, datum=datum_key, max_mb=max_mb)
        notes += load.notes
    _check_layer(gdf, population_column)
    gdf = gdf.reset_index(drop=True)
    grid, index = _grid_and_index(unit_set, cell_m)
    w_grid: NDArray[np.float64] | None = None
    if weights is not None:
        w_grid, stem, w_notes = _weights_on_grid(
            weights, grid, max_mb=max_mb, filename=weights_name
        )
        weights_name = weights_name or stem
        notes += w_notes

    n = len(gdf)
    labels = _label_of(gdf)
    pop, pop_missing, pop_bad = column_numbers(gdf[population_column])
    geoms = gdf.geometry.to_numpy()
    bad: list[BadRow] = []
    usable = np.ones(n, dtype=bool)
    unplaced: dict[str, float] = {}
    zone_ids = set(map(str, unit_set.zones_without_polygon["unit_id"]))
    no_geom = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(pop_missing):
        bad.append(BadRow(int(i) + 1, "popsurface.row.missing_population"))
    for i in np.flatnonzero(pop_bad):
        bad.append(
            BadRow(
                int(i) + 1,
                "popsurface.row.bad_population",
                {"value": str(gdf[population_column].iat[i])},
            )
        )
    with np.errstate(invalid="ignore"):
        negative = pop < 0
    for i in np.flatnonzero(negative):
        bad.append(
            BadRow(int(i) + 1, "popsurface.row.negative_population", {"value": cell_text(pop[i])})
        )
    usable &= ~(pop_missing | pop_bad | negative)
    if "unit_id" in gdf.columns:
        for i in np.flatnonzero(no_geom & usable):
            if str(gdf["unit_id"].iat[i]) in zone_ids:  # a functional zone without polygon
                unplaced[str(gdf["unit_id"].iat[i])] = float(pop[i])
                usable[i] = False
    for i in np.flatnonzero(no_geom & usable):
        bad.append(BadRow(int(i) + 1, "popsurface.row.no_geometry"))
    usable &= ~no_geom
    types = shapely.get_type_id(geoms)
    not_poly = usable & ~np.isin(types, (3, 6))
    for i in np.flatnonzero(not_poly):
        bad.append(BadRow(int(i) + 1, "popsurface.row.not_polygon"))
    usable &= ~not_poly
    bad.sort(key=lambda b: b.row)
    if not usable.any() and not unplaced:
        raise UploadError(
            f"no usable polygon among {n}",
            code="polygons.no_valid_rows",
            params={"n": n},
            problems=[b.text("en") for b in bad[:10]],
        )

    sel = np.flatnonzero(usable)
    metric = gpd.GeoSeries(geoms[sel], crs=gdf.crs).to_crs(grid.crs).to_numpy()
    invalid = ~shapely.is_valid(metric)
    if invalid.any():
        metric[invalid] = shapely.make_valid(metric[invalid])
        notes.append(f"repaired {int(invalid.sum())} invalid polygon(s)")
    k = len(sel)
    if k:
        poly_index = rasterio.features.rasterize(
            [(g, j) for j, g in enumerate(metric)],
            out_shape=grid.shape,
            transform=grid.transform,
            fill=-1,
            dtype="int32",
        ).reshape(-1)
    else:
        poly_index = np.full(grid.nrows * grid.ncols, -1, dtype=np.int32)
    uidx = index.reshape(-1).copy()
    in_units = uidx >= 0
    has_poly = poly_index >= 0
    n_cells = np.bincount(poly_index[has_poly], minlength=k)
    cell_sel = has_poly & in_units
    n_in = np.bincount(poly_index[cell_sel], minlength=k)
    p = pop[sel]
    population = np.zeros(grid.nrows * grid.ncols, dtype=np.float64)

    # polygons too small to hold a cell centre: their representative point's cell
    tiny = np.flatnonzero(n_cells == 0)
    tiny_ok = np.zeros(k, dtype=bool)
    if len(tiny):
        rep = shapely.point_on_surface(metric[tiny])
        rx, ry = shapely.get_x(rep), shapely.get_y(rep)
        unit = _locate_in_units(unit_set, grid.crs, rx, ry)
        r, c, ok = grid.cell_of(rx, ry)
        for j, u_pos, rr, cc, good in zip(tiny, unit, r, c, ok, strict=True):
            if u_pos < 0 or not good:
                continue
            flat = rr * grid.ncols + cc
            population[flat] += p[j]
            if uidx[flat] < 0:
                uidx[flat] = u_pos
            tiny_ok[j] = True
        notes.append(
            f"{len(tiny)} polygon(s) too small to hold a cell centre: their population went "
            "to the cell holding their representative point"
        )

    share_in = np.divide(n_in, n_cells, out=np.zeros(k), where=n_cells > 0)
    spread = (n_cells > 0) & (share_in >= 1.0 - settings.outside_tolerance_share) & (n_in > 0)
    partly = spread & (n_in < n_cells)
    if partly.any():
        notes.append(
            f"{int(partly.sum())} polygon(s) lie partly outside the units: their whole "
            "population was spread over their cells inside the units"
        )
    cell_poly = np.where(cell_sel, poly_index, -1)
    cell_poly = np.where((cell_poly >= 0) & spread[np.clip(cell_poly, 0, None)], cell_poly, -1)
    active = cell_poly >= 0
    w_cell = np.ones(active.sum(), dtype=np.float64)
    fallback: list[str] = []
    if w_grid is not None:
        w_cell = w_grid.reshape(-1)[active]
        wsum = np.bincount(cell_poly[active], weights=w_cell, minlength=k)
        zero = spread & (wsum <= 0)
        if zero.any():
            w_cell = np.where(zero[cell_poly[active]], 1.0, w_cell)
            fallback = [labels[sel[j]] for j in np.flatnonzero(zero)]
            notes.append(
                f"{len(fallback)} polygon(s) have zero weight in every cell and were spread "
                "uniformly: " + ", ".join(fallback[:10])
            )
    wsum = np.bincount(cell_poly[active], weights=w_cell, minlength=k)
    cp = cell_poly[active]
    population[active] += p[cp] * w_cell / wsum[cp]

    kept_poly = spread | tiny_ok
    dropped_poly = ~kept_poly
    surface = PopulationSurface(
        grid=grid,
        population=population.reshape(grid.shape).astype(np.float32),
        unit_index=uidx.reshape(grid.shape).astype(np.int32),
        unit_ids=_unit_ids(unit_set),
        source=f"{provenance}+modelled",
        method="uniform" if w_grid is None else f"weighted by {weights_name}",
        unplaced=unplaced,
    )
    if dropped_poly.any():
        names = [labels[sel[j]] for j in np.flatnonzero(dropped_poly)]
        notes.append(
            f"{len(names)} polygon(s) lie outside the units and were dropped: "
            + ", ".join(names[:10])
        )
    notes += _zone_note(unit_set)
    input_total = float(p.sum()) + float(sum(unplaced.values()))
    report = SurfaceReport(
        kind="polygons",
        input_total=input_total,
        kept_total=surface.total,
        dropped_population=float(p[dropped_poly].sum()),
        n_input=k + len(unplaced),
        n_outside=int(dropped_poly.sum()),
        outside_rows=[int(sel[j]) + 1 for j in np.flatnonzero(dropped_poly)],
        bad_rows=bad,
        fallback_uniform=fallback,
        notes=notes,
    )
    return surface, report
