"""Upload basics: size limits, file names, format sniffing from content, the load report."""

from __future__ import annotations

import codecs
import contextlib
import io
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridplan import settings
from gridplan.errors import InputError, UploadError

_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
_LAYER_EXTS = _SHAPEFILE_PARTS | {".geojson", ".json", ".gpkg"}

_MB = 1024 * 1024

# Leading bytes of common non-geographic files, to say "wrong format" quickly.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
)

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class LoadReport:
    """What :func:`read_vector_upload` / :func:`read_table_upload` found and did.

    Attributes
    ----------
    filename : str
        Name of the uploaded file (without directories).
    driver : str
        ``"GeoJSON"``, ``"ESRI Shapefile"``, ``"GPKG"``, ``"CSV"`` or ``"Excel"``.
    source_crs : str or None
        CRS of the file as read, e.g. ``"EPSG:4547"`` (``None`` for tables).
    encoding : str or None
        Text encoding actually used for a ``.dbf``, GeoJSON or CSV, e.g. ``"GBK"``.
    datum : str
        Declared datum of the longitude/latitude: ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.
    n_features : int
        Features (or table rows) returned.
    n_repaired : int
        Invalid polygons repaired with :func:`shapely.make_valid`.
    n_dropped : int
        Features dropped because they were empty or not polygons (blank rows for tables).
    notes : list of str
        Human-readable English notes on what was assumed or changed.
    """

    filename: str
    driver: str
    source_crs: str | None
    encoding: str | None
    datum: str
    n_features: int
    n_repaired: int = 0
    n_dropped: int = 0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# errors


def _short(detail: object) -> str:
    """An error detail on one line, at most 200 characters."""
    text = " ".join(str(detail).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _bounds_text(bounds: Sequence[float]) -> str:
    """An extent (minx, miny, maxx, maxy) for a message: ``116.3000, 39.8000, …``."""
    return ", ".join(f"{float(b):.4f}" for b in bounds)


def _too_large(
    nbytes: float, limit_mb: float, what: str, code: str = "upload.too_large", **params: Any
) -> UploadError:
    size_mb = nbytes / _MB
    return UploadError(
        f"{what} is too large: {size_mb:.1f} MB, over the {limit_mb:g} MB limit",
        code=code,
        params={**params, "size_mb": size_mb, "limit_mb": limit_mb},
    )


def _check_size(
    size: int, limit_mb: float, what: str, code: str = "upload.too_large", **params: Any
) -> None:
    """An upload must be under the size limit; ``params`` go to the error's text."""
    if size > limit_mb * _MB:
        raise _too_large(size, limit_mb, what, code, **params)


def _unreadable(filename: str, detail: str) -> UploadError:
    detail = _short(detail)
    return UploadError(
        f"cannot read {filename}: {detail}",
        code="upload.unreadable",
        params={"filename": filename, "detail": detail},
    )


def _unknown_format(filename: str, what: str = "") -> UploadError:
    extra = f" ({what})" if what else ""
    return UploadError(
        f"unrecognised file format: {filename}{extra}; upload GeoJSON, a zipped Shapefile "
        "(.zip) or a GeoPackage (.gpkg)",
        code="upload.unknown_format",
        params={"filename": filename},
    )


def _unknown_table_format(filename: str, what: str = "") -> UploadError:
    extra = f" ({what})" if what else ""
    return UploadError(
        f"unrecognised table format: {filename}{extra}; upload CSV (.csv/.txt) or Excel (.xlsx)",
        code="upload.unknown_table_format",
        params={"filename": filename},
    )


def _encoding_error(filename: str) -> UploadError:
    return UploadError(
        f"cannot decode the text in {filename} (tried UTF-8, GBK, GB18030)",
        code="upload.encoding",
        params={"filename": filename},
    )


def _bad_encoding(filename: str, encoding: str) -> UploadError:
    return UploadError(
        f"cannot decode the text in {filename} as the declared encoding {encoding}",
        code="upload.bad_encoding",
        params={"filename": filename, "encoding": encoding},
    )


def _empty(filename: str) -> UploadError:
    return UploadError(
        f"{filename} is empty (no features or rows)",
        code="upload.empty",
        params={"filename": filename},
    )


def _limit_mb(max_mb: float | None) -> float:
    limit = settings.max_upload_mb if max_mb is None else float(max_mb)
    if not limit > 0:
        raise InputError(
            f"max_mb must be positive, got {max_mb!r}",
            code="upload.limit",
            params={"value": max_mb},
        )
    return limit


def _basename(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _suffix(name: str) -> str:
    base = _basename(name)
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def _sniff(head: bytes) -> str:
    """Classify a file by its first bytes: zip, sqlite, shp, json, ole2, other:<what>, text."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_SHP_MAGIC):
        return "shp"
    if head.startswith(_OLE2_MAGIC):
        return "ole2"
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return "other:" + what
    stripped = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "json"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text"
    if b"\x00" in head:
        return "other:binary data"
    return "text"


@contextlib.contextmanager
def _warnings_as_notes() -> Iterator[list[str]]:
    """Record the warnings of a reader: they become report notes instead of noise.

    GDAL, pyogrio and openpyxl warn about odd rings, unsupported field types
    or styles on real-world uploads.  The list given is filled when the block ends.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield notes
    notes.extend(_warning_notes(caught))


def _warning_notes(caught: Iterable[warnings.WarningMessage]) -> list[str]:
    """Warnings of a reader (GDAL, pyogrio, openpyxl) as report notes, each once.

    Deprecation warnings and openpyxl's "no default style" speak to developers,
    not planners, and are left out.
    """
    skip = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
    texts = dict.fromkeys(
        _short(w.message)
        for w in caught
        if not issubclass(w.category, skip) and "no default style" not in str(w.message)
    )
    return [f"reader warning: {text}" for text in texts]


@dataclass
class _Source:
    """An upload, either bytes in memory or a file on disk."""

    filename: str
    path: Path | None
    data: bytes | None
    size: int

    def head(self, n: int = 4096) -> bytes:
        if self.data is not None:
            return self.data[:n]
        assert self.path is not None
        with self.path.open("rb") as fh:
            return fh.read(n)

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def on_disk(self, folder: Path, name: str) -> Path:
        """A path to the content: the original file, or a copy written into ``folder``."""
        if self.path is not None:
            return self.path
        target = folder / name
        target.write_bytes(self.read_bytes())
        return target

    def zip_handle(self) -> Any:
        return io.BytesIO(self.data) if self.data is not None else self.path


def _open_source(data: bytes | str | Path, filename: str | None) -> _Source:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        name = _basename(filename) if filename else "upload"
        return _Source(name or "upload", None, raw, len(raw))
    if isinstance(data, str) and data.lstrip()[:1] in ("{", "["):
        # GeoJSON text passed directly instead of a path.
        raw = data.encode("utf-8")
        name = _basename(filename) if filename else "upload.geojson"
        return _Source(name, None, raw, len(raw))
    path = Path(data)
    name = _basename(filename) if filename else path.name
    try:
        ok = path.is_file()
    except OSError:
        ok = False
    if not ok:
        raise _unreadable(name, "file not found")
    return _Source(name, path, None, path.stat().st_size)


def _open_upload(
    data: bytes | str | Path, filename: str | None, max_mb: float | None
) -> tuple[_Source, float]:
    """The upload, checked to be neither over the size limit nor empty, and that limit in MB."""
    limit = _limit_mb(max_mb)
    source = _open_source(data, filename)
    _check_size(source.size, limit, source.filename)
    if source.size == 0:
        raise _empty(source.filename)
    return source, limit
