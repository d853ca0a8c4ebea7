"""Texts of travel-time models (gridplan.travel), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- the default speed of each mode and its source (gridplan.travel.speeds) ---------
    "speed_source.walk": {
        "zh": "步行 4.8 km/h：15 分钟约 1,200 m 的常见换算（r5 默认 3.6，OSMnx 示例 4.5）",
        "en": "walk 4.8 km/h: 15 min ≈ 1,200 m, a common Chinese reading (r5 3.6, OSMnx 4.5)",
    },
    "speed_source.ebike": {
        "zh": "电动自行车 15 km/h（常用 15–20 km/h 的下限；GB 17761 限速 25 km/h）",
        "en": "e-bike 15 km/h (low end of the usual 15–20 km/h; GB 17761 caps at 25 km/h)",
    },
    "speed_source.drive": {
        "zh": "驾车 30 km/h：农村道路常用 30–40 km/h 的下限（未核实）",
        "en": "car 30 km/h: low end of the 30–40 km/h used for rural roads (unverified)",
    },
    # --- speeds and detour factors (gridplan.travel.speeds.check_speed_detour) ----------
    "traveltime.invalid": {
        "zh": "速度或绕行系数无效：",
        "en": "Invalid speed or detour factor:",
    },
    "traveltime.model": {
        "zh": "出行时间模型须为 {allowed} 之一，当前为 {value}。",
        "en": "The travel-time model must be one of {allowed}, got {value}.",
    },
    "traveltime.mode": {
        "zh": "出行方式须为 {allowed} 之一，当前为 {value}。",
        "en": "The travel mode must be one of {allowed}, got {value}.",
    },
    "traveltime.speed": {
        "zh": "速度须在 0.5–150 km/h 之间，当前为 {speed}。",
        "en": "Speed must be between 0.5 and 150 km/h, got {speed}.",
    },
    "traveltime.detour": {
        "zh": "绕行系数须在 1.0–3.0 之间，当前为 {detour}。",
        "en": "Detour factor must be between 1.0 and 3.0, got {detour}.",
    },
    "traveltime.road_speed": {
        "zh": "道路等级 {cls} 的速度须在 0.5–150 km/h 之间，当前为 {speed}。",
        "en": "The speed of road class {cls} must be between 0.5 and 150 km/h, got {speed}.",
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
    "network.mode": {
        "zh": "出行方式须为 {allowed} 之一，当前为 {value}。",
        "en": "The travel mode must be one of {allowed}, got {value}.",
    },
    "network.cutoff": {
        "zh": "时间上限须大于 0 分钟，当前为 {cutoff}。",
        "en": "The cutoff must be more than 0 minutes, got {cutoff}.",
    },
    "network.densify": {
        "zh": "道路加密间距须不小于 1 米（或不加密），当前为 {value}。",
        "en": "The densification step must be at least 1 m (or none), got {value}.",
    },
    "network.not_a_graph": {
        "zh": "道路网络不是 networkx 图。",
        "en": "The road network is not a networkx graph.",
    },
    "network.no_edges": {
        "zh": "道路网络没有路段。",
        "en": "The road network has no edges.",
    },
    "network.no_nodes": {
        "zh": "道路网络没有节点。",
        "en": "The road network has no nodes.",
    },
    "network.node_xy": {
        "zh": "{n} 个道路节点缺少坐标 x/y：{nodes}",
        "en": "{n} road node(s) lack x/y coordinates: {nodes}",
    },
    "network.crs_not_metric": {
        "zh": "格网坐标系 {crs} 不是投影坐标系（米）。",
        "en": "The grid CRS {crs} is not metric.",
    },
    "network.crs_invalid": {
        "zh": "坐标系无效：{detail}",
        "en": "Invalid coordinate reference system: {detail}",
    },
    "network.negative_length": {
        "zh": "{n} 个路段长度为负数。",
        "en": "{n} edge(s) have a negative length.",
    },
    "access.no_roads": {
        "zh": "道路网络模型需要先上传道路文件（.osm 或 .graphml）。",
        "en": "The road-network model needs a road file (.osm or .graphml).",
    },
}
