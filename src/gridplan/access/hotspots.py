"""Uncovered hotspots: compact places where many residents are beyond the threshold.

A connected patch of uncovered cells is no place to act on: in a prefecture's countryside
it spans thousands of square kilometres (Shijiazhuang's largest, 12,811 km² and 6.5 million
people, was named after the urban district of its most populous cell).  A hotspot here is a
disc of radius :data:`HOTSPOT_RADIUS_M`, placed greedily where it holds the most uncovered
residents not yet in a hotspot:

1. the uncovered residents are summed on blocks of about a fifth of the radius, and each
   block scored by the uncovered residents in the square around it that fits in its disc
   (a box sum);
2. the best block's disc takes every uncovered cell within the radius of the block's centre
   that no earlier hotspot took, moved once to those residents' centre when that holds more;
   those residents leave the block sums, and the scores near it are summed again;
3. until ``top`` hotspots are found or no uncovered resident is left.

Each hotspot gives its residents, cells and area, its population-weighted centre, the units
it lies in (most residents first) and its residents' mean travel time to the nearest
facility (over those who reach one; the others are counted apart).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gridplan.access.coverage import CoverageIndex
from gridplan.surface.grid import CellGrid, PopulationSurface

#: The radius of a hotspot (metres): a town or a cluster of villages (at most 12.6 km²).
HOTSPOT_RADIUS_M = 2_000.0
#: Blocks per radius on which the discs are placed (400 m blocks for 2 km at 100 m cells:
#: the disc is then moved to its residents' centre, so finer blocks cost time, not accuracy).
_BLOCKS_PER_RADIUS = 5

COLUMNS = [
    "population", "cells", "area_km2", "x", "y", "lon", "lat", "units", "unit",
    "nearest_minutes", "unreachable_population",
]  # fmt: skip


def uncovered_hotspots(
    index: CoverageIndex,
    surface: PopulationSurface,
    threshold_min: float,
    unit_names: list[str],
    top: int = 10,
    radius_m: float = HOTSPOT_RADIUS_M,
) -> pd.DataFrame:
    """The ``top`` hotspots of residents beyond ``threshold_min``, most residents first.

    Columns: ``population`` (uncovered residents), ``cells``, ``area_km2``, the
    population-weighted centre ``x``, ``y`` (metric) and ``lon``, ``lat`` (WGS-84),
    ``units`` (the names of the units it lies in, most residents first; ``unit`` the
    first), ``nearest_minutes`` (its residents' mean time to the nearest facility, over
    those who reach one; NaN when none does) and ``unreachable_population``.
    """
    grid = surface.grid
    unc = np.flatnonzero(~index.covered(threshold_min))
    if len(unc) == 0 or top <= 0:
        return pd.DataFrame(columns=COLUMNS)
    cells = _Uncovered(index, unc, grid.ncols)
    r_cells = radius_m / grid.cell_m
    f = max(1, math.floor(r_cells / _BLOCKS_PER_RADIUS))  # cells per block side
    blocks = _Blocks(cells.rows // f, cells.cols // f, cells.pop, grid.nrows, grid.ncols, f)
    # the score's square (half-side about r/√2) fits, to within part of a block, inside the
    # disc round its centre: the disc holds the residents its score counted
    reach = max(1, math.floor(r_cells / math.sqrt(2) / f))
    score = blocks.box_sums(reach)
    found = []
    for _ in range(top):
        b = int(np.argmax(score))
        if score.flat[b] <= 0:
            break
        br, bc = divmod(b, score.shape[1])
        # the disc round the block's centre (cell coordinates), moved to its residents' centre
        members = cells.centred_disc((br + 0.5) * f - 0.5, (bc + 0.5) * f - 0.5, r_cells)
        if len(members) == 0 or cells.pop[members].sum() <= 0:
            score.flat[b] = 0.0  # an empty block left by rounding: never chosen again
            continue
        cells.taken[members] = True
        blocks.remove(cells.rows[members] // f, cells.cols[members] // f, cells.pop[members])
        blocks.rescore(score, br, bc, reach)
        found.append(members)
    return _table(found, index, cells, grid, unit_names)


class _Uncovered:
    """The uncovered populated cells (grid order), their rows, columns and residents, and
    which a hotspot has taken."""

    def __init__(self, index: CoverageIndex, unc: np.ndarray, ncols: int) -> None:
        self.unc, self.ncols = unc, ncols
        self.cells = index.cells[unc].astype(np.int64)  # ascending: the index keeps grid order
        self.rows, self.cols = np.divmod(self.cells, ncols)
        self.pop = index.residents[unc]
        self.taken = np.zeros(len(unc), dtype=bool)

    def disc(self, centre_r: float, centre_c: float, radius: float) -> np.ndarray:
        """Positions of the cells within ``radius`` cells of the centre that no hotspot has
        taken yet (the disc's rows are one slice of the ascending cells)."""
        first = max(math.ceil(centre_r - radius), 0)
        last = math.floor(centre_r + radius)
        lo, hi = np.searchsorted(self.cells, [first * self.ncols, (last + 1) * self.ncols])
        pos = np.arange(lo, hi)
        dr, dc = self.rows[pos] - centre_r, self.cols[pos] - centre_c
        inside = (dr * dr + dc * dc <= radius * radius) & ~self.taken[pos]
        return pos[inside]

    def centred_disc(self, centre_r: float, centre_c: float, radius: float) -> np.ndarray:
        """The disc round a centre, moved once to its residents' weighted centre when that
        holds more of them (the hotspot then sits on its town, not on a block's corner)."""
        first = self.disc(centre_r, centre_c, radius)
        w = self.pop[first]
        if len(first) == 0 or w.sum() <= 0:
            return first
        r = float((self.rows[first] * w).sum() / w.sum())
        c = float((self.cols[first] * w).sum() / w.sum())
        moved = self.disc(r, c, radius)
        return moved if self.pop[moved].sum() > w.sum() else first


class _Blocks:
    """Uncovered residents summed on square blocks of cells, and their box sums."""

    def __init__(
        self, br: np.ndarray, bc: np.ndarray, pop: np.ndarray, nrows: int, ncols: int, f: int
    ) -> None:
        shape = (-(-nrows // f), -(-ncols // f))
        flat = np.bincount(br * shape[1] + bc, weights=pop, minlength=shape[0] * shape[1])
        self.sums = flat.reshape(shape)

    def remove(self, br: np.ndarray, bc: np.ndarray, pop: np.ndarray) -> None:
        np.subtract.at(self.sums, (br, bc), pop)
        np.maximum(self.sums, 0.0, out=self.sums)  # round-off never leaves a negative sum

    def box_sums(self, reach: int, r0: int = 0, r1: int | None = None, c0: int = 0,
                 c1: int | None = None) -> np.ndarray:  # fmt: skip
        """Sum over the ``(2 reach + 1)²`` blocks round each block of rows ``r0:r1``, columns
        ``c0:c1`` (an integral image of the rows and columns it needs)."""
        nr, nc = self.sums.shape
        r1 = nr if r1 is None else r1
        c1 = nc if c1 is None else c1
        lo_r, hi_r = max(r0 - reach, 0), min(r1 + reach, nr)
        lo_c, hi_c = max(c0 - reach, 0), min(c1 + reach, nc)
        part = self.sums[lo_r:hi_r, lo_c:hi_c]
        integral = np.zeros((part.shape[0] + 1, part.shape[1] + 1))
        integral[1:, 1:] = part.cumsum(axis=0).cumsum(axis=1)
        rr = np.arange(r0, r1)
        cc = np.arange(c0, c1)
        top = np.clip(rr - reach, lo_r, hi_r) - lo_r
        bottom = np.clip(rr + reach + 1, lo_r, hi_r) - lo_r
        left = np.clip(cc - reach, lo_c, hi_c) - lo_c
        right = np.clip(cc + reach + 1, lo_c, hi_c) - lo_c
        return (
            integral[np.ix_(bottom, right)]
            - integral[np.ix_(top, right)]
            - integral[np.ix_(bottom, left)]
            + integral[np.ix_(top, left)]
        )

    def rescore(self, score: np.ndarray, br: int, bc: int, reach: int) -> None:
        """Sum the scores again where the disc just taken changed them (within two squares)."""
        nr, nc = score.shape
        r0, r1 = max(br - 2 * reach, 0), min(br + 2 * reach + 1, nr)
        c0, c1 = max(bc - 2 * reach, 0), min(bc + 2 * reach + 1, nc)
        score[r0:r1, c0:c1] = self.box_sums(reach, r0, r1, c0, c1)


def _table(
    found: list[np.ndarray],
    index: CoverageIndex,
    cells: _Uncovered,
    grid: CellGrid,
    unit_names: list[str],
) -> pd.DataFrame:
    from gridplan.inputs.crs import transformer

    if not found:
        return pd.DataFrame(columns=COLUMNS)
    pop = cells.pop
    minutes = index.minutes[cells.unc].astype(np.float64)
    units = index.unit[cells.unc]
    x_all, y_all = grid.centres(cells.rows, cells.cols)
    out = []
    for members in found:
        p = pop[members]
        total = float(p.sum())
        reached = np.isfinite(minutes[members])
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = float((p[reached] * minutes[members][reached]).sum() / p[reached].sum())
        by_unit = pd.Series(p).groupby(units[members]).sum().sort_values(ascending=False)
        names = [unit_names[u] if u >= 0 else "—" for u in by_unit.index]
        out.append(
            {
                "population": total,
                "cells": len(members),
                "area_km2": len(members) * grid.cell_m**2 / 1e6,
                "x": float((x_all[members] * p).sum() / total),
                "y": float((y_all[members] * p).sum() / total),
                "units": names,
                "unit": names[0],
                "nearest_minutes": mean if reached.any() else math.nan,
                "unreachable_population": float(p[~reached].sum()),
            }
        )
    df = pd.DataFrame(out)
    lon, lat = transformer(grid.crs, 4326).transform(df["x"].to_numpy(), df["y"].to_numpy())
    df["lon"], df["lat"] = np.asarray(lon), np.asarray(lat)
    df = df.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)
    return df[COLUMNS]


def hotspot_records(table: pd.DataFrame) -> list[dict[str, object]]:
    """The hotspots of :func:`uncovered_hotspots` as JSON objects (``gridplan coverage``):
    ``units``, ``population``, ``area_km2``, ``lon``, ``lat``, ``nearest_minutes`` (None
    when none of its residents reaches a facility), ``unreachable_population``."""
    return [
        {
            "units": list(r["units"]),
            "population": round(float(r["population"]), 1),
            "area_km2": round(float(r["area_km2"]), 2),
            "lon": round(float(r["lon"]), 5),
            "lat": round(float(r["lat"]), 5),
            "nearest_minutes": None
            if math.isnan(r["nearest_minutes"])
            else round(float(r["nearest_minutes"]), 2),
            "unreachable_population": round(float(r["unreachable_population"]), 1),
        }
        for _, r in table.iterrows()
    ]


def where_uncovered(
    index: CoverageIndex, surface: PopulationSurface, threshold_min: float, unit_names: list[str]
) -> dict[str, object]:
    """The top 10 ``hotspots`` as JSON records (as ``gridplan coverage --json`` gives them)."""
    hot = uncovered_hotspots(index, surface, threshold_min, unit_names)
    return {"hotspots": hotspot_records(hot)}
