"""Input checks of the capacity analyses."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridplan._validate import Problems
from gridplan.errors import InputError

# --- validation ---------------------------------------------------------------------


class _Problems(Problems):
    """Collects every problem of one call, raised together as one InputError."""

    def __init__(self) -> None:
        super().__init__("capacity.invalid", "cannot run the capacity-aware accessibility analysis")

    def merge(self, err: InputError) -> None:
        """Take over the problems of an InputError raised by another module's checks."""
        details = err.params.get("problems")
        if isinstance(details, list) and len(details) == len(err.problems):
            for text, detail in zip(err.problems, details, strict=True):
                params = dict(detail)
                self.add(str(params.pop("code", err.code)), text, **params)
        else:
            self.add(err.code, str(err), **err.params)

    def minutes(self, name: str, value: Any, *, upper: float | None = None) -> float | None:
        """A threshold in minutes: finite, above 0 and, if given, at most ``upper``."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if isinstance(value, (bool, np.bool_)) or not math.isfinite(v) or v <= 0:
            self.add(
                "capacity.threshold",
                f"{name} must be a finite number of minutes above 0, got {value!r}",
                name=name,
                value=value,
            )
            return None
        if upper is not None and v > upper:
            self.add(
                "capacity.beyond_reach",
                f"{name} = {v:g} min is beyond the reach's {upper:g} min: pairs farther than "
                f"that were not computed (rebuild the reach with max_minutes ≥ {v:g})",
                name=name,
                value=v,
                max_minutes=upper,
            )
            return None
        return v

    def values(
        self, name: str, values: Any, n_expected: int, *, allow_inf: bool = False
    ) -> NDArray[np.float64] | None:
        """Per-facility numbers: one per facility, not NaN, not negative."""
        try:
            v = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            self.add("capacity.not_numeric", f"{name} must be numbers", name=name)
            return None
        if v.ndim != 1:
            v = v.reshape(-1) if v.ndim == 0 else v
        ok = True
        if v.ndim != 1 or len(v) != n_expected:
            self.add(
                "capacity.length",
                f"{name} has {v.size} value(s), expected one per facility ({n_expected})",
                name=name,
                n=int(v.size),
                expected=int(n_expected),
            )
            ok = False
        bad = np.isnan(v) if allow_inf else ~np.isfinite(v)
        if bad.any():
            self.add(
                "capacity.nonfinite",
                f"{name}: {int(bad.sum())} value(s) are not numbers"
                + ("" if allow_inf else " or infinite"),
                name=name,
                n=int(bad.sum()),
            )
            ok = False
        neg = v < 0
        if neg.any():
            self.add(
                "capacity.negative",
                f"{name}: {int(neg.sum())} value(s) are negative",
                name=name,
                n=int(neg.sum()),
            )
            ok = False
        return v.ravel() if ok else None
