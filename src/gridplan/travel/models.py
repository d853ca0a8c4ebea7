"""Pick a travel-time model by name, as the dashboard and the CLI do."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridplan.errors import InputError
from gridplan.travel.base import TravelTimeModel
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH
from gridplan.travel.straight import StraightLineModel

#: The names of the travel-time models, as the dashboard, the CLI and the analyses offer them.
MODEL_NAMES: tuple[str, ...] = ("straight", "raster", "network")


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
    or ``network`` (``roads``: a graph from :func:`gridplan.travel.roads.load_roads`).
    ``speed_kmh`` defaults to the mode's speed.
    """
    speed = MODE_SPEEDS_KMH[mode] if speed_kmh is None else float(speed_kmh)
    if name == "straight":
        return StraightLineModel(speed_kmh=speed, detour=detour)
    if name == "raster":
        from gridplan.travel.raster import RasterModel

        return RasterModel(
            mode=mode,  # type: ignore[arg-type]  # checked by RasterModel
            speed_kmh=speed, cutoff_min=cutoff_min, landcover=landcover, dem=dem,
        )  # fmt: skip
    if name == "network":
        from gridplan.travel.network import NetworkModel

        if roads is None:
            raise InputError(
                "the road-network model needs a road file (.osm, .graphml)",
                code="access.no_roads",
            )
        return NetworkModel(roads, mode=mode, cutoff_min=cutoff_min)
    raise InputError(
        f"unknown travel-time model {name!r}: use straight, raster or network",
        code="traveltime.model",
        params={"value": name, "allowed": list(MODEL_NAMES)},
    )
