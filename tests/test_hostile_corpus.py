"""The hostile-upload corpus (tests/hostile/corpus.py) through every CLI file option.

Each file is tried through each option it targets, in Chinese: a refused file exits 2 with one
Chinese line on stderr (no traceback, no server path); a careless but usable file loads; files
with implausible figures are refused until ``--accept-warnings``.  Over the whole run, no
connection reaches the local listener the files point at, nobody opens the canary file outside
the uploads, and nothing is written beside the uploads or left in the temporary folder.
Time and memory per file are measured by ``benchmarks/bench_hostile.py``, not here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from gridplan.cli import main
from tests.hostile.channels import CLI
from tests.hostile.corpus import Case, build, cases
from tests.hostile.witnesses import CANARY_CONTENT, Canary, Listener

CJK = re.compile(r"[\u4e00-\u9fff]")
#: fragments of server paths that must never reach the planner
SERVER_PATHS = ("/tmp/", "/etc/", "/root/", "/home/", "/work/", "/proc/", "/vsi")

#: outcomes that differ from the case's own for one channel, with the reason
EXPECT_BY_CHANNEL: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The corpus, written for this run, with its listener and canary."""
    root = tmp_path_factory.mktemp("hostile")
    listener = Listener()
    canary = Canary(root)
    files = build(root / "corpus", listener.base, str(canary.path))
    yield {"files": files, "listener": listener, "canary": canary, "root": root}
    canary.close()
    listener.close()


def _cli_cases() -> list:
    out = []
    for case in cases():
        if case.upload_name is not None:
            continue  # a browser-only file name: tried through the dashboard's uploaders
        for channel in case.channels:
            if channel in CLI:
                out.append(pytest.param(case.name, channel, id=f"{channel}-{case.name}"))
    return out


def _run(argv: list[str], capsys, tmp: Path) -> tuple[int, str, str]:
    """The CLI in this process with ``tmp`` as the temporary folder and working directory."""
    old_cwd, old_tmp = Path.cwd(), tempfile.tempdir
    os.chdir(tmp)
    tempfile.tempdir = str(tmp)
    try:
        rc = main(argv)
    finally:
        os.chdir(old_cwd)
        tempfile.tempdir = old_tmp
    out, err = capsys.readouterr()
    return rc, out, err


def _expected(case: Case, channel: str) -> str:
    return EXPECT_BY_CHANNEL.get((case.name, channel), case.expect)


def _assert_refusal(err: str, case: Case) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{case.name}: one line expected, got {err!r}"
    assert lines[0].startswith("gridplan: error: "), err
    assert CJK.search(lines[0]), f"{case.name}: not Chinese: {err!r}"
    assert "Traceback" not in err
    assert not any(p in err for p in SERVER_PATHS), f"{case.name}: server path in {err!r}"


def _no_nan(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"JSON holds {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(("name", "channel"), _cli_cases())
def test_hostile_file_through_cli(hostile, name, channel, capsys, tmp_path):
    case, path = next((c, p) for c, p in hostile["files"] if c.name == name)
    before = sorted(p.name for p in path.parent.iterdir())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    argv = [*CLI[channel](str(path)), "--lang", "zh"]
    rc, out, err = _run(argv, capsys, scratch)
    expect = _expected(case, channel)
    if expect == "loaded":
        assert rc == 0, f"{case.name} via {channel}: {err}"
        _no_nan(out)
    else:
        assert rc == 2, f"{case.name} via {channel}: rc {rc}, {err[-500:]}"
        _assert_refusal(err, case)
    if expect == "confirm":
        rc, out, err = _run([*argv, "--accept-warnings"], capsys, scratch)
        assert rc == 0, f"{case.name} via {channel} with --accept-warnings: {err}"
        assert {"warnings", "problems", "notes"} & set(_no_nan(out))
    # nothing written beside the upload (no GDAL .aux.xml, no extracted parts), nothing left over
    assert sorted(p.name for p in path.parent.iterdir()) == before
    assert list(scratch.iterdir()) == [], f"left in the temporary folder: {list(scratch.iterdir())}"


def test_no_connection_and_no_server_file_opened(hostile):
    """Runs last in this module: over every file above, nothing reached out."""
    assert hostile["listener"].hits == []
    assert not hostile["canary"].opened


def test_corpus_is_small_and_covers_every_class_and_option():
    kinds = {c.kind for c in cases()}
    assert {"ssrf", "bomb", "crash", "wrong_data", "format", "injection", "markup"} <= kinds
    channels = {ch for c in cases() for ch in c.channels}
    assert set(CLI) <= channels
    assert len(cases()) >= 50


def test_canary_detects_an_open(tmp_path):
    """The canary is a real detector: opening it is seen."""
    canary = Canary(tmp_path)
    with open(canary.path, "rb") as fh:
        assert fh.read().startswith(CANARY_CONTENT)
    with open(canary.path, "rb") as fh:  # a second reader is served too
        assert fh.read().startswith(CANARY_CONTENT)
    assert canary.opened
    canary.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_listener_detects_a_connection():
    listener = Listener()
    try:
        with socket.create_connection(("127.0.0.1", listener.port)):
            pass
        for _ in range(50):
            if listener.hits:
                break
            threading.Event().wait(0.05)
        assert listener.hits
    finally:
        listener.close()


def test_candidate_list_over_the_limit_is_refused_before_the_siting(
    hostile, capsys, tmp_path, monkeypatch
):
    from gridplan import settings

    monkeypatch.setattr(settings, "max_candidate_sites", 1_000)
    path = next(p for c, p in hostile["files"] if c.name == "facilities_many.csv")
    rc, _, err = _run([*CLI["candidates"](str(path)), "--lang", "zh"], capsys, tmp_path)
    assert rc == 2 and "候选点" in err and "1,000" in err
