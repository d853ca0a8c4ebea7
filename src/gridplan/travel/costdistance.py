"""AccessMod-style travel time on a friction raster: the ``raster`` travel-time model.

Three layers, all on a :class:`~gridplan.surface.grid.CellGrid`:

1. :func:`speed_surface` builds a speed (km/h) per cell from an off-road base
   speed, land cover classes, rasterised OSM roads and a DEM slope correction
   (Tobler's hiking function).  Speed 0 marks a barrier (water, no data).
2. :func:`cost_distance` computes, from several sources at once, the minutes to
   every cell and which source is nearest, moving between the 8 neighbours of a
   cell.  The cost of a move is its length (``cell_m`` or ``cell_m·√2``) times
   the mean of the two cells' minutes per metre — the cost model of
   ``skimage.graph.MCP_Geometric`` (the same averaging as GRASS ``r.cost``).
   The minutes are bit-identical to ``MCP_Geometric``'s (see the tests).
3. :class:`RasterModel` puts both behind the
   :class:`~gridplan.travel.base.TravelTimeModel` interface.

Algorithm
---------
:func:`cost_distance` is Dijkstra's algorithm with a *bucket* priority queue
(Dial, 1969) instead of a binary heap, vectorised with NumPy: the width of a
bucket is the smallest possible move cost (one axial step through the fastest
cell), so every cell in the current bucket already has its final time and the
whole bucket is settled and relaxed in one batch of array operations.  The
search stops at the cutoff: cells beyond it are never labelled, so the work
grows with the area reachable within the cutoff, not with the grid (apart from
allocating and filling the full-size result arrays).  The number of batches is
``cutoff / smallest move cost``: 48 for walking 60 minutes at 100 m, 800 for
driving 60 minutes at 100 m with 80 km/h motorways.

On Shijiazhuang at 100 m (2.5 M cells, 450 facilities, walking 60 min,
1.28 M cells settled) this takes about 0.4 s, against 1.5 s for
``MCP_Geometric`` (``benchmarks/bench_costdistance.py``).  Its weak spot is a
deep search with few cells per bucket (one source in a corner, driving,
no cutoff: ~3,800 batches, ~2.6 s).

``engine="scipy"`` runs ``scipy.sparse.csgraph.dijkstra`` (Fibonacci heap,
``min_only=True``, ``limit=cutoff``) on an 8-neighbour graph of the cells
within ``max speed × cutoff`` of a source instead.  It gives the same minutes
and is kept to cross-check and benchmark: 2.5–4× slower than the buckets and
several times the memory, mostly for building the graph.

Isotropy
--------
AccessMod corrects walking speeds *per move* with the slope in the direction
of travel (anisotropic, ``r.walk``).  A per-cell speed surface cannot know the
direction, so :func:`tobler_factor` uses the slope magnitude and, by default,
the round-trip mean of the uphill and downhill Tobler speeds (see there).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray
from gridplan.travel.base import check_cutoff
from gridplan.travel.friction import ENGINES, Engine, check_speed_raster, raster_problems

_SQRT2 = math.sqrt(2.0)
# neighbour order: NW, N, NE, W, E, SW, S, SE (row-major, so a cell's
# neighbours appear in increasing flat index)
_DR = np.array([-1, -1, -1, 0, 0, 1, 1, 1])
_DC = np.array([-1, 0, 1, -1, 1, -1, 0, 1])
_HALF_LENGTH = np.where((_DR != 0) & (_DC != 0), _SQRT2, 1.0) * 0.5


# --- cost distance ------------------------------------------------------------------


@dataclass
class CostDistance:
    """Result of :func:`cost_distance`; unpacks as ``minutes, nearest = ...``.

    Attributes
    ----------
    minutes
        ``float32`` minutes from the nearest source, ``inf`` beyond the cutoff
        or where no source can reach.
    nearest
        ``int32`` index into the sources of the source that reached the cell,
        -1 where none.  A cell at equal time from two sources gets either.
    settled
        Cells reached within the cutoff (finite minutes).
    work_cells
        Cells the engine handled: the settled cells for ``buckets`` (cells
        beyond the cutoff are never labelled); the graph's nodes for ``scipy``.
    engine
        ``buckets`` or ``scipy``.
    """

    minutes: Float32Array
    nearest: Int32Array
    settled: int
    work_cells: int
    engine: str
    batches: int = 0

    def __iter__(self) -> Iterator[NDArray[Any]]:
        yield self.minutes
        yield self.nearest


def _check_cost_inputs(
    speed: NDArray[Any], cell_m: float, rc: NDArray[Any], cutoff_min: float, engine: str
) -> None:
    problems = raster_problems()
    if speed.ndim != 2 or speed.size == 0:
        problems.add(
            "costdistance.shape",
            f"speed must be a non-empty 2-D array, got shape {speed.shape}",
            name="speed",
            shape=tuple(speed.shape),
            expected=None,
        )
    else:
        check_speed_raster(problems, "speed", speed)
    if not (math.isfinite(float(cell_m)) and float(cell_m) > 0):
        problems.add(
            "costdistance.cell_size", f"cell size must be positive, got {cell_m}", cell_m=cell_m
        )
    check_cutoff(problems, cutoff_min)
    problems.choice("costdistance.engine", "engine", engine, ENGINES)
    if rc.ndim != 2 or rc.shape[1] != 2:
        problems.add(
            "costdistance.sources_shape",
            f"sources must be (row, col) pairs, got shape {rc.shape}",
            shape=tuple(rc.shape),
        )
    elif len(rc) == 0:
        problems.add(
            "costdistance.no_facility", "no source cell given", n=0, outside=0, on_barrier=0
        )
    elif speed.ndim == 2:
        nr, nc = speed.shape
        bad = np.flatnonzero((rc[:, 0] < 0) | (rc[:, 0] >= nr) | (rc[:, 1] < 0) | (rc[:, 1] >= nc))
        if len(bad):
            problems.add(
                "costdistance.source_outside",
                f"{len(bad)} source(s) lie outside the {nr}×{nc} raster: indices "
                f"{bad[:10].tolist()}",
                n=len(bad),
                indices=bad.tolist(),
            )
    problems.raise_if_any()


def cost_distance(
    speed_kmh: ArrayLike,
    cell_m: float,
    sources_rc: ArrayLike,
    cutoff_min: float = math.inf,
    *,
    engine: Engine = "buckets",
) -> CostDistance:
    """Minutes from the nearest of several sources to every cell, up to a cutoff.

    Parameters
    ----------
    speed_kmh
        Speed per cell (km/h); 0 is impassable.
    cell_m
        Cell size in metres.
    sources_rc
        ``(k, 2)`` integer rows and columns of the sources.  A source on an
        impassable cell reaches only its own cell (0 minutes), as in
        ``MCP_Geometric``; duplicated cells are reached by the first.
    cutoff_min
        Cells farther than this are left at ``inf`` and cost no work; a cell
        exactly at the cutoff is kept.
    engine
        ``buckets`` (default; bucket-queue Dijkstra) or ``scipy``
        (``scipy.sparse.csgraph.dijkstra``); identical minutes.

    Moves go to the 8 neighbours; a move costs its length (``cell_m``,
    diagonally ``cell_m·√2``) × the mean of the two cells' minutes per metre
    (``0.06 / speed``), exactly as ``skimage.graph.MCP_Geometric`` with
    ``costs = cell_m · 0.06 / speed``.  Sums are float64; the minutes are
    returned as float32.
    """
    speed = np.asarray(speed_kmh)
    rc = np.asarray(sources_rc)
    if rc.ndim == 1 and rc.size == 2:
        rc = rc.reshape(1, 2)
    if rc.size == 0:
        rc = rc.reshape(0, 2)
    _check_cost_inputs(speed, cell_m, rc, cutoff_min, engine)
    rc = rc.astype(np.int64)
    # minutes to cross one cell edge to edge, cell_m × minutes per metre, on the
    # grid padded by one impassable (inf) cell
    nr, nc = speed.shape
    cost = np.full((nr + 2, nc + 2), np.inf)
    inner = cost[1:-1, 1:-1]
    with np.errstate(divide="ignore"):
        np.divide(0.06, speed, out=inner, dtype=np.float64)
    inner *= float(cell_m)
    if engine == "scipy":
        return _cost_scipy(cost, rc, float(cutoff_min))
    return _cost_buckets(cost, rc, float(cutoff_min))


def _cost_buckets(cost_2d: FloatArray, rc: IntArray, cutoff: float) -> CostDistance:
    """Dial's bucket-queue Dijkstra, one vectorised batch per bucket.

    Works on the padded cost grid, flattened, so that a neighbour is ``index +
    offset`` without bounds checks.  The bucket width ``delta`` is just under
    the cheapest possible move (an axial step between two of the fastest
    cells), so a move always lands in a later bucket and every label in the
    current bucket is final when its bucket comes up.  Stale queue entries (a
    cell improved after being queued) are dropped when their bucket comes up.
    Unlabelled cells hold the smallest float above the cutoff, so ``cand <
    dist`` also enforces the cutoff (inclusive).
    """
    nr, nc = cost_2d.shape[0] - 2, cost_2d.shape[1] - 2
    width = nc + 2
    cost = cost_2d.ravel()
    beyond = float(np.nextafter(cutoff, np.inf))
    dist = np.full(cost.size, beyond)
    label = np.full(cost.size, -1, dtype=np.int32)
    stamp = np.zeros(cost.size, dtype=np.int32)
    offsets = (_DR * width + _DC).astype(np.int64)
    half = _HALF_LENGTH

    cheapest = float(cost.min())  # inf when nothing is passable
    src = (rc[:, 0] + 1) * width + rc[:, 1] + 1
    # first source wins a shared cell: assign in reverse order
    dist[src[::-1]] = 0.0
    label[src[::-1]] = np.arange(len(src), dtype=np.int32)[::-1]
    buckets: dict[int, list[tuple[IntArray, FloatArray]]] = {0: [(src, np.zeros(len(src)))]}
    heap = [0]
    inv_delta = 1.0 / (cheapest * (1.0 - 1e-9)) if math.isfinite(cheapest) else 0.0
    n_batches = 0
    while heap:
        k = heapq.heappop(heap)
        parts = buckets.pop(k)
        if len(parts) == 1:
            idx, cand = parts[0]
        else:
            idx = np.concatenate([p[0] for p in parts])
            cand = np.concatenate([p[1] for p in parts])
        idx = idx[cand == dist[idx]]  # drop stale entries
        if len(idx) == 0:
            continue
        order = np.arange(len(idx), dtype=np.int32)
        stamp[idx] = order  # drop duplicates (exact ties): keep one entry per cell
        idx = idx[stamp[idx] == order]
        n_batches += 1
        nb = idx[:, None] + offsets
        cand = cost[nb]
        cand += cost[idx][:, None]
        cand *= half  # (length / 2) × (cost_u + cost_v), as MCP_Geometric
        cand += dist[idx][:, None]
        better = np.flatnonzero(cand < dist[nb])
        if len(better) == 0:
            continue
        nb = nb.ravel()[better]
        cand = cand.ravel()[better]
        lab = label[idx][better >> 3]
        np.minimum.at(dist, nb, cand)
        win = cand == dist[nb]
        nb, cand = nb[win], cand[win]
        label[nb] = lab[win]
        _push(buckets, heap, nb, cand, inv_delta, k)

    d = dist.reshape(nr + 2, width)[1:-1, 1:-1]
    reached = d < beyond  # ≤ cutoff, and finite
    minutes = np.where(reached, d, np.inf).astype(np.float32)
    nearest = np.where(reached, label.reshape(nr + 2, width)[1:-1, 1:-1], -1).astype(np.int32)
    settled = int(np.count_nonzero(reached))
    return CostDistance(minutes, nearest, settled, settled, "buckets", n_batches)


def _push(
    buckets: dict[int, list[tuple[IntArray, FloatArray]]],
    heap: list[int],
    nb: IntArray,
    cand: FloatArray,
    inv_delta: float,
    k: int,
) -> None:
    """Queue improved cells in the buckets of their new times (all after ``k``)."""
    if len(nb) == 0:
        return
    b = np.maximum((cand * inv_delta).astype(np.int64), k + 1)
    lo, hi = int(b.min()), int(b.max())
    if lo == hi:
        groups = [(lo, nb, cand)]
    else:
        rel = b - lo
        order = np.argsort(rel.astype(np.uint16) if hi - lo < 65535 else rel, kind="stable")
        b, nb, cand = b[order], nb[order], cand[order]
        cuts = [0, *(np.flatnonzero(np.diff(b)) + 1).tolist(), len(b)]
        groups = [(int(b[s]), nb[s:e], cand[s:e]) for s, e in itertools.pairwise(cuts)]
    for key, n_, c_ in groups:
        queued = buckets.get(key)
        if queued is None:
            buckets[key] = [(n_, c_)]
            heapq.heappush(heap, key)
        else:
            queued.append((n_, c_))


def _reachable_region(passable: BoolArray, rc: IntArray, radius_cells: float) -> BoolArray:
    """Passable cells within ``radius_cells`` (centre to centre) of a source.

    No path of time ≤ cutoff leaves this region: a move of length L costs at
    least L / max speed.  Discs are stamped source by source (work ∝ sources ×
    disc area); when that exceeds the grid, every passable cell is kept.
    """
    nr, nc = passable.shape
    src = np.unique(rc[:, 0] * nc + rc[:, 1])
    if not math.isfinite(radius_cells) or len(src) * math.pi * radius_cells**2 > 2 * passable.size:
        return passable
    r = math.floor(radius_cells)
    dr, dc = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dr * dr + dc * dc <= radius_cells * radius_cells * (1 + 1e-9)
    dr, dc = dr[inside], dc[inside]
    region = np.zeros(passable.shape, dtype=bool)
    chunk = max(1, 2_000_000 // len(dr))
    for i in range(0, len(src), chunk):
        rows = src[i : i + chunk, None] // nc + dr
        cols = src[i : i + chunk, None] % nc + dc
        ok = (rows >= 0) & (rows < nr) & (cols >= 0) & (cols < nc)
        region[rows[ok], cols[ok]] = True
    return region & passable


def _cost_scipy(cost_2d: FloatArray, rc: IntArray, cutoff: float) -> CostDistance:
    """``scipy.sparse.csgraph.dijkstra`` on the 8-neighbour graph of the reachable region."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    cell_cost = cost_2d[1:-1, 1:-1]
    nr, nc = cell_cost.shape
    passable = np.isfinite(cell_cost)
    src_passable = passable[rc[:, 0], rc[:, 1]]
    fastest = float(cell_cost[passable].min()) if passable.any() else math.inf
    # metres per minute of the fastest cell = cell_m / cost; radius in cells = cutoff / cost
    region = _reachable_region(passable, rc[src_passable], cutoff / fastest)
    width = nc + 2
    padded = np.zeros((nr + 2, width), dtype=bool)
    padded[1:-1, 1:-1] = region
    flat = np.flatnonzero(padded.ravel())
    n = len(flat)
    # non-nodes point to a dummy sink node n without out-edges: no masking needed
    node = np.full(padded.size, n, dtype=np.int32)
    node[flat] = np.arange(n, dtype=np.int32)
    cost_pad = np.zeros(padded.size)
    cost_pad.reshape(nr + 2, width)[1:-1, 1:-1] = np.where(region, cell_cost, 0.0)
    c_nodes = cost_pad[flat]
    nb = flat[:, None] + (_DR * width + _DC)
    cols = node[nb]
    data = cost_pad[nb]
    data += c_nodes[:, None]
    data *= _HALF_LENGTH
    data[cols == n] = 1.0  # edges to the sink: any positive weight
    indptr = np.empty(n + 2, dtype=np.int32)
    indptr[: n + 1] = np.arange(0, 8 * n + 1, 8, dtype=np.int32)
    indptr[n + 1] = 8 * n
    graph = csr_array((data.ravel(), cols.ravel(), indptr), shape=(n + 1, n + 1))

    minutes = np.full((nr, nc), np.inf, dtype=np.float32)
    nearest = np.full((nr, nc), -1, dtype=np.int32)
    src_flat = (rc[:, 0] + 1) * width + rc[:, 1] + 1
    src_nodes = node[src_flat[src_passable]]
    if len(src_nodes):
        # first source wins a shared cell
        uniq, first = np.unique(src_nodes, return_index=True)
        src_of_node = np.flatnonzero(src_passable)[first]
        dist, _, reached_from = dijkstra(
            graph,
            directed=True,
            indices=uniq,
            min_only=True,
            limit=cutoff,
            return_predecessors=True,
        )
        dist, reached_from = dist[:n], reached_from[:n]
        rows, cols_ = np.divmod(flat, width)
        minutes[rows - 1, cols_ - 1] = dist
        ok = reached_from >= 0
        near = np.full(n, -1, dtype=np.int32)
        near[ok] = src_of_node[np.searchsorted(uniq, reached_from[ok])]
        nearest[rows - 1, cols_ - 1] = near
    # sources on impassable cells reach their own cell only
    for i in np.flatnonzero(~src_passable)[::-1]:
        r, c = rc[i]
        minutes[r, c] = 0.0
        nearest[r, c] = i
    settled = int(np.count_nonzero(np.isfinite(minutes)))
    return CostDistance(minutes, nearest, settled, n, "scipy")
