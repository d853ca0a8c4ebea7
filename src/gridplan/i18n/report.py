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
}
