"""Hostile raster and vector uploads: GDAL reaches no URL and no server file; bounded work.

Every file is made here in ``tmp_path``.  Two witnesses prove what GDAL did
*not* do: a TCP listener on 127.0.0.1 counts the connections it accepted, and a
canary FIFO outside the upload records whether anyone opened it for reading
(a writer thread polls with a non-blocking open, which only succeeds once a
reader is waiting).  Each witness is shown to work on unprotected GDAL first,
so the tests can fail.
"""

from __future__ import annotations

import json
import sqlite3
import string
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from gridplan import settings
from gridplan.errors import GridPlanError, InputError, UploadError
from gridplan.i18n import MESSAGES, error_text
from gridplan.inputs.gdal import safe_gdal
from gridplan.inputs.vector import read_vector_upload
from gridplan.plan.units import build_units
from gridplan.surface.grid import grid_for_units
from gridplan.surface.layers import check_layer_upload, raster_on_grid
from gridplan.surface.raster import surface_from_raster
from gridplan.workflow import read_exclusions
from tests.hostile.witnesses import Canary, Listener

NODATA = -99999.0
RASTER_CODES = {"upload.format_not_allowed", "raster.unreadable"}
VECTOR_CODES = {"upload.format_not_allowed", "upload.unreadable", "upload.unknown_format"}


# --------------------------------------------------------------------------------------
# witnesses (tests/hostile/witnesses.py)


@pytest.fixture
def listener():
    srv = Listener()
    yield srv
    srv.close()


@pytest.fixture
def canary(tmp_path):
    c = Canary(tmp_path / "server-files")
    yield c
    c.close()


@pytest.fixture(scope="module")
def us():
    return build_units("130100")


# --------------------------------------------------------------------------------------
# builders


def vrt_raster(source: str) -> str:
    """GDAL VRT XML reading band 1 of ``source`` (a URL or a server file)."""
    return (
        '<VRTDataset rasterXSize="20" rasterYSize="20">'
        "<SRS>EPSG:4326</SRS><GeoTransform>114.3, 0.01, 0, 38.2, 0, -0.01</GeoTransform>"
        '<VRTRasterBand dataType="Float32" band="1"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{source}</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
    )


def ogr_vrt(source: str) -> str:
    """OGR VRT XML serving the layer of ``source`` as if it were the upload's."""
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="towns">'
        f"<SrcDataSource>{source}</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"
    )


def write_tif(path: Path, values, transform, *, nodata=NODATA, crs="EPSG:4326", **extra):
    values = np.asarray(values)
    count = 1 if values.ndim == 2 else values.shape[0]
    profile = {
        "driver": "GTiff", "width": values.shape[-1], "height": values.shape[-2],
        "count": count, "dtype": str(values.dtype), "crs": crs, "transform": transform,
        "nodata": nodata, **extra,
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(values if values.ndim == 3 else values[None])
    return path


def counts(width=60, height=40, value=None, seed=0):
    """People per pixel over central Shijiazhuang (0.01°, ~0.9 km² pixels)."""
    rng = np.random.default_rng(seed)
    v = rng.gamma(2.0, 50.0, size=(height, width)).astype(np.float32)
    if value is not None:
        v[:] = value
    return v, Affine(0.01, 0, 114.3, 0, -0.01, 38.2)


def zipped(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def check_error(exc: BaseException, codes: set[str] | str) -> str:
    """A coded error with zh/en texts using exactly its params, naming no server path."""
    codes = {codes} if isinstance(codes, str) else codes
    assert isinstance(exc, GridPlanError), repr(exc)
    assert exc.code in codes, (exc.code, str(exc))
    for lang in ("zh", "en"):
        fields = {f for _, f, _, _ in string.Formatter().parse(MESSAGES[exc.code][lang]) if f}
        assert {f.split(":")[0] for f in fields} == set(exc.params), (lang, exc.params)
    zh, en = error_text(exc, "zh"), error_text(exc, "en")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), zh
    for text in (zh, en):
        assert "/tmp" not in text and "secret" not in text and "127.0.0.1" not in text, text
    return zh


# --------------------------------------------------------------------------------------
# the witnesses work


def test_witnesses_see_unprotected_gdal(tmp_path, listener, canary):
    with pytest.raises(rasterio.errors.RasterioIOError):
        rasterio.open(f"/vsicurl/{listener.url}")
    fake = tmp_path / "upload" / "pop.tif"
    fake.parent.mkdir()
    fake.write_text(vrt_raster(str(canary.path)))
    with pytest.raises(rasterio.errors.RasterioError), rasterio.open(fake) as ds:
        assert ds.driver == "VRT"  # GDAL chose by content
        ds.read(1)
    listener.close()
    canary.close()
    assert listener.hits and canary.opened


def test_safe_gdal_sends_no_request(listener):
    with safe_gdal():
        for path in (f"/vsicurl/{listener.url}", f"/vsicurl/{listener.url}?x=1.gridplan"):
            with pytest.raises(rasterio.errors.RasterioIOError):
                rasterio.open(path)
            with pytest.raises(pyogrio.errors.DataSourceError):
                pyogrio.read_info(path)
    listener.close()
    assert listener.hits == []
    # the options are put back once the last reader is out
    assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") is None


# --------------------------------------------------------------------------------------
# rasters: VRT XML named .tif, for every raster reader


def _raster_readers(us):
    grid = grid_for_units(us, 1000)
    return {
        "population": lambda p: surface_from_raster(p, us, 1000),
        "population bytes": lambda p: surface_from_raster(
            Path(p).read_bytes(), us, 1000, filename="pop.tif"
        ),
        "land cover": lambda p: raster_on_grid(p, grid, resampling="nearest"),
        "dem": lambda p: raster_on_grid(p, grid, resampling="bilinear"),
        "panel check": lambda p: check_layer_upload(p, "dem.tif"),
    }


@pytest.mark.parametrize("target", ["url", "server file", "vsizip"])
def test_vrt_named_tif_is_refused_by_every_raster_reader(us, tmp_path, listener, canary, target):
    source = {
        "url": f"/vsicurl/{listener.url}",
        "server file": str(canary.path),
        "vsizip": f"/vsizip/{canary.path}/x.tif",
    }[target]
    upload = tmp_path / "upload" / "pop.tif"
    upload.parent.mkdir()
    upload.write_text(vrt_raster(source))
    for what, read in _raster_readers(us).items():
        with pytest.raises(UploadError) as e:
            read(upload)
        assert "XML" in check_error(e.value, "upload.format_not_allowed"), what
    listener.close()
    canary.close()
    assert listener.hits == [] and not canary.opened


def test_other_content_named_tif_is_refused(us, tmp_path):
    for name, content in {
        "png.tif": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
        "sqlite.tif": b"SQLite format 3\x00" + b"\0" * 64,
        "json.tif": b'{"type": "gdal_streamed_alg", "command_line": "gdal raster pipeline"}',
        "garbage.tif": b"not a raster at all",
    }.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(UploadError) as e:
            surface_from_raster(path, us, 1000)
        check_error(e.value, RASTER_CODES)


def test_side_car_files_next_to_an_upload_are_not_read(us, tmp_path):
    values, transform = counts()
    tif = write_tif(tmp_path / "pop.tif", values, transform)
    # a PAM side-car that would multiply every pixel by 1000 and hide half the raster
    (tmp_path / "pop.tif.aux.xml").write_text(
        '<PAMDataset><PAMRasterBand band="1"><Scale>1000</Scale>'
        "<NoDataValue>0</NoDataValue></PAMRasterBand></PAMDataset>"
    )
    with rasterio.open(tif) as ds:  # unprotected GDAL applies it
        assert ds.scales[0] == 1000
    _, report = surface_from_raster(tif, us, 1000)
    assert report.input_total == pytest.approx(float(values.sum(dtype=np.float64)), rel=1e-3)
    assert not any("band's scale" in n for n in report.notes)


# --------------------------------------------------------------------------------------
# vectors: OGR VRT, GDALG, virtual tables, /vsi strings


def _vector_readers():
    return {
        "township": lambda p: read_vector_upload(p),
        "exclusion": lambda p: read_exclusions(p, "wgs84"),
    }


def _hostile_layers(folder: Path, source: str) -> dict[str, Path]:
    vrt = ogr_vrt(source)
    gdalg = json.dumps(
        {
            "type": "gdal_streamed_alg",
            "command_line": f"gdal vector pipeline ! read {source} ! write --of stream out",
        }
    )
    bare = folder / "towns.geojson"
    bare.write_text(vrt)
    return {
        "bare geojson": bare,
        "geojson in zip": zipped(folder / "a.zip", {"towns.geojson": vrt}),
        "json in zip": zipped(folder / "b.zip", {"towns.json": vrt}),
        "gpkg in zip": zipped(folder / "c.zip", {"towns.gpkg": vrt}),
        "shp in zip": zipped(
            folder / "d.zip", {"towns.shp": vrt, "towns.shx": vrt, "towns.dbf": vrt}
        ),
        "gdalg geojson": _write(folder / "g.geojson", gdalg),
        "gdalg in zip": zipped(folder / "e.zip", {"towns.geojson": gdalg}),
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("target", ["url", "server file"])
def test_ogr_vrt_and_gdalg_are_refused_by_the_vector_readers(tmp_path, listener, canary, target):
    source = f"/vsicurl/{listener.url}" if target == "url" else str(canary.path)
    folder = tmp_path / "upload"
    folder.mkdir()
    for kind, path in _hostile_layers(folder, source).items():
        for reader, read in _vector_readers().items():
            with pytest.raises(UploadError) as e:
                read(path)
            assert check_error(e.value, VECTOR_CODES | {"upload.zip_incomplete"}), (kind, reader)
    listener.close()
    canary.close()
    assert listener.hits == [] and not canary.opened


def test_vsi_strings_inside_a_geojson_are_only_text(tmp_path, listener, canary):
    url = f"/vsicurl/{listener.url}"
    feature = {
        "type": "Feature",
        "properties": {"name": url, "file": f"/vsizip/{canary.path}/x.shp"},
        "geometry": box(114.4, 38.0, 114.5, 38.1).__geo_interface__,
    }
    good = {"type": "FeatureCollection", "features": [feature]}
    linked = {**good, "crs": {"type": "link", "properties": {"href": url, "type": "ogcwkt"}}}
    named = {**good, "crs": {"type": "name", "properties": {"name": str(canary.path)}}}
    path = _write(tmp_path / "towns.geojson", json.dumps(good))
    gdf, _ = read_vector_upload(path)
    assert list(gdf["name"]) == [url]  # a value, never opened
    for i, doc in enumerate((linked, named)):
        try:
            read_vector_upload(_write(tmp_path / f"crs{i}.geojson", json.dumps(doc)))
        except UploadError as exc:
            check_error(exc, VECTOR_CODES | {"upload.no_crs", "upload.not_in_china"})
    listener.close()
    canary.close()
    assert listener.hits == [] and not canary.opened


def test_geopackage_with_a_foreign_virtual_table_is_refused(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(114.4, 38.0, 114.5, 38.1)], crs=4326)
    good = tmp_path / "good.gpkg"
    gdf.to_file(good, driver="GPKG", engine="pyogrio")  # with an rtree spatial index
    assert len(read_vector_upload(good)[0]) == 1
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(good.read_bytes())
    with sqlite3.connect(bad) as db:
        db.execute("CREATE VIRTUAL TABLE evil USING fts5(body)")
    db.close()
    for reader, read in _vector_readers().items():
        with pytest.raises(UploadError) as e:
            read(bad)
        assert "evil" in check_error(e.value, "upload.format_not_allowed"), reader


# --------------------------------------------------------------------------------------
# bounded work


def test_decompression_bomb_is_refused_before_decoding(us, tmp_path, monkeypatch):
    zeros = np.zeros((1024, 1024), dtype=np.float32)
    transform = Affine(0.0005, 0, 114.3, 0, -0.0005, 38.2)
    bomb = write_tif(
        tmp_path / "bomb.tif", zeros, transform, tiled=True, blockxsize=256, blockysize=256,
        compress="deflate",
    )  # fmt: skip
    assert bomb.stat().st_size < 20_000
    grid = grid_for_units(us, 1000)
    for read in (
        lambda: surface_from_raster(bomb, us, 1000),
        lambda: raster_on_grid(bomb, grid, resampling="nearest"),
    ):
        with pytest.raises(UploadError) as e:
            read()
        check_error(e.value, "raster.ratio")
        assert float(e.value.params["ratio"].replace(",", "")) > 500
    sparse = write_tif(
        tmp_path / "sparse.tif", zeros, transform, tiled=True, blockxsize=256, blockysize=256,
        compress="deflate", SPARSE_OK=True,
    )  # fmt: skip
    with pytest.raises(UploadError) as e:
        surface_from_raster(sparse, us, 1000)
    check_error(e.value, "raster.ratio")
    # the window's own bounds, with lower limits on the same small files
    monkeypatch.setattr(settings, "raster_max_window_pixels", 100_000)
    with pytest.raises(UploadError) as e:
        raster_on_grid(sparse, grid)
    check_error(e.value, "raster.window_too_large")
    monkeypatch.setattr(settings, "raster_max_window_pixels", 10_000_000)
    monkeypatch.setattr(settings, "raster_max_decoded_mb", 1.0)
    with pytest.raises(UploadError) as e:
        surface_from_raster(sparse, us, 1000)
    check_error(e.value, "raster.decoded_too_large")


def test_header_bounds(us, tmp_path, monkeypatch):
    values, transform = counts()
    bands = write_tif(tmp_path / "bands.tif", np.stack([values] * 5), transform)
    with pytest.raises(UploadError) as e:
        surface_from_raster(bands, us, 1000)
    check_error(e.value, "raster.too_many_bands")
    cplx = write_tif(tmp_path / "cplx.tif", values.astype(np.complex64), transform, nodata=None)
    with pytest.raises(UploadError) as e:
        check_layer_upload(cplx)
    assert "complex64" in check_error(e.value, "raster.bad_dtype")
    monkeypatch.setattr(settings, "raster_max_side_px", 50)
    with pytest.raises(UploadError) as e:
        check_layer_upload(write_tif(tmp_path / "wide.tif", values, transform))
    check_error(e.value, "raster.too_many_pixels")


# --------------------------------------------------------------------------------------
# impossible and implausible values


def test_raster_without_people_is_refused_at_load(us, tmp_path):
    values, transform = counts(value=NODATA)
    for name, v in (("nodata.tif", values), ("zeros.tif", np.zeros_like(values))):
        with pytest.raises(UploadError) as e:
            surface_from_raster(write_tif(tmp_path / name, v, transform), us, 1000)
        check_error(e.value, "raster.no_population")
    assert e.value.params["n_nodata"] == "0"


def _first_pixel_place(params) -> tuple[float, float]:
    lon, lat = (float(x) for x in params["where"].split(","))
    return lon, lat


def test_impossible_values_are_refused_with_count_and_place(us, tmp_path):
    values, transform = counts()
    for name, bad, code in (
        ("inf.tif", np.inf, "raster.nonfinite"),
        ("nan.tif", np.nan, "raster.nonfinite"),
        ("huge.tif", 1e30, "raster.too_dense"),
        ("negative.tif", -5.0, "raster.negative"),
    ):
        v = values.copy()
        v[3, 7] = v[10, 20] = bad
        with pytest.raises(UploadError) as e:
            surface_from_raster(write_tif(tmp_path / name, v, transform), us, 1000)
        check_error(e.value, code)
        assert str(e.value.params["n"]).replace(",", "") == "2"
        if code != "raster.negative":  # the first bad pixel, by its centre
            lon, lat = _first_pixel_place(e.value.params)
            assert lon == pytest.approx(114.3 + 7.5 * 0.01, abs=1e-3)
            assert lat == pytest.approx(38.2 - 3.5 * 0.01, abs=1e-3)
    # NaN declared as nodata is no data, not an error
    v = values.copy()
    v[3, 7] = np.nan
    _, report = surface_from_raster(write_tif(tmp_path / "nan-nodata.tif", v, transform,
                                              nodata=np.nan), us, 1000)  # fmt: skip
    assert report.input_total == pytest.approx(float(np.nansum(v, dtype=np.float64)), rel=1e-3)


def test_total_far_above_the_census_waits_for_confirmation(us, tmp_path):
    census = float(np.nansum(us.units["population"]))
    values, transform = counts()
    _, ok = surface_from_raster(write_tif(tmp_path / "ok.tif", values, transform), us, 1000)
    assert ok.warnings == []
    per_pixel = np.float32(3 * census / values.size)  # ~3 times the census, still possible
    big = write_tif(tmp_path / "big.tif", np.full_like(values, per_pixel), transform)
    with pytest.raises(InputError) as refused:
        surface_from_raster(big, us, 1000)
    assert refused.value.code == "population.unconfirmed"
    assert "请核对" in error_text(refused.value, "zh")
    assert f"{census:,.0f}" in error_text(refused.value, "en")
    surface, report = surface_from_raster(big, us, 1000, accept_warnings=True)
    assert surface.total > 2 * census
    [warning] = report.warnings
    assert warning["code"] == "raster.above_census"
    assert "请核对" in report.summary("zh")


def test_good_land_cover_and_dem_still_load(us, tmp_path):
    grid = grid_for_units(us, 1000)
    classes = np.tile(np.arange(10, 70, 10, dtype=np.uint8), (40, 10))
    lc = write_tif(tmp_path / "lc.tif", classes, counts()[1], nodata=0)
    check_layer_upload(lc)
    out = raster_on_grid(lc, grid, resampling="nearest")
    assert out.shape == grid.shape
    assert set(np.unique(out[np.isfinite(out)])) <= set(range(10, 70, 10))
