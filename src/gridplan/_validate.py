"""The one problem collector: check every input of a call, report every problem in one error.

A call makes a :class:`Problems` with its error code (``"capacity.invalid"``)
and the start of its message, adds each problem it finds with a code of its
own (``"capacity.threshold"``) and parameters, and finally calls
:meth:`Problems.raise_if_any`: one :class:`~gridplan.errors.InputError` whose
``params["problems"]`` lists each problem's code and parameters, so the
dashboard and the CLI render them one by one in the planner's language
(:func:`gridplan.i18n.error_text`).

The generic checks (:meth:`Problems.shape`, :meth:`Problems.number`,
:meth:`Problems.integer`, :meth:`Problems.choice`, :meth:`Problems.points`)
name their problems ``"<scope>.<check>"`` (``"optimize.number"``,
``"capacity.xy_shape"``); a scope without its own text for a check falls back
to the common ``"check.<check>"`` text of the catalogue.  :meth:`Problems.count`
reports the bad entries of an array (negative, not finite, out of range) as one
problem with their count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gridplan._types import FloatArray
from gridplan.errors import GridPlanError, InputError


class Problems:
    """Collects every problem of one call, raised together as one :class:`InputError`.

    Parameters
    ----------
    code
        Code of the error raised, ``"<scope>.invalid"``; the scope prefixes
        the codes of the generic checks.
    message
        Start of the error's English text, e.g. ``"cannot run the siting study"``.
    error_type
        The class of the error raised (default :class:`~gridplan.errors.InputError`).
    """

    def __init__(
        self, code: str, message: str, error_type: type[GridPlanError] = InputError
    ) -> None:
        self.code = code
        self.message = message
        self.error_type = error_type
        self.items: list[tuple[str, str, dict[str, Any]]] = []

    @property
    def scope(self) -> str:
        """The module part of :attr:`code` (``"capacity"`` for ``"capacity.invalid"``)."""
        return self.code.partition(".")[0]

    @property
    def codes(self) -> list[str]:
        return [c for c, _, _ in self.items]

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def add(self, code: str, text: str, **params: Any) -> None:
        """One problem: its code, its English text and the parameters its translations use."""
        self.items.append((code, text, params))

    def error(self, **params: Any) -> GridPlanError:
        """The collected problems as one error (also when there are none).

        ``params`` are added to the error's own parameters (for its top-level text).
        """
        return self.error_type(
            f"{self.message} ({len(self.items)} problem(s))",
            code=self.code,
            params={
                "n": len(self.items),
                "codes": self.codes,
                "problems": [{"code": c, **p} for c, _, p in self.items],
                **params,
            },
            problems=[t for _, t, _ in self.items],
        )

    def raise_if_any(self) -> None:
        if self.items:
            raise self.error()

    def merge(self, err: InputError) -> None:
        """Take over the problems of an error raised by another check.

        An error that lists its problems (raised by a :class:`Problems`)
        contributes each of them; any other error contributes itself, with
        its code and parameters.
        """
        details = err.params.get("problems")
        if isinstance(details, list) and len(details) == len(err.problems):
            for text, detail in zip(err.problems, details, strict=True):
                params = dict(detail)
                self.add(str(params.pop("code", err.code)), text, **params)
        else:
            self.add(err.code, str(err), **err.params)

    # --- generic checks ------------------------------------------------------------

    def shape(self, name: str, arr: Any, expected: tuple[int, ...]) -> bool:
        """Whether ``arr`` has the shape ``expected``; a ``<scope>.shape`` problem if not."""
        shape = tuple(np.shape(arr))
        if shape != tuple(expected):
            self.add(
                f"{self.scope}.shape",
                f"{name} has shape {shape}, expected the grid's {tuple(expected)}",
                name=name,
                shape=shape,
                expected=tuple(expected),
            )
            return False
        return True

    def number(
        self,
        name: str,
        value: Any,
        *,
        low: float = 0.0,
        high: float = math.inf,
        low_inclusive: bool = False,
        allow_inf: bool = False,
        code: str | None = None,
    ) -> float | None:
        """``value`` as a float in (low, high] (or [low, high]), else a problem and ``None``."""
        v = as_float(value)
        ok = v is not None and (allow_inf or math.isfinite(v))
        ok = ok and v is not None and (v >= low if low_inclusive else v > low) and v <= high
        if not ok:
            lo = "[" if low_inclusive else "("
            text = f"{name} must be a number in {lo}{low:g}, {high:g}], got {value!r}"
            self._out_of_range(code or f"{self.scope}.number", text, name, value, (low, high))
            return None
        return v

    def integer(
        self, name: str, value: Any, low: int, high: int, code: str | None = None
    ) -> int | None:
        """``value`` as a whole number in [low, high] (not a bool), else a problem and ``None``."""
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not ok or not low <= int(value) <= high:
            text = f"{name} must be a whole number from {low} to {high}, got {value!r}"
            self._out_of_range(code or f"{self.scope}.integer", text, name, value, (low, high))
            return None
        return int(value)

    def _out_of_range(
        self, code: str, text: str, name: str, value: Any, bounds: tuple[float, float]
    ) -> None:
        """The problem of :meth:`number` and :meth:`integer`: ``value`` of ``name`` is not in
        ``bounds``; its parameters name, value (as written) and the bounds."""
        low, high = bounds
        self.add(code, text, name=name, value=repr(value), low=low, high=high)

    def count(self, code: str, bad: ArrayLike, text: str, **params: Any) -> int:
        """How many entries of ``bad`` are true; if any, a ``code`` problem with that count.

        ``text`` is the English text with ``{n}`` for the count and a field
        for any of ``params``, e.g. ``"{name}: {n} value(s) are negative"``
        with ``name=...``; the problem's parameters are ``params`` and ``n``.
        """
        n = int(np.count_nonzero(bad))
        if n:
            self.add(code, text.format(n=n, **params), **params, n=n)
        return n

    def choice(self, code: str, name: str, value: Any, allowed: Sequence[str]) -> bool:
        """Whether ``value`` is one of ``allowed``; a ``code`` problem if not."""
        if value in allowed:
            return True
        self.add(
            code,
            f"{name} must be one of {', '.join(allowed)}, got {value!r}",
            name=name,
            value=value,
            allowed=list(allowed),
        )
        return False

    def points(self, name: str, xy: ArrayLike) -> FloatArray | None:
        """``xy`` as an ``(n, 2)`` float array of finite coordinates, else problems and ``None``.

        Problems: ``<scope>.xy_shape`` (not numbers, or not pairs) and
        ``<scope>.xy_nonfinite`` (rows without finite coordinates, listed).
        """
        try:
            a = np.asarray(xy, dtype=np.float64)
        except (TypeError, ValueError):
            self.add(
                f"{self.scope}.xy_shape",
                f"{name} must be (x, y) pairs of numbers",
                name=name,
                shape=None,
            )
            return None
        if a.size == 0:
            a = a.reshape(0, 2)
        if a.ndim != 2 or a.shape[1] != 2:
            self.add(
                f"{self.scope}.xy_shape",
                f"{name} must be (x, y) pairs, got shape {a.shape}",
                name=name,
                shape=tuple(a.shape),
            )
            return None
        bad = np.flatnonzero(~np.isfinite(a).all(axis=1))
        if len(bad):
            self.add(
                f"{self.scope}.xy_nonfinite",
                f"{name}: {len(bad)} point(s) without finite coordinates: rows {bad[:10].tolist()}",
                name=name,
                n=len(bad),
                indices=bad[:10].tolist(),
            )
            return None
        return a


def as_float(value: Any) -> float | None:
    """``value`` as a float, ``None`` for bools, NaN and what is not a number."""
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def positive(value: Any) -> bool:
    """Whether ``value`` is a finite number above 0 (not a bool)."""
    v = as_float(value)
    return v is not None and math.isfinite(v) and v > 0
