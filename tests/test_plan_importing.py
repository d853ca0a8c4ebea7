"""Reading a plan back (gridplan.plan.importing): the three formats, and hostile files."""

from __future__ import annotations

import codecs
import json

import pytest

from gridplan import settings
from gridplan.errors import InputError
from gridplan.i18n import error_text
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.importing import plan_to_json, read_plan_file
from gridplan.plan.units import build_units
from gridplan.report.exports import grids_to_geojson, units_to_geojson


@pytest.fixture(scope="module")
def rizhao():
    return build_units("371100")


@pytest.fixture(scope="module")
def preset():
    return GridPlan.from_preset("rizhao")


def _codes(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    assert exc.value.code == "plan_file.invalid"
    return list(exc.value.params["codes"])


def _write(path, doc) -> str:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _assignment(plan, units) -> list:
    return resolve_assignment(plan, units.units).fillna("-").tolist()


def test_plan_json_round_trip_is_exact(tmp_path, preset, rizhao):
    path = tmp_path / "plan.json"
    gid = preset.grids[0].grid_id
    preset = preset.set_lead(gid, "日照市人民医院", 119.53, 35.42)  # a located lead travels too
    preset = preset.set_members(gid, [("某社区卫生服务中心", 119.52, 35.41)])
    path.write_bytes(plan_to_json(preset))
    back = read_plan_file(path, prefecture="371100", units=rizhao)
    assert back.to_dict() == preset.to_dict()
    assert back.grids[0].lead_location == (119.53, 35.42)
    assert read_plan_file(path, prefecture="日照市").to_dict() == preset.to_dict()  # by name


@pytest.mark.parametrize("writer", ["grids", "units"])
def test_geojson_layers_give_back_the_grids(tmp_path, preset, rizhao, writer):
    path = tmp_path / f"{writer}.geojson"
    data = (
        grids_to_geojson(preset, rizhao)
        if writer == "grids"
        else units_to_geojson(rizhao, None, preset)
    )
    path.write_bytes(data)
    back = read_plan_file(path, units=rizhao)
    assert back.prefecture == "371100" and back.plan_id == "rizhao"
    assert back.name == preset.name
    assert [(g.grid_id, g.name, g.lead_hospital) for g in back.grids] == [
        (g.grid_id, g.name, g.lead_hospital) for g in preset.grids
    ]
    assert _assignment(back, rizhao) == _assignment(preset, rizhao)


def test_geojson_without_its_gridplan_member_takes_the_prefecture_of_its_codes(tmp_path, preset):
    fc = json.loads(grids_to_geojson(preset, build_units("371100")))
    del fc["gridplan"]
    back = read_plan_file(_write(tmp_path / "bare.geojson", fc))
    assert back.prefecture == "371100" and back.plan_id == "bare"
    with pytest.raises(InputError) as e:
        read_plan_file(tmp_path / "bare.geojson", prefecture="130100")
    assert _codes(e) == ["plan_file.other_prefecture"]
    assert e.value.params["problems"][0] == {
        "code": "plan_file.other_prefecture", "found": "371100", "expected": "130100",
    }  # fmt: skip


def test_byte_order_mark_is_accepted(tmp_path, preset):
    path = tmp_path / "bom.json"
    path.write_bytes(codecs.BOM_UTF8 + plan_to_json(preset))
    assert read_plan_file(path).to_dict() == preset.to_dict()


def test_another_prefectures_plan_is_refused_in_both_languages(tmp_path, rizhao):
    path = tmp_path / "sjz.json"
    path.write_bytes(plan_to_json(GridPlan.from_preset("shijiazhuang")))
    with pytest.raises(InputError) as e:
        read_plan_file(path, units=rizhao)  # the units' prefecture is the one expected
    assert _codes(e) == ["plan_file.other_prefecture"]  # not also 30 "unknown" codes
    zh = " ".join(error_text(e.value, "zh").split())
    assert zh == (
        "方案文件 sjz.json 无法使用（1 个问题），未做任何更改： "
        "• 该方案属于地级市 130100，而不是 371100。请选择对应的地级市或方案。"
    )
    assert "130100" in error_text(e.value, "en") and "not 371100" in error_text(e.value, "en")


def test_every_content_problem_is_reported_together(tmp_path, rizhao):
    unknown = [f"3711{k:02d}" for k in range(80, 92)]  # 12 codes of no unit
    doc = {
        "id": "x", "prefecture": "371100",
        "grids": [
            {"grid_id": "a", "name": "A", "units": ["371102", "371103", *unknown]},
            {"grid_id": "b", "name": "B", "units": ["371103", "371121", "371121"]},
        ],
    }  # fmt: skip
    with pytest.raises(InputError) as e:
        read_plan_file(_write(tmp_path / "p.json", doc), units=rizhao)
    assert _codes(e) == ["plan_file.unknown_units", "plan_file.units_in_two_grids"]
    unknown_problem, twice = e.value.params["problems"]
    assert unknown_problem["n"] == 12 and unknown_problem["codes"] == "、".join(unknown[:10])
    assert twice["n"] == 1 and twice["units"] == "371103（a、b）"  # 371121 twice in b: harmless
    zh = error_text(e.value, "zh")
    assert "12 个单元代码不是日照市的单元：371180、371181" in zh
    assert "1 个单元同时属于多个网格：371103（a、b）" in zh


def test_wrong_shape_lists_the_first_ten_problems_and_counts_the_rest(tmp_path):
    grids = [{"grid_id": f"g{k}", "name": k, "units": ["371102"]} for k in range(14)]
    doc = {"id": "x", "prefecture": "371100", "grids": grids}
    with pytest.raises(InputError) as e:
        read_plan_file(_write(tmp_path / "p.json", doc))
    assert _codes(e) == ["plan_file.field_type"] * 10 + ["plan_file.more"]
    assert e.value.params["problems"][0] == {
        "code": "plan_file.field_type", "where": "grids[0]", "key": "name",
    }  # fmt: skip
    assert e.value.params["problems"][-1] == {"code": "plan_file.more", "n": 4}


@pytest.mark.parametrize(
    ("doc", "codes"),
    [
        ([1, 2], ["plan_file.not_object"]),
        ({"id": "x", "grids": []}, ["plan_file.missing_key"]),
        ({"id": "x", "prefecture": "371100", "grids": []}, ["plan_file.no_grids"]),
        ({"id": "x", "prefecture": "371100", "grids": "a"}, ["plan_file.field_type"]),
        (
            {"id": "x", "prefecture": "371100",
             "grids": [{"grid_id": "a", "name": "A", "units": [371102]}]},
            ["plan_file.field_type"],
        ),
        (
            {"id": "x", "prefecture": "371100",
             "grids": [{"grid_id": "a", "name": "A", "units": []},
                       {"grid_id": "a", "name": "B", "units": []}]},
            ["plan_file.duplicate_grid_ids"],
        ),
        (
            {"id": "x", "prefecture": "371100",
             "grids": [{"grid_id": "a", "name": "A", "units": [], "lead_lon": "119.5",
                        "lead_lat": 35.4}]},
            ["plan_file.field_type"],
        ),
        (  # a longitude without its latitude, and a point outside China
            {"id": "x", "prefecture": "371100",
             "grids": [{"grid_id": "a", "name": "A", "units": [], "lead_lon": 119.5},
                       {"grid_id": "b", "name": "B", "units": [], "lead_lon": 50.0,
                        "lead_lat": 45.0}]},
            ["plan_file.bad_location", "plan_file.bad_location"],
        ),
        (
            {"id": "x", "prefecture": "371100",
             "grids": [{"grid_id": "a", "name": "A", "units": [],
                        "member_locations": {"某卫生院": [True, 35.4]}}]},
            ["plan_file.field_type"],
        ),
        ({"type": "Feature", "properties": {}}, ["plan_file.not_layer"]),
        ({"type": "FeatureCollection", "features": [{"type": "Feature"}]},
         ["plan_file.not_object"]),
        (
            {"type": "FeatureCollection",
             "features": [{"properties": {"grid_id": "a", "name": "A", "units": ["371102"]}},
                          {"properties": {"grid_id": "b", "name": "B", "units": ["130102"]}}]},
            ["plan_file.no_prefecture"],
        ),
    ],
)  # fmt: skip
def test_wrong_shapes_are_named(tmp_path, doc, codes):
    with pytest.raises(InputError) as e:
        read_plan_file(_write(tmp_path / "p.geojson", doc))
    assert _codes(e) == codes


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("plan.txt", b'{"id": "x"}', "plan_file.format"),
        ("plan.json", b"\x89PNG\r\n\x1a\n....", "plan_file.format"),
        ("plan.json", b"id,prefecture\nx,371100\n", "plan_file.format"),
        ("plan.json", b"", "plan_file.empty"),
        ("plan.json", '{"id": "规划"}'.encode("gbk"), "plan_file.encoding"),
        ("plan.json", b'{"id": "x", "grids": [', "plan_file.corrupt"),
        ("plan.json", b'{"id": NaN}', "plan_file.corrupt"),
        ("plan.json", b'{"id": ' + b"9" * 5000 + b"}", "plan_file.corrupt"),
        ("plan.json", b"[" * 200_000 + b"]" * 200_000, "plan_file.too_deep"),
    ],
)
def test_hostile_files_are_refused_with_a_code(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_plan_file(path)
    assert _codes(e) == [code]
    for lang in ("zh", "en"):  # every problem has its text
        assert "plan_file." not in error_text(e.value, lang)


def test_size_is_bounded_before_reading(tmp_path, monkeypatch, preset):
    path = tmp_path / "big.json"
    path.write_bytes(plan_to_json(preset) + b" " * 2_000_000)
    monkeypatch.setattr(settings, "plan_file_max_mb", 1.0)
    with pytest.raises(InputError) as e:
        read_plan_file(path)
    assert _codes(e) == ["upload.too_large"]
    assert "超过上限 1 MB" in error_text(e.value, "zh")


def test_a_folder_or_a_missing_file_is_no_plan(tmp_path):
    for path in (tmp_path, tmp_path / "missing.json"):
        with pytest.raises(InputError) as e:
            read_plan_file(path)
        assert _codes(e) == ["plan_file.not_file"]
