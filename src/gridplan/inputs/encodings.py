"""Text encodings of uploads: detection, GBK/GB18030 codepages, .cpg sidecars, .dbf samples."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from gridplan.inputs.files import _MB, _bad_encoding, _encoding_error

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
