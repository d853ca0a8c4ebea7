"""Gaussian two-step floating catchment area (2SFCA) accessibility."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from gridplan._types import Float32Array, FloatArray
from gridplan.access._checks import capacity_problems, check_minutes, check_values
from gridplan.access.capacity import _check_surface
from gridplan.access.coverage import gaussian_weight
from gridplan.access.reach import Reach, unit_sums
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.travel.pairs import CHUNK_PAIRS

# --- Gaussian 2SFCA -----------------------------------------------------------------


@dataclass
class G2sfcaResult:
    """Gaussian 2SFCA accessibility (Dai 2010).

    ``accessibility`` (``float32`` grid): ``A_i``, supply per resident
    reachable from cell ``i`` (×10,000 for e.g. GPs per 10,000 residents, the
    unit of the Rizhao and Zhengzhou targets); 0 where no facility is within
    ``d0``, NaN outside the reach's mask.  ``ratio``: ``R_j``, supply per
    weighted resident of each facility's catchment (NaN where the catchment
    holds no weighted residents: that supply reaches nobody and is counted in
    ``unreached_supply``).  ``demand``: ``Σ_k G(t_kj) P_k``.  Per unit:
    population-weighted mean of ``A`` over the unit's assessed cells
    (``by_unit``; NaN without residents).  ``mean``: the same over every
    assessed cell.
    """

    grid: CellGrid
    d0: float
    supply: FloatArray
    demand: FloatArray
    ratio: FloatArray
    accessibility: Float32Array
    unit_ids: list[str]
    population_by_unit: FloatArray
    by_unit: FloatArray
    mean: float
    unreached_supply: float

    def unit_table(self, per: float = 10_000.0) -> pd.DataFrame:
        """Per unit: residents assessed and mean accessibility × ``per``."""
        return pd.DataFrame(
            {
                "unit_id": self.unit_ids,
                "population": self.population_by_unit,
                "accessibility": self.by_unit * per,
            }
        )


def g2sfca(
    surface: PopulationSurface,
    reach: Reach,
    supply: ArrayLike,
    d0: float,
) -> G2sfcaResult:
    """Gaussian two-step floating catchment area accessibility (Dai 2010).

    With ``G`` the Gaussian decay of :func:`gridplan.access.coverage.gaussian_weight`
    (1 at 0 minutes, 0 at and beyond ``d0``), ``P`` residents per cell and
    ``t`` the reach's minutes:

    1. ``R_j = S_j / Σ_{k: t_kj ≤ d0} G(t_kj) P_k``
    2. ``A_i = Σ_{j: t_ij ≤ d0} G(t_ij) R_j``

    ``supply`` is ``S_j`` per facility (GPs, doctors, beds, or 1 each: see
    :func:`facility_supply`).  Vectorised over the pairs (``numpy.bincount``,
    in chunks of :data:`CHUNK_PAIRS`).  When every facility has weighted
    residents in its catchment, ``Σ_i P_i A_i = Σ_j S_j`` (2SFCA conserves
    supply).  ``d0`` must not exceed the reach's ``max_minutes``.
    """
    p = capacity_problems()
    grid_ok = _check_surface(p, surface, reach)
    s = check_values(p, "supply", supply, reach.n_facilities)
    d = check_minutes(p, "d0", d0, upper=reach.max_minutes)
    p.raise_if_any()
    assert s is not None and d is not None and grid_ok
    n = reach.n_facilities
    size = reach.grid.nrows * reach.grid.ncols
    pop = surface.population.ravel().astype(np.float64)
    chunks = [slice(a, a + CHUNK_PAIRS) for a in range(0, reach.n_pairs, CHUNK_PAIRS)]
    # G(t) of every pair, once (0 beyond d0); float32 keeps it at a third of the reach
    weight = np.empty(reach.n_pairs, dtype=np.float32)
    demand = np.zeros(n)
    for k in chunks:
        weight[k] = gaussian_weight(reach.minutes[k], d)
        w = weight[k].astype(np.float64)
        demand += np.bincount(reach.facility[k], weights=w * pop[reach.cell[k]], minlength=n)
    has = demand > 0
    ratio = np.full(n, np.nan)
    np.divide(s, demand, out=ratio, where=has)
    r0 = np.where(has, ratio, 0.0)
    acc = np.zeros(size)
    for k in chunks:
        w = weight[k].astype(np.float64)
        acc += np.bincount(reach.cell[k], weights=w * r0[reach.facility[k]], minlength=size)
    del weight
    mask = reach.mask.ravel()
    pa = pop * acc
    pop_u = unit_sums(surface, pop, mask)
    pa_u = unit_sums(surface, pa, mask)
    by_unit = np.full(len(surface.unit_ids), np.nan)
    np.divide(pa_u, pop_u, out=by_unit, where=pop_u > 0)
    total_pop = float(pop[mask].sum())
    return G2sfcaResult(
        grid=reach.grid,
        d0=d,
        supply=s,
        demand=demand,
        ratio=ratio,
        accessibility=np.where(mask, acc, np.nan).astype(np.float32).reshape(reach.grid.shape),
        unit_ids=list(surface.unit_ids),
        population_by_unit=pop_u,
        by_unit=by_unit,
        mean=float(pa[mask].sum() / total_pop) if total_pop > 0 else math.nan,
        unreached_supply=float(s[~has].sum()),
    )
