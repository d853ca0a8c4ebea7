"""Population figures and their provenance.

Every population number in GridPlan carries one of these provenance labels all
the way to the UI, the CLI and exports:

``census2020``
    2020 census resident population of a county-level unit (data/geo).
``uploaded``
    From a table the planner uploaded.
``modelled``
    Derived by a documented model, e.g. a county's census total spread over
    its townships in proportion to their area.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

from gridplan.errors import InputError
from gridplan.i18n import Lang, label
from gridplan.inputs.columns import find_column
from gridplan.settings import data_dir

Provenance = Literal["census2020", "uploaded", "modelled", "none"]

KEY_COLUMNS = ("adcode", "code", "code9", "区划代码", "行政区划代码", "代码", "统计用区划代码")
NAME_COLUMNS = ("name", "名称", "单位", "乡镇", "街道", "乡镇街道", "区县", "地区", "行政区")
POP_COLUMNS = ("population", "pop", "pop_2020", "人口", "常住人口", "人口数", "总人口")


def provenance_label(source: str, lang: Lang = "zh") -> str:
    """Human label of a provenance key, e.g. ``census2020`` → ``2020年人口普查``.

    The labels are the texts ``population.source.<key>``; a combined source
    (``census2020+modelled``) lists each part.
    """
    parts = [p for p in str(source).split("+") if p]
    return " + ".join(label("population.source", p, lang) for p in parts) or source


def combine_sources(values: Iterable[object]) -> str:
    """Provenance of a sum of figures: the distinct keys joined with ``+``.

    ``["census2020", "modelled", "census2020"]`` → ``"census2020+modelled"``;
    missing figures (``none``) do not count; nothing at all gives ``"none"``.
    """
    parts = sorted(
        {p for v in values if isinstance(v, str) for p in v.split("+") if p and p != "none"}
    )
    return "+".join(parts) if parts else "none"


@functools.cache
def _census_cached() -> pd.DataFrame:
    df = pd.read_csv(data_dir() / "census_2020_county.csv", dtype=str, keep_default_na=False)
    df["pop_2020"] = df["pop_2020"].astype(np.int64)
    return df


def census_2020() -> pd.DataFrame:
    """The embedded 2020 census table (county-level units of the seed prefectures).

    Columns: ``adcode``, ``name``, ``pop_2020``, ``prefecture``,
    ``prefecture_adcode``, ``kind`` (``county``/``zone``), ``aliases``, ``note``,
    ``source``.
    """
    return _census_cached().copy()


def census_for_prefecture(prefecture_adcode: str) -> pd.DataFrame:
    """Census rows of one prefecture (empty for prefectures GridPlan has no census for)."""
    df = census_2020()
    return df[df["prefecture_adcode"] == prefecture_adcode].reset_index(drop=True)


def normalise_name(name: object) -> str:
    """Normalise a Chinese unit name for matching (strip spaces and brackets)."""
    s = re.sub(r"\s+", "", str(name or ""))
    return re.sub(r"[（(].*?[)）]", "", s)


def _find_column(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    col, _ = find_column(columns, wanted)
    return None if col is None else str(col)


def parse_population_table(df: pd.DataFrame) -> pd.DataFrame:
    """Validate an uploaded population table and return ``key``, ``name``, ``population``.

    The table is keyed by a code column (6-digit adcode, 9- or 12-digit
    township code) or a name column, and has a population column.  Every
    problem is reported together.

    Raises
    ------
    InputError
        With code ``table.missing_key``, ``table.missing_population`` or
        ``table.bad_values``.
    """
    cols = [str(c) for c in df.columns]
    key_col = _find_column(cols, KEY_COLUMNS)
    name_col = _find_column(cols, NAME_COLUMNS)
    pop_col = _find_column(cols, POP_COLUMNS)
    listing = ", ".join(cols)
    if key_col is None and name_col is None:
        raise InputError(
            f"population table needs a code or name column (found: {listing})",
            code="table.missing_key",
            params={"columns": listing},
        )
    if pop_col is None:
        raise InputError(
            f"population table needs a population column (found: {listing})",
            code="table.missing_population",
            params={"columns": listing},
        )
    raw = df[pop_col].astype(str).str.replace(",", "", regex=False).str.strip()
    pop = pd.to_numeric(raw, errors="coerce")
    bad = pop.isna() | (pop < 0)
    if bad.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad.to_numpy())[:20])
        raise InputError(
            f"population is not a non-negative number in rows {rows}",
            code="table.bad_values",
            params={"rows": rows},
        )
    keys = (
        df[key_col].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
        if key_col
        else pd.Series([""] * len(df), index=df.index)
    )
    names = (
        df[name_col].map(normalise_name) if name_col else pd.Series([""] * len(df), index=df.index)
    )
    return pd.DataFrame(
        {"key": keys.to_numpy(), "name": names.to_numpy(), "population": pop.to_numpy()}
    )


def match_population(units: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Match a parsed population table to units by code, then by name.

    Parameters
    ----------
    units
        Needs ``unit_id`` and ``name``.
    table
        Output of :func:`parse_population_table`.

    Returns
    -------
    (pandas.Series, list of str)
        Population per ``unit_id`` (only matched units) and the rows that
        matched nothing.
    """
    by_code = {str(u): str(u) for u in units["unit_id"]}
    # 12-digit township codes (…000) and 9-digit codes name the same unit
    for u in units["unit_id"]:
        s = str(u)
        if len(s) == 9:
            by_code[s + "000"] = s
    by_name: dict[str, list[str]] = {}
    for uid, nm in zip(units["unit_id"], units["name"], strict=True):
        by_name.setdefault(normalise_name(nm), []).append(str(uid))
    matched: dict[str, float] = {}
    unmatched: list[str] = []
    for key, name, pop in table[["key", "name", "population"]].itertuples(index=False):
        uid = by_code.get(key) if key else None
        if uid is None and name and len(by_name.get(name, [])) == 1:
            uid = by_name[name][0]
        if uid is None:
            unmatched.append(name or key)
        else:
            matched[uid] = float(pop)
    return pd.Series(matched, dtype=float), unmatched
