"""The scenario store: round trip, versions, deletion, migration, concurrent writers, a killed save.

Every test runs against SQLite and against PostgreSQL: the server named by
``GRIDPLAN_TEST_POSTGRES`` (``.ci/run`` starts one from Debian's package), else a
throwaway one started here (``initdb``/``pg_ctl``, in a temp folder on a free
port).  Without either the PostgreSQL variant is skipped with the reason, or
fails when ``GRIDPLAN_REQUIRE_POSTGRES=1`` (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gridplan import settings
from gridplan.errors import InputError, StoreError
from gridplan.plan.grids import GridPlan
from gridplan.store import SCHEMA_VERSION, Store, open_store, store_url
from gridplan.store.schema import utc_now

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = [Path("/usr/local/bin"), Path("/usr/lib/postgresql/15/bin")]


def _plan(preset: str = "shijiazhuang") -> dict:
    return GridPlan.from_preset(preset).to_dict()


def _payload(plan: dict, k: int = 0) -> dict:
    return {
        "plan": plan,
        "facility_edits": {"off": [f"h{k}"], "added": [], "accepted": []},
        "uploads": [{"name": "pop.csv", "kind": "population", "sha256": "0" * 64, "size": 10}],
        "settings": {"minutes": 15, "mode": "walk", "model": "straight", "cell_m": 500, "k": k},
    }


# --- PostgreSQL: a throwaway server for the session ---------------------------------------
def _pg_tool(name: str) -> str | None:
    for d in PG_BIN:
        if (d / name).exists():
            return str(d / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server as nobody
    return ["runuser", "-u", "nobody", "--", *cmd] if os.geteuid() == 0 else cmd


def _unavailable(reason: str) -> None:
    """Skip the PostgreSQL variant, or fail it where CI promised a server."""
    if os.environ.get("GRIDPLAN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required (GRIDPLAN_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL variant skipped: {reason}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    given = os.environ.get("GRIDPLAN_TEST_POSTGRES")
    if given:  # a server started for the run (.ci/run starts one)
        yield given
        return
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if not (initdb and pg_ctl):
        _unavailable("initdb/pg_ctl not found")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        _unavailable("running as root and runuser is missing")
    assert initdb and pg_ctl
    # not under pytest's tmp folder: its parents are closed to the server's user
    base = Path(tempfile.mkdtemp(prefix="gridplan-pg-"))
    base.chmod(0o777)
    data, port = base / "data", _free_port()
    log = base / "log"
    try:
        subprocess.run(
            _as_user([initdb, "-D", str(data), "-U", "gridplan", "--auth=trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        out = getattr(exc, "stderr", b"") or b""
        _unavailable(f"the server did not start ({out[-300:]!r})")
    url = f"postgresql://gridplan@127.0.0.1:{port}/postgres"
    try:
        yield url
    finally:
        subprocess.run(
            _as_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'scenarios.sqlite'}"
    base = request.getfixturevalue("pg_url")
    name = "t_" + uuid.uuid4().hex[:12]
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


# --- round trip, versions, deletion ---------------------------------------------------
def test_round_trip_keeps_every_part_of_a_scenario(url: str) -> None:
    plan = _plan()
    store = open_store(url)
    sid, number = store.create(
        "甲方案", plan["prefecture"], _payload(plan), author="王", note="初稿"
    )
    snap = store.get(sid)
    store.close()
    again = open_store(url)  # a new process would see the same
    assert number == 1 and again.get(sid) == snap
    assert (
        snap.payload["plan"] == plan and GridPlan.from_dict(snap.payload["plan"]).to_dict() == plan
    )
    assert snap.payload["uploads"][0]["sha256"] == "0" * 64
    assert snap.payload["settings"]["minutes"] == 15 and snap.payload["format"] == 1
    info = snap.scenario
    assert (info.name, info.author, info.note, info.prefecture) == (
        "甲方案",
        "王",
        "初稿",
        plan["prefecture"],
    )
    assert info.created.tzinfo is not None and info.versions == 1
    again.close()


def test_versions_count_up_and_each_can_be_read_back(url: str) -> None:
    plan = _plan()
    store = open_store(url)
    sid, _ = store.create("A", plan["prefecture"], _payload(plan, 0))
    numbers = [
        store.add_version(sid, _payload(plan, k), author=f"u{k}", note=f"e{k}") for k in (1, 2, 3)
    ]
    assert numbers == [2, 3, 4]
    assert [store.get(sid, n).payload["settings"]["k"] for n in (1, 2, 3, 4)] == [0, 1, 2, 3]
    assert store.get(sid).version.number == 4
    history = store.history(sid)
    assert [(v.number, v.author, v.note) for v in history][1:] == [
        (2, "u1", "e1"),
        (3, "u2", "e2"),
        (4, "u3", "e3"),
    ]
    assert history == sorted(history, key=lambda v: v.created)
    info = store.info(sid)
    assert info.versions == 4 and info.updated >= info.created
    with pytest.raises(StoreError) as exc:
        store.get(sid, 9)
    assert exc.value.code == "store.unknown_version" and exc.value.params["latest"] == 4
    store.close()


def test_a_stale_edit_is_refused_rather_than_overwriting(url: str) -> None:
    plan = _plan()
    store = open_store(url)
    sid, _ = store.create("A", plan["prefecture"], _payload(plan))
    assert store.add_version(sid, _payload(plan, 1), base_version=1) == 2
    with pytest.raises(StoreError) as exc:
        store.add_version(sid, _payload(plan, 2), base_version=1)  # someone saved v2 meanwhile
    assert exc.value.code == "store.conflict" and exc.value.params == {
        "id": sid,
        "base": 1,
        "latest": 2,
    }
    assert store.info(sid).versions == 2
    store.close()


def test_rename_soft_delete_restore_and_purge(url: str) -> None:
    plan = _plan()
    store = open_store(url)
    sid, _ = store.create("A", plan["prefecture"], _payload(plan))
    other, _ = store.create("B", plan["prefecture"], _payload(plan))
    store.rename(sid, "  新名称 ")
    assert store.info(sid).name == "新名称"
    store.delete(sid)
    assert [s.id for s in store.list_scenarios()] == [other]
    assert {s.id for s in store.list_scenarios(include_deleted=True)} == {sid, other}
    for call in (lambda: store.get(sid), lambda: store.add_version(sid, _payload(plan))):
        with pytest.raises(StoreError) as exc:
            call()
        assert exc.value.code == "store.deleted"
    assert store.purge(30) == 0  # deleted just now: still recoverable
    store.restore(sid)
    assert store.get(sid).payload["plan"] == plan and store.info(sid).deleted_at is None
    store.delete(sid)
    assert store.purge(30, now=utc_now() + timedelta(days=31)) == 1
    with pytest.raises(StoreError) as exc:
        store.info(sid)
    assert exc.value.code == "store.unknown_scenario"
    assert [s.id for s in store.list_scenarios()] == [other]
    store.close()


def test_bad_input_is_refused_with_a_code_and_changes_nothing(url: str) -> None:
    plan = _plan()
    store = open_store(url)
    sid, _ = store.create("A", plan["prefecture"], _payload(plan))
    other = _plan("zhengzhou")
    cases = {
        "store.prefecture_mismatch": {"plan": other},
        "store.payload_key": {"plan": plan, "passwords": []},
        "store.no_plan": {"settings": {}},
        "store.bad_plan": {"plan": {"id": "x"}},
        "store.not_json": {"plan": plan, "settings": {"minutes": float("nan")}},
        "store.payload_type": [plan],
    }
    for code, payload in cases.items():
        with pytest.raises(InputError) as exc:
            store.add_version(sid, payload)  # type: ignore[arg-type]
        assert exc.value.code == code, code
    for code, call in {
        "store.empty": lambda: store.rename(sid, "  "),
        "store.text_too_long": lambda: store.rename(sid, "x" * (settings.store_max_name_chars + 1)),
        "store.purge_days": lambda: store.purge(-1),
    }.items():
        with pytest.raises(InputError) as exc:
            call()
        assert exc.value.code == code
    with pytest.raises(StoreError) as err:
        store.add_version(sid + 100, _payload(plan))
    assert err.value.code == "store.unknown_scenario"
    assert store.info(sid).versions == 1 and store.info(sid).name == "A"
    store.close()


def test_a_payload_over_the_cap_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan()
    store = open_store(url)
    sid, _ = store.create("A", plan["prefecture"], _payload(plan))
    monkeypatch.setattr(settings, "store_max_payload_mb", 0.01)
    big = {**_payload(plan), "settings": {"blob": "x" * 20_000}}
    with pytest.raises(InputError) as exc:
        store.add_version(sid, big)
    assert exc.value.code == "store.payload_too_large" and exc.value.params["max_mb"] == 0.01
    assert store.info(sid).versions == 1
    store.close()


# --- where the store lives ------------------------------------------------------------------
def test_the_store_location_default_env_and_explicit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDPLAN_STORE", raising=False)
    monkeypatch.setattr(settings, "store_path", tmp_path / "data" / "gridplan" / "s.sqlite")
    store = open_store()  # created on first use, folder included
    assert (tmp_path / "data" / "gridplan" / "s.sqlite").is_file()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    store.close()
    monkeypatch.setenv("GRIDPLAN_STORE", str(tmp_path / "env.sqlite"))
    assert store_url().database == str(tmp_path / "env.sqlite")
    assert store_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    for bad, code in {
        "mysql://u@h/db": "store.bad_scheme",
        "postgresql://u@h:notaport/db": "store.bad_url",
    }.items():
        with pytest.raises(StoreError) as exc:
            open_store(bad)
        assert exc.value.code == code


def test_an_unreachable_server_is_a_coded_error_without_the_driver_text() -> None:
    with pytest.raises(StoreError) as exc:
        open_store(f"postgresql://nobody:secret@127.0.0.1:{_free_port()}/x?connect_timeout=2")
    assert exc.value.code == "store.unavailable" and "secret" not in json.dumps(exc.value.params)


# --- schema versions --------------------------------------------------------------------
V1_DDL = (
    "CREATE TABLE gridplan_schema (version INTEGER NOT NULL)",
    "INSERT INTO gridplan_schema VALUES (1)",
    "CREATE TABLE scenario (id {pk}, name VARCHAR(400) NOT NULL, author "
    "VARCHAR(400) NOT NULL, prefecture VARCHAR(100) NOT NULL, created TIMESTAMP NOT NULL, "
    "updated TIMESTAMP NOT NULL, note TEXT NOT NULL)",
    "CREATE TABLE scenario_version (id {pk}, scenario_id INTEGER NOT NULL "
    "REFERENCES scenario(id) ON DELETE CASCADE, number INTEGER NOT NULL, created TIMESTAMP "
    "NOT NULL, note TEXT NOT NULL, payload JSON NOT NULL, "
    "CONSTRAINT uq_scenario_version_number UNIQUE (scenario_id, number))",
)


def test_a_v1_store_written_by_an_old_release_opens_and_upgrades(url: str) -> None:
    plan = _plan()
    if url.startswith("sqlite"):
        Path(store_url(url).database or "").parent.mkdir(parents=True, exist_ok=True)
    raw = create_engine(store_url(url))
    pk = "SERIAL PRIMARY KEY" if raw.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with raw.begin() as conn:
        for ddl in V1_DDL:
            conn.execute(text(ddl.format(pk=pk)))
        conn.execute(
            text("INSERT INTO scenario VALUES (7, '旧方案', '李', :p, :t, :t, '')"),
            {"p": plan["prefecture"], "t": "2024-05-01 08:00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO scenario_version (scenario_id, number, created, note, payload) "
                "VALUES (7, 1, :t, 'v1', :j)"
            ),
            {"t": "2024-05-01 08:00:00", "j": json.dumps({"plan": plan, "format": 1})},
        )
    raw.dispose()
    store = open_store(url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM gridplan_schema")).scalar() == SCHEMA_VERSION
    snap = store.get(7)
    assert snap.payload["plan"] == plan and snap.scenario.name == "旧方案"
    assert snap.version.author == "" and snap.scenario.created.year == 2024
    assert store.add_version(7, _payload(plan), author="新") == 2  # the v2 column works
    store.delete(7)
    store.restore(7)
    store.close()
    open_store(url).close()  # opening again changes nothing


def test_a_store_from_a_newer_release_is_refused_untouched(url: str) -> None:
    open_store(url).close()
    raw = create_engine(store_url(url))
    with raw.begin() as conn:
        conn.execute(text("UPDATE gridplan_schema SET version = :v"), {"v": SCHEMA_VERSION + 1})
    raw.dispose()
    with pytest.raises(StoreError) as exc:
        open_store(url)
    assert exc.value.code == "store.too_new" and exc.value.params["found"] == SCHEMA_VERSION + 1


# --- integrity: concurrent writers, a killed save --------------------------------------------
WRITER = textwrap.dedent(
    """
    import json, sys
    from gridplan.store import open_store
    url, sid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    payload = json.loads(sys.stdin.read())
    store = open_store(url)
    for k in range(n):
        payload["settings"]["k"] = k
        number = store.add_version(sid, payload, author=f"pid{__import__('os').getpid()}")
        print(number, flush=True)  # printed only once committed
    store.close()
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}


def _check_complete(url: str, sid: int, expected: set[int]) -> None:
    store = open_store(url)
    numbers = [v.number for v in store.history(sid)]
    assert numbers == list(range(1, len(numbers) + 1))  # 1..N, no gap, no duplicate
    assert expected <= set(numbers)
    for n in numbers:  # every version reads back whole
        assert GridPlan.from_dict(store.get(sid, n).payload["plan"]).grids
    store.close()


def test_ten_concurrent_writer_processes_lose_nothing(url: str) -> None:
    plan = _plan()
    store = open_store(url)
    sid, _ = store.create("A", plan["prefecture"], _payload(plan))
    store.close()
    per, body = 5, json.dumps(_payload(plan))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(sid), str(per)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for _ in range(10)
    ]
    committed: list[int] = []
    for p in procs:
        out, err = p.communicate(body, timeout=300)
        assert p.returncode == 0, err[-2000:]
        committed += [int(line) for line in out.split()]
    assert sorted(committed) == list(range(2, 2 + 10 * per))  # each writer got its own numbers
    _check_complete(url, sid, {1, *committed})
    store = open_store(url)
    assert store.info(sid).versions == 1 + 10 * per
    store.close()


def test_a_writer_killed_in_the_middle_of_saving_leaves_the_store_intact(url: str) -> None:
    plan = _plan()
    store = open_store(url)
    sid, _ = store.create("A", plan["prefecture"], _payload(plan))
    store.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(sid), "100000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(json.dumps(_payload(plan)))
    proc.stdin.close()
    committed = []
    deadline = time.monotonic() + 120
    while len(committed) < 20 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    proc.send_signal(signal.SIGKILL)  # mid-loop: most likely inside a save
    proc.wait(timeout=30)
    proc.stdout.close()
    assert len(committed) == 20, "the writer did not get going"
    _check_complete(url, sid, {1, *committed})
    if url.startswith("sqlite"):
        raw = create_engine(store_url(url))
        with raw.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        raw.dispose()
    store = open_store(url)  # and the store takes new saves
    assert store.add_version(sid, _payload(plan)) == store.info(sid).versions
    store.close()


def test_a_read_only_link_token_is_made_once_and_finds_only_its_scenario(url: str) -> None:
    store = open_store(url)
    try:
        _check_view_tokens(store)
    finally:
        store.close()


def _check_view_tokens(store: Store) -> None:
    sid, _ = store.create("甲", "130100", _payload(_plan()))
    other, _ = store.create("乙", "130100", _payload(_plan()))
    token = store.view_token(sid)
    assert len(token) >= 32 and str(sid) != token
    assert store.view_token(sid) == token  # the same link every time it is asked for
    assert store.view_token(other) != token
    assert store.by_view_token(token).id == sid
    for bad in ("", "x" * 80, token[:-1]):
        with pytest.raises(StoreError) as exc:
            store.by_view_token(bad)
        assert exc.value.code == "store.unknown_link"
    store.delete(sid)  # a deleted scenario's link stops working
    with pytest.raises(StoreError):
        store.by_view_token(token)
