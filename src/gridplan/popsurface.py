"""Population surfaces from a planner's own data: rasters, points and polygon totals.

The embedded default (:func:`gridplan.surface.census_surface`) spreads census
totals uniformly over each unit.  This module builds the same
:class:`~gridplan.surface.PopulationSurface` (on ``grid_for_units(unit_set,
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

import contextlib
import functools
import http.client
import math
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.io import MemoryFile

from gridplan import settings
from gridplan.crs import geoms_to_wgs84, in_china, to_wgs84
from gridplan.errors import GridPlanError, InputError, UploadError
from gridplan.i18n import Lang, t
from gridplan.io import parse_datum, read_table_upload, read_vector_upload
from gridplan.population import combine_sources
from gridplan.surface import (
    CellGrid,
    PopulationSurface,
    census_surface,
    grid_for_units,
    rasterize_units,
)
from gridplan.units import UnitSet

__all__ = [
    "WORLDPOP_1KM_URL_TEMPLATE",
    "WORLDPOP_CONSTRAINED_URL_TEMPLATE",
    "WORLDPOP_URL_TEMPLATE",
    "BadRow",
    "DownloadError",
    "SurfaceReport",
    "download_worldpop",
    "fetch_worldpop",
    "surface_from_file",
    "surface_from_points",
    "surface_from_polygons",
    "surface_from_raster",
    "worldpop_bbox",
    "worldpop_url",
]

_MB = 1024 * 1024

#: Largest raster window read into memory, in pixels (float64: 8 bytes each).
MAX_WINDOW_PIXELS = 250_000_000

#: GDAL warp memory per call, in MB.  GDAL's default lets the ``sum`` kernel
#: grow to ~0.9 GB on a prefecture at 100 m; 16 MB costs no time.
WARP_MEM_LIMIT_MB = 16

#: Default size cap of :func:`download_worldpop`, in MB.  WorldPop's whole-China
#: 100 m rasters are several GB (unconstrained) or hundreds of MB (constrained).
WORLDPOP_MAX_MB = 10_000.0

#: WorldPop unconstrained top-down estimates, 100 m (3 arc-seconds), people per
#: pixel, EPSG:4326, nodata -99999, years 2000-2020.  ``unadj`` is ``""`` or
#: ``"_UNadj"`` (country total matched to the UN estimate).  China 2020:
#: https://data.worldpop.org/GIS/Population/Global_2000_2020/2020/CHN/chn_ppp_2020.tif
WORLDPOP_URL_TEMPLATE = (
    "https://data.worldpop.org/GIS/Population/Global_2000_2020/{year}/{ISO3}/"
    "{iso3}_ppp_{year}{unadj}.tif"
)

#: WorldPop constrained top-down estimates (people only in built-up pixels),
#: 100 m, 2020 only.  China is in the ``BSGM`` folder (some countries are in
#: ``maxar_v1``).  China 2020:
#: https://data.worldpop.org/GIS/Population/Global_2000_2020_Constrained/2020/BSGM/CHN/chn_ppp_2020_constrained.tif
WORLDPOP_CONSTRAINED_URL_TEMPLATE = (
    "https://data.worldpop.org/GIS/Population/Global_2000_2020_Constrained/2020/BSGM/{ISO3}/"
    "{iso3}_ppp_2020{unadj}_constrained.tif"
)

#: WorldPop unconstrained estimates aggregated to 1 km (30 arc-seconds): much
#: smaller files, enough for 1000 m cells.  ``unadj_dir`` is ``""`` or ``"_UNadj"``.
WORLDPOP_1KM_URL_TEMPLATE = (
    "https://data.worldpop.org/GIS/Population/Global_2000_2020_1km{unadj_dir}/{year}/{ISO3}/"
    "{iso3}_ppp_{year}_1km_Aggregated{unadj}.tif"
)

_LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "东经", "wgs84lon", "gcj02lon")
_LAT_NAMES = ("lat", "latitude", "纬度", "y", "北纬", "wgs84lat", "gcj02lat")
#: Population columns in order of preference (resident population first).
_POP_NAMES = (
    "常住人口",
    "population",
    "pop",
    "人口",
    "人口数",
    "总人口",
    "居住人口",
    "户籍人口",
    "人数",
    "pop2020",
)
_LABEL_NAMES = ("name", "名称", "xzqmc", "乡镇", "乡镇名称", "街道", "单位", "unit_id", "code")


class DownloadError(GridPlanError):
    """A download failed: HTTP error, timeout, size cap, disk space or a file that is no raster."""

    code = "download"


# --------------------------------------------------------------------------------------
# reports


@dataclass(frozen=True)
class BadRow:
    """One problem with one input row, renderable in Chinese or English.

    ``row`` is the spreadsheet row number (the header is row 1, the first data
    row is row 2) for tables, and the 1-based feature number for polygon layers.
    """

    row: int
    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def text(self, lang: Lang = "zh") -> str:
        reason = t(self.code, lang, **self.params)
        return f"第 {self.row} 行：{reason}" if lang == "zh" else f"Row {self.row}: {reason}"


@dataclass
class SurfaceReport:
    """What a ``surface_from_*`` function kept, dropped and assumed.

    Attributes
    ----------
    kind
        ``"raster"``, ``"points"`` or ``"polygons"``.
    input_total
        Population given: the raster's population over the grid's extent, the
        sum of the valid points, the sum of the valid polygon totals.
    kept_total
        Population on the surface (``surface.total``).
    dropped_population
        ``input_total - kept_total``: population outside the prefecture's units.
    n_input
        Valid input items (points, polygons; populated source pixels for rasters).
    n_outside
        Items whose population was dropped: points or polygons outside the
        units; for rasters, populated grid cells outside the units.
    outside_rows
        Row / feature numbers of the points or polygons that were dropped.
    bad_rows
        Rows that could not be used (missing or impossible coordinates,
        negative population...), with reasons in Chinese and English.
    fallback_uniform
        Polygons spread uniformly although weights were given, because all
        their cells have zero weight.
    correction_factor
        Raster only: the global factor applied to GDAL's resampled total to
        conserve the raster's population exactly (1 ± ~1e-4).
    notes
        English notes on what was assumed or changed.
    """

    kind: str
    input_total: float = 0.0
    kept_total: float = 0.0
    dropped_population: float = 0.0
    n_input: int = 0
    n_outside: int = 0
    outside_rows: list[int] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    fallback_uniform: list[str] = field(default_factory=list)
    correction_factor: float = 1.0
    notes: list[str] = field(default_factory=list)

    def summary(self, lang: Lang = "zh") -> str:
        """A short planner-facing summary, with the bad rows listed (first 20)."""
        lines = [
            t(
                "popsurface.summary",
                lang,
                kept=f"{self.kept_total:,.0f}",
                input=f"{self.input_total:,.0f}",
                dropped=f"{self.dropped_population:,.0f}",
                n_outside=self.n_outside,
            )
        ]
        if self.fallback_uniform:
            lines.append(
                t(
                    "popsurface.fallback_uniform",
                    lang,
                    n=len(self.fallback_uniform),
                    names="、".join(self.fallback_uniform[:10]),
                )
            )
        if self.bad_rows:
            lines.append(t("popsurface.bad_rows", lang, n=len(self.bad_rows)))
            lines += [f"• {b.text(lang)}" for b in self.bad_rows[:20]]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# small helpers


def _limit_mb(max_mb: float | None) -> float:
    limit = settings.max_upload_mb if max_mb is None else float(max_mb)
    if not limit > 0:
        raise InputError(f"max_mb must be positive, got {max_mb!r}")
    return limit


def _bounds_text(bounds: tuple[float, float, float, float]) -> str:
    return "{:.3f}, {:.3f}, {:.3f}, {:.3f}".format(*bounds)


def _short(detail: object) -> str:
    text = " ".join(str(detail).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _warning_notes(caught: list[warnings.WarningMessage]) -> list[str]:
    skip = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
    texts = dict.fromkeys(_short(w.message) for w in caught if not issubclass(w.category, skip))
    return [f"reader warning: {text}" for text in texts]


@functools.lru_cache(maxsize=32)
def _cached_transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _transformer(src: Any, dst: Any) -> Transformer:
    """An always-xy pyproj transformer between two CRSs (rasterio/pyproj objects or strings)."""

    def key(crs: Any) -> str:
        return crs if isinstance(crs, str) else crs.to_wkt()

    return _cached_transformer(key(src), key(dst))


def _grid_and_index(unit_set: UnitSet, cell_m: float) -> tuple[CellGrid, NDArray[np.int32]]:
    grid = grid_for_units(unit_set, cell_m)
    return grid, rasterize_units(unit_set, grid).astype(np.int32)


def _unit_ids(unit_set: UnitSet) -> list[str]:
    return [str(x) for x in unit_set.units.reset_index(drop=True)["unit_id"]]


def _zone_note(unit_set: UnitSet) -> list[str]:
    zones = unit_set.zones_without_polygon
    if len(zones) == 0:
        return []
    return [
        f"{len(zones)} unit(s) have no polygon ({', '.join(map(str, zones['name']))}); "
        "their residents are counted in the drawn units around them"
    ]


def _locate_in_units(
    unit_set: UnitSet, crs: str, x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Row position (in ``unit_set.units``) of the unit holding each metric point; -1 outside.

    Points on a shared border go to one of the units; townships win over
    counties, as in :func:`gridplan.surface.rasterize_units`.
    """
    out = np.full(len(x), -1, dtype=np.int64)
    if len(x) == 0:
        return out
    u = unit_set.units.reset_index(drop=True)
    pos = np.flatnonzero(u["has_geometry"].to_numpy(dtype=bool))
    if len(pos) == 0:
        return out
    geoms = u.geometry.iloc[pos].to_crs(crs).to_numpy()
    prio = (u["level"].iloc[pos] == "township").to_numpy().astype(np.int64)
    tree = shapely.STRtree(geoms)
    pi, ti = tree.query(shapely.points(x, y), predicate="intersects")
    if len(pi) == 0:
        return out
    order = np.lexsort((prio[ti], pi))
    pi, ti = pi[order], ti[order]
    last = np.r_[pi[1:] != pi[:-1], True]
    out[pi[last]] = pos[ti[last]]
    return out


def _normalise_name(name: object) -> str:
    text = re.sub(r"[\(（\[【].*?[\)）\]】]", "", str(name))
    return re.sub(r"[\s_\-]", "", text).lower()


def _find_column(columns: list[Any], names: tuple[str, ...]) -> tuple[Any | None, list[Any]]:
    """The first column matching ``names`` (in their order) and the other matches."""
    norm = {c: _normalise_name(c) for c in columns}
    found = [c for n in names for c in columns if norm[c] == n]
    unique = list(dict.fromkeys(found))
    return (unique[0] if unique else None), unique[1:]


def _numbers(series: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Values as floats, whether each is missing, whether it is present but not a number."""
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype(str).str.normalize("NFKC").str.replace(r"[,\s]", "", regex=True)
        missing = missing | (text == "").to_numpy()
        num = pd.to_numeric(text.where(~missing), errors="coerce")
    else:
        num = pd.to_numeric(series, errors="coerce")
    values = num.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~missing & ~np.isfinite(values)
    return values, missing, bad


def _label_of(frame: pd.DataFrame) -> list[str]:
    col, _ = _find_column(list(frame.columns), _LABEL_NAMES)
    if col is None:
        return [f"#{i + 1}" for i in range(len(frame))]
    return [str(v) if pd.notna(v) else f"#{i + 1}" for i, v in enumerate(frame[col])]


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


def _xy(
    transform: Affine, cols: NDArray[Any], rows: NDArray[Any]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates of pixel positions (column, row; corners at integers) under ``transform``."""
    c = np.asarray(cols, dtype=np.float64)
    r = np.asarray(rows, dtype=np.float64)
    return (
        transform.a * c + transform.b * r + transform.c,
        transform.d * c + transform.e * r + transform.f,
    )


def _footprint_share(win: _RasterWindow, grid: CellGrid) -> NDArray[np.float64]:
    """Share of each source pixel's area inside the grid's extent (1 inside, 0 outside)."""
    shape = win.values.shape
    minx, miny, maxx, maxy = grid.bounds
    box = shapely.segmentize(shapely.box(minx, miny, maxx, maxy), (maxx - minx + maxy - miny) / 200)
    to_src = _transformer(grid.crs, win.crs)
    ring = np.asarray(box.exterior.coords)
    sx, sy = to_src.transform(ring[:, 0], ring[:, 1])
    poly = shapely.make_valid(shapely.Polygon(np.column_stack([sx, sy])))
    share = rasterio.features.geometry_mask(
        [poly], out_shape=shape, transform=win.transform, invert=True
    ).astype(np.float64)
    edge = rasterio.features.rasterize(
        [(poly.boundary, 1)], out_shape=shape, transform=win.transform, all_touched=True, fill=0
    ).astype(bool)
    rows, cols = np.nonzero(edge)
    if len(rows):
        corners = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
        xy = np.stack(
            [np.column_stack(_xy(win.transform, cols + dc, rows + dr)) for dc, dr in corners],
            axis=1,
        )
        pixels = shapely.polygons(xy)
        share[rows, cols] = shapely.area(shapely.intersection(pixels, poly)) / shapely.area(pixels)
    return share


def _pixel_area(win: _RasterWindow, crs: str) -> NDArray[np.float64]:
    """Area in ``crs`` of each row's pixels (taken at the window's middle column)."""
    h, w = win.values.shape
    rows = np.arange(h, dtype=np.float64)
    col = np.full(h, w / 2.0)
    to_dst = _transformer(win.crs, crs)
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
) -> tuple[NDArray[np.float64], float, float]:
    """Counts on the grid (total conserved), GDAL's raw total and the target total.

    The source is padded with zero pixels over at least one cell's width, so
    that ``average`` does not stretch the pixels at the raster's edge over the
    cells they only partly cover.
    """
    values = np.nan_to_num(win.values, nan=0.0)
    area = _pixel_area(win, grid.crs)
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
    common = dict(
        src_transform=src_transform,
        src_crs=win.crs,
        dst_transform=grid.transform @ Affine.translation(c0, r0),
        dst_crs=grid.crs,
        init_dest_nodata=False,
        warp_mem_limit=WARP_MEM_LIMIT_MB,
    )
    if method == "sum":
        rasterio.warp.reproject(np.pad(values, pad), part, resampling=Resampling.sum, **common)
    else:
        density = np.pad(values / area[:, None], pad)
        rasterio.warp.reproject(density, part, resampling=Resampling.average, **common)
        part *= grid.cell_m * grid.cell_m
    raw = float(dst.sum())
    target = float((values * _footprint_share(win, grid)).sum())
    if raw > 0:
        dst *= target / raw
    return dst, raw, target


def surface_from_raster(
    path_or_bytes: bytes | str | Path,
    unit_set: UnitSet,
    cell_m: float = 100,
    *,
    max_mb: float | None = None,
    filename: str | None = None,
    band: int = 1,
    resampling: Literal["sum", "average"] | None = None,
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
        Cell size in metres (50-1000).
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
    method: Literal["sum", "average"] = resampling or ("sum" if GDAL_HAS_SUM else "average")
    if method not in ("sum", "average"):
        raise InputError(f"resampling must be 'sum' or 'average', got {resampling!r}")
    if method == "sum" and not GDAL_HAS_SUM:
        raise InputError(f"GDAL {rasterio.__gdal_version__} has no 'sum' resampling (needs 3.1)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _open_raster(path_or_bytes, filename, limit) as (ds, name):
            win = _read_window(ds, name, grid, band, negative_code="raster")
        counts, raw, target = _resample_counts(win, grid, method)
    inside = index >= 0
    population = np.where(inside, counts, 0.0).astype(np.float32)
    surface = PopulationSurface(
        grid=grid,
        population=population,
        unit_index=index,
        unit_ids=_unit_ids(unit_set),
        source="uploaded",
        method=f"population raster {name}, resampled by {method}",
    )
    kept = surface.total
    outside_cells = (~inside) & (counts > 0)
    notes = list(win.notes)
    notes += _warning_notes(caught)
    factor = target / raw if raw > 0 else 1.0
    notes.append(
        f"GDAL '{method}' resampling gave {raw:,.1f} people for {target:,.1f} over the grid's "
        f"extent; rescaled by {factor:.8f}"
    )
    window_total = float(np.nansum(win.values))
    if window_total > target * (1 + 1e-9) + 1e-6:
        notes.append(
            f"{window_total - target:,.1f} people of the pixels read lie outside the "
            "prefecture's extent and were not used"
        )
    notes += _zone_note(unit_set)
    report = SurfaceReport(
        kind="raster",
        input_total=target,
        kept_total=kept,
        dropped_population=float(counts[~inside].sum()) if raw > 0 else target,
        n_input=int(np.count_nonzero(np.nan_to_num(win.values) > 0)),
        n_outside=int(outside_cells.sum()),
        correction_factor=factor,
        notes=notes,
    )
    return surface, report


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
# points


def surface_from_points(
    table_df_or_path: pd.DataFrame | bytes | str | Path,
    unit_set: UnitSet,
    cell_m: float = 100,
    *,
    datum: str = "wgs84",
    filename: str | None = None,
    encoding: str | None = None,
    max_mb: float | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    population_column: str | None = None,
) -> tuple[PopulationSurface, SurfaceReport]:
    """A population surface from points with a population (residential compounds, villages).

    Parameters
    ----------
    table_df_or_path
        A DataFrame, or a CSV/Excel file's content or path (read with
        :func:`gridplan.io.read_table_upload`: UTF-8/GBK/GB18030 detected).
        Columns are found by name: longitude ``lon``/``lng``/``经度``/``x``,
        latitude ``lat``/``纬度``/``y``, population ``常住人口``/``population``/
        ``pop``/``人口``/``户籍人口``... (resident population preferred); or
        given with ``lon_column``, ``lat_column``, ``population_column``.
    unit_set, cell_m
        The planning units and the cell size in metres.
    datum
        Datum of the coordinates: ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or
        ``"bd09"`` (Baidu); aliases accepted as in :func:`gridplan.io.parse_datum`.
    filename, encoding, max_mb
        Passed to :func:`gridplan.io.read_table_upload`.

    Returns
    -------
    PopulationSurface
        Each point's population in the cell holding it; ``source="uploaded"``.
        A point inside a unit whose cell's centre is outside every unit (on the
        prefecture's edge) keeps its people: that cell is given the point's unit.
    SurfaceReport
        Bad rows with spreadsheet row numbers and reasons; points outside the
        units dropped and counted (``outside_rows``).

    Raises
    ------
    UploadError
        ``points.no_columns`` when a coordinate or population column is
        missing; ``points.no_valid_rows`` when no row is usable; the codes of
        :func:`gridplan.io.read_table_upload`; ``upload.bad_datum``.
    """
    datum_key = parse_datum(datum)
    notes: list[str] = []
    if isinstance(table_df_or_path, pd.DataFrame):
        frame = table_df_or_path.reset_index(drop=True)
        name = filename or "table"
    else:
        frame, load = read_table_upload(
            table_df_or_path, filename, encoding=encoding, max_mb=max_mb
        )
        name = load.filename
        notes += load.notes
        if load.n_dropped:
            notes.append(
                f"{load.n_dropped} blank row(s) were skipped; row numbers below the first "
                "blank row count only non-blank rows"
            )
    columns = list(frame.columns)
    picked: dict[str, Any] = {}
    missing: list[str] = []
    for key, given, names in (
        ("lon", lon_column, _LON_NAMES),
        ("lat", lat_column, _LAT_NAMES),
        ("population", population_column, _POP_NAMES),
    ):
        if given is not None:
            col = given if given in columns else None
            others: list[Any] = []
        else:
            col, others = _find_column(columns, names)
        if col is None:
            missing.append(given or key)
        else:
            picked[key] = col
            if others:
                notes.append(f"used column '{col}' for {key}; also found {others}")
    if missing:
        shown = ", ".join(map(str, columns))
        raise UploadError(
            f"{name}: no column for {', '.join(missing)}; columns found: {shown}",
            code="points.no_columns",
            params={"missing": ", ".join(missing), "columns": shown},
        )

    n = len(frame)
    rows = np.arange(n) + 2  # spreadsheet rows: the header is row 1
    lon, lon_missing, lon_bad = _numbers(frame[picked["lon"]])
    lat, lat_missing, lat_bad = _numbers(frame[picked["lat"]])
    pop, pop_missing, pop_bad = _numbers(frame[picked["population"]])
    bad: list[BadRow] = []
    usable = np.ones(n, dtype=bool)

    def flag(mask: NDArray[np.bool_], code: str, **cols: NDArray[Any]) -> None:
        for i in np.flatnonzero(mask):
            params = {k: _fmt(v[i]) for k, v in cols.items()}
            bad.append(BadRow(int(rows[i]), f"popsurface.row.{code}", params))
        usable[mask] = False

    raw_lon = frame[picked["lon"]].to_numpy(dtype=object)
    raw_lat = frame[picked["lat"]].to_numpy(dtype=object)
    raw_pop = frame[picked["population"]].to_numpy(dtype=object)
    flag(lon_missing | lat_missing, "missing_coordinates")
    flag(lon_bad | lat_bad, "non_numeric_coordinates", lon=raw_lon, lat=raw_lat)
    with np.errstate(invalid="ignore"):
        swapped = in_china(lat, lon) & ~in_china(lon, lat)
        out_of_range = ((np.abs(lon) > 180) | (np.abs(lat) > 90)) & ~swapped
    flag(out_of_range, "bad_coordinates", lon=lon, lat=lat)
    flag(swapped, "swapped_coordinates", lon=lon, lat=lat)
    coord_ok = usable.copy()
    flag(pop_missing, "missing_population")
    flag(pop_bad, "bad_population", value=raw_pop)
    with np.errstate(invalid="ignore"):
        flag(pop < 0, "negative_population", value=pop)
    bad.sort(key=lambda b: b.row)
    n_foreign = int((coord_ok & ~in_china(lon, lat)).sum())
    if n_foreign:
        notes.append(
            f"{n_foreign} point(s) lie outside China: check the coordinate columns and datum"
        )
    if not usable.any():
        problems = [b.text("en") for b in bad[:10]]
        raise UploadError(
            f"{name}: no usable row among {n}",
            code="points.no_valid_rows",
            params={"filename": name, "n": n},
            problems=problems,
        )

    grid, index = _grid_and_index(unit_set, cell_m)
    sel = np.flatnonzero(usable)
    wlon, wlat = to_wgs84(lon[sel], lat[sel], datum_key)
    if datum_key != "wgs84":
        notes.append(f"coordinates converted from {datum_key.upper()} to WGS-84")
    x, y = _transformer("EPSG:4326", grid.crs).transform(wlon, wlat)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    unit = _locate_in_units(unit_set, grid.crs, x, y)
    r, c, on_grid = grid.cell_of(x, y)
    inside = (unit >= 0) & on_grid
    p = pop[sel]
    flat = r[inside] * grid.ncols + c[inside]
    population = np.bincount(flat, weights=p[inside], minlength=grid.nrows * grid.ncols)
    index = index.copy()
    flat_index = index.reshape(-1)
    orphan = flat_index[flat] < 0
    if orphan.any():
        flat_index[flat[orphan]] = unit[inside][orphan]
        notes.append(
            f"{int(orphan.sum())} point(s) inside a unit fell in edge cells whose centre is "
            "outside every unit; those cells were given the point's unit"
        )
    notes += _zone_note(unit_set)
    surface = PopulationSurface(
        grid=grid,
        population=population.reshape(grid.shape).astype(np.float32),
        unit_index=index,
        unit_ids=_unit_ids(unit_set),
        source="uploaded",
        method=f"population points {name} ({datum_key}), summed per cell",
    )
    input_total = float(p.sum())
    report = SurfaceReport(
        kind="points",
        input_total=input_total,
        kept_total=surface.total,
        dropped_population=float(p[~inside].sum()),
        n_input=len(sel),
        n_outside=int((~inside).sum()),
        outside_rows=[int(v) for v in rows[sel][~inside]],
        bad_rows=bad,
        notes=notes,
    )
    return surface, report


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


# --------------------------------------------------------------------------------------
# polygons


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
    point, as :func:`gridplan.surface.census_surface` does.

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
        path, read with :func:`gridplan.io.read_vector_upload`.
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
    UploadError
        ``polygons.no_crs``, ``polygons.empty``, ``polygons.no_column``,
        ``polygons.no_valid_rows``, ``weights.*`` and ``raster.*`` codes for
        the weight raster, and those of :func:`gridplan.io.read_vector_upload`.
    InputError
        ``weights.shape`` when an array does not have the grid's shape.
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
    if gdf.crs is None:
        raise UploadError("the polygon layer has no CRS", code="polygons.no_crs", params={})
    if len(gdf) == 0:
        raise UploadError("the polygon layer is empty", code="polygons.empty", params={})
    if population_column not in gdf.columns:
        shown = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
        raise UploadError(
            f"no column {population_column!r}; columns: {shown}",
            code="polygons.no_column",
            params={"column": population_column, "columns": shown},
        )
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
    pop, pop_missing, pop_bad = _numbers(gdf[population_column])
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
            BadRow(int(i) + 1, "popsurface.row.negative_population", {"value": _fmt(pop[i])})
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


# --------------------------------------------------------------------------------------
# WorldPop download


def worldpop_url(
    iso3: str = "CHN",
    year: int = 2020,
    *,
    constrained: bool = False,
    un_adjusted: bool = False,
    resolution: Literal["100m", "1km"] = "100m",
) -> str:
    """The URL of a WorldPop population-count GeoTIFF (people per pixel, EPSG:4326).

    ``constrained`` (people only in built-up pixels) exists for 2020 at 100 m
    only; the unconstrained products for 2000-2020 at 100 m and 1 km.
    ``un_adjusted`` picks the variant whose country total matches the UN
    estimate.  See :data:`WORLDPOP_URL_TEMPLATE`.
    """
    code = str(iso3).strip()
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        raise InputError(f"iso3 must be a 3-letter country code, got {iso3!r}")
    if not 2000 <= int(year) <= 2020:
        raise InputError(f"WorldPop's global products cover 2000-2020, got {year}")
    fields = {"ISO3": code.upper(), "iso3": code.lower(), "year": int(year)}
    unadj = "_UNadj" if un_adjusted else ""
    if constrained:
        if int(year) != 2020 or resolution != "100m":
            raise InputError("WorldPop's constrained estimates exist for 2020 at 100 m only")
        return WORLDPOP_CONSTRAINED_URL_TEMPLATE.format(unadj=unadj, **fields)
    if resolution == "1km":
        return WORLDPOP_1KM_URL_TEMPLATE.format(unadj=unadj, unadj_dir=unadj, **fields)
    if resolution != "100m":
        raise InputError(f"resolution must be '100m' or '1km', got {resolution!r}")
    return WORLDPOP_URL_TEMPLATE.format(unadj=unadj, **fields)


def worldpop_bbox(unit_set: UnitSet, margin_km: float = 2.0) -> tuple[float, float, float, float]:
    """WGS-84 (lon_min, lat_min, lon_max, lat_max) of the drawn units plus a margin."""
    drawn = unit_set.units[unit_set.units["has_geometry"]]
    minx, miny, maxx, maxy = (float(v) for v in drawn.to_crs(unit_set.metric_crs).total_bounds)
    m = margin_km * 1000.0
    return tuple(  # type: ignore[return-value]
        float(v)
        for v in rasterio.warp.transform_bounds(
            unit_set.metric_crs,
            "EPSG:4326",
            minx - m,
            miny - m,
            maxx + m,
            maxy + m,
            densify_pts=21,
        )
    )


def _download_error(kind: str, message: str, **params: Any) -> DownloadError:
    return DownloadError(message, code=f"download.{kind}", params=params)


def download_worldpop(
    url: str,
    dest: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    timeout: float = 60.0,
    max_mb: float = WORLDPOP_MAX_MB,
    progress: Callable[[int, int | None], None] | None = None,
    keep_full: bool = False,
    chunk_bytes: int = _MB,
) -> Path:
    """Download a (WorldPop) GeoTIFF over HTTP(S) to ``dest``, optionally clipped to ``bbox``.

    WorldPop's China files are large: the unconstrained 100 m raster
    (``chn_ppp_2020.tif``) is several GB, the constrained one hundreds of MB,
    and they are plain GeoTIFFs, not Cloud-Optimised GeoTIFFs, so a window
    cannot be fetched with HTTP range requests.  The whole file is therefore
    streamed to disk (never held in memory) next to ``dest``, with a size cap,
    then clipped to ``bbox`` with a windowed read and deleted.  Run it once per
    prefecture and keep the small clipped file; for 1000 m cells the 1 km
    product (:func:`worldpop_url` with ``resolution="1km"``) is far smaller.

    Parameters
    ----------
    url
        ``http://`` or ``https://`` URL of the GeoTIFF (see :func:`worldpop_url`).
    dest
        Output path (a GeoTIFF; parent folders are created).
    bbox
        WGS-84 (lon_min, lat_min, lon_max, lat_max) to clip to
        (:func:`worldpop_bbox`); ``None`` keeps the whole file.
    timeout
        Seconds to wait for the connection and for each read of the stream
        (not for the whole download).
    max_mb
        Size cap in MB: refused up front when the server announces a larger
        ``Content-Length``, aborted once more bytes than this arrive.
    progress
        Called as ``progress(bytes_done, bytes_total_or_None)`` after each chunk.
    keep_full
        Keep the unclipped download as ``<dest stem>.full.tif``.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DownloadError
        Codes ``download.bad_url``, ``download.not_found`` (HTTP 404),
        ``download.http_error``, ``download.timeout``, ``download.failed``,
        ``download.too_large``, ``download.no_space``, ``download.not_raster``.
    UploadError
        ``raster.no_overlap`` when ``bbox`` does not overlap the raster.
    """
    scheme = urllib.parse.urlsplit(str(url)).scheme.lower()
    if scheme not in ("http", "https"):
        raise _download_error("bad_url", f"only http(s) URLs can be downloaded: {url}", url=url)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    limit = float(max_mb) * _MB
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(
                url,
                out,
                timeout=timeout,
                limit=limit,
                max_mb=float(max_mb),
                progress=progress,
                chunk_bytes=chunk_bytes,
                folder=dest.parent,
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with rasterio.open(tmp) as ds:
                    _ = ds.count
        except (rasterio.errors.RasterioError, OSError) as exc:
            raise _download_error(
                "not_raster",
                f"{url} is not a GeoTIFF: {_short(exc)}",
                url=url,
                detail=_short(exc),
            ) from exc
        if bbox is None:
            os.replace(tmp, dest)
            return dest
        _clip(tmp, dest, bbox)
        if keep_full:
            os.replace(tmp, dest.with_name(dest.stem + ".full.tif"))
        return dest
    finally:
        tmp.unlink(missing_ok=True)


def _stream(
    url: str,
    out: Any,
    *,
    timeout: float,
    limit: float,
    max_mb: float,
    progress: Callable[[int, int | None], None] | None,
    chunk_bytes: int,
    folder: Path,
) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "gridplan"})
    done = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            header = resp.headers.get("Content-Length")
            total = int(header) if header and header.strip().isdigit() else None
            if total is not None and total > limit:
                raise _too_large_download(url, total, max_mb)
            if total is not None:
                free = shutil.disk_usage(folder).free
                if total > free:
                    raise _download_error(
                        "no_space",
                        f"not enough disk space: {total / _MB:.0f} MB needed, "
                        f"{free / _MB:.0f} MB free",
                        size_mb=total / _MB,
                        free_mb=free / _MB,
                    )
            while True:
                chunk = resp.read(chunk_bytes)
                if not chunk:
                    break
                done += len(chunk)
                if done > limit:
                    raise _too_large_download(url, done, max_mb)
                out.write(chunk)
                if progress is not None:
                    progress(done, total)
            if total is not None and done < total:
                raise _download_error(
                    "failed",
                    f"{url}: incomplete ({done} of {total} bytes)",
                    url=url,
                    detail=f"incomplete download ({done} of {total} bytes)",
                )
    except urllib.error.HTTPError as exc:
        status, reason = exc.code, str(exc.reason)
        exc.close()
        if status == 404:
            raise _download_error("not_found", f"{url}: HTTP 404 not found", url=url) from None
        raise _download_error(
            "http_error", f"{url}: HTTP {status} {reason}", url=url, status=status, reason=reason
        ) from None
    except TimeoutError as exc:
        raise _download_error(
            "timeout", f"{url}: no answer within {timeout:g} s", url=url, timeout=f"{timeout:g}"
        ) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _download_error(
                "timeout",
                f"{url}: no answer within {timeout:g} s",
                url=url,
                timeout=f"{timeout:g}",
            ) from exc
        raise _download_error(
            "failed", f"{url}: {_short(exc.reason)}", url=url, detail=_short(exc.reason)
        ) from exc
    except (http.client.HTTPException, OSError) as exc:
        raise _download_error(
            "failed", f"{url}: {_short(exc)}", url=url, detail=_short(exc)
        ) from exc


def _too_large_download(url: str, nbytes: int, max_mb: float) -> DownloadError:
    return _download_error(
        "too_large",
        f"{url} is larger than the {max_mb:g} MB cap ({nbytes / _MB:.1f} MB)",
        url=url,
        size_mb=nbytes / _MB,
        limit_mb=max_mb,
    )


def _clip(src_path: Path, dest: Path, bbox: tuple[float, float, float, float]) -> None:
    """Write the part of ``src_path`` covering WGS-84 ``bbox`` to ``dest`` (all bands)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(src_path) as src:
            if src.crs is None:
                raise _raster_error("no_crs", dest.name)
            local = rasterio.warp.transform_bounds("EPSG:4326", src.crs, *bbox, densify_pts=21)
            win = _pixel_window(src.transform, src.width, src.height, local, pad=1)
            if win is None:
                raise _raster_error("no_overlap", dest.name)
            r0, r1, c0, c1 = win
            window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
            data = src.read(window=window)
            profile = src.profile.copy()
            profile.update(
                driver="GTiff",
                height=r1 - r0,
                width=c1 - c0,
                transform=src.transform @ Affine.translation(c0, r0),
                compress="deflate",
                tiled=False,
            )
            profile.pop("blockxsize", None)
            profile.pop("blockysize", None)
            fd, part = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".clip", dir=dest.parent)
            os.close(fd)
            try:
                with rasterio.open(part, "w", **profile) as out:
                    out.write(data)
                os.replace(part, dest)
            finally:
                Path(part).unlink(missing_ok=True)


def fetch_worldpop(
    unit_set: UnitSet,
    dest_dir: str | Path,
    *,
    year: int = 2020,
    constrained: bool = False,
    un_adjusted: bool = False,
    resolution: Literal["100m", "1km"] = "100m",
    url: str | None = None,
    margin_km: float = 2.0,
    **kwargs: Any,
) -> Path:
    """Download WorldPop China for ``year``, clipped to the prefecture (:func:`download_worldpop`).

    Returns the clipped GeoTIFF, named after the product and the prefecture's
    adcode, ready for :func:`surface_from_raster`.  An existing file is reused.
    """
    link = url or worldpop_url(
        "CHN", year, constrained=constrained, un_adjusted=un_adjusted, resolution=resolution
    )
    stem = Path(urllib.parse.urlsplit(link).path).stem
    dest = Path(dest_dir) / f"{stem}_{unit_set.prefecture.adcode}.tif"
    if dest.is_file():
        return dest
    return download_worldpop(link, dest, bbox=worldpop_bbox(unit_set, margin_km), **kwargs)


def surface_from_file(
    path: str | Path, unit_set: UnitSet, cell_m: float = 100.0, *, datum: str = "wgs84"
) -> tuple[PopulationSurface, SurfaceReport | None]:
    """A population surface from any file a planner brings (the CLI's ``--population``).

    * a GeoTIFF (``.tif``/``.tiff``): a population-count raster;
    * a table with lon/lat and population columns: points;
    * any other table: population by unit (adcode, township code or name),
      applied to the units and spread uniformly over their cells (modelled).
    """
    from gridplan.units import build_units  # units builds on surfaces' modules; import late

    p = Path(path)
    if p.suffix.lower() in (".tif", ".tiff"):
        return surface_from_raster(p, unit_set, cell_m)
    try:
        return surface_from_points(p, unit_set, cell_m, datum=datum)
    except InputError as exc:
        if exc.code != "points.no_columns":
            raise
    table, _ = read_table_upload(p)
    townships = unit_set.units[unit_set.units["level"] == "township"]
    if len(townships):
        raise InputError(
            "a population table by unit cannot be combined with a township layer here; "
            "give it to build_units instead",
            code="population.table_with_townships",
        )
    units = build_units(unit_set.prefecture, population_table=table)
    surface = census_surface(units, cell_m)
    surface.source = combine_sources(units.units["population_source"]) + "+modelled"
    return surface, None
