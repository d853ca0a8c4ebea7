import json

import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan import workflow
from gridplan.errors import InputError, PresetError
from gridplan.i18n import error_text
from gridplan.plan.grids import GridPlan, list_presets, resolve_assignment
from gridplan.plan.stats import dissolve_grids, grid_statistics, population_balance
from gridplan.plan.units import UnitSet, build_units
from gridplan.plan.validate import validate_plan
from tests.synthetic import toy_unit_set


@pytest.fixture(scope="module")
def sjz():
    return build_units("130100")


def _stats(plan, us):
    return grid_statistics(plan, us).set_index("grid_id")


def test_all_five_seed_presets_exist_and_cite_their_seed():
    assert list_presets() == ["chuxiong", "ganzhou", "rizhao", "shijiazhuang", "zhengzhou"]
    for pid in list_presets():
        plan = GridPlan.from_preset(pid)
        assert plan.seed["file"].endswith(".txt") and plan.seed["title"]
        assert plan.seed_quote and plan.notes


def test_shijiazhuang_four_medical_groups_census_figures(sjz):
    plan = GridPlan.from_preset("shijiazhuang")
    s = _stats(plan, sjz)
    assert s.loc["sjz-xinhua", "population"] == 802_057
    assert s.loc["sjz-changan", "population"] == 1_364_247
    assert s.loc["sjz-qiaoxi", "population"] == 979_646
    assert s.loc["sjz-yuhua", "population"] == 827_402
    assert s.loc["sjz-changan", "lead_hospital"] == "石家庄市第三医院"
    assert s.loc["sjz-yuhua", "units"] == ["130108", "130172"]
    assert s.loc["sjz-changan", "undrawn_units"] == ["石家庄高新技术产业开发区"]
    assert (s["population_source"] == "census2020").all()
    # every other county-level unit is its own county medical community
    assert len(plan.grids) == 4 + 18
    assert "25" in " ".join(plan.notes) and "未公布" in " ".join(plan.notes)


def test_chuxiong_city_is_one_grid_and_networks_span_all_ten_units():
    us = build_units("532300")
    plan = GridPlan.from_preset("chuxiong")
    s = _stats(plan, us)
    assert s.loc["cx-city", "population"] == 631_530
    city = plan.grid("cx-city")
    assert city.lead_hospital == "楚雄州人民医院"
    assert {
        "州中医医院",
        "州精神病医院",
        "州妇幼保健院",
        "州疾病预防控制中心",
        "州中心血站",
    } <= set(city.members)
    tcm = next(n for n in plan.networks if n.kind == "tcm_alliance")
    assert tcm.lead_hospital == "楚雄州中医医院"
    assert set(tcm.units) == set(us.units["unit_id"])
    assert len(plan.networks) == 6


@pytest.mark.parametrize(("pid", "n_grids"), [("ganzhou", 18), ("rizhao", 5), ("zhengzhou", 15)])
def test_county_level_presets_one_grid_per_unit(pid, n_grids):
    plan = GridPlan.from_preset(pid)
    us = build_units(plan.prefecture)
    assert len(plan.grids) == n_grids == len(us.units)
    assignment = resolve_assignment(plan, us.units)
    assert assignment.notna().all()
    kinds = {p.kind for p in validate_plan(plan, us)}
    assert kinds == {"no_lead"}  # honest: the seeds name no lead hospitals for these


def test_preset_round_trips_through_json(tmp_path):
    plan = GridPlan.from_preset("chuxiong")
    again = GridPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan


def test_unknown_or_malformed_preset():
    with pytest.raises(PresetError, match="unknown preset"):
        GridPlan.from_preset("nowhere")
    with pytest.raises(PresetError) as e:
        GridPlan.from_dict({"name": "x"})
    assert "id" in str(e.value) and "grids" in str(e.value)  # all problems in one message
    assert e.value.code == "preset.malformed"
    assert e.value.params["codes"] == ["preset.missing_key"] * 3


# --- validation on a toy prefecture: a 3x2 block of 10 km squares -------------------------
def _toy() -> UnitSet:
    cells, ids = [], []
    for i in range(3):
        for j in range(2):
            x0, y0 = 500_000 + i * 10_000, 4_200_000 + j * 10_000
            cells.append(shapely.box(x0, y0, x0 + 10_000, y0 + 10_000))
            ids.append(f"9901{i}{j}")
    return toy_unit_set(cells, ids, [100.0, 200, 300, 400, 500, 600], 50.0)


def _plan(groups: dict[str, list[str]], lead: str = "H") -> GridPlan:
    return GridPlan.from_dict(
        {
            "id": "toy",
            "prefecture": "990100",
            "grids": [
                {"grid_id": g, "name": g, "lead_hospital": lead, "units": u}
                for g, u in groups.items()
            ],
        }
    )


def test_valid_toy_plan_has_no_problems():
    us = _toy()
    plan = _plan(
        {"A": ["990100", "990101", "990171"], "B": ["990110", "990111", "990120", "990121"]}
    )
    assert validate_plan(plan, us) == []
    s = _stats(plan, us)
    assert s.loc["A", "population"] == 350 and s.loc["A", "undrawn_units"] == ["Z"]
    assert s.loc["B", "density"] == pytest.approx(1800 / 400)


def test_all_problems_reported_together():
    us = _toy()
    # A = column 0 and column 2 (not touching), 990101 in two grids, 990121 unassigned,
    # a code from another prefecture, and grid B without lead hospital
    plan = _plan(
        {"A": ["990100", "990120", "990171", "130102"], "B": ["990101", "990110", "990111"]}
    )
    plan.grids[1].lead_hospital = ""
    plan.grids[0].units.append("990101")
    problems = validate_plan(plan, us)
    kinds = sorted(p.kind for p in problems)
    assert kinds == sorted(
        ["outside_listed", "unassigned", "duplicate", "not_contiguous", "no_lead"]
    )
    nc = next(p for p in problems if p.kind == "not_contiguous")
    assert (
        "U990100" in nc.message("zh")
        and "U990120" in nc.message("zh")
        and "2 块" in nc.message("zh")
    )
    un = next(p for p in problems if p.kind == "unassigned")
    assert un.units == ["990121"]
    dup = next(p for p in problems if p.kind == "duplicate")
    assert "A" in dup.message("en") and "B" in dup.message("en")
    # Chinese names keep the Chinese list marks in both languages; a grid's parts are numbered
    assert dup.message("zh").endswith("A、B") and dup.message("en").endswith("A、B")
    assert nc.message("zh").count("；") == 1 and nc.message("en").count("；") == 1
    assert "1: " in nc.message("en")


def test_diagonal_neighbours_within_tolerance_count_as_touching():
    us = _toy()
    # 990100 and 990111 meet at a corner only: a corner is a shared point, contiguous
    plan = _plan(
        {"A": ["990100", "990111", "990171"], "B": ["990101", "990110", "990120", "990121"]}
    )
    assert not [p for p in validate_plan(plan, us) if p.kind == "not_contiguous"]


def test_outside_unit_reported():
    us = _toy()
    us.units.loc[0, "inside_prefecture"] = False
    plan = _plan({"A": ["990101", "990110", "990111", "990120", "990121", "990171"]})
    problems = validate_plan(plan, us)
    assert [p.kind for p in problems] == ["outside"]
    assert problems[0].units == ["990100"]


def test_reassign_moves_units_and_rejects_unknown_grids():
    us = _toy()
    plan = _plan(
        {"A": ["990100", "990101", "990171"], "B": ["990110", "990111", "990120", "990121"]}
    )
    moved = plan.reassign({"990110": "A"})
    assert "990110" in moved.grid("A").units and "990110" not in moved.grid("B").units
    assert "990110" in plan.grid("B").units  # original untouched
    assert _stats(moved, us).loc["A", "population"] == 650
    cleared = plan.reassign({"990121": ""})
    assert [p.kind for p in validate_plan(cleared, us)] == ["unassigned"]
    with pytest.raises(InputError):
        plan.reassign({"990110": "nope"})
    grown = plan.add_grid("C", lead_hospital="H")
    assert [p.kind for p in validate_plan(grown, us)] == ["empty_grid"]


def test_balance_figures():
    us = _toy()
    plan = _plan(
        {"A": ["990100", "990101", "990171"], "B": ["990110", "990111", "990120", "990121"]}
    )
    bal = population_balance(grid_statistics(plan, us))
    assert bal["max_min_ratio"] == pytest.approx(1800 / 350)
    assert bal["cv"] == pytest.approx(np.std([350, 1800]) / np.mean([350, 1800]))


def test_dissolve_gives_one_polygon_per_contiguous_grid(sjz):
    plan = GridPlan.from_preset("shijiazhuang")
    gdf = dissolve_grids(plan, sjz)
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 22
    changan = gdf.set_index("grid_id").geometry["sjz-changan"]
    county = sjz.units.set_index("unit_id").geometry["130102"]
    assert changan.equals(county)  # 高新区 has no polygon: the group's area is 长安区's
    assert (gdf["area_km2"] > 0).all()


# --- township layer -------------------------------------------------------------------------
def test_township_layer_builds_grids_from_townships(sjz_townships):
    us = build_units("130100", townships=sjz_townships)
    plan = GridPlan.from_preset("shijiazhuang")
    s = _stats(plan, us)
    # the same census totals, now carried by townships (modelled by area)
    assert s.loc["sjz-changan", "population"] == pytest.approx(1_364_247)
    assert s.loc["sjz-yuhua", "population"] == pytest.approx(827_402)
    changan_units = set(s.loc["sjz-changan", "units"])
    assert {
        "130171010",
        "130171011",
        "130171100",
        "130171101",
    } <= changan_units  # 高新区's townships
    assert "130102001" in changan_units and "130102" not in changan_units
    assert s.loc["sjz-changan", "population_source"] == "modelled"
    assert s.loc["sjz-changan", "undrawn_units"] == []  # 高新区 is drawn through its townships
    # counties without townships stay county-level
    assert s.loc["130109", "units"] == ["130109"]
    # 郄马镇 lies in 栾城区, far from 长安区: the group is not contiguous and the parts are named
    nc = [
        p
        for p in validate_plan(plan, us)
        if p.kind == "not_contiguous" and p.grid_id == "sjz-changan"
    ]
    assert nc and "郄马镇" in nc[0].message("zh")


def test_moving_one_township_overrides_its_county(sjz_townships):
    us = build_units("130100", townships=sjz_townships)
    plan = GridPlan.from_preset("shijiazhuang").reassign({"130102001": "sjz-xinhua"})
    a = resolve_assignment(plan, us.units).set_axis(us.units["unit_id"])
    assert a["130102001"] == "sjz-xinhua" and a["130102002"] == "sjz-changan"


def test_unusable_township_layer_reports_every_problem(sjz_townships):
    from gridplan.i18n import error_text

    blank = sjz_townships[["geometry"]].assign(v=1.5).set_crs(None, allow_override=True)
    with pytest.raises(InputError) as e:
        build_units("130100", townships=blank)
    assert e.value.code == "township.invalid"
    assert e.value.params["codes"] == ["township.no_crs", "township.no_columns"]
    zh = error_text(e.value, "zh")
    assert zh.count("•") == 2 and "乡镇图层" in zh and "{" not in zh
    with pytest.raises(InputError) as e:
        build_units("130100", townships=sjz_townships.iloc[:0])
    assert e.value.params["codes"] == ["township.empty"]


def test_exports_cite_the_seed_as_a_document_without_its_file_name():
    from gridplan.report.exports import grids_to_geojson
    from gridplan.workflow import UnitsSource, load_units

    plan = GridPlan.from_preset("shijiazhuang")
    assert set(plan.seed_document) == {"title", "issuer", "date"}
    assert "file" in plan.seed  # the project's own sources keep it
    meta = json.loads(grids_to_geojson(plan, load_units(UnitsSource("130100"))))["gridplan"]
    assert meta["seed"] == plan.seed_document


def _statistics_grid_by_grid(plan, unit_set, assignment) -> pd.DataFrame:
    """The grid statistics computed the plain way: one mask of the units per grid."""
    from gridplan.plan.population import combine_sources
    from gridplan.plan.stats import grid_ages

    u = unit_set.units
    rows = []
    for g in plan.grids:
        m = u[(assignment == g.grid_id).to_numpy()]
        pop = float(m["population"].sum(min_count=1)) if len(m) else np.nan
        area = float(m["area_km2"].sum()) if m["has_geometry"].any() else 0.0
        rows.append({
            "grid_id": g.grid_id, "name": g.name, "lead_hospital": g.lead_hospital,
            "n_units": len(m), "units": list(m["unit_id"]), "population": pop,
            "population_source": combine_sources(m["population_source"]), "area_km2": area,
            "density": pop / area if area > 0 else np.nan,
            "undrawn_units": list(m.loc[~m["has_geometry"], "name"]), **grid_ages(m),
        })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("preset,prefecture", [("shijiazhuang", None), (None, "440300")])
def test_grid_statistics_equal_the_plain_per_grid_sums_after_random_edits(preset, prefecture):
    import random

    from gridplan import workflow

    plan, units = workflow.plan_and_units(preset, prefecture)
    start = resolve_assignment(plan, units.units)
    rng = random.Random(7)
    ids = [g.grid_id for g in plan.grids] + [None]  # None: a unit left out of every grid
    for _ in range(5):
        edited = start.copy()
        for i in rng.sample(range(len(edited)), min(6, len(edited))):
            edited.iloc[i] = rng.choice(ids)
        pd.testing.assert_frame_equal(
            grid_statistics(plan, units, edited),
            _statistics_grid_by_grid(plan, units, edited),
            check_exact=True,
        )


@pytest.mark.parametrize("preset", list_presets())
def test_a_county_community_is_named_after_its_unit_as_it_is_called_today(preset):
    """禄丰县 became 禄丰市 in 2021: its community is 禄丰市紧密型县域医共体 (issue 14)."""
    plan = GridPlan.from_preset(preset)
    units = build_units(plan.prefecture)
    assignment = resolve_assignment(plan, units.units)
    for grid in plan.grids:
        names = list(units.units.loc[(assignment == grid.grid_id).to_numpy(), "name"])
        if grid.kind == "county_medical_community" and len(names) == 1:
            assert grid.name.startswith(names[0]), (grid.name, names[0])


#: Traditional forms of characters the seed documents use (their Simplified forms differ).
TRADITIONAL = set("醫體衛縣療聯區專婦網規劃務設預級鄉鎮轉診與為個們這會發實現構彝藥護員")
TRADITIONAL -= {"彝"}  # the same in both scripts


@pytest.mark.parametrize("preset", list_presets())
def test_preset_texts_are_in_simplified_chinese(preset):
    """The seed quotes and names are shown as the documents write them: Simplified (issue 14)."""
    text = json.dumps(GridPlan.from_preset(preset).__dict__, default=vars, ensure_ascii=False)
    assert not set(text) & TRADITIONAL


# --- lead hospitals with a place, networks (issue 14) ------------------------------------------


def test_a_lead_hospital_is_stored_with_its_location_and_checked():
    plan = GridPlan.from_preset("chuxiong")
    assert plan.grids[0].lead_location is None  # the seed names it; nobody has placed it
    placed = plan.set_lead("cx-city", "楚雄州人民医院", 101.546, 25.033)
    assert placed.grids[0].lead_location == (101.546, 25.033)
    assert plan.grids[0].lead_location is None  # a copy: the old plan is unchanged
    again = GridPlan.from_dict(json.loads(json.dumps(placed.to_dict())))
    assert again.grids[0].lead_location == (101.546, 25.033)
    assert [g.grid_id for g in again.unlocated_grids()] == [g.grid_id for g in plan.grids[1:]]
    for lon, lat in [(200.0, 25.0), (101.5, None), (float("nan"), 25.0), (2.35, 48.85)]:
        with pytest.raises(InputError) as e:
            plan.set_lead("cx-city", "某医院", lon, lat)
        assert e.value.code == "plan.bad_location" and "中国境内" in error_text(e.value, "zh")
    bad = plan.to_dict()
    bad["grids"][0]["lead_lon"], bad["grids"][0]["lead_lat"] = "东经", 25.0
    bad["grids"][1]["member_locations"] = {"某卫生院": [101.0]}
    with pytest.raises(PresetError) as e:
        GridPlan.from_dict(bad)
    assert len(e.value.problems) == 2  # both said in one message


def test_members_keep_their_location_through_a_merge():
    plan = GridPlan.from_preset("chuxiong")
    plan = plan.set_lead("532322", "双柏县人民医院", 101.64, 24.69)
    plan = plan.set_members("cx-city", [("州中医医院", 101.53, 25.04), ("州中心血站", None, None)])
    city = plan.grid("cx-city")
    assert city.members == ["州中医医院", "州中心血站"]
    assert city.member_locations == {"州中医医院": [101.53, 25.04]}
    merged = plan.merge_grids(["532322"], into="cx-city").grid("cx-city")
    assert merged.member_locations["双柏县人民医院"] == [101.64, 24.69]


def test_networks_are_listed_with_members_and_drawn_from_where_they_are_led():
    from gridplan.plan.networks import network_links, network_records

    plan, us = workflow.plan_and_units("chuxiong", None)
    records = {n["network_id"]: n for n in network_records(plan, us)}
    tcm = records["cx-tcm-yi"]
    assert tcm["lead_hospital"] == {"name": "楚雄州中医医院", "lon": None, "lat": None}
    assert tcm["lead_unit"] == {"unit_id": "532301", "name": "楚雄市"}
    assert len(tcm["members"]) == 10
    by_unit = {m["unit_id"]: m for m in tcm["members"]}
    assert by_unit["532331"]["name"] == "禄丰市" and by_unit["532331"]["grid_id"] == "532331"
    links = network_links(plan, us)
    tcm_links = links[links["group_id"] == "cx-tcm-yi"]
    # from 楚雄市 (where the unlocated leading hospital is) to the nine other counties
    assert len(tcm_links) == 9 and not tcm_links["origin_located"].any()
    assert "楚雄市" not in set(tcm_links["member"])
    chuxiong_city = us.units[us.units["unit_id"] == "532301"].geometry.iloc[0]
    start = shapely.Point(tcm_links[["lon0", "lat0"]].iloc[0].to_numpy())
    assert chuxiong_city.contains(start)
    # once located, the network starts from the hospital itself, said so
    plan.networks[0].lead_lon, plan.networks[0].lead_lat = 101.53, 25.04
    moved = network_links(plan, us)
    first = moved[moved["group_id"] == "cx-tcm-yi"]
    assert first["origin_located"].all() and (first["lon0"] == 101.53).all()
    # a grid's located members are linked to its located lead hospital
    plan = plan.set_lead("cx-city", "楚雄州人民医院", 101.546, 25.033)
    plan = plan.set_members("cx-city", [("州妇幼保健院", 101.55, 25.02)])
    members = network_links(plan, us)
    members = members[members["kind"] == "members"]
    assert members[["origin", "member", "lon1"]].values.tolist() == [
        ["楚雄州人民医院", "州妇幼保健院", 101.55]
    ]


def test_grids_json_gives_located_leads_and_networks(capsys):
    from gridplan.cli import main

    assert main(["grids", "--preset", "chuxiong", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    city = next(g for g in d["grids"] if g["grid_id"] == "cx-city")
    assert city["lead_hospital"] == {"name": "楚雄州人民医院", "lon": None, "lat": None}
    assert {"name": "州中医医院", "lon": None, "lat": None} in city["members"]
    assert len(d["grids_without_located_lead"]) == 10
    assert [n["name"] for n in d["networks"]][:2] == [
        "楚雄州中彝医医疗联合体",
        "综合医疗专科专病联盟",
    ]
    assert all(len(n["members"]) == 10 for n in d["networks"])


def test_placing_a_lead_is_a_change_the_history_names():
    from gridplan.plan.changes import describe, plan_changes

    plan = GridPlan.from_preset("chuxiong")
    placed = plan.set_lead("cx-city", "楚雄州人民医院", 101.546, 25.033)
    text = describe(plan_changes(plan, placed))
    assert text == "楚雄州紧密型城市医疗集团 牵头医院 楚雄州人民医院 定位于 101.54600, 25.03300"
    back = describe(plan_changes(placed, plan.set_lead("cx-city", "楚雄州人民医院")))
    assert "位置已清除" in back


def test_renaming_a_lead_in_the_grid_table_drops_its_location():
    """Another name is another hospital: its point is not carried over to it."""
    from ui.panels.grids import edited_grids

    plan = GridPlan.from_preset("chuxiong").set_lead("cx-city", "楚雄州人民医院", 101.546, 25.033)
    plan = plan.set_members("cx-city", [("州中医医院", 101.53, 25.04), ("州中心血站", None, None)])
    table = pd.DataFrame(
        [[g.grid_id, g.name, g.lead_hospital, "、".join(g.members)] for g in plan.grids]
    )
    same = edited_grids(plan, table)
    assert same.grid("cx-city").lead_location == (101.546, 25.033)
    table.iloc[0, 2], table.iloc[0, 3] = "楚雄州第二人民医院", "州中心血站"
    renamed = edited_grids(plan, table).grid("cx-city")
    assert renamed.lead_hospital == "楚雄州第二人民医院" and renamed.lead_location is None
    assert renamed.member_locations == {}  # 州中医医院 left the members with its point
