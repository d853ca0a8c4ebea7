"""Input checks of the siting models, on the one collector :class:`gridplan._validate.Problems`.

Every location model reports its input problems as one ``optimize.invalid``
error (:func:`siting_problems`); the checks of this module are those the
generic ones of :class:`~gridplan._validate.Problems` do not cover.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridplan._types import FloatArray
from gridplan._validate import Problems


def siting_problems() -> Problems:
    """The collector of a location model's input problems (error ``optimize.invalid``)."""
    return Problems("optimize.invalid", "cannot set up the siting problem")


def _dims(
    problems: Problems, code: str, what: str, a: NDArray[Any], ndim: int, *, expected: Any
) -> bool:
    """Whether ``a`` has ``ndim`` dimensions; a ``code`` problem (its shape and the
    ``expected`` one) if not."""
    if a.ndim == ndim:
        return True
    problems.add(
        code,
        f"{what} must be a {ndim}-D array, got shape {a.shape}",
        shape=tuple(a.shape),
        expected=expected,
    )
    return False


def _weights(weights: ArrayLike, n: int | None, problems: Problems) -> FloatArray:
    """Demand weights: 1-D, ``n`` of them (when known), finite, not negative, not all 0."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        problems.add("optimize.weights", "weights must be numbers", n=0)
        return np.zeros(0)
    if not _dims(problems, "optimize.weights_shape", "weights", w, 1, expected=n):
        return np.zeros(0)
    if n is not None and len(w) != n:
        problems.add(
            "optimize.weights_shape",
            f"weights has {len(w)} values, the cost matrix {n} demand rows",
            shape=(len(w),),
            expected=n,
        )
    bad = ~np.isfinite(w) | (w < 0)
    text = "{n} weight(s) are negative or not finite numbers"
    if not problems.count("optimize.weights", bad, text) and len(w) and not w.sum() > 0:
        problems.add("optimize.no_demand", "the weights sum to 0: nobody to serve")
    if len(w) == 0:
        problems.add("optimize.no_demand", "no demand point given")
    return w


def _xy(name: str, xy: ArrayLike, problems: Problems) -> FloatArray:
    """``xy`` as ``(n, 2)`` points (:meth:`Problems.points`).

    With a problem, the pairs as given (or none when they are not pairs of
    numbers), so that the checks that follow still see how many there are.
    """
    a = problems.points(name, xy)
    if a is not None:
        return a
    try:
        raw = np.asarray(xy, dtype=np.float64)
    except (TypeError, ValueError):
        return np.zeros((0, 2))
    return raw if raw.ndim == 2 and raw.shape[1] == 2 else np.zeros((0, 2))


def _threshold(value: Any, cm_cap: float | None, problems: Problems) -> float | None:
    """The coverage threshold T: a positive number, within the matrix's cutoff ``cm_cap``."""
    t = problems.number("threshold_min", value, code="optimize.threshold")
    if t is not None and cm_cap is not None and t > cm_cap:
        problems.add(
            "optimize.threshold_cutoff",
            f"threshold_min {t:g} is above the cost matrix's cutoff {cm_cap:g}: "
            "pairs between the two are missing",
            threshold=t,
            cutoff=cm_cap,
        )
    return t


def _capacities(capacity: Any, m: int, problems: Problems) -> FloatArray:
    """One capacity per candidate (a number is every candidate's), all positive."""
    try:
        c = np.asarray(capacity, dtype=np.float64)
    except (TypeError, ValueError):
        c = np.array(np.nan)
    if c.ndim == 0:
        c = np.full(m, float(c))
    if c.shape != (m,) or np.isnan(c).any() or (c <= 0).any():
        problems.add(
            "optimize.capacity",
            f"capacity must be a positive number or one per candidate ({m}), got "
            f"{np.asarray(capacity).shape if hasattr(capacity, '__len__') else capacity!r}",
            m=m,
        )
        return np.full(m, np.inf)
    return c
