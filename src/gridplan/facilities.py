"""Health facilities: the points whose reach defines coverage.

A *facility table* is a :class:`pandas.DataFrame` with the columns of
:data:`FACILITY_COLUMNS`:

``facility_id`` (str, unique), ``name``, ``type`` (a key of
:data:`FACILITY_TYPES`), ``lon``, ``lat`` (WGS-84), ``beds``, ``doctors``,
``gps`` (general practitioners; float, NaN when unknown), ``source``
(``"uploaded"``, ``"osm"``, ``"illustrative"`` or ``"added"``) and ``active``
(bool; inactive facilities are kept in the table but not used by the
travel-time models).

Three ways to get one:

* :func:`read_facilities`: a planner's own CSV/Excel list (the real network).
  Bad rows are listed back in :attr:`FacilityReport.rejected` with their
  spreadsheet row number and a Chinese/English reason; good rows load.
* :func:`illustrative_facilities`: the embedded default network for offline
  use, placed by a documented rule from the population surface.  It is a
  model (示意), never the real network.
* :func:`facilities_from_osm`: health facilities mapped in OpenStreetMap
  (online with osmnx, or from a recorded ``.osm`` extract).

:func:`facility_xy` gives the metric coordinates of the active facilities for
the travel-time models; :func:`add_facility` and :func:`set_active` are the
dashboard's editing helpers.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.spatial import cKDTree

from gridplan import crs as gcrs
from gridplan.boundaries import Prefecture, load_prefecture_outline
from gridplan.errors import GridPlanError, InputError, UploadError
from gridplan.i18n import t
from gridplan.io import LoadReport, parse_datum, read_table_upload
from gridplan.surface import PopulationSurface
from gridplan.units import UnitSet

__all__ = [
    "CENTRES",
    "FACILITY_COLUMNS",
    "FACILITY_TYPES",
    "HOSPITALS",
    "OSM_TAGS",
    "PRIMARY_CARE",
    "SECONDARY_CARE",
    "SOURCES",
    "SUBCENTRES",
    "FacilitiesError",
    "FacilityReport",
    "add_facility",
    "empty_facilities",
    "facilities_from_osm",
    "facility_mask",
    "facility_xy",
    "illustrative_facilities",
    "is_urban_unit",
    "normalise_type",
    "read_facilities",
    "set_active",
    "type_label",
]

# --------------------------------------------------------------------------------------
# types

#: Facility types (Chinese, as stored) and their English labels.
FACILITY_TYPES: dict[str, str] = {
    "三级医院": "Tertiary hospital",
    "二级医院": "Secondary hospital",
    "医疗次中心": "Medical sub-centre",
    "社区卫生服务中心": "Community health centre",
    "社区卫生服务站": "Community health station",
    "乡镇卫生院": "Township health centre",
    "村卫生室": "Village clinic",
    "其他": "Other",
}
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

SOURCES: tuple[str, ...] = ("uploaded", "osm", "illustrative", "added")

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
    for _alias in (_canonical, FACILITY_TYPES[_canonical], *_aliases):
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


def type_label(facility_type: str, lang: str = "zh") -> str:
    """Display label of a facility type in ``lang`` (``"zh"`` or ``"en"``)."""
    if lang == "en":
        return FACILITY_TYPES.get(facility_type, facility_type)
    return facility_type


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


# --------------------------------------------------------------------------------------
# errors and reports


class FacilitiesError(InputError):
    """A facility table that cannot be used; ``report`` lists the rejected rows if any."""

    code = "facilities"

    def __init__(self, message: str, *, report: FacilityReport | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.report = report


_REJECTED_COLUMNS = ["row", "name", "code", "reason_zh", "reason_en"]


@dataclass
class FacilityReport:
    """What :func:`read_facilities` found and did.

    Attributes
    ----------
    filename : str
        Name of the uploaded file.
    n_rows : int
        Data rows in the file (blank rows not counted).
    n_loaded : int
        Facilities loaded.
    rejected : pandas.DataFrame
        One row per rejected data row: ``row`` (spreadsheet row number, the
        header being row 1), ``name``, ``code`` (reason key, see
        ``facilities.row.*`` in :data:`gridplan.i18n.MESSAGES`), ``reason_zh``
        and ``reason_en``.
    datum : str
        Declared datum of the coordinates (``wgs84``, ``gcj02``, ``bd09``);
        a per-row ``datum``/``坐标系`` column overrides it row by row.
    encoding : str or None
        Text encoding of a CSV.
    columns : dict
        Which column of the file was read for each field, e.g.
        ``{"name": "机构名称", "lon": "经度"}``.
    notes : list of str
        English notes on what was assumed or changed.
    """

    filename: str
    n_rows: int
    n_loaded: int
    rejected: pd.DataFrame
    datum: str
    encoding: str | None
    columns: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load_report: LoadReport | None = None

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)


# --------------------------------------------------------------------------------------
# reading uploads

#: Accepted column names per field (compared without case, spaces, ``_``/``-``
#: and bracketed units such as ``床位数（张）``).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "facility_id": ("facility_id", "id", "编号", "机构编号", "机构编码", "机构代码", "代码"),
    "name": (
        "name",
        "facility",
        "facility_name",
        "名称",
        "机构名称",
        "医疗机构名称",
        "单位名称",
        "机构",
        "医院名称",
        "医院",
        "站点名称",
        "候选点名称",
    ),
    "type": (
        "type",
        "facility_type",
        "category",
        "类型",
        "机构类型",
        "机构类别",
        "类别",
        "医疗机构类别",
        "机构级别",
    ),
    "lon": ("lon", "lng", "long", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "lonlat": ("经纬度", "坐标", "location", "lnglat", "lonlat"),
    "beds": ("beds", "bed", "床位", "床位数", "编制床位", "实有床位", "开放床位"),
    "doctors": ("doctors", "doctor", "医生", "医生数", "执业医师", "执业医师数", "医师"),
    "gps": (
        "gps",
        "gp",
        "general_practitioners",
        "全科医生",
        "全科医生数",
        "全科医师",
    ),
    "datum": ("datum", "坐标系", "坐标系统", "坐标类型", "坐标偏移"),
    "active": ("active", "启用", "是否启用", "在用"),
}
_REQUIRED_LABELS = {"name": "名称/name", "type": "类型/type", "lon": "经度/lon", "lat": "纬度/lat"}

#: Two rows of the same name closer than this are duplicates.
DUPLICATE_DISTANCE_M = 50.0
#: Tolerance around the prefecture outline when checking uploaded rows.
OUTLINE_BUFFER_M = 500.0

# Lon/lat boxes used to diagnose coordinates: China's extent (as in GCJ-02).
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


def _column_key(name: object) -> str:
    text = unicodedata.normalize("NFKC", str(name)).lower()
    text = re.sub(r"\(.*?\)|\[.*?\]", "", text)
    return re.sub(r"[\s_\-:/]+", "", text)


def _map_columns(columns: Iterable[object]) -> dict[str, str]:
    keyed: dict[str, object] = {}
    for col in columns:
        keyed.setdefault(_column_key(col), col)
    found: dict[str, str] = {}
    for fld, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            col = keyed.get(_column_key(alias))
            if col is not None and col not in found.values():
                found[fld] = str(col)
                break
    return found


_DMS = re.compile(
    r"^(?P<sign>[+-])?(?P<d>\d+(?:\.\d+)?)[°度]\s*(?:(?P<m>\d+(?:\.\d+)?)['′’分]\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)(?:\"|″|”|''|′′|秒)?)?$"
)


def _parse_coordinate(value: object) -> tuple[float | None, bool]:
    """``(value, ok)``: ``(None, True)`` if blank, ``(None, False)`` if not a number.

    Accepts numbers, numeric text (full-width digits too), a trailing degree
    sign, hemisphere letters (E/N, 东经/北纬) and degrees-minutes-seconds.
    """
    if value is None:
        return None, True
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return (None, True) if math.isnan(f) else (f, True)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None, True
    text = re.sub(r"^(东经|北纬|[EN])\s*|\s*[EN]$", "", text, flags=re.IGNORECASE).strip()
    text = text.replace(" ", "")
    try:
        return float(text.rstrip("°度")), True
    except ValueError:
        pass
    m = _DMS.match(text)
    if m is None:
        return None, False
    deg = float(m["d"]) + float(m["m"] or 0) / 60.0 + float(m["s"] or 0) / 3600.0
    return (-deg if m["sign"] == "-" else deg), True


def _parse_datum_value(value: object, default: gcrs.Datum) -> gcrs.Datum | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    text = str(value).strip()
    if not text:
        return default
    for candidate in (text, re.sub(r"坐标系?|经纬度|坐标", "", text)):
        try:
            return parse_datum(candidate)
        except UploadError:
            continue
    return None


_TRUE = {"1", "true", "yes", "y", "t", "是", "启用", "在用", "正常", "开业", "营业"}
_FALSE = {"0", "false", "no", "n", "f", "否", "停用", "关闭", "停业", "注销"}


def _parse_active(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, bool | np.bool_):
        return bool(value)
    key = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return key not in _FALSE


_COUNT_FIELDS = ("beds", "doctors", "gps")


def _count(value: object) -> float:
    """A non-negative count (beds, doctors…) from a cell or tag; NaN if there is none.

    ``"1,200"``, ``"600张"`` and full-width digits are read; anything else is NaN.
    """
    if value is None or isinstance(value, bool):
        return np.nan
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return f if f >= 0 else np.nan
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip()
    m = re.match(r"^(\d+(?:\.\d+)?)\s*[张床人名个]?$", text)
    return float(m.group(1)) if m else np.nan


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _clean_name(value: object) -> str:
    return "" if _is_blank(value) else " ".join(str(value).split())


def _name_key(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def _raw_bytes(data: bytes | str | Path) -> bytes | None:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    try:
        return Path(data).read_bytes()
    except (OSError, ValueError):
        return None


def _sheet_rows(
    data: bytes | str | Path, report: LoadReport, n_rows: int
) -> tuple[NDArray[np.int64], bool]:
    """Spreadsheet row number (header = 1) of each data row, and whether it is exact.

    :func:`gridplan.io.read_table_upload` drops blank rows, so the rows are
    re-counted from the file itself; if that count disagrees, the data rows
    are numbered from 2 as if nothing was dropped.
    """
    fallback = np.arange(2, n_rows + 2, dtype=np.int64)
    raw = _raw_bytes(data)
    if raw is None:
        return fallback, False
    rows: list[int] = []
    try:
        if report.driver == "Excel" and raw.startswith(b"PK"):
            import openpyxl

            sheet = None
            for note in report.notes:
                m = re.search(r"read sheet '(.+)'$", note)
                if m:
                    sheet = m.group(1)
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                ws = book[sheet] if sheet else book.worksheets[0]
                for i, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                    if any(c is not None and c != "" for c in cells):
                        rows.append(i)
            finally:
                book.close()
        elif report.driver == "CSV" and report.encoding:
            from gridplan.io import _guess_separator

            codec = "utf-8-sig" if report.encoding.upper() == "UTF-8" else report.encoding
            text = raw.decode(codec)
            reader = csv.reader(io.StringIO(text), delimiter=_guess_separator(text))
            for i, record in enumerate(reader, start=1):
                if any(cell != "" for cell in record):
                    rows.append(i)
        else:
            return fallback, False
    except Exception:  # any surprise: keep the simple numbering
        return fallback, False
    data_rows = np.asarray(rows[1:], dtype=np.int64)
    if len(data_rows) != n_rows:
        return fallback, False
    return data_rows, True


def _reject(rows: list[dict[str, Any]], row: int, name: str, code: str, **params: Any) -> None:
    key = f"facilities.row.{code}"
    rows.append(
        {
            "row": int(row),
            "name": name,
            "code": code,
            "reason_zh": t(key, "zh", **params),
            "reason_en": t(key, "en", **params),
        }
    )


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _buffered_outline(outline: shapely.Geometry) -> shapely.Geometry:
    minx, miny, maxx, maxy = outline.bounds
    metric = gcrs.metric_crs_for((minx, miny, maxx, maxy))
    to_m = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    to_ll = Transformer.from_crs(metric, "EPSG:4326", always_xy=True)
    poly_m = shapely.transform(outline, lambda xy: np.column_stack(to_m.transform(*xy.T)))
    back = shapely.buffer(poly_m, OUTLINE_BUFFER_M)
    return shapely.transform(back, lambda xy: np.column_stack(to_ll.transform(*xy.T)))


def _resolve_outline(
    outline: shapely.Geometry | str | Prefecture | None,
) -> shapely.Geometry | None:
    if outline is None:
        return None
    if isinstance(outline, str | Prefecture):
        return load_prefecture_outline(outline)
    return outline


def _metric_xy(
    lon: NDArray[np.float64], lat: NDArray[np.float64], crs: str | None = None
) -> NDArray[np.float64]:
    if crs is None:
        crs = gcrs.metric_crs_for(
            (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        )
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(lon, lat)
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _near_duplicates(
    names: list[str], lon: NDArray[np.float64], lat: NDArray[np.float64], radius_m: float
) -> list[tuple[int, int, float]]:
    """``(i, j, metres)`` for each item ``i`` that repeats an earlier item ``j`` (same name)."""
    if not names:
        return []
    xy = _metric_xy(lon, lat)
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n:
            groups.setdefault(_name_key(n), []).append(i)
    out: list[tuple[int, int, float]] = []
    for members in groups.values():
        kept: list[int] = []
        for i in members:
            hit = None
            for j in kept:
                d = float(np.hypot(*(xy[i] - xy[j])))
                if d < radius_m:
                    hit = (i, j, d)
                    break
            if hit is None:
                kept.append(i)
            else:
                out.append(hit)
    return out


def read_facilities(
    data: bytes | str | Path,
    filename: str | None = None,
    *,
    datum: str = "wgs84",
    prefecture_outline: shapely.Geometry | str | Prefecture | None = None,
    default_type: str | None = None,
) -> tuple[pd.DataFrame, FacilityReport]:
    """Read a planner's facility list (CSV or Excel).

    Parameters
    ----------
    data : bytes, str or Path
        The uploaded file's content or a path to it (read with
        :func:`gridplan.io.read_table_upload`: encoding detection, first
        non-empty sheet).
    filename : str, optional
        The user's file name.
    datum : str
        Datum of the coordinates: ``"wgs84"`` (GPS, Tianditu), ``"gcj02"``
        (Amap/Tencent) or ``"bd09"`` (Baidu); aliases as
        :func:`gridplan.io.parse_datum`.  A ``datum``/``坐标系`` column
        overrides it per row.  Everything is converted to WGS-84.
    prefecture_outline : shapely geometry, str or Prefecture, optional
        If given (a WGS-84 outline, or a prefecture name/adcode), rows more
        than :data:`OUTLINE_BUFFER_M` outside it are rejected.
    default_type : str, optional
        The type of rows without one (a list of candidate sites need not
        say); without it the type column is required.

    Columns are matched by name, ignoring case, spaces and bracketed units:
    name/名称/机构名称, type/类型/机构类别, lon/lng/经度/longitude,
    lat/纬度/latitude (or one ``经纬度`` column "lon,lat"), and optionally
    facility_id/编号, beds/床位/床位数, doctors/医生/执业医师,
    gps/全科医生, datum/坐标系, active/启用 (see :data:`COLUMN_ALIASES`).
    Types accept aliases (:func:`normalise_type`).

    Rows are rejected, with the first reason that applies, when they repeat an
    earlier row exactly, lack a name or a type, have an unknown type, lack
    coordinates, have non-numeric coordinates or an unknown datum, have
    longitude and latitude apparently swapped (经纬度可能颠倒: reported, never
    silently fixed), coordinates out of range or outside China, lie outside
    the prefecture, or repeat an earlier row's name within
    :data:`DUPLICATE_DISTANCE_M` metres.

    Returns
    -------
    pandas.DataFrame
        The facility table (``source="uploaded"``).
    FacilityReport
        With the rejected rows.

    Raises
    ------
    FacilitiesError
        (an :class:`~gridplan.errors.InputError`) with code
        ``facilities.missing_columns`` or ``facilities.no_valid_rows``.
    UploadError
        From :func:`~gridplan.io.read_table_upload` (format, encoding, size),
        or ``upload.bad_datum`` for an unknown ``datum``.
    """
    default_datum = parse_datum(datum)
    frame, load = read_table_upload(data, filename)
    name = load.filename
    cols = _map_columns(frame.columns)
    fallback_type = None
    if default_type is not None:
        fallback_type = normalise_type(default_type)
        if fallback_type is None:
            raise InputError(f"unknown default facility type {default_type!r}")
    required = ("name",) if fallback_type is not None else ("name", "type")
    missing = [f for f in required if f not in cols]
    if not ({"lon", "lat"} <= set(cols) or "lonlat" in cols):
        missing += [f for f in ("lon", "lat") if f not in cols]
    if missing:
        found = ", ".join(str(c) for c in frame.columns)
        missing_text = "、".join(_REQUIRED_LABELS[f] for f in missing)
        raise FacilitiesError(
            f"the facility table lacks required columns {missing} (found: {found})",
            code="facilities.missing_columns",
            params={"missing": missing_text, "columns": found},
        )
    n = len(frame)
    rownum, exact = _sheet_rows(data, load, n)
    notes = list(load.notes)
    if not exact and load.n_dropped:
        notes.append("blank rows were dropped; row numbers counted without them")

    outline = _resolve_outline(prefecture_outline)
    zone = _buffered_outline(outline) if outline is not None else None

    hashes = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    first_seen: dict[int, int] = {}
    rejected: list[dict[str, Any]] = []
    good: list[dict[str, Any]] = []
    for i in range(n):
        rec = frame.iloc[i]
        row = int(rownum[i])
        fname = _clean_name(rec[cols["name"]])
        h = int(hashes[i])
        if h in first_seen:
            _reject(rejected, row, fname, "duplicate_row", first=first_seen[h])
            continue
        first_seen[h] = row
        if not fname:
            _reject(rejected, row, fname, "missing_name")
            continue
        raw_type = rec[cols["type"]] if "type" in cols else None
        if _is_blank(raw_type) and fallback_type is not None:
            raw_type = fallback_type
        if _is_blank(raw_type):
            _reject(rejected, row, fname, "missing_type")
            continue
        ftype = normalise_type(raw_type)
        if ftype is None:
            _reject(
                rejected,
                row,
                fname,
                "unknown_type",
                value=str(raw_type).strip(),
                accepted="、".join(FACILITY_TYPES),
            )
            continue
        if "lon" in cols and "lat" in cols:
            raw_lon, raw_lat = rec[cols["lon"]], rec[cols["lat"]]
        else:
            pair = "" if _is_blank(rec[cols["lonlat"]]) else str(rec[cols["lonlat"]])
            parts = re.split(r"[,，;；\s]+", unicodedata.normalize("NFKC", pair).strip())
            parts = [p for p in parts if p]
            raw_lon, raw_lat = [*parts, None, None][:2] if len(parts) <= 2 else (pair, None)
        lon, ok_lon = _parse_coordinate(raw_lon)
        lat, ok_lat = _parse_coordinate(raw_lat)
        if not (ok_lon and ok_lat):
            bad = raw_lon if not ok_lon else raw_lat
            _reject(rejected, row, fname, "non_numeric", value=str(bad).strip())
            continue
        if lon is None or lat is None:
            _reject(rejected, row, fname, "missing_coordinates")
            continue
        row_datum = (
            _parse_datum_value(rec[cols["datum"]], default_datum)
            if "datum" in cols
            else (default_datum)
        )
        if row_datum is None:
            _reject(rejected, row, fname, "bad_datum", value=str(rec[cols["datum"]]).strip())
            continue
        in_cn = bool(gcrs.in_china(lon, lat))
        if not in_cn and bool(gcrs.in_china(lat, lon)):
            _reject(rejected, row, fname, "swapped", lon=_fmt(lon), lat=_fmt(lat))
            continue
        if not (abs(lon) <= 180 and abs(lat) <= 90):
            _reject(rejected, row, fname, "out_of_range", lon=_fmt(lon), lat=_fmt(lat))
            continue
        if not in_cn:
            _reject(rejected, row, fname, "not_in_china", lon=_fmt(lon), lat=_fmt(lat))
            continue
        values = {f: _count(rec[cols[f]]) if f in cols else np.nan for f in _COUNT_FIELDS}
        fid = ""
        if "facility_id" in cols and not _is_blank(rec[cols["facility_id"]]):
            fid = str(rec[cols["facility_id"]]).strip()
        good.append(
            {
                "row": row,
                "facility_id": fid,
                "name": fname,
                "type": ftype,
                "raw_lon": lon,
                "raw_lat": lat,
                "datum": row_datum,
                "active": _parse_active(rec[cols["active"]]) if "active" in cols else True,
                **values,
            }
        )

    table = pd.DataFrame(good)
    if len(table):
        table["lon"] = np.nan
        table["lat"] = np.nan
        for d in gcrs.DATUMS:
            sel = (table["datum"] == d).to_numpy()
            if sel.any():
                wlon, wlat = gcrs.to_wgs84(
                    table.loc[sel, "raw_lon"].to_numpy(float),
                    table.loc[sel, "raw_lat"].to_numpy(float),
                    d,
                )
                table.loc[sel, "lon"] = wlon
                table.loc[sel, "lat"] = wlat
        if zone is not None:
            inside = shapely.contains_xy(zone, table["lon"].to_numpy(), table["lat"].to_numpy())
            for rec in table[~inside].itertuples():
                _reject(
                    rejected,
                    rec.row,
                    rec.name,
                    "outside_prefecture",
                    lon=f"{rec.lon:.5f}",
                    lat=f"{rec.lat:.5f}",
                )
            table = table[inside].reset_index(drop=True)
    if len(table):
        dups = _near_duplicates(
            list(table["name"]),
            table["lon"].to_numpy(float),
            table["lat"].to_numpy(float),
            DUPLICATE_DISTANCE_M,
        )
        drop = []
        row_of = table["row"].to_numpy(np.int64)
        name_of = table["name"].to_numpy(object)
        for i, j, dist in dups:
            _reject(
                rejected,
                int(row_of[i]),
                str(name_of[i]),
                "near_duplicate",
                first=int(row_of[j]),
                dist=f"{dist:.0f}",
                limit=f"{DUPLICATE_DISTANCE_M:.0f}",
            )
            drop.append(i)
        table = table.drop(index=drop).reset_index(drop=True)

    rejected_df = pd.DataFrame(rejected, columns=_REJECTED_COLUMNS)
    rejected_df = rejected_df.sort_values("row", kind="stable").reset_index(drop=True)
    rejected_df["row"] = rejected_df["row"].astype(np.int64)
    n_converted = int((table["datum"] != "wgs84").sum()) if len(table) else 0
    if n_converted:
        notes.append(f"{n_converted} rows converted from GCJ-02/BD-09 to WGS-84")
    used = set(cols.values())
    ignored = [str(c) for c in frame.columns if str(c) not in used]
    if ignored:
        notes.append("columns not used: " + ", ".join(ignored))
    report = FacilityReport(
        filename=name,
        n_rows=n,
        n_loaded=len(table),
        rejected=rejected_df,
        datum=default_datum,
        encoding=load.encoding,
        columns={k: v for k, v in cols.items()},
        notes=notes,
        load_report=load,
    )
    if not len(table):
        rows_text = ", ".join(str(r) for r in rejected_df["row"].head(20))
        if len(rejected_df) > 20:
            rows_text += ", …"
        raise FacilitiesError(
            f"no usable row in {name}: all {n} rows were rejected",
            code="facilities.no_valid_rows",
            params={"filename": name, "n_rows": n, "rows": rows_text},
            report=report,
        )
    table["facility_id"] = _unique_ids(list(table["facility_id"]), list(table["row"]), notes)
    table["source"] = "uploaded"
    return _finish(table), report


def _unique_ids(ids: list[str], rows: list[int], notes: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    renamed = 0
    for fid, row in zip(ids, rows, strict=True):
        base = fid or f"U{row:04d}"
        new, k = base, 2
        while new in seen:
            new, k = f"{base}-{k}", k + 1
        renamed += new != base
        seen.add(new)
        out.append(new)
    if renamed:
        notes.append(f"{renamed} repeated facility ids were made unique with a suffix")
    return out


# --------------------------------------------------------------------------------------
# illustrative network

#: Residents per illustrative primary-care point in urban units (centre or station).
STATION_PER_RESIDENTS = 10_000
#: Populated cells per unit given to k-means: a seeded, weighted sample of
#: ``KMEANS_CELLS_PER_POINT`` per point to place, at least ``MIN_KMEANS_CELLS``
#: and at most ``MAX_KMEANS_CELLS`` (all cells when the unit has fewer).
KMEANS_CELLS_PER_POINT = 50
MIN_KMEANS_CELLS = 4_000
MAX_KMEANS_CELLS = 20_000
#: Relative tolerance of the k-means iterations (as scikit-learn's ``tol``).
_KMEANS_TOL = 1e-4


def is_urban_unit(name: str, level: str) -> bool:
    """Whether a unit is urban: a 街道/办事处 township, or a county-level 区."""
    if level == "township":
        return name.endswith(("街道", "办事处"))
    return name.endswith("区")


def _nearest(xy: NDArray[np.float64], centres: NDArray[np.float64]) -> NDArray[np.int64]:
    """Index of the nearest centre of each point (dense for few centres, else a k-d tree)."""
    if len(centres) <= 24:
        d = xy @ (-2.0 * centres.T)
        d += (centres * centres).sum(axis=1)
        return np.asarray(d.argmin(axis=1), dtype=np.int64)
    return np.asarray(cKDTree(centres).query(xy)[1], dtype=np.int64)


def _kmeans(
    xy: NDArray[np.float64],
    w: NDArray[np.float64],
    k: int,
    seed: int | list[int],
    max_iter: int = 40,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Weighted k-means: centres, labels and the weight of each cluster.

    Weighted k-means++ seeding, then Lloyd iterations (nearest centre by
    dense distances or a k-d tree, weighted means with ``bincount``) until the centres' squared
    shift is under ``_KMEANS_TOL`` × the data's variance, the stopping rule of
    scikit-learn's ``KMeans``.  Plain numpy/scipy rather than scikit-learn:
    the same method, single-threaded and so bit-for-bit reproducible, and
    without scikit-learn's 1-2 s import.  Clusters left empty are dropped, so
    fewer than ``k`` may come back (only with degenerate inputs).
    """
    n = len(xy)
    k = min(k, n)
    if k == n:
        return xy.copy(), np.arange(n, dtype=np.int64), w.copy()
    if k == 1:
        c = np.average(xy, axis=0, weights=w)[None, :]
        return c, np.zeros(n, dtype=np.int64), np.array([w.sum()])
    origin = xy.mean(axis=0)
    xy = xy - origin
    rng = np.random.default_rng(seed)
    cum = np.cumsum(w)
    chosen = [int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))]
    d2 = ((xy - xy[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        cum = np.cumsum(w * d2)
        if not cum[-1] > 0:
            break
        i = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), n - 1)
        chosen.append(i)
        d2 = np.minimum(d2, ((xy - xy[i]) ** 2).sum(axis=1))
    centres = xy[chosen].copy()
    k = len(centres)
    tol = _KMEANS_TOL * float(np.mean(np.var(xy, axis=0)))
    for _ in range(max_iter):
        labels = _nearest(xy, centres)
        cw = np.bincount(labels, weights=w, minlength=k)
        sx = np.bincount(labels, weights=w * xy[:, 0], minlength=k)
        sy = np.bincount(labels, weights=w * xy[:, 1], minlength=k)
        full = cw > 0
        moved = centres.copy()
        moved[full] = np.column_stack([sx[full], sy[full]]) / cw[full, None]
        shift = float(((moved - centres) ** 2).sum())
        centres = moved
        if shift <= tol:
            break
    labels = _nearest(xy, centres)
    out: NDArray[np.float64] = np.asarray(centres + origin, dtype=np.float64)
    weight: NDArray[np.float64] = np.bincount(labels, weights=w, minlength=k).astype(np.float64)
    keep = np.flatnonzero(np.bincount(labels, minlength=k) > 0)
    if len(keep) < k:
        remap = np.full(k, -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        out, weight, labels = out[keep], weight[keep], remap[labels]
    return out, labels, weight


def _snap(
    xy: NDArray[np.float64], labels: NDArray[np.int64], centres: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For each cluster, its member nearest the centre and the second nearest (or the same)."""
    d = np.hypot(*(xy - centres[labels]).T)
    order = np.lexsort((d, labels))
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, np.arange(len(centres)))
    ends = np.searchsorted(sorted_labels, np.arange(len(centres)), side="right")
    first = order[starts]
    second = order[np.where(ends - starts > 1, starts + 1, starts)]
    return first, second


def illustrative_facilities(
    unit_set: UnitSet,
    surface: PopulationSurface,
    *,
    per_residents: float = 50_000,
    station_per_residents: float | None = STATION_PER_RESIDENTS,
    seed: int = 0,
) -> pd.DataFrame:
    """The embedded default facility network (示意网络), placed by a fixed rule.

    For offline use when no real facility list has been uploaded; every row
    has ``source="illustrative"`` and a name starting with 示意.  Doctors,
    GPs and beds are unknown (NaN).

    The rule follows the Zhengzhou resource standard (郑政〔2016〕31号, seed
    004): *one standard township health centre per township; one community
    health centre per 街道 or per 30,000-100,000 residents*.

    1. **Centres.**  Each planning unit with residents on the surface gets
       ``max(1, ceil(P / per_residents))`` centres, P being its residents on
       the surface.  ``per_residents`` defaults to 50,000, inside Zhengzhou's
       30,000-100,000 band (Shijiazhuang's 196 township/community centres in
       its 16 county medical communities serve about 37,000 residents each).
       When townships are loaded every township/街道 thus gets at least one,
       as the standard asks.  Type: 社区卫生服务中心 in urban units, 乡镇卫生院
       elsewhere.  Urban means a county-level unit whose name ends with 区
       (a district), or a township whose name ends with 街道/办事处.  (Some
       districts, e.g. 藁城区, are largely rural: a simplification.)
    2. **Stations** (urban units only).  Urban units get
       ``ceil(P / station_per_residents)`` primary-care points in all
       (default one per 10,000 residents, about the residents a 15-minute
       walk reaches in a dense district; an assumption, no national count
       standard), of which the centres above are a part and the rest are
       社区卫生服务站.  ``station_per_residents=None`` places no stations.
    3. **Placement.**  Points sit at population-weighted k-means centres
       (weights = residents per cell; see :func:`_kmeans`) of the unit's
       populated cells: all of them, or a seeded sample of 50 per point to
       place (4,000 to 20,000 cells; weights scaled up to the unit's total).
       Each point is snapped to the nearest populated cell of its cluster,
       so it lies inside the unit.  In urban units the
       points are grouped by a second weighted k-means into as many groups
       as centres; in each group the point nearest the group's centroid is
       the centre, the others are stations.
    4. **Hospitals.**  One 二级医院 per county-level unit (``county_adcode``,
       functional zones included where their townships are drawn), in the
       cell next to the centre serving most residents: the county seat's
       general hospital.
    5. **Not placed:** 村卫生室 (one per administrative village in reality;
       village locations are not in the embedded data) and tertiary
       hospitals, so rural 15-minute coverage by this network is a lower
       bound.  Units without cells (functional zones without townships) get
       nothing: their residents are not on the map either.

    With the census surface of Shijiazhuang (11.2 M residents) this gives
    about 680 facilities: ~230 centres, ~430 stations and 22 hospitals.

    Deterministic: the same inputs and ``seed`` give the same table.

    Returns
    -------
    pandas.DataFrame
        A facility table.  Ids: ``ILL-<unit>-C01`` (centre), ``ILL-<unit>-S001``
        (station), ``ILL-<county>-H`` (hospital).
    """
    if not per_residents > 0:
        raise InputError(f"per_residents must be positive, got {per_residents!r}")
    if station_per_residents is not None and not station_per_residents > 0:
        raise InputError(f"station_per_residents must be positive, got {station_per_residents!r}")
    grid = surface.grid
    pop = surface.population.ravel()
    uidx = surface.unit_index.ravel()
    cells = np.flatnonzero((pop > 0) & (uidx >= 0))
    cell_unit = uidx[cells]
    order = np.argsort(cell_unit, kind="stable")
    cells, cell_unit = cells[order], cell_unit[order]
    n_units = len(surface.unit_ids)
    starts = np.searchsorted(cell_unit, np.arange(n_units))
    ends = np.searchsorted(cell_unit, np.arange(n_units), side="right")

    info = unit_set.units.set_index("unit_id")
    rows: list[dict[str, Any]] = []
    # per county: (residents served, x, y) of the best centre's neighbour cell
    county_best: dict[str, tuple[float, float, float, str]] = {}
    for u in range(n_units):
        if ends[u] == starts[u]:
            continue
        uid = surface.unit_ids[u]
        if uid in info.index:
            meta = info.loc[uid]
            uname, level = str(meta["name"]), str(meta["level"])
            county = str(meta["county_adcode"])
            county_name = str(meta["county_name"])
        else:
            uname, level, county, county_name = uid, "county", uid, uid
        ucells = cells[starts[u] : ends[u]]
        weights = pop[ucells].astype(np.float64)
        total = float(weights.sum())
        urban = is_urban_unit(uname, level)
        n_centres = max(1, math.ceil(total / per_residents))
        n_points = n_centres
        if urban and station_per_residents is not None:
            n_points = max(n_centres, math.ceil(total / station_per_residents))
        n_sample = min(MAX_KMEANS_CELLS, max(MIN_KMEANS_CELLS, KMEANS_CELLS_PER_POINT * n_points))
        if len(ucells) > n_sample:
            rng = np.random.default_rng([seed, u])
            pick = np.sort(rng.choice(len(ucells), n_sample, replace=False))
            ucells = ucells[pick]
            weights = weights[pick]
            weights *= total / weights.sum()
        r, c = np.divmod(ucells, grid.ncols)
        x, y = grid.centres(r, c)
        xy = np.column_stack([x, y])
        centres, labels, cw = _kmeans(xy, weights, n_points, [seed, u])
        first, second = _snap(xy, labels, centres)
        pts, alt = xy[first], xy[second]
        is_centre = np.ones(len(pts), dtype=bool)
        served = cw.copy()
        n_centres = min(n_centres, len(pts))
        if len(pts) > n_centres:
            gc, glabels, gw = _kmeans(pts, cw, n_centres, [seed, u, 1])
            heads, _ = _snap(pts, glabels, gc)
            is_centre[:] = False
            is_centre[heads] = True
            served = np.zeros(len(pts))
            served[heads] = gw
        ctype = "社区卫生服务中心" if urban else "乡镇卫生院"
        for kind, mask, ftype, label in (
            ("C", is_centre, ctype, "示意中心"),
            ("S", ~is_centre, "社区卫生服务站", "示意服务站"),
        ):
            sel = np.flatnonzero(mask)
            sel = sel[np.lexsort((pts[sel, 0], -pts[sel, 1]))]  # north to south, west to east
            width = 2 if kind == "C" else 3
            for k, j in enumerate(sel, start=1):
                rows.append(
                    {
                        "facility_id": f"ILL-{uid}-{kind}{k:0{width}d}",
                        "name": f"{label} {uname}-{k:0{width}d}",
                        "type": ftype,
                        "x": pts[j, 0],
                        "y": pts[j, 1],
                    }
                )
                if kind == "C":
                    best = county_best.get(county)
                    if best is None or served[j] > best[0]:
                        county_best[county] = (float(served[j]), alt[j, 0], alt[j, 1], county_name)
    for county, (_, hx, hy, cname) in county_best.items():
        rows.append(
            {
                "facility_id": f"ILL-{county}-H",
                "name": f"示意医院 {cname}",
                "type": "二级医院",
                "x": hx,
                "y": hy,
            }
        )
    if not rows:
        return empty_facilities()
    df = pd.DataFrame(rows)
    tr = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(df["x"].to_numpy(), df["y"].to_numpy())
    df["lon"] = np.round(np.asarray(lon, dtype=float), 7)
    df["lat"] = np.round(np.asarray(lat, dtype=float), 7)
    df["beds"] = np.nan
    df["doctors"] = np.nan
    df["gps"] = np.nan
    df["source"] = "illustrative"
    df["active"] = True
    return _finish(df)


# --------------------------------------------------------------------------------------
# OpenStreetMap

#: The OSM tags queried (osmnx ``tags`` argument).
OSM_TAGS: dict[str, bool | str | list[str]] = {
    "amenity": ["hospital", "clinic", "doctors"],
    "healthcare": True,
}
#: ``healthcare=*`` values that are not care facilities for a health-care grid.
OSM_EXCLUDED_HEALTHCARE = frozenset(
    {
        "pharmacy",
        "optometrist",
        "laboratory",
        "sample_collection",
        "blood_donation",
        "blood_bank",
        "hearing_care",
        "audiologist",
        "no",
    }
)
#: Same name closer than this: one facility mapped twice (e.g. node + campus polygon).
OSM_DUPLICATE_M = 300.0


def _tag(tags: Mapping[str, Any], key: str) -> str:
    v = tags.get(key)
    return "" if _is_blank(v) else str(v).strip().lower()


def osm_type(tags: Mapping[str, Any], name: str = "") -> str | None:
    """Our facility type for an OSM feature's tags, or None if it is not a facility.

    Mapping, first match wins:

    1. ``amenity=pharmacy`` or ``healthcare`` in :data:`OSM_EXCLUDED_HEALTHCARE`
       (pharmacy, optician, laboratory, blood donation…) → not a facility.
    2. The Chinese name says what it is (Chinese mappers tag these
       inconsistently): …社区卫生服务中心 → 社区卫生服务中心;
       …(社区)卫生服务站 → 社区卫生服务站; …卫生院 → 乡镇卫生院;
       …卫生室/卫生所 → 村卫生室.
    3. ``amenity=hospital`` or ``healthcare=hospital`` → 二级医院 (OSM does not
       record the grade; tertiary hospitals must come from an upload).
    4. ``amenity=clinic|doctors`` or ``healthcare=clinic|doctor|centre`` →
       社区卫生服务站.
    5. Any other ``healthcare=*`` (dentist, rehabilitation, dialysis,
       birthing centre…) or ``amenity=dentist`` → 其他.
    """
    amenity = _tag(tags, "amenity")
    healthcare = _tag(tags, "healthcare")
    if amenity == "pharmacy" or healthcare in OSM_EXCLUDED_HEALTHCARE:
        return None
    key = _type_key(name)
    for pattern, canonical in _NAME_PATTERNS:
        if pattern in key:
            return canonical
    if amenity == "hospital" or healthcare == "hospital":
        return "二级医院"
    if amenity in ("clinic", "doctors") or healthcare in ("clinic", "doctor", "centre", "center"):
        return "社区卫生服务站"
    if healthcare or amenity == "dentist":
        return "其他"
    return None


def _outline_polygon(area: Any) -> shapely.Geometry:
    geom = load_prefecture_outline(area) if isinstance(area, str | Prefecture) else area
    if geom is None or not isinstance(geom, shapely.Geometry):
        raise InputError(f"expected a prefecture name or a polygon, got {area!r}")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts)
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError("the area to search OpenStreetMap in has no polygon")
    return geom


def _osm_features(polygon: shapely.Geometry | None, path: str | Path | None) -> Any:
    """The raw osmnx GeoDataFrame; the only place that differs between online and file."""
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        if path is not None:
            return ox.features_from_xml(path, polygon=polygon, tags=OSM_TAGS)
        return ox.features_from_polygon(polygon, tags=OSM_TAGS)
    except InsufficientResponseError:
        return None


def facilities_from_osm(
    prefecture_name_or_polygon: str | Prefecture | shapely.Geometry | None,
    *,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Health facilities mapped in OpenStreetMap, as a facility table (``source="osm"``).

    Parameters
    ----------
    prefecture_name_or_polygon
        A prefecture (name, adcode or :class:`~gridplan.boundaries.Prefecture`;
        its outline is used) or a WGS-84 (Multi)Polygon.  May be None when
        ``path`` is given: the whole extract is read.
    path
        A recorded OSM XML extract (``.osm``).  Without it the Overpass API is
        queried through osmnx (needs the network).

    Queried tags: :data:`OSM_TAGS`; tag → type mapping: :func:`osm_type`.
    Polygons (hospital campuses) become their representative point; a
    feature named like an earlier one within :data:`OSM_DUPLICATE_M` metres
    is the same facility mapped twice and is dropped (polygons are kept
    before nodes).  ``beds`` comes from the ``beds`` tag; doctors and GPs are
    unknown.  Ids are ``osm-node-123`` / ``osm-way-456``.

    Raises
    ------
    GridPlanError
        Code ``facilities.osm_unavailable`` when Overpass cannot be reached.
    UploadError
        Code ``upload.unreadable`` when the extract cannot be read.
    """
    if prefecture_name_or_polygon is None and path is None:
        raise InputError("give a prefecture or polygon, or the path of an OSM extract")
    polygon = (
        _outline_polygon(prefecture_name_or_polygon)
        if prefecture_name_or_polygon is not None
        else None
    )
    try:
        gdf = _osm_features(polygon, path)
    except (OSError, ValueError, SyntaxError) as exc:
        if path is None:
            raise GridPlanError(
                f"cannot query OpenStreetMap: {exc}",
                code="facilities.osm_unavailable",
                params={"detail": str(exc)[:200]},
            ) from exc
        fname = Path(path).name
        raise UploadError(
            f"cannot read {fname}: {exc}",
            code="upload.unreadable",
            params={"filename": fname, "detail": str(exc)[:200]},
        ) from exc
    except Exception as exc:  # requests/osmnx network and HTTP errors
        if path is not None:
            raise
        raise GridPlanError(
            f"cannot query OpenStreetMap: {exc}",
            code="facilities.osm_unavailable",
            params={"detail": str(exc)[:200]},
        ) from exc
    if gdf is None or len(gdf) == 0:
        return empty_facilities()
    gdf = gdf.reset_index()
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    # polygons first, so a campus polygon wins over a node inside it
    rank = gdf["element"].map({"relation": 0, "way": 1, "node": 2}).fillna(3)
    gdf = gdf.assign(_rank=rank.to_numpy()).sort_values(["_rank", "id"], kind="stable")
    rows: list[dict[str, Any]] = []
    for rec in gdf.to_dict("records"):
        tags = {k: v for k, v in rec.items() if k not in ("geometry", "element", "id", "_rank")}
        name = ""
        for key in ("name", "name:zh", "name:zh-Hans", "official_name", "name:en"):
            name = _clean_name(tags.get(key))
            if name:
                break
        ftype = osm_type(tags, name)
        if ftype is None:
            continue
        geom = rec["geometry"]
        pt = geom if geom.geom_type == "Point" else geom.representative_point()
        rows.append(
            {
                "facility_id": f"osm-{rec['element']}-{rec['id']}",
                "name": name or "未命名医疗机构",
                "named": bool(name),
                "type": ftype,
                "lon": pt.x,
                "lat": pt.y,
                "beds": _count(tags.get("beds")),
            }
        )
    df = pd.DataFrame(rows)
    if df.empty:
        return empty_facilities()
    if polygon is not None:
        inside = shapely.intersects_xy(polygon, df["lon"].to_numpy(), df["lat"].to_numpy())
        df = df[inside].reset_index(drop=True)
    if len(df):
        names = [n if named else "" for n, named in zip(df["name"], df["named"], strict=True)]
        dups = _near_duplicates(
            names, df["lon"].to_numpy(float), df["lat"].to_numpy(float), OSM_DUPLICATE_M
        )
        beds = df["beds"].to_numpy(float)
        for i, j, _ in dups:
            if np.isnan(beds[j]):
                beds[j] = beds[i]
        df["beds"] = beds
        df = df.drop(index=[i for i, _, _ in dups]).reset_index(drop=True)
    df["doctors"] = np.nan
    df["gps"] = np.nan
    df["source"] = "osm"
    df["active"] = True
    return _finish(df)


# --------------------------------------------------------------------------------------
# helpers for models and the dashboard


def facility_mask(
    facilities: pd.DataFrame, types: Iterable[str] | None = None
) -> NDArray[np.bool_]:
    """Rows :func:`facility_xy` uses: active, with finite lon/lat, of ``types`` if given."""
    if len(facilities) == 0:
        return np.zeros(0, dtype=bool)
    lon = pd.to_numeric(facilities["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(facilities["lat"], errors="coerce").to_numpy(float)
    mask = np.isfinite(lon) & np.isfinite(lat)
    if "active" in facilities:
        mask &= facilities["active"].fillna(True).astype(bool).to_numpy()
    if types is not None:
        wanted = set(types)
        unknown = wanted - set(FACILITY_TYPES)
        if unknown:
            raise InputError(f"unknown facility types: {sorted(unknown)}")
        mask &= facilities["type"].isin(wanted).to_numpy()
    return mask


def facility_xy(
    facilities: pd.DataFrame, crs: str, types: Iterable[str] | None = None
) -> NDArray[np.float64]:
    """Metric coordinates ``(n, 2)`` in ``crs`` of the rows :func:`facility_mask` selects.

    Row ``i`` of the result is the ``i``-th ``True`` row of the mask, which is
    what a travel-time model's ``nearest`` index refers to.
    """
    mask = facility_mask(facilities, types)
    if not mask.any():
        return np.zeros((0, 2), dtype=np.float64)
    lon = pd.to_numeric(facilities["lon"], errors="coerce").to_numpy(float)[mask]
    lat = pd.to_numeric(facilities["lat"], errors="coerce").to_numpy(float)[mask]
    return _metric_xy(lon, lat, crs)


def add_facility(
    facilities: pd.DataFrame,
    name: str,
    type: str,
    lon: float,
    lat: float,
    **attrs: Any,
) -> pd.DataFrame:
    """A copy of ``facilities`` with one planned/added facility (``source="added"``).

    ``type`` accepts aliases (:func:`normalise_type`); ``lon``/``lat`` are
    WGS-84.  ``attrs`` may set ``beds``, ``doctors``, ``gps``, ``active``
    and ``facility_id`` (default: the next free ``ADD-0001``...).

    Raises
    ------
    InputError
        Codes ``facilities.unknown_type``, ``facilities.bad_coordinates``,
        ``facilities.duplicate_id``.
    """
    unknown = set(attrs) - {"beds", "doctors", "gps", "active", "facility_id"}
    if unknown:
        raise InputError(f"unknown facility attributes: {sorted(unknown)}")
    ftype = normalise_type(type)
    if ftype is None:
        raise InputError(
            f"unknown facility type {type!r}",
            code="facilities.unknown_type",
            params={"value": str(type), "accepted": "、".join(FACILITY_TYPES)},
        )
    x, ok_x = _parse_coordinate(lon)
    y, ok_y = _parse_coordinate(lat)
    if x is None or y is None or not (ok_x and ok_y) or not bool(gcrs.in_china(x, y)):
        raise InputError(
            f"invalid facility coordinates lon={lon!r}, lat={lat!r}",
            code="facilities.bad_coordinates",
            params={"lon": str(lon), "lat": str(lat)},
        )
    existing = set(facilities["facility_id"].astype(str)) if len(facilities) else set()
    fid = attrs.get("facility_id")
    if fid is None:
        k = len(existing) + 1
        while f"ADD-{k:04d}" in existing:
            k += 1
        fid = f"ADD-{k:04d}"
    elif str(fid) in existing:
        raise InputError(
            f"facility id {fid!r} already exists",
            code="facilities.duplicate_id",
            params={"id": str(fid)},
        )
    row = {
        "facility_id": str(fid),
        "name": _clean_name(name),
        "type": ftype,
        "lon": x,
        "lat": y,
        "beds": attrs.get("beds", np.nan),
        "doctors": attrs.get("doctors", np.nan),
        "gps": attrs.get("gps", np.nan),
        "source": "added",
        "active": bool(attrs.get("active", True)),
    }
    base = _finish(facilities) if len(facilities) else empty_facilities()
    return _finish(pd.concat([base, _finish(pd.DataFrame([row]))], ignore_index=True))


def set_active(facilities: pd.DataFrame, ids: str | Iterable[str], active: bool) -> pd.DataFrame:
    """A copy of ``facilities`` with ``active`` set for the given facility ids.

    Raises
    ------
    InputError
        Code ``facilities.unknown_ids`` if an id is not in the table (nothing is changed).
    """
    wanted = [ids] if isinstance(ids, str) else [str(i) for i in ids]
    present = set(facilities["facility_id"].astype(str))
    missing = [i for i in wanted if i not in present]
    if missing:
        raise InputError(
            f"unknown facility ids: {missing}",
            code="facilities.unknown_ids",
            params={"ids": ", ".join(missing[:20])},
        )
    out = facilities.copy()
    out.loc[out["facility_id"].astype(str).isin(wanted), "active"] = bool(active)
    out["active"] = out["active"].astype(bool)
    return out
