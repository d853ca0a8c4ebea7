"""Reading rasters safely: opening, pixel windows, windowed reads within a pixel budget."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
from affine import Affine
from rasterio.io import MemoryFile

from gridplan.errors import UploadError
from gridplan.inputs.files import _check_size, _short

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
    _check_size(size, limit_mb, name, code="raster.too_large", filename=name)
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


def _raster_error(kind: str, name: str, *, prefix: str = "raster", **params: Any) -> UploadError:
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
    return UploadError(texts[kind].format(**params), code=f"{prefix}.{kind}", params=params)


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
