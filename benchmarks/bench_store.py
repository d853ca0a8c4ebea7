"""The scenario store at the sizes planners reach (issue 11).

For each store (a SQLite file; PostgreSQL when ``GRIDPLAN_TEST_POSTGRES`` names a server,
e.g. after ``source scripts/postgres.sh; start_postgres``):

* **save** and **load** of one version of a prefecture scenario as the dashboard writes it
  (plan JSON, one facility switched off kept as an edit of the default network, analysis
  settings), and with a whole uploaded facility list instead: Shijiazhuang and Ganzhou;
* **size on disk per version**: the SQLite file's growth over 100 versions, divided by 100;
* **concurrent writers**: 10 processes saving 20 versions each into one scenario at once:
  versions written, numbers 1..N without gap, every one read back whole, wall time.

Run: ``.venv/bin/python -m benchmarks.bench_store [--versions 100] [--writers 10 --each 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from benchmarks.timing import timeit
from gridplan import workflow
from gridplan.facilities.edits import edits_against, table_to_json
from gridplan.plan.grids import GridPlan
from gridplan.store import open_store

ROOT = Path(__file__).resolve().parents[1]
CASES = {"石家庄市": ("130100", "shijiazhuang"), "赣州市": ("360700", "ganzhou")}

WRITER = textwrap.dedent(
    """
    import json, sys
    from gridplan.store import open_store
    url, sid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    payload = json.loads(sys.stdin.read())
    store = open_store(url)
    for k in range(n):
        payload["settings"]["k"] = k
        store.add_version(sid, payload, author="writer")
    store.close()
    """
)


def dashboard_payload(adcode: str, preset: str, *, uploaded: bool = False) -> dict[str, Any]:
    """A version as the dashboard saves it after switching one facility off (kept as an edit
    of the default network), or with a whole uploaded list (``uploaded``)."""
    units = workflow.load_units(workflow.UnitsSource(adcode))
    default = workflow.illustrative_network(units)
    facilities = default.copy()
    facilities.loc[0, "active"] = False
    edits = {"table": table_to_json(facilities)} if uploaded else edits_against(default, facilities)
    return {
        "plan": GridPlan.from_preset(preset).to_dict(),
        "facility_edits": edits,
        "uploads": [],
        "settings": {"acc_minutes_primary": 15, "acc_speed_walk": 5.0, "acc_cell": 100},
    }


def save_and_load(url: str) -> list[tuple[str, float, float, int]]:
    """Median save and load milliseconds and the payload bytes, per prefecture."""
    rows = []
    store = open_store(url)
    for (name, (adcode, preset)), uploaded in [(c, u) for c in CASES.items() for u in (0, 1)]:
        body = dashboard_payload(adcode, preset, uploaded=bool(uploaded))
        name = f"{name}（上传设施清单）" if uploaded else name
        sid, _ = store.create(name, adcode, body)
        save_ms, _ = timeit(lambda b=body, s=sid: store.add_version(s, b), repeat=21)
        load_ms, _ = timeit(lambda s=sid: store.get(s), repeat=21)
        size = len(json.dumps(body, ensure_ascii=False).encode())
        rows.append((name, save_ms, load_ms, size))
    store.close()
    return rows


def bytes_per_version(versions: int, *, uploaded: bool = False) -> float:
    """The SQLite file's growth per version of the Shijiazhuang scenario."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.sqlite"
        store = open_store(f"sqlite:///{path}")
        body = dashboard_payload(*CASES["石家庄市"], uploaded=uploaded)
        sid, _ = store.create("size", "130100", body)
        start = path.stat().st_size
        for _ in range(versions):
            store.add_version(sid, body)
        store.close()
        return (path.stat().st_size - start) / versions


def concurrent_writers(url: str, writers: int, each: int) -> tuple[int, bool, float]:
    """Versions found, whether they run 1..N and read back whole, and the wall seconds."""
    store = open_store(url)
    body = dashboard_payload(*CASES["石家庄市"])
    sid, _ = store.create("concurrent", "130100", body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(sid), str(each)],
            stdin=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(writers)
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(json.dumps(body))
        p.stdin.close()
    codes = [p.wait(timeout=600) for p in procs]
    seconds = time.perf_counter() - t0
    numbers = [v.number for v in store.history(sid)]
    whole = numbers == list(range(1, len(numbers) + 1)) and all(
        store.get(sid, n).payload["plan"]["grids"] for n in numbers
    )
    store.close()
    return len(numbers) - 1, whole and not any(codes), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--versions", type=int, default=100)
    ap.add_argument("--writers", type=int, default=10)
    ap.add_argument("--each", type=int, default=20)
    args = ap.parse_args()
    stores = {"SQLite": None}
    if os.environ.get("GRIDPLAN_TEST_POSTGRES"):
        stores["PostgreSQL"] = os.environ["GRIDPLAN_TEST_POSTGRES"]
    print("| store | prefecture | save ms | load ms | version JSON kB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        urls = {k: v or f"sqlite:///{Path(tmp) / 's.sqlite'}" for k, v in stores.items()}
        for kind, url in urls.items():
            for name, save, load, size in save_and_load(url):
                print(f"| {kind} | {name} | {save:.1f} | {load:.1f} | {size / 1000:.0f} |")
        edit = bytes_per_version(args.versions) / 1000
        whole = bytes_per_version(args.versions, uploaded=True) / 1000
        print(
            f"\nSQLite file growth per version (石家庄市): {edit:.1f} kB with the facility edits,"
        )
        print(f"{whole:.1f} kB with a whole uploaded facility list")
        print("\n| store | writers × saves | versions written | 1..N, all whole | seconds |")
        print("|---|---|---|---|---|")
        for kind, url in urls.items():
            n, ok, secs = concurrent_writers(url, args.writers, args.each)
            want = args.writers * args.each
            print(f"| {kind} | {args.writers} × {args.each} | {n} of {want} | {ok} | {secs:.1f} |")


if __name__ == "__main__":
    main()
