"""Dashboard helpers that do not need a running app: map building and table edits."""

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan.inputs.crs import wgs84_to_gcj02
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.units import build_units, display_geometry
from gridplan.report.boundaries import unit_borders
from gridplan.report.style import grid_colors
from tests.test_grid_boundaries import _metric_length
from ui.mapview import build_deck
from ui.tables import assignment_changes, grid_option_labels


@pytest.fixture(scope="module")
def sjz():
    us = build_units("130100")
    plan = GridPlan.from_preset("shijiazhuang")
    return us, plan, resolve_assignment(plan, us.units), display_geometry(us)


def _deck_json(sjz, basemap, plan=None):
    us, preset, _, disp = sjz
    plan = plan or preset
    a = resolve_assignment(plan, us.units)
    names = {g.grid_id: g.name for g in plan.grids}
    deck = build_deck(
        us.units, disp, a, names, grid_colors(plan), borders=unit_borders(us), basemap=basemap
    )
    return json.loads(deck.to_json())


def test_offline_map_has_no_basemap_and_all_layers(sjz):
    d = _deck_json(sjz, "none")
    assert "mapProvider" not in d and "mapStyle" not in d  # works with no network
    ids = [layer["id"] for layer in d["layers"]]
    assert ids == ["units", "unit-borders", "grid-outlines", "grid-labels"]
    units = d["layers"][0]["data"]["features"]
    assert len(units) == 22  # functional zones have no polygon to draw
    changan = next(f for f in units if f["properties"]["unit_id"] == "130102")
    assert changan["properties"]["grid_name"] == "长安医疗集团"
    assert changan["properties"]["pop_text"] == "1,059,572（2020年人口普查）"


def _segments(deck_json, layer_id):
    layer = next(x for x in deck_json["layers"] if x["id"] == layer_id)
    assert layer["@@type"] == "LineLayer"  # the light line shader, not the path shader
    return np.array([[*r["s"], *r["t"]] for r in layer["data"]]).reshape(-1, 4)


def _km(seg):
    return _metric_length(seg) / 1000  # in EPSG:4547, Shijiazhuang's metric CRS


def test_each_boundary_is_drawn_once_white_inside_a_grid_dark_between_grids(sjz):
    us = sjz[0]
    assert us.metric_crs == "EPSG:4547"
    units = list(us.units["unit_id"])
    one_grid = GridPlan.from_dict(
        {
            "id": "one",
            "prefecture": "130100",
            "grids": [{"grid_id": "all", "name": "全市", "units": units}],
        }
    )
    for plan in (None, one_grid):
        d = _deck_json(sjz, "none", plan)
        assert not d["layers"][0]["stroked"]  # the units' fill only: no outline drawn twice
        inner, between = _segments(d, "unit-borders"), _segments(d, "grid-outlines")
        ends = {tuple(sorted([tuple(r[:2]), tuple(r[2:])])) for r in np.vstack([inner, between])}
        assert len(ends) == len(inner) + len(between)  # no segment twice, in either direction
        # together they are every unit's boundary: the units' perimeters, shared ones once
        has = us.units["has_geometry"].to_numpy()
        metric = us.units.geometry[has].to_crs(us.metric_crs)
        outer = shapely.union_all(metric.to_numpy()).boundary.length / 1000
        shared = (metric.length.sum() / 1000 - outer) / 2
        assert _km(np.vstack([inner, between])) == pytest.approx(outer + shared, rel=0.01)
        if plan is one_grid:  # one grid: its outline is the prefecture's edge
            assert _km(between) == pytest.approx(outer, rel=0.01)


def test_amap_basemap_shifts_layers_to_gcj02(sjz):
    plain = _deck_json(sjz, "none")["layers"][0]["data"]["features"]
    shifted_deck = _deck_json(sjz, "amap")
    shifted = shifted_deck["layers"][0]["data"]["features"]
    assert shifted_deck["mapStyle"] == "/app/static/amap-style.json"
    p, q = (
        shapely.get_coordinates(shapely.from_geojson(json.dumps(f[0]["geometry"])))[0]
        for f in (plain, shifted)
    )
    expected = np.array([float(v) for v in wgs84_to_gcj02(p[0], p[1])])
    assert np.allclose(q, expected, atol=1e-9)
    assert 0.001 < abs(q[0] - p[0]) < 0.01  # a few hundred metres, as GCJ-02 is
    for layer in ("unit-borders", "grid-outlines"):
        p, q = _segments(_deck_json(sjz, "none"), layer), _segments(shifted_deck, layer)
        expected = np.column_stack(
            [*wgs84_to_gcj02(p[:, 0], p[:, 1]), *wgs84_to_gcj02(p[:, 2], p[:, 3])]
        )
        assert np.allclose(q, expected, atol=2e-5)  # rounded to 5 decimals (a metre)


def test_display_geometry_is_lighter_but_close(sjz):
    us, _, _, disp = sjz
    full = us.units.geometry[us.units["has_geometry"]]
    light = disp[us.units["has_geometry"]]
    assert (
        shapely.get_num_coordinates(light.to_numpy()).sum()
        < shapely.get_num_coordinates(full.to_numpy()).sum()
    )
    m = us.metric_crs
    diff = (
        light.to_crs(m).symmetric_difference(full.to_crs(m), align=False).area / full.to_crs(m).area
    )
    assert diff.max() < 0.01


def test_assignment_changes_join_by_code_not_position():
    before = pd.DataFrame({"code": ["a", "b", "c"], "grid": ["G1", "G1", "G2"]})
    after = before.iloc[::-1].reset_index(drop=True).copy()  # the table was sorted
    after.loc[after["code"] == "a", "grid"] = "G2"
    after.loc[after["code"] == "c", "grid"] = "（未分配）"
    changes = assignment_changes(before, after, "code", "grid", {"G1": "g1", "G2": "g2"})
    assert changes == {"a": "g2", "c": ""}


def test_repeated_grid_names_get_unique_labels():
    labels = grid_option_labels({"x": "东区", "y": "东区", "z": "西区"})
    assert labels == {"x": "东区 [x]", "y": "东区 [y]", "z": "西区"}


def test_served_amap_style_matches_the_code():
    from pathlib import Path

    from ui.mapview import AMAP_STYLE, AMAP_STYLE_URL

    served = Path(__file__).resolve().parents[1] / "static" / Path(AMAP_STYLE_URL).name
    assert json.loads(served.read_text(encoding="utf-8")) == AMAP_STYLE


# --- texts ----------------------------------------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
UI_FILES = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]


def _calls(name: str):
    import ast

    for path in UI_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                yield path, node


def test_every_text_has_both_languages_with_the_same_fields():
    import string

    from ui.texts import TEXTS

    def fields(template: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f}

    for key, entry in TEXTS.items():
        assert set(entry) == {"zh", "en"} and entry["zh"] and entry["en"], key
        assert fields(entry["zh"]) == fields(entry["en"]), key


def test_every_key_of_every_family_exists():
    from ui.texts import FAMILIES, TEXTS

    missing = [f.key(m) for f in FAMILIES for m in f.members if f.key(m) not in TEXTS]
    assert missing == []
    assert len({f.prefix for f in FAMILIES}) == len(FAMILIES)


def test_every_looked_up_text_exists_and_run_time_keys_go_through_families():
    import ast

    from ui.texts import TEXTS

    unknown, computed = [], []
    for path, call in _calls("tr"):
        if path.name == "texts.py":
            continue
        key = call.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            if key.value not in TEXTS:
                unknown.append(f"{path.name}: {key.value}")
        else:
            computed.append(f"{path.name}:{call.lineno}")
    assert unknown == [] and computed == []


def test_no_inline_language_choice():
    import ast

    offenders = []
    for path in UI_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.IfExp) and isinstance(node.test, ast.Compare):
                consts = [c.value for c in ast.walk(node.test) if isinstance(c, ast.Constant)]
                if {"zh", "en"} & set(consts):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_families_follow_the_library_lists():
    from gridplan import workflow
    from gridplan.siting.study import CANDIDATE_SOURCES, LEVELS, METHODS, SOLVERS
    from ui import texts
    from ui.mapview import BASEMAPS

    assert texts.MODEL.members == workflow.MODELS and texts.MODE.members == workflow.MODES
    assert texts.TARGET.members == tuple(workflow.TARGET_GROUPS)
    assert set(texts.SITING_LEVEL.members) == set(LEVELS)
    assert (texts.SITING_METHOD.members, texts.SITING_CANDIDATES.members) == (
        METHODS,
        CANDIDATE_SOURCES,
    )
    assert texts.SITING_SOLVER.members == SOLVERS and texts.BASEMAP.members == BASEMAPS
    assert texts.tr("model_straight", lang="en") == "Straight line × detour"
    assert texts.SITING_STATUS.get("a_new_status") == "a_new_status"


def test_every_page_has_a_title():
    from ui.navigation import PAGES
    from ui.texts import PAGE

    assert tuple(p.name for p in PAGES) == PAGE.members
