"""Demand of the residents aged 65 and over: a population surface weighted by age.

Older residents are the heaviest users of primary care, so coverage and siting
may count them instead of every resident (the ``demand`` setting: ``all`` or
``65plus``).  :func:`older_residents` turns any population surface into theirs:
each cell's residents × the 65+ share of the unit the cell lies in, each
unit-less resident (a functional zone without polygon) × its zone's share.
Where the surface holds a unit's census total (the default census surface,
census totals spread by a weight raster) the unit's cells then hold exactly
its census 65+; a surface from an uploaded raster or points keeps its own
residents and applies the census share to them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gridplan import settings
from gridplan.errors import InputError
from gridplan.i18n import Lang, t
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import PopulationSurface

#: The demands a question may count, and how exports name them (English, stable).
DEMANDS: dict[str, str] = {"all": "all residents", "65plus": "residents 65+"}


def check_demand(demand: str | None) -> str:
    """``demand`` if it is one of :data:`DEMANDS`; ``None``: :data:`gridplan.settings.demand`.

    Raises
    ------
    InputError
        ``surface.demand`` naming the choices.
    """
    value = settings.demand if demand is None else demand
    if value not in DEMANDS:
        raise InputError(
            f"demand must be one of {', '.join(DEMANDS)}, got {str(value)[:30]!r}",
            code="surface.demand",
            params={"value": str(value)[:30], "choices": ", ".join(DEMANDS)},
        )
    return value


def demand_name(demand: str) -> str:
    """The English name exports give a demand: ``all residents`` or ``residents 65+``."""
    return DEMANDS[check_demand(demand)]


def demand_label(demand: str, lang: Lang = "zh") -> str:
    """The planner's name of a demand: 全部常住人口 / 65岁及以上老年人口."""
    if check_demand(demand) == "65plus":
        return t("surface.demand.65plus", lang)
    return t("surface.demand.all", lang)


def unit_shares(unit_set: UnitSet) -> np.ndarray:
    """Each unit's residents 65+ over its residents (0 where unknown), in unit order.

    A unit without an age figure (no census figure, or units built without
    age columns) counts no older residents rather than a guessed share.
    """
    u = unit_set.units.reset_index(drop=True)
    if "age65plus" not in u.columns:
        return np.zeros(len(u))
    pop = u["population"].to_numpy(dtype=float)
    old = u["age65plus"].to_numpy(dtype=float)
    ok = np.isfinite(pop) & np.isfinite(old) & (pop > 0)
    share = np.zeros(len(u))
    share[ok] = np.clip(old[ok] / pop[ok], 0.0, 1.0)
    return share


def older_residents(surface: PopulationSurface, unit_set: UnitSet) -> PopulationSurface:
    """The residents 65+ of ``surface``: each cell × its unit's 65+ share.

    Cells outside every unit count none.  ``unit_set`` must be the units
    ``surface`` was built on (the same order as ``surface.unit_ids``).
    """
    if surface.demand == "65plus":
        return surface
    share = unit_shares(unit_set)
    if len(share) != len(surface.unit_ids):
        raise InputError(
            "the population surface was built on other units",
            code="surface.units_mismatch",
            params={"n": len(surface.unit_ids), "m": len(share)},
        )
    idx = surface.unit_index
    cell_share = np.where(idx >= 0, share[np.clip(idx, 0, None)], 0.0)
    by_id = dict(zip(surface.unit_ids, share, strict=True))
    return dataclasses.replace(
        surface,
        population=(surface.population * cell_share).astype(np.float32),
        unplaced={k: v * float(by_id.get(k, 0.0)) for k, v in surface.unplaced.items()},
        demand="65plus",
    )
