"""The census check of a prefecture: its units' sum against the 2020 census total."""

from __future__ import annotations

import streamlit as st

from gridplan.i18n import t
from gridplan.plan.census import census_check
from gridplan.plan.units import UnitSet
from ui.state import lang
from ui.texts import join_list, md_text

#: Units a message names before it says "…".
LISTED = 8


def _names(items: list[dict[str, str]]) -> str:
    names = [md_text(i["name"]) for i in items[:LISTED]]
    return join_list(names) + (" …" if len(items) > LISTED else "")


def census_check_panel(unit_set: UnitSet) -> None:
    """Say whether the units add up to the census total, and which units have no figure."""
    check = census_check(unit_set.units, unit_set.prefecture.adcode)
    place = md_text(unit_set.prefecture.name)
    total = check["prefecture_total"]
    if total is None:
        st.warning(t("census_check.no_census", lang(), place=place))
        return
    key = "census_check.equal" if check["difference"] == 0 else "census_check.differs"
    params = {"units_sum": f"{check['units_sum']:,}", "total": f"{total:,}"}
    st.caption(t(key, lang(), place=place, difference=f"{check['difference']:+,}", **params))
    missing, former = check["units_without_figure"], check["census_units_without_boundary"]
    if missing:
        st.info(t("census_check.without_figure", lang(), n=len(missing), names=_names(missing)))
    if former:
        st.caption(t("census_check.former", lang(), n=len(former), names=_names(former)))
