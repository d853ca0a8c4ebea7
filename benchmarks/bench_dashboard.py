"""Dashboard timings in a real browser (Debian's chromium via Playwright).

* cold start: a new ``streamlit run app.py`` process until the Shijiazhuang grid
  map is drawn on the 网格划分 page (server start + first script run + deck.gl canvas);
* switching preset on the grids page (Shijiazhuang → one grid per unit and back);
* switching prefecture (Shijiazhuang → Chuxiong: new boundaries, census, preset).

Run: ``.venv/bin/python -m benchmarks.bench_dashboard [--repeat N]``.  Prints a
Markdown table for the README.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import TYPE_CHECKING

from tests.e2e_support import browser_page, dashboard_server, wait_for_app_idle, wait_for_map

if TYPE_CHECKING:
    from playwright.sync_api import Page


def choose(page: Page, label: str, option: str) -> None:
    import re

    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator("input").click()
    box.locator("input").fill(option)
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()


def timed_switch(page: Page, label: str, option: str) -> float:
    t0 = time.perf_counter()
    choose(page, label, option)
    wait_for_app_idle(page)
    wait_for_map(page)
    return time.perf_counter() - t0


def one_round() -> dict[str, float]:
    t0 = time.perf_counter()
    with dashboard_server() as (url, healthy), browser_page() as page:
        page.goto(f"{url}/grids")
        wait_for_map(page)
        wait_for_app_idle(page)
        cold = time.perf_counter() - t0
        to_per_unit = timed_switch(page, "网格方案", "每个县级单位一个网格")
        back = timed_switch(page, "网格方案", "四个城市医疗集团")
        to_chuxiong = timed_switch(page, "地级市", "楚雄彝族自治州")
    return {
        "server_healthy_s": healthy,
        "cold_start_to_map_s": cold,
        "switch_preset_s": to_per_unit,
        "switch_preset_back_s": back,
        "switch_prefecture_s": to_chuxiong,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rounds = [one_round() for _ in range(args.repeat)]
    print(f"dashboard benchmark, {args.repeat} rounds (median, min-max), Debian chromium headless")
    print("| step | median s | min s | max s |")
    print("|---|---|---|---|")
    for key in rounds[0]:
        vals = [r[key] for r in rounds]
        print(f"| {key} | {statistics.median(vals):.2f} | {min(vals):.2f} | {max(vals):.2f} |")


if __name__ == "__main__":
    main()
