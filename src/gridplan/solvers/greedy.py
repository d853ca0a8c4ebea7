"""Greedy maximisation of marginal gains, lazily evaluated (CELF).

The one greedy of the library: every location model's greedy path (MCLP, the
set-cover target, p-median, the capacitated variants, the seed hospitals of
a grid proposal) states its marginal ``gain`` and what choosing a site
``commit`` s, and :func:`greedy` picks the sites.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gridplan._types import FloatArray, IntArray

__all__ = ["GreedySolution", "greedy"]


@dataclass
class GreedySolution:
    """A greedy answer: sites in order of choice, the marginal gain of each, the objective.

    ``evaluations`` counts the calls of the gain function (CELF saves most of
    them); ``seconds`` is the wall time.
    """

    sites: IntArray
    gains: FloatArray
    objective: float
    seconds: float
    lazy: bool = True
    evaluations: int = 0


def greedy(
    n: int,
    k: int,
    gain: Callable[[int], float],
    commit: Callable[[int], None],
    *,
    lazy: bool = True,
    stop: Callable[[], bool] | None = None,
) -> GreedySolution:
    """Choose up to ``k`` of the candidates ``0 … n-1``, each time the one of largest gain.

    Parameters
    ----------
    n, k
        Number of candidates and of sites to choose.
    gain
        The marginal gain of candidate ``j`` given the sites chosen so far.
    commit
        Called with each chosen site, before the next choice (updates the
        state ``gain`` reads).
    lazy
        CELF: a stored gain is an upper bound, recomputed only when it
        reaches the top of a priority queue.  Valid whenever a candidate's
        gain can only shrink as sites are added (coverage, p-median savings,
        capacity-capped coverage); it then picks exactly the sites of plain
        greedy.
    stop
        Called before each choice; True ends the search early (e.g. once a
        target coverage is met).

    Returns
    -------
    GreedySolution
        ``sites`` (candidate indices in order of choice), ``gains`` and
        ``objective`` (their sum).  Ties go to the lowest index.
    """
    t0 = time.perf_counter()
    pick = _lazy if lazy else _plain
    chosen, gains, evals = pick(n, k, gain, commit, stop)
    return GreedySolution(
        sites=np.asarray(chosen, dtype=np.int64),
        gains=np.asarray(gains, dtype=np.float64),
        objective=float(sum(gains)),
        seconds=time.perf_counter() - t0,
        lazy=lazy,
        evaluations=evals,
    )


_Pick = tuple[list[int], list[float], int]


def _lazy(
    n: int,
    k: int,
    gain: Callable[[int], float],
    commit: Callable[[int], None],
    stop: Callable[[], bool] | None,
) -> _Pick:
    heap = [(-gain(j), j) for j in range(n)]
    evals = n
    heapq.heapify(heap)
    stamp = np.zeros(n, dtype=np.int64)  # the round each stored gain was computed in
    chosen: list[int] = []
    gains: list[float] = []
    for it in range(k):
        if stop is not None and stop():
            break
        while True:
            neg, j = heapq.heappop(heap)
            if stamp[j] == it:
                break
            stamp[j] = it
            heapq.heappush(heap, (-gain(j), j))
            evals += 1
        chosen.append(j)
        gains.append(-neg)
        commit(j)
    return chosen, gains, evals


def _plain(
    n: int,
    k: int,
    gain: Callable[[int], float],
    commit: Callable[[int], None],
    stop: Callable[[], bool] | None,
) -> _Pick:
    used = np.zeros(n, dtype=bool)
    chosen: list[int] = []
    gains: list[float] = []
    evals = 0
    for _ in range(k):
        if stop is not None and stop():
            break
        best_j, best_g = -1, -math.inf
        for j in np.flatnonzero(~used):
            g = gain(int(j))
            evals += 1
            if g > best_g:
                best_j, best_g = int(j), g
        chosen.append(best_j)
        gains.append(best_g)
        used[best_j] = True
        commit(best_j)
    return chosen, gains, evals
