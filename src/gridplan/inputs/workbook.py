"""Excel workbooks (.xlsx, .xlsm) read within bounds.

An .xlsx is a zip of XML parts, so a small upload can hide a huge sheet.  The
zip is checked before openpyxl opens it (number of parts, uncompressed size,
compression ratio of each part, no DTD in any XML part), then the sheet is
streamed row by row (openpyxl ``read_only``) and reading stops at the first
row, column, cell or text-length limit of :mod:`gridplan.settings`.  Only cell
values are read: formulas give their cached values, macros (``.xlsm``) and
external links are never run or followed.  openpyxl parses the XML with
``defusedxml`` when it is installed (it is a dependency of GridPlan); the DTD
check refuses entity tricks before any parser sees them.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from gridplan import settings
from gridplan.errors import UploadError
from gridplan.inputs.files import _MB, _too_large

#: Excel's own sheet size: a row number beyond it is no real sheet.
EXCEL_MAX_ROWS = 1_048_576
#: Grace size under which a part's compression ratio is not checked (Apache POI's rule).
_RATIO_GRACE_BYTES = 100 * 1024
#: Bytes at the start of an XML part searched for a DTD (it must come before the root).
_PROLOG_BYTES = 64 * 1024
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
#: Error values of Excel cells: read as missing, as pandas does.
_EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


@dataclass
class SheetRecords:
    """The cells of one sheet as pandas' Excel reader gives them to its parser.

    ``records`` has the header first; trailing blank cells and rows are trimmed,
    every record padded to the widest.  ``rows`` is the spreadsheet row number
    (1 = first row of the sheet) of each record.
    """

    name: str
    n_sheets: int
    records: list[list[Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _refusal(code: str, message: str, **params: Any) -> UploadError:
    return UploadError(message, code=code, params=params)


def check_workbook_zip(
    zf: zipfile.ZipFile, infos: Sequence[zipfile.ZipInfo], filename: str
) -> None:
    """Refuse a workbook whose parts are too many, too large, too compressed or hold a DTD.

    Python's zipfile never inflates a part beyond its declared size, so checking
    the declared sizes bounds what openpyxl can be made to read.
    """
    if len(infos) > settings.max_xlsx_members:
        raise _refusal(
            "upload.xlsx_members",
            f"{filename} has {len(infos)} parts, over the limit of {settings.max_xlsx_members}",
            filename=filename,
            n=len(infos),
            limit=settings.max_xlsx_members,
        )
    total = sum(info.file_size for info in infos)
    limit_mb = settings.max_xlsx_uncompressed_mb
    if total > limit_mb * _MB:
        raise _too_large(total, limit_mb, f"{filename} (uncompressed workbook)")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_GRACE_BYTES and ratio > settings.max_xlsx_ratio:
            raise _refusal(
                "upload.xlsx_ratio",
                f"{filename} looks like a zip bomb: a part expands {ratio:.0f} times, "
                f"over the limit of {settings.max_xlsx_ratio:g}",
                filename=filename,
                ratio=f"{ratio:.0f}",
                limit=f"{settings.max_xlsx_ratio:g}",
            )
    for info in infos:
        if not info.is_dir() and _has_dtd(zf, info):
            raise _refusal(
                "upload.xlsx_dtd",
                f"{filename} holds XML with a document type declaration (DTD/entities), "
                "which Excel never writes",
                filename=filename,
            )


def _has_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the start of a part declares a DTD or entities (UTF-8 or UTF-16 text)."""
    try:
        with zf.open(info) as fh:
            head = fh.read(_PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return False  # openpyxl will report the damaged part
    return bool(_DTD.search(head.replace(b"\x00", b"")))


def _cell_value(value: Any) -> Any:
    """A cell as pandas' openpyxl reader converts it: blank ``""``, whole floats int, errors NaN."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, str) and value in _EXCEL_ERRORS:
        return np.nan
    return value


class _Budget:
    """The limits of one sheet, counted while its rows stream in."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.cells = 0
        self.rows = 0

    def raw_row(self, row_number: int, width: int) -> None:
        """Each row openpyxl builds, blank padding included, counts against the cell limit."""
        if row_number > EXCEL_MAX_ROWS:
            raise table_too_many("rows", row_number, EXCEL_MAX_ROWS, self.filename)
        self.cells += max(width, 1)
        if self.cells > settings.max_table_cells:
            raise table_too_many("cells", self.cells, settings.max_table_cells, self.filename)

    def data_row(self, width: int) -> None:
        self.rows += 1
        if self.rows > settings.max_table_rows + 1:  # the header is no data row
            raise table_too_many("rows", self.rows - 1, settings.max_table_rows, self.filename)
        if width > settings.max_table_columns:
            raise table_too_many("columns", width, settings.max_table_columns, self.filename)


def table_too_many(what: str, n: int, limit: int, filename: str) -> UploadError:
    """The refusal of a table over its row, column or cell limit (``what``)."""
    return UploadError(
        f"{filename} has more than {limit:,} {what} (at least {n:,}); GridPlan reads at most "
        f"{limit:,} {what} from a table: split the file or remove what is not needed",
        code=f"upload.too_many_{what}",
        params={"filename": filename, "n": n, "limit": limit},
    )


def cell_too_long(filename: str, row: int, column: int, n: int) -> UploadError:
    """The refusal of a table with a cell text over :data:`settings.max_cell_chars`."""
    limit = settings.max_cell_chars
    return UploadError(
        f"{filename}: the cell in row {row}, column {column} has {n:,} characters, "
        f"over the limit of {limit:,}",
        code="upload.cell_too_long",
        params={"filename": filename, "row": row, "column": column, "n": n, "limit": limit},
    )


def _trimmed(values: Sequence[Any], budget: _Budget, row_number: int) -> list[Any]:
    """A row's converted cells without trailing blanks; a text over the length limit is refused."""
    cells = [_cell_value(v) for v in values]
    while cells and cells[-1] == "":
        cells.pop()
    for j, v in enumerate(cells):
        if isinstance(v, str) and len(v) > settings.max_cell_chars:
            raise cell_too_long(budget.filename, row_number, j + 1, len(v))
    return cells


def _stream_rows(ws: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    """``(row number, values)`` of a read-only sheet, its declared (untrusted) size ignored."""
    ws.reset_dimensions()
    yield from enumerate(ws.iter_rows(values_only=True), start=1)


def sheet_records(ws: Any, filename: str, n_sheets: int = 1) -> SheetRecords:
    """The bounded records of one read-only worksheet (see :class:`SheetRecords`)."""
    budget = _Budget(filename)
    out = SheetRecords(ws.title, n_sheets)
    last_with_data = 0
    for row_number, values in _stream_rows(ws):
        budget.raw_row(row_number, len(values))
        cells = _trimmed(values, budget, row_number)
        if cells:
            budget.data_row(len(cells))
            last_with_data = len(out.records) + 1
        out.records.append(cells)
        out.rows.append(row_number)
    del out.records[last_with_data:], out.rows[last_with_data:]
    if out.records:
        width = max(len(r) for r in out.records)
        if len(out.records) * width > settings.max_table_cells:
            n = len(out.records) * width
            raise table_too_many("cells", n, settings.max_table_cells, filename)
        for r in out.records:
            r.extend([""] * (width - len(r)))
    return out


def workbook_sheets(handle: IO[bytes] | Any, filename: str) -> Iterator[SheetRecords]:
    """The bounded records of each sheet of a workbook, in order, read lazily.

    Opens the workbook with openpyxl ``read_only`` (values only, no external
    links); the caller has checked the zip with :func:`check_workbook_zip`.
    """
    import openpyxl

    book = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    try:
        n_sheets = len(book.sheetnames)
        for ws in book.worksheets:
            if hasattr(ws, "reset_dimensions"):  # chart sheets have no cells
                yield sheet_records(ws, filename, n_sheets)
    finally:
        book.close()
