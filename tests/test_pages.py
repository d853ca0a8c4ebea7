"""AppTests: every page runs, in Chinese by default, and reacts to the planner's choices.

The page scripts live in ``pages/`` and run through ``app.py``'s
``st.navigation`` (``ui.navigation`` keeps it in charge: AppTest, like a fresh
server, starts each run in Streamlit's legacy ``pages/`` mode).  Pages are also
run on their own, with the sidebar choices given through session state; the
sidebar widgets themselves are driven in a real browser by tests/test_e2e.py.
"""

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gridplan.facilities.table import add_facility
from gridplan.facilities.types import empty_facilities
from gridplan.plan.grids import GridPlan
from gridplan.siting.study import accept_sites

TIMEOUT = 120


def app(**state) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    for k, v in state.items():
        at.session_state[k] = v
    return at


def page(name: str, **state) -> AppTest:
    at = AppTest.from_file(f"../pages/{name}.py", default_timeout=TIMEOUT)
    for k, v in state.items():
        at.session_state[k] = v
    return at


def texts(at: AppTest) -> str:
    parts = (
        [e.value for e in at.markdown]
        + [e.value for e in at.title]
        + [e.value for e in at.subheader]
    )
    parts += [e.value for e in at.caption] + [str(e.value) for e in at.info]
    parts += [str(e.value) for e in at.error] + [str(e.value) for e in at.warning]
    parts += [str(e.value) for e in at.success]
    return "\n".join(parts)


def test_app_defaults_to_shijiazhuang_overview_in_chinese():
    at = app().run()
    assert not at.exception
    assert at.session_state["prefecture"] == "130100"
    assert at.session_state["preset"] == "shijiazhuang"
    assert at.selectbox(key="w_prefecture").value == "130100"
    assert at.radio(key="w_lang").value == "zh"
    t = texts(at)
    assert "GridPlan 医疗网格规划" in t and "石家庄市" in t
    df = at.dataframe[0].value
    row = df[df["网格"] == "长安医疗集团"].iloc[0]
    assert row["人口"] == 1_364_247 and row["人口来源"] == "2020年人口普查"
    assert at.metric[0].value == "22"


def test_app_in_english():
    at = app(lang="en").run()
    assert not at.exception
    assert "GridPlan medical grid planning" in texts(at)
    assert at.selectbox(key="w_prefecture").label == "Prefecture"


def test_app_with_another_prefecture_picks_its_preset():
    at = app(prefecture="532300").run()
    assert not at.exception
    assert at.session_state["preset"] == "chuxiong"
    df = at.dataframe[0].value
    assert df[df["网格"] == "楚雄州紧密型城市医疗集团"].iloc[0]["人口"] == 631_530


def test_sidebar_language_radio_reruns_the_app():
    at = app().run()
    at.radio(key="w_lang").set_value("en").run()
    assert not at.exception
    assert "GridPlan medical grid planning" in texts(at)


def test_sidebar_prefecture_change_selects_its_preset():
    at = app().run()
    at.selectbox(key="w_prefecture").set_value("532300").run()
    assert not at.exception
    assert at.session_state["preset"] == "chuxiong"


def test_prefecture_change_forgets_every_upload_with_the_population_surface(tmp_path):
    pts = tmp_path / "pts.csv"
    pts.write_text("经度,纬度,人口\n114.50,38.04,12000\n", encoding="utf-8")
    roads = tmp_path / "roads.osm"
    roads.write_text("<osm version='0.6'/>", encoding="utf-8")
    at = app(
        surface_path=str(pts),
        surface_datum="gcj02",
        upload_report=["已加载"],
        roads_path=str(roads),
        landcover_path=str(pts),
        dem_path=str(pts),
    ).run()
    at.selectbox(key="w_prefecture").set_value("532300").run()
    assert not at.exception
    bound = ("surface_path", "surface_datum", "upload_report", "roads_path", "landcover_path")
    kept = [k for k in (*bound, "dem_path") if k in at.session_state]
    assert kept == []


def test_clear_uploads_forgets_the_unit_uploads_and_keeps_the_other_pages_files(tmp_path):
    roads = tmp_path / "roads.osm"
    roads.write_text("<osm version='0.6'/>", encoding="utf-8")
    for name in ("pop.csv", "pts.csv"):  # stored files (a vanished one is forgotten anyway)
        (tmp_path / name).write_text("经度,纬度,人口\n114.50,38.04,12000\n", encoding="utf-8")
    at = page(
        "grids", population_path=str(tmp_path / "pop.csv"), upload_report=["已加载"],
        roads_path=str(roads), surface_path=str(tmp_path / "pts.csv"),
    ).run()  # fmt: skip
    assert at.session_state["upload_report"] == ["已加载"]
    at.button(key="FormSubmitter:uploads-清除上传数据").click().run()
    assert not at.exception
    gone = [k for k in ("population_path", "upload_report") if k in at.session_state]
    assert gone == []
    assert at.session_state["roads_path"] == str(roads)
    assert at.session_state["surface_path"] == str(tmp_path / "pts.csv")


def test_every_page_runs_under_app_py_with_the_sidebar():
    # AppTest resets Streamlit's pages/ flag at every run, as a fresh server does: without
    # the guard the page would run on its own, with no sidebar
    at = app().run()
    for name in ("grids", "access", "siting", "overview"):
        at.switch_page(f"pages/{name}.py").run()
        assert not at.exception, name
        assert at.selectbox(key="w_prefecture").value == "130100", name
        assert at.radio(key="w_lang").value == "zh", name
    assert at.title[0].value == "GridPlan 医疗网格规划"


def test_deep_link_keeps_the_sidebar_choice():
    at = app(prefecture="532300").run()
    at.switch_page("pages/grids.py").run()
    assert not at.exception
    assert at.session_state["preset"] == "chuxiong"
    assert at.selectbox(key="w_prefecture").value == "532300"
    assert "网格划分" in texts(at)


def _first_call(script: Path) -> str:
    """The function the first module-level statement after the imports calls (waiting for
    the launcher's imports, ``preload.join()``, draws nothing and does not count)."""
    body = ast.parse(script.read_text(encoding="utf-8")).body
    stmt = next(
        s
        for s in body
        if not isinstance(s, (ast.Import, ast.ImportFrom))
        and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        and not (isinstance(s, ast.Expr) and ast.unparse(s.value) == "preload.join()")
    )
    assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call), script.name
    return ast.unparse(stmt.value.func)


def test_every_script_first_keeps_navigation_in_charge():
    from ui.navigation import PAGES

    root = Path(__file__).resolve().parents[1]
    scripts = sorted(p.relative_to(root).as_posix() for p in (root / "pages").glob("*.py"))
    assert scripts == sorted(p.script for p in PAGES)
    for script in [root / "app.py", *(root / s for s in scripts)]:
        assert _first_call(script) == "navigation.keep_navigation_in_charge", script.name


def test_only_ui_state_touches_session_state():
    root = Path(__file__).resolve().parents[1]
    scripts = [root / "app.py", *(root / "pages").glob("*.py"), *(root / "ui").rglob("*.py")]
    touching = [p.relative_to(root).as_posix() for p in scripts if "session_state" in p.read_text()]
    assert touching == ["ui/state.py"]


def _grid_editor_alone(preset: str) -> None:
    from gridplan.plan.grids import GridPlan
    from ui import state
    from ui.panels.grids import grid_editor

    sel = state.Selection("371100", preset)
    grid_editor(sel, state.plan(sel, lambda: GridPlan.from_preset(preset)), lambda: None)


def test_grid_editor_panel_on_its_own():
    at = AppTest.from_function(_grid_editor_alone, args=("rizhao",), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value  # the grid editor, nothing else of the page
    assert list(table.columns) == ["编号", "名称", "牵头医院", "成员单位"] and len(table) >= 2
    at.text_input[0].set_value("东港新网格")
    at.button[[b.label for b in at.button].index("新增网格")].click().run()
    assert not at.exception
    plan = at.session_state["plans"][("371100", "rizhao")]
    assert plan.grids[-1].name == "东港新网格"
    assert at.session_state["plan_version"] == 1


def test_overview_page():
    at = page("overview").run()
    assert not at.exception
    assert "石家庄市" in texts(at)


def test_grids_page_shows_map_tables_validation():
    at = page("grids").run()
    assert not at.exception
    t = texts(at)
    assert "网格划分" in t
    assert "石家庄高新技术产业开发区" in t  # the undrawn functional zone is named
    assert "18 个网格没有牵头医院" in t
    assert at.get("deck_gl_json_chart")  # the pydeck map
    stats = at.dataframe[0].value
    assert set(stats["网格"]) >= {"新华医疗集团", "长安医疗集团", "桥西医疗集团", "裕华医疗集团"}
    assert len(at.get("download_button")) == 7  # the files: tests/test_exports_gis.py


@pytest.mark.parametrize("pref", ["532300", "360700", "371100", "410100", "320100"])
def test_grids_page_for_other_prefectures(pref):
    at = page("grids", prefecture=pref).run()
    assert not at.exception


def test_moving_a_unit_updates_statistics_and_validation():
    at = page("grids").run()
    at.selectbox(key="move_unit").set_value("130104")
    at.selectbox(key="move_target").set_value("sjz-xinhua")
    at.button[[b.label for b in at.button].index("移动")].click().run()
    assert not at.exception
    plan: GridPlan = at.session_state["plans"][("130100", "shijiazhuang")]
    assert "130104" in plan.grid("sjz-xinhua").units
    stats = at.dataframe[0].value.set_index("网格")
    # the emptied grid has no population: the column is shown as text ("—" there)
    assert str(stats.loc["新华医疗集团", "人口"]).replace(",", "") == str(802_057 + 979_646)
    assert stats.loc["桥西医疗集团", "人口"] == "—"
    assert "1 个网格没有任何单元：桥西医疗集团" in texts(at)


def test_adding_a_grid_and_reset():
    at = page("grids").run()
    at.text_input[0].set_value("新网格甲")
    at.button[[b.label for b in at.button].index("新增网格")].click().run()
    plan: GridPlan = at.session_state["plans"][("130100", "shijiazhuang")]
    assert plan.grids[-1].name == "新网格甲"
    assert "新网格甲" in texts(at)  # empty-grid warning names it
    at.button[[b.label for b in at.button].index("恢复为原始方案")].click().run()
    assert len(at.session_state["plans"][("130100", "shijiazhuang")].grids) == 22


def test_access_page_runs_with_modelled_population_and_illustrative_facilities():
    at = page("access").run()
    assert not at.exception
    t = texts(at)
    assert "15分钟健康服务圈" in t
    assert "模型估算" in t and "示意" in t  # provenance is said on the page
    share = float(at.metric[0].value.rstrip("%"))
    assert 0 < share < 100
    assert at.get("deck_gl_json_chart")


def test_access_slider_changes_coverage_without_recomputing():
    at = page("access").run()
    before = float(at.metric[0].value.rstrip("%"))
    at.slider(key="acc_minutes_primary").set_value(30).run()
    after = float(at.metric[0].value.rstrip("%"))
    assert after > before
    at.slider(key="acc_speed_walk").set_value(9.6).run()
    # twice the speed at 30 minutes covers what the default speed covers at 60
    doubled = float(at.metric[0].value.rstrip("%"))
    at.slider(key="acc_speed_walk").set_value(4.8).run()
    at.slider(key="acc_minutes_primary").set_value(60).run()
    assert float(at.metric[0].value.rstrip("%")) == pytest.approx(doubled, abs=0.1)


def test_access_switching_a_facility_off_changes_coverage():
    from gridplan import workflow

    at = page("access").run()
    before = at.metric[1].value
    facilities = at.session_state["facilities"][("130100", "shijiazhuang")]
    prim = facilities["type"].isin(workflow.TARGET_GROUPS["primary"])
    at.session_state["facilities"][("130100", "shijiazhuang")] = facilities.assign(active=~prim)
    at.run()
    assert not at.exception
    assert before and not at.metric  # no primary-care facility on: no coverage to show ...
    assert "所选类别没有启用的设施" in texts(at)  # ... but what to provide


def test_access_page_network_model_asks_for_roads_then_uses_them(tmp_path):
    at = page("access")
    at.session_state["acc_model"] = "network"
    at.run()
    assert not at.exception
    assert "道路网络模型需要先上传道路文件" in texts(at)
    # a road file given (as the uploader would store it): the model runs on it
    at = page("access", roads_path=str(Path(__file__).parent / "data" / "roads_sample.osm"))
    at.session_state["acc_model"] = "network"
    at.session_state["acc_cell"] = 1000
    at.run()
    assert not at.exception
    share = float(at.metric[0].value.rstrip("%"))
    assert 0 < share < 100
    assert "道路网络" in texts(at)
    # the capacity analyses run on the road network too
    at.session_state["acc_cap"] = True
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    cap = float(at.metric[labels.index("考虑服务能力的覆盖率")].value.rstrip("%"))
    assert cap <= share + 1e-9


def test_access_hotspots_are_places_named_by_their_units():
    at = page("access")
    at.session_state["acc_cell"] = 500
    at.session_state["acc_hot"] = True
    at.run()
    assert not at.exception
    hot = next(d.value for d in at.dataframe if "所在单元" in d.value.columns)
    assert len(hot) == 10
    assert (hot["面积 (km²)"] <= 12.6 * 1.1).all()  # a place, not a county's countryside
    assert hot["人口"].is_monotonic_decreasing
    assert "桥西区" not in hot["所在单元"].iloc[0]  # 99.97 % covered
    assert "半径 2 公里" in texts(at)


def test_access_standards_panel_names_the_seeds():
    at = page("access").run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    std = next(t for t in tables if "依据" in t.columns)
    assert std["依据"].str.contains("郑州市人民政府《关于推进分级诊疗制度建设的实施意见》").any()
    assert (
        std["依据"]
        .str.contains("日照市人民政府办公室《关于进一步完善医疗卫生服务体系的实施意见》")
        .any()
    )
    assert not std["依据"].str.contains("seed").any()
    assert (std["结论"] == "无数据").any()  # illustrative facilities have no beds or GPs


def test_access_page_with_uploaded_population_says_so(tmp_path):
    pts = tmp_path / "pts.csv"
    pts.write_text("经度,纬度,人口\n114.50,38.04,12000\n114.60,38.10,8000\n", encoding="gbk")
    at = page("access", surface_path=str(pts))
    at.session_state["acc_cell"] = 500
    at.run()
    assert not at.exception
    assert "人口：上传数据" in texts(at)
    assert at.metric[1].value.replace(",", "").isdigit()


def test_access_page_raster_model_with_a_dem(tmp_path):
    import numpy as np
    import rasterio
    from affine import Affine

    dem = tmp_path / "dem.tif"
    _, xx = np.mgrid[0:160, 0:130]
    profile = {"driver": "GTiff", "width": 130, "height": 160, "count": 1, "dtype": "float32",
               "crs": "EPSG:4326", "transform": Affine(0.01, 0, 118.5, 0, -0.01, 36.5)}  # fmt: skip
    with rasterio.open(dem, "w", **profile) as dst:
        dst.write((150.0 * xx).astype("float32"), 1)
    flat = page("access", prefecture="371100")
    flat.session_state["acc_model"] = "raster"
    flat.session_state["acc_cell"] = 1000
    flat.run()
    assert not flat.exception
    hilly = page("access", prefecture="371100", dem_path=str(dem))
    hilly.session_state["acc_model"] = "raster"
    hilly.session_state["acc_cell"] = 1000
    hilly.session_state["acc_minutes_primary"] = 15
    hilly.run()
    assert not hilly.exception
    assert "高程 DEM" in texts(hilly) or hilly.get("file_uploader")
    assert float(hilly.metric[0].value.rstrip("%")) <= float(flat.metric[0].value.rstrip("%"))


def test_access_capacity_and_g2sfca_panel():
    at = page("access", prefecture="371100")
    at.session_state["acc_cell"] = 500
    at.session_state["acc_cap"] = True
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "考虑服务能力的覆盖率" in labels and "满负荷机构" in labels
    cap = float(at.metric[labels.index("考虑服务能力的覆盖率")].value.rstrip("%"))
    plain = float(at.metric[0].value.rstrip("%"))
    assert cap <= plain + 1e-9  # capacities can only take coverage away


def test_siting_page_proposes_and_adopts_a_grid_plan():
    at = page("siting", prefecture="371100")
    at.run()
    assert not at.exception
    at.number_input(key="prop_k").set_value(2)
    at.button(key="prop_run").click().run()
    assert not at.exception
    assert any("已生成建议" in str(x.value) for x in at.success)
    assert "单元" in texts(at)
    at.button(key="prop_adopt").click().run()
    assert not at.exception
    # adopted as a new scenario, opened; the preset's plan is left as it was
    choice = at.session_state["preset"]
    assert choice.startswith("scn:")
    plan = at.session_state["plans"][("371100", choice)]
    assert plan.plan_id.startswith("proposal") and len(plan.grids) == 2
    assert len(at.session_state["plans"][("371100", "rizhao")].grids) > 2


def run_siting_form(at: AppTest) -> AppTest:
    level = at.radio(key="sit_level").value
    return at.button(key=f"FormSubmitter:sit_form_{level}-运行选址").click().run()


def test_siting_page_upgrades_subcentres_and_the_coverage_page_counts_them():
    at = page("siting").run()
    assert not at.exception
    assert "运行选址" in texts(at)
    at.selectbox(key="sit_cell_secondary").set_value(500)
    run_siting_form(at)
    assert not at.exception
    assert any("已证明最优" in str(x.value) for x in at.success)
    labels = [m.label for m in at.metric]
    assert labels[:3] == ["现状覆盖率", "新增后覆盖率", "新增覆盖人口"]
    before = float(at.metric[0].value.rstrip("%"))
    after = float(at.metric[1].value.rstrip("%"))
    assert after > before
    assert "模型估算" in texts(at) and "示意" in texts(at)
    assert at.get("deck_gl_json_chart") and at.get("vega_lite_chart")
    # the census spread evenly within units: the sites are shown, not recommended nor ticked
    assert "不作选址推荐" in texts(at) and "示意站点（不作推荐）" in texts(at)
    how = next(t.value for t in at.table if t.value.index.name == "项目")["说明"].to_dict()
    assert "驾车 30 km/h" in how["出行时间模型"] and "≤ 30 分钟" in how["覆盖判定"]
    at.button(key="sit_accept_btn").click().run()
    assert not at.exception
    assert "没有勾选任何站点" in texts(at)
    # the planner's own choice (all five ticked), as the page's button adds them
    study = at.session_state["siting_study"].study
    fac = at.session_state["facilities"][("130100", "shijiazhuang")]
    table, n = accept_sites(fac, study, list(range(len(study.sites))))
    assert n == 5 and (table["type"] == "医疗次中心").sum() == 5
    at.session_state["facilities"][("130100", "shijiazhuang")] = table
    # the 15-minute page, same session and settings: hospital-level coverage after the upgrade
    acc = page("access", facilities=at.session_state["facilities"])
    acc.session_state["acc_target"] = "hospitals"
    acc.session_state["acc_mode"] = "drive"
    acc.session_state["acc_cell"] = 500
    acc.run()
    assert not acc.exception
    assert float(acc.metric[0].value.rstrip("%")) == pytest.approx(after, abs=0.051)


def test_siting_page_bad_input_says_why_and_keeps_the_last_answer():
    at = page("siting").run()
    at.selectbox(key="sit_cell_secondary").set_value(1000)
    at.number_input(key="sit_k_secondary").set_value(2)
    run_siting_form(at)
    kept = at.session_state["siting_study"].study
    assert kept.k == 2
    at.radio(key="sit_level").set_value("primary").run()
    at.selectbox(key="sit_src_primary").set_value("list")
    at.selectbox(key="sit_cell_primary").set_value(1000)
    run_siting_form(at)
    assert not at.exception
    errors = "\n".join(str(e.value) for e in at.error)
    assert "无法进行选址分析" in errors and "尚未上传候选点表格" in errors
    assert at.session_state["siting_study"].study is kept  # nothing lost
    assert "上一次的结果属于另一层级" in texts(at)  # not shown as if it were this level's
    at.radio(key="sit_level").set_value("secondary").run()
    assert any("最大覆盖" in str(x.value) for x in at.success)  # the last answer is still there


def test_siting_page_typed_exclusion_circle_moves_the_sites_away():
    at = page("siting").run()
    at.selectbox(key="sit_cell_secondary").set_value(1000)
    at.number_input(key="sit_k_secondary").set_value(1)
    run_siting_form(at)
    first = at.session_state["siting_study"].study.sites.iloc[0]
    at.session_state["sit_circles_secondary"] = {
        "edited_rows": {},
        "added_rows": [{"lon": float(first["lon"]), "lat": float(first["lat"]), "radius_km": 2.0}],
        "deleted_rows": [],
    }
    run_siting_form(at)
    assert not at.exception
    moved = at.session_state["siting_study"].study.sites.iloc[0]
    assert moved["candidate_id"] != first["candidate_id"]


def test_grid_proposal_with_chosen_lead_hospitals():
    at = page("siting").run()
    # the illustrative network's hospitals are not real places: not offered as lead hospitals
    assert at.multiselect(key="prop_leads").options == []
    assert "示意网络的医院不是真实位置" in texts(at)
    fac = empty_facilities()
    for name, lon, lat in [("正定县人民医院", 114.57, 38.15), ("平山县医院", 114.19, 38.26),
                           ("辛集市第一医院", 115.22, 37.93)]:  # fmt: skip
        fac = add_facility(fac, name, "二级医院", lon, lat)  # as the facility panel adds them
    at = page("siting", facilities={("130100", "shijiazhuang"): fac}).run()
    options = at.multiselect(key="prop_leads").options
    assert len(options) == 3
    at.multiselect(key="prop_leads").set_value(options).run()
    assert "已指定 3 家牵头医院" in texts(at)
    at.button(key="prop_run").click().run()
    assert not at.exception
    proposal = at.session_state["proposal"]
    assert len(proposal.plan.grids) == 3
    leads = {g.lead_hospital: g.lead_location for g in proposal.plan.grids}
    assert leads["平山县医院"] == (114.19, 38.26)  # stored with its location
    # the current plan's leads are named, not located: no mean for it, its grids named
    assert "牵头医院未定位" in texts(at) and "新华医疗集团" in texts(at)
    how = next(t.value for t in at.table if t.value.index.name == "项目")["说明"].to_dict()
    assert "都已定位时才给出" in how["平均出行时间"] and "±20%" in how["人口均衡规则"]


def _deck_layers(at: AppTest) -> list[str]:
    import json as _json

    specs = [_json.loads(e.proto.json) for e in at.get("deck_gl_json_chart")]
    return [layer.get("id") for spec in specs for layer in spec.get("layers", [])]


def test_chuxiong_networks_are_listed_and_drawn():
    at = page("grids", prefecture="532300").run()
    assert not at.exception
    assert "跨网格网络（医疗联合体、专科专病联盟）" in texts(at)
    nets = next(d.value for d in at.dataframe if "牵头机构" in d.value.columns)
    tcm = nets[nets["网络"] == "楚雄州中彝医医疗联合体"].iloc[0]
    assert tcm["牵头机构"] == "楚雄州中医医院" and "位于楚雄市" in tcm["牵头机构位置"]
    assert "禄丰市" in tcm["成员单位"]
    assert {"network-links", "network-origins"} <= set(_deck_layers(at))
    at.toggle(key="map_networks").set_value(False).run()
    assert "network-links" not in _deck_layers(at)


def test_placing_a_lead_hospital_by_coordinates():
    at = page("grids", prefecture="532300").run()
    assert "10 个网格中有 10 个的牵头医院尚未定位" in texts(at)
    at.radio(key="leads_how").set_value("by_coordinates").run()
    assert at.selectbox(key="leads_grid").value == "cx-city"
    inputs = {n.label: n for n in at.number_input}
    inputs["经度"].set_value(230.0)  # not a longitude in China: refused, plan unchanged
    inputs["纬度"].set_value(25.03)
    at.button(key="FormSubmitter:leads_cx-city-保存位置").click().run()
    assert "不是中国境内" in texts(at) or "无法使用" in texts(at)
    plan = at.session_state["plans"][("532300", "chuxiong")]
    assert plan.grid("cx-city").lead_location is None
    inputs = {n.label: n for n in at.number_input}
    inputs["经度"].set_value(101.546)
    inputs["纬度"].set_value(25.033)
    at.button(key="FormSubmitter:leads_cx-city-保存位置").click().run()
    assert not at.exception
    plan = at.session_state["plans"][("532300", "chuxiong")]
    assert plan.grid("cx-city").lead_location == (101.546, 25.033)
    assert "10 个网格中有 9 个的牵头医院尚未定位" in texts(at)


def test_access_page_warns_of_the_even_spread_and_says_how_it_was_computed():
    at = page("access").run()
    assert not at.exception
    assert any("人口分布为模拟" in str(w.value) for w in at.warning)
    how = next(t.value for t in at.table if t.value.index.name == "项目")
    rows = how["说明"].to_dict()
    assert list(rows) == ["人口", "医疗机构", "出行时间模型", "覆盖判定", "已知局限"]
    assert "≤ 15 分钟" in rows["覆盖判定"] and "4.8 km/h" in rows["出行时间模型"]
    assert "示意" in rows["医疗机构"] and "均匀分布" in rows["已知局限"]
    # the time statistics say whom they are over
    assert "能到达机构的" in texts(at)
