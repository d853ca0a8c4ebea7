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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gridplan import settings
from gridplan._types import FloatArray, IntArray
from gridplan._validate import Problems
from gridplan.errors import FacilitiesError, UploadError
from gridplan.facilities.types import FACILITY_TYPES, _finish, normalise_type
from gridplan.i18n import Lang, t
from gridplan.inputs import crs as gcrs
from gridplan.inputs.boundaries import Prefecture, load_prefecture_outline
from gridplan.inputs.columns import cell_text, find_columns, missing_columns_error
from gridplan.inputs.files import LoadReport

_REJECTED_COLUMNS = ["row", "name", "code", "params"]


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
        ``facilities.row.*`` in :data:`gridplan.i18n.MESSAGES`) and ``params``
        (the reason's parameters, a dict).  :func:`rejection_table` gives the
        reasons as text in the planner's language.
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

    def rejection_table(self, lang: Lang = "zh") -> pd.DataFrame:
        """The rejected rows with their reason in ``lang`` (see :func:`rejection_table`)."""
        return rejection_table(self.rejected, lang)


def rejection_reason(code: str, params: Mapping[str, Any], lang: Lang = "zh") -> str:
    """Why a row was rejected, in ``lang``: the text ``facilities.row.<code>``."""
    return t(f"facilities.row.{code}", lang, **params)


def rejection_table(rejected: pd.DataFrame, lang: Lang = "zh") -> pd.DataFrame:
    """``row``, ``name`` and ``reason`` (in ``lang``) of :attr:`FacilityReport.rejected` rows."""
    reasons = [
        rejection_reason(str(code), params, lang)
        for code, params in zip(rejected["code"], rejected["params"], strict=True)
    ]
    return pd.DataFrame(
        {"row": rejected["row"].to_numpy(), "name": rejected["name"].to_numpy(), "reason": reasons}
    )


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

#: Two rows of the same name closer than this are duplicates.
DUPLICATE_DISTANCE_M = 50.0
#: Tolerance around the prefecture outline when checking uploaded rows.
OUTLINE_BUFFER_M = 500.0


def _map_columns(columns: Iterable[object]) -> dict[str, str]:
    """The column read for each field of :data:`COLUMN_ALIASES`; a column serves one field."""
    columns = list(columns)
    found: dict[str, str] = {}
    for fld, aliases in COLUMN_ALIASES.items():
        free = [c for c in find_columns(columns, aliases) if str(c) not in found.values()]
        if free:
            found[fld] = str(free[0])
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
        if math.isnan(f):  # an empty cell
            return None, True
        return (f, True) if math.isfinite(f) else (None, False)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None, True
    text = re.sub(r"^(东经|北纬|[EN])\s*|\s*[EN]$", "", text, flags=re.IGNORECASE).strip()
    text = text.replace(" ", "")
    try:
        f = float(text.rstrip("°度"))
    except ValueError:
        pass
    else:  # "inf", "nan" and "1e400" are text, never a place
        return (f, True) if math.isfinite(f) else (None, False)
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
    from gridplan.inputs.vector import parse_datum  # GDAL's readers: loaded for a file only

    for candidate in (text, re.sub(r"坐标系?|经纬度|坐标", "", text)):
        try:
            return parse_datum(candidate)
        except UploadError:
            continue
    return None


#: Values that switch a facility off; anything else (blank included) leaves it active.
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
    f = _count_number(value)
    if f is None or not 0 <= f <= settings.max_facility_count:
        return np.nan
    return f


def _count_number(value: object) -> float | None:
    """The number a count cell or tag holds, unchecked (``inf`` too); None if it holds none."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return None if math.isnan(f) else f
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip()
    m = re.match(r"^(\d+(?:\.\d+)?)\s*[张床人名个]?$", text)
    if m:
        return float(m.group(1))
    try:  # scientific notation, "inf", "1e400"
        f = float(text)
    except ValueError:
        return None
    return None if math.isnan(f) else f


def _count_problem(value: object) -> bool:
    """Whether a count cell holds a number no facility can have: not finite or over the limit."""
    f = _count_number(value)
    return f is not None and not (math.isfinite(f) and f <= settings.max_facility_count)


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
    data: bytes | str | Path, report: LoadReport, n_rows: int, sheet_rows: IntArray | None
) -> tuple[IntArray, bool]:
    """Spreadsheet row number (header = 1) of each data row, and whether it is exact.

    :func:`gridplan.inputs.tables.read_table_upload` drops blank rows: a workbook's
    rows come numbered from its reader; a CSV's are re-counted from the file
    itself; if that count disagrees, the data rows are numbered from 2 as if
    nothing was dropped.
    """
    fallback = np.arange(2, n_rows + 2, dtype=np.int64)
    if sheet_rows is not None:
        return (sheet_rows, True) if len(sheet_rows) == n_rows else (fallback, False)
    raw = _raw_bytes(data)
    if raw is None or report.driver != "CSV" or not report.encoding:
        return fallback, False
    rows: list[int] = []
    try:
        from gridplan.inputs.tables import _guess_separator

        codec = "utf-8-sig" if report.encoding.upper() == "UTF-8" else report.encoding
        text = raw.decode(codec)
        reader = csv.reader(io.StringIO(text), delimiter=_guess_separator(text))
        for i, record in enumerate(reader, start=1):
            if any(cell != "" for cell in record):
                rows.append(i)
    except Exception:  # any surprise: keep the simple numbering
        return fallback, False
    data_rows = np.asarray(rows[1:], dtype=np.int64)
    if len(data_rows) != n_rows:
        return fallback, False
    return data_rows, True


#: Every reason a row can be rejected for; each has its text ``facilities.row.<reason>``.
ROW_REASONS: tuple[str, ...] = (
    "duplicate_row",
    "missing_name",
    "missing_type",
    "unknown_type",
    "missing_coordinates",
    "non_numeric",
    "not_finite",
    "bad_count",
    "bad_datum",
    "out_of_range",
    "swapped",
    "not_in_china",
    "outside_prefecture",
    "near_duplicate",
)


def _reject(rows: list[dict[str, Any]], row: int, name: str, code: str, **params: Any) -> None:
    if code not in ROW_REASONS:  # a programming error: every reason needs its text
        raise ValueError(f"unknown rejection reason {code!r}")
    rows.append({"row": int(row), "name": name, "code": code, "params": params})


def _lonlat_problem(lon: float, lat: float) -> str | None:
    """The rejection code of a coordinate pair that is no place in China, or None."""
    masks = gcrs.lonlat_problems(lon, lat)
    for code, hit in zip(("swapped", "out_of_range", "not_in_china"), masks, strict=True):
        if bool(hit):
            return code
    return None


def _buffered_outline(outline: shapely.Geometry) -> shapely.Geometry:
    minx, miny, maxx, maxy = outline.bounds
    metric = gcrs.metric_crs_for((minx, miny, maxx, maxy))
    to_m = gcrs.transformer("EPSG:4326", metric)
    to_ll = gcrs.transformer(metric, "EPSG:4326")
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


def _metric_xy(lon: FloatArray, lat: FloatArray, crs: str | None = None) -> FloatArray:
    if crs is None:
        crs = gcrs.metric_crs_for(
            (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        )
    x, y = gcrs.transformer("EPSG:4326", crs).transform(lon, lat)
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _near_duplicates(
    names: list[str], lon: FloatArray, lat: FloatArray, radius_m: float
) -> list[tuple[int, int, float]]:
    """``(i, j, metres)`` for each item ``i`` that repeats an earlier item ``j`` (same name).

    Within each name, items are taken in order; an item closer than ``radius_m`` to
    an earlier item kept is a repeat of the first such item, else it is kept.  The
    kept items are filed in square cells of side ``radius_m``, so an item is
    compared only with those of its own and the 8 neighbouring cells: kept items
    are ``radius_m`` apart, so few share a neighbourhood and the check is linear
    in the number of items (a list of 200,000 village clinics all named 村卫生室
    takes seconds, not hours).
    """
    if not names:
        return []
    xy = _metric_xy(lon, lat)
    cells = np.floor(xy / radius_m).astype(np.int64).tolist()
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n:
            groups.setdefault(_name_key(n), []).append(i)
    out: list[tuple[int, int, float]] = []
    for members in groups.values():
        kept: dict[tuple[int, int], list[int]] = {}
        for i in members:
            cx, cy = cells[i]
            near = [
                j
                for dx in (-1, 0, 1)
                for dy in (-1, 0, 1)
                for j in kept.get((cx + dx, cy + dy), ())
            ]
            hit = _first_within(i, sorted(near), xy, radius_m)
            if hit is None:
                kept.setdefault((cx, cy), []).append(i)
            else:
                out.append(hit)
    return out


def _first_within(
    i: int, earlier: list[int], xy: FloatArray, radius_m: float
) -> tuple[int, int, float] | None:
    """``(i, j, metres)`` for the first of ``earlier`` within ``radius_m`` of ``i``, or None."""
    for j in earlier:
        d = float(np.hypot(*(xy[i] - xy[j])))
        if d < radius_m:
            return i, j, d
    return None


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
        :func:`gridplan.inputs.tables.read_table_upload`: encoding detection, first
        non-empty sheet).
    filename : str, optional
        The user's file name.
    datum : str
        Datum of the coordinates: ``"wgs84"`` (GPS, Tianditu), ``"gcj02"``
        (Amap/Tencent) or ``"bd09"`` (Baidu); aliases as
        :func:`gridplan.inputs.vector.parse_datum`.  A ``datum``/``坐标系`` column
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
    coordinates, have non-numeric or non-finite coordinates (``inf``, ``1e400``), a
    bed, doctor or GP count that is not finite or over
    :data:`gridplan.settings.max_facility_count`, or an unknown datum, have
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
        From :func:`~gridplan.inputs.tables.read_table_upload` (format, encoding, size,
        row, column, cell and text limits, unsafe workbooks),
        or ``upload.bad_datum`` for an unknown ``datum``.
    """
    from gridplan.inputs.tables import read_table_rows  # the file readers: for a file only

    default_datum, fallback_type = _checked_arguments(datum, default_type)
    frame, load, sheet_rows = read_table_rows(data, filename)
    cols = _required_columns(frame, fallback_type is not None)
    rownum, exact = _sheet_rows(data, load, len(frame), sheet_rows)
    notes = list(load.notes)
    if not exact and load.n_dropped:
        notes.append("blank rows were dropped; row numbers counted without them")

    rejected: list[dict[str, Any]] = []
    rules = _RowRules(cols, fallback_type, default_datum)
    good = _read_rows(frame, rownum, rules, rejected)
    table = _in_wgs84(pd.DataFrame(good))
    outline = _resolve_outline(prefecture_outline)
    if outline is not None:
        table = _drop_outside(table, _buffered_outline(outline), rejected)
    table = _drop_near_duplicates(table, rejected)

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
        filename=load.filename,
        n_rows=len(frame),
        n_loaded=len(table),
        rejected=rejected_df,
        datum=default_datum,
        encoding=load.encoding,
        columns=dict(cols),
        notes=notes,
        load_report=load,
    )
    if not len(table):
        raise _no_valid_rows(report)
    # the report shares ``notes``: the renaming note below reaches it too
    table["facility_id"] = _unique_ids(list(table["facility_id"]), list(table["row"]), notes)
    table["source"] = "uploaded"
    return _finish(table), report


def _checked_arguments(datum: str, default_type: str | None) -> tuple[gcrs.Datum, str | None]:
    """The declared datum and the type of rows without one (both checked at once)."""
    problems = Problems("facilities.invalid", "cannot read the facility table")
    default_datum: gcrs.Datum = "wgs84"
    from gridplan.inputs.vector import parse_datum  # GDAL's readers: loaded for a file only

    try:
        default_datum = parse_datum(datum)
    except UploadError as exc:
        problems.merge(exc)
    fallback_type = None
    if default_type is not None:
        fallback_type = normalise_type(default_type)
        if fallback_type is None:
            problems.add(
                "facilities.unknown_type",
                f"unknown default facility type {default_type!r}",
                value=str(default_type),
                accepted="、".join(FACILITY_TYPES),
            )
    problems.raise_if_any()
    return default_datum, fallback_type


def _required_columns(frame: pd.DataFrame, has_default_type: bool) -> dict[str, str]:
    """The column of each field; a name, a type (unless defaulted) and coordinates are required."""
    cols = _map_columns(frame.columns)
    required = ("name",) if has_default_type else ("name", "type")
    missing = [f for f in required if f not in cols]
    if not ({"lon", "lat"} <= set(cols) or "lonlat" in cols):
        missing += [f for f in ("lon", "lat") if f not in cols]
    if missing:
        needed = {f: COLUMN_ALIASES[f] for f in missing}
        raise missing_columns_error("facilities", needed, frame.columns, FacilitiesError)
    return cols


@dataclass(frozen=True)
class _RowRules:
    """How each row of one table is read: the column of each field, the type of rows without
    one (``None``: the type is required) and the datum of rows without a datum column."""

    cols: dict[str, str]
    fallback_type: str | None
    default_datum: gcrs.Datum


def _read_rows(
    frame: pd.DataFrame, rownum: IntArray, rules: _RowRules, rejected: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows that pass every check, as records; the others go to ``rejected`` with a reason.

    A row identical to an earlier one is a duplicate whatever else it holds.
    """
    hashes = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    first_seen: dict[int, int] = {}
    good: list[dict[str, Any]] = []
    for i, rec in enumerate(_used_cells(frame, rules.cols)):
        row = int(rownum[i])
        fname = _clean_name(rec[rules.cols["name"]])
        h = int(hashes[i])
        if h in first_seen:
            _reject(rejected, row, fname, "duplicate_row", first=first_seen[h])
            continue
        first_seen[h] = row
        record, reason, params = _parse_row(rec, fname, rules)
        if record is None:
            _reject(rejected, row, fname, reason, **params)
        else:
            good.append({"row": row, **record})
    return good


def _used_cells(frame: pd.DataFrame, cols: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Each row's cells of the columns read, keyed by column name as text.

    Plain values, not a pandas row per record: a 200,000-row list reads in seconds.
    """
    used = list(dict.fromkeys(cols.values()))
    labels = {str(c): c for c in frame.columns}
    values = [frame[labels[name]].tolist() for name in used]
    for cells in zip(*values, strict=True):
        yield dict(zip(used, cells, strict=True))


def _parse_row(
    rec: Mapping[str, Any], fname: str, rules: _RowRules
) -> tuple[dict[str, Any] | None, str, dict[str, Any]]:
    """One row as a record, or None with the first reason it cannot be used and its params."""
    cols, fallback_type, default_datum = rules.cols, rules.fallback_type, rules.default_datum
    if not fname:
        return None, "missing_name", {}
    raw_type = rec[cols["type"]] if "type" in cols else None
    if _is_blank(raw_type) and fallback_type is not None:
        raw_type = fallback_type
    if _is_blank(raw_type):
        return None, "missing_type", {}
    ftype = normalise_type(raw_type)
    if ftype is None:
        accepted = "、".join(FACILITY_TYPES)
        return None, "unknown_type", {"value": _shown(raw_type), "accepted": accepted}
    raw_lon, raw_lat = _raw_lonlat(rec, cols)
    lon, ok_lon = _parse_coordinate(raw_lon)
    lat, ok_lat = _parse_coordinate(raw_lat)
    if not (ok_lon and ok_lat):
        bad = raw_lon if not ok_lon else raw_lat
        reason = "not_finite" if _is_non_finite(bad) else "non_numeric"
        return None, reason, {"value": _shown(bad)}
    if lon is None or lat is None:
        return None, "missing_coordinates", {}
    row_datum = (
        _parse_datum_value(rec[cols["datum"]], default_datum) if "datum" in cols else default_datum
    )
    if row_datum is None:
        return None, "bad_datum", {"value": _shown(rec[cols["datum"]])}
    problem = _lonlat_problem(lon, lat)
    if problem is not None:
        return None, problem, {"lon": cell_text(lon), "lat": cell_text(lat)}
    for f in _COUNT_FIELDS:
        if f in cols and _count_problem(rec[cols[f]]):
            limit = f"{settings.max_facility_count:,.0f}"
            return (
                None,
                "bad_count",
                {"column": cols[f], "value": _shown(rec[cols[f]]), "limit": limit},
            )
    fid = ""
    if "facility_id" in cols and not _is_blank(rec[cols["facility_id"]]):
        fid = str(rec[cols["facility_id"]]).strip()
    record = {
        "facility_id": fid,
        "name": fname,
        "type": ftype,
        "raw_lon": lon,
        "raw_lat": lat,
        "datum": row_datum,
        "active": _parse_active(rec[cols["active"]]) if "active" in cols else True,
        **{f: _count(rec[cols[f]]) if f in cols else np.nan for f in _COUNT_FIELDS},
    }
    return record, "", {}


def _is_non_finite(value: object) -> bool:
    """Whether a cell is a number, but an infinite or undefined one (``inf``, ``1e400``)."""
    try:
        f = float(unicodedata.normalize("NFKC", str(value)).strip().rstrip("°度"))
    except (TypeError, ValueError):
        return False
    return not math.isfinite(f)


#: Longest cell text a rejection reason quotes; a hostile cell can be very long.
_SHOWN_CHARS = 40


def _shown(value: object) -> str:
    """A cell as a message quotes it: one line, at most :data:`_SHOWN_CHARS` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _raw_lonlat(rec: Mapping[str, Any], cols: dict[str, str]) -> tuple[Any, Any]:
    """A row's longitude and latitude as written: two columns, or one ``lon,lat`` column."""
    if "lon" in cols and "lat" in cols:
        return rec[cols["lon"]], rec[cols["lat"]]
    pair = "" if _is_blank(rec[cols["lonlat"]]) else str(rec[cols["lonlat"]])
    parts = [p for p in re.split(r"[,，;；\s]+", unicodedata.normalize("NFKC", pair).strip()) if p]
    if len(parts) > 2:
        return pair, None
    lon, lat = [*parts, None, None][:2]
    return lon, lat


def _in_wgs84(table: pd.DataFrame) -> pd.DataFrame:
    """``lon``/``lat`` in WGS-84 from each row's raw coordinates and datum."""
    if not len(table):
        return table
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
    return table


def _drop_outside(
    table: pd.DataFrame, zone: shapely.Geometry, rejected: list[dict[str, Any]]
) -> pd.DataFrame:
    """The rows inside ``zone`` (the buffered prefecture); the others are rejected."""
    if not len(table):
        return table
    inside = shapely.contains_xy(zone, table["lon"].to_numpy(), table["lat"].to_numpy())
    for rec in table[~inside].itertuples():
        lon, lat = f"{rec.lon:.5f}", f"{rec.lat:.5f}"
        _reject(rejected, int(rec.row), str(rec.name), "outside_prefecture", lon=lon, lat=lat)
    return table[inside].reset_index(drop=True)


def _drop_near_duplicates(table: pd.DataFrame, rejected: list[dict[str, Any]]) -> pd.DataFrame:
    """A row named like an earlier one within :data:`DUPLICATE_DISTANCE_M` is rejected."""
    if not len(table):
        return table
    dups = _near_duplicates(
        list(table["name"]),
        table["lon"].to_numpy(float),
        table["lat"].to_numpy(float),
        DUPLICATE_DISTANCE_M,
    )
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
    return table.drop(index=[i for i, _, _ in dups]).reset_index(drop=True)


#: Rejected rows a "no usable row" message lists with their reasons.
SHOWN_REJECTIONS = 5


def _no_valid_rows(report: FacilityReport) -> FacilitiesError:
    """Every row was rejected: the error names the rows and gives the first rows' reasons.

    Each of the first :data:`SHOWN_REJECTIONS` rows is a problem of the error
    (code ``facilities.rejected.<reason>``), so the planner reads its row
    number, name and reason in their language wherever the error is shown.
    """
    rows = report.rejected["row"]
    rows_text = ", ".join(str(r) for r in rows.head(20)) + (", …" if len(rows) > 20 else "")
    shown = report.rejected.head(SHOWN_REJECTIONS)
    details: list[dict[str, Any]] = []
    texts: list[str] = []
    for row, name, code, params in shown.itertuples(index=False, name=None):
        label = _shown(name) or "—"
        details.append(
            {"code": f"facilities.rejected.{code}", "row": int(row), "name": label, **params}
        )
        texts.append(f"row {int(row)} ({label}): " + rejection_reason(str(code), params, "en"))
    return FacilitiesError(
        f"no usable row in {report.filename}: all {report.n_rows} rows were rejected",
        code="facilities.no_valid_rows",
        params={
            "filename": report.filename,
            "n_rows": report.n_rows,
            "rows": rows_text,
            "n_shown": len(shown),
            "problems": details,
        },
        problems=texts,
        report=report,
    )


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
