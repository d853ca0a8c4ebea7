"""Township (乡镇/街道) layers: columns, county matching and the reference list.

A planner's township layer (read by :mod:`gridplan.inputs`) is matched

1. to its county: by the 6-digit prefix of its statistical code where codes
   exist, else by location (the county polygon it overlaps most);
2. to the reference township list in ``data/geo/townships_2020.csv`` (NBS 2020
   codes): by 9-digit code, else by name.  A reference match decides the
   administering unit, so townships administered by a functional zone
   (宋营镇 → 高新区) belong to the zone even though they lie inside a district.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan._validate import Problems
from gridplan.inputs.boundaries import Prefecture
from gridplan.inputs.columns import find_column
from gridplan.inputs.crs import metric_crs_of, project_geoms
from gridplan.plan.population import normalise_name
from gridplan.settings import data_dir

NAME_COLUMN_HINTS = (
    "name",
    "xzqmc",
    "xzmc",
    "zldwmc",
    "乡镇名称",
    "乡镇街道",
    "乡镇",
    "街道",
    "名称",
    "name_2020",
)
CODE_COLUMN_HINTS = (
    "code",
    "code9",
    "xzqdm",
    "xzdm",
    "zldwdm",
    "adcode",
    "乡镇代码",
    "行政代码",
    "区划代码",
    "代码",
)
_CODE_RE = re.compile(r"^\d{9}(\d{3})?$")
_TOWNSHIP_SUFFIX = re.compile(r"(?:街道|镇|乡|办事处|地区|街道办)$")


@functools.cache
def _reference_cached() -> pd.DataFrame:
    return pd.read_csv(data_dir() / "townships_2020.csv", dtype=str, keep_default_na=False)


def reference_townships(prefecture_adcode: str | None = None) -> pd.DataFrame:
    """Reference township list (``county_adcode``, ``code9``, ``name_2020``, ``name_2022``,
    ``administered_by``, ``source``), optionally for one prefecture."""
    ref = _reference_cached().copy()
    if prefecture_adcode:
        ref = ref[ref["county_adcode"].str[:4] == prefecture_adcode[:4]]
    return ref.reset_index(drop=True)


# counts and name lists like SurfaceReport's on purpose: each stage reports its own findings
@dataclass
class TownshipReport:
    """What matching a township layer found (English notes; counts for the UI)."""

    n_features: int = 0
    name_column: str | None = None
    code_column: str | None = None
    n_county_by_code: int = 0
    n_county_by_location: int = 0
    n_reference_matched: int = 0
    n_merged_parts: int = 0
    outside: list[str] = field(default_factory=list)
    not_in_reference: list[str] = field(default_factory=list)
    reference_missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _pick_column(gdf: pd.DataFrame, hints: tuple[str, ...]) -> str | None:
    col, _ = find_column([c for c in gdf.columns if c != "geometry"], hints)
    return None if col is None else str(col)


def _detect_code_column(gdf: pd.DataFrame) -> str | None:
    for col in gdf.columns:
        if col == "geometry":
            continue
        vals = gdf[col].dropna().astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
        if len(vals) and vals.str.match(_CODE_RE).mean() >= 0.8:
            return str(col)
    return _pick_column(gdf, CODE_COLUMN_HINTS)


def _detect_name_column(gdf: pd.DataFrame) -> str | None:
    best: str | None = None
    best_share = 0.0
    for col in gdf.columns:
        if col == "geometry" or gdf[col].dtype.kind in "iufb":
            continue
        vals = gdf[col].dropna().astype(str).map(normalise_name)
        share = vals.str.contains(_TOWNSHIP_SUFFIX).mean() if len(vals) else 0.0
        if share > best_share:
            best, best_share = str(col), float(share)
    if best_share >= 0.5:
        return best
    return _pick_column(gdf, NAME_COLUMN_HINTS) or best


def _clean_code(value: object) -> str:
    s = re.sub(r"\.0$", "", str(value).strip()) if value is not None else ""
    return s if s.isdigit() else ""


def _check_layer(layer: gpd.GeoDataFrame) -> tuple[str | None, str | None]:
    """The layer's code and name columns, once it has features, a CRS and one of the two."""
    problems = Problems("township.invalid", "cannot use the township layer")
    if layer.empty:
        problems.add("township.empty", "the township layer has no features")
        problems.raise_if_any()
    if layer.crs is None:
        problems.add("township.no_crs", "the township layer has no CRS")
    code_column, name_column = _detect_code_column(layer), _detect_name_column(layer)
    if name_column is None and code_column is None:
        cols = ", ".join(str(c) for c in layer.columns if c != "geometry")
        problems.add(
            "township.no_columns",
            f"the township layer has neither a name nor a code column (columns: {cols})",
            columns=cols,
        )
    problems.raise_if_any()
    return code_column, name_column


def locate_in_counties(
    geoms: gpd.GeoSeries, counties: gpd.GeoDataFrame, metric_crs: str
) -> tuple[np.ndarray, np.ndarray]:
    """County adcode that each geometry overlaps most, and that overlap's share of its area."""
    g = project_geoms(geoms.to_numpy(), geoms.crs, metric_crs)
    c_geoms = project_geoms(counties.geometry.to_numpy(), counties.crs, metric_crs)
    codes = counties["adcode"].to_numpy()
    tree = shapely.STRtree(c_geoms)
    pairs = tree.query(g, predicate="intersects")
    best = np.full(len(g), None, dtype=object)
    share = np.zeros(len(g))
    if pairs.size:
        inter = shapely.area(shapely.intersection(g[pairs[0]], c_geoms[pairs[1]]))
        areas = shapely.area(g)
        for gi, ci, a in zip(pairs[0], pairs[1], inter, strict=True):
            s = a / areas[gi] if areas[gi] > 0 else 0.0
            if s > share[gi]:
                share[gi], best[gi] = s, codes[ci]
    return best, share


def prepare_townships(
    layer: gpd.GeoDataFrame,
    prefecture: Prefecture,
    counties: gpd.GeoDataFrame,
    zone_codes: list[str] | tuple[str, ...] = (),
) -> tuple[gpd.GeoDataFrame, TownshipReport]:
    """Match an uploaded township layer to counties and to the reference list.

    Parameters
    ----------
    layer
        Polygons in EPSG:4326 (as :func:`gridplan.inputs.vector.read_vector_upload` returns).
    prefecture
        The prefecture being planned.
    counties
        Its county polygons (``adcode``, ``geometry``), WGS-84.
    zone_codes
        Functional-zone codes of the prefecture (census rows without polygons).

    Returns
    -------
    (geopandas.GeoDataFrame, TownshipReport)
        One row per township: ``unit_id``, ``name``, ``county_adcode``
        (administering county or zone; None outside the prefecture),
        ``located_county`` (the polygon it lies in), ``ref_matched``,
        ``inside_prefecture``, ``geometry`` (WGS-84).
    """
    rep = TownshipReport(n_features=len(layer))
    rep.code_column, rep.name_column = _check_layer(layer)
    layer = layer.to_crs(4326)
    codes = _column_values(layer, rep.code_column, _clean_code)
    names = _column_values(layer, rep.name_column, normalise_name)
    located, share = locate_in_counties(layer.geometry, counties, metric_crs_of(counties))
    ref = _Reference.of(prefecture)
    matcher = _Matcher(ref, set(counties["adcode"]) | set(zone_codes), rep)
    rows = [
        matcher.unit(i, str(code), str(name), loc, float(sh))
        for i, (code, name, loc, sh) in enumerate(zip(codes, names, located, share, strict=True))
    ]
    out = gpd.GeoDataFrame(rows, geometry=list(layer.geometry), crs="EPSG:4326")
    out = _merge_parts(out, rep)
    present = set(out["unit_id"])
    counties_present = set(out["county_adcode"].dropna())
    rep.reference_missing = [
        str(row.name_2020)
        for row in ref.rows
        if row.code9 not in present and row.county_adcode in counties_present
    ]
    return out, rep


def _column_values(layer: pd.DataFrame, column: str | None, clean: Any) -> pd.Series:
    """The cleaned values of ``column``, or empty strings when the layer has none."""
    if column is None:
        return pd.Series([""] * len(layer), index=layer.index)
    return layer[column].map(clean)


@dataclass
class _Reference:
    """The reference townships of a prefecture, by 9-digit code and by (either year's) name."""

    rows: list[Any]
    by_code: dict[str, Any]
    by_name: dict[str, list[Any]]

    @classmethod
    def of(cls, prefecture: Prefecture) -> _Reference:
        rows: list[Any] = list(reference_townships(prefecture.adcode).itertuples())
        by_name: dict[str, list[Any]] = {}
        for row in rows:
            for nm in {row.name_2020, row.name_2022} - {""}:
                by_name.setdefault(normalise_name(nm), []).append(row)
        return cls(rows, {str(row.code9): row for row in rows}, by_name)

    def match(self, code: str, name: str, county: str | None) -> Any:
        """The reference row of a township: by code, else by a name unique (in its county)."""
        row = self.by_code.get(code[:9]) if len(code) >= 9 else None
        if row is None and name in self.by_name:
            cands = self.by_name[name]
            local = [c for c in cands if county and c.county_adcode == county]
            row = local[0] if len(local) == 1 else (cands[0] if len(cands) == 1 else None)
        return row


@dataclass
class _Matcher:
    """Matches the townships of one layer: the reference, the prefecture's county and zone
    codes, and the report counting how each township was matched."""

    ref: _Reference
    county_codes: set[str]
    rep: TownshipReport

    def unit(self, i: int, code: str, name: str, located: Any, share: float) -> dict[str, Any]:
        """Township ``i``'s unit: its code, name, administering county and reference match.

        The county comes from the code's prefix, else from the county polygon
        (``located``) holding at least half (``share``) its area; a reference
        match then decides the administering unit (a functional zone may
        administer a district's township).
        """
        rep = self.rep
        county = None
        if code and code[:6] in self.county_codes:
            county = code[:6]
            rep.n_county_by_code += 1
        elif located is not None and share >= 0.5:
            county = str(located)
            rep.n_county_by_location += 1
        r = self.ref.match(code, name, county)
        inside = bool(share >= 0.5) or (county is not None and located is not None)
        if r is not None and inside:
            county = r.county_adcode
            rep.n_reference_matched += 1
            unit_id = str(r.code9)
        elif len(code) >= 9:
            unit_id = code[:9]
        else:
            unit_id = f"{county or 'X'}-T{i + 1:03d}"
        if not inside:
            county = None
            rep.outside.append(name or unit_id)
        elif r is None:
            rep.not_in_reference.append(name or unit_id)
        return {
            "unit_id": unit_id,
            "name": name or (r.name_2020 if r is not None else unit_id),
            "county_adcode": county,
            "located_county": located,
            "ref_matched": r is not None,
            "inside_prefecture": inside,
        }


def _merge_parts(out: gpd.GeoDataFrame, rep: TownshipReport) -> gpd.GeoDataFrame:
    """One township drawn as several features (one code): one unit, its parts united."""
    if not out["unit_id"].duplicated().any():
        return out
    n_before = len(out)
    geoms = out.groupby("unit_id", sort=False).geometry.apply(
        lambda s: shapely.union_all(s.to_numpy())
    )
    out = out.drop_duplicates("unit_id").set_index("unit_id")
    out = out.set_geometry(geoms.reindex(out.index).to_numpy(), crs="EPSG:4326").reset_index()
    rep.n_merged_parts = n_before - len(out)
    rep.notes.append(f"{rep.n_merged_parts} features shared a code with another and were merged")
    return out
