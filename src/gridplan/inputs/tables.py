"""Table uploads (CSV, Excel): encodings, separators, code columns kept as text."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

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
    source, limit = _open_upload(data, filename, max_mb)
    name = source.filename

    with _warnings_as_notes() as reader_notes:
        frame, driver, encoding_used, notes = _read_table(source, limit, encoding)
    notes += reader_notes

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


def _read_table(
    source: _Source, limit: float, encoding: str | None
) -> tuple[pd.DataFrame, str, str | None, list[str]]:
    """The table as read (driver ``Excel`` or ``CSV``), the text encoding used, notes.

    The format comes from the content: a zip holding ``xl/workbook.xml`` is
    an .xlsx, an OLE2 file an old .xls, text a CSV (also when named .xls:
    many Chinese systems export delimited text under that name).
    """
    name = source.filename
    kind = _sniff(source.head())
    ext = _suffix(name)
    if kind == "zip":
        try:
            with zipfile.ZipFile(source.zip_handle()) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _unreadable(name, f"corrupt zip/xlsx container ({exc})") from exc
        if "xl/workbook.xml" not in {info.filename for info in infos}:
            raise _unknown_table_format(name, "a zip archive, not a workbook")
        _check_zip_members(infos, limit, name)
        frame, notes = _read_excel(source.zip_handle(), name, "openpyxl")
        return frame, "Excel", None, notes
    if kind == "ole2":
        frame, notes = _read_excel(source.zip_handle(), name, None)
        return frame, "Excel", None, notes
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
    return _read_csv(text, name), "CSV", _display_encoding(codec), notes
