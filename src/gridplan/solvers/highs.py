"""The HiGHS adapter: the one place that talks to ``highspy``.

A model is a :class:`Mip` (columns with cost, bounds and integrality; rows as
COO triplets with their bounds); :func:`solve_mip` hands it to HiGHS as CSC
arrays through ``passModel`` (no per-variable Python objects), optionally
warm-started, with a time limit and a relative gap, and returns a
:class:`MipResult`.  The siting models (:mod:`gridplan.siting`) and the grid
proposals (:mod:`gridplan.regions`) both solve through it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gridplan._types import FloatArray, IntArray
from gridplan.errors import InputError
from gridplan.solvers.budget import Deadline

if TYPE_CHECKING:
    import highspy

__all__ = ["Mip", "MipResult", "highs_available", "solve_mip"]


@dataclass
class Mip:
    """A mixed-integer programme in arrays.

    Attributes
    ----------
    cost, lower, upper, integer
        Per column: objective coefficient, bounds and whether it is integral.
    row, col, val
        The constraint matrix as COO triplets (duplicates are summed).
    row_lower, row_upper
        Per row: its bounds (``-inf``/``inf`` for a one-sided row).
    maximize
        The objective's sense.
    offset
        A constant added to the objective.
    """

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

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)


@dataclass
class MipResult:
    """What HiGHS answered.

    ``status``: ``optimal``, ``infeasible``, ``time_limit``, ``unbounded``,
    ... (``highs_status`` keeps HiGHS's own name, e.g. ``kInfeasible``);
    ``x``: the column values of the best solution found (None without one);
    ``objective``, ``bound`` (the dual bound), ``gap`` (HiGHS's
    ``mip_gap``; 0 for an LP or a proven optimum): NaN without a solution.
    """

    status: str
    objective: float
    bound: float
    gap: float
    x: FloatArray | None
    seconds: float
    highs_status: str = ""


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
#: HiGHS's ``primal_solution_status`` of a feasible point (``kSolutionStatusFeasible``).
_FEASIBLE = 2


def highs_available() -> bool:
    """Whether ``highspy`` can be imported."""
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - highspy is a dependency
        return False
    return True


def _highs() -> highspy.Highs:
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise InputError(
            "the exact solver needs highspy (pip install highspy)",
            code="optimize.no_solver",
        ) from exc
    return highspy.Highs()


def _pass_model(h: highspy.Highs, mip: Mip) -> None:
    """Hand ``mip`` to HiGHS as CSC arrays."""
    import highspy

    a = sp.csc_matrix((mip.val, (mip.row, mip.col)), shape=(mip.n_rows, mip.n_cols))
    a.sum_duplicates()
    sense = highspy.ObjSense.kMaximize if mip.maximize else highspy.ObjSense.kMinimize
    h.passModel(
        mip.n_cols,
        mip.n_rows,
        int(a.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(sense),
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


def _set_start(h: highspy.Highs, start: FloatArray) -> None:
    import highspy

    sol = highspy.HighsSolution()
    sol.col_value = np.asarray(start, dtype=np.float64).tolist()
    sol.value_valid = True
    h.setSolution(sol)


def solve_mip(
    mip: Mip,
    *,
    time_limit: float,
    gap: float,
    start: FloatArray | None = None,
    verbose: bool = False,
    presolve: bool = True,
    deadline: Deadline | None = None,
    fixed: IntArray | None = None,
    options: dict[str, Any] | None = None,
) -> MipResult:
    """Solve ``mip`` with HiGHS, optionally warm-started from the column values ``start``.

    Parameters
    ----------
    mip
        The model.
    time_limit
        Seconds HiGHS may take (``inf``: no limit).
    gap
        Relative optimality gap at which HiGHS stops (``mip_rel_gap``).
    start
        A feasible point to start from (one value per column), or None.
    verbose
        Let HiGHS print its log.
    presolve
        Run HiGHS's presolve (the covering models switch it off: it turns
        them back into a slower form).
    deadline
        The budget of the whole solve this MIP is part of: HiGHS gets at most
        what is left of it once the model is passed (building counts).
    fixed
        Integer columns fixed to 1 (their lower bound raised).
    options
        Further HiGHS options (name: value), e.g. ``mip_max_improving_sols``.
    """
    t0 = time.perf_counter()
    h = _highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("mip_rel_gap", float(gap))
    if not presolve:
        h.setOptionValue("presolve", "off")
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    _pass_model(h, mip)
    if fixed is not None and len(fixed):
        idx = np.asarray(fixed, dtype=np.int32)
        h.changeColsBounds(len(idx), idx, np.ones(len(idx)), mip.upper[idx])
    limit = float(time_limit) if deadline is None else min(float(time_limit), deadline.left())
    h.setOptionValue("time_limit", limit)
    if start is not None:
        _set_start(h, start)
    h.run()
    name = h.getModelStatus().name
    status = _STATUS.get(name, name.lstrip("k").lower())
    info = h.getInfo()
    has_x = int(info.primal_solution_status) == _FEASIBLE
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
    return MipResult(status, objective, bound, gap_out, x, time.perf_counter() - t0, name)
