"""Spreadsheet-safe tables: every CSV and Excel file GridPlan writes goes through here.

Names in the tables (grids, units, facilities, candidate sites) come from files
planners upload.  A spreadsheet program runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula: a grid named ``=HYPERLINK("http://x","y")``
would become a live link in Excel, ``=cmd|...`` a DDE call.  Following the
OWASP CSV-injection rule, :func:`neutralise_formulas` puts a single quote
before such text cells, so the program shows them as text.  Numbers stay
numbers (a negative population is a number, not a formula).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: First characters that make a spreadsheet program read a cell as a formula (OWASP:
#: ``= + - @``, tab, carriage return; also the line feed, and the full-width forms that
#: East-Asian input methods type and some spreadsheet programs accept the same way).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
#: Leading spaces a spreadsheet program may trim on import before it looks for a formula.
_TRIMMED = " \u3000\u00a0"
#: Text that is a plain number (``-12``, ``+3.5``, ``-1e3``) is no formula: left as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_text(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula.

    Anything that is not a string (numbers, ``None``, NaN) is returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    first = value.lstrip(_TRIMMED)[:1]
    if not first or first not in FORMULA_TRIGGERS or _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot run as spreadsheet formulas.

    Only cells holding strings change (see :func:`neutralise_text`); numeric
    columns are left untouched.  Text column headers are neutralised too.
    """
    out = df.copy()
    for i in range(out.shape[1]):  # by position: headers may repeat
        col = out.iloc[:, i]
        if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype | pd.StringDtype):
            out.isetitem(i, [neutralise_text(v) for v in col])
    out.columns = [neutralise_text(c) for c in out.columns]
    return out


def table_to_csv(df: pd.DataFrame, *, note: str | None = None) -> bytes:
    """``df`` as a formula-safe CSV in UTF-8 with BOM (Excel reads it as UTF-8).

    Lines end with ``\\r\\n`` (Excel's own): the CSV writer then quotes any cell
    holding a carriage return or a line feed, so a name cannot split a row.

    Parameters
    ----------
    df
        The table; written without its index.
    note
        A first line ``# note`` (one cell) saying where the figures come from.
    """
    text = neutralise_formulas(df).to_csv(index=False, lineterminator="\r\n")
    if note is None:
        return text.encode("utf-8-sig")
    head = io.StringIO()  # one cell, quoted if it holds a comma: no part of it starts a cell
    csv.writer(head, lineterminator="\r\n").writerow(["# " + " ".join(note.splitlines())])
    return (head.getvalue() + text).encode("utf-8-sig")


def frames_to_xlsx(sheets: Mapping[str, pd.DataFrame], *, report: bool = False) -> bytes:
    """The tables as one Excel workbook, a sheet each, without any formula cell.

    Text cells are neutralised first (:func:`neutralise_formulas`); then, in
    case a writer still stored a string as a formula, every formula cell is
    turned back into text before the workbook is saved.  Every sheet has its
    header row frozen and columns as wide as their text.  ``report``: numbers
    shown as a Chinese report prints them, whole numbers with thousands
    separators (``1,364,247``), others with one decimal (the values are kept).
    """
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, df in sheets.items():
            neutralise_formulas(df).to_excel(writer, sheet_name=name, index=False)
        for ws in writer.book.worksheets:
            _no_formula_cells(ws)
            _readable_sheet(ws)
            if report:
                _report_numbers(ws)
    return buf.getvalue()


#: Widest column a sheet gets, in characters (longer text wraps in its cell when opened).
_MAX_WIDTH = 60


def _readable_sheet(ws: Any) -> None:
    """Header row frozen, columns as wide as their text (CJK characters count twice)."""
    ws.freeze_panes = "A2"
    for column in ws.columns:
        width = max((_display_width(c.value) for c in column), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), _MAX_WIDTH)


def _report_numbers(ws: Any) -> None:
    """Whole numbers with thousands separators, other numbers with one decimal."""
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, bool):
                continue
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.0"


def _display_width(value: object) -> int:
    """Characters a cell shows, a wide (CJK) one counting as two."""
    if value is None:
        return 0
    text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _no_formula_cells(ws: Any) -> None:
    """Store every formula cell of an openpyxl worksheet as plain text."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
