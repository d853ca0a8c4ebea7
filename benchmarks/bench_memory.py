"""Server memory of dashboard sessions on the 15-minute page (Shijiazhuang, 100 m).

The server's resident set size (psutil, the ``python -m ui.serve`` process) is read when
the server is idle (started, its libraries imported, no session yet), then after each
session has opened ``/access`` (illustrative network, straight-line walk), moved the
minutes slider ``--moves`` steps and the speed slider two, with the map settled; the
peak is sampled every 50 ms.
A second session on the same server shows what one more planner costs once the shared
caches (surface, travel times, warp) are built.  ``--plain`` starts ``streamlit run
app.py`` instead, where the first session also pays for importing the libraries.

Run: ``.venv/bin/python -m benchmarks.bench_memory [--sessions N] [--moves N] [--fast] [--plain]``.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

from benchmarks.bench_access_ui import cold_load, slider_step, watch
from tests.e2e_support import browser_page, dashboard_server

MB = 1024 * 1024


def server_process() -> psutil.Process:
    """The dashboard server this benchmark started (a child of this process)."""
    for child in psutil.Process().children(recursive=True):
        try:
            if any(k in " ".join(child.cmdline()) for k in ("ui.serve", "streamlit")):
                return child
        except psutil.Error:
            continue
    raise RuntimeError("no dashboard server among this process's children")


@dataclass
class PeakRss:
    """The highest RSS of a process, sampled every 50 ms on a thread."""

    proc: psutil.Process
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    @contextmanager
    def running(self) -> Iterator[PeakRss]:
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def rss(proc: psutil.Process) -> int:
    return int(proc.memory_info().rss)


def one_session(url: str, moves: int, proc: psutil.Process) -> int:
    """Open ``/access``, move the minutes slider ``moves`` steps and the speed slider two;
    the server's RSS then, the session still open."""
    with browser_page() as page:
        traffic = watch(page)
        cold_load(page, url)
        sliders = page.get_by_role("slider")
        sliders.first.focus()
        for _ in range(moves):
            slider_step(page, traffic, "ArrowRight")
        sliders.nth(1).focus()
        for _ in range(2):
            slider_step(page, traffic, "ArrowRight")
        return rss(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=2)
    ap.add_argument("--moves", type=int, default=6)
    ap.add_argument("--fast", action="store_true", help="one session, two moves")
    ap.add_argument(
        "--plain", action="store_true", help="`streamlit run app.py`: libraries not preloaded"
    )
    args = ap.parse_args()
    sessions, moves = (1, 2) if args.fast else (args.sessions, args.moves)
    rows = []
    with dashboard_server(preloaded=True, plain=args.plain) as (url, _):
        proc = server_process()
        time.sleep(2.0)  # let the started server settle
        idle = rss(proc)
        with PeakRss(proc).running() as peak:
            for i in range(sessions):
                rows.append((i + 1, one_session(url, moves, proc)))
    how = "streamlit run app.py" if args.plain else "python -m ui.serve (libraries preloaded)"
    print(f"Server memory, 15-minute page, Shijiazhuang 100 m, straight-line walk; {how}")
    print("| state | RSS | above idle |")
    print("|---|---|---|")
    print(f"| idle server | {idle / MB:.0f} MB | — |")
    for n, value in rows:
        state = f"after session {n} (/access, {moves} + 2 slider steps, still open)"
        print(f"| {state} | {value / MB:.0f} MB | {(value - idle) / MB:+.0f} MB |")
    above = (peak.peak - idle) / MB
    print(f"| peak during the sessions | {peak.peak / MB:.0f} MB | {above:+.0f} MB |")


if __name__ == "__main__":
    main()
