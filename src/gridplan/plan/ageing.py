"""Residents aged 65 and over per planning unit, and the age shares.

The 2020 census gives every county-level unit its residents 65+ (``age65plus``)
and the shares of residents under 15 and 65+ (``share_0_14_pct``,
``share_65plus_pct``).  :func:`add_age_columns` carries them onto the planning
units with a provenance of their own (``age65plus_source``):

``census2020``
    A county or zone with its census population: its census 65+.
``modelled``
    A township: its county's 65+ spread in proportion to the township's
    modelled population (the county's 65+ share applied).
``uploaded``
    The 65+ column of an uploaded population table.
``census_share``
    An uploaded population without a 65+ figure: the unit's (for a township
    its county's) census 65+ share applied to it.

A unit without a census figure has none (NaN, source ``none``): never 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridplan._validate import Problems
from gridplan.inputs.columns import column_numbers, find_column
from gridplan.plan.population import TableMatch, census_for_prefecture, rows_text

#: The age columns every unit table carries (after ``population_source``).
AGE_COLUMNS = ["age65plus", "age65plus_source", "share_0_14_pct", "share_65plus_pct"]

#: Headers of a 65+ column in an uploaded population table (statistics bureaus' wording).
AGE65_COLUMNS = (
    "age65plus", "age_65plus", "pop_65plus", "65+", "65岁及以上", "65岁及以上人口",
    "65岁以上", "65岁以上人口", "65岁及以上人口数", "老年人口", "65岁及以上老年人口",
)  # fmt: skip

_CENSUS_AGE = ("age65plus", "share_0_14_pct", "share_65plus_pct")


def census_ages(prefecture_adcode: str) -> pd.DataFrame:
    """The census age figures of a prefecture's units, indexed by adcode.

    Columns ``pop_2020``, ``age65plus``, ``share_0_14_pct``,
    ``share_65plus_pct`` and ``ratio65`` (65+ over residents), NaN where the
    census file has no figure (or no such column).
    """
    census = census_for_prefecture(prefecture_adcode).set_index("adcode")
    out = pd.DataFrame(index=census.index.astype(str))
    for col in ("pop_2020", *_CENSUS_AGE):
        values = census[col] if col in census.columns else pd.Series(np.nan, census.index)
        out[col] = pd.to_numeric(values, errors="coerce")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = out["age65plus"] / out["pop_2020"]
    out["ratio65"] = ratio.where(out["pop_2020"] > 0)
    return out


def add_age_columns(
    units: pd.DataFrame, prefecture_adcode: str, uploaded: pd.Series | None = None
) -> pd.DataFrame:
    """``units`` with :data:`AGE_COLUMNS` added (see the module's rules).

    Parameters
    ----------
    units
        Planning units with ``unit_id``, ``level``, ``county_adcode``,
        ``population`` and ``population_source``.
    prefecture_adcode
        The prefecture whose census is read.
    uploaded
        Residents 65+ per ``unit_id`` from an uploaded table (:func:`uploaded_age65`).
    """
    ages = census_ages(prefecture_adcode)
    uploaded = pd.Series(dtype=float) if uploaded is None else uploaded
    out = units.copy()
    uid = out["unit_id"].astype(str)
    # a township takes its county's shares; a county or zone its own
    parent = np.where(out["level"] == "township", out["county_adcode"].astype(str), uid)
    pop = out["population"].to_numpy(dtype=float)
    source = out["population_source"].astype(str).to_numpy()
    ratio = ages["ratio65"].reindex(parent).to_numpy(dtype=float)
    census65 = ages["age65plus"].reindex(uid).to_numpy(dtype=float)
    if "age65plus" in out.columns:  # the census match's figure: merged units sum theirs
        matched = pd.to_numeric(out["age65plus"], errors="coerce").to_numpy(dtype=float)
        census65 = np.where(np.isfinite(matched), matched, census65)
    given = uploaded.reindex(uid).to_numpy(dtype=float)
    age = np.where(source == "census2020", census65, pop * ratio)
    age = np.where(np.isfinite(given), given, age)
    out["age65plus"] = np.where(np.isfinite(pop), age, np.nan)
    out["age65plus_source"] = _age_sources(source, np.isfinite(given), out["age65plus"])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pop > 0, 100.0 * out["age65plus"].to_numpy(float) / pop, np.nan)
    out["share_65plus_pct"] = share
    out["share_0_14_pct"] = ages["share_0_14_pct"].reindex(parent).to_numpy(dtype=float)
    return out


def _age_sources(source: np.ndarray, given: np.ndarray, age: pd.Series) -> np.ndarray:
    """The provenance of each unit's 65+ figure."""
    from_share = np.where(
        np.char.find(source.astype(str), "uploaded") >= 0, "census_share", "modelled"
    )
    out = np.where(source == "census2020", "census2020", from_share)
    out = np.where(given, "uploaded", out)
    return np.where(age.notna().to_numpy(), out, "none")


def uploaded_age65(table: pd.DataFrame, match: TableMatch, population: pd.Series) -> pd.Series:
    """Residents 65+ per matched unit from a population table's optional 65+ column.

    Parameters
    ----------
    table
        The table as read (the header is spreadsheet row 1).
    match
        How its rows matched the units (:func:`gridplan.plan.population.match_table`).
    population
        The uploaded population per unit (``match.values``).

    Returns
    -------
    pandas.Series
        65+ per ``unit_id``; empty without a 65+ column.  A blank cell leaves
        the unit to the census share.

    Raises
    ------
    InputError
        ``ageing.table_invalid`` listing the rows whose 65+ figure is no
        number, negative or more than the row's population.
    """
    cols = [str(c) for c in table.columns]
    col, _ = find_column(cols, AGE65_COLUMNS)
    if col is None:
        return pd.Series(dtype=float)
    values, missing, bad = column_numbers(
        table.iloc[:, cols.index(str(col))].reset_index(drop=True)
    )
    out: dict[str, float] = {}
    wrong: dict[str, list[int]] = {"not_number": [], "negative": [], "over": []}
    for uid, rows in match.rows.items():
        i = rows[0] - 2
        if missing[i]:
            continue
        v = float(values[i])
        kind = _age_problem(v, bool(bad[i]), float(population.get(uid, np.nan)))
        if kind is None:
            out[uid] = v
        else:
            wrong[kind].append(rows[0])
    _raise_age_problems(wrong, str(col))
    return pd.Series(out, dtype=float)


def _age_problem(value: float, bad: bool, population: float) -> str | None:
    """What is wrong with one 65+ figure, or ``None``."""
    if bad or not np.isfinite(value):
        return "not_number"
    if value < 0:
        return "negative"
    if np.isfinite(population) and value > population:
        return "over"
    return None


#: Each kind of impossible 65+ figure: its problem code and English text.
_AGE_PROBLEMS: dict[str, tuple[str, str]] = {
    "not_number": ("ageing.rows.not_number", "the 65+ figure is no number"),
    "negative": ("ageing.rows.negative", "the 65+ figure is negative"),
    "over": ("ageing.rows.over_population", "more residents 65+ than residents"),
}


def _raise_age_problems(wrong: dict[str, list[int]], column: str) -> None:
    """One error listing every row with an impossible 65+ figure."""
    problems = Problems("ageing.table_invalid", "the 65+ column of the population table")
    for kind, (code, text) in _AGE_PROBLEMS.items():
        if wrong[kind]:
            rows = rows_text(sorted(wrong[kind]))
            problems.add(code, f"rows {rows}: {text}", rows=rows, n=len(wrong[kind]), column=column)
    problems.raise_if_any()
