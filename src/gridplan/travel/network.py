"""Road-network travel time (model ``network``).

Minutes from every cell of a :class:`~gridplan.surface.grid.CellGrid` to its
nearest facility along an OpenStreetMap road network, for walking, e-bike or
car.  Same interface as the other models (:mod:`gridplan.travel.base`):
``NetworkModel(graph, mode=...).travel_times(grid, mask, facilities_xy)``.

Roads
-----
:func:`load_roads` reads an OSM XML file (``.osm``, ``.osm.bz2``), a GraphML
file written by OSMnx (``.graphml``) or an ``.osm.pbf`` extract (Geofabrik's
China/Hebei files): pyosmium (a dependency) copies its ``highway`` ways and
their nodes to OSM XML, read as above; without pyosmium a PBF is
refused with the ``osmium`` command that converts it.  Online, it can download the roads inside
a polygon with OSMnx (not exercised by the tests, which run offline).  Only
ways tagged ``highway`` are kept: OSM XML files also hold buildings, land use
and so on, which OSMnx would otherwise turn into "edges".

Speeds
------
:data:`~gridplan.travel.speeds.ROAD_SPEEDS_KMH` gives the speed of each OSM
``highway`` class per mode; a class missing from a mode's table cannot be
used in that mode (no walking or e-bike on motorways, no car on footways).
These are planning assumptions, not measurements; see the table's comment for
their basis.  Each edge's speed follows
:func:`~gridplan.travel.speeds.road_speed_kmh` (lists of classes, unknown and
closed classes, ``maxspeed`` for cars), the rules the raster model applies to
its road lines too.

* One-way streets (car only): the direction of travel comes from the graph's
  directed edges, as OSMnx builds them (a two-way street has edges both ways,
  a ``oneway=yes`` street only one, ``oneway=-1`` the reverse one).  Walking
  and e-bikes ignore ``oneway`` and use every usable edge both ways.  An
  undirected networkx graph is two-way everywhere.

Algorithm
---------
1. :func:`build_road_graph` (once per graph, mode and CRS; cached in the
   model and, for a file read by :func:`load_roads`, shared by every model of
   that file through :mod:`gridplan.travel.graphcache`), from the graph's
   arrays (:mod:`gridplan.travel.roadtable`: kept by the OSM reader, else read
   in bulk), never edge by edge: node coordinates are projected from the
   graph's CRS (OSMnx: EPSG:4326) to the grid's metric CRS.  Each road piece (a two-way street's
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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from gridplan._types import BoolArray, FloatArray, IntArray, XYArray
from gridplan._validate import Problems
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimes, check_cutoff, check_mode
from gridplan.travel.graph import (
    DEFAULT_DENSIFY_M,
    RoadGraph,
    _JoinedPoints,
    build_road_graph,
    check_densify,
    check_metric_crs,
    cutoff_limit,
)
from gridplan.travel.graphcache import cached_road_graph
from gridplan.travel.pairs import Pairs, time_point_order
from gridplan.travel.roadtable import graph_has_edges, table_of
from gridplan.travel.speeds import (
    DEFAULT_DETOUR,
    MODE_SPEEDS_KMH,
    ROAD_SPEEDS_KMH,
    check_road_speeds,
    check_speed_detour,
    metres_per_minute,
)

DEFAULT_CUTOFF_MIN = 60.0
DEFAULT_MAX_SNAP_M = 2000.0


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
        ``walk``, ``ebike`` or ``drive`` (speeds: :data:`~gridplan.travel.speeds.ROAD_SPEEDS_KMH`).
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
        problems = Problems("network.invalid", "invalid road-network model parameters")
        self._check_parameters(problems)
        problems.raise_if_any()

    def _check_parameters(self, problems: Problems) -> None:
        """Every problem of the model's parameters and graph, added to ``problems``."""
        check_mode(problems, self.mode)
        check_cutoff(problems, self.cutoff_min)
        check_speed_detour(problems, self.offroad_speed_kmh, self.offroad_detour)
        problems.number("max_snap_m", self.max_snap_m, low_inclusive=True, allow_inf=True)
        if self.densify_m is not None:
            check_densify(problems, self.densify_m)
        problems.integer("snap_k", self.snap_k, 1, 16)
        check_road_speeds(problems, self.speeds_kmh)
        if not hasattr(self.graph, "nodes") or not hasattr(self.graph, "edges"):
            problems.add("network.not_a_graph", "graph is not a networkx graph")
        elif not graph_has_edges(self.graph):  # O(1): number_of_edges() counts them all
            problems.add("network.no_edges", "the road graph has no edges")

    @property
    def minutes_per_offroad_metre(self) -> float:
        return self.offroad_detour / metres_per_minute(self.offroad_speed_kmh)

    def road_graph(self, crs: str) -> RoadGraph:
        """The sparse graph in ``crs`` (built once per CRS and setting, then cached).

        The graph of a road file read by :func:`load_roads` is also shared with
        every other model of the same file (:mod:`gridplan.travel.graphcache`).
        """
        speeds = tuple(sorted((self.speeds_kmh or {}).items()))
        key = (str(crs), self.mode, self.densify_m, speeds)
        rg = self._cache.get(key)
        if rg is None:

            def build() -> RoadGraph:
                return build_road_graph(
                    self.graph, self.mode, crs, densify_m=self.densify_m, speeds_kmh=self.speeds_kmh
                )

            table = table_of(self.graph)
            digest = table.digest if table is not None else None
            rg = cached_road_graph((digest, *key), build) if digest else build()
            self._cache[key] = rg
        return rg

    def pairs(
        self,
        grid: CellGrid,
        points_xy: XYArray,
        facilities_xy: XYArray,
        max_minutes: float,
        *,
        max_batch_cells: int = 20_000_000,
    ) -> Pairs:
        """Minutes from every point to *every* facility within ``max_minutes`` (``grid.crs``).

        The same journeys as :meth:`travel_times` (snapping, off-road legs,
        direct walk), per facility instead of to the nearest one: the
        smallest pair time of a point equals its :meth:`travel_times` minutes.
        ``max_minutes`` is capped by ``cutoff_min``; a pair is kept, as in
        :meth:`travel_times`, when its minutes are at most the cap (with the
        cutoff's tolerance for float sums).  One Dijkstra per facility with
        the cutoff, in batches whose dense result holds at most
        ``max_batch_cells`` numbers; each facility then reads only the points
        snapped to the nodes it reaches.  Minutes are ``float64``.
        """
        pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
        fac_xy = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
        cap = min(float(self.cutoff_min), float(max_minutes))
        limit = cutoff_limit(cap)
        params = {"mode": self.mode, "cutoff_min": float(self.cutoff_min)}
        if len(pts) == 0 or len(fac_xy) == 0:
            return Pairs.concat([], len(pts), len(fac_xy), cap, params=params)
        rg = self.road_graph(grid.crs)
        mpm = self.minutes_per_offroad_metre
        n = rg.n_nodes
        f_dist, f_node = rg.snap(fac_xy, self.snap_k, self.max_snap_m)
        joined = _JoinedPoints.join(
            rg,
            pts,
            k=self.snap_k,
            max_snap_m=self.max_snap_m,
            minutes_per_metre=mpm,
            direct_walk=self.direct_walk,
        )
        core = rg.matrix[:n, :n].tocsr()
        batch = max(1, min(len(fac_xy), max_batch_cells // max(n, 1)))
        parts = []
        for b0 in range(0, len(fac_xy), batch):
            ids = np.arange(b0, min(b0 + batch, len(fac_xy)))
            dist = self._facility_dijkstra(core, f_node[ids], f_dist[ids] * mpm, limit)
            for row, j in enumerate(ids):
                p_i, m_i = joined.reached(dist[row])
                p_i, m_i = joined.with_direct_walk(p_i, m_i, fac_xy[j], limit)
                keep = np.flatnonzero(m_i <= limit)
                order = keep[time_point_order(p_i[keep], m_i[keep])]
                parts.append((p_i[order], np.full(len(order), j, dtype=np.int32), m_i[order]))
        return Pairs.concat(
            parts, len(pts), len(fac_xy), cap, minutes_dtype=np.float64, params=params
        )

    @staticmethod
    def _facility_dijkstra(
        core: sp.csr_matrix, nodes: IntArray, legs: FloatArray, limit: float
    ) -> FloatArray:
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

    def travel_times(self, grid: CellGrid, mask: BoolArray, facilities_xy: XYArray) -> TravelTimes:
        """Minutes from each masked cell centre to its nearest facility (metric ``grid.crs``)."""
        problems = Problems("network.invalid", "invalid input for road-network travel time")
        self._check_parameters(problems)
        problems.shape("mask", mask, grid.shape)
        problems.points("facilities_xy", facilities_xy)
        check_metric_crs(problems, grid.crs)
        problems.raise_if_any()
        rg = self.road_graph(grid.crs)
        fac_xy = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
        mpm = self.minutes_per_offroad_metre
        cutoff = float(self.cutoff_min)
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
        beyond = ~(minutes <= cutoff_limit(cutoff))
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
