"""Texts of grid proposals (gridplan.regions), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- grid proposals (gridplan.regions) ----------------------------------------------
    "regions.tolerance": {
        "zh": "人口均衡容差必须在 0 到 1 之间（界面滑块为 5%–50%），当前为 {tolerance}。",
        "en": "The balance tolerance must be between 0 and 1 (the slider spans 5%–50%); got {tolerance}.",
    },
    "regions.k": {
        "zh": "网格数无效：{k}（可用的有边界单元共 {n} 个）。",
        "en": "Invalid number of grids: {k} ({n} drawn units available).",
    },
    "regions.shared_unit": {
        "zh": "多个牵头医院位于同一单元（{units}）；每个网格需要各自的单元。请合并这些网格或改用乡镇图层。",
        "en": "Several lead hospitals lie in the same unit ({units}); each grid needs a unit of its own. Merge those grids or load a township layer.",
    },
    "regions.cost_shape": {
        "zh": "出行时间矩阵的形状应为 单元数 × 医院数 = {expected}，实际为 {got}。",
        "en": "The travel-time matrix must be units × hospitals = {expected}; got {got}.",
    },
    "regions.cost_missing": {
        "zh": "出行时间模型缺少 {n} 个单元的数据：{units}",
        "en": "The travel-time model has no minutes for {n} units: {units}",
    },
    "regions.no_solver": {
        "zh": "精确求解需要安装 highspy（HiGHS）；也可改用启发式方法。",
        "en": "The exact method needs highspy (HiGHS); use the heuristic instead.",
    },
    "regions.bad_hospital": {
        "zh": "牵头医院坐标不是 WGS-84 经纬度：{hospitals}",
        "en": "Lead hospital coordinates are not WGS-84 longitude/latitude: {hospitals}",
    },
    "regions.seeds_need_model": {
        "zh": "使用预先计算的出行时间矩阵时必须给出牵头医院位置，不能只给网格数。",
        "en": "With a precomputed travel-time matrix, give the lead hospitals' locations, not only the number of grids.",
    },
    "regions.infeasible": {
        "zh": "在人口均衡 ±{tolerance} 的要求下不存在连片的网格划分（已由求解器证明）；下面给出最均衡的方案。",
        "en": "No contiguous partition keeps every grid within ±{tolerance} of the mean population (proven by the solver); the best-balanced plan is shown.",
    },
    "regions.infeasible_heuristic": {
        "zh": "启发式方法未找到满足人口均衡 ±{tolerance} 的连片方案（未证明不存在）；下面给出找到的最均衡方案。",
        "en": "The heuristic found no contiguous plan within ±{tolerance} of the mean population (not proven impossible); the best-balanced plan found is shown.",
    },
}
