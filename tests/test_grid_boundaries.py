"""The access map's grid boundaries: unique straight segments, each shared boundary once."""

import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan.inputs.crs import transformer
from gridplan.report.boundaries import grid_boundary_segments
from tests.synthetic import toy_unit_set

X0, Y0, SIDE = 500_000.0, 4_200_000.0, 10_000.0


def _boxes() -> list[shapely.Geometry]:
    """Three 10 km squares in a row (EPSG:4547)."""
    return [shapely.box(X0 + i * SIDE, Y0, X0 + (i + 1) * SIDE, Y0 + SIDE) for i in range(3)]


def _metric_length(seg: np.ndarray) -> float:
    """Total length in metres of lon/lat segments, back in EPSG:4547."""
    to_metric = transformer(4326, "EPSG:4547")
    x0, y0 = to_metric.transform(seg[:, 0], seg[:, 1])
    x1, y1 = to_metric.transform(seg[:, 2], seg[:, 3])
    return float(np.hypot(np.subtract(x1, x0), np.subtract(y1, y0)).sum())


@pytest.mark.parametrize(
    ("grids", "length_km"),
    [
        # two grids: the outer rectangle (80 km) and the one line between them (10 km)
        (["a", "a", "b"], 90.0),
        # three grids: two inner lines
        (["a", "b", "c"], 100.0),
        # one grid: the outer rectangle only; the line inside a grid is not drawn
        (["a", "a", "a"], 80.0),
    ],
)
def test_each_boundary_is_drawn_once(grids, length_km):
    units = toy_unit_set(_boxes(), ["1", "2", "3"], 1000.0, 0.0)
    assignment = pd.Series([*grids, None], index=units.units.index)  # the zone: no grid
    seg = grid_boundary_segments(units, assignment)
    assert seg.shape[1] == 4
    assert _metric_length(seg) == pytest.approx(length_km * 1000, rel=1e-3)
    # no segment twice, in either direction
    ends = {tuple(sorted([tuple(r[:2]), tuple(r[2:])])) for r in seg.round(5)}
    assert len(ends) == len(seg)


def test_units_without_a_grid_are_left_out():
    units = toy_unit_set(_boxes(), ["1", "2", "3"], 1000.0, 0.0)
    assignment = pd.Series(["a", None, None, None], index=units.units.index)
    seg = grid_boundary_segments(units, assignment)
    assert _metric_length(seg) == pytest.approx(40_000, rel=1e-3)
    none = pd.Series([None] * 4, index=units.units.index)
    assert grid_boundary_segments(units, none).shape == (0, 4)
