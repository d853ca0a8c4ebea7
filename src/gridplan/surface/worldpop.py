"""WorldPop 2020 population rasters: URLs, download within limits, clipping."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
from affine import Affine

from gridplan.errors import DownloadError, InputError, UploadError
from gridplan.inputs.files import _MB, _short
from gridplan.inputs.gdal import open_raster_upload
from gridplan.inputs.raster import _pixel_window, _raster_error
from gridplan.plan.units import UnitSet

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
        raise InputError(
            f"iso3 must be a 3-letter country code, got {iso3!r}",
            code="worldpop.iso3",
            params={"value": iso3},
        )
    if not 2000 <= int(year) <= 2020:
        raise InputError(
            f"WorldPop's global products cover 2000-2020, got {year}",
            code="worldpop.year",
            params={"year": year},
        )
    fields = {"ISO3": code.upper(), "iso3": code.lower(), "year": int(year)}
    unadj = "_UNadj" if un_adjusted else ""
    if constrained:
        if int(year) != 2020 or resolution != "100m":
            raise InputError(
                "WorldPop's constrained estimates exist for 2020 at 100 m only",
                code="worldpop.constrained",
            )
        return WORLDPOP_CONSTRAINED_URL_TEMPLATE.format(unadj=unadj, **fields)
    if resolution == "1km":
        return WORLDPOP_1KM_URL_TEMPLATE.format(unadj=unadj, unadj_dir=unadj, **fields)
    if resolution != "100m":
        raise InputError(
            f"resolution must be '100m' or '1km', got {resolution!r}",
            code="worldpop.resolution",
            params={"value": resolution},
        )
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
            # downloaded content is checked like an upload: GeoTIFF only, no network, no side-cars
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with open_raster_upload(tmp, dest.name) as ds:
                    _ = ds.count
        except (rasterio.errors.RasterioError, OSError, UploadError) as exc:
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
        with open_raster_upload(src_path, dest.name) as src:
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
