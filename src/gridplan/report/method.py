"""How a result was computed: one account for the dashboard's panels, the report and the CLI.

Every analysis says where its residents and facilities come from, which
travel model and speeds it used (with their sources), the threshold rule and
the known limits.  :func:`method_items` gives that account as (item, text)
rows in the planner's language (the dashboard's 计算方法 panels and the
report's appendix); :func:`provenance_json` the same facts for ``--json``
(``provenance``), with the texts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from gridplan.i18n import Lang, label, t
from gridplan.plan.population import combine_sources, provenance_label
from gridplan.plan.units import UnitSet
from gridplan.surface.ageing import demand_label, demand_name
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH

if TYPE_CHECKING:  # the proposal's solvers load only where grids are proposed
    from gridplan.regions.instance import Proposal

_DASH = "—"
#: The items of the account, in order (texts ``report.doc.src_<key>``).
ITEMS: tuple[str, ...] = ("population", "facilities", "model", "rule", "limits")


@dataclass(frozen=True)
class Method:
    """What an analysis was computed from.

    ``model`` is the travel-time model as the report takes it: ``model``,
    ``mode``, ``speed_kmh``, ``detour`` (straight line), ``cutoff_min``;
    ``threshold`` the coverage time in minutes.
    """

    surface: PopulationSurface
    units: UnitSet
    used: pd.DataFrame
    model: Mapping[str, Any]
    threshold: float


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, else ``None``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def population_text(m: Method, lang: Lang) -> str:
    """Unit totals and the population grid: source, method, cell size, demand."""
    s = m.surface
    units = provenance_label(combine_sources(m.units.units["population_source"]), lang)
    return t(
        "report.doc.population", lang, units=units, surface=provenance_label(s.source, lang),
        method=label("surface.method", s.method, lang), cell=f"{s.grid.cell_m:,g}",
        demand=demand_label(s.demand, lang),
    )  # fmt: skip


def facility_counts(used: pd.DataFrame) -> dict[str, int]:
    """Facilities by source (``uploaded``, ``osm``, ``illustrative``, ``added``)."""
    counts = used["source"].astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def facilities_text(used: pd.DataFrame, lang: Lang) -> str:
    """How many facilities, from which sources (the illustrative network named as such)."""
    parts = [
        t("report.doc.fac_part", lang, label=label("facilities.source", s, lang), n=f"{n:,}")
        for s, n in facility_counts(used).items()
    ]
    sep = t("sep.comma", lang)
    return t("report.doc.facilities", lang, n=f"{len(used):,}", parts=sep.join(parts))


def model_text(model: Mapping[str, Any], lang: Lang) -> str:
    """The travel model, mode and speed with the speed's source; the detour if straight."""
    name = str(model.get("model", "straight"))
    mode = str(model.get("mode", "walk"))
    speed = _finite(model.get("speed_kmh"))
    text = t(
        "report.doc.model", lang, model=label("report.model", name, lang),
        mode=label("report.mode", mode, lang), speed=_DASH if speed is None else f"{speed:g}",
        source=label("speed_source", mode, lang),
    )  # fmt: skip
    detour = _finite(model.get("detour"))
    if name == "straight" and detour is not None:
        text += t("report.doc.detour", lang, detour=f"{detour:g}")
    return text


def known_limits(m: Method, lang: Lang) -> list[str]:
    """What the numbers do not account for, the data's own limits first."""
    out = []
    if m.surface.uniform_within_units:
        out.append(t("report.doc.kp_uniform", lang))
    if "illustrative" in facility_counts(m.used):
        out.append(t("report.doc.limit_illustrative", lang))
    out.append(t("report.doc.limit_unreachable", lang))
    if sum(m.surface.unplaced.values()) > 0:
        out.append(t("report.doc.limit_not_assessed", lang))
    out.append(t("report.doc.scope", lang))
    return out


def method_items(m: Method, lang: Lang) -> list[tuple[str, str]]:
    """The account as (item, text) rows: population, facilities, model, rule, known limits."""
    texts = {
        "population": population_text(m, lang),
        "facilities": facilities_text(m.used, lang),
        "model": model_text(m.model, lang),
        "rule": t("report.doc.rule", lang, t=f"{m.threshold:g}"),
        "limits": " ".join(known_limits(m, lang)),
    }
    return [(t(f"report.doc.src_{key}", lang), texts[key]) for key in ITEMS]


def provenance_json(m: Method, lang: Lang = "en") -> dict[str, Any]:
    """The account for the CLI's ``provenance``: the facts, then the same texts as the pages."""
    counts = facility_counts(m.used)
    sources = "+".join(sorted(counts)) or "none"
    mode = str(m.model.get("mode", "walk"))
    straight = str(m.model.get("model", "straight")) == "straight"
    return {
        "population": m.surface.source,
        "population_method": m.surface.method,
        "population_units": combine_sources(m.units.units["population_source"]),
        "uniform_within_units": m.surface.uniform_within_units,
        "cell_m": float(m.surface.grid.cell_m),
        "demand": demand_name(m.surface.demand),
        "facilities": sources,
        "facilities_note": "illustrative: not real locations" if "illustrative" in counts else "",
        "facility_sources": counts,
        "n_facilities": len(m.used),
        "travel_model": {
            "name": str(m.model.get("model", "straight")),
            "mode": mode,
            "speed_kmh": _finite(m.model.get("speed_kmh")),
            "speed_source": label("speed_source", mode, lang),
            "detour": _finite(m.model.get("detour")) if straight else None,
            "cutoff_min": None if straight else _finite(m.model.get("cutoff_min")),
        },
        "threshold_rule": f"covered when travel time <= {m.threshold:g} min",
        "threshold_min": m.threshold,
        "known_limits": known_limits(m, lang),
        "how_computed": [{"item": i, "text": x} for i, x in method_items(m, lang)],
    }


#: The items of a grid proposal's account (texts ``report.doc.prop_<key>``).
PROPOSAL_ITEMS: tuple[str, ...] = ("method", "model", "balance", "minutes", "limits")


def proposal_items(proposal: Proposal, lang: Lang) -> list[tuple[str, str]]:
    """How a grid proposal was computed, as (item, text) rows: the solver, the travel model,
    the balance rule, when its mean travel time is given, and its limits."""
    gap = "—" if proposal.gap is None or not math.isfinite(proposal.gap) else f"{proposal.gap:.2%}"
    straight = proposal.cost_model == "straight"
    texts = {
        "method": t("report.doc.prop_method_text", lang,
                    method=label("regions.method", proposal.method, lang),
                    status=proposal.status, gap=gap),
        # the proposal's default cost: regions.costs.StraightLineCost, by car
        "model": t("report.doc.prop_model_straight", lang, speed=f"{MODE_SPEEDS_KMH['drive']:g}",
                   detour=f"{DEFAULT_DETOUR:g}")
        if straight
        else t("report.doc.prop_model_other", lang, model=proposal.cost_model),
        "balance": t("report.doc.prop_balance_text", lang, tol=f"{proposal.tolerance:.0%}"),
        "minutes": t("report.doc.prop_minutes_text", lang),
        "limits": t("report.doc.prop_limits_text", lang),
    }  # fmt: skip
    return [(t(f"report.doc.prop_{key}", lang), texts[key]) for key in PROPOSAL_ITEMS]
