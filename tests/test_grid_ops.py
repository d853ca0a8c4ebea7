"""Deleting and merging grids: the library (GridPlan.merge_grids, GridPlan.delete_grid) and the
grids page's panel (merge two Shijiazhuang grids, delete one, a bad action changes nothing)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridplan.errors import InputError
from gridplan.i18n import error_text
from gridplan.plan.grids import Grid, GridPlan, Network, resolve_assignment

TIMEOUT = 120


def small_plan() -> GridPlan:
    """Four grids of a made-up prefecture 990100; grid "d" lists no unit."""
    return GridPlan(
        plan_id="t",
        name={"zh": "测试", "en": "test"},
        prefecture="990100",
        grids=[
            Grid("a", "甲", "甲医院", ["甲社区", "共用中心"], ["990101", "990102"]),
            Grid("b", "乙", "乙医院", ["乙社区", "共用中心", "甲医院"], ["990103", "990102"]),
            Grid("c", "丙", "", ["丙社区"], ["990104", "990105001"]),
            Grid("d", "丁", "丁医院", ["丁社区"], []),
        ],
        networks=[Network("n1", "中医联盟", "甲医院", ["990101", "990103", "990104"])],
    )


def unit_to_grid(plan: GridPlan) -> dict[str, list[str]]:
    """Unit code → the grids that list it."""
    return plan.listed()


# --- merge ----------------------------------------------------------------------------------


def test_merge_moves_units_and_members_and_removes_the_merged_grids():
    plan = small_plan()
    new = plan.merge_grids(["b", "c"], into="a")
    assert [g.grid_id for g in new.grids] == ["a", "d"]
    a = new.grid("a")
    assert a.units == ["990101", "990102", "990103", "990104", "990105001"]
    # members each once; the merged grids' lead hospitals join them, ``into``'s own does not
    assert a.members == ["甲社区", "共用中心", "乙医院", "乙社区", "丙社区"]
    assert (a.name, a.lead_hospital) == ("甲", "甲医院")
    assert unit_to_grid(new) == {
        "990101": ["a"],
        "990102": ["a"],
        "990103": ["a"],
        "990104": ["a"],
        "990105001": ["a"],
    }
    assert new.grid("d") == plan.grid("d")


def test_merge_leaves_the_plan_it_was_called_on_unchanged():
    plan = small_plan()
    before = plan.to_dict()
    plan.merge_grids(["b"], into="a", name="新")
    plan.delete_grid("b", move_units_to="a")
    assert plan.to_dict() == before


def test_merge_renames_only_with_a_name_that_is_not_blank():
    plan = small_plan()
    assert plan.merge_grids(["b"], "a", name="  甲乙集团 ").grid("a").name == "甲乙集团"
    assert plan.merge_grids(["b"], "a", name="  ").grid("a").name == "甲"
    assert plan.merge_grids(["b"], "a").grid("a").name == "甲"


def test_merge_target_may_be_among_the_grids_picked_and_units_follow_the_plan_order():
    plan = small_plan()
    new = plan.merge_grids(["c", "a", "b", "c"], into="b")
    assert [g.grid_id for g in new.grids] == ["b", "d"]
    b = new.grid("b")
    assert b.units == ["990103", "990102", "990101", "990104", "990105001"]
    assert b.lead_hospital == "乙医院"
    assert b.members == ["乙社区", "共用中心", "甲医院", "甲社区", "丙社区"]


def test_merge_leaves_networks_as_they_are():
    plan = small_plan()
    assert plan.merge_grids(["a", "c"], "b").networks == plan.networks
    assert plan.delete_grid("c", move_units_to="d").networks == plan.networks


def test_merge_keeps_townships_with_their_county():
    # 990105001 is listed; 990104's other township is not and follows its county's grid
    units = pd.DataFrame(
        {
            "unit_id": ["990104", "990104002", "990105001", "990101"],
            "county_adcode": [None, "990104", "990105", None],
            "level": ["county", "township", "township", "county"],
        }
    )
    new = small_plan().merge_grids(["c"], "d")
    assert resolve_assignment(new, units).tolist() == ["d", "d", "d", "a"]


def test_merging_a_grid_into_itself_is_refused_in_both_languages():
    plan = small_plan()
    for picked in (["a"], []):
        with pytest.raises(InputError) as e:
            plan.merge_grids(picked, "a")
        assert e.value.code == "plan.merge_into_itself"
    assert error_text(e.value, "zh") == "不能把网格“甲”并入它自己：请至少再选择一个要并入的网格。"
    assert error_text(e.value, "en") == (
        "Grid “甲” cannot be merged into itself: choose at least one other grid to merge into it."
    )


def test_merge_with_unknown_grids_names_them_all():
    with pytest.raises(InputError) as e:
        small_plan().merge_grids(["b", "x", "y"], "z")
    assert e.value.code == "plan.unknown_grids"
    assert error_text(e.value, "zh").startswith("方案中没有这些网格：x、y、z")


# --- delete ---------------------------------------------------------------------------------


def test_delete_moves_the_units_to_the_target_and_drops_the_grid_and_its_members():
    plan = small_plan()
    new = plan.delete_grid("b", move_units_to="c")
    assert [g.grid_id for g in new.grids] == ["a", "c", "d"]
    assert new.grid("c").units == ["990104", "990105001", "990103", "990102"]
    assert new.grid("c").members == ["丙社区"]  # a deleted grid's institutions go with it
    # 990102 was listed by a and b; it is now listed by a and c (still a conflict to fix)
    assert unit_to_grid(new)["990102"] == ["a", "c"]
    assert unit_to_grid(new)["990103"] == ["c"]


def test_an_empty_grid_is_deleted_without_a_target():
    plan = small_plan()
    assert [g.grid_id for g in plan.delete_grid("d").grids] == ["a", "b", "c"]
    assert plan.delete_grid("d", move_units_to="a").grid("a").units == ["990101", "990102"]


def test_deleting_a_grid_with_units_needs_a_target():
    with pytest.raises(InputError) as e:
        small_plan().delete_grid("c")
    assert e.value.code == "plan.delete_needs_target" and e.value.params["n"] == 2
    assert error_text(e.value, "zh") == "网格“丙”列有 2 个单元：删除前请选择这些单元移入哪个网格。"
    assert error_text(e.value, "en") == (
        "Grid “丙” lists 2 unit(s): choose the grid they move to before deleting it."
    )


def test_deleting_the_last_grid_is_refused():
    one = GridPlan("t", {"zh": "x", "en": "x"}, "990100", [Grid("a", "甲", units=["990101"])])
    with pytest.raises(InputError) as e:
        one.delete_grid("a")
    assert e.value.code == "plan.delete_last_grid"
    assert error_text(e.value, "zh") == "“甲”是方案中唯一的网格，不能删除：方案至少要有一个网格。"


@pytest.mark.parametrize(
    ("grid_id", "target", "code"),
    [
        ("b", "b", "plan.move_to_deleted"),
        ("b", "x", "plan.unknown_grids"),
        ("x", "a", "plan.unknown_grids"),
        ("x", None, "plan.unknown_grids"),
    ],
)
def test_delete_refuses_bad_ids(grid_id, target, code):
    plan = small_plan()
    with pytest.raises(InputError) as e:
        plan.delete_grid(grid_id, move_units_to=target)
    assert e.value.code == code
    assert error_text(e.value, "zh") != code  # a text, not the bare code


def test_shijiazhuang_merge_and_delete_on_the_preset():
    plan = GridPlan.from_preset("shijiazhuang")
    new = plan.merge_grids(["sjz-xinhua", "sjz-changan"], "sjz-xinhua", name="新华长安医疗集团")
    g = new.grid("sjz-xinhua")
    assert (g.name, g.lead_hospital) == ("新华长安医疗集团", "石家庄市第二医院")
    assert g.units == ["130105", "130102", "130171"]
    assert g.members == [
        "新华区所属社区卫生服务机构",
        "石家庄市第三医院",
        "长安区所属社区卫生服务机构",
        "高新区所属社区卫生服务机构",
    ]
    new = new.delete_grid("130107", move_units_to="130121")
    assert len(new.grids) == 20 and "130107" not in new.grid_ids
    assert new.grid("130121").units == ["130121", "130107"]


# --- the grids page -------------------------------------------------------------------------

KEY = ("130100", "shijiazhuang")


def grids_page() -> AppTest:
    return AppTest.from_file("../pages/grids.py", default_timeout=TIMEOUT).run()


def widget(items, label: str):
    """The one widget of ``items`` whose label is ``label``."""
    found = [w for w in items if w.label == label]
    assert len(found) == 1, [w.label for w in items]
    return found[0]


def confirm(at: AppTest):
    """The confirmation checkbox (its label says what will happen)."""
    boxes = [c for c in at.checkbox if c.label.startswith("我确认")]
    assert len(boxes) == 1
    return boxes[0]


def apply_button(at: AppTest):
    return widget(at.button, "执行")


def test_grids_page_merges_two_grids_then_deletes_one():
    at = grids_page()
    assert not at.exception
    widget(at.multiselect, "选择网格").set_value(["sjz-xinhua", "sjz-changan"]).run()
    widget(at.selectbox, "保留的网格（合并后）").set_value("sjz-xinhua")
    widget(at.text_input, "合并后的名称（可不填）").set_value("新华长安医疗集团").run()
    box = confirm(at)
    # 新华区 802,057 stays; 长安区 and 高新区 (its zone) move: 2 units
    assert "2 个单元" in box.label and "新华医疗集团" in box.label
    box.check().run()
    apply_button(at).click().run()
    assert not at.exception
    plan: GridPlan = at.session_state["plans"][KEY]
    assert len(plan.grids) == 21 and "sjz-changan" not in plan.grid_ids
    g = plan.grid("sjz-xinhua")
    assert (g.name, g.units) == ("新华长安医疗集团", ["130105", "130102", "130171"])
    stats = at.dataframe[0].value.set_index("网格")
    assert "长安医疗集团" not in stats.index
    assert stats.loc["新华长安医疗集团", "人口"] == 802_057 + 1_364_247

    widget(at.radio, "操作").set_value("delete").run()
    widget(at.multiselect, "选择网格").set_value(["130107"]).run()
    widget(at.selectbox, "单元移入的网格").set_value("130121").run()
    box = confirm(at)
    assert "1 个单元" in box.label and "井陉县县域医共体" in box.label
    box.check().run()
    apply_button(at).click().run()
    assert not at.exception
    plan = at.session_state["plans"][KEY]
    assert len(plan.grids) == 20 and "130107" not in plan.grid_ids
    assert plan.grid("130121").units == ["130121", "130107"]
    assert plan.grid("sjz-xinhua").name == "新华长安医疗集团"  # the merge is kept


def test_grids_page_bad_actions_leave_the_plan_unchanged():
    at = grids_page()
    before = GridPlan.from_preset("shijiazhuang").to_dict()
    # deleting a grid with units and no target: a Chinese message, no button
    widget(at.radio, "操作").set_value("delete").run()
    widget(at.multiselect, "选择网格").set_value(["130110"]).run()
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert any("删除前请选择这些单元移入哪个网格" in e for e in errors), errors
    assert not [c for c in at.checkbox if c.label.startswith("我确认")]
    # merging a grid into itself
    widget(at.radio, "操作").set_value("merge").run()
    widget(at.multiselect, "选择网格").set_value(["sjz-qiaoxi"]).run()
    widget(at.selectbox, "保留的网格（合并后）").set_value("sjz-qiaoxi").run()
    assert any("并入它自己" in str(e.value) for e in at.error)
    # the button without the confirmation does nothing but say so
    widget(at.multiselect, "选择网格").set_value(["sjz-qiaoxi", "sjz-yuhua"]).run()
    apply_button(at).click().run()
    assert not at.exception
    assert any("请先勾选" in str(w.value) for w in at.warning)
    # a box ticked for one change does not confirm another: a new name is a new, unticked box
    confirm(at).check().run()
    widget(at.text_input, "合并后的名称（可不填）").set_value("桥西裕华医疗集团").run()
    assert confirm(at).value is False and "桥西裕华医疗集团" in confirm(at).label
    apply_button(at).click().run()
    assert any("请先勾选" in str(w.value) for w in at.warning)
    assert at.session_state["plans"][KEY].to_dict() == before
    assert "plan_version" not in at.session_state


def _panel_alone() -> None:
    from gridplan.plan.grids import resolve_assignment
    from gridplan.report.style import grid_colors
    from ui import scenario
    from ui.panels import grids as panels

    scenario.selection()
    sc = scenario.current()
    assignment = resolve_assignment(sc.plan, sc.units.units)
    view = panels.PlanView(
        sc.units,
        sc.display_geometry(),
        sc.unit_borders(),
        sc.plan,
        assignment,
        grid_colors(sc.plan),
    )
    panels.delete_merge_panel(sc.sel, view)


def test_delete_merge_panel_in_english_names_what_moves():
    at = AppTest.from_function(_panel_alone, default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    widget(at.radio, "Action").set_value("delete").run()
    widget(at.multiselect, "Grids").set_value(["sjz-yuhua"]).run()
    assert "choose the grid they move to" in at.error[0].value
    widget(at.selectbox, "Grid the units move to").set_value("sjz-qiaoxi").run()
    # 裕华区 and 循环化工园区 (its zone) move
    assert [c.label for c in at.checkbox] == [
        "I confirm: delete “裕华医疗集团”: 2 unit(s), 827,402 people move to “桥西医疗集团”; "
        "22 grids become 21."
    ]
    widget(at.multiselect, "Grids").set_value(["130107"]).run()
    widget(at.selectbox, "Grid the units move to").set_value("").run()
    assert at.error[0].value == (  # Markdown-escaped, as every message is
        r"Grid “井陉矿区县域医共体” lists 1 unit\(s\)\: choose the grid they move to before "
        r"deleting it\."
    )
