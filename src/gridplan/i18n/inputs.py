"""Texts of uploads, tables, rasters and regions (gridplan.inputs), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
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
    # --- required columns a table lacks (gridplan.inputs.columns.missing_columns_error) -----
    "missing_column.name": {
        "zh": "名称（列名如 {aliases}）",
        "en": "name (a column named e.g. {aliases})",
    },
    "missing_column.type": {
        "zh": "类型（列名如 {aliases}）",
        "en": "type (a column named e.g. {aliases})",
    },
    "missing_column.lon": {
        "zh": "经度（列名如 {aliases}）",
        "en": "longitude (a column named e.g. {aliases})",
    },
    "missing_column.lat": {
        "zh": "纬度（列名如 {aliases}）",
        "en": "latitude (a column named e.g. {aliases})",
    },
    "missing_column.population": {
        "zh": "人口（列名如 {aliases}）",
        "en": "population (a column named e.g. {aliases})",
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
    # --- regions and presets --------------------------------------------------------
    "unknown_region": {
        "zh": "未找到地级行政区：{query}。请输入名称（如“石家庄市”）或 6 位行政区划代码。",
        "en": "Prefecture not found: {query}. Give a name (e.g. 石家庄市) or a 6-digit adcode.",
    },
}
