"""The national overview page: a batch result as a coloured map beside its table.

Runs the page with the bundled result, and with uploads: a good batch CSV replaces
it, a bad file is refused in Chinese and the table shown before stays.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from gridplan.batch.files import read_batch_table, write_rows
from ui.panels import national

TIMEOUT = 120


def _page() -> AppTest:
    return AppTest.from_file("../pages/national.py", default_timeout=TIMEOUT)


def _texts(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.caption]
    parts += [str(e.value) for e in at.warning] + [str(e.value) for e in at.info]
    return "\n".join(parts + [str(e.value) for e in at.error])


def _deck(at: AppTest) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def _batch_csv(tmp_path, rows: list[dict]) -> bytes:
    path = write_rows(rows, tmp_path / "mine.csv")
    return path.read_bytes()


def _row(adcode: str, name: str, share: float) -> dict:
    return {"name": name, "adcode": adcode, "province": "河北省", "minutes": 15.0, "mode": "walk",
            "cell_m": 1000.0, "population": 1000.0, "covered": 1000.0 * share, "share": share,
            "mean_minutes": 12.5, "not_assessed_population": 0.0, "error": None}  # fmt: skip


def test_the_page_shows_the_bundled_result_as_map_and_table_in_chinese():
    at = _page().run()
    assert not at.exception
    bundled = read_batch_table(national.BUNDLED.read_bytes(), national.BUNDLED.name)
    table = at.dataframe[0].value
    assert list(table.columns[:3]) == ["地级市", "省份", "行政区划代码"]
    assert len(table) == len(bundled)
    text = _texts(at)
    assert "全国概览" in text and "模型估算（示意）" in text
    layers = _deck(at)["layers"]
    features = layers[0]["data"]["features"]
    assert len(features) == len(bundled)  # every prefecture of the result has its outline
    # each prefecture coloured by its share class (grey without a result)
    by_code = bundled.set_index("adcode")["share"]
    for f in features:
        share = by_code[f["properties"]["adcode"]]
        assert f["properties"]["fill"][:3] == national._rgb(national.share_color(share))[:3]


def test_a_province_filter_keeps_its_rows():
    at = _page().run()
    bundled = read_batch_table(national.BUNDLED.read_bytes(), national.BUNDLED.name)
    province = sorted(set(bundled["province"]))[0]
    at.selectbox(key="nat_province").set_value(province).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert set(shown["省份"]) == {province}
    assert len(shown) == int((bundled["province"] == province).sum())


def test_an_upload_replaces_the_result_and_a_bad_one_keeps_it(tmp_path):
    at = _page().run()
    at.radio(key="nat_source").set_value("upload").run()
    good = _batch_csv(tmp_path, [_row("130100", "石家庄市", 0.55), _row("130600", "保定市", 0.1)])
    at.file_uploader(key="nat_upload").set_value(("mine.csv", good, "text/csv")).run()
    assert not at.exception and not at.error
    shown = at.dataframe[0].value
    assert list(shown["地级市"]) == ["保定市", "石家庄市"]  # lowest coverage first
    assert list(shown["覆盖率（%）"]) == [10.0, 55.0]
    # a file that is not a batch table: said in Chinese, the uploaded table still shown
    bad = "乡镇,人口\n长安区,1000\n".encode()
    at.file_uploader(key="nat_upload").set_value(("人口.csv", bad, "text/csv")).run()
    assert not at.exception
    error = "\n".join(str(e.value) for e in at.error)
    assert "缺少批量结果表的列" in error and "上传失败，已保留原有数据" in error
    assert list(at.dataframe[0].value["地级市"]) == ["保定市", "石家庄市"]


def test_share_classes_and_summary():
    assert national.share_color(0.0) == national.SHARE_COLORS[0]
    assert national.share_color(0.39) == national.SHARE_COLORS[1]
    assert national.share_color(0.4) == national.SHARE_COLORS[2]
    assert national.share_color(1.0) == national.SHARE_COLORS[-1]
    assert national.share_color(float("nan")) == national.NO_DATA_COLOR
    table = pd.DataFrame(
        {"share": [0.5, 0.25, np.nan], "population": [100.0, 300.0, np.nan],
         "covered": [50.0, 75.0, np.nan]}
    )  # fmt: skip
    assert list(national.summary(table).values()) == ["2 / 3", "0 万", "31.2%"]


def test_the_bundled_result_covers_china_and_says_it_is_modelled():
    table = read_batch_table(national.BUNDLED.read_bytes(), national.BUNDLED.name)
    assert len(table) == 370 and table["adcode"].is_unique
    failed = table[table["error_code"] != ""]
    assert set(failed["adcode"]) == {"710000", "810000", "820000"}  # 台湾, 香港, 澳门: no census
    assert set(failed["error_code"]) == {"access.no_population"}
    done = table[table["error_code"] == ""]
    assert done["note"].str.startswith("模型估算（示意）").all()
    assert set(done["facilities_source"]) == {"illustrative"}
    assert set(done["cell_m"]) == {500.0} and set(done["minutes"]) == {15.0}
    assert set(table["adcode"]) <= set(national.outlines()["adcode"])
