"""Dashboard timings in a real browser (Debian's chromium via Playwright).

* cold start: a new dashboard process (``python -m ui.serve``, as ``scripts/dashboard.sh``
  starts it) until the Shijiazhuang grid map is drawn on the 网格划分 page (server start +
  first script run + deck.gl canvas), the browser already open;
* first visit: the same page opened on a started, idle server (the first planner of the
  day: the libraries were imported while the server started);
* a grid edit: moving a unit to another grid (the 移动 form) and renaming a grid (the
  grid table), each timed in the browser (click until the page is idle again, the
  new state on screen) and on the server (``GRIDPLAN_TIMING_LOG``: the script runs,
  fragment runs and callbacks the edit caused), with the bytes the server sent;
* switching preset on the grids page (Shijiazhuang → the starting plan and back);
* switching prefecture (Shijiazhuang → Chuxiong: new boundaries, census, preset);
* switching the basemap to Carto (the map redrawn; the tiles themselves come from the
  internet and are not waited for).

The server saves the edits in a scenario store of the benchmark's own and caches in
its own folder (``benchmarks.scratch``), never the user's.

Run: ``.venv/bin/python -m benchmarks.bench_dashboard [--repeat N]``.  Prints a
Markdown table for the README.  Wall times include the load of anything else
running on the machine; compare medians measured back to back.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from benchmarks.scratch import scratch_dirs
from tests.e2e_support import browser_page, dashboard_server, wait_for_app_idle, wait_for_map
from ui.timing import TIMING_ENV, read_log

if TYPE_CHECKING:
    from playwright.sync_api import Page

SJZ_PRESET = "四个城市医疗集团"
PER_UNIT = "起始方案"


def choose(page: Page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator("input").click()
    box.locator("input").fill(option)
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()


class Wire:
    """Bytes the server sent to the browser over the websocket since the last :meth:`reset`."""

    def __init__(self, page: Page) -> None:
        self.bytes = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: Any) -> None:
        self.bytes += len(payload)

    def reset(self) -> None:
        self.bytes = 0


class ServerClock:
    """The server's timing log (``ui.timing``): milliseconds spent since the last mark."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen = 0

    def mark(self) -> None:
        self.seen = len(read_log(self.path))

    def since_mark(self) -> tuple[float, str]:
        """Total server milliseconds since the mark, and what ran (``run`` is a full rerun)."""
        rows = read_log(self.path)[self.seen :]
        self.seen += len(rows)
        return sum(ms for _, ms in rows), "+".join(name for name, _ in rows)


def timed_step(
    page: Page, wire: Wire, clock: ServerClock, act: Callable[[], None], done: Callable[[], None]
) -> dict[str, Any]:
    """Do ``act``; wait until the page is idle and ``done`` holds; browser and server times."""
    wait_for_app_idle(page)
    clock.mark()
    wire.reset()
    t0 = time.perf_counter()
    act()
    wait_for_app_idle(page)
    done()
    wait_for_map(page)
    browser = time.perf_counter() - t0 - 0.4  # less the 0.4 s of quiet that idle waits for
    server_ms, ran = clock.since_mark()
    return {"browser_s": browser, "server_ms": server_ms, "kB": wire.bytes / 1000, "ran": ran}


def move_unit(page: Page) -> None:
    choose(page, "调整单元", "桥西区")
    choose(page, "移入网格", "裕华医疗集团")
    wait_for_app_idle(page)


def rename_first_grid(page: Page, name: str, first: str = "新华医疗集团") -> None:
    """Type a new name into the 名称 cell of the grid table's first row (the table is a
    canvas: double-click its 名称 cell, type, Enter).  The editor must open on the first
    row's name ``first``; a double-click that lands elsewhere (the page still settling
    after the scroll) is cancelled and tried again."""
    table = page.locator('[data-testid="stDataFrame"]').nth(2)
    table.scroll_into_view_if_needed()
    editor = page.locator("#portal textarea, #portal input").first
    for _ in range(5):
        page.wait_for_timeout(300)
        box = table.bounding_box()
        assert box is not None
        page.mouse.dblclick(box["x"] + 300, box["y"] + 35 + 17)  # 名称 of the first row
        editor.wait_for(timeout=10_000)
        if editor.input_value() == first:
            break
        page.keyboard.press("Escape")
    else:
        raise AssertionError(f"the editor never opened on {first}")
    editor.fill(name)  # focuses the editor first: typed keys never go to the page
    editor.press("Enter")


def visible(page: Page, text: str) -> Callable[[], None]:
    return lambda: page.get_by_text(text).first.wait_for(state="visible", timeout=60_000)


def first_visit_to_idle_server(page: Page) -> float:
    """Seconds from opening the grids page on a started, idle server (its libraries
    imported: ``ui.preload``) until the map is drawn: the first planner of the day."""
    with dashboard_server(preloaded=True) as (url, _):
        t0 = time.perf_counter()
        page.goto(f"{url}/grids")
        wait_for_map(page)
        wait_for_app_idle(page)
        return time.perf_counter() - t0 - 0.4


def one_round() -> dict[str, Any]:
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False)  # noqa: SIM115
    log.close()
    os.environ[TIMING_ENV] = log.name
    clock = ServerClock(log.name)
    try:
        # the planner's browser is already open: its start is not the dashboard's
        with browser_page() as page:
            out: dict[str, Any] = {"first_visit_idle_server_s": first_visit_to_idle_server(page)}
            wire = Wire(page)
            t0 = time.perf_counter()
            with dashboard_server() as (url, healthy):
                page.goto(f"{url}/grids")
                wait_for_map(page)
                wait_for_app_idle(page)
                out |= {
                    "server_healthy_s": healthy,
                    "cold_start_to_map_s": time.perf_counter() - t0 - 0.4,
                    "first_page_kB": wire.bytes / 1000,
                }
                clock.mark()  # the first visit above is not an edit
                out["edit_rename"] = timed_step(
                    page, wire, clock,
                    lambda: rename_first_grid(page, "新华北片"),
                    visible(page, "当前第 2 版"),  # saved as the scenario's second version
                )  # fmt: skip
                move_unit(page)
                out["edit_move"] = timed_step(
                    page, wire, clock,
                    lambda: page.get_by_role("button", name="移动").click(),
                    visible(page, "1 个网格没有任何单元：桥西医疗集团"),
                )  # fmt: skip
                out["switch_preset"] = timed_step(
                    page, wire, clock, lambda: choose(page, "网格方案", PER_UNIT), lambda: None
                )
                out["switch_preset_back"] = timed_step(
                    page, wire, clock, lambda: choose(page, "网格方案", SJZ_PRESET), lambda: None
                )
                out["switch_prefecture"] = timed_step(
                    page, wire, clock,
                    lambda: choose(page, "地级市", "楚雄彝族自治州"),
                    visible(page, "双柏县"),
                )  # fmt: skip
                out["basemap_carto"] = timed_step(
                    page, wire, clock,
                    lambda: page.get_by_text("Carto 浅色底图").first.click(),
                    lambda: None,
                )  # fmt: skip
    finally:
        os.environ.pop(TIMING_ENV, None)
        os.unlink(log.name)
    return out


def print_table(rounds: list[dict[str, Any]]) -> None:
    n = len(rounds)
    print(f"dashboard benchmark, {n} rounds (median, min-max), Debian chromium headless")
    print("| step | browser s (median) | min-max | server ms (median) | sent kB | server ran |")
    print("|---|---|---|---|---|---|")
    for key, first in rounds[0].items():
        if isinstance(first, dict):
            b = [r[key]["browser_s"] for r in rounds]
            s = statistics.median(r[key]["server_ms"] for r in rounds)
            kb = statistics.median(r[key]["kB"] for r in rounds)
            print(
                f"| {key} | {statistics.median(b):.2f} | {min(b):.2f}-{max(b):.2f} "
                f"| {s:.0f} | {kb:.0f} | {first['ran']} |"
            )
        else:
            v = [r[key] for r in rounds]
            unit = "kB" if key.endswith("kB") else "s"
            spread = f"{min(v):.2f}-{max(v):.2f}"
            print(f"| {key} | {statistics.median(v):.2f} {unit} | {spread} | | | |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with scratch_dirs():  # the edits are saved in a store of the benchmark's own
        print_table([one_round() for _ in range(args.repeat)])


if __name__ == "__main__":
    main()
