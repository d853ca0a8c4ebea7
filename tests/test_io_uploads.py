"""Tests for gridplan.inputs: reading uploaded boundary layers and tables.

Every fixture is built here, in ``tmp_path``: polygons come from shapely and
are written with pyogrio, then altered the way real uploads are (no ``.cpg``,
GBK ``.dbf``, no ``.prj``, bad zip members...).
"""

from __future__ import annotations

import io
import json
import string
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Geod
from shapely.geometry import MultiPolygon, Point, Polygon, box

from gridplan.errors import GridPlanError, UploadError
from gridplan.i18n import MESSAGES, error_text
from gridplan.inputs import crs as gcrs
from gridplan.inputs.files import LoadReport
from gridplan.inputs.tables import read_table_upload
from gridplan.inputs.vector import parse_datum, read_vector_upload

NAMES = ["长安区", "宋营镇", "桥西区"]
CODES = ["130102001", "130183100", "130104002"]
GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------------------
# fixture builders


def towns(crs: int | str = 4326) -> gpd.GeoDataFrame:
    """Three township polygons near Shijiazhuang (lon/lat), one of them multipart."""
    geoms = [
        box(114.50, 38.00, 114.60, 38.10),
        MultiPolygon([box(114.60, 38.00, 114.70, 38.10), box(114.75, 38.00, 114.80, 38.05)]),
        Polygon([(114.40, 38.00), (114.50, 38.00), (114.45, 38.08)]),
    ]
    gdf = gpd.GeoDataFrame(
        {"name": NAMES, "code": CODES, "pop": [120000, 45000, 98000]},
        geometry=geoms,
        crs=4326,
    )
    return gdf.to_crs(crs)


def write_shapefile(
    gdf: gpd.GeoDataFrame,
    folder: Path,
    stem: str = "towns",
    *,
    encoding: str = "UTF-8",
    keep_cpg: bool = True,
    keep_prj: bool = True,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / f"{stem}.shp"
    gdf.to_file(shp, engine="pyogrio", encoding=encoding)
    if not keep_cpg:
        (folder / f"{stem}.cpg").unlink()
    if not keep_prj:
        (folder / f"{stem}.prj").unlink()
    return shp


def zip_files(files: Iterable[Path], arc_prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, arcname=arc_prefix + f.name)
    return buf.getvalue()


def shapefile_parts(shp: Path) -> list[Path]:
    return sorted(p for p in shp.parent.iterdir() if p.stem == shp.stem)


def zip_shapefile(shp: Path, arc_prefix: str = "") -> bytes:
    return zip_files(shapefile_parts(shp), arc_prefix)


def zip_members(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return buf.getvalue()


def geojson_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    return gdf.to_json().encode("utf-8")


def sorted_coords(geom: object) -> np.ndarray:
    xy = shapely.get_coordinates(geom)
    xy = np.unique(np.round(xy, 9), axis=0)
    return xy


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def assert_upload_error(exc: BaseException, code: str, *fragments: str) -> str:
    """Common checks for every bad upload; returns the Chinese text."""
    assert isinstance(exc, UploadError)
    assert isinstance(exc, ValueError)
    assert isinstance(exc, GridPlanError)
    assert exc.code == code
    assert code in MESSAGES
    # The params are exactly those the templates use.
    fields = {f for _, f, _, _ in string.Formatter().parse(MESSAGES[code]["zh"]) if f}
    fields_en = {f for _, f, _, _ in string.Formatter().parse(MESSAGES[code]["en"]) if f}
    assert {f.split(":")[0] for f in fields} == set(exc.params)
    assert {f.split(":")[0] for f in fields_en} == set(exc.params)
    zh = error_text(exc, "zh")
    en = error_text(exc, "en")
    assert has_cjk(zh), zh
    assert zh != en
    assert "{" not in zh and "{" not in en
    for fragment in fragments:
        assert fragment in zh, (fragment, zh)
    return zh


# --------------------------------------------------------------------------------------
# good uploads


def test_gbk_shapefile_in_gauss_kruger_without_cpg(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    assert not shp.with_suffix(".cpg").exists()
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert "长安区".encode("gbk") in dbf  # really GBK bytes in the .dbf
    assert dbf[29] == 0  # and no language-driver hint either
    data = zip_shapefile(shp)

    gdf, report = read_vector_upload(data, "石家庄乡镇.zip")

    assert list(gdf["name"]) == NAMES
    assert list(gdf["code"]) == CODES
    assert list(gdf["pop"]) == [120000, 45000, 98000]
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    assert isinstance(report, LoadReport)
    assert report.filename == "石家庄乡镇.zip"
    assert report.driver == "ESRI Shapefile"
    assert report.source_crs == "EPSG:4547"
    assert report.encoding == "GBK"
    assert report.datum == "wgs84"
    assert report.n_features == 3
    assert report.n_repaired == 0
    assert report.n_dropped == 0
    assert any("no .cpg" in n and "GBK" in n for n in report.notes)
    # Gauss-Krüger → WGS-84 round trip is exact to well under a millimetre.
    original = towns()
    for got, want in zip(gdf.geometry, original.geometry, strict=True):
        assert got.geom_type == want.geom_type
        assert got.symmetric_difference(want).area < 1e-12


def test_shapefile_cgcs2000_geographic_utf8_with_cpg(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4490), tmp_path / "shp", encoding="UTF-8")
    gdf, report = read_vector_upload(zip_shapefile(shp, "data/边界/"), "towns.zip")
    assert list(gdf["name"]) == NAMES
    assert report.source_crs == "EPSG:4490"
    assert report.encoding == "UTF-8"
    assert gdf.crs.to_epsg() == 4326


@pytest.mark.parametrize("epsg", [4490, 4526, 4545, 4546, 4547, 4548])
def test_shapefile_in_cgcs2000_projections(tmp_path: Path, epsg: int) -> None:
    # 4526 = 3-degree GK zone 38 with the zone number in the false easting,
    # 4545-4548 = 3-degree GK central meridians 108°E-117°E (Hebei is 114°E).
    shp = write_shapefile(towns(epsg), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    gdf, report = read_vector_upload(zip_shapefile(shp), "towns.zip")
    assert report.source_crs == f"EPSG:{epsg}"
    assert list(gdf["name"]) == NAMES
    for got, want in zip(gdf.geometry, towns().geometry, strict=True):
        assert got.symmetric_difference(want).area < 1e-10


def test_macos_zip_resource_forks_are_ignored(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    members = {f"乡镇/{p.name}": p.read_bytes() for p in shapefile_parts(shp)}
    members["__MACOSX/乡镇/._towns.shp"] = b"\x00\x05\x16\x07junk"
    members["乡镇/.DS_Store"] = b"junk"
    gdf, report = read_vector_upload(zip_members(members), "towns.zip")
    assert list(gdf["name"]) == NAMES
    assert not any("shapefiles" in n for n in report.notes)


def test_shapefile_utf8_without_cpg_is_detected(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4490), tmp_path / "shp", encoding="UTF-8", keep_cpg=False)
    gdf, report = read_vector_upload(zip_shapefile(shp), "towns.zip")
    assert list(gdf["name"]) == NAMES
    assert report.encoding == "UTF-8"


def test_shapefile_gb18030_only_characters(tmp_path: Path) -> None:
    names = ["𠮷家庄镇", "长安区", "桥西区"]  # 𠮷 (U+20BB7) exists in GB18030, not in GBK
    with pytest.raises(UnicodeEncodeError):
        names[0].encode("gbk")
    gdf0 = towns(4490).assign(name=names)
    shp = write_shapefile(gdf0, tmp_path / "shp", encoding="GB18030", keep_cpg=False)
    gdf, report = read_vector_upload(zip_shapefile(shp), "towns.zip")
    assert list(gdf["name"]) == names
    assert report.encoding == "GB18030"


def test_declared_encoding_is_used(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    gdf, report = read_vector_upload(zip_shapefile(shp), "towns.zip", encoding="gb18030")
    assert list(gdf["name"]) == NAMES
    assert report.encoding == "GB18030"


def test_wrong_cpg_falls_back_to_detection(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    shp.with_suffix(".cpg").write_text("UTF-8")
    gdf, report = read_vector_upload(zip_shapefile(shp), "towns.zip")
    assert list(gdf["name"]) == NAMES
    assert report.encoding == "GBK"
    assert any(".cpg" in n for n in report.notes)


def test_shapefile_path_on_disk(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    gdf, report = read_vector_upload(shp)
    assert list(gdf["name"]) == NAMES
    assert report.filename == "towns.shp"
    assert report.encoding == "GBK"


def test_chinese_member_names_in_windows_zip(tmp_path: Path) -> None:
    # Windows' built-in zip writes GBK member names without the UTF-8 flag.
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part in shapefile_parts(shp):
            info = zipfile.ZipInfo(("乡镇界" + part.suffix).encode("gbk").decode("cp437"))
            zf.writestr(info, part.read_bytes())
    gdf, report = read_vector_upload(buf.getvalue(), "upload.zip")
    assert list(gdf["name"]) == NAMES
    assert report.source_crs == "EPSG:4547"


def test_geojson_bytes_and_paths(tmp_path: Path) -> None:
    data = geojson_bytes(towns())
    gdf, report = read_vector_upload(data, "towns.geojson")
    assert list(gdf["name"]) == NAMES
    assert report.driver == "GeoJSON"
    assert report.source_crs == "EPSG:4326"
    assert report.encoding == "UTF-8"
    path = tmp_path / "towns.json"
    path.write_bytes(data)
    for arg in (path, str(path)):
        gdf2, report2 = read_vector_upload(arg)
        assert list(gdf2["name"]) == NAMES
        assert report2.filename == "towns.json"
    # Sniffed from content even without a useful name.
    gdf3, _ = read_vector_upload(data)
    assert len(gdf3) == 3


def test_geojson_in_gbk_and_with_bom() -> None:
    text = towns().to_json(ensure_ascii=False)
    gdf, report = read_vector_upload(text.encode("gbk"), "towns.geojson")
    assert list(gdf["name"]) == NAMES
    assert report.encoding == "GBK"
    gdf, report = read_vector_upload(b"\xef\xbb\xbf" + text.encode("utf-8"), "towns.geojson")
    assert list(gdf["name"]) == NAMES
    assert report.encoding == "UTF-8"


def test_geojson_in_projected_crs() -> None:
    gj = json.loads(towns(4547).to_json())
    gj["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}}
    gdf, report = read_vector_upload(json.dumps(gj).encode(), "towns.geojson")
    assert report.source_crs == "EPSG:4547"
    assert gdf.geometry.iloc[0].symmetric_difference(towns().geometry.iloc[0]).area < 1e-12


def test_geopackage_picks_the_polygon_layer(tmp_path: Path) -> None:
    path = tmp_path / "towns.gpkg"
    points = gpd.GeoDataFrame({"name": ["卫生院"]}, geometry=[Point(114.55, 38.05)], crs=4326)
    points.to_file(path, layer="clinics", engine="pyogrio")
    towns(4547).to_file(path, layer="乡镇", engine="pyogrio")
    gdf, report = read_vector_upload(path.read_bytes(), "towns.gpkg")
    assert list(gdf["name"]) == NAMES
    assert report.driver == "GPKG"
    assert report.source_crs == "EPSG:4547"
    assert report.encoding is None
    assert any("乡镇" in n for n in report.notes)
    # A GeoPackage inside a zip works as well.
    gdf2, report2 = read_vector_upload(zip_files([path]), "towns.zip")
    assert list(gdf2["name"]) == NAMES
    assert report2.driver == "GPKG"


def test_geojson_inside_zip(tmp_path: Path) -> None:
    data = zip_members({"out/towns.geojson": geojson_bytes(towns()), "readme.txt": b"hi"})
    gdf, report = read_vector_upload(data, "towns.zip")
    assert list(gdf["name"]) == NAMES
    assert report.driver == "GeoJSON"


def test_multipart_polygons_are_kept(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    gdf, _ = read_vector_upload(zip_shapefile(shp), "towns.zip")
    multi = gdf.loc[gdf["name"] == "宋营镇"].geometry.iloc[0]
    assert multi.geom_type == "MultiPolygon"
    assert len(multi.geoms) == 2
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}


def test_bow_tie_is_repaired_and_counted(tmp_path: Path) -> None:
    bow_tie = Polygon([(114.5, 38.0), (114.6, 38.1), (114.6, 38.0), (114.5, 38.1)])
    assert not bow_tie.is_valid
    gdf0 = gpd.GeoDataFrame(
        {"name": ["蝴蝶镇", "长安区"]},
        geometry=[bow_tie, box(114.7, 38.0, 114.8, 38.1)],
        crs=4326,
    )
    shp = write_shapefile(gdf0, tmp_path / "shp", encoding="GBK", keep_cpg=False)
    for data, name in ((zip_shapefile(shp), "bow.zip"), (geojson_bytes(gdf0), "bow.geojson")):
        gdf, report = read_vector_upload(data, name)
        assert report.n_repaired == 1, name
        assert report.n_features == 2
        assert any("repaired 1" in n for n in report.notes)
        assert gdf.is_valid.all()
        fixed = gdf.geometry.iloc[0]
        assert fixed.geom_type == "MultiPolygon"
        assert len(fixed.geoms) == 2
        assert fixed.area == pytest.approx(0.005, rel=1e-9)  # two triangles of 0.0025


def test_mixed_layer_keeps_polygons_and_drops_others() -> None:
    gdf0 = gpd.GeoDataFrame(
        {"name": ["长安区", "某点", "空"]},
        geometry=[box(114.5, 38.0, 114.6, 38.1), Point(114.5, 38.0), None],
        crs=4326,
    )
    gdf, report = read_vector_upload(geojson_bytes(gdf0), "mixed.geojson")
    assert list(gdf["name"]) == ["长安区"]
    assert report.n_dropped == 2
    assert report.n_features == 1


def test_geometry_collection_keeps_its_polygons() -> None:
    collection = shapely.GeometryCollection(
        [box(114.5, 38.0, 114.6, 38.1), Point(114.7, 38.0), box(114.7, 38.0, 114.8, 38.1)]
    )
    gdf0 = gpd.GeoDataFrame({"name": ["长安区"]}, geometry=[collection], crs=4326)
    gdf, report = read_vector_upload(geojson_bytes(gdf0), "gc.geojson")
    assert gdf.geometry.iloc[0].geom_type == "MultiPolygon"
    assert gdf.geometry.iloc[0].area == pytest.approx(0.02)
    assert any("geometry collection" in n for n in report.notes)


def test_missing_crs_with_lonlat_is_assumed_cgcs2000(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4490), tmp_path / "shp", encoding="GBK", keep_prj=False)
    gdf, report = read_vector_upload(zip_shapefile(shp), "towns.zip")
    assert report.source_crs == "EPSG:4490"
    assert any("no CRS" in n for n in report.notes)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf["name"]) == NAMES


def _square_at(lon: float, lat: float, size: float = 0.01) -> Polygon:
    return box(lon, lat, lon + size, lat + size)


@pytest.mark.parametrize("alias", ["GCJ-02", "gcj02", "Gcj_02", " gcj-02 "])
def test_gcj02_declared_layer_is_shifted(alias: str) -> None:
    # The south-west corner is eviltransform's Shanghai GCJ-02 test point
    # (googollee/eviltransform, python/test.py): WGS (31.1774276, 121.5272106).
    glon, glat = 121.531541859215, 31.17530398364597
    square = _square_at(glon, glat)
    gdf0 = gpd.GeoDataFrame({"name": ["徐汇"]}, geometry=[square], crs=4326)
    gdf, report = read_vector_upload(geojson_bytes(gdf0), "amap.geojson", datum=alias)
    assert report.datum == "gcj02"
    got = gdf.geometry.iloc[0]
    src = shapely.get_coordinates(square)
    wlon, wlat = gcrs.gcj02_to_wgs84(src[:, 0], src[:, 1])
    np.testing.assert_allclose(
        sorted_coords(got), sorted_coords(shapely.points(wlon, wlat)), rtol=0, atol=1e-9
    )
    corner = min(shapely.get_coordinates(got).tolist(), key=lambda p: p[0] + p[1])
    _, _, dist = GEOD.inv(corner[0], corner[1], 121.5272106, 31.1774276)
    assert dist < 1.0
    _, _, shift = GEOD.inv(glon, glat, corner[0], corner[1])
    assert 100 < shift < 700  # GCJ-02 offsets are a few hundred metres
    assert any("GCJ-02" in n for n in report.notes)


@pytest.mark.parametrize("alias", ["BD-09", "bd09", "Baidu"])
def test_bd09_declared_layer_is_shifted(alias: str) -> None:
    # (116.404, 39.915) BD-09 → GCJ-02 (116.39762729119315, 39.90865673957631),
    # wandergis/coordtransform, test/app.js.
    square = _square_at(116.404, 39.915)
    gdf0 = gpd.GeoDataFrame({"name": ["东城"]}, geometry=[square], crs=4326)
    gdf, report = read_vector_upload(geojson_bytes(gdf0), "baidu.geojson", datum=alias)
    assert report.datum == "bd09"
    got = gdf.geometry.iloc[0]
    src = shapely.get_coordinates(square)
    expected = gcrs.gcj02_to_wgs84(*gcrs.bd09_to_gcj02(src[:, 0], src[:, 1]))
    np.testing.assert_allclose(
        np.sort(shapely.get_coordinates(got), axis=0),
        np.sort(np.column_stack(expected), axis=0),
        atol=1e-9,
    )
    wlon, wlat = gcrs.gcj02_to_wgs84(116.39762729119315, 39.90865673957631)
    corner = min(shapely.get_coordinates(got).tolist(), key=lambda p: p[0] + p[1])
    _, _, dist = GEOD.inv(corner[0], corner[1], float(wlon), float(wlat))
    assert dist < 1.0


def test_parse_datum_aliases() -> None:
    assert parse_datum("WGS-84") == "wgs84"
    assert parse_datum("wgs_84") == "wgs84"
    assert parse_datum("GCJ-02") == "gcj02"
    assert parse_datum("bd-09") == "bd09"
    assert parse_datum("BD09") == "bd09"


def test_attribute_types_are_strings_and_numbers(tmp_path: Path) -> None:
    gdf0 = towns(4547).assign(
        area_km2=[1.5, 2.25, 3.0],
        surveyed=pd.to_datetime(["2020-11-01", "2020-11-02", None]),
        updated=pd.to_datetime(["2021-01-01 08:30", "2021-01-02 00:00", "2021-01-03 00:00"]),
    )
    path = tmp_path / "towns.gpkg"
    gdf0.to_file(path, engine="pyogrio")
    gdf, _ = read_vector_upload(path)
    assert list(gdf["name"]) == NAMES
    assert list(gdf["area_km2"]) == [1.5, 2.25, 3.0]
    assert list(gdf["pop"]) == [120000, 45000, 98000]
    assert list(gdf["surveyed"]) == ["2020-11-01", "2020-11-02", None]
    assert list(gdf["updated"]) == [
        "2021-01-01 08:30:00",
        "2021-01-02 00:00:00",
        "2021-01-03 00:00:00",
    ]
    assert isinstance(gdf.index, pd.RangeIndex)


# --------------------------------------------------------------------------------------
# bad uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize("name", ["map.png", "乡镇边界.geojson", "乡镇边界.zip", "乡镇边界.gpkg"])
def test_png_is_unknown_format(name: str) -> None:
    with pytest.raises(UploadError) as info:
        read_vector_upload(PNG, name)
    assert_upload_error(info.value, "upload.unknown_format", name, "无法识别")


def test_docx_renamed_to_zip_is_unknown_format() -> None:
    docx = zip_members(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document/>",
        }
    )
    for name in ("报告.docx", "报告.zip"):
        with pytest.raises(UploadError) as info:
            read_vector_upload(docx, name)
        assert_upload_error(info.value, "upload.unknown_format", name)


def test_plain_text_is_unknown_format() -> None:
    with pytest.raises(UploadError) as info:
        read_vector_upload(b"just some notes\n", "notes.txt")
    assert_upload_error(info.value, "upload.unknown_format", "notes.txt")


def test_undecodable_dbf_text(tmp_path: Path) -> None:
    gdf0 = towns(4547).assign(name=["XXXXXX", "宋营镇", "桥西区"])
    shp = write_shapefile(gdf0, tmp_path / "shp", encoding="GBK", keep_cpg=False)
    dbf = shp.with_suffix(".dbf")
    raw = dbf.read_bytes()
    bad = b"\xff\xfe\x80\xff\x80\xff"  # invalid in UTF-8, GBK and GB18030 alike
    for enc in ("utf-8", "gbk", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            bad.decode(enc)
    dbf.write_bytes(raw.replace(b"XXXXXX", bad))
    with pytest.raises(UploadError) as info:
        read_vector_upload(zip_shapefile(shp), "坏编码.zip")
    assert_upload_error(info.value, "upload.encoding", "坏编码.zip", "编码", "GBK")


def test_declared_encoding_that_does_not_fit(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    for enc in ("utf-8", "no-such-codec"):
        with pytest.raises(UploadError) as info:
            read_vector_upload(zip_shapefile(shp), "towns.zip", encoding=enc)
        assert_upload_error(info.value, "upload.bad_encoding", "towns.zip", enc)


def test_points_layer_has_no_polygons(tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame(
        {"name": ["卫生院", "医院"]},
        geometry=[Point(114.5, 38.0), Point(114.6, 38.1)],
        crs=4490,
    )
    shp = write_shapefile(pts, tmp_path / "shp", "clinics", encoding="GBK", keep_cpg=False)
    with pytest.raises(UploadError) as info:
        read_vector_upload(zip_shapefile(shp), "卫生院.zip")
    assert_upload_error(info.value, "upload.no_polygons", "卫生院.zip", "面")
    with pytest.raises(UploadError) as info:
        read_vector_upload(geojson_bytes(pts), "clinics.geojson")
    assert_upload_error(info.value, "upload.no_polygons", "clinics.geojson")


def test_no_crs_with_projected_coordinates(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_prj=False)
    with pytest.raises(UploadError) as info:
        read_vector_upload(zip_shapefile(shp), "无坐标系.zip")
    assert_upload_error(info.value, "upload.no_crs", "无坐标系.zip", "坐标系")


def test_over_the_size_limit(tmp_path: Path) -> None:
    data = geojson_bytes(towns())
    with pytest.raises(UploadError) as info:
        read_vector_upload(data, "towns.geojson", max_mb=len(data) / 2 / 1024 / 1024)
    assert_upload_error(info.value, "upload.too_large", "文件过大", "MB")
    # Also for tables and for a path on disk.
    path = tmp_path / "pop.csv"
    path.write_bytes(b"adcode,pop\n" + b"130102,1\n" * 2000)
    with pytest.raises(UploadError) as info:
        read_table_upload(path, max_mb=0.001)
    assert_upload_error(info.value, "upload.too_large", "文件过大")


def test_size_limit_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridplan import settings

    monkeypatch.setattr(settings, "max_upload_mb", 0.0001)
    with pytest.raises(UploadError) as info:
        read_vector_upload(geojson_bytes(towns()), "towns.geojson")
    assert info.value.code == "upload.too_large"


def test_zip_bomb_counts_uncompressed_size(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK", keep_cpg=False)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in shapefile_parts(shp):
            zf.write(part, arcname=part.name)
        zf.writestr("padding.bin", b"\x00" * (4 * 1024 * 1024))
    data = buf.getvalue()
    assert len(data) < 200_000  # small on the wire...
    with pytest.raises(UploadError) as info:
        read_vector_upload(data, "bomb.zip", max_mb=1)  # ...4 MB once inflated
    assert_upload_error(info.value, "upload.too_large", "文件过大")


@pytest.mark.parametrize(
    "member",
    ["../evil.shp", "data/../../evil.shp", "/tmp/evil.shp", "C:/evil.shp", "..\\evil.shp"],
)
def test_zip_with_unsafe_member_is_rejected(
    tmp_path: Path, member: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK")
    members = {p.name: p.read_bytes() for p in shapefile_parts(shp)}
    members[member] = shp.read_bytes()
    data = zip_members(members)

    def no_extraction(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was read before the archive was checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_extraction)
    monkeypatch.setattr(zipfile.ZipFile, "extract", no_extraction)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", no_extraction)
    with pytest.raises(UploadError) as info:
        read_vector_upload(data, "towns.zip")
    assert_upload_error(info.value, "upload.zip_unsafe", member, "不安全")
    assert not (Path(tempfile.gettempdir()) / "evil.shp").exists()


def test_zip_with_symlink_member_is_rejected(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part in shapefile_parts(shp):
            zf.write(part, arcname=part.name)
        link = zipfile.ZipInfo("towns.qix")
        link.create_system = 3
        link.external_attr = (0o120777 << 16) & 0xFFFF0000
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(UploadError) as info:
        read_vector_upload(buf.getvalue(), "towns.zip")
    assert_upload_error(info.value, "upload.zip_unsafe", "towns.qix")


def test_empty_layers() -> None:
    empty_fc = b'{"type": "FeatureCollection", "features": []}'
    with pytest.raises(UploadError) as info:
        read_vector_upload(empty_fc, "空.geojson")
    assert_upload_error(info.value, "upload.empty", "空.geojson", "空")
    with pytest.raises(UploadError) as info:
        read_vector_upload(b"", "零字节.zip")
    assert_upload_error(info.value, "upload.empty", "零字节.zip")


def test_empty_shapefile(tmp_path: Path) -> None:
    empty = gpd.GeoDataFrame(
        {"name": pd.Series([], dtype=str)}, geometry=gpd.GeoSeries([], crs=4547), crs=4547
    )
    shp = write_shapefile(empty, tmp_path / "shp", encoding="GBK")
    assert shp.exists()
    with pytest.raises(UploadError) as info:
        read_vector_upload(zip_shapefile(shp), "空图层.zip")
    assert_upload_error(info.value, "upload.empty", "空图层.zip")


def test_corrupt_zip(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK")
    data = zip_shapefile(shp)
    truncated = data[: len(data) // 2]
    assert truncated.startswith(b"PK\x03\x04")
    with pytest.raises(UploadError) as info:
        read_vector_upload(truncated, "损坏.zip")
    assert_upload_error(info.value, "upload.unreadable", "损坏.zip", "无法读取")
    # A zip whose member data is damaged (CRC mismatch).
    damaged = bytearray(data)
    start = data.index(b"towns.dbf") + len("towns.dbf") + 40
    damaged[start : start + 20] = b"\x00" * 20
    with pytest.raises(UploadError) as info:
        read_vector_upload(bytes(damaged), "损坏.zip")
    assert_upload_error(info.value, "upload.unreadable", "损坏.zip")
    # A zip whose deflate stream is broken.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        shp_info = zf.getinfo("towns.shp")
    body = shp_info.header_offset + 30 + len("towns.shp")
    broken = bytearray(data)
    broken[body : body + 8] = b"\xff" * 8
    with pytest.raises(UploadError) as info:
        read_vector_upload(bytes(broken), "损坏.zip")
    assert_upload_error(info.value, "upload.unreadable", "损坏.zip")


def test_zip_without_layer() -> None:
    data = zip_members({"说明.txt": "没有图层".encode(), "data.csv": b"a,b\n1,2\n"})
    with pytest.raises(UploadError) as info:
        read_vector_upload(data, "资料.zip")
    assert_upload_error(info.value, "upload.zip_no_layer", "资料.zip")


def test_zip_with_incomplete_shapefile(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK")
    parts = [p for p in shapefile_parts(shp) if p.suffix not in (".shx", ".dbf")]
    with pytest.raises(UploadError) as info:
        read_vector_upload(zip_files(parts), "towns.zip")
    zh = assert_upload_error(info.value, "upload.zip_incomplete", "towns.shx", "towns.dbf")
    assert "不完整" in zh
    # A lone .shp upload is incomplete too.
    with pytest.raises(UploadError) as info:
        read_vector_upload(shp.read_bytes(), "towns.shp")
    assert_upload_error(info.value, "upload.zip_incomplete", "towns.shx")


def test_not_in_china() -> None:
    paris = gpd.GeoDataFrame({"name": ["Paris"]}, geometry=[box(2.3, 48.8, 2.4, 48.9)], crs=4326)
    with pytest.raises(UploadError) as info:
        read_vector_upload(geojson_bytes(paris), "巴黎.geojson")
    assert_upload_error(info.value, "upload.not_in_china", "巴黎.geojson", "2.3000")


def test_projected_coordinates_labelled_as_lonlat(tmp_path: Path) -> None:
    shp = write_shapefile(towns(4547), tmp_path / "shp", encoding="GBK")
    shp.with_suffix(".prj").write_text(CRS.from_epsg(4490).to_wkt("WKT1_ESRI"))
    with pytest.raises(UploadError) as info:
        read_vector_upload(zip_shapefile(shp), "错标.zip")
    assert_upload_error(info.value, "upload.not_in_china", "错标.zip")


def test_bad_datum() -> None:
    with pytest.raises(UploadError) as info:
        read_vector_upload(geojson_bytes(towns()), "towns.geojson", datum="UTM-50N")
    assert_upload_error(info.value, "upload.bad_datum", "UTM-50N")


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (b'{"type": "FeatureCollection", "features": [', "broken.geojson"),
        (b'{"hello": "world"}', "notgeo.json"),
        (b"this is not a geopackage", "towns.gpkg"),
        (b"not a zip at all", "towns.zip"),
    ],
)
def test_unreadable(payload: bytes, name: str) -> None:
    with pytest.raises(UploadError) as info:
        read_vector_upload(payload, name)
    assert_upload_error(info.value, "upload.unreadable", name)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UploadError) as info:
        read_vector_upload(tmp_path / "nope.zip")
    assert_upload_error(info.value, "upload.unreadable", "nope.zip")


# --------------------------------------------------------------------------------------
# tables

CSV_TEXT = (
    "adcode,名称,常住人口,区划代码,code9\n"
    "130102,长安区,1000,0130102,001\n"
    "130104,桥西区,2000.5,0130104,002\n"
)


def test_csv_utf8() -> None:
    df, report = read_table_upload(CSV_TEXT.encode("utf-8"), "人口.csv")
    assert list(df.columns) == ["adcode", "名称", "常住人口", "区划代码", "code9"]
    assert list(df["名称"]) == ["长安区", "桥西区"]
    assert report.driver == "CSV"
    assert report.encoding == "UTF-8"
    assert report.n_features == 2
    assert report.source_crs is None


def test_csv_gbk() -> None:
    df, report = read_table_upload(CSV_TEXT.encode("gbk"), "人口.csv")
    assert list(df["名称"]) == ["长安区", "桥西区"]
    assert report.encoding == "GBK"
    assert any("GBK" in n for n in report.notes)


def test_csv_with_bom() -> None:
    df, report = read_table_upload(b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"), "人口.csv")
    assert df.columns[0] == "adcode"
    assert report.encoding == "UTF-8"


def test_csv_declared_encoding() -> None:
    df, report = read_table_upload(CSV_TEXT.encode("gb18030"), "人口.csv", encoding="GB18030")
    assert list(df["名称"]) == ["长安区", "桥西区"]
    assert report.encoding == "GB18030"


def test_codes_keep_leading_zeros() -> None:
    df, _ = read_table_upload(CSV_TEXT.encode("utf-8"), "人口.csv")
    assert list(df["区划代码"]) == ["0130102", "0130104"]
    assert list(df["code9"]) == ["001", "002"]
    assert list(df["adcode"]) == ["130102", "130104"]
    assert df["常住人口"].tolist() == [1000.0, 2000.5]  # other columns are numbers


def test_tab_separated_txt_and_path(tmp_path: Path) -> None:
    path = tmp_path / "人口.txt"
    path.write_bytes(CSV_TEXT.replace(",", "\t").encode("gbk"))
    df, report = read_table_upload(path)
    assert list(df["区划代码"]) == ["0130102", "0130104"]
    assert report.filename == "人口.txt"


def test_xlsx(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "代码": ["0130102", "0130104"],
            "XZQDM": ["130102001", "130104001"],
            "名称": ["长安区", "桥西区"],
            "人口": [1000, 2000],
        }
    )
    path = tmp_path / "人口.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"说明": []}).to_excel(writer, sheet_name="说明", index=False)
        frame.to_excel(writer, sheet_name="人口", index=False)
    df, report = read_table_upload(path.read_bytes(), "人口.xlsx")
    assert report.driver == "Excel"
    assert list(df["代码"]) == ["0130102", "0130104"]
    assert list(df["XZQDM"]) == ["130102001", "130104001"]
    assert list(df["名称"]) == ["长安区", "桥西区"]
    assert list(df["人口"]) == [1000, 2000]
    assert any("人口" in n for n in report.notes)


def test_text_named_xls_is_read_as_csv() -> None:
    df, report = read_table_upload(CSV_TEXT.replace(",", "\t").encode("gbk"), "导出.xls")
    assert report.driver == "CSV"
    assert list(df["区划代码"]) == ["0130102", "0130104"]
    assert any("not a workbook" in n for n in report.notes)
    with pytest.raises(UploadError) as info:
        read_table_upload(b"<html><table></table></html>", "导出.xls")
    assert_upload_error(info.value, "upload.unreadable", "导出.xls")


def test_blank_rows_are_dropped() -> None:
    text = "adcode,pop\n130102,1\n,\n130104,2\n,\n"
    df, report = read_table_upload(text.encode(), "pop.csv")
    assert list(df["adcode"]) == ["130102", "130104"]
    assert report.n_dropped == 2


@pytest.mark.parametrize("name", ["人口.png", "人口.csv", "人口.xlsx"])
def test_table_png_is_unknown_format(name: str) -> None:
    with pytest.raises(UploadError) as info:
        read_table_upload(PNG, name)
    assert_upload_error(info.value, "upload.unknown_table_format", name, "CSV")


def test_table_docx_is_unknown_format() -> None:
    docx = zip_members({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    with pytest.raises(UploadError) as info:
        read_table_upload(docx, "人口.docx")
    assert_upload_error(info.value, "upload.unknown_table_format", "人口.docx")


def test_table_geojson_is_unknown_format() -> None:
    with pytest.raises(UploadError) as info:
        read_table_upload(geojson_bytes(towns()), "towns.geojson")
    assert_upload_error(info.value, "upload.unknown_table_format", "towns.geojson")


@pytest.mark.parametrize("payload", [b"", b"adcode,pop\n", b"\n\n", b"\xef\xbb\xbf"])
def test_table_empty(payload: bytes) -> None:
    with pytest.raises(UploadError) as info:
        read_table_upload(payload, "空表.csv")
    assert_upload_error(info.value, "upload.empty", "空表.csv")


def test_table_undecodable() -> None:
    payload = b"adcode,name\n130102,\xff\xfe\x80\xff\n"
    with pytest.raises(UploadError) as info:
        read_table_upload(payload, "乱码.csv")
    assert_upload_error(info.value, "upload.encoding", "乱码.csv")
    with pytest.raises(UploadError) as info:
        read_table_upload(CSV_TEXT.encode("gbk"), "乱码.csv", encoding="utf-8")
    assert_upload_error(info.value, "upload.bad_encoding", "乱码.csv", "utf-8")


def test_table_corrupt_xlsx() -> None:
    with pytest.raises(UploadError) as info:
        read_table_upload(b"PK\x03\x04" + b"\x00" * 100, "人口.xlsx")
    assert_upload_error(info.value, "upload.unreadable", "人口.xlsx")


def test_table_xlsx_bomb_counts_uncompressed_size(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    pd.DataFrame({"adcode": ["130102"] * 20000, "note": ["x" * 50] * 20000}).to_excel(
        path, index=False, engine="openpyxl"
    )
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        inflated = sum(i.file_size for i in zf.infolist())
    limit = (len(data) + inflated) / 2 / 1024 / 1024
    with pytest.raises(UploadError) as info:
        read_table_upload(data, "big.xlsx", max_mb=limit)
    assert info.value.code == "upload.too_large"
