"""Maximal covering (MCLP) and the coverage-versus-k curve."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, Unpack

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from gridplan._types import IntArray
from gridplan.siting._checks import siting_problems
from gridplan.siting.cover import _cover, _cover_greedy, _cover_swap, cover_start, covering_model
from gridplan.siting.demand import Candidates
from gridplan.siting.mclp_probe import ProbeResult, probe_solve
from gridplan.siting.models import _Inputs, _Siting
from gridplan.siting.options import (
    DEFAULT_GAP,
    DEFAULT_TIME_LIMIT_S,
    CurveOptions,
    MatrixOptions,
    MCLPSolveOptions,
    Method,
    Run,
    SurfaceOptions,
)
from gridplan.solvers.budget import Deadline
from gridplan.solvers.greedy import GreedySolution
from gridplan.surface.grid import PopulationSurface


class MCLP(_Siting):
    """Maximal covering location: ``k`` new sites maximising residents newly covered within T.

    Results after :meth:`solve`: ``sites``, ``objective`` (residents newly
    covered), ``covered`` (all residents covered, existing facilities
    included), ``coverage`` (``covered`` / all residents), ``bound``,
    ``gap``, ``seconds``, ``status``, ``greedy`` (the greedy answer, also the
    warm start) and ``assignment`` (per demand point, the nearest open
    candidate within T or -1).
    """

    kind = "mclp"

    def __init__(self, inputs: _Inputs, threshold_min: float, **kw: Any) -> None:
        super().__init__(inputs, **kw)
        self.threshold_min = float(threshold_min)
        self._cov = _cover(inputs, self.threshold_min)
        self.covered = math.nan
        self.coverage = math.nan
        self.assignment: IntArray = np.zeros(0, dtype=np.int64)
        self.probe: ProbeResult | None = None

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: ArrayLike,
        threshold_min: float,
        k: int,
        **kw: Unpack[MatrixOptions],
    ) -> MCLP:
        """From a dense or sparse matrix (or :class:`CostMatrix`) and demand weights.

        Keyword options: :class:`~gridplan.siting.options.MatrixOptions`.
        """
        return cls._from_matrix(cost_matrix, weights, k, kw, threshold_min=threshold_min)

    @classmethod
    def from_surface(
        cls,
        surface: PopulationSurface,
        candidates: Candidates,
        k: int,
        threshold_min: float,
        **kw: Unpack[SurfaceOptions],
    ) -> MCLP:
        """From a population surface, with the pairs within T.

        Keyword options: :class:`~gridplan.siting.options.SurfaceOptions`.
        """
        cm, weights, found = cls._surface_matrix(surface, candidates, threshold_min, kw)
        return cls.from_cost_matrix(cm, weights, threshold_min, k, **found)

    # evaluation
    def evaluate(self, sites: ArrayLike) -> float:
        """Residents newly covered by ``sites`` (candidate columns)."""
        return self._covered_by(np.asarray(sites, dtype=np.int64))[0]

    def _covered_by(self, sites: IntArray) -> tuple[float, float, IntArray]:
        inp = self._in
        best, _ = inp.cost.nearest(sites)
        within = best <= self.threshold_min
        new = within & ~self._cov.covered0
        w = inp.weights
        newly = float(w[new].sum())
        total = float(w[within | self._cov.covered0].sum())
        near, which = inp.cost.nearest(np.concatenate([sites, inp.existing]))
        return newly, total, np.where(near <= self.threshold_min, which, -1)

    def _set_result(self, sites: IntArray) -> None:
        self.sites = np.sort(sites)
        self.objective, self.covered, self.assignment = self._covered_by(self.sites)
        self.coverage = self.covered / self.total_weight

    def run_greedy(self, k: int | None = None, *, lazy: bool = True) -> GreedySolution:
        """Greedy sites (CELF with ``lazy``), without touching the results."""
        t0 = time.perf_counter()
        kk = self.k if k is None else k
        run = _cover_greedy(self._cov, len(self._in.new), kk, lazy=lazy)
        return self._greedy_answer(run, t0, self.evaluate)

    def solve(self, method: Method = "exact", **kw: Unpack[MCLPSolveOptions]) -> MCLP:
        """Solve greedily or exactly; returns ``self``.

        ``greedy``: lazy greedy (CELF), then (``polish``) swap local search.
        ``exact``: solved to a relative ``gap`` within ``time_limit`` seconds
        by LP probing from the greedy + swap answer (``probe``, the default;
        :mod:`gridplan.siting.mclp_probe`), or by the covering MIP in HiGHS
        warm-started with it.
        ``self.greedy`` always holds the plain greedy answer.  Keyword options:
        :class:`~gridplan.siting.options.MCLPSolveOptions`.
        """
        polish = kw.pop("polish", True)
        probe = kw.pop("probe", True)
        self.probe = None
        run, t0 = self._begin(method, kw)
        self.greedy = self.run_greedy(lazy=run.lazy)
        n_new = len(self._in.new)
        local = np.searchsorted(self._in.new, self.greedy.sites).tolist()
        if polish:
            local = _cover_swap(self._cov, n_new, local)
        heuristic = self._in.new[np.asarray(local, dtype=np.int64)]
        if method == "greedy":
            self._answer_greedy(heuristic, t0)
            return self
        if probe and 0 < self.k < n_new and len(self._cov.group_w):
            self._answer_probe(local, run, t0)
            return self
        model = covering_model(self._cov.a, site_cost=0.0, uncovered_cost=-self._cov.group_w)
        model.cardinality(0, n_new, self.k)
        mip = model.build(maximize=True, offset=float(self._cov.group_w.sum()))
        start = cover_start(self._cov.a, local) if run.warm_start else None
        self._answer_exact(mip, start, heuristic, t0, run)
        return self

    def _answer_probe(self, start: list[int], run: Run, t0: float) -> None:
        """The exact answer by LP probing (:mod:`gridplan.siting.mclp_probe`) from ``start``."""
        res = probe_solve(
            self._cov,
            len(self._in.new),
            self.k,
            start,
            gap=run.gap,
            deadline=Deadline(run.time_limit, t0),
            verbose=run.verbose,
        )
        self._set_result(self._in.new[np.asarray(res.sites, dtype=np.int64)])
        self.status, self.bound = res.status, res.bound
        self.gap = max(0.0, (res.bound - self.objective) / max(abs(self.objective), 1e-12))
        self.probe = res
        self.seconds = time.perf_counter() - t0

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(covered=self.covered, coverage=self.coverage, threshold_min=self.threshold_min)
        return out

    def coverage_curve(self, k_max: int, **kw: Unpack[CurveOptions]) -> pd.DataFrame:
        """Coverage for k = 0…``k_max`` new sites (see :func:`coverage_curve`, its options)."""
        return coverage_curve(self, k_max, **kw)


def coverage_curve(
    problem: MCLP,
    k_max: int,
    *,
    exact: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT_S,
    gap: float = DEFAULT_GAP,
) -> pd.DataFrame:
    """Residents covered within T with k = 0…``k_max`` new sites.

    The greedy curve is one greedy run (greedy sites are nested), so it is
    instant; it is a lower bound of the best coverage at each k (and at least
    ``1 − 1/e`` of the best *new* coverage).  With ``exact`` every k is also
    solved by the MIP (columns ``covered_exact``, ``coverage_exact``,
    ``gap_exact``).  :func:`sites_needed` reads off the k reaching a share;
    :class:`SetCoverTarget` answers that exactly.
    """
    problems = siting_problems()
    n_new = len(problem._in.new)
    kk = problems.integer("k_max", k_max, 0, n_new, code="optimize.k")
    problems.raise_if_any()
    assert kk is not None
    g = problem.run_greedy(kk)
    base = float(problem.weights[problem._cov.covered0].sum())
    covered = base + np.concatenate([[0.0], np.cumsum(g.gains)])
    total = problem.total_weight
    out = pd.DataFrame(
        {
            "k": np.arange(kk + 1),
            "covered_greedy": covered,
            "coverage_greedy": covered / total,
            "site_added": np.concatenate([[-1], g.sites]),
        }
    )
    if exact:
        cov, cov_gap = [], []
        for k in range(kk + 1):
            p = MCLP(replace(problem._in, k=k), problem.threshold_min)
            p.solve(time_limit=time_limit, gap=gap)
            cov.append(p.covered)
            cov_gap.append(p.gap)
        out["covered_exact"] = cov
        out["coverage_exact"] = np.asarray(cov) / total
        out["gap_exact"] = cov_gap
    return out


def sites_needed(curve: pd.DataFrame, target: float, column: str | None = None) -> int | None:
    """Smallest k of a :func:`coverage_curve` whose coverage reaches ``target`` (None: never)."""
    col = column or ("coverage_exact" if "coverage_exact" in curve else "coverage_greedy")
    hit = np.flatnonzero(curve[col].to_numpy() >= target - 1e-12)
    return int(curve["k"].to_numpy()[hit[0]]) if len(hit) else None
