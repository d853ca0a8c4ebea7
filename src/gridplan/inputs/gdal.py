"""GDAL/OGR for untrusted uploads: one driver per kind of file, no network, no neighbours.

GDAL picks a driver from a file's *content*, not its name: a ``.tif`` holding
VRT XML, or a ``.geojson`` holding an OGR VRT or a GDALG pipeline, makes GDAL
read any file of the server or fetch any URL named inside.  Every upload is
therefore opened here, and only here:

* the content is checked in Python first (TIFF magic for a GeoTIFF, SQLite
  magic and no virtual tables but R-trees for a GeoPackage, JSON for a
  GeoJSON, the Shapefile magic for a ``.shp``), so GDAL never sees XML;
* the driver is forced: rasters through rasterio's ``driver=`` allow-list,
  vectors through a connection string only one driver accepts
  (``GeoJSON:<path>``, ``GPKG:<path>``) and the driver that opened the file is
  checked afterwards;
* :func:`safe_gdal` switches GDAL's network off (``/vsicurl/`` and its cloud
  relatives find no file, HTTP goes to a dead proxy with a one-second
  timeout) and stops GDAL from looking at files next to the upload
  (``.aux.xml``, ``.ovr``, ``.msk``, world files).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import rasterio
import rasterio.errors
from rasterio.io import MemoryFile

from gridplan.errors import UploadError

#: GDAL configuration for reading uploads.  ``CPL_VSIL_CURL_ALLOWED_FILENAME`` makes every
#: ``/vsicurl/``, ``/vsis3/``, ``/vsigs/``... path unknown before any request (checked with a
#: local listener in the tests); the proxy, timeouts and ``*_NO_SIGN_REQUEST`` stop what
#: might slip past (cloud credential look-ups).  ``EMPTY_DIR`` and ``GDAL_PAM_ENABLED=NO``:
#: no side-car file next to the upload is read.
UPLOAD_GDAL_OPTIONS: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nonexistent/gridplan-no-network",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".gridplan-no-network",
    "GDAL_HTTP_PROXY": "127.0.0.1:1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "AWS_NO_SIGN_REQUEST": "YES",
    "GS_NO_SIGN_REQUEST": "YES",
    "AZURE_NO_SIGN_REQUEST": "YES",
    "CPL_AWS_AUTODETECT_EC2": "NO",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "OGR_SQLITE_LOAD_EXTENSIONS": "",
}

#: Raster drivers an upload may be read with (population, land cover, DEM, weights).
RASTER_DRIVERS: tuple[str, ...] = ("GTiff",)
#: Vector drivers an upload may be read with (township layers, exclusion areas).
VECTOR_DRIVERS: tuple[str, ...] = ("GeoJSON", "ESRI Shapefile", "GPKG")

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # TIFF and BigTIFF
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_UNKNOWN = "unknown content"

# pyogrio sets GDAL options for the whole process: the first reader in sets them, the
# last one out puts the old values back.
_pyogrio_lock = threading.Lock()
_pyogrio_users = 0
_pyogrio_saved: dict[str, str | None] = {}


def _pyogrio_enter() -> None:
    global _pyogrio_users
    with _pyogrio_lock:
        if _pyogrio_users == 0:
            _pyogrio_saved.clear()
            _pyogrio_saved.update(
                {k: pyogrio.get_gdal_config_option(k) for k in UPLOAD_GDAL_OPTIONS}
            )
            pyogrio.set_gdal_config_options(dict(UPLOAD_GDAL_OPTIONS))
        _pyogrio_users += 1


def _pyogrio_exit() -> None:
    global _pyogrio_users
    with _pyogrio_lock:
        _pyogrio_users -= 1
        if _pyogrio_users == 0:
            restore = {k: None if v is None else str(v) for k, v in _pyogrio_saved.items()}
            pyogrio.set_gdal_config_options(restore)


@contextlib.contextmanager
def safe_gdal() -> Iterator[None]:
    """GDAL (rasterio's and pyogrio's) without network and without side-car files."""
    _pyogrio_enter()
    try:
        with rasterio.Env(**UPLOAD_GDAL_OPTIONS):
            yield
    finally:
        _pyogrio_exit()


# --------------------------------------------------------------------------------------
# errors


def _not_allowed(name: str, kind: str, found: str) -> UploadError:
    """An upload whose content is not of the kind allowed (found: what it is instead)."""
    return UploadError(
        f"{name} is not a {kind} file ({found}); only {kind} is accepted here",
        code="upload.format_not_allowed",
        params={"filename": name, "kind": kind, "found": found},
    )


def _what_it_is(head: bytes) -> str:
    """A short description of content that is not what it claims to be, for a message."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "XML/HTML"
    if text.startswith((b"{", b"[")):
        return "JSON"
    if head.startswith(_SQLITE_MAGIC):
        return "SQLite"
    if head.startswith(b"PK\x03\x04"):
        return "ZIP"
    if head.startswith(_TIFF_MAGIC):
        return "TIFF"
    return _UNKNOWN


def _head(path: Path, n: int = 64) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _local_path(path: str | Path, name: str, kind: str) -> Path:
    """An upload's absolute local path; a ``/vsi`` name GDAL would reinterpret is refused."""
    text = os.fspath(path)
    if text.startswith("/vsi") or "\x00" in text:
        raise _not_allowed(name, kind, "GDAL /vsi path")
    return Path(os.path.abspath(text))  # not resolved: a link of ours keeps our plain name


# --------------------------------------------------------------------------------------
# rasters


def check_tiff(head: bytes, name: str) -> None:
    """Refuse content that is not TIFF (VRT XML, PNG, NetCDF...) before GDAL sees it."""
    if head.startswith(_TIFF_MAGIC):
        return
    found = _what_it_is(head)
    if found == _UNKNOWN:  # plain garbage: unreadable, as GDAL would say
        raise UploadError(
            f"cannot read raster {name}: not a GeoTIFF",
            code="raster.unreadable",
            params={"filename": name, "detail": "not a GeoTIFF"},
        )
    raise _not_allowed(name, "GeoTIFF", found)


@contextlib.contextmanager
def open_raster_upload(data: bytes | str | Path, name: str, driver: str = "GTiff") -> Iterator[Any]:
    """Open an uploaded raster (its bytes or path) with ``driver`` only (one of
    :data:`RASTER_DRIVERS`; rasterio passes it to GDAL as the allow-list).

    The raster is opened inside :func:`safe_gdal` (which stays on until the
    dataset is closed), so neither the network nor a file next to it is read.

    Raises
    ------
    UploadError
        ``upload.format_not_allowed`` when the content is not TIFF or another
        driver opened it; ``raster.unreadable`` when GDAL cannot read it.
    """
    raw: bytes | None = None
    local: Path | None = None
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        check_tiff(raw[:64], name)
    else:
        local = _local_path(data, name, "GeoTIFF")
        check_tiff(_head(local), name)
    with contextlib.ExitStack() as stack:
        stack.enter_context(safe_gdal())
        try:
            if raw is not None:
                mem = stack.enter_context(MemoryFile(raw))
                ds = stack.enter_context(mem.open(driver=driver))
            else:
                ds = stack.enter_context(rasterio.open(local, driver=driver))
        except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
            raise UploadError(
                f"cannot read raster {name}: not a readable GeoTIFF",
                code="raster.unreadable",
                params={"filename": name, "detail": "not a readable GeoTIFF"},
            ) from exc
        # a second line of defence: the allow-list given to GDAL is the first
        if ds.driver != driver or driver not in RASTER_DRIVERS:
            raise _not_allowed(name, "GeoTIFF", f"GDAL {ds.driver}")
        yield ds


# --------------------------------------------------------------------------------------
# vectors


def check_geopackage(path: Path, name: str) -> None:
    """A GeoPackage must be SQLite without virtual tables other than R-tree indexes.

    A virtual table (``VirtualOGR``, ``fts``...) or a view over one can reach
    other files or the network when GDAL reads it; GeoPackages only need
    ``rtree`` spatial indexes.  The file is opened read-only and immutable.
    """
    if not _head(path).startswith(_SQLITE_MAGIC):
        raise _not_allowed(name, "GeoPackage", _what_it_is(_head(path)))
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute(
                "SELECT name, sql FROM sqlite_master WHERE sql LIKE '%VIRTUAL%TABLE%'"
            ).fetchall()
    except sqlite3.Error as exc:
        raise UploadError(
            f"cannot read {name}: not a valid GeoPackage",
            code="upload.unreadable",
            params={"filename": name, "detail": "not a valid GeoPackage (SQLite) file"},
        ) from exc
    for table, sql in rows:
        words = " ".join(str(sql).split()).lower()
        if " using rtree(" not in words and " using rtree (" not in words:
            raise _not_allowed(name, "GeoPackage", f"SQLite virtual table {table}")


def vector_source(path: Path, driver: str, name: str) -> str:
    """The GDAL connection string that opens ``path`` with ``driver`` and no other.

    ``GeoJSON:`` and ``GPKG:`` prefixes are claimed by their own driver only;
    a Shapefile is checked by its magic (no prefix exists) and its name.
    """
    if driver not in VECTOR_DRIVERS:
        raise _not_allowed(name, "GeoJSON/Shapefile/GeoPackage", f"GDAL {driver}")
    local = _local_path(path, name, driver)
    head = _head(local)
    if driver == "ESRI Shapefile":
        if not head.startswith(_SHP_MAGIC) or local.suffix.lower() != ".shp":
            raise _not_allowed(name, "Shapefile", _what_it_is(head))
        return str(local)
    if driver == "GPKG":
        check_geopackage(local, name)
        return f"GPKG:{local}"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith((b"{", b"[")):
        raise _not_allowed(name, "GeoJSON", _what_it_is(head))
    return f"GeoJSON:{local}"


def checked_driver(source: str, expected: str, name: str, **kwargs: Any) -> dict[str, Any]:
    """pyogrio's ``read_info`` of ``source`` (inside :func:`safe_gdal`), its driver checked."""
    info: dict[str, Any] = pyogrio.read_info(source, **kwargs)
    found = str(info.get("driver") or "")
    if found != expected:
        raise _not_allowed(name, expected, f"GDAL {found}")
    return info
