"""Grid colours: a colour-blind safe palette, neighbouring grids never alike, screen = paper."""

import itertools

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from skimage.color import deltaE_ciede2000, rgb2lab

from gridplan.plan.grids import GridPlan, list_presets, resolve_assignment
from gridplan.plan.units import build_units
from gridplan.report.style import (
    GRID_HUES,
    dsatur_colouring,
    grid_colors,
    grid_neighbours,
    grid_palette,
    legend_entries,
)

#: Machado, Oliveira & Fernandes (2009): full deuteranopia, on linear RGB.
DEUTERANOPIA = np.array(
    [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ]
)


def _linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _srgb(c):
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def _deuteranope(rgb):
    return _srgb(_linear(rgb) @ DEUTERANOPIA.T)


def _min_delta_e(hexes, simulate=None):
    rgb = np.array([to_rgb(h) for h in hexes])
    if simulate is not None:
        rgb = simulate(rgb)
    lab = rgb2lab(rgb[None, :, :])[0]
    return min(
        float(deltaE_ciede2000(lab[i], lab[j]))
        for i, j in itertools.combinations(range(len(hexes)), 2)
    )


def test_palette_colours_differ_for_everyone():
    assert len(GRID_HUES) == 9 and len(set(GRID_HUES)) == 9
    assert _min_delta_e(GRID_HUES) > 11.0
    assert _min_delta_e(GRID_HUES, _deuteranope) > 11.0


def test_palette_repeats_its_nine_colours():
    assert grid_palette(12) == [*GRID_HUES, *GRID_HUES[:3]]


def test_dsatur_keeps_neighbours_apart_and_uses_the_palette_evenly():
    # a wheel: a hub touching a ring of five (needs four colours)
    ring = [f"r{i}" for i in range(5)]
    nb = {"hub": set(ring)}
    for i, r in enumerate(ring):
        nb[r] = {"hub", ring[(i - 1) % 5], ring[(i + 1) % 5]}
    colour = dsatur_colouring(["hub", *ring], nb, 9)
    assert all(colour[a] != colour[b] for a in nb for b in nb[a])
    assert colour["hub"] == 0  # most neighbours: coloured first, with the first colour
    assert len(set(colour.values())) == 6  # least-used colour first: every node its own
    # nine isolated grids take the nine colours, in order
    lone = [f"g{i}" for i in range(9)]
    assert dsatur_colouring(lone, {}, 9) == {g: i for i, g in enumerate(lone)}


@pytest.fixture(scope="module")
def sjz():
    us = build_units("130100")
    plan = GridPlan.from_preset("shijiazhuang")
    return us, plan, resolve_assignment(plan, us.units)


def test_shijiazhuang_neighbours_are_the_touching_grids(sjz):
    us, plan, a = sjz
    names = {g.grid_id: g.name for g in plan.grids}
    nb = grid_neighbours([g.grid_id for g in plan.grids], us.units, a)
    changan = next(g for g, n in names.items() if n == "长安医疗集团")
    assert {names[g] for g in nb[changan]} == {
        "新华医疗集团", "桥西医疗集团", "裕华医疗集团", "正定县县域医共体", "藁城区县域医共体",
    }  # fmt: skip
    assert all(changan in nb[g] for g in nb[changan])  # symmetric


def test_the_four_urban_groups_are_clearly_different(sjz):
    us, plan, a = sjz
    colors = grid_colors(plan, us, a)
    names = {g.name: g.grid_id for g in plan.grids}
    groups = ("新华医疗集团", "长安医疗集团", "桥西医疗集团", "裕华医疗集团")
    urban = [colors[names[n]] for n in groups]
    assert len(set(urban)) == 4
    assert _min_delta_e(urban) > 11.0 and _min_delta_e(urban, _deuteranope) > 11.0


@pytest.mark.parametrize("preset", list_presets())
def test_neighbouring_grids_never_share_a_colour(preset):
    plan = GridPlan.from_preset(preset)
    us = build_units(plan.prefecture)
    a = resolve_assignment(plan, us.units)
    colors = grid_colors(plan, us, a)
    nb = grid_neighbours([g.grid_id for g in plan.grids], us.units, a)
    pairs = [(g, h) for g in nb for h in nb[g]]
    assert pairs  # the prefecture's grids do touch
    assert all(colors[g] != colors[h] for g, h in pairs)
    assert set(colors.values()) <= set(GRID_HUES)
    assert list(colors) == [g.grid_id for g in plan.grids]


def test_legend_and_png_use_the_screen_colours(sjz):
    us, plan, a = sjz
    colors = grid_colors(plan, us, a)
    entries = {e.grid_id: e.color for e in legend_entries(plan, us, a)}
    assert {g: c for g, c in entries.items() if g} == colors
