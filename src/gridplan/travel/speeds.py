"""Every speed of the travel-time models, in one place.

The straight-line, raster and road-network models all read their speeds here:

* :data:`MODE_SPEEDS_KMH`: the speed of each mode (walk, e-bike, car), the
  straight-line model's default and the walking speed of every off-road leg;
* :data:`ROAD_SPEEDS_KMH`: the speed per OSM ``highway`` class and mode, and
  which classes each mode may use; :data:`CLOSED_CLASSES` no mode uses, and
  a class OSM does not define counts as :data:`UNKNOWN_CLASS`;
  :func:`road_speed_kmh` applies these rules (lists of classes, ``maxspeed``)
  to one road, for the network model's edges and the raster model's lines
  alike, so that both give the same minutes on the same road;
* :data:`OFFROAD_SPEEDS_KMH` and :data:`LANDCOVER_SPEEDS_KMH`: the raster
  model's speeds off the mapped roads.

All figures are planning assumptions, not measurements; each table's comment
gives its basis.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from gridplan._validate import Problems, as_float

Mode = Literal["walk", "ebike", "drive"]
MODES: tuple[Mode, ...] = ("walk", "ebike", "drive")

# --- speed per mode -----------------------------------------------------------------

#: Default speeds (km/h), shown in the UI next to the sliders with their
#: sources (texts ``speed_source.<mode>`` of :mod:`gridplan.i18n.travel`).
#: Walk 4.8 km/h: 15 min ≈ 1,200 m, a common Chinese reading (r5's default is
#: 3.6, OSMnx's examples use 4.5).  E-bike 15 km/h: the low end of the usual
#: 15–20 km/h, under the 25 km/h cap of GB 17761-2018.  Car 30 km/h: the low
#: end of the 30–40 km/h used for rural roads (unverified).
MODE_SPEEDS_KMH: dict[str, float] = {"walk": 4.8, "ebike": 15.0, "drive": 30.0}
#: Ratio of road distance to straight-line distance; 1.3 is a common urban value.
DEFAULT_DETOUR = 1.3

_WALK = MODE_SPEEDS_KMH["walk"]
_EBIKE = MODE_SPEEDS_KMH["ebike"]


#: Speeds (km/h) and detour factors a model accepts.
SPEED_RANGE_KMH = (0.5, 150.0)
DETOUR_RANGE = (1.0, 3.0)


def metres_per_minute(speed_kmh: float) -> float:
    """A speed in km/h as metres per minute."""
    return speed_kmh * 1000.0 / 60.0


def check_speed_detour(problems: Problems, speed: Any, detour: Any) -> float | None:
    """Minutes per straight-line metre, ``detour / speed``, or ``None`` after adding problems.

    ``speed`` is km/h or a mode (``walk``, ``ebike``, ``drive``: its
    :data:`MODE_SPEEDS_KMH`).  Problems: ``traveltime.mode`` (an unknown
    mode), ``traveltime.speed`` (not a number from 0.5 to 150 km/h) and
    ``traveltime.detour`` (not a number from 1.0 to 3.0).  The one check of
    a speed and a detour factor: the straight-line model, the capacity
    reach, the siting and region cost matrices all use it.
    """
    kmh = speed
    if isinstance(speed, str):
        if not problems.choice("traveltime.mode", "mode", speed, MODES):
            kmh = None
        else:
            kmh = MODE_SPEEDS_KMH[speed]
    v = as_float(kmh)
    d = as_float(detour)
    ok = True
    if kmh is not None and (v is None or not SPEED_RANGE_KMH[0] <= v <= SPEED_RANGE_KMH[1]):
        problems.add(
            "traveltime.speed",
            f"speed must be between 0.5 and 150 km/h, got {speed!r}",
            speed=speed,
        )
        ok = False
    if d is None or not DETOUR_RANGE[0] <= d <= DETOUR_RANGE[1]:
        problems.add(
            "traveltime.detour",
            f"detour factor must be between 1.0 and 3.0, got {detour!r}",
            detour=detour,
        )
        ok = False
    if not ok or v is None or d is None:
        return None
    return d / metres_per_minute(v)


def check_road_speeds(problems: Problems, overrides: Mapping[str, Any] | None) -> bool:
    """Whether every class → km/h of ``overrides`` is a speed from 0.5 to 150 km/h.

    One ``traveltime.road_speed`` problem per class that is not; the check of
    both models' amendments to :data:`ROAD_SPEEDS_KMH`.
    """
    ok = True
    for cls, kmh in (overrides or {}).items():
        v = as_float(kmh)
        if v is None or not SPEED_RANGE_KMH[0] <= v <= SPEED_RANGE_KMH[1]:
            problems.add(
                "traveltime.road_speed",
                f"speed of class {cls} must be between 0.5 and 150 km/h, got {kmh!r}",
                cls=str(cls),
                speed=kmh,
            )
            ok = False
    return ok


def minutes_per_metre(speed: Any, detour: Any = 1.0) -> float:
    """Minutes per straight-line metre, ``detour / speed``; raises on a bad speed or detour.

    :func:`check_speed_detour`, raised as one
    :class:`~gridplan.errors.InputError` ``traveltime.invalid``.
    """
    problems = Problems("traveltime.invalid", "invalid speed or detour factor")
    mpm = check_speed_detour(problems, speed, detour)
    problems.raise_if_any()
    assert mpm is not None
    return mpm


# --- speed per road class -----------------------------------------------------------

#: Classes every mode may use: pedestrians and e-bikes share the carriageway or
#: its verge in China, and these are also the classes a car may use.
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

#: Speed (km/h) per mode and OSM ``highway`` class; a known class missing from
#: a mode's table cannot be used in that mode.
#:
#: Who may use which class.  Walking: every class but motorways, their ramps
#: and trunk ramps (expressway ramps in China); ``trunk`` itself (national
#: roads through villages) is walkable.  E-bike: the same classes but
#: ``steps``: e-bikes are non-motor vehicles in China, barred from motorways
#: (道路交通安全法 第六十七条).  Car: the shared classes, motorways and their
#: ramps, never footways, paths and the like.
#:
#: Car: average operating speeds, set below the design speeds of the Chinese
#: standards because intersections, signals and mixed traffic slow cars down
#: (assumptions, not measured): JTG B01-2014 gives 高速公路 80–120 km/h, 一级公路
#: 60–100, 二级 60–80, 三级 30–40, 四级 20–30; CJJ 37-2012 gives urban 快速路
#: 60–100, 主干路 40–60, 次干路 30–50, 支路 20–40.  Motorway 80, trunk 60,
#: primary 50, secondary 40, tertiary 30, residential/unclassified 20,
#: living streets and ``track`` (farm roads, 机耕路) 10.  The figures of the
#: standards are quoted from memory and not yet checked against the texts.
#:
#: Ramps (``*_link``) and service roads.  The raster model used to halve a
#: road's speed on its ramps (trunk_link 30, secondary_link 20 ...) and take
#: 10 km/h on service roads, the network model 2/3 to 3/4 of the road (trunk
#: link 40, secondary link 30) and 15 km/h; both were assumptions.  The
#: network values are kept: a ramp is short and is mostly driven at about the
#: speed of the roads it joins, and service roads (access roads of compounds,
#: hospitals, car parks) are faster than a living street.
#:
#: Walk: 4.8 km/h everywhere a pedestrian may go (:data:`MODE_SPEEDS_KMH`).
#: E-bike: 15 km/h (:data:`MODE_SPEEDS_KMH`) on every class it may use.  The
#: raster model used to take 18 km/h on main roads and cycleways and 8–10 on
#: service roads, tracks and paths (assumed); the flat 15 km/h is kept, the
#: one sourced figure (the low end of the usual 15–20 km/h), so that all three
#: models ride an e-bike at the same speed.
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


def osm_values(value: Any) -> list[Any]:
    """OSM tag values as a list: lists stay, ``"a;b"`` and ``"['a', 'b']"`` split."""
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, (list, tuple, set)):
        return [v for item in value for v in osm_values(item)]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays of classes
        return osm_values(value.tolist())
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, (list, tuple)):
            return osm_values(list(parsed))
    return [p.strip() for p in text.split(";") if p.strip()]


def parse_maxspeed(value: Any) -> float | None:
    """A ``maxspeed`` tag in km/h (lists: the lowest), ``None`` if not parseable.

    Numbers are km/h unless followed by ``mph``; implicit values (``CN:urban``,
    ``walk``, ``none``, ``signals``) and values outside 5–150 km/h are ignored.
    """
    speeds = []
    for item in osm_values(value):
        m = _MAXSPEED_RE.match(str(item))
        if not m:
            continue
        kmh = float(m.group(1)) * (_MPH_KMH if (m.group(2) or "").lower() == "mph" else 1.0)
        if 5.0 <= kmh <= 150.0:
            speeds.append(kmh)
    return min(speeds) if speeds else None


def road_table(mode: str, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """``ROAD_SPEEDS_KMH[mode]`` amended by ``overrides`` (class → km/h; a new class opens it)."""
    table = dict(ROAD_SPEEDS_KMH[mode])
    if overrides:
        table.update(overrides)
    return table


def road_speed_kmh(
    highway: Any, mode: str, table: Mapping[str, float], maxspeed: Any = None
) -> float | None:
    """Speed (km/h) of a road of class ``highway`` in ``mode``; ``None`` if closed to it.

    ``table`` is the mode's class → km/h (:func:`road_table`).

    * ``highway`` lists (OSMnx merges ways when simplifying): the road is
      usable only if every listed class is, at the slowest listed speed
      (conservative).
    * Classes OSM does not define (typos, local tags) are treated like
      ``road`` (OSM's "unknown class"); closed classes (``construction``,
      ``proposed``, ``abandoned`` ...) are never used.  A road without a
      class (a hand-built graph) is a ``road``.
    * ``maxspeed`` (car only): when parseable (``"60"``, ``"60 km/h"``,
      ``"30 mph"``, lists) the speed is ``min(class speed, maxspeed)``.  The
      class speeds are average operating speeds, below the usual posted
      limits, so a posted limit can only lower them (a 30 km/h school zone on
      a primary road); it never raises them.
    """
    classes = [str(c) for c in osm_values(highway)] or [UNKNOWN_CLASS]
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
        posted = parse_maxspeed(maxspeed)
        if posted is not None:
            speed = min(speed, posted)
    return float(speed) if speed > 0 else None


# --- off the roads (raster model) ---------------------------------------------------

#: Off-road speed (km/h) of each mode where no land cover is given.  Off the
#: mapped roads everybody moves on foot or close to it, as in AccessMod's
#: motorised scenarios where land cover classes keep the WALKING mode:
#: ``walk`` is the project's walking standard (15 min ≈ 1,200 m); ``drive`` is
#: walking to the nearest mapped road; ``ebike`` 6 km/h is riding slowly or
#: pushing on unmapped tracks (assumed).
OFFROAD_SPEEDS_KMH: dict[str, float] = {"walk": _WALK, "ebike": 6.0, "drive": _WALK}

#: Walking speeds (km/h) per ESA WorldCover class.  The vegetation classes
#: follow the examples of the AccessMod 5 manual (travelling scenario table:
#: urban/built-up 5, low dense vegetation 4, medium dense 3, dense 2, bare
#: soil 5 km/h); built-up and bare are set to the project's 4.8 km/h walking
#: standard so that towns match the straight-line model.  Snow, wetland,
#: mangrove and moss values are assumed.  0 (no data) and 80 (permanent water)
#: are barriers, as AccessMod treats no-data and zero-speed cells.
_WALK_LANDCOVER: dict[int, float] = {
    0: 0.0,  # no data: barrier
    10: 2.0,  # tree cover: dense vegetation (AccessMod 2)
    20: 3.0,  # shrubland: medium dense vegetation (AccessMod 3)
    30: 4.0,  # grassland: low dense vegetation (AccessMod 4)
    40: 4.0,  # cropland: low dense vegetation, field tracks (AccessMod 4)
    50: _WALK,  # built-up (AccessMod 5; project walking standard)
    60: _WALK,  # bare / sparse vegetation (AccessMod bare soil 5; walking standard)
    70: 1.5,  # snow and ice (assumed)
    80: 0.0,  # permanent water bodies: barrier
    90: 1.0,  # herbaceous wetland (assumed)
    95: 1.0,  # mangroves (assumed)
    100: 3.0,  # moss and lichen (assumed)
}

#: Off-road speeds (km/h) per ESA WorldCover class and mode.  ``drive`` uses
#: the walking table (off the mapped roads the patient walks); ``ebike`` rides
#: a little faster than walking on open flat classes with unmapped lanes and
#: field tracks (built-up 8, cropland and bare 6, grassland 5: assumed) and
#: pushes elsewhere.
LANDCOVER_SPEEDS_KMH: dict[str, dict[int, float]] = {
    "walk": dict(_WALK_LANDCOVER),
    "ebike": _WALK_LANDCOVER | {30: 5.0, 40: 6.0, 50: 8.0, 60: 6.0},
    "drive": dict(_WALK_LANDCOVER),
}


def edge_speed_kmh(
    attrs: Mapping[str, Any], mode: str, speeds_kmh: Mapping[str, float] | None = None
) -> float | None:
    """Speed (km/h) of a network edge with OSM tags ``attrs`` in ``mode``; ``None`` if closed.

    :func:`road_speed_kmh` of its ``highway`` and ``maxspeed``, with
    ``speeds_kmh`` amending ``ROAD_SPEEDS_KMH[mode]`` (:func:`road_table`).
    """
    problems = Problems("network.invalid", "invalid road network")
    problems.choice("network.mode", "mode", mode, MODES)
    problems.raise_if_any()
    table = road_table(mode, speeds_kmh)
    return road_speed_kmh(attrs.get("highway"), mode, table, attrs.get("maxspeed"))
