"""Building a :class:`~gridplan.solvers.highs.Mip` block by block.

A model states its formulation as blocks of columns (cost, bounds,
integrality) and families of rows (their bounds and COO entries with row
indices local to the family); :class:`MipBuilder` numbers them in the order
they are added and gathers the arrays once, in :meth:`MipBuilder.build`.
The row families every location model needs have their own methods:
covering rows (:meth:`MipBuilder.cover_rows`), linking rows
(:meth:`MipBuilder.link_rows`) and the count of open sites
(:meth:`MipBuilder.cardinality`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gridplan.solvers.highs import Mip

__all__ = ["Entries", "MipBuilder"]

#: COO entries of a row family: local row indices, column indices, values (or one value).
Entries = tuple[ArrayLike, ArrayLike, ArrayLike | float]


def _full(value: ArrayLike | float, n: int, dtype: type) -> NDArray[Any]:
    """``value`` as an array of ``n`` (a scalar is repeated)."""
    out: NDArray[Any] = np.asarray(value, dtype=dtype)
    return np.full(n, out, dtype=dtype) if out.ndim == 0 else out.astype(dtype, copy=False)


class MipBuilder:
    """A MIP under construction: columns and rows are numbered in the order they are added."""

    def __init__(self) -> None:
        self.n_cols = 0
        self.n_rows = 0
        self._cols: dict[str, list[np.ndarray]] = {"cost": [], "lower": [], "upper": [], "int": []}
        self._rows: dict[str, list[np.ndarray]] = {
            "row": [],
            "col": [],
            "val": [],
            "lower": [],
            "upper": [],
        }

    # --- columns ------------------------------------------------------------------------

    def columns(
        self,
        n: int,
        *,
        cost: ArrayLike | float = 0.0,
        lower: ArrayLike | float = 0.0,
        upper: ArrayLike | float = 1.0,
        integer: bool = False,
    ) -> int:
        """Add ``n`` columns; returns the index of the first.

        ``cost``, ``lower`` and ``upper`` are one value for all or one per
        column; ``integer`` makes them integral (with the default bounds:
        binary).
        """
        self._cols["cost"].append(_full(cost, n, np.float64))
        self._cols["lower"].append(_full(lower, n, np.float64))
        self._cols["upper"].append(_full(upper, n, np.float64))
        self._cols["int"].append(np.full(n, integer, dtype=bool))
        first = self.n_cols
        self.n_cols += n
        return first

    # --- rows ---------------------------------------------------------------------------

    def rows(
        self, n: int, lower: ArrayLike | float, upper: ArrayLike | float, *entries: Entries
    ) -> int:
        """Add ``n`` rows ``lower ≤ A x ≤ upper``; returns the index of the first.

        ``lower`` and ``upper`` are one value for all rows or one per row.
        Each of ``entries`` is ``(row, col, val)``: row indices local to the
        family (0 is its first row), column indices and values (one value
        for all entries, or one each); entries on the same cell are summed.
        """
        first = self.n_rows
        for row, col, val in entries:
            r = np.asarray(row, dtype=np.int64)
            self._rows["row"].append(first + r)
            self._rows["col"].append(np.asarray(col, dtype=np.int64))
            self._rows["val"].append(_full(val, len(r), np.float64))
        self._rows["lower"].append(_full(lower, n, np.float64))
        self._rows["upper"].append(_full(upper, n, np.float64))
        self.n_rows += n
        return first

    def row(self, cols: ArrayLike, vals: ArrayLike | float, lower: float, upper: float) -> int:
        """Add one row ``lower ≤ Σ vals · x[cols] ≤ upper``."""
        c = np.asarray(cols, dtype=np.int64)
        return self.rows(1, lower, upper, (np.zeros(len(c), dtype=np.int64), c, vals))

    def cover_rows(self, sets: sp.spmatrix, first_y: int, first_u: int) -> int:
        """Covering rows ``u_r + Σ_{j ∈ S_r} y_j ≥ 1``, one per row ``r`` of ``sets``.

        ``sets`` is a 0/1 matrix (rows × candidates): row ``r`` lists the
        candidate columns ``S_r`` (numbered from ``first_y``) that cover it;
        ``u_r`` (from ``first_u``) is its uncovered share.
        """
        a = sets.tocoo()
        r = np.arange(a.shape[0], dtype=np.int64)
        return self.rows(len(r), 1.0, np.inf, (a.row, first_y + a.col, 1.0), (r, first_u + r, 1.0))

    def link_rows(self, x_cols: ArrayLike, y_cols: ArrayLike) -> int:
        """Rows ``x_c ≤ y_c``: an assignment only to an open site."""
        x = np.asarray(x_cols, dtype=np.int64)
        r = np.arange(len(x), dtype=np.int64)
        return self.rows(len(x), -np.inf, 0.0, (r, x, 1.0), (r, y_cols, -1.0))

    def cardinality(self, first_y: int, n: int, k: int) -> int:
        """The row ``Σ y_j = k`` over the ``n`` site columns from ``first_y``."""
        return self.row(first_y + np.arange(n), 1.0, k, k)

    # --- the model ------------------------------------------------------------------------

    def build(self, *, maximize: bool, offset: float = 0.0) -> Mip:
        """The model in arrays."""

        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

        c, r = self._cols, self._rows
        return Mip(
            cost=cat(c["cost"], np.float64),
            lower=cat(c["lower"], np.float64),
            upper=cat(c["upper"], np.float64),
            integer=cat(c["int"], bool),
            row=cat(r["row"], np.int64),
            col=cat(r["col"], np.int64),
            val=cat(r["val"], np.float64),
            row_lower=cat(r["lower"], np.float64),
            row_upper=cat(r["upper"], np.float64),
            maximize=maximize,
            offset=float(offset),
        )
