"""End-to-end: the presentation mode (演示模式) on a projector's screen.

At 1280×720 and 1920×1080 the grids page and the 15-minute page show, without scrolling,
the map canvas, the KPI metrics and (15-minute page) the what-if sliders.  Screenshots of
both pages at both sizes are saved in the test's temporary folder (the README's picture,
static/meeting_1280.png, is the 15-minute page at 1280×720).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e_support import browser_page, e2e_marks, wait_for_app_idle, wait_for_map

pytestmark = e2e_marks()

SIZES = [(1280, 720), (1920, 1080)]
MAP_CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'


def outside_viewport(page, selector: str, width: int, height: int) -> list[str]:
    """Every element of ``selector`` not wholly inside the viewport as the page first shows."""
    assert page.evaluate("() => window.scrollY") == 0
    boxes = [
        page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())
    ]
    assert boxes, f"nothing drawn: {selector}"
    return [
        f"{selector} #{i}: {box}"
        for i, box in enumerate(boxes)
        if box is None
        or box["x"] < 0
        or box["y"] < 0
        or box["x"] + box["width"] > width + 0.5
        or box["y"] + box["height"] > height + 0.5
    ]


def present(page) -> None:
    """Switch the sidebar's 演示模式 on."""
    page.locator('[data-testid="stSidebar"]').get_by_text("演示模式").click()
    wait_for_app_idle(page)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_presentation_mode_fits_the_grid_map_and_kpis_on_screen(server, tmp_path, width, height):
    with browser_page(width, height) as p:
        p.goto(f"{server}/grids")
        wait_for_app_idle(p)
        present(p)
        wait_for_map(p)
        p.wait_for_timeout(1500)  # the map's tiles and labels settle before the picture
        shot = tmp_path / f"meeting_grids_{width}.png"
        p.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        assert outside_viewport(p, MAP_CANVAS, width, height) == []
        assert outside_viewport(p, '[data-testid="stMetric"]', width, height) == []
        labels = p.locator('[data-testid="stMetricLabel"]').all_inner_texts()
        assert any("网格数" in x for x in labels) and any("人口比" in x for x in labels)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_presentation_mode_puts_the_what_if_sliders_beside_the_coverage_map(
    server, tmp_path, width, height
):
    with browser_page(width, height) as p:
        p.goto(server)
        wait_for_app_idle(p)
        present(p)
        p.get_by_role("link", name=re.compile("15分钟健康服务圈")).click()
        p.wait_for_selector('[data-testid="stMetricValue"]', timeout=180_000)
        wait_for_app_idle(p)
        wait_for_map(p)
        p.wait_for_timeout(1500)
        shot = tmp_path / f"meeting_access_{width}.png"
        p.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        assert outside_viewport(p, MAP_CANVAS, width, height) == []
        assert outside_viewport(p, '[data-testid="stMetric"]', width, height) == []
        assert outside_viewport(p, '[data-testid="stSlider"]', width, height) == []
        # a slider moved on screen changes the KPI beside it, with nothing scrolled
        before = p.locator('[data-testid="stMetricValue"]').first.inner_text()
        p.get_by_role("slider").first.focus()
        for _ in range(5):
            p.keyboard.press("ArrowRight")
        wait_for_app_idle(p)
        assert p.locator('[data-testid="stMetricValue"]').first.inner_text() != before
        assert p.evaluate("() => window.scrollY") == 0
