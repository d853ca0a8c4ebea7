"""Road-network travel time (model ``network``).

Minutes from every cell of a :class:`~gridplan.surface.CellGrid` to its
nearest facility along an OpenStreetMap road network, for walking, e-bike or
car.  Same interface as the other models (:mod:`gridplan.traveltime`):
``NetworkModel(graph, mode=...).travel_times(grid, mask, facilities_xy)``.

Roads
-----
:func:`load_roads` reads an OSM XML file (``.osm``, ``.osm.bz2``), a GraphML
file written by OSMnx (``.graphml``) or an ``.osm.pbf`` extract (Geofabrik's
China/Hebei files): pyosmium (a dependency) copies its ``highway`` ways and
their nodes to OSM XML, read as above; without pyosmium (or pyrosm) a PBF is
refused with the ``osmium`` command that converts it.  Online, it can download the roads inside
a polygon with OSMnx (not exercised by the tests, which run offline).  Only
ways tagged ``highway`` are kept: OSM XML files also hold buildings, land use
and so on, which OSMnx would otherwise turn into "edges".

Speeds
------
:data:`ROAD_SPEEDS_KMH` gives the speed of each OSM ``highway`` class per
mode; a class missing from a mode's table cannot be used in that mode (no
walking or e-bike on motorways, no car on footways).  These are planning
assumptions, not measurements; see the table's comment for their basis.

* ``highway`` lists (OSMnx merges ways when simplifying): the edge is usable
  only if every listed class is, at the slowest listed speed (conservative).
* Classes OSM does not define (typos, local tags) are treated like ``road``
  (OSM's "unknown class"); closed classes (``construction``, ``proposed``,
  ``abandoned`` ...) are never used.  An edge without ``highway`` (a
  hand-built graph) is a ``road``.
* ``maxspeed`` (car only): when parseable (``"60"``, ``"60 km/h"``,
  ``"30 mph"``, lists) the speed is ``min(class speed, maxspeed)``.  The class
  speeds are average operating speeds, below the usual posted limits, so a
  posted limit can only lower them (a 30 km/h school zone on a primary road);
  it never raises them.
* One-way streets (car only): the direction of travel comes from the graph's
  directed edges, as OSMnx builds them (a two-way street has edges both ways,
  a ``oneway=yes`` street only one, ``oneway=-1`` the reverse one).  Walking
  and e-bikes ignore ``oneway`` and use every usable edge both ways.  An
  undirected networkx graph is two-way everywhere.

Algorithm
---------
1. :func:`build_road_graph` (once per graph, mode and CRS; cached in the
   model): node coordinates are projected from the graph's CRS (OSMnx:
   EPSG:4326) to the grid's metric CRS.  Each road piece (a two-way street's
   pair of opposite edges counts once) is cut into segments of at most
   ``densify_m`` metres along its geometry, so that cells can join a road
   anywhere, not only at intersections 500 m apart.  Segment weight =
   ``length_m / speed`` in minutes, the edge's ``length`` (OSMnx: great-circle
   metres) split evenly.  The graph is stored *reversed* (an edge ``a -> b``
   of travel becomes ``b -> a``) as a scipy CSR matrix with one spare row and
   column for a virtual super-source.
2. Off-road legs: a cell centre joins the network at its nearest usable node
   (k-d tree over the projected nodes) and walks there in a straight line:
   ``distance × offroad_detour / offroad_speed``.  A facility joins the
   network the same way with its own leg.  Joining nodes lie on roads the
   mode may use *and* a pedestrian may walk onto: nobody walks from a field
   onto a motorway, so a car joins motorways only where their ramps meet
   ordinary roads.  Nothing farther than ``max_snap_m`` from every joining
   node joins the network.
3. One single-source Dijkstra from the super-source, whose edge to each
   facility's node weighs that facility's off-road minutes
   (``scipy.sparse.csgraph.dijkstra`` with ``limit=cutoff``): on the reversed
   graph this gives, for every node, the exact minimum over facilities of
   (travel from the node to the facility's node + the facility's leg).  The
   facility reached is recovered from the predecessor tree (pointer jumping
   up to the super-source).  scipy's multi-source ``min_only`` mode would
   start every facility at zero and ignore the legs.
4. Cell minutes = node minutes + the cell's own leg.
5. Direct walk (``direct_walk``, default on): a cell may instead walk straight
   to its straight-line nearest facility (``distance × offroad_detour /
   offroad_speed``, the ``StraightLineModel`` at walking speed) when that
   facility is no farther than the cell's network node, or when the cell has
   no node within ``max_snap_m``; it keeps the smaller time.  So cells far
   from every road still get a time (the honest fallback: walking), and a
   cell beside a facility in the middle of a large block does not detour to a
   road and back, while elsewhere the network decides: letting every cell
   walk straight across blocks at the 1.3 average detour would beat the
   street grid on diagonals and turn the model back into the straight-line
   one.
6. Times above ``cutoff_min`` are ``inf`` (a time exactly at the cutoff is
   kept), ``nearest`` is -1 there.

Limits: cells join the nearest node, not the nearest point of an edge, so the
joining error is up to ``densify_m / 2`` along the road; turn costs, traffic
lights, congestion and elevation are not modelled; speeds are class averages;
isolated road fragments (data errors) are joined like any road, so a cell whose
nearest node is on a fragment gets no network time (``snap_k > 1`` lets it try
several nodes); drivers never walk the last stretch, so next to a one-way
street a car can be slower than walking.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from gridplan.errors import GridPlanError, InputError
from gridplan.surface import CellGrid
from gridplan.traveltime import DEFAULT_DETOUR, MODE_SPEEDS_KMH, TravelTimes

if TYPE_CHECKING:
    import networkx as nx
    from shapely.geometry import MultiPolygon, Polygon

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
#: :data:`gridplan.traveltime.MODE_SPEEDS_KMH`); not on motorways, their ramps
#: or trunk ramps (expressway ramps in China); ``trunk`` itself (national roads
#: through villages) is walkable.
#: E-bike: 15 km/h (:data:`~gridplan.traveltime.MODE_SPEEDS_KMH`) on every class
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

DEFAULT_CUTOFF_MIN = 60.0
DEFAULT_MAX_SNAP_M = 2000.0
DEFAULT_DENSIFY_M = 50.0
_MPH_KMH = 1.609344
_MAXSPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)
_EPS_MIN = 1e-9  # minutes: tolerance of the cutoff test on float sums


def _both(zh: str, en: str) -> str:
    return f"{zh} / {en}"


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


# --------------------------------------------------------------------------- loading


def _unreadable(path: Path, exc: BaseException) -> InputError:
    detail = f"{type(exc).__name__}: {exc}".strip()
    return InputError(
        f"cannot read road network {path.name}: {detail}",
        code="network.unreadable",
        params={"filename": path.name, "detail": detail},
    )


def _roads_only(graph: nx.MultiDiGraph, path: Path) -> nx.MultiDiGraph:
    """Drop edges without ``highway`` (buildings, land use ...) and the nodes left alone."""
    import networkx as nx

    graph.remove_edges_from(
        [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if "highway" not in d]
    )
    graph.remove_nodes_from(list(nx.isolates(graph)))
    if graph.number_of_edges() == 0:
        raise InputError(
            f"{path.name} contains no roads (no ways tagged highway)",
            code="network.no_roads",
            params={"filename": path.name},
        )
    return graph


def _graph_from_osm_xml(path: Path, shown: Path | None = None) -> nx.MultiDiGraph:
    import osmnx as ox

    shown = shown or path
    try:
        graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:  # any parse failure of a user's file is an input problem
        raise _unreadable(shown, exc) from exc
    graph = _roads_only(graph, shown)
    # Simplify only after non-roads are gone, and never merge across a change of
    # class or speed limit, so that edge speeds stay exact.
    return ox.simplify_graph(graph, edge_attrs_differ=["highway", "maxspeed"])


def _pbf_reader() -> str | None:
    """Name of an installed PBF reader (``osmium`` or ``pyrosm``), or ``None``."""
    import importlib.util

    for name in ("osmium", "pyrosm"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def _pbf_to_osm_xml_with_osmium(path: Path, out: Path) -> None:
    """Write the ``highway`` ways of a PBF and their nodes to OSM XML with pyosmium."""
    import osmium

    node_ids: set[int] = set()
    ways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    for way in ways:
        if isinstance(way, osmium.osm.Way):
            node_ids.update(n.ref for n in way.nodes)
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
            if isinstance(obj, osmium.osm.Node) and obj.id in node_ids:
                writer.add_node(obj)
            elif isinstance(obj, osmium.osm.Way) and "highway" in obj.tags:
                writer.add_way(obj)


def _graph_from_pbf(path: Path) -> nx.MultiDiGraph:
    reader = _pbf_reader()
    if reader is None:
        raise InputError(
            f"cannot read {path.name}: no PBF reader (pyosmium or pyrosm) is installed; "
            "convert it to OSM XML with osmium (osmium tags-filter FILE w/highway -o roads.osm)",
            code="network.pbf_unsupported",
            params={"filename": path.name},
        )
    if reader == "osmium":
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "roads.osm"
            try:
                _pbf_to_osm_xml_with_osmium(path, out)
            except Exception as exc:
                raise _unreadable(path, exc) from exc
            return _graph_from_osm_xml(out, shown=path)
    try:  # pragma: no cover - pyrosm is an alternative reader, not installed by default
        import pyrosm

        osm = pyrosm.OSM(str(path))
        nodes, edges = osm.get_network(network_type="all", nodes=True)
        graph = osm.to_graph(nodes, edges, graph_type="networkx", retain_all=True)
    except Exception as exc:
        raise _unreadable(path, exc) from exc
    return _roads_only(graph, path)


def load_roads(
    source: str | Path | None, *, polygon: Polygon | MultiPolygon | None = None
) -> nx.MultiDiGraph:
    """Load a road network as an OSMnx ``MultiDiGraph`` (node ``x``/``y`` in EPSG:4326).

    ``source`` is an OSM XML file (``.osm``, ``.xml``, ``.osm.bz2``), an OSMnx
    GraphML file (``.graphml``) or an ``.osm.pbf`` (needs pyosmium or pyrosm).
    With ``source=None`` the roads inside ``polygon`` (WGS-84) are downloaded
    with OSMnx (``network_type="all"``; needs internet).  With a file and a
    polygon, the graph is cut to the polygon.  OSM XML keeps only ``highway``
    ways, all components (``retain_all``), simplified without merging across a
    change of ``highway`` or ``maxspeed``.

    Raises :class:`~gridplan.errors.InputError` (codes ``network.*``) for a
    missing, empty, unreadable or road-less file or an unsupported format.
    """
    if source is None:
        if polygon is None:
            raise InputError(
                "no road network source: give a file or a polygon to download",
                code="network.no_source",
            )
        import osmnx as ox

        try:  # pragma: no cover - needs internet
            graph = ox.graph_from_polygon(
                polygon, network_type="all", simplify=True, retain_all=True
            )
        except Exception as exc:  # pragma: no cover - needs internet
            detail = f"{type(exc).__name__}: {exc}"
            raise GridPlanError(
                f"downloading the road network failed: {detail}",
                code="network.download_failed",
                params={"detail": detail},
            ) from exc
        return graph  # pragma: no cover

    path = Path(source)
    params = {"filename": path.name}
    if not path.is_file():
        raise InputError(
            f"road network file not found: {path}", code="network.not_found", params=params
        )
    if path.stat().st_size == 0:
        raise InputError(
            f"road network file {path.name} is empty", code="network.empty_file", params=params
        )
    name = path.name.lower()
    if name.endswith(".pbf"):
        graph = _graph_from_pbf(path)
    elif name.endswith((".osm", ".xml", ".osm.bz2", ".xml.bz2")):
        graph = _graph_from_osm_xml(path)
    elif name.endswith(".graphml"):
        import osmnx as ox

        try:
            graph = ox.load_graphml(path)
        except Exception as exc:
            raise _unreadable(path, exc) from exc
        if graph.number_of_edges() == 0:
            raise InputError(
                f"{path.name} contains no roads", code="network.no_roads", params=params
            )
    else:
        raise InputError(
            f"unrecognised road network format: {path.name}",
            code="network.unknown_format",
            params=params,
        )
    if polygon is not None:
        import osmnx as ox

        try:
            graph = ox.truncate.truncate_graph_polygon(graph, polygon, truncate_by_edge=True)
        except ValueError as exc:
            raise InputError(
                f"{path.name} has no roads inside the polygon",
                code="network.no_roads",
                params=params,
            ) from exc
        if graph.number_of_edges() == 0:
            raise InputError(
                f"{path.name} has no roads inside the polygon",
                code="network.no_roads",
                params=params,
            )
    return graph


# --------------------------------------------------------------------------- sparse graph


@dataclass(frozen=True)
class RoadGraph:
    """A road network ready for shortest paths, in one metric CRS and one mode.

    ``matrix`` is the *reversed* travel graph in CSR form, ``(n + 1) × (n + 1)``:
    ``matrix[b, a]`` is the minutes of travel from node ``a`` to node ``b``;
    row and column ``n`` are the (empty) super-source.  Nodes ``0 .. n_graph_nodes
    - 1`` are the graph's own nodes in ``node_ids`` order, the rest are points
    inserted along the roads every ``densify_m`` metres at most.
    """

    mode: str
    crs: str
    matrix: sp.csr_matrix
    xy: NDArray[np.float64]
    node_ids: list[Any]
    snappable: NDArray[np.int64]
    n_segments: int
    road_km: float
    densify_m: float | None
    tree: cKDTree | None = field(default=None, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        return int(self.xy.shape[0])

    @property
    def n_graph_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def source(self) -> int:
        """Index of the super-source row/column."""
        return self.n_nodes

    def snap(
        self, xy: NDArray[np.float64], k: int, max_m: float
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """The ``k`` nearest usable nodes of each point within ``max_m``.

        Returns distances (``inf`` where none) and node indices (-1 there), both
        of shape ``(len(xy), k)``.
        """
        pts = np.asarray(xy, dtype=float).reshape(-1, 2)
        dist = np.full((len(pts), k), np.inf)
        node = np.full((len(pts), k), -1, dtype=np.int64)
        if len(pts) == 0 or self.tree is None or len(self.snappable) == 0:
            return dist, node
        tree = self.tree
        kk = min(k, len(self.snappable))
        # the k-d tree's bound is strict; a point exactly max_m away still joins
        d, i = tree.query(pts, k=kk, distance_upper_bound=max_m + 1e-6, workers=-1)
        d = np.asarray(d, dtype=float).reshape(len(pts), kk)
        i = np.asarray(i, dtype=np.int64).reshape(len(pts), kk)
        ok = np.isfinite(d)
        dist[:, :kk] = d
        node[:, :kk] = np.where(ok, self.snappable[np.clip(i, 0, len(self.snappable) - 1)], -1)
        return dist, node

    def minutes_from_nodes(
        self,
        facility_nodes: NDArray[np.int64],
        facility_legs_min: NDArray[np.float64],
        facility_index: NDArray[np.int64],
        cutoff_min: float = math.inf,
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Minutes from every node to its nearest facility, and that facility.

        Facility ``facility_index[j]`` is reached from node ``facility_nodes[j]``
        after ``facility_legs_min[j]`` more minutes (its off-road leg; one
        facility may have several entries).  Returns ``(minutes, facility)`` of
        length ``n_nodes``: ``inf`` / -1 where no facility is within
        ``cutoff_min``.  Exact: one Dijkstra from a super-source whose edge to
        each facility node weighs that leg.
        """
        n = self.n_nodes
        nodes = np.asarray(facility_nodes, dtype=np.int64).ravel()
        legs = np.asarray(facility_legs_min, dtype=float).ravel()
        fac = np.asarray(facility_index, dtype=np.int64).ravel()
        ok = (nodes >= 0) & (nodes < n) & np.isfinite(legs)
        nodes, legs, fac = nodes[ok], legs[ok], fac[ok]
        minutes = np.full(n, np.inf)
        label = np.full(n, -1, dtype=np.int64)
        if len(nodes) == 0:
            return minutes, label
        # one super-source edge per node: the smallest leg (ties: lowest facility)
        order = np.lexsort((fac, legs, nodes))
        nodes, legs, fac = nodes[order], legs[order], fac[order]
        first = np.ones(len(nodes), dtype=bool)
        first[1:] = nodes[1:] != nodes[:-1]
        nodes, legs, fac = nodes[first], legs[first], fac[first]
        base = self.matrix
        indptr = base.indptr.copy()
        indptr[-1] = indptr[-2] + len(nodes)
        mat = sp.csr_matrix(
            (
                np.concatenate([base.data, legs]),
                np.concatenate([base.indices, nodes.astype(base.indices.dtype)]),
                indptr,
            ),
            shape=base.shape,
        )
        limit = (
            cutoff_min + _EPS_MIN * max(1.0, cutoff_min) if math.isfinite(cutoff_min) else np.inf
        )
        dist, pred = dijkstra(
            mat, directed=True, indices=self.source, return_predecessors=True, limit=limit
        )
        dist = np.asarray(dist, dtype=float)[:n]
        pred = np.asarray(pred, dtype=np.int64)[:n]
        reached = np.isfinite(dist)
        # pointer jumping up the predecessor tree to the node hung on the super-source
        idx = np.arange(n, dtype=np.int64)
        anc = np.where(reached & (pred >= 0) & (pred != self.source), pred, idx)
        while True:
            nxt = anc[anc]
            if np.array_equal(nxt, anc):
                break
            anc = nxt
        fac_of_node = np.full(n, -1, dtype=np.int64)
        fac_of_node[nodes] = fac
        minutes[reached] = dist[reached]
        label[reached] = fac_of_node[anc[reached]]
        return minutes, label


def _points_reached(
    node_minutes: NDArray[np.float64],
    starts: NDArray[np.int64],
    node_sorted: NDArray[np.int64],
    pt_sorted: NDArray[np.int64],
    leg_sorted: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The points joined to reached nodes and their best minutes (node + off-road leg)."""
    reached = np.flatnonzero(np.isfinite(node_minutes))
    cnt = starts[reached + 1] - starts[reached]
    total = int(cnt.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    offset = np.repeat(starts[reached] - (np.cumsum(cnt) - cnt), cnt)
    idx = offset + np.arange(total)
    return _best_per_point(pt_sorted[idx], node_minutes[node_sorted[idx]] + leg_sorted[idx])


def _best_per_point(
    pts: NDArray[np.int64], mins: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The smallest minutes of each point among its entries, sorted by point."""
    order = np.lexsort((mins, pts))
    pts, mins = pts[order], mins[order]
    first = np.ones(len(pts), dtype=bool)
    first[1:] = pts[1:] != pts[:-1]
    return pts[first], mins[first]


def _with_direct_walk(
    pts: NDArray[np.int64],
    mins: NDArray[np.float64],
    tree: cKDTree,
    points_xy: NDArray[np.float64],
    fac: NDArray[np.float64],
    node_dist: NDArray[np.float64],
    mpm: float,
    limit: float,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Add the straight walk to the facility where it is allowed and quicker.

    As in :meth:`NetworkModel.travel_times`: a point may walk straight to a
    facility no farther than its own network node (or from off the network).
    """
    near = np.asarray(tree.query_ball_point(fac, limit / mpm + 1e-6), dtype=np.int64)
    if len(near) == 0:
        return pts, mins
    d = np.hypot(points_xy[near, 0] - fac[0], points_xy[near, 1] - fac[1])
    allowed = d <= node_dist[near]
    near, direct = near[allowed], d[allowed] * mpm
    if len(near) == 0:
        return pts, mins
    return _best_per_point(np.concatenate([pts, near]), np.concatenate([mins, direct]))


@functools.lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> Transformer:
    """pyproj transformers are slow to create (~0.2 s); reuse them."""
    return Transformer.from_crs(src, dst, always_xy=True)


def _geometry(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shapely.from_wkt(value)
        except shapely.errors.ShapelyError:
            return None
    return value if isinstance(value, shapely.LineString) else None


def build_road_graph(
    graph: nx.Graph,
    mode: str,
    crs: str,
    *,
    densify_m: float | None = DEFAULT_DENSIFY_M,
    speeds_kmh: Mapping[str, float] | None = None,
) -> RoadGraph:
    """The sparse travel graph of ``graph`` for ``mode`` in the metric ``crs``.

    See the module docstring, step 1.  Edge ``length`` (metres) is used when
    present, else the projected length of the edge's geometry (or of the
    straight line between its nodes).
    """
    problems: list[str] = []
    if mode not in ROAD_SPEEDS_KMH:
        problems.append(_both(f"未知出行方式 {mode!r}", f"unknown mode {mode!r}"))
    if densify_m is not None and not (math.isfinite(densify_m) and densify_m >= 1.0):
        problems.append(
            _both(f"加密间距须 ≥ 1 米：{densify_m}", f"densify_m must be ≥ 1 m, got {densify_m}")
        )
    if graph.number_of_nodes() == 0:
        problems.append(_both("道路网络没有节点", "the road graph has no nodes"))
    node_ids = list(graph.nodes)
    xs = np.array([_float(graph.nodes[n].get("x")) for n in node_ids], dtype=float)
    ys = np.array([_float(graph.nodes[n].get("y")) for n in node_ids], dtype=float)
    bad = [node_ids[i] for i in np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys)))]
    if bad:
        problems.append(
            _both(
                f"{len(bad)} 个节点缺少坐标 x/y：{bad[:5]}",
                f"{len(bad)} nodes lack x/y coordinates: {bad[:5]}",
            )
        )
    graph_crs = graph.graph.get("crs", "EPSG:4326")
    try:
        if not CRS.from_user_input(crs).is_projected:
            problems.append(
                _both(f"格网坐标系 {crs} 不是投影坐标系（米）", f"grid CRS {crs} is not metric")
            )
        transformer = _transformer(str(graph_crs), str(crs))
    except Exception as exc:  # pyproj raises CRSError / ProjError
        problems.append(_both(f"坐标系无效：{exc}", f"invalid CRS: {exc}"))
    if problems:
        raise InputError("invalid road network", code="network.invalid", problems=problems)

    px, py = transformer.transform(xs, ys)
    node_xy = np.column_stack([np.asarray(px, dtype=float), np.asarray(py, dtype=float)])
    index = {n: i for i, n in enumerate(node_ids)}

    # 1. usable directed edges
    us: list[int] = []
    vs: list[int] = []
    kmh: list[float] = []
    lengths: list[float] = []
    geoms: list[Any] = []
    walkable: list[bool] = []
    memo: dict[tuple[str, str], tuple[float | None, bool]] = {}  # few distinct tag pairs
    for u, v, data in graph.edges(data=True):
        tags = (repr(data.get("highway")), repr(data.get("maxspeed")))
        hit = memo.get(tags)
        if hit is None:
            s_mode = edge_speed_kmh(data, mode, speeds_kmh)
            hit = (s_mode, mode == "walk" or edge_speed_kmh(data, "walk") is not None)
            memo[tags] = hit
        s, can_walk = hit
        if s is None:
            continue
        us.append(index[u])
        vs.append(index[v])
        kmh.append(s)
        walkable.append(can_walk)
        lengths.append(_float(data.get("length")))
        geoms.append(_geometry(data.get("geometry")))
    u_a = np.asarray(us, dtype=np.int64)
    v_a = np.asarray(vs, dtype=np.int64)
    speed = np.asarray(kmh, dtype=float)
    length = np.asarray(lengths, dtype=float)
    geom = np.asarray(geoms, dtype=object) if geoms else np.empty(0, dtype=object)
    has_geom = np.array([g is not None for g in geom], dtype=bool)
    if has_geom.any():
        geom[has_geom] = shapely.transform(
            geom[has_geom],
            lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])),
        )
    # midpoints: the same for an edge and its reverse twin
    mid = (node_xy[u_a] + node_xy[v_a]) / 2.0 if len(u_a) else np.empty((0, 2))
    if has_geom.any():
        mid[has_geom] = shapely.get_coordinates(
            shapely.line_interpolate_point(geom[has_geom], 0.5, normalized=True)
        )
    proj_len = np.linalg.norm(node_xy[v_a] - node_xy[u_a], axis=1) if len(u_a) else np.empty(0)
    if has_geom.any():
        proj_len[has_geom] = shapely.length(geom[has_geom])
    missing = ~np.isfinite(length)
    length[missing] = proj_len[missing]
    if (length < 0).any():
        raise InputError(
            "invalid road network",
            code="network.invalid",
            problems=[_both("有路段长度为负数", "some edges have a negative length")],
        )

    # 2. road pieces: an edge and its reverse twin are one piece
    lo = np.minimum(u_a, v_a)
    hi = np.maximum(u_a, v_a)
    key = np.column_stack([lo, hi, np.round(mid, 1)]) if len(u_a) else np.empty((0, 4))
    _, first_idx, piece = np.unique(key, axis=0, return_index=True, return_inverse=True)
    piece = piece.ravel()
    n_pieces = len(first_idx)
    rep = first_idx  # representative edge of each piece: its direction is "forward"
    a, b = u_a[rep], v_a[rep]
    minutes = length / (speed * 1000.0 / 60.0)
    directed = bool(graph.is_directed()) and mode == "drive"
    forward = (u_a == a[piece]) | (u_a == v_a)  # loops count as two-way
    w_fwd = np.full(n_pieces, np.inf)
    w_bwd = np.full(n_pieces, np.inf)
    if directed:
        np.minimum.at(w_fwd, piece[forward], minutes[forward])
        np.minimum.at(w_bwd, piece[~forward], minutes[~forward])
        loop = a == b
        w_bwd[loop] = np.minimum(w_bwd[loop], w_fwd[loop])
    else:
        np.minimum.at(w_fwd, piece, minutes)
        w_bwd = w_fwd.copy()
    # cells and facilities join only roads a pedestrian may use (not motorways)
    piece_walkable = np.zeros(n_pieces, dtype=bool)
    np.logical_or.at(piece_walkable, piece, np.asarray(walkable, dtype=bool))
    piece_len = np.full(n_pieces, np.inf)
    np.minimum.at(piece_len, piece, length)
    road_km = float(piece_len.sum()) / 1000.0 if n_pieces else 0.0

    # 3. densify: nseg segments per piece, interior nodes appended after the graph's
    if densify_m is None or n_pieces == 0:
        nseg = np.ones(n_pieces, dtype=np.int64)
    else:
        nseg = np.maximum(1, np.ceil(piece_len / densify_m - 1e-9)).astype(np.int64)
    n_int = nseg - 1
    n0 = len(node_ids)
    int_start = n0 + np.concatenate([[0], np.cumsum(n_int)[:-1]]).astype(np.int64)
    total_int = int(n_int.sum())
    int_xy = np.empty((total_int, 2))
    if total_int:
        p_of_int = np.repeat(np.arange(n_pieces), n_int)
        j = np.arange(total_int) - np.repeat(int_start - n0, n_int) + 1  # 1 .. nseg-1
        frac = j / nseg[p_of_int]
        rep_geom = geom[rep] if len(geom) else np.empty(0, dtype=object)
        curved = has_geom[rep][p_of_int]
        xa, xb = node_xy[a[p_of_int]], node_xy[b[p_of_int]]
        int_xy[:] = xa + (xb - xa) * frac[:, None]
        if curved.any():
            pts = shapely.line_interpolate_point(
                rep_geom[p_of_int[curved]], frac[curved], normalized=True
            )
            int_xy[curved] = shapely.get_coordinates(pts)
    xy = np.vstack([node_xy, int_xy])

    total_seg = int(nseg.sum())
    p_of_seg = np.repeat(np.arange(n_pieces), nseg)
    k = np.arange(total_seg) - np.repeat(np.cumsum(nseg) - nseg, nseg)

    def chain(pos: NDArray[np.int64]) -> NDArray[np.int64]:
        out = int_start[p_of_seg] + pos - 1
        out = np.where(pos == 0, a[p_of_seg], out)
        return np.where(pos == nseg[p_of_seg], b[p_of_seg], out)

    s_from, s_to = chain(k), chain(k + 1)
    wf = (w_fwd / nseg)[p_of_seg]
    wb = (w_bwd / nseg)[p_of_seg]
    # reversed graph: travel a -> b is matrix[b, a]
    okf, okb = np.isfinite(wf), np.isfinite(wb)
    rows = np.concatenate([s_to[okf], s_from[okb]])
    cols = np.concatenate([s_from[okf], s_to[okb]])
    data = np.concatenate([wf[okf], wb[okb]])
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, data = rows[keep], cols[keep], data[keep]
    n = len(xy)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
    matrix.sort_indices()
    used = np.zeros(n, dtype=bool)
    joins = piece_walkable[p_of_seg]
    used[s_from[joins]] = True
    used[s_to[joins]] = True
    snappable = np.flatnonzero(used).astype(np.int64)
    return RoadGraph(
        mode=mode,
        crs=crs,
        matrix=matrix,
        xy=xy,
        node_ids=node_ids,
        snappable=snappable,
        n_segments=len(data),
        road_km=road_km,
        densify_m=densify_m,
        tree=cKDTree(xy[snappable]) if len(snappable) else None,
    )


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# --------------------------------------------------------------------------- model


@dataclass
class NetworkModel:
    """Travel time along a road network (model ``network``).

    Parameters
    ----------
    graph
        A networkx graph as :func:`load_roads` returns (OSMnx conventions:
        node ``x``/``y`` in ``graph.graph["crs"]``, default EPSG:4326; edge
        ``length`` in metres, ``highway``, ``maxspeed``, optional ``geometry``).
    mode
        ``walk``, ``ebike`` or ``drive`` (speeds: :data:`ROAD_SPEEDS_KMH`).
    cutoff_min
        Times above this are ``inf``; a time equal to it is kept.
    offroad_speed_kmh, offroad_detour
        Walking legs between a cell or facility and the network (and the
        direct walk): ``straight distance × offroad_detour / offroad_speed``.
        The default detour, 1.3, is the straight-line model's.
    max_snap_m
        Nothing farther than this from every usable node joins the network.
    densify_m
        Longest road segment between two joining points (``None``: join only
        at the graph's own nodes).
    snap_k
        Number of nearest nodes a cell or facility may join (the best is kept).
    direct_walk
        Let a cell walk straight to its straight-line nearest facility when
        that facility is no farther than the cell's network node (or the cell
        is off the network); see the module docstring, step 5.
    speeds_kmh
        Overrides of ``ROAD_SPEEDS_KMH[mode]`` (class → km/h).
    """

    graph: Any
    mode: str = "walk"
    cutoff_min: float = DEFAULT_CUTOFF_MIN
    offroad_speed_kmh: float = MODE_SPEEDS_KMH["walk"]
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    offroad_detour: float = DEFAULT_DETOUR
    densify_m: float | None = DEFAULT_DENSIFY_M
    snap_k: int = 1
    direct_walk: bool = True
    speeds_kmh: Mapping[str, float] | None = None
    name: str = "network"
    _cache: dict[tuple[Any, ...], RoadGraph] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        problems = self._parameter_problems()
        if problems:
            raise InputError(
                "invalid road-network model parameters", code="network.invalid", problems=problems
            )

    def _parameter_problems(self) -> list[str]:
        p: list[str] = []
        if self.mode not in NETWORK_MODES:
            p.append(
                _both(
                    f"出行方式须为 {'/'.join(NETWORK_MODES)}，当前为 {self.mode!r}",
                    f"mode must be one of {', '.join(NETWORK_MODES)}, got {self.mode!r}",
                )
            )
        if not (isinstance(self.cutoff_min, (int, float)) and self.cutoff_min > 0):
            p.append(
                _both(
                    f"时间上限须大于 0 分钟：{self.cutoff_min}",
                    f"cutoff_min must be > 0, got {self.cutoff_min}",
                )
            )
        if not (
            isinstance(self.offroad_speed_kmh, (int, float))
            and 0.5 <= self.offroad_speed_kmh <= 150
        ):
            p.append(
                _both(
                    f"步行接驳速度须在 0.5–150 km/h 之间：{self.offroad_speed_kmh}",
                    f"offroad_speed_kmh must be between 0.5 and 150, got {self.offroad_speed_kmh}",
                )
            )
        if not (
            isinstance(self.offroad_detour, (int, float)) and 1.0 <= self.offroad_detour <= 3.0
        ):
            p.append(
                _both(
                    f"接驳绕行系数须在 1.0–3.0 之间：{self.offroad_detour}",
                    f"offroad_detour must be between 1.0 and 3.0, got {self.offroad_detour}",
                )
            )
        if not (isinstance(self.max_snap_m, (int, float)) and self.max_snap_m >= 0):
            p.append(
                _both(
                    f"最大接驳距离须 ≥ 0 米：{self.max_snap_m}",
                    f"max_snap_m must be ≥ 0, got {self.max_snap_m}",
                )
            )
        if self.densify_m is not None and not (
            isinstance(self.densify_m, (int, float))
            and math.isfinite(self.densify_m)
            and self.densify_m >= 1.0
        ):
            p.append(
                _both(
                    f"加密间距须 ≥ 1 米或为空：{self.densify_m}",
                    f"densify_m must be ≥ 1 m or None, got {self.densify_m}",
                )
            )
        if not (isinstance(self.snap_k, int) and 1 <= self.snap_k <= 16):
            p.append(
                _both(
                    f"接驳候选节点数须为 1–16：{self.snap_k}",
                    f"snap_k must be an integer from 1 to 16, got {self.snap_k}",
                )
            )
        for cls, kmh in (self.speeds_kmh or {}).items():
            if not (isinstance(kmh, (int, float)) and 0.5 <= kmh <= 150):
                p.append(
                    _both(
                        f"道路等级 {cls} 的速度须在 0.5–150 km/h 之间：{kmh}",
                        f"speed of class {cls} must be between 0.5 and 150 km/h, got {kmh}",
                    )
                )
        if not hasattr(self.graph, "nodes") or not hasattr(self.graph, "edges"):
            p.append(_both("graph 不是 networkx 图", "graph is not a networkx graph"))
        elif self.graph.number_of_edges() == 0:
            p.append(_both("道路网络没有路段", "the road graph has no edges"))
        return p

    @property
    def minutes_per_offroad_metre(self) -> float:
        return self.offroad_detour / (self.offroad_speed_kmh * 1000.0 / 60.0)

    def road_graph(self, crs: str) -> RoadGraph:
        """The sparse graph in ``crs`` (built once per CRS and setting, then cached)."""
        speeds = tuple(sorted((self.speeds_kmh or {}).items()))
        key = (str(crs), self.mode, self.densify_m, speeds)
        rg = self._cache.get(key)
        if rg is None:
            rg = build_road_graph(
                self.graph, self.mode, crs, densify_m=self.densify_m, speeds_kmh=self.speeds_kmh
            )
            self._cache[key] = rg
        return rg

    def _input_problems(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> list[str]:
        p = self._parameter_problems()
        shape = np.shape(mask)
        if shape != grid.shape:
            p.append(
                _both(
                    f"掩膜形状 {shape} 与格网 {grid.shape} 不一致",
                    f"mask shape {shape} differs from the grid's {grid.shape}",
                )
            )
        xy = np.asarray(facilities_xy, dtype=float)
        if xy.size and (xy.ndim != 2 or xy.shape[1] != 2):
            p.append(
                _both(
                    f"机构坐标须为 (n, 2) 数组，当前形状 {xy.shape}",
                    f"facilities_xy must be an (n, 2) array, got shape {xy.shape}",
                )
            )
        elif xy.size and not np.isfinite(xy).all():
            bad = np.flatnonzero(~np.isfinite(xy.reshape(-1, 2)).all(axis=1)).tolist()
            p.append(
                _both(
                    f"{len(bad)} 个机构坐标无效（NaN/inf）：第 {bad[:10]} 个",
                    f"{len(bad)} facilities have NaN/inf coordinates: rows {bad[:10]}",
                )
            )
        try:
            if not CRS.from_user_input(grid.crs).is_projected:
                p.append(
                    _both(
                        f"格网坐标系 {grid.crs} 不是投影坐标系（米）",
                        f"grid CRS {grid.crs} is not metric",
                    )
                )
        except Exception as exc:  # pyproj CRSError
            p.append(_both(f"格网坐标系无效：{exc}", f"invalid grid CRS: {exc}"))
        return p

    def pair_minutes(
        self,
        crs: str,
        points_xy: NDArray[np.float64],
        facilities_xy: NDArray[np.float64],
        max_minutes: float | None = None,
        *,
        max_batch_cells: int = 20_000_000,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Minutes from every point to *every* facility within ``max_minutes``, as pairs.

        The same journeys as :meth:`travel_times` (snapping, off-road legs,
        direct walk), per facility instead of to the nearest one: the
        smallest pair time of a point equals its :meth:`travel_times` minutes.
        ``max_minutes`` defaults to (and is capped by) ``cutoff_min``.  One
        Dijkstra per facility with the cutoff, in batches whose dense result
        holds at most ``max_batch_cells`` numbers; each facility then reads
        only the points snapped to the nodes it reaches.  Returns ``(point,
        facility, minutes)`` arrays sorted by facility, then point.
        """
        pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
        fac_xy = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
        cap = float(self.cutoff_min)
        if max_minutes is not None:
            cap = min(cap, float(max_minutes))
        tol = _EPS_MIN * max(1.0, cap) if math.isfinite(cap) else 0.0
        empty = np.zeros(0, dtype=np.int64)
        if len(pts) == 0 or len(fac_xy) == 0:
            return empty, empty, np.zeros(0)
        rg = self.road_graph(crs)
        mpm = self.minutes_per_offroad_metre
        k = self.snap_k
        n = rg.n_nodes
        f_dist, f_node = rg.snap(fac_xy, k, self.max_snap_m)
        p_dist, p_node = rg.snap(pts, k, self.max_snap_m)
        # points by the node they join (a point joins up to k nodes)
        flat = p_node.ravel()
        ok = flat >= 0
        by_node = np.argsort(flat[ok], kind="stable")
        node_sorted = flat[ok][by_node]
        pt_sorted = np.repeat(np.arange(len(pts)), k)[ok][by_node]
        leg_sorted = (p_dist.ravel()[ok] * mpm)[by_node]
        starts = np.searchsorted(node_sorted, np.arange(n + 1))
        core = rg.matrix[:n, :n].tocsr()
        point_tree = cKDTree(pts) if self.direct_walk else None
        limit = cap + tol if math.isfinite(cap) else np.inf
        batch = max(1, min(len(fac_xy), max_batch_cells // max(n, 1)))
        out_p: list[NDArray[np.int64]] = []
        out_f: list[NDArray[np.int64]] = []
        out_m: list[NDArray[np.float64]] = []
        for b0 in range(0, len(fac_xy), batch):
            ids = np.arange(b0, min(b0 + batch, len(fac_xy)))
            dist = self._facility_dijkstra(core, f_node[ids], f_dist[ids] * mpm, limit)
            for row, j in enumerate(ids):
                p_i, m_i = _points_reached(dist[row], starts, node_sorted, pt_sorted, leg_sorted)
                if point_tree is not None:
                    p_i, m_i = _with_direct_walk(
                        p_i, m_i, point_tree, pts, fac_xy[j], p_dist[:, 0], mpm, cap + tol
                    )
                keep = m_i <= cap + tol
                out_p.append(p_i[keep])
                out_f.append(np.full(int(keep.sum()), j, dtype=np.int64))
                out_m.append(m_i[keep])
        return np.concatenate(out_p), np.concatenate(out_f), np.concatenate(out_m)

    @staticmethod
    def _facility_dijkstra(
        core: sp.csr_matrix, nodes: NDArray[np.int64], legs: NDArray[np.float64], limit: float
    ) -> NDArray[np.float64]:
        """Minutes from every node to each facility (rows), one super-source per facility."""
        n = core.shape[0]
        b = len(nodes)
        valid = nodes >= 0
        counts = valid.sum(axis=1)
        indptr = np.concatenate([core.indptr, core.indptr[-1] + np.cumsum(counts)])
        mat = sp.csr_matrix(
            (
                np.concatenate([core.data, legs[valid]]),
                np.concatenate([core.indices, nodes[valid].astype(core.indices.dtype)]),
                indptr,
            ),
            shape=(n + b, n + b),
        )
        dist = dijkstra(mat, directed=True, indices=np.arange(n, n + b), limit=limit)
        return np.asarray(dist, dtype=float).reshape(b, n + b)[:, :n]

    def travel_times(
        self, grid: CellGrid, mask: NDArray[np.bool_], facilities_xy: NDArray[np.float64]
    ) -> TravelTimes:
        """Minutes from each masked cell centre to its nearest facility (metric ``grid.crs``)."""
        problems = self._input_problems(grid, mask, facilities_xy)
        if problems:
            raise InputError(
                "invalid input for road-network travel time",
                code="network.invalid",
                problems=problems,
            )
        rg = self.road_graph(grid.crs)
        fac_xy = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
        mpm = self.minutes_per_offroad_metre
        cutoff = float(self.cutoff_min)
        tol = _EPS_MIN * max(1.0, cutoff) if math.isfinite(cutoff) else 0.0
        k = self.snap_k

        # facilities onto the network
        f_dist, f_node = rg.snap(fac_xy, k, self.max_snap_m)
        node_min, node_fac = rg.minutes_from_nodes(
            f_node.ravel(),
            (f_dist * mpm).ravel(),
            np.repeat(np.arange(len(fac_xy)), k),
            cutoff,
        )

        # cells onto the network
        rows, cols = np.nonzero(np.asarray(mask, dtype=bool))
        cx, cy = grid.centres(rows, cols)
        cell_xy = np.column_stack([cx, cy])
        c_dist, c_node = rg.snap(cell_xy, k, self.max_snap_m)
        safe = np.clip(c_node, 0, None)
        via = np.where(c_node >= 0, node_min[safe] + c_dist * mpm, np.inf)
        best = np.argmin(via, axis=1) if len(cell_xy) else np.zeros(0, dtype=np.int64)
        r_idx = np.arange(len(cell_xy))
        minutes = via[r_idx, best]
        nearest = np.where(np.isfinite(minutes), node_fac[safe[r_idx, best]], -1)
        unsnapped = int((c_node[:, 0] < 0).sum()) if len(cell_xy) else 0

        n_direct = 0
        if self.direct_walk and len(fac_xy) and len(cell_xy):
            d, i = cKDTree(fac_xy).query(cell_xy, k=1, workers=-1)
            d = np.asarray(d, dtype=float)
            direct = d * mpm
            # c_dist[:, 0] is the distance to the nearest node, inf off the network
            use = (d <= c_dist[:, 0]) & (direct < minutes)
            n_direct = int(use.sum())
            minutes = np.where(use, direct, minutes)
            nearest = np.where(use, np.asarray(i, dtype=np.int64), nearest)
        beyond = ~(minutes <= cutoff + tol)
        minutes = np.where(beyond, np.inf, minutes)
        nearest = np.where(beyond, -1, nearest)

        out_min = np.full(grid.shape, np.inf, dtype=np.float32)
        out_near = np.full(grid.shape, -1, dtype=np.int32)
        out_min[rows, cols] = minutes.astype(np.float32)
        out_near[rows, cols] = nearest.astype(np.int32)
        return TravelTimes(
            grid=grid,
            minutes=out_min,
            nearest=out_near,
            model=self.name,
            params={
                "mode": self.mode,
                "cutoff_min": cutoff,
                "offroad_speed_kmh": self.offroad_speed_kmh,
                "offroad_detour": self.offroad_detour,
                "max_snap_m": self.max_snap_m,
                "densify_m": self.densify_m,
                "snap_k": self.snap_k,
                "direct_walk": self.direct_walk,
                "speeds_kmh": dict(ROAD_SPEEDS_KMH[self.mode], **(self.speeds_kmh or {})),
                "road_km": round(rg.road_km, 3),
                "n_nodes": rg.n_nodes,
                "n_segments": rg.n_segments,
                "facilities_off_network": int((f_node[:, 0] < 0).sum()) if len(fac_xy) else 0,
                "cells_off_network": unsnapped,
                "cells_direct_walk": n_direct,
            },
            cutoff_min=cutoff,
        )
