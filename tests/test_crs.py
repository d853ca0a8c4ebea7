"""Tests for gridplan.inputs.crs against reference values from public implementations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from gridplan.errors import InputError
from gridplan.inputs import crs

GEOD = Geod(ellps="WGS84")


def metres(lon1: object, lat1: object, lon2: object, lat2: object) -> np.ndarray:
    """Geodesic distance in metres between WGS-84 points (vectorised)."""
    _, _, dist = GEOD.inv(
        np.asarray(lon1, dtype=float),
        np.asarray(lat1, dtype=float),
        np.asarray(lon2, dtype=float),
        np.asarray(lat2, dtype=float),
    )
    return np.asarray(dist)


# (wgs_lon, wgs_lat, gcj_lon, gcj_lat).
WGS_GCJ_PAIRS = [
    # googollee/eviltransform, python/test.py (TESTS; also go/transform_test.go),
    # given there as (wgsLat, wgsLng, gcjLat, gcjLng):
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # beijing
    # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
]

# wandergis/coordtransform, test/app.js:
#   bd09togcj02(116.404, 39.915) -> [116.39762729119315, 39.90865673957631]
#   gcj02tobd09(116.404, 39.915) -> [116.41036949371029, 39.92133699351021]
BD_TO_GCJ = [((116.404, 39.915), (116.39762729119315, 39.90865673957631))]
GCJ_TO_BD = [((116.404, 39.915), (116.41036949371029, 39.92133699351021))]
# dromara/hutool, hutool-core/src/test/java/cn/hutool/core/util/CoordinateUtilTest.java,
# wgs84toBd09Test2 (value checked there against https://tool.lu/coordinate/):
WGS_TO_BD = [((122.99395597, 44.99804071), (123.00636516028885, 45.00636909189589))]


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ_PAIRS)
def test_wgs84_to_gcj02_matches_reference(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    assert abs(float(lon) - glon) < 1e-6
    assert abs(float(lat) - glat) < 1e-6


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ_PAIRS)
def test_gcj02_to_wgs84_matches_reference(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = crs.gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 1.0


def test_reference_pairs_vectorised() -> None:
    ref = np.array(WGS_GCJ_PAIRS)
    lon, lat = crs.wgs84_to_gcj02(ref[:, 0], ref[:, 1])
    assert lon.shape == (len(ref),)
    np.testing.assert_allclose(lon, ref[:, 2], rtol=0, atol=1e-6)
    np.testing.assert_allclose(lat, ref[:, 3], rtol=0, atol=1e-6)
    wlon, wlat = crs.gcj02_to_wgs84(ref[:, 2], ref[:, 3])
    assert np.all(metres(wlon, wlat, ref[:, 0], ref[:, 1]) < 1.0)


def test_gcj02_inverse_beats_the_one_step_approximation() -> None:
    # coordtransform's gcj02towgs84(116.404, 39.915) = (116.39775550083061,
    # 39.91359571849836) is the one-step approximation (wandergis/coordtransform,
    # test/app.js); the exact inverse lies within a few metres of it and maps back
    # onto the input exactly.
    lon, lat = crs.gcj02_to_wgs84(116.404, 39.915)
    assert metres(lon, lat, 116.39775550083061, 39.91359571849836) < 5.0
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    assert metres(glon, glat, 116.404, 39.915) < 1e-3


@pytest.mark.parametrize(("bd", "gcj"), BD_TO_GCJ)
def test_bd09_to_gcj02_matches_reference(bd: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = crs.bd09_to_gcj02(*bd)
    # the reference uses the closed-form approximation (error up to ~0.2 m); GridPlan
    # refines it to the exact inverse of gcj02_to_bd09, so agree within 0.05 m ...
    assert metres(float(lon), float(lat), *gcj) < 0.05
    # ... and invert the forward formula exactly
    blon, blat = crs.gcj02_to_bd09(lon, lat)
    assert abs(float(blon) - bd[0]) < 1e-9 and abs(float(blat) - bd[1]) < 1e-9


@pytest.mark.parametrize(("gcj", "bd"), GCJ_TO_BD)
def test_gcj02_to_bd09_matches_reference(gcj: tuple[float, float], bd: tuple[float, float]) -> None:
    lon, lat = crs.gcj02_to_bd09(*gcj)
    assert abs(float(lon) - bd[0]) < 1e-9
    assert abs(float(lat) - bd[1]) < 1e-9


@pytest.mark.parametrize(("wgs", "bd"), WGS_TO_BD)
def test_wgs84_bd09_reference(wgs: tuple[float, float], bd: tuple[float, float]) -> None:
    lon, lat = crs.from_wgs84(*wgs, "bd09")
    assert abs(float(lon) - bd[0]) < 1e-6
    assert abs(float(lat) - bd[1]) < 1e-6
    wlon, wlat = crs.to_wgs84(*bd, "bd09")
    assert metres(wlon, wlat, *wgs) < 1.0


def _random_china_points(n: int = 5000, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(73.6, 134.9, n), rng.uniform(18.2, 53.5, n)


def test_round_trip_wgs84_gcj02_wgs84_all_over_china() -> None:
    lon, lat = _random_china_points()
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    shift = metres(lon, lat, glon, glat)
    assert shift.min() > 1.0  # every point really moves...
    assert shift.max() < 1500.0  # ...by the published offset's order of magnitude
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    err = metres(lon, lat, wlon, wlat)
    assert err.max() < 1.0
    assert err.max() < 1e-3  # in fact the iteration is sub-millimetre


def test_round_trip_gcj02_wgs84_gcj02_all_over_china() -> None:
    glon, glat = _random_china_points(seed=7)
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    assert metres(glon, glat, lon, lat).max() < 1e-3


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_round_trip_via_datum(datum: crs.Datum) -> None:
    lon, lat = _random_china_points(2000, seed=11)
    dlon, dlat = crs.from_wgs84(lon, lat, datum)
    wlon, wlat = crs.to_wgs84(dlon, dlat, datum)
    assert metres(lon, lat, wlon, wlat).max() < 1.0


OUTSIDE = [
    (2.3522, 48.8566),  # Paris
    (-74.0060, 40.7128),  # New York
    (139.6917, 35.6895),  # Tokyo: east of the GCJ-02 rectangle
    (151.2093, -33.8688),  # Sydney
    (70.0, 35.0),  # west of the rectangle
    (100.0, 60.0),  # north of the rectangle
]


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
def test_points_outside_china_are_unchanged(lon: float, lat: float) -> None:
    assert not crs.in_china(lon, lat)
    for func in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        assert float(out_lon) == lon
        assert float(out_lat) == lat
    assert tuple(map(float, crs.to_wgs84(lon, lat, "gcj02"))) == (lon, lat)
    assert tuple(map(float, crs.from_wgs84(lon, lat, "gcj02"))) == (lon, lat)


def test_mixed_inside_and_outside_arrays() -> None:
    lon = np.array([2.3522, 116.404, -74.006])
    lat = np.array([48.8566, 39.915, 40.7128])
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    assert glon[0] == lon[0] and glat[0] == lat[0]
    assert glon[2] == lon[2] and glat[2] == lat[2]
    assert abs(glon[1] - 116.41024449916938) < 1e-6
    # The inputs are not modified in place.
    assert lon[1] == 116.404


def test_wgs84_is_identity_and_bad_datum_raises() -> None:
    lon, lat = crs.to_wgs84(116.404, 39.915, "wgs84")
    assert (float(lon), float(lat)) == (116.404, 39.915)
    with pytest.raises(InputError):
        crs.to_wgs84(116.404, 39.915, "utm")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crs.from_wgs84(116.404, 39.915, "mars")  # type: ignore[arg-type]


def test_geometry_conversions_round_trip() -> None:
    geoms = np.array([box(114.4, 37.9, 114.6, 38.1), Point(116.404, 39.915), None], dtype=object)
    for datum in ("gcj02", "bd09"):
        shifted = crs.geoms_from_wgs84(geoms, datum)
        assert shifted[2] is None
        back = crs.geoms_to_wgs84(shifted, datum)
        for a, b in zip(geoms[:2], back[:2], strict=True):
            pa, pb = shapely.get_coordinates(a), shapely.get_coordinates(b)
            assert metres(pa[:, 0], pa[:, 1], pb[:, 0], pb[:, 1]).max() < 1.0
        moved = shapely.get_coordinates(shifted[1])[0]
        assert metres(116.404, 39.915, moved[0], moved[1]) > 100
    gcj_point = crs.geoms_from_wgs84([Point(116.404, 39.915)], "gcj02")[0]
    assert abs(gcj_point.x - 116.41024449916938) < 1e-6
    assert abs(gcj_point.y - 39.91640428150164) < 1e-6


def test_gdf_to_datum_keeps_crs_and_input() -> None:
    gdf = gpd.GeoDataFrame({"name": ["东城"]}, geometry=[Point(116.404, 39.915)], crs=4326)
    out = crs.gdf_to_datum(gdf, "gcj02")
    assert out.crs == gdf.crs
    assert gdf.geometry.iloc[0].x == 116.404
    assert abs(out.geometry.iloc[0].x - 116.41024449916938) < 1e-6


def test_gauss_kruger_epsg() -> None:
    assert crs.gauss_kruger_epsg(114) == 4547
    assert crs.gauss_kruger_epsg(114.4) == 4547
    assert crs.gauss_kruger_epsg(75) == 4534
    assert crs.gauss_kruger_epsg(117) == 4548
    assert crs.gauss_kruger_epsg(135) == 4554
    with pytest.raises(InputError):
        crs.gauss_kruger_epsg(30)


def test_gauss_kruger_codes_are_the_right_projections() -> None:
    from pyproj import CRS

    for cm in range(75, 136, 3):
        proj = CRS.from_epsg(crs.gauss_kruger_epsg(cm))
        params = {p.name: p.value for p in proj.coordinate_operation.params}
        assert params["Longitude of natural origin"] == cm
        assert params["False easting"] == 500000
        assert "China Geodetic Coordinate System 2000" in proj.geodetic_crs.name


def test_metric_crs_for_shijiazhuang_and_elsewhere() -> None:
    shijiazhuang = (113.5, 37.4, 115.5, 38.8)  # 石家庄市 extent
    assert crs.metric_crs_for(shijiazhuang) == "EPSG:4547"
    assert crs.metric_crs_for((2.35, 48.85, 2.35, 48.85)) == "EPSG:32631"  # Paris
    assert crs.metric_crs_for((151.2, -33.9, 151.2, -33.9)) == "EPSG:32756"  # Sydney
    assert crs.metric_crs_for((-74.0, 40.7, -74.0, 40.7)) == "EPSG:32618"  # New York


def test_metric_crs_of() -> None:
    gdf = gpd.GeoDataFrame(geometry=[box(114.4, 37.9, 114.6, 38.1)], crs=4326)
    assert crs.metric_crs_of(gdf) == "EPSG:4547"
    assert crs.metric_crs_of(gdf.to_crs(4547)) == "EPSG:4547"
    with pytest.raises(InputError):
        crs.metric_crs_of(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]))
