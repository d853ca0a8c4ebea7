"""On-screen map views: the prefecture fitted whole, the urban core, labels that do not collide,
facility dots smaller than the 15-minute circles they sit in."""

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.units import build_units, display_geometry
from gridplan.report.boundaries import unit_borders
from gridplan.report.style import grid_colors
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH
from ui.mapview import (
    FACILITY_MIN_PX,
    MAP_PADDING_PX,
    MapView,
    build_deck,
    declutter,
    dot_radius_px,
    fit_view,
    grid_labels,
    label_box,
    mercator_xy,
    metres_per_pixel,
    screen_xy,
    urban_core_bounds,
)

SIZES = [(1280, 720), (1920, 1080), (500, 560), (840, 520)]


@pytest.fixture(scope="module")
def sjz():
    us = build_units("130100")
    plan = GridPlan.from_preset("shijiazhuang")
    return us, plan, resolve_assignment(plan, us.units), display_geometry(us)


def _drawn_bounds(us):
    u = us.units
    return tuple(u[u["has_geometry"]].total_bounds)


def test_mercator_matches_pyproj():
    lon, lat = np.array([114.5, 113.0, 116.2]), np.array([38.0, 37.3, 38.8])
    x, y = mercator_xy(lon, lat)
    mx, my = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    half = np.pi * 6378137.0
    assert np.allclose(x, (mx + half) / (2 * half), atol=1e-12)
    assert np.allclose(y, (half - my) / (2 * half), atol=1e-12)


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("pref", ["130100", "532300", "360700"])
def test_first_view_shows_the_whole_prefecture_with_padding(pref, width, height):
    bounds = _drawn_bounds(build_units(pref))
    view = fit_view(bounds, width, height)
    west, south, east, north = bounds
    x, y = screen_xy(view, [west, east, east, west], [north, north, south, south], width, height)
    pad = MAP_PADDING_PX
    assert x.min() >= pad - 1e-6 and x.max() <= width - pad + 1e-6
    assert y.min() >= pad - 1e-6 and y.max() <= height - pad + 1e-6
    # tight: the prefecture fills the map in one direction (it no longer fills half of it)
    fill_x = (x.max() - x.min()) / (width - 2 * pad)
    fill_y = (y.max() - y.min()) / (height - 2 * pad)
    assert max(fill_x, fill_y) == pytest.approx(1.0, abs=1e-9)
    # centred
    assert (x.min() + x.max()) / 2 == pytest.approx(width / 2)
    assert (y.min() + y.max()) / 2 == pytest.approx(height / 2)


def test_urban_core_is_the_four_central_districts(sjz):
    us = sjz[0]
    u = us.units
    core = u[u["name"].isin(["长安区", "桥西区", "新华区", "裕华区"])]
    assert urban_core_bounds(u) == pytest.approx(tuple(core.total_bounds))
    full = fit_view(_drawn_bounds(us), 1280, 720)
    zoomed = fit_view(urban_core_bounds(u), 1280, 720)
    assert zoomed.zoom > full.zoom + 1.5


def test_urban_core_without_districts_is_the_densest_unit(sjz):
    u = sjz[0].units.copy()
    u["name"] = u["name"].str.replace("区", "县")  # no urban district left
    densest = (u["population"] / u["area_km2"])[u["has_geometry"]].idxmax()
    assert urban_core_bounds(u) == pytest.approx(tuple(u.loc[[densest]].total_bounds))


def test_label_box_counts_cjk_as_square():
    assert label_box("长安", 14) == (2 * 14 + 8, 14 * 1.25 + 4)
    assert label_box("AB", 10) == (2 * 6 + 8, 10 * 1.25 + 4)


def test_declutter_keeps_the_most_important_of_overlapping_labels():
    x = np.array([100.0, 110.0, 300.0, 100.0])
    y = np.array([100.0, 104.0, 100.0, 160.0])
    show = declutter(x, y, ["甲甲甲", "乙乙乙", "丙丙丙", "丁丁丁"], [1, 5, 2, 3])
    # 乙 (most important) beats 甲 at nearly the same place; 丙 and 丁 are clear of it
    assert show.tolist() == [False, True, True, True]


def _boxes(labels, view, size):
    x, y = screen_xy(view, labels["lon"], labels["lat"], *size)
    out = []
    for xi, yi, t in zip(x, y, labels["text"], strict=True):
        w, h = label_box(t)
        out.append(shapely.box(xi - w / 2, yi - h / 2, xi + w / 2, yi + h / 2))
    return out


def _outlines(sjz):
    us, plan, a, disp = sjz
    deck = build_deck(us.units, disp, a, {g.grid_id: g.name for g in plan.grids},
                      grid_colors(plan, us, a), borders=unit_borders(us))  # fmt: skip
    return deck


@pytest.mark.parametrize(("size", "at_least"), [((1280, 720), 18), ((500, 560), 14)])
def test_shijiazhuang_labels_do_not_collide(sjz, size, at_least):
    us, plan, a, _ = sjz
    names = {g.grid_id: g.name for g in plan.grids}
    drawn = us.units[us.units["has_geometry"]].assign(grid_id=a[us.units["has_geometry"]])
    outlines = drawn.dissolve("grid_id", aggfunc={"population": "sum"}).reset_index()
    full = fit_view(_drawn_bounds(us), *size)
    shown = grid_labels(outlines, names, full, size)
    boxes = _boxes(shown, full, size)
    assert not any(b.intersects(c) for i, b in enumerate(boxes) for c in boxes[i + 1 :])
    urban = {"新华医疗集团", "长安医疗集团", "桥西医疗集团", "裕华医疗集团"}
    # at the prefecture view the four small central groups cannot all be named: the most
    # populous (长安) keeps its label, some of the others give way
    assert "长安医疗集团" in set(shown["text"]) and not urban <= set(shown["text"])
    assert len(shown) >= at_least  # most county grids keep theirs
    # zoomed to the urban core, all four are named, still without collisions
    core = fit_view(urban_core_bounds(us.units), *size)
    shown = grid_labels(outlines, names, core, size)
    assert urban <= set(shown["text"])
    boxes = _boxes(shown, core, size)
    assert not any(b.intersects(c) for i, b in enumerate(boxes) for c in boxes[i + 1 :])


def test_deck_draws_only_the_decluttered_labels_at_its_view(sjz):
    deck = _outlines(sjz)
    labels = next(layer for layer in deck.layers if layer.id == "grid-labels")
    assert 14 <= len(labels.data) < 22


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_facility_dots_leave_the_rural_15_minute_circle_visible(sjz, size):
    view = fit_view(_drawn_bounds(sjz[0]), *size)
    reach_m = 15 * MODE_SPEEDS_KMH["walk"] * 1000 / 60 / DEFAULT_DETOUR
    circle_px = reach_m / metres_per_pixel(view)
    assert dot_radius_px(view) == FACILITY_MIN_PX
    assert dot_radius_px(view) <= 0.4 * circle_px


def test_metres_per_pixel_at_zoom_zero_on_the_equator():
    assert metres_per_pixel(MapView(0.0, 0.0, 0.0)) == pytest.approx(40_075_016.686 / 512)
