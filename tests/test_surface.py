import numpy as np
import pytest

from gridplan.errors import InputError
from gridplan.plan.units import build_units
from gridplan.surface.grid import CellGrid, census_surface


@pytest.fixture(scope="module")
def sjz_units():
    return build_units("130100")


def test_census_surface_conserves_every_unit_total(sjz_units):
    s = census_surface(sjz_units, 500)
    u = sjz_units.units.reset_index(drop=True)
    per_unit = np.bincount(
        s.unit_index[s.unit_index >= 0], weights=s.population[s.unit_index >= 0], minlength=len(u)
    )
    drawn = u["has_geometry"].to_numpy()
    assert np.allclose(per_unit[drawn], u.loc[drawn, "population"], rtol=1e-5)
    assert s.unplaced == {"130171": 304_675.0, "130172": 56_147.0}
    assert s.total == pytest.approx(11_235_086, rel=1e-6)
    assert s.source == "modelled"
    assert s.grid.crs == "EPSG:4547"


def test_hundred_metre_surface_has_about_1_4_million_populated_cells(sjz_units):
    s = census_surface(sjz_units, 100)
    assert 1_300_000 < int((s.population > 0).sum()) < 1_500_000


def test_tiny_unit_still_gets_its_people():
    us = build_units("130100")
    s = census_surface(us, 1000)  # coarse: every unit still holds cells, totals conserved
    assert s.total == pytest.approx(11_235_086, rel=1e-6)


def test_grid_geometry_helpers():
    g = CellGrid.from_bounds((1050.0, 2020.0, 1990.0, 2980.0), 100, "EPSG:4547")
    assert (g.x0, g.y0, g.nrows, g.ncols) == (1000.0, 3000.0, 10, 10)
    x, y = g.centres(np.array([0, 9]), np.array([0, 9]))
    assert list(x) == [1050.0, 1950.0] and list(y) == [2950.0, 2050.0]
    r, c, ok = g.cell_of(np.array([1050.0, 5000.0]), np.array([2950.0, 2950.0]))
    assert list(r[ok]) == [0] and list(c[ok]) == [0] and list(ok) == [True, False]
    assert g.transform @ (0, 0) == (1000.0, 3000.0)


@pytest.mark.parametrize("cell", [10, 49.9, 1001, 5000])
def test_cell_size_bounds(cell):
    with pytest.raises(InputError) as e:
        CellGrid.from_bounds((0, 0, 1000, 1000), cell, "EPSG:4547")
    assert e.value.code == "surface.cell_size"
