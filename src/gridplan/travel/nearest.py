"""The nearest facility of every cell of a grid, exactly, with numpy alone.

The cells are cut into square blocks of ``B × B`` cells.  For each block the
facilities that can be the nearest of one of its cells are the ones whose
least distance to the block's rectangle of cell centres is at most the
smallest *greatest* distance of a facility to that rectangle: any other
facility is farther from every cell than that one is.  The squared distances
of a block's cells to its few candidates separate into a row part and a
column part (``dx² + dy²``), so a whole block is one broadcast addition and
one ``argmin``.

The distances are the ones a k-d tree query (``scipy.spatial.cKDTree``) gives,
bit for bit: ``sqrt(dx * dx + dy * dy)`` in ``float64`` from the same cell
centres (:meth:`~gridplan.surface.grid.CellGrid.centres`).  Both bounds are
computed with the same monotone float operations as a cell's distance, so no
candidate that could be nearest is dropped.

Ties: of facilities at exactly the same distance from a cell, the one with
the lowest index is the nearest (a k-d tree may return any of them).
Importing this module loads no SciPy (a command-line start saves ~0.25 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray, XYArray
from gridplan.surface.grid import CellGrid

#: Most (block, facility) pairs whose bounds are compared at once.
_BOUND_PAIRS = 2_000_000
#: Cells (padded to whole blocks) searched per band of block rows.
_BAND_CELLS = 2_000_000
#: Most (cell, candidate) squared distances held at once (32 MB).
_DIST_ELEMENTS = 4_000_000


def block_side(grid: CellGrid, n_facilities: int) -> int:
    """Cells per block side: about half the mean spacing of the facilities, 8 to 64.

    Blocks much smaller than the spacing cost bookkeeping per block; much
    larger ones give each cell many candidates.
    """
    if n_facilities <= 0:
        return 8
    spacing = math.sqrt(grid.nrows * grid.ncols / n_facilities)
    return int(min(64, max(8, round(spacing / 2))))


def nearest_on_grid(
    grid: CellGrid, mask: BoolArray, facilities_xy: XYArray, *, block: int | None = None
) -> tuple[Float32Array, Int32Array]:
    """Metres from each masked cell centre to its nearest facility, and that facility's index.

    Parameters
    ----------
    grid
        The cell grid (metric CRS).
    mask
        ``grid.shape`` booleans: the cells to look up.
    facilities_xy
        ``(n, 2)`` metric coordinates of the facilities.
    block
        Cells per block side; default :func:`block_side`.

    Returns
    -------
    dist, nearest
        ``float32`` metres (``inf`` where not masked or without facilities) and
        ``int32`` facility indices (-1 there), both of ``grid.shape``.  Ties go
        to the lowest index.
    """
    dist = np.full(grid.shape, np.inf, dtype=np.float32)
    nearest = np.full(grid.shape, -1, dtype=np.int32)
    xy = np.asarray(facilities_xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0 or not mask.any():
        return dist, nearest
    b = block or block_side(grid, len(xy))
    nbr, nbc = -(-grid.nrows // b), -(-grid.ncols // b)
    # cell centres of the padded grid, by the grid's own arithmetic
    xs, _ = grid.centres(np.zeros(nbc * b, dtype=np.int64), np.arange(nbc * b))
    _, ys = grid.centres(np.arange(nbr * b), np.zeros(nbr * b, dtype=np.int64))
    # squared distance bounds per block column (x) and block row (y); x grows with the
    # column, y falls with the row
    x_bounds = _axis_bounds(xs[::b], xs[b - 1 :: b], xy[:, 0])
    y_bounds = _axis_bounds(ys[b - 1 :: b], ys[::b], xy[:, 1])
    band = max(1, _BAND_CELLS // (b * b * nbc))  # block rows per band
    for r0 in range(0, nbr, band):
        rows = range(r0 * b, min((r0 + band) * b, grid.nrows))
        blocks = _Blocks(xs, ys, b, x_bounds, y_bounds)
        _search_band(grid, mask, rows, blocks, xy, dist=dist, nearest=nearest)
    return dist, nearest


def _search_band(
    grid: CellGrid,
    mask: BoolArray,
    rows: range,
    blocks: _Blocks,
    xy: XYArray,
    *,
    dist: Float32Array,
    nearest: Int32Array,
) -> None:
    """The nearest facility of the masked cells of whole block rows, into ``dist``, ``nearest``."""
    b, nbc = blocks.b, len(blocks.xs) // blocks.b
    nbr = -(-len(rows) // b)
    padded = np.zeros((nbr * b, nbc * b), dtype=bool)
    padded[: len(rows), : grid.ncols] = mask[rows.start : rows.stop]
    br, bc = np.nonzero(padded.reshape(nbr, b, nbc, b).any(axis=(1, 3)))
    band_d = np.full((nbr * b, nbc * b), np.inf, dtype=np.float32)
    band_i = np.full((nbr * b, nbc * b), -1, dtype=np.int32)
    step = max(1, _BOUND_PAIRS // len(xy))
    first = rows.start // b
    for s in range(0, len(br), step):
        table, counts = blocks.candidates(br[s : s + step] + first, bc[s : s + step])
        blocks.search(
            xy, br[s : s + step], bc[s : s + step], first_row=first, table=table, counts=counts,
            out_d=band_d.reshape(nbr, b, nbc, b), out_i=band_i.reshape(nbr, b, nbc, b),
        )  # fmt: skip
    inside = padded[: len(rows), : grid.ncols]
    dist[rows.start : rows.stop][inside] = band_d[: len(rows), : grid.ncols][inside]
    nearest[rows.start : rows.stop][inside] = band_i[: len(rows), : grid.ncols][inside]


def _axis_bounds(lo: FloatArray, hi: FloatArray, f: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Least and greatest squared distance along one axis from ``f`` to ``[lo, hi]``.

    ``lo``, ``hi``: one per block row or column; ``f``: one per facility; a table each.
    """
    below = lo[:, None] - f[None, :]
    above = f[None, :] - hi[:, None]
    least = np.maximum(np.maximum(below, above), 0.0)
    greatest = np.maximum(np.abs(below), np.abs(above))
    return least * least, greatest * greatest


@dataclass(frozen=True)
class _Blocks:
    """The grid cut into blocks of ``b × b`` cells: centres and distance bounds of the blocks."""

    xs: FloatArray  # x of the cell centres, by column of the padded grid
    ys: FloatArray  # y of the cell centres, by row
    b: int
    x_bounds: tuple[FloatArray, FloatArray]  # least, greatest dx², block column by facility
    y_bounds: tuple[FloatArray, FloatArray]  # least, greatest dy², block row by facility

    def candidates(self, rows: IntArray, cols: IntArray) -> tuple[IntArray, IntArray]:
        """Per block, its candidate facilities (ascending index, padded by the first), how many.

        ``rows``, ``cols``: block rows and columns of the grid.
        """
        least_x, most_x = self.x_bounds
        least_y, most_y = self.y_bounds
        upper = (most_x[cols] + most_y[rows]).min(axis=1)  # one facility is this near every cell
        cand = (least_x[cols] + least_y[rows]) <= upper[:, None]
        counts = cand.sum(axis=1)
        blk, fac = np.nonzero(cand)  # by block, then ascending facility
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        table = np.repeat(fac[first], counts.max()).reshape(len(rows), -1)
        table[blk, np.arange(len(blk)) - first[blk]] = fac
        return table, counts

    def search(
        self,
        xy: XYArray,
        rows: IntArray,
        cols: IntArray,
        *,
        first_row: int,
        table: IntArray,
        counts: IntArray,
        out_d: Float32Array,
        out_i: Int32Array,
    ) -> None:
        """The nearest candidate of every cell of the blocks, into ``out_*`` (metres, index).

        ``rows`` count from block row ``first_row`` of the grid, the first of
        ``out_*`` (block row, row, block column, column).  Blocks are taken by
        their number of candidates, most first, so that a group's table is
        padded little.
        """
        b, span = self.b, np.arange(self.b)
        order = np.argsort(-counts, kind="stable")
        pos = 0
        while pos < len(order):
            k = int(counts[order[pos]])  # the group's most
            grp = order[pos : pos + max(1, _DIST_ELEMENTS // (b * b * k))]
            r, c, cand = rows[grp], cols[grp], table[grp, :k]
            dx = self.xs[(c * b)[:, None] + span][:, :, None] - xy[cand, 0][:, None, :]
            dy = (
                self.ys[((r + first_row) * b)[:, None] + span][:, :, None] - xy[cand, 1][:, None, :]
            )
            d2 = (dx * dx)[:, None, :, :] + (dy * dy)[:, :, None, :]  # block, row, col, candidate
            best = d2.argmin(axis=3)  # the first of equals: the lowest facility index
            nearest_d2 = np.take_along_axis(d2, best[..., None], 3)[..., 0]
            out_d[r, :, c, :] = np.sqrt(nearest_d2)  # float64 root, then float32
            out_i[r, :, c, :] = cand[np.arange(len(grp))[:, None, None], best]
            pos += len(grp)
