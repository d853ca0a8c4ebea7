"""Texts of grid proposals (gridplan.regions), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- input problems: "regions.invalid" is raised, the others are its problems ----------
    "regions.invalid": {
        "zh": "无法生成网格方案：输入有 {n} 处问题。",
        "en": "Cannot propose grids: {n} problem(s) with the inputs.",
    },
    "regions.tolerance": {
        "zh": "人口均衡容差必须在 0 到 1 之间（界面滑块为 5%–50%），当前为 {tolerance}。",
        "en": "The balance tolerance must be between 0 and 1 (the slider spans 5%–50%); got {tolerance}.",
    },
    "regions.method": {
        "zh": "求解方法须为以下之一：{allowed}；当前为 {value}。",
        "en": "The method must be one of {allowed}, got {value}.",
    },
    "regions.k": {
        "zh": "网格数无效：{k}（可用的有边界单元共 {n} 个）。",
        "en": "Invalid number of grids: {k} ({n} drawn units available).",
    },
    "regions.hospital": {
        "zh": "第 {row} 家牵头医院应写作 (经度, 纬度) 或 (名称, 经度, 纬度)，当前为 {value}。",
        "en": "Lead hospital {row} must be (lon, lat) or (name, lon, lat), got {value}.",
    },
    "regions.bad_hospital": {
        "zh": "牵头医院 {hospital} 的坐标 ({lon}, {lat}) 不是 WGS-84 经纬度。",
        "en": "The coordinates ({lon}, {lat}) of lead hospital {hospital} are not WGS-84 longitude/latitude.",
    },
    "regions.shared_unit": {
        "zh": "牵头医院 {hospital} 与其他牵头医院位于同一单元 {unit}；每个网格需要各自的单元。请合并这些网格或改用乡镇图层。",
        "en": "Lead hospital {hospital} lies in {unit} together with another lead hospital; each grid needs a unit of its own. Merge those grids or load a township layer.",
    },
    "regions.cost_shape": {
        "zh": "出行时间矩阵的形状应为 单元数 × 医院数 = {expected}，实际为 {got}。",
        "en": "The travel-time matrix must be units × hospitals = {expected}; got {got}.",
    },
    "regions.cost_missing": {
        "zh": "出行时间模型缺少单元 {unit} 的数据。",
        "en": "The travel-time model has no minutes for the unit {unit}.",
    },
    "regions.no_solver": {
        "zh": "精确求解需要安装 highspy（HiGHS）；也可改用启发式方法。",
        "en": "The exact method needs highspy (HiGHS); use the heuristic instead.",
    },
    "regions.seeds_need_model": {
        "zh": "使用预先计算的出行时间矩阵时必须给出牵头医院位置，不能只给网格数。",
        "en": "With a precomputed travel-time matrix, give the lead hospitals' locations, not only the number of grids.",
    },
    "regions.cell_mean": {
        "zh": "按格子平均出行时间（cell_mean）需要人口栅格。",
        "en": "Averaging travel time over cells (cell_mean) needs a population surface.",
    },
    # --- remarks on a proposal (Proposal.notes; the plan's notes are their Chinese text) ----
    "regions.infeasible": {
        "zh": "在人口均衡 ±{tolerance} 的要求下不存在连片的网格划分（已由求解器证明）；下面给出最均衡的方案。",
        "en": "No contiguous partition keeps every grid within ±{tolerance} of the mean population (proven by the solver); the best-balanced plan is shown.",
    },
    "regions.infeasible_heuristic": {
        "zh": "启发式方法未找到满足人口均衡 ±{tolerance} 的连片方案（未证明不存在）；下面给出找到的最均衡方案。",
        "en": "The heuristic found no contiguous plan within ±{tolerance} of the mean population (not proven impossible); the best-balanced plan found is shown.",
    },
    "regions.note.seeds": {
        "zh": "牵头医院位置由 p-中位模型在单元代表点中选出（待定），请替换为实际医院。",
        "en": "The lead hospitals were placed at unit points by a p-median model (to be decided): replace them with the actual hospitals.",
    },
    "regions.note.no_balanced_plan": {
        "zh": "精确求解在时限内未找到最均衡方案，改用启发式结果。",
        "en": "The exact solver found no best-balanced plan within the time limit; the heuristic's plan is shown.",
    },
    "regions.note.no_feasible_plan": {
        "zh": "精确求解在时限内未找到可行方案，改用启发式结果。",
        "en": "The exact solver found no feasible plan within the time limit; the heuristic's plan is shown.",
    },
    "regions.note.outside_unit": {
        "zh": "{hospital} 不在任何单元内，归入最近的单元 {unit}（{km:.1f} km）",
        "en": "{hospital} lies in no unit: placed in the nearest, {unit} ({km:.1f} km)",
    },
    "regions.note.no_population": {
        "zh": "以下单元没有人口数，按 0 计：{units}",
        "en": "These units have no population and count as 0: {units}",
    },
    "regions.note.unreachable": {
        "zh": "部分单元到部分医院不可达，按 {penalty:.0f} 分钟惩罚计",
        "en": "Some units cannot reach some hospitals: counted as {penalty:.0f} minutes",
    },
    "regions.note.bridges": {
        "zh": "以下单元与有牵头医院的部分不相邻，经最近的单元连接（网格不连片）：{pairs}",
        "en": "These units do not border any part with a lead hospital and are joined through the nearest unit (the grid is not contiguous): {pairs}",
    },
    "regions.note.free_units": {
        "zh": "无边界的功能区（{units}）不参与连片判断，按出行时间和人口均衡分配到网格。",
        "en": "Functional zones without a boundary ({units}) take no part in contiguity: they are assigned by travel time and balance.",
    },
    # --- labels of a proposed plan (its Chinese names and notes; the plan name in both) ----
    "regions.separator": {"zh": "、", "en": ", "},
    "regions.pair_separator": {"zh": "；", "en": "; "},
    "regions.bridge": {"zh": "{a}—{b}", "en": "{a}–{b}"},
    "regions.default_hospital": {"zh": "牵头医院 {i}", "en": "Lead hospital {i}"},
    "regions.seed_hospital": {"zh": "待定（{unit}）", "en": "To be decided ({unit})"},
    "regions.grid_numbered": {"zh": "方案网格 {i}", "en": "Proposed grid {i}"},
    "regions.grid_of": {"zh": "{hospital}网格", "en": "{hospital} grid"},
    # the location is read back by compare_plans: keep "WGS-84 <lon>, <lat>"
    "regions.grid_note": {
        "zh": "GridPlan proposal（自动生成的方案）；牵头医院位置 WGS-84 {lon:.6f}, {lat:.6f}（位于 {unit}）",
        "en": "GridPlan proposal (generated); lead hospital at WGS-84 {lon:.6f}, {lat:.6f} (in {unit})",
    },
    "regions.plan_name": {
        "zh": "{prefecture}：{k} 个网格方案（人口均衡 ±{tolerance:.0%}）",
        "en": "{prefecture}: proposal of {k} grids (balance ±{tolerance:.0%})",
    },
    "regions.plan_name_unmet": {
        "zh": "{prefecture}：{k} 个网格方案（人口均衡 ±{tolerance:.0%}）（未满足均衡要求）",
        "en": "{prefecture}: proposal of {k} grids (balance ±{tolerance:.0%}) (bounds not met)",
    },
    "regions.plan_note": {
        "zh": "GridPlan proposal：由 gridplan.regions 自动生成的网格方案，供编辑参考，非政策文件内容。",
        "en": "GridPlan proposal: a grid plan generated by gridplan.regions, for editing, not a policy document.",
    },
    "regions.method.exact": {
        "zh": "精确（HiGHS 混合整数规划）",
        "en": "exact (HiGHS mixed-integer programme)",
    },
    "regions.method.heuristic": {
        "zh": "启发式（区域生长 + 局部搜索）",
        "en": "heuristic (region growing + local search)",
    },
    "regions.plan_method_met": {
        "zh": "方法：{method}，状态 {status}；人口均衡要求 ±{tolerance:.0%}，已满足。",
        "en": "Method: {method}, status {status}; balance ±{tolerance:.0%}, met.",
    },
    "regions.plan_method_unmet": {
        "zh": "方法：{method}，状态 {status}；人口均衡要求 ±{tolerance:.0%}，未满足，最好做到 ±{best:.1%}。",
        "en": "Method: {method}, status {status}; balance ±{tolerance:.0%}, not met: the best is ±{best:.1%}.",
    },
    "regions.plan_travel": {
        "zh": "出行时间模型：{model}；人口加权平均出行时间 {minutes:.1f} 分钟。",
        "en": "Travel-time model: {model}; population-weighted mean travel time {minutes:.1f} min.",
    },
}
