"""Chinese and English texts for messages that reach a planner.

The library raises errors with a stable ``code`` and parameters
(:mod:`gridplan.errors`); the dashboard renders them with :func:`error_text` in
the planner's language.  Chinese is the default.  This module has no UI
dependency, so the CLI can use it as well.
"""

from __future__ import annotations

from typing import Any, Literal

from gridplan.errors import GridPlanError

Lang = Literal["zh", "en"]

MESSAGES: dict[str, dict[str, str]] = {
    # --- uploads (gridplan.inputs) ---------------------------------------------------
    "upload.too_large": {
        "zh": "文件过大：{size_mb:.1f} MB，超过上限 {limit_mb:.0f} MB。",
        "en": "File too large: {size_mb:.1f} MB, over the {limit_mb:.0f} MB limit.",
    },
    "upload.unknown_format": {
        "zh": "无法识别文件格式：{filename}。请上传 GeoJSON、压缩的 Shapefile（.zip）或 GeoPackage（.gpkg）。",
        "en": "Unrecognised file format: {filename}. Upload GeoJSON, a zipped Shapefile (.zip) "
        "or a GeoPackage (.gpkg).",
    },
    "upload.unreadable": {
        "zh": "无法读取文件 {filename}：{detail}",
        "en": "Cannot read {filename}: {detail}",
    },
    "upload.encoding": {
        "zh": "无法识别文件 {filename} 的文字编码（已尝试 UTF-8、GBK、GB18030）。请在上传时指定编码。",
        "en": "Cannot decode the text in {filename} (tried UTF-8, GBK, GB18030). "
        "Declare the encoding when uploading.",
    },
    "upload.no_polygons": {
        "zh": "文件 {filename} 中没有面要素（多边形）。乡镇边界必须是面图层。",
        "en": "{filename} contains no polygons. A township layer must be a polygon layer.",
    },
    "upload.no_crs": {
        "zh": "文件 {filename} 没有坐标系信息（缺少 .prj），且坐标不是经纬度，无法确定坐标系。",
        "en": "{filename} has no coordinate reference system (no .prj) and its coordinates "
        "are not longitude/latitude.",
    },
    "upload.zip_unsafe": {
        "zh": "压缩包不安全：其中的文件“{member}”指向压缩包以外的路径，已拒绝。",
        "en": "Unsafe zip: member '{member}' points outside the archive; rejected.",
    },
    "upload.zip_no_layer": {
        "zh": "压缩包 {filename} 中没有找到 Shapefile（.shp）、GeoJSON 或 GeoPackage。",
        "en": "No Shapefile (.shp), GeoJSON or GeoPackage found in {filename}.",
    },
    "upload.zip_incomplete": {
        "zh": "Shapefile 不完整：缺少 {missing}。",
        "en": "Incomplete Shapefile: {missing} missing.",
    },
    "upload.empty": {
        "zh": "文件 {filename} 是空的（没有任何要素或数据行）。",
        "en": "{filename} is empty (no features or rows).",
    },
    "upload.not_in_china": {
        "zh": "文件 {filename} 的坐标转换后不在中国境内（范围 {bounds}），请检查坐标系声明。",
        "en": "The coordinates of {filename} fall outside China after conversion "
        "(extent {bounds}); check the declared coordinate system.",
    },
    "upload.bad_datum": {
        "zh": "坐标偏移声明 {datum} 无效，应为 WGS-84、GCJ-02 或 BD-09。",
        "en": "Invalid datum declaration {datum}; expected WGS-84, GCJ-02 or BD-09.",
    },
    "upload.bad_encoding": {
        "zh": "无法按指定的编码 {encoding} 读取文件 {filename} 中的文字。"
        "请检查编码，或不指定编码以自动识别。",
        "en": "Cannot decode the text in {filename} as the declared encoding {encoding}. "
        "Check the encoding, or leave it empty to detect it automatically.",
    },
    "upload.unknown_table_format": {
        "zh": "无法识别表格格式：{filename}。请上传 CSV（.csv/.txt）或 Excel（.xlsx）文件。",
        "en": "Unrecognised table format: {filename}. Upload a CSV (.csv/.txt) "
        "or an Excel (.xlsx) file.",
    },
    # --- tables (population uploads) ---------------------------------------------
    "table.missing_key": {
        "zh": "表格缺少标识列：需要行政区划代码（adcode / 代码）或名称（name / 名称）列之一。现有列：{columns}",
        "en": "The table needs a key column: an adcode/code or a name column. "
        "Columns found: {columns}",
    },
    "table.missing_population": {
        "zh": "表格缺少人口列（population / 人口 / 常住人口）。现有列：{columns}",
        "en": "The table has no population column (population / 人口 / 常住人口). "
        "Columns found: {columns}",
    },
    "table.bad_values": {
        "zh": "以下行的人口数不是非负数：{rows}",
        "en": "These rows have a population that is not a non-negative number: {rows}",
    },
    "table.unmatched": {
        "zh": "以下行未能匹配到任何行政单元，已忽略：{names}",
        "en": "These rows match no unit and were ignored: {names}",
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
    # --- population surface and travel time -------------------------------------
    "surface.cell_size": {
        "zh": "格网大小须在 {min:.0f}–{max:.0f} 米之间，当前为 {cell_m}。",
        "en": "Cell size must be between {min:.0f} and {max:.0f} m, got {cell_m}.",
    },
    "traveltime.speed": {
        "zh": "速度须在 0.5–150 km/h 之间，当前为 {speed}。",
        "en": "Speed must be between 0.5 and 150 km/h, got {speed}.",
    },
    "traveltime.detour": {
        "zh": "绕行系数须在 1.0–3.0 之间，当前为 {detour}。",
        "en": "Detour factor must be between 1.0 and 3.0, got {detour}.",
    },
    # --- raster travel time (gridplan.travel.costdistance) ---------------------------------
    # "costdistance.invalid" is raised; the others render its params["problems"] one by one.
    "costdistance.invalid": {
        "zh": "无法计算栅格出行时间：输入有 {n} 处问题。",
        "en": "Cannot compute raster travel times: {n} problem(s) with the inputs.",
    },
    "costdistance.shape": {
        "zh": "{name} 的大小为 {shape}，应与格网一致：{expected}。",
        "en": "{name} has shape {shape}; expected the grid's {expected}.",
    },
    "costdistance.negative_speed": {
        "zh": "{name} 中有 {n} 个速度为负数。",
        "en": "{name}: {n} speed(s) are negative.",
    },
    "costdistance.nonfinite_speed": {
        "zh": "{name} 中有 {n} 个速度不是有效数值。",
        "en": "{name}: {n} speed(s) are not finite numbers.",
    },
    "costdistance.speed_dtype": {
        "zh": "速度栅格必须是数值，当前类型为 {dtype}。",
        "en": "The speed raster must be numeric, got {dtype}.",
    },
    "costdistance.base_speed": {
        "zh": "基础速度须为正数（km/h），当前为 {speed}。",
        "en": "The base speed must be a positive number of km/h, got {speed}.",
    },
    "costdistance.cutoff": {
        "zh": "时间上限须大于 0 分钟，当前为 {cutoff}。",
        "en": "The cutoff must be more than 0 minutes, got {cutoff}.",
    },
    "costdistance.cell_size": {
        "zh": "格网大小须为正数，当前为 {cell_m}。",
        "en": "The cell size must be positive, got {cell_m}.",
    },
    "costdistance.mode": {
        "zh": "出行方式须为 {allowed} 之一，当前为 {value}。",
        "en": "The travel mode must be one of {allowed}, got {value}.",
    },
    "costdistance.tobler": {
        "zh": "坡度修正规则须为 {allowed} 之一，当前为 {value}。",
        "en": "The slope rule must be one of {allowed}, got {value}.",
    },
    "costdistance.engine": {
        "zh": "计算方法须为 {allowed} 之一，当前为 {value}。",
        "en": "The engine must be one of {allowed}, got {value}.",
    },
    "costdistance.landcover_dtype": {
        "zh": "土地覆盖栅格必须是整数类别，当前类型为 {dtype}。",
        "en": "The land cover raster must hold integer classes, got {dtype}.",
    },
    "costdistance.landcover_classes": {
        "zh": "以下土地覆盖类别没有设定速度：{classes}",
        "en": "Land cover classes without a speed: {classes}",
    },
    "costdistance.roads_column": {
        "zh": "道路图层缺少 {column} 列。现有列：{columns}",
        "en": "The road layer has no {column} column. Columns: {columns}",
    },
    "costdistance.roads_crs": {
        "zh": "道路图层没有坐标系信息。",
        "en": "The road layer has no coordinate reference system.",
    },
    "costdistance.no_facility": {
        "zh": "没有机构位于格网内可通行的格子上（共 {n} 个，{outside} 个在格网外，{on_barrier} 个位于水体等障碍上）。",
        "en": "No facility lies on a passable cell of the grid ({n} given, {outside} outside "
        "the grid, {on_barrier} on water or another barrier).",
    },
    "costdistance.facilities_shape": {
        "zh": "机构坐标须为 (x, y) 坐标对，当前形状为 {shape}。",
        "en": "Facility coordinates must be (x, y) pairs, got shape {shape}.",
    },
    "costdistance.sources_shape": {
        "zh": "起点须为 (行, 列) 对，当前形状为 {shape}。",
        "en": "Sources must be (row, col) pairs, got shape {shape}.",
    },
    "costdistance.source_outside": {
        "zh": "{n} 个起点位于栅格之外。",
        "en": "{n} source(s) lie outside the raster.",
    },
    # --- capacity-aware accessibility (gridplan.access.capacity) ----------------------------
    # "capacity.invalid" is raised; the others render its params["problems"] one by one.
    "capacity.network": {
        "zh": "道路网络模型需要先加载道路网络。",
        "en": "The road-network model needs a loaded road network.",
    },
    "capacity.invalid": {
        "zh": "无法进行考虑服务能力的可达性分析：输入有 {n} 处问题。",
        "en": "Cannot run the capacity-aware accessibility analysis: {n} problem(s) with the inputs.",
    },
    "capacity.shape": {
        "zh": "{name} 的大小为 {shape}，应与格网一致：{expected}。",
        "en": "{name} has shape {shape}; expected the grid's {expected}.",
    },
    "capacity.threshold": {
        "zh": "{name} 须为大于 0 的有限分钟数，当前为 {value}。",
        "en": "{name} must be a finite number of minutes above 0, got {value}.",
    },
    "capacity.beyond_reach": {
        "zh": "{name} = {value} 分钟，超过了已计算的出行时间范围 {max_minutes} 分钟。请用更大的时间上限重新计算。",
        "en": "{name} = {value} min is beyond the {max_minutes} min the travel times were computed for. Recompute them with a larger limit.",
    },
    "capacity.not_numeric": {
        "zh": "{name} 必须是数值。",
        "en": "{name} must be numbers.",
    },
    "capacity.length": {
        "zh": "{name} 有 {n} 个值，应为每个机构一个（共 {expected} 个）。",
        "en": "{name} has {n} value(s); expected one per facility ({expected}).",
    },
    "capacity.nonfinite": {
        "zh": "{name} 中有 {n} 个值不是有效数值。",
        "en": "{name}: {n} value(s) are not valid numbers.",
    },
    "capacity.negative": {
        "zh": "{name} 中有 {n} 个值为负数。",
        "en": "{name}: {n} value(s) are negative.",
    },
    "capacity.n_facilities": {
        "zh": "机构数须为不小于 0 的整数，当前为 {value}。",
        "en": "The number of facilities must be a whole number ≥ 0, got {value}.",
    },
    "capacity.pairs_length": {
        "zh": "格子、机构和出行时间的数量不一致：{lengths}。",
        "en": "Cells, facilities and travel times differ in length: {lengths}.",
    },
    "capacity.pairs_index": {
        "zh": "{name} 必须是整数编号，当前类型为 {dtype}。",
        "en": "{name} must hold integer indices, got {dtype}.",
    },
    "capacity.pairs_cell": {
        "zh": "{n} 个格子编号超出格网范围（共 {size} 个格子）。",
        "en": "{n} cell index(es) lie outside the grid ({size} cells).",
    },
    "capacity.pairs_facility": {
        "zh": "{n} 个机构编号超出范围（共 {n_facilities} 个机构）。",
        "en": "{n} facility index(es) are out of range ({n_facilities} facilities).",
    },
    "capacity.pairs_minutes": {
        "zh": "{n} 个出行时间为负数或不是有效数值。",
        "en": "{n} travel time(s) are negative or not finite.",
    },
    "capacity.pairs_duplicate": {
        "zh": "有 {n} 个（格子，机构）组合重复出现。",
        "en": "{n} (cell, facility) pair(s) are given more than once.",
    },
    "capacity.model": {
        "zh": "出行时间模型须为 {allowed} 之一，当前为 {value}。",
        "en": "The travel-time model must be one of {allowed}, got {value}.",
    },
    "capacity.facilities_shape": {
        "zh": "机构坐标须为 (x, y) 数值坐标对，当前形状为 {shape}。",
        "en": "Facility coordinates must be (x, y) pairs of numbers, got shape {shape}.",
    },
    "capacity.facilities_nonfinite": {
        "zh": "{n} 个机构的坐标不是有效数值。",
        "en": "{n} facility coordinate(s) are not valid numbers.",
    },
    "capacity.ratio": {
        "zh": "{name} 须为正数，当前为 {value}。",
        "en": "{name} must be a positive number, got {value}.",
    },
    "capacity.column_missing": {
        "zh": "机构表中没有 {column} 列。现有列：{columns}",
        "en": "The facility table has no {column} column. Columns: {columns}",
    },
    "capacity.no_capacity": {
        "zh": "{n} 个机构既没有服务能力、人员数，也没有其类型（{types}）的默认值。请在表中补充服务能力。",
        "en": "{n} facilit(y/ies) have no capacity, staff count or default for their type ({types}). Add a capacity column.",
    },
    "capacity.missing_supply": {
        "zh": "{column} 列中有 {n} 个机构没有数值。请补全，或指定缺失时使用的数值。",
        "en": "{column}: {n} facilit(y/ies) have no value. Fill them in or say which value to use.",
    },
    "capacity.grid_mismatch": {
        "zh": "出行时间与人口分布不在同一格网上。",
        "en": "The travel times and the population surface are on different grids.",
    },
    "capacity.order": {
        "zh": "处理顺序须恰好列出每个机构一次（共 {n} 个机构）。",
        "en": "The processing order must list every facility exactly once ({n} facilities).",
    },
    # --- road networks (gridplan.travel.network) ------------------------------------------
    "network.not_found": {
        "zh": "找不到道路网络文件：{filename}",
        "en": "Road network file not found: {filename}",
    },
    "network.unknown_format": {
        "zh": "无法识别道路网络文件格式：{filename}。请提供 OpenStreetMap XML（.osm）、GraphML（.graphml）或 .osm.pbf 文件。",
        "en": "Unrecognised road network format: {filename}. Provide OpenStreetMap XML (.osm), "
        "GraphML (.graphml) or an .osm.pbf file.",
    },
    "network.empty_file": {
        "zh": "道路网络文件 {filename} 是空的。",
        "en": "The road network file {filename} is empty.",
    },
    "network.unreadable": {
        "zh": "无法读取道路网络文件 {filename}：{detail}",
        "en": "Cannot read the road network file {filename}: {detail}",
    },
    "network.no_roads": {
        "zh": "道路网络文件 {filename} 中没有道路（没有带 highway 标签的路段）。",
        "en": "{filename} contains no roads (no ways tagged highway).",
    },
    "network.pbf_unsupported": {
        "zh": "无法直接读取 PBF 文件 {filename}：未安装 pyosmium 或 pyrosm。请先用 osmium 转换为 OSM XML，"
        "例如：osmium tags-filter {filename} w/highway -o roads.osm，然后上传 roads.osm。",
        "en": "Cannot read the PBF file {filename}: neither pyosmium nor pyrosm is installed. Convert it "
        "to OSM XML with osmium first, e.g. osmium tags-filter {filename} w/highway -o roads.osm, "
        "and load roads.osm.",
    },
    "network.no_source": {
        "zh": "未指定道路网络来源：请提供道路文件，或（联网时）提供下载范围多边形。",
        "en": "No road network source: give a road file or, when online, a polygon to download.",
    },
    "network.download_failed": {
        "zh": "从 OpenStreetMap 下载道路网络失败：{detail}",
        "en": "Downloading the road network from OpenStreetMap failed: {detail}",
    },
    "network.invalid": {
        "zh": "道路网络通行时间的输入有误：",
        "en": "Invalid input for road-network travel time:",
    },
    # --- facilities (gridplan.facilities) ------------------------------------------
    "facilities.missing_columns": {
        "zh": "机构表缺少必需的列：{missing}。现有列：{columns}",
        "en": "The facility table lacks required columns: {missing}. Columns found: {columns}",
    },
    "facilities.no_valid_rows": {
        "zh": "机构表 {filename} 中没有可用的行：共 {n_rows} 行均未通过检查（第 {rows} 行），请查看被拒绝行的原因。",
        "en": "No usable row in the facility table {filename}: all {n_rows} rows were rejected (rows {rows}); see the reasons listed.",
    },
    "facilities.unknown_type": {
        "zh": "无法识别的机构类型“{value}”。可用类型：{accepted}",
        "en": "Unknown facility type '{value}'. Accepted types: {accepted}",
    },
    "facilities.bad_coordinates": {
        "zh": "经纬度无效：经度 {lon}，纬度 {lat}（应为中国境内的 WGS-84 经纬度）。",
        "en": "Invalid coordinates: longitude {lon}, latitude {lat} (expected WGS-84 longitude/latitude in China).",
    },
    "facilities.duplicate_id": {
        "zh": "机构编号 {id} 已存在。",
        "en": "Facility id {id} already exists.",
    },
    "facilities.unknown_ids": {
        "zh": "以下机构编号不存在：{ids}",
        "en": "These facility ids do not exist: {ids}",
    },
    "facilities.osm_unavailable": {
        "zh": "无法从 OpenStreetMap 获取医疗机构：{detail}。请检查网络连接，或上传机构表。",
        "en": "Cannot fetch health facilities from OpenStreetMap: {detail}. Check the network connection, or upload a facility table.",
    },
    "facilities.row.duplicate_row": {
        "zh": "与第 {first} 行完全相同（重复行）",
        "en": "Identical to row {first} (duplicate row)",
    },
    "facilities.row.missing_name": {
        "zh": "缺少机构名称",
        "en": "Name missing",
    },
    "facilities.row.missing_type": {
        "zh": "缺少机构类型",
        "en": "Facility type missing",
    },
    "facilities.row.unknown_type": {
        "zh": "无法识别的机构类型“{value}”（可用：{accepted}）",
        "en": "Unknown facility type '{value}' (accepted: {accepted})",
    },
    "facilities.row.missing_coordinates": {
        "zh": "缺少经纬度",
        "en": "Longitude/latitude missing",
    },
    "facilities.row.non_numeric": {
        "zh": "经纬度不是数字：“{value}”",
        "en": "Longitude/latitude is not a number: '{value}'",
    },
    "facilities.row.bad_datum": {
        "zh": "坐标系“{value}”无法识别，应为 WGS-84、GCJ-02（高德）或 BD-09（百度）",
        "en": "Unknown datum '{value}'; expected WGS-84, GCJ-02 (Amap) or BD-09 (Baidu)",
    },
    "facilities.row.out_of_range": {
        "zh": "经纬度超出有效范围（经度 {lon}，纬度 {lat}），可能是投影坐标而不是经纬度",
        "en": "Coordinates out of range (longitude {lon}, latitude {lat}); projected coordinates instead of longitude/latitude?",
    },
    "facilities.row.swapped": {
        "zh": "经纬度可能颠倒（经度 {lon}，纬度 {lat}），请核对后重新上传",
        "en": "Longitude and latitude may be swapped (longitude {lon}, latitude {lat}); check and upload again",
    },
    "facilities.row.not_in_china": {
        "zh": "坐标不在中国境内（经度 {lon}，纬度 {lat}）",
        "en": "Coordinates outside China (longitude {lon}, latitude {lat})",
    },
    "facilities.row.outside_prefecture": {
        "zh": "位置不在本地级市范围内（经度 {lon}，纬度 {lat}）",
        "en": "Location outside the prefecture (longitude {lon}, latitude {lat})",
    },
    "facilities.row.near_duplicate": {
        "zh": "与第 {first} 行重复：名称相同且相距 {dist} 米（不足 {limit} 米）",
        "en": "Duplicate of row {first}: same name, {dist} m apart (under {limit} m)",
    },
    # --- population surfaces from uploads (gridplan.surface) -------------------------
    "raster.unreadable": {
        "zh": "无法读取人口栅格 {filename}：{detail}。请上传 GeoTIFF（.tif）文件。",
        "en": "Cannot read the population raster {filename}: {detail}. Upload a GeoTIFF (.tif).",
    },
    "raster.no_crs": {
        "zh": "人口栅格 {filename} 没有坐标系信息，无法确定其位置。请在 GIS 软件中为其定义坐标系（如 WGS-84，EPSG:4326）后重新上传。",
        "en": "The population raster {filename} has no coordinate reference system. Define one in a GIS (e.g. WGS-84, EPSG:4326) and upload it again.",
    },
    "raster.not_in_china": {
        "zh": "人口栅格 {filename} 不在中国境内（经纬度范围 {bounds}），请检查坐标系。",
        "en": "The population raster {filename} lies outside China (extent {bounds}); check its coordinate system.",
    },
    "raster.no_overlap": {
        "zh": "人口栅格 {filename} 与本地级市范围没有重叠。",
        "en": "The population raster {filename} does not overlap the prefecture.",
    },
    "raster.too_large": {
        "zh": "人口栅格 {filename} 过大：{size_mb:.1f} MB，超过上限 {limit_mb:.0f} MB。请先裁剪到本地级市范围。",
        "en": "The population raster {filename} is too large: {size_mb:.1f} MB, over the {limit_mb:.0f} MB limit. Clip it to the prefecture first.",
    },
    "raster.window_too_large": {
        "zh": "人口栅格 {filename} 覆盖本地级市的部分有 {pixels} 个像元，超过上限 {limit}。请先重采样到较粗的分辨率。",
        "en": "The part of the raster {filename} over the prefecture has {pixels} pixels, over the {limit} limit. Resample it to a coarser resolution first.",
    },
    "raster.negative": {
        "zh": "人口栅格 {filename} 中有 {n} 个像元为负值（最小 {min}）。人口数不能为负；若该值表示无数据，请在文件中将其声明为 nodata。",
        "en": "The population raster {filename} has {n} negative pixels (minimum {min}). Population cannot be negative; if this value means no data, declare it as the file's nodata value.",
    },
    "weights.negative": {
        "zh": "权重栅格 {filename} 中有 {n} 个负值（最小 {min}），权重必须大于或等于 0。",
        "en": "The weight raster {filename} has {n} negative values (minimum {min}); weights must be 0 or more.",
    },
    "weights.shape": {
        "zh": "权重数组的形状 {shape} 与格网 {expected} 不一致。",
        "en": "The weight array has shape {shape}, the grid {expected}.",
    },
    "points.no_columns": {
        "zh": "人口点表格缺少列：{missing}。需要经度（lon / lng / 经度）、纬度（lat / 纬度）和人口（population / 人口 / 常住人口）列。现有列：{columns}",
        "en": "The population point table lacks columns: {missing}. It needs longitude (lon / lng / 经度), latitude (lat / 纬度) and population (population / 人口 / 常住人口). Columns found: {columns}",
    },
    "points.no_valid_rows": {
        "zh": "人口点表格 {filename} 的 {n} 行中没有可用的行，请查看各行的问题。",
        "en": "None of the {n} rows of the population point table {filename} is usable; see the problems listed.",
    },
    "polygons.no_crs": {
        "zh": "人口面图层没有坐标系信息。",
        "en": "The population polygon layer has no coordinate reference system.",
    },
    "polygons.empty": {
        "zh": "人口面图层是空的（没有任何要素）。",
        "en": "The population polygon layer is empty (no features).",
    },
    "polygons.no_column": {
        "zh": "人口面图层中没有人口列“{column}”。现有列：{columns}",
        "en": "The population polygon layer has no column '{column}'. Columns found: {columns}",
    },
    "polygons.no_valid_rows": {
        "zh": "人口面图层的 {n} 个要素中没有可用的要素，请查看各要素的问题。",
        "en": "None of the {n} features of the population polygon layer is usable; see the problems listed.",
    },
    "download.bad_url": {
        "zh": "下载地址无效：{url}。只支持 http:// 或 https:// 地址。",
        "en": "Invalid download address: {url}. Only http:// and https:// addresses are supported.",
    },
    "download.not_found": {
        "zh": "下载失败：服务器上找不到文件（HTTP 404）：{url}。请检查地址、年份和国家代码。",
        "en": "Download failed: file not found on the server (HTTP 404): {url}. Check the address, year and country code.",
    },
    "download.http_error": {
        "zh": "下载失败：服务器返回 HTTP {status}（{reason}）：{url}",
        "en": "Download failed: the server answered HTTP {status} ({reason}): {url}",
    },
    "download.timeout": {
        "zh": "下载超时：{timeout} 秒内服务器没有响应：{url}。请检查网络连接后重试，或增大超时时间。",
        "en": "Download timed out: no answer from the server within {timeout} s: {url}. Check the network connection and try again, or raise the timeout.",
    },
    "download.failed": {
        "zh": "下载失败：{url}：{detail}",
        "en": "Download failed: {url}: {detail}",
    },
    "download.too_large": {
        "zh": "下载的文件过大：{size_mb:.1f} MB，超过上限 {limit_mb:.0f} MB：{url}",
        "en": "The download is too large: {size_mb:.1f} MB, over the {limit_mb:.0f} MB cap: {url}",
    },
    "download.no_space": {
        "zh": "磁盘空间不足：下载需要 {size_mb:.0f} MB，可用空间只有 {free_mb:.0f} MB。",
        "en": "Not enough disk space: the download needs {size_mb:.0f} MB, {free_mb:.0f} MB free.",
    },
    "download.not_raster": {
        "zh": "下载的文件不是 GeoTIFF 栅格：{url}：{detail}",
        "en": "The downloaded file is not a GeoTIFF raster: {url}: {detail}",
    },
    "popsurface.row.missing_coordinates": {
        "zh": "缺少经纬度",
        "en": "Longitude/latitude missing",
    },
    "popsurface.row.non_numeric_coordinates": {
        "zh": "经纬度不是数字（经度“{lon}”，纬度“{lat}”）",
        "en": "Longitude/latitude is not a number (longitude '{lon}', latitude '{lat}')",
    },
    "popsurface.row.bad_coordinates": {
        "zh": "经纬度超出有效范围（经度 {lon}，纬度 {lat}），可能是投影坐标而不是经纬度",
        "en": "Coordinates out of range (longitude {lon}, latitude {lat}); projected coordinates instead of longitude/latitude?",
    },
    "popsurface.row.swapped_coordinates": {
        "zh": "经纬度可能颠倒（经度 {lon}，纬度 {lat}），请核对后重新上传",
        "en": "Longitude and latitude may be swapped (longitude {lon}, latitude {lat}); check and upload again",
    },
    "popsurface.row.missing_population": {
        "zh": "缺少人口数",
        "en": "Population missing",
    },
    "popsurface.row.bad_population": {
        "zh": "人口数不是数字：“{value}”",
        "en": "Population is not a number: '{value}'",
    },
    "popsurface.row.negative_population": {
        "zh": "人口数为负数：{value}",
        "en": "Negative population: {value}",
    },
    "popsurface.row.no_geometry": {
        "zh": "没有几何图形（面为空）",
        "en": "No geometry (empty polygon)",
    },
    "popsurface.row.not_polygon": {
        "zh": "不是面要素（多边形）",
        "en": "Not a polygon",
    },
    "popsurface.summary": {
        "zh": "人口格网：保留 {kept} 人（输入 {input} 人）；{dropped} 人位于本地级市各单元之外，已舍弃（{n_outside} 处）。",
        "en": "Population surface: {kept} people kept of {input}; {dropped} outside the prefecture's units were dropped ({n_outside} items).",
    },
    "popsurface.fallback_uniform": {
        "zh": "{n} 个面在权重栅格中权重全为 0，已改为均匀分布：{names}",
        "en": "{n} polygons have zero weight in every cell and were spread uniformly: {names}",
    },
    "popsurface.bad_rows": {
        "zh": "{n} 行数据无法使用，已跳过：",
        "en": "{n} rows could not be used and were skipped:",
    },
    "facility.add_missing": {
        "zh": "新增机构需要填写名称、经度和纬度。",
        "en": "A new facility needs a name, a longitude and a latitude.",
    },
    "access.no_roads": {
        "zh": "道路网络模型需要先上传道路文件（.osm 或 .graphml）。",
        "en": "The road-network model needs a road file (.osm or .graphml).",
    },
    # --- regions and presets --------------------------------------------------------
    "unknown_region": {
        "zh": "未找到地级行政区：{query}。请输入名称（如“石家庄市”）或 6 位行政区划代码。",
        "en": "Prefecture not found: {query}. Give a name (e.g. 石家庄市) or a 6-digit adcode.",
    },
    "preset": {
        "zh": "预设方案错误：{detail}",
        "en": "Preset error: {detail}",
    },
    # --- reports (gridplan.report) ------------------------------------------------------
    "report.no_cjk_font": {
        "zh": "未找到中文字体，无法生成网格地图图片。请安装 fonts-noto-cjk"
        "（Debian/Ubuntu：sudo apt-get install fonts-noto-cjk），"
        "或用环境变量 {env} 指定一个中文字体文件（.ttc/.otf/.ttf）。",
        "en": "No Chinese (CJK) font found, so the grid map cannot be drawn. Install "
        "fonts-noto-cjk (Debian/Ubuntu: sudo apt-get install fonts-noto-cjk) or point "
        "the {env} environment variable to a CJK font file (.ttc/.otf/.ttf).",
    },
    "report.coverage_layer": {
        "zh": "覆盖地图图层无效：{layer}，应为 coverage（覆盖 / 未覆盖）或 minutes（出行时间）。",
        "en": "Unknown coverage map layer {layer}; use coverage or minutes.",
    },
    "report.coverage_shape": {
        "zh": "出行时间栅格的大小 {shape} 与人口格网 {grid} 不一致，无法绘制覆盖地图。",
        "en": "The travel-time raster {shape} does not match the population grid {grid}; "
        "the coverage map cannot be drawn.",
    },
    "report.coverage_threshold": {
        "zh": "覆盖时间阈值无效：{threshold}，应为大于 0 的分钟数。",
        "en": "Invalid coverage threshold {threshold}; give a positive number of minutes.",
    },
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
    # --- sub-centre siting (gridplan.siting.models) ---------------------------------------
    # "optimize.invalid" is raised; the others render its params["problems"] one by one.
    "optimize.invalid": {
        "zh": "无法建立选址问题：输入有 {n} 处问题。",
        "en": "Cannot set up the siting problem: {n} problem(s) with the inputs.",
    },
    "optimize.number": {
        "zh": "{name} 须为 {low} 到 {high} 之间的数，当前为 {value}。",
        "en": "{name} must be a number from {low} to {high}, got {value}.",
    },
    "optimize.integer": {
        "zh": "{name} 须为 {low} 到 {high} 之间的整数，当前为 {value}。",
        "en": "{name} must be a whole number from {low} to {high}, got {value}.",
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
    "optimize.xy_nonfinite": {
        "zh": "{name} 中有 {n} 个点没有有效坐标。",
        "en": "{name}: {n} point(s) without finite coordinates.",
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
    "siting.choice": {
        "zh": "{name_zh}（{name}）须为以下之一：{allowed}；当前为 {value}。",
        "en": "{name} must be one of {allowed}, got {value}.",
    },
    "siting.range": {
        "zh": "{name_zh}须在 {low} 到 {high} 之间，当前为 {value}。",
        "en": "{name} must be from {low} to {high}, got {value}.",
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


def t(code: str, lang: Lang = "zh", **params: Any) -> str:
    """Render message ``code`` in ``lang`` with ``params``; falls back to the code."""
    entry = MESSAGES.get(code)
    if entry is None:
        return code
    template = entry.get(lang) or entry["en"]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def error_text(exc: BaseException, lang: Lang = "zh") -> str:
    """The planner-facing text of an exception, in ``lang``.

    GridPlan errors with a known code are translated; any other error falls
    back to its own message so nothing is hidden.
    """
    if isinstance(exc, GridPlanError) and exc.code in MESSAGES:
        text = t(exc.code, lang, **exc.params)
        items = _problem_texts(exc, lang)
        if items:
            text += "\n" + "\n".join(f"• {p}" for p in items)
        return text
    return str(exc)


def _problem_texts(exc: GridPlanError, lang: Lang) -> list[str]:
    """Each collected problem in ``lang`` when its code has a message, else its own text."""
    details = exc.params.get("problems")
    if not isinstance(details, list) or len(details) != len(exc.problems):
        return list(exc.problems)
    out = []
    for raw, detail in zip(exc.problems, details, strict=True):
        params = dict(detail) if isinstance(detail, dict) else {}
        code = params.pop("code", None)
        text = t(code, lang, **params) if code in MESSAGES else raw
        out.append(raw if "{" in text else text)  # a template its params cannot fill
    return out
