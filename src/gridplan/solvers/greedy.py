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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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
    run = _Run(n, k, gain, commit, stop)
    if lazy:
        run.pick_lazily()
    else:
        run.pick_plainly()
    return GreedySolution(
        sites=np.asarray(run.chosen, dtype=np.int64),
        gains=np.asarray(run.gains, dtype=np.float64),
        objective=float(sum(run.gains)),
        seconds=time.perf_counter() - t0,
        lazy=lazy,
        evaluations=run.evaluations,
    )


@dataclass
class _Run:
    """One greedy run: its problem (``n`` candidates, ``k`` sites, ``gain``, ``commit``,
    ``stop``) and what it chose, with the gain of each and the gain evaluations spent."""

    n: int
    k: int
    gain: Callable[[int], float]
    commit: Callable[[int], None]
    stop: Callable[[], bool] | None
    chosen: list[int] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)
    evaluations: int = 0

    def rounds(self) -> Iterator[int]:
        """The rounds 0 … k-1, until ``stop`` ends the search."""
        for it in range(self.k):
            if self.stop is not None and self.stop():
                return
            yield it

    def choose(self, j: int, gain: float) -> None:
        self.chosen.append(j)
        self.gains.append(gain)
        self.commit(j)

    def pick_lazily(self) -> None:
        """CELF: the stored gains are bounds, recomputed when they reach the top of the heap."""
        gain = self.gain
        heap = [(-gain(j), j) for j in range(self.n)]
        evals = self.n
        heapq.heapify(heap)
        stamp = np.zeros(self.n, dtype=np.int64)  # the round each stored gain was computed in
        for it in self.rounds():
            while True:
                neg, j = heapq.heappop(heap)
                if stamp[j] == it:
                    break
                stamp[j] = it
                heapq.heappush(heap, (-gain(j), j))
                evals += 1
            self.choose(j, -neg)
        self.evaluations = evals

    def pick_plainly(self) -> None:
        """Every remaining candidate's gain evaluated in every round."""
        gain = self.gain
        used = np.zeros(self.n, dtype=bool)
        evals = 0
        for _ in self.rounds():
            best_j, best_g = -1, -math.inf
            for j in np.flatnonzero(~used):
                g = gain(int(j))
                evals += 1
                if g > best_g:
                    best_j, best_g = int(j), g
            used[best_j] = True
            self.choose(best_j, best_g)
        self.evaluations = evals
