"""``gridplan batch``: prefectures as Dask tasks, each row what ``gridplan coverage`` says.

Three clusters: the command's own local cluster (worker processes), an in-process one
where a task can be made to fail, and a real ``dask scheduler`` with two ``dask
worker`` processes on localhost, driven by the command as a subprocess.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.bench_prefectures import run_cli
from gridplan.batch import BatchSettings, read_batch_table, select_prefectures
from gridplan.batch.files import BATCH_COLUMNS, RowWriter
from gridplan.errors import InputError, UploadError

ROOT = Path(__file__).resolve().parents[1]
#: Two small prefectures (about a second each at 1000 m): 鹤壁市, 鄂州市.
SMALL = ("410600", "420700")
CELL = "1000"
#: What a batch row repeats of the ``coverage --json`` output, exactly.
SAME = ("population", "not_assessed_population", "covered", "share", "mean_minutes")


@functools.cache
def _coverage(adcode: str) -> dict:
    code, data, err = run_cli("coverage", "--prefecture", adcode, "--cell-m", CELL, "--json")
    assert code == 0, err
    return data


def _check_rows_equal_coverage(rows: list[dict], adcodes: tuple[str, ...]) -> None:
    by_code = {r["adcode"]: r for r in rows}
    for adcode in adcodes:
        single = _coverage(adcode)
        assert {k: by_code[adcode][k] for k in SAME} == {k: single[k] for k in SAME}
        assert by_code[adcode]["error"] is None
        assert by_code[adcode]["seconds"] > 0


def test_local_cluster_rows_equal_gridplan_coverage_and_the_file_is_written(tmp_path):
    out = tmp_path / "batch.csv"
    code, data, err = run_cli(
        "batch", "--prefectures", ",".join(SMALL), "--cell-m", CELL, "--workers", "2",
        "-o", str(out), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert data["workers"] == 2 and data["failed"] == 0
    assert [r["adcode"] for r in data["prefectures"]] == list(SMALL)  # the boundary layer's order
    _check_rows_equal_coverage(data["prefectures"], SMALL)
    assert "Dask dashboard: http" in err  # the link, on stderr
    table = read_batch_table(out.read_bytes(), out.name)
    assert sorted(table["adcode"]) == sorted(SMALL)
    row = table.set_index("adcode").loc[SMALL[0]]
    first = data["prefectures"][0]
    assert row["population"] == first["population"] and row["share"] == first["share"]
    assert row["facilities_source"] == "illustrative" and "模型估算" in row["note"]


@pytest.fixture(scope="module")
def thread_client():
    """An in-process cluster (threads): a monkeypatched task runs as patched."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0")
        as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        yield client


def test_two_threads_of_one_worker_give_the_single_runs_rows(thread_client, tmp_path, monkeypatch):
    """Tasks side by side in one process, on an empty cache (both build their networks and
    rasterize at once): the same rows as ``gridplan coverage``, no task failing."""
    from gridplan import settings
    from gridplan.batch import runner

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    prefs = select_prefectures(prefectures=list(SMALL))
    run = runner.run_batch(thread_client, prefs, BatchSettings(cell_m=float(CELL)))
    assert [r["error"] for r in run.rows] == [None, None]
    _check_rows_equal_coverage(run.rows, SMALL)


def test_a_failing_prefecture_is_reported_in_its_row_and_the_others_finish(
    thread_client, monkeypatch
):
    from gridplan.batch import runner, tasks

    real = tasks.coverage_figures

    def broken_for_ezhou(adcode, s):
        if adcode == "420700":
            raise RuntimeError("boom")
        return real(adcode, s)

    monkeypatch.setattr(tasks, "coverage_figures", broken_for_ezhou)
    prefs = select_prefectures(prefectures=["鹤壁市", "鄂州市", "台湾省"])
    seen = []
    run = runner.run_batch(
        thread_client, prefs, BatchSettings(cell_m=1000.0, lang="zh"),
        lambda row, done, total: seen.append((row["adcode"], done, total)),
    )  # fmt: skip
    rows = {r["adcode"]: r for r in run.rows}
    assert sorted(d for _, d, _ in seen) == [1, 2, 3] and {t for *_, t in seen} == {3}
    assert rows["410600"]["error"] is None and rows["410600"]["population"] == 1523351.0
    assert rows["420700"]["error"]["code"] == "batch.internal"
    assert "RuntimeError" in rows["420700"]["error"]["message"]
    assert "内部错误" in rows["420700"]["error"]["message"]
    # no census for 台湾省: the reason in Chinese, not a crash
    assert rows["710000"]["error"]["code"] == "access.no_population"
    assert "人口" in rows["710000"]["error"]["message"] and rows["710000"]["population"] is None


def test_a_task_the_cluster_loses_is_a_row_with_its_reason(thread_client, monkeypatch):
    from gridplan.batch import runner

    real = runner.prefecture_row

    def dies_for_hebi(adcode, name, province, s):
        if adcode == "410600":
            raise MemoryError  # as if the worker had died under it
        return real(adcode, name, province, s)

    monkeypatch.setattr(runner, "prefecture_row", dies_for_hebi)
    prefs = select_prefectures(prefectures=list(SMALL))
    run = runner.run_batch(thread_client, prefs, BatchSettings(cell_m=1000.0, lang="en"))
    lost, fine = run.rows
    assert lost["error"]["code"] == "batch.task_lost" and "MemoryError" in lost["error"]["message"]
    assert fine["error"] is None and fine["adcode"] == "420700"


def test_selection_of_prefectures():
    hebei = select_prefectures(province="河北")
    assert len(hebei) == 11 and set(hebei["province"]) == {"河北省"}
    assert len(select_prefectures(everything=True)) == 370
    assert list(select_prefectures(prefectures=["130100", "保定"])["name"]) == [
        "石家庄市",
        "保定市",
    ]
    with pytest.raises(InputError) as e:
        select_prefectures(province="火星省")
    assert e.value.code == "batch.unknown_province"
    with pytest.raises(InputError) as e:
        select_prefectures(province="河北省", everything=True)
    assert e.value.code == "batch.selection"


def test_the_command_refuses_a_wrong_output_or_province_before_any_work(tmp_path):
    code, _, err = run_cli("batch", "--province", "河北省", "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and "FILE.csv or FILE.gpkg" in err
    code, _, err = run_cli("batch", "--province", "火星", "--lang", "zh")
    assert code == 2 and "未找到省级行政区" in err
    code, _, err = run_cli("batch", "--province", "河北省", "--all")
    assert code == 2
    code, _, err = run_cli(
        "batch", "--province", "河北省", "--population-file", "p.csv", "--lang", "zh"
    )
    assert code == 2 and "批量计算使用内置的 2020 年普查人口" in err


def _row(**kw):
    base = {"name": "鹤壁市", "adcode": "410600", "province": "河南省", "population": 100.0,
            "covered": 40.0, "share": 0.4, "seconds": 1.0, "error": None}  # fmt: skip
    return base | kw


def test_a_batch_table_round_trips_through_csv_and_geopackage(tmp_path):
    taiwan = _row(
        name="台湾省", adcode="710000", population=None, covered=None, share=None,
        error={"code": "access.no_population", "message": "无人口"},
    )  # fmt: skip
    rows = [_row(), taiwan]
    for name in ("t.csv", "t.gpkg"):
        with RowWriter(tmp_path / name) as out:
            for row in rows:
                out.write(row)
        table = read_batch_table((tmp_path / name).read_bytes(), name)
        assert list(table.columns) == list(BATCH_COLUMNS)
        assert list(table["adcode"]) == ["410600", "710000"]
        assert table["share"].iloc[0] == 0.4 and pd.isna(table["share"].iloc[1])
        assert table["error_code"].iloc[1] == "access.no_population"
    import pyogrio

    gdf = pyogrio.read_dataframe(tmp_path / "t.gpkg")
    assert gdf.crs.to_epsg() == 4326 and gdf.geometry.iloc[0].area > 0.1  # 鹤壁's outline


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"a,b\n1,2\n", "x.csv", "batch.file.columns"),
        (b"name,adcode,population,covered,share\nA,410600,100,40,1.4\n", "x.csv",
         "batch.file.values"),
        (b"name,adcode,population,covered,share\nA,410600,many,40,0.4\n", "x.csv",
         "batch.file.values"),
        (b"name,adcode,population,covered,share\nA,41,100,40,0.4\n", "x.csv", "batch.file.adcode"),
        (b"name,adcode,population,covered,share\n", "x.csv", "batch.file.rows"),
        ("名,adcode\n".encode("gbk"), "x.csv", "batch.file.encoding"),
        (b"not a geopackage", "x.gpkg", "batch.file.unreadable"),
        (b"{}", "x.json", "batch.file.kind"),
        (b"x" * (21 * 1024 * 1024), "x.csv", "batch.file.too_large"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_batch_table_is_refused_with_its_reason(data, name, code):
    with pytest.raises(UploadError) as e:
        read_batch_table(data, name)
    assert e.value.code == code


# --- a real cluster: a scheduler and two workers, each its own process ---------------------


def _dask(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """A ``dask`` command of this venv in its own process group (torn down as a whole)."""
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _wait_for_file(path: Path, proc: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() or not path.read_text("utf-8").strip():
        assert proc.poll() is None, "the scheduler stopped"
        assert time.monotonic() < deadline, "the scheduler wrote no address"
        time.sleep(0.1)


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process group, then SIGKILL what is left after 15 s."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def dask_cluster(tmp_path):
    """``dask scheduler`` on a free localhost port and two ``dask worker`` processes that
    import this checkout's gridplan; its address; every process gone afterwards."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    info = tmp_path / "scheduler.json"
    scheduler = _dask(
        "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
        "--scheduler-file", str(info), env=env,
    )  # fmt: skip
    procs = [scheduler]
    try:
        _wait_for_file(info, scheduler)
        worker_args = ("worker", "--scheduler-file", str(info), "--nthreads", "1", "--no-nanny",
                       "--no-dashboard", "--host", "127.0.0.1")  # fmt: skip
        procs += [_dask(*worker_args, env=env) for _ in range(2)]
        yield json.loads(info.read_text("utf-8"))["address"], env
    finally:
        _stop(procs[::-1])  # workers first, then the scheduler
        assert not any(_group_alive(p.pid) for p in procs)


def test_batch_on_a_running_cluster_of_two_worker_processes(dask_cluster):
    address, env = dask_cluster
    done = subprocess.run(
        [sys.executable, "-m", "gridplan", "batch", "--prefectures", ",".join(SMALL),
         "--cell-m", CELL, "--scheduler", address, "--min-workers", "2", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert data["workers"] == 2
    _check_rows_equal_coverage(data["prefectures"], SMALL)


def test_an_address_where_no_scheduler_answers_is_said(monkeypatch):
    from gridplan.batch import runner

    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 0.5)
    with pytest.raises(InputError) as e, runner.batch_client("tcp://127.0.0.1:9"):
        pass
    assert e.value.code == "batch.no_scheduler"


def test_a_siting_study_per_prefecture_gives_what_gridplan_optimize_gives(thread_client):
    from gridplan.batch import runner

    prefs = select_prefectures(prefectures=["420700"])
    run = runner.run_batch(thread_client, prefs, BatchSettings(cell_m=1000.0, siting_k=1))
    (row,) = run.rows
    code, single, err = run_cli(
        "optimize", "--prefecture", "420700", "--method", "mclp", "--k", "1", "--minutes", "15",
        "--mode", "walk", "--cell-m", CELL, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert row["siting_k"] == 1 and row["siting_status"] == single["status"]
    assert row["siting_share_after"] == single["share_after"]
    assert row["siting_covered_after"] == single["covered_after"]
    assert row["siting_share_after"] > row["share"]  # a new site covers someone


def test_the_benchmark_quick_mode_on_a_given_cluster(thread_client, capsys):
    from benchmarks import bench_batch
    from gridplan.plan.census import census_total

    (m,) = bench_batch.main(["--quick"], client=thread_client)
    errors = [(row["name"], row.get("error")) for row in m.rows if row.get("error")]
    assert (m.prefectures, m.failed) == (5, 0), errors
    assert m.cells > 0 and m.peak_mb[0] > 0
    for row in m.rows:  # every resident of the census is assessed or counted as not assessed
        assessed = row["population"] + row["not_assessed_population"]
        assert abs(assessed - census_total(row["adcode"])) <= 0.5
    out = capsys.readouterr().out
    assert "| 宁夏回族自治区 (user cache) | 1000 m | 1 | 5 (0) |" in out  # one worker
    assert "At 100 m:" in out
