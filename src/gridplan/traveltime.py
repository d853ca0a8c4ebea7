"""Travel-time models behind one interface.

Every model turns a :class:`~gridplan.surface.CellGrid`, a mask of the cells
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
    (:mod:`gridplan.costdistance`).
``network``
    Road-network shortest paths with off-road legs (:mod:`gridplan.network`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from gridplan.errors import InputError
from gridplan.surface import CellGrid

Mode = Literal["walk", "ebike", "drive"]

#: Default speeds (km/h) and their sources, shown in the UI next to the sliders.
MODE_SPEEDS_KMH: dict[str, float] = {"walk": 4.8, "ebike": 15.0, "drive": 30.0}
MODE_SPEED_SOURCES: dict[str, dict[str, str]] = {
    "walk": {
        "zh": "步行 4.8 km/h：15 分钟约 1,200 m 的常见换算（r5 默认 3.6，OSMnx 示例 4.5）",
        "en": "walk 4.8 km/h: 15 min ≈ 1,200 m, a common Chinese reading (r5 3.6, OSMnx 4.5)",
    },
    "ebike": {
        "zh": "电动自行车 15 km/h（常用 15–20 km/h 的下限；GB 17761 限速 25 km/h）",
        "en": "e-bike 15 km/h (low end of the usual 15–20 km/h; GB 17761 caps at 25 km/h)",
    },
    "drive": {
        "zh": "驾车 30 km/h：农村道路常用 30–40 km/h 的下限（未核实）",
        "en": "car 30 km/h: low end of the 30–40 km/h used for rural roads (unverified)",
    },
}
#: Ratio of road distance to straight-line distance; 1.3 is a common urban value.
DEFAULT_DETOUR = 1.3


@dataclass
class TravelTimes:
    """Minutes from each cell to its nearest facility.

    ``minutes`` is ``float32`` of the grid's shape, ``inf`` where no facility is
    reachable (or beyond the model's cutoff) and for cells outside the mask;
    ``nearest`` is the index of that facility (-1 where none).
    """

    grid: CellGrid
    minutes: NDArray[np.float32]
    nearest: NDArray[np.int32]
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    cutoff_min: float = float("inf")


class TravelTimeModel(Protocol):
    """What every travel-time model provides."""

    @property
    def name(self) -> str: ...

    def travel_times(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> TravelTimes: ...


def speed_m_per_min(speed_kmh: float) -> float:
    if not 0.5 <= speed_kmh <= 150:
        raise InputError(
            f"speed must be between 0.5 and 150 km/h, got {speed_kmh}",
            code="traveltime.speed",
            params={"speed": speed_kmh},
        )
    return speed_kmh * 1000.0 / 60.0


def check_detour(detour: float) -> None:
    """Raise ``traveltime.detour`` unless the detour factor is between 1.0 and 3.0."""
    if not 1.0 <= detour <= 3.0:
        raise InputError(
            f"detour factor must be between 1.0 and 3.0, got {detour}",
            code="traveltime.detour",
            params={"detour": detour},
        )


@dataclass
class StraightLineModel:
    """Straight line × detour factor at a constant speed.

    The nearest facility is found once with a k-d tree; the minutes are the
    distance scaled by ``detour / speed``, so changing speed or detour only
    rescales (:meth:`rescale`).
    """

    speed_kmh: float = MODE_SPEEDS_KMH["walk"]
    detour: float = DEFAULT_DETOUR
    name: str = "straight"

    def __post_init__(self) -> None:
        speed_m_per_min(self.speed_kmh)
        check_detour(self.detour)

    @property
    def minutes_per_metre(self) -> float:
        return self.detour / speed_m_per_min(self.speed_kmh)

    def distances(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> tuple[NDArray[np.float32], NDArray[np.int32]]:
        """Straight-line metres from each masked cell centre to its nearest facility."""
        dist = np.full(grid.shape, np.inf, dtype=np.float32)
        nearest = np.full(grid.shape, -1, dtype=np.int32)
        xy = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
        if len(xy) == 0:
            return dist, nearest
        rows, cols = np.nonzero(mask)
        x, y = grid.centres(rows, cols)
        d, i = cKDTree(xy).query(np.column_stack([x, y]), k=1, workers=-1)
        dist[rows, cols] = d
        nearest[rows, cols] = i
        return dist, nearest

    def travel_times(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> TravelTimes:
        dist, nearest = self.distances(grid, mask, facilities_xy)
        return self.from_distances(grid, dist, nearest)

    def from_distances(
        self, grid: CellGrid, dist: NDArray[np.float32], nearest: NDArray[np.int32]
    ) -> TravelTimes:
        minutes = (dist * np.float32(self.minutes_per_metre)).astype(np.float32)
        return TravelTimes(
            grid=grid,
            minutes=minutes,
            nearest=nearest,
            model=self.name,
            params={"speed_kmh": self.speed_kmh, "detour": self.detour},
        )


def make_model(
    name: str,
    *,
    mode: str = "walk",
    speed_kmh: float | None = None,
    detour: float = DEFAULT_DETOUR,
    cutoff_min: float = 60.0,
    roads: Any = None,
    landcover: NDArray[np.integer] | None = None,
    dem: NDArray[np.floating] | None = None,
) -> TravelTimeModel:
    """One of the three travel-time models by name, as the dashboard and the CLI pick them.

    ``straight`` (speed × ``detour``), ``raster`` (friction surface: mode
    speeds, ``landcover`` classes and ``dem`` slopes on the grid, ``cutoff_min``)
    or ``network`` (``roads``: a graph from :func:`gridplan.network.load_roads`).
    ``speed_kmh`` defaults to the mode's speed.
    """
    speed = MODE_SPEEDS_KMH[mode] if speed_kmh is None else float(speed_kmh)
    if name == "straight":
        return StraightLineModel(speed_kmh=speed, detour=detour)
    if name == "raster":
        from gridplan.costdistance import RasterModel

        return RasterModel(
            mode=mode,  # type: ignore[arg-type]  # checked by RasterModel
            speed_kmh=speed, cutoff_min=cutoff_min, landcover=landcover, dem=dem,
        )  # fmt: skip
    if name == "network":
        from gridplan.network import NetworkModel

        if roads is None:
            raise InputError(
                "the road-network model needs a road file (.osm, .graphml)",
                code="access.no_roads",
            )
        return NetworkModel(roads, mode=mode, cutoff_min=cutoff_min)
    raise InputError(f"unknown travel-time model {name!r}: use straight, raster or network")
