"""Population surfaces from a planner's own data: rasters, points and polygon totals.

The embedded default (:func:`gridplan.surface.grid.census_surface`) spreads census
totals uniformly over each unit.  This module builds the same
:class:`~gridplan.surface.grid.PopulationSurface` (on ``grid_for_units(unit_set,
cell_m)``, ``unit_index`` from ``rasterize_units``) from data a planner brings:

* :func:`surface_from_raster`: a population *count* GeoTIFF (WorldPop 100 m,
  people per pixel, usually EPSG:4326; any CRS), resampled to the grid so that
  the total is conserved.
* :func:`surface_from_points`: a CSV/Excel table of residential compounds or
  villages with longitude, latitude and population.
* :func:`surface_from_polygons`: polygon totals (census by county or township)
  spread over each polygon's cells, uniformly or in proportion to a weight
  raster (built-up area, night lights).
* :func:`download_worldpop` / :func:`fetch_worldpop`: fetch WorldPop's 2020
  rasters and clip them to the prefecture.

Every function conserves the population it was given, except what lies outside
the prefecture's units: that is dropped and reported in a
:class:`SurfaceReport` returned alongside the surface.

Resampling a count raster
-------------------------
Counts are resampled with GDAL's ``sum`` resampling (GDAL >= 3.1), which gives
every grid cell the sum of the source pixels it overlaps, weighted by the
overlapping share of each pixel.  GDAL computes those shares from a linear
approximation of the reprojection, so its total is off by up to ~1e-4 relative
(measured on Shijiazhuang: 5e-7 to 9e-5).  The result is therefore rescaled by
one global factor so that its total equals exactly the raster's population over
the grid's extent (pixels wholly inside the extent count fully, pixels cut by
its edge by their share of area).  The factor is reported
(:attr:`SurfaceReport.correction_factor`).

``resampling="average"`` (also the fallback for GDAL < 3.1) turns the counts
into a density (people per m² of the grid's CRS), averages it onto the cells
and multiplies by the cell area, then rescales the same way.  It is 5-30 times
faster than GDAL's ``sum`` but less exact cell by cell: against an exact
polygon overlay of 3″ pixels on 100-250 m cells, ``sum`` misplaces 0.1 % of
the people, ``average`` 0.4-2 %.  Totals are exact either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
import shapely
from affine import Affine
from numpy.typing import NDArray
from rasterio.enums import Resampling

from gridplan import settings
from gridplan._types import Float32Array, FloatArray
from gridplan.errors import InputError
from gridplan.inputs.crs import overlaps_china, transformer
from gridplan.inputs.files import _bounds_text, _limit_mb, _short, _warnings_as_notes
from gridplan.inputs.raster import (
    WARP_MEM_LIMIT_MB,
    _open_raster,
    _pixel_window,
    _raster_error,
    check_window,
)
from gridplan.plan.population import confirm, warning_problems
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import (
    CellGrid,
    PopulationSurface,
)
from gridplan.surface.report import SurfaceReport
from gridplan.surface.unitgrid import _grid_and_index, _unit_ids, _zone_note

# --------------------------------------------------------------------------------------
# rasters


def _gdal_has_sum() -> bool:
    if getattr(Resampling, "sum", None) is None:
        return False
    try:
        major, minor = (int(p) for p in str(rasterio.__gdal_version__).split(".")[:2])
    except ValueError:
        return True
    return (major, minor) >= (3, 1)


GDAL_HAS_SUM = _gdal_has_sum()


def _xy(transform: Affine, cols: NDArray[Any], rows: NDArray[Any]) -> tuple[FloatArray, FloatArray]:
    """Coordinates of pixel positions (column, row; corners at integers) under ``transform``."""
    c = np.asarray(cols, dtype=np.float64)
    r = np.asarray(rows, dtype=np.float64)
    return (
        transform.a * c + transform.b * r + transform.c,
        transform.d * c + transform.e * r + transform.f,
    )


def _footprint_total(win: _RasterWindow, grid: CellGrid) -> float:
    """The window's people inside the grid's extent: pixels wholly inside count fully,
    pixels cut by its edge by their share of area.

    Only boolean masks of the window are made (no float copy of it), so a
    large window costs a byte a pixel here.
    """
    shape = win.values.shape
    minx, miny, maxx, maxy = grid.bounds
    box = shapely.segmentize(shapely.box(minx, miny, maxx, maxy), (maxx - minx + maxy - miny) / 200)
    to_src = transformer(grid.crs, win.crs)
    ring = np.asarray(box.exterior.coords)
    sx, sy = to_src.transform(ring[:, 0], ring[:, 1])
    poly = shapely.make_valid(shapely.Polygon(np.column_stack([sx, sy])))
    inside = rasterio.features.geometry_mask(
        [poly], out_shape=shape, transform=win.transform, invert=True
    )
    edge = rasterio.features.rasterize(
        [(poly.boundary, 1)], out_shape=shape, transform=win.transform, all_touched=True, fill=0
    ).astype(bool)
    inside &= ~edge
    total = float(np.sum(win.values, where=inside, dtype=np.float64))
    del inside
    rows, cols = np.nonzero(edge)
    if len(rows):
        corners = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
        xy = np.stack(
            [np.column_stack(_xy(win.transform, cols + dc, rows + dr)) for dc, dr in corners],
            axis=1,
        )
        pixels = shapely.polygons(xy)
        share = shapely.area(shapely.intersection(pixels, poly)) / shapely.area(pixels)
        total += float(np.sum(win.values[rows, cols].astype(np.float64) * share))
    return total


def _pixel_area(win: _RasterWindow, crs: str) -> FloatArray:
    """Area in ``crs`` of each row's pixels (taken at the window's middle column)."""
    h, w = win.values.shape
    rows = np.arange(h, dtype=np.float64)
    col = np.full(h, w / 2.0)
    to_dst = transformer(win.crs, crs)
    xs, ys = [], []
    for dc, dr in ((0, 0), (1, 0), (1, 1), (0, 1)):
        x, y = _xy(win.transform, col + dc, rows + dr)
        px, py = to_dst.transform(x, y)
        xs.append(px)
        ys.append(py)
    x, y = np.array(xs), np.array(ys)
    area = 0.5 * np.abs(
        x[0] * y[1]
        - x[1] * y[0]
        + x[1] * y[2]
        - x[2] * y[1]
        + x[2] * y[3]
        - x[3] * y[2]
        + x[3] * y[0]
        - x[0] * y[3]
    )
    return np.asarray(area, dtype=np.float64)


def _resample_counts(
    win: _RasterWindow, grid: CellGrid, method: Literal["sum", "average"]
) -> tuple[FloatArray, float, float]:
    """Counts on the grid (total conserved), GDAL's raw total and the target total.

    The source is padded with zero pixels over at least one cell's width, so
    that ``average`` does not stretch the pixels at the raster's edge over the
    cells they only partly cover.
    """
    values = np.nan_to_num(win.values, nan=0.0, copy=False)  # the window is not used after
    area = _pixel_area(win, grid.crs)
    target = _footprint_total(win, grid)
    side = float(np.sqrt(max(float(np.min(area)), 1e-12)))
    pad = min(1000, math.ceil(grid.cell_m / side)) + 1
    dst = np.zeros(grid.shape, dtype=np.float64)
    # warp only onto the part of the grid that the (padded) window covers
    h, w = values.shape
    src_transform = win.transform @ Affine.translation(-pad, -pad)
    left, top = src_transform.c, src_transform.f
    right, bottom = src_transform @ (w + 2 * pad, h + 2 * pad)
    box = rasterio.warp.transform_bounds(
        win.crs,
        grid.crs,
        min(left, right),
        min(top, bottom),
        max(left, right),
        max(top, bottom),
        densify_pts=21,
    )
    sub = _pixel_window(grid.transform, grid.ncols, grid.nrows, box, pad=1)
    if sub is None:
        return dst, 0.0, 0.0
    r0, r1, c0, c1 = sub
    part = dst[r0:r1, c0:c1]
    if method == "sum":
        source, resampling = np.pad(values, pad), Resampling.sum
    else:  # a density (people per m²), averaged, then times the cell area
        values /= area[:, None].astype(np.float32)
        source, resampling = np.pad(values, pad), Resampling.average
    win.warp_onto(grid, source, part, resampling, pad=pad, origin=(r0, c0), init_dest_nodata=False)
    if method != "sum":
        part *= grid.cell_m * grid.cell_m
    raw = float(dst.sum())
    if raw > 0:
        dst *= target / raw
    return dst, raw, target


def surface_from_raster(
    path_or_bytes: bytes | str | Path,
    unit_set: UnitSet,
    cell_m: float | None = None,
    *,
    max_mb: float | None = None,
    filename: str | None = None,
    band: int = 1,
    resampling: Literal["sum", "average"] | None = None,
    accept_warnings: bool = False,
) -> tuple[PopulationSurface, SurfaceReport]:
    """A population surface from a population-count GeoTIFF (e.g. WorldPop 100 m).

    Parameters
    ----------
    path_or_bytes
        The GeoTIFF's content or path.  Values are people per pixel (counts,
        not densities); nodata pixels (WorldPop: -99999) count as 0; any CRS.
        Only the part over the prefecture's grid is read.
    unit_set
        The planning units; the grid is ``grid_for_units(unit_set, cell_m)``.
    cell_m
        Cell size in metres (50-1000; default :data:`gridplan.settings.cell_m`).
    max_mb
        Size limit of the file in MB; defaults to
        :data:`gridplan.settings.max_upload_mb`.  Clip big files first
        (:func:`download_worldpop` with ``bbox``), or raise the limit.
    filename
        The name the user's file had, for messages.
    band
        The band holding the counts.
    resampling
        ``"sum"`` (default where GDAL >= 3.1; the most exact) or ``"average"``
        (density averaged onto the cells × cell area; much faster, a little
        less exact cell by cell).  Both conserve the total exactly.
    accept_warnings
        Use a raster whose total is far above the census (the planner confirmed
        it); else ``population.unconfirmed`` names the totals.

    Returns
    -------
    PopulationSurface
        ``source="uploaded"``; cells outside every unit hold 0.
    SurfaceReport
        ``input_total`` is the raster's population over the grid's extent
        (before dropping cells outside the units); ``dropped_population`` the
        part on cells outside the units; ``correction_factor`` the rescaling
        of GDAL's total.

    Raises
    ------
    UploadError
        Codes ``raster.too_large``, ``raster.unreadable``, ``raster.no_crs``,
        ``raster.not_in_china``, ``raster.no_overlap``, ``raster.negative``,
        ``raster.window_too_large``.
    """
    limit = _limit_mb(max_mb)
    grid, index = _grid_and_index(unit_set, cell_m)
    method = _resampling_method(resampling)
    with _warnings_as_notes() as reader_notes:
        with _open_raster(path_or_bytes, filename, limit) as (ds, name):
            win = _read_window(ds, name, grid, band, negative_code="raster")
        n_nodata = int(np.count_nonzero(np.isnan(win.values)))
        np.nan_to_num(win.values, nan=0.0, copy=False)  # nodata counts as 0 from here on
        window_total = float(win.values.sum(dtype=np.float64))
        n_input = int(np.count_nonzero(win.values > 0))
        _check_counts(win, grid, n_input, n_nodata)
        counts, raw, target = _resample_counts(win, grid, method)
    inside = index >= 0
    surface = PopulationSurface(
        grid=grid,
        population=np.where(inside, counts, 0.0).astype(np.float32),
        unit_index=index,
        unit_ids=_unit_ids(unit_set),
        source="uploaded",
        method=f"population raster {name}, resampled by {method}",
    )
    if not surface.total > 0:  # people only on cells outside the units
        raise _raster_error("no_population", name, n_nodata=f"{n_nodata:,}")
    notes = [
        *win.notes,
        *reader_notes,
        *_resampling_notes(method, raw, target, window_total),
        *_zone_note(unit_set),
    ]
    report = SurfaceReport(
        kind="raster",
        input_total=target,
        kept_total=surface.total,
        dropped_population=float(counts[~inside].sum()) if raw > 0 else target,
        n_input=n_input,
        n_outside=int(((~inside) & (counts > 0)).sum()),
        correction_factor=target / raw if raw > 0 else 1.0,
        notes=notes,
        warnings=_census_warnings(surface.total, unit_set, name, accept_warnings),
    )
    return surface, report


def _check_counts(win: _RasterWindow, grid: CellGrid, n_input: int, n_nodata: int) -> None:
    """Some people over the prefecture, and no pixel denser than any real place.

    ``win.values`` hold counts with nodata as 0; the density uses each row's
    pixel area in the grid's (metric) CRS.
    """
    if n_input == 0:
        raise _raster_error("no_population", win.name, n_nodata=f"{n_nodata:,}")
    limit = settings.raster_max_density_per_km2
    most = (_pixel_area(win, grid.crs) / 1e6 * limit).astype(np.float32)
    dense = win.values > most[:, None]
    if dense.any():
        row, col = np.unravel_index(int(np.argmax(dense)), dense.shape)
        km2 = float(_pixel_area(win, grid.crs)[row]) / 1e6
        raise _raster_error(
            "too_dense",
            win.name,
            n=f"{int(dense.sum()):,}",
            value=f"{float(win.values[row, col]):.4g}",
            density=f"{float(win.values[row, col]) / km2:,.4g}",
            limit=f"{limit:,.0f}",
            where=_pixel_place((win.transform, win.crs), int(row), int(col)),
        )


def _census_warnings(
    total: float, unit_set: UnitSet, name: str, accept: bool
) -> list[dict[str, Any]]:
    """The raster's people far outnumbering the units' (census) population: a warning the
    planner must confirm (``accept``) before the raster replaces the current surface."""
    warnings = warning_problems()
    census = float(np.nansum(unit_set.units["population"].to_numpy(dtype=np.float64)))
    factor = settings.raster_census_warning_factor
    if census > 0 and total > factor * census:
        warnings.add(
            "raster.above_census",
            f"{name}: {total:,.0f} people, {total / census:.1f}x the census {census:,.0f}",
            filename=name,
            total=f"{total:,.0f}",
            census=f"{census:,.0f}",
            ratio=f"{total / census:.1f}",
            factor=f"{factor:g}",
        )
    return confirm(warnings, accept)


def _resampling_method(resampling: str | None) -> Literal["sum", "average"]:
    """The resampling asked for, or the default: ``sum`` where GDAL has it."""
    if not resampling:
        return "sum" if GDAL_HAS_SUM else "average"
    if resampling not in ("sum", "average"):
        raise InputError(
            f"resampling must be 'sum' or 'average', got {resampling!r}",
            code="surface.resampling",
            params={"value": resampling, "allowed": "sum, average"},
        )
    if resampling == "sum" and not GDAL_HAS_SUM:
        raise InputError(
            f"GDAL {rasterio.__gdal_version__} has no 'sum' resampling (needs 3.1)",
            code="surface.no_sum",
            params={"gdal": rasterio.__gdal_version__},
        )
    return "sum" if resampling == "sum" else "average"


def _resampling_notes(method: str, raw: float, target: float, window_total: float) -> list[str]:
    """How far GDAL's total was from the raster's and how it was corrected; what was not used."""
    factor = target / raw if raw > 0 else 1.0
    notes = [
        f"GDAL '{method}' resampling gave {raw:,.1f} people for {target:,.1f} over the grid's "
        f"extent; rescaled by {factor:.8f}"
    ]
    if window_total > target * (1 + 1e-9) + 1e-6:
        notes.append(
            f"{window_total - target:,.1f} people of the pixels read lie outside the "
            "prefecture's extent and were not used"
        )
    return notes


@dataclass
class _RasterWindow:
    """The part of a raster read over a grid: its values, where they lie, notes on reading it."""

    values: Float32Array  # nodata as NaN (as 0 once the population reader has counted them)
    transform: Affine
    crs: Any
    name: str
    notes: list[str]

    def warp_onto(
        self,
        grid: CellGrid,
        source: Float32Array | FloatArray,
        dst: FloatArray,
        resampling: Resampling,
        *,
        pad: int = 0,
        origin: tuple[int, int] = (0, 0),
        **options: Any,
    ) -> None:
        """Reproject ``source`` into ``dst``, the cells of ``grid`` from row, column ``origin``.

        ``source`` is this window's pixels with ``pad`` more on each side;
        ``options`` are GDAL's nodata options of :func:`rasterio.warp.reproject`.
        """
        row0, col0 = origin
        rasterio.warp.reproject(
            source,
            dst,
            src_transform=self.transform @ Affine.translation(-pad, -pad),
            src_crs=self.crs,
            dst_transform=grid.transform @ Affine.translation(col0, row0),
            dst_crs=grid.crs,
            resampling=resampling,
            warp_mem_limit=WARP_MEM_LIMIT_MB,
            **options,
        )


def _read_window(
    ds: Any, name: str, grid: CellGrid, band: int, negative_code: str, pad: int = 2
) -> _RasterWindow:
    """Check a raster (CRS, China, overlap, bounds, values) and read the part over ``grid``.

    The values are read as float32 (nodata as NaN) once the window is known to
    be within the pixel, decoded-bytes and decompression-ratio bounds.
    """
    r0, r1, c0, c1 = _window_over(ds, name, grid, band, pad)
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    notes: list[str] = []
    if ds.count > 1:
        notes.append(f"{name} has {ds.count} bands; band {band} was used")
    try:
        masked = ds.read(band, window=window, masked=True, out_dtype="float32")
    except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
        raise _raster_error("unreadable", name, detail=_short(exc)) from exc
    transform = ds.transform @ Affine.translation(c0, r0)
    values = np.asarray(masked.data, dtype=np.float32)
    nodata = np.ma.getmaskarray(masked)
    del masked
    scale, offset = ds.scales[band - 1], ds.offsets[band - 1]
    if (scale, offset) != (1.0, 0.0):
        values *= np.float32(scale)
        values += np.float32(offset)
        notes.append(f"applied the band's scale {scale:g} and offset {offset:g}")
    _check_values(values, nodata, name, negative_code, (transform, ds.crs))
    values[nodata] = np.nan
    n_nodata = int(np.count_nonzero(nodata))
    if n_nodata:
        notes.append(f"{n_nodata:,} nodata pixels of {name} count as 0")
    return _RasterWindow(values, transform, ds.crs, name, notes)


def _window_over(
    ds: Any, name: str, grid: CellGrid, band: int, pad: int
) -> tuple[int, int, int, int]:
    """The pixel window (r0, r1, c0, c1) of ``ds`` over ``grid``, checked to be readable."""
    if ds.crs is None:
        raise _raster_error("no_crs", name)
    if not 1 <= band <= ds.count:
        raise _raster_error("unreadable", name, detail=f"no band {band}")
    try:
        wgs = rasterio.warp.transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
        local = rasterio.warp.transform_bounds(grid.crs, ds.crs, *grid.bounds, densify_pts=51)
    except Exception as exc:  # PROJ/GDAL errors for exotic or broken CRSs
        raise _raster_error("unreadable", name, detail=_short(exc)) from exc
    if not overlaps_china(wgs):
        raise _raster_error("not_in_china", name, bounds=_bounds_text(wgs))
    win = _pixel_window(ds.transform, ds.width, ds.height, local, pad)
    if win is None:
        raise _raster_error("no_overlap", name)
    check_window(ds, name, win)
    return win


def _pixel_place(where: tuple[Affine, Any], row: int, col: int) -> str:
    """Longitude, latitude of the centre of pixel (row, col) of a window, for a message."""
    transform, crs = where
    x, y = transform * (col + 0.5, row + 0.5)
    lon, lat = transformer(crs, "EPSG:4326").transform(x, y)
    return f"{float(lon):.4f}, {float(lat):.4f}"


def _check_values(
    values: Float32Array,
    nodata: NDArray[np.bool_],
    name: str,
    code: str,
    where: tuple[Affine, Any],
) -> None:
    """No infinite, NaN (unless nodata) or negative value; the first one is located."""
    bad = ~np.isfinite(values)
    bad &= ~nodata
    if bad.any():
        row, col = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise _raster_error(
            "nonfinite",
            name,
            prefix=code,
            n=f"{int(bad.sum()):,}",
            where=_pixel_place(where, int(row), int(col)),
        )
    del bad
    with np.errstate(invalid="ignore"):
        negative = values < 0
    negative &= ~nodata
    if negative.any():
        raise _raster_error(
            "negative",
            name,
            prefix=code,
            n=int(negative.sum()),
            min=f"{float(values[negative].min()):g}",
        )
