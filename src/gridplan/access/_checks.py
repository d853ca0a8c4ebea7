"""Input checks of the capacity analyses."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gridplan._types import FloatArray
from gridplan._validate import Problems, as_float


def capacity_problems() -> Problems:
    """The collector of the capacity analyses' checks: one ``capacity.invalid`` error."""
    return Problems("capacity.invalid", "cannot run the capacity-aware accessibility analysis")


def check_minutes(
    problems: Problems, name: str, value: Any, *, upper: float | None = None
) -> float | None:
    """A threshold in minutes: finite, above 0 and, if given, at most ``upper``."""
    v = as_float(value)
    if v is None or not math.isfinite(v) or v <= 0:
        problems.add(
            "capacity.threshold",
            f"{name} must be a finite number of minutes above 0, got {value!r}",
            name=name,
            value=value,
        )
        return None
    if upper is not None and v > upper:
        problems.add(
            "capacity.beyond_reach",
            f"{name} = {v:g} min is beyond the reach's {upper:g} min: pairs farther than "
            f"that were not computed (rebuild the reach with max_minutes ≥ {v:g})",
            name=name,
            value=v,
            max_minutes=upper,
        )
        return None
    return v


def check_values(
    problems: Problems, name: str, values: Any, n_expected: int, *, allow_inf: bool = False
) -> FloatArray | None:
    """Per-facility numbers: one per facility, not NaN, not negative."""
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        problems.add("capacity.not_numeric", f"{name} must be numbers", name=name)
        return None
    if v.ndim == 0:
        v = v.reshape(-1)
    ok = True
    if v.ndim != 1 or len(v) != n_expected:
        problems.add(
            "capacity.length",
            f"{name} has {v.size} value(s), expected one per facility ({n_expected})",
            name=name,
            n=int(v.size),
            expected=int(n_expected),
        )
        ok = False
    bad = np.isnan(v) if allow_inf else ~np.isfinite(v)
    not_numbers = "{name}: {n} value(s) are not numbers" + ("" if allow_inf else " or infinite")
    if problems.count("capacity.nonfinite", bad, not_numbers, name=name):
        ok = False
    if problems.count("capacity.negative", v < 0, "{name}: {n} value(s) are negative", name=name):
        ok = False
    return v.ravel() if ok else None
