"""Facility types, their aliases in Chinese and English, and the facility table's columns."""

from __future__ import annotations

import math
import re
import unicodedata

import pandas as pd

from gridplan.i18n import Lang, label, t

# --------------------------------------------------------------------------------------
# types

#: Facility types, as stored (Chinese), in display order; their labels are the
#: texts ``facilities.type.<type>`` (:func:`type_label`).
FACILITY_TYPES: tuple[str, ...] = (
    "三级医院",
    "二级医院",
    "医疗次中心",
    "社区卫生服务中心",
    "社区卫生服务站",
    "乡镇卫生院",
    "村卫生室",
    "其他",
)
#: Primary-care facilities: the ones the 15-minute health-service circle counts.
PRIMARY_CARE: tuple[str, ...] = (
    "社区卫生服务中心",
    "社区卫生服务站",
    "乡镇卫生院",
    "村卫生室",
    "医疗次中心",
)
#: Primary-care centres: one per 街道/township (or per 30,000-100,000 residents).
CENTRES: tuple[str, ...] = ("社区卫生服务中心", "乡镇卫生院", "医疗次中心")
#: Hospitals (lead hospitals of medical groups and county medical communities).
HOSPITALS: tuple[str, ...] = ("三级医院", "二级医院")
#: Sub-centres (县域医疗服务次中心, Rizhao's plan, seed 002): central township health
#: centres upgraded to serve several townships; still primary-care centres of their own
#: township, and the nearest hospital-level care for the townships around them.
SUBCENTRES: tuple[str, ...] = ("医疗次中心",)
#: Hospital-level care: hospitals and sub-centres (what a sub-centre's catchment counts).
SECONDARY_CARE: tuple[str, ...] = HOSPITALS + SUBCENTRES

FACILITY_COLUMNS: list[str] = [
    "facility_id",
    "name",
    "type",
    "lon",
    "lat",
    "beds",
    "doctors",
    "gps",
    "source",
    "active",
]

_TYPE_ALIASES_RAW: dict[str, tuple[str, ...]] = {
    "三级医院": (
        "三级",
        "三甲",
        "三乙",
        "三丙",
        "三甲医院",
        "三乙医院",
        "三级甲等",
        "三级乙等",
        "三级甲等医院",
        "三级乙等医院",
        "三级综合医院",
        "三级专科医院",
        "三级中医医院",
        "tertiary",
        "tertiary hospital",
        "grade 3 hospital",
        "grade iii hospital",
        "level 3 hospital",
    ),
    "二级医院": (
        "二级",
        "二甲",
        "二乙",
        "二甲医院",
        "二乙医院",
        "二级甲等",
        "二级乙等",
        "二级甲等医院",
        "二级乙等医院",
        "二级综合医院",
        "二级专科医院",
        "二级中医医院",
        "县医院",
        "县级医院",
        "县人民医院",
        "医院",
        "综合医院",
        "secondary",
        "secondary hospital",
        "county hospital",
        "general hospital",
        "hospital",
        "grade 2 hospital",
        "grade ii hospital",
        "level 2 hospital",
    ),
    "医疗次中心": (
        "次中心",
        "县域医疗次中心",
        "县域医疗服务次中心",
        "医疗服务次中心",
        "区域医疗次中心",
        "sub-centre",
        "subcentre",
        "medical sub-centre",
        "county medical sub-centre",
    ),
    "社区卫生服务中心": (
        "社区卫生服务中心(站)",
        "社区卫生服务中心/站",
        "社区卫生中心",
        "社区中心",
        "社区医院",
        "街道卫生服务中心",
        "community health centre",
        "community health service centre",
        "community health center",
        "community health service center",
        "chc",
    ),
    "社区卫生服务站": (
        "社区卫生站",
        "社区服务站",
        "卫生服务站",
        "社区站",
        "community health station",
        "community health service station",
    ),
    "乡镇卫生院": (
        "卫生院",
        "乡卫生院",
        "镇卫生院",
        "中心卫生院",
        "乡镇中心卫生院",
        "一般卫生院",
        "township health centre",
        "township health center",
        "township hospital",
    ),
    "村卫生室": (
        "卫生室",
        "村卫生所",
        "卫生所",
        "村卫生所/卫生室",
        "村卫生室/卫生所",
        "村卫生室(所)",
        "村卫生所(室)",
        "village clinic",
        "village health clinic",
        "village health room",
    ),
    "其他": (
        "其它",
        "other",
        "others",
        "一级医院",
        "诊所",
        "门诊部",
        "专科医院",
        "妇幼保健院",
    ),
}

# Substring rules, in order, for type values and names not found among the aliases.
_TYPE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("次中心", "医疗次中心"),
    ("社区卫生服务中心", "社区卫生服务中心"),
    ("社区卫生服务站", "社区卫生服务站"),
    ("卫生服务站", "社区卫生服务站"),
    ("卫生院", "乡镇卫生院"),
    ("卫生室", "村卫生室"),
    ("卫生所", "村卫生室"),
    ("三级", "三级医院"),
    ("三甲", "三级医院"),
    ("二级", "二级医院"),
    ("二甲", "二级医院"),
)
# Only the primary-care rules apply to facility names (OSM).
_NAME_PATTERNS = _TYPE_PATTERNS[:7]


def _type_key(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value)).lower().strip()
    text = text.replace("center", "centre")
    return re.sub(r"[\s_\-]+", "", text).replace("（", "(").replace("）", ")")


_TYPE_ALIASES: dict[str, str] = {}
for _canonical, _aliases in _TYPE_ALIASES_RAW.items():
    for _alias in (_canonical, t(f"facilities.type.{_canonical}", "en"), *_aliases):
        _TYPE_ALIASES[_type_key(_alias)] = _canonical


def normalise_type(value: object) -> str | None:
    """The facility type (a key of :data:`FACILITY_TYPES`) of a user's value, or None.

    Accepts the Chinese type, its English label and common aliases
    (``"社区卫生服务中心（站）"``, ``"卫生院"``, ``"村卫生所/卫生室"``,
    ``"三甲"``, ``"三级甲等医院"``, ``"Township health center"``...), then
    substring rules (``…卫生院`` → 乡镇卫生院, ``…卫生室/卫生所`` → 村卫生室,
    ``三级…`` → 三级医院...).  A hospital of unknown grade (``"医院"``,
    ``"hospital"``) counts as 二级医院, as in :func:`facilities_from_osm`.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    key = _type_key(value)
    if not key:
        return None
    if key in _TYPE_ALIASES:
        return _TYPE_ALIASES[key]
    for pattern, canonical in _TYPE_PATTERNS:
        if pattern in key:
            return canonical
    return None


def type_label(facility_type: str, lang: Lang = "zh") -> str:
    """Display label of a facility type in ``lang``; a value that is no type shows as given."""
    return label("facilities.type", facility_type, lang)


def empty_facilities() -> pd.DataFrame:
    """An empty facility table with the right columns and dtypes."""
    return _finish(pd.DataFrame({c: [] for c in FACILITY_COLUMNS}))


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """Columns in order with their dtypes."""
    out = df.reindex(columns=FACILITY_COLUMNS).reset_index(drop=True)
    for col in ("facility_id", "name", "type", "source"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
        out[col] = [None if v is None else str(v) for v in out[col]]
        out[col] = out[col].astype(object)
    for col in ("lon", "lat", "beds", "doctors", "gps"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["active"] = out["active"].fillna(True).astype(bool)
    return out
