"""Table uploads (CSV, Excel): encodings, separators, code columns kept as text."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.parsers import TextParser  # type: ignore[attr-defined]  # not in pandas-stubs

from gridplan import settings
from gridplan._types import IntArray
from gridplan.errors import UploadError
from gridplan.inputs.archive import _check_zip_members
from gridplan.inputs.encodings import _decode_text, _display_encoding
from gridplan.inputs.files import (
    LoadReport,
    _empty,
    _open_upload,
    _sniff,
    _Source,
    _suffix,
    _unknown_table_format,
    _unreadable,
    _warnings_as_notes,
)
from gridplan.inputs.workbook import (
    SheetRecords,
    cell_too_long,
    check_workbook_zip,
    table_too_many,
    workbook_sheets,
)

_TABLE_TEXT_EXTS = {".csv", ".txt", ".tsv"}
_TABLE_EXCEL_EXTS = {".xlsx", ".xlsm", ".xls"}

_CODE_COLUMN = re.compile(r"code|代码|编码|编号|^[a-z]{0,6}dm$", re.IGNORECASE)


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


def _tidy_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, list[str], np.ndarray]:
    """Strip column names; drop blank rows and blank unnamed columns (and which rows are kept)."""
    notes: list[str] = []
    frame = frame.rename(columns=lambda c: c.strip() if isinstance(c, str) else c)
    blank_cols = [
        c for c in frame.columns if str(c).startswith("Unnamed:") and frame[c].isna().all()
    ]
    if blank_cols:
        frame = frame.drop(columns=blank_cols)
        notes.append(f"dropped {len(blank_cols)} blank unnamed column(s)")
    blank_rows = frame.isna().all(axis=1).to_numpy(dtype=bool)
    n_blank = int(blank_rows.sum())
    if n_blank:
        frame = frame.loc[~blank_rows].reset_index(drop=True)
        notes.append(f"dropped {n_blank} blank row(s)")
    return frame, n_blank, notes, ~blank_rows


def _csv_row_budget(text: str, sep: str, filename: str) -> int:
    """Most data rows to parse: the row limit, fewer for a wide table (the cell limit).

    The header's width is checked on the raw line, before pandas sees the file.
    """
    end = text.find("\n")
    n_cols = (text if end < 0 else text[:end]).count(sep) + 1
    if n_cols > settings.max_table_columns:
        raise table_too_many("columns", n_cols, settings.max_table_columns, filename)
    return min(settings.max_table_rows, settings.max_table_cells // n_cols)


def _read_csv(text: str, filename: str) -> pd.DataFrame:
    """A delimited text table, parsed at most up to its row budget (then refused)."""
    sep = _guess_separator(text)
    budget = _csv_row_budget(text, sep, filename)
    try:
        header = pd.read_csv(io.StringIO(text), sep=sep, nrows=0)
        dtypes = {c: str for c in header.columns if _is_code_column(c)}
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=dtypes, low_memory=False, nrows=budget + 1
        )
    except pd.errors.EmptyDataError as exc:
        raise _empty(filename) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise _unreadable(filename, _parser_detail(exc)) from exc
    if len(frame) > budget:
        if budget < settings.max_table_rows:
            n = len(frame) * len(frame.columns)
            raise table_too_many("cells", n, settings.max_table_cells, filename)
        raise table_too_many("rows", len(frame), settings.max_table_rows, filename)
    if len(text) > settings.max_cell_chars:
        _check_cell_lengths(frame, filename)
    return frame


def _parser_detail(exc: Exception) -> str:
    """pandas' parser message without its C-level prefix: the line and fields it expected."""
    text = " ".join(str(exc).split())
    return text.removeprefix("Error tokenizing data. C error: ") or type(exc).__name__


def _check_cell_lengths(frame: pd.DataFrame, filename: str) -> None:
    """Refuse a table with a header or text cell over :data:`settings.max_cell_chars`."""
    limit = settings.max_cell_chars
    for j, col in enumerate(frame.columns):
        if len(str(col)) > limit:
            raise cell_too_long(filename, 1, j + 1, len(str(col)))
        lengths = frame[col].map(lambda v: len(v) if isinstance(v, str) else 0)
        lengths_arr = lengths.to_numpy(dtype=np.int64)
        if len(lengths_arr) and lengths_arr.max() > limit:
            i = int(lengths_arr.argmax())
            raise cell_too_long(filename, i + 2, j + 1, int(lengths_arr[i]))


def _excel_frame(sheet: SheetRecords) -> pd.DataFrame:
    """A sheet's records as pandas' Excel reader makes them a frame (codes kept as text)."""
    names = [str(v).strip() for v in sheet.records[0]]
    dtypes = {c: str for c in names if _is_code_column(c)}
    parser = TextParser(sheet.records, header=0, dtype=dtypes, skip_blank_lines=False)
    with parser:
        return parser.read()


def _read_excel(handle: Any, filename: str) -> tuple[pd.DataFrame, list[str], IntArray | None]:
    """The first sheet with data of an .xlsx/.xlsm (values only), notes, the rows' sheet numbers."""
    notes: list[str] = []
    try:
        for sheet in workbook_sheets(handle, filename):
            if not sheet.records or not any(str(v) != "" for v in sheet.records[0]):
                continue
            frame = _excel_frame(sheet)
            if frame.dropna(how="all").empty:
                continue
            if sheet.n_sheets > 1:
                notes.append(f"the workbook has {sheet.n_sheets} sheets; read sheet '{sheet.name}'")
            rows = np.asarray(sheet.rows[1:], dtype=np.int64)
            return frame, notes, rows if len(rows) == len(frame) else None
    except UploadError:
        raise
    except Exception as exc:  # openpyxl's errors on damaged parts have no common base
        raise _unreadable(filename, _short_excel_error(exc)) from exc
    raise _empty(filename)


def _short_excel_error(exc: Exception) -> str:
    """openpyxl's complaint, on one line, without any file path it may carry."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return re.sub(r"(?:[A-Za-z]:)?[/\\][^\s'\"]*[/\\]", "", text)


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
        Excel workbooks (``.xlsx``, ``.xlsm``: cell values only, macros are
        never run).  Old binary ``.xls`` workbooks are refused (save as .xlsx).
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
        ``upload.unreadable``, ``upload.encoding``, ``upload.bad_encoding``,
        ``upload.empty``, ``upload.xls_old``; over a limit of
        :mod:`gridplan.settings` (checked before the table is parsed):
        ``upload.too_many_rows``, ``upload.too_many_columns``,
        ``upload.too_many_cells``, ``upload.cell_too_long``; a workbook that
        is a zip bomb or holds a DTD: ``upload.xlsx_ratio``,
        ``upload.xlsx_members``, ``upload.xlsx_dtd``.
    """
    frame, report, _ = read_table_rows(data, filename, encoding=encoding, max_mb=max_mb)
    return frame, report


def read_table_rows(
    data: bytes | str | Path,
    filename: str | None = None,
    *,
    encoding: str | None = None,
    max_mb: float | None = None,
) -> tuple[pd.DataFrame, LoadReport, IntArray | None]:
    """:func:`read_table_upload`, and the spreadsheet row number of each row of a workbook.

    The row numbers (1 = the sheet's first row) are ``None`` for a CSV.
    """
    source, limit = _open_upload(data, filename, max_mb)
    name = source.filename

    with _warnings_as_notes() as reader_notes:
        read = _read_table(source, limit, encoding)
    notes = read.notes + reader_notes

    frame, n_blank, tidy_notes, kept = _tidy_table(read.frame)
    notes.extend(tidy_notes)
    if len(frame) == 0 or len(frame.columns) == 0:
        raise _empty(name)
    report = LoadReport(
        filename=name,
        driver=read.driver,
        source_crs=None,
        encoding=read.encoding,
        datum="wgs84",
        n_features=len(frame),
        n_repaired=0,
        n_dropped=n_blank,
        notes=notes,
    )
    rows = None if read.rows is None else read.rows[kept]
    return frame, report, rows


@dataclass
class _Read:
    """A table as read: the frame, ``Excel``/``CSV``, the CSV's encoding, notes, sheet rows."""

    frame: pd.DataFrame
    driver: str
    encoding: str | None
    notes: list[str]
    rows: IntArray | None = None


def _read_table(source: _Source, limit: float, encoding: str | None) -> _Read:
    """The table as read (driver ``Excel`` or ``CSV``), the text encoding used, notes.

    The format comes from the content: a zip holding ``xl/workbook.xml`` is
    an .xlsx, an OLE2 file an old .xls, text a CSV (also when named .xls:
    many Chinese systems export delimited text under that name).
    """
    name = source.filename
    kind = _sniff(source.head())
    ext = _suffix(name)
    if kind == "zip":
        _check_workbook(source, limit)
        frame, notes, rows = _read_excel(source.zip_handle(), name)
        return _Read(frame, "Excel", None, notes, rows)
    if kind == "ole2":
        raise UploadError(
            f"{name} is an old binary Excel workbook (.xls), which is not read; "
            "save the sheet as .xlsx or CSV",
            code="upload.xls_old",
            params={"filename": name},
        )
    if kind != "text" or ext not in _TABLE_TEXT_EXTS | _TABLE_EXCEL_EXTS | {""}:
        raise _unknown_table_format(name, kind.removeprefix("other:"))
    text, codec, note = _decode_text(source.read_bytes(), encoding, name)
    notes = [f"CSV: {note}"] if note else []
    if "\x00" in text:
        raise _unknown_table_format(name, "binary data")
    if ext in _TABLE_EXCEL_EXTS:
        if text.lstrip()[:1] == "<":
            raise _unreadable(name, "HTML/XML text, not an Excel workbook")
        notes.append(f"{name} is delimited text, not a workbook; read as CSV")
    return _Read(_read_csv(text, name), "CSV", _display_encoding(codec), notes)


def _check_workbook(source: _Source, limit: float) -> None:
    """A zip upload must be a workbook within every limit before openpyxl opens it."""
    name = source.filename
    try:
        with zipfile.ZipFile(source.zip_handle()) as zf:
            infos = zf.infolist()
            if "xl/workbook.xml" not in {info.filename for info in infos}:
                raise _unknown_table_format(name, "a zip archive, not a workbook")
            _check_zip_members(infos, limit, name)
            check_workbook_zip(zf, infos, name)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if isinstance(exc, UploadError):
            raise
        raise _unreadable(name, "corrupt zip/xlsx container") from exc
