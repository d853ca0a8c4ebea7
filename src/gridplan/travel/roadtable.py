"""A road network as flat arrays: the input of :func:`~gridplan.travel.graph.build_road_graph`.

Walking a networkx graph edge by edge in Python costs about a second per
million edges, more than everything else the travel graph needs.  A
:class:`RoadTable` holds the same network as arrays: node ids and
coordinates, and per directed edge its two node indices, length, geometry and
a code of its ``(highway, maxspeed)`` pair (a city has hundreds of thousands
of edges but a few dozen such pairs, so speeds are looked up per code).

Two ways to get one:

* :func:`~gridplan.travel.osmroads.table_from_elements`: straight from the
  streaming OSM XML / PBF reader, without networkx; :func:`~gridplan.travel.roads.load_roads`
  keeps it beside the networkx graph it returns (:func:`attach_table`), so the
  travel graph of a loaded file never walks networkx;
* :func:`road_table`: from any networkx graph (GraphML, an online download, a
  graph built in memory), its attributes read in bulk, one list per attribute.

Both list the edges in ``graph.edges`` order, so the travel graph built from
either is the same, array for array.
"""

from __future__ import annotations

import gc
import itertools
import math
import operator
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gridplan._types import BoolArray, FloatArray, IntArray, ObjectArray

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, eq=False)
class RoadTable:
    """A road network's nodes and directed edges as arrays (see the module docstring).

    ``x``/``y`` are in ``crs`` (``nan`` where a node has none); ``u``/``v``
    index ``node_ids``; ``length`` is in metres (``nan`` where unknown);
    ``tag[e]`` indexes ``tags``, the distinct ``(highway, maxspeed)`` values;
    ``geom`` holds each edge's LineString in ``crs`` (``None``: straight).
    ``directed``: one-way streets keep their direction for cars (an undirected
    graph lists each street once, two-way).  ``digest`` identifies the file
    the table was read from (its content, and the polygon it was cut to), so
    travel graphs built from it can be cached across models; ``None`` for a
    graph made in memory.
    """

    node_ids: list[Any]
    x: FloatArray
    y: FloatArray
    crs: str
    u: IntArray
    v: IntArray
    length: FloatArray
    tag: IntArray
    tags: list[tuple[Any, Any]]
    geom: ObjectArray
    has_geom: BoolArray
    directed: bool
    digest: str | None = None

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays (36 per node id in a list of ints; geometries not counted)."""
        arrays = (self.x, self.y, self.u, self.v, self.length, self.tag, self.geom, self.has_geom)
        return sum(a.nbytes for a in arrays) + 36 * len(self.node_ids)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the duration (reference counting goes on).

    Building a city's arrays creates hundreds of thousands of short-lived
    objects (geometries, tuples); each batch of them sets off a collection that
    walks every object alive, and a loaded networkx road graph is millions of
    them: seconds of pauses in a build of tenths of a second.  Nothing built
    here forms a cycle, so nothing is left for the collector.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- tables of graphs

_TABLES: weakref.WeakKeyDictionary[Any, RoadTable] = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


def attach_table(graph: nx.Graph, table: RoadTable) -> None:
    """Keep ``table`` as the arrays of ``graph`` (this very object, not its copies).

    For :func:`~gridplan.travel.roads.load_roads`: the graph it returns must
    not be edited afterwards (the table would no longer describe it; a copy
    has no table and is read edge by edge again).
    """
    with _TABLES_LOCK:
        _TABLES[graph] = table


def table_of(graph: Any) -> RoadTable | None:
    """The table attached to ``graph`` by :func:`attach_table`, if its node count still matches."""
    try:
        with _TABLES_LOCK:
            table = _TABLES.get(graph)
    except TypeError:  # not weakly referenceable: never attached
        return None
    if table is None or table.n_nodes != len(graph):
        return None
    return table


def graph_has_edges(graph: Any) -> bool:
    """Whether ``graph`` has an edge: from its table, else up to its first node with a neighbour.

    ``number_of_edges()`` counts every edge of a multigraph (O(n)) for a yes/no answer.
    """
    table = table_of(graph)
    if table is not None:
        return table.n_edges > 0
    if not hasattr(graph, "adjacency"):  # graph-like, not networkx: it counts its own
        return bool(graph.number_of_edges())
    return any(nbrs for _, nbrs in graph.adjacency())


# --------------------------------------------------------------------------- bulk reading


def road_table(graph: nx.Graph) -> RoadTable:
    """The arrays of a networkx road graph (OSMnx conventions), its attributes read in bulk.

    Node ``x``/``y`` in ``graph.graph["crs"]`` (default EPSG:4326); edge
    ``length``, ``highway``, ``maxspeed`` and ``geometry`` (a LineString or
    its WKT).  Edges in ``graph.edges`` order.
    """
    with collector_paused():
        return _road_table(graph)


def _road_table(graph: nx.Graph) -> RoadTable:
    node_ids = list(graph.nodes)
    node_data = [d for _, d in graph.nodes(data=True)]
    x = as_floats(_values(node_data, "x"))
    y = as_floats(_values(node_data, "y"))
    u, v, datas = _edge_lists(graph, node_ids)
    n_e = len(datas)
    tag, tags = tag_codes(_values(datas, "highway"), _values(datas, "maxspeed"))
    geom = np.full(n_e, None, dtype=object)
    raw = _values(datas, "geometry")
    for i in [i for i, g in enumerate(raw) if g is not None]:  # most edges are straight
        geom[i] = _geometry(raw[i])
    return RoadTable(
        node_ids=node_ids,
        x=x,
        y=y,
        crs=str(graph.graph.get("crs", "EPSG:4326")),
        u=u,
        v=v,
        length=as_floats(_values(datas, "length")),
        tag=tag,
        tags=tags,
        geom=geom,
        has_geom=~shapely.is_missing(geom),
        directed=bool(graph.is_directed()),
    )


def _values(dicts: list[dict[str, Any]], key: str) -> list[Any]:
    """``d.get(key)`` of every dict, in one C-level pass."""
    return list(map(dict.get, dicts, itertools.repeat(key)))


def _edge_lists(graph: nx.Graph, node_ids: list[Any]) -> tuple[IntArray, IntArray, list[Any]]:
    """Every edge's node positions ``u``, ``v`` and attributes, in ``graph.edges`` order.

    The nested adjacency dicts are flattened by C-level iterators (no Python
    loop, no tuple per edge); ``u`` comes from each node's number of edges, as
    the adjacency lists the nodes in ``graph.nodes`` order.
    """
    index = {n: i for i, n in enumerate(node_ids)}

    def positions(ids: Iterable[Any], count: int) -> IntArray:
        return np.fromiter(map(index.__getitem__, ids), dtype=np.int64, count=count)

    if not graph.is_directed():  # each undirected edge once: networkx's own view
        datas = [d for _, _, d in graph.edges(data=True)]
        u = positions((a for a, _ in graph.edges()), len(datas))
        return u, positions((b for _, b in graph.edges()), len(datas)), datas
    nbrs_of = list(map(operator.itemgetter(1), graph.adjacency()))
    per_node = np.fromiter(map(len, nbrs_of), dtype=np.int64, count=len(nbrs_of))
    v_ids = list(itertools.chain.from_iterable(map(_KEYS, nbrs_of)))
    v = positions(v_ids, len(v_ids))
    u = np.repeat(np.arange(len(nbrs_of), dtype=np.int64), per_node)
    if graph.is_multigraph():  # one dict per (u, v) pair, of one dict per key
        keyed = list(itertools.chain.from_iterable(map(_VALUES, nbrs_of)))
        per_pair = np.fromiter(map(len, keyed), dtype=np.int64, count=len(keyed))
        datas = list(itertools.chain.from_iterable(map(_VALUES, keyed)))
        return np.repeat(u, per_pair), np.repeat(v, per_pair), datas
    return u, v, list(itertools.chain.from_iterable(map(_VALUES, nbrs_of)))


_VALUES = operator.methodcaller("values")
_KEYS = operator.methodcaller("keys")


def tag_codes(highway: list[Any], maxspeed: list[Any]) -> tuple[IntArray, list[tuple[Any, Any]]]:
    """Each edge's code of its ``(highway, maxspeed)`` pair, and the pairs (first values seen).

    Pairs are told apart by value and type (``50`` and ``"50"`` differ); lists
    (OSMnx merged ways) count by their items.  Codes follow first appearance.
    """
    hw_types, ms_types = list(map(type, highway)), list(map(type, maxspeed))
    attempts = (
        lambda: (highway, maxspeed),
        lambda: (_hashable(highway), _hashable(maxspeed)),
        lambda: (list(map(repr, highway)), list(map(repr, maxspeed))),  # by their text
    )
    for values in attempts:
        hw, ms = values()
        keys = list(zip(hw_types, hw, ms_types, ms, strict=True))
        try:
            index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        except TypeError:  # lists, then anything else unhashable
            continue
        out = np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))
        break
    _, first = np.unique(out, return_index=True)
    return out, [(highway[i], maxspeed[i]) for i in first.tolist()]


def _hashable(values: list[Any]) -> list[Any]:
    """``values`` with lists turned into tuples, so that they can be dictionary keys."""
    return [tuple(x) if x.__class__ is list else x for x in values]


def as_floats(values: list[Any]) -> FloatArray:
    """``values`` as floats, ``nan`` where missing or not a number."""
    try:  # numbers, None (nan) and numeric strings in one call
        out = np.array(values, dtype=float)
    except (TypeError, ValueError):
        out = None
    if out is None or out.shape != (len(values),):  # text, or lists of numbers
        out = np.array([_float(x) for x in values], dtype=float).reshape(len(values))
    return out


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _geometry(value: Any) -> Any:
    """A LineString, or ``None`` for anything else (a WKT string is parsed)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shapely.from_wkt(value)
        except shapely.errors.ShapelyError:
            return None
    return value if isinstance(value, shapely.LineString) else None
