"""Library timings behind the grid page: load units, resolve, validate, dissolve, statistics.

Run: ``.venv/bin/python -m benchmarks.bench_grids``.  Prints a Markdown table.
The township case uses the synthetic test layer (66 townships cut from the real
county polygons; illustrative, see tests/synthetic.py).
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.timing import timeit

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    t0 = time.perf_counter()
    from gridplan.inputs import boundaries
    from gridplan.plan.grids import GridPlan, resolve_assignment
    from gridplan.plan.stats import dissolve_grids
    from gridplan.plan.units import build_units
    from gridplan.plan.validate import validate_plan
    from gridplan.report.gridmap import render_grid_map_png

    import_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    boundaries.load_county_boundaries("130100")
    first_load_ms = (time.perf_counter() - t0) * 1000

    from tests.synthetic import shijiazhuang_townships

    tws = shijiazhuang_townships().to_crs(4326)
    plan = GridPlan.from_preset("shijiazhuang")
    rows = [
        ("import gridplan", import_ms, import_ms),
        ("first county load (GCJ-02→WGS-84)", first_load_ms, first_load_ms),
    ]
    us = build_units("130100")
    rows.append(
        ("build units (county level, cached boundaries)", *timeit(lambda: build_units("130100")))
    )
    rows.append(
        (
            "build units with 66-township layer",
            *timeit(lambda: build_units("130100", townships=tws)),
        )
    )
    a = resolve_assignment(plan, us.units)
    rows.append(
        (
            "resolve + validate plan",
            *timeit(lambda: validate_plan(plan, us, resolve_assignment(plan, us.units))),
        )
    )
    rows.append(("dissolve + statistics", *timeit(lambda: dissolve_grids(plan, us, a))))

    def edit() -> None:
        moved = plan.reassign({"130104": "sjz-xinhua"})
        validate_plan(moved, us)
        dissolve_grids(moved, us)

    rows.append(("one edit: reassign + validate + dissolve", *timeit(edit)))
    rows.append(
        (
            "PNG grid map (150 dpi)",
            *timeit(lambda: render_grid_map_png(plan, us, assignment=a), repeat=3),
        )
    )
    print("| step | median ms | min ms |")
    print("|---|---|---|")
    for name, med, mn in rows:
        print(f"| {name} | {med:.1f} | {mn:.1f} |")


if __name__ == "__main__":
    main()
