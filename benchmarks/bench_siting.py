"""Siting studies end to end on Shijiazhuang (what the siting page and ``optimize`` run).

Each row is one :func:`gridplan.siting.study.run_siting` on the census surface of
Shijiazhuang (100 m cells unless ``--cell-m``; population modelled) with the
illustrative facility network (示意, 660 facilities), straight-line model:
candidates, cost matrix, solve, travel times after, KPIs per grid before and
after, the coverage-versus-k curve.  ``solve`` is the location model alone
(on ≤ 20,000 aggregated demand points); ``total`` the whole study.

Run: ``.venv/bin/python -m benchmarks.bench_siting`` (about a minute).
"""

from __future__ import annotations

import argparse
import math
import time

from gridplan.facilities.illustrative import illustrative_facilities
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import build_units
from gridplan.siting.study import SitingSettings, run_siting
from gridplan.surface.grid import census_surface
from gridplan.travel.straight import StraightLineModel

CASES = [
    ("sub-centres: upgrade 5 centres, MCLP, drive 30 min",
     SitingSettings(method="mclp", k=5, minutes=30, level="secondary", candidates="centres"), 30.0),
    ("sub-centres: fewest upgrades to 95 %, drive 30 min",
     SitingSettings(method="target", target=0.95, minutes=30, level="secondary",
                    candidates="centres"), 30.0),
    ("sub-centres: 5 by p-median, drive (cutoff 60 min)",
     SitingSettings(method="pmedian", k=5, minutes=30, level="secondary", candidates="centres"),
     30.0),
    ("sub-centres: 5 by weighted k-means",
     SitingSettings(method="kmeans", k=5, minutes=30, level="secondary", candidates="centres"),
     30.0),
    ("new primary centres: 10 on a 2 km grid, MCLP, e-bike 15 min",
     SitingSettings(method="mclp", k=10, minutes=15, level="primary", candidates="grid"), 15.0),
    ("same, capacity 30,000 residents per site",
     SitingSettings(method="mclp", k=10, minutes=15, level="primary", candidates="grid",
                    capacity=30_000), 15.0),
    ("same, greedy",
     SitingSettings(method="mclp", k=10, minutes=15, level="primary", candidates="grid",
                    solver="greedy"), 15.0),
]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cell-m", type=float, default=100.0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    plan = GridPlan.from_preset("shijiazhuang")
    units = build_units(plan.prefecture)
    surface = census_surface(units, args.cell_m)
    facilities = illustrative_facilities(units, census_surface(units, 500.0))
    print(
        f"Shijiazhuang {args.cell_m:g} m, {int((surface.population > 0).sum()):,} populated "
        f"cells, {len(facilities)} illustrative facilities; prepared in "
        f"{time.perf_counter() - t0:.1f} s (population modelled)\n"
    )
    print("| study | sites | coverage before → after | gap | solve s | total s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, settings, speed in CASES:
        model = StraightLineModel(speed_kmh=speed)
        study = run_siting(units, plan, surface, facilities, model, settings)
        gap = "—" if math.isnan(study.gap) else f"{study.gap * 100:.2f} %"
        print(
            f"| {name} | {study.k} | {study.share_before:.1%} → {study.share_after:.1%} | "
            f"{gap} | {study.solve_seconds:.2f} | {study.seconds:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
