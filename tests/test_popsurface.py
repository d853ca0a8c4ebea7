"""Population surfaces from uploaded rasters, points and polygons; the WorldPop download.

All offline: GeoTIFFs are written with rasterio into tmp_path, the download
tests talk to a local http.server on 127.0.0.1.
"""

from __future__ import annotations

import string
import threading
import time
import warnings
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.features
import shapely
from affine import Affine
from pyproj import Transformer

from gridplan.errors import DownloadError, GridPlanError, InputError, UploadError
from gridplan.i18n import MESSAGES, error_text
from gridplan.inputs.crs import gdf_to_datum, wgs84_to_gcj02
from gridplan.plan.units import build_units
from gridplan.surface.grid import census_surface, grid_for_units
from gridplan.surface.points import surface_from_points
from gridplan.surface.polygons import surface_from_polygons
from gridplan.surface.raster import surface_from_raster
from gridplan.surface.worldpop import (
    download_worldpop,
    fetch_worldpop,
    worldpop_bbox,
    worldpop_url,
)

NODATA = -99999.0


# --------------------------------------------------------------------------------------
# helpers and fixtures


@pytest.fixture(scope="module")
def us():
    return build_units("130100")


@pytest.fixture(scope="module")
def units_union(us):
    """The drawn units' union in WGS-84, for independent point-in-prefecture checks."""
    return shapely.union_all(us.units.loc[us.units["has_geometry"]].geometry.to_numpy())


def write_tif(path, values, transform, crs="EPSG:4326", nodata=None, dtype="float32"):
    values = np.asarray(values)
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": dtype,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning for the no-CRS case
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(values.astype(dtype), 1)
    return Path(path)


def lonlat_raster(west, north, res, width, height, seed=0, nodata_share=0.05):
    """Random counts on a lon/lat grid with WorldPop's nodata in some pixels."""
    rng = np.random.default_rng(seed)
    values = rng.gamma(0.5, 20.0, size=(height, width)).astype(np.float32)
    values[rng.random((height, width)) < nodata_share] = NODATA
    return values, Affine(res, 0.0, west, 0.0, -res, north)


def pixel_centres(values, transform):
    rows, cols = np.nonzero(values != NODATA)
    x = transform.c + (cols + 0.5) * transform.a
    y = transform.f + (rows + 0.5) * transform.e
    return x, y, values[rows, cols].astype(np.float64)


def check_error(exc: BaseException, code: str) -> str:
    """The error has a known code, zh/en texts and exactly the params its templates use."""
    assert isinstance(exc, GridPlanError)
    assert exc.code == code
    assert code in MESSAGES
    for lang in ("zh", "en"):
        fields = {f for _, f, _, _ in string.Formatter().parse(MESSAGES[code][lang]) if f}
        assert {f.split(":")[0] for f in fields} == set(exc.params), (lang, exc.params)
    zh, en = error_text(exc, "zh"), error_text(exc, "en")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), zh
    assert zh != en and "{" not in zh and "{" not in en
    return zh


def check_problems(exc: BaseException, code: str, problem_codes: list[str]) -> str:
    """An error collecting problems: its code, each problem's code and texts, rendered."""
    assert isinstance(exc, GridPlanError)
    assert exc.code == code and code in MESSAGES
    assert exc.params["codes"] == problem_codes
    for detail in exc.params["problems"]:
        params = {k: v for k, v in detail.items() if k != "code"}
        for lang in ("zh", "en"):
            template = MESSAGES[detail["code"]][lang]
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert {f.split(":")[0] for f in fields} == set(params), (lang, params)
    zh, en = error_text(exc, "zh"), error_text(exc, "en")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), zh
    assert zh != en and "{" not in zh and "{" not in en
    assert zh.count("•") == en.count("•") == len(problem_codes)
    return zh


@pytest.fixture(scope="module")
def central_tif(tmp_path_factory):
    """114.3-114.7E, 37.9-38.2N at 0.001°: the city, wholly inside the units."""
    values, transform = lonlat_raster(114.3, 38.2, 0.001, 400, 300, seed=1)
    path = write_tif(tmp_path_factory.mktemp("r") / "central.tif", values, transform, nodata=NODATA)
    return path, values, transform


@pytest.fixture(scope="module")
def border_tif(tmp_path_factory):
    """115.1-115.6E, 37.8-38.1N: crosses the prefecture's eastern border (and grid extent)."""
    values, transform = lonlat_raster(115.1, 38.1, 0.001, 500, 300, seed=2)
    path = write_tif(tmp_path_factory.mktemp("r") / "border.tif", values, transform, nodata=NODATA)
    return path, values, transform


# --------------------------------------------------------------------------------------
# rasters


@pytest.mark.parametrize("cell_m", [1000, 100])
@pytest.mark.parametrize("method", ["sum", "average"])
def test_raster_inside_units_conserves_the_total(us, central_tif, units_union, cell_m, method):
    path, values, transform = central_tif
    expected = float(values[values != NODATA].sum(dtype=np.float64))
    s, rep = surface_from_raster(path, us, cell_m, resampling=method)
    # the raster lies wholly inside the grid: the resampled total is the raster's total
    assert rep.input_total == pytest.approx(expected, rel=1e-9)
    # independent: pixel centres inside the units' polygons
    x, y, v = pixel_centres(values, transform)
    inside = float(v[shapely.contains_xy(units_union, x, y)].sum())
    assert inside == pytest.approx(expected, rel=1e-9)  # the city is wholly inside
    assert s.total == pytest.approx(expected, rel=1e-5)
    assert rep.kept_total + rep.dropped_population == pytest.approx(rep.input_total, rel=1e-6)
    assert s.source == "uploaded" and method in s.method
    assert s.grid == grid_for_units(us, cell_m)
    assert s.population.dtype == np.float32 and s.unit_index.dtype == np.int32
    assert (s.population[s.unit_index < 0] == 0).all()
    # GDAL's own total was already within ~1e-4 (sum) before the global rescaling
    assert abs(rep.correction_factor - 1) < (2e-4 if method == "sum" else 1e-2)
    assert any("nodata" in n for n in rep.notes)


def exact_overlay(values, transform, grid):
    """Reference resampling: each pixel (a densified polygon) split over the cells by area."""
    to_grid = Transformer.from_crs(4326, grid.crs, always_xy=True)
    out = np.zeros(grid.shape)
    res = transform.a
    for i, j in zip(*np.nonzero(values), strict=True):
        x0, y0 = transform.c + j * res, transform.f - i * res
        ring = np.asarray(shapely.segmentize(shapely.box(x0, y0 - res, x0 + res, y0), res / 4)
                          .exterior.coords)  # fmt: skip
        pixel = shapely.Polygon(np.column_stack(to_grid.transform(ring[:, 0], ring[:, 1])))
        minx, miny, maxx, maxy = pixel.bounds
        r0, c0, _ = grid.cell_of(np.array([minx]), np.array([maxy]))
        r1, c1, _ = grid.cell_of(np.array([maxx]), np.array([miny]))
        for r in range(r0[0], r1[0] + 1):
            for c in range(c0[0], c1[0] + 1):
                x, y = grid.x0 + c * grid.cell_m, grid.y0 - r * grid.cell_m
                cell = shapely.box(x, y - grid.cell_m, x + grid.cell_m, y)
                out[r, c] += values[i, j] * pixel.intersection(cell).area / pixel.area
    return out


@pytest.mark.parametrize("cell_m", [100, 250])
def test_sum_resampling_matches_an_exact_polygon_overlay(us, tmp_path, cell_m):
    """WorldPop-like 3″ pixels onto metric cells: 'sum' misplaces ~0.1 %, 'average' more."""
    rng = np.random.default_rng(11)
    values = rng.gamma(0.5, 20.0, size=(25, 25))
    transform = Affine(1 / 1200, 0.0, 114.4, 0.0, -1 / 1200, 38.1)
    path = write_tif(tmp_path / "small.tif", values, transform, dtype="float64")
    exact = exact_overlay(values, transform, grid_for_units(us, cell_m))
    err = {}
    for method in ("sum", "average"):
        s, _ = surface_from_raster(path, us, cell_m, resampling=method)
        assert s.total == pytest.approx(values.sum(), rel=1e-6)
        err[method] = np.abs(s.population - exact).sum() / exact.sum()
    print(f"share of people misplaced vs exact overlay, {cell_m} m: {err}")
    assert err["sum"] < 0.003
    assert err["sum"] < err["average"] < 0.05


def test_raster_across_the_border_drops_what_is_outside(us, border_tif, units_union):
    path, values, transform = border_tif
    s, rep = surface_from_raster(path, us, 1000)
    x, y, v = pixel_centres(values, transform)
    inside_units = float(v[shapely.contains_xy(units_union, x, y)].sum())
    # pixel-vs-cell boundaries differ along the border: 1 %
    assert s.total == pytest.approx(inside_units, rel=0.01)
    # conserved before dropping: the raster's population over the grid's extent
    minx, miny, maxx, maxy = s.grid.bounds
    gx, gy = Transformer.from_crs(4326, s.grid.crs, always_xy=True).transform(x, y)
    on_extent = float(v[(gx >= minx) & (gx <= maxx) & (gy >= miny) & (gy <= maxy)].sum())
    assert rep.input_total == pytest.approx(on_extent, rel=1e-3)
    assert rep.dropped_population > 0.05 * rep.input_total
    assert rep.kept_total + rep.dropped_population == pytest.approx(rep.input_total, rel=1e-6)
    assert rep.n_outside > 0
    assert any("outside the prefecture's extent" in n for n in rep.notes)
    assert "舍弃" in rep.summary("zh") and "dropped" in rep.summary("en")


def test_raster_as_bytes_sum_and_average_agree_per_unit(us, border_tif):
    path, _, _ = border_tif
    data = path.read_bytes()
    a, _ = surface_from_raster(data, us, 500, filename="worldpop.tif", resampling="sum")
    b, _ = surface_from_raster(data, us, 500, filename="worldpop.tif", resampling="average")
    assert "worldpop.tif" in a.method
    n = len(a.unit_ids)
    ok = a.unit_index >= 0
    per_a = np.bincount(a.unit_index[ok], weights=a.population[ok], minlength=n)
    per_b = np.bincount(b.unit_index[ok], weights=b.population[ok], minlength=n)
    big = per_a > 1000
    assert big.sum() >= 2
    assert np.allclose(per_a[big], per_b[big], rtol=0.02)


def test_metric_raster_aligned_with_the_grid_is_copied_cell_for_cell(us, tmp_path):
    grid = grid_for_units(us, 1000)
    rng = np.random.default_rng(3)
    values = rng.integers(0, 500, size=grid.shape).astype(np.float32)
    path = write_tif(tmp_path / "gk.tif", values, grid.transform, crs="EPSG:4547")
    s, rep = surface_from_raster(path, us, 1000)
    inside = s.unit_index >= 0
    assert np.allclose(s.population[inside], values[inside], rtol=1e-5, atol=1e-3)
    assert rep.input_total == pytest.approx(float(values.sum(dtype=np.float64)), rel=1e-9)
    assert rep.dropped_population == pytest.approx(float(values[~inside].sum()), rel=1e-5)


def test_metric_raster_misaligned_conserves(us, tmp_path):
    grid = grid_for_units(us, 1000)
    rng = np.random.default_rng(4)
    values = rng.gamma(0.5, 10.0, size=(400, 300)).astype(np.float32)  # 100 m pixels, 40x30 km
    x0, y0 = grid.x0 + 60_123.4, grid.y0 - 50_987.6
    path = write_tif(tmp_path / "gk.tif", values, Affine(100, 0, x0, 0, -100, y0), crs="EPSG:4547")
    s, rep = surface_from_raster(path, us, 250)
    assert rep.input_total == pytest.approx(float(values.sum(dtype=np.float64)), rel=1e-9)
    assert s.total + rep.dropped_population == pytest.approx(rep.input_total, rel=1e-5)


def test_raster_errors(us, tmp_path):
    values, transform = lonlat_raster(114.3, 38.2, 0.01, 20, 20)
    no_crs = write_tif(tmp_path / "nocrs.tif", values, transform, crs=None, nodata=NODATA)
    with pytest.raises(UploadError) as e:
        surface_from_raster(no_crs, us, 1000)
    assert "坐标系" in check_error(e.value, "raster.no_crs")

    neg = write_tif(tmp_path / "neg.tif", values, transform)  # -99999 not declared as nodata
    with pytest.raises(UploadError) as e:
        surface_from_raster(neg, us, 1000)
    assert "nodata" in check_error(e.value, "raster.negative")
    assert e.value.params["min"] == "-99999"

    far = write_tif(tmp_path / "paris.tif", values, Affine(0.01, 0, 2.3, 0, -0.01, 48.9))
    with pytest.raises(UploadError) as e:
        surface_from_raster(far, us, 1000)
    check_error(e.value, "raster.not_in_china")

    beijing = write_tif(
        tmp_path / "bj.tif", np.ones((20, 20)), Affine(0.01, 0, 116.3, 0, -0.01, 40)
    )
    with pytest.raises(UploadError) as e:
        surface_from_raster(beijing, us, 1000)
    check_error(e.value, "raster.no_overlap")

    with pytest.raises(UploadError) as e:
        surface_from_raster(b"this is not a GeoTIFF", us, 1000, filename="pop.tif")
    assert "pop.tif" in check_error(e.value, "raster.unreadable")

    with pytest.raises(UploadError) as e:
        surface_from_raster(tmp_path / "missing.tif", us, 1000)
    check_error(e.value, "raster.unreadable")

    with pytest.raises(UploadError) as e:
        surface_from_raster(neg.read_bytes(), us, 1000, max_mb=0.0001)
    check_error(e.value, "raster.too_large")

    with pytest.raises(InputError) as e:
        surface_from_raster(neg, us, 20)
    assert e.value.code == "surface.cell_size"


# --------------------------------------------------------------------------------------
# points


@pytest.fixture(scope="module")
def points_frame(us, units_union):
    """300 points inside the units, 5 outside (Beijing, Hengshui), in WGS-84."""
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = us.units.total_bounds
    lon = rng.uniform(minx, maxx, 5000)
    lat = rng.uniform(miny, maxy, 5000)
    keep = shapely.contains_xy(units_union, lon, lat)
    lon, lat = lon[keep][:300], lat[keep][:300]
    out_lon = np.array([116.40, 116.30, 115.70, 115.68, 116.0])
    out_lat = np.array([39.90, 39.95, 37.74, 37.72, 39.0])
    frame = pd.DataFrame(
        {
            "小区名称": [f"小区{i}" for i in range(305)],
            "经度": np.r_[lon, out_lon],
            "纬度": np.r_[lat, out_lat],
            "常住人口": rng.integers(50, 5000, 305).astype(float),
        }
    )
    return frame


def expected_cells(frame, grid, rows):
    tr = Transformer.from_crs(4326, grid.crs, always_xy=True)
    x, y = tr.transform(frame["经度"].to_numpy()[rows], frame["纬度"].to_numpy()[rows])
    r, c, ok = grid.cell_of(np.asarray(x), np.asarray(y))
    out = np.zeros(grid.shape)
    np.add.at(out, (r[ok], c[ok]), frame["常住人口"].to_numpy()[rows][ok])
    return out


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_points_csv_utf8_and_gbk(us, points_frame, tmp_path, encoding):
    path = tmp_path / f"points_{encoding}.csv"
    path.write_bytes(points_frame.to_csv(index=False).encode(encoding))
    s, rep = surface_from_points(path, us, 100)
    inside_total = float(points_frame["常住人口"].iloc[:300].sum())
    outside_total = float(points_frame["常住人口"].iloc[300:].sum())
    assert s.total == pytest.approx(inside_total, rel=1e-6)
    assert rep.input_total == pytest.approx(inside_total + outside_total)
    assert rep.dropped_population == pytest.approx(outside_total)
    assert rep.n_outside == 5 and rep.outside_rows == [302, 303, 304, 305, 306]
    assert rep.bad_rows == []
    assert s.source == "uploaded"
    assert np.allclose(s.population, expected_cells(points_frame, s.grid, slice(0, 300)))
    # every populated cell belongs to a unit
    assert (s.unit_index[s.population > 0] >= 0).all()


def test_points_excel_and_dataframe(us, points_frame, tmp_path):
    path = tmp_path / "points.xlsx"
    points_frame.rename(columns={"经度": "lng", "纬度": "lat", "常住人口": "人口"}).to_excel(
        path, index=False
    )
    a, _ = surface_from_points(path, us, 1000)
    b, _ = surface_from_points(points_frame, us, 1000)
    assert np.allclose(a.population, b.population)


def test_points_declared_gcj02_are_shifted_back(us, points_frame, units_union):
    inside = points_frame.iloc[:300].copy()
    glon, glat = wgs84_to_gcj02(inside["经度"], inside["纬度"])
    gcj = inside.assign(经度=glon, 纬度=glat)
    truth, _ = surface_from_points(inside, us, 100)
    fixed, rep = surface_from_points(gcj, us, 100, datum="GCJ-02")
    assert np.allclose(fixed.population, truth.population)
    assert any("GCJ02" in n for n in rep.notes)
    # read as WGS-84, the points sit where the GCJ-02 offset puts them
    naive, _ = surface_from_points(gcj, us, 100, datum="wgs84")
    kept = shapely.contains_xy(units_union, glon, glat)
    assert np.allclose(naive.population, expected_cells(gcj, naive.grid, kept))
    assert not np.allclose(naive.population, truth.population)


def test_gcj02_shift_is_the_expected_offset(us):
    lon, lat = 114.5149, 38.0428  # 石家庄 city centre
    glon, glat = wgs84_to_gcj02(lon, lat)
    tr = Transformer.from_crs(4326, us.metric_crs, always_xy=True)
    offset = np.subtract(tr.transform(glon, glat), tr.transform(lon, lat))
    assert 100 < np.hypot(*offset) < 1000  # GCJ-02 offsets are hundreds of metres
    frame = pd.DataFrame({"lng": [float(glon)], "lat": [float(glat)], "pop": [1000.0]})
    cell_of = {}
    for datum in ("gcj02", "wgs84"):
        s, _ = surface_from_points(frame, us, 50, datum=datum)
        r, c = np.nonzero(s.population)
        assert s.population[r, c].tolist() == [1000.0]
        cell_of[datum] = np.array(s.grid.centres(r, c)).ravel()
    shift = cell_of["wgs84"] - cell_of["gcj02"]
    assert np.all(np.abs(shift - offset) <= 50)  # within one 50 m cell per axis


def test_points_bad_rows_are_listed_with_row_numbers(us, tmp_path):
    csv = (
        "name,lon,lat,population\n"
        "ok,114.5,38.04,1000\n"  # row 2
        "no coords,,38.0,100\n"  # row 3
        "text,abc,38.0,100\n"  # row 4
        "projected,500000,4200000,100\n"  # row 5
        "swapped,38.04,114.5,100\n"  # row 6
        "nobody,114.5,38.04,0\n"  # row 7: no people is a number
        "no pop,114.5,38.04,\n"  # row 8
        'thousands,114.51,38.05,"1,234"\n'  # row 9
    )
    path = tmp_path / "bad.csv"
    path.write_text(csv, encoding="utf-8")
    s, rep = surface_from_points(path, us, 1000)
    assert s.total == pytest.approx(2234)
    got = {(b.row, b.code.rsplit(".", 1)[1]) for b in rep.bad_rows}
    assert got == {
        (3, "missing_coordinates"),
        (4, "non_numeric_coordinates"),
        (5, "bad_coordinates"),
        (6, "swapped_coordinates"),
        (8, "missing_population"),
    }
    texts = {b.row: (b.text("zh"), b.text("en")) for b in rep.bad_rows}
    assert texts[6][0].startswith("第 6 行") and "颠倒" in texts[6][0]
    assert texts[6][1].startswith("Row 6") and "swapped" in texts[6][1]
    for b in rep.bad_rows:
        fields = {f for _, f, _, _ in string.Formatter().parse(MESSAGES[b.code]["zh"]) if f}
        assert fields == set(b.params)
    assert "第 3 行" in rep.summary("zh")
    # an impossible population is a broken file: refused, the row named
    path.write_text(csv.replace("nobody,114.5,38.04,0", "negative,114.5,38.04,-5"), "utf-8")
    with pytest.raises(UploadError) as e:
        surface_from_points(path, us, 1000)
    assert e.value.code == "points.invalid"
    assert "第 7 行" in error_text(e.value, "zh") and "负数" in error_text(e.value, "zh")


def test_points_errors(us):
    with pytest.raises(UploadError) as e:
        surface_from_points(pd.DataFrame({"经度": [114.5], "纬度": [38.0]}), us, 1000)
    zh = check_problems(e.value, "points.missing_columns", ["missing_column.population"])
    assert "人口" in zh and "经度" in zh  # the missing column, the columns found
    with pytest.raises(UploadError) as e:
        surface_from_points(pd.DataFrame({"x": ["a"], "y": [38.0], "pop": [1]}), us, 1000)
    check_error(e.value, "points.no_valid_rows")
    assert e.value.problems
    with pytest.raises(UploadError) as e:
        surface_from_points(pd.DataFrame({"x": [114.5], "y": [38.0], "pop": [1]}), us, datum="x")
    assert e.value.code == "upload.bad_datum"


# --------------------------------------------------------------------------------------
# polygons


def test_units_themselves_reproduce_census_surface(us):
    s, rep = surface_from_polygons(us.units, us, 1000, population_column="population",
                                   provenance="census2020")  # fmt: skip
    ref = census_surface(us, 1000)
    assert np.allclose(s.population, ref.population, rtol=1e-6)
    assert (s.unit_index == ref.unit_index).all()
    assert s.unplaced == ref.unplaced
    assert s.total == pytest.approx(ref.total, rel=1e-6)
    assert rep.dropped_population == 0 and rep.n_outside == 0
    assert s.source == "census2020+modelled" and s.method == "uniform"


def test_polygons_declared_gcj02(us, townships):
    tw = townships.to_crs(4326)
    gcj = gdf_to_datum(tw, "gcj02")
    a, _ = surface_from_polygons(tw, us, 1000, population_column="人口")
    b, rep = surface_from_polygons(gcj, us, 1000, population_column="人口", datum="GCJ-02")
    c, _ = surface_from_polygons(gcj, us, 1000, population_column="人口")
    assert np.allclose(a.population, b.population, rtol=1e-5)
    assert not np.allclose(a.population, c.population, rtol=1e-3)
    assert any("GCJ02" in n for n in rep.notes)


@pytest.fixture(scope="module")
def townships(sjz_townships):
    tw = sjz_townships.copy()
    rng = np.random.default_rng(5)
    tw["人口"] = rng.integers(10_000, 80_000, len(tw)).astype(float)
    return tw


def per_polygon(s, tw):
    """Population of the surface in each township (by cell centre), and outside all of them."""
    idx = rasterio.features.rasterize(
        [(g, i) for i, g in enumerate(tw.to_crs(s.grid.crs).geometry)],
        out_shape=s.grid.shape, transform=s.grid.transform, fill=-1, dtype="int32",
    )  # fmt: skip
    return np.bincount(idx[idx >= 0], weights=s.population[idx >= 0], minlength=len(tw))


def test_township_totals_spread_uniformly(us, townships, sjz_township_zip):
    s, rep = surface_from_polygons(townships, us, 500, population_column="人口")
    assert s.total == pytest.approx(townships["人口"].sum(), rel=1e-5)
    assert rep.input_total == pytest.approx(townships["人口"].sum())
    assert np.allclose(per_polygon(s, townships), townships["人口"], rtol=1e-4)
    assert s.source == "uploaded+modelled" and s.method == "uniform"
    # uniform: every populated cell of a township holds the same number
    tw_idx = rasterio.features.rasterize(
        [(townships.geometry.iloc[0], 1)], out_shape=s.grid.shape, transform=s.grid.transform
    )
    vals = s.population[(tw_idx == 1) & (s.unit_index >= 0)]
    assert np.allclose(vals, vals[0])
    # the same layer as a bureau's zipped Shapefile (read with gridplan.inputs)
    tw_zip = townships.to_crs(4326).assign(POP=townships["人口"].to_numpy())
    z, _ = surface_from_polygons(tw_zip, us, 500, population_column="POP")
    assert z.total == pytest.approx(s.total, rel=1e-5)
    with pytest.raises(InputError) as e:
        surface_from_polygons(sjz_township_zip, us, 500, population_column="人口")
    assert "XZQMC" in check_problems(e.value, "polygons.invalid", ["polygons.no_column"])


def test_weight_raster_puts_people_where_the_weight_is(us, townships, tmp_path):
    target = 3
    poly = townships.geometry.iloc[target]  # EPSG:4547
    minx, miny, maxx, maxy = poly.bounds
    cx = (minx + maxx) / 2
    # 200 m weight raster in EPSG:4547, weight 1 west of cx inside the bbox, 0 elsewhere
    res = 200.0
    x0, y0 = np.floor(minx / res) * res - 2000, np.ceil(maxy / res) * res + 2000
    w = int((maxx - x0) / res) + 20
    h = int((y0 - miny) / res) + 20
    xs = x0 + (np.arange(w) + 0.5) * res
    weights = np.zeros((h, w), dtype=np.float32)
    weights[:, xs < cx] = 1.0
    path = write_tif(tmp_path / "builtup.tif", weights, Affine(res, 0, x0, 0, -res, y0),
                     crs="EPSG:4547", nodata=-1)  # fmt: skip
    s, rep = surface_from_polygons(townships, us, 250, population_column="人口", weights=path)
    assert s.method == "weighted by builtup"
    assert s.total == pytest.approx(townships["人口"].sum(), rel=1e-5)
    # all of the target's people west of the line (cells straddling it may hold some)
    idx = rasterio.features.rasterize(
        [(poly, 1)], out_shape=s.grid.shape, transform=s.grid.transform
    )
    r, c = np.nonzero(idx == 1)
    x, _ = s.grid.centres(r, c)
    pop = s.population[r, c]
    total = townships["人口"].iloc[target]
    assert pop.sum() == pytest.approx(total, rel=1e-4)
    assert pop[x > cx + 250].sum() == pytest.approx(0, abs=1e-3)
    assert pop[x < cx - 250].sum() > 0.9 * total
    # townships with no weight anywhere fall back to uniform, and are reported
    names = set(townships["XZQMC"])
    assert rep.fallback_uniform and set(rep.fallback_uniform) <= names
    assert townships["XZQMC"].iloc[target] not in rep.fallback_uniform
    assert "均匀" in rep.summary("zh")
    assert np.allclose(per_polygon(s, townships), townships["人口"], rtol=1e-4)


def test_weight_array_and_weight_errors(us, townships):
    grid = grid_for_units(us, 1000)
    arr = np.zeros(grid.shape)
    arr[: grid.nrows // 2] = 2.0  # northern half
    s, rep = surface_from_polygons(townships, us, 1000, population_column="人口", weights=arr,
                                   weights_name="night lights")  # fmt: skip
    assert s.method == "weighted by night lights"
    assert s.total == pytest.approx(townships["人口"].sum(), rel=1e-5)
    # townships wholly in the south fall back to uniform: they hold all the south's people
    pop = townships.set_index("XZQMC")["人口"]
    south = float(s.population[grid.nrows // 2 :].sum(dtype=np.float64))
    assert rep.fallback_uniform and len(rep.fallback_uniform) < len(townships)
    assert south == pytest.approx(pop[rep.fallback_uniform].sum(), rel=1e-5)
    assert np.allclose(per_polygon(s, townships), townships["人口"], rtol=1e-4)
    with pytest.raises(InputError) as e:
        surface_from_polygons(townships, us, 1000, population_column="人口", weights=arr[1:])
    check_error(e.value, "weights.shape")
    with pytest.raises(UploadError) as e:
        surface_from_polygons(townships, us, 1000, population_column="人口", weights=-arr)
    check_error(e.value, "weights.negative")


def test_polygons_outside_tiny_and_bad(us, townships):
    grid_crs = us.metric_crs
    tw = townships.to_crs(grid_crs)[["XZQMC", "人口", "geometry"]].copy()
    inside_pt = shapely.Point(
        *Transformer.from_crs(4326, grid_crs, always_xy=True).transform(114.5, 38.04)
    )
    bj = shapely.Point(*Transformer.from_crs(4326, grid_crs, always_xy=True).transform(116.4, 39.9))
    extra = gpd.GeoDataFrame(
        {
            "XZQMC": ["北京某街道", "小小区", "坏数据", "无图形"],
            "人口": [50_000.0, 777.0, -3.0, 10.0],
            "geometry": [bj.buffer(3000), inside_pt.buffer(5), inside_pt.buffer(2000), None],
        },
        crs=grid_crs,
    )
    layer = pd.concat([tw, extra], ignore_index=True)
    s, rep = surface_from_polygons(layer, us, 1000, population_column="人口")
    n = len(tw)
    assert rep.n_outside == 1 and rep.outside_rows == [n + 1]
    assert rep.dropped_population == pytest.approx(50_000)
    assert s.total == pytest.approx(tw["人口"].sum() + 777, rel=1e-5)
    assert {(b.row, b.code) for b in rep.bad_rows} == {
        (n + 3, "popsurface.row.negative_population"),
        (n + 4, "popsurface.row.no_geometry"),
    }
    assert any("too small" in note for note in rep.notes)
    assert any("北京某街道" in note for note in rep.notes)


def test_polygon_errors(us, townships):
    with pytest.raises(InputError) as e:
        surface_from_polygons(townships.set_crs(None, allow_override=True), us, 1000,
                              population_column="人口")  # fmt: skip
    check_problems(e.value, "polygons.invalid", ["polygons.no_crs"])
    with pytest.raises(InputError) as e:
        surface_from_polygons(townships.iloc[:0], us, 1000, population_column="人口")
    check_problems(e.value, "polygons.invalid", ["polygons.empty"])
    # every problem of the layer at once
    with pytest.raises(InputError) as e:
        surface_from_polygons(townships.iloc[:0].set_crs(None, allow_override=True), us, 1000,
                              population_column="POP")  # fmt: skip
    check_problems(
        e.value, "polygons.invalid", ["polygons.no_crs", "polygons.empty", "polygons.no_column"]
    )
    with pytest.raises(UploadError) as e:
        surface_from_polygons(townships.assign(人口=-1.0), us, 1000, population_column="人口")
    check_error(e.value, "polygons.no_valid_rows")


# --------------------------------------------------------------------------------------
# WorldPop download (local HTTP server)


def test_worldpop_urls():
    assert worldpop_url() == (
        "https://data.worldpop.org/GIS/Population/Global_2000_2020/2020/CHN/chn_ppp_2020.tif"
    )
    assert worldpop_url(constrained=True) == (
        "https://data.worldpop.org/GIS/Population/Global_2000_2020_Constrained/2020/BSGM/CHN/"
        "chn_ppp_2020_constrained.tif"
    )
    assert worldpop_url(year=2015, un_adjusted=True).endswith("/2015/CHN/chn_ppp_2015_UNadj.tif")
    assert worldpop_url(resolution="1km").endswith(
        "Global_2000_2020_1km/2020/CHN/chn_ppp_2020_1km_Aggregated.tif"
    )
    with pytest.raises(InputError):
        worldpop_url(year=2021)
    with pytest.raises(InputError):
        worldpop_url(year=2019, constrained=True)


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """A local HTTP server on 127.0.0.1 serving a temp folder; /slow/ never answers in time."""
    for var in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    monkeypatch.setenv("no_proxy", "*")
    root = tmp_path / "www"
    root.mkdir()
    release = threading.Event()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            try:
                if self.path.startswith("/slow/"):
                    release.wait(10)
                    return
                if self.path.startswith("/nolength/"):
                    data = (root / self.path.split("/", 2)[2]).read_bytes()
                    self.send_response(200)
                    self.end_headers()  # HTTP/1.0, no Content-Length: the close ends the body
                    self.wfile.write(data)
                    return
                super().do_GET()
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_download_clip_and_surface_conserve(us, http_root, border_tif, tmp_path):
    root, base = http_root
    path, _, _ = border_tif
    (root / "chn_ppp_2020.tif").write_bytes(path.read_bytes())
    seen = []
    out = download_worldpop(f"{base}/chn_ppp_2020.tif", tmp_path / "dl" / "whole.tif",
                            progress=lambda done, total: seen.append((done, total)),
                            chunk_bytes=64 * 1024)  # fmt: skip
    assert out.read_bytes() == path.read_bytes()
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    bbox = worldpop_bbox(us, margin_km=2)
    clipped = download_worldpop(f"{base}/chn_ppp_2020.tif", tmp_path / "dl" / "sjz.tif", bbox=bbox)
    with rasterio.open(clipped) as ds:
        assert ds.nodata == NODATA and ds.crs.to_epsg() == 4326
        assert ds.bounds.right < 115.6 and ds.bounds.right >= bbox[2]
    a, ra = surface_from_raster(path, us, 1000)
    b, rb = surface_from_raster(clipped, us, 1000)
    assert b.total == pytest.approx(a.total, rel=1e-6)
    assert rb.input_total == pytest.approx(ra.input_total, rel=1e-6)
    assert not list((tmp_path / "dl").glob(".*part"))  # no leftovers

    # the convenience: URL and bbox built from the unit set, file reused the second time
    got = fetch_worldpop(us, tmp_path / "cache", url=f"{base}/chn_ppp_2020.tif")
    assert got.name == "chn_ppp_2020_130100.tif"
    (root / "chn_ppp_2020.tif").unlink()
    assert fetch_worldpop(us, tmp_path / "cache", url=f"{base}/chn_ppp_2020.tif") == got


def test_download_errors(http_root, tmp_path):
    root, base = http_root
    (root / "big.tif").write_bytes(b"\0" * 50_000)
    (root / "page.tif").write_text("<html>Not a raster</html>")
    dest = tmp_path / "out" / "x.tif"

    with pytest.raises(DownloadError) as e:
        download_worldpop(f"{base}/nothing_here.tif", dest)
    zh = check_error(e.value, "download.not_found")
    assert "404" in zh and "找不到" in zh

    with pytest.raises(DownloadError) as e:  # announced by Content-Length
        download_worldpop(f"{base}/big.tif", dest, max_mb=0.01)
    check_error(e.value, "download.too_large")
    with pytest.raises(DownloadError) as e:  # no Content-Length: stopped while streaming
        download_worldpop(f"{base}/nolength/big.tif", dest, max_mb=0.01, chunk_bytes=1024)
    check_error(e.value, "download.too_large")
    assert e.value.params["size_mb"] <= 0.011

    with pytest.raises(DownloadError) as e:
        download_worldpop(f"{base}/page.tif", dest)
    check_error(e.value, "download.not_raster")

    t0 = time.perf_counter()
    with pytest.raises(DownloadError) as e:
        download_worldpop(f"{base}/slow/x.tif", dest, timeout=0.3)
    assert time.perf_counter() - t0 < 3
    assert "0.3" in check_error(e.value, "download.timeout")

    for url in ("file:///etc/passwd", "ftp://example.org/x.tif"):
        with pytest.raises(DownloadError) as e:
            download_worldpop(url, dest)
        check_error(e.value, "download.bad_url")
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # partial files removed


def test_population_readers_live_in_the_surface_stage():
    import importlib

    readers = {
        "files": "surface_from_file",
        "raster": "surface_from_raster",
        "points": "surface_from_points",
        "polygons": "surface_from_polygons",
        "worldpop": "fetch_worldpop",
    }
    for module, name in readers.items():
        assert callable(getattr(importlib.import_module(f"gridplan.surface.{module}"), name))
