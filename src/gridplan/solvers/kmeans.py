"""Weighted k-means: scikit-learn's ``KMeans`` with sample weights, made reproducible.

The one k-means of the library: the illustrative facility network
(:mod:`gridplan.facilities.illustrative`) places its points with it and the
k-means siting baseline (:class:`gridplan.siting.kmeans.KMeansSiting`) its
centres.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from gridplan._types import FloatArray, IntArray

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

__all__ = ["Clusters", "weighted_kmeans"]


@dataclass
class Clusters:
    """The answer of :func:`weighted_kmeans`.

    ``centres`` (k × 2), ``labels`` (the cluster of each point), ``weights``
    (the total weight of each cluster) and ``inertia`` (the weighted sum of
    squared distances of the points to their centres).
    """

    centres: FloatArray
    labels: IntArray
    weights: FloatArray
    inertia: float

    def __len__(self) -> int:
        return len(self.centres)

    def nonempty(self) -> Clusters:
        """The clusters that have members (k-means leaves one empty only where points
        coincide), renumbered in order."""
        k = len(self.centres)
        keep = np.flatnonzero(np.bincount(self.labels, minlength=k) > 0)
        if len(keep) == k:
            return self
        remap = np.full(k, -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        return Clusters(self.centres[keep], remap[self.labels], self.weights[keep], self.inertia)


@functools.cache
def _threads() -> ThreadpoolController:
    """The thread pools of the loaded libraries (finding them takes milliseconds: once)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _random_state(seed: int | Sequence[int]) -> int:
    """An integer seed for scikit-learn; a sequence (``[seed, unit]``) is hashed by numpy."""
    if isinstance(seed, (int, np.integer)):
        return int(seed)
    return int(np.random.SeedSequence(list(seed)).generate_state(1)[0])


def weighted_kmeans(
    xy: ArrayLike,
    weights: ArrayLike,
    k: int,
    *,
    seed: int | Sequence[int] = 0,
    n_init: int = 1,
) -> Clusters:
    """Population-weighted k-means of points.

    ``KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(xy,
    sample_weight=weights)`` (k-means++ seeding weighted by ``weights``,
    then Lloyd iterations until the centres move less than ``1e-4`` of the
    data's variance), on coordinates taken relative to their mean (metric
    coordinates are large numbers).  scikit-learn runs single-threaded here:
    its threads add their partial sums in whatever order they finish, so
    results would differ in the last bits from run to run.

    Parameters
    ----------
    xy
        Points (n × 2).
    weights
        Their weights (positive).
    k
        Number of clusters; with ``k ≥ n`` every point is its own cluster.
    seed
        Random seed (an int, or a sequence of ints such as ``[seed, unit]``).
    n_init
        Number of seeded restarts; the best (least inertia) is kept.

    Returns
    -------
    Clusters
        ``k`` clusters (:meth:`Clusters.nonempty` drops those left without
        a member, which happens only where points coincide).
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    pts = np.asarray(xy, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if k >= len(pts):
        return Clusters(pts.copy(), np.arange(len(pts), dtype=np.int64), w.copy(), 0.0)
    origin = pts.mean(axis=0)
    km = KMeans(n_clusters=k, n_init=n_init, random_state=_random_state(seed))
    with _threads().limit(limits=1, user_api="openmp"), warnings.catch_warnings():
        # coinciding points leave clusters empty: reported by Clusters.nonempty, not a warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        km.fit(pts - origin, sample_weight=w)
    labels = km.labels_.astype(np.int64)
    return Clusters(
        centres=np.asarray(km.cluster_centers_ + origin, dtype=np.float64),
        labels=labels,
        weights=np.bincount(labels, weights=w, minlength=k).astype(np.float64),
        inertia=float(km.inertia_),
    )
