"""Population-weighted k-means centres snapped to candidates."""

from __future__ import annotations

import math
import time
from typing import Unpack

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from gridplan._types import FloatArray, IntArray
from gridplan.siting._checks import _weights, _xy, siting_problems
from gridplan.siting.demand import Candidates, Demand
from gridplan.siting.models import _sites_table, kept_candidates, surface_demand
from gridplan.siting.options import (
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    Clustering,
    KMeansOptions,
    check_keys,
)
from gridplan.solvers.kmeans import weighted_kmeans
from gridplan.surface.grid import PopulationSurface

# --- k-means ----------------------------------------------------------------------------


class KMeansSiting:
    """Population-weighted k-means centres snapped to distinct candidates.

    Weighted k-means (:func:`gridplan.solvers.kmeans.weighted_kmeans`:
    scikit-learn's ``KMeans`` with ``sample_weight``, ``n_init`` seeded
    restarts, ``random_state=seed``: deterministic) on the demand points;
    centres are taken in order of their cluster's residents and each snaps
    to the nearest candidate not yet taken, so the ``k`` sites are distinct.
    No travel times: a quick geometric baseline.  Results: ``sites``,
    ``centres`` (metric), ``labels`` (cluster of each demand point),
    ``cluster_weight``, ``objective`` (residents × straight-line metres to
    the nearest chosen site), ``inertia`` (k-means' weighted squared
    distances to the centres), ``seconds``, ``status`` (``heuristic``).
    """

    kind = "kmeans"

    def __init__(
        self,
        demand_xy: FloatArray,
        weights: FloatArray,
        candidates_xy: FloatArray,
        k: int,
        *,
        demand: Demand | None = None,
        candidates: Candidates | None = None,
        **kw: Unpack[Clustering],
    ) -> None:
        check_keys("KMeansSiting", kw, Clustering)
        self.demand_xy = demand_xy
        self.weights = weights
        self.candidates_xy = candidates_xy
        self.k = k
        self.seed = kw.get("seed", DEFAULT_SEED)
        self.n_init = kw.get("n_init", DEFAULT_N_INIT)
        self.demand = demand
        self.candidates = candidates
        self.sites: IntArray = np.zeros(0, dtype=np.int64)
        self.centres: FloatArray = np.zeros((0, 2))
        self.labels: IntArray = np.zeros(0, dtype=np.int64)
        self.cluster_weight: FloatArray = np.zeros(0)
        self.objective = math.nan
        self.inertia = math.nan
        self.seconds = math.nan
        self.status = "not_solved"
        self.gap = math.nan

    @classmethod
    def from_points(
        cls,
        demand_xy: ArrayLike,
        weights: ArrayLike,
        candidates_xy: ArrayLike,
        k: int,
        **kw: Unpack[Clustering],
    ) -> KMeansSiting:
        """From metric points: demand, its weights and candidates (keyword options:
        :class:`~gridplan.siting.options.Clustering`)."""
        problems = siting_problems()
        d = _xy("demand_xy", demand_xy, problems)
        c = _xy("candidates_xy", candidates_xy, problems)
        w = _weights(weights, len(d), problems)
        problems.integer(
            "k", k, 1, max(1, min(len(c), int(np.count_nonzero(w > 0)))), code="optimize.k"
        )
        problems.integer("n_init", kw.get("n_init", DEFAULT_N_INIT), 1, 1000)
        problems.raise_if_any()
        return cls(d, w, c, k, **kw)

    @classmethod
    def from_surface(
        cls, surface: PopulationSurface, candidates: Candidates, k: int, **kw: Unpack[KMeansOptions]
    ) -> KMeansSiting:
        """From a surface's demand points and the candidates (keyword options:
        :class:`~gridplan.siting.options.KMeansOptions`)."""
        check_keys("KMeansSiting.from_surface", kw, KMeansOptions)
        kept = kept_candidates(candidates, kw)
        demand = surface_demand(surface, kw)
        seed, n_init = kw.get("seed", DEFAULT_SEED), kw.get("n_init", DEFAULT_N_INIT)
        out = cls.from_points(demand.xy, demand.weights, kept.xy, k, seed=seed, n_init=n_init)
        out.demand, out.candidates = demand, kept
        return out

    def solve(self) -> KMeansSiting:
        t0 = time.perf_counter()
        pos = self.weights > 0
        clusters = weighted_kmeans(
            self.demand_xy[pos], self.weights[pos], self.k, seed=self.seed, n_init=self.n_init
        )
        centres, cw = clusters.centres, clusters.weights
        tree = cKDTree(self.candidates_xy)
        nq = min(len(self.candidates_xy), self.k)
        taken = np.zeros(len(self.candidates_xy), dtype=bool)
        sites = np.full(self.k, -1, dtype=np.int64)
        for ci in np.lexsort((np.arange(self.k), -cw)):
            _, idx = tree.query(centres[ci], k=nq)
            for j in np.atleast_1d(idx):
                if not taken[j]:
                    taken[j] = True
                    sites[ci] = int(j)
                    break
        self.centres = centres
        self.labels = np.full(len(self.weights), -1, dtype=np.int64)
        self.labels[pos] = clusters.labels
        self.cluster_weight = cw
        self.sites = sites
        self.inertia = clusters.inertia
        dist, _ = cKDTree(self.candidates_xy[sites]).query(self.demand_xy)
        self.objective = float((self.weights * dist).sum())
        self.status = "heuristic"
        self.seconds = time.perf_counter() - t0
        return self

    def sites_table(self) -> pd.DataFrame:
        """The chosen sites with their cluster's residents (see :meth:`MCLP.sites_table`)."""
        out = _sites_table(self.sites, self.candidates)
        out["cluster_residents"] = self.cluster_weight
        return out
