"""Texts of population surfaces and downloads (gridplan.surface), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- population surface and travel time -------------------------------------
    "surface.cell_size": {
        "zh": "格网大小须在 {min:.0f}–{max:.0f} 米之间，当前为 {cell_m}。",
        "en": "Cell size must be between {min:.0f} and {max:.0f} m, got {cell_m}.",
    },
    "weights.negative": {
        "zh": "权重栅格 {filename} 中有 {n} 个负值（最小 {min}），权重必须大于或等于 0。",
        "en": "The weight raster {filename} has {n} negative values (minimum {min}); weights must be 0 or more.",
    },
    "weights.shape": {
        "zh": "权重数组的形状 {shape} 与格网 {expected} 不一致。",
        "en": "The weight array has shape {shape}, the grid {expected}.",
    },
    "points.missing_columns": {
        "zh": "人口点表格缺少必需的列（现有列：{columns}）：",
        "en": "The population point table lacks required columns (columns found: {columns}):",
    },
    "points.no_valid_rows": {
        "zh": "人口点表格 {filename} 的 {n} 行中没有可用的行，请查看各行的问题。",
        "en": "None of the {n} rows of the population point table {filename} is usable; see the problems listed.",
    },
    "polygons.invalid": {
        "zh": "无法使用人口面图层（{n} 个问题）：",
        "en": "The population polygon layer cannot be used ({n} problem(s)):",
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
    "popsurface.bad_row": {"zh": "第 {row} 行：{reason}", "en": "Row {row}: {reason}"},
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
    # --- how a population surface was made (PopulationSurface.method) --------------------
    "surface.method.census_uniform": {
        "zh": "2020年普查人口在各单元内均匀分布",
        "en": "2020 census totals spread uniformly over each unit",
    },
}
