"""The former travel-graph build (before the road-table rewrite), kept only to compare with.

:func:`build_road_graph_former` is the code :func:`gridplan.travel.graph.build_road_graph`
ran before it read road tables: every edge attribute read in one Python loop
over the networkx graph, road pieces found with ``np.unique(axis=0)`` on float
keys, arcs de-duplicated with a three-key ``np.lexsort``.  The benchmark
``benchmarks.bench_roadgraph`` times it as "before", and the tests check that
the new build gives the same graph, array for array.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from gridplan._types import BoolArray, FloatArray, IntArray, ObjectArray
from gridplan._validate import Problems
from gridplan.inputs.crs import transformer as crs_transformer
from gridplan.travel.base import check_mode
from gridplan.travel.graph import DEFAULT_DENSIFY_M, RoadGraph, check_densify, check_metric_crs
from gridplan.travel.speeds import edge_speed_kmh


def _geometry(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shapely.from_wkt(value)
        except shapely.errors.ShapelyError:
            return None
    return value if isinstance(value, shapely.LineString) else None


def build_road_graph_former(
    graph: Any,
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
    node_ids, node_xy, transformer = _nodes_in_crs(graph, mode, crs, densify_m)
    edges = _usable_edges(graph, mode, speeds_kmh, node_ids, transformer)
    mid = edges.measure(node_xy)
    pieces = _Pieces.of(edges, mid, directed=bool(graph.is_directed()) and mode == "drive")
    xy, nseg, int_start = _densify(pieces, node_xy, densify_m)
    matrix, snappable, n_segments = _segment_graph(pieces, nseg, int_start, len(xy))
    return RoadGraph(
        mode=mode,
        crs=crs,
        matrix=matrix,
        xy=xy,
        node_ids=node_ids,
        snappable=snappable,
        n_segments=n_segments,
        road_km=float(pieces.length.sum()) / 1000.0 if pieces.n else 0.0,
        densify_m=densify_m,
        tree=cKDTree(xy[snappable]) if len(snappable) else None,
    )


def _nodes_in_crs(
    graph: Any, mode: str, crs: str, densify_m: float | None
) -> tuple[list[Any], FloatArray, Transformer]:
    """The graph's node ids and their coordinates in ``crs``, after checking every input."""
    problems = Problems("network.invalid", "invalid road network")
    check_mode(problems, mode)
    if densify_m is not None:
        check_densify(problems, densify_m)
    if graph.number_of_nodes() == 0:
        problems.add("network.no_nodes", "the road graph has no nodes")
    node_ids = list(graph.nodes)
    xs = np.array([_float(graph.nodes[n].get("x")) for n in node_ids], dtype=float)
    ys = np.array([_float(graph.nodes[n].get("y")) for n in node_ids], dtype=float)
    bad = [node_ids[i] for i in np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys)))]
    if bad:
        problems.add(
            "network.node_xy",
            f"{len(bad)} nodes lack x/y coordinates: {bad[:5]}",
            n=len(bad),
            nodes=[str(b) for b in bad[:5]],
        )
    check_metric_crs(problems, crs)
    transformer = None
    try:
        transformer = crs_transformer(str(graph.graph.get("crs", "EPSG:4326")), str(crs))
    except Exception as exc:  # pyproj raises CRSError / ProjError
        if "network.crs_invalid" not in problems.codes:  # the graph's CRS, not the grid's
            problems.add("network.crs_invalid", f"invalid CRS: {exc}", detail=str(exc))
    problems.raise_if_any()
    assert transformer is not None
    px, py = transformer.transform(xs, ys)
    node_xy = np.column_stack([np.asarray(px, dtype=float), np.asarray(py, dtype=float)])
    return node_ids, node_xy, transformer


@dataclass
class _Edges:
    """The graph's directed edges usable in the mode (node indices, km/h, metres, geometry)."""

    u: IntArray
    v: IntArray
    speed: FloatArray
    length: FloatArray
    geom: ObjectArray  # projected LineString, None for a straight edge
    walkable: BoolArray

    @property
    def has_geom(self) -> BoolArray:
        return np.array([g is not None for g in self.geom], dtype=bool)

    def measure(self, node_xy: FloatArray) -> FloatArray:
        """Each edge's midpoint; missing lengths filled with the projected length.

        The midpoint is the same for an edge and its reverse twin.  Raises
        ``network.invalid`` (``network.negative_length``) for negative lengths.
        """
        u, v, has_geom = self.u, self.v, self.has_geom
        mid = (node_xy[u] + node_xy[v]) / 2.0 if len(u) else np.empty((0, 2))
        proj_len = np.linalg.norm(node_xy[v] - node_xy[u], axis=1) if len(u) else np.empty(0)
        if has_geom.any():
            mid[has_geom] = shapely.get_coordinates(
                shapely.line_interpolate_point(self.geom[has_geom], 0.5, normalized=True)
            )
            proj_len[has_geom] = shapely.length(self.geom[has_geom])
        missing = ~np.isfinite(self.length)
        self.length[missing] = proj_len[missing]
        problems = Problems("network.invalid", "invalid road network")
        negative = "{n} edge(s) have a negative length"
        problems.count("network.negative_length", self.length < 0, negative)
        problems.raise_if_any()
        return mid


def _usable_edges(
    graph: Any,
    mode: str,
    speeds_kmh: Mapping[str, float] | None,
    node_ids: list[Any],
    transformer: Transformer,
) -> _Edges:
    """The edges open to ``mode`` (:func:`~gridplan.travel.speeds.edge_speed_kmh`), projected."""
    index = {n: i for i, n in enumerate(node_ids)}
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
    geom = np.asarray(geoms, dtype=object) if geoms else np.empty(0, dtype=object)
    edges = _Edges(
        np.asarray(us, dtype=np.int64),
        np.asarray(vs, dtype=np.int64),
        np.asarray(kmh, dtype=float),
        np.asarray(lengths, dtype=float),
        geom,
        np.asarray(walkable, dtype=bool),
    )
    has_geom = edges.has_geom
    if has_geom.any():
        geom[has_geom] = shapely.transform(
            geom[has_geom],
            lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])),
        )
    return edges


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
    def of(cls, edges: _Edges, mid: FloatArray, *, directed: bool) -> _Pieces:
        """Pieces of the usable edges; ``directed``: one-way streets keep their direction."""
        u, v = edges.u, edges.v
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        key = np.column_stack([lo, hi, np.round(mid, 1)]) if len(u) else np.empty((0, 4))
        _, rep, piece = np.unique(key, axis=0, return_index=True, return_inverse=True)
        piece = piece.ravel()
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
) -> tuple[sp.csr_matrix, IntArray, int]:
    """The reversed travel graph of the segments, the joining nodes and the number of arcs."""
    total_seg = int(nseg.sum())
    p_of_seg = np.repeat(np.arange(pieces.n), nseg)
    k = np.arange(total_seg) - np.repeat(np.cumsum(nseg) - nseg, nseg)

    def chain(pos: IntArray) -> IntArray:
        out = int_start[p_of_seg] + pos - 1
        out = np.where(pos == 0, pieces.a[p_of_seg], out)
        return np.where(pos == nseg[p_of_seg], pieces.b[p_of_seg], out)

    s_from, s_to = chain(k), chain(k + 1)
    wf = (pieces.w_fwd / nseg)[p_of_seg]
    wb = (pieces.w_bwd / nseg)[p_of_seg]
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
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
    matrix.sort_indices()
    used = np.zeros(n, dtype=bool)
    joins = pieces.walkable[p_of_seg]
    used[s_from[joins]] = True
    used[s_to[joins]] = True
    return matrix, np.flatnonzero(used).astype(np.int64), len(data)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
