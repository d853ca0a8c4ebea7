"""Reading the files planners upload: township boundary layers and tables.

Two entry points:

* :func:`read_vector_upload` reads a polygon layer (GeoJSON, a zipped
  Shapefile or a GeoPackage) and returns it in WGS-84 (EPSG:4326), whatever
  projection, text encoding or web-map datum it came in.  Shapefiles straight
  from Chinese natural-resources bureaus load as they come: CGCS2000
  geographic or 3-degree Gauss-Krüger ``.prj`` and a GBK ``.dbf`` without a
  ``.cpg``.
* :func:`read_table_upload` reads a CSV or Excel table, detecting the text
  encoding and keeping code-like columns (adcodes) as strings.

Both return a :class:`LoadReport` describing what was found and done.  Every
problem a user can cause raises :class:`gridplan.errors.UploadError` (also a
:class:`ValueError`) with a ``code`` from :data:`gridplan.i18n.MESSAGES`, so the
dashboard can explain it in Chinese.

Uploaded bytes are only ever written into a private
:class:`tempfile.TemporaryDirectory`; zip archives are checked member by member
(absolute paths, ``..`` components, symlinks, uncompressed size) before
anything is extracted, and extracted files get generated names.
"""

from __future__ import annotations

import codecs
import io
import re
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from gridplan import crs as gcrs
from gridplan import settings
from gridplan.errors import InputError, UploadError

__all__ = [
    "LoadReport",
    "parse_datum",
    "read_table_upload",
    "read_vector_upload",
]

_MB = 1024 * 1024

#: Encodings tried, in order, when a file does not declare its own.
_CANDIDATE_ENCODINGS: tuple[str, ...] = ("utf-8", "gbk", "gb18030")

_DISPLAY_ENCODING = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "gbk": "GBK",
    "gb18030": "GB18030",
    "gb2312": "GB2312",
    "big5": "BIG5",
    "utf-16": "UTF-16",
    "latin-1": "ISO-8859-1",
    "iso8859-1": "ISO-8859-1",
}

# Windows code-page numbers found in .cpg files.
_CODEPAGES = {"936": "gbk", "54936": "gb18030", "65001": "utf-8", "950": "big5", "20936": "gb2312"}

_DATUM_ALIASES: dict[str, gcrs.Datum] = {
    "wgs84": "wgs84",
    "wgs": "wgs84",
    "gps": "wgs84",
    "epsg4326": "wgs84",
    "4326": "wgs84",
    "cgcs2000": "wgs84",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "mars": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "高德": "gcj02",
    "火星": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "bd": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
}

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

_TABLE_TEXT_EXTS = {".csv", ".txt", ".tsv"}
_TABLE_EXCEL_EXTS = {".xlsx", ".xlsm", ".xls"}

_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
_LAYER_EXTS = _SHAPEFILE_PARTS | {".geojson", ".json", ".gpkg"}

_CODE_COLUMN = re.compile(r"code|代码|编码|编号|^[a-z]{0,6}dm$", re.IGNORECASE)


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


def _too_large(nbytes: float, limit_mb: float, what: str) -> UploadError:
    size_mb = nbytes / _MB
    return UploadError(
        f"{what} is too large: {size_mb:.1f} MB, over the {limit_mb:g} MB limit",
        code="upload.too_large",
        params={"size_mb": size_mb, "limit_mb": limit_mb},
    )


def _unreadable(filename: str, detail: str) -> UploadError:
    detail = " ".join(str(detail).split())
    if len(detail) > 200:
        detail = detail[:197] + "..."
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


# --------------------------------------------------------------------------------------
# small helpers


def parse_datum(datum: str) -> gcrs.Datum:
    """Normalise a datum declaration to ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Parameters
    ----------
    datum : str
        E.g. ``"WGS-84"``, ``"gcj-02"``, ``"BD09"``, ``"amap"``, ``"baidu"``
        (case, spaces, hyphens and underscores are ignored).

    Returns
    -------
    str
        One of :data:`gridplan.crs.DATUMS`.

    Raises
    ------
    UploadError
        Code ``"upload.bad_datum"`` when the declaration is not recognised.
    """
    key = re.sub(r"[\s\-_:.]", "", str(datum)).lower()
    found = _DATUM_ALIASES.get(key)
    if found is None:
        raise UploadError(
            f"invalid datum declaration {datum!r}; expected WGS-84, GCJ-02 or BD-09",
            code="upload.bad_datum",
            params={"datum": str(datum)},
        )
    return found


def _limit_mb(max_mb: float | None) -> float:
    limit = settings.max_upload_mb if max_mb is None else float(max_mb)
    if not limit > 0:
        raise InputError(f"max_mb must be positive, got {max_mb!r}")
    return limit


def _basename(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _suffix(name: str) -> str:
    base = _basename(name)
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def _display_encoding(codec_name: str) -> str:
    name = codecs.lookup(codec_name).name
    return _DISPLAY_ENCODING.get(name, name.upper())


def _lookup_codec(encoding: str) -> str | None:
    """Python codec name for a user- or .cpg-given encoding, or None if unknown."""
    text = encoding.strip()
    upper = text.upper()
    if upper.startswith("ANSI "):
        upper = upper[5:].strip()
    if upper.startswith("CP") and upper[2:].isdigit():
        upper = upper[2:]
    if upper.isdigit():
        text = _CODEPAGES.get(upper, "cp" + upper)
    try:
        return codecs.lookup(text).name
    except LookupError:
        return None


def _decodes(samples: Iterable[bytes], codec_name: str) -> bool:
    """True if every sample decodes; an incomplete last character is tolerated.

    Fixed-width ``.dbf`` fields often cut a multibyte character in half; GDAL
    drops such a trailing fragment, so it does not disqualify an encoding.
    """
    factory = codecs.getincrementaldecoder(codec_name)
    for sample in samples:
        try:
            factory(errors="strict").decode(sample, final=False)
        except UnicodeDecodeError:
            return False
    return True


def _detect_encoding(samples: Sequence[bytes]) -> str | None:
    """First of UTF-8, GBK, GB18030 that decodes all samples (None if none does)."""
    for name in _CANDIDATE_ENCODINGS:
        if _decodes(samples, name):
            return name
    return None


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


def _warning_notes(caught: Iterable[warnings.WarningMessage], prefix: str) -> list[str]:
    notes = []
    seen: set[str] = set()
    for w in caught:
        msg = " ".join(str(w.message).split())
        if msg in seen or "no default style" in msg:
            continue
        seen.add(msg)
        notes.append(f"{prefix}: {msg[:200]}")
    return notes


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


# --------------------------------------------------------------------------------------
# zip archives


@dataclass
class _Group:
    """Members of a zip that share a path stem (the parts of one Shapefile)."""

    key: str
    display_stem: str
    target_stem: str
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)


def _member_name(info: zipfile.ZipInfo) -> str:
    """Readable member name: names from Chinese Windows zips are GBK without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return name
        for enc in ("utf-8", "gbk"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
    return name


def _is_unsafe(name: str) -> bool:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return any(part == ".." for part in norm.split("/"))


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _check_zip_members(infos: Sequence[zipfile.ZipInfo], limit_mb: float, filename: str) -> None:
    """Reject unsafe members and zip bombs before anything is extracted."""
    for info in infos:
        for name in {info.orig_filename, info.filename, _member_name(info)}:
            if _is_unsafe(name) or _is_symlink(info):
                raise UploadError(
                    f"unsafe zip {filename}: member {name!r} points outside the archive",
                    code="upload.zip_unsafe",
                    params={"member": name},
                )
    total = sum(info.file_size for info in infos)
    if total > limit_mb * _MB:
        raise _too_large(total, limit_mb, f"{filename} (uncompressed)")


def _is_hidden(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return any(p.startswith("__MACOSX") for p in parts) or parts[-1].startswith(".")


def _zip_groups(infos: Sequence[zipfile.ZipInfo]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for info in infos:
        if info.is_dir():
            continue
        name = _member_name(info)
        if _is_hidden(name):
            continue
        ext = _suffix(name)
        if ext not in _LAYER_EXTS:
            continue
        norm = name.replace("\\", "/")
        stem_path = norm[: len(norm) - len(ext)]
        key = stem_path.lower()
        if key not in groups:
            groups[key] = _Group(
                key=key,
                display_stem=_basename(stem_path),
                target_stem=f"layer{len(groups)}",
            )
        groups[key].members.setdefault(ext, info)
    return list(groups.values())


def _extract_groups(
    zf: zipfile.ZipFile, groups: Sequence[_Group], folder: Path, limit_mb: float, filename: str
) -> None:
    """Stream the members of ``groups`` into ``folder`` under generated names."""
    budget = limit_mb * _MB
    total = 0
    for group in groups:
        for ext, info in group.members.items():
            target = folder / f"{group.target_stem}{ext}"
            with zf.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(_MB):
                    total += len(chunk)
                    if total > budget:
                        raise _too_large(total, limit_mb, f"{filename} (uncompressed)")
                    dst.write(chunk)


def _geometry_type(path: Path, layer: str | None = None) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = pyogrio.read_info(path, layer=layer)
    except Exception:
        return ""
    return str(info.get("geometry_type") or "")


@dataclass
class _Layer:
    """A layer ready to be read by pyogrio."""

    path: Path
    driver: str
    layer: str | None = None
    member: str | None = None  # display name of the zip member / shapefile
    notes: list[str] = field(default_factory=list)


def _layer_from_zip(source: _Source, folder: Path, limit_mb: float) -> _Layer:
    filename = source.filename
    try:
        zf = zipfile.ZipFile(source.zip_handle())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _unreadable(filename, f"corrupt zip archive ({exc})") from exc
    with zf:
        infos = zf.infolist()
        _check_zip_members(infos, limit_mb, filename)
        names = {info.filename for info in infos}
        if "[Content_Types].xml" in names or "mimetype" in names:
            raise _unknown_format(filename, "an office document, not a map layer")
        groups = _zip_groups(infos)
        shp = [g for g in groups if ".shp" in g.members]
        gpkg = [g for g in groups if ".gpkg" in g.members]
        js = [g for g in groups if ".geojson" in g.members or ".json" in g.members]
        if shp:
            complete = [g for g in shp if {".shx", ".dbf"} <= g.members.keys()]
            if not complete:
                first = shp[0]
                missing = [
                    f"{first.display_stem}{e}" for e in (".shx", ".dbf") if e not in first.members
                ]
                raise UploadError(
                    f"incomplete Shapefile in {filename}: {', '.join(missing)} missing",
                    code="upload.zip_incomplete",
                    params={"missing": ", ".join(missing)},
                )
            wanted = complete
            kind = ".shp"
        elif gpkg:
            wanted, kind = gpkg, ".gpkg"
        elif js:
            wanted, kind = js, ".geojson"
        else:
            raise UploadError(
                f"no Shapefile (.shp), GeoJSON or GeoPackage found in {filename}",
                code="upload.zip_no_layer",
                params={"filename": filename},
            )
        try:
            _extract_groups(zf, wanted, folder, limit_mb, filename)
        except UploadError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,
        ) as exc:
            raise _unreadable(filename, f"corrupt or encrypted zip archive ({exc})") from exc

    notes: list[str] = []
    if kind == ".shp":
        chosen = wanted[0]
        for group in wanted:
            if "polygon" in _geometry_type(folder / f"{group.target_stem}.shp").lower():
                chosen = group
                break
        if len(wanted) > 1:
            notes.append(f"the zip holds {len(wanted)} shapefiles; read {chosen.display_stem}.shp")
        return _Layer(
            folder / f"{chosen.target_stem}.shp",
            "ESRI Shapefile",
            member=f"{chosen.display_stem}.shp",
            notes=notes,
        )
    if kind == ".gpkg":
        chosen = wanted[0]
        if len(wanted) > 1:
            notes.append(
                f"the zip holds {len(wanted)} GeoPackages; read {chosen.display_stem}.gpkg"
            )
        layer = _layer_from_gpkg(folder / f"{chosen.target_stem}.gpkg", filename)
        layer.notes[:0] = notes
        return layer
    chosen = wanted[0]
    ext = ".geojson" if ".geojson" in chosen.members else ".json"
    if len(wanted) > 1:
        notes.append(f"the zip holds {len(wanted)} JSON files; read {chosen.display_stem}{ext}")
    return _Layer(
        folder / f"{chosen.target_stem}{ext}",
        "GeoJSON",
        member=f"{chosen.display_stem}{ext}",
        notes=notes,
    )


def _layer_from_gpkg(path: Path, filename: str) -> _Layer:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise _unreadable(filename, str(exc) or type(exc).__name__) from exc
    if len(layers) == 0:
        raise _empty(filename)
    names = [str(row[0]) for row in layers]
    types = [str(row[1] or "") for row in layers]
    polygonal = [n for n, t in zip(names, types, strict=True) if "polygon" in t.lower()]
    spatial = [n for n, t in zip(names, types, strict=True) if t and t.lower() != "none"]
    chosen = (polygonal or spatial or names)[0]
    notes = []
    if len(names) > 1:
        notes.append(f"the GeoPackage has {len(names)} layers; read layer '{chosen}'")
    return _Layer(path, "GPKG", layer=chosen, notes=notes)


# --------------------------------------------------------------------------------------
# text encodings of .dbf and GeoJSON


def _sidecar(shp: Path, ext: str) -> Path | None:
    """The file next to ``shp`` with the same stem and extension ``ext`` (any case)."""
    exact = shp.with_suffix(ext)
    if exact.is_file():
        return exact
    stem = shp.stem.lower()
    for candidate in shp.parent.iterdir():
        if candidate.stem.lower() == stem and candidate.suffix.lower() == ext:
            return candidate
    return None


def _dbf_text_samples(dbf: Path, max_bytes: int = 256 * _MB) -> list[bytes]:
    """Raw bytes of the field names and non-ASCII text values of a dBase file."""
    with dbf.open("rb") as fh:
        header = fh.read(32)
        if len(header) < 32:
            return []
        n_records = int.from_bytes(header[4:8], "little")
        header_len = int.from_bytes(header[8:10], "little")
        record_len = int.from_bytes(header[10:12], "little")
        descriptors = fh.read(max(0, header_len - 32))
        fh.seek(header_len)
        body = fh.read(min(max_bytes, n_records * record_len))
    samples: list[bytes] = []
    fields: list[tuple[int, int]] = []
    pos = 1  # byte 0 of a record is the deletion flag
    for off in range(0, len(descriptors) - 31, 32):
        desc = descriptors[off : off + 32]
        if desc[0] == 0x0D:
            break
        name = desc[:11].split(b"\x00", 1)[0]
        ftype = chr(desc[11])
        # shapelib: numeric widths are one byte, other widths use the decimals byte too.
        width = desc[16] if ftype in "NFD" else desc[16] + 256 * desc[17]
        if not name.isascii():
            samples.append(name)
        if ftype == "C" and width > 0:
            fields.append((pos, width))
        pos += width
    if not fields or record_len <= 0 or body.isascii():
        return samples
    n_rows = len(body) // record_len
    table = np.frombuffer(body, dtype=np.uint8, count=n_rows * record_len)
    table = table.reshape(n_rows, record_len)
    for fpos, width in fields:
        block = table[:, fpos : fpos + width]
        for row in np.flatnonzero((block >= 0x80).any(axis=1)):
            samples.append(block[row].tobytes().rstrip(b" \x00"))
    return samples


def _shapefile_encoding(shp: Path, user_encoding: str | None, filename: str) -> tuple[str, str]:
    """Choose the encoding of a Shapefile's .dbf: (python codec, English note)."""
    dbf = _sidecar(shp, ".dbf")
    samples = _dbf_text_samples(dbf) if dbf is not None else []
    if user_encoding is not None:
        codec = _lookup_codec(user_encoding)
        if codec is None or not _decodes(samples, codec):
            raise _bad_encoding(filename, user_encoding)
        return codec, ""
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None:
        declared = cpg.read_bytes().decode("ascii", errors="replace").strip()
        codec = _lookup_codec(declared) if declared else None
        if codec is not None and _decodes(samples, codec):
            return codec, ""
        detected = _detect_encoding(samples)
        if detected is None:
            raise _encoding_error(filename)
        return detected, (
            f".cpg declares {declared or 'nothing'!r} but the text is not in that encoding; "
            f"decoded as {_display_encoding(detected)}"
        )
    detected = _detect_encoding(samples)
    if detected is None:
        raise _encoding_error(filename)
    if not samples:
        return "utf-8", "dbf had no .cpg; its text is plain ASCII"
    return detected, f"dbf had no .cpg; decoded as {_display_encoding(detected)}"


def _decode_text(raw: bytes, user_encoding: str | None, filename: str) -> tuple[str, str, str]:
    """Decode uploaded text: (text, python codec, English note)."""
    if user_encoding is not None:
        codec = _lookup_codec(user_encoding)
        if codec is None:
            raise _bad_encoding(filename, user_encoding)
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise _bad_encoding(filename, user_encoding) from exc
        return text.removeprefix("\ufeff"), codec, ""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8-sig"), "utf-8", "UTF-8 with byte-order mark"
        except UnicodeDecodeError as exc:
            raise _encoding_error(filename) from exc
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16", "UTF-16 text (e.g. Excel 'Unicode text')"
        except UnicodeDecodeError as exc:
            raise _encoding_error(filename) from exc
    for codec in _CANDIDATE_ENCODINGS:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        note = "" if codec == "utf-8" else f"not UTF-8; decoded as {_display_encoding(codec)}"
        return text, codec, note
    raise _encoding_error(filename)


# --------------------------------------------------------------------------------------
# geometry clean-up


def _polygon_parts(geom: Any) -> list[Any]:
    """All polygons inside ``geom`` (recursing into collections)."""
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind == "Polygon":
        return [geom]
    if kind in ("MultiPolygon", "GeometryCollection"):
        out: list[Any] = []
        for part in shapely.get_parts(geom):
            out.extend(_polygon_parts(part))
        return out
    return []


def _polygonal(geom: Any) -> Any:
    """The polygonal part of ``geom`` as a Polygon/MultiPolygon, or None."""
    parts = _polygon_parts(geom)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    multi = shapely.MultiPolygon(parts)
    if multi.is_valid:
        return multi
    merged = _polygon_parts(shapely.union_all(parts))
    if not merged:
        return None
    return merged[0] if len(merged) == 1 else shapely.MultiPolygon(merged)


def _keep_polygons(
    geoms: NDArray[np.object_],
) -> tuple[NDArray[np.object_], NDArray[np.bool_], list[str]]:
    """Polygonal part of each geometry; mask of features to keep; notes."""
    geoms = shapely.force_2d(geoms)
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    type_id = shapely.get_type_id(geoms)
    keep = ~null & np.isin(type_id, (3, 6))  # Polygon, MultiPolygon
    out = np.empty(len(geoms), dtype=object)
    out[keep] = geoms[keep]
    dropped_types: dict[str, int] = {}
    n_null = int(null.sum())
    n_extracted = 0
    for i in np.flatnonzero(~null & ~keep):
        geom = geoms[i]
        kind = geom.geom_type
        poly = _polygonal(geom) if kind == "GeometryCollection" else None
        if poly is not None:
            out[i] = poly
            keep[i] = True
            n_extracted += 1
        else:
            dropped_types[kind] = dropped_types.get(kind, 0) + 1
    notes = []
    if n_null:
        notes.append(f"dropped {n_null} feature(s) with empty or missing geometry")
    if dropped_types:
        kinds = ", ".join(f"{k} ×{v}" for k, v in sorted(dropped_types.items()))
        notes.append(f"dropped {sum(dropped_types.values())} non-polygon feature(s) ({kinds})")
    if n_extracted:
        notes.append(f"kept only the polygons of {n_extracted} geometry collection(s)")
    return out, keep, notes


def _repair(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], int, NDArray[np.bool_]]:
    """Repair invalid polygons with make_valid: (geoms, number repaired, mask still non-empty)."""
    out = np.asarray(geoms, dtype=object).copy()
    invalid = ~shapely.is_valid(out)
    n_repaired = int(invalid.sum())
    for i in np.flatnonzero(invalid):
        out[i] = _polygonal(shapely.make_valid(out[i]))
    alive = ~(shapely.is_missing(out) | shapely.is_empty(out))
    return out, n_repaired, alive


def _crs_label(value: CRS) -> str:
    epsg = value.to_epsg()
    if epsg is not None:
        return f"EPSG:{epsg}"
    return value.name or value.to_string()


def _bounds_text(bounds: Sequence[float]) -> str:
    return ", ".join(f"{b:.4f}" for b in bounds)


def _looks_like_china_lonlat(bounds: Sequence[float]) -> bool:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return False
    return bool(np.all(gcrs.in_china([minx, maxx], [miny, maxy])))


def _stringify_attributes(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dates and other non-scalar attribute values become strings."""
    geom_name = gdf.geometry.name
    for col in gdf.columns:
        if col == geom_name:
            continue
        series = gdf[col]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            valid = series.dropna()
            midnight = bool((valid == valid.dt.normalize()).all())
            text = series.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
            gdf[col] = pd.Series(text.astype(object), index=series.index).where(
                series.notna(), None
            )
        elif series.dtype == object:
            gdf[col] = series.map(
                lambda v: v if v is None or isinstance(v, str | int | float) else str(v)
            )
    return gdf


# --------------------------------------------------------------------------------------
# vector uploads


def _incomplete(missing: Sequence[str], filename: str) -> UploadError:
    return UploadError(
        f"incomplete Shapefile in {filename}: {', '.join(missing)} missing",
        code="upload.zip_incomplete",
        params={"missing": ", ".join(missing)},
    )


def _locate_layer(source: _Source, folder: Path, limit_mb: float) -> _Layer:
    """Decide the format from content and extension; return the layer to read."""
    filename = source.filename
    kind = _sniff(source.head())
    ext = _suffix(filename)
    if kind == "zip":
        return _layer_from_zip(source, folder, limit_mb)
    if kind == "sqlite":
        return _layer_from_gpkg(source.on_disk(folder, "upload.gpkg"), filename)
    if kind == "json":
        return _Layer(source.on_disk(folder, "upload.geojson"), "GeoJSON")
    if kind == "shp":
        stem = filename[: len(filename) - len(ext)] if ext == ".shp" else filename
        if source.path is None:
            raise _incomplete([f"{stem}.shx", f"{stem}.dbf"], filename)
        missing = [f"{stem}{e}" for e in (".shx", ".dbf") if _sidecar(source.path, e) is None]
        if missing:
            raise _incomplete(missing, filename)
        return _Layer(source.path, "ESRI Shapefile", member=filename)
    if kind == "ole2":
        raise _unknown_format(filename, "an old Office document (.doc/.xls)")
    if kind.startswith("other:"):
        raise _unknown_format(filename, kind.removeprefix("other:"))
    if ext == ".zip":
        raise _unreadable(filename, "not a valid zip archive")
    if ext == ".gpkg":
        raise _unreadable(filename, "not a valid GeoPackage (SQLite) file")
    if ext in (".geojson", ".json"):
        raise _unreadable(filename, "not a JSON document")
    if ext == ".shp":
        raise _unreadable(filename, "not a valid Shapefile")
    raise _unknown_format(filename)


def _read_layer(layer: _Layer, codec: str | None, filename: str) -> tuple[pd.DataFrame, list[str]]:
    kwargs: dict[str, Any] = {}
    if layer.layer is not None:
        kwargs["layer"] = layer.layer
    if codec is not None:
        kwargs["encoding"] = codec
    with warnings.catch_warnings(record=True) as caught:
        # GDAL/pyogrio warnings (odd rings, unsupported field types...) are expected on
        # real-world uploads: they become notes in the report instead of noise.
        warnings.simplefilter("always")
        try:
            frame = pyogrio.read_dataframe(layer.path, **kwargs)
        except UnicodeDecodeError as exc:
            raise _encoding_error(filename) from exc
        except Exception as exc:
            raise _unreadable(filename, str(exc) or type(exc).__name__) from exc
    return frame, _warning_notes(caught, "reader warning")


def read_vector_upload(
    data: bytes | str | Path,
    filename: str | None = None,
    *,
    datum: str = "wgs84",
    encoding: str | None = None,
    max_mb: float | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read an uploaded polygon layer (township boundaries) into WGS-84.

    Parameters
    ----------
    data : bytes, str or Path
        The uploaded file's content, or a path to it.  Accepted: GeoJSON
        (``.geojson``/``.json``), a zipped Shapefile (``.zip`` with
        ``.shp``/``.shx``/``.dbf`` and usually ``.prj``/``.cpg``; a GeoJSON or
        GeoPackage inside the zip also works), a GeoPackage (``.gpkg``), or the
        path of a ``.shp`` next to its sidecar files.  A ``str`` starting with
        ``{`` is taken as GeoJSON text.
    filename : str, optional
        The name the user's file had; used for the format (together with the
        content) and in messages.  Defaults to the path's name or ``"upload"``.
    datum : str, default "wgs84"
        Datum of the longitude/latitude once reprojected: ``"wgs84"`` (also
        CGCS2000), ``"gcj02"`` for layers digitised on Amap/Tencent maps,
        ``"bd09"`` for Baidu.  Aliases such as ``"WGS-84"``, ``"GCJ-02"``,
        ``"BD-09"`` are accepted in any case.
    encoding : str, optional
        Text encoding of the attributes (``.dbf`` or GeoJSON).  By default the
        ``.cpg`` is used when present and correct, otherwise UTF-8, GBK and
        GB18030 are tried in that order.
    max_mb : float, optional
        Size limit in MB, counting zip content uncompressed.  Defaults to
        :data:`gridplan.settings.max_upload_mb`.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygon/MultiPolygon features in EPSG:4326, 2-D, valid, with the
        attribute columns of the file (strings and numbers; dates as ISO
        ``YYYY-MM-DD[ HH:MM:SS]`` strings) and a fresh ``RangeIndex``.
    LoadReport
        What was read, assumed and repaired.

    Raises
    ------
    UploadError
        With ``code`` ``upload.bad_datum``, ``upload.too_large``,
        ``upload.unknown_format``, ``upload.unreadable``, ``upload.zip_unsafe``,
        ``upload.zip_no_layer``, ``upload.zip_incomplete``, ``upload.encoding``,
        ``upload.bad_encoding``, ``upload.empty``, ``upload.no_polygons``,
        ``upload.no_crs`` or ``upload.not_in_china``.

    Examples
    --------
    >>> gdf, report = read_vector_upload(uploaded.getvalue(), uploaded.name)  # doctest: +SKIP
    >>> report.encoding, report.source_crs  # doctest: +SKIP
    ('GBK', 'EPSG:4547')
    """
    datum_name = parse_datum(datum)
    limit = _limit_mb(max_mb)
    source = _open_source(data, filename)
    name = source.filename
    if source.size > limit * _MB:
        raise _too_large(source.size, limit, name)
    if source.size == 0:
        raise _empty(name)

    notes: list[str] = []
    encoding_used: str | None = None
    with tempfile.TemporaryDirectory(prefix="gridplan-upload-") as tmp:
        folder = Path(tmp)
        layer = _locate_layer(source, folder, limit)
        notes.extend(layer.notes)
        codec: str | None = None
        if layer.driver == "ESRI Shapefile":
            codec, note = _shapefile_encoding(layer.path, encoding, name)
            encoding_used = _display_encoding(codec)
            if note:
                notes.append(note)
        elif layer.driver == "GeoJSON":
            raw = layer.path.read_bytes()
            text, text_codec, note = _decode_text(raw, encoding, name)
            encoding_used = _display_encoding(text_codec)
            if note:
                notes.append(f"GeoJSON: {note}")
            if text_codec != "utf-8" or raw.startswith(codecs.BOM_UTF8):
                layer.path = folder / "upload-utf8.geojson"
                layer.path.write_text(text, encoding="utf-8")
            del raw, text
        frame, read_notes = _read_layer(layer, codec, name)
    notes.extend(read_notes)

    n_read = len(frame)
    if n_read == 0:
        raise _empty(name)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise _no_polygons(name)

    geoms, keep, geom_notes = _keep_polygons(np.asarray(frame.geometry.values, dtype=object))
    notes.extend(geom_notes)
    if not keep.any():
        raise _no_polygons(name)
    attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name)).loc[keep].reset_index(drop=True)
    kept = geoms[keep]

    # --- coordinate system ---------------------------------------------------------
    src_crs = frame.crs
    if src_crs is None:
        bounds = shapely.total_bounds(kept)
        if not _looks_like_china_lonlat(bounds):
            raise UploadError(
                f"{name} has no coordinate reference system (no .prj) and its coordinates "
                f"(extent {_bounds_text(bounds)}) are not longitude/latitude in China",
                code="upload.no_crs",
                params={"filename": name},
            )
        assumed = "EPSG:4490" if datum_name == "wgs84" else "EPSG:4326"
        src_crs = CRS.from_user_input(assumed)
        source_label = assumed
        notes.append(
            f"no CRS (.prj) given; coordinates look like longitude/latitude in China, "
            f"assumed {'CGCS2000 ' if assumed == 'EPSG:4490' else ''}{assumed}"
        )
    else:
        source_label = _crs_label(src_crs)
    out = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(kept, crs=src_crs), crs=src_crs)
    if not CRS.from_user_input(out.crs).equals(CRS.from_epsg(4326)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf from out-of-domain points
            out = out.to_crs(4326)
        notes.append(f"reprojected from {source_label} to EPSG:4326")

    if datum_name != "wgs84":
        shifted = gcrs.geoms_to_wgs84(np.asarray(out.geometry.values, dtype=object), datum_name)
        out = out.set_geometry(gpd.GeoSeries(shifted, index=out.index, crs=4326))
        label = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[datum_name]
        notes.append(f"converted coordinates from {label} to WGS-84")

    bounds = out.total_bounds
    if not _looks_like_china_lonlat(bounds):
        text = _bounds_text(bounds)
        raise UploadError(
            f"the coordinates of {name} fall outside China after conversion (extent {text}); "
            "check the declared coordinate system",
            code="upload.not_in_china",
            params={"filename": name, "bounds": text},
        )

    # --- validity ---------------------------------------------------------------------
    fixed, n_repaired, alive = _repair(np.asarray(out.geometry.values, dtype=object))
    n_dropped = n_read - len(out)
    if n_repaired:
        notes.append(
            f"repaired {n_repaired} invalid polygon(s) (self-intersecting or bow-tie rings) "
            "with shapely.make_valid"
        )
    out = out.set_geometry(gpd.GeoSeries(fixed, index=out.index, crs=4326))
    if not alive.all():
        n_lost = int((~alive).sum())
        notes.append(f"dropped {n_lost} polygon(s) that were empty after repair")
        n_dropped += n_lost
        out = out.loc[alive].reset_index(drop=True)
        if len(out) == 0:
            raise _no_polygons(name)

    out = _stringify_attributes(out.reset_index(drop=True))
    report = LoadReport(
        filename=name,
        driver=layer.driver,
        source_crs=source_label,
        encoding=encoding_used,
        datum=datum_name,
        n_features=len(out),
        n_repaired=n_repaired,
        n_dropped=n_dropped,
        notes=notes,
    )
    return out, report


def _no_polygons(filename: str) -> UploadError:
    return UploadError(
        f"{filename} contains no polygons; a township layer must be a polygon layer",
        code="upload.no_polygons",
        params={"filename": filename},
    )


# --------------------------------------------------------------------------------------
# tables


def _is_code_column(name: object) -> bool:
    """Columns whose values are codes (adcode, 代码, 区划代码, XZQDM...) and keep leading zeros."""
    return bool(_CODE_COLUMN.search(str(name).strip()))


def _guess_separator(text: str) -> str:
    """The delimiter of a delimited text table: comma, tab, semicolon or pipe."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1
    for sep in (",", "\t", ";", "|"):
        n_header = lines[0].count(sep)
        if n_header == 0:
            continue
        score = sum(1 for line in lines[1:] if line.count(sep) == n_header) * 1000 + n_header
        if score > best_score:
            best, best_score = sep, score
    return best


def _tidy_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, list[str]]:
    """Strip column names; drop blank rows and blank unnamed columns."""
    notes: list[str] = []
    frame = frame.rename(columns=lambda c: c.strip() if isinstance(c, str) else c)
    blank_cols = [
        c for c in frame.columns if str(c).startswith("Unnamed:") and frame[c].isna().all()
    ]
    if blank_cols:
        frame = frame.drop(columns=blank_cols)
        notes.append(f"dropped {len(blank_cols)} blank unnamed column(s)")
    blank_rows = frame.isna().all(axis=1)
    n_blank = int(blank_rows.sum())
    if n_blank:
        frame = frame.loc[~blank_rows].reset_index(drop=True)
        notes.append(f"dropped {n_blank} blank row(s)")
    return frame, n_blank, notes


def _read_csv(text: str, filename: str) -> pd.DataFrame:
    sep = _guess_separator(text)
    try:
        header = pd.read_csv(io.StringIO(text), sep=sep, nrows=0)
        dtypes = {c: str for c in header.columns if _is_code_column(c)}
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=dtypes, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise _empty(filename) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise _unreadable(filename, str(exc)) from exc


def _read_excel(handle: Any, filename: str, engine: str | None) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    try:
        with pd.ExcelFile(handle, engine=engine) as book:  # type: ignore[arg-type]
            sheets = list(book.sheet_names)
            for sheet in sheets:
                header = book.parse(sheet, nrows=0)
                if len(header.columns) == 0:
                    continue
                dtypes = {c: str for c in header.columns if _is_code_column(c)}
                frame = book.parse(sheet, dtype=dtypes)
                if frame.dropna(how="all").empty:
                    continue
                if len(sheets) > 1:
                    notes.append(f"the workbook has {len(sheets)} sheets; read sheet '{sheet}'")
                return frame, notes
    except ImportError as exc:
        raise _unreadable(
            filename, "old .xls workbooks need the xlrd package; save the sheet as .xlsx or CSV"
        ) from exc
    except Exception as exc:
        raise _unreadable(filename, str(exc) or type(exc).__name__) from exc
    raise _empty(filename)


def read_table_upload(
    data: bytes | str | Path,
    filename: str | None = None,
    *,
    encoding: str | None = None,
    max_mb: float | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Read an uploaded table (CSV or Excel), e.g. township population.

    Parameters
    ----------
    data : bytes, str or Path
        The uploaded file's content, or a path to it.  Accepted: delimited
        text (``.csv``, ``.txt``, ``.tsv``; comma, tab, semicolon or pipe) and
        Excel workbooks (``.xlsx`` via openpyxl; ``.xls`` only if xlrd is
        installed).
    filename : str, optional
        The name the user's file had; used for the format and in messages.
    encoding : str, optional
        Text encoding of a CSV.  By default a UTF-8/UTF-16 byte-order mark is
        honoured, otherwise UTF-8, GBK and GB18030 are tried in that order.
    max_mb : float, optional
        Size limit in MB (an ``.xlsx`` is counted uncompressed).  Defaults to
        :data:`gridplan.settings.max_upload_mb`.

    Returns
    -------
    pandas.DataFrame
        The first non-empty sheet / the CSV, with column names stripped of
        surrounding spaces and blank rows removed.  Code-like columns
        (``adcode``, ``code``, ``代码``, ``区划代码``, ``code9``, ``XZQDM``...)
        are strings, so leading zeros survive; other columns are as pandas
        infers them.  Columns are not interpreted otherwise.
    LoadReport
        ``driver`` is ``"CSV"`` or ``"Excel"``; ``n_features`` is the row count.

    Raises
    ------
    UploadError
        With ``code`` ``upload.too_large``, ``upload.unknown_table_format``,
        ``upload.unreadable``, ``upload.encoding``, ``upload.bad_encoding`` or
        ``upload.empty``.
    """
    limit = _limit_mb(max_mb)
    source = _open_source(data, filename)
    name = source.filename
    if source.size > limit * _MB:
        raise _too_large(source.size, limit, name)
    if source.size == 0:
        raise _empty(name)

    kind = _sniff(source.head())
    ext = _suffix(name)
    notes: list[str] = []
    encoding_used: str | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind == "zip":
            try:
                with zipfile.ZipFile(source.zip_handle()) as zf:
                    infos = zf.infolist()
                    members = {info.filename for info in infos}
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise _unreadable(name, f"corrupt zip/xlsx container ({exc})") from exc
            if "xl/workbook.xml" not in members:
                raise _unknown_table_format(name, "a zip archive, not a workbook")
            _check_zip_members(infos, limit, name)
            frame, excel_notes = _read_excel(source.zip_handle(), name, "openpyxl")
            notes.extend(excel_notes)
            driver = "Excel"
        elif kind == "ole2":
            frame, excel_notes = _read_excel(source.zip_handle(), name, None)
            notes.extend(excel_notes)
            driver = "Excel"
        elif kind == "text" and (ext in _TABLE_TEXT_EXTS | _TABLE_EXCEL_EXTS or ext == ""):
            text, codec, note = _decode_text(source.read_bytes(), encoding, name)
            encoding_used = _display_encoding(codec)
            if note:
                notes.append(f"CSV: {note}")
            if "\x00" in text:
                raise _unknown_table_format(name, "binary data")
            if ext in _TABLE_EXCEL_EXTS:
                # Many Chinese systems export delimited text (or HTML) named .xls.
                if text.lstrip()[:1] == "<":
                    raise _unreadable(name, "HTML/XML text, not an Excel workbook")
                notes.append(f"{name} is delimited text, not a workbook; read as CSV")
            frame = _read_csv(text, name)
            driver = "CSV"
        else:
            raise _unknown_table_format(name, kind.removeprefix("other:"))
    notes.extend(_warning_notes(caught, "reader warning"))

    frame, n_blank, tidy_notes = _tidy_table(frame)
    notes.extend(tidy_notes)
    if len(frame) == 0 or len(frame.columns) == 0:
        raise _empty(name)
    report = LoadReport(
        filename=name,
        driver=driver,
        source_crs=None,
        encoding=encoding_used,
        datum="wgs84",
        n_features=len(frame),
        n_repaired=0,
        n_dropped=n_blank,
        notes=notes,
    )
    return frame, report
