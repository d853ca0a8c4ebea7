"""Uploaded XML read safely: defused, streamed, bounded; ``.bz2`` decompressed with a budget.

Uploaded OpenStreetMap extracts (``.osm``, ``.osm.bz2``) and GraphML files are
hostile until proven otherwise.  This module is the one way GridPlan looks into
them before any library builds a tree or a graph from them:

* :func:`check_file_size` refuses a file over its size limit from ``stat``
  alone, before a byte is read;
* :func:`decompress_bz2` streams a ``.bz2`` into a plain file and stops as
  soon as the output passes a byte budget or a compression ratio (a 4 kB
  bzip2 bomb would otherwise grow to gigabytes);
* :func:`scan_xml` feeds the file in chunks to defusedxml's expat reader with
  DTDs forbidden, so a ``<!DOCTYPE``, hence every entity (billion laughs,
  quadratic blow-up) and every external reference (``SYSTEM "file:…"`` or
  ``"http://…"``), is refused when the parser reaches it, before anything is
  expanded or fetched.  XInclude elements and a root element other than the
  expected one are refused too.  The caller's :class:`XmlScan` sees each
  element as it streams by and counts what it keeps, so that its own bounds
  are checked during the pass, not after.

Once a file passed :func:`scan_xml` it has no DTD, so the standard-library
parsers inside osmnx and networkx cannot expand or fetch anything from it.
"""

from __future__ import annotations

import bz2
import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from gridplan import settings
from gridplan.errors import UploadError
from gridplan.inputs.files import _MB, _check_size

#: Bytes read from the file per step: small enough to stop a bomb early.
_CHUNK = 1 << 20
#: Below this output a .bz2's compression ratio is not judged: a small, very regular
#: file (a test extract, a short road list) may compress far better than real data.
_RATIO_FLOOR_BYTES = 16 * _MB
#: Longest piece of a file's own text (an element name) put into a message.
_NAME_CHARS = 40


def check_file_size(path: Path, limit_mb: float, filename: str, code: str) -> None:
    """Refuse ``path`` when it is larger than ``limit_mb`` (from ``stat``; nothing is read).

    ``code``'s text gets ``filename``, ``size_mb`` and ``limit_mb``.
    """
    _check_size(path.stat().st_size, limit_mb, filename, code, filename=filename)


# --------------------------------------------------------------------------- bzip2


def _bz2_too_large(filename: str, limit_mb: float) -> UploadError:
    return UploadError(
        f"{filename} decompresses to more than the {limit_mb:g} MB limit",
        code="upload.bz2_too_large",
        params={"filename": filename, "limit_mb": limit_mb},
    )


def _bz2_ratio(filename: str, ratio: float) -> UploadError:
    return UploadError(
        f"{filename} decompresses more than {ratio:g} times its size: refused as a "
        "decompression bomb",
        code="upload.bz2_ratio",
        params={"filename": filename, "ratio": ratio},
    )


def _bz2_corrupt(filename: str) -> UploadError:
    return UploadError(
        f"{filename} is not a valid bzip2 file",
        code="upload.bz2_corrupt",
        params={"filename": filename},
    )


@contextlib.contextmanager
def plain_osm_xml(path: Path) -> Iterator[Path]:
    """``path`` as plain OSM XML: itself, or its ``.bz2`` content decompressed into a
    temporary file within the road-file budget (``settings.roads_max_decompressed_mb``,
    ``settings.roads_max_ratio``), removed when the block ends."""
    if not path.name.lower().endswith(".bz2"):
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield decompress_bz2(
            path,
            Path(tmp) / "plain.osm",
            limit_mb=settings.roads_max_decompressed_mb,
            max_ratio=settings.roads_max_ratio,
            filename=path.name,
        )


def decompress_bz2(
    path: Path, out: Path, *, limit_mb: float, max_ratio: float, filename: str
) -> Path:
    """Stream-decompress the bzip2 file ``path`` to ``out`` within a budget.

    Decompression stops, and :class:`~gridplan.errors.UploadError` is raised, as
    soon as the output passes ``limit_mb`` (code ``upload.bz2_too_large``) or,
    past 16 MB of output, ``max_ratio`` times the compressed size
    (``upload.bz2_ratio``).  Each step decompresses at most one chunk's worth
    beyond the budget, so memory stays at a few MB whatever the file holds.
    A file that is not bzip2 gives ``upload.bz2_corrupt``.  Concatenated
    streams (as ``pbzip2`` writes) are read in turn.
    """
    budget = int(limit_mb * _MB)
    ratio_budget = max(int(max_ratio * max(path.stat().st_size, 1)), _RATIO_FLOOR_BYTES)
    written = 0
    dec = bz2.BZ2Decompressor()
    with path.open("rb") as src, out.open("wb") as dst:
        data = b""
        while True:
            if dec.eof:  # a next stream follows (pbzip2), or the file ends
                data = dec.unused_data
                dec = bz2.BZ2Decompressor()
                if not data:
                    data = src.read(_CHUNK)
                    if not data:
                        break
            elif dec.needs_input:
                data = src.read(_CHUNK)
                if not data:
                    raise _bz2_corrupt(filename)  # truncated: the stream never ended
            else:
                data = b""
            try:
                piece = dec.decompress(data, max_length=_CHUNK)
            except (OSError, EOFError, ValueError) as exc:
                raise _bz2_corrupt(filename) from exc
            written += len(piece)
            if written > budget:
                raise _bz2_too_large(filename, limit_mb)
            if written > ratio_budget:
                raise _bz2_ratio(filename, max_ratio)
            dst.write(piece)
    if written == 0:
        raise _bz2_corrupt(filename)
    return out


# --------------------------------------------------------------------------- XML


def _short_name(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"


class XmlScan(ContentHandler):
    """What :func:`scan_xml` calls for each element; subclass and override the hooks.

    ``roots`` are the accepted root element names; ``filename`` names the file in
    messages.  :meth:`start` and :meth:`end` see every element but the root;
    they raise :class:`~gridplan.errors.UploadError` (or a subclass) to stop
    the scan, e.g. when a count passes its limit.  :attr:`line` is the line
    being parsed, for messages.
    """

    roots: tuple[str, ...] = ()

    def __init__(self, filename: str) -> None:
        super().__init__()
        self.filename = filename
        self.root: str | None = None
        self._where: Locator | None = None

    @property
    def line(self) -> int:
        """The line the parser is at (1-based; 0 before parsing starts)."""
        return int(self._where.getLineNumber() or 0) if self._where is not None else 0

    def setDocumentLocator(self, locator: Locator) -> None:  # noqa: N802 - SAX API
        self._where = locator

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 - SAX API
        if name == "include" or name.endswith(":include"):
            # XInclude pulls in other files; nothing GridPlan reads uses it
            raise UploadError(
                f"{self.filename} uses XInclude, which is refused",
                code="xml.xinclude",
                params={"filename": self.filename},
            )
        if self.root is None:
            self._check_root(name)
            return
        self.start(name, attrs)

    def endElement(self, name: str) -> None:  # noqa: N802 - SAX API
        self.end(name)

    def _check_root(self, name: str) -> None:
        self.root = name
        if name.rpartition(":")[2] not in self.roots:
            expected = self.roots[0]
            raise UploadError(
                f"{self.filename} is not {expected} XML: its root element is <{name}>",
                code="xml.root",
                params={
                    "filename": self.filename,
                    "root": _short_name(name),
                    "expected": expected,
                },
            )

    def start(self, name: str, attrs: AttributesImpl) -> None:
        """An element (not the root) opens."""

    def end(self, name: str) -> None:
        """An element closes (the root's end comes here too)."""


def _malformed(filename: str, exc: SAXParseException) -> UploadError:
    line, column = exc.getLineNumber() or 0, exc.getColumnNumber() or 0
    return UploadError(
        f"{filename} is not well-formed XML (line {line}, column {column})",
        code="xml.malformed",
        params={"filename": filename, "line": line, "column": column},
    )


def _chunks(path: Path) -> Iterable[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


ScanT = TypeVar("ScanT", bound=XmlScan)


def scan_xml(path: Path, scan: ScanT) -> ScanT:
    """Stream ``path`` through ``scan`` with a defused parser (no DTD, entity or XInclude).

    Raises :class:`~gridplan.errors.UploadError` with code ``xml.doctype`` for a
    DOCTYPE (hence any entity or external reference), ``xml.xinclude``,
    ``xml.root`` for another root element than ``scan.roots``,
    ``xml.malformed`` (with the line and column) for text that is not XML, and
    whatever ``scan`` raises.  Returns ``scan``.
    """
    parser: Any = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(scan)
    try:
        for chunk in _chunks(path):
            parser.feed(chunk)
        parser.close()
    except DefusedXmlException as exc:
        raise UploadError(
            f"{scan.filename} declares a DOCTYPE or entities, which are refused",
            code="xml.doctype",
            params={"filename": scan.filename},
        ) from exc
    except SAXParseException as exc:
        raise _malformed(scan.filename, exc) from exc
    if scan.root is None:  # pragma: no cover - expat reports "no element found" first
        raise UploadError(
            f"{scan.filename} holds no XML element",
            code="xml.malformed",
            params={"filename": scan.filename, "line": 1, "column": 0},
        )
    return scan
