"""The dashboard and the scenario store: autosave, refresh, undo/redo, links, management,
compare, read-only, and a store that cannot be reached.

These run ``app.py`` with AppTest as a server does after its first session:
Streamlit's legacy ``pages/`` flag is already cleared (``ui.navigation``), so
a click on a page reaches that page (AppTest would otherwise reset the flag
at every run and the guard's rerun would drop the click).  Each test has a
store of its own (``own_store``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gridplan.plan.grids import GridPlan
from gridplan.store import open_store

TIMEOUT = 120
APP = str(Path(__file__).parents[1] / "app.py")
SJZ = ("130100", "shijiazhuang")


pytestmark = pytest.mark.usefixtures("navigation_already_in_charge")


def start(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = str(v)
    return at.run()


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [str(e.value) for e in at.info] + [str(e.value) for e in at.error]
    parts += [str(e.value) for e in at.warning] + [str(e.value) for e in at.success]
    return "\n".join(parts)


def move(at: AppTest, unit: str, grid: str) -> AppTest:
    at.switch_page("pages/grids.py").run()
    at.selectbox(key="move_unit").set_value(unit)
    at.selectbox(key="move_target").set_value(grid)
    return at.button[[b.label for b in at.button].index("移动")].click().run()


def shown_plan(at: AppTest) -> GridPlan:
    return at.session_state["plans"][(at.session_state["prefecture"], at.session_state["preset"])]


def num(shown: object) -> float:
    """A number as a table shows it (``1,781,703`` in a column that also holds "—")."""
    return float(str(shown).replace(",", ""))


def grid_of(plan: GridPlan, unit: str) -> str:
    return next(g.grid_id for g in plan.grids if unit in g.units)


def test_first_edit_of_a_template_saves_a_scenario_and_the_url_carries_it(own_store):
    at = move(start(), "130104", "sjz-xinhua")
    assert not at.exception
    store = open_store(own_store)
    [info] = store.list_scenarios()
    assert info.prefecture == "130100" and info.versions == 2
    history = store.history(info.id)
    assert history[0].note.startswith("由模板“石家庄市")  # version 1: the template untouched
    assert history[1].note == "桥西区 划入 新华医疗集团"
    assert grid_of(GridPlan.from_dict(store.get(info.id, 1).payload["plan"]), "130104") == (
        "sjz-qiaoxi"
    )
    assert grid_of(GridPlan.from_dict(store.get(info.id, 2).payload["plan"]), "130104") == (
        "sjz-xinhua"
    )
    assert at.session_state["preset"] == f"scn:{info.id}"
    assert dict(at.query_params) == {"scenario": str(info.id), "version": "2"}
    assert "已自动保存 · 当前第 2 版（最新第 2 版）" in [c.value for c in at.sidebar.caption]
    # the preset itself is untouched: choosing it again starts from the template
    assert ("130100", "shijiazhuang") not in at.session_state["plans"]


def test_a_refresh_or_a_new_tab_reopens_the_same_state(own_store):
    at = move(start(), "130104", "sjz-xinhua")
    link = dict(at.query_params)
    again = start(**link)  # a new session with the same URL: a refresh, a second tab
    assert not again.exception
    assert again.session_state["preset"] == at.session_state["preset"]
    assert grid_of(shown_plan(again), "130104") == "sjz-xinhua"
    older = start(scenario=link["scenario"], version=1)
    assert grid_of(shown_plan(older), "130104") == "sjz-qiaoxi"
    assert dict(older.query_params)["version"] == "1"


def test_undo_and_redo_move_between_versions_and_the_next_edit_goes_on_top(own_store):
    at = move(start(), "130104", "sjz-xinhua")
    sid = int(at.query_params["scenario"])
    at.sidebar.button(key="store_undo").click().run()
    assert grid_of(shown_plan(at), "130104") == "sjz-qiaoxi"
    assert at.query_params["version"] == "1"
    at.sidebar.button(key="store_redo").click().run()
    assert grid_of(shown_plan(at), "130104") == "sjz-xinhua"
    at.sidebar.button(key="store_undo").click().run()
    assert open_store(own_store).info(sid).versions == 2  # moving between versions writes none
    move(at, "130105", "sjz-yuhua")
    store = open_store(own_store)
    assert store.info(sid).versions == 3
    plan = GridPlan.from_dict(store.get(sid, 3).payload["plan"])
    assert grid_of(plan, "130104") == "sjz-qiaoxi"  # built on the version undone to
    assert grid_of(plan, "130105") == "sjz-yuhua"
    assert at.sidebar.button(key="store_redo").disabled  # a new edit ends the redo chain


def test_facility_edits_and_settings_are_saved_and_reopened(own_store):
    at = start()
    at.switch_page("pages/access.py").run()
    table = at.session_state["facilities"][SJZ]
    first = table["facility_id"].iloc[0]
    at.session_state["facilities"][SJZ] = table.assign(active=table["facility_id"] != first)
    at.session_state["unsaved"] = {SJZ: [("facilities", table, None)]}
    at.run()
    assert not at.exception
    again = start(**dict(at.query_params))
    reopened = again.session_state["facilities"][("130100", again.session_state["preset"])]
    assert not reopened.set_index("facility_id").loc[first, "active"]
    assert int(reopened["active"].sum()) == len(table) - 1


def test_a_link_that_does_not_work_is_said_and_the_defaults_are_shown(own_store):
    at = start(scenario=999)
    assert not at.exception
    assert "方案 999 不存在" in texts(at)
    assert at.session_state["preset"] == "shijiazhuang"
    at = start(view="not-a-token")
    assert "这个只读链接无效" in texts(at)
    assert "read_only" not in at.session_state


def test_a_read_only_link_shows_the_plan_and_saves_nothing(own_store):
    at = move(start(), "130104", "sjz-xinhua")
    sid = int(at.query_params["scenario"])
    token = open_store(own_store).view_token(sid)
    viewer = start(view=token)
    assert not viewer.exception
    assert grid_of(shown_plan(viewer), "130104") == "sjz-xinhua"
    assert "只读查看 · 第 2 版" in texts(viewer)
    assert dict(viewer.query_params) == {"view": token, "version": "2"}
    viewer.switch_page("pages/grids.py").run()
    assert not viewer.exception
    keys = {s.key for s in viewer.selectbox}
    assert "move_unit" not in keys and "w_prefecture" not in keys  # no editor, no chooser
    viewer.switch_page("pages/scenarios.py").run()
    assert not [b for b in viewer.button if b.key in ("scn_open_btn", "scn_del_btn")]
    assert open_store(own_store).info(sid).versions == 2


def test_two_sessions_editing_one_scenario_keep_both_edits(own_store):
    a = move(start(), "130104", "sjz-xinhua")
    link = dict(a.query_params)
    b = start(**link)
    move(a, "130105", "sjz-yuhua")  # version 3
    move(b, "130108", "sjz-changan")  # b still started from version 2: saved as 4, said
    assert "其他人刚保存了第 3 版；您的修改已另存为第 4 版" in texts(b)
    store = open_store(own_store)
    sid = int(link["scenario"])
    assert [v.number for v in store.history(sid)] == [1, 2, 3, 4]
    v3 = GridPlan.from_dict(store.get(sid, 3).payload["plan"])
    assert grid_of(v3, "130105") == "sjz-yuhua"


def test_scenarios_page_renames_duplicates_deletes_and_restores(own_store):
    at = move(start(), "130104", "sjz-xinhua")
    sid = int(at.query_params["scenario"])
    at.switch_page("pages/scenarios.py").run()
    assert not at.exception
    history = at.dataframe[0].value
    assert list(history["版本"]) == [2, 1]
    assert history["修改内容"].iloc[0] == "桥西区 划入 新华医疗集团"
    at.text_input(key="scn_rename_name").set_value("四集团调整稿")
    at.text_area(key="scn_note").set_value("桥西并入新华，供周五讨论")
    at.button(key="FormSubmitter:scn_rename-保存名称和备注").click().run()
    store = open_store(own_store)
    assert store.info(sid).name == "四集团调整稿"
    assert store.info(sid).note == "桥西并入新华，供周五讨论"
    at.button(key="scn_dup_btn").click().run()
    [copy] = [s for s in store.list_scenarios() if s.id != sid]
    assert copy.name == "四集团调整稿（副本）" and at.session_state["preset"] == f"scn:{copy.id}"
    at.switch_page("pages/scenarios.py").run()
    at.selectbox(key="scn_pick_scenario").set_value(sid)
    assert at.button(key="scn_del_btn").disabled  # not confirmed yet
    assert store.info(sid).deleted_at is None
    at.checkbox(key=f"scn_del_ok_{sid}").check().run()
    at.button(key="scn_del_btn").click().run()
    assert store.info(sid).deleted_at is not None
    at.selectbox(key="scn_gone").set_value(sid)
    at.button(key="scn_undelete_btn").click().run()
    assert store.info(sid).deleted_at is None


def test_a_version_is_restored_or_branched_without_losing_any(own_store):
    at = move(start(), "130104", "sjz-xinhua")
    sid = int(at.query_params["scenario"])
    at.switch_page("pages/scenarios.py").run()
    at.selectbox(key="scn_pick_version").set_value(1)
    at.button(key="scn_restore_btn").click().run()
    store = open_store(own_store)
    assert store.history(sid)[-1].note == "恢复第 1 版" and store.info(sid).versions == 3
    assert grid_of(shown_plan(at), "130104") == "sjz-qiaoxi"
    at.switch_page("pages/scenarios.py").run()
    at.selectbox(key="scn_pick_version").set_value(2)
    at.button(key="scn_branch_btn").click().run()
    branch = next(s for s in store.list_scenarios() if s.id != sid)
    assert branch.name.endswith("（第 2 版分支）")
    assert grid_of(GridPlan.from_dict(store.get(branch.id).payload["plan"]), "130104") == (
        "sjz-xinhua"
    )


def test_compare_page_shows_both_plans_and_the_units_that_move(own_store):
    at = move(start(), "130104", "sjz-xinhua")
    sid = int(at.query_params["scenario"])
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    at.selectbox(key="cmp_a").set_value(f"scn:{sid}").run()
    at.selectbox(key=f"cmp_a_v_{sid}").set_value(1).run()
    assert not at.exception
    grids = at.dataframe[0].value
    moved = next(d.value for d in at.dataframe if "单元" in d.value.columns)
    xinhua = grids[grids["网格"] == "新华医疗集团"].iloc[0]
    assert num(xinhua["人口 A"]) == 802_057
    assert num(xinhua["人口 B"]) == 802_057 + 979_646
    assert num(xinhua["人口差值"]) == 979_646
    assert list(moved["单元"]) == ["桥西区"]
    assert moved["原网格（A）"].iloc[0] == "桥西医疗集团"
    assert moved["新网格（B）"].iloc[0] == "新华医疗集团"
    assert len(at.get("deck_gl_json_chart")) == 2  # two maps


def test_the_dashboard_goes_on_when_the_store_cannot_be_reached(monkeypatch):
    monkeypatch.setenv("GRIDPLAN_STORE", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1")
    at = move(start(), "130104", "sjz-xinhua")
    assert not at.exception
    assert grid_of(shown_plan(at), "130104") == "sjz-xinhua"  # the edit is kept in the session
    assert "无法打开或写入" in texts(at)
