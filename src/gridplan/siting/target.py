"""The fewest new sites reaching a target coverage share (partial set covering)."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, Unpack

import numpy as np
from numpy.typing import ArrayLike

from gridplan._types import IntArray
from gridplan.i18n import Lang, t
from gridplan.siting.cover import (
    _cover,
    _cover_greedy,
    _drop_redundant,
    cover_start,
    covering_model,
)
from gridplan.siting.demand import Candidates
from gridplan.siting.models import _Inputs, _Siting
from gridplan.siting.options import CoverSolveOptions, MatrixOptions, Method, SurfaceOptions
from gridplan.surface.grid import PopulationSurface


class SetCoverTarget(_Siting):
    """The fewest new sites bringing coverage within T to ``target`` of all residents.

    ``target`` is a share (0.9, 0.95, 1.0) of all residents (``weights``
    sum), those covered by existing facilities included.  Results:
    ``sites``, ``objective`` (number of new sites), ``covered``,
    ``coverage``, and ``max_coverage`` (the share all candidates together
    reach).  A target above ``max_coverage`` gives ``status ==
    "infeasible"`` and no sites; :meth:`message` explains it in zh/en.
    """

    kind = "set_cover_target"
    maximize = False

    def __init__(self, inputs: _Inputs, threshold_min: float, target: float, **kw: Any) -> None:
        super().__init__(inputs, **kw)
        self.threshold_min = float(threshold_min)
        self.target = float(target)
        self._cov = _cover(inputs, self.threshold_min)
        total = self.total_weight
        base = float(inputs.weights[self._cov.covered0].sum())
        self.max_coverage = (base + float(self._cov.group_w.sum())) / total
        self._need = self.target * total - base
        self.covered = math.nan
        self.coverage = math.nan

    # alike in every model on purpose: spopt-style signatures spell out the model's own parameters
    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        threshold_min: float,
        target: float,
        **kw: Unpack[MatrixOptions],
    ) -> SetCoverTarget:
        """From a matrix and demand weights (keyword options: see :meth:`MCLP.from_cost_matrix`)."""
        return cls._from_matrix(
            cost_matrix, weights, None, kw, threshold_min=threshold_min, target=target
        )

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        target: float,
        threshold_min: float,
        **kw: Unpack[SurfaceOptions],
    ) -> SetCoverTarget:
        """From a surface (keyword options: see :meth:`MCLP.from_surface`)."""
        cm, weights, found = cls._surface_matrix(surface, candidates, threshold_min, kw)
        return cls.from_cost_matrix(cm, weights, threshold_min, target, **found)

    @property
    def feasible(self) -> bool:
        return self.max_coverage >= self.target * (1 - 1e-12)

    def message(self, lang: Lang = "zh") -> str:
        """Why the target cannot be reached (empty when it can)."""
        if self.feasible:
            return ""
        return t(
            "optimize.target_infeasible",
            lang,
            target=self.target * 100,
            max_coverage=self.max_coverage * 100,
            threshold=self.threshold_min,
        )

    def covered_by(self, sites: ArrayLike) -> float:
        s = np.asarray(sites, dtype=np.int64)
        best, _ = self._in.cost.nearest(s)
        return float(self.weights[(best <= self.threshold_min) | self._cov.covered0].sum())

    def _set_result(self, sites: IntArray) -> None:
        self.sites = np.sort(sites)
        self.objective = float(len(sites))
        self.covered = self.covered_by(self.sites)
        self.coverage = self.covered / self.total_weight

    def solve(self, method: Method = "exact", **kw: Unpack[CoverSolveOptions]) -> SetCoverTarget:
        """Greedy (sites added until the target is met; with ``polish``, sites
        that became redundant dropped, latest first) or exact (HiGHS, warm-started).
        ``self.greedy`` holds the (polished) greedy answer.  Keyword options:
        :class:`~gridplan.siting.options.CoverSolveOptions`."""
        polish = kw.pop("polish", True)
        run, t0 = self._begin(method, kw)
        n_new = len(self._in.new)
        if not self.feasible:
            self.status = "infeasible"
            self.sites = np.zeros(0, dtype=np.int64)
            self.objective = self.bound = self.gap = math.nan
            self.covered = self.covered_by(self._in.new)
            self.coverage = self.max_coverage
            self.seconds = time.perf_counter() - t0
            return self
        tol = 1e-9 * self.total_weight
        picked = _cover_greedy(self._cov, n_new, n_new, lazy=run.lazy, need=self._need - tol)
        local = picked.sites.tolist()
        if polish:
            local = _drop_redundant(self._cov, n_new, local, self._need - tol)
        kept = replace(
            picked, sites=np.asarray(local, dtype=np.int64), gains=picked.gains[: len(local)]
        )
        self.greedy = self._greedy_answer(kept, t0, len)
        sites = self.greedy.sites
        if method == "greedy" or self._need <= tol:
            self._set_result(sites)
            self.status = "greedy" if method == "greedy" else "optimal"
            self.bound = math.nan if method == "greedy" else self.objective
            self.gap = math.nan if method == "greedy" else 0.0
            self.seconds = time.perf_counter() - t0
            return self
        model = covering_model(self._cov.a, site_cost=1.0, uncovered_cost=0.0)
        # uncovered residents at most (coverable − need); weights scaled so that the
        # smallest group weighs at least ~1 (HiGHS's feasibility tolerances are absolute)
        group_w = self._cov.group_w
        wmin = float(group_w[group_w > 0].min())
        scale = 1.0 / wmin if wmin < 1.0 else 1.0
        slack = float(group_w.sum()) - self._need + tol
        model.row(n_new + np.arange(len(group_w)), group_w * scale, -np.inf, slack * scale)
        mip = model.build(maximize=False)
        start = cover_start(self._cov.a, local) if run.warm_start else None
        self._answer_exact(mip, start, sites, t0, run)
        return self

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(
            covered=self.covered,
            coverage=self.coverage,
            target=self.target,
            max_coverage=self.max_coverage,
        )
        return out
