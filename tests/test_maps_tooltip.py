"""The coverage map's hover blocks: residents, travel time and nearest facility of a place."""

import numpy as np
import pytest
from pyproj import Transformer

from gridplan.report.webmap import hover_cells
from gridplan.surface.grid import CellGrid

GRID = CellGrid("EPSG:4547", 500_000.0, 4_200_000.0, 100.0, 4, 4)


def test_blocks_sum_residents_weigh_minutes_and_name_the_main_facility():
    pop = np.zeros((4, 4))
    minutes = np.full((4, 4), np.inf, dtype=np.float32)
    nearest = np.full((4, 4), -1, dtype=np.int32)
    pop[0, 0], minutes[0, 0], nearest[0, 0] = 10, 5, 0
    pop[0, 1], minutes[0, 1], nearest[0, 1] = 30, 9, 1
    pop[1, 1] = 10  # unreached
    pop[2, 0] = 5  # unreached, alone in its block
    pop[3, 3], minutes[3, 3], nearest[3, 3] = 7, 20, 2
    cells = hover_cells(GRID, minutes, pop, nearest, max_cells=4)
    assert cells.side_m == 200.0  # five populated cells do not fit in four: 2 × 2 blocks
    assert cells.population.tolist() == [50.0, 5.0, 7.0]
    assert cells.minutes.tolist() == [8.0, np.inf, 20.0]  # (10·5 + 30·9) / 40
    assert cells.facility.tolist() == [1, -1, 2]
    x = GRID.x0 + np.array([100.0, 100.0, 300.0])
    y = GRID.y0 - np.array([100.0, 300.0, 300.0])
    lon, lat = Transformer.from_crs(4547, 4326, always_xy=True).transform(x, y)
    assert np.allclose(cells.lon, lon, atol=1e-9) and np.allclose(cells.lat, lat, atol=1e-9)


def test_a_fine_grid_is_kept_within_the_block_budget():
    grid = CellGrid("EPSG:4547", 500_000.0, 4_200_000.0, 100.0, 300, 400)
    rng = np.random.default_rng(7)
    pop = (rng.random(grid.shape) < 0.4) * rng.random(grid.shape) * 10
    minutes = (rng.random(grid.shape) * 60).astype(np.float32)
    nearest = rng.integers(0, 50, grid.shape).astype(np.int32)
    cells = hover_cells(grid, minutes, pop, nearest, max_cells=500)
    assert 250 < len(cells.lon) <= 500
    assert cells.population.sum() == pytest.approx(pop.sum())
    assert ((cells.facility >= 0) & (cells.facility < 50)).all()
