"""Default speeds per mode with their sources, and the detour factor."""

from __future__ import annotations

#: Default speeds (km/h) and their sources, shown in the UI next to the sliders.
MODE_SPEEDS_KMH: dict[str, float] = {"walk": 4.8, "ebike": 15.0, "drive": 30.0}
MODE_SPEED_SOURCES: dict[str, dict[str, str]] = {
    "walk": {
        "zh": "步行 4.8 km/h：15 分钟约 1,200 m 的常见换算（r5 默认 3.6，OSMnx 示例 4.5）",
        "en": "walk 4.8 km/h: 15 min ≈ 1,200 m, a common Chinese reading (r5 3.6, OSMnx 4.5)",
    },
    "ebike": {
        "zh": "电动自行车 15 km/h（常用 15–20 km/h 的下限；GB 17761 限速 25 km/h）",
        "en": "e-bike 15 km/h (low end of the usual 15–20 km/h; GB 17761 caps at 25 km/h)",
    },
    "drive": {
        "zh": "驾车 30 km/h：农村道路常用 30–40 km/h 的下限（未核实）",
        "en": "car 30 km/h: low end of the 30–40 km/h used for rural roads (unverified)",
    },
}
#: Ratio of road distance to straight-line distance; 1.3 is a common urban value.
DEFAULT_DETOUR = 1.3
