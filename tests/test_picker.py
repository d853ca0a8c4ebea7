"""The national prefecture picker (issue 10): pinyin table, search, AppTests; setup.sh lock wait."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gridplan import settings
from gridplan.inputs.boundaries import list_prefectures, list_prefectures_pinyin
from ui.panels.picker import match_prefectures, normalise_query

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


@pytest.fixture(scope="module")
def table():
    return list_prefectures_pinyin()


# --- the embedded pinyin table ----------------------------------------------------------------


def test_every_prefecture_and_province_has_its_pinyin(table):
    assert len(table) == len(list_prefectures())
    for column in ("pinyin", "initials", "province_pinyin", "province_initials"):
        spelt = table[column]
        assert spelt.str.fullmatch(r"[a-z]+").all(), table.loc[~spelt.str.fullmatch("[a-z]+")]
    first_letters = table["pinyin"].str[0] == table["initials"].str[0]
    assert first_letters.all()


def test_the_table_spells_one_initial_per_character_of_the_core_name():
    import pandas as pd

    raw = pd.read_csv(settings.data_dir() / "prefecture_pinyin.csv", dtype=str)
    assert (raw["core"].str.len() == raw["initials"].str.len()).all()
    assert raw.apply(lambda r: r["core"] in r["name"], axis=1).all()


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [
        ("南京市", "nanjing", "nj"),
        ("保定市", "baoding", "bd"),
        ("楚雄彝族自治州", "chuxiong", "cx"),
        ("长治市", "changzhi", "cz"),  # polyphones read as the places are called
        ("重庆市", "chongqing", "cq"),
        ("漯河市", "luohe", "lh"),
        ("西双版纳傣族自治州", "xishuangbanna", "xsbn"),
        ("神农架林区", "shennongjia", "snj"),
    ],
)
def test_names_are_spelt_as_planners_type_them(table, name, pinyin, initials):
    row = table[table["name"] == name].iloc[0]
    assert (row["pinyin"], row["initials"]) == (pinyin, initials)


def test_provinces_are_spelt_without_their_suffix(table):
    spelt = dict(zip(table["province"], table["province_pinyin"], strict=False))
    assert spelt["内蒙古自治区"] == "neimenggu" and spelt["新疆维吾尔自治区"] == "xinjiang"
    assert spelt["江苏省"] == "jiangsu"


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("nj", "南京市"),
        ("bd", "保定市"),
        ("cx", "楚雄彝族自治州"),
        ("nanjing", "南京市"),
        ("NanJing", "南京市"),
        ("南京", "南京市"),
        ("楚雄州", None),  # no such name: the short form is not invented
        ("xi'an", "西安市"),
        ("sjz", "石家庄市"),
        ("chux", "楚雄彝族自治州"),
        ("版纳", "西双版纳傣族自治州"),
    ],
)
def test_search_finds_the_city_first(table, query, first):
    found = match_prefectures(table, query)
    if first is None:
        assert found.empty
    else:
        assert found.iloc[0]["name"] == first


def test_exact_initials_rank_before_partial_matches(table):
    found = match_prefectures(table, "nj")
    exact = found[found["rank"] == 0]["name"].tolist()
    assert exact == ["南京市", "内江市", "怒江傈僳族自治州"]  # adcode order among equals
    assert "镇江市" in set(found["name"])  # zhe-n-j-iang: found, after them
    assert found["rank"].is_monotonic_increasing


def test_a_province_lists_its_prefectures(table):
    jiangsu = table[table["province"] == "江苏省"]
    for query in ("江苏", "jiangsu", "江苏省"):
        found = match_prefectures(table, query)
        assert set(jiangsu["adcode"]) <= set(found["adcode"]), query


def test_empty_and_unknown_queries_find_nothing(table):
    for query in ("", "   ", "·", "qqqq", "<script>"):
        assert match_prefectures(table, query).empty, query


def test_a_long_query_is_cut_to_the_limit():
    assert len(normalise_query("n" * 10_000)) == settings.picker_query_max_chars
    assert normalise_query(" Xi'an ") == "xian"


# --- AppTests --------------------------------------------------------------------------------


def _picker_alone():
    from ui import cache, state
    from ui.panels.picker import prefecture_picker

    prefecture_picker(state.selection(cache.presets_of).prefecture)


def picker(**session) -> AppTest:
    at = AppTest.from_function(_picker_alone, default_timeout=TIMEOUT)
    for key, value in session.items():
        at.session_state[key] = value
    return at.run()


def test_typing_initials_then_clicking_selects_the_city():
    at = picker()
    assert not at.exception
    assert at.selectbox(key="picker_province_130100").value == "河北省"
    at.text_input(key="picker_query").set_value("nj").run()
    pills = at.pills[0]
    assert pills.options[0] == "南京市 · 江苏省"
    pills.set_value("320100").run()
    assert not at.exception
    assert at.session_state["prefecture"] == "320100"
    # the browser follows: the new prefecture's province
    assert at.selectbox(key="picker_province_320100").value == "江苏省"


def test_browsing_a_province_and_choosing_forgets_the_old_prefecture_data():
    at = picker(preset="shijiazhuang", roads_path="/nowhere/roads.osm")
    at.selectbox(key="picker_province_130100").set_value("云南省").run()
    pills = at.pills[0]
    assert "楚雄彝族自治州" in pills.options and "石家庄市" not in pills.options
    assert pills.value is None  # the current prefecture is elsewhere: nothing looks chosen
    pills.set_value("532300").run()
    assert not at.exception
    assert at.session_state["prefecture"] == "532300"
    assert "preset" not in at.session_state and "roads_path" not in at.session_state


def test_search_without_match_says_what_to_type_and_long_lists_are_cut():
    at = picker(lang="en")
    at.text_input(key="picker_query").set_value("qqqq").run()
    assert not at.exception and not at.pills
    assert "No prefecture matches" in at.caption[0].value and "nj" in at.caption[0].value
    at.text_input(key="picker_query").set_value("h").run()
    assert len(at.pills[0].options) == settings.picker_max_matches
    assert f"the first {settings.picker_max_matches} are shown" in at.caption[0].value


def test_overview_picker_moves_the_sidebar_and_every_page():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    # the sidebar's selectbox filters on its labels as the planner types: "nj", "nanjing", "南京"
    assert "南京市 · 江苏省 · nanjing nj" in at.selectbox(key="w_prefecture").options
    at.text_input(key="picker_query").set_value("bd").run()
    at.pills[0].set_value("130600").run()
    assert not at.exception
    assert at.session_state["prefecture"] == "130600"
    assert at.selectbox(key="w_prefecture").value == "130600"
    assert any("保定市" in s.value for s in at.subheader)
    # the sidebar still chooses, and the picker's browser follows it
    at.selectbox(key="w_prefecture").set_value("532300").run()
    assert not at.exception
    assert at.selectbox(key="picker_province_532300").value == "云南省"


# --- scripts/setup.sh: waiting for a held apt/dpkg lock -------------------------------------------

needs_flock = pytest.mark.skipif(
    not (shutil.which("flock") and os.access("/proc/locks", os.R_OK)),
    reason="needs flock(1) and /proc/locks",
)


def _held(lock: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(["flock", str(lock), "sleep", str(seconds)])
    deadline = time.monotonic() + 10
    while str(lock.stat().st_ino) not in Path("/proc/locks").read_text():
        assert time.monotonic() < deadline and holder.poll() is None
        time.sleep(0.02)
    return holder


def _wait(lock: Path, **env: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GRIDPLAN_APT_LOCKS": f"{lock.parent / 'absent'} {lock}",
        "GRIDPLAN_APT_LOCK_POLL": "0.1",
        **env,
    }
    cmd = f"source {ROOT / 'scripts' / 'setup.sh'}; wait_for_apt_lock"
    return subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True, timeout=60)


@needs_flock
def test_setup_waits_for_a_held_lock_with_a_message(tmp_path):
    lock = tmp_path / "lock-frontend"
    lock.touch()
    holder = _held(lock, 0.6)
    done = _wait(lock)
    holder.wait()
    assert done.returncode == 0, done.stderr
    assert f"waiting for another package manager to finish: it holds {lock}" in done.stdout
    assert "has finished; going on" in done.stdout


@needs_flock
def test_setup_gives_up_on_a_lock_held_too_long_and_says_what_to_do(tmp_path):
    lock = tmp_path / "lock"
    lock.touch()
    holder = _held(lock, 30)
    try:
        done = _wait(lock, GRIDPLAN_APT_LOCK_WAIT="0")
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode != 0
    assert f"{lock} is still held" in done.stderr and "run this command again" in done.stderr


def test_setup_goes_straight_on_when_no_lock_is_held(tmp_path):
    lock = tmp_path / "lock"
    lock.touch()
    done = _wait(lock)
    assert done.returncode == 0 and done.stdout == ""


def _fake_project(tmp_path: Path) -> Path:
    """A copy of setup.sh in a project whose .venv and system tools are stand-ins."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    fakes = {
        "dpkg": "exit 1",  # nothing installed
        "apt-get": f'echo "apt-get $*" >> {log}',
        "sudo": 'exec "$@"',
    }
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f'#!/bin/sh\necho "python $*" >> {log}\n', encoding="utf-8")
    venv_python.chmod(0o755)
    return bin_dir


@needs_flock
def test_setup_prints_each_step_and_waits_before_apt(tmp_path):
    bin_dir = _fake_project(tmp_path)
    lock = tmp_path / "lock-frontend"
    lock.touch()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GRIDPLAN_APT_LOCKS": str(lock),
        "GRIDPLAN_APT_LOCK_POLL": "0.1",
    }
    holder = _held(lock, 0.6)
    setup = ["bash", str(tmp_path / "scripts" / "setup.sh")]
    first = subprocess.run(setup, env=env, capture_output=True, text=True, timeout=60)
    holder.wait()
    assert first.returncode == 0, first.stderr
    out = first.stdout
    steps = ["setup [1/3] system packages", "waiting for another package manager"]
    steps += ["updating the package lists", "setup [2/3] Python environment: .venv"]
    steps += ["already there", "setup [3/3] GridPlan", "installing with pip", "setup: ready"]
    positions = [out.find(s) for s in steps]
    assert -1 not in positions and positions == sorted(positions), out
    calls = (tmp_path / "calls.log").read_text(encoding="utf-8")
    assert "DPkg::Lock::Timeout=1200" in calls and "install" in calls and "pip install" in calls
    again = subprocess.run(setup, env=env, capture_output=True, text=True, timeout=60)
    assert "up to date" in again.stdout and "waiting" not in again.stdout
