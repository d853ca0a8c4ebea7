"""Texts of plan validation and townships (gridplan.plan), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- population provenance (gridplan.plan.population.provenance_label) ---------------
    "population.source.census2020": {"zh": "2020年人口普查", "en": "census 2020"},
    "population.source.uploaded": {"zh": "上传数据", "en": "uploaded"},
    "population.source.modelled": {"zh": "模型估算", "en": "modelled"},
    "population.source.none": {"zh": "无数据", "en": "no data"},
    # --- starting plan (gridplan.plan.grids.GridPlan.one_grid_per_unit) -------------------
    "plan.per_unit.name": {
        "zh": "{prefecture}：每个县级单位一个网格",
        "en": "{prefecture}: one grid per unit",
    },
    "plan.per_unit.grid": {"zh": "{unit}网格", "en": "{unit} grid"},
    "plan.per_unit.note": {
        "zh": "起始方案：每个县级单位一个网格（非种子文件内容）。",
        "en": "Starting plan: one grid per county-level unit (not from a seed document).",
    },
    "township.invalid": {
        "zh": "无法使用乡镇图层（{n} 个问题）：",
        "en": "The township layer cannot be used ({n} problem(s)):",
    },
    "township.empty": {
        "zh": "乡镇图层是空的（没有任何要素）。",
        "en": "The township layer is empty (no features).",
    },
    "township.no_crs": {
        "zh": "乡镇图层没有坐标系信息，无法确定其位置。",
        "en": "The township layer has no coordinate reference system.",
    },
    "township.no_columns": {
        "zh": "乡镇图层既没有名称列也没有代码列，无法识别乡镇。现有列：{columns}",
        "en": "The township layer has neither a name nor a code column. Columns: {columns}",
    },
    # --- plan validation (gridplan.plan.validate.validate_plan) ---------------------------
    "problem.outside": {
        "zh": "{n} 个单元不在本地级市范围内：{units}",
        "en": "{n} units lie outside the prefecture: {units}",
    },
    "problem.outside_listed": {
        "zh": "方案中列出的 {n} 个单元代码不属于本地级市：{units}",
        "en": "{n} unit codes listed in the plan are not in this prefecture: {units}",
    },
    "problem.unknown_units": {
        "zh": "方案中列出的 {n} 个单元代码在当前数据中不存在：{units}",
        "en": "{n} unit codes listed in the plan are not in the current data: {units}",
    },
    "problem.unassigned": {
        "zh": "{n} 个单元未分配到任何网格：{units}",
        "en": "{n} units belong to no grid: {units}",
    },
    "problem.duplicate": {
        "zh": "单元“{unit}”同时属于多个网格：{grids}",
        "en": "Unit '{unit}' is in more than one grid: {grids}",
    },
    "problem.not_contiguous": {
        "zh": "网格“{grid}”不连续，分为 {n} 块：{parts}",
        "en": "Grid '{grid}' is not contiguous; it has {n} parts: {parts}",
    },
    "problem.no_lead": {
        "zh": "{n} 个网格没有牵头医院：{grids}",
        "en": "{n} grids have no lead hospital: {grids}",
    },
    "problem.empty_grid": {
        "zh": "{n} 个网格没有任何单元：{grids}",
        "en": "{n} grids have no units: {grids}",
    },
    "preset": {
        "zh": "预设方案错误：{detail}",
        "en": "Preset error: {detail}",
    },
    "preset.malformed": {
        "zh": "方案文件格式错误（{n} 个问题）：",
        "en": "Malformed plan file ({n} problem(s)):",
    },
    "preset.missing_key": {"zh": "缺少字段“{key}”", "en": "missing key '{key}'"},
    # --- list separators (texts that join names or clauses: plan, report) -----------------
    "sep.enum": {"zh": "、", "en": ", "},
    "sep.comma": {"zh": "，", "en": ", "},
    "sep.clause": {"zh": "；", "en": "; "},
    # lists of Chinese place names keep the Chinese marks in both languages (they are names)
    "sep.names": {"zh": "、", "en": "、"},
    "sep.name_groups": {"zh": "；", "en": "；"},
}
