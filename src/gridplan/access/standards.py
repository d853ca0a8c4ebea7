"""The seeds' targets for primary care, checked per grid.

Each :class:`Standard` names the seed document it comes from.  Figures that
need data a plan does not have (beds, GPs of illustrative facilities) are
reported as "no data", never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridplan.access.coverage import plan_groups
from gridplan.facilities.types import CENTRES, PRIMARY_CARE
from gridplan.i18n import Lang, t
from gridplan.inputs.crs import transformer
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import PopulationSurface


@dataclass(frozen=True)
class Standard:
    """A target of a seed document: ``low``/``high`` bounds (``None``: none).

    Its name and the seed's words are the texts ``standard.<key>`` and
    ``standard.<key>.seed`` of :mod:`gridplan.i18n.access`
    (:func:`standard_label`, :func:`standard_source`).
    """

    key: str
    low: float | None
    high: float | None
    seed: str


STANDARDS: tuple[Standard, ...] = (
    Standard("coverage_15", 1.0, None, "002"),
    Standard("residents_per_centre", 30_000, 100_000, "004"),
    Standard("centres_per_township", 1.0, None, "004"),
    Standard("beds_per_1000", 1.2, None, "004"),
    Standard("gps_per_10000", 2.0, None, "004"),
    Standard("gps_per_10000_rizhao", 4.8, None, "002"),
)
_BY_KEY = {s.key: s for s in STANDARDS}


def standard_label(key: str, lang: Lang = "zh") -> str:
    """The name of standard ``key`` in ``lang``."""
    return t(f"standard.{key}", lang)


def standard_source(key: str, lang: Lang = "zh") -> str:
    """The seed document of standard ``key`` and its words, in ``lang``."""
    return t("standard.source", lang, seed=_BY_KEY[key].seed, quote=t(f"standard.{key}.seed", lang))


def facility_grids(
    facilities: pd.DataFrame, surface: PopulationSurface, groups: np.ndarray
) -> np.ndarray:
    """Grid position of each facility (-1 outside every unit), from the cell it stands in."""
    tf = transformer(4326, surface.grid.crs)
    x, y = tf.transform(facilities["lon"].to_numpy(float), facilities["lat"].to_numpy(float))
    r, c, ok = surface.grid.cell_of(np.asarray(x), np.asarray(y))
    unit = np.full(len(facilities), -1, dtype=np.int64)
    unit[ok] = surface.unit_index[r[ok], c[ok]]
    return np.where(unit >= 0, groups[np.clip(unit, 0, None)], -1)


def _status(value: float, std: Standard) -> str:
    if not np.isfinite(value):
        return "no_data"
    if std.low is not None and value < std.low - 1e-9:
        return "below"
    if std.high is not None and value > std.high + 1e-9:
        return "above"
    return "met"


def grid_standards(
    plan: GridPlan,
    unit_set: UnitSet,
    surface: PopulationSurface,
    facilities: pd.DataFrame,
    share_15: pd.Series,
) -> pd.DataFrame:
    """One row per grid and standard: ``value``, ``low``, ``high``, ``status``, ``seed``.

    ``standard`` is the standard's key: name it with :func:`standard_label`
    and :func:`standard_source` in the reader's language.

    ``share_15`` is the per-grid share covered within 15 minutes (in plan
    order), e.g. ``kpi_tables(...).by_grid["share"]`` at 15 minutes.
    """
    groups, ids = plan_groups(plan, unit_set)
    n = len(ids)
    pop = np.bincount(
        groups[groups >= 0],
        weights=unit_set.units["population"].fillna(0).to_numpy()[groups >= 0],
        minlength=n,
    )
    active = facilities[facilities["active"].astype(bool)]
    fg = facility_grids(active, surface, groups)
    is_centre = active["type"].isin(CENTRES).to_numpy()
    is_primary = active["type"].isin(PRIMARY_CARE).to_numpy()
    centres = np.bincount(fg[(fg >= 0) & is_centre], minlength=n).astype(float)

    def total(col: str) -> np.ndarray:
        vals = active[col].to_numpy(float)
        known = (fg >= 0) & is_primary & np.isfinite(vals)
        s = np.bincount(fg[known], weights=vals[known], minlength=n)
        has = np.bincount(fg[known], minlength=n) > 0
        return np.where(has, s, np.nan)

    townships = (unit_set.units["level"] == "township").to_numpy()
    n_town = np.bincount(groups[(groups >= 0) & townships], minlength=n).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "coverage_15": np.asarray(share_15, dtype=float),
            "residents_per_centre": np.where(centres > 0, pop / centres, np.inf),
            "centres_per_township": np.where(n_town > 0, centres / n_town, np.nan),
            "beds_per_1000": total("beds") / pop * 1000,
            "gps_per_10000": total("gps") / pop * 10_000,
            "gps_per_10000_rizhao": total("gps") / pop * 10_000,
        }
    rows = []
    for i, gid in enumerate(ids):
        for std in STANDARDS:
            v = float(values[std.key][i])
            rows.append({"grid_id": gid, "name": plan.grids[i].name, "standard": std.key,
                         "value": v, "low": std.low, "high": std.high,
                         "status": "below" if v == np.inf else _status(v, std),
                         "seed": std.seed})  # fmt: skip
    return pd.DataFrame(rows)
