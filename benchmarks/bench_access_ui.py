"""The 15-minute page in a real browser: cold load, and the latency of a slider move.

A slider move is timed from the key press on the minutes slider to the moment
the coverage metric on the page shows the new value (Streamlit fragment rerun,
re-threshold, new coverage image, new tables).  Shijiazhuang, 100 m cells,
the illustrative facility network (示意), straight-line walking model.

Run: ``.venv/bin/python -m benchmarks.bench_access_ui [--moves N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tests.e2e_support import browser_page, dashboard_server, wait_for_app_idle, wait_for_map

METRIC_JS = """() => {
  const m = document.querySelector('[data-testid="stMetricValue"]');
  return m ? m.innerText : null;
}"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=10)
    args = ap.parse_args()
    with dashboard_server() as (url, _), browser_page() as page:
        t0 = time.perf_counter()
        page.goto(f"{url}/access")
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=180_000)
        wait_for_map(page)
        wait_for_app_idle(page)
        cold = time.perf_counter() - t0
        slider = page.get_by_role("slider").first
        slider.focus()
        latencies = []
        for i in range(args.moves):
            before = page.evaluate(METRIC_JS)
            t = time.perf_counter()
            page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            page.wait_for_function(
                f"() => ({METRIC_JS})() !== {before!r}", timeout=30_000, polling="raf"
            )
            latencies.append(time.perf_counter() - t)
            wait_for_app_idle(page)
    print("15-minute page, Shijiazhuang 100 m, straight-line walk, illustrative facilities")
    print("| step | value |")
    print("|---|---|")
    print(f"| cold load of the page to a drawn map (new server) | {cold:.1f} s |")
    print(f"| minutes slider move → new coverage shown, median of {args.moves} | "
          f"{statistics.median(latencies) * 1000:.0f} ms |")  # fmt: skip
    print(f"| slowest move | {max(latencies) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
