"""Texts of siting models and studies (gridplan.siting), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- sub-centre siting (gridplan.siting.models) ---------------------------------------
    # "optimize.invalid" is raised; the others render its params["problems"] one by one
    # (the generic checks without a text here use the "check.*" texts of i18n.common).
    "optimize.invalid": {
        "zh": "无法建立选址问题：输入有 {n} 处问题。",
        "en": "Cannot set up the siting problem: {n} problem(s) with the inputs.",
    },
    "optimize.k": {
        "zh": "{name}（新增站点数）须为 {low} 到 {high} 之间的整数（不超过可选候选点数），当前为 {value}。",
        "en": "{name} (new sites) must be a whole number from {low} to {high} (at most the candidates available), got {value}.",
    },
    "optimize.threshold": {
        "zh": "覆盖时间 {name} 须为大于 {low} 的分钟数，当前为 {value}（上限 {high}）。",
        "en": "The coverage time {name} must be more than {low} minutes, got {value} (limit {high}).",
    },
    "optimize.threshold_cutoff": {
        "zh": "覆盖时间 {threshold} 分钟超过了出行时间矩阵的截断时间 {cutoff} 分钟，两者之间的出行对缺失。",
        "en": "The coverage time of {threshold} min is above the travel-time matrix's cutoff of {cutoff} min; the pairs in between are missing.",
    },
    "optimize.cutoff": {
        "zh": "时间上限 {name} 须大于 {low} 分钟，当前为 {value}。",
        "en": "The time cutoff {name} must be more than {low} minutes, got {value}.",
    },
    "optimize.target": {
        "zh": "覆盖目标 {name} 须为 {low} 到 {high} 之间的比例（如 0.9），当前为 {value}。",
        "en": "The coverage target {name} must be a share between {low} and {high} (e.g. 0.9), got {value}.",
    },
    "optimize.target_infeasible": {
        "zh": "无法达到 {target:.1f}% 的覆盖目标：即使在所有候选点都设站，{threshold:g} 分钟内也只能覆盖 {max_coverage:.1f}% 的人口。请增加候选点、放宽时间或降低目标。",
        "en": "The {target:.1f}% coverage target cannot be reached: even a site at every candidate covers only {max_coverage:.1f}% of residents within {threshold:g} min. Add candidates, allow more time or lower the target.",
    },
    "optimize.time_limit": {
        "zh": "求解时间上限 {name} 须为大于 {low} 的秒数，当前为 {value}。",
        "en": "The solver time limit {name} must be more than {low} seconds, got {value}.",
    },
    "optimize.gap": {
        "zh": "最优性间隙 {name} 须在 {low} 到 {high} 之间，当前为 {value}。",
        "en": "The optimality gap {name} must be between {low} and {high}, got {value}.",
    },
    "optimize.unreachable": {
        "zh": "不可达惩罚时间 {name} 须为大于 {low} 的分钟数，当前为 {value}。",
        "en": "The unreachable penalty {name} must be more than {low} minutes, got {value}.",
    },
    "optimize.unreachable_demand": {
        "zh": "{n} 个需求点无法到达任何候选点或现有机构：请设定不可达惩罚时间（unreachable_minutes）或提供完整的出行时间矩阵。",
        "en": "{n} demand point(s) reach no candidate or existing facility: give unreachable_minutes or a complete travel-time matrix.",
    },
    "optimize.weights": {
        "zh": "人口权重中有 {n} 个为负数或不是有效数值。",
        "en": "{n} population weight(s) are negative or not finite numbers.",
    },
    "optimize.weights_shape": {
        "zh": "人口权重的形状为 {shape}，与出行时间矩阵的需求点数 {expected} 不一致。",
        "en": "The population weights have shape {shape}; the travel-time matrix has {expected} demand rows.",
    },
    "optimize.no_demand": {
        "zh": "没有需要服务的人口（需求点为空或人口合计为 0）。",
        "en": "Nobody to serve: no demand point, or the weights sum to 0.",
    },
    "optimize.shape": {
        "zh": "出行时间矩阵的形状 {shape} 不符合要求（应为 {expected}）。",
        "en": "The travel-time matrix has shape {shape}; expected {expected}.",
    },
    "optimize.minutes_nan": {
        "zh": "出行时间中有 {n} 个为 NaN（不可达请用 inf 表示）。",
        "en": "{n} travel time(s) are NaN (use inf for unreachable pairs).",
    },
    "optimize.minutes_negative": {
        "zh": "出行时间中有 {n} 个为负数。",
        "en": "{n} travel time(s) are negative.",
    },
    "optimize.mode": {
        "zh": "出行方式须为 {allowed} 之一，当前为 {value}。",
        "en": "The travel mode must be one of {allowed}, got {value}.",
    },
    "optimize.xy_shape": {
        "zh": "{name} 须为 (x, y) 坐标对，当前形状为 {shape}。",
        "en": "{name} must be (x, y) pairs, got shape {shape}.",
    },
    "optimize.too_large": {
        "zh": "{n} 个出行对过多，无法生成完整矩阵（上限 {limit}）：请设定时间上限 max_minutes。",
        "en": "{n} pairs are too many for a full matrix (limit {limit}): give max_minutes.",
    },
    "optimize.rc_shape": {
        "zh": "{name} 须为整数 (行, 列) 对，当前形状为 {shape}。",
        "en": "{name} must be integer (row, col) pairs, got shape {shape}.",
    },
    "optimize.rc_outside": {
        "zh": "{name} 中有 {n} 个格子位于格网之外。",
        "en": "{name}: {n} cell(s) lie outside the grid.",
    },
    "optimize.ids": {
        "zh": "候选点编号有 {n} 个，而候选点有 {expected} 个。",
        "en": "{n} candidate ids for {expected} candidates.",
    },
    "optimize.areas": {
        "zh": "排除区域须为多边形等几何对象，当前为 {types}。",
        "en": "Exclusion areas must be geometries (polygons), got {types}.",
    },
    "optimize.grid_choice": {
        "zh": "候选格网须且只能指定以下之一：间距 spacing_m、每隔 every 个格子、最多 max_candidates 个。",
        "en": "Give exactly one of spacing_m, every or max_candidates for the candidate grid.",
    },
    "optimize.existing": {
        "zh": "现有机构须为小于 {m} 且互不相同的候选点序号（或布尔掩码），共给出 {n} 个。",
        "en": "Existing facilities must be distinct candidate indices below {m} (or a boolean mask); {n} given.",
    },
    "optimize.baseline": {
        "zh": "现有机构出行时间 baseline_minutes 的形状为 {shape}，应为 {expected} 个非负数（不可达为 inf）。",
        "en": "baseline_minutes has shape {shape}; expected {expected} values of 0 or more (inf: unreachable).",
    },
    "optimize.capacity": {
        "zh": "服务能力须为正数，或为每个候选点（共 {m} 个）各给一个正数。",
        "en": "The capacity must be a positive number, or one positive number per candidate ({m}).",
    },
    "optimize.method": {
        "zh": "求解方法须为 {allowed} 之一，当前为 {value}。",
        "en": "The method must be one of {allowed}, got {value}.",
    },
    "optimize.crs": {
        "zh": "候选点坐标系 {crs} 与人口格网坐标系 {expected} 不一致。",
        "en": "The candidates are in {crs}, the population grid in {expected}.",
    },
    "optimize.no_candidates": {
        "zh": "没有可用的候选点（未提供，或全部位于排除区域内）。",
        "en": "No candidate left (none given, or all inside exclusion areas).",
    },
    # --- siting study (gridplan.siting.study) ---------------------------------------------
    "siting.invalid": {
        "zh": "无法进行选址分析：设置或输入有 {n} 处问题。",
        "en": "Cannot run the siting study: {n} problem(s) with the settings or inputs.",
    },
    # one text per setting of SitingSettings, for the generic checks (choice, number, integer)
    "siting.method": {
        "zh": "方法（method）须为以下之一：{allowed}；当前为 {value}。",
        "en": "method must be one of {allowed}, got {value}.",
    },
    "siting.level": {
        "zh": "新站点层级（level）须为以下之一：{allowed}；当前为 {value}。",
        "en": "level must be one of {allowed}, got {value}.",
    },
    "siting.candidates": {
        "zh": "候选点来源（candidates）须为以下之一：{allowed}；当前为 {value}。",
        "en": "candidates must be one of {allowed}, got {value}.",
    },
    "siting.solver": {
        "zh": "求解方式（solver）须为以下之一：{allowed}；当前为 {value}。",
        "en": "solver must be one of {allowed}, got {value}.",
    },
    "siting.k": {
        "zh": "新增站点数 k 须为 {low} 到 {high} 之间的整数，当前为 {value}。",
        "en": "k must be a whole number from {low} to {high}, got {value}.",
    },
    "siting.minutes": {
        "zh": "覆盖时间（分钟）须在 {low:g} 到 {high:g} 之间，当前为 {value}。",
        "en": "minutes must be from {low:g} to {high:g}, got {value}.",
    },
    "siting.target": {
        "zh": "目标覆盖率须在 {low:g} 到 {high:g} 之间，当前为 {value}。",
        "en": "target must be from {low:g} to {high:g}, got {value}.",
    },
    "siting.capacity": {
        "zh": "每站服务人口上限须在 {low:g} 到 {high:g} 之间，当前为 {value}。",
        "en": "capacity must be from {low:g} to {high:g}, got {value}.",
    },
    "siting.time_limit_s": {
        "zh": "求解时间上限（秒）须在 {low:g} 到 {high:g} 之间，当前为 {value}。",
        "en": "time_limit_s must be from {low:g} to {high:g}, got {value}.",
    },
    "siting.gap": {
        "zh": "最优性差距须在 {low:g} 到 {high:g} 之间，当前为 {value}。",
        "en": "gap must be from {low:g} to {high:g}, got {value}.",
    },
    "siting.max_demand": {
        "zh": "需求点数上限须为 {low} 到 {high} 之间的整数，当前为 {value}。",
        "en": "max_demand must be a whole number from {low} to {high}, got {value}.",
    },
    "siting.grid_spacing_m": {
        "zh": "候选网格间距（米）须在 {low:g} 到 {high:g} 之间，当前为 {value}。",
        "en": "grid_spacing_m must be from {low:g} to {high:g}, got {value}.",
    },
    "siting.curve_k_max": {
        "zh": "曲线最大 k 须为 {low} 到 {high} 之间的整数，当前为 {value}。",
        "en": "curve_k_max must be a whole number from {low} to {high}, got {value}.",
    },
    "siting.pmedian_cutoff_min": {
        "zh": "p-中位时间上限（分钟）须在 {low:g} 到 {high:g} 之间，当前为 {value}。",
        "en": "pmedian_cutoff_min must be from {low:g} to {high:g}, got {value}.",
    },
    "siting.capacity_method": {
        "zh": "服务能力上限只适用于最大覆盖（MCLP）和 p-中位模型，不适用于 {method}。",
        "en": "A capacity applies to MCLP and p-median only, not to {method}.",
    },
    "siting.centres_primary": {
        "zh": "升级现有中心不会增加基层医疗覆盖：请选择“医疗次中心”层级，或改用候选网格、自定义候选点。",
        "en": "Upgrading existing centres adds no primary care: choose the sub-centre level, or a candidate grid or list.",
    },
    "siting.no_list": {
        "zh": "候选点来源为“自定义列表”，但尚未上传候选点表格。",
        "en": "The candidate source is a list, but no candidate list has been uploaded.",
    },
    "siting.no_candidates": {
        "zh": "没有可用的候选点（来源：{source}）。",
        "en": "No candidate sites (source: {source}).",
    },
    "siting.circle_columns": {
        "zh": "排除圆形区域表缺少列：{missing}（需要经度 lon、纬度 lat、半径 radius_km）。",
        "en": "The exclusion circles lack columns {missing} (lon, lat, radius_km).",
    },
    "siting.circle": {
        "zh": "第 {row} 个排除圆形区域无效：经度 {lon}，纬度 {lat}，半径 {radius} 千米（应为中国境内经纬度，半径 0–100 千米）。",
        "en": "Exclusion circle {row} is not usable: lon {lon}, lat {lat}, radius {radius} km (lon/lat in China, radius 0–100 km).",
    },
    "siting.grid": {
        "zh": "传入的出行时间与人口栅格不在同一网格上。",
        "en": "The given travel times are not on the population surface's grid.",
    },
    "optimize.no_solver": {
        "zh": "精确求解需要 highspy（pip install highspy）；可先使用贪心算法。",
        "en": "The exact solver needs highspy (pip install highspy); use the greedy method meanwhile.",
    },
}
