"""The national prefecture picker: find any of China's prefectures by name, pinyin or initials.

Two ways in, both over :func:`gridplan.inputs.boundaries.list_prefectures_pinyin`:

- the sidebar's prefecture selectbox shows each prefecture as "南京市 · 江苏省 ·
  nanjing nj"; Streamlit filters a selectbox by its option labels as the planner
  types, so "nj", "nanjing" and "南京" all find it (:func:`prefecture_labels`);
- the overview's picker (:func:`prefecture_picker`) searches the same way on the
  server (:func:`match_prefectures`, ranked: exact, then prefix, then substring,
  then the province) or browses a province's prefectures, and a click selects one.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from gridplan import settings
from gridplan.inputs.boundaries import list_prefectures_pinyin
from ui import state
from ui.texts import md_text, tr

#: What a search ignores: spaces, apostrophes (xi'an) and the separators of a pasted label.
_NOISE = re.compile(r"[\s'’·,，.。()（）-]+")


def option_label(name: str, province: str, pinyin: str, initials: str) -> str:
    """A prefecture as the sidebar lists it: ``南京市 · 江苏省 · nanjing nj``.

    The pinyin and initials are in the label so that Streamlit's type-to-filter finds
    the prefecture by them; a name without pinyin (a newer boundary layer) keeps its
    name and province.
    """
    if not pinyin:
        return tr("prefecture_option_plain", name=name, province=province)
    return tr("prefecture_option", name=name, province=province, pinyin=pinyin, initials=initials)


def prefecture_labels() -> dict[str, str]:
    """Every prefecture's adcode → its sidebar label, in adcode order."""
    table = list_prefectures_pinyin()
    columns = ("adcode", "name", "province", "pinyin", "initials")
    rows = zip(*(table[c].astype(str) for c in columns), strict=True)
    return {adcode: option_label(*spelt) for adcode, *spelt in rows}


def normalise_query(text: str) -> str:
    """A search as matched: lower case, without spaces or punctuation, at most
    :data:`gridplan.settings.picker_query_max_chars` characters."""
    return _NOISE.sub("", str(text)[: settings.picker_query_max_chars]).lower()


def match_prefectures(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """The prefectures a search finds, best first.

    Ranks: 0 the name, pinyin or initials equal the query ("nj", "nanjing",
    "南京市"); 1 one of them starts with it ("南京", "nanj", "cxy"); 2 the name
    or pinyin contains it ("京", "jing"); 3 the province matches ("江苏",
    "jiangsu", "js"), so a province's name lists its prefectures.  Ties keep the
    adcode order.

    Parameters
    ----------
    table
        :func:`~gridplan.inputs.boundaries.list_prefectures_pinyin`.
    query
        What the planner typed (normalised by :func:`normalise_query`).

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``table`` with a ``rank`` column; empty for an
        empty query or no match.
    """
    q = normalise_query(query)
    if not q:
        return table.iloc[0:0].assign(rank=pd.Series(dtype=int))
    name, province = table["name"], table["province"]
    spelt = (table["pinyin"], table["initials"])
    tiers = [
        (name == q) | (spelt[0] == q) | (spelt[1] == q),
        name.str.startswith(q) | spelt[0].str.startswith(q) | spelt[1].str.startswith(q),
        name.str.contains(q, regex=False) | spelt[0].str.contains(q, regex=False),
        province.str.contains(q, regex=False)
        | table["province_pinyin"].str.startswith(q)
        | (table["province_initials"] == q),
    ]
    rank = pd.Series(len(tiers), index=table.index)
    for level, hit in reversed(list(enumerate(tiers))):
        rank[hit] = level
    found = table.assign(rank=rank)[rank < len(tiers)]
    return found.sort_values(["rank", "adcode"], kind="stable")


def prefecture_picker(current: str) -> None:
    """Search or browse every prefecture of China; a click makes it the current one.

    Parameters
    ----------
    current
        The adcode of the prefecture the pages show now.
    """
    table = list_prefectures_pinyin()
    with st.expander(tr("picker_title"), expanded=False):
        left, right = st.columns([3, 2])
        query = left.text_input(
            tr("picker_search"),
            key="picker_query",
            max_chars=settings.picker_query_max_chars,
            placeholder=tr("picker_search_hint"),
        )
        with right:
            province = _province_choice(table, current)
        if normalise_query(query):
            shown, national = _search_results(table, query), True
        else:
            shown, national = table[table["province"] == province], False
        _pick(shown, current, national, key=f"picker_pick_{current}_{province}_{query}")


def _province_choice(table: pd.DataFrame, current: str) -> str:
    """The province to browse: the current prefecture's until the planner picks another.

    The widget's key holds the current prefecture, so a prefecture chosen elsewhere
    (the sidebar) brings the browser back to its province.
    """
    provinces = list(dict.fromkeys(table["province"]))
    here = table.loc[table["adcode"] == current, "province"]
    index = provinces.index(here.iloc[0]) if not here.empty else 0
    return str(
        st.selectbox(
            tr("picker_province"), provinces, index=index, key=f"picker_province_{current}"
        )
    )


def _search_results(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """The best matches of ``query``, with a note when there are none or too many to show."""
    found = match_prefectures(table, query)
    if found.empty:
        st.caption(tr("picker_no_match", query=md_text(normalise_query(query))))
    elif len(found) > settings.picker_max_matches:
        st.caption(tr("picker_more", shown=settings.picker_max_matches, total=len(found)))
    return found.head(settings.picker_max_matches)


def _pick(shown: pd.DataFrame, current: str, national: bool, key: str) -> None:
    """The prefectures ``shown`` as buttons; a click selects one and redraws every page."""
    if shown.empty:
        return
    names = dict(zip(shown["adcode"], shown["name"], strict=True))
    provinces = dict(zip(shown["adcode"], shown["province"], strict=True))

    def label(adcode: str) -> str:
        if national:
            return tr("picker_result", name=names[adcode], province=provinces[adcode])
        return names[adcode]

    picked = st.pills(
        tr("picker_pick"),
        list(names),
        selection_mode="single",
        default=current if current in names else None,
        format_func=label,
        key=key,
    )
    if picked is not None and picked != current:
        state.choose_prefecture(str(picked))
        st.rerun()
