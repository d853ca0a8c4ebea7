"""Demand × candidate travel minutes (sorted COO pairs) from any travel-time model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gridplan._types import FloatArray, IntArray
from gridplan._validate import Problems
from gridplan.siting._checks import _dims, siting_problems
from gridplan.siting.demand import Demand
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimeModel, pairs_from_travel_times
from gridplan.travel.pairs import Pairs
from gridplan.travel.raster import RasterModel, raster_pairs
from gridplan.travel.speeds import DEFAULT_DETOUR, check_speed_detour
from gridplan.travel.straight import StraightLineModel, straight_pairs

#: Largest dense matrix built without a cutoff (pairs).
MAX_DENSE_PAIRS = 50_000_000


# --- cost matrices ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Travel minutes of demand × candidate pairs, stored as sorted COO pairs.

    A pair that is not stored is unreachable (beyond ``max_minutes`` or
    ``inf``).  Build one with :meth:`from_dense`, :meth:`from_sparse`,
    :meth:`coerce` or the ``cost_matrix_*`` functions.
    """

    n_demand: int
    n_candidates: int
    demand: NDArray[np.int32]
    candidate: NDArray[np.int32]
    minutes: FloatArray
    max_minutes: float = math.inf
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_pairs(self) -> int:
        return len(self.minutes)

    @property
    def complete(self) -> bool:
        """Whether every demand × candidate pair is reachable."""
        return self.n_pairs == self.n_demand * self.n_candidates

    @classmethod
    def from_pairs(
        cls,
        n_demand: int,
        n_candidates: int,
        demand: ArrayLike,
        candidate: ArrayLike,
        minutes: ArrayLike,
        max_minutes: float | None = None,
    ) -> CostMatrix:
        """From pair arrays; pairs with non-finite or larger-than-``max_minutes`` times dropped."""
        d = np.asarray(demand, dtype=np.int64).ravel()
        c = np.asarray(candidate, dtype=np.int64).ravel()
        m = np.asarray(minutes, dtype=np.float64).ravel()
        problems = siting_problems()
        if not len(d) == len(c) == len(m):
            problems.add(
                "optimize.shape",
                f"pair arrays differ in length ({len(d)}, {len(c)}, {len(m)})",
                shape=(len(d), len(c), len(m)),
                expected=None,
            )
            problems.raise_if_any()
        _check_minutes(m, problems)
        outside = (d < 0) | (d >= n_demand) | (c < 0) | (c >= n_candidates)
        if outside.any():
            problems.add(
                "optimize.shape",
                f"{int(outside.sum())} pair(s) outside the {n_demand}×{n_candidates} matrix",
                shape=(n_demand, n_candidates),
                expected=None,
            )
        cap = _cutoff(max_minutes, problems)
        problems.raise_if_any()
        keep = np.isfinite(m) & (m <= cap)
        d, c, m = d[keep], c[keep], m[keep]
        order = np.lexsort((c, d))
        d, c, m = d[order], c[order], m[order]
        if len(d) > 1:
            dup = (d[1:] == d[:-1]) & (c[1:] == c[:-1])
            if dup.any():  # keep the shortest (sorted by minutes within equal keys below)
                order = np.lexsort((m, c, d))
                d, c, m = d[order], c[order], m[order]
                first = np.concatenate([[True], (d[1:] != d[:-1]) | (c[1:] != c[:-1])])
                d, c, m = d[first], c[first], m[first]
        return cls(
            n_demand=int(n_demand),
            n_candidates=int(n_candidates),
            demand=d.astype(np.int32),
            candidate=c.astype(np.int32),
            minutes=m,
            max_minutes=cap,
        )

    @classmethod
    def from_travel_pairs(cls, pairs: Pairs, max_minutes: float | None = None) -> CostMatrix:
        """From a travel-time model's pairs (demand points × candidates as facilities).

        The pairs are the model's own (valid, one per demand and candidate,
        sorted by candidate), so they need no checks; those with minutes
        above ``max_minutes`` (default: the pairs') are dropped.
        """
        cap = pairs.max_minutes if max_minutes is None else float(max_minutes)
        m = pairs.minutes.astype(np.float64)
        d, c = pairs.point, pairs.facility
        keep = m <= cap
        if not keep.all():
            d, c, m = d[keep], c[keep], m[keep]
        # a stable sort by demand of pairs sorted by candidate: sorted by (demand, candidate)
        order = np.argsort(d, kind="stable")
        return cls(
            n_demand=pairs.n_points,
            n_candidates=pairs.n_facilities,
            demand=d[order].astype(np.int32),
            candidate=c[order].astype(np.int32),
            minutes=m[order],
            max_minutes=cap,
        )

    @classmethod
    def from_dense(cls, minutes: ArrayLike, max_minutes: float | None = None) -> CostMatrix:
        """From a dense ``(n_demand, n_candidates)`` array; ``inf`` is unreachable."""
        a = np.asarray(minutes, dtype=np.float64)
        problems = siting_problems()
        if not _dims(problems, "optimize.shape", "the cost matrix", a, 2, expected=None):
            problems.raise_if_any()
        _check_minutes(a, problems)
        cap = _cutoff(max_minutes, problems)
        problems.raise_if_any()
        d, c = np.nonzero(np.isfinite(a) & (a <= cap))
        return cls(
            n_demand=a.shape[0],
            n_candidates=a.shape[1],
            demand=d.astype(np.int32),
            candidate=c.astype(np.int32),
            minutes=a[d, c],
            max_minutes=cap,
        )

    @classmethod
    def from_sparse(cls, matrix: Any, max_minutes: float | None = None) -> CostMatrix:
        """From a scipy sparse matrix: the *stored* entries are the reachable pairs.

        A stored 0 is a pair at 0 minutes (a candidate in the demand's own
        cell); an entry that is not stored is unreachable.
        """
        coo = sp.coo_matrix(matrix)
        return cls.from_pairs(
            coo.shape[0], coo.shape[1], coo.row, coo.col, coo.data, max_minutes=max_minutes
        )

    @classmethod
    def coerce(cls, cost: Any, max_minutes: float | None = None) -> CostMatrix:
        """A :class:`CostMatrix` from itself, a scipy sparse matrix or a dense array."""
        if isinstance(cost, CostMatrix):
            if max_minutes is None or max_minutes >= cost.max_minutes:
                return cost
            return cls.from_pairs(
                cost.n_demand,
                cost.n_candidates,
                cost.demand,
                cost.candidate,
                cost.minutes,
                max_minutes,
            )
        if sp.issparse(cost):
            return cls.from_sparse(cost, max_minutes)
        return cls.from_dense(cost, max_minutes)

    def to_dense(self) -> FloatArray:
        """The dense matrix, ``inf`` for unreachable pairs."""
        out = np.full((self.n_demand, self.n_candidates), np.inf)
        out[self.demand, self.candidate] = self.minutes
        return out

    def to_sparse(self) -> sp.csr_matrix:
        """A CSR matrix of the pairs (explicit zeros kept)."""
        return sp.csr_matrix(
            (self.minutes, (self.demand, self.candidate)),
            shape=(self.n_demand, self.n_candidates),
        )

    def by_candidate(self) -> tuple[IntArray, NDArray[np.int32], FloatArray]:
        """Pairs grouped by candidate: ``indptr`` (``n_candidates + 1``), demand, minutes."""
        if "by_candidate" not in self._cache:
            order = np.argsort(self.candidate, kind="stable")
            indptr = np.searchsorted(
                self.candidate[order], np.arange(self.n_candidates + 1), side="left"
            ).astype(np.int64)
            self._cache["by_candidate"] = (indptr, self.demand[order], self.minutes[order])
        out: tuple[IntArray, NDArray[np.int32], FloatArray] = self._cache["by_candidate"]
        return out

    def nearest(self, columns: ArrayLike) -> tuple[FloatArray, IntArray]:
        """Minutes from each demand point to the nearest of ``columns`` and which (-1: none)."""
        cols = np.asarray(columns, dtype=np.int64)
        best = np.full(self.n_demand, np.inf)
        which = np.full(self.n_demand, -1, dtype=np.int64)
        if len(cols) == 0 or self.n_pairs == 0:
            return best, which
        mask = np.zeros(self.n_candidates, dtype=bool)
        mask[cols] = True
        sel = mask[self.candidate]
        d, c, m = self.demand[sel], self.candidate[sel], self.minutes[sel]
        order = np.lexsort((c, m, d))
        d, c, m = d[order], c[order], m[order]
        first = np.concatenate([[True], d[1:] != d[:-1]]) if len(d) else np.zeros(0, bool)
        best[d[first]] = m[first]
        which[d[first]] = c[first]
        return best, which


def _check_minutes(m: FloatArray, problems: Problems) -> None:
    """A problem for each kind of travel time a matrix may not hold, with how many there are."""
    nan = "{n} travel time(s) are NaN (use inf for unreachable pairs)"
    problems.count("optimize.minutes_nan", np.isnan(m), nan)
    problems.count("optimize.minutes_negative", m < 0, "{n} travel time(s) are negative")


def _cutoff(max_minutes: float | None, problems: Problems) -> float:
    if max_minutes is None:
        return math.inf
    v = problems.number("max_minutes", max_minutes, allow_inf=True, code="optimize.cutoff")
    return math.inf if v is None else v


def cost_matrix_straight(
    demand_xy: ArrayLike,
    cand_xy: ArrayLike,
    speed: float | str = "walk",
    detour: float = DEFAULT_DETOUR,
    max_minutes: float | None = None,
) -> CostMatrix:
    """Straight-line minutes (distance × ``detour`` / ``speed``) of demand × candidate pairs.

    ``speed`` is km/h or a mode (``walk``, ``ebike``, ``drive``: the
    :data:`~gridplan.travel.speeds.MODE_SPEEDS_KMH`).  With ``max_minutes`` only
    the pairs within it are found (k-d trees, ``sparse_distance_matrix``);
    without it the matrix is dense (at most :data:`MAX_DENSE_PAIRS` pairs).
    The minutes are those of :class:`~gridplan.travel.straight.StraightLineModel`,
    bit for bit (:func:`~gridplan.travel.straight.straight_pairs`).
    """
    problems = siting_problems()
    d_xy = problems.points("demand_xy", demand_xy)
    c_xy = problems.points("cand_xy", cand_xy)
    per_m = check_speed_detour(problems, speed, detour)
    cap = _cutoff(max_minutes, problems)
    n_pairs = 0 if d_xy is None or c_xy is None else len(d_xy) * len(c_xy)
    if math.isinf(cap) and n_pairs > MAX_DENSE_PAIRS:
        problems.add(
            "optimize.too_large",
            f"{n_pairs} pairs are too many for a dense matrix: give max_minutes",
            n=n_pairs,
            limit=MAX_DENSE_PAIRS,
        )
    problems.raise_if_any()
    assert d_xy is not None and c_xy is not None and per_m is not None
    pairs = straight_pairs(d_xy, c_xy, per_m, cap)
    return CostMatrix.from_travel_pairs(pairs)


def cost_matrix_raster(
    grid: CellGrid,
    speed_surface: ArrayLike,
    demand_rc: ArrayLike,
    cand_rc: ArrayLike,
    max_minutes: float,
    *,
    engine: Literal["buckets", "scipy"] = "buckets",
) -> CostMatrix:
    """Raster (friction-surface) minutes of demand × candidate pairs within ``max_minutes``.

    One :func:`~gridplan.travel.costdistance.cost_distance` per candidate with the
    cutoff, on the window of cells the fastest speed can reach within it (so
    a run costs the reachable area, not the grid): fine for hundreds of
    candidates, slow for many thousands (use the straight-line matrix there,
    or a coarser candidate grid); see
    :func:`~gridplan.travel.raster.raster_pairs`.  Travel is symmetric in this
    cost model (mean of both cells' costs), so candidate → demand equals
    demand → candidate.  Candidates on a barrier reach only their own cell.
    """
    problems = siting_problems()
    speed = np.asarray(speed_surface, dtype=np.float64)
    if speed.shape != grid.shape:
        problems.add(
            "optimize.shape",
            f"speed_surface has shape {speed.shape}, expected the grid's {grid.shape}",
            shape=tuple(speed.shape),
            expected=grid.shape,
        )
    d_rc = _rc("demand_rc", demand_rc, grid, problems)
    c_rc = _rc("cand_rc", cand_rc, grid, problems)
    cap = problems.number("max_minutes", max_minutes, allow_inf=True, code="optimize.cutoff")
    problems.raise_if_any()
    assert cap is not None
    return CostMatrix.from_travel_pairs(
        raster_pairs(speed, grid.cell_m, d_rc, c_rc, cap, engine=engine)
    )


def _rc(name: str, rc: ArrayLike, grid: CellGrid, problems: Problems) -> IntArray:
    a = np.asarray(rc)
    if a.size == 0:
        a = a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2 or a.dtype.kind not in "iu":
        problems.add(
            "optimize.rc_shape",
            f"{name} must be integer (row, col) pairs, got shape {a.shape} of {a.dtype}",
            name=name,
            shape=tuple(a.shape),
        )
        return np.zeros((0, 2), dtype=np.int64)
    a = a.astype(np.int64)
    out = (a[:, 0] < 0) | (a[:, 0] >= grid.nrows) | (a[:, 1] < 0) | (a[:, 1] >= grid.ncols)
    text = f"{{name}}: {{n}} cell(s) outside the {grid.nrows}×{grid.ncols} grid"
    problems.count("optimize.rc_outside", out, text, name=name)
    return a


def cost_matrix_model(
    model: TravelTimeModel,
    grid: CellGrid,
    demand: Demand,
    cand_xy: ArrayLike,
    max_minutes: float | None,
) -> CostMatrix:
    """Demand × candidate minutes from any travel-time model.

    :class:`~gridplan.travel.straight.StraightLineModel` and
    :class:`~gridplan.travel.raster.RasterModel` use the fast
    :func:`cost_matrix_straight` / :func:`cost_matrix_raster` (the raster
    cutoff is the smaller of ``max_minutes`` and the model's, on the demand
    points' representative cells); any other model its ``pairs`` from the
    demand points (the road network,
    :meth:`~gridplan.travel.network.NetworkModel.pairs`: one Dijkstra per
    candidate with the cutoff); a model without ``pairs`` runs
    ``travel_times`` once per candidate
    (:func:`~gridplan.travel.base.pairs_from_travel_times`), slow for many
    candidates.
    """
    problems = siting_problems()
    c_xy = problems.points("cand_xy", cand_xy)
    problems.raise_if_any()
    assert c_xy is not None
    if isinstance(model, StraightLineModel):
        return cost_matrix_straight(demand.xy, c_xy, model.speed_kmh, model.detour, max_minutes)
    d_rc = demand.cells(grid)
    if isinstance(model, RasterModel):
        cap = min(model.cutoff_min, math.inf if max_minutes is None else float(max_minutes))
        r, c, inside = grid.cell_of(c_xy[:, 0], c_xy[:, 1])
        if not inside.all():
            problems.add(
                "optimize.rc_outside",
                f"candidates: {int((~inside).sum())} outside the grid",
                name="candidates",
                n=int((~inside).sum()),
            )
            problems.raise_if_any()
        return cost_matrix_raster(
            grid,
            model.speed_surface(grid),
            d_rc,
            np.column_stack([r, c]),
            cap,
            engine=model.engine,
        )
    cap = math.inf if max_minutes is None else float(max_minutes)
    if hasattr(model, "pairs"):  # the road network: one Dijkstra per candidate
        return CostMatrix.from_travel_pairs(model.pairs(grid, demand.xy, c_xy, cap))
    pairs = pairs_from_travel_times(model, grid, d_rc, c_xy, cap)
    return CostMatrix.from_travel_pairs(pairs, max_minutes=cap)
