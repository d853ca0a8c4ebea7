"""Texts of facility lists (gridplan.facilities), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- facility types (gridplan.facilities.types.type_label) ----------------------------
    "facilities.type.三级医院": {"zh": "三级医院", "en": "Tertiary hospital"},
    "facilities.type.二级医院": {"zh": "二级医院", "en": "Secondary hospital"},
    "facilities.type.医疗次中心": {"zh": "医疗次中心", "en": "Medical sub-centre"},
    "facilities.type.社区卫生服务中心": {"zh": "社区卫生服务中心", "en": "Community health centre"},
    "facilities.type.社区卫生服务站": {"zh": "社区卫生服务站", "en": "Community health station"},
    "facilities.type.乡镇卫生院": {"zh": "乡镇卫生院", "en": "Township health centre"},
    "facilities.type.村卫生室": {"zh": "村卫生室", "en": "Village clinic"},
    "facilities.type.其他": {"zh": "其他", "en": "Other"},
    # --- facilities (gridplan.facilities) ------------------------------------------
    "facilities.missing_columns": {
        "zh": "机构表缺少必需的列（现有列：{columns}）：",
        "en": "The facility table lacks required columns (columns found: {columns}):",
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
    "facilities.unnamed": {"zh": "未命名医疗机构", "en": "Unnamed health facility"},
    "facility.add_missing": {
        "zh": "新增机构需要填写名称、经度和纬度。",
        "en": "A new facility needs a name, a longitude and a latitude.",
    },
    # --- where a facility table's rows come from (column ``source``) ---------------------
    "facilities.source.illustrative": {
        "zh": "示意网络，非真实位置",
        "en": "illustrative network, not real locations",
    },
    "facilities.source.uploaded": {
        "zh": "规划人员上传的机构清单",
        "en": "facility list uploaded by the planner",
    },
    "facilities.source.osm": {
        "zh": "OpenStreetMap（© OpenStreetMap 贡献者）",
        "en": "OpenStreetMap (© OpenStreetMap contributors)",
    },
    "facilities.source.added": {
        "zh": "规划新增（拟建位置）",
        "en": "added in planning (proposed sites)",
    },
}
