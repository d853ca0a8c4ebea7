"""End-to-end: the real dashboard in Debian's chromium, driven by Playwright."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e_support import (
    browser_page,
    dashboard_server,
    e2e_marks,
    wait_for_app_idle,
    wait_for_map,
)

pytestmark = e2e_marks()


@pytest.fixture
def page(server):
    with browser_page() as p:
        p.goto(server)
        wait_for_app_idle(p)
        yield p


def open_grids(page) -> None:
    page.get_by_role("link", name=re.compile("网格划分|Grids")).click()
    wait_for_app_idle(page)
    wait_for_map(page)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator("input").click()
    box.locator("input").fill(option)
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    wait_for_app_idle(page)


def selected(page, label: str) -> str:
    """The shown value of a Streamlit selectbox."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    inp = box.locator("input")
    return (inp.input_value() or "") + box.inner_text()


def test_cold_start_draws_the_shijiazhuang_grid_map(page):
    assert page.get_by_role("heading", name="GridPlan 医疗网格规划").is_visible()
    open_grids(page)
    assert page.get_by_text("石家庄高新技术产业开发区").first.is_visible()
    assert page.locator('[data-testid="stDeckGlJsonChart"] canvas').count() >= 1


def test_deep_link_on_a_fresh_server_keeps_sidebar_and_navigation():
    # the first session of a new server process opens /grids directly: Streamlit starts in
    # its legacy pages/ mode then, which would run pages/grids.py without app.py
    with dashboard_server() as (url, _), browser_page() as p:
        errors: list[str] = []
        p.on("console", lambda m: errors.append(m.text) if "TypeError" in m.text else None)
        p.goto(f"{url}/grids")
        wait_for_app_idle(p)
        wait_for_map(p)
        # the legend of the grid map is drawn, without a script error
        assert p.locator('[data-testid="stVegaLiteChart"]').count() >= 1 and not errors
        assert p.url.rstrip("/").endswith("/grids")
        assert p.get_by_role("heading", name="网格划分").first.is_visible()
        sidebar = p.locator('[data-testid="stSidebar"]')
        assert sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="地级市").count() == 1
        links = p.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        assert [text.split()[-1] for text in links] == [
            "概览", "网格划分", "15分钟健康服务圈", "次中心选址与网格建议", "方案管理", "方案对比",
            "全国概览",
        ]  # fmt: skip
        p.get_by_role("link", name=re.compile("15分钟健康服务圈")).click()
        # the grids page has metrics too: the new page's address first, then its figures
        p.wait_for_url(re.compile(r"/access/?$"), timeout=180_000)
        p.wait_for_selector('[data-testid="stMetricValue"]', timeout=180_000)
        assert sidebar.locator('[data-testid="stSelectbox"]').count() >= 2


def test_sidebar_choice_is_kept_across_pages(page):
    choose(page, "地级市", "楚雄彝族自治州")
    # the overview's heading names it (the national picker lists it too, among others)
    assert page.get_by_role("heading", name=re.compile("楚雄彝族自治州")).first.is_visible()
    open_grids(page)
    # the preset followed the prefecture, and the grids page shows Chuxiong's plan
    assert "楚雄彝族自治州" in selected(page, "地级市") and "1+1+N" in selected(page, "网格方案")
    assert page.get_by_text(re.compile("双柏县紧密型县域医共体")).first.is_visible()


def test_language_switch(page):
    page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
    wait_for_app_idle(page)
    assert page.get_by_role("heading", name="GridPlan medical grid planning").is_visible()


def upload(page, path, kind: int = 0) -> None:
    details = page.locator('[data-testid="stExpander"] details').filter(has_text="上传数据").first
    if details.get_attribute("open") is None:
        page.get_by_text("上传数据").first.click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(kind).set_input_files(str(path))
    page.get_by_role("button", name="加载").click()
    wait_for_app_idle(page)


def test_bad_upload_shows_chinese_message_and_keeps_data(page, tmp_path):
    open_grids(page)
    bad = tmp_path / "乡镇.zip"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not a shapefile")
    upload(page, bad)
    alert = page.locator('[data-testid="stAlertContentError"]').filter(has_text="上传失败")
    assert alert.count() == 1
    assert "已保留原有数据" in alert.inner_text()
    wait_for_map(page)
    assert page.get_by_text("石家庄高新技术产业开发区").first.is_visible()  # old data still shown


def test_bureau_shapefile_upload_builds_township_grids(page, sjz_township_zip):
    open_grids(page)
    upload(page, sjz_township_zip)
    assert page.get_by_text(re.compile("乡镇图层：66 个要素")).first.is_visible()
    nc = page.locator('[data-testid="stAlertContentError"]').filter(has_text="长安医疗集团")
    assert "郄马镇" in nc.first.inner_text()  # the zone township far from 长安区 is named
    wait_for_map(page)


def test_move_unit_updates_validation(page):
    open_grids(page)
    choose(page, "调整单元", "桥西区")
    choose(page, "移入网格", "新华医疗集团")
    page.get_by_role("button", name="移动").click()
    wait_for_app_idle(page)
    assert page.get_by_text("1 个网格没有任何单元：桥西医疗集团").first.is_visible()


def test_population_table_upload_good_and_bad(page, tmp_path):
    open_grids(page)
    bad = tmp_path / "人口.csv"
    bad.write_text("区划代码,备注\n130102,无人口列\n", encoding="gbk")
    upload(page, bad, kind=1)
    alert = page.locator('[data-testid="stAlertContentError"]').filter(has_text="上传失败")
    assert "人口列" in alert.first.inner_text()
    good = tmp_path / "人口2.csv"
    good.write_text("区划代码,常住人口\n130102,1100000\n", encoding="gbk")
    upload(page, good, kind=1)
    assert page.get_by_text(re.compile("已加载 人口2.csv")).first.is_visible()


def test_amap_basemap_option_draws_shifted_map(page):
    open_grids(page)
    page.get_by_text("高德底图").click()
    wait_for_app_idle(page)
    wait_for_map(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_access_page_draws_the_coverage_map_without_script_errors(server):
    errors = []
    with browser_page() as p:
        p.on("pageerror", lambda e: errors.append(str(e)))
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        p.goto(f"{server}/access")
        p.wait_for_selector('[data-testid="stMetricValue"]', timeout=180_000)
        wait_for_app_idle(p)
        wait_for_map(p)
        assert p.get_by_text("示意网络").first.is_visible()  # illustrative facilities say so
        before = p.locator('[data-testid="stMetricValue"]').first.inner_text()
        p.get_by_role("slider").first.focus()
        for _ in range(5):
            p.keyboard.press("ArrowRight")
        wait_for_app_idle(p)
        assert p.locator('[data-testid="stMetricValue"]').first.inner_text() != before
        with p.expect_download(timeout=120_000) as dl:
            p.get_by_role("button", name="下载地图 PNG").click()
        png = Path(dl.value.path()).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
        # the map's legend is drawn (a broken Vega-Lite spec shows a red error box instead)
        assert p.locator('[data-testid="stVegaLiteChart"]').count() >= 1
    # no script error; a basemap tile or style the offline machine cannot fetch is not one
    assert not [e for e in errors if "Unexpected" in e or "TypeError" in e]


def test_siting_page_runs_accepts_and_bad_candidate_file_is_refused(server, tmp_path):
    errors = []
    bad = tmp_path / "候选点.csv"
    bad.write_text("编号,备注\n1,没有坐标\n", encoding="utf-8")
    with browser_page() as p:
        p.on("pageerror", lambda e: errors.append(str(e)))
        p.goto(f"{server}/siting")
        wait_for_app_idle(p)
        p.get_by_role("button", name="运行选址").click()
        p.wait_for_selector('[data-testid="stMetricValue"]', timeout=240_000)
        wait_for_app_idle(p)
        wait_for_map(p)
        assert p.get_by_text("已证明最优").first.is_visible()
        after = p.locator('[data-testid="stMetricValue"]').nth(1).inner_text()
        # the census spread evenly: shown, not recommended, nothing ticked for the planner
        assert p.get_by_text("不作选址推荐").first.is_visible()
        p.get_by_role("button", name="将勾选的站点加入设施清单").click()
        wait_for_app_idle(p)
        assert p.get_by_text("没有勾选任何站点").first.is_visible()
        # a candidate list without coordinates: refused in Chinese, the last answer stays
        p.get_by_text("更多设置").first.click()
        p.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(bad))
        p.get_by_role("button", name="运行选址").click()
        wait_for_app_idle(p)
        assert p.get_by_text("缺少").first.is_visible()
        assert p.locator('[data-testid="stMetricValue"]').nth(1).inner_text() == after
    assert not errors
