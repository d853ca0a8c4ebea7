"""Load test: many planners on one dashboard server at once (Playwright, Debian's chromium).

Each session is its own browser context (its own Streamlit session) in one
chromium; all run at the same time.  Each opens the 网格划分 page and edits the
Shijiazhuang plan, saved as its own new scenario: even sessions rename the first
grid (新华医疗集团 → 新华<n>号), odd ones move 桥西区 into 新华医疗集团 with the 移动
form.  Then each opens the 15-minute page and moves the minutes slider one step.
Every session must answer with its own result: the sidebar says version 2, the
URL names its scenario, whose version 2 in the store holds that session's edit
(read back after the run), the slider's figure changed, and no exception box
anywhere.  The server's memory (RSS of the dashboard process (``python -m ui.serve``) and its
children, psutil) is reported idle, after one session and after all of them.

The server gets a scenario store and a disk cache of its own (``benchmarks.scratch``):
the benchmark never writes into the user's store.

Run: ``.venv/bin/python -m benchmarks.bench_load [--sessions 10]``.  Prints a
Markdown table.  Response times include the load of everything else on the
machine (two cores shared by all sessions and the browser).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.scratch import scratch_dirs
from tests.e2e_support import CHROMIUM_ARGS, IDLE_JS, chromium_path, dashboard_server

MB = 1024 * 1024
#: How long a session waits for any one step before it is reported as stuck (ms).
WAIT_MS = 300_000
#: The Shijiazhuang preset's first grid, the unit the move takes into it and the grid it empties.
FIRST_GRID, MOVED_UNIT, EMPTIED_GRID = "新华医疗集团", "桥西区", "桥西医疗集团"
#: The label of the 15-minute page's minutes slider.
MINUTES_LABEL = "时间阈值"


@dataclass
class SessionResult:
    """What one session saw: step times (seconds), its scenario and the problems found."""

    n: int
    times: dict[str, float] = field(default_factory=dict)
    scenario_id: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def edit(self) -> str:
        """``rename`` (even sessions) or ``move`` (odd ones)."""
        return "rename" if self.n % 2 == 0 else "move"


def server_rss_mb(port: int) -> float:
    """Resident memory of the dashboard server on ``port`` (with any children), MB."""
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if any(k in " ".join(cmd) for k in ("ui.serve", "streamlit")) and str(port) in cmd:
            procs = [proc, *proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / MB
    raise RuntimeError(f"no dashboard server on port {port}")


async def idle(page: Any, timeout_ms: int = WAIT_MS) -> None:
    await page.evaluate("() => { window.__gpIdleSince = null; }")
    await page.wait_for_function(IDLE_JS, timeout=timeout_ms, polling=100)


async def exceptions(page: Any) -> list[str]:
    boxes = page.locator('[data-testid="stException"]')
    return [await boxes.nth(i).inner_text() for i in range(await boxes.count())]


async def rename_first_grid(page: Any, name: str) -> None:
    """The 名称 cell of the grid table's first row (the table is a canvas: double-click the
    cell, check its editor holds the first grid's name, type, Enter).  The page may still
    shift while it settles, so a double-click that opened another cell is tried again."""
    table = page.locator('[data-testid="stDataFrame"]').nth(2)
    editor = page.locator("#portal textarea, #portal input").first
    for _ in range(5):
        await table.scroll_into_view_if_needed()
        await page.wait_for_timeout(500)
        box = await table.bounding_box()
        await page.mouse.dblclick(box["x"] + 300, box["y"] + 35 + 17)
        await editor.wait_for(timeout=WAIT_MS)
        if await editor.input_value() == FIRST_GRID:
            await editor.fill(name)  # focuses the editor: typed keys never go to the page
            await editor.press("Enter")
            return
        await page.keyboard.press("Escape")
    raise RuntimeError(f"the first grid's name cell ({FIRST_GRID}) could not be opened")


async def choose(page: Any, label: str, option: str, tries: int = 3) -> None:
    """Pick an option of a Streamlit selectbox by its label (as ``tests/test_e2e``), and check
    that the box shows it: with ten renderers on two cores the list may be drawn again under
    the click, which then picks nothing (a later 移动 would move nothing)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    for _ in range(tries):
        await box.locator("input").click()
        await box.locator("input").fill(option)
        await page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
        await page.keyboard.press("Escape")  # a list still open over the form would take a click
        if await _shows(box.locator("input"), option):
            return
    raise RuntimeError(f"{label}: {option} could not be chosen")


async def _shows(field: Any, option: str, timeout_s: float = 20.0) -> bool:
    """Whether a selectbox's input shows ``option`` (its value: the chosen option's label)
    within ``timeout_s``, once the browser has drawn the choice."""
    end = time.perf_counter() + timeout_s
    while time.perf_counter() < end:
        if option in await field.input_value():
            return True
        await asyncio.sleep(0.2)
    return False


async def move_unit(page: Any) -> None:
    """桥西区 into 新华医疗集团 with the 移动 form (the form's choosers do not rerun)."""
    await choose(page, "调整单元", MOVED_UNIT)
    await choose(page, "移入网格", FIRST_GRID)
    await idle(page)
    await page.get_by_role("button", name="移动", exact=True).click()


async def metric(page: Any) -> str:
    return str(await page.locator('[data-testid="stMetricValue"]').first.inner_text())


async def one_session(browser: Any, url: str, out: SessionResult) -> SessionResult:
    ctx = await browser.new_context(viewport={"width": 1500, "height": 1100}, locale="zh-CN")
    # every action may wait as long as a step: ten renderers share two cores
    ctx.set_default_timeout(WAIT_MS)
    page = await ctx.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}/grids")
        await page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=WAIT_MS)
        await idle(page)
        out.times["open_grids"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        if out.edit == "rename":
            await rename_first_grid(page, f"新华{out.n}号")
        else:
            await move_unit(page)
        await page.get_by_text("当前第 2 版").first.wait_for(timeout=WAIT_MS)
        out.times["edit_grid"] = time.perf_counter() - t0
        await idle(page)
        found = re.search(r"[?&]scenario=(\d+)", page.url)
        out.scenario_id = int(found.group(1)) if found else None
        if out.scenario_id is None:
            out.problems.append(f"no scenario in the URL after the edit: {page.url}")

        t0 = time.perf_counter()
        await page.get_by_role("link", name=re.compile("15分钟健康服务圈")).click()
        await page.wait_for_selector('[data-testid="stMetricValue"]', timeout=WAIT_MS)
        await idle(page)
        out.times["open_access"] = time.perf_counter() - t0

        minutes = page.locator('[data-testid="stSlider"]').filter(has_text=MINUTES_LABEL).first
        shown = minutes.locator('[data-testid="stSliderThumbValue"]')
        before_value = int(await shown.inner_text())
        before = await metric(page)
        t0 = time.perf_counter()
        await minutes.get_by_role("slider").focus()
        await page.keyboard.press("ArrowRight")
        await page.wait_for_function(
            """(before) => {
              const m = document.querySelector('[data-testid="stMetricValue"]');
              return m && m.innerText !== before;
            }""",
            arg=before,
            timeout=WAIT_MS,
            polling=100,
        )
        out.times["slider_step"] = time.perf_counter() - t0
        await idle(page)
        after_value = int(await shown.inner_text())
        if after_value != before_value + 1:
            out.problems.append(f"slider shows {after_value}, expected {before_value + 1}")
        out.problems += await exceptions(page)
    except Exception as exc:  # a session that failed is reported, the others go on
        shot = Path(tempfile.gettempdir()) / f"gridplan-load-session-{out.n}.png"
        await page.screenshot(path=shot, full_page=True)
        out.problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]} (see {shot})")
    finally:
        await ctx.close()
    return out


async def run_sessions(url: str, n: int, first: int = 0) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            results = [SessionResult(first + i) for i in range(n)]
            return list(await asyncio.gather(*(one_session(browser, url, r) for r in results)))
        finally:
            await browser.close()


def check_saved(results: list[SessionResult]) -> None:
    """Each session's own edit is its scenario's version 2 in the store (problems if not)."""
    from gridplan.store import open_store

    store = open_store(None)  # the benchmark's own store (GRIDPLAN_STORE, scratch_dirs)
    try:
        ids = [r.scenario_id for r in results if r.scenario_id is not None]
        if len(set(ids)) != len(ids):
            for r in results:
                r.problems.append(f"sessions share scenarios: {sorted(ids)}")
        for r in results:
            if r.scenario_id is None:
                continue
            grids = store.get(r.scenario_id, 2).payload["plan"]["grids"]
            names = [g["name"] for g in grids]
            if r.edit == "rename" and f"新华{r.n}号" not in names:
                r.problems.append(f"scenario {r.scenario_id} v2 has grids {names}")
            emptied = [g for g in grids if g["name"] == EMPTIED_GRID]
            if r.edit == "move" and (not emptied or emptied[0].get("units")):
                r.problems.append(f"scenario {r.scenario_id} v2: {EMPTIED_GRID} not emptied")
    finally:
        store.close()


def load_test(sessions: int) -> dict[str, Any]:
    """One server: one session alone, then ``sessions`` at once; memory and times."""
    with scratch_dirs(), dashboard_server(timeout=180) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        time.sleep(2.0)
        idle_mb = server_rss_mb(port)
        alone = asyncio.run(run_sessions(url, 1))
        one_mb = server_rss_mb(port)
        crowd = asyncio.run(run_sessions(url, sessions, first=1))
        all_mb = server_rss_mb(port)
        check_saved([*alone, *crowd])
    return {"idle_mb": idle_mb, "one_mb": one_mb, "all_mb": all_mb,
            "alone": alone, "crowd": crowd}  # fmt: skip


def print_report(res: dict[str, Any], sessions: int) -> None:
    crowd: list[SessionResult] = res["crowd"]
    failed = [r for r in [*res["alone"], *crowd] if r.problems]
    print(f"load test: 1 session, then {sessions} at once, one server, Debian chromium")
    print(f"sessions answering without problems: {sessions + 1 - len(failed)}/{sessions + 1}")
    for r in failed:
        print("  problem:", "; ".join(r.problems))
    print("| step | alone s | concurrent median s | concurrent max s |")
    print("|---|---|---|---|")
    for step in ("open_grids", "edit_grid", "open_access", "slider_step"):
        alone = res["alone"][0].times.get(step, float("nan"))
        vals = [r.times[step] for r in crowd if step in r.times]
        med = statistics.median(vals) if vals else float("nan")
        top = max(vals) if vals else float("nan")
        print(f"| {step} | {alone:.2f} | {med:.2f} | {top:.2f} |")
    print("| server RSS | idle | after 1 session | after all |")
    print("|---|---|---|---|")
    print(f"| MB | {res['idle_mb']:.0f} | {res['one_mb']:.0f} | {res['all_mb']:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10)
    args = ap.parse_args()
    print_report(load_test(args.sessions), args.sessions)


if __name__ == "__main__":
    main()
