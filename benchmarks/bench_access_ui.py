"""The 15-minute page in a real browser: cold load, a slider move to a settled map, its bytes.

Shijiazhuang, 100 m cells, the illustrative facility network (示意), straight-line walking
model, on a new server (Debian's chromium driven by Playwright).

What is measured, and how
-------------------------
cold load
    From ``page.goto("/access")`` to the coverage numbers shown, the deck's canvas on the
    page and the map settled (below), on a server started just before (nothing cached).
number shown
    From the key press on the minutes slider (the page's own ``keydown`` time) to the
    first coverage number on the page showing its new value.
settled map
    From the same key press to the deck's last WebGL draw call.  A script installed
    before the page loads wraps the ``draw*`` methods of ``WebGL2RenderingContext`` and
    records the time of every call; deck.gl draws only when something changed (new
    layers, an image decoded), so once no draw came for 0.6 s, with the script idle and
    the number shown, the time of the last draw is when the map stopped changing.
GPU-process CPU per step
    CPU seconds the browser's GPU process (Debian's chromium renders WebGL in software,
    with SwiftShader) spent per step, read from ``/proc`` for the processes this benchmark
    started (Linux only).  Unlike wall time it hardly moves with the machine's load, so
    it shows what a change saved in drawing the map.
bytes per step
    Every websocket frame the browser received (Streamlit's forward messages) and the
    body of every HTTP response (an image fetched by URL, say), from the key press until
    the map settled.

Run: ``.venv/bin/python -m benchmarks.bench_access_ui [--moves N] [--fast] [--idle] [--hover]``.
``--fast`` (two moves) is what the end-to-end test runs, asserting on bytes and the kept
view; ``--idle`` opens the page once the new server has imported its libraries; ``--hover``
switches the map's hover blocks on (off by default) before the slider steps.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.e2e_support import browser_page, dashboard_server, wait_for_app_idle, wait_for_map

if TYPE_CHECKING:
    from playwright.sync_api import Page, WebSocket

#: Installed before the page's own scripts: the time of every WebGL draw and of key presses.
DRAW_HOOK_JS = """(() => {
  window.__gpDraws = 0; window.__gpLastDraw = 0; window.__gpFirstDraw = 0; window.__gpKey = 0;
  const wrap = (proto) => {
    if (!proto) return;
    for (const name of ['drawArrays', 'drawElements', 'drawArraysInstanced',
                        'drawElementsInstanced', 'drawRangeElements']) {
      const original = proto[name];
      if (typeof original !== 'function') continue;
      proto[name] = function (...args) {
        window.__gpDraws += 1; window.__gpLastDraw = performance.now();
        if (!window.__gpFirstDraw) window.__gpFirstDraw = window.__gpLastDraw;
        return original.apply(this, args);
      };
    }
  };
  wrap(window.WebGL2RenderingContext && WebGL2RenderingContext.prototype);
  wrap(window.WebGLRenderingContext && WebGLRenderingContext.prototype);
  document.addEventListener('keydown', () => {
    window.__gpKey = performance.now(); window.__gpFirstDraw = 0;
  }, true);
})();"""

METRIC_JS = """() => {
  const m = document.querySelector('[data-testid="stMetricValue"]');
  return m ? m.innerText : null;
}"""

#: The map settled: drawn at least once, no draw for ``quiet`` ms, the script idle.
SETTLED_JS = """(quiet) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
  return idle && window.__gpDraws > 0 && performance.now() - window.__gpLastDraw > quiet;
}"""

QUIET_MS = 600
#: The slider's steps: one minute up each time.  Never back to a value shown before: Streamlit
#: sends a message it already sent in this session as a reference, which a median would hide.
KEYS = ("ArrowRight",)


@dataclass
class Traffic:
    """Bytes the browser received: websocket frames and HTTP response bodies."""

    ws_bytes: int = 0
    http_bytes: int = 0
    frames: int = 0

    def reset(self) -> None:
        self.ws_bytes = self.http_bytes = self.frames = 0

    def on_frame(self, payload: str | bytes) -> None:
        self.frames += 1
        self.ws_bytes += len(payload.encode() if isinstance(payload, str) else payload)

    def on_websocket(self, ws: WebSocket) -> None:
        ws.on("framereceived", self.on_frame)

    def on_request_finished(self, request: object) -> None:
        # a request whose sizes are gone counts nothing
        with contextlib.suppress(Exception):
            self.http_bytes += int(request.sizes()["responseBodySize"])  # type: ignore[attr-defined]


@dataclass
class Step:
    """One slider move: ms to the number, to the map's first draw (the new map arrived) and to
    the settled map (its last draw), bytes received."""

    number_ms: float
    settled_ms: float
    first_draw_ms: float
    ws_bytes: int
    http_bytes: int
    gpu_cpu_s: float = float("nan")


@dataclass
class AccessRun:
    """A cold load and the slider moves after it."""

    cold_s: float
    steps: list[Step] = field(default_factory=list)

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(s, name) for s in self.steps))


def _parent(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def gpu_process_cpu_s() -> float:
    """CPU seconds so far of the chromium GPU processes started under this process (NaN where
    ``/proc`` is not there)."""
    if not Path("/proc/self/stat").exists():
        return float("nan")
    me, total = os.getpid(), 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if b"--type=gpu-process" not in (entry / "cmdline").read_bytes():
                continue
            pid, hops = int(entry.name), 0
            while pid > 1 and pid != me and hops < 10:
                pid, hops = _parent(pid), hops + 1
            if pid == me:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def watch(page: Page) -> Traffic:
    """Install the draw hook and count the bytes ``page`` receives from now on."""
    traffic = Traffic()
    page.add_init_script(DRAW_HOOK_JS)
    page.on("websocket", traffic.on_websocket)
    page.on("requestfinished", traffic.on_request_finished)
    return traffic


def wait_settled(page: Page, timeout_ms: int = 60_000) -> float:
    """Wait for the settled map (see the module's doc); the page time of its last draw."""
    page.wait_for_function(SETTLED_JS, arg=QUIET_MS, timeout=timeout_ms, polling=50)
    return float(page.evaluate("() => window.__gpLastDraw"))


def cold_load(page: Page, url: str) -> float:
    """Seconds from opening ``/access`` to its numbers shown and its map settled."""
    t0 = time.perf_counter()
    page.goto(f"{url}/access")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=180_000)
    wait_for_map(page)
    wait_for_app_idle(page)
    last_draw = wait_settled(page)
    # the settled time is the last draw, not the end of the quiet wait
    now = float(page.evaluate("() => performance.now()"))
    return time.perf_counter() - t0 - (now - last_draw) / 1000


def slider_step(page: Page, traffic: Traffic, key: str) -> Step:
    """Move the focused slider one step; time the number and the settled map, count bytes."""
    before = page.evaluate(METRIC_JS)
    traffic.reset()
    gpu0 = gpu_process_cpu_s()
    page.keyboard.press(key)
    page.wait_for_function(f"() => ({METRIC_JS})() !== {before!r}", timeout=30_000, polling="raf")
    shown = float(page.evaluate("() => performance.now()"))
    last_draw = wait_settled(page)
    pressed = float(page.evaluate("() => window.__gpKey"))
    first = float(page.evaluate("() => window.__gpFirstDraw"))
    return Step(
        shown - pressed, last_draw - pressed, first - pressed, traffic.ws_bytes,
        traffic.http_bytes, gpu_process_cpu_s() - gpu0,
    )  # fmt: skip


def run(url: str, moves: int, hover: bool = False) -> AccessRun:
    """A cold load of ``/access`` on the server at ``url``, then ``moves`` slider steps (with
    ``hover``, after switching the map's hover blocks on)."""
    with browser_page() as page:
        traffic = watch(page)
        result = AccessRun(cold_load(page, url))
        if hover:
            page.get_by_text(HOVER_TOGGLE).click()
            page.wait_for_timeout(500)
            wait_for_app_idle(page)
            wait_settled(page)
        page.get_by_role("slider").first.focus()
        for i in range(moves):
            result.steps.append(slider_step(page, traffic, KEYS[i % len(KEYS)]))
    return result


#: The map's switch for the hover blocks (off by default).
HOVER_TOGGLE = "悬停查看各处出行时间"


def table(result: AccessRun, server: str = "new server") -> list[str]:
    """The README rows (Markdown) of a run."""
    n = len(result.steps)
    slowest = max(s.settled_ms for s in result.steps)
    return [
        "| step | value |",
        "|---|---|",
        f"| first 15-minute page to drawn map and numbers ({server}) | {result.cold_s:.1f} s |",
        f"| minutes slider → new number shown, median of {n} | "
        f"{result.median('number_ms'):.0f} ms |",
        f"| minutes slider → settled map, median of {n} | {result.median('settled_ms'):.0f} ms |",
        f"| slowest settled map | {slowest:.0f} ms |",
        f"| … first draw of the new map, median | {result.median('first_draw_ms'):.0f} ms |",
        f"| bytes per step (websocket), median | {result.median('ws_bytes') / 1000:.0f} kB |",
        f"| bytes per step (HTTP), median | {result.median('http_bytes') / 1000:.0f} kB |",
        f"| browser GPU-process CPU per step (software WebGL), median | "
        f"{result.median('gpu_cpu_s') * 1000:.0f} ms |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=10)
    ap.add_argument("--fast", action="store_true", help="two moves (what the e2e test runs)")
    ap.add_argument(
        "--idle", action="store_true", help="open the page once the new server is idle (preloaded)"
    )
    ap.add_argument("--hover", action="store_true", help="the steps with the hover blocks on")
    args = ap.parse_args()
    with dashboard_server(preloaded=args.idle) as (url, _):
        result = run(url, 2 if args.fast else args.moves, hover=args.hover)
    hover = "hover blocks on" if args.hover else "hover blocks off (the default)"
    print(
        f"15-minute page, Shijiazhuang 100 m, straight-line walk, illustrative facilities; {hover}"
    )
    print("\n".join(table(result, "new server, idle" if args.idle else "new server")))


if __name__ == "__main__":
    main()
