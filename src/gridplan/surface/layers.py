"""Other rasters on the cell grid: land cover and DEM for the raster model.

They are uploads like the population raster: read as GeoTIFF only, without
GDAL's network or side-car files, and only the part over the grid, within
the same pixel, decoded-bytes and decompression-ratio bounds
(:mod:`gridplan.inputs.raster`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio.errors
import rasterio.windows
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject

from gridplan._types import FloatArray
from gridplan.errors import InputError
from gridplan.inputs.files import _limit_mb, _short
from gridplan.inputs.raster import WARP_MEM_LIMIT_MB, _open_raster, _raster_error
from gridplan.surface.grid import CellGrid
from gridplan.surface.raster import _window_over

_METHODS = {
    "average": Resampling.average,
    "bilinear": Resampling.bilinear,
    "nearest": Resampling.nearest,
    "mode": Resampling.mode,
}


def check_layer_upload(
    path: str | Path,
    filename: str | None = None,
    *,
    max_mb: float | None = None,
    grid: CellGrid | None = None,
) -> None:
    """Check an uploaded land-cover or DEM GeoTIFF without reading its pixels.

    The size, the format (GeoTIFF only, by content), the bands, sample type,
    dimensions and the coordinate reference system; with ``grid``, also what
    :func:`raster_on_grid` will read over it (overlap, pixels, decoded bytes and
    decompression ratio of the window), so a file is refused when it is uploaded.

    Raises
    ------
    UploadError
        ``raster.too_large``, ``upload.format_not_allowed``,
        ``raster.unreadable``, ``raster.too_many_bands``, ``raster.bad_dtype``,
        ``raster.too_many_pixels``, ``raster.no_crs``.
    """
    with _open_raster(path, filename, _limit_mb(max_mb)) as (ds, name):
        if ds.crs is None:
            raise _raster_error("no_crs", name)
        if grid is not None:
            _window_over(ds, name, grid, 1, pad=2)


def raster_on_grid(
    path: str | Path,
    grid: CellGrid,
    *,
    resampling: str = "average",
    band: int = 1,
    max_mb: float | None = None,
    filename: str | None = None,
) -> FloatArray:
    """A raster file (any CRS) resampled onto ``grid``; nodata and areas off the file are NaN.

    ``resampling``: ``average`` or ``bilinear`` for continuous data (a DEM),
    ``nearest`` or ``mode`` for classes (land cover).  Only the part of the
    file over the grid is read, as float32.

    Raises
    ------
    InputError
        ``surface.resampling`` for an unknown method.
    UploadError
        The codes of :func:`check_layer_upload`, and ``raster.not_in_china``,
        ``raster.no_overlap``, ``raster.window_too_large``,
        ``raster.decoded_too_large``, ``raster.ratio``.
    """
    if resampling not in _METHODS:
        raise InputError(
            f"unknown resampling {resampling!r}; use one of {', '.join(_METHODS)}",
            code="surface.resampling",
            params={"value": resampling, "allowed": ", ".join(_METHODS)},
        )
    with _open_raster(path, filename, _limit_mb(max_mb)) as (ds, name):
        r0, r1, c0, c1 = _window_over(ds, name, grid, band, pad=2)
        try:
            masked = ds.read(
                band,
                window=rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0),
                masked=True,
                out_dtype="float32",
            )
        except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
            raise _raster_error("unreadable", name, detail=_short(exc)) from exc
        transform, crs = ds.transform @ Affine.translation(c0, r0), ds.crs
    data = np.asarray(masked.data, dtype=np.float32)
    data[np.ma.getmaskarray(masked) | ~np.isfinite(data)] = np.nan
    del masked
    out = np.full(grid.shape, np.nan, dtype=np.float64)
    reproject(
        data, out, src_transform=transform, src_crs=crs, src_nodata=np.nan,
        dst_transform=grid.transform, dst_crs=CRS.from_user_input(grid.crs),
        dst_nodata=np.nan, resampling=_METHODS[resampling], warp_mem_limit=WARP_MEM_LIMIT_MB,
    )  # fmt: skip
    return out
