"""The report document (``gridplan report``), read back by readers GridPlan does not use to
write it: python-docx for the Word file, poppler's ``pdftotext``/``pdffonts``/``pdftoppm``
for the PDF.  Coverage runs on 1,000 m cells to keep the tests short."""

from __future__ import annotations

import contextlib
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from PIL import Image

from gridplan import workflow
from gridplan.cli import main
from gridplan.plan.grids import GridPlan
from gridplan.plan.importing import plan_to_json
from gridplan.report.document import build_document, fmt_people, fmt_share
from gridplan.store import open_store

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdffonts) not installed"
)

#: The headings of the Shijiazhuang report, in order (no siting, no comparison).
ZH_HEADINGS = [
    "1. 概要", "2. 网格划分图", "3. 网格一览表", "4. 方案校验结果", "5. 15分钟健康服务圈覆盖",
    "6. 对照政策文件的标准核查", "7. 附录：数据来源与方法",
]  # fmt: skip
EN_HEADINGS = [
    "1. Summary", "2. Grid map", "3. Grid table", "4. Validation of the plan",
    "5. 15-minute health-service coverage", "6. Check against the policy documents' standards",
    "7. Appendix: data sources and method",
]  # fmt: skip
SECTIONS = ["summary", "grid_map", "grid_table", "validation", "coverage", "standards", "appendix"]
#: Grid populations of the Shijiazhuang preset (2020 census), as the report writes them.
SJZ_POPULATIONS = {
    "新华医疗集团": "802,057",
    "长安医疗集团": "1,364,247",
    "桥西医疗集团": "979,646",
}
#: What a planner must never read in a report.
RAW = re.compile(r"\bnan\b|\bNone\b|\binf\b|NaN|_[0-9a-f]{16}\.txt|type_default")
FAST = ["--cell-m", "1000"]


def _run(capsys, *args: str) -> tuple[int, dict, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, (json.loads(out.out) if rc == 0 else {}), out.err


def _docx_text(path: Path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _table_with(d: docx.document.Document, header: str) -> list[list[str]]:
    for table in d.tables:
        rows = [[c.text for c in r.cells] for r in table.rows]
        if rows and rows[0][0] == header and len(rows[0]) > 2:
            return rows
    raise AssertionError(f"no table headed {header}")


@pytest.fixture(scope="module")
def sjz_reports(tmp_path_factory):
    """The Chinese Shijiazhuang report as Word and PDF, written by the CLI."""
    folder = tmp_path_factory.mktemp("report")
    outs = {}
    for suffix in ("docx", "pdf"):
        path = folder / f"石家庄.{suffix}"
        rc = main(["report", "--preset", "shijiazhuang", *FAST, "--author", "王规划",
                   "-o", str(path)])  # fmt: skip
        assert rc == 0
        outs[suffix] = path
    return outs


def test_report_json_says_what_was_written(tmp_path, capsys):
    rc, out, _ = _run(capsys, "report", "--preset", "shijiazhuang", *FAST,
                      "-o", str(tmp_path / "r.docx"))  # fmt: skip
    assert rc == 0
    assert out["output"] == "r.docx" and out["pages"] is None
    assert out["sections"] == SECTIONS
    assert out["bytes"] == (tmp_path / "r.docx").stat().st_size > 100_000


def test_word_report_has_the_annex_headings_tables_maps_and_exact_figures(sjz_reports):
    path = sjz_reports["docx"]
    d = docx.Document(str(path))
    headings = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert headings == ZH_HEADINGS
    assert len(d.inline_shapes) >= 2  # the grid map and the coverage map
    grid_table = _table_with(d, "网格")
    assert grid_table[0][:5] == ["网格", "牵头医院", "成员单位", "所含单元", "常住人口（人）"]
    rows = {r[0]: r for r in grid_table[1:]}
    for name, pop in SJZ_POPULATIONS.items():
        assert rows[name][4] == pop
    assert rows["新华医疗集团"][1] == "石家庄市第二医院（未定位）"  # named by the seed, not placed
    assert rows["新华医疗集团"][5] == "2020年人口普查"
    assert rows["井陉矿区县域医共体"][1] == "待明确"  # no lead hospital: said, not blank
    text = _docx_text(path)
    assert "石家庄市医疗卫生服务网格化布局规划附件" in text and "王规划" in text
    assert "11,235,086" in text  # the prefecture's residents, whole people
    assert "40.5%" in text  # 15-minute share, one decimal
    assert RAW.search(text) is None, RAW.search(text)


def test_word_report_checks_every_grid_against_the_three_policy_documents(sjz_reports):
    d = docx.Document(str(sjz_reports["docx"]))
    std = next(t for t in d.tables if [c.text for c in t.rows[0].cells][-1] == "结论")
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in std.rows[1:]}
    header = [c.text for c in std.rows[0].cells]
    lead = header.index("牵头医院")
    cover = header.index("15分钟可达覆盖率")
    assert rows["新华医疗集团"][lead] == "达标" and rows["井陉矿区县域医共体"][lead] == "未达标"
    assert rows["新华医疗集团"][cover] == "100.0% 达标"
    assert rows["新华医疗集团"][-1] == "达标" or "未达标" in rows["新华医疗集团"][-1]
    assert rows["井陉矿区县域医共体"][-1].endswith("项未达标")
    text = _docx_text(sjz_reports["docx"])
    for seed in ("日照市人民政府办公室关于进一步完善医疗卫生服务体系的实施意见",
                 "郑州市人民政府关于推进分级诊疗制度建设的实施意见",
                 "楚雄州紧密型城市医疗集团建设试点工作实施方案"):  # fmt: skip
        assert f"《{seed}" in text  # named by title, with issuer and date
    assert "示意网络，非真实位置" in text  # the illustrative facilities, said plainly


@needs_poppler
def test_pdf_report_has_real_chinese_text_embedded_fonts_and_renders(sjz_reports, tmp_path):
    path = sjz_reports["pdf"]
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    for heading in ZH_HEADINGS:
        assert re.sub(r"\s+", "", heading) in flat
    for name, pop in SJZ_POPULATIONS.items():
        assert re.search(rf"{name}\s.*?{pop}", text), name
    assert re.search(r"新华医疗集团\s+石家庄", text)  # its lead hospital, in its row
    assert "40.5%" in flat and "王规划" in flat
    assert RAW.search(text) is None
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the emb column
    assert any("CJK" in line for line in fonts)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    page1 = next(tmp_path.glob("p*.png"))
    with Image.open(page1) as im:
        assert im.size == (414, 585)  # A4 at 50 dpi
        assert im.convert("L").getextrema()[0] < 80  # the cover has dark text on it
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages >= 6


def test_english_report(tmp_path, capsys):
    rc, _, _ = _run(capsys, "report", "--preset", "shijiazhuang", *FAST, "--lang", "en",
                      "-o", str(tmp_path / "en.docx"))  # fmt: skip
    assert rc == 0
    d = docx.Document(str(tmp_path / "en.docx"))
    assert [p.text for p in d.paragraphs if p.style.name == "Heading 1"] == EN_HEADINGS
    text = _docx_text(tmp_path / "en.docx")
    assert "Shijiazhuang" in text or "石家庄" in text
    assert "802,057" in text and "illustrative network, not real locations" in text
    assert "概要" not in text


def test_report_of_a_saved_scenario_names_it_on_the_cover(tmp_path, capsys):
    plan = GridPlan.from_preset("shijiazhuang")
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(plan))
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with contextlib.closing(open_store(store_url)) as store:
        sid, version, _ = workflow.save_plan_file(
            store, plan_file, name="石家庄2025年方案", author="李四"
        )
    rc, _, err = _run(capsys, "report", "--scenario", str(sid), "--store", store_url, *FAST,
                        "-o", str(tmp_path / "s.docx"))  # fmt: skip
    assert rc == 0, err
    d = docx.Document(str(tmp_path / "s.docx"))
    cover = {r.cells[0].text: r.cells[1].text for r in d.tables[0].rows}
    assert cover["方案名称"] == "石家庄2025年方案" and cover["方案版本"] == str(version)
    assert cover["编制人"] == "李四" and cover["地市"] == "石家庄市"
    rows = {r[0]: r for r in _table_with(d, "网格")[1:]}
    assert rows["新华医疗集团"][4] == "802,057"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--preset", "shijiazhuang", "-o", "r.txt"],
            "报告文件须为 .docx（Word）或 .pdf，不能是 r.txt",
        ),
        (["--preset", "shijiazhuang", "--lang", "zh"], "-o/--output"),
        (["--scenario", "99", "-o", "r.pdf"], "99"),
        (["--preset", "shijiazhuang", "--mode", "fly", "-o", "r.pdf", "--lang", "zh"], "fly"),
    ],
)
def test_bad_input_is_one_coded_line_exit_2_and_no_file(tmp_path, capsys, monkeypatch, args,
                                                       expected):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    store = ["--store", f"sqlite:///{tmp_path / 's.sqlite'}"] if "--scenario" in args else []
    rc, _, err = _run(capsys, "report", *args, *store)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridplan: error: ") and expected in lines[0]
    assert re.search(r"[\u4e00-\u9fff]", lines[0])  # said in Chinese
    assert list(tmp_path.glob("r.*")) == []


@pytest.fixture(scope="module")
def sjz_inputs():
    plan, units = workflow.plan_and_units("shijiazhuang", None)
    spec = workflow.SurfaceSpec(workflow.UnitsSource(units.prefecture.adcode), cell_m=1000)
    facilities = workflow.illustrative_network(units)
    return workflow.report_inputs(plan, units, facilities, spec, workflow.ModelSpec())


def test_comparison_and_siting_sections_when_given(sjz_inputs):
    from gridplan.siting.study import SitingSettings, run_siting

    inp = sjz_inputs
    plan_b = workflow.starting_plan(None, inp.units)
    inp.comparison = workflow.compare_scenarios(inp.units, inp.plan, plan_b, index=inp.index)
    n_moved = len(inp.comparison.moved)
    settings = SitingSettings(method="mclp", k=2, minutes=15, level="primary",
                              candidates="grid", solver="greedy", curve_k_max=0,
                              grid_spacing_m=3000)  # fmt: skip
    model = workflow.travel_model(inp.surface.grid, workflow.ModelSpec())
    inp.siting = run_siting(inp.units, inp.plan, inp.surface, inp.facilities, model, settings)
    try:
        doc = build_document(inp, "zh")
    finally:
        inp.comparison = inp.siting = None
    assert doc.section_keys == [*SECTIONS[:-1], "siting", "comparison", "appendix"]
    siting, comparison = doc.sections[6], doc.sections[7]
    assert siting.title == "7. 新增机构选址方案" and comparison.title == "8. 方案比较"
    # the census spread evenly: sites for illustration, said before the table
    warning = siting.blocks[1]
    assert warning.kind == "warning" and "不作选址推荐" in warning.text  # type: ignore[union-attr]
    sites = siting.blocks[2]
    assert [r[0] for r in sites.rows] == ["新址 1", "新址 2"]  # type: ignore[union-attr]
    moved = comparison.blocks[2]
    moved_rows = {r[0]: r for r in moved.rows}  # type: ignore[union-attr]
    assert moved_rows["新华区"][1:] == ("802,057", "新华医疗集团", "石家庄市市区网格")
    intro = comparison.blocks[0].text  # type: ignore[union-attr]
    assert "17.71 倍" in intro and f"共有 {n_moved} 个单元改变所属网格" in intro


def test_figures_are_written_for_a_chinese_report():
    assert fmt_people(802056.99) == "802,057"
    assert fmt_people(math.nan) == "—" and fmt_people(None) == "—"
    assert fmt_share(0.405487) == "40.5%" and fmt_share(1.0) == "100.0%"
    assert fmt_share(math.inf) == "—"
