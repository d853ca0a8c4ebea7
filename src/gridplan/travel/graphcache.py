"""Travel graphs kept in memory per road file, mode and setting (least recently used first out).

Building the travel graph of a city takes a few tenths of a second and its
result depends only on the road file's content, the mode, the grid's CRS, the
densification and the speed table.  A :class:`~gridplan.travel.network.NetworkModel`
keeps its own graphs; this cache shares them between models of the same file
(the dashboard makes a new model when a planner changes the cutoff, the CLI
when a command computes coverage for several modes or thresholds), keyed by
the hash :func:`~gridplan.travel.roads.load_roads` takes of the file.

Memory: each entry holds the CSR matrix (12 bytes per arc), the coordinates
(16 bytes per node, graph nodes and points added along the roads), the
joining nodes (8 bytes each) and their k-d tree (about 24 bytes per node plus
72 per tree node): about 60 MB for a network of 200,000 intersections with
densification every 50 m (600,000 nodes, 1.6 million arcs).  The node ids are
shared with the loaded road graph.  Entries are dropped, least recently used
first, once they hold more than ``settings.road_graph_cache_mb`` together
(the newest entry is always kept).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from gridplan import settings
from gridplan.travel.graph import RoadGraph

_GRAPHS: OrderedDict[Hashable, tuple[RoadGraph, int]] = OrderedDict()
_LOCK = threading.Lock()
_TREE_NODE_BYTES = 72  # scipy's ckdtreenode: nine 8-byte fields


def road_graph_nbytes(rg: RoadGraph) -> int:
    """The bytes a travel graph holds (arrays and k-d tree; not the shared node ids)."""
    m = rg.matrix
    total = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + rg.xy.nbytes
    total += rg.snappable.nbytes
    if rg.tree is not None:
        tree = rg.tree
        total += tree.data.nbytes + tree.indices.nbytes + tree.size * _TREE_NODE_BYTES
    return int(total)


def cached_road_graph(key: Hashable, build: Callable[[], RoadGraph]) -> RoadGraph:
    """The graph cached under ``key``, else ``build()`` cached there.

    Two threads asking for the same missing graph may both build it (the
    build holds no lock); the cache keeps one.
    """
    with _LOCK:
        hit = _GRAPHS.get(key)
        if hit is not None:
            _GRAPHS.move_to_end(key)
            return hit[0]
    rg = build()
    with _LOCK:
        _GRAPHS[key] = (rg, road_graph_nbytes(rg))
        _GRAPHS.move_to_end(key)
        _evict(settings.road_graph_cache_mb * 1024 * 1024)
    return rg


def _evict(budget_bytes: float) -> None:
    """Drop the least recently used graphs beyond the budget, keeping the newest one."""
    total = sum(n for _, n in _GRAPHS.values())
    while len(_GRAPHS) > 1 and total > budget_bytes:
        _, (_, n) = _GRAPHS.popitem(last=False)
        total -= n


def cache_info() -> tuple[int, int]:
    """The number of cached travel graphs and the bytes they hold."""
    with _LOCK:
        return len(_GRAPHS), sum(n for _, n in _GRAPHS.values())


def clear_cache() -> None:
    """Forget every cached travel graph."""
    with _LOCK:
        _GRAPHS.clear()
