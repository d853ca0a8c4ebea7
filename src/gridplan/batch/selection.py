"""Which prefectures a batch runs: a province, a list of names or adcodes, or all."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gridplan.errors import InputError
from gridplan.inputs.boundaries import list_prefectures, resolve_prefecture


def _province_rows(prefs: pd.DataFrame, province: str) -> pd.DataFrame:
    """The prefectures of ``province`` (full name, or its start: 河北 for 河北省)."""
    q = province.strip()
    names = sorted(set(prefs["province"]))
    hit = [p for p in names if p == q] or [p for p in names if q and p.startswith(q)]
    if len(hit) != 1:
        raise InputError(
            f"province not found: {q!r}",
            code="batch.unknown_province",
            params={"query": q, "examples": "、".join(names[:4])},
        )
    return prefs[prefs["province"] == hit[0]]


def select_prefectures(
    *,
    province: str | None = None,
    prefectures: Sequence[str] = (),
    everything: bool = False,
) -> pd.DataFrame:
    """The prefectures (``adcode``, ``name``, ``province``) a batch runs, in the boundary
    layer's order, each once.

    Parameters
    ----------
    province
        Every prefecture of this province.
    prefectures
        Names or adcodes (``石家庄市``, ``130100``, ``石家庄``).
    everything
        Every prefecture of China (370 with 台湾省, 香港 and 澳门, which have no census).

    Raises
    ------
    InputError
        Nothing or more than one way chosen (``batch.selection``), an unknown province
        (``batch.unknown_province``) or prefecture (``unknown_region``).
    """
    chosen = sum([province is not None, bool(prefectures), everything])
    if chosen != 1:
        raise InputError(
            "give exactly one of --province, --prefectures or --all", code="batch.selection"
        )
    prefs = list_prefectures()
    if everything:
        return prefs.reset_index(drop=True)
    if province is not None:
        return _province_rows(prefs, province).reset_index(drop=True)
    codes = [resolve_prefecture(q).adcode for q in prefectures if q.strip()]
    return prefs[prefs["adcode"].isin(codes)].reset_index(drop=True)
