"""Population surfaces: residents per cell of a regular grid in a metric CRS.

A :class:`CellGrid` is a north-up raster (top-left corner ``x0``, ``y0``;
square cells of ``cell_m`` metres) in the prefecture's metric CRS.  A
:class:`PopulationSurface` holds, per cell, the residents and the index of the
planning unit the cell's centre lies in, so that coverage can be summed per
unit and per grid with ``numpy.bincount``.

The embedded default (:func:`census_surface`) spreads each unit's census total
uniformly over the unit's cells.  That is a model, labelled ``modelled``
(模型估算) wherever it is shown: where people actually live inside a county
is not known without a population raster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import rasterio.features
import shapely
from affine import Affine
from numpy.typing import NDArray

from gridplan import settings
from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray
from gridplan.errors import InputError
from gridplan.inputs.crs import project_geoms
from gridplan.plan.units import UnitSet

MIN_CELL_M = 50.0
MAX_CELL_M = 1000.0


@dataclass(frozen=True)
class CellGrid:
    """A north-up grid of square cells in a metric CRS."""

    crs: str
    x0: float
    y0: float
    cell_m: float
    nrows: int
    ncols: int

    @classmethod
    def from_bounds(
        cls, bounds: tuple[float, float, float, float], cell_m: float, crs: str
    ) -> CellGrid:
        """The smallest grid aligned on multiples of ``cell_m`` that covers ``bounds`` (metric)."""
        check_cell_size(cell_m)
        minx, miny, maxx, maxy = bounds
        x0 = np.floor(minx / cell_m) * cell_m
        y0 = np.ceil(maxy / cell_m) * cell_m
        ncols = int(np.ceil((maxx - x0) / cell_m))
        nrows = int(np.ceil((y0 - miny) / cell_m))
        return cls(
            crs=crs, x0=float(x0), y0=float(y0), cell_m=float(cell_m), nrows=nrows, ncols=ncols
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.nrows, self.ncols

    @property
    def transform(self) -> Affine:
        """The rasterio/GDAL affine transform of the grid."""
        return Affine(self.cell_m, 0.0, self.x0, 0.0, -self.cell_m, self.y0)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (
            self.x0,
            self.y0 - self.nrows * self.cell_m,
            self.x0 + self.ncols * self.cell_m,
            self.y0,
        )

    def centres(
        self, rows: NDArray[np.integer], cols: NDArray[np.integer]
    ) -> tuple[FloatArray, FloatArray]:
        """Metric x, y of the centres of the given cells."""
        x = self.x0 + (np.asarray(cols, dtype=float) + 0.5) * self.cell_m
        y = self.y0 - (np.asarray(rows, dtype=float) + 0.5) * self.cell_m
        return x, y

    def cell_of(
        self, x: NDArray[np.floating], y: NDArray[np.floating]
    ) -> tuple[IntArray, IntArray, BoolArray]:
        """Row, column of the cells holding metric points, and whether each is on the grid."""
        col = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell_m).astype(np.int64)
        row = np.floor((self.y0 - np.asarray(y, dtype=float)) / self.cell_m).astype(np.int64)
        inside = (row >= 0) & (row < self.nrows) & (col >= 0) & (col < self.ncols)
        return row, col, inside


def check_cell_size(cell_m: float) -> None:
    if not MIN_CELL_M <= float(cell_m) <= MAX_CELL_M:
        raise InputError(
            f"cell size must be between {MIN_CELL_M:.0f} and {MAX_CELL_M:.0f} m, got {cell_m}",
            code="surface.cell_size",
            params={"cell_m": cell_m, "min": MIN_CELL_M, "max": MAX_CELL_M},
        )


@dataclass
class PopulationSurface:
    """Residents per cell, and the planning unit of each cell.

    Attributes
    ----------
    grid
        The cell grid.
    population
        ``float32`` array of ``grid.shape``: residents per cell (0 outside).
    unit_index
        ``int32`` array of ``grid.shape``: row position in ``unit_ids`` of the
        unit the cell's centre lies in, -1 outside every unit.
    unit_ids
        Unit codes, in the order ``unit_index`` refers to.
    source
        Provenance key: ``modelled`` (default), ``uploaded``.
    method
        A method code whose text is ``surface.method.<code>`` in
        :data:`gridplan.i18n.MESSAGES` (``census_uniform``), or a short
        English description.
    unplaced
        Residents of units with no cell (functional zones without polygon),
        by unit code: counted in totals, not on the map.
    demand
        Whose demand the cells count: ``all`` residents, or ``65plus`` the
        residents aged 65 and over (:mod:`gridplan.surface.ageing`).
    """

    grid: CellGrid
    population: Float32Array
    unit_index: Int32Array
    unit_ids: list[str]
    source: str = "modelled"
    method: str = "census_uniform"
    unplaced: dict[str, float] = field(default_factory=dict)
    demand: str = "all"

    @property
    def total(self) -> float:
        return float(self.population.sum(dtype=np.float64)) + float(sum(self.unplaced.values()))

    @property
    def uniform_within_units(self) -> bool:
        """Whether every unit's residents are spread evenly over its cells (the census spread,
        or polygons without weights): the surface then tells units apart, not places within
        a unit, so a result that depends on where in a unit people live (which places are
        covered, uncovered hotspots, a new site's gain) reflects the spread, not the ground."""
        return self.method in UNIFORM_METHODS

    def populated(self) -> BoolArray:
        return self.population > 0

    def scaled(self, factor: float) -> PopulationSurface:
        """The same surface with every cell multiplied by ``factor`` (population growth)."""
        return PopulationSurface(
            grid=self.grid,
            population=(self.population * np.float32(factor)).astype(np.float32),
            unit_index=self.unit_index,
            unit_ids=self.unit_ids,
            source=self.source if factor == 1 else f"{self.source}+modelled",
            method=self.method,
            unplaced={k: v * factor for k, v in self.unplaced.items()},
            demand=self.demand,
        )


#: The :attr:`PopulationSurface.method` codes of surfaces spread evenly within each unit.
UNIFORM_METHODS = frozenset({"census_uniform", "uniform"})


def grid_for_units(unit_set: UnitSet, cell_m: float | None = None) -> CellGrid:
    """The cell grid covering a unit set's drawn units, in its metric CRS.

    ``cell_m`` is the cell side in metres (50-1000); ``None`` reads
    :data:`gridplan.settings.cell_m` at call time.
    """
    cell = settings.cell_m if cell_m is None else cell_m
    drawn = unit_set.units[unit_set.units["has_geometry"]]
    metric = project_geoms(drawn.geometry.to_numpy(), drawn.crs, unit_set.metric_crs)
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(metric))
    return CellGrid.from_bounds((minx, miny, maxx, maxy), cell, unit_set.metric_crs)


def rasterize_units(unit_set: UnitSet, grid: CellGrid) -> Int32Array:
    """Row position (in ``unit_set.units``) of the unit holding each cell centre; -1 outside.

    Townships are burnt after counties so that where both are drawn (a
    county kept at county level next to a functional zone's townships inside
    it), the township wins.
    """
    u = unit_set.units.reset_index(drop=True)
    order = np.argsort((u["level"] == "township").to_numpy(), kind="stable")
    geoms = project_geoms(u.geometry.to_numpy(), u.crs, grid.crs)
    has_geometry = u["has_geometry"].to_numpy()
    shapes = [(geoms[i], int(i)) for i in order if has_geometry[i] and geoms[i] is not None]
    return rasterio.features.rasterize(
        shapes, out_shape=grid.shape, transform=grid.transform, fill=-1, dtype="int32"
    )


#: Rows of cells handled at once by the whole-grid passes below (bounds their temporaries).
_BAND_CELLS = 2_000_000


def _bands(shape: tuple[int, int]) -> range:
    """First rows of bands of about :data:`_BAND_CELLS` cells."""
    return range(0, shape[0], max(1, _BAND_CELLS // max(shape[1], 1)))


def _cells_per_unit(index: Int32Array, n_units: int) -> IntArray:
    """How many cells each unit holds (``index`` as :func:`rasterize_units` gives it)."""
    counts = np.zeros(n_units + 1, dtype=np.int64)  # slot 0: cells outside every unit
    step = _bands(index.shape).step
    for r0 in _bands(index.shape):
        counts += np.bincount(index[r0 : r0 + step].ravel() + 1, minlength=n_units + 1)
    return counts[1:]


def _spread(index: Int32Array, per_cell: FloatArray) -> Float32Array:
    """``per_cell`` of each cell's unit as ``float32`` (0 outside every unit), band by band."""
    table = np.append(per_cell, 0.0).astype(np.float32)  # position -1: outside every unit
    out = np.empty(index.shape, dtype=np.float32)
    step = _bands(index.shape).step
    for r0 in _bands(index.shape):
        out[r0 : r0 + step] = table[index[r0 : r0 + step]]
    return out


def census_surface(
    unit_set: UnitSet, cell_m: float | None = None, column: str = "population"
) -> PopulationSurface:
    """The embedded default: each unit's population spread uniformly over its cells.

    On :func:`grid_for_units` (``cell_m`` ``None``: :data:`gridplan.settings.cell_m`).
    ``column`` is the unit column spread (``age65plus``: the residents 65+).

    Labelled ``modelled``.  Units too small to hold a cell centre at this
    resolution get their residents in the cell nearest their representative
    point, so the total is conserved exactly.
    """
    grid = grid_for_units(unit_set, cell_m)
    index = rasterize_units(unit_set, grid)
    u = unit_set.units.reset_index(drop=True)
    pop = u[column].fillna(0.0).to_numpy(dtype=np.float64)
    counts = _cells_per_unit(index, len(u)).astype(np.float64)
    per_cell = np.divide(pop, counts, out=np.zeros_like(pop), where=counts > 0)
    surface = _spread(index, per_cell)
    added: dict[tuple[int, int], float] = {}  # cells given a small unit's residents (float64)
    unplaced: dict[str, float] = {}
    for i in np.flatnonzero((counts == 0) & (pop > 0)):
        geom = u.geometry.iat[i]
        if not u["has_geometry"].iat[i] or geom is None:
            unplaced[str(u["unit_id"].iat[i])] = float(pop[i])
            continue
        pt = project_geoms([geom], u.crs, grid.crs)[0].representative_point()
        r, c, ok = grid.cell_of(np.array([pt.x]), np.array([pt.y]))
        if ok[0]:
            cell = (int(r[0]), int(c[0]))
            if cell not in added:  # the cell's own share, before any unit is put in it
                added[cell] = float(per_cell[index[cell]]) if index[cell] >= 0 else 0.0
            added[cell] += pop[i]
            if index[cell] < 0:
                index[cell] = i
        else:
            unplaced[str(u["unit_id"].iat[i])] = float(pop[i])
    for cell, value in added.items():
        surface[cell] = value  # rounded to float32 once, after every addition
    return PopulationSurface(
        grid=grid,
        population=surface,
        unit_index=index.astype(np.int32, copy=False),
        unit_ids=[str(x) for x in u["unit_id"]],
        source="modelled",
        method="census_uniform",
        unplaced=unplaced,
        demand="65plus" if column == "age65plus" else "all",
    )
