"""The scenario commands of the CLI on a SQLite store in a temporary folder."""

from __future__ import annotations

import json
import re

import pytest

from gridplan.cli import main
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.importing import read_plan_file
from gridplan.plan.units import build_units
from gridplan.store import open_store


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *args):
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def store(tmp_path):
    return f"sqlite:///{tmp_path / 'scenarios.sqlite'}"


@pytest.fixture
def rizhao_files(tmp_path, capsys):
    """The Rizhao preset as plan JSON, and the default plan of 日照市 as grids GeoJSON."""
    preset, default = tmp_path / "preset.json", tmp_path / "default.geojson"
    ok(capsys, "grids", "--preset", "rizhao", "-o", preset)
    ok(capsys, "grids", "--prefecture", "日照市", "-o", default)
    return preset, default


def _versions(url: str) -> list[tuple[int, int]]:
    """Every scenario's (id, number of versions), deleted ones too."""
    s = open_store(url)
    try:
        return [(i.id, i.versions) for i in s.list_scenarios(include_deleted=True)]
    finally:
        s.close()


def test_grids_writes_the_plan_json_the_dashboard_downloads(tmp_path, capsys, rizhao_files):
    preset, _ = rizhao_files
    text = preset.read_text(encoding="utf-8")
    assert json.loads(text) == GridPlan.from_preset("rizhao").to_dict()
    assert text.startswith('{\n "id": "rizhao"') and "日照市" in text  # indented, Chinese kept


def test_save_show_export_round_trip(tmp_path, capsys, store, rizhao_files):
    preset, default = rizhao_files
    saved = ok(capsys, "scenario", "save", "--from-plan", preset, "--name", "甲方案",
               "--author", "王", "--note", "初稿", "--store", store)  # fmt: skip
    assert saved == {"id": 1, "version": 1, "name": "甲方案"}
    again = ok(capsys, "scenario", "save", "--from-plan", default, "--id", 1,
               "--note", "市区合并", "--store", store)  # fmt: skip
    assert again == {"id": 1, "version": 2, "name": "甲方案"}

    [row] = ok(capsys, "scenario", "list", "--store", store)
    assert [row[k] for k in ("id", "name", "prefecture", "versions")] == [1, "甲方案", "371100", 2]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["updated"])

    shown = ok(capsys, "scenario", "show", 1, "--version", 1, "--store", store)
    assert (shown["id"], shown["name"], shown["version"]) == (1, "甲方案", 1)
    assert shown["plan"] == json.loads(preset.read_text(encoding="utf-8"))
    grids = ok(capsys, "grids", "--preset", "rizhao")["grids"]
    assert shown["grids"] == grids  # the grids --json rows
    assert [(h["version"], h["note"]) for h in shown["history"]] == [(1, "初稿"), (2, "市区合并")]
    latest = ok(capsys, "scenario", "show", 1, "--store", store)
    assert latest["version"] == 2 and [g["grid_id"] for g in latest["grids"]] == [
        "urban", "371121", "371122",
    ]  # fmt: skip

    back = tmp_path / "back.json"
    ok(capsys, "scenario", "export", 1, "--version", 1, "-o", back, "--store", store)
    assert back.read_bytes() == preset.read_bytes()  # the very file that was saved
    grids_file = tmp_path / "back.geojson"
    out = ok(capsys, "scenario", "export", 1, "-o", grids_file, "--store", store)
    assert out["version"] == 2 and out["output"] == "back.geojson"
    us = build_units("371100")
    reread = read_plan_file(grids_file, units=us)
    expected = read_plan_file(default, units=us)
    assert resolve_assignment(reread, us.units).equals(resolve_assignment(expected, us.units))


def test_compare_two_versions(capsys, store, rizhao_files):
    preset, default = rizhao_files
    ok(capsys, "scenario", "save", "--from-plan", preset, "--name", "每县一个", "--store", store)
    ok(capsys, "scenario", "save", "--from-plan", default, "--name", "市区合并", "--store", store)
    out = ok(capsys, "scenario", "compare", 1, 2, "--minutes", 15, "--mode", "walk",
             "--cell-m", 1000, "--store", store)  # fmt: skip
    assert (out["a"]["id"], out["a"]["version"], out["b"]["id"]) == (1, 1, 2)
    assert [(m["code"], m["from"], m["to"]) for m in out["moved_units"]] == [
        ("371103", "岚山区网格", "日照市市区网格"),
        ("371171", "日照经济技术开发区网格", "日照市市区网格"),
    ]
    grids = {g["grid_id"]: g for g in out["grids"]}
    assert list(grids) == ["371102", "371103", "371121", "371122", "371171", "urban"]
    assert grids["371102"]["population_a"] == 1_003_712 and grids["371102"]["population_b"] is None
    assert grids["urban"]["population_b"] == 1_003_712 + 379_308 + 168_493
    assert grids["urban"]["share_b"] == round(1_551_513 / 2_968_365, 6)
    county = grids["371121"]  # the same grid in both: the same coverage, from one index
    assert county["covered_share_a"] == county["covered_share_b"]
    assert county["covered_share_diff"] == 0 and county["mean_minutes_diff"] == 0
    assert 0 < county["covered_share_a"] < 1 and county["mean_minutes_a"] > 0
    assert out["balance_a"]["n_grids"] == 5 and out["balance_b"]["n_grids"] == 3
    assert out["provenance"]["facilities"] == "illustrative"
    assert out["provenance"]["facilities_note"] == "illustrative: not real locations"
    assert out["minutes"] == 15 and out["model"]["cell_m"] == 1000


def _refused(capsys, store, *args, says: str) -> None:
    """The command is refused in Chinese in one line, exit 2, and the store is unchanged."""
    before = _versions(store)
    code, out, err = run(capsys, *args, "--store", store, "--lang", "zh")
    assert (code, out) == (2, "") and err.count("\n") == 1, err
    assert err.startswith("gridplan: error: ") and says in err, err
    assert _versions(store) == before


def test_bad_input_is_refused_and_changes_nothing(tmp_path, capsys, store, rizhao_files):
    preset, _ = rizhao_files
    ok(capsys, "scenario", "save", "--from-plan", preset, "--name", "甲", "--store", store)
    ok(capsys, "scenario", "save", "--from-plan", preset, "--name", "乙", "--store", store)
    sjz = tmp_path / "sjz.json"
    ok(capsys, "grids", "--preset", "shijiazhuang", "-o", sjz)
    _refused(capsys, store, "scenario", "save", "--from-plan", sjz, "--id", 1,
             says="该方案属于地级市 130100，而不是 371100")  # fmt: skip
    unknown = tmp_path / "unknown.json"
    plan = json.loads(preset.read_text(encoding="utf-8"))
    plan["grids"][0]["units"].append("371199")
    unknown.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    _refused(capsys, store, "scenario", "save", "--from-plan", unknown, "--name", "丙",
             says="1 个单元代码不是日照市的单元：371199")  # fmt: skip
    _refused(capsys, store, "scenario", "save", "--from-plan", unknown, "--id", 1,
             says="1 个单元代码不是日照市的单元：371199")  # fmt: skip
    cut = tmp_path / "cut.json"
    cut.write_bytes(preset.read_bytes()[:100])
    _refused(capsys, store, "scenario", "save", "--from-plan", cut, "--name", "丁",
             says="cut.json 不是有效的 JSON")  # fmt: skip
    _refused(capsys, store, "scenario", "save", "--from-plan", preset, says="新建方案需要名称")
    _refused(capsys, store, "scenario", "save", "--from-plan", preset, "--id", 9,
             says="方案 9 不存在")  # fmt: skip
    _refused(capsys, store, "scenario", "show", 9, says="方案 9 不存在")
    _refused(capsys, store, "scenario", "compare", 1, 9, says="方案 9 不存在")
    _refused(capsys, store, "scenario", "show", 1, "--version", 3,
             says="方案 1 没有第 3 版（共 1 版）")  # fmt: skip
    _refused(capsys, store, "scenario", "export", 1, "-o", tmp_path / "x.csv",
             says="方案文件名须以 .json, .geojson, .gpkg, .shp.zip, .xlsx 之一结尾")  # fmt: skip

    deleted = ok(capsys, "scenario", "delete", 2, "--store", store, "--lang", "zh")
    assert deleted["deleted"] is True and deleted["recoverable_days"] == 30
    assert deleted["message"] == "方案 2 已删除，30 天内可用 gridplan scenario restore 2 恢复。"
    assert [s["id"] for s in ok(capsys, "scenario", "list", "--store", store)] == [1]
    for args in (("show", 2), ("export", 2, "-o", tmp_path / "y.json"), ("compare", 1, 2),
                 ("save", "--from-plan", preset, "--id", 2), ("delete", 2)):  # fmt: skip
        _refused(capsys, store, "scenario", *args, says="方案 2“乙”已删除")
    assert not (tmp_path / "y.json").exists()
    restored = ok(capsys, "scenario", "restore", 2, "--store", store)
    assert restored == {"id": 2, "name": "乙", "versions": 1, "deleted": False}


def test_shared_options_count_before_and_after_the_action(capsys, store, monkeypatch):
    code, _, err = run(capsys, "scenario", "--lang", "zh", "--store", store, "show", 4)
    assert code == 2 and "方案 4 不存在" in err
    code, _, err = run(capsys, "scenario", "show", 4, "--store", store)
    assert code == 2 and err == "gridplan: error: no scenario 4\n"  # English: the raw message
    monkeypatch.setenv("GRIDPLAN_STORE", store)  # the default store: $GRIDPLAN_STORE
    assert ok(capsys, "scenario", "list") == []
