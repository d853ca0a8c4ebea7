"""Other rasters on the cell grid: land cover and DEM for the raster model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import rasterio.features
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject

from gridplan._types import FloatArray
from gridplan.errors import InputError, UploadError
from gridplan.surface.grid import CellGrid


def raster_on_grid(
    path: str | Path, grid: CellGrid, *, resampling: str = "average", band: int = 1
) -> FloatArray:
    """A raster file (any CRS) resampled onto ``grid``; nodata and areas off the file are NaN.

    ``resampling``: ``average`` or ``bilinear`` for continuous data (a DEM),
    ``nearest`` or ``mode`` for classes (land cover).
    """
    methods = {"average": Resampling.average, "bilinear": Resampling.bilinear,
               "nearest": Resampling.nearest, "mode": Resampling.mode}  # fmt: skip
    if resampling not in methods:
        raise InputError(
            f"unknown resampling {resampling!r}; use one of {', '.join(methods)}",
            code="surface.resampling",
            params={"value": resampling, "allowed": ", ".join(methods)},
        )
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise UploadError(
            f"cannot read raster {Path(path).name}: {exc}",
            code="upload.unreadable",
            params={"filename": Path(path).name, "detail": str(exc)},
        ) from exc
    with src:
        if src.crs is None:
            raise UploadError(
                f"{Path(path).name} has no CRS", code="upload.no_crs",
                params={"filename": Path(path).name},
            )  # fmt: skip
        data = src.read(band).astype(np.float64)
        if src.nodata is not None:
            data[data == src.nodata] = np.nan
        out = np.full(grid.shape, np.nan, dtype=np.float64)
        reproject(
            data, out, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
            dst_transform=grid.transform, dst_crs=CRS.from_user_input(grid.crs),
            dst_nodata=np.nan, resampling=methods[resampling],
        )  # fmt: skip
    return out
