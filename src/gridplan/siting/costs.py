"""Demand × candidate travel minutes (sorted COO pairs) from any travel-time model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from gridplan._types import FloatArray, IntArray
from gridplan._validate import Problems
from gridplan.siting._checks import _xy, siting_problems
from gridplan.siting.demand import Demand
from gridplan.surface.grid import CellGrid
from gridplan.travel.base import TravelTimeModel
from gridplan.travel.costdistance import cost_distance
from gridplan.travel.modes import DEFAULT_DETOUR, MODE_SPEEDS_KMH
from gridplan.travel.raster import RasterModel
from gridplan.travel.straight import StraightLineModel

if TYPE_CHECKING:
    pass

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
    def from_dense(cls, minutes: ArrayLike, max_minutes: float | None = None) -> CostMatrix:
        """From a dense ``(n_demand, n_candidates)`` array; ``inf`` is unreachable."""
        a = np.asarray(minutes, dtype=np.float64)
        problems = siting_problems()
        if a.ndim != 2:
            problems.add(
                "optimize.shape",
                f"the cost matrix must be 2-D, got shape {a.shape}",
                shape=tuple(a.shape),
                expected=None,
            )
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
    n_nan = int(np.count_nonzero(np.isnan(m)))
    n_neg = int(np.count_nonzero(m < 0))
    if n_nan:
        problems.add(
            "optimize.minutes_nan",
            f"{n_nan} travel time(s) are NaN (use inf for unreachable pairs)",
            n=n_nan,
        )
    if n_neg:
        problems.add("optimize.minutes_negative", f"{n_neg} travel time(s) are negative", n=n_neg)


def _cutoff(max_minutes: float | None, problems: Problems) -> float:
    if max_minutes is None:
        return math.inf
    v = problems.number("max_minutes", max_minutes, allow_inf=True, code="optimize.cutoff")
    return math.inf if v is None else v


def _speed_m_per_min(speed: float | str, problems: Problems) -> float | None:
    if isinstance(speed, str):
        if speed not in MODE_SPEEDS_KMH:
            problems.add(
                "optimize.mode",
                f"mode must be one of {', '.join(MODE_SPEEDS_KMH)}, got {speed!r}",
                value=speed,
                allowed=list(MODE_SPEEDS_KMH),
            )
            return None
        speed = MODE_SPEEDS_KMH[speed]
    v = problems.number("speed (km/h)", speed, low=0.5, high=150.0, low_inclusive=True)
    return None if v is None else v * 1000.0 / 60.0


def cost_matrix_straight(
    demand_xy: ArrayLike,
    cand_xy: ArrayLike,
    speed: float | str = "walk",
    detour: float = DEFAULT_DETOUR,
    max_minutes: float | None = None,
) -> CostMatrix:
    """Straight-line minutes (distance × ``detour`` / ``speed``) of demand × candidate pairs.

    ``speed`` is km/h or a mode (``walk``, ``ebike``, ``drive``: the
    :data:`~gridplan.travel.modes.MODE_SPEEDS_KMH`).  With ``max_minutes`` only
    the pairs within it are found (k-d trees, ``sparse_distance_matrix``);
    without it the matrix is dense (at most :data:`MAX_DENSE_PAIRS` pairs).
    The minutes are those of :class:`~gridplan.travel.straight.StraightLineModel`.
    """
    problems = siting_problems()
    d_xy = _xy("demand_xy", demand_xy, problems)
    c_xy = _xy("cand_xy", cand_xy, problems)
    mpm = _speed_m_per_min(speed, problems)
    det = problems.number("detour", detour, low=1.0, high=3.0, low_inclusive=True)
    cap = _cutoff(max_minutes, problems)
    if math.isinf(cap) and len(d_xy) * len(c_xy) > MAX_DENSE_PAIRS:
        problems.add(
            "optimize.too_large",
            f"{len(d_xy)}×{len(c_xy)} pairs are too many for a dense matrix: give max_minutes",
            n=len(d_xy) * len(c_xy),
            limit=MAX_DENSE_PAIRS,
        )
    problems.raise_if_any()
    assert mpm is not None and det is not None
    per_m = det / mpm
    if math.isinf(cap):
        diff = d_xy[:, None, :] - c_xy[None, :, :]
        dist = np.sqrt((diff**2).sum(axis=2))
        return CostMatrix.from_dense(dist * per_m)
    radius = cap / per_m * (1 + 1e-9)
    pairs = cKDTree(d_xy).sparse_distance_matrix(cKDTree(c_xy), radius, output_type="ndarray")
    return CostMatrix.from_pairs(
        len(d_xy), len(c_xy), pairs["i"], pairs["j"], pairs["v"] * per_m, max_minutes=cap
    )


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
    or a coarser candidate grid).  Travel is symmetric in this cost model
    (mean of both cells' costs), so candidate → demand equals demand →
    candidate.  Candidates on a barrier reach only their own cell.
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
    finite = speed[np.isfinite(speed)]
    vmax = float(finite.max()) if finite.size else 0.0
    if vmax <= 0 or math.isinf(cap):
        reach = max(grid.nrows, grid.ncols)
    else:
        reach = math.ceil(vmax * 1000.0 / 60.0 * cap / grid.cell_m) + 2
    # demand cells in a lookup grid: several demand points may share a cell
    order = np.lexsort((d_rc[:, 1], d_rc[:, 0]))
    flat = d_rc[order, 0] * grid.ncols + d_rc[order, 1]
    rows_out: list[IntArray] = []
    cols_out: list[IntArray] = []
    mins_out: list[FloatArray] = []
    for j, (r, c) in enumerate(c_rc):
        r0, r1 = max(0, r - reach), min(grid.nrows, r + reach + 1)
        c0, c1 = max(0, c - reach), min(grid.ncols, c + reach + 1)
        res = cost_distance(
            speed[r0:r1, c0:c1], grid.cell_m, [[r - r0, c - c0]], cap, engine=engine
        )
        lo = np.searchsorted(flat, r0 * grid.ncols, side="left")
        hi = np.searchsorted(flat, (r1 - 1) * grid.ncols + grid.ncols, side="left")
        idx = order[lo:hi]
        rr, cc = d_rc[idx, 0], d_rc[idx, 1]
        inside = (cc >= c0) & (cc < c1)
        idx, rr, cc = idx[inside], rr[inside], cc[inside]
        m = res.minutes[rr - r0, cc - c0].astype(np.float64)
        ok = np.isfinite(m)
        rows_out.append(idx[ok])
        cols_out.append(np.full(int(ok.sum()), j, dtype=np.int64))
        mins_out.append(m[ok])
    cat = np.concatenate
    return CostMatrix.from_pairs(
        len(d_rc),
        len(c_rc),
        cat(rows_out) if rows_out else np.zeros(0, np.int64),
        cat(cols_out) if cols_out else np.zeros(0, np.int64),
        cat(mins_out) if mins_out else np.zeros(0),
        max_minutes=cap,
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
    if out.any():
        problems.add(
            "optimize.rc_outside",
            f"{name}: {int(out.sum())} cell(s) outside the {grid.nrows}×{grid.ncols} grid",
            name=name,
            n=int(out.sum()),
        )
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
    cutoff is the smaller of ``max_minutes`` and the model's); the road network
    (:class:`~gridplan.travel.network.NetworkModel`) its ``pair_minutes`` from the
    demand points (one Dijkstra per candidate with the cutoff); any other
    model runs ``travel_times`` once per candidate, slow for many candidates.
    """
    problems = siting_problems()
    c_xy = _xy("cand_xy", cand_xy, problems)
    problems.raise_if_any()
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
    if hasattr(model, "pair_minutes"):  # the road network: one Dijkstra per candidate
        cap = min(float(getattr(model, "cutoff_min", math.inf)),
                  math.inf if max_minutes is None else float(max_minutes))  # fmt: skip
        pi, pj, pm = model.pair_minutes(grid.crs, demand.xy, c_xy, cap)
        return CostMatrix.from_pairs(
            len(demand.xy), len(c_xy), pi, pj, pm, max_minutes=cap if math.isfinite(cap) else None
        )
    mask = np.zeros(grid.shape, dtype=bool)
    mask[d_rc[:, 0], d_rc[:, 1]] = True
    rows, cols, mins = [], [], []
    for j in range(len(c_xy)):
        tt = model.travel_times(grid, mask, c_xy[j : j + 1])
        m = tt.minutes[d_rc[:, 0], d_rc[:, 1]].astype(np.float64)
        ok = np.flatnonzero(np.isfinite(m))
        rows.append(ok)
        cols.append(np.full(len(ok), j))
        mins.append(m[ok])
    return CostMatrix.from_pairs(
        len(d_rc),
        len(c_xy),
        np.concatenate(rows) if rows else np.zeros(0, np.int64),
        np.concatenate(cols) if cols else np.zeros(0, np.int64),
        np.concatenate(mins) if mins else np.zeros(0),
        max_minutes=max_minutes,
    )
