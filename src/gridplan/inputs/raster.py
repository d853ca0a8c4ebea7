"""Reading rasters safely: opening, pixel windows, windowed reads within a pixel budget."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
from affine import Affine
from numpy.typing import NDArray
from rasterio.io import MemoryFile

from gridplan.errors import UploadError
from gridplan.surface._common import _bounds_text, _short
from gridplan.surface.grid import (
    CellGrid,
)

_MB = 1024 * 1024

#: Largest raster window read into memory, in pixels (float64: 8 bytes each).
MAX_WINDOW_PIXELS = 250_000_000

#: GDAL warp memory per call, in MB.  GDAL's default lets the ``sum`` kernel
#: grow to ~0.9 GB on a prefecture at 100 m; 16 MB costs no time.
WARP_MEM_LIMIT_MB = 16


@contextlib.contextmanager
def _open_raster(
    data: bytes | str | Path, filename: str | None, limit_mb: float
) -> Iterator[tuple[Any, str]]:
    """Open a GeoTIFF given as bytes or a path, after the size check."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        name = Path(filename).name if filename else "upload.tif"
        size = len(raw)
        path: Path | None = None
    else:
        path = Path(data)
        name = Path(filename).name if filename else path.name
        if not path.is_file():
            raise _raster_error("unreadable", name, detail="file not found")
        size = path.stat().st_size
    if size > limit_mb * _MB:
        raise UploadError(
            f"{name} is too large: {size / _MB:.1f} MB, over the {limit_mb:g} MB limit",
            code="raster.too_large",
            params={"filename": name, "size_mb": size / _MB, "limit_mb": limit_mb},
        )
    if size == 0:
        raise _raster_error("unreadable", name, detail="empty file")
    with contextlib.ExitStack() as stack:
        try:
            if path is None:
                mem = stack.enter_context(MemoryFile(raw))
                ds = stack.enter_context(mem.open())
            else:
                ds = stack.enter_context(rasterio.open(path))
        except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
            raise _raster_error("unreadable", name, detail=_short(exc)) from exc
        if ds.count < 1:
            raise _raster_error("unreadable", name, detail="no raster band")
        yield ds, name


def _raster_error(kind: str, name: str, *, code: str = "raster", **params: Any) -> UploadError:
    texts = {
        "unreadable": "cannot read raster {filename}: {detail}",
        "no_crs": "raster {filename} has no coordinate reference system",
        "not_in_china": "raster {filename} lies outside China (extent {bounds})",
        "no_overlap": "raster {filename} does not overlap the prefecture",
        "negative": "raster {filename} has {n} negative values (minimum {min})",
        "window_too_large": "the part of raster {filename} over the prefecture has "
        "{pixels} pixels, over the {limit} limit",
    }
    params = {"filename": name, **params}
    return UploadError(texts[kind].format(**params), code=f"{code}.{kind}", params=params)


def _pixel_window(
    transform: Affine, width: int, height: int, bounds: tuple[float, float, float, float], pad: int
) -> tuple[int, int, int, int] | None:
    """Pixel rows/cols (r0, r1, c0, c1) covering ``bounds`` plus ``pad``, clipped; None if empty."""
    minx, miny, maxx, maxy = bounds
    inv = ~transform
    cols, rows = [], []
    for x, y in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)):
        c, r = inv @ (x, y)
        cols.append(c)
        rows.append(r)
    c0 = max(0, math.floor(min(cols)) - pad)
    c1 = min(width, math.ceil(max(cols)) + pad)
    r0 = max(0, math.floor(min(rows)) - pad)
    r1 = min(height, math.ceil(max(rows)) + pad)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, r1, c0, c1


@dataclass
class _RasterWindow:
    values: NDArray[np.float64]  # nodata as NaN
    transform: Affine
    crs: Any
    name: str
    notes: list[str]


def _read_window(
    ds: Any, name: str, grid: CellGrid, band: int, negative_code: str, pad: int = 2
) -> _RasterWindow:
    """Check a raster (CRS, China, overlap, negatives) and read the part over ``grid``."""
    if ds.crs is None:
        raise _raster_error("no_crs", name)
    if not 1 <= band <= ds.count:
        raise _raster_error("unreadable", name, detail=f"no band {band}")
    try:
        wgs = rasterio.warp.transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
        local = rasterio.warp.transform_bounds(grid.crs, ds.crs, *grid.bounds, densify_pts=51)
    except Exception as exc:  # PROJ/GDAL errors for exotic or broken CRSs
        raise _raster_error("unreadable", name, detail=_short(exc)) from exc
    if not (
        np.all(np.isfinite(wgs))
        and wgs[0] <= 137.8347
        and wgs[2] >= 72.004
        and wgs[1] <= 55.8271
        and wgs[3] >= 0.8293
    ):
        raise _raster_error("not_in_china", name, bounds=_bounds_text(wgs))
    win = _pixel_window(ds.transform, ds.width, ds.height, local, pad)
    if win is None:
        raise _raster_error("no_overlap", name)
    r0, r1, c0, c1 = win
    n_pixels = (r1 - r0) * (c1 - c0)
    if n_pixels > MAX_WINDOW_PIXELS:
        raise _raster_error(
            "window_too_large",
            name,
            pixels=f"{n_pixels:,}",
            limit=f"{MAX_WINDOW_PIXELS:,}",
        )
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    notes: list[str] = []
    if ds.count > 1:
        notes.append(f"{name} has {ds.count} bands; band {band} was used")
    try:
        masked = ds.read(band, window=window, masked=True)
    except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
        raise _raster_error("unreadable", name, detail=_short(exc)) from exc
    values = np.ma.filled(masked.astype(np.float64), np.nan)
    scale, offset = ds.scales[band - 1], ds.offsets[band - 1]
    if (scale, offset) != (1.0, 0.0):
        values = values * scale + offset
        notes.append(f"applied the band's scale {scale:g} and offset {offset:g}")
    n_nodata = int(np.count_nonzero(~np.isfinite(values)))
    if n_nodata:
        notes.append(f"{n_nodata:,} nodata pixels of {name} count as 0")
    with np.errstate(invalid="ignore"):
        negative = values < 0
    if negative.any():
        raise _raster_error(
            "negative",
            name,
            code=negative_code,
            n=int(negative.sum()),
            min=f"{float(np.nanmin(values)):g}",
        )
    return _RasterWindow(values, ds.transform @ Affine.translation(c0, r0), ds.crs, name, notes)
