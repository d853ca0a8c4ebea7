"""Where the store lives and how GridPlan talks to it: the URL, the engine, the transactions.

SQLite (the default, one file in the user's data folder) runs in WAL mode, so
readers never wait for a writer and a process killed in the middle of a save
loses only that save; every write transaction starts with ``BEGIN
IMMEDIATE``, so writers queue (up to the busy timeout) instead of failing
half-way.  PostgreSQL (a team's shared server) is reached through psycopg 3.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from gridplan import settings
from gridplan.errors import StoreError

#: The environment variable naming the store (a URL or a SQLite file path).
STORE_ENV = "GRIDPLAN_STORE"
#: The URL schemes a store may have, and the driver each runs on.
_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}
#: PostgreSQL advisory lock key taken by schema upgrades (any fixed number; "GRID").
_MIGRATION_LOCK = 0x47524944


def store_url(url: str | Path | None = None) -> URL:
    """The store's URL: ``url``, else ``$GRIDPLAN_STORE``, else the default SQLite file.

    A value without ``://`` is a SQLite file path.
    """
    raw = str(url) if url is not None else os.environ.get(STORE_ENV) or ""
    if not raw:
        raw = str(settings.store_path)
    if "://" not in raw:
        return URL.create("sqlite+pysqlite", database=str(Path(raw).expanduser()))
    try:
        parsed = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise StoreError("the store URL cannot be read", code="store.bad_url") from exc
    scheme = parsed.drivername.partition("+")[0]
    if scheme not in _DRIVERS:
        raise StoreError(
            f"unsupported store URL scheme {scheme!r}",
            code="store.bad_scheme",
            params={"scheme": scheme[:20]},
        )
    return parsed.set(drivername=_DRIVERS[scheme])


def make_engine(url: URL) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created on first use."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": settings.store_busy_timeout_s})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # SQLAlchemy then emits BEGIN itself (_sqlite_begin): pysqlite's own implicit
    # transactions would start too late for BEGIN IMMEDIATE
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={int(settings.store_busy_timeout_s * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed save survives a power cut too, not only a killed process
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("gridplan_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def transaction(
    engine: Engine, *, write: bool = False, migration: bool = False
) -> Iterator[Connection]:
    """A transaction on ``engine``, committed at the end of the block, rolled back on error.

    ``write`` takes SQLite's write lock at the start (writers queue, none fails
    half-way); ``migration`` also takes PostgreSQL's schema-upgrade lock.
    Connection failures and a store busy beyond the timeout become coded
    :class:`~gridplan.errors.StoreError`; the driver's text stays out of them.
    """
    try:
        with engine.connect() as conn:
            conn.execution_options(gridplan_write=write or migration)
            with conn.begin():
                if migration and engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                yield conn
    except OperationalError as exc:
        raise _operational_error(engine, exc) from exc


def _operational_error(engine: Engine, exc: DBAPIError) -> StoreError:
    if "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower():
        return StoreError(
            "the store is busy with another save",
            code="store.busy",
            params={"seconds": settings.store_busy_timeout_s},
        )
    kind = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    return StoreError(
        f"the {kind} store cannot be opened or written",
        code="store.unavailable",
        params={"kind": kind, "env": STORE_ENV},
    )
