"""Scenarios and their versions: create, save, list, load, history, rename, delete, restore, purge.

Every operation is one transaction.  A save (:meth:`Store.add_version`)
takes the scenario's lock first (SQLite's write lock, PostgreSQL's row lock),
then numbers the version one past the last, so concurrent writers queue and
none is lost; the unique (scenario, number) constraint backs this up.  A
caller that edited version *k* passes ``base_version=k`` and is told, rather
than silently overwriting, when someone saved in between.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from gridplan import settings
from gridplan.errors import InputError, StoreError
from gridplan.store.engine import make_engine, store_url, transaction
from gridplan.store.payload import check_payload, check_text
from gridplan.store.schema import migrate, scenario_table, utc_now, version_table

S = scenario_table.c
V = version_table.c


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario without its versions' contents."""

    id: int
    name: str
    author: str
    prefecture: str
    created: datetime
    updated: datetime
    note: str
    deleted_at: datetime | None
    versions: int


@dataclass(frozen=True)
class VersionInfo:
    """One saved version, without its payload."""

    number: int
    created: datetime
    author: str
    note: str


@dataclass(frozen=True)
class Snapshot:
    """A scenario at one version, with that version's payload."""

    scenario: ScenarioInfo
    version: VersionInfo
    payload: dict[str, Any]


class Store:
    """The scenario store behind one database (see :func:`open_store`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    # --- writing ------------------------------------------------------------------------
    def create(
        self,
        name: str,
        prefecture: str,
        payload: Mapping[str, Any],
        *,
        author: str = "",
        note: str = "",
    ) -> tuple[int, int]:
        """Create a scenario with ``payload`` as its version 1; return ``(id, 1)``."""
        name = check_text("name", name, settings.store_max_name_chars, required=True)
        author = check_text("author", author, settings.store_max_name_chars)
        note = check_text("note", note, settings.store_max_note_chars)
        prefecture = check_text("prefecture", prefecture, 100, required=True)
        body = check_payload(payload, prefecture)
        now = utc_now()
        with transaction(self.engine, write=True) as conn:
            created = conn.execute(
                insert(scenario_table).values(
                    name=name,
                    author=author,
                    prefecture=prefecture,
                    created=now,
                    updated=now,
                    note=note,
                )
            )
            sid = int(created.inserted_primary_key[0])  # type: ignore[index]
            conn.execute(
                insert(version_table).values(
                    scenario_id=sid, number=1, created=now, author=author, note=note, payload=body
                )
            )
        return int(sid), 1

    def add_version(
        self,
        scenario_id: int,
        payload: Mapping[str, Any],
        *,
        author: str = "",
        note: str = "",
        base_version: int | None = None,
    ) -> int:
        """Save ``payload`` as the scenario's next version; return its number.

        ``base_version``: the version the edit started from; if another save
        came in between, :class:`~gridplan.errors.StoreError` ``store.conflict``
        is raised and nothing is written.
        """
        author = check_text("author", author, settings.store_max_name_chars)
        note = check_text("note", note, settings.store_max_note_chars)
        with transaction(self.engine, write=True) as conn:
            row = _scenario_row(conn, scenario_id, lock=True)
            _refuse_deleted(row)
            body = check_payload(payload, row.prefecture)
            latest = _latest(conn, scenario_id)
            if base_version is not None and base_version != latest:
                raise StoreError(
                    f"scenario {scenario_id} is at version {latest}, the edit started from "
                    f"{base_version}",
                    code="store.conflict",
                    params={"id": scenario_id, "base": base_version, "latest": latest},
                )
            now = utc_now()
            conn.execute(
                insert(version_table).values(
                    scenario_id=scenario_id,
                    number=latest + 1,
                    created=now,
                    author=author,
                    note=note,
                    payload=body,
                )
            )
            conn.execute(update(scenario_table).where(S.id == scenario_id).values(updated=now))
        return latest + 1

    def rename(self, scenario_id: int, name: str, *, note: str | None = None) -> None:
        """Give the scenario a new name (and, if given, a new note); its versions stay as
        they are."""
        name = check_text("name", name, settings.store_max_name_chars, required=True)
        values: dict[str, Any] = {"name": name, "updated": utc_now()}
        if note is not None:
            values["note"] = check_text("note", note, settings.store_max_note_chars)
        with transaction(self.engine, write=True) as conn:
            _refuse_deleted(_scenario_row(conn, scenario_id, lock=True))
            conn.execute(update(scenario_table).where(S.id == scenario_id).values(**values))

    def delete(self, scenario_id: int) -> None:
        """Delete the scenario recoverably: :meth:`restore` brings it back until :meth:`purge`."""
        with transaction(self.engine, write=True) as conn:
            row = _scenario_row(conn, scenario_id, lock=True)
            if row.deleted_at is None:
                conn.execute(
                    update(scenario_table).where(S.id == scenario_id).values(deleted_at=utc_now())
                )

    def restore(self, scenario_id: int) -> None:
        """Bring back a deleted scenario with all its versions."""
        with transaction(self.engine, write=True) as conn:
            _scenario_row(conn, scenario_id, lock=True)
            conn.execute(update(scenario_table).where(S.id == scenario_id).values(deleted_at=None))

    def purge(self, older_than_days: float | None = None, *, now: datetime | None = None) -> int:
        """Remove for good the scenarios deleted more than ``older_than_days`` ago; return how many.

        ``older_than_days`` defaults to :data:`gridplan.settings.store_purge_after_days`.
        """
        days = settings.store_purge_after_days if older_than_days is None else older_than_days
        if not days >= 0:
            raise InputError(
                f"purge age must be 0 days or more, got {days}",
                code="store.purge_days",
                params={"value": days},
            )
        cutoff = (now or utc_now()) - timedelta(days=days)
        with transaction(self.engine, write=True) as conn:
            ids = select(S.id).where(S.deleted_at.is_not(None), S.deleted_at <= cutoff)
            # versions first: SQLite enforces ON DELETE CASCADE only with its pragma on
            conn.execute(delete(version_table).where(V.scenario_id.in_(ids)))
            gone = conn.execute(delete(scenario_table).where(S.id.in_(ids))).rowcount
        return int(gone)

    def view_token(self, scenario_id: int) -> str:
        """The secret of the scenario's read-only link, made on first request.

        The link carries this token instead of the scenario's number, so a
        viewer cannot turn it into the editing link by changing a digit.
        """
        with transaction(self.engine, write=True) as conn:
            row = _scenario_row(conn, scenario_id, lock=True)
            _refuse_deleted(row)
            token = conn.execute(select(S.view_token).where(S.id == scenario_id)).scalar()
            if not token:
                token = secrets.token_urlsafe(24)
                conn.execute(
                    update(scenario_table).where(S.id == scenario_id).values(view_token=token)
                )
        return str(token)

    def by_view_token(self, token: str) -> ScenarioInfo:
        """The scenario a read-only link points to.

        Raises
        ------
        StoreError
            ``store.unknown_link``: no scenario has this token (or it is deleted).
        """
        token = str(token)[:64]
        with transaction(self.engine) as conn:
            row = conn.execute(
                _info_query().where(S.view_token == token, S.deleted_at.is_(None))
            ).first()
        if not token or row is None:
            raise StoreError("no scenario has this read-only link", code="store.unknown_link")
        return _info(row)

    # --- reading ------------------------------------------------------------------------
    def list_scenarios(self, *, include_deleted: bool = False) -> list[ScenarioInfo]:
        """The scenarios, most recently updated first (deleted ones only if asked)."""
        query = _info_query().order_by(S.updated.desc(), S.id.desc())
        if not include_deleted:
            query = query.where(S.deleted_at.is_(None))
        with transaction(self.engine) as conn:
            return [_info(r) for r in conn.execute(query)]

    def info(self, scenario_id: int) -> ScenarioInfo:
        """One scenario's name, author, times and number of versions (deleted ones too)."""
        with transaction(self.engine) as conn:
            row = conn.execute(_info_query().where(S.id == scenario_id)).first()
        if row is None:
            raise _unknown(scenario_id)
        return _info(row)

    def get(self, scenario_id: int, version: int | None = None) -> Snapshot:
        """The scenario at ``version`` (the latest if ``None``) with its payload."""
        with transaction(self.engine) as conn:
            row = conn.execute(_info_query().where(S.id == scenario_id)).first()
            if row is None:
                raise _unknown(scenario_id)
            _refuse_deleted(row)
            number = row.versions if version is None else version
            found = conn.execute(
                select(V.number, V.created, V.author, V.note, V.payload).where(
                    V.scenario_id == scenario_id, V.number == number
                )
            ).first()
        if found is None:
            raise StoreError(
                f"scenario {scenario_id} has no version {version}",
                code="store.unknown_version",
                params={"id": scenario_id, "version": version, "latest": row.versions},
            )
        info = VersionInfo(found.number, found.created, found.author, found.note)
        return Snapshot(_info(row), info, dict(found.payload))

    def history(self, scenario_id: int) -> list[VersionInfo]:
        """Every version of the scenario, oldest first: who saved it when, with what note."""
        with transaction(self.engine) as conn:
            _scenario_row(conn, scenario_id)
            rows = conn.execute(
                select(V.number, V.created, V.author, V.note)
                .where(V.scenario_id == scenario_id)
                .order_by(V.number)
            )
            return [VersionInfo(r.number, r.created, r.author, r.note) for r in rows]


def _info_query() -> Any:
    # the highest number is the count: numbers run 1..N without gaps (nothing removes one)
    versions = (
        select(func.coalesce(func.max(V.number), 0))
        .where(V.scenario_id == S.id)
        .scalar_subquery()
        .label("versions")
    )
    return select(
        S.id,
        S.name,
        S.author,
        S.prefecture,
        S.created,
        S.updated,
        S.note,
        S.deleted_at,
        versions,
    )


def _info(row: Any) -> ScenarioInfo:
    return ScenarioInfo(
        id=row.id,
        name=row.name,
        author=row.author,
        prefecture=row.prefecture,
        created=row.created,
        updated=row.updated,
        note=row.note,
        deleted_at=row.deleted_at,
        versions=int(row.versions),
    )


def _scenario_row(conn: Connection, scenario_id: int, *, lock: bool = False) -> Any:
    query = select(S.id, S.name, S.prefecture, S.deleted_at).where(S.id == scenario_id)
    if lock:  # PostgreSQL: writers of one scenario queue here; SQLite holds its write lock
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise _unknown(scenario_id)
    return row


def _latest(conn: Connection, scenario_id: int) -> int:
    found = conn.execute(select(func.max(V.number)).where(V.scenario_id == scenario_id)).scalar()
    return int(found or 0)


def _refuse_deleted(row: Any) -> None:
    if row.deleted_at is not None:
        raise StoreError(
            f"scenario {row.id} is deleted",
            code="store.deleted",
            params={"id": row.id, "name": row.name},
        )


def _unknown(scenario_id: int) -> StoreError:
    return StoreError(
        f"no scenario {scenario_id}", code="store.unknown_scenario", params={"id": scenario_id}
    )


def open_store(url: str | Path | None = None) -> Store:
    """Open the scenario store, creating or upgrading its schema on first use.

    Parameters
    ----------
    url
        ``sqlite:///file``, ``postgresql://user@host/db`` or a SQLite file
        path; ``None``: ``$GRIDPLAN_STORE``, else
        :data:`gridplan.settings.store_path`.

    Raises
    ------
    StoreError
        The URL cannot be used (``store.bad_url``, ``store.bad_scheme``), the
        database cannot be reached (``store.unavailable``), or it was written
        by a newer release (``store.too_new``).
    """
    engine = make_engine(store_url(url))
    try:
        migrate(engine, lambda: transaction(engine, migration=True))
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)
