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
    # --- uploads (gridplan.io) ---------------------------------------------------
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
    # --- plan validation (gridplan.grids.validate_plan) ---------------------------
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
        if exc.problems:
            text += "\n" + "\n".join(f"• {p}" for p in exc.problems)
        return text
    return str(exc)
