"""The 15-minute page in a real browser: what a slider step sends, and the map view it keeps.

Runs the fast mode of ``benchmarks/bench_access_ui.py`` (two steps) and asserts on bytes
and pixels, never on time: the times are the benchmark's to report.
"""

import io

import numpy as np
from PIL import Image

from benchmarks.bench_access_ui import cold_load, run, slider_step, watch
from tests.e2e_support import browser_page, e2e_marks, wait_for_app_idle

pytestmark = e2e_marks()

#: The most a minutes-slider step may send to the browser (issue: ≤ 150 kB per step).
MAX_STEP_BYTES = 150_000
MAP = '[data-testid="stDeckGlJsonChart"]'


def test_a_slider_step_sends_the_coverage_image_not_the_whole_map(server):
    from benchmarks.bench_access_ui import table

    result = run(server, moves=2)
    for step in result.steps:
        assert 0 < step.ws_bytes <= MAX_STEP_BYTES
        # the outlines and facilities (and the hover blocks, when on) are fetched once, not per step
        assert step.http_bytes == 0
        assert step.number_ms > 0 and step.settled_ms > 0
        # the GPU process's CPU is read for the browser this run started (NaN without /proc)
        assert not step.gpu_cpu_s < 0
    # the benchmark's README rows come from the same run
    rows = table(result)
    assert rows[2].startswith("| first 15-minute page")
    assert any("settled map" in r for r in rows) and any("kB" in r for r in rows)
    assert any("GPU-process CPU per step" in r for r in rows)


def shot(page) -> np.ndarray:
    png = page.locator(f"{MAP} canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def changed(a: np.ndarray, b: np.ndarray) -> float:
    """The share of pixels that differ clearly between two screenshots of the map."""
    return float((np.abs(a - b).sum(axis=2) > 30).mean())


def test_a_slider_step_keeps_the_planners_pan(server):
    with browser_page() as page:
        traffic = watch(page)
        cold_load(page, server)
        before_pan = shot(page)
        box = page.locator(f"{MAP} canvas").first.bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx + 180, cy + 90, steps=8)
        page.mouse.up()
        page.mouse.move(box["x"] + 2, box["y"] + 2)  # off the map's features: no tooltip
        page.wait_for_timeout(800)
        panned = shot(page)
        assert changed(panned, before_pan) > 0.05  # the drag moved the map
        page.get_by_role("slider").first.focus()
        slider_step(page, traffic, "ArrowRight")
        after = shot(page)
        # one minute more changes a few cells' colour; a view reset would move everything back
        assert changed(after, panned) < changed(after, before_pan)
        assert changed(after, panned) < 0.05


def test_hovering_the_map_tells_travel_time_once_asked_for(server):
    """Off by default (the sliders redraw faster); switched on, a place's tooltip names its
    travel time, residents and nearest facility."""
    with browser_page() as page:
        watch(page)
        cold_load(page, server)
        canvas = page.locator(f"{MAP} canvas").first
        assert tooltips_over(page, canvas) == []
        page.get_by_text("悬停查看各处出行时间").click()
        page.wait_for_timeout(500)
        wait_for_app_idle(page)
        tips = tooltips_over(page, canvas)
        assert any("分钟可达" in t and "常住人口约" in t and "最近机构：" in t for t in tips)


def tooltips_over(page, canvas) -> list[str]:
    """The map's tooltip texts with the pointer at a few places round the map's centre."""
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = canvas.bounding_box()
    assert box is not None
    found = []
    for fx, fy in [(0.45, 0.5), (0.55, 0.45), (0.5, 0.6), (0.4, 0.4)]:
        x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
        page.mouse.move(x - 6, y - 6)
        page.mouse.move(x, y, steps=4)
        page.wait_for_timeout(600)
        text = page.evaluate(
            "() => [...document.querySelectorAll('.deck-tooltip')]"
            ".filter(d => d.style.display !== 'none').map(d => d.innerText).join('')"
        )
        if "分钟" in text:
            found.append(text)
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    return found
