import json
import subprocess
import sys

import geopandas as gpd
import pytest

from gridplan.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_regions_json_contract(capsys):
    code, out, _ = run(capsys, "regions", "--prefecture", "石家庄市", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 24
    by = {r["adcode"]: r for r in rows}
    assert {"adcode", "name", "population", "population_source", "area_km2"} <= set(rows[0])
    assert by["130102"]["population"] == 1_059_572
    assert by["130102"]["population_source"] == "census2020"
    assert by["130102"]["area_km2"] > 50
    assert by["130171"]["area_km2"] is None  # functional zone: no polygon
    assert sum(r["population"] for r in rows) == 11_235_086


def test_grids_json_contract_and_geojson(capsys, tmp_path):
    path = tmp_path / "grids.geojson"
    code, out, _ = run(capsys, "grids", "--preset", "shijiazhuang", "--json", "-o", str(path))
    assert code == 0
    data = json.loads(out)
    grids = {g["grid_id"]: g for g in data["grids"]}
    assert grids["sjz-changan"]["population"] == 1_364_247
    assert grids["sjz-changan"]["units"] == ["130102", "130171"]
    # a lead hospital as {name, lon, lat}: the preset names it, nobody has located it yet
    assert grids["sjz-changan"]["lead_hospital"] == {
        "name": "石家庄市第三医院", "lon": None, "lat": None
    }  # fmt: skip
    assert "长安医疗集团" in data["grids_without_located_lead"]
    assert {"grid_id", "name", "lead_hospital", "units", "population", "area_km2"} <= set(
        grids["sjz-xinhua"]
    )
    assert [p["kind"] for p in data["problems"]] == ["no_lead"]
    gdf = gpd.read_file(path)
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 22
    row = gdf.set_index("grid_id").loc["sjz-yuhua"]
    assert row["population"] == 827_402 and row["lead_hospital"] == "石家庄市第一医院"
    fc = json.loads(path.read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection"


def test_township_file_on_both_commands(capsys, sjz_township_zip):
    code, out, _ = run(
        capsys, "regions", "--prefecture", "130100", "--township-file", str(sjz_township_zip)
    )
    assert code == 0
    rows = {r["adcode"]: r for r in json.loads(out)}
    assert rows["130102001"]["population_source"] == "modelled"
    assert "130102" not in rows and "130109" in rows
    code, out, _ = run(
        capsys, "grids", "--preset", "shijiazhuang", "--township-file", str(sjz_township_zip)
    )
    grids = {g["grid_id"]: g for g in json.loads(out)["grids"]}
    assert "130171100" in grids["sjz-changan"]["units"]  # 宋营镇, administered by 高新区
    assert grids["sjz-changan"]["population"] == pytest.approx(1_364_247, abs=1)


def test_prefecture_without_preset_gives_the_starting_plan(capsys):
    code, out, _ = run(capsys, "grids", "--prefecture", "日照市", "--json")
    assert code == 0
    grids = {g["grid_id"]: g for g in json.loads(out)["grids"]}
    # 东港区, 岚山区 and the 经开区 as one urban grid; 五莲县, 莒县 one grid each
    assert sorted(grids) == ["371121", "371122", "urban"]
    assert sorted(grids["urban"]["units"]) == ["371102", "371103", "371171"]


@pytest.mark.parametrize(
    "args",
    [
        ["regions", "--prefecture", "不存在市"],
        ["grids", "--prefecture", "州"],
        ["regions", "--prefecture", "石家庄市", "--township-file", "/nonexistent.zip"],
        ["grids", "--preset", "shijiazhuang", "-o", "out.txt"],
    ],
)
def test_bad_input_exits_non_zero_with_one_line(capsys, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args)
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("gridplan: error:")


def test_bad_township_file_message(capsys, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = run(capsys, "regions", "--prefecture", "石家庄市", "--township-file", str(bad))
    assert code == 2 and err.count("\n") == 1


def test_module_entry_point():
    r = subprocess.run(
        [sys.executable, "-m", "gridplan", "regions", "--prefecture", "日照市", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 5


def test_coverage_json_contract_and_outputs(capsys, tmp_path):
    import rasterio

    tif = tmp_path / "tt.tif"
    code, out, err = run(
        capsys, "coverage", "--preset", "shijiazhuang", "--minutes", "15", "--mode", "walk",
        "--model", "straight", "--cell-m", "500", "--json", "-o", str(tif),
    )  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    assert {"population", "covered", "share", "mean_minutes", "p90_minutes", "by_grid", "by_unit",
            "provenance"} <= set(d)  # fmt: skip
    assert 0 < d["share"] < 1 and d["covered"] == pytest.approx(
        d["share"] * d["population"], rel=1e-4
    )
    g = {r["grid_id"]: r for r in d["by_grid"]}
    assert {"grid_id", "population", "covered", "share"} <= set(g["sjz-changan"])
    # 高新区 has no polygon: its residents are counted as not assessed, not dropped silently
    assert g["sjz-changan"]["not_assessed_population"] == 304_675
    assert g["sjz-changan"]["population"] + 304_675 == pytest.approx(1_364_247, rel=1e-5)
    assert d["provenance"]["facilities"] == "illustrative"
    assert "not real" in d["provenance"]["facilities_note"]
    # residents who reach a facility and those who reach none, apart (issue 14)
    assert d["reachable_population"] + d["unreachable_population"] == pytest.approx(
        d["population"], abs=1.0
    )
    # the top 10 uncovered hotspots: places (at most a 2 km disc), most residents first
    hot = d["hotspots"]
    assert len(hot) == 10
    assert set(hot[0]) == {"units", "population", "area_km2", "lon", "lat", "nearest_minutes",
                           "unreachable_population"}  # fmt: skip
    assert all(h["area_km2"] <= 12.6 * 1.1 for h in hot)
    assert [h["population"] for h in hot] == sorted((h["population"] for h in hot), reverse=True)
    assert all(h["nearest_minutes"] > 15 and 113 < h["lon"] < 116 for h in hot)
    names = {r["name"] for r in d["by_unit"]}
    assert all(h["units"] and set(h["units"]) <= names for h in hot)
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 4547 and src.nodata == -1
        band = src.read(1)
        assert band.max() > 15 and (band[band >= 0] >= 0).all()
    gj = tmp_path / "catch.geojson"
    code, _, err = run(capsys, "coverage", "--preset", "rizhao", "--cell-m", "1000", "-o", str(gj))
    assert code == 0, err
    catch = gpd.read_file(gj)
    assert catch.crs.to_epsg() == 4326 and catch["served_population"].sum() > 2_500_000
    assert set(catch["source"]) == {"illustrative"}


def test_coverage_threshold_boundary_and_speed(capsys):
    def share(*extra):
        code, out, _ = run(capsys, "coverage", "--preset", "rizhao", "--cell-m", "1000", *extra)
        assert code == 0
        return json.loads(out)["share"]

    slow, fast = share("--speed-kmh", "4"), share("--speed-kmh", "8")
    assert slow < fast
    # twice the speed at the same minutes equals the same speed at twice the minutes
    assert share("--speed-kmh", "8", "--minutes", "15") == pytest.approx(
        share("--speed-kmh", "4", "--minutes", "30"), abs=1e-6
    )


def test_coverage_bad_input(capsys):
    code, _, err = run(capsys, "coverage", "--preset", "rizhao", "--speed-kmh", "500")
    assert code == 2 and "speed" in err
    code, _, err = run(capsys, "coverage", "--preset", "rizhao", "--model", "network")
    assert code == 2 and "--roads" in err


def test_coverage_with_uploaded_population_points_and_raster(capsys, tmp_path):
    import numpy as np
    import rasterio
    from affine import Affine

    pts = tmp_path / "villages.csv"
    pts.write_text("lon,lat,population\n119.46,35.42,5000\n119.20,35.60,3000\n", encoding="utf-8")
    code, out, err = run(capsys, "coverage", "--preset", "rizhao", "--cell-m", "1000",
                         "--population", str(pts))  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    assert d["population"] == pytest.approx(8000) and d["provenance"]["population"] == "uploaded"
    tif = tmp_path / "pop.tif"
    data = np.full((20, 30), 10.0, dtype="float32")
    data[0, 0] = -99999
    with rasterio.open(tif, "w", driver="GTiff", width=30, height=20, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(0.01, 0, 119.3, 0, -0.01, 35.5),
                       nodata=-99999) as dst:  # fmt: skip
        dst.write(data, 1)
    code, out, err = run(capsys, "coverage", "--preset", "rizhao", "--cell-m", "500",
                         "--population", str(tif))  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    assert d["provenance"]["population"] == "uploaded"
    assert 0 < d["population"] <= 599 * 10 + 1e-3  # the raster's total, minus cells outside units


def test_coverage_raster_model_with_landcover_dem_and_weights(capsys, tmp_path):
    import numpy as np
    import rasterio
    from affine import Affine

    def tif(path, data, dtype):
        with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                           count=1, dtype=dtype, crs="EPSG:4326",
                           transform=Affine(0.01, 0, 118.5, 0, -0.01, 36.5)) as dst:  # fmt: skip
            dst.write(data.astype(dtype), 1)

    lc = np.full((160, 130), 40)  # cropland everywhere ...
    lc[:, 60:62] = 80  # ... with a north-south river
    tif(tmp_path / "lc.tif", lc, "uint8")
    _, xx = np.mgrid[0:160, 0:130]
    tif(tmp_path / "dem.tif", 150.0 * xx, "float32")  # a steep slope (~15 %): Tobler slows walking
    w = np.zeros((160, 130))
    w[:, :60] = 1.0  # all weight west of the river
    tif(tmp_path / "w.tif", w, "float32")

    def share(*extra):
        code, out, err = run(capsys, "coverage", "--preset", "rizhao", "--cell-m", "1000",
                             "--model", "raster", "--minutes", "30", *extra)  # fmt: skip
        assert code == 0, err
        return json.loads(out)

    flat = share()
    slope = share("--dem", str(tmp_path / "dem.tif"))
    assert slope["share"] < flat["share"]  # slopes slow walkers down
    river = share("--landcover", str(tmp_path / "lc.tif"))
    assert river["model"]["name"] == "raster"
    weighted = share("--weights", str(tmp_path / "w.tif"))
    assert weighted["provenance"]["population"].startswith("census2020")
    assert weighted["population"] == pytest.approx(flat["population"], rel=1e-3)


def test_propose_grids_json_has_grids_and_comparison(capfd):
    # capfd: the solver's banner goes to file descriptor 1 at C level; stdout must stay JSON
    code = main(["propose-grids", "--preset", "shijiazhuang", "--k", "4", "--balance", "0.2",
                 "--json"])  # fmt: skip
    out, err = capfd.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert len(d["grids"]) == 4
    assert {"grid_id", "name", "lead_hospital", "units", "population", "area_km2"} <= set(
        d["grids"][0]
    )
    pops = [g["population"] for g in d["grids"]]
    mean = sum(pops) / 4
    assert all(abs(p - mean) <= 0.2 * mean + 1 for p in pops)  # the balance bound holds
    assert sum(pops) == 11_235_086
    assert d["proposal"]["bounds_met"] and d["proposal"]["contiguous"]
    assert d["comparison"]["units_moved"] > 0
    assert not [p for p in d["problems"] if p["kind"] in ("not_contiguous", "unassigned")]


def test_optimize_json_contract_candidates_file_and_catchments(capfd, tmp_path):
    csv = tmp_path / "候选点.csv"
    csv.write_text(
        "名称,经度,纬度\n平山候选,114.10,38.50\n赞皇候选,114.15,37.71\n市区候选,114.51,38.04\n",
        encoding="gbk",
    )
    out_path = tmp_path / "sites.geojson"
    code = main(["optimize", "--preset", "shijiazhuang", "--method", "mclp", "--k", "2",
                 "--minutes", "15", "--mode", "drive", "--cell-m", "500",
                 "--candidates", str(csv), "-o", str(out_path), "--json"])  # fmt: skip
    out, err = capfd.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert {"method", "k", "sites", "covered_before", "covered_after", "objective", "gap",
            "seconds"} <= set(d)  # fmt: skip
    assert d["method"] == "mclp" and d["k"] == 2 and len(d["sites"]) == 2
    # the city-centre candidate (row 4) is already covered: the two rural ones are chosen
    assert {s["candidate_id"] for s in d["sites"]} == {"U0002", "U0003"}  # ids by sheet row
    assert {s["name"] for s in d["sites"]} == {"平山候选", "赞皇候选"}
    assert d["covered_after"] > d["covered_before"]
    gain = d["covered_after"] - d["covered_before"]
    assert sum(s["newly_covered"] for s in d["sites"]) == pytest.approx(gain, abs=1.0)
    assert all(s["served_population"] >= s["newly_covered"] for s in d["sites"])
    assert d["status"] == "optimal" and d["gap"] is not None and d["gap"] <= 1e-3
    assert d["provenance"]["population"] == "modelled"
    assert d["provenance"]["facilities_note"].startswith("illustrative")
    catch = gpd.read_file(out_path)
    assert len(catch) == 2 and catch.crs.to_epsg() == 4326


def test_optimize_subcentres_target(capfd):
    code = main(["optimize", "--preset", "shijiazhuang", "--method", "target", "--target",
                 "0.97", "--level", "secondary", "--candidate-source", "centres", "--minutes",
                 "30", "--mode", "drive", "--cell-m", "500", "--json"])  # fmt: skip
    out, err = capfd.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert d["settings"]["level"] == "secondary" and d["settings"]["candidates"] == "centres"
    assert d["share_after"] >= 0.97 - 1e-3  # aggregated demand vs every cell: close, not equal
    assert d["k"] >= 1 and all(s["name"] for s in d["sites"])


@pytest.mark.parametrize(
    "extra",
    [
        ["--method", "kmeans", "--capacity", "1000"],
        ["--k", "0"],
        ["--candidate-source", "list"],
        ["--level", "primary", "--candidate-source", "centres"],
    ],
)
def test_optimize_bad_input_exits_2_with_one_line(capfd, extra):
    code = main(["optimize", "--preset", "chuxiong", "--cell-m", "1000", *extra])
    out, err = capfd.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("gridplan: error:") and err.count("\n") == 1


def test_propose_grids_with_given_lead_hospitals(capfd, tmp_path):
    csv = tmp_path / "牵头医院.csv"
    csv.write_text(
        "医院名称,经度,纬度\n市第一医院,114.52,38.03\n市第三医院,114.56,38.07\n"
        "平山县医院,114.19,38.26\n",
        encoding="utf-8",
    )
    code = main(["propose-grids", "--preset", "shijiazhuang", "--hospitals", str(csv),
                 "--balance", "0.3", "--json"])  # fmt: skip
    out, err = capfd.readouterr()
    assert code == 0, err
    d = json.loads(out)
    leads = sorted((g["lead_hospital"]["name"], g["lead_hospital"]["lon"]) for g in d["grids"])
    assert leads == [("市第一医院", 114.52), ("市第三医院", 114.56), ("平山县医院", 114.19)]
    # every grid's lead is located (from the file): the plan's mean travel time is given,
    # while the preset's plan (leads named, not located) has none and lists its grids
    assert d["proposal"]["mean_minutes"] > 0 and d["proposal"]["grids_without_located_lead"] == []
    current, proposed = d["comparison"]["plans"]
    assert current["mean_minutes"] is None and len(current["unlocated_grids"]) == 22
    assert proposed["mean_minutes"] == pytest.approx(d["proposal"]["mean_minutes"], abs=1e-3)
    code = main(["propose-grids", "--preset", "shijiazhuang", "--k", "3", "--json"])
    out, err = capfd.readouterr()
    d = json.loads(out)  # sites chosen by the solver are not hospitals: no mean, grids listed
    assert d["proposal"]["mean_minutes"] is None
    assert len(d["proposal"]["grids_without_located_lead"]) == 3
    code = main(["propose-grids", "--preset", "shijiazhuang", "--json"])
    out, err = capfd.readouterr()
    assert code == 2 and "--k" in err and out == ""


@pytest.mark.parametrize(
    "args",
    [
        ["optimize", "--preset", "chuxiong", "-o", "sites.tif"],
        ["propose-grids", "--preset", "chuxiong", "--k", "2", "--hospitals", "h.csv"],
    ],
)
def test_contradictory_or_bad_output_fails_before_any_work(capfd, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h.csv").write_text("名称,经度,纬度\n州人民医院,101.54,25.04\n", encoding="utf-8")
    code = main(args)
    out, err = capfd.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert ".geojson" in err or "not both" in err


def test_every_siting_setting_has_its_optimize_option():
    from dataclasses import fields

    from gridplan.cli import _SITING_OPTIONS, _siting_settings, build_parser
    from gridplan.siting.study import SitingSettings

    derived = {"candidates", "pmedian_cutoff_min"}  # from --candidate-source; the default
    assert set(_SITING_OPTIONS) == {f.name for f in fields(SitingSettings)} - derived
    args = build_parser().parse_args(
        ["optimize", "--preset", "rizhao", "--method", "pmedian", "--k", "4", "--minutes", "20",
         "--level", "secondary", "--target", "0.8", "--capacity", "800", "--solver", "greedy",
         "--time-limit", "7", "--gap", "0.01", "--max-demand", "900", "--grid-spacing", "500",
         "--curve-k", "3"]
    )  # fmt: skip
    assert _siting_settings(args) == SitingSettings(
        method="pmedian", k=4, minutes=20.0, level="secondary", candidates="grid", target=0.8,
        capacity=800.0, solver="greedy", time_limit_s=7.0, gap=0.01, max_demand=900,
        grid_spacing_m=500.0, curve_k_max=3,
    )  # fmt: skip
    listed = build_parser().parse_args(["optimize", "--preset", "rizhao", "--candidates", "c.csv"])
    assert _siting_settings(listed).candidates == "list"


@pytest.mark.parametrize(
    ("args", "zh"),
    [
        (["coverage", "--preset", "rizhao", "--model", "network"], "道路网络模型需要 --roads"),
        (["propose-grids", "--preset", "rizhao"], "请给出 --k"),
        (["coverage", "--preset", "rizhao", "--speed-kmh", "900"], "速度"),
    ],
)
def test_errors_are_one_chinese_line_with_lang_zh(capfd, args, zh):
    code = main([*args, "--lang", "zh"])
    out, err = capfd.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("gridplan: error: ") and zh in err


@pytest.mark.parametrize("preset", ["shijiazhuang", "chuxiong", "ganzhou", "rizhao", "zhengzhou"])
def test_grids_json_cites_the_seed_as_a_document_never_a_file(capsys, preset):
    code, out, err = run(capsys, "grids", "--preset", preset, "--json")
    assert code == 0, err
    seed = json.loads(out)["seed"]
    assert seed["title"] and seed["issuer"] and seed["date"]
    assert ".txt" not in out and "seed 0" not in out.lower() and "file" not in seed
