"""Shared input-validation helpers: collect every problem of a call, raise them as one error.

A module's checks add each problem with its own code (``"capacity.shape"``, …)
to a :class:`Problems`; :meth:`Problems.raise_if_any` then raises one
:class:`~gridplan.errors.InputError` with the module's code (``"capacity.invalid"``)
whose ``params["problems"]`` lists each problem's code and parameters, so the
dashboard can render them one by one (see :mod:`gridplan.i18n`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gridplan.errors import InputError


class Problems:
    """Collects every problem of one call, raised together as one InputError.

    ``code`` is the code of the error raised (``"<module>.invalid"``) and
    ``message`` the start of its text, e.g.
    ``Problems("capacity.invalid", "cannot run the capacity-aware accessibility analysis")``.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.items: list[tuple[str, str, dict[str, Any]]] = []

    @property
    def scope(self) -> str:
        """The module part of :attr:`code` (``"capacity"`` for ``"capacity.invalid"``)."""
        return self.code.partition(".")[0]

    def add(self, code: str, text: str, **params: Any) -> None:
        self.items.append((code, text, params))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        raise InputError(
            f"{self.message} ({len(self.items)} problem(s))",
            code=self.code,
            params={
                "n": len(self.items),
                "codes": [c for c, _, _ in self.items],
                "problems": [{"code": c, **p} for c, _, p in self.items],
            },
            problems=[t for _, t, _ in self.items],
        )

    def shape(self, name: str, arr: Any, expected: tuple[int, int]) -> bool:
        """Whether ``arr`` has the grid's shape ``expected``; a ``<scope>.shape`` problem if not."""
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


def positive(value: Any) -> bool:
    """Whether ``value`` is a finite number above 0 (not a bool)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and v > 0
