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

Uploaded figures (a table by unit, settlement points) are checked before they
replace the current ones.  The impossible is refused with its spreadsheet rows
(:func:`value_problems`: no number, infinite, negative, more people than China;
:func:`match_table`: one unit given different figures, a table naming no unit).
The implausible becomes a warning the planner must confirm
(:func:`figure_warnings`, :func:`total_warning`, :func:`confirm`): a unit more
than :data:`~gridplan.settings.census_ratio_warn` times its census figure or
less than its inverse, denser than any real place
(:func:`density_limit`), a total far above the prefecture's census, rows that
match no unit or several.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridplan import settings
from gridplan._types import BoolArray, FloatArray, IntArray
from gridplan._validate import Problems
from gridplan.errors import InputError
from gridplan.i18n import Lang, label, t
from gridplan.inputs.columns import column_numbers, find_column
from gridplan.settings import data_dir

Provenance = Literal["census2020", "uploaded", "modelled", "none"]

# the headers statistics bureaus and health commissions put on their tables
KEY_COLUMNS = (
    "adcode", "code", "code9", "区划代码", "行政区划代码", "代码", "统计用区划代码",
    "区划编码", "行政区划编码", "区县代码", "县区代码", "乡镇代码", "街道代码", "乡镇街道代码",
)  # fmt: skip
NAME_COLUMNS = (
    "name", "名称", "单位", "乡镇", "街道", "乡镇街道", "区县", "地区", "行政区", "区县名称",
    "县区", "县区名称", "乡镇名称", "街道名称", "乡镇街道名称", "行政区名称", "单位名称",
)  # fmt: skip
POP_COLUMNS = (
    "population", "pop", "pop_2020", "人口", "常住人口", "人口数", "总人口", "常住人口数",
    "年末常住人口", "人口总数",
)  # fmt: skip


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
    df["age65plus"] = df["age65plus"].astype(np.int64)
    for col in ("share_0_14_pct", "share_65plus_pct"):
        df[col] = df[col].astype(float)
    return df


def census_2020() -> pd.DataFrame:
    """The embedded 2020 census table: every county-level unit and functional zone of China.

    Columns: ``adcode`` (zones without a code: ``<prefecture_adcode>Z<nn>``),
    ``name``, ``pop_2020``, ``prefecture``, ``prefecture_adcode`` (the boundary
    layer's prefecture), ``kind`` (``county``/``zone``), ``aliases`` (boundary
    codes that keep this row's code as unit id), ``note``, ``source``,
    ``age65plus`` (residents 65 and over), ``share_0_14_pct``,
    ``share_65plus_pct``.  Built by ``scripts/build_census.py``; the rows of a
    prefecture add up to its census total.
    """
    return _census_cached().copy()


def census_for_prefecture(prefecture_adcode: str) -> pd.DataFrame:
    """Census rows of one prefecture (empty where the 2020 census has none: 台湾, 香港, 澳门)."""
    df = census_2020()
    return df[df["prefecture_adcode"] == prefecture_adcode].reset_index(drop=True)


def normalise_name(name: object) -> str:
    """Normalise a Chinese unit name for matching (strip spaces and brackets)."""
    s = re.sub(r"\s+", "", str(name or ""))
    return re.sub(r"[（(].*?[)）]", "", s)


def _find_column(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    col, _ = find_column(columns, wanted)
    return None if col is None else str(col)


# --- checks of uploaded figures: the impossible refused, the implausible confirmed ---------

#: Rows, units or items one problem lists before it says "…" (the count is given too).
LISTED = 10


def table_problems() -> Problems:
    """The collector of what makes a population table unusable (hard errors)."""
    return Problems("population.table_invalid", "the population table cannot be used")


def warning_problems() -> Problems:
    """The collector of implausible figures: warnings the planner must confirm."""
    return Problems("population.unconfirmed", "the uploaded population needs confirmation")


def rows_text(rows: Sequence[int] | NDArray[Any]) -> str:
    """Spreadsheet rows as a message lists them: the first :data:`LISTED`, then ``…``."""
    listed = [int(r) for r in list(rows)[:LISTED]]
    return ", ".join(map(str, listed)) + (" …" if len(rows) > LISTED else "")


def people(value: float) -> str:
    """A number of people as messages show it (``1,364,247``)."""
    return f"{value:,.0f}"


def _cell(value: Any) -> str:
    """A cell as a message quotes it: one line, at most 30 characters."""
    text = " ".join(str(value).split())
    return text[:30] + ("…" if len(text) > 30 else "")


def _rows_problem(
    problems: Problems,
    code: str,
    text: str,
    mask: BoolArray,
    rows: IntArray,
    raw: NDArray[Any],
    **extra: Any,
) -> None:
    """One problem ``code`` naming the rows of ``mask`` and the first offending cell.

    ``text`` is the English description (``"population is negative"``).
    """
    hit = np.flatnonzero(mask)
    if len(hit) == 0:
        return
    problems.add(
        code,
        f"rows {rows_text(rows[hit])}: {text} (e.g. {_cell(raw[hit[0]])!r})",
        rows=rows_text(rows[hit]),
        n=len(hit),
        example=_cell(raw[hit[0]]),
        **extra,
    )


def value_problems(
    problems: Problems, values: FloatArray, bad: BoolArray, raw: NDArray[Any], rows: IntArray
) -> BoolArray:
    """The impossible populations of a column, one problem per kind listing its rows.

    Impossible: text that is no number, infinite or overflowing numbers
    (``inf``, ``1e400``), negative numbers, and more people than
    :data:`gridplan.settings.max_people_per_row`.

    Parameters
    ----------
    problems
        Collector the problems are added to.
    values, bad
        The column as numbers and whether each is there but no finite number
        (:func:`gridplan.inputs.columns.column_numbers`).
    raw
        The cells as written (quoted in the messages).
    rows
        Spreadsheet row of each cell.

    Returns
    -------
    numpy.ndarray
        Which rows are impossible.
    """
    limit = settings.max_people_per_row
    with np.errstate(invalid="ignore"):
        not_number = bad & np.isnan(values)
        not_finite = bad & np.isinf(values)
        negative = np.isfinite(values) & (values < 0)
        too_large = np.isfinite(values) & (values > limit)
    _rows_problem(problems, "population.rows.not_number", "no number", not_number, rows, raw)
    _rows_problem(
        problems, "population.rows.not_finite", "infinite or too large a number", not_finite,
        rows, raw,
    )  # fmt: skip
    _rows_problem(problems, "population.rows.negative", "negative", negative, rows, raw)
    _rows_problem(
        problems, "population.rows.too_large", f"more than {people(limit)} people", too_large,
        rows, raw, limit=people(limit),
    )  # fmt: skip
    return not_number | not_finite | negative | too_large


def parse_population_table(df: pd.DataFrame, problems: Problems | None = None) -> pd.DataFrame:
    """Validate an uploaded population table and return ``key``, ``name``, ``population``, ``row``.

    The table is keyed by a code column (6-digit adcode, 9- or 12-digit
    township code) or a name column, and has a population column.  ``row`` is
    the spreadsheet row (the header is row 1).

    Parameters
    ----------
    df
        The table as read (:func:`gridplan.inputs.tables.read_table_upload`).
    problems
        A collector (:func:`table_problems`) to add the impossible values to;
        their population is then NaN.  Without one, they are raised here.

    Raises
    ------
    InputError
        ``table.missing_key`` or ``table.missing_population`` (no such
        column); without ``problems``, ``population.table_invalid`` listing
        the rows without a population, with text that is no number, with
        an infinite, negative or impossibly large number.
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
    collector = table_problems() if problems is None else problems
    frame = df.reset_index(drop=True)
    rows = np.arange(len(frame)) + 2
    raw = frame.iloc[:, cols.index(pop_col)]
    values, missing, bad = column_numbers(raw)
    cells = raw.to_numpy(dtype=object)
    _rows_problem(collector, "population.rows.missing", "no population", missing, rows, cells)
    usable = ~missing & ~value_problems(collector, values, bad, cells, rows)
    if problems is None:
        collector.raise_if_any()
    return pd.DataFrame(
        {
            "key": _texts(frame, cols, key_col, _code_text),
            "name": _texts(frame, cols, name_col, normalise_name),
            "population": np.where(usable, values, np.nan),
            "row": rows,
        }
    )


def _code_text(value: object) -> str:
    """A code cell as text: ``130102.0`` (Excel numbers) → ``130102``."""
    return re.sub(r"\.0$", "", str(value).strip())


def _texts(
    frame: pd.DataFrame, cols: list[str], col: str | None, clean: Callable[[object], str]
) -> NDArray[Any]:
    """The cleaned text of column ``col`` per row; ``""`` for blank cells or no column."""
    if col is None:
        return np.full(len(frame), "", dtype=object)
    series = frame.iloc[:, cols.index(col)]
    return np.array([clean(v) if pd.notna(v) else "" for v in series], dtype=object)


@dataclass
class TableMatch:
    """How the rows of a population table matched the units.

    Attributes
    ----------
    values
        Population per matched ``unit_id``.
    rows
        Spreadsheet rows of each matched unit.
    unmatched
        ``(row, code or name)`` of the rows that match no unit.
    ambiguous
        ``(row, name, unit ids)`` of the rows whose name several units have.
    collapsed
        ``(unit_id, rows)`` of exact repeats (same unit, same figure), counted once.
    """

    values: pd.Series
    rows: dict[str, list[int]] = field(default_factory=dict)
    unmatched: list[tuple[int, str]] = field(default_factory=list)
    ambiguous: list[tuple[int, str, list[str]]] = field(default_factory=list)
    collapsed: list[tuple[str, list[int]]] = field(default_factory=list)


def _code_lookup(units: pd.DataFrame) -> dict[str, str]:
    """Unit id of each code a table may use for it."""
    by_code = {str(u): str(u) for u in units["unit_id"]}
    for u in units["unit_id"]:
        s = str(u)
        if len(s) == 9:  # 12-digit township codes (…000) and 9-digit codes name the same unit
            by_code[s + "000"] = s
        elif len(s) == 6:  # 12-digit county codes end in six zeros
            by_code[s + "000000"] = s
    return by_code


def _unit_of(
    key: str, name: str, by_code: dict[str, str], by_name: dict[str, list[str]]
) -> str | list[str] | None:
    """The unit a row names: by code, else by a name one unit has; the ids if several have it."""
    uid = by_code.get(key) if key else None
    if uid is not None or not name:
        return uid
    found = by_name.get(name, [])
    return found[0] if len(found) == 1 else (found or None)


def match_table(
    units: pd.DataFrame, table: pd.DataFrame, problems: Problems, place: str = ""
) -> TableMatch:
    """Match a parsed population table to units by code, then by name.

    Rows naming the same unit with different figures are a problem (the
    spreadsheet rows and figures named); exact repeats are counted once.  A
    table of which no row names a unit is a problem that gives examples of
    the units' codes and names and of what the table has.

    Parameters
    ----------
    units
        Needs ``unit_id`` and ``name``.
    table
        Output of :func:`parse_population_table` (rows with a NaN population
        were reported there and are skipped).
    problems
        Collector of the hard problems (:func:`table_problems`).
    place
        The prefecture's name, for the messages.
    """
    by_code = _code_lookup(units)
    by_name: dict[str, list[str]] = {}
    for uid, nm in zip(units["unit_id"], units["name"], strict=True):
        by_name.setdefault(normalise_name(nm), []).append(str(uid))
    match = TableMatch(values=pd.Series(dtype=float))
    hits: dict[str, list[tuple[int, float]]] = {}
    for key, name, pop, row in table[["key", "name", "population", "row"]].itertuples(index=False):
        if np.isnan(pop):
            continue
        found = _unit_of(key, name, by_code, by_name)
        if isinstance(found, list):
            match.ambiguous.append((int(row), name, found))
        elif found is None:
            match.unmatched.append((int(row), key or name))
        else:
            hits.setdefault(found, []).append((int(row), float(pop)))
    names = dict(zip(units["unit_id"].astype(str), units["name"], strict=True))
    values: dict[str, float] = {}
    for uid, got in hits.items():
        match.rows[uid] = [r for r, _ in got]
        figures = sorted({v for _, v in got})
        if len(figures) > 1:
            problems.add(
                "population.duplicate_conflict",
                f"rows {rows_text(match.rows[uid])} give {uid} different figures",
                unit=f"{names[uid]} ({uid})",
                rows=rows_text(match.rows[uid]),
                values=" / ".join(people(v) for _, v in got[:LISTED]),
            )
        elif len(got) > 1:
            match.collapsed.append((uid, match.rows[uid]))
        values[uid] = got[0][1]
    match.values = pd.Series(values, dtype=float)
    if not hits and (match.unmatched or match.ambiguous):
        _no_match(problems, units, table, place)
    return match


def _no_match(problems: Problems, units: pd.DataFrame, table: pd.DataFrame, place: str) -> None:
    """The problem of a table none of whose rows names a unit: what was expected, what it has."""
    expected = [f"{u} {n}" for u, n in zip(units["unit_id"], units["name"], strict=True)]
    found = [k or n for k, n in zip(table["key"], table["name"], strict=True) if k or n]
    problems.add(
        "population.no_match",
        f"no row of the table names a unit of {place} (e.g. {', '.join(expected[:5])})",
        place=place,
        n=len(table),
        expected="、".join(expected[:5]),
        found="、".join(_cell(f) for f in found[:5]) or "—",
    )


def match_population(units: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Match a parsed population table to units (:func:`match_table`), raising its problems.

    Returns
    -------
    (pandas.Series, list of str)
        Population per ``unit_id`` (only matched units) and the codes or
        names of the rows that matched no unit or several.
    """
    problems = table_problems()
    match = match_table(units, table, problems)
    problems.raise_if_any()
    return match.values, [k for _, k in match.unmatched] + [n for _, n, _ in match.ambiguous]


# --- plausibility: warnings the planner confirms ---------------------------------------------


def density_limit(level: str) -> float:
    """Residents per km² above which a unit of ``level`` is implausible (settings)."""
    if level == "township":
        return settings.max_density_township_per_km2
    return settings.max_density_county_per_km2


def figure_warnings(warnings: Problems, figures: pd.DataFrame) -> None:
    """Warnings for unit figures far from the census or denser than any real place.

    Parameters
    ----------
    warnings
        Collector (:func:`warning_problems`).
    figures
        One row per unit figure: ``unit`` (name and code as shown), ``level``,
        ``rows`` (as :func:`rows_text` gives them), ``value``, ``census`` (NaN
        if none), ``area_km2`` (NaN if unknown) and ``check_low`` (whether a
        figure far below the census is implausible too: not for a partial
        count such as a point table).
    """
    ratio = settings.census_ratio_warn
    value, census = figures["value"].to_numpy(float), figures["census"].to_numpy(float)
    area = figures["area_km2"].to_numpy(float)
    limits = np.array([density_limit(lv) for lv in figures["level"]], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        high = value > ratio * census
        low = figures["check_low"].to_numpy(bool) & (value * ratio < census)
        density = np.where(area > 0, value / area, np.nan)
        dense = density > limits
    for i in _listed(warnings, high):
        r = figures.iloc[i]
        warnings.add(
            "population.warn.census_high",
            f"{r['unit']}: {people(value[i])}, {value[i] / census[i]:.0f} times the census",
            unit=r["unit"], rows=r["rows"], value=people(value[i]), census=people(census[i]),
            ratio=f"{value[i] / census[i]:,.0f}",
        )  # fmt: skip
    for i in _listed(warnings, low):
        r = figures.iloc[i]
        warnings.add(
            "population.warn.census_low",
            f"{r['unit']}: {people(value[i])}, under a tenth of the census {people(census[i])}",
            unit=r["unit"], rows=r["rows"], value=people(value[i]), census=people(census[i]),
            ratio=f"{ratio:g}",
        )  # fmt: skip
    for i in _listed(warnings, dense):
        r = figures.iloc[i]
        warnings.add(
            "population.warn.density",
            f"{r['unit']}: {people(density[i])} people per km²",
            unit=r["unit"], rows=r["rows"], value=people(value[i]), area=f"{area[i]:,.2f}",
            density=people(density[i]), limit=people(limits[i]),
        )  # fmt: skip


def _listed(warnings: Problems, mask: NDArray[np.bool_]) -> list[int]:
    """The first :data:`LISTED` positions of ``mask``; a ``population.warn.more`` for the rest."""
    hit = np.flatnonzero(mask)
    if len(hit) > LISTED:
        warnings.add(
            "population.warn.more",
            f"{len(hit) - LISTED} more units like the ones above",
            n=len(hit) - LISTED,
        )
    return [int(i) for i in hit[:LISTED]]


def total_warning(warnings: Problems, total: float, census_total: float, place: str) -> None:
    """A warning when ``total`` is over :data:`~gridplan.settings.total_ratio_warn` × the census."""
    ratio = settings.total_ratio_warn
    if census_total > 0 and total > ratio * census_total:
        warnings.add(
            "population.warn.total",
            f"the total {people(total)} is {total / census_total:.1f} times {place}'s census",
            place=place,
            total=people(total),
            census=people(census_total),
            ratio=f"{total / census_total:,.1f}",
        )


def confirm(warnings: Problems, accept: bool) -> list[dict[str, Any]]:
    """The warnings (code and parameters each) once the planner accepts them.

    Raises
    ------
    InputError
        ``population.unconfirmed`` listing the warnings, unless ``accept``
        (the dashboard's confirm button, the CLI's ``--accept-warnings``).
    """
    if warnings and not accept:
        raise warnings.error()
    return [{"code": c, **p} for c, _, p in warnings.items]


def message_texts(items: Sequence[dict[str, Any]], lang: Lang = "zh") -> list[str]:
    """Accepted warnings or notes (code and parameters each) as texts in ``lang``."""
    out = []
    for item in items:
        params = dict(item)
        out.append(t(str(params.pop("code")), lang, **params))
    return out
