"""The store's tables and their migrations.

The schema carries its own version in the one-row table ``gridplan_schema``.
:data:`MIGRATIONS` lists the steps in order: step *k* turns a version *k-1*
store into a version *k* store (step 1 creates it).  :func:`migrate` runs the
missing steps, each in its own transaction together with the new version
number, so an interrupted upgrade leaves the store at the last finished step.
A store newer than this release is refused (its tables may mean something
this code does not know).  Never edit a released step: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    insert,
    inspect,
    select,
    text,
    update,
)

from gridplan.errors import StoreError


class UTCDateTime(TypeDecorator[datetime]):
    """A time stored in UTC and read back as an aware ``datetime``.

    SQLite keeps no time zone, so every time is converted to UTC on the way in
    and marked UTC on the way out; both databases then compare the same way.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

#: The schema version, one row.
schema_table = Table("gridplan_schema", metadata, Column("version", Integer, nullable=False))

#: A scenario: a named plan of one prefecture, its versions in :data:`version_table`.
scenario_table = Table(
    "scenario",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(400), nullable=False),
    Column("author", String(400), nullable=False),
    Column("prefecture", String(100), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),  # since v2: recoverable deletion
    # since v3: the secret of the scenario's read-only link (made when first asked for)
    Column("view_token", String(64), nullable=True, unique=True),
)

#: A saved state of a scenario; ``number`` counts 1, 2, ... per scenario.
version_table = Table(
    "scenario_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "scenario_id",
        Integer,
        ForeignKey("scenario.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("number", Integer, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("author", String(400), nullable=False),  # since v2: who saved it
    Column("note", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    # two writers can never give a scenario the same version number, whatever the locking
    UniqueConstraint("scenario_id", "number", name="uq_scenario_version_number"),
)


def _v1(conn: Connection) -> None:
    """Version 1: the schema table, scenarios and versions (no deletion, no version author)."""
    v1 = MetaData()
    Table("gridplan_schema", v1, Column("version", Integer, nullable=False))
    Table(
        "scenario",
        v1,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(400), nullable=False),
        Column("author", String(400), nullable=False),
        Column("prefecture", String(100), nullable=False),
        Column("created", UTCDateTime, nullable=False),
        Column("updated", UTCDateTime, nullable=False),
        Column("note", Text, nullable=False),
    )
    Table(
        "scenario_version",
        v1,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "scenario_id",
            Integer,
            ForeignKey("scenario.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        Column("number", Integer, nullable=False),
        Column("created", UTCDateTime, nullable=False),
        Column("note", Text, nullable=False),
        Column("payload", JSON, nullable=False),
        UniqueConstraint("scenario_id", "number", name="uq_scenario_version_number"),
    )
    v1.create_all(conn)


def _v2(conn: Connection) -> None:
    """Version 2: recoverable deletion of a scenario and the author of each version."""
    stamp = DateTime().compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE scenario ADD COLUMN deleted_at {stamp}"))
    conn.execute(
        text("ALTER TABLE scenario_version ADD COLUMN author VARCHAR(400) NOT NULL DEFAULT ''")
    )


def _v3(conn: Connection) -> None:
    """Version 3: the secret of each scenario's read-only link."""
    conn.execute(text("ALTER TABLE scenario ADD COLUMN view_token VARCHAR(64)"))
    conn.execute(text("CREATE UNIQUE INDEX ix_scenario_view_token ON scenario (view_token)"))


#: The migration steps in order; the store's schema version is how many have run.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1, _v2, _v3)
#: The schema version this release writes.
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: Connection) -> int:
    """The schema version of the store behind ``conn`` (0: an empty database)."""
    if not inspect(conn).has_table(schema_table.name):
        return 0
    found = conn.execute(select(schema_table.c.version)).scalar()
    return int(found or 0)


def migrate(engine: Engine, begin: Callable[[], Any]) -> int:
    """Bring the store up to :data:`SCHEMA_VERSION`; return the version it had.

    ``begin`` opens a write transaction that excludes other writers (SQLite's
    ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock), so two processes opening
    a new store at once do not both create it.
    """
    with begin() as conn:
        found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the store has schema version {found}; this release knows up to {SCHEMA_VERSION}",
            code="store.too_new",
            params={"found": found, "supported": SCHEMA_VERSION},
        )
    for step in range(found, SCHEMA_VERSION):
        with begin() as conn:
            now = schema_version(conn)
            if now > step:  # another process ran this step meanwhile
                continue
            MIGRATIONS[step](conn)
            if step == 0:
                conn.execute(insert(schema_table).values(version=1))
            else:
                conn.execute(update(schema_table).values(version=step + 1))
    return found


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)
