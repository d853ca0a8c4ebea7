"""Texts shared by every stage: the generic input checks of :class:`gridplan._validate.Problems`."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    "check.shape": {
        "zh": "{name} 的形状为 {shape}，应与格网一致：{expected}。",
        "en": "{name} has shape {shape}, expected {expected}.",
    },
    "check.number": {
        "zh": "{name} 须为 {low}–{high} 之间的数值，当前为 {value}。",
        "en": "{name} must be a number from {low} to {high}, got {value}.",
    },
    "check.integer": {
        "zh": "{name} 须为 {low}–{high} 之间的整数，当前为 {value}。",
        "en": "{name} must be a whole number from {low} to {high}, got {value}.",
    },
    "check.xy_shape": {
        "zh": "{name} 须为 (x, y) 坐标对。",
        "en": "{name} must be (x, y) pairs of numbers.",
    },
    "check.xy_nonfinite": {
        "zh": "{name}：{n} 个点没有有效坐标（第 {indices} 个）。",
        "en": "{name}: {n} point(s) have no finite coordinates (rows {indices}).",
    },
}
