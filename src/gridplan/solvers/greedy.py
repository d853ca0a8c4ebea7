"""Lazy greedy (CELF) maximisation of marginal gains."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gridplan._types import FloatArray, IntArray

if TYPE_CHECKING:
    pass

# --- greedy -------------------------------------------------------------------------


@dataclass
class GreedySolution:
    """A greedy answer: sites in order of choice, the marginal gain of each, the objective."""

    sites: IntArray
    gains: FloatArray
    objective: float
    seconds: float
    lazy: bool = True
    evaluations: int = 0


def _greedy(
    n: int,
    k: int,
    gain: Callable[[int], float],
    commit: Callable[[int], None],
    *,
    lazy: bool,
    stop: Callable[[], bool] | None = None,
) -> tuple[list[int], list[float], int]:
    """Greedy maximisation of marginal gains; ties go to the lowest index.

    With ``lazy`` (CELF), stored gains are upper bounds that are only
    recomputed when they reach the top of a priority queue: valid whenever a
    candidate's gain can only shrink as sites are added (coverage,
    p-median savings, capacity-capped coverage), and then it picks exactly
    the sites of plain greedy.
    """
    chosen: list[int] = []
    gains: list[float] = []
    evals = 0
    used = np.zeros(n, dtype=bool)
    if lazy:
        heap = []
        for j in range(n):
            heap.append((-gain(j), j))
        evals += n
        heapq.heapify(heap)
        stamp = np.zeros(n, dtype=np.int64)
        for it in range(k):
            if stop is not None and stop():
                break
            while True:
                neg, j = heapq.heappop(heap)
                if stamp[j] == it:
                    break
                g = gain(j)
                evals += 1
                stamp[j] = it
                heapq.heappush(heap, (-g, j))
            chosen.append(j)
            gains.append(-neg)
            used[j] = True
            commit(j)
    else:
        for _ in range(k):
            if stop is not None and stop():
                break
            best_j, best_g = -1, -math.inf
            for j in range(n):
                if used[j]:
                    continue
                g = gain(j)
                evals += 1
                if g > best_g:
                    best_j, best_g = j, g
            chosen.append(best_j)
            gains.append(best_g)
            used[best_j] = True
            commit(best_j)
    return chosen, gains, evals
