"""The scenario both faces assemble: one home for its defaults and selection rules."""

import numpy as np
import pandas as pd
import pytest

from gridplan import settings, workflow
from gridplan.cli import build_parser
from gridplan.facilities.table import facility_mask
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH
from gridplan.workflow import ModelSpec, SurfaceSpec, UnitsSource


def test_cli_defaults_are_the_workflow_defaults():
    args = build_parser().parse_args(["coverage", "--preset", "rizhao"])
    assert args.cell_m == settings.cell_m == SurfaceSpec(UnitsSource("371100")).cell_m
    assert args.detour == DEFAULT_DETOUR == ModelSpec().detour
    opt = build_parser().parse_args(["optimize", "--preset", "rizhao", "--level", "secondary"])
    assert opt.mode is None and opt.minutes is None  # filled in from LEVEL_DEFAULTS
    assert workflow.LEVEL_DEFAULTS["secondary"].mode == "drive"
    assert workflow.LEVEL_DEFAULTS["secondary"].minutes == 30
    assert workflow.LEVEL_DEFAULTS["primary"].minutes == 15
    assert workflow.default_minutes("hospitals") == 30 and workflow.default_minutes("primary") == 15


def test_specs_are_hashable_cache_keys_and_follow_settings(monkeypatch):
    spec = SurfaceSpec(UnitsSource("130100", None, "wgs84", None), 500.0)
    assert hash(spec) == hash(SurfaceSpec(UnitsSource("130100"), 500.0))
    assert UnitsSource("130100", "t.zip", "gcj02", "p.csv").without_population() == UnitsSource(
        "130100", "t.zip", "gcj02"
    )
    monkeypatch.setattr(settings, "model_cutoff_min", 90.0)
    assert ModelSpec().cutoff_min == 90.0  # a default read when the spec is made
    assert ModelSpec(mode="drive").speed == MODE_SPEEDS_KMH["drive"]
    assert ModelSpec(mode="drive", speed_kmh=40).speed == 40.0


def test_used_facilities_is_the_library_selection_rule():
    table = pd.DataFrame(
        {
            "facility_id": ["a", "b", "c", "d"],
            "type": ["社区卫生服务中心", "社区卫生服务中心", "二级医院", "村卫生室"],
            "active": [True, False, True, True],
            "lon": [114.5, 114.6, 114.7, np.nan],
            "lat": [38.0, 38.1, 38.2, 38.3],
        }
    )
    for target, types in workflow.TARGET_GROUPS.items():
        used = workflow.used_facilities(table, target)
        assert list(used["facility_id"]) == list(table["facility_id"][facility_mask(table, types)])
    assert list(workflow.used_facilities(table, "primary")["facility_id"]) == ["a"]
    assert list(workflow.used_facilities(table, "hospitals")["facility_id"]) == ["c"]


def test_straight_model_of_a_spec():
    model = workflow.travel_model(None, ModelSpec("straight", "walk", 6.0, 1.5))
    assert model.speed_kmh == 6.0 and model.detour == 1.5


def test_exclusion_layer_alone_is_passed_as_read():
    import geopandas as gpd
    import shapely

    layer = gpd.GeoDataFrame(geometry=[shapely.box(119.3, 35.3, 119.6, 35.6)], crs=4326)
    assert workflow.exclusion_areas("EPSG:4547", layer) is layer
    assert workflow.exclusion_areas("EPSG:4547") is None
    both = workflow.exclusion_areas("EPSG:4547", layer, [(119.0, 35.0, 2.0)])
    assert len(both) == 2 and both.crs.to_epsg() == 4547
    with pytest.raises(ValueError):
        workflow.plan_and_units(None, None)


def test_cli_choices_are_the_library_lists():
    from gridplan.siting.study import CANDIDATE_SOURCES, METHODS, SOLVERS

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    optimize = {a.dest: a for a in sub["optimize"]._actions}
    assert tuple(optimize["method"].choices) == METHODS
    assert tuple(optimize["candidate_source"].choices) == CANDIDATE_SOURCES
    assert tuple(optimize["solver"].choices) == SOLVERS
    assert tuple(optimize["model"].choices) == workflow.MODELS
    coverage = {a.dest: a for a in sub["coverage"]._actions}
    assert coverage["minutes"].default == workflow.LEVEL_DEFAULTS["primary"].minutes


def test_illustrative_network_is_kept_in_the_disk_cache_exactly(tmp_path, monkeypatch):
    from gridplan.plan.units import build_units

    monkeypatch.setattr(settings, "cache_dir", tmp_path)
    units = build_units("532300")
    first = workflow.illustrative_network(units)
    files = list((tmp_path / "illustrative").glob("*.npz"))
    assert len(files) == 1
    again = workflow.illustrative_network(units)
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert again["facility_id"].dtype == object and again["active"].dtype == bool

    # a damaged cache file (not a cache, or cut short) is computed again and replaced
    good = files[0].read_bytes()
    for damaged in (b"not a cache", good[: len(good) // 2]):
        files[0].write_bytes(damaged)
        pd.testing.assert_frame_equal(workflow.illustrative_network(units), first, check_exact=True)
        assert files[0].read_bytes()[:2] == b"PK"
    assert [p.name for p in (tmp_path / "illustrative").iterdir()] == [files[0].name]


def test_illustrative_cache_key_follows_the_units_and_the_setting(tmp_path, monkeypatch):
    from gridplan.plan.units import build_units

    monkeypatch.setattr(settings, "cache_dir", tmp_path)
    units = build_units("532300")
    key = workflow._units_digest(units)
    assert key != workflow._units_digest(build_units("130100"))
    monkeypatch.setattr(settings, "illustrative_cell_m", 1000.0)
    assert workflow._units_digest(units) != key
    monkeypatch.setattr(settings, "cache_dir", None)
    assert workflow._cache_path("illustrative", key) is None
