"""Input checks of the siting models."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from gridplan._types import FloatArray
from gridplan.errors import InputError

if TYPE_CHECKING:
    pass


# --- validation ---------------------------------------------------------------------


class _Problems:
    """Collects every problem of one call, raised together as one InputError."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, dict[str, Any]]] = []

    def add(self, code: str, text: str, **params: Any) -> None:
        self.items.append((code, text, params))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        raise InputError(
            f"cannot set up the siting problem ({len(self.items)} problem(s))",
            code="optimize.invalid",
            params={
                "n": len(self.items),
                "codes": [c for c, _, _ in self.items],
                "problems": [{"code": c, **p} for c, _, p in self.items],
            },
            problems=[t for _, t, _ in self.items],
        )

    def number(
        self,
        name: str,
        value: Any,
        *,
        low: float = 0.0,
        high: float = math.inf,
        low_inclusive: bool = False,
        allow_inf: bool = False,
        code: str = "optimize.number",
    ) -> float | None:
        """``value`` as a float in (low, high] (or [low, high]), else a problem."""
        ok = not isinstance(value, (bool, np.bool_))
        v = math.nan
        if ok:
            try:
                v = float(value)
            except (TypeError, ValueError):
                ok = False
        if ok:
            ok = not math.isnan(v) and (allow_inf or math.isfinite(v))
            ok = ok and (v >= low if low_inclusive else v > low) and v <= high
        if not ok:
            lo = "[" if low_inclusive else "("
            self.add(
                code,
                f"{name} must be a number in {lo}{low:g}, {high:g}], got {value!r}",
                name=name,
                value=repr(value),
                low=low,
                high=high,
            )
            return None
        return v

    def integer(
        self, name: str, value: Any, low: int, high: int, code: str = "optimize.integer"
    ) -> int | None:
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not ok or not low <= int(value) <= high:
            self.add(
                code,
                f"{name} must be a whole number from {low} to {high}, got {value!r}",
                name=name,
                value=repr(value),
                low=low,
                high=high,
            )
            return None
        return int(value)


def _weights(weights: ArrayLike, n: int | None, problems: _Problems) -> FloatArray:
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        problems.add("optimize.weights", "weights must be numbers", n=0)
        return np.zeros(0)
    if w.ndim != 1:
        problems.add(
            "optimize.weights_shape",
            f"weights must be a 1-D array, got shape {w.shape}",
            shape=tuple(w.shape),
            expected=n,
        )
        return np.zeros(0)
    if n is not None and len(w) != n:
        problems.add(
            "optimize.weights_shape",
            f"weights has {len(w)} values, the cost matrix {n} demand rows",
            shape=(len(w),),
            expected=n,
        )
    bad = int(np.count_nonzero(~np.isfinite(w) | (w < 0)))
    if bad:
        problems.add(
            "optimize.weights",
            f"{bad} weight(s) are negative or not finite numbers",
            n=bad,
        )
    elif len(w) and not w.sum() > 0:
        problems.add("optimize.no_demand", "the weights sum to 0: nobody to serve")
    if len(w) == 0:
        problems.add("optimize.no_demand", "no demand point given")
    return w


def _xy(name: str, xy: ArrayLike, problems: _Problems) -> FloatArray:
    a = np.asarray(xy, dtype=np.float64)
    if a.size == 0:
        a = a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        problems.add(
            "optimize.xy_shape",
            f"{name} must be (x, y) pairs, got shape {a.shape}",
            name=name,
            shape=tuple(a.shape),
        )
        return np.zeros((0, 2))
    bad = int(np.count_nonzero(~np.isfinite(a).all(axis=1)))
    if bad:
        problems.add(
            "optimize.xy_nonfinite",
            f"{name}: {bad} point(s) without finite coordinates",
            name=name,
            n=bad,
        )
    return a
