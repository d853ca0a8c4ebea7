"""Hostile and careless tables (issue 9): bounded reading, rejected impossible values, messages.

Every table upload (population tables, facility, candidate and hospital lists,
settlement points) goes through :func:`gridplan.inputs.tables.read_table_upload`;
these tests feed it files made to exhaust it, and walk the command line's
error paths in Chinese.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridplan import settings
from gridplan._cli_output import json_safe
from gridplan.cli import main
from gridplan.errors import FacilitiesError, UploadError
from gridplan.facilities.reader import (
    ROW_REASONS,
    SHOWN_REJECTIONS,
    _name_key,
    _near_duplicates,
    read_facilities,
)
from gridplan.i18n import MESSAGES, error_text
from gridplan.inputs.columns import column_numbers
from gridplan.inputs.tables import read_table_rows, read_table_upload
from gridplan.inputs.workbook import workbook_sheets

HEADER = "机构名称,机构类型,经度,纬度,床位\n"
GOOD = "长安区社区卫生服务中心,社区卫生服务中心,114.54,38.05,40\n"


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def xlsx(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_excel(buf, index=False, engine="openpyxl")
    return buf.getvalue()


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """A copy of the zip ``data`` with some members' content replaced (deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = replace.get(info.filename, src.read(info))
            dst.writestr(info.filename, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def sheet_xml(rows: str) -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    body = f'<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>'
    return ('<?xml version="1.0"?>' + body).encode()


def small_workbook() -> bytes:
    return xlsx(pd.DataFrame({"name": ["a", "b"], "pop": [1, 2]}))


# --------------------------------------------------------------------------------------
# CSV bounds


def test_csv_million_rows_refused_at_the_row_limit(monkeypatch):
    monkeypatch.setattr(settings, "max_table_rows", 1_000)
    data = b"a,b\n" + b"1,2\n" * 1_000_000
    with pytest.raises(UploadError) as info:
        read_table_upload(data, "big.csv")
    exc = info.value
    assert exc.code == "upload.too_many_rows" and exc.params["limit"] == 1_000
    assert "1,000" in error_text(exc, "zh") and has_cjk(error_text(exc, "zh"))
    # at the limit the table loads
    frame, _ = read_table_upload(b"a,b\n" + b"1,2\n" * 1_000, "ok.csv")
    assert len(frame) == 1_000


def test_csv_columns_and_cells_bounded(monkeypatch):
    wide = ",".join(f"c{i}" for i in range(settings.max_table_columns + 1)).encode()
    with pytest.raises(UploadError) as info:
        read_table_upload(wide + b"\n" + b"1," * settings.max_table_columns + b"1\n", "wide.csv")
    assert info.value.code == "upload.too_many_columns"
    monkeypatch.setattr(settings, "max_table_cells", 100)
    with pytest.raises(UploadError) as info:
        read_table_upload(b"a,b,c,d\n" + b"1,2,3,4\n" * 30, "cells.csv")
    assert info.value.code == "upload.too_many_cells"
    frame, _ = read_table_upload(b"a,b,c,d\n" + b"1,2,3,4\n" * 20, "cells.csv")
    assert frame.shape == (20, 4)


def test_cell_text_bounded(monkeypatch):
    monkeypatch.setattr(settings, "max_cell_chars", 50)
    with pytest.raises(UploadError) as info:
        read_table_upload(("name,pop\nok,1\n" + "x" * 51 + ",2\n").encode(), "long.csv")
    assert info.value.code == "upload.cell_too_long"
    assert info.value.params["row"] == 3 and info.value.params["column"] == 1
    with pytest.raises(UploadError) as info:
        read_table_upload(xlsx(pd.DataFrame({"name": ["ok", "y" * 60]})), "long.xlsx")
    assert info.value.code == "upload.cell_too_long" and info.value.params["row"] == 3


# --------------------------------------------------------------------------------------
# workbooks


def test_workbook_reads_as_pandas_does():
    frame = pd.DataFrame(
        {
            "区划代码": ["0130102", "0130104", None, "0130105"],
            "name": ["长安区", "桥西区", None, "新华区"],
            "pop": [1.5, 2.0, None, 3.25],
            "n": [1, 2, None, 4],
        }
    )
    data = xlsx(frame)
    ours, report, rows = read_table_rows(data, "t.xlsx")
    theirs = pd.read_excel(io.BytesIO(data), dtype={"区划代码": str}).dropna(how="all")
    pd.testing.assert_frame_equal(ours, theirs.reset_index(drop=True))
    assert report.n_dropped == 1 and list(rows) == [2, 3, 5]


def test_workbook_rows_and_padding_bounded(monkeypatch):
    monkeypatch.setattr(settings, "max_table_rows", 20)
    data = xlsx(pd.DataFrame({"a": range(50)}))
    with pytest.raises(UploadError) as info:
        read_table_upload(data, "rows.xlsx")
    assert info.value.code == "upload.too_many_rows"
    monkeypatch.setattr(settings, "max_table_rows", 100)
    assert len(read_table_upload(data, "rows.xlsx")[0]) == 50
    monkeypatch.setattr(settings, "max_table_rows", 1_000)
    # a blank cell in the last Excel column: openpyxl pads each row to 16,384 cells
    padded = "".join(
        f'<row r="{i}"><c r="A{i}"><v>1</v></c><c r="XFD{i}" s="0"/></row>' for i in range(1, 400)
    )
    bomb = rezip(small_workbook(), {"xl/worksheets/sheet1.xml": sheet_xml(padded)})
    with pytest.raises(UploadError) as info:
        read_table_upload(bomb, "padded.xlsx")
    assert info.value.code == "upload.too_many_cells"


def test_workbook_row_number_beyond_excel_refused():
    rows = '<row r="1"><c t="inlineStr"><is><t>a</t></is></c></row>'
    rows += '<row r="999999999999"><c><v>1</v></c></row>'
    data = rezip(small_workbook(), {"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    with pytest.raises(UploadError) as info:
        read_table_upload(data, "far.xlsx")
    assert info.value.code == "upload.too_many_rows"


def test_xlsx_zip_bomb_refused_before_openpyxl(monkeypatch):
    sheet = sheet_xml('<row r="1"><c><v>1</v></c></row>' + " " * 3_000_000)
    bomb = rezip(small_workbook(), {"xl/worksheets/sheet1.xml": sheet})
    assert len(bomb) < 50_000
    opened = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(1))
    with pytest.raises(UploadError) as info:
        read_table_upload(bomb, "bomb.xlsx")
    assert info.value.code == "upload.xlsx_ratio" and not opened
    assert has_cjk(error_text(info.value, "zh"))
    monkeypatch.setattr(settings, "max_xlsx_uncompressed_mb", 1.0)
    with pytest.raises(UploadError) as info:
        read_table_upload(bomb, "bomb.xlsx")
    assert info.value.code == "upload.too_large" and not opened


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def laughs_workbook() -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (
        f'{BILLION_LAUGHS}<worksheet xmlns="{ns}"><sheetData><row r="1">'
        '<c t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    return rezip(small_workbook(), {"xl/worksheets/sheet1.xml": sheet.encode()})


def test_billion_laughs_workbook_refused():
    with pytest.raises(UploadError) as info:
        read_table_upload(laughs_workbook(), "lol.xlsx")
    assert info.value.code == "upload.xlsx_dtd"
    utf16 = rezip(small_workbook(), {"xl/styles.xml": BILLION_LAUGHS.encode("utf-16")})
    with pytest.raises(UploadError) as info:
        read_table_upload(utf16, "lol16.xlsx")
    assert info.value.code == "upload.xlsx_dtd"


def test_openpyxl_parses_with_defusedxml():
    """Even past the DTD check, openpyxl refuses entities: it parses with defusedxml."""
    import defusedxml
    import openpyxl

    assert openpyxl.DEFUSEDXML
    with pytest.raises(ValueError) as info:  # openpyxl wraps the parser's refusal
        list(workbook_sheets(io.BytesIO(laughs_workbook()), "lol.xlsx"))
    assert isinstance(info.value.__cause__, defusedxml.EntitiesForbidden)


def test_old_xls_refused():
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    with pytest.raises(UploadError) as info:
        read_table_upload(ole2, "old.xls")
    assert info.value.code == "upload.xls_old" and ".xlsx" in error_text(info.value, "zh")


def test_macro_workbook_gives_its_values():
    data = xlsx(pd.DataFrame({"name": ["a"], "pop": [3]}))
    frame, report = read_table_upload(data, "macro.xlsm")
    assert report.driver == "Excel" and frame["pop"].tolist() == [3]


# --------------------------------------------------------------------------------------
# impossible numbers


def test_non_finite_and_huge_values_are_rejected_rows():
    rows = [
        GOOD,
        "甲卫生院,乡镇卫生院,1e400,38.05,10\n",
        "乙卫生院,乡镇卫生院,114.5,inf,10\n",
        "丙卫生院,乡镇卫生院,114.5,38.1,1e400\n",
        "丁卫生院,乡镇卫生院,114.5,38.2,inf\n",
        "戊卫生院,乡镇卫生院,114.5,38.3,1000000000\n",
        "己卫生院,乡镇卫生院,-inf,38.4,5\n",
    ]
    table, report = read_facilities((HEADER + "".join(rows)).encode(), "f.csv")
    assert list(table["name"]) == ["长安区社区卫生服务中心"]
    reasons = dict(zip(report.rejected["row"], report.rejected["code"], strict=True))
    assert reasons == {
        3: "not_finite",
        4: "not_finite",
        5: "bad_count",
        6: "bad_count",
        7: "bad_count",
        8: "not_finite",
    }
    texts = report.rejection_table("zh")["reason"]
    assert all(has_cjk(x) and "{" not in x for x in texts)


def test_non_finite_population_values_are_flagged():
    values, missing, bad = column_numbers(pd.Series(["1e400", "inf", "12", "", "-inf"]))
    assert list(bad) == [True, True, False, False, True] and list(missing)[3]
    assert values[2] == 12


# --------------------------------------------------------------------------------------
# no usable row


def all_rejected_csv(n: int = 7) -> bytes:
    rows = [f"第{i}卫生院,乡镇卫生院,{200 + i},38.0\n" for i in range(n)]
    return ("机构名称,机构类型,经度,纬度\n" + "".join(rows)).encode()


def test_all_rows_rejected_names_the_first_rows():
    with pytest.raises(FacilitiesError) as info:
        read_facilities(all_rejected_csv(), "bad.csv")
    exc = info.value
    zh, en = error_text(exc, "zh"), error_text(exc, "en")
    for k in range(SHOWN_REJECTIONS):
        assert f"第 {k + 2} 行（第{k}卫生院）" in zh and f"Row {k + 2} (第{k}卫生院)" in en
    assert f"第 {SHOWN_REJECTIONS + 2} 行（" not in zh  # the first rows only
    assert "经纬度超出有效范围" in zh and "out of range" in en and "{" not in zh + en
    assert f"row {SHOWN_REJECTIONS + 1}" in str(exc)  # English one-liner for scripts


def test_every_row_reason_has_a_listed_text():
    for reason in ROW_REASONS:
        entry = MESSAGES[f"facilities.rejected.{reason}"]
        assert has_cjk(entry["zh"]) and "{row}" in entry["zh"] and "{name}" in entry["en"]


def test_all_rejected_list_through_the_cli(capfd, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(all_rejected_csv())
    code = main(["propose-grids", "--preset", "rizhao", "--hospitals", str(bad), "--lang", "zh"])
    out, err = capfd.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "第 2 行（第0卫生院）" in err and "第 6 行" in err and str(tmp_path) not in err


# --------------------------------------------------------------------------------------
# the duplicate-name check


def quadratic_duplicates(names, xy, radius):
    """The check as it was: each item against every earlier item kept, in order."""
    out, kept = [], {}
    for i, n in enumerate(names):
        if not n:
            continue
        group = kept.setdefault(_name_key(n), [])
        hit = next(
            ((i, j, float(np.hypot(*(xy[i] - xy[j])))) for j in group
             if float(np.hypot(*(xy[i] - xy[j]))) < radius),
            None,
        )  # fmt: skip
        if hit is None:
            group.append(i)
        else:
            out.append(hit)
    return sorted(out)


def test_duplicate_check_matches_the_quadratic_one(monkeypatch):
    # metres as given: the projection is not what is tested here
    monkeypatch.setattr(
        "gridplan.facilities.reader._metric_xy", lambda lon, lat: np.column_stack([lon, lat])
    )
    # a chain: B repeats A (40 m), C is 40 m from B but 80 m from A, so C is kept
    x = np.array([0.0, 40.0, 80.0, 0.0, 49.99, 50.0, 1000.0, 1000.0])
    y = np.zeros_like(x)
    names = ["A", "A", "A", "B", "B", "B", "A ", " A"]
    got = _near_duplicates(names, x, y, 50.0)
    assert sorted(got) == quadratic_duplicates(names, np.column_stack([x, y]), 50.0)
    assert [(i, j) for i, j, _ in sorted(got)] == [(1, 0), (4, 3), (7, 6)]
    rng = np.random.default_rng(9)
    n = 4_000
    x, y = rng.random(n) * 800, rng.random(n) * 800  # dense: many repeats and chains
    names = [f"站{k}" for k in rng.integers(0, 4, n)]
    names[::97] = [""] * len(names[::97])
    got = _near_duplicates(names, x, y, 50.0)
    assert len(got) > 1_000
    assert sorted(got) == quadratic_duplicates(names, np.column_stack([x, y]), 50.0)


# --------------------------------------------------------------------------------------
# the command line


def test_json_safe():
    value = {
        "a": float("nan"),
        "b": [float("inf"), -math.inf, 1.5, np.float64("nan"), np.float32(2.5)],
        "c": (np.int64(3), np.bool_(True)),
        "d": np.array([1.0, np.nan]),
        "e": {"f": "text", "g": None},
    }
    safe = json_safe(value)
    assert safe == {
        "a": None,
        "b": [None, None, 1.5, None, 2.5],
        "c": [3, True],
        "d": [1.0, None],
        "e": {"f": "text", "g": None},
    }
    json.dumps(safe, allow_nan=False)
    with pytest.raises(ValueError):
        json.dumps(value["b"][:1], allow_nan=False)


def check_zh_line(code: int, out: str, err: str, tmp: Path | None = None) -> None:
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and err.startswith("gridplan: error: "), err
    assert has_cjk(err) and "Traceback" not in err, err
    assert "/tmp/" not in err and "/etc/" not in err, err
    if tmp is not None:
        assert str(tmp) not in err


USAGE_ERRORS = [
    [],
    ["nosuchcommand"],
    ["regions"],
    ["regions", "--prefecture"],
    ["regions", "--prefecture", "日照市", "--bogus", "1"],
    ["regions", "--prefecture", "日照市", "--datum", "mars"],
    ["grids"],
    ["grids", "--preset", "nowhere"],
    ["grids", "--preset", "rizhao", "--prefecture", "日照市"],
    ["coverage", "--preset", "rizhao", "--minutes", "abc"],
    ["coverage", "--preset", "rizhao", "--model", "teleport"],
    ["coverage", "--preset", "rizhao", "--cell-m", "1e"],
    ["optimize", "--preset", "rizhao", "--k", "2.5"],
    ["optimize", "--preset", "rizhao", "--method", "magic"],
    ["optimize", "--preset", "rizhao", "--time-limit", "x"],
    ["propose-grids", "--preset", "rizhao", "--k", "many"],
    ["propose-grids", "--preset", "rizhao", "--balance", "--lang"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_command_line_errors_are_one_chinese_line(capfd, args):
    code = main([*args, "--lang", "zh"])
    check_zh_line(code, *capfd.readouterr())


def test_command_line_errors_in_english_are_one_line(capfd):
    code = main(["coverage", "--preset", "rizhao", "--minutes", "abc"])
    out, err = capfd.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "--minutes" in err


#: Each file option, the command that reads it, and the other options it needs.
FILE_OPTIONS = [
    ("--township-file", ["regions", "--prefecture", "日照市"]),
    ("--population-file", ["regions", "--prefecture", "日照市"]),
    ("--population", ["coverage", "--preset", "rizhao", "--cell-m", "1000"]),
    ("--facilities", ["coverage", "--preset", "rizhao", "--cell-m", "1000"]),
    ("--candidates", ["optimize", "--preset", "rizhao", "--cell-m", "1000"]),
    ("--roads", ["coverage", "--preset", "rizhao", "--cell-m", "1000", "--model", "network"]),
    ("--landcover", ["coverage", "--preset", "rizhao", "--cell-m", "1000", "--model", "raster"]),
    ("--dem", ["coverage", "--preset", "rizhao", "--cell-m", "1000", "--model", "raster"]),
    ("--exclude", ["optimize", "--preset", "rizhao", "--cell-m", "1000"]),
    ("--hospitals", ["propose-grids", "--preset", "rizhao"]),
]


@pytest.mark.parametrize(("option", "command"), FILE_OPTIONS, ids=[o for o, _ in FILE_OPTIONS])
@pytest.mark.parametrize("kind", ["missing", "garbage"])
def test_unreadable_file_options_are_one_chinese_line(capfd, tmp_path, option, command, kind):
    path = tmp_path / "上传" / "文件.csv"
    if kind == "garbage":
        path.parent.mkdir()
        path.write_bytes(b"\x00\x01\x02 not a table, raster or layer \xff\xfe" * 10)
    code = main([*command, option, str(path), "--lang", "zh"])
    out, err = capfd.readouterr()
    check_zh_line(code, out, err, tmp=tmp_path)
    assert "文件.csv" in err  # the refusal is about the file, named without its folders


def test_internal_failure_is_one_line_without_traceback(capfd, monkeypatch):
    import gridplan.cli as cli

    def boom(args):
        raise RuntimeError("secret detail at /srv/gridplan/x.py")

    command = cli._COMMANDS["regions"]
    monkeypatch.setitem(cli._COMMANDS, "regions", command.__class__(boom, "", command.options))
    code = main(["regions", "--prefecture", "日照市", "--lang", "zh"])
    out, err = capfd.readouterr()
    assert code == 1 and out == "" and err.count("\n") == 1
    assert has_cjk(err) and "Traceback" not in err and "secret" not in err
    monkeypatch.setenv("GRIDPLAN_DEBUG", "1")
    assert main(["regions", "--prefecture", "日照市"]) == 1
    _, err = capfd.readouterr()
    assert "Traceback" in err and re.search(r"Internal error", err)
