"""Travel-time models behind one interface.

Every model turns a :class:`~gridplan.surface.grid.CellGrid`, a mask of the cells
that matter and the facilities' metric coordinates into a
:class:`TravelTimes` surface: minutes from each cell to its nearest facility,
and which facility that is.  Coverage then only thresholds these minutes, so a
slider never recomputes travel times.

Models
------
``straight``
    Straight-line distance × detour factor at a speed per mode
    (:class:`StraightLineModel`).
``raster``
    AccessMod-style friction surface with multi-source cost distance
    (:mod:`gridplan.travel.costdistance`).
``network``
    Road-network shortest paths with off-road legs (:mod:`gridplan.travel.network`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from gridplan._types import BoolArray, Float32Array, Int32Array, IntArray, XYArray
from gridplan._validate import Problems, as_float
from gridplan.surface.grid import CellGrid
from gridplan.travel.pairs import Pairs, time_point_order
from gridplan.travel.speeds import MODES


@dataclass
class TravelTimes:
    """Minutes from each cell to its nearest facility.

    ``minutes`` is ``float32`` of the grid's shape, ``inf`` where no facility is
    reachable (or beyond the model's cutoff) and for cells outside the mask;
    ``nearest`` is the index of that facility (-1 where none).
    """

    grid: CellGrid
    minutes: Float32Array
    nearest: Int32Array
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    cutoff_min: float = float("inf")


class TravelTimeModel(Protocol):
    """What every travel-time model provides.

    ``travel_times``: minutes from each cell to its nearest facility.
    ``pairs``: minutes from each point to *every* facility within a time
    (:mod:`gridplan.travel.pairs`), for capacity analyses and siting; a model
    without it is served by :func:`pairs_from_travel_times`.
    """

    @property
    def name(self) -> str: ...

    def travel_times(
        self, grid: CellGrid, mask: BoolArray, facilities_xy: XYArray
    ) -> TravelTimes: ...

    def pairs(
        self, grid: CellGrid, points_xy: XYArray, facilities_xy: XYArray, max_minutes: float
    ) -> Pairs: ...


def check_mode(problems: Problems, mode: Any) -> bool:
    """Whether ``mode`` is ``walk``, ``ebike`` or ``drive``; a ``<scope>.mode`` problem if not."""
    return problems.choice(f"{problems.scope}.mode", "mode", mode, MODES)


def check_cutoff(problems: Problems, cutoff_min: Any) -> float | None:
    """``cutoff_min`` as minutes above 0 (``inf``: none), else a ``<scope>.cutoff`` problem."""
    c = as_float(cutoff_min)
    if c is None or c <= 0:
        problems.add(
            f"{problems.scope}.cutoff",
            f"cutoff must be more than 0 minutes, got {cutoff_min}",
            cutoff=cutoff_min,
        )
        return None
    return c


def pairs_from_travel_times(
    model: TravelTimeModel,
    grid: CellGrid,
    points_rc: IntArray,
    facilities_xy: XYArray,
    max_minutes: float,
) -> Pairs:
    """Pairs from any model's ``travel_times``: one run per facility (slow for many).

    A point's minutes are those of its cell (``points_rc``: row and column on
    ``grid``).  For models without a ``pairs`` method of their own.
    """
    rc = np.asarray(points_rc, dtype=np.int64).reshape(-1, 2)
    xy = np.asarray(facilities_xy, dtype=np.float64).reshape(-1, 2)
    mask = np.zeros(grid.shape, dtype=bool)
    mask[rc[:, 0], rc[:, 1]] = True
    limit = np.float32(max_minutes) if math.isfinite(max_minutes) else np.float32(np.inf)
    parts = []
    for j in range(len(xy)):
        minutes = model.travel_times(grid, mask, xy[j : j + 1]).minutes[rc[:, 0], rc[:, 1]]
        ok = np.flatnonzero(np.isfinite(minutes) & (minutes <= limit))
        mins = minutes[ok].astype(np.float32)
        order = time_point_order(ok, mins)
        parts.append((ok[order], np.full(len(ok), j, dtype=np.int32), mins[order]))
    return Pairs.concat(parts, len(rc), len(xy), max_minutes, params={"model": model.name})
