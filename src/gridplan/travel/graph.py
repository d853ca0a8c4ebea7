"""The road network as a sparse graph in the grid's metric CRS: snapping, multi-source Dijkstra."""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from gridplan._types import BoolArray, FloatArray, IntArray, ObjectArray, XYArray
from gridplan._validate import Problems, as_float
from gridplan.inputs.crs import transformer as crs_transformer
from gridplan.travel.base import check_mode
from gridplan.travel.roadtable import RoadTable, collector_paused, road_table, table_of
from gridplan.travel.speeds import edge_speed_kmh

if TYPE_CHECKING:
    import networkx as nx

DEFAULT_DENSIFY_M = 50.0
_EPS_MIN = 1e-9  # minutes: tolerance of the cutoff test on float sums


def cutoff_limit(cutoff_min: float) -> float:
    """The most minutes counted as within ``cutoff_min``: a sum of floats may overshoot it.

    A time equal to the cutoff is kept, up to 1e-9 relative (``inf``: no cutoff).
    """
    return cutoff_min + _EPS_MIN * max(1.0, cutoff_min) if math.isfinite(cutoff_min) else math.inf


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
    xy: FloatArray
    node_ids: list[Any]
    snappable: IntArray
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

    def snap(self, xy: FloatArray, k: int, max_m: float) -> tuple[FloatArray, IntArray]:
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
        facility_nodes: IntArray,
        facility_legs_min: FloatArray,
        facility_index: IntArray,
        cutoff_min: float = math.inf,
    ) -> tuple[FloatArray, IntArray]:
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
        limit = cutoff_limit(cutoff_min)
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


@dataclass
class _JoinedPoints:
    """Points joined to the road network, grouped by the node they join, for the pair search.

    ``starts[v]:starts[v + 1]`` indexes, in ``point`` and ``leg_min``, the
    points that join node ``v`` and the minutes of their off-road leg (a point
    joins up to ``k`` nodes).  With ``tree`` (the direct walk), ``node_m`` is
    each point's distance to its nearest joined node (``inf`` off the network).
    """

    xy: XYArray
    starts: IntArray
    node: IntArray
    point: IntArray
    leg_min: FloatArray
    node_m: FloatArray
    minutes_per_metre: float
    tree: cKDTree | None

    @classmethod
    def join(
        cls,
        rg: RoadGraph,
        xy: XYArray,
        *,
        k: int,
        max_snap_m: float,
        minutes_per_metre: float,
        direct_walk: bool,
    ) -> _JoinedPoints:
        """Snap ``xy`` to the ``k`` nearest usable nodes of ``rg`` within ``max_snap_m``."""
        dist, node = rg.snap(xy, k, max_snap_m)
        flat = node.ravel()
        ok = flat >= 0
        by_node = np.argsort(flat[ok], kind="stable")
        node_sorted = flat[ok][by_node]
        return cls(
            xy=xy,
            starts=np.searchsorted(node_sorted, np.arange(rg.n_nodes + 1)),
            node=node_sorted,
            point=np.repeat(np.arange(len(xy)), k)[ok][by_node],
            leg_min=(dist.ravel()[ok] * minutes_per_metre)[by_node],
            node_m=dist[:, 0],
            minutes_per_metre=minutes_per_metre,
            tree=cKDTree(xy) if direct_walk else None,
        )

    def reached(self, node_minutes: FloatArray) -> tuple[IntArray, FloatArray]:
        """The points joined to reached nodes and their best minutes (node + off-road leg)."""
        starts = self.starts
        reached = np.flatnonzero(np.isfinite(node_minutes))
        cnt = starts[reached + 1] - starts[reached]
        total = int(cnt.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        offset = np.repeat(starts[reached] - (np.cumsum(cnt) - cnt), cnt)
        idx = offset + np.arange(total)
        return _best_per_point(self.point[idx], node_minutes[self.node[idx]] + self.leg_min[idx])

    def with_direct_walk(
        self, pts: IntArray, mins: FloatArray, fac: FloatArray, limit: float
    ) -> tuple[IntArray, FloatArray]:
        """Add the straight walk to the facility at ``fac`` where it is allowed and quicker.

        As in :meth:`NetworkModel.travel_times`: a point may walk straight to a
        facility no farther than its own network node (or from off the network).
        Without a ``tree`` (no direct walk), ``pts`` and ``mins`` unchanged.
        """
        if self.tree is None:
            return pts, mins
        mpm = self.minutes_per_metre
        near = np.asarray(self.tree.query_ball_point(fac, limit / mpm + 1e-6), dtype=np.int64)
        if len(near) == 0:
            return pts, mins
        d = np.hypot(self.xy[near, 0] - fac[0], self.xy[near, 1] - fac[1])
        allowed = d <= self.node_m[near]
        near, direct = near[allowed], d[allowed] * mpm
        if len(near) == 0:
            return pts, mins
        return _best_per_point(np.concatenate([pts, near]), np.concatenate([mins, direct]))


def _best_per_point(pts: IntArray, mins: FloatArray) -> tuple[IntArray, FloatArray]:
    """The smallest minutes of each point among its entries, sorted by point."""
    order = np.lexsort((mins, pts))
    pts, mins = pts[order], mins[order]
    first = np.ones(len(pts), dtype=bool)
    first[1:] = pts[1:] != pts[:-1]
    return pts[first], mins[first]


def check_densify(problems: Problems, densify_m: Any) -> None:
    """A ``network.densify`` problem unless ``densify_m`` is a finite length of 1 m or more."""
    v = as_float(densify_m)
    if v is None or not math.isfinite(v) or v < 1.0:
        problems.add(
            "network.densify",
            f"densify_m must be ≥ 1 m or None, got {densify_m}",
            value=densify_m,
        )


def check_metric_crs(problems: Problems, crs: Any) -> None:
    """A ``network.crs_not_metric`` problem unless ``crs`` is projected (metres).

    ``network.crs_invalid`` if pyproj cannot read it.
    """
    try:
        projected = CRS.from_user_input(crs).is_projected
    except Exception as exc:  # pyproj CRSError
        problems.add("network.crs_invalid", f"invalid CRS: {exc}", detail=str(exc))
        return
    if not projected:
        problems.add("network.crs_not_metric", f"grid CRS {crs} is not metric", crs=str(crs))


def build_road_graph(
    graph: nx.Graph | RoadTable,
    mode: str,
    crs: str,
    *,
    densify_m: float | None = DEFAULT_DENSIFY_M,
    speeds_kmh: Mapping[str, float] | None = None,
) -> RoadGraph:
    """The sparse travel graph of ``graph`` for ``mode`` in the metric ``crs``.

    See the module docstring of :mod:`gridplan.travel.network`, step 1.
    ``graph`` is a :class:`~gridplan.travel.roadtable.RoadTable` or a networkx
    graph: the table :func:`~gridplan.travel.roads.load_roads` kept for it,
    else its attributes read in bulk (:func:`~gridplan.travel.roadtable.road_table`).
    Edge ``length`` (metres) is used when present, else the projected length
    of the edge's geometry (or of the straight line between its nodes).
    """
    table = graph if isinstance(graph, RoadTable) else (table_of(graph) or road_table(graph))
    with collector_paused():  # see there: seconds of pauses beside a loaded networkx graph
        return _build(table, mode, crs, densify_m, speeds_kmh)


def _build(
    table: RoadTable,
    mode: str,
    crs: str,
    densify_m: float | None,
    speeds_kmh: Mapping[str, float] | None,
) -> RoadGraph:
    node_xy, transformer = _nodes_in_crs(table, mode, crs, densify_m)
    edges = _usable_edges(table, mode, speeds_kmh, transformer)
    mid = edges.measure(node_xy)
    directed = table.directed and mode == "drive"
    pieces = _Pieces.of(edges, mid, len(node_xy), directed=directed)
    xy, nseg, int_start = _densify(pieces, node_xy, densify_m)
    snappable = _joining_nodes(pieces, nseg, len(node_xy))
    # the k-d tree (a third of the work) is built in C without the GIL: beside the matrix
    with ThreadPoolExecutor(max_workers=1) as pool:
        tree = pool.submit(_snap_tree, xy[snappable])
        matrix, n_segments = _segment_graph(pieces, nseg, int_start, len(xy))
        snap_tree = tree.result()
    return RoadGraph(
        mode=mode,
        crs=crs,
        matrix=matrix,
        xy=xy,
        node_ids=table.node_ids,
        snappable=snappable,
        n_segments=n_segments,
        road_km=float(pieces.length.sum()) / 1000.0 if pieces.n else 0.0,
        densify_m=densify_m,
        tree=snap_tree,
    )


def _snap_tree(xy: FloatArray) -> cKDTree | None:
    return cKDTree(xy) if len(xy) else None


def _joining_nodes(pieces: _Pieces, nseg: IntArray, n0: int) -> IntArray:
    """The nodes on roads a pedestrian may use: the ends and interior points of walkable pieces.

    Interior points follow the graph's ``n0`` nodes, piece after piece
    (:func:`_densify`).
    """
    used = np.zeros(n0, dtype=bool)
    used[pieces.a[pieces.walkable]] = True
    used[pieces.b[pieces.walkable]] = True
    used = np.concatenate([used, np.repeat(pieces.walkable, nseg - 1)])
    return np.flatnonzero(used).astype(np.int64)


def _nodes_in_crs(
    table: RoadTable, mode: str, crs: str, densify_m: float | None
) -> tuple[FloatArray, Transformer]:
    """The nodes' coordinates in ``crs``, after checking every input."""
    problems = Problems("network.invalid", "invalid road network")
    check_mode(problems, mode)
    if densify_m is not None:
        check_densify(problems, densify_m)
    if table.n_nodes == 0:
        problems.add("network.no_nodes", "the road graph has no nodes")
    xs, ys = table.x, table.y
    bad_at = np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys)))
    if len(bad_at):
        bad = [table.node_ids[i] for i in bad_at[:5]]
        problems.add(
            "network.node_xy",
            f"{len(bad_at)} nodes lack x/y coordinates: {bad}",
            n=len(bad_at),
            nodes=[str(b) for b in bad],
        )
    check_metric_crs(problems, crs)
    transformer = None
    try:
        transformer = crs_transformer(table.crs, str(crs))
    except Exception as exc:  # pyproj raises CRSError / ProjError
        if "network.crs_invalid" not in problems.codes:  # the graph's CRS, not the grid's
            problems.add("network.crs_invalid", f"invalid CRS: {exc}", detail=str(exc))
    problems.raise_if_any()
    assert transformer is not None
    px, py = transformer.transform(xs, ys)
    node_xy = np.column_stack([np.asarray(px, dtype=float), np.asarray(py, dtype=float)])
    return node_xy, transformer


@dataclass
class _Edges:
    """The graph's directed edges usable in the mode (node indices, km/h, metres, geometry)."""

    u: IntArray
    v: IntArray
    speed: FloatArray
    length: FloatArray
    geom: ObjectArray  # projected LineString, None for a straight edge
    has_geom: BoolArray
    walkable: BoolArray

    def measure(self, node_xy: FloatArray) -> FloatArray:
        """Each edge's midpoint; missing lengths filled with the projected length.

        The midpoint is the same for an edge and its reverse twin.  Raises
        ``network.invalid`` (``network.negative_length``) for negative lengths.
        """
        u, v, has_geom = self.u, self.v, self.has_geom
        mid = (node_xy[u] + node_xy[v]) / 2.0 if len(u) else np.empty((0, 2))
        missing = ~np.isfinite(self.length)
        if missing.any():
            proj_len = np.linalg.norm(node_xy[v[missing]] - node_xy[u[missing]], axis=1)
            self.length[missing] = proj_len
        if has_geom.any():
            mid[has_geom] = shapely.get_coordinates(
                shapely.line_interpolate_point(self.geom[has_geom], 0.5, normalized=True)
            )
            curved_missing = has_geom & missing
            self.length[curved_missing] = shapely.length(self.geom[curved_missing])
        problems = Problems("network.invalid", "invalid road network")
        negative = "{n} edge(s) have a negative length"
        problems.count("network.negative_length", self.length < 0, negative)
        problems.raise_if_any()
        return mid


def _usable_edges(
    table: RoadTable,
    mode: str,
    speeds_kmh: Mapping[str, float] | None,
    transformer: Transformer,
) -> _Edges:
    """The edges open to ``mode`` (:func:`~gridplan.travel.speeds.edge_speed_kmh`), projected.

    The speed is found once per ``(highway, maxspeed)`` code, then spread to
    the edges by indexing.
    """
    speed_of = np.full(len(table.tags), np.nan)
    walk_of = np.zeros(len(table.tags), dtype=bool)
    for c, (highway, maxspeed) in enumerate(table.tags):
        attrs = {"highway": highway, "maxspeed": maxspeed}
        s_mode = edge_speed_kmh(attrs, mode, speeds_kmh)
        speed_of[c] = np.nan if s_mode is None else s_mode
        walk_of[c] = mode == "walk" or edge_speed_kmh(attrs, "walk") is not None
    speed = speed_of[table.tag]
    usable = np.isfinite(speed)
    keep = None if usable.all() else np.flatnonzero(usable)

    def kept(values: Any) -> Any:
        return values if keep is None else values[keep]

    geom, has_geom = kept(table.geom), kept(table.has_geom)
    if has_geom.any():
        geom = geom.copy()  # the table keeps its own geometries, in its own CRS
        geom[has_geom] = shapely.transform(
            geom[has_geom],
            lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])),
        )
    return _Edges(
        u=kept(table.u),
        v=kept(table.v),
        speed=kept(speed),
        length=kept(table.length).copy(),  # missing lengths are filled in
        geom=geom,
        has_geom=has_geom,
        walkable=kept(walk_of[table.tag]),
    )


@dataclass
class _Pieces:
    """Road pieces: an edge and its reverse twin are one piece, from ``a`` to ``b``.

    ``w_fwd``/``w_bwd``: minutes of the piece forward and backward (``inf``:
    one-way); ``walkable``: a pedestrian may use it, so cells and facilities
    may join it; ``geom``/``curved``: the geometry of its representative edge.
    """

    a: IntArray
    b: IntArray
    w_fwd: FloatArray
    w_bwd: FloatArray
    walkable: BoolArray
    length: FloatArray
    geom: ObjectArray
    curved: BoolArray

    @property
    def n(self) -> int:
        return len(self.a)

    @classmethod
    def of(cls, edges: _Edges, mid: FloatArray, n_nodes: int, *, directed: bool) -> _Pieces:
        """Pieces of the usable edges; ``directed``: one-way streets keep their direction."""
        u, v = edges.u, edges.v
        rep, piece = _group_twins(u, v, mid, n_nodes)
        n = len(rep)  # rep: the representative edge of each piece, its direction "forward"
        a, b = u[rep], v[rep]
        minutes = edges.length / (edges.speed * 1000.0 / 60.0)
        forward = (u == a[piece]) | (u == v)  # loops count as two-way
        w_fwd = np.full(n, np.inf)
        w_bwd = np.full(n, np.inf)
        if directed:
            np.minimum.at(w_fwd, piece[forward], minutes[forward])
            np.minimum.at(w_bwd, piece[~forward], minutes[~forward])
            loop = a == b
            w_bwd[loop] = np.minimum(w_bwd[loop], w_fwd[loop])
        else:
            np.minimum.at(w_fwd, piece, minutes)
            w_bwd = w_fwd.copy()
        # cells and facilities join only roads a pedestrian may use (not motorways)
        walkable = np.zeros(n, dtype=bool)
        np.logical_or.at(walkable, piece, edges.walkable)
        length = np.full(n, np.inf)
        np.minimum.at(length, piece, edges.length)
        geom = edges.geom[rep] if len(edges.geom) else np.empty(0, dtype=object)
        return cls(a, b, w_fwd, w_bwd, walkable, length, geom, edges.has_geom[rep])


def _group_twins(
    u: IntArray, v: IntArray, mid: FloatArray, n_nodes: int
) -> tuple[IntArray, IntArray]:
    """Edges grouped into pieces: same two end nodes and the same midpoint (to 0.1 m).

    Returns each piece's representative edge (its first in input order) and
    each edge's piece; pieces are ordered by (lower node, higher node,
    midpoint x, midpoint y).  One stable sort of an integer key of the node
    pair; the midpoints are sorted as well only where one node pair carries
    edges of different shapes (parallel roads), which is rare.
    """
    if len(u) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pair = np.minimum(u, v) * np.int64(n_nodes) + np.maximum(u, v)
    mx, my = np.round(mid[:, 0], 1), np.round(mid[:, 1], 1)
    order = np.argsort(pair, kind="stable")
    same_pair = pair[order][1:] == pair[order][:-1]
    same_mid = (mx[order][1:] == mx[order][:-1]) & (my[order][1:] == my[order][:-1])
    if (same_pair & ~same_mid).any():  # parallel roads: sort by midpoint too
        order = np.lexsort((my, mx, pair))
        same_pair = pair[order][1:] == pair[order][:-1]
        same_mid = (mx[order][1:] == mx[order][:-1]) & (my[order][1:] == my[order][:-1])
    first = np.ones(len(order), dtype=bool)
    first[1:] = ~(same_pair & same_mid)
    piece = np.empty(len(order), dtype=np.int64)
    piece[order] = np.cumsum(first) - 1
    return order[first], piece


def _densify(
    pieces: _Pieces, node_xy: FloatArray, densify_m: float | None
) -> tuple[FloatArray, IntArray, IntArray]:
    """Every node's coordinates, with the points cutting each piece into ``nseg`` segments.

    Returns the coordinates (the graph's nodes, then each piece's interior
    points along its geometry), ``nseg`` and the index of each piece's first
    interior point.
    """
    n_pieces = pieces.n
    if densify_m is None or n_pieces == 0:
        nseg = np.ones(n_pieces, dtype=np.int64)
    else:
        nseg = np.maximum(1, np.ceil(pieces.length / densify_m - 1e-9)).astype(np.int64)
    n_int = nseg - 1
    n0 = len(node_xy)
    int_start = n0 + np.concatenate([[0], np.cumsum(n_int)[:-1]]).astype(np.int64)
    total_int = int(n_int.sum())
    int_xy = np.empty((total_int, 2))
    if total_int:
        p_of_int = np.repeat(np.arange(n_pieces), n_int)
        j = np.arange(total_int) - np.repeat(int_start - n0, n_int) + 1  # 1 .. nseg-1
        frac = j / nseg[p_of_int]
        curved = pieces.curved[p_of_int]
        xa, xb = node_xy[pieces.a[p_of_int]], node_xy[pieces.b[p_of_int]]
        int_xy[:] = xa + (xb - xa) * frac[:, None]
        if curved.any():
            pts = shapely.line_interpolate_point(
                pieces.geom[p_of_int[curved]], frac[curved], normalized=True
            )
            int_xy[curved] = shapely.get_coordinates(pts)
    return np.vstack([node_xy, int_xy]), nseg, int_start


def _segment_graph(
    pieces: _Pieces, nseg: IntArray, int_start: IntArray, n: int
) -> tuple[sp.csr_matrix, int]:
    """The reversed travel graph of the segments and its number of arcs."""
    s_from, s_to = _segment_ends(pieces, nseg, int_start)
    wf = np.repeat(pieces.w_fwd / nseg, nseg)
    wb = np.repeat(pieces.w_bwd / nseg, nseg)
    # reversed graph: travel a -> b is matrix[b, a]
    okf, okb = np.isfinite(wf), np.isfinite(wb)
    rows = np.concatenate([s_to[okf], s_from[okb]])
    cols = np.concatenate([s_from[okf], s_to[okb]])
    data = np.concatenate([wf[okf], wb[okb]])
    may_share = np.repeat(_may_share_arcs(pieces, nseg), nseg)
    shared = np.concatenate([may_share[okf], may_share[okb]])
    if shared.any():  # the quickest of the arcs joining the same two nodes
        r, c, d = _quickest_arcs(rows[shared], cols[shared], data[shared])
        rows = np.concatenate([rows[~shared], r])
        cols = np.concatenate([cols[~shared], c])
        data = np.concatenate([data[~shared], d])
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
    if matrix.nnz != len(data):  # a pair missed above was summed: never expected, kept safe
        rows, cols, data = _quickest_arcs(rows, cols, data)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
    matrix.sort_indices()
    return matrix, len(data)


def _segment_ends(
    pieces: _Pieces, nseg: IntArray, int_start: IntArray
) -> tuple[IntArray, IntArray]:
    """Each segment's first and last node, piece after piece.

    A piece's chain of nodes is its start, its interior points (numbered on
    from ``int_start[0]``, piece after piece, by :func:`_densify`) and its end.
    """
    if pieces.n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ends = np.cumsum(nseg + 1)  # one past each piece's last node in the chain
    starts = ends - (nseg + 1)
    chain = np.empty(int(ends[-1]), dtype=np.int64)
    inner = np.ones(len(chain), dtype=bool)
    inner[starts] = False
    inner[ends - 1] = False
    chain[inner] = int_start[0] + np.arange(int(inner.sum()))
    chain[starts] = pieces.a
    chain[ends - 1] = pieces.b
    not_last = np.ones(len(chain), dtype=bool)
    not_last[ends - 1] = False
    not_first = np.ones(len(chain), dtype=bool)
    not_first[starts] = False
    return chain[not_last], chain[not_first]


def _may_share_arcs(pieces: _Pieces, nseg: IntArray) -> BoolArray:
    """The pieces whose arcs may join the same two nodes as another arc.

    Interior points belong to one piece, so only loops (a piece from a node
    back to it) and unsplit pieces between a node pair that carries another
    unsplit piece can give two arcs between the same two nodes.
    """
    out = pieces.a == pieces.b
    single = np.flatnonzero(nseg == 1)
    if len(single) > 1:
        lo = np.minimum(pieces.a[single], pieces.b[single])
        hi = np.maximum(pieces.a[single], pieces.b[single])
        order = np.lexsort((hi, lo))
        dup = (lo[order][1:] == lo[order][:-1]) & (hi[order][1:] == hi[order][:-1])
        twin = np.zeros(len(single), dtype=bool)
        twin[order[1:][dup]] = True
        twin[order[:-1][dup]] = True
        out[single[twin]] = True
    return out


def _quickest_arcs(
    rows: IntArray, cols: IntArray, data: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """One arc per (row, column): the smallest weight."""
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[keep], cols[keep], data[keep]
