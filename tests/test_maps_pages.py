"""AppTests: every page's map has its legend and the zoom / reset buttons, and keeps its view."""

import json

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from gridplan.report.style import GRID_HUES, coverage_change_colors, coverage_colors

TIMEOUT = 180


def page(name: str, **state) -> AppTest:
    at = AppTest.from_file(f"../pages/{name}.py", default_timeout=TIMEOUT)
    for k, v in state.items():
        at.session_state[k] = v
    return at


def legends(at: AppTest) -> list:
    """Each legend chart's rows (a DataFrame per chart), in page order."""
    out = []
    for chart in at.get("vega_lite_chart"):
        for ds in chart.proto.datasets:
            out.append(convert_arrow_bytes_to_pandas_df(ds.data.data))
    return out


def decks(at: AppTest) -> list[dict]:
    return [json.loads(d.proto.json) for d in at.get("deck_gl_json_chart")]


@pytest.fixture
def served(monkeypatch) -> dict[str, bytes]:
    """The JSON files the pages served by URL (``ui.layerdata``), by URL."""
    from ui import layerdata

    files: dict[str, bytes] = {}
    original = layerdata.served

    def record(payload: bytes, slot: str):
        url = original(payload, slot)
        files[url] = payload
        return url

    monkeypatch.setattr(layerdata, "served", record)
    return files


def layer_rows(layer: dict, served: dict[str, bytes]):
    """A layer's data: inline, or the JSON file its URL names."""
    data = layer["data"]
    return json.loads(served[data]) if isinstance(data, str) else data


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def click(at: AppTest, label: str, nth: int = 0) -> AppTest:
    buttons = [b for b in at.button if b.label == label]
    return buttons[nth].click().run()


def test_grids_page_map_has_a_legend_of_every_grid_and_keeps_its_zoom():
    at = page("grids").run()
    assert not at.exception
    assert labels(at).count("放大到城区") == 1 and labels(at).count("重置视图") == 1
    legend = legends(at)[0]
    assert len(legend) == 22 and set(legend["color"]) <= set(GRID_HUES)
    row = legend[legend["label"] == "长安医疗集团"].iloc[0]
    deck = decks(at)[0]
    units = next(layer for layer in deck["layers"] if layer["id"] == "units")
    changan = next(f for f in units["data"]["features"] if f["properties"]["unit_id"] == "130102")
    assert "#{:02x}{:02x}{:02x}".format(*changan["properties"]["fill"][:3]) == row["color"]
    full = deck["initialViewState"]["zoom"]
    click(at, "放大到城区")
    assert not at.exception
    zoomed = decks(at)[0]["initialViewState"]["zoom"]
    assert zoomed > full + 1.5
    shown = next(layer for layer in decks(at)[0]["layers"] if layer["id"] == "grid-labels")
    assert {"新华医疗集团", "长安医疗集团", "桥西医疗集团", "裕华医疗集团"} <= {
        r["text"] for r in shown["data"]
    }
    at.toggle(key="map_labels").set_value(False).run()  # an unrelated rerun: the zoom stays
    assert decks(at)[0]["initialViewState"]["zoom"] == zoomed
    click(at, "重置视图")
    assert decks(at)[0]["initialViewState"]["zoom"] == pytest.approx(full)


def test_grids_page_legend_in_english():
    at = page("grids", lang="en").run()
    assert "Zoom to the city" in labels(at) and "Reset view" in labels(at)


def test_access_map_legends_covered_classes_minutes_scale_and_tooltips(served):
    at = page("access").run()
    assert not at.exception
    # the hover blocks are drawn only when asked for (each slider step redraws them)
    assert "hover-cells" not in [layer["id"] for layer in decks(at)[0]["layers"]]
    at.toggle(key="acc_hover").set_value(True).run()
    assert not at.exception
    assert "放大到城区" in labels(at) and "重置视图" in labels(at)
    rows = legends(at)[0]
    colours = coverage_colors()
    assert rows["label"].iloc[0] == "15 分钟内可达" and rows["color"].iloc[0] == colours["covered"]
    assert rows["label"].iloc[1] == "15 分钟内不可达"
    assert (rows["shape"].iloc[2:] == "circle").all() and len(rows) >= 3  # facility types
    deck = decks(at)[0]
    ids = [layer["id"] for layer in deck["layers"]]
    assert ids.index("hover-cells") < ids.index("grid-outlines") < ids.index("facilities")
    assert json.loads(at.get("deck_gl_json_chart")[0].proto.tooltip)["text"] == "{tip}"
    hover = layer_rows(next(lay for lay in deck["layers"] if lay["id"] == "hover-cells"), served)
    assert 100 < len(hover) <= 1500
    tips = [r["tip"] for r in hover]
    assert any(t.startswith("约 ") and "常住人口约" in t and "最近机构：" in t for t in tips)
    assert all("nan" not in t and "inf" not in t for t in tips)
    at.radio(key="acc_layer").set_value("minutes").run()
    assert not at.exception
    scale = legends(at)[0]
    assert len(scale) == 13 and scale["start"].iloc[0] == 0 and scale["end"].iloc[11] == 60


def test_compare_page_maps_each_have_a_legend_and_buttons():
    at = page("compare").run()
    assert not at.exception
    if len(decks(at)) < 2:
        pytest.skip("the compare page needs a second scenario in this store")
    assert labels(at).count("放大到城区") == 2
    assert len([rows for rows in legends(at) if "label" in rows]) >= 2


def test_siting_map_legend_and_buttons():
    at = page("siting").run()
    at.selectbox(key="sit_cell_secondary").set_value(1000)
    level = at.radio(key="sit_level").value
    at.button(key=f"FormSubmitter:sit_form_{level}-运行选址").click().run()
    assert not at.exception
    assert "放大到城区" in labels(at) and "重置视图" in labels(at)
    rows = next(r for r in legends(at) if "label" in r and "新增覆盖" in set(r["label"]))
    change = coverage_change_colors()
    assert rows["label"].tolist()[:3] == ["现已覆盖", "新增覆盖", "仍未覆盖"]
    assert rows["color"].tolist()[:3] == [change["before"], change["new"], change["uncovered"]]
    assert rows["shape"].tolist()[3:] == ["circle", "ring", "circle"]
