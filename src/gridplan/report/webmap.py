"""Cell-grid arrays as images for web maps (WGS-84 bounds) and reports.

Web maps draw an image between lon/lat bounds, so a grid in a Gauss-Krüger
CRS is warped to EPSG:4326 first (nearest neighbour: categories and
thresholds must not blur), at a display resolution capped at ``max_px``.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from PIL import Image
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject

from gridplan._types import BoolArray, Float32Array, FloatArray, IntArray
from gridplan.inputs.crs import transformer
from gridplan.surface.grid import CellGrid


@dataclass(frozen=True)
class WebImage:
    """A PNG (as a data URL) and its WGS-84 bounds [west, south, east, north]."""

    data_url: str
    bounds: tuple[float, float, float, float]
    width: int
    height: int


@dataclass(frozen=True)
class WarpPlan:
    """Where each display pixel takes its value from (computed once per grid)."""

    src_index: IntArray  # flat index into the grid, -1 outside
    bounds: tuple[float, float, float, float]
    width: int
    height: int


def warp_plan(grid: CellGrid, max_px: int = 1200) -> WarpPlan:
    """Nearest-neighbour lookup from a Web-Mercator display raster into ``grid``.

    Web maps stretch an image linearly in Web Mercator between its corners,
    so the display raster is built in EPSG:3857 and its bounds are given in
    lon/lat.  Warping a flat index array once lets every later image (slider
    moves) be a single fancy-indexing step.
    """
    to_merc = transformer(grid.crs, 3857)
    minx, miny, maxx, maxy = to_merc.transform_bounds(*grid.bounds)
    res = max(maxx - minx, maxy - miny) / max_px
    width, height = math.ceil((maxx - minx) / res), math.ceil((maxy - miny) / res)
    transform = Affine(res, 0.0, minx, 0.0, -res, maxy)
    src = np.arange(grid.nrows * grid.ncols, dtype=np.float64).reshape(grid.shape)
    dst = np.full((height, width), -1.0, dtype=np.float64)
    reproject(
        src,
        dst,
        src_transform=grid.transform,
        src_crs=CRS.from_user_input(grid.crs),
        dst_transform=transform,
        dst_crs=CRS.from_epsg(3857),
        resampling=Resampling.nearest,
        src_nodata=None,
        dst_nodata=-1.0,
    )
    to_ll = transformer(3857, 4326)
    west, south = to_ll.transform(minx, maxy - height * res)
    east, north = to_ll.transform(minx + width * res, maxy)
    return WarpPlan(dst.astype(np.int64), (west, south, east, north), width, height)


def _palette_png_data_url(index: NDArray[np.uint8], palette: NDArray[np.uint8]) -> str:
    """A paletted PNG: far smaller and faster than RGBA for a few classes."""
    img = Image.fromarray(index, mode="P")
    img.putpalette(palette[:, :3].reshape(-1).tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=bytes(palette[:, 3].tolist()), compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _sample(plan: WarpPlan, values: NDArray[np.generic]) -> tuple[NDArray[np.generic], BoolArray]:
    flat = values.reshape(-1)
    ok = plan.src_index >= 0
    out = flat[np.clip(plan.src_index, 0, None)]
    return out, ok


def minute_bands(vmax: float = 60.0, step: float = 5.0) -> FloatArray:
    """Upper edges of the travel-time classes drawn on maps (5, 10, … ``vmax`` minutes)."""
    return np.arange(step, vmax + step / 2, step)


def band_colors(n: int, cmap: str = "viridis_r") -> NDArray[np.uint8]:
    """RGB colours of ``n`` travel-time classes."""
    from matplotlib import colormaps  # loaded with the first colour ramp, not the page

    return (colormaps[cmap]((np.arange(n) + 0.5) / n)[:, :3] * 255).astype(np.uint8)


def minutes_image(
    plan: WarpPlan,
    minutes: Float32Array,
    populated: BoolArray,
    *,
    vmax: float = 60.0,
    step: float = 5.0,
    cmap: str = "viridis_r",
    alpha: int = 190,
) -> WebImage:
    """Travel time of populated cells in ``step``-minute classes (transparent elsewhere).

    Class ``k`` holds times in ``((k-1)·step, k·step]``; times above ``vmax``
    or unreachable are grey.
    """
    edges = minute_bands(vmax, step)
    m, ok = _sample(plan, minutes)
    p, _ = _sample(plan, populated)
    show = ok & p.astype(bool)
    cls = np.searchsorted(edges, m, side="left") + 1  # 1..len(edges); beyond -> len+1
    index = np.where(show, cls, 0).astype(np.uint8)
    palette = np.zeros((len(edges) + 2, 4), dtype=np.uint8)
    palette[1 : len(edges) + 1, :3] = band_colors(len(edges), cmap)
    palette[1:, 3] = alpha
    palette[len(edges) + 1] = (120, 120, 120, alpha)
    return WebImage(_palette_png_data_url(index, palette), plan.bounds, plan.width, plan.height)


def coverage_image(
    plan: WarpPlan,
    covered: BoolArray,
    populated: BoolArray,
    *,
    covered_rgba: tuple[int, int, int, int] = (46, 160, 67, 150),
    uncovered_rgba: tuple[int, int, int, int] = (214, 39, 40, 170),
) -> WebImage:
    """Covered (green) and uncovered (red) populated cells."""
    c, ok = _sample(plan, covered)
    p, _ = _sample(plan, populated)
    pop = ok & p.astype(bool)
    index = np.where(pop, np.where(c.astype(bool), 1, 2), 0).astype(np.uint8)
    palette = np.array([(0, 0, 0, 0), covered_rgba, uncovered_rgba], dtype=np.uint8)
    return WebImage(_palette_png_data_url(index, palette), plan.bounds, plan.width, plan.height)


#: Colours (RGBA) of :func:`coverage_change_image`: covered before, newly covered, uncovered.
CHANGE_RGBA: dict[str, tuple[int, int, int, int]] = {
    "before": (46, 160, 67, 90),
    "new": (31, 119, 180, 220),
    "uncovered": (214, 39, 40, 160),
}


def coverage_change_image(
    plan: WarpPlan,
    covered_before: BoolArray,
    covered_after: BoolArray,
    populated: BoolArray,
) -> WebImage:
    """Populated cells covered before (pale green), newly covered (blue), still uncovered (red)."""
    b, ok = _sample(plan, covered_before)
    a, _ = _sample(plan, covered_after)
    p, _ = _sample(plan, populated)
    pop = ok & p.astype(bool)
    b, a = b.astype(bool), a.astype(bool)
    index = np.where(pop, np.where(b, 1, np.where(a, 2, 3)), 0).astype(np.uint8)
    palette = np.array(
        [(0, 0, 0, 0), CHANGE_RGBA["before"], CHANGE_RGBA["new"], CHANGE_RGBA["uncovered"]],
        dtype=np.uint8,
    )
    return WebImage(_palette_png_data_url(index, palette), plan.bounds, plan.width, plan.height)


# --- hover cells: what the tooltip tells about a place ----------------------------------------

#: Most hover cells a map carries (each is one point and a few numbers in the page).
MAX_HOVER_CELLS = 1500


@dataclass(frozen=True)
class HoverCells:
    """Populated blocks of ``block`` × ``block`` cells: centre (WGS-84), residents, travel time
    and nearest facility, for a map's tooltip.

    ``minutes`` is the residents-weighted mean time of the block's reached cells (``inf``
    when none is reached); ``facility`` is the index of the facility nearest to most of the
    block's residents (-1 when none); ``side_m`` is the block's side in metres.
    """

    lon: FloatArray
    lat: FloatArray
    population: FloatArray
    minutes: FloatArray
    facility: IntArray
    side_m: float


def hover_cells(
    grid: CellGrid,
    minutes: Float32Array,
    population: NDArray[np.floating],
    nearest: NDArray[np.integer],
    *,
    max_cells: int = MAX_HOVER_CELLS,
) -> HoverCells:
    """Aggregate the populated cells into square blocks, at most ``max_cells`` of them.

    The block is the smallest whole number of cells per side that keeps the
    populated blocks within ``max_cells``, so the tooltip layer stays small
    whatever the cell size.
    """
    pop = np.where(np.isfinite(population), population, 0.0)
    rows, cols = np.nonzero(pop > 0)
    # a block holds at most block² populated cells: start from the least side that could do,
    # then grow the side by the square root of the excess (a few steps at most)
    block = max(1, math.isqrt(max(len(rows) - 1, 0) // max(max_cells, 1)))
    while (n := _n_blocks(rows, cols, block, grid.ncols)) > max_cells:
        block = max(block + 1, math.floor(block * math.sqrt(n / max_cells)))
    blocks, inverse = _block_index((rows // block) * (grid.ncols // block + 1) + cols // block)
    p = pop[rows, cols]
    m = minutes[rows, cols].astype(np.float64)
    reached = np.isfinite(m)
    total = np.bincount(inverse, weights=p, minlength=len(blocks))
    w_reached = np.bincount(inverse, weights=np.where(reached, p, 0.0), minlength=len(blocks))
    w_minutes = np.bincount(inverse, weights=np.where(reached, p * m, 0.0), minlength=len(blocks))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(w_reached > 0, w_minutes / w_reached, np.inf)
    facility = _main_facility(inverse, len(blocks), nearest[rows, cols], p)
    b_rows = (blocks // (grid.ncols // block + 1)) * block + block / 2
    b_cols = (blocks % (grid.ncols // block + 1)) * block + block / 2
    x = grid.x0 + b_cols * grid.cell_m
    y = grid.y0 - b_rows * grid.cell_m
    lon, lat = transformer(grid.crs, 4326).transform(x, y)
    return HoverCells(
        np.asarray(lon, dtype=np.float64),
        np.asarray(lat, dtype=np.float64),
        total.astype(np.float64),
        mean.astype(np.float64),
        facility,
        float(block * grid.cell_m),
    )


def _n_blocks(rows: IntArray, cols: IntArray, block: int, ncols: int) -> int:
    # block keys are small whole numbers: counting them is linear, where unique sorts
    key = (rows // block) * (ncols // block + 1) + cols // block
    return int(np.count_nonzero(np.bincount(key))) if len(key) else 0


def _block_index(key: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct block keys (sorted) and each cell's position among them, as
    ``np.unique(key, return_inverse=True)`` gives them, by counting instead of sorting."""
    if not len(key):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    blocks = np.flatnonzero(np.bincount(key))
    position = np.zeros(int(blocks[-1]) + 1, dtype=np.int64)
    position[blocks] = np.arange(len(blocks))
    return blocks, position[key]


#: Largest block × facility table :func:`_main_facility` counts in (8 bytes each).
DENSE_PAIRS = 4_000_000


def _main_facility(
    block_of: IntArray, n_blocks: int, nearest: NDArray[np.integer], weight: FloatArray
) -> IntArray:
    """Per block, the facility nearest to most of its residents (-1 where no cell has one)."""
    out = np.full(n_blocks, -1, dtype=np.int64)
    has = nearest >= 0
    if not has.any():
        return out
    n_fac = int(nearest.max()) + 1
    if n_blocks * n_fac <= DENSE_PAIRS:  # a block × facility table: no sort at all
        pair = block_of[has].astype(np.int64) * n_fac + nearest[has]
        w = np.bincount(pair, weights=weight[has], minlength=n_blocks * n_fac)
        # argmax takes the first of equal weights: the lowest facility index, as below
        heaviest = w.reshape(n_blocks, n_fac).argmax(axis=1)
        seen = np.bincount(block_of[has], minlength=n_blocks) > 0
        out[seen] = heaviest[seen]
        return out
    pairs = block_of[has].astype(np.int64) * (int(nearest.max()) + 1) + nearest[has]
    keys, inv = np.unique(pairs, return_inverse=True)
    w = np.bincount(inv, weights=weight[has])
    order = np.lexsort((-w, keys // (int(nearest.max()) + 1)))  # by block, heaviest first
    first = np.unique(keys[order] // (int(nearest.max()) + 1), return_index=True)
    blocks, idx = first
    out[blocks] = keys[order][idx] % (int(nearest.max()) + 1)
    return out
