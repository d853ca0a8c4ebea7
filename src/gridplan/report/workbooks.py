"""Excel workbooks for reports: the grid table and the coverage KPIs, with a sources sheet.

Written for a commission's annex, not for a script: headers in the planner's
language with their units (人口（人）, 面积（km²）, 覆盖率（%）, 平均用时（分钟）),
people as whole numbers, labels instead of codes (人口来源 2020年人口普查, not
``census2020``), empty cells where a figure is unknown (never ``nan`` or
``inf``: a time beyond the model's reach is said in words).  Every workbook
ends with a sources sheet naming where each column's figures come from, and
every text cell is neutralised against spreadsheet formulas
(:func:`gridplan.report.tables.frames_to_xlsx`).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridplan import __version__
from gridplan.access.coverage import KpiTables, centre_standard_flag
from gridplan.facilities.types import CENTRES, type_label
from gridplan.i18n import Lang, label, t
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import grid_statistics
from gridplan.plan.units import UnitSet
from gridplan.report.style import _missing
from gridplan.report.tables import frames_to_xlsx
from gridplan.surface.ageing import check_demand, demand_label


def people(x: Any) -> int | None:
    """A number of people as an ``int`` cell (``None``: unknown, an empty cell)."""
    if _missing(x) or not math.isfinite(float(x)):
        return None
    return round(float(x))


def decimal(x: Any, digits: int = 1) -> float | None:
    """A measure rounded for a table (``None`` where unknown or infinite)."""
    if _missing(x) or not math.isfinite(float(x)):
        return None
    return round(float(x), digits)


def percent(share: Any) -> float | None:
    """A share (0-1) as a percentage with one decimal."""
    if _missing(share) or not math.isfinite(float(share)):
        return None
    return round(float(share) * 100, 1)


def minutes_cell(x: Any, cutoff: float | None, lang: Lang) -> float | str | None:
    """Minutes with one decimal; an infinite time (beyond the model's reach) said in words."""
    if _missing(x):
        return None
    v = float(x)
    if math.isinf(v):
        if cutoff is not None and math.isfinite(cutoff):
            return t("report.xlsx.beyond", lang, cutoff=f"{cutoff:g}")
        return t("report.xlsx.unreachable", lang)
    return None if math.isnan(v) else round(v, 1)


def _head(key: str, lang: Lang, **params: Any) -> str:
    return t(f"report.xlsx.col.{key}", lang, **params)


def _table(rows: list[dict[str, Any]], keys: Iterable[str], lang: Lang, **params: Any) -> Any:
    """Rows keyed by column key as a table headed in ``lang`` (cells kept as Python values)."""
    keys = list(keys)
    df = pd.DataFrame([[r.get(k) for k in keys] for r in rows], columns=keys, dtype=object)
    for k in keys:  # whole numbers beside empty cells: kept whole (an object column is not)
        values = [v for v in df[k] if v is not None]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            df[k] = pd.array(list(df[k]), dtype="Int64")
    df.columns = [_head(k, lang, **params) for k in keys]
    return df


def _sheet(key: str, lang: Lang) -> str:
    return t(f"report.xlsx.sheet.{key}", lang)


# --- the grid workbook ----------------------------------------------------------------------

#: Columns of the grid sheet, in order (headers: ``report.xlsx.col.<key>``).
GRID_COLUMNS: tuple[str, ...] = (
    "grid_id", "grid_name", "lead_hospital", "members", "n_units", "unit_names", "population",
    "population_source", "age65plus", "share_65plus_pct", "area_km2", "density", "undrawn",
)  # fmt: skip
#: Columns of the unit sheet, in order.
UNIT_COLUMNS: tuple[str, ...] = (
    "unit_id", "unit_name", "level", "county_name", "grid_name", "lead_hospital", "population",
    "population_source", "age65plus", "share_65plus_pct", "area_km2",
)  # fmt: skip


def grid_rows(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[dict[str, Any]]:
    """One row per grid: lead hospital, members, units, population with source, area, density."""
    stats = grid_statistics(plan, unit_set, assignment)
    names = dict(zip(unit_set.units["unit_id"], unit_set.units["name"], strict=True))
    members = {g.grid_id: "、".join(g.members) for g in plan.grids}
    records: list[Any] = list(stats.itertuples())
    return [
        {
            "grid_id": str(r.grid_id),
            "grid_name": str(r.name),
            "lead_hospital": str(r.lead_hospital or ""),
            "members": members.get(str(r.grid_id), ""),
            "n_units": int(r.n_units),
            "unit_names": "、".join(str(names.get(u, u)) for u in r.units),
            "population": people(r.population),
            "population_source": provenance_label(str(r.population_source), lang)
            if r.n_units
            else "",
            "age65plus": people(r.age65plus),
            "share_65plus_pct": decimal(r.share_65plus_pct, 1),
            "area_km2": decimal(r.area_km2, 1) if r.area_km2 else None,
            "density": people(r.density),
            "undrawn": "、".join(str(x) for x in r.undrawn_units),
        }
        for r in records
    ]


def unit_rows(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[dict[str, Any]]:
    """One row per unit in the plan's grid order (units in no grid last)."""
    order = {g.grid_id: k for k, g in enumerate(plan.grids)}
    by_id = {g.grid_id: g for g in plan.grids}
    nowhere = t("report.xlsx.no_grid", lang)
    rows = []
    for i, (r, gid) in enumerate(
        zip(unit_set.units.itertuples(), assignment.to_numpy(), strict=True)
    ):
        g = None if _missing(gid) else by_id.get(str(gid))
        row = {
            "unit_id": str(r.unit_id),
            "unit_name": str(r.name),
            "level": label("report.level", str(r.level), lang),
            "county_name": "" if _missing(r.county_name) else str(r.county_name),
            "grid_name": g.name if g else nowhere,
            "lead_hospital": (g.lead_hospital or "") if g else "",
            "population": people(r.population),
            "population_source": provenance_label(str(r.population_source), lang),
            "age65plus": people(getattr(r, "age65plus", None)),
            "share_65plus_pct": decimal(getattr(r, "share_65plus_pct", None), 1),
            "area_km2": decimal(r.area_km2, 1) if r.has_geometry else None,
        }
        rows.append((order.get(g.grid_id, len(order)) if g else len(order), i, row))
    rows.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in rows]


def grid_workbook(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None, lang: Lang = "zh"
) -> bytes:
    """The plan as a workbook: a sheet of grids, one of units, and the sources sheet."""
    assignment = resolve_assignment(plan, unit_set.units) if assignment is None else assignment
    return frames_to_xlsx(
        {
            _sheet("grids", lang): _table(grid_rows(plan, unit_set, assignment, lang),
                                          GRID_COLUMNS, lang),
            _sheet("units", lang): _table(unit_rows(plan, unit_set, assignment, lang),
                                          UNIT_COLUMNS, lang),
            _sheet("sources", lang): sources_table(plan_sources(plan, unit_set, lang), lang),
        },
        report=True,
    )  # fmt: skip


# --- the coverage workbook ------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageAbout:
    """How a coverage was computed, as the sources sheet tells it.

    Attributes
    ----------
    minutes
        The coverage threshold.
    model, mode
        Travel-time model (``straight``, ``raster``, ``network``) and mode of travel.
    speed_kmh
        The speed used (the network model: speeds by road class instead).
    detour
        Road over straight distance (straight-line model only).
    cell_m
        Side of a population cell in metres.
    cutoff_min
        Times beyond it are not computed (raster and network models).
    population_source
        Provenance key of the population surface (``modelled``, ``uploaded``).
    demand
        Whose demand the cells count: ``all`` or ``65plus``.
    growth_pct
        The dashboard's population-growth assumption (% over the figures used).
    """

    minutes: float
    model: str
    mode: str
    speed_kmh: float
    detour: float | None
    cell_m: float
    cutoff_min: float | None = None
    population_source: str = "modelled"
    demand: str = "all"
    growth_pct: float = 0.0


#: KPI columns of the grid and unit sheets after their own (headers name the demand).
KPI_COLUMNS: tuple[str, ...] = (
    "population_d", "covered", "share_pct", "reachable", "unreachable", "unreachable_pct",
    "mean_minutes", "median_minutes", "p90_minutes", "not_assessed",
)  # fmt: skip
#: Columns of the facility sheet.
FACILITY_COLUMNS: tuple[str, ...] = (
    "facility_name", "facility_type", "facility_source", "served", "served_within",
    "centre_standard",
)  # fmt: skip


#: Every column key of the workbooks (headers: ``report.xlsx.col.<key>``).
ALL_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys((*GRID_COLUMNS, *UNIT_COLUMNS, *KPI_COLUMNS, *FACILITY_COLUMNS))
)
#: The verdicts of :func:`gridplan.access.coverage.centre_standard_flag`.
CENTRE_FLAGS: tuple[str, ...] = ("below", "within", "above")


def _kpis(r: Any, about: CoverageAbout, lang: Lang) -> dict[str, Any]:
    cutoff = about.cutoff_min
    return {
        "population_d": people(r["population"]),
        "covered": people(r["covered"]),
        "share_pct": percent(r["share"]),
        "reachable": people(r["reachable"]),
        "unreachable": people(r["unreachable"]),
        "unreachable_pct": percent(r["unreachable_share"]),
        "mean_minutes": minutes_cell(r["mean_minutes"], cutoff, lang),
        "median_minutes": minutes_cell(r["median_minutes"], cutoff, lang),
        "p90_minutes": minutes_cell(r["p90_minutes"], cutoff, lang),
        "not_assessed": people(r["not_assessed"]),
    }


def _who(demand: str, lang: Lang) -> dict[str, str]:
    """The header words for the people counted: all residents or those aged 65 and over."""
    key = "65plus" if check_demand(demand) == "65plus" else "all"
    return {"who": t(f"report.xlsx.who.{key}", lang), "who_l": t(f"report.xlsx.who_l.{key}", lang)}


def summary_table(tables: KpiTables, about: CoverageAbout, lang: Lang) -> pd.DataFrame:
    """The whole plan's KPIs, one per row: item and value."""
    s = tables.summary
    who = _who(about.demand, lang)
    cutoff = about.cutoff_min
    items = [
        (t("report.xlsx.sum.demand", lang), demand_label(about.demand, lang)),
        (t("report.xlsx.sum.minutes", lang), decimal(about.minutes, 1)),
        (_head("population_d", lang, **who), people(s["population"])),
        (_head("covered", lang, **who), people(s["covered"])),
        (_head("share_pct", lang), percent(s["share"])),
        (_head("reachable", lang, **who), people(s["reachable"])),
        (_head("unreachable", lang, **who), people(s["unreachable"])),
        (_head("unreachable_pct", lang), percent(s["unreachable_share"])),
        (_head("mean_minutes", lang), minutes_cell(s["mean_minutes"], cutoff, lang)),
        (_head("median_minutes", lang), minutes_cell(s["median_minutes"], cutoff, lang)),
        (_head("p90_minutes", lang), minutes_cell(s["p90_minutes"], cutoff, lang)),
        (_head("not_assessed", lang, **who), people(s["not_assessed_population"])),
    ]
    return pd.DataFrame(
        items, columns=[t("report.xlsx.col.item", lang), t("report.xlsx.col.value", lang)],
        dtype=object,
    )  # fmt: skip


def kpi_grid_table(tables: KpiTables, about: CoverageAbout, lang: Lang = "zh") -> pd.DataFrame:
    """The KPIs per grid as a report table (the workbook's 按网格 sheet, the KPI CSV)."""
    rows = [
        {"grid_id": str(r["grid_id"]), "grid_name": str(r["name"]), **_kpis(r, about, lang)}
        for _, r in tables.by_grid.iterrows()
    ]
    return _table(rows, ("grid_id", "grid_name", *KPI_COLUMNS), lang, **_who(about.demand, lang))


def facility_rows(
    facilities: pd.DataFrame, served: pd.DataFrame, about: CoverageAbout, lang: Lang
) -> list[dict[str, Any]]:
    """Each facility: name, type, source, residents it serves (nearest by time) and within
    the threshold; centres against 30,000–100,000 residents (only when all residents count)."""
    f = facilities.reset_index(drop=True)
    total = served["served"].to_numpy(dtype=float)
    within = served.get("served_within", pd.Series(np.full(len(f), np.nan))).to_numpy(float)
    flags = centre_standard_flag(total)
    judged = check_demand(about.demand) == "all"
    rows = []
    for i, r in enumerate(f.to_dict("records")):
        ftype = "" if _missing(r["type"]) else str(r["type"])
        centre = judged and ftype in CENTRES
        rows.append(
            {
                "facility_name": "" if _missing(r["name"]) else str(r["name"]),
                "facility_type": type_label(ftype, lang) if ftype else "",
                "facility_source": _facility_source(r.get("source"), lang),
                "served": people(total[i]),
                "served_within": people(within[i]),
                "centre_standard": t(f"report.xlsx.centre.{flags[i]}", lang) if centre else "",
            }
        )
    return rows


def _facility_source(source: Any, lang: Lang) -> str:
    return "" if _missing(source) else label("facilities.source", str(source), lang)


def coverage_workbook(
    tables: KpiTables,
    plan: GridPlan,
    unit_set: UnitSet,
    *,
    facilities: pd.DataFrame,
    served: pd.DataFrame,
    about: CoverageAbout,
    lang: Lang = "zh",
) -> bytes:
    """The coverage KPIs as a workbook: summary, per grid, per unit, per facility, sources.

    Parameters
    ----------
    tables
        :func:`gridplan.access.coverage.kpi_tables` at ``about.minutes``.
    plan, unit_set
        The plan the tables group by.
    facilities
        The facilities the times were computed to (in the travel model's order).
    served
        :func:`gridplan.access.coverage.catchments` of those facilities
        (``served``, and ``served_within`` the threshold).
    about
        How the coverage was computed (the sources sheet).
    lang
        Language of the headers and labels.
    """
    who = _who(about.demand, lang)
    grid_names = {g.grid_id: g.name for g in plan.grids}
    nowhere = t("report.xlsx.no_grid", lang)
    by_unit = [
        {
            "unit_id": str(r["unit_id"]),
            "unit_name": str(r["name"]),
            "level": label("report.level", str(r["level"]), lang),
            "grid_name": grid_names.get(str(r["grid_id"]), nowhere)
            if not _missing(r["grid_id"])
            else nowhere,
            **_kpis(r, about, lang),
        }
        for _, r in tables.by_unit.iterrows()
    ]
    sources = plan_sources(plan, unit_set, lang) + coverage_sources(facilities, about, lang)
    return frames_to_xlsx(
        {
            _sheet("summary", lang): summary_table(tables, about, lang),
            _sheet("by_grid", lang): kpi_grid_table(tables, about, lang),
            _sheet("by_unit", lang): _table(by_unit, ("unit_id", "unit_name", "level",
                                                      "grid_name", *KPI_COLUMNS), lang, **who),
            _sheet("facilities", lang): _table(facility_rows(facilities, served, about, lang),
                                               FACILITY_COLUMNS, lang, **who),
            _sheet("sources", lang): sources_table(sources, lang),
        },
        report=True,
    )  # fmt: skip


# --- the sources sheet ----------------------------------------------------------------------


def sources_table(items: list[tuple[str, str]], lang: Lang) -> pd.DataFrame:
    """The sources sheet: what (a column, an input, a rule) and where it comes from."""
    cols = [t("report.xlsx.col.item", lang), t("report.xlsx.col.source", lang)]
    return pd.DataFrame(items, columns=cols, dtype=object)


def _long_source(key: str, lang: Lang) -> str:
    """A population provenance key as a sentence (``report.source.<key>``, else its label)."""
    text = label("report.source", key, lang)
    return label("population.source", key, lang) if text == key else text


def _sources_of(values: Iterable[Any], lang: Lang) -> str:
    keys = sorted({p for v in values if isinstance(v, str) for p in v.split("+") if p})
    return t("report.xlsx.sep", lang).join(_long_source(k, lang) for k in keys)


def plan_sources(plan: GridPlan, unit_set: UnitSet, lang: Lang) -> list[tuple[str, str]]:
    """Where the plan, the boundaries and every population and area figure come from."""
    u = unit_set.units
    items = [(t("report.xlsx.src.plan", lang), plan.name.get(lang) or plan.plan_id)]
    seed = plan.seed or {}
    if seed.get("title"):
        doc = t("report.xlsx.src.document", lang, issuer=seed.get("issuer", ""),
                title=seed["title"], date=seed.get("date", ""))  # fmt: skip
        items.append((t("report.xlsx.src.plan_basis", lang), doc))
    items += [
        (t("report.xlsx.src.boundaries", lang), t("report.xlsx.src.boundaries_text", lang)),
        (_head("population", lang), _sources_of(u["population_source"], lang)),
    ]
    if "age65plus_source" in u.columns:
        items.append((_head("age65plus", lang), _sources_of(u["age65plus_source"], lang)))
    items += [
        (_head("area_km2", lang), t("report.xlsx.src.area", lang)),
        (_head("density", lang), t("report.xlsx.src.density", lang)),
        (t("report.xlsx.src.made", lang),
         t("report.xlsx.src.made_text", lang, version=__version__,
           date=datetime.date.today().isoformat())),
    ]  # fmt: skip
    return items


def coverage_sources(
    facilities: pd.DataFrame, about: CoverageAbout, lang: Lang
) -> list[tuple[str, str]]:
    """Where the coverage figures come from: residents, facilities, model, speeds, threshold."""
    counts = facilities["source"].fillna("").astype(str).value_counts()
    fac = [
        t("report.xlsx.src.facility_count", lang, source=_facility_source(s, lang), n=int(n))
        for s, n in sorted(counts.items())
        if s
    ]
    items = [
        (t("report.xlsx.sum.demand", lang), demand_label(about.demand, lang)),
        (t("report.xlsx.src.surface", lang),
         _surface_text(about.population_source, about.cell_m, lang)),
        (t("report.xlsx.src.facilities", lang), t("report.xlsx.sep", lang).join(fac)),
    ]  # fmt: skip
    if about.growth_pct:
        growth = t("report.xlsx.src.growth_text", lang, pct=f"{about.growth_pct:+g}")
        items.append((t("report.xlsx.src.growth", lang), growth))
    if "illustrative" in set(counts.index):
        items.append((t("report.xlsx.src.illustrative", lang),
                      t("report.xlsx.src.illustrative_text", lang)))  # fmt: skip
    items.append((t("report.xlsx.src.model", lang), label("report.model", about.model, lang)))
    speed = (
        t("report.xlsx.src.speed_roads", lang)
        if about.model == "network"
        else t("report.xlsx.src.speed_text", lang, speed=f"{about.speed_kmh:g}")
    )
    mode = label("report.mode", about.mode, lang)
    items.append((t("report.xlsx.src.mode", lang), f"{mode}{t('report.xlsx.sep', lang)}{speed}"))
    if about.model == "straight" and about.detour is not None:
        items.append((t("report.xlsx.src.detour", lang), f"{about.detour:g}"))
    if about.cutoff_min is not None and about.model != "straight":
        cutoff = t("report.xlsx.src.cutoff_text", lang, cutoff=f"{about.cutoff_min:g}")
        items.append((t("report.xlsx.src.cutoff", lang), cutoff))
    items += [
        (t("report.xlsx.src.rule", lang),
         t("report.xlsx.src.rule_text", lang, minutes=f"{about.minutes:g}",
           quote=t("standard.coverage_15.seed", lang))),
        (_head("served", lang, **_who(about.demand, lang)), t("report.xlsx.src.served", lang)),
        (t("report.xlsx.col.centre_standard", lang), t("report.xlsx.src.centre", lang)),
        (t("report.xlsx.col.not_assessed", lang, **_who(about.demand, lang)),
         t("report.xlsx.src.not_assessed", lang)),
    ]  # fmt: skip
    return items


#: The population surfaces the sources sheet describes in words (others: ``other``).
SURFACE_SOURCES: tuple[str, ...] = ("modelled", "uploaded", "other")


def _surface_text(source: str, cell_m: float, lang: Lang) -> str:
    key = source if source in SURFACE_SOURCES else "other"
    return t(f"report.xlsx.src.surface_{key}", lang, cell=f"{cell_m:g}")
