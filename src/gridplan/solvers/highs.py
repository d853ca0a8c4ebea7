"""The HiGHS adapter: a MIP in arrays, solved with a time limit and a warm start."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gridplan._types import FloatArray, IntArray
from gridplan.errors import InputError

if TYPE_CHECKING:
    import highspy

# --- HiGHS --------------------------------------------------------------------------


@dataclass
class _Mip:
    """A MIP in arrays: columns (cost, bounds, integrality) and rows as COO triplets."""

    cost: FloatArray
    lower: FloatArray
    upper: FloatArray
    integer: NDArray[np.bool_]
    row: IntArray
    col: IntArray
    val: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    maximize: bool
    offset: float = 0.0


@dataclass
class _MipResult:
    status: str
    objective: float
    bound: float
    gap: float
    x: FloatArray | None
    seconds: float


_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kTimeLimit": "time_limit",
    "kUnboundedOrInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "solution_limit",
    "kInterrupt": "interrupted",
    "kMemoryLimit": "memory_limit",
    "kModelEmpty": "optimal",
}


def _highs() -> highspy.Highs:
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise InputError(
            "the exact solver needs highspy (pip install highspy)",
            code="optimize.no_solver",
        ) from exc
    return highspy.Highs()


def _solve_mip(
    mip: _Mip,
    *,
    time_limit: float,
    gap: float,
    start: FloatArray | None = None,
    verbose: bool = False,
    presolve: bool = True,
) -> _MipResult:
    """Solve ``mip`` with HiGHS (model passed as CSC arrays), optionally warm-started."""
    import highspy

    t0 = time.perf_counter()
    n_col, n_row = len(mip.cost), len(mip.row_lower)
    a = sp.csc_matrix((mip.val, (mip.row, mip.col)), shape=(n_row, n_col))
    a.sum_duplicates()
    h = _highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    if not presolve:
        h.setOptionValue("presolve", "off")
    h.passModel(
        n_col,
        n_row,
        int(a.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMaximize if mip.maximize else highspy.ObjSense.kMinimize),
        float(mip.offset),
        np.ascontiguousarray(mip.cost, dtype=np.float64),
        np.ascontiguousarray(mip.lower, dtype=np.float64),
        np.ascontiguousarray(mip.upper, dtype=np.float64),
        np.ascontiguousarray(mip.row_lower, dtype=np.float64),
        np.ascontiguousarray(mip.row_upper, dtype=np.float64),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(np.float64),
        mip.integer.astype(np.int32),
    )
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = _STATUS.get(h.getModelStatus().name, h.getModelStatus().name.lstrip("k").lower())
    info = h.getInfo()
    has_x = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_x else None
    integral = bool(mip.integer.any())
    if x is None:
        objective, bound, gap_out = math.nan, math.nan, math.nan
    else:
        objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if integral else objective
        gap_out = float(info.mip_gap) if integral else 0.0
        if status == "optimal" and not math.isfinite(gap_out):
            gap_out = 0.0
    return _MipResult(status, objective, bound, gap_out, x, time.perf_counter() - t0)
