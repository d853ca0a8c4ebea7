"""Facilities from OpenStreetMap: online, or from an .osm extract."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from gridplan import settings
from gridplan.errors import GridPlanError, InputError, UploadError
from gridplan.facilities.reader import _clean_name, _count, _is_blank, _near_duplicates
from gridplan.facilities.types import _NAME_PATTERNS, _finish, _type_key, empty_facilities
from gridplan.i18n import t
from gridplan.inputs.boundaries import Prefecture, load_prefecture_outline
from gridplan.inputs.xmlsafe import XmlScan, check_file_size, plain_osm_xml, scan_xml

if TYPE_CHECKING:
    from xml.sax.xmlreader import AttributesImpl

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
#: Tags read for a facility's name, in order of preference.
_NAME_TAGS = ("name", "name:zh", "name:zh-Hans", "official_name", "name:en")
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
        raise InputError(f"expected a prefecture name or a polygon, got {area!r}", code="osm.area")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts)
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError("the area to search OpenStreetMap in has no polygon", code="osm.area")
    return geom


class _ExtractScan(XmlScan):
    """Counts the elements of an OSM extract, refusing past ``osm_max_facility_elements``."""

    roots = ("osm",)

    def __init__(self, filename: str) -> None:
        super().__init__(filename)
        self.n_elements = 0

    def start(self, name: str, attrs: AttributesImpl) -> None:
        self.n_elements += 1
        if self.n_elements > settings.osm_max_facility_elements:
            limit = settings.osm_max_facility_elements
            raise UploadError(
                f"{self.filename} has more than {limit:,} XML elements",
                code="osm.too_many_elements",
                params={"filename": self.filename, "limit": limit},
            )


def _features_from_extract(polygon: shapely.Geometry | None, path: Path) -> Any:
    """osmnx's features of an extract that passed the defused, bounded scan first.

    osmnx parses with the standard library into a whole tree: the scan refuses a
    DTD (entities, external references), XInclude, another root than ``<osm>``,
    a file over ``roads_max_file_mb`` and more than ``osm_max_facility_elements``
    elements before that; a ``.bz2`` is decompressed within its budget.
    """
    import osmnx as ox

    check_file_size(path, settings.roads_max_file_mb, path.name, "osm.too_large")
    with plain_osm_xml(path) as plain:
        scan_xml(plain, _ExtractScan(path.name))
        return ox.features_from_xml(plain, polygon=polygon, tags=OSM_TAGS)


def _osm_features(polygon: shapely.Geometry | None, path: str | Path | None) -> Any:
    """The raw osmnx GeoDataFrame; the only place that differs between online and file."""
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        if path is not None:
            return _features_from_extract(polygon, Path(path))
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
        A prefecture (name, adcode or :class:`~gridplan.inputs.boundaries.Prefecture`;
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
        raise InputError(
            "give a prefecture or polygon, or the path of an OSM extract", code="osm.no_source"
        )
    polygon = (
        _outline_polygon(prefecture_name_or_polygon)
        if prefecture_name_or_polygon is not None
        else None
    )
    gdf = _query(polygon, path)
    if gdf is None or len(gdf) == 0:
        return empty_facilities()
    df = pd.DataFrame(_facility_rows(gdf))
    if df.empty:
        return empty_facilities()
    if polygon is not None:
        inside = shapely.intersects_xy(polygon, df["lon"].to_numpy(), df["lat"].to_numpy())
        df = df[inside].reset_index(drop=True)
    df = _drop_mapped_twice(df)
    df["doctors"] = np.nan
    df["gps"] = np.nan
    df["source"] = "osm"
    df["active"] = True
    return _finish(df)


def _query(polygon: shapely.Geometry | None, path: str | Path | None) -> Any:
    """The raw features, from the extract or Overpass, with the errors a planner can act on."""
    try:
        return _osm_features(polygon, path)
    except GridPlanError as exc:
        if exc.code != "xml.malformed":
            raise  # the extract's checks say what is wrong themselves
        # text that is not XML keeps the reader's code for an unreadable file, with its place
        fname, line, column = (exc.params[k] for k in ("filename", "line", "column"))
        detail = f"not well-formed XML (line {line}, column {column})"
        raise UploadError(
            f"cannot read {fname}: {detail}",
            code="upload.unreadable",
            params={"filename": fname, "detail": detail},
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        if path is None:
            raise _unavailable(exc) from exc
        fname = Path(path).name
        # the library's text without the server's folders
        detail = str(exc).replace(str(Path(path).parent), "")[:200]
        raise UploadError(
            f"cannot read {fname}: {detail}",
            code="upload.unreadable",
            params={"filename": fname, "detail": detail},
        ) from exc
    except Exception as exc:  # requests/osmnx network and HTTP errors
        if path is not None:
            raise
        raise _unavailable(exc) from exc


def _unavailable(exc: Exception) -> GridPlanError:
    return GridPlanError(
        f"cannot query OpenStreetMap: {exc}",
        code="facilities.osm_unavailable",
        params={"detail": str(exc)[:200]},
    )


def _facility_rows(gdf: Any) -> list[dict[str, Any]]:
    """One record per health facility among the features: polygons (campuses) first."""
    gdf = gdf.reset_index()
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    rank = gdf["element"].map({"relation": 0, "way": 1, "node": 2}).fillna(3)
    gdf = gdf.assign(_rank=rank.to_numpy()).sort_values(["_rank", "id"], kind="stable")
    rows: list[dict[str, Any]] = []
    unnamed = t("facilities.unnamed", "zh")  # a name in the table: data, in Chinese
    for rec in gdf.to_dict("records"):
        tags = {k: v for k, v in rec.items() if k not in ("geometry", "element", "id", "_rank")}
        name = next(
            (n for n in (_clean_name(tags.get(k)) for k in _NAME_TAGS) if n),
            "",
        )
        ftype = osm_type(tags, name)
        if ftype is None:
            continue
        geom = rec["geometry"]
        pt = geom if geom.geom_type == "Point" else geom.representative_point()
        rows.append(
            {
                "facility_id": f"osm-{rec['element']}-{rec['id']}",
                "name": name or unnamed,
                "named": bool(name),
                "type": ftype,
                "lon": pt.x,
                "lat": pt.y,
                "beds": _count(tags.get("beds")),
            }
        )
    return rows


def _drop_mapped_twice(df: pd.DataFrame) -> pd.DataFrame:
    """A facility named like an earlier one within :data:`OSM_DUPLICATE_M` is dropped; the
    earlier one (a polygon, mapped first) takes its bed count if it had none."""
    if not len(df):
        return df
    names = [n if named else "" for n, named in zip(df["name"], df["named"], strict=True)]
    dups = _near_duplicates(
        names, df["lon"].to_numpy(float), df["lat"].to_numpy(float), OSM_DUPLICATE_M
    )
    beds = df["beds"].to_numpy(float)
    for i, j, _ in dups:
        if np.isnan(beds[j]):
            beds[j] = beds[i]
    df["beds"] = beds
    return df.drop(index=[i for i, _, _ in dups]).reset_index(drop=True)
