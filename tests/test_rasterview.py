import base64
import io

import numpy as np
from PIL import Image

from gridplan.report.webmap import coverage_image, minute_bands, minutes_image, warp_plan
from gridplan.surface.grid import CellGrid


def decode(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_warp_plan_maps_display_pixels_back_to_grid_cells():
    grid = CellGrid("EPSG:4547", 500_000.0, 4_210_000.0, 100.0, 80, 120)  # near 114°E, 38°N
    plan = warp_plan(grid, max_px=200)
    assert max(plan.width, plan.height) <= 200
    west, south, east, north = plan.bounds
    assert 113.9 < west < east < 114.2 and 37.9 < south < north < 38.1
    inside = plan.src_index[plan.src_index >= 0]
    assert inside.min() >= 0 and inside.max() < grid.nrows * grid.ncols
    assert (plan.src_index >= 0).mean() > 0.9  # a nearly north-up grid fills its bounds


def test_minutes_image_classes_and_transparency():
    grid = CellGrid("EPSG:4547", 500_000.0, 4_210_000.0, 100.0, 20, 20)
    minutes = np.full(grid.shape, 5.0, dtype=np.float32)
    minutes[:, 10:] = np.inf
    populated = np.ones(grid.shape, dtype=bool)
    populated[:10, :] = False
    plan = warp_plan(grid, max_px=20)
    img = decode(minutes_image(plan, minutes, populated).data_url)
    assert img.mode == "P"
    idx = np.asarray(img)
    values = set(np.unique(idx))
    assert 0 in values  # unpopulated cells are transparent
    assert 1 in values  # 5.0 min falls in the first class (0, 5]
    assert len(minute_bands()) + 1 in values  # unreachable cells are grey


def test_coverage_image_two_colours():
    grid = CellGrid("EPSG:4547", 500_000.0, 4_210_000.0, 100.0, 10, 10)
    covered = np.zeros(grid.shape, dtype=bool)
    covered[:, :5] = True
    img = decode(coverage_image(warp_plan(grid, 10), covered, np.ones(grid.shape, bool)).data_url)
    assert set(np.unique(np.asarray(img))) <= {0, 1, 2} and {1, 2} <= set(
        np.unique(np.asarray(img))
    )
