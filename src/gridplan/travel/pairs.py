"""Every (point, facility) pair within a time: what each travel-time model's ``pairs`` gives.

Capacity analyses (:class:`gridplan.access.reach.Reach`) and siting cost
matrices (:class:`gridplan.siting.costs.CostMatrix`) need the minutes from
many points to *every* facility within a time, not only to the nearest.  Each
model computes them in one method, ``pairs(grid, points_xy, facilities_xy,
max_minutes)``, and returns a :class:`Pairs`:

* :meth:`~gridplan.travel.straight.StraightLineModel.pairs`: k-d trees
  (:func:`~gridplan.travel.straight.straight_pairs`);
* :meth:`~gridplan.travel.raster.RasterModel.pairs`: one windowed cost
  distance per facility (:func:`~gridplan.travel.raster.raster_pairs`);
* :meth:`~gridplan.travel.network.NetworkModel.pairs`: one Dijkstra per
  facility with the cutoff;
* any other model: :func:`gridplan.travel.base.pairs_from_travel_times`, one ``travel_times`` run
  per facility (slow for many facilities).

A pair's minutes are those the model's ``travel_times`` gives a cell to that
facility alone, in the same arithmetic, so the smallest pair time of a point
is its ``travel_times`` minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridplan._types import Int32Array, IntArray

#: Pairs produced per chunk when building pairs (bounds the temporaries).
CHUNK_PAIRS = 4_000_000


@dataclass(frozen=True, eq=False)
class Pairs:
    """Travel minutes of (point, facility) pairs within ``max_minutes``, as sorted COO arrays.

    Attributes
    ----------
    point
        Index of each pair's point (rows of the ``points_xy`` given), ``int32``
        (``int64`` for 2³¹ points or more).
    facility
        Index of each pair's facility (rows of ``facilities_xy``), ``int32``.
    minutes
        Travel time of each pair in the model's own arithmetic: ``float32``
        for the straight-line and raster models (as their ``travel_times``),
        ``float64`` for the road network.
    n_points, n_facilities
        Number of points and facilities given (also those without a pair).
    max_minutes
        Every pair the model counts within this time is present (a time equal
        to it is kept); a pair not stored is farther.
    params
        How the times were computed (model-specific).

    Pairs are sorted by facility, then by minutes rounded to ``float32``,
    then point: each facility's points form one slice (:meth:`indptr`),
    nearest first.
    """

    point: NDArray[np.signedinteger[Any]]
    facility: Int32Array
    minutes: NDArray[np.floating[Any]]
    n_points: int
    n_facilities: int
    max_minutes: float
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        return len(self.point)

    def indptr(self) -> IntArray:
        """Start of each facility's slice of the pairs, and the end (``n_facilities + 1``)."""
        return np.searchsorted(self.facility, np.arange(self.n_facilities + 1)).astype(np.int64)

    @classmethod
    def concat(
        cls,
        parts: Sequence[tuple[NDArray[Any], NDArray[Any], NDArray[Any]]],
        n_points: int,
        n_facilities: int,
        max_minutes: float,
        *,
        minutes_dtype: type[np.floating[Any]] = np.float32,
        params: dict[str, Any] | None = None,
    ) -> Pairs:
        """Pairs from ``(point, facility, minutes)`` parts, each sorted, in facility order."""
        p_dtype = point_dtype(n_points)
        if parts:
            point = np.concatenate([q[0] for q in parts]).astype(p_dtype, copy=False)
            fac = np.concatenate([q[1] for q in parts]).astype(np.int32, copy=False)
            mins = np.concatenate([q[2] for q in parts]).astype(minutes_dtype, copy=False)
        else:
            point, fac, mins = (
                np.zeros(0, p_dtype),
                np.zeros(0, np.int32),
                np.zeros(0, minutes_dtype),
            )
        return cls(point, fac, mins, n_points, n_facilities, float(max_minutes), dict(params or {}))


def point_dtype(n_points: int) -> type[np.signedinteger[Any]]:
    """The smallest index type of ``n_points`` points (``int32`` below 2³¹)."""
    return np.int32 if n_points < 2**31 else np.int64


def time_point_order(point: NDArray[Any], minutes: NDArray[np.floating[Any]]) -> NDArray[np.intp]:
    """Order of pairs by (minutes rounded to ``float32``, point): one sort of a 64-bit key.

    Minutes are ≥ 0, and the bits of non-negative float32 numbers sort like
    the numbers; point indices fit 32 bits (larger ones fall back to
    ``lexsort``).
    """
    m32 = minutes.astype(np.float32, copy=False)
    if len(point) and int(point.max()) >= 2**32:
        return np.lexsort((point, m32))
    key = (m32 + np.float32(0.0)).view(np.uint32).astype(np.uint64) << np.uint64(32)
    key |= point.astype(np.uint64)
    return np.argsort(key)


def sort_pairs(
    point: NDArray[Any], facility: NDArray[Any], minutes: NDArray[Any], n_facilities: int
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Pairs of facilities ``0..n_facilities-1`` sorted by (facility, minutes, point)."""
    order = time_point_order(point, minutes)
    # stable sort of the facility on top: a radix sort for small integer types
    small = np.int16 if n_facilities < 2**15 else np.int32
    order = order[np.argsort(facility[order].astype(small), kind="stable")]
    return point[order], facility[order], minutes[order]
