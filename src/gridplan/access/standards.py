"""The seeds' targets for primary care, checked per grid.

Each :class:`Standard` names the seed document it comes from.  Figures that
need data a plan does not have (beds, GPs of illustrative facilities) are
reported as "no data", never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer

from gridplan.access.coverage import plan_groups
from gridplan.facilities.types import CENTRES, PRIMARY_CARE
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import PopulationSurface


@dataclass(frozen=True)
class Standard:
    key: str
    zh: str
    en: str
    low: float | None
    high: float | None
    seed: str
    seed_zh: str


STANDARDS: tuple[Standard, ...] = (
    Standard("coverage_15", "15分钟可达覆盖率", "Share within 15 minutes", 1.0, None, "002",
             "日照市：到2025年全面建成15分钟健康服务圈"),
    Standard("residents_per_centre", "每个社区卫生服务中心/乡镇卫生院服务人口",
             "Residents per community/township centre", 30_000, 100_000, "004",
             "郑州市：每个街道或每3–10万居民设置1所社区卫生服务中心"),
    Standard("centres_per_township", "每个乡镇（街道）的中心数", "Centres per township",
             1.0, None, "004", "郑州市：每个乡镇办好1所标准化乡镇卫生院"),
    Standard("beds_per_1000", "基层医疗机构每千人口床位", "Primary-care beds per 1,000",
             1.2, None, "004", "郑州市：基层医疗卫生机构千人口床位数达1.2张以上"),
    Standard("gps_per_10000", "每万居民全科医生数", "GPs per 10,000 residents", 2.0, None, "004",
             "郑州市：每万名居民拥有2名以上全科医生"),
    Standard("gps_per_10000_rizhao", "每万居民全科医生数（日照目标）",
             "GPs per 10,000 residents (Rizhao target)", 4.8, None, "002",
             "日照市：每万居民4.8名全科医生"),
)  # fmt: skip


def facility_grids(
    facilities: pd.DataFrame, surface: PopulationSurface, groups: np.ndarray
) -> np.ndarray:
    """Grid position of each facility (-1 outside every unit), from the cell it stands in."""
    tf = Transformer.from_crs(4326, surface.grid.crs, always_xy=True)
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
                         "label_zh": std.zh, "label_en": std.en, "value": v, "low": std.low,
                         "high": std.high, "status": "below" if v == np.inf else _status(v, std),
                         "seed": std.seed, "seed_zh": std.seed_zh})  # fmt: skip
    return pd.DataFrame(rows)
