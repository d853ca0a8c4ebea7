"""Road speeds per OSM highway class and mode, maxspeed parsing."""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from gridplan.errors import InputError
from gridplan.travel.modes import MODE_SPEEDS_KMH

if TYPE_CHECKING:
    pass

NetworkMode = Literal["walk", "ebike", "drive"]
NETWORK_MODES: tuple[str, ...] = ("walk", "ebike", "drive")

_WALK = MODE_SPEEDS_KMH["walk"]  # 4.8 km/h
_EBIKE = MODE_SPEEDS_KMH["ebike"]  # 15 km/h

#: Classes every mode may use (pedestrians and e-bikes share the carriageway or
#: its verge in China; these are also the classes a car may use).
_SHARED = (
    "trunk",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
    "track",
)
#: Classes without motor traffic.
_NON_MOTOR = ("pedestrian", "footway", "path", "cycleway", "bridleway", "corridor")

#: Speed (km/h) per mode and OSM ``highway`` class; a class missing from a mode
#: cannot be used in it.
#:
#: Car: average operating speeds, set below the design speeds of the Chinese
#: standards, because intersections, signals and mixed traffic slow cars down
#: (assumptions, not measured): JTG B01-2014 gives 高速公路 80–120 km/h, 一级公路
#: 60–100, 二级 60–80, 三级 30–40, 四级 20–30; CJJ 37-2012 gives urban 快速路
#: 60–100, 主干路 40–60, 次干路 30–50, 支路 20–40.  Ramps (``*_link``) are slower
#: than their road.  ``track`` (farm roads, 机耕路) 10 km/h.
#: Walk: 4.8 km/h everywhere a pedestrian may go (the ``walk`` speed of
#: :data:`gridplan.travel.modes.MODE_SPEEDS_KMH`); not on motorways, their ramps
#: or trunk ramps (expressway ramps in China); ``trunk`` itself (national roads
#: through villages) is walkable.
#: E-bike: 15 km/h (:data:`~gridplan.travel.modes.MODE_SPEEDS_KMH`) on every class
#: but motorways, motorway and trunk ramps and steps.  E-bikes are non-motor
#: vehicles in China and barred from motorways (道路交通安全法 第六十七条).
#: The figures of the standards are quoted from memory and not yet checked
#: against the texts.
ROAD_SPEEDS_KMH: dict[str, dict[str, float]] = {
    "drive": {
        "motorway": 80.0,
        "motorway_link": 40.0,
        "trunk": 60.0,
        "trunk_link": 40.0,
        "primary": 50.0,
        "primary_link": 30.0,
        "secondary": 40.0,
        "secondary_link": 30.0,
        "tertiary": 30.0,
        "tertiary_link": 20.0,
        "unclassified": 20.0,
        "residential": 20.0,
        "road": 20.0,
        "service": 15.0,
        "living_street": 10.0,
        "track": 10.0,
    },
    "walk": {c: _WALK for c in (*_SHARED, *_NON_MOTOR, "steps")},
    "ebike": {c: _EBIKE for c in (*_SHARED, *_NON_MOTOR)},
}
#: ``highway`` values no mode uses (not built, disused, or not a road).
CLOSED_CLASSES: frozenset[str] = frozenset(
    {
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "disused",
        "razed",
        "raceway",
        "bus_guideway",
        "busway",
        "platform",
        "elevator",
        "escape",
        "emergency_bay",
        "rest_area",
        "services",
        "via_ferrata",
        "no",
    }
)
#: Every class the table knows: a known class missing from a mode is closed to
#: it; an unknown class is treated like ``road``.
KNOWN_CLASSES: frozenset[str] = (
    frozenset(c for table in ROAD_SPEEDS_KMH.values() for c in table) | CLOSED_CLASSES
)
UNKNOWN_CLASS = "road"
_MPH_KMH = 1.609344
_MAXSPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)


# --------------------------------------------------------------------------- speeds


def _as_list(value: Any) -> list[Any]:
    """OSM tag values as a list: lists stay, ``"a;b"`` and ``"['a', 'b']"`` split."""
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, (list, tuple, set)):
        return [v for item in value for v in _as_list(item)]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, (list, tuple)):
            return _as_list(list(parsed))
    return [p.strip() for p in text.split(";") if p.strip()]


def parse_maxspeed(value: Any) -> float | None:
    """A ``maxspeed`` tag in km/h (lists: the lowest), ``None`` if not parseable.

    Numbers are km/h unless followed by ``mph``; implicit values (``CN:urban``,
    ``walk``, ``none``, ``signals``) and values outside 5–150 km/h are ignored.
    """
    speeds = []
    for item in _as_list(value):
        m = _MAXSPEED_RE.match(str(item))
        if not m:
            continue
        kmh = float(m.group(1)) * (_MPH_KMH if (m.group(2) or "").lower() == "mph" else 1.0)
        if 5.0 <= kmh <= 150.0:
            speeds.append(kmh)
    return min(speeds) if speeds else None


def edge_speed_kmh(
    attrs: Mapping[str, Any], mode: str, speeds_kmh: Mapping[str, float] | None = None
) -> float | None:
    """Speed (km/h) of an edge with OSM tags ``attrs`` in ``mode``; ``None`` if closed to it.

    ``speeds_kmh`` overrides entries of ``ROAD_SPEEDS_KMH[mode]`` (class → km/h;
    a new class opens it to the mode).  See the module docstring for lists,
    unknown classes and ``maxspeed``.
    """
    if mode not in ROAD_SPEEDS_KMH:
        raise InputError(
            f"unknown mode {mode!r}; expected one of {', '.join(NETWORK_MODES)}",
            code="network.invalid",
            problems=[_both(f"未知出行方式 {mode!r}", f"unknown mode {mode!r}")],
        )
    table = ROAD_SPEEDS_KMH[mode]
    if speeds_kmh:
        table = {**table, **speeds_kmh}
    classes = [str(c) for c in _as_list(attrs.get("highway"))] or [UNKNOWN_CLASS]
    speeds = []
    for c in classes:
        if c in table:
            speeds.append(table[c])
        elif c in KNOWN_CLASSES:
            return None
        else:
            speeds.append(table[UNKNOWN_CLASS])
    speed = min(speeds)
    if mode == "drive":
        posted = parse_maxspeed(attrs.get("maxspeed"))
        if posted is not None:
            speed = min(speed, posted)
    return float(speed) if speed > 0 else None


def _both(zh: str, en: str) -> str:
    return f"{zh} / {en}"
