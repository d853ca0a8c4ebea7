"""Readers at the sizes of real files: road networks and long facility lists (issue 9).

Road files (each loaded by ``load_roads`` in a new process; wall time and peak memory over
the interpreter with osmnx imported):

* 500 streets of 500 nodes each (250,000 road nodes, few junctions: shape points; the
  hostile corpus's street rows, `tests.hostile.corpus._osm_lattice`);
* street grids with a crossing every 10th node, 1,300 and 3,400 nodes a side (0.34 and
  2.3 million road nodes, 17,160 and 116,280 junctions).

Facility lists of 16,000 and 200,000 village clinics mostly all named 村卫生室 (the
worst case of the duplicate-name check): the check alone and the whole ``read_facilities``.

Run: ``.venv/bin/python -m benchmarks.bench_readers [--skip-roads] [--skip-facilities]``.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from tests.hostile.corpus import _osm_lattice

_LOAD = textwrap.dedent(
    """
    import resource, sys, time
    import osmnx  # its import is not the reader's memory
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from gridplan.travel.roads import load_roads
    t = time.perf_counter()
    g = load_roads(sys.argv[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{time.perf_counter() - t:.1f} {peak - base:.0f} {g.number_of_nodes()} "
          f"{g.number_of_edges()}")
    """
)


def _grid(n: int, step: int = 10) -> str:
    """A street grid ``n`` nodes a side with a crossing street every ``step`` nodes."""
    out = io.StringIO()
    out.write('<?xml version="1.0"?>\n<osm version="0.6">\n')
    for i in range(n):
        for j in range(n):
            if i % step == 0 or j % step == 0:
                out.write(f'<node id="{i * n + j + 1}" lat="{38 + i * 2e-4:.5f}" '
                          f'lon="{114.4 + j * 2e-4:.5f}"/>\n')  # fmt: skip
    way = 10**9
    for i in range(0, n, step):
        way += 1
        refs = "".join(f'<nd ref="{i * n + j + 1}"/>' for j in range(n))
        out.write(f'<way id="{way}">{refs}<tag k="highway" v="residential"/></way>\n')
    for j in range(0, n, step):
        way += 1
        refs = "".join(f'<nd ref="{i * n + j + 1}"/>' for i in range(n))
        out.write(f'<way id="{way}">{refs}<tag k="highway" v="residential"/></way>\n')
    out.write("</osm>\n")
    return out.getvalue()


def bench_roads(folder: Path) -> None:
    cases = {
        "500 streets x 500 nodes": _osm_lattice(500),  # the hostile corpus's street rows
        "grid 1,300 a side": _grid(1300).encode(),
        "grid 3,400 a side": _grid(3400).encode(),
    }
    print(f"{'road file':26} {'MB':>6} {'s':>6} {'extra MB':>9} {'nodes':>8} {'edges':>8}")
    for label, data in cases.items():
        path = folder / "roads.osm"
        path.write_bytes(data)
        out = subprocess.run(
            [sys.executable, "-c", _LOAD, str(path)], check=True, capture_output=True, text=True
        ).stdout.split()
        size = path.stat().st_size / 1e6
        print(f"{label:26} {size:6.0f} {out[0]:>6} {out[1]:>9} {out[2]:>8} {out[3]:>8}")


def bench_facilities(folder: Path) -> None:
    from gridplan.facilities.reader import DUPLICATE_DISTANCE_M, _near_duplicates, read_facilities

    rng = np.random.default_rng(3)
    print(f"{'facility rows':>14} {'duplicate check s':>18} {'read_facilities s':>18}")
    for n in (16_000, 200_000):
        lon = rng.uniform(113.5, 115.5, n)
        lat = rng.uniform(37.4, 38.8, n)
        names = ["村卫生室"] * n
        t = time.perf_counter()
        _near_duplicates(names, lon, lat, DUPLICATE_DISTANCE_M)
        check = time.perf_counter() - t
        rows = [f"村卫生室,村卫生室,{a:.6f},{b:.6f}" for a, b in zip(lon, lat, strict=True)]
        path = folder / "clinics.csv"
        path.write_text("name,type,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
        t = time.perf_counter()
        read_facilities(path)
        print(f"{n:>14,} {check:>18.2f} {time.perf_counter() - t:>18.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skip-roads", action="store_true")
    ap.add_argument("--skip-facilities", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gridplan-readers-") as tmp:
        if not args.skip_roads:
            bench_roads(Path(tmp))
        if not args.skip_facilities:
            bench_facilities(Path(tmp))


if __name__ == "__main__":
    main()
