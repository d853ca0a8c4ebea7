"""Load test: many planners on one dashboard server at once (Playwright, Debian's chromium).

Each session is its own browser context (its own Streamlit session) in one
chromium; all run at the same time.  Each opens the 网格划分 page, renames a grid
(saved as its own new scenario), opens the 15-minute page and moves the minutes
slider one step.  Every session must answer: its edit saved (the sidebar says
version 2), the slider at its new value, and no exception box anywhere.  The
server's memory (RSS of the ``streamlit run`` process) is reported idle, after
one session and after all of them.

Run: ``.venv/bin/python -m benchmarks.bench_load [--sessions 10]``.  Prints a
Markdown table.  Response times include the load of everything else on the
machine (two cores shared by all sessions and the browser).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from tests.e2e_support import CHROMIUM_ARGS, IDLE_JS, chromium_path, dashboard_server

MB = 1024 * 1024


@dataclass
class SessionResult:
    """What one session saw: step times (seconds) and the problems found."""

    times: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def server_rss_mb(port: int) -> float:
    """Resident memory of the dashboard server on ``port`` (with any children), MB."""
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if "streamlit" in " ".join(cmd) and str(port) in cmd:
            procs = [proc, *proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / MB
    raise RuntimeError(f"no dashboard server on port {port}")


async def idle(page: Any, timeout_ms: int = 300_000) -> None:
    await page.evaluate("() => { window.__gpIdleSince = null; }")
    await page.wait_for_function(IDLE_JS, timeout=timeout_ms, polling=100)


async def exceptions(page: Any) -> list[str]:
    boxes = page.locator('[data-testid="stException"]')
    return [await boxes.nth(i).inner_text() for i in range(await boxes.count())]


async def rename_first_grid(page: Any, name: str) -> None:
    """The 名称 cell of the grid table's first row (see ``bench_dashboard``)."""
    table = page.locator('[data-testid="stDataFrame"]').nth(2)
    await table.scroll_into_view_if_needed()
    box = await table.bounding_box()
    await page.mouse.dblclick(box["x"] + 300, box["y"] + 35 + 17)
    await page.wait_for_selector("#portal textarea, #portal input", timeout=30_000)
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.insert_text(name)
    await page.keyboard.press("Enter")


async def one_session(browser: Any, url: str, n: int) -> SessionResult:
    out = SessionResult()
    ctx = await browser.new_context(viewport={"width": 1500, "height": 1100}, locale="zh-CN")
    page = await ctx.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}/grids")
        await page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=300_000)
        await idle(page)
        out.times["open_grids"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        await rename_first_grid(page, f"新华{n}号")
        await page.get_by_text("当前第 2 版").first.wait_for(timeout=300_000)
        await idle(page)
        out.times["edit_grid"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        await page.get_by_role("link", name=re.compile("15分钟健康服务圈")).click()
        await page.wait_for_selector('[data-testid="stSlider"] [role="slider"]', timeout=300_000)
        await idle(page)
        out.times["open_access"] = time.perf_counter() - t0

        thumb = page.locator('[data-testid="stSlider"] [role="slider"]').first
        before = int(await thumb.get_attribute("aria-valuenow") or 0)
        t0 = time.perf_counter()
        await thumb.focus()
        await page.keyboard.press("ArrowRight")
        await idle(page)
        out.times["slider_step"] = time.perf_counter() - t0
        after = int(await thumb.get_attribute("aria-valuenow") or 0)
        if after != before + 1:
            out.problems.append(f"slider shows {after}, expected {before + 1}")
        out.problems += await exceptions(page)
    except Exception as exc:  # a session that failed is reported, the others go on
        out.problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
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
            return list(
                await asyncio.gather(*(one_session(browser, url, first + i) for i in range(n)))
            )
        finally:
            await browser.close()


def load_test(sessions: int) -> dict[str, Any]:
    """One server: one session alone, then ``sessions`` at once; memory and times."""
    with dashboard_server(timeout=180) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        time.sleep(2.0)
        idle_mb = server_rss_mb(port)
        alone = asyncio.run(run_sessions(url, 1))
        one_mb = server_rss_mb(port)
        crowd = asyncio.run(run_sessions(url, sessions, first=1))
        all_mb = server_rss_mb(port)
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
