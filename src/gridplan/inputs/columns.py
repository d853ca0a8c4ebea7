"""The columns of a planner's table: found by the names they may have, read as numbers.

Planners' tables name the same thing many ways (``经度``, ``lon``, ``Longitude``,
``床位数（张）``), so a column is looked up by a list of accepted names,
compared loosely (:func:`column_key`): case, width (full-width digits and
brackets), spaces, ``_``, ``-``, ``:``, ``/`` and bracketed units do not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gridplan._types import BoolArray, FloatArray
from gridplan._validate import Problems
from gridplan.errors import GridPlanError, InputError

_BRACKETED = re.compile(r"[(\[【].*?[)\]】]")
_SEPARATORS = re.compile(r"[\s_\-:/]+")


def column_key(name: object) -> str:
    """A column name compared loosely: ``床位数（张）`` → ``床位数``, ``Pop_2020`` → ``pop2020``."""
    text = unicodedata.normalize("NFKC", str(name)).lower()
    return _SEPARATORS.sub("", _BRACKETED.sub("", text))


def find_columns(columns: Iterable[Any], names: Sequence[str]) -> list[Any]:
    """The columns matching any of ``names``, in the order of ``names`` (each column once)."""
    keys = [(c, column_key(c)) for c in columns]
    wanted = [column_key(n) for n in names]
    return list(dict.fromkeys(c for w in wanted for c, k in keys if k == w))


def find_column(columns: Iterable[Any], names: Sequence[str]) -> tuple[Any | None, list[Any]]:
    """The first column matching ``names`` (in their order of preference) and the other matches."""
    found = find_columns(columns, names)
    return (found[0] if found else None), found[1:]


def column_numbers(
    series: pd.Series,
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """A column's values as floats, whether each is missing, whether it is there but no number.

    Text is read leniently: full-width digits, thousands separators and spaces
    (``"1,200"``, ``"１２００"``) are numbers.
    """
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype(str).str.normalize("NFKC").str.replace(r"[,\s]", "", regex=True)
        missing = missing | (text == "").to_numpy()
        num = pd.to_numeric(text.where(~missing), errors="coerce")
    else:
        num = pd.to_numeric(series, errors="coerce")
    values = num.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~missing & ~np.isfinite(values)
    return values, missing, bad


def cell_text(value: Any) -> str:
    """A cell's value as a message shows it: numbers with 6 significant digits, else as text."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def missing_columns_error(
    scope: str,
    missing: Mapping[str, Sequence[str]],
    columns: Iterable[Any],
    error: type[InputError] = InputError,
) -> GridPlanError:
    """One error for every required column a table lacks.

    Code ``<scope>.missing_columns`` (its text names the columns found, param
    ``columns``); one problem ``missing_column.<field>`` per missing field,
    with a few of the names that column may have (param ``aliases``).

    Parameters
    ----------
    scope
        The reader, e.g. ``"facilities"``.
    missing
        Each missing field and the column names accepted for it.
    columns
        The table's columns.
    error
        The class of the error (an :class:`~gridplan.errors.InputError`).
    """
    found = ", ".join(str(c) for c in columns)
    problems = Problems(
        f"{scope}.missing_columns", f"the table lacks required columns (found: {found})", error
    )
    for field, names in missing.items():
        aliases = " / ".join(str(n) for n in names[:4])
        problems.add(f"missing_column.{field}", f"no {field} column", aliases=aliases)
    return problems.error(columns=found)
