"""GIS exports of a plan: grids and units as a GeoPackage and as a zipped Shapefile.

Both carry two layers, ``grids`` (the dissolved grids) and ``units`` (every
planning unit with its grid), in CGCS2000 (EPSG:4490), the national geodetic
system Chinese GIS departments work in.  The boundaries are WGS-84; CGCS2000
and WGS-84 agree to a few centimetres, far below the accuracy of the
boundaries, so the coordinates are kept and only the CRS is said (PROJ's own
WGS-84 → CGCS2000 step is the identity too).  The GeoJSON exports
(:mod:`gridplan.report.exports`) stay WGS-84, as RFC 7946 requires.

A Shapefile's field names have at most 10 characters and its text fields at
most 254 bytes: every field has a short name (:data:`GRID_FIELDS`,
:data:`UNIT_FIELDS`), and the zip holds a field-name table ``fields.csv``
(short name, full name, meaning in Chinese and English).  The GeoPackage keeps
the full names, which are the GeoJSON property names, and the same table as
its attribute table ``fields``.  Text is UTF-8 (the ``.cpg`` says so, which
QGIS and ArcGIS read), labels (unit level, population source) are in the
planner's language; people are whole numbers.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.i18n import Lang, label, t
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.networks import lead_lonlat
from gridplan.plan.population import provenance_label
from gridplan.plan.stats import dissolve_grids
from gridplan.plan.units import UnitSet
from gridplan.report.style import _missing
from gridplan.report.tables import table_to_csv

#: The CRS of the GeoPackage and the Shapefiles: CGCS2000 (geographic, degrees).
GIS_CRS = "EPSG:4490"
#: The longest text a Shapefile (dBASE) field holds, in bytes.
DBF_TEXT_BYTES = 254
#: The longest field name a Shapefile holds.
DBF_NAME_CHARS = 10
#: The layers of both files, in order.
LAYERS: tuple[str, ...] = ("grids", "units")


@dataclass(frozen=True)
class Field:
    """One attribute of a layer.

    Attributes
    ----------
    short
        Its name in the Shapefile (at most :data:`DBF_NAME_CHARS` characters).
    full
        Its name in the GeoPackage (the GeoJSON property name).
    in_shapefile
        ``False`` for lists that can outgrow a Shapefile text field (a grid's
        unit codes): the units layer says each unit's grid instead.
    """

    short: str
    full: str
    in_shapefile: bool = True

    def meaning(self, layer: str, lang: Lang) -> str:
        """What the field holds (the text ``report.field.<layer>.<full>``)."""
        return t(f"report.field.{layer}.{self.full}", lang)


#: The residents, their sources and ages, and the area: the same fields in both layers.
_PEOPLE_AND_AREA: tuple[Field, ...] = (
    Field("pop", "population"),
    Field("pop_src", "population_source"),
    Field("age65", "age65plus"),
    Field("age65_src", "age65plus_source"),
    Field("sh0_14pct", "share_0_14_pct"),
    Field("sh65pct", "share_65plus_pct"),
    Field("area_km2", "area_km2"),
)
#: The grids layer's fields.
GRID_FIELDS: tuple[Field, ...] = (
    Field("grid_id", "grid_id"),
    Field("name", "name"),
    Field("lead_hosp", "lead_hospital"),
    Field("lead_lon", "lead_lon"),
    Field("lead_lat", "lead_lat"),
    Field("members", "members"),
    Field("n_units", "n_units"),
    Field("units", "units", in_shapefile=False),
    *_PEOPLE_AND_AREA,
    Field("density", "density"),
    Field("n_undrawn", "n_undrawn"),
    Field("undrawn", "undrawn_units", in_shapefile=False),
)
#: The units layer's fields.
UNIT_FIELDS: tuple[Field, ...] = (
    Field("unit_id", "unit_id"),
    Field("name", "name"),
    Field("level", "level"),
    Field("cnty_code", "county_adcode"),
    Field("cnty_name", "county_name"),
    Field("grid_id", "grid_id"),
    Field("grid_name", "grid_name"),
    Field("lead_hosp", "lead_hospital"),
    *_PEOPLE_AND_AREA,
    Field("has_geom", "has_geometry"),
    Field("in_pref", "inside_prefecture"),
)
FIELDS: dict[str, tuple[Field, ...]] = {"grids": GRID_FIELDS, "units": UNIT_FIELDS}
#: Columns of the field-name table (headers: ``report.field.head.<column>``).
FIELD_TABLE_COLUMNS: tuple[str, ...] = ("layer", "short", "full", "in_shapefile", "zh", "en")


def _people(x: Any) -> int | None:
    """A number of people as a whole number (``None`` where unknown)."""
    return None if _missing(x) or not np.isfinite(float(x)) else round(float(x))


def _round(x: Any, digits: int) -> float | None:
    return None if _missing(x) or not np.isfinite(float(x)) else round(float(x), digits)


def _text(x: Any) -> str | None:
    return None if _missing(x) else str(x)


def grid_layer(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang = "zh"
) -> gpd.GeoDataFrame:
    """The dissolved grids with the :data:`GRID_FIELDS` (full names), WGS-84."""
    gdf = dissolve_grids(plan, unit_set, assignment)
    members = {g.grid_id: "、".join(g.members) for g in plan.grids}
    rows = [
        {
            "grid_id": str(r.grid_id),
            "name": str(r.name),
            "lead_hospital": str(r.lead_hospital or ""),
            **lead_lonlat(plan, str(r.grid_id)),
            "members": members.get(str(r.grid_id), ""),
            "n_units": int(r.n_units),
            "units": ",".join(str(x) for x in r.units),
            "population": _people(r.population),
            "population_source": provenance_label(str(r.population_source), lang),
            "age65plus": _people(getattr(r, "age65plus", None)),
            "age65plus_source": provenance_label(str(getattr(r, "age65plus_source", "none")), lang),
            "share_0_14_pct": _round(getattr(r, "share_0_14_pct", None), 2),
            "share_65plus_pct": _round(getattr(r, "share_65plus_pct", None), 2),
            "area_km2": _round(r.area_km2, 3),
            "density": _round(r.density, 1),
            "n_undrawn": len(r.undrawn_units),
            "undrawn_units": "、".join(str(x) for x in r.undrawn_units),
        }
        for r in gdf.itertuples()
    ]
    geoms = [None if g is None or g.is_empty else g for g in gdf.geometry]
    return _frame(rows, GRID_FIELDS, geoms)


def unit_layer(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series, lang: Lang = "zh"
) -> gpd.GeoDataFrame:
    """Every unit with its grid and the :data:`UNIT_FIELDS` (full names), WGS-84.

    Units without a polygon (functional zones) keep a null geometry, so the
    layer lists every unit the grids count.
    """
    u = unit_set.units
    by_id = {g.grid_id: g for g in plan.grids}
    rows, geoms = [], []
    for r, gid in zip(u.itertuples(), assignment.to_numpy(), strict=True):
        g = None if _missing(gid) else by_id.get(str(gid))
        rows.append(
            {
                "unit_id": str(r.unit_id),
                "name": str(r.name),
                "level": label("report.level", str(r.level), lang),
                "county_adcode": _text(r.county_adcode),
                "county_name": _text(r.county_name),
                "grid_id": g.grid_id if g else None,
                "grid_name": g.name if g else None,
                "lead_hospital": (g.lead_hospital or "") if g else None,
                "population": _people(r.population),
                "population_source": provenance_label(str(r.population_source), lang),
                "age65plus": _people(getattr(r, "age65plus", None)),
                "age65plus_source": provenance_label(
                    str(getattr(r, "age65plus_source", "none")), lang
                ),
                "share_0_14_pct": _round(getattr(r, "share_0_14_pct", None), 2),
                "share_65plus_pct": _round(getattr(r, "share_65plus_pct", None), 2),
                "area_km2": _round(r.area_km2, 3) if r.has_geometry else None,
                "has_geometry": int(bool(r.has_geometry)),
                "inside_prefecture": int(bool(r.inside_prefecture)),
            }
        )
        geoms.append(r.geometry if r.has_geometry else None)
    return _frame(rows, UNIT_FIELDS, geoms)


#: Fields holding numbers of people (whole numbers, nullable).
_PEOPLE = {"population", "age65plus"}
#: Fields holding whole numbers that are never missing.
_COUNTS = {"n_units", "n_undrawn", "has_geometry", "inside_prefecture"}


def _frame(rows: list[dict[str, Any]], fields: tuple[Field, ...], geoms: list[Any]) -> Any:
    """The rows as a GeoDataFrame with typed columns: people as nullable whole numbers."""
    columns = [f.full for f in fields]
    df = pd.DataFrame(rows, columns=columns)
    for c in columns:
        if c in _PEOPLE:
            df[c] = pd.array([None if v is None else int(v) for v in df[c]], dtype="Int64")
        elif c in _COUNTS:
            df[c] = df[c].astype(np.int64)
        elif c in ("share_0_14_pct", "share_65plus_pct", "area_km2", "density"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        else:
            df[c] = df[c].astype(object)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))


def field_table(lang: Lang | None = None) -> pd.DataFrame:
    """The field-name table: layer, Shapefile name, full name, meaning in Chinese and English.

    ``lang`` only chooses the headers (default: Chinese and English both, the
    table inside the files, read by planners of either language).
    """
    rows = [
        {
            "layer": layer,
            "short": f.short,
            "full": f.full,
            "in_shapefile": f.in_shapefile,
            "zh": f.meaning(layer, "zh"),
            "en": f.meaning(layer, "en"),
        }
        for layer, fields in FIELDS.items()
        for f in fields
    ]
    df = pd.DataFrame(rows)
    yes_no = {True: "是 / yes", False: "否 / no"}
    df["in_shapefile"] = df["in_shapefile"].map(yes_no)
    if lang is None:
        df.columns = [t(f"report.field.head.{c}", "zh") + " / " + t(f"report.field.head.{c}", "en")
                      for c in df.columns]  # fmt: skip
    else:
        df.columns = [t(f"report.field.head.{c}", lang) for c in df.columns]
    return df


def _layers(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None, lang: Lang
) -> dict[str, gpd.GeoDataFrame]:
    assignment = resolve_assignment(plan, unit_set.units) if assignment is None else assignment
    makers: dict[str, Callable[..., gpd.GeoDataFrame]] = {"grids": grid_layer, "units": unit_layer}
    return {name: makers[name](plan, unit_set, assignment, lang).to_crs(GIS_CRS) for name in LAYERS}


def plan_to_gpkg(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None, lang: Lang = "zh"
) -> bytes:
    """The grids and units as one GeoPackage (layers ``grids``, ``units``; table ``fields``).

    CGCS2000 (:data:`GIS_CRS`); full field names; ``lang`` is the language of the
    labels (unit level, population source).
    """
    layers = _layers(plan, unit_set, assignment, lang)
    with tempfile.TemporaryDirectory(prefix="gridplan-gpkg-") as tmp:
        path = Path(tmp) / "plan.gpkg"
        for name, gdf in layers.items():
            gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
        _write_attribute_table(path, "fields", field_table())
        return path.read_bytes()


def _write_attribute_table(path: Path, layer: str, df: pd.DataFrame) -> None:
    """A table without geometry in a GeoPackage (an ``attributes`` table, which QGIS lists)."""
    import pyogrio

    pyogrio.write_dataframe(df, path, layer=layer, driver="GPKG", append=False)


def plan_to_shapefile_zip(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None, lang: Lang = "zh"
) -> bytes:
    """The grids and units as two Shapefiles in one zip, with the field-name table.

    The zip holds ``grids.shp`` and ``units.shp`` (each with ``.shx``, ``.dbf``,
    a CGCS2000 ``.prj`` and a ``.cpg`` saying UTF-8) and ``fields.csv``.
    Field names are the short ones; text longer than a dBASE field holds is cut
    at a character boundary.
    """
    layers = _layers(plan, unit_set, assignment, lang)
    buf = io.BytesIO()
    with (
        tempfile.TemporaryDirectory(prefix="gridplan-shp-") as tmp,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        for name, gdf in layers.items():
            shp = _shapefile_frame(gdf, FIELDS[name])
            shp.to_file(Path(tmp) / f"{name}.shp", driver="ESRI Shapefile", engine="pyogrio",
                        encoding="UTF-8")  # fmt: skip
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                zf.write(Path(tmp) / f"{name}{ext}", f"{name}{ext}")
        zf.writestr("fields.csv", table_to_csv(field_table()))
    return buf.getvalue()


def _shapefile_frame(gdf: gpd.GeoDataFrame, fields: tuple[Field, ...]) -> gpd.GeoDataFrame:
    """``gdf`` with the short names of the fields a Shapefile holds, text fit to dBASE."""
    keep = [f for f in fields if f.in_shapefile]
    out = gdf[[f.full for f in keep] + ["geometry"]].copy()
    for f in keep:
        if out[f.full].dtype == object:
            out[f.full] = [None if v is None else fit_dbf_text(str(v)) for v in out[f.full]]
    return out.rename(columns={f.full: f.short for f in keep})


def fit_dbf_text(text: str, limit: int = DBF_TEXT_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"
