"""A facility list as a scenario keeps it, and what an edit of it changed.

A scenario version holds the facility list the planner worked on when it is
not the default network.  Most edits switch facilities off or add a few
(accepted sites): :func:`edits_against` then keeps only those against the
default network, a few hundred bytes instead of the whole list, and
:func:`apply_edits` rebuilds the list exactly.  Anything else (an uploaded
list) is kept whole: :func:`table_to_json` writes it as columns and rows
(missing values as ``null``), :func:`table_from_json` reads it back with the
column types the analyses expect, refusing anything else.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from gridplan.errors import InputError

#: Columns read back as numbers, and as true/false.
NUMBER_COLUMNS = ("lon", "lat", "beds", "doctors", "gps")
FLAG_COLUMNS = ("active",)
#: Columns a facility list cannot do without.
REQUIRED = ("facility_id", "name", "type", "lon", "lat", "source", "active")


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value.item() if hasattr(value, "item") else value


def table_to_json(table: pd.DataFrame) -> dict[str, Any]:
    """``{"columns": [...], "rows": [[...], ...]}``: the table as JSON, floats exact."""
    rows = [[_cell(v) for v in row] for row in table.itertuples(index=False, name=None)]
    return {"columns": [str(c) for c in table.columns], "rows": rows}


def table_from_json(data: object) -> pd.DataFrame:
    """The facility list :func:`table_to_json` wrote.

    Raises
    ------
    InputError
        ``facilities.stored_table``: not that shape, a required column missing,
        or a number or flag that is not one.
    """
    try:
        if not isinstance(data, dict):
            raise TypeError("not an object")
        columns, rows = list(data["columns"]), list(data["rows"])
        if any(len(r) != len(columns) for r in rows) or not set(REQUIRED) <= set(columns):
            raise ValueError("rows and columns do not match")
        table = pd.DataFrame(rows, columns=columns, dtype=object)
        for col in NUMBER_COLUMNS:
            if col in table:
                table[col] = pd.to_numeric(table[col], errors="raise").astype(float)
        for col in FLAG_COLUMNS:
            if not table[col].map(lambda v: isinstance(v, bool)).all():
                raise ValueError(f"{col} is not true/false")
            table[col] = table[col].astype(bool)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"the stored facility list cannot be read: {exc}", code="facilities.stored_table"
        ) from exc
    return table


def edits_against(default: pd.DataFrame, table: pd.DataFrame) -> dict[str, Any]:
    """What a version keeps of ``table``: nothing when it is ``default``; the switches and
    added rows when that rebuilds it exactly (:func:`apply_edits`); else the whole table."""
    if table.shape == default.shape and table.equals(default):
        return {}
    n = len(default)
    same_rows = (
        list(table.columns) == list(default.columns)
        and len(table) >= n
        and table.iloc[:n].drop(columns="active").equals(default.drop(columns="active"))
    )
    if same_rows:
        flags = table["active"].iloc[:n].to_numpy(bool) != default["active"].to_numpy(bool)
        edits = {
            "toggled": [str(i) for i in default["facility_id"][flags]],
            "added": table_to_json(table.iloc[n:]),
        }
        if apply_edits(default, edits).equals(table):
            return edits
    return {"table": table_to_json(table)}


def apply_edits(default: pd.DataFrame, edits: dict[str, Any]) -> pd.DataFrame:
    """The facility list a version keeps (see :func:`edits_against`).

    Raises
    ------
    InputError
        ``facilities.stored_table``: the kept edits or table cannot be read.
    """
    if "table" in edits:
        return table_from_json(edits["table"])
    if not edits:
        return default.copy()
    try:
        toggled = {str(i) for i in edits.get("toggled", [])}
        added = edits.get("added") or {"columns": list(default.columns), "rows": []}
    except TypeError as exc:
        raise InputError(
            f"the stored facility edits cannot be read: {exc}", code="facilities.stored_table"
        ) from exc
    out = default.copy()
    flip = out["facility_id"].astype(str).isin(toggled).to_numpy()
    out.loc[flip, "active"] = ~out.loc[flip, "active"].astype(bool)
    extra = table_from_json(added) if added["rows"] else None
    if extra is None:
        return out
    return pd.concat([out, extra.astype(out.dtypes.to_dict())], ignore_index=True)


def facility_changes(
    old: pd.DataFrame | None, new: pd.DataFrame | None
) -> tuple[str, dict[str, object]]:
    """What an edit left: the list back to the default (``new`` ``None``), else how many
    facilities are in use, switched off and added (a message code and its parameters)."""
    if new is None:
        return "change.facilities_default", {}
    active = new["active"].astype(bool)
    added = int((new["source"] == "added").sum()) if "source" in new else 0
    return "change.facilities", {
        "active": int(active.sum()),
        "off": int((~active).sum()),
        "added": added,
    }
