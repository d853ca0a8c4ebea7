"""Population from polygons: spread uniformly or weighted by a raster."""

from __future__ import annotations

from dataclasses import dataclass
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
from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray, ObjectArray
from gridplan._validate import Problems
from gridplan.errors import InputError, UploadError
from gridplan.inputs import crs as gcrs
from gridplan.inputs.columns import cell_text, column_numbers, find_column
from gridplan.inputs.files import _limit_mb, _warnings_as_notes
from gridplan.inputs.raster import _open_raster
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
    weights: bytes | str | Path | NDArray[Any] | None,
    grid: CellGrid,
    max_mb: float | None,
    name: str | None,
) -> tuple[FloatArray | None, str | None, list[str]]:
    """The weights on the grid (None without weights), their name, notes.

    An array must have the grid's shape; a raster file is averaged onto the
    cells.  The name defaults to the file's stem (``weights`` for an array).
    """
    if weights is None:
        return None, name, []
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
                    "filename": name or "weights",
                    "n": int((w < 0).sum()),
                    "min": f"{float(w.min()):g}",
                },
            )
        return w, name or "weights", []
    limit = _limit_mb(max_mb)
    with _warnings_as_notes() as reader_notes:
        with _open_raster(weights, name, limit) as (ds, shown):
            win = _read_window(ds, shown, grid, 1, negative_code="weights")
        dst = np.full(grid.shape, np.nan, dtype=np.float64)
        win.warp_onto(
            grid, win.values, dst, Resampling.average, src_nodata=np.nan, dst_nodata=np.nan
        )
    notes = list(win.notes) + reader_notes
    weights_grid = np.nan_to_num(dst, nan=0.0)
    if not (weights_grid > 0).any():
        # spreading by a raster without any weight would silently fall back to area
        raise UploadError(
            f"the weight raster {shown} has no positive value over the prefecture",
            code="weights.no_weight",
            params={"filename": shown},
        )
    return weights_grid, name or Path(shown).stem, notes


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
    cell_m: float | None = None,
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
    cell_m
        Cell size in metres (default :data:`gridplan.settings.cell_m`).
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
    datum_key = parse_datum(datum)
    gdf, notes = _read_polygons(polygons_gdf, datum_key, max_mb)
    _check_layer(gdf, population_column)
    gdf = gdf.reset_index(drop=True)
    grid, index = _grid_and_index(unit_set, cell_m)
    w_grid, weights_name, w_notes = _weights_on_grid(weights, grid, max_mb, weights_name)
    notes += w_notes

    zone_ids = set(map(str, unit_set.zones_without_polygon["unit_id"]))
    checked = _checked_polygons(gdf, population_column, zone_ids)
    if not checked.usable.any() and not checked.unplaced:
        raise UploadError(
            f"no usable polygon among {len(gdf)}",
            code="polygons.no_valid_rows",
            params={"n": len(gdf)},
            problems=[b.text("en") for b in checked.bad[:10]],
        )
    sel = np.flatnonzero(checked.usable)
    metric = gpd.GeoSeries(gdf.geometry.to_numpy()[sel], crs=gdf.crs).to_crs(grid.crs).to_numpy()
    invalid = ~shapely.is_valid(metric)
    if invalid.any():  # a polygon valid in lon/lat may self-intersect once projected
        metric[invalid] = shapely.make_valid(metric[invalid])
        notes.append(f"repaired {int(invalid.sum())} invalid polygon(s)")
    p = checked.population[sel]
    spread = _spread(unit_set, grid, index, metric, p, w_grid)
    notes += spread.notes
    fallback, outcome_notes = _outcome(_label_of(gdf), sel, spread)
    notes += outcome_notes + _zone_note(unit_set)
    dropped = ~spread.kept
    surface = PopulationSurface(
        grid=grid,
        population=spread.population,
        unit_index=spread.unit_index,
        unit_ids=_unit_ids(unit_set),
        source=f"{provenance}+modelled",
        method="uniform" if w_grid is None else f"weighted by {weights_name}",
        unplaced=checked.unplaced,
    )
    report = SurfaceReport(
        kind="polygons",
        input_total=float(p.sum()) + float(sum(checked.unplaced.values())),
        kept_total=surface.total,
        dropped_population=float(p[dropped].sum()),
        n_input=len(sel) + len(checked.unplaced),
        n_outside=int(dropped.sum()),
        outside_rows=[int(sel[j]) + 1 for j in np.flatnonzero(dropped)],
        bad_rows=checked.bad,
        fallback_uniform=fallback,
        notes=notes,
    )
    return surface, report


def _read_polygons(
    polygons_gdf: gpd.GeoDataFrame | bytes | str | Path, datum: gcrs.Datum, max_mb: float | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The polygon layer (a file read, or lon/lat of a web-map datum shifted to WGS-84), notes."""
    if not isinstance(polygons_gdf, gpd.GeoDataFrame):
        gdf, load = read_vector_upload(polygons_gdf, datum=datum, max_mb=max_mb)
        return gdf, list(load.notes)
    gdf = polygons_gdf
    if datum == "wgs84" or gdf.crs is None or not gdf.crs.is_geographic:
        return gdf, []
    gdf = gdf.to_crs(4326)
    gdf = gdf.set_geometry(gcrs.geoms_to_wgs84(gdf.geometry.to_numpy(), datum), crs=4326)
    return gdf, [f"polygons converted from {datum.upper()} to WGS-84"]


@dataclass
class _Polygons:
    """The polygons' totals, which can be spread, why the others cannot, and the totals of
    functional zones without a polygon (counted, not drawn)."""

    population: FloatArray
    usable: BoolArray
    bad: list[BadRow]
    unplaced: dict[str, float]


def _checked_polygons(
    gdf: gpd.GeoDataFrame, population_column: str, zone_ids: set[str]
) -> _Polygons:
    """Every feature checked: a population (a number, not negative) and a polygon.

    A feature without geometry that is a functional zone of the units (by
    ``unit_id``) keeps its total as unplaced; any other is a bad row.
    """
    n = len(gdf)
    pop, pop_missing, pop_bad = column_numbers(gdf[population_column])
    geoms = gdf.geometry.to_numpy()
    bad: list[BadRow] = []
    usable = np.ones(n, dtype=bool)
    unplaced: dict[str, float] = {}
    no_geom = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(pop_missing):
        bad.append(BadRow(int(i) + 1, "popsurface.row.missing_population"))
    raw = gdf[population_column]
    for i in np.flatnonzero(pop_bad):
        bad.append(BadRow(int(i) + 1, "popsurface.row.bad_population", {"value": str(raw.iat[i])}))
    with np.errstate(invalid="ignore"):
        negative = pop < 0
    for i in np.flatnonzero(negative):
        value = {"value": cell_text(pop[i])}
        bad.append(BadRow(int(i) + 1, "popsurface.row.negative_population", value))
    usable &= ~(pop_missing | pop_bad | negative)
    if "unit_id" in gdf.columns:
        for i in np.flatnonzero(no_geom & usable):
            if str(gdf["unit_id"].iat[i]) in zone_ids:  # a functional zone without polygon
                unplaced[str(gdf["unit_id"].iat[i])] = float(pop[i])
                usable[i] = False
    for i in np.flatnonzero(no_geom & usable):
        bad.append(BadRow(int(i) + 1, "popsurface.row.no_geometry"))
    usable &= ~no_geom
    not_poly = usable & ~np.isin(shapely.get_type_id(geoms), (3, 6))
    for i in np.flatnonzero(not_poly):
        bad.append(BadRow(int(i) + 1, "popsurface.row.not_polygon"))
    usable &= ~not_poly
    bad.sort(key=lambda b: b.row)
    return _Polygons(pop, usable, bad, unplaced)


@dataclass
class _Spread:
    """The polygons' totals on the grid."""

    population: Float32Array
    unit_index: Int32Array
    kept: BoolArray  # per polygon: its total is on the grid
    zero_weight: BoolArray  # per polygon: spread uniformly, all its weights being 0
    notes: list[str]


def _spread(
    unit_set: UnitSet,
    grid: CellGrid,
    index: Int32Array,
    metric: ObjectArray,
    pop: FloatArray,
    w_grid: FloatArray | None,
) -> _Spread:
    """Each polygon's total over its cells in units (by weight), or in its point's cell if tiny.

    A polygon counts as inside when at least ``1 - outside_tolerance_share``
    of its cells lie in units; where polygons overlap, the later one holds
    the shared cells.
    """
    k = len(metric)
    poly_index = _polygon_cells(metric, grid)
    uidx = index.reshape(-1).copy()
    has_poly = poly_index >= 0
    n_cells = np.bincount(poly_index[has_poly], minlength=k)
    cell_sel = has_poly & (uidx >= 0)
    n_in = np.bincount(poly_index[cell_sel], minlength=k)
    population = np.zeros(grid.nrows * grid.ncols, dtype=np.float64)
    tiny = _TinyPolygons.find(unit_set, grid, metric, n_cells)
    tiny_ok = tiny.place(pop, population, uidx)
    notes = tiny.notes()

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
    w_cell, zero = _cell_weights(w_grid, cell_poly, active, spread, k)
    wsum = np.bincount(cell_poly[active], weights=w_cell, minlength=k)
    cp = cell_poly[active]
    population[active] += pop[cp] * w_cell / wsum[cp]
    return _Spread(
        population.reshape(grid.shape).astype(np.float32),
        uidx.reshape(grid.shape).astype(np.int32),
        spread | tiny_ok,
        zero,
        notes,
    )


def _outcome(
    labels: list[str], sel: NDArray[np.intp], spread: _Spread
) -> tuple[list[str], list[str]]:
    """The polygons spread uniformly for want of weight, and notes naming them and the dropped."""
    fallback = [labels[sel[j]] for j in np.flatnonzero(spread.zero_weight)]
    notes = []
    if fallback:
        notes.append(
            f"{len(fallback)} polygon(s) have zero weight in every cell and were spread "
            "uniformly: " + ", ".join(fallback[:10])
        )
    dropped = [labels[sel[j]] for j in np.flatnonzero(~spread.kept)]
    if dropped:
        notes.append(
            f"{len(dropped)} polygon(s) lie outside the units and were dropped: "
            + ", ".join(dropped[:10])
        )
    return fallback, notes


def _polygon_cells(metric: ObjectArray, grid: CellGrid) -> Int32Array:
    """Per cell (flat), the position of the polygon holding its centre (the last one), or -1."""
    if not len(metric):
        return np.full(grid.nrows * grid.ncols, -1, dtype=np.int32)
    cells: Int32Array = rasterio.features.rasterize(
        [(g, j) for j, g in enumerate(metric)],
        out_shape=grid.shape,
        transform=grid.transform,
        fill=-1,
        dtype="int32",
    ).reshape(-1)
    return cells


@dataclass
class _TinyPolygons:
    """Polygons too small to hold a cell centre, whose total goes to the cell holding their
    representative point (when that point lies in a unit, on the grid)."""

    n_polygons: int
    n_tiny: int
    polygon: IntArray  # positions of the tiny polygons that can be placed
    cell: IntArray  # flat index of the cell holding each one's point
    unit: IntArray  # row position of the unit holding each one's point

    @classmethod
    def find(
        cls, unit_set: UnitSet, grid: CellGrid, metric: ObjectArray, n_cells: IntArray
    ) -> _TinyPolygons:
        """The polygons of ``metric`` holding no cell centre (``n_cells == 0``), and where
        those that can be placed go."""
        tiny = np.flatnonzero(n_cells == 0)
        if not len(tiny):
            return cls(len(metric), 0, tiny, tiny, tiny)
        rep = shapely.point_on_surface(metric[tiny])
        rx, ry = shapely.get_x(rep), shapely.get_y(rep)
        unit = _locate_in_units(unit_set, grid.crs, rx, ry)
        r, c, ok = grid.cell_of(rx, ry)
        good = (unit >= 0) & ok
        return cls(len(metric), len(tiny), tiny[good], (r * grid.ncols + c)[good], unit[good])

    def place(self, pop: FloatArray, population: FloatArray, uidx: Int32Array) -> BoolArray:
        """Add each one's total to its cell in ``population`` (flat), giving the cell the
        point's unit in ``uidx`` if it had none; which polygons were placed."""
        placed = np.zeros(self.n_polygons, dtype=bool)
        for j, flat, u_pos in zip(self.polygon, self.cell, self.unit, strict=True):
            population[flat] += pop[j]  # one at a time: tiny polygons may share a cell
            if uidx[flat] < 0:
                uidx[flat] = u_pos
            placed[j] = True
        return placed

    def notes(self) -> list[str]:
        if not self.n_tiny:
            return []
        return [
            f"{self.n_tiny} polygon(s) too small to hold a cell centre: their population went "
            "to the cell holding their representative point"
        ]


def _cell_weights(
    w_grid: FloatArray | None,
    cell_poly: Int32Array,
    active: BoolArray,
    spread: BoolArray,
    k: int,
) -> tuple[FloatArray, BoolArray]:
    """The weight of each active cell (1 without weights) and the polygons whose weights are
    all 0, which are spread uniformly instead."""
    if w_grid is None:
        return np.ones(active.sum(), dtype=np.float64), np.zeros(k, dtype=bool)
    w_cell = w_grid.reshape(-1)[active]
    wsum = np.bincount(cell_poly[active], weights=w_cell, minlength=k)
    zero = spread & (wsum <= 0)
    if zero.any():
        w_cell = np.where(zero[cell_poly[active]], 1.0, w_cell)
    return w_cell, zero
