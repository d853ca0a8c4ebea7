"""The report document: a scenario's planning annex, built once, written as Word or PDF.

:func:`build_document` turns a scenario's inputs (:class:`ReportInputs`: the
plan, its units, the population surface, the facilities and the travel times
of a coverage question) into a :class:`ReportDocument`, a plain model of
sections made of paragraphs, tables and figures (PNG bytes of the report maps,
:mod:`gridplan.report.gridmap` and :mod:`gridplan.report.coveragemap`).  The
writers (:mod:`gridplan.report.word`, :mod:`gridplan.report.pdf`) only lay the
model out, so the Word and the PDF files say the same thing.

The contents follow a commission's planning annex: a cover; a summary; the grid
map; the grid table; the plan's validation; the 15-minute coverage map and the
KPIs per grid; the check against the policy documents' standards; the siting
proposal and the comparison of two scenarios when given; and an appendix of
data sources and method.  Every text is in the catalogue
(:mod:`gridplan.i18n`, ``report.doc.*``), Chinese by default.  Figures are
written for a Chinese report: thousands separators, whole people, one decimal
for shares and minutes; a missing figure is ``—``, never ``nan`` or ``inf``.
Documents are named by title, issuer and date, never by a file name.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridplan import __version__
from gridplan.access.coverage import CoverageIndex, KpiTables, kpi_tables, plan_groups
from gridplan.access.standards import STANDARDS, grid_standards, standard_label
from gridplan.i18n import Lang, label, t
from gridplan.plan.grids import Grid, GridPlan, list_presets, resolve_assignment
from gridplan.plan.networks import network_records
from gridplan.plan.population import combine_sources, provenance_label
from gridplan.plan.stats import grid_statistics, population_balance
from gridplan.plan.units import UnitSet
from gridplan.plan.validate import validate_plan
from gridplan.report.coveragemap import render_coverage_map_png
from gridplan.report.gridmap import render_grid_map_png
from gridplan.report.method import Method, _finite, method_items
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.base import TravelTimes

if TYPE_CHECKING:
    from gridplan.plan.compare import ScenarioComparison
    from gridplan.siting.study import SitingStudy

__all__ = [
    "LEAD_STANDARD_SEED",
    "SECTION_KEYS",
    "Cover",
    "Figure",
    "Paragraph",
    "ReportDocument",
    "ReportInputs",
    "ReportMeta",
    "Section",
    "Table",
    "build_document",
    "fmt_people",
    "fmt_share",
    "seed_documents",
]

#: The sections of a report, in order; ``siting`` and ``comparison`` only when given.
SECTION_KEYS: tuple[str, ...] = (
    "summary", "grid_map", "grid_table", "validation", "coverage", "standards", "siting",
    "comparison", "appendix",
)  # fmt: skip
#: The seed document whose rule "every grid has one lead hospital" the standards check
#: adds (Chuxiong: a close-knit urban medical group of a lead hospital and its members).
LEAD_STANDARD_SEED = "000"
#: Width of the maps in the report (inches) and their resolution: sharp on A4 paper.
_MAP_WIDTH_IN = 10.0
_MAP_DPI = 150
#: The threshold of the standards' coverage target (seed 002: the 15-minute circle).
_STANDARD_MINUTES = 15.0
#: Most validation problems and moved units listed one by one; the rest are counted.
_MAX_LISTED = 40
_DASH = "—"


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    """A paragraph: ``kind`` ``body``, ``note`` (small), ``warning`` (stands out) or ``item``
    (a bullet)."""

    text: str
    kind: str = "body"


@dataclass(frozen=True)
class Table:
    """A table of texts: a header row and body rows; ``numeric`` columns align right."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A map: PNG bytes and the caption under it."""

    png: bytes
    caption: str


Block = Paragraph | Table | Figure


@dataclass(frozen=True)
class Section:
    """A numbered section: its key (:data:`SECTION_KEYS`), heading and blocks."""

    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Cover:
    """The cover page: title, subtitle, labelled lines (scenario, version, date, author)."""

    title: str
    subtitle: str
    rows: tuple[tuple[str, str], ...]
    note: str


@dataclass(frozen=True)
class ReportDocument:
    """A whole report, ready for a writer."""

    lang: Lang
    title: str
    cover: Cover
    sections: tuple[Section, ...]

    @property
    def section_keys(self) -> list[str]:
        return [s.key for s in self.sections]

    @property
    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]


@dataclass(frozen=True)
class ReportMeta:
    """What the cover says besides the plan: the scenario's name and version, the author, the
    date (default today)."""

    scenario: str | None = None
    version: int | None = None
    author: str = ""
    date: dt.date | None = None


@dataclass
class ReportInputs:
    """Everything a report is built from (see :func:`gridplan.workflow.build_report`).

    Attributes
    ----------
    plan, units
        The plan and the planning units it is read on.
    surface
        Residents per cell.
    facilities
        The whole facility table (the standards count its centres, beds and GPs).
    used
        The facilities the coverage question reaches (the travel times' columns).
    times, index
        Travel times to the nearest of ``used`` and their coverage index.
    threshold
        The coverage time in minutes.
    model
        The travel-time model as the coverage map's provenance takes it: ``model``,
        ``mode``, ``speed_kmh``, ``detour`` (straight line), ``cutoff_min``.
    meta
        Cover texts.
    comparison, siting
        A comparison of two scenarios and a siting study, when the report has them.
    notes
        Population warnings the planner accepted.
    """

    plan: GridPlan
    units: UnitSet
    surface: PopulationSurface
    facilities: pd.DataFrame
    used: pd.DataFrame
    times: TravelTimes
    index: CoverageIndex
    threshold: float
    model: dict[str, Any]
    meta: ReportMeta = field(default_factory=ReportMeta)
    comparison: ScenarioComparison | None = None
    siting: SitingStudy | None = None
    notes: tuple[str, ...] = ()


# --- figures as a Chinese report writes them ------------------------------------------------


def fmt_people(value: Any) -> str:
    """Residents as a whole number with thousands separators (``802,057``); ``—`` if missing."""
    v = _finite(value)
    return _DASH if v is None else f"{round(v):,}"


def fmt_share(value: Any) -> str:
    """A share as a percentage with one decimal (``40.5%``); ``—`` if missing."""
    v = _finite(value)
    return _DASH if v is None else f"{v * 100:.1f}%"


def _fmt_number(value: Any, digits: int = 1) -> str:
    v = _finite(value)
    return _DASH if v is None else f"{v:,.{digits}f}"


def _fmt_signed_people(value: Any) -> str:
    v = _finite(value)
    return _DASH if v is None else f"{round(v):+,}"


def _fmt_points(value: Any) -> str:
    """A change of share in percentage points, one decimal (``+3.2``)."""
    v = _finite(value)
    return _DASH if v is None else f"{v * 100:+.1f}"


def _fmt_date(when: dt.date, lang: Lang) -> str:
    """``2025年3月1日``; ``2025-03-01`` in English (ISO 8601)."""
    pad = "02d" if lang == "en" else "d"
    return t(
        "report.doc.date", lang, y=when.year, m=format(when.month, pad), d=format(when.day, pad)
    )


def _column(key: str, lang: Lang) -> str:
    """A column heading: the text ``report.doc.col.<key>``."""
    return label("report.doc.col", key, lang)


def _columns(lang: Lang, *keys: str) -> tuple[str, ...]:
    return tuple(_column(k, lang) for k in keys)


def _joined(items: Sequence[str], lang: Lang) -> str:
    return t("sep.enum", lang).join(str(i) for i in items if str(i))


# --- the policy documents ------------------------------------------------------------------


@functools.cache
def seed_documents() -> dict[str, dict[str, str]]:
    """The seed documents the presets come from, by number (``"002"``): title, issuer, date."""
    out: dict[str, dict[str, str]] = {}
    for preset in list_presets():
        seed = GridPlan.from_preset(preset).seed
        number = str(seed.get("file", "")).partition("_")[0]
        if number and seed.get("title"):
            out[number] = {k: str(seed.get(k, "")) for k in ("title", "issuer", "date")}
    return out


def document_name(seed: dict[str, str], lang: Lang) -> str:
    """A document as a report cites it: ``《title》（issuer，date）``."""
    return t(
        "report.doc.cite", lang, title=seed.get("title", ""), issuer=seed.get("issuer", ""),
        date=seed.get("date", ""),
    )  # fmt: skip


def _seed_name(number: str, lang: Lang) -> str:
    seed = seed_documents().get(number)
    return document_name(seed, lang) if seed else t("report.doc.seed_unknown", lang)


# --- building the document -----------------------------------------------------------------


@dataclass
class _Facts:
    """What several sections share, computed once."""

    stats: pd.DataFrame
    balance: dict[str, float]
    problems: list[Any]
    kpis: KpiTables
    standards: pd.DataFrame


def _facts(inp: ReportInputs) -> _Facts:
    assignment = resolve_assignment(inp.plan, inp.units.units)
    stats = grid_statistics(inp.plan, inp.units, assignment)
    kpis = kpi_tables(inp.index, inp.plan, inp.units, inp.threshold)
    groups, ids = plan_groups(inp.plan, inp.units)
    share15 = inp.index.group_kpis(_STANDARD_MINUTES, groups, len(ids))["share"]
    standards = grid_standards(inp.plan, inp.units, inp.surface, inp.facilities, share15)
    return _Facts(
        stats=stats,
        balance=population_balance(stats),
        problems=validate_plan(inp.plan, inp.units, assignment),
        kpis=kpis,
        standards=_with_lead_standard(standards, inp.plan),
    )


def _with_lead_standard(standards: pd.DataFrame, plan: GridPlan) -> pd.DataFrame:
    """The seeds' standards and seed 000's rule: every grid is led by a named hospital."""
    rows = [
        {"grid_id": g.grid_id, "name": g.name, "standard": "lead_hospital",
         "value": 1.0 if g.lead_hospital.strip() else 0.0, "low": 1.0, "high": None,
         "status": "met" if g.lead_hospital.strip() else "below", "seed": LEAD_STANDARD_SEED}
        for g in plan.grids
    ]  # fmt: skip
    return pd.concat([standards, pd.DataFrame(rows)], ignore_index=True)


def build_document(inp: ReportInputs, lang: Lang = "zh") -> ReportDocument:
    """The report of ``inp`` in ``lang`` (maps drawn, tables formatted)."""
    facts = _facts(inp)
    pref = inp.units.prefecture.name
    sections = [
        _summary(inp, facts, lang),
        _grid_map(inp, lang),
        _grid_table(inp, facts, lang),
        _validation(facts, lang),
        _coverage(inp, facts, lang),
        _standards(facts, lang),
    ]
    if inp.siting is not None:
        sections.append(_siting(inp.siting, lang))
    if inp.comparison is not None:
        sections.append(_comparison(inp.comparison, lang))
    sections.append(_appendix(inp, lang))
    numbered = tuple(
        Section(s.key, t("report.doc.numbered", lang, n=i, title=s.title), s.blocks)
        for i, s in enumerate(sections, start=1)
    )
    return ReportDocument(
        lang=lang,
        title=t("report.doc.title", lang, pref=pref),
        cover=_cover(inp, lang),
        sections=numbered,
    )


def _cover(inp: ReportInputs, lang: Lang) -> Cover:
    meta = inp.meta
    plan_name = inp.plan.name.get(lang) or inp.plan.name.get("zh") or inp.plan.plan_id
    rows = [
        (t("report.doc.cover_prefecture", lang), inp.units.prefecture.name),
        (t("report.doc.cover_scenario", lang), meta.scenario or plan_name),
    ]
    if meta.version is not None:
        rows.append((t("report.doc.cover_version", lang), str(meta.version)))
    if meta.scenario and meta.scenario != plan_name:  # else the scenario line says it
        rows.append((t("report.doc.cover_plan", lang), plan_name))
    rows.append((t("report.doc.cover_date", lang), _fmt_date(meta.date or dt.date.today(), lang)))
    author = meta.author.strip() or t("report.doc.cover_no_author", lang)
    rows.append((t("report.doc.cover_author", lang), author))
    return Cover(
        title=t("report.doc.title", lang, pref=inp.units.prefecture.name),
        subtitle=t("report.doc.subtitle", lang),
        rows=tuple(rows),
        note=t("report.doc.cover_note", lang, version=__version__),
    )


# --- summary ---------------------------------------------------------------------------


def _summary(inp: ReportInputs, facts: _Facts, lang: Lang) -> Section:
    s = facts.kpis.summary
    total = float(np.nansum(facts.stats["population"].to_numpy(dtype=float)))
    sources = combine_sources(inp.units.units["population_source"])
    b = facts.balance
    minutes = f"{inp.threshold:g}"
    rows = [
        (t("report.doc.kf_grids", lang), f"{len(inp.plan.grids):,}"),
        (t("report.doc.kf_units", lang), f"{int(facts.stats['n_units'].sum()):,}"),
        (t("report.doc.kf_population", lang),
         t("report.doc.with_source", lang, value=fmt_people(total),
           source=provenance_label(sources, lang))),
        (t("report.doc.kf_balance", lang),
         t("report.doc.balance", lang, ratio=_fmt_number(b["max_min_ratio"], 2),
           cv=_fmt_number(b["cv"], 2), max=fmt_people(b["max"]), min=fmt_people(b["min"]))),
        (t("report.doc.kf_coverage", lang, t=minutes),
         t("report.doc.coverage_value", lang, share=fmt_share(s["share"]),
           covered=fmt_people(s["covered"]), pop=fmt_people(s["population"]))),
        (t("report.doc.kf_minutes", lang),
         t("report.doc.minutes_value", lang, mean=_fmt_number(s["mean_minutes"]),
           median=_fmt_number(s["median_minutes"]), p90=_fmt_number(s["p90_minutes"]),
           reachable=fmt_people(s["reachable"]))),
        (t("report.doc.kf_unreachable", lang),
         t("report.doc.unreachable_value", lang, n=fmt_people(s["unreachable"]),
           share=fmt_share(s["unreachable_share"]))),
    ]  # fmt: skip
    blocks: list[Block] = [
        Paragraph(t("report.doc.summary_intro", lang, pref=inp.units.prefecture.name)),
        Table((_column("item", lang), _column("value", lang)), tuple(rows)),
        Paragraph(t("report.doc.key_problems", lang)),
    ]
    blocks += [Paragraph(text, "item") for text in _key_problems(inp, facts, lang)]
    return Section("summary", t("report.doc.h_summary", lang), tuple(blocks))


def _key_problems(inp: ReportInputs, facts: _Facts, lang: Lang) -> list[str]:
    """The problems a meeting should hear first: validation, coverage, leads, standards, data."""
    out = []
    errors = [p for p in facts.problems if p.severity == "error"]
    warnings = [p for p in facts.problems if p.severity != "error"]
    if facts.problems:
        out.append(t("report.doc.kp_validation", lang, errors=len(errors), warnings=len(warnings)))
    by_grid = facts.kpis.by_grid
    low = by_grid[by_grid["share"].astype(float) < 1.0 - 1e-9].sort_values("share")
    if len(low):
        worst = [
            t("report.doc.name_value", lang, name=r["name"], value=fmt_share(r["share"]))
            for _, r in low.head(3).iterrows()
        ]
        out.append(
            t("report.doc.kp_coverage", lang, n=len(low), total=len(by_grid),
              t=f"{inp.threshold:g}", worst=_joined(worst, lang))
        )  # fmt: skip
    no_lead = [g.name for g in inp.plan.grids if not g.lead_hospital.strip()]
    if no_lead:
        out.append(t("report.doc.kp_no_lead", lang, n=len(no_lead)))
    unlocated = [g for g in inp.plan.unlocated_grids() if g.lead_hospital.strip()]
    if unlocated:
        out.append(t("report.doc.kp_unlocated", lang, n=len(unlocated)))
    failed = _failed_grids(facts.standards)
    if failed:
        out.append(t("report.doc.kp_standards", lang, n=len(failed), total=len(inp.plan.grids)))
    not_assessed = float(facts.kpis.summary.get("not_assessed_population", 0.0))
    if not_assessed > 0:
        out.append(t("report.doc.kp_not_assessed", lang, pop=fmt_people(not_assessed)))
    if _illustrative(inp.used):
        out.append(t("report.doc.kp_illustrative", lang))
    if inp.surface.uniform_within_units:
        out.append(t("report.doc.kp_uniform", lang))
    return out or [t("report.doc.kp_none", lang)]


def _illustrative(facilities: pd.DataFrame) -> bool:
    return bool(
        (facilities.get("source", pd.Series(dtype=str)).astype(str) == "illustrative").any()
    )


# --- grid map, grid table, validation ----------------------------------------------------


def _grid_map(inp: ReportInputs, lang: Lang) -> Section:
    png = render_grid_map_png(inp.plan, inp.units, lang=lang, dpi=_MAP_DPI, width_in=_MAP_WIDTH_IN)
    caption = t("report.doc.fig_grid_map", lang, pref=inp.units.prefecture.name)
    return Section("grid_map", t("report.doc.h_grid_map", lang), (Figure(png, caption),))


def _grid_table(inp: ReportInputs, facts: _Facts, lang: Lang) -> Section:
    names = dict(zip(inp.units.units["unit_id"].astype(str), inp.units.units["name"], strict=True))
    members = {g.grid_id: g.members for g in inp.plan.grids}
    rows = []
    for r in facts.stats.itertuples():
        unit_ids: list[Any] = list(r.units)  # type: ignore[arg-type]
        rows.append(
            (
                str(r.name),
                _lead_text(inp.plan.grid(str(r.grid_id)), lang),
                _joined(members.get(str(r.grid_id), []), lang) or _DASH,
                _joined([names.get(str(u), str(u)) for u in unit_ids], lang) or _DASH,
                fmt_people(r.population),
                provenance_label(str(r.population_source), lang),
                _fmt_number(r.area_km2),
                fmt_people(r.density),
            )
        )
    header = _columns(
        lang, "grid", "lead", "members", "units", "population", "pop_source", "area", "density"
    )
    total = float(np.nansum(facts.stats["population"].to_numpy(dtype=float)))
    note = t("report.doc.grid_table_note", lang, n=len(rows), pop=fmt_people(total))
    table = Table(header, tuple(rows), numeric=frozenset({4, 6, 7}))
    blocks: list[Block] = [table, Paragraph(note, "note")]
    if inp.plan.networks:
        blocks += _networks(inp, lang)
    return Section("grid_table", t("report.doc.h_grid_table", lang), tuple(blocks))


def _lead_text(grid: Grid, lang: Lang) -> str:
    """The lead hospital, and whether it is located (its WGS-84 point) or not yet."""
    if not grid.lead_hospital.strip():
        return t("report.doc.no_lead", lang)
    at = grid.lead_location
    if at is None:
        return t("report.doc.lead_unlocated", lang, name=grid.lead_hospital)
    return t("report.doc.lead_located", lang, name=grid.lead_hospital, lon=at[0], lat=at[1])


def _networks(inp: ReportInputs, lang: Lang) -> list[Block]:
    """The plan's networks (1+1+N alliances): leading institution, where it is, members."""
    rows = []
    for n in network_records(inp.plan, inp.units):
        lead = n["lead_hospital"]
        if lead["lon"] is not None:
            where = t("report.doc.net_located", lang, lon=lead["lon"], lat=lead["lat"])
        elif n["lead_unit"]:
            where = t("report.doc.net_in_unit", lang, unit=n["lead_unit"]["name"])
        else:
            where = _DASH
        units = _joined([m["name"] for m in n["members"]], lang) or _DASH
        rows.append((n["name"], lead["name"] or _DASH, where, units))
    header = _columns(lang, "network", "lead", "lead_where", "units")
    return [
        Paragraph(t("report.doc.networks_intro", lang, n=len(rows))),
        Table(header, tuple(rows)),
    ]


def _validation(facts: _Facts, lang: Lang) -> Section:
    title = t("report.doc.h_validation", lang)
    if not facts.problems:
        return Section("validation", title, (Paragraph(t("report.doc.valid", lang)),))
    severity = {
        "error": t("report.doc.sev_error", lang),
        "warning": t("report.doc.sev_warning", lang),
    }
    rows = tuple(
        (severity.get(p.severity, p.severity), p.message(lang))
        for p in facts.problems[:_MAX_LISTED]
    )
    blocks: list[Block] = [
        Paragraph(t("report.doc.validation_intro", lang, n=len(facts.problems))),
        Table((_column("severity", lang), _column("problem", lang)), rows),
    ]
    if len(facts.problems) > _MAX_LISTED:
        more = len(facts.problems) - _MAX_LISTED
        blocks.append(Paragraph(t("report.doc.more", lang, n=more), "note"))
    return Section("validation", title, tuple(blocks))


# --- coverage and the standards --------------------------------------------------------------


def _coverage(inp: ReportInputs, facts: _Facts, lang: Lang) -> Section:
    minutes = f"{inp.threshold:g}"
    png = render_coverage_map_png(
        inp.units, inp.surface, inp.times.minutes, inp.threshold, plan=inp.plan,
        facilities=inp.used, summary=facts.kpis.summary, provenance=inp.model, lang=lang,
        dpi=_MAP_DPI, width_in=_MAP_WIDTH_IN,
    )  # fmt: skip
    rows = tuple(
        (
            str(r["name"]),
            fmt_people(r["population"]),
            fmt_people(r["covered"]),
            fmt_share(r["share"]),
            _fmt_number(r["mean_minutes"]),
            _fmt_number(r["p90_minutes"]),
            fmt_people(r["unreachable"]),
            fmt_people(r["not_assessed"]),
        )
        for _, r in facts.kpis.by_grid.iterrows()
    )
    header = (
        _column("grid", lang), _column("assessed", lang),
        t("report.doc.col_covered", lang, t=minutes), _column("share", lang),
        _column("mean", lang), _column("p90", lang), _column("unreachable", lang),
        _column("not_assessed", lang),
    )  # fmt: skip
    blocks: list[Block] = [
        Paragraph(t("report.doc.coverage_intro", lang, t=minutes)),
        Figure(png, t("report.doc.fig_coverage", lang, t=minutes)),
        Table(header, rows, numeric=frozenset(range(1, 8))),
        Paragraph(t("report.doc.coverage_note", lang, t=minutes), "note"),
    ]
    if inp.surface.uniform_within_units:
        blocks.insert(1, Paragraph(t("report.doc.uniform_warning", lang), "warning"))
    return Section("coverage", t("report.doc.h_coverage", lang, t=minutes), tuple(blocks))


#: Decimals of each standard's value in the table.
_STANDARD_DIGITS = {"centres_per_township": 2, "beds_per_1000": 2, "gps_per_10000": 2,
                    "gps_per_10000_rizhao": 2}  # fmt: skip


def _standard_value(key: str, value: float, lang: Lang) -> str:
    if key == "lead_hospital":
        return ""
    if key == "coverage_15":
        return fmt_share(value)
    if key == "residents_per_centre":
        return t("report.doc.no_centre", lang) if value == np.inf else fmt_people(value)
    return _fmt_number(value, _STANDARD_DIGITS.get(key, 1))


def _standard_cell(key: str, value: float, status: str, lang: Lang) -> str:
    word = label("report.doc.status", status, lang)
    text = _standard_value(key, value, lang)
    return f"{text} {word}".strip() if status != "no_data" else word


def _failed_grids(standards: pd.DataFrame) -> list[str]:
    failed = standards[standards["status"].isin(["below", "above"])]
    return sorted(set(failed["grid_id"].astype(str)))


def _standard_keys() -> list[str]:
    return [s.key for s in STANDARDS] + ["lead_hospital"]


def _standard_name(key: str, lang: Lang) -> str:
    return t("report.doc.std_lead", lang) if key == "lead_hospital" else standard_label(key, lang)


def _standards(facts: _Facts, lang: Lang) -> Section:
    std = facts.standards
    keys = _standard_keys()
    header = (
        _column("grid", lang),
        *(_standard_name(k, lang) for k in keys),
        _column("verdict", lang),
    )
    rows = []
    for _, grid_rows in std.groupby("grid_id", sort=False):
        by_key = {r["standard"]: r for _, r in grid_rows.iterrows()}
        cells = [
            _standard_cell(k, float(by_key[k]["value"]), str(by_key[k]["status"]), lang)
            for k in keys
        ]
        failed = sum(by_key[k]["status"] in ("below", "above") for k in keys)
        verdict = (
            t("report.doc.verdict_fail", lang, n=failed)
            if failed
            else t("report.doc.verdict_pass", lang)
        )
        rows.append((str(grid_rows["name"].iat[0]), *cells, verdict))
    blocks: list[Block] = [
        Paragraph(t("report.doc.standards_intro", lang)),
        Table(header, tuple(rows)),
        Paragraph(t("report.doc.standards_rule", lang), "note"),
        Table(
            (_column("standard", lang), _column("target", lang),
             _column("document", lang)),
            tuple((_standard_name(k, lang), _target_text(k, lang), _standard_basis(k, lang))
                  for k in keys),
        ),
    ]  # fmt: skip
    return Section("standards", t("report.doc.h_standards", lang), tuple(blocks))


def _target_text(key: str, lang: Lang) -> str:
    if key == "lead_hospital":
        return t("report.doc.std_lead_target", lang)
    std = next(s for s in STANDARDS if s.key == key)
    fmt = fmt_share if key == "coverage_15" else (lambda v: f"{v:,g}")
    if std.low is not None and std.high is not None:
        return t("report.doc.target_range", lang, low=fmt(std.low), high=fmt(std.high))
    return t("report.doc.target_at_least", lang, low=fmt(std.low))


def _standard_basis(key: str, lang: Lang) -> str:
    """The document a standard comes from and its words (never a file name)."""
    if key == "lead_hospital":
        quote = t("report.doc.std_lead_quote", lang)
        number = LEAD_STANDARD_SEED
    else:
        quote = label("standard", f"{key}.seed", lang)
        number = next(s.seed for s in STANDARDS if s.key == key)
    return t("report.doc.basis", lang, document=_seed_name(number, lang), quote=quote)


# --- siting and comparison ---------------------------------------------------------------


def _siting(study: SitingStudy, lang: Lang) -> Section:
    s = study.settings
    intro = t(
        "report.doc.siting_intro", lang, k=study.k, t=f"{s.minutes:g}",
        method=label("report.doc.method", s.method, lang), before=fmt_share(study.share_before),
        after=fmt_share(study.share_after),
        gain=fmt_people(study.covered_after - study.covered_before),
    )  # fmt: skip
    sites = tuple(
        (
            _site_name(r["name"], i, lang),
            str(r["unit_name"] or _DASH),
            f"{float(r['lon']):.5f}, {float(r['lat']):.5f}",
            fmt_people(r["served_population"]),
            fmt_people(r["newly_covered"]),
        )
        for i, (_, r) in enumerate(study.sites.iterrows(), start=1)
    )
    by_grid = study.by_grid()
    grids = tuple(
        (
            str(r["name"]),
            str(int(r["new_sites"])),
            fmt_share(r["share_before"]),
            fmt_share(r["share_after"]),
            fmt_people(r["newly_covered"]),
        )
        for _, r in by_grid.iterrows()
        if r["new_sites"] > 0 or (_finite(r["newly_covered"]) or 0.0) > 0.5
    )
    blocks: list[Block] = [
        Paragraph(intro),
        Table(
            _columns(lang, "site", "unit", "lonlat", "served", "newly"),
            sites, numeric=frozenset({3, 4}),
        ),
        Table(
            _columns(lang, "grid", "new_sites", "share_before", "share_after", "newly"),
            grids or ((_DASH,) * 5,), numeric=frozenset({1, 2, 3, 4}),
        ),
        Paragraph(t("report.doc.siting_note", lang), "note"),
    ]  # fmt: skip
    if not study.recommended:  # sites on an even spread: where the spread put them
        blocks.insert(1, Paragraph(t("report.doc.siting_uniform", lang), "warning"))
    return Section("siting", t("report.doc.h_siting", lang), tuple(blocks))


def _site_name(name: Any, n: int, lang: Lang) -> str:
    """An upgraded facility's name, else ``新址 1`` (a candidate's id is no planner's word)."""
    return name if isinstance(name, str) and name else t("report.doc.new_site", lang, n=n)


def _side_name(side: dict[str, Any], lang: Lang) -> str:
    name = str(side.get("name") or side.get("plan") or "")
    version = side.get("version")
    return name if version is None else t("report.doc.name_version", lang, name=name, v=version)


def _comparison(cmp: ScenarioComparison, lang: Lang) -> Section:
    a, b = _side_name(cmp.a, lang), _side_name(cmp.b, lang)
    g = cmp.grids
    rows = tuple(
        (
            str(r["name_a"] if isinstance(r["name_a"], str) else r["name_b"]),
            fmt_people(r["population_a"]),
            fmt_people(r["population_b"]),
            _fmt_signed_people(r["population_diff"]),
            fmt_share(r["covered_share_a"]),
            fmt_share(r["covered_share_b"]),
            _fmt_points(r["covered_share_diff"]),
        )
        for _, r in g.iterrows()
    )
    header = _columns(lang, "grid", "pop_a", "pop_b", "pop_diff", "cov_a", "cov_b", "cov_diff")
    moved = tuple(
        (
            str(r["name"]),
            fmt_people(r["population"]),
            str(r["from"] or _DASH),
            str(r["to"] or _DASH),
        )
        for _, r in cmp.moved.head(_MAX_LISTED).iterrows()
    )
    blocks: list[Block] = [
        Paragraph(t("report.doc.compare_intro", lang, a=a, b=b, n=len(cmp.moved),
                    ratio_a=_fmt_number(cmp.balance_a.get("max_min_ratio"), 2),
                    ratio_b=_fmt_number(cmp.balance_b.get("max_min_ratio"), 2))),
        Table(header, rows, numeric=frozenset(range(1, 8))),
    ]  # fmt: skip
    if moved:
        blocks.append(
            Table(
                _columns(lang, "unit", "population", "from", "to"),
                moved, numeric=frozenset({1}),
            )
        )  # fmt: skip
    if len(cmp.moved) > _MAX_LISTED:
        blocks.append(Paragraph(t("report.doc.more", lang, n=len(cmp.moved) - _MAX_LISTED), "note"))
    if cmp.minutes is None:
        blocks.append(Paragraph(t("report.doc.compare_no_coverage", lang), "note"))
    return Section("comparison", t("report.doc.h_comparison", lang), tuple(blocks))


# --- appendix: data sources and method ----------------------------------------------------


def _appendix(inp: ReportInputs, lang: Lang) -> Section:
    how = method_items(Method(inp.surface, inp.units, inp.used, inp.model, inp.threshold), lang)
    items = [
        (t("report.doc.src_boundaries", lang),
         t("report.map.boundary", lang, crs=inp.units.metric_crs)),
        *how,
        (t("report.doc.src_plan", lang), _plan_source(inp.plan, lang)),
        (t("report.doc.src_standards", lang), _standard_documents(lang)),
        (t("report.doc.src_software", lang), t("report.doc.software", lang, version=__version__)),
    ]  # fmt: skip
    blocks: list[Block] = [Table((_column("item", lang), _column("source", lang)), tuple(items))]
    if _illustrative(inp.used):
        blocks.append(Paragraph(t("report.doc.illustrative_warning", lang), "warning"))
    blocks += [Paragraph(text, "note") for text in inp.notes]
    return Section("appendix", t("report.doc.h_appendix", lang), tuple(blocks))


def _plan_source(plan: GridPlan, lang: Lang) -> str:
    if not plan.seed.get("title"):
        return t("report.doc.plan_no_seed", lang)
    text = document_name(plan.seed, lang)
    if plan.seed_quote:
        text += t("report.doc.quote", lang, quote=plan.seed_quote)
    return text


def _standard_documents(lang: Lang) -> str:
    numbers = sorted({s.seed for s in STANDARDS} | {LEAD_STANDARD_SEED})
    return t("sep.clause", lang).join(_seed_name(n, lang) for n in numbers)
