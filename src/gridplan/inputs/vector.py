"""Reading the files planners upload: township boundary layers and tables.

Two entry points:

* :func:`read_vector_upload` reads a polygon layer (GeoJSON, a zipped
  Shapefile or a GeoPackage) and returns it in WGS-84 (EPSG:4326), whatever
  projection, text encoding or web-map datum it came in.  Shapefiles straight
  from Chinese natural-resources bureaus load as they come: CGCS2000
  geographic or 3-degree Gauss-Krüger ``.prj`` and a GBK ``.dbf`` without a
  ``.cpg``.
* :func:`read_table_upload` reads a CSV or Excel table, detecting the text
  encoding and keeping code-like columns (adcodes) as strings.

Both return a :class:`LoadReport` describing what was found and done.  Every
problem a user can cause raises :class:`gridplan.errors.UploadError` (also a
:class:`ValueError`) with a ``code`` from :data:`gridplan.i18n.MESSAGES`, so the
dashboard can explain it in Chinese.

Uploaded bytes are only ever written into a private
:class:`tempfile.TemporaryDirectory`; zip archives are checked member by member
(absolute paths, ``..`` components, symlinks, uncompressed size) before
anything is extracted, and extracted files get generated names.
"""

from __future__ import annotations

import codecs
import re
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gridplan import settings
from gridplan._types import BoolArray, ObjectArray
from gridplan.errors import UploadError
from gridplan.inputs import crs as gcrs
from gridplan.inputs.archive import _check_zip_members, _extract_groups, _Group, _zip_groups
from gridplan.inputs.encodings import _decode_text, _display_encoding, _shapefile_encoding, _sidecar
from gridplan.inputs.files import (
    LoadReport,
    _bounds_text,
    _empty,
    _encoding_error,
    _open_upload,
    _sniff,
    _Source,
    _suffix,
    _unknown_format,
    _unreadable,
    _warnings_as_notes,
)
from gridplan.inputs.gdal import checked_driver, safe_gdal, vector_source

_DATUM_ALIASES: dict[str, gcrs.Datum] = {
    "wgs84": "wgs84",
    "wgs": "wgs84",
    "gps": "wgs84",
    "epsg4326": "wgs84",
    "4326": "wgs84",
    "cgcs2000": "wgs84",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "mars": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "高德": "gcj02",
    "火星": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "bd": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
}


# --------------------------------------------------------------------------------------
# small helpers


def parse_datum(datum: str) -> gcrs.Datum:
    """Normalise a datum declaration to ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Parameters
    ----------
    datum : str
        E.g. ``"WGS-84"``, ``"gcj-02"``, ``"BD09"``, ``"amap"``, ``"baidu"``
        (case, spaces, hyphens and underscores are ignored).

    Returns
    -------
    str
        One of :data:`gridplan.inputs.crs.DATUMS`.

    Raises
    ------
    UploadError
        Code ``"upload.bad_datum"`` when the declaration is not recognised.
    """
    key = re.sub(r"[\s\-_:.]", "", str(datum)).lower()
    found = _DATUM_ALIASES.get(key)
    if found is None:
        raise UploadError(
            f"invalid datum declaration {datum!r}; expected WGS-84, GCJ-02 or BD-09",
            code="upload.bad_datum",
            params={"datum": str(datum)},
        )
    return found


def _geometry_type(path: Path) -> str:
    """The geometry type of an extracted ``.shp`` ("" when it is not a readable Shapefile)."""
    try:
        with warnings.catch_warnings(), safe_gdal():
            warnings.simplefilter("ignore")
            source = vector_source(path, "ESRI Shapefile", path.name)
            info = checked_driver(source, "ESRI Shapefile", path.name)
    except Exception:
        return ""
    return str(info.get("geometry_type") or "")


@dataclass
class _Layer:
    """A layer ready to be read by pyogrio."""

    path: Path
    driver: str
    layer: str | None = None
    member: str | None = None  # display name of the zip member / shapefile
    notes: list[str] = field(default_factory=list)


#: The layers a zip may hold, in the order they are preferred: the member's extension, what a
#: note calls several of them, the driver reading them (a GeoPackage's is set by its layer).
_ZIP_LAYERS: dict[str, tuple[str, str]] = {
    ".shp": ("shapefiles", "ESRI Shapefile"),
    ".gpkg": ("GeoPackages", "GPKG"),
    ".geojson": ("JSON files", "GeoJSON"),
}


def _layer_from_zip(source: _Source, folder: Path, limit_mb: float) -> _Layer:
    """The layer of a zipped upload, extracted into ``folder``."""
    filename = source.filename
    try:
        zf = zipfile.ZipFile(source.zip_handle())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _unreadable(filename, f"corrupt zip archive ({exc})") from exc
    with zf:
        infos = zf.infolist()
        _check_zip_members(infos, limit_mb, filename)
        names = {info.filename for info in infos}
        if "[Content_Types].xml" in names or "mimetype" in names:
            raise _unknown_format(filename, "an office document, not a map layer")
        kind, wanted = _zip_layer_groups(_zip_groups(infos), filename)
        try:
            _extract_groups(zf, wanted, folder, limit_mb, filename)
        except UploadError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,
        ) as exc:
            raise _unreadable(filename, f"corrupt or encrypted zip archive ({exc})") from exc
    return _chosen_zip_layer(kind, wanted, folder, filename)


def _zip_layer_groups(groups: list[_Group], filename: str) -> tuple[str, list[_Group]]:
    """The kind of layer read from a zip (a key of :data:`_ZIP_LAYERS`) and the groups of
    files holding one: complete shapefiles, else GeoPackages, else GeoJSON files."""
    shp = [g for g in groups if ".shp" in g.members]
    if shp:
        complete = [g for g in shp if {".shx", ".dbf"} <= g.members.keys()]
        if not complete:
            first = shp[0]
            missing = [
                f"{first.display_stem}{e}" for e in (".shx", ".dbf") if e not in first.members
            ]
            raise _incomplete(missing, filename)
        return ".shp", complete
    gpkg = [g for g in groups if ".gpkg" in g.members]
    if gpkg:
        return ".gpkg", gpkg
    js = [g for g in groups if ".geojson" in g.members or ".json" in g.members]
    if js:
        return ".geojson", js
    raise UploadError(
        f"no Shapefile (.shp), GeoJSON or GeoPackage found in {filename}",
        code="upload.zip_no_layer",
        params={"filename": filename},
    )


def _chosen_zip_layer(kind: str, wanted: list[_Group], folder: Path, filename: str) -> _Layer:
    """The layer read among the extracted ``wanted`` groups: the first (for shapefiles, the
    first of polygons), with a note when the zip holds several."""
    chosen = wanted[0]
    if kind == ".shp":
        polygons = (
            g
            for g in wanted
            if "polygon" in _geometry_type(folder / f"{g.target_stem}.shp").lower()
        )
        chosen = next(polygons, chosen)
    ext = ".json" if kind == ".geojson" and ".geojson" not in chosen.members else kind
    several, driver = _ZIP_LAYERS[kind]
    notes: list[str] = []
    if len(wanted) > 1:
        notes.append(f"the zip holds {len(wanted)} {several}; read {chosen.display_stem}{ext}")
    path = folder / f"{chosen.target_stem}{ext}"
    if kind == ".gpkg":  # the layer inside the GeoPackage is chosen by its geometry
        layer = _layer_from_gpkg(path, filename)
        layer.notes[:0] = notes
        return layer
    return _Layer(path, driver, member=f"{chosen.display_stem}{ext}", notes=notes)


def _layer_from_gpkg(path: Path, filename: str) -> _Layer:
    source = vector_source(path, "GPKG", filename)  # SQLite without foreign virtual tables
    try:
        with warnings.catch_warnings(), safe_gdal():
            warnings.simplefilter("ignore")
            layers = pyogrio.list_layers(source)
    except Exception as exc:
        raise _unreadable(filename, str(exc) or type(exc).__name__) from exc
    if len(layers) == 0:
        raise _empty(filename)
    names = [str(row[0]) for row in layers]
    types = [str(row[1] or "") for row in layers]
    polygonal = [n for n, t in zip(names, types, strict=True) if "polygon" in t.lower()]
    spatial = [n for n, t in zip(names, types, strict=True) if t and t.lower() != "none"]
    chosen = (polygonal or spatial or names)[0]
    notes = []
    if len(names) > 1:
        notes.append(f"the GeoPackage has {len(names)} layers; read layer '{chosen}'")
    return _Layer(path, "GPKG", layer=chosen, notes=notes)


# --------------------------------------------------------------------------------------
# geometry clean-up


def _polygon_parts(geom: Any) -> list[Any]:
    """All polygons inside ``geom`` (recursing into collections)."""
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind == "Polygon":
        return [geom]
    if kind in ("MultiPolygon", "GeometryCollection"):
        out: list[Any] = []
        for part in shapely.get_parts(geom):
            out.extend(_polygon_parts(part))
        return out
    return []


def _polygonal(geom: Any) -> Any:
    """The polygonal part of ``geom`` as a Polygon/MultiPolygon, or None."""
    parts = _polygon_parts(geom)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    multi = shapely.MultiPolygon(parts)
    if multi.is_valid:
        return multi
    merged = _polygon_parts(shapely.union_all(parts))
    if not merged:
        return None
    return merged[0] if len(merged) == 1 else shapely.MultiPolygon(merged)


def _keep_polygons(
    geoms: ObjectArray,
) -> tuple[ObjectArray, BoolArray, list[str]]:
    """Polygonal part of each geometry; mask of features to keep; notes."""
    geoms = shapely.force_2d(geoms)
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    type_id = shapely.get_type_id(geoms)
    keep = ~null & np.isin(type_id, (3, 6))  # Polygon, MultiPolygon
    out = np.empty(len(geoms), dtype=object)
    out[keep] = geoms[keep]
    dropped_types: dict[str, int] = {}
    n_null = int(null.sum())
    n_extracted = 0
    for i in np.flatnonzero(~null & ~keep):
        geom = geoms[i]
        kind = geom.geom_type
        poly = _polygonal(geom) if kind == "GeometryCollection" else None
        if poly is not None:
            out[i] = poly
            keep[i] = True
            n_extracted += 1
        else:
            dropped_types[kind] = dropped_types.get(kind, 0) + 1
    notes = []
    if n_null:
        notes.append(f"dropped {n_null} feature(s) with empty or missing geometry")
    if dropped_types:
        kinds = ", ".join(f"{k} ×{v}" for k, v in sorted(dropped_types.items()))
        notes.append(f"dropped {sum(dropped_types.values())} non-polygon feature(s) ({kinds})")
    if n_extracted:
        notes.append(f"kept only the polygons of {n_extracted} geometry collection(s)")
    return out, keep, notes


def _repair(geoms: ObjectArray) -> tuple[ObjectArray, int, BoolArray]:
    """Repair invalid polygons with make_valid: (geoms, number repaired, mask still non-empty)."""
    out = np.asarray(geoms, dtype=object).copy()
    invalid = ~shapely.is_valid(out)
    n_repaired = int(invalid.sum())
    for i in np.flatnonzero(invalid):
        out[i] = _polygonal(shapely.make_valid(out[i]))
    alive = ~(shapely.is_missing(out) | shapely.is_empty(out))
    return out, n_repaired, alive


def _crs_label(value: CRS) -> str:
    epsg = value.to_epsg()
    if epsg is not None:
        return f"EPSG:{epsg}"
    return value.name or value.to_string()


def _looks_like_china_lonlat(bounds: Sequence[float]) -> bool:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return False
    return bool(np.all(gcrs.in_china([minx, maxx], [miny, maxy])))


def _stringify_attributes(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dates and other non-scalar attribute values become strings."""
    geom_name = gdf.geometry.name
    for col in gdf.columns:
        if col == geom_name:
            continue
        series = gdf[col]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            valid = series.dropna()
            midnight = bool((valid == valid.dt.normalize()).all())
            text = series.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
            gdf[col] = pd.Series(text.astype(object), index=series.index).where(
                series.notna(), None
            )
        elif series.dtype == object:
            gdf[col] = series.map(
                lambda v: v if v is None or isinstance(v, str | int | float) else str(v)
            )
    return gdf


# --------------------------------------------------------------------------------------
# vector uploads


def _incomplete(missing: Sequence[str], filename: str) -> UploadError:
    return UploadError(
        f"incomplete Shapefile in {filename}: {', '.join(missing)} missing",
        code="upload.zip_incomplete",
        params={"missing": ", ".join(missing)},
    )


def _locate_layer(source: _Source, folder: Path, limit_mb: float) -> _Layer:
    """Decide the format from content and extension; return the layer to read."""
    filename = source.filename
    kind = _sniff(source.head())
    ext = _suffix(filename)
    if kind == "zip":
        return _layer_from_zip(source, folder, limit_mb)
    if kind == "sqlite":
        return _layer_from_gpkg(_plain_path(source, folder, "upload.gpkg"), filename)
    if kind == "json":
        return _Layer(_plain_path(source, folder, "upload.geojson"), "GeoJSON")
    if kind == "shp":
        stem = filename[: len(filename) - len(ext)] if ext == ".shp" else filename
        if source.path is None:
            raise _incomplete([f"{stem}.shx", f"{stem}.dbf"], filename)
        missing = [f"{stem}{e}" for e in (".shx", ".dbf") if _sidecar(source.path, e) is None]
        if missing:
            raise _incomplete(missing, filename)
        return _Layer(source.path, "ESRI Shapefile", member=filename)
    if kind == "ole2":
        raise _unknown_format(filename, "an old Office document (.doc/.xls)")
    if kind.startswith("other:"):
        raise _unknown_format(filename, kind.removeprefix("other:"))
    if ext == ".zip":
        raise _unreadable(filename, "not a valid zip archive")
    if ext == ".gpkg":
        raise _unreadable(filename, "not a valid GeoPackage (SQLite) file")
    if ext in (".geojson", ".json"):
        raise _unreadable(filename, "not a JSON document")
    if ext == ".shp":
        raise _unreadable(filename, "not a valid Shapefile")
    raise _unknown_format(filename)


def _plain_path(source: _Source, folder: Path, name: str) -> Path:
    """The upload under a name of ours in ``folder``: GDAL's ``GPKG:``/``GeoJSON:`` prefixes
    split a path at colons, so the user's own path is only linked to, never passed on."""
    if source.path is None:
        return source.on_disk(folder, name)
    target = folder / name
    target.symlink_to(source.path.resolve())
    return target


def _read_layer(layer: _Layer, codec: str | None, filename: str) -> tuple[pd.DataFrame, list[str]]:
    kwargs: dict[str, Any] = {}
    if layer.layer is not None:
        kwargs["layer"] = layer.layer
    if codec is not None:
        kwargs["encoding"] = codec
    source = vector_source(layer.path, layer.driver, filename)
    with _warnings_as_notes() as notes, safe_gdal():
        try:
            info = checked_driver(source, layer.driver, filename, **kwargs)
            _check_feature_count(int(info.get("features") or 0), filename)
            frame = pyogrio.read_dataframe(source, **kwargs)
        except UploadError:
            raise
        except UnicodeDecodeError as exc:
            raise _encoding_error(filename) from exc
        except Exception as exc:
            raise _unreadable(filename, str(exc) or type(exc).__name__) from exc
    return frame, notes


# parallel to read_table_upload on purpose: each public reader documents its own parameters
def read_vector_upload(
    data: bytes | str | Path,
    filename: str | None = None,
    *,
    datum: str = "wgs84",
    encoding: str | None = None,
    max_mb: float | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read an uploaded polygon layer (township boundaries) into WGS-84.

    Parameters
    ----------
    data : bytes, str or Path
        The uploaded file's content, or a path to it.  Accepted: GeoJSON
        (``.geojson``/``.json``), a zipped Shapefile (``.zip`` with
        ``.shp``/``.shx``/``.dbf`` and usually ``.prj``/``.cpg``; a GeoJSON or
        GeoPackage inside the zip also works), a GeoPackage (``.gpkg``), or the
        path of a ``.shp`` next to its sidecar files.  A ``str`` starting with
        ``{`` is taken as GeoJSON text.
    filename : str, optional
        The name the user's file had; used for the format (together with the
        content) and in messages.  Defaults to the path's name or ``"upload"``.
    datum : str, default "wgs84"
        Datum of the longitude/latitude once reprojected: ``"wgs84"`` (also
        CGCS2000), ``"gcj02"`` for layers digitised on Amap/Tencent maps,
        ``"bd09"`` for Baidu.  Aliases such as ``"WGS-84"``, ``"GCJ-02"``,
        ``"BD-09"`` are accepted in any case.
    encoding : str, optional
        Text encoding of the attributes (``.dbf`` or GeoJSON).  By default the
        ``.cpg`` is used when present and correct, otherwise UTF-8, GBK and
        GB18030 are tried in that order.
    max_mb : float, optional
        Size limit in MB, counting zip content uncompressed.  Defaults to
        :data:`gridplan.settings.max_upload_mb`.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygon/MultiPolygon features in EPSG:4326, 2-D, valid, with the
        attribute columns of the file (strings and numbers; dates as ISO
        ``YYYY-MM-DD[ HH:MM:SS]`` strings) and a fresh ``RangeIndex``.
    LoadReport
        What was read, assumed and repaired.

    Raises
    ------
    UploadError
        With ``code`` ``upload.bad_datum``, ``upload.too_large``,
        ``upload.unknown_format``, ``upload.unreadable``, ``upload.zip_unsafe``,
        ``upload.zip_no_layer``, ``upload.zip_incomplete``, ``upload.encoding``,
        ``upload.bad_encoding``, ``upload.empty``, ``upload.no_polygons``,
        ``upload.no_crs`` or ``upload.not_in_china``.

    Examples
    --------
    >>> gdf, report = read_vector_upload(uploaded.getvalue(), uploaded.name)  # doctest: +SKIP
    >>> report.encoding, report.source_crs  # doctest: +SKIP
    ('GBK', 'EPSG:4547')
    """
    datum_name = parse_datum(datum)
    source, limit = _open_upload(data, filename, max_mb)
    name = source.filename
    frame, driver, encoding_used, notes = _read_frame(source, limit, encoding)
    n_read = len(frame)
    attrs, kept, geom_notes = _polygons_of(frame, name)
    out, source_label, crs_notes = _in_wgs84(attrs, kept, frame.crs, datum_name, name)
    out, n_repaired, n_lost, repair_notes = _repaired(out, name)
    report = LoadReport(
        filename=name,
        driver=driver,
        source_crs=source_label,
        encoding=encoding_used,
        datum=datum_name,
        n_features=len(out),
        n_repaired=n_repaired,
        n_dropped=n_read - len(kept) + n_lost,
        notes=notes + geom_notes + crs_notes + repair_notes,
    )
    return _stringify_attributes(out), report


def _read_frame(
    source: _Source, limit: float, encoding: str | None
) -> tuple[pd.DataFrame, str, str | None, list[str]]:
    """The layer's features as read, its driver, the text encoding used, and notes.

    Archives are unpacked into a private temporary folder that is removed
    once the layer is read.
    """
    with tempfile.TemporaryDirectory(prefix="gridplan-upload-") as tmp:
        folder = Path(tmp)
        layer = _locate_layer(source, folder, limit)
        codec, encoding_used, notes = _layer_encoding(layer, encoding, source.filename, folder)
        frame, read_notes = _read_layer(layer, codec, source.filename)
    if len(frame) == 0:
        raise _empty(source.filename)
    return frame, layer.driver, encoding_used, layer.notes + notes + read_notes


def _layer_encoding(
    layer: _Layer, encoding: str | None, name: str, folder: Path
) -> tuple[str | None, str | None, list[str]]:
    """The codec to read the layer with (None: pyogrio's own), the encoding to report, notes.

    A GeoJSON not in UTF-8 (or with a byte-order mark) is rewritten as plain
    UTF-8 next to the original, which GDAL reads reliably.
    """
    if layer.driver == "ESRI Shapefile":
        codec, note = _shapefile_encoding(layer.path, encoding, name)
        return codec, _display_encoding(codec), [note] if note else []
    if layer.driver != "GeoJSON":
        return None, None, []
    raw = layer.path.read_bytes()
    text, text_codec, note = _decode_text(raw, encoding, name)
    if text_codec != "utf-8" or raw.startswith(codecs.BOM_UTF8):
        layer.path = folder / "upload-utf8.geojson"
        layer.path.write_text(text, encoding="utf-8")
    return None, _display_encoding(text_codec), [f"GeoJSON: {note}"] if note else []


def _polygons_of(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, ObjectArray, list[str]]:
    """The attributes and polygons of the features that have a polygon, and notes."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise _no_polygons(name)
    _check_vertex_count(frame.geometry.values, name)
    geoms, keep, notes = _keep_polygons(np.asarray(frame.geometry.values, dtype=object))
    if not keep.any():
        raise _no_polygons(name)
    attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name)).loc[keep].reset_index(drop=True)
    return attrs, geoms[keep], notes


def _in_wgs84(
    attrs: pd.DataFrame, geoms: ObjectArray, crs: Any, datum: gcrs.Datum, name: str
) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    """The layer in EPSG:4326 (its datum shifted to WGS-84), the source CRS's label, notes.

    A layer without a CRS is taken as longitude/latitude (CGCS2000) when its
    coordinates look like it; after conversion it must lie in China.
    """
    notes: list[str] = []
    if crs is None:
        bounds = shapely.total_bounds(geoms)
        if not _looks_like_china_lonlat(bounds):
            raise UploadError(
                f"{name} has no coordinate reference system (no .prj) and its coordinates "
                f"(extent {_bounds_text(bounds)}) are not longitude/latitude in China",
                code="upload.no_crs",
                params={"filename": name},
            )
        assumed = "EPSG:4490" if datum == "wgs84" else "EPSG:4326"
        crs, source_label = CRS.from_user_input(assumed), assumed
        notes.append(
            f"no CRS (.prj) given; coordinates look like longitude/latitude in China, "
            f"assumed {'CGCS2000 ' if assumed == 'EPSG:4490' else ''}{assumed}"
        )
    else:
        source_label = _crs_label(crs)
    out = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    if not CRS.from_user_input(out.crs).equals(CRS.from_epsg(4326)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf from out-of-domain points
            out = out.to_crs(4326)
        notes.append(f"reprojected from {source_label} to EPSG:4326")
    if datum != "wgs84":
        shifted = gcrs.geoms_to_wgs84(np.asarray(out.geometry.values, dtype=object), datum)
        out = out.set_geometry(gpd.GeoSeries(shifted, index=out.index, crs=4326))
        label = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[datum]
        notes.append(f"converted coordinates from {label} to WGS-84")
    bounds = out.total_bounds
    if not _looks_like_china_lonlat(bounds):
        text = _bounds_text(bounds)
        raise UploadError(
            f"the coordinates of {name} fall outside China after conversion (extent {text}); "
            "check the declared coordinate system",
            code="upload.not_in_china",
            params={"filename": name, "bounds": text},
        )
    return out, source_label, notes


def _repaired(out: gpd.GeoDataFrame, name: str) -> tuple[gpd.GeoDataFrame, int, int, list[str]]:
    """Invalid polygons repaired, those empty after repair dropped: the layer, counts, notes."""
    fixed, n_repaired, alive = _repair(np.asarray(out.geometry.values, dtype=object))
    notes = []
    if n_repaired:
        notes.append(
            f"repaired {n_repaired} invalid polygon(s) (self-intersecting or bow-tie rings) "
            "with shapely.make_valid"
        )
    out = out.set_geometry(gpd.GeoSeries(fixed, index=out.index, crs=4326))
    n_lost = int((~alive).sum())
    if n_lost:
        notes.append(f"dropped {n_lost} polygon(s) that were empty after repair")
        out = out.loc[alive].reset_index(drop=True)
        if len(out) == 0:
            raise _no_polygons(name)
    return out.reset_index(drop=True), n_repaired, n_lost, notes


def _check_feature_count(n: int, filename: str) -> None:
    """Refuse more features than any township or exclusion layer has, before reading them."""
    limit = settings.vector_max_features
    if n > limit:
        raise UploadError(
            f"{filename} has {n:,} features, over the limit of {limit:,}",
            code="upload.too_many_features",
            params={"filename": filename, "n": n, "limit": limit},
        )


def _check_vertex_count(geoms: Any, filename: str) -> None:
    """Refuse over-detailed polygons before they are repaired, reprojected and unioned."""
    n = int(shapely.get_num_coordinates(np.asarray(geoms, dtype=object)).sum())
    limit = settings.vector_max_vertices
    if n > limit:
        raise UploadError(
            f"{filename} has {n:,} vertices, over the limit of {limit:,}; simplify the layer",
            code="upload.too_many_vertices",
            params={"filename": filename, "n": n, "limit": limit},
        )


def _no_polygons(filename: str) -> UploadError:
    return UploadError(
        f"{filename} contains no polygons; a township layer must be a polygon layer",
        code="upload.no_polygons",
        params={"filename": filename},
    )
