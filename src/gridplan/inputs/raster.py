"""Reading rasters safely: opening, pixel windows, windowed reads within a pixel budget."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.enums import Interleaving

from gridplan import settings
from gridplan.errors import UploadError
from gridplan.inputs.files import _MB, _check_size
from gridplan.inputs.gdal import open_raster_upload

#: GDAL warp memory per call, in MB.  GDAL's default lets the ``sum`` kernel
#: grow to ~0.9 GB on a prefecture at 100 m; 16 MB costs no time.
WARP_MEM_LIMIT_MB = 16

#: Sample types a raster upload may have: integers and real numbers, not complex.
_NUMERIC_DTYPES = frozenset(
    ("uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64")
)


@contextlib.contextmanager
def _open_raster(
    data: bytes | str | Path, filename: str | None, limit_mb: float
) -> Iterator[tuple[Any, str]]:
    """Open a GeoTIFF given as bytes or a path, after the size check, GeoTIFF driver only.

    The header is checked too (:func:`_check_header`); nothing is decoded yet.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        name = Path(filename).name if filename else "upload.tif"
        size = len(data)
    else:
        path = Path(data)
        name = Path(filename).name if filename else path.name
        if not path.is_file():
            raise _raster_error("unreadable", name, detail="file not found")
        size = path.stat().st_size
    _check_size(size, limit_mb, name, code="raster.too_large", filename=name)
    if size == 0:
        raise _raster_error("unreadable", name, detail="empty file")
    with open_raster_upload(data, name) as ds:
        _check_header(ds, name)
        yield ds, name


def _check_header(ds: Any, name: str) -> None:
    """Bands, sample types and dimensions a planner's raster can have; refused otherwise."""
    if ds.count < 1:
        raise _raster_error("unreadable", name, detail="no raster band")
    if ds.count > settings.raster_max_bands:
        raise _raster_error("too_many_bands", name, n=ds.count, limit=settings.raster_max_bands)
    odd = sorted({str(d) for d in ds.dtypes} - _NUMERIC_DTYPES)
    if odd:
        raise _raster_error("bad_dtype", name, dtype=", ".join(odd))
    if max(ds.width, ds.height) > settings.raster_max_side_px:
        raise _raster_error(
            "too_many_pixels",
            name,
            width=f"{ds.width:,}",
            height=f"{ds.height:,}",
            limit=f"{settings.raster_max_side_px:,}",
        )


def check_window(ds: Any, name: str, window: tuple[int, int, int, int]) -> None:
    """The window (r0, r1, c0, c1) about to be read is within the pixel and ratio bounds.

    Checked on the file's block index before any pixel is decoded: GDAL
    decodes whole tiles or strips, so their decoded bytes are bounded, and so is
    their ratio to the bytes they take in the file (a deflate bomb's is huge).
    """
    r0, r1, c0, c1 = window
    n_pixels = (r1 - r0) * (c1 - c0)
    if n_pixels > settings.raster_max_window_pixels:
        raise _raster_error(
            "window_too_large",
            name,
            pixels=f"{n_pixels:,}",
            limit=f"{settings.raster_max_window_pixels:,}",
        )
    decoded, stored = _window_bytes(ds, window)
    if decoded > settings.raster_max_decoded_mb * _MB:
        raise _raster_error(
            "decoded_too_large",
            name,
            size_mb=f"{decoded / _MB:,.0f}",
            limit_mb=f"{settings.raster_max_decoded_mb:,.0f}",
        )
    ratio = decoded / max(stored, 1)
    if ratio > settings.raster_max_decompression_ratio:
        raise _raster_error(
            "ratio",
            name,
            ratio=f"{ratio:,.0f}",
            limit=f"{settings.raster_max_decompression_ratio:,.0f}",
        )


def _window_bytes(ds: Any, window: tuple[int, int, int, int]) -> tuple[int, int]:
    """Decoded bytes of the blocks a window touches (all bands) and their bytes in the file.

    A block missing from the file (a sparse GeoTIFF) counts 0 bytes stored.
    """
    r0, r1, c0, c1 = window
    bh, bw = ds.block_shapes[0]
    per_pixel = sum(np.dtype(d).itemsize for d in ds.dtypes)
    bands = [1] if ds.interleaving == Interleaving.pixel else list(range(1, ds.count + 1))
    stored = 0
    rows = range(r0 // bh, (r1 - 1) // bh + 1)
    cols = range(c0 // bw, (c1 - 1) // bw + 1)
    for bidx in bands:
        for by in rows:
            for bx in cols:
                size = ds.get_tag_item(f"BLOCK_SIZE_{bx}_{by}", "TIFF", bidx=bidx)
                stored += int(size or 0)
    return len(rows) * len(cols) * bh * bw * per_pixel, stored


def _raster_error(kind: str, name: str, *, prefix: str = "raster", **params: Any) -> UploadError:
    texts = {
        "unreadable": "cannot read raster {filename}: {detail}",
        "no_crs": "raster {filename} has no coordinate reference system",
        "not_in_china": "raster {filename} lies outside China (extent {bounds})",
        "no_overlap": "raster {filename} does not overlap the prefecture",
        "negative": "raster {filename} has {n} negative values (minimum {min})",
        "nonfinite": "raster {filename} has {n} infinite, NaN or out-of-range values that "
        "are not its nodata (first at {where})",
        "window_too_large": "the part of raster {filename} over the prefecture has "
        "{pixels} pixels, over the {limit} limit",
        "ratio": "raster {filename} decompresses {ratio} times over the prefecture, "
        "over the {limit} limit",
        "decoded_too_large": "reading raster {filename} over the prefecture decodes "
        "{size_mb} MB of tiles or strips, over the {limit_mb} MB limit",
        "too_dense": "raster {filename} has {n} pixels denser than {limit} people per km² "
        "(e.g. {value} people, {density} per km², at {where})",
        "no_population": "raster {filename} has no people over the prefecture "
        "({n_nodata} nodata pixels)",
        "too_many_bands": "raster {filename} has {n} bands, over the {limit} limit",
        "bad_dtype": "raster {filename} has {dtype} values; only numbers are accepted",
        "too_many_pixels": "raster {filename} is {width} × {height} pixels, a side over "
        "the {limit} limit",
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
