"""Start the dashboard and drive Debian's chromium with Playwright (tests and benchmarks).

Browsers come from Debian's ``chromium`` package only; ``playwright install``
is never used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
]


def chromium_path() -> str | None:
    env = os.environ.get("GRIDPLAN_CHROMIUM")
    if env and Path(env).exists():
        return env
    return next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), shutil.which("chromium"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dashboard_server(
    timeout: float = 90.0, *, preloaded: bool = False, plain: bool = False
) -> Iterator[tuple[str, float]]:
    """Start the dashboard as ``scripts/dashboard.sh`` does (``python -m ui.serve``) on a free
    port; yield (url, seconds until healthy).  With ``preloaded``, also wait until the
    launcher has imported the libraries (``ui.preload``): the server is then idle.
    ``plain`` starts ``streamlit run app.py`` instead (no preloading), for comparison."""
    port = free_port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *(["streamlit", "run", str(ROOT / "app.py")] if plain else ["ui.serve"]),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and (plain or not preloaded or _preloaded(log)):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > timeout:
                log.seek(0)
                raise RuntimeError(
                    "dashboard did not start:\n" + log.read().decode(errors="replace")
                )
            time.sleep(0.2)
        yield url, time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _preloaded(log: IO[bytes]) -> bool:
    from ui.preload import READY_LINE

    log.seek(0)
    return READY_LINE.encode() in log.read()


@contextlib.contextmanager
def browser_page(width: int = 1500, height: int = 1100) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = ctx.new_page()
        try:
            yield page
        finally:
            ctx.close()
            browser.close()


IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const state = app.getAttribute('data-test-script-state');
  const now = performance.now();
  if (state !== 'notRunning') { window.__gpIdleSince = null; return false; }
  window.__gpIdleSince = window.__gpIdleSince || now;
  return now - window.__gpIdleSince > 400;
}"""


def wait_for_app_idle(page: Page, timeout_ms: int = 90_000) -> None:
    """Wait until Streamlit has finished running the script (idle for 0.4 s)."""
    page.evaluate("() => { window.__gpIdleSince = null; }")
    page.wait_for_function(IDLE_JS, timeout=timeout_ms, polling=100)


def wait_for_map(page: Page, timeout_ms: int = 60_000) -> None:
    """Wait until the pydeck map's canvas is on the page."""
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=timeout_ms)


def e2e_marks() -> list:
    """The marks of an end-to-end module: ``e2e``, and skipped without Debian's chromium."""
    import pytest

    return [
        pytest.mark.e2e,
        pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed"),
    ]
