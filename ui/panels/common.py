"""Blocks several pages share: error messages, the plan check, metric rows."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from gridplan.i18n import error_text
from gridplan.plan.validate import Problem
from ui.state import lang
from ui.texts import tr


def show_error(exc: BaseException, *, upload: bool = False) -> None:
    """An error in the planner's language; after a failed upload, say the old data are kept."""
    text = error_text(exc, lang())
    st.error(text + "\n\n" + tr("upload_failed") if upload else text)


def plan_check(problems: Sequence[Problem]) -> None:
    """The plan check: passed, or each error and warning."""
    if not [p for p in problems if p.severity == "error"]:
        st.success(tr("valid_ok"))
    for p in problems:
        (st.error if p.severity == "error" else st.warning)(p.message(lang()))


def metric_row(items: Sequence[tuple[str, str] | tuple[str, str, str]]) -> None:
    """One row of metrics: ``(label, value)`` or ``(label, value, delta)`` each."""
    for column, item in zip(st.columns(len(items)), items, strict=True):
        column.metric(*item)
