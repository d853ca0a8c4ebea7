"""What a saved version holds, and the checks it passes before it is written.

A version's payload is one JSON object:

``plan``
    the plan JSON the dashboard downloads (:meth:`gridplan.plan.grids.GridPlan.to_dict`:
    units → grids, grid names, lead hospitals, members, networks); required.
``facility_edits``
    the facility list when it is not the default network: the facilities switched
    (``toggled``) and those added or accepted (``added``), or the whole list of an
    upload (``table``); see :mod:`gridplan.facilities.edits` (an object).
``uploads``
    references to the data a planner brought, each with its provenance (a list of objects:
    file name, kind, SHA-256, size, upload time).  The files themselves are not stored.
``settings``
    the analysis settings: minutes, mode, model, speeds, cell size, demand weighting.
``format``
    the payload format, written by the store (:data:`PAYLOAD_FORMAT`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from gridplan import settings
from gridplan.errors import GridPlanError, InputError
from gridplan.plan.grids import GridPlan

#: The payload format this release writes; a later one may add keys.
PAYLOAD_FORMAT = 1
#: The payload's keys and the JSON type each must have.
PAYLOAD_KEYS: dict[str, type] = {
    "plan": dict,
    "facility_edits": dict,
    "uploads": list,
    "settings": dict,
    "format": int,
}


def check_text(field: str, value: object, limit: int, *, required: bool = False) -> str:
    """``value`` stripped, at most ``limit`` characters (and not empty if ``required``)."""
    out = str(value if value is not None else "").strip()
    if required and not out:
        raise InputError(f"the {field} is empty", code="store.empty", params={"field": field})
    if len(out) > limit:
        raise InputError(
            f"the {field} has {len(out)} characters; at most {limit}",
            code="store.text_too_long",
            params={"field": field, "n": len(out), "max": limit},
        )
    return out


def check_payload(payload: object, prefecture: str) -> dict[str, Any]:
    """The payload as it will be stored, after its checks.

    Raises
    ------
    InputError
        Not an object, an unknown key, a key of the wrong type, a plan that
        cannot be read or belongs to another prefecture, values that are not
        JSON (NaN, infinity, objects), or more than
        :data:`gridplan.settings.store_max_payload_mb`.
    """
    if not isinstance(payload, dict):
        raise InputError("a version must be a JSON object", code="store.payload_type")
    out = {**payload, "format": PAYLOAD_FORMAT}
    for key, value in out.items():
        want = PAYLOAD_KEYS.get(key)
        if want is None or not isinstance(value, want):
            raise InputError(
                f"unknown or malformed payload key {key!r}",
                code="store.payload_key",
                params={"key": str(key)[:40], "allowed": ", ".join(PAYLOAD_KEYS)},
            )
    if "plan" not in out:
        raise InputError("a version needs its plan", code="store.no_plan")
    _check_plan(out["plan"], prefecture)
    _check_size(out)
    return out


def _check_plan(plan: dict[str, Any], prefecture: str) -> None:
    try:
        parsed = GridPlan.from_dict(plan)
    except (GridPlanError, TypeError, ValueError, KeyError) as exc:
        # the reader's own problems (missing keys, unknown fields) travel along
        problems = exc.problems if isinstance(exc, GridPlanError) else []
        raise InputError(
            "the plan cannot be read", code="store.bad_plan", problems=problems
        ) from exc
    if parsed.prefecture != prefecture:
        raise InputError(
            f"the plan is for {parsed.prefecture}, the scenario for {prefecture}",
            code="store.prefecture_mismatch",
            params={"plan": parsed.prefecture[:100], "scenario": prefecture},
        )


def _check_size(payload: dict[str, Any]) -> None:
    try:
        # allow_nan=False: NaN/Infinity are not JSON and PostgreSQL's JSON type refuses them
        size = len(json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError) as exc:
        raise InputError(
            "the version holds values that are not JSON", code="store.not_json"
        ) from exc
    limit = settings.store_max_payload_mb * 1e6
    if size > limit:
        raise InputError(
            f"the version is {size / 1e6:.1f} MB; at most {settings.store_max_payload_mb} MB",
            code="store.payload_too_large",
            params={
                "mb": math.ceil(size / 1e5) / 10,
                "max_mb": settings.store_max_payload_mb,
            },
        )
