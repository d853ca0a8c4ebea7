import pytest

from gridplan.errors import GridPlanError, UnknownRegionError
from gridplan.inputs import boundaries
from gridplan.inputs.crs import metric_crs_of


@pytest.mark.parametrize(
    ("query", "adcode"),
    [
        ("石家庄市", "130100"),
        ("石家庄", "130100"),
        ("130100", "130100"),
        ("130102", "130100"),
        ("楚雄", "532300"),
        ("楚雄州", "532300"),
        ("赣州市", "360700"),
        ("日照市", "371100"),
        ("410100", "410100"),
    ],
)
def test_resolve_prefecture_by_name_or_code(query, adcode):
    assert boundaries.resolve_prefecture(query).adcode == adcode


def test_unknown_and_ambiguous_prefectures_raise_lookup_errors():
    with pytest.raises(UnknownRegionError) as e:
        boundaries.resolve_prefecture("不存在市")
    assert isinstance(e.value, ValueError) and isinstance(e.value, GridPlanError)
    with pytest.raises(UnknownRegionError, match="candidates"):
        boundaries.resolve_prefecture("州")


def test_every_prefecture_of_china_is_listed():
    prefs = boundaries.list_prefectures()
    assert len(prefs) > 330
    assert {"石家庄市", "楚雄彝族自治州", "赣州市", "日照市", "郑州市"} <= set(prefs["name"])


def test_shijiazhuang_counties_are_wgs84_and_shifted_from_gcj02():
    gdf = boundaries.load_county_boundaries("石家庄市")
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == 22 and gdf.geometry.is_valid.all()
    assert "130102" in set(gdf["adcode"])
    # converted from GCJ-02: Shijiazhuang's offset is west/south by roughly 100-700 m
    import json

    import shapely

    from gridplan.inputs.crs import gcj02_to_wgs84

    row = boundaries.boundary_index().query("adcode == '130104'").iloc[0]
    with open(row["path"], encoding="utf-8") as f:
        raw = shapely.from_geojson(json.dumps(json.load(f)))
    x0, y0 = shapely.get_coordinates(raw)[0]
    x1, y1 = shapely.get_coordinates(gdf.set_index("adcode").geometry["130104"])[0]
    ex, ey = gcj02_to_wgs84(x0, y0)
    assert abs(x1 - ex) < 1e-9 and abs(y1 - ey) < 1e-9
    assert 0.001 < abs(x1 - x0) < 0.01


def test_area_measured_in_gauss_kruger_is_plausible():
    gdf = boundaries.load_county_boundaries("130100")
    assert metric_crs_of(gdf) == "EPSG:4547"
    area = gdf.to_crs(4547).area.sum() / 1e6
    # official area of Shijiazhuang is about 14,464 km²; the boundary data are simplified
    assert 13_500 < area < 15_000


def test_loader_returns_a_copy():
    a = boundaries.load_county_boundaries("130100")
    a["name"] = "x"
    assert boundaries.load_county_boundaries("130100")["name"].iloc[0] != "x"


def test_chuxiong_has_ten_units_with_lufeng():
    gdf = boundaries.load_county_boundaries("楚雄彝族自治州")
    assert len(gdf) == 10
    assert "禄丰市" in set(gdf["name"])
