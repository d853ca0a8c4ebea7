"""Grid proposals for Shijiazhuang: time, method, balance, travel time against the preset.

Run: ``.venv/bin/python -m benchmarks.bench_regions [--tolerance 0.3] [--time-limit 60]``.
Prints a Markdown table.

* County level: the 22 county-level polygons plus 2 functional zones without
  polygon (free units), 2020 census populations.
* Township level: the **synthetic** test layer (tests/synthetic.py: Voronoi
  cells cut from the real county polygons and named after the reference
  township list; illustrative only), 66 townships + 17 counties + 1 zone,
  township populations modelled from county totals by area.
* Lead hospitals: k = 4 are the preset's four urban lead hospitals, k = 8 adds
  four county hospitals (辛集市, 平山县, 行唐县, 赵县).  No hospital coordinates
  are verified (DOMAIN.md): each is placed at its district's representative
  point.
* Travel time: straight line × 1.3 at 30 km/h from each unit's representative
  point (the optimised measure).  The preset's 18 county grids have no
  hospital location: compare_plans stands in the point of each grid's most
  populous unit, so a county grid's own residents count 0 minutes at county
  level.  The "cell-level" column measures both plans from every populated
  500 m cell of the census surface (uniform within units, modelled) instead,
  so travel inside a unit counts.  The preset has 22 grids, the proposals 4
  or 8: the travel times are not like for like, the table shows the trade-off.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

URBAN = {
    "新华区": "石家庄市第二医院",
    "长安区": "石家庄市第三医院",
    "桥西区": "石家庄市中医院",
    "裕华区": "石家庄市第一医院",
}
COUNTIES = ("辛集市", "平山县", "行唐县", "赵县")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tolerance", type=float, default=0.3)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()

    from pyproj import Transformer

    from gridplan.plan.grids import GridPlan
    from gridplan.plan.units import build_units
    from gridplan.regions.compare import compare_plans
    from gridplan.regions.costs import Hospital, StraightLineCost, unit_points
    from gridplan.regions.propose import propose_grids
    from gridplan.surface.grid import census_surface
    from tests.synthetic import shijiazhuang_townships

    county = build_units("130100")
    township = build_units("130100", townships=shijiazhuang_townships().to_crs(4326))
    back = Transformer.from_crs(county.metric_crs, 4326, always_xy=True)
    pts = unit_points(county)

    def at(district: str, name: str) -> Hospital:
        r = int(np.flatnonzero(county.units["name"] == district)[0])
        return Hospital(name, *back.transform(*pts[r]))

    four = [at(d, n) for d, n in URBAN.items()]
    eight = four + [at(c, f"{c}人民医院") for c in COUNTIES]
    preset = GridPlan.from_preset("shijiazhuang")

    print(
        f"Shijiazhuang grid proposals, balance tolerance ±{args.tolerance:.0%}, "
        f"time limit {args.time_limit:.0f} s\n"
    )
    print(
        "| level | units | k | method | status | time s | bounds met | max/min | CV "
        "| max dev | mean min proposal | mean min preset | cell-level min proposal / preset "
        "| units moved | gap |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    known = {h.name: h for h in four}  # the preset's urban lead hospitals, same points
    for level, us in (("county", county), ("township (synthetic)", township)):
        cells = StraightLineCost(surface=census_surface(us, cell_m=500), cell_mean=True)
        for hosp in (four, eight):
            for method in ("auto", "heuristic"):
                p = propose_grids(
                    us, hosp, args.tolerance, method=method, time_limit_s=args.time_limit
                )
                c = compare_plans(preset, p.plan, us, hospitals=known)
                s = c.summary
                cc = compare_plans(preset, p.plan, us, cost=cells, hospitals=known).summary
                met = "yes" if p.bounds_met else f"no (best ±{p.best_tolerance:.1%})"
                gap = "—" if p.gap is None else f"{p.gap:.2%}"
                label = p.method if method == "heuristic" else f"auto→{p.method}"
                print(
                    f"| {level} | {len(us.units)} | {len(hosp)} | {label} | {p.status} "
                    f"| {p.solve_seconds:.2f} | {met} | {p.balance['max_min_ratio']:.2f} "
                    f"| {p.balance['cv']:.3f} | {p.balance['max_deviation']:.1%} "
                    f"| {s.loc['b', 'mean_minutes']:.1f} | {s.loc['a', 'mean_minutes']:.1f} "
                    f"| {cc.loc['b', 'mean_minutes']:.1f} / {cc.loc['a', 'mean_minutes']:.1f} "
                    f"| {c.n_moved} | {gap} |"
                )


if __name__ == "__main__":
    main()
