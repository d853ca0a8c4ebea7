"""Hostile and careless input through the dashboard (issue 9, items 3, 5, 6 and 8).

* spreadsheet formula injection: names a spreadsheet would run as formulas are
  quoted in every CSV and Excel export, numbers stay numbers;
* Markdown and HTML from planners' files are shown as text (messages, tooltips);
* uploads live in a private per-session folder under generated names, are written
  atomically, go away with the session; a vanished file gives a message;
* the dashboard's upload limit is the readers' limit.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import stat
import time
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridplan import settings
from gridplan.report.tables import (
    frames_to_xlsx,
    neutralise_formulas,
    neutralise_text,
    table_to_csv,
)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
#: Names that a spreadsheet program would run as formulas (OWASP CSV injection).
FORMULAS = [
    "=1+1",
    "+cmd",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://x","y")',
    "＝1+1",
    " =1+1",
]
#: A column header that made the dashboard fetch an image and show a link.
MD_ATTACK = "![x](http://127.0.0.1:9/x.png)[click](http://evil)"
HTML_ATTACK = "<img src=x onerror=alert(1)>"
ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def page(name: str, **state) -> AppTest:
    at = AppTest.from_file(f"../pages/{name}.py", default_timeout=TIMEOUT)
    for k, v in state.items():
        at.session_state[k] = v
    return at


def shown(at: AppTest) -> str:
    """Every message body of a run, as the Markdown Streamlit gets."""
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.success, *at.caption)]
    return "\n".join(str(p) for p in parts)


def unescaped_punctuation(markdown: str) -> list[str]:
    """ASCII punctuation of ``markdown`` that is not backslash-escaped (may start Markdown)."""
    out, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\":
            i += 2
            continue
        if markdown[i] in ASCII_PUNCT:
            out.append(markdown[i])
        i += 1
    return out


def csv_cells(data: bytes) -> list[list[str]]:
    """The cells of a CSV download, without its ``# note`` line."""
    text = data.decode("utf-8-sig")
    if text.startswith("# "):
        text = text.split("\n", 1)[1]
    return list(csv.reader(io.StringIO(text, newline="")))


def in_excel(name: str) -> str:
    """A neutralised name as it is compared after an Excel round trip: openpyxl keeps a
    carriage return when lxml writes the XML and turns it into a line feed otherwise, so
    both sides of a comparison go through :func:`same_lines`."""
    return same_lines("'" + name)


def same_lines(text: object) -> object:
    return text.replace("\r", "\n") if isinstance(text, str) else text


def no_formula_cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [c.coordinate for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]  # fmt: skip


# --- the formula neutraliser ---------------------------------------------------------------


@pytest.mark.parametrize("name", FORMULAS)
def test_formula_text_is_quoted(name):
    assert neutralise_text(name) == "'" + name


@pytest.mark.parametrize(
    "value", ["长安医疗集团", "A-1", "", "-12", "+3.5", "-1e3", -5, -2.5, None]
)
def test_plain_text_and_numbers_are_left_alone(value):
    assert neutralise_text(value) == value


def test_neutralise_formulas_changes_text_cells_only():
    df = pd.DataFrame(
        {"name": ["=1+1", "长安", None], "population": [-3, 5, 7], "share": [-0.5, 0.1, 0.2]}
    )
    out = neutralise_formulas(df)
    assert out["name"].tolist()[:2] == ["'=1+1", "长安"] and pd.isna(out["name"].iloc[2])
    assert out["population"].tolist() == [-3, 5, 7]
    assert out["population"].dtype == df["population"].dtype
    assert out["share"].tolist() == [-0.5, 0.1, 0.2]
    assert df["name"].iloc[0] == "=1+1"  # the caller's table is not changed


def test_csv_and_excel_writers_quote_every_formula():
    df = pd.DataFrame({"name": FORMULAS, "population": range(-1, len(FORMULAS) - 1)})
    rows = csv_cells(table_to_csv(df, note="=note"))
    assert [r[0] for r in rows[1:]] == ["'" + n for n in FORMULAS]
    assert [int(r[1]) for r in rows[1:]] == list(df["population"])
    data = frames_to_xlsx({"t": df})
    assert no_formula_cells(data) == []
    book = openpyxl.load_workbook(io.BytesIO(data))
    names = [same_lines(c.value) for c in book["t"]["A"][1:]]
    assert names == [in_excel(n) for n in FORMULAS]
    assert [c.value for c in book["t"]["B"][1:]] == list(df["population"])


def test_excel_writer_stores_a_leftover_formula_as_text():
    from gridplan.report.tables import _no_formula_cells

    book = openpyxl.Workbook()
    book.active["A1"] = "=1+1"
    assert book.active["A1"].data_type == "f"
    _no_formula_cells(book.active)
    buf = io.BytesIO()
    book.save(buf)
    assert no_formula_cells(buf.getvalue()) == []


# --- every export -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_plan():
    from gridplan.plan.grids import GridPlan
    from gridplan.plan.units import build_units

    plan = GridPlan.from_preset("chuxiong")
    for i, g in enumerate(plan.grids):  # every grid named as an attacker would
        g.name = g.lead_hospital = FORMULAS[i % len(FORMULAS)]
    return plan, build_units(plan.prefecture)


def test_plan_csv_quotes_formula_names(hostile_plan):
    from gridplan.report.exports import plan_to_csv

    plan, units = hostile_plan
    rows = csv_cells(plan_to_csv(plan, units, lang="en"))
    header, body = rows[0], rows[1:]
    assigned = [r for r in body if r[header.index("grid_id")]]
    used = {g.name for g in plan.grids}
    for col in ("grid_name", "lead_hospital"):
        names = [r[header.index(col)] for r in assigned]
        assert names and all(n.startswith("'") and n[1:] in used for n in names)
    pops = [r[header.index("population")] for r in body if r[header.index("population")]]
    assert all(float(p) >= 0 for p in pops)  # numbers stay numbers, unquoted


def test_ui_csv_and_kpi_excel_quote_formula_names():
    from gridplan import workflow
    from gridplan.access.coverage import KpiTables
    from gridplan.plan.grids import GridPlan
    from gridplan.report.workbooks import CoverageAbout, coverage_workbook
    from ui.panels.common import csv_with_note
    from ui.panels.coverage import kpi_csv

    by_grid = pd.DataFrame({"name": FORMULAS, "population": 1.0, "share": -0.0})
    assert [r[0] for r in csv_cells(csv_with_note("note", by_grid))[1:]] == [
        "'" + n for n in FORMULAS
    ]
    # the KPI CSV and workbook (gridplan.report.workbooks) of a plan whose grids carry those names
    plan, units = workflow.plan_and_units("rizhao", None)
    d = plan.to_dict()
    d["grids"] = [{**d["grids"][0], "grid_id": f"g{i}", "name": n, "units": []}
                  for i, n in enumerate(FORMULAS)]  # fmt: skip
    plan = GridPlan.from_dict(d)
    by_grid = by_grid.assign(grid_id=[g.grid_id for g in plan.grids], covered=0.5,
                             reachable=1.0, unreachable=0.0, unreachable_share=0.0,
                             mean_minutes=1.0, median_minutes=1.0, p90_minutes=1.0,
                             not_assessed=0.0)  # fmt: skip
    by_unit = units.units[["unit_id", "name", "level"]].assign(
        grid_id=None, population=1.0, covered=0.5, share=0.5, reachable=1.0, unreachable=0.0,
        unreachable_share=0.0, mean_minutes=1.0,
        median_minutes=1.0, p90_minutes=1.0, not_assessed=0.0,
    )  # fmt: skip
    summary = {"population": 1.0, "covered": 0.5, "share": 0.5, "reachable": 1.0,
               "unreachable": 0.0, "unreachable_share": 0.0, "mean_minutes": 1.0,
               "median_minutes": 1.0, "p90_minutes": 1.0,
               "not_assessed_population": 0.0}  # fmt: skip
    facilities = pd.DataFrame({"name": FORMULAS, "type": FORMULAS, "source": "uploaded"})
    served = pd.DataFrame({"served": [1.0] * len(FORMULAS)})
    tables = KpiTables(summary, by_grid, by_unit)
    about = CoverageAbout(15, "straight", "walk", 4.8, 1.3, 100.0)
    kpis = csv_cells(kpi_csv(tables, about, "note", "zh"))
    assert [r[1] for r in kpis[1:]] == ["'" + n for n in FORMULAS]  # 网格名称, after 网格编号
    xlsx = coverage_workbook(
        tables, plan, units, facilities=facilities, served=served, about=about
    )  # fmt: skip
    assert no_formula_cells(xlsx) == []
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    for column in (book["按网格"]["B"][1:], book["按机构"]["A"][1:]):
        assert [same_lines(c.value) for c in column] == [in_excel(n) for n in FORMULAS]


def test_sites_csv_quotes_formula_names():
    from ui.panels.common import csv_with_note

    sites = pd.DataFrame(
        {"site": range(len(FORMULAS)), "name": FORMULAS, "unit_name": FORMULAS[::-1],
         "lon": 114.5, "lat": -38.0}
    )  # fmt: skip
    rows = csv_cells(csv_with_note("人口：上传数据", sites))
    header = rows[0]
    assert [r[header.index("name")] for r in rows[1:]] == ["'" + n for n in FORMULAS]
    assert {r[header.index("lat")] for r in rows[1:]} == {"-38.0"}


# --- Markdown and HTML shown as text --------------------------------------------------------


MD_SAMPLES = [MD_ATTACK, HTML_ATTACK, "*a* _b_ `c` | # $x$ :red[y] ~~z~~ &lt; www.x.cn", "a\n\n# b"]


@pytest.mark.parametrize("text", MD_SAMPLES)
def test_md_text_escapes_every_markdown_character(text):
    from ui.texts import md_text

    out = md_text(text)
    assert unescaped_punctuation(out) == []
    assert "\n" not in out and "![" not in out
    assert out.replace("\\", "") == " ".join(text.replace("\\", "").splitlines())


def test_md_lines_keeps_lines_apart():
    from ui.texts import md_lines

    out = md_lines(f"first {MD_ATTACK}\n• second")
    assert out.split("  \n")[1] == "• second" and unescaped_punctuation(out) == []


def test_unexpected_errors_never_show_their_text():
    from ui.panels.common import error_message

    msg = error_message(OSError(36, "File name too long", "/tmp/gridplan-session-x/secret"))
    assert "/tmp" not in msg and "secret" not in msg and "意外错误" in msg


def test_error_params_show_the_uploaded_name_not_the_stored_one(tmp_path, monkeypatch):
    from gridplan.errors import UploadError
    from ui import state
    from ui.panels.common import error_message
    from ui.uploads import SessionFolder

    folder = SessionFolder(tmp_path)
    path = folder.save(b"a,b\n", "人口表.csv")
    monkeypatch.setattr(state, "shown_text", folder.shown)
    exc = UploadError("bad", code="upload.empty", params={"filename": path.name})
    msg = error_message(exc)
    assert "人口表.csv" in msg and path.name not in msg and str(tmp_path) not in msg
    folder.close()


def test_population_header_with_markdown_is_shown_as_text():
    at = page("grids").run()
    assert not at.exception
    table = f"{MD_ATTACK},人口\n长安区,1000\n".encode()
    at.file_uploader(key="pop_file").set_value((f"{MD_ATTACK}.csv", table, "text/csv"))
    at.button(key="FormSubmitter:uploads-加载").click().run()
    assert not at.exception
    body = "\n".join(str(e.value) for e in at.error)
    assert "上传失败，已保留原有数据" in body
    assert "![" not in body and "](" not in body
    assert "x\\]\\(http\\:" in body  # the header is there, every character escaped


def test_unit_names_with_html_go_to_text_tooltips():
    import json

    import geopandas as gpd

    from gridplan.plan.grids import GridPlan, resolve_assignment
    from gridplan.plan.units import build_units
    from gridplan.report.boundaries import unit_borders
    from gridplan.report.style import grid_colors
    from ui.mapview import build_deck, fitted_deck

    plan = GridPlan.from_preset("chuxiong")
    plan.grids[0].name = HTML_ATTACK
    units = build_units(plan.prefecture)
    display = gpd.GeoSeries(units.units.geometry.simplify(0.01), crs="EPSG:4326")
    assignment = resolve_assignment(plan, units.units)
    deck = build_deck(units.units, display, assignment, {g.grid_id: g.name for g in plan.grids},
                      grid_colors(plan), borders=unit_borders(units))  # fmt: skip
    for d in (deck, fitted_deck([], (100.0, 24.0, 102.0, 26.0), "{name}\n{type_label}")):
        tooltip = json.loads(json.dumps(d._tooltip))
        assert "html" not in tooltip and "text" in tooltip  # shown with innerText
    units_layer = json.loads(deck.to_json())["layers"][0]
    names = {f["properties"]["grid_name"] for f in units_layer["data"]["features"]}
    assert HTML_ATTACK in names  # the name itself, shown as those characters


def test_streamlit_pin_escapes_html_tooltips():
    with (ROOT / "pyproject.toml").open("rb") as f:
        dash = tomllib.load(f)["project"]["optional-dependencies"]["dashboard"]
    pin = next(d for d in dash if d.startswith("streamlit"))
    assert pin.startswith("streamlit>=")
    version = tuple(int(x) for x in pin.removeprefix("streamlit>=").split("."))
    assert version >= (1, 60)  # the first release with streamlit/streamlit#15820


# --- uploads on disk ------------------------------------------------------------------------


def test_session_folder_life_cycle(tmp_path):
    from ui.uploads import FOLDER_PREFIX, SessionFolder

    folder = SessionFolder(tmp_path)
    where = folder.path
    assert where.parent == tmp_path and where.name.startswith(FOLDER_PREFIX)
    assert stat.S_IMODE(where.stat().st_mode) == 0o700  # no other user reads it
    a = folder.save(b"x,y\n1,2\n", "../../etc/长" * 40 + ".CSV")
    assert a.parent == where and a.suffix == ".csv" and len(a.name) < 64
    assert a.read_bytes() == b"x,y\n1,2\n"
    assert folder.save(b"x,y\n1,2\n", "again.csv") == a  # same content, same file
    assert [p.name for p in where.iterdir()] == [a.name]  # no temporary file left
    del folder
    gc.collect()
    assert not where.exists()  # the session dropped it: gone
    other = SessionFolder(tmp_path)
    other.save(b"1", "a.tif")
    other.close()
    assert not other.path.exists() and other.closed


def test_upload_is_written_atomically(tmp_path, monkeypatch):
    from ui import uploads

    target = tmp_path / "f.csv"
    target.write_bytes(b"old")

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uploads.os, "replace", crash)
    with pytest.raises(OSError):
        uploads.write_atomically(target, b"new content")
    assert target.read_bytes() == b"old"  # never half a file
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]  # the temporary file went too


def test_stale_session_folders_are_swept(tmp_path):
    from ui.uploads import FOLDER_PREFIX, sweep_stale_folders

    old, fresh, foreign = (tmp_path / f"{FOLDER_PREFIX}old", tmp_path / f"{FOLDER_PREFIX}new",
                           tmp_path / "someone-else")  # fmt: skip
    for d in (old, fresh, foreign):
        d.mkdir()
        (d / "f").write_bytes(b"1")
    two_days_ago = time.time() - 48 * 3600
    for d in (old, foreign):
        os.utime(d, (two_days_ago, two_days_ago))
    assert sweep_stale_folders(tmp_path, max_age_h=24) == [old]
    assert not old.exists() and fresh.exists() and foreign.exists()


def test_long_chinese_file_name_on_the_siting_candidates_uploader():
    at = page("siting").run()
    assert not at.exception
    at.selectbox(key="sit_cell_secondary").set_value(1000)
    at.number_input(key="sit_k_secondary").set_value(1)
    at.selectbox(key="sit_src_secondary").set_value("list")
    name = "石家庄市基层医疗卫生机构候选站点" * 6 + ".csv"  # 96 characters, 286 bytes
    assert len(name.encode()) > 255
    rows = "名称,经度,纬度\n候选一,114.50,38.04\n候选二,114.55,38.00\n"
    at.file_uploader(key="sit_cand_file_secondary").set_value((name, rows.encode(), "text/csv"))
    at.button(key="FormSubmitter:sit_form_secondary-运行选址").click().run()
    assert not at.exception
    stored = at.session_state["siting_files"][("secondary", "cand")]
    assert Path(stored.path).is_file() and Path(stored.path).name != name
    assert any("最优" in str(x.value) or "完成" in str(x.value) for x in at.success)
    folder = Path(stored.path).parent
    del at, stored
    gc.collect()
    assert not folder.exists()  # the session went: its uploads went with it


def test_vanished_uploads_give_a_message_and_the_defaults(tmp_path):
    gone = tmp_path / "gone.csv"
    at = page("access", surface_path=str(gone), surface_datum="gcj02",
              roads_path=str(tmp_path / "roads.osm"))  # fmt: skip
    at.session_state["acc_cell"] = 1000
    at.run()
    assert not at.exception
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert "人口栅格或点表" in warnings and "道路文件" in warnings and "重新上传" in warnings
    assert "surface_path" not in at.session_state and "roads_path" not in at.session_state
    at.run()  # said once
    assert "重新上传" not in "\n".join(str(w.value) for w in at.warning)


def test_vanished_township_layer_falls_back_to_the_embedded_units(tmp_path):
    at = page("grids", township_path=str(tmp_path / "tw.geojson"), upload_report=["已加载"])
    at.run()
    assert not at.exception
    assert "乡镇边界文件" in shown(at) and "upload_report" not in at.session_state
    assert len(at.dataframe[0].value) >= 2  # the grids of the embedded units


def test_dashboard_upload_limit_is_the_readers_limit():
    with (ROOT / ".streamlit" / "config.toml").open("rb") as f:
        config = tomllib.load(f)
    assert config["server"]["maxUploadSize"] == settings.max_upload_mb


def test_long_chinese_file_name_on_the_road_uploader():
    at = page("access")
    at.session_state["acc_model"] = "network"
    at.session_state["acc_cell"] = 1000
    at.run()
    name = "石家庄市道路网络数据" * 10 + ".osm"  # 100 characters, 294 bytes
    at.file_uploader(key="roads_file").set_value((name, b"<osm version='0.6'/>", "text/xml"))
    at.run()
    assert not at.exception
    body = "\n".join(str(e.value) for e in at.error)
    assert "上传失败，已保留原有数据" in body
    assert "石家庄市道路网络数据" in body  # the uploaded name, not the stored one
    assert "gridplan-session-" not in body and "/tmp" not in body


def test_every_stored_upload_kind_has_a_name_in_messages():
    from ui.state import STORED_FILES
    from ui.texts import UPLOAD_KIND

    assert set(UPLOAD_KIND.members) == {*STORED_FILES, "siting_cand", "siting_excl"}
