"""One scenario, four faces, the same numbers: the dashboard's KPIs, the CLI's JSON, the PNG's
legend and the report's tables.

The scenario has residents who reach no facility (楚雄州, the friction raster at 500 m,
walking, the illustrative network), so the reachable / unreachable split and the
statistics over the reachable are compared too.  Each face is read as a planner reads it
(the dashboard's metrics and tables, the legend rows drawn into the PNG, the report's
table cells), and compared at the precision it shows.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from gridplan import workflow
from gridplan.cli import main
from gridplan.plan.grids import GridPlan
from gridplan.report import coveragemap
from gridplan.report.document import build_document

PREFECTURE, PRESET = "532300", "chuxiong"
CELL_M, MINUTES = 500, 15
CLI_ARGS = ["--preset", PRESET, "--model", "raster", "--mode", "walk", "--cell-m", str(CELL_M),
            "--minutes", str(MINUTES)]  # fmt: skip


def people(x: float) -> str:
    return f"{x:,.0f}"


def share(x: float) -> str:
    return f"{x:.1%}"


def minutes(x: float) -> str:
    return f"{x:.1f}"


@pytest.fixture(scope="module")
def cli() -> dict[str, Any]:
    """The CLI's JSON of the scenario."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["coverage", *CLI_ARGS, "--json", "--lang", "zh"])
    assert code == 0
    return dict(json.loads(out.getvalue()))


@pytest.fixture(scope="module")
def dashboard() -> tuple[AppTest, list[str]]:
    """The 15-minute page of the scenario, and the legend rows drawn into its PNG download.

    The download builds its file when clicked, outside the script run; here it is built
    during the run, through the page's own call, with the legend's rows recorded.
    """
    import ui.panels.coverage as page_module

    drawn: list[str] = []
    real_rows, real_download = coveragemap.coverage_legend_entries, page_module.download

    def recording(*args: Any, **kwargs: Any) -> Any:
        rows = real_rows(*args, **kwargs)
        drawn.extend(r.label for r in rows)
        return rows

    def build_png_now(label: str, data: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("key") == "dl_coverage_png":
            assert data()[:8] == b"\x89PNG\r\n\x1a\n"
        real_download(label, data, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(coveragemap, "coverage_legend_entries", recording)
    mp.setattr(page_module, "download", build_png_now)
    try:
        at = AppTest.from_file("../pages/access.py", default_timeout=180)
        at.session_state["prefecture"] = PREFECTURE
        at.session_state["acc_model"] = "raster"
        at.session_state["acc_cell"] = CELL_M
        at.run()
    finally:
        mp.undo()
    assert not at.exception and drawn
    return at, drawn


def test_the_scenario_has_unreachable_residents(cli):
    d = cli
    assert d["unreachable_population"] > 0 and d["reachable_population"] > 0
    assert d["reachable_population"] + d["unreachable_population"] == pytest.approx(
        d["population"], abs=1
    )
    assert d["covered"] <= d["reachable_population"]  # the unreachable are never covered
    assert d["minutes_over"] == "reachable_population"
    assert d["p90_minutes"] is not None  # over the reachable: finite


def test_dashboard_kpis_equal_the_cli(cli, dashboard):
    d, (at, _) = cli, dashboard
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["覆盖率（%）"] == share(d["share"])
    assert metrics["覆盖人口"] == people(d["covered"])
    assert metrics["平均时间（分钟）"] == minutes(d["mean_minutes"])
    assert metrics["中位时间（分钟）"] == minutes(d["median_minutes"])
    assert metrics["90% 分位时间（分钟）"] == minutes(d["p90_minutes"])
    assert metrics["无法到达任何机构（%）"] == share(d["unreachable_share"])
    counts = f"能到达机构的 {people(d['reachable_population'])} 名居民计算；无法到达任何机构的 "
    assert counts + f"{people(d['unreachable_population'])} 名居民" in "".join(
        c.value for c in at.caption
    )
    by_grid = next(df.value for df in at.dataframe if "可达人口" in df.value.columns)
    cli_grids = {g["name"]: g for g in d["by_grid"]}
    for _, row in by_grid.iterrows():
        g = cli_grids[row["网格"]]
        assert people(row["覆盖人口"]) == people(g["covered"])
        assert people(row["可达人口"]) == people(g["reachable_population"])
        assert people(row["无法到达的人口"]) == people(g["unreachable_population"])


def test_png_legend_equals_the_cli(cli, dashboard):
    d, (_, drawn) = cli, dashboard
    text = "\n".join(drawn)
    assert f"覆盖 {share(d['share'])}（{people(d['covered'])} 人）" in text
    assert f"平均出行时间 {minutes(d['mean_minutes'])} 分钟" in text
    assert f"90% 分位出行时间 {minutes(d['p90_minutes'])} 分钟" in text
    unreachable = f"无法到达任何机构 {people(d['unreachable_population'])} 人"
    assert unreachable in text and share(d["unreachable_share"]) in text


def test_report_tables_equal_the_cli(cli):
    d = cli
    plan = GridPlan.from_preset(PRESET)
    units = workflow.load_units(workflow.UnitsSource(PREFECTURE))
    spec = workflow.SurfaceSpec(workflow.UnitsSource(PREFECTURE), cell_m=CELL_M)
    model = workflow.ModelSpec("raster", "walk")
    facilities = workflow.illustrative_network(units)
    inp = workflow.report_inputs(plan, units, facilities, spec, model, minutes=MINUTES)
    doc = build_document(inp, "zh")
    tables = [b for s in doc.sections for b in s.blocks if hasattr(b, "rows")]
    summary = dict(tables[0].rows)  # the summary's key figures: item → value
    coverage = next(v for k, v in summary.items() if k.startswith("15"))
    assert share(d["share"]) in coverage and people(d["covered"]) in coverage
    times = summary["出行时间（分钟）"]
    assert re.findall(r"\d+\.\d", times)[:3] == [
        minutes(d["mean_minutes"]), minutes(d["median_minutes"]), minutes(d["p90_minutes"])
    ]  # fmt: skip
    assert people(d["reachable_population"]) in times
    assert summary["无法到达任何机构的人口"].startswith(people(d["unreachable_population"]))
    cov_table = next(t for t in tables if "无法到达（人）" in t.header)
    col = {h: i for i, h in enumerate(cov_table.header)}
    cli_grids = {g["name"]: g for g in d["by_grid"]}
    for row in cov_table.rows:
        g = cli_grids[row[0]]
        assert row[col["无法到达（人）"]] == people(g["unreachable_population"])
        assert row[col["90%分位（分钟）"]] == (
            minutes(g["p90_minutes"]) if g["p90_minutes"] is not None else "—"
        )


def test_the_method_is_the_same_on_every_face(cli, dashboard):
    """The CLI's ``provenance`` says how, in the same words as the page's panel."""
    d, (at, _) = cli, dashboard
    how = {r["item"]: r["text"] for r in d["provenance"]["how_computed"]}
    panel = next(t.value for t in at.table if t.value.index.name == "项目")
    assert panel["说明"].to_dict() == how
    assert "≤ 15 分钟" in how["覆盖判定"] and "均匀分布" in how["人口"]
    assert d["provenance"]["travel_model"]["name"] == "raster"
    assert d["provenance"]["uniform_within_units"] is True
