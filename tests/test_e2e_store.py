"""End-to-end: plans that last, in Debian's chromium.  An edit survives a refresh and opens
in a second tab from the same URL; a plan file is imported; a read-only link cannot edit."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from gridplan.plan.grids import GridPlan
from gridplan.store import open_store
from tests.e2e_support import browser_page, dashboard_server, e2e_marks, wait_for_app_idle
from tests.test_e2e import choose, open_grids

pytestmark = e2e_marks()


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'scenarios.sqlite'}"


@pytest.fixture(scope="module")
def server(store_url):
    before = os.environ.get("GRIDPLAN_STORE")
    os.environ["GRIDPLAN_STORE"] = store_url  # the server process inherits it
    try:
        with dashboard_server() as (url, _):
            yield url
    finally:
        if before is None:
            os.environ.pop("GRIDPLAN_STORE", None)
        else:
            os.environ["GRIDPLAN_STORE"] = before


def query(url: str) -> dict[str, str]:
    part = url.partition("?")[2]
    return dict(p.split("=", 1) for p in part.split("&") if "=" in p)


def test_an_edit_survives_a_refresh_and_opens_in_a_second_tab(server, store_url):
    with browser_page() as page:
        page.goto(server)
        wait_for_app_idle(page)
        open_grids(page)
        choose(page, "调整单元", "桥西区")
        choose(page, "移入网格", "新华医疗集团")
        page.get_by_role("button", name="移动").click()
        wait_for_app_idle(page)
        page.wait_for_url(re.compile(r"scenario=\d+&version=2"))
        link = page.url
        assert "/grids" in link
        page.reload()
        wait_for_app_idle(page)
        assert page.get_by_text("1 个网格没有任何单元：桥西医疗集团").first.is_visible()
        assert page.get_by_text(re.compile("已自动保存 · 当前第 2 版")).first.is_visible()
        second = page.context.new_page()  # a new tab with the same address
        second.goto(link)
        wait_for_app_idle(second)
        assert second.get_by_text("1 个网格没有任何单元：桥西医疗集团").first.is_visible()
    sid = int(query(link)["scenario"])
    assert open_store(store_url).info(sid).versions == 2


def test_a_plan_file_is_imported_and_a_bad_one_is_refused(server, store_url, tmp_path):
    store = open_store(store_url)
    before = len(store.list_scenarios())
    plan = GridPlan.from_preset("shijiazhuang").reassign({"130104": "sjz-yuhua"})
    good = tmp_path / "方案.json"
    good.write_text(json.dumps(plan.to_dict(), ensure_ascii=False), encoding="utf-8")
    bad = tmp_path / "坏文件.json"
    bad.write_text('{"grids": [', encoding="utf-8")
    with browser_page() as page:
        page.goto(server.rstrip("/") + "/scenarios")
        wait_for_app_idle(page)
        page.get_by_role("tab", name="新建与导入").click()
        dropzone = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first
        dropzone.set_input_files(str(bad))
        page.get_by_role("button", name="导入").click()
        wait_for_app_idle(page)
        alert = page.locator('[data-testid="stAlertContentError"]').first
        assert "上传失败" in alert.inner_text()
        assert len(store.list_scenarios()) == before  # nothing stored
        dropzone.set_input_files(str(good))
        page.get_by_role("button", name="导入").click()
        wait_for_app_idle(page)
        page.wait_for_url(re.compile(r"scenario=\d+&version=1"))
        sid = int(query(page.url)["scenario"])
    stored = GridPlan.from_dict(store.get(sid).payload["plan"])
    assert "130104" in stored.grid("sjz-yuhua").units
    assert store.history(sid)[0].note == "导入方案文件 方案.json"


def test_a_read_only_link_shows_the_plan_without_editors(server, store_url):
    store = open_store(store_url)
    plan = GridPlan.from_preset("shijiazhuang").reassign({"130104": "sjz-yuhua"})
    sid, _ = store.create("只读测试", "130100", {"plan": plan.to_dict()})
    token = store.view_token(sid)
    with browser_page() as page:
        page.goto(f"{server.rstrip('/')}/grids?view={token}")
        wait_for_app_idle(page)
        assert page.get_by_text(re.compile("只读查看 · 第 1 版")).first.is_visible()
        assert page.get_by_role("button", name="移动").count() == 0
        assert page.locator('[data-testid="stSelectbox"]').filter(has_text="地级市").count() == 0
        assert f"scenario={sid}" not in page.url
    assert store.info(sid).versions == 1
    assert Path(store_url.removeprefix("sqlite:///")).is_file()
