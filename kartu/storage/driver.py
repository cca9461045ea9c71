"""Transactions on the database driver itself (sqlite3 on the loop's thread, aiosqlite when SQLite
has to wait, asyncpg), for the few statements that run on every update and every purchase.

SQLAlchemy's ORM costs far more per statement than the database does (building the statement,
the session's bookkeeping, hydrating rows; on SQLite three or four thread hand-offs per statement,
each dearer than the statement). The hot path (storage/counter.py and beside it) runs on these;
everything else keeps the ORM. One SQL text serves both databases: it is written with ``:name``
parameters, which SQLite takes as they are and PostgreSQL gets as ``$1, $2, ...``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import aiosqlite
from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession

_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


class Sql:
    """One statement in both dialects: ``:name`` parameters for SQLite, ``$n`` for asyncpg."""

    def __init__(self, text: str) -> None:
        self.names: list[str] = []
        for name in _PARAMETER.findall(text):
            if name not in self.names:
                self.names.append(name)
        self.sqlite = text
        self.writes = re.match(r"\s*(INSERT|UPDATE|DELETE|WITH)\b", text, re.IGNORECASE) is not None
        self.postgres = _PARAMETER.sub(lambda found: f"${self.names.index(found[1]) + 1}", text)


class DriverTransaction(Protocol):
    """What the hot statements need of a connection: a row (or none) per statement, and the
    driver's way of handing back a time."""

    locks_rows: bool  # PostgreSQL takes row locks; SQLite's one writer holds the whole database

    async def one(self, sql: Sql, **values: Any) -> Mapping[str, Any] | None: ...

    async def all(self, sql: Sql, **values: Any) -> Sequence[Mapping[str, Any]]: ...

    def when(self, value: Any) -> datetime | None: ...


class SqliteDirect:
    """A stdlib ``sqlite3`` connection called from the event loop's own thread, holding the
    writers' lock inside ``BEGIN IMMEDIATE``: each statement costs what SQLite costs (a few
    microseconds on these indexed rows) instead of a hand-off to a driver thread and back (about
    90 microseconds of CPU, and the lock held across every hand-off). Nothing here waits: the
    transaction began without waiting, and in WAL mode a writer that holds the write lock is
    not made to wait again."""

    locks_rows = False

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def one(self, sql: Sql, **values: Any) -> Mapping[str, Any] | None:
        return self.connection.execute(sql.sqlite, _bound(values)).fetchone()

    async def all(self, sql: Sql, **values: Any) -> Sequence[Mapping[str, Any]]:
        return self.connection.execute(sql.sqlite, _bound(values)).fetchall()

    def when(self, value: Any) -> datetime | None:
        return _sqlite_time(value)


class SqliteTransaction:
    """One aiosqlite connection, each statement a hand-off to its thread: the transaction whose
    ``BEGIN IMMEDIATE`` had to wait (another process was writing) waits there, not on the loop."""

    locks_rows = False

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def one(self, sql: Sql, **values: Any) -> Mapping[str, Any] | None:
        return next(iter(await self.all(sql, **values)), None)

    async def all(self, sql: Sql, **values: Any) -> Sequence[Mapping[str, Any]]:
        return list(await self.connection.execute_fetchall(sql.sqlite, _bound(values)))  # type: ignore[arg-type]

    def when(self, value: Any) -> datetime | None:
        return _sqlite_time(value)


class SqliteStatements:
    """Statements that each commit alone: writes go to ``write`` (the writers' queue), reads to
    ``read`` (a connection of their own: WAL readers see the last commit and wait for nobody)."""

    locks_rows = False

    def __init__(
        self,
        read: Callable[[str, dict[str, Any]], Awaitable[list[Any]]],
        write: Callable[[str, dict[str, Any]], Awaitable[list[Any]]],
    ) -> None:
        self.read = read
        self.write = write

    async def one(self, sql: Sql, **values: Any) -> Mapping[str, Any] | None:
        return next(iter(await self.all(sql, **values)), None)

    async def all(self, sql: Sql, **values: Any) -> Sequence[Mapping[str, Any]]:
        return await (self.write if sql.writes else self.read)(sql.sqlite, _bound(values))

    def when(self, value: Any) -> datetime | None:
        return _sqlite_time(value)


def is_busy(error: BaseException) -> bool:
    """SQLite said another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED)."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.OperationalError) and code is not None and code & 0xFF in (5, 6)


class PostgresTransaction:
    """One asyncpg connection: each statement is one round trip (prepared once per connection)."""

    locks_rows = True

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def one(self, sql: Sql, **values: Any) -> Mapping[str, Any] | None:
        row = await self.connection.fetchrow(sql.postgres, *(values[name] for name in sql.names))
        return row

    async def all(self, sql: Sql, **values: Any) -> Sequence[Mapping[str, Any]]:
        rows = await self.connection.fetch(sql.postgres, *(values[name] for name in sql.names))
        return rows

    def when(self, value: Any) -> datetime | None:
        return None if value is None else value.astimezone(UTC)


class SessionTransaction:
    """The same statements inside an ORM unit of work, for a use case that credits among other
    changes (a claim approved). Rows come back as the driver gives them, as above."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        bind = session.bind
        self.is_sqlite = bind is None or bind.dialect.name == "sqlite"
        self.locks_rows = not self.is_sqlite

    async def one(self, sql: Sql, **values: Any) -> Mapping[str, Any] | None:
        return next(iter(await self.all(sql, **values)), None)

    async def all(self, sql: Sql, **values: Any) -> Sequence[Mapping[str, Any]]:
        if self.is_sqlite:
            values = {name: _to_sqlite(value) for name, value in values.items()}
        await self.session.flush()  # the unit of work's pending changes first
        result = cast(CursorResult[Any], await self.session.execute(text(sql.sqlite), values))
        if not result.returns_rows:
            return []
        return cast(Sequence[Mapping[str, Any]], result.mappings().all())

    def when(self, value: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if self.is_sqlite else value.astimezone(UTC)


def _bound(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _to_sqlite(value) for name, value in values.items()}


def _sqlite_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _to_sqlite(value: Any) -> Any:
    """Values as SQLAlchemy writes them to SQLite: times as naive UTC text, booleans as 0/1."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        # As SQLAlchemy keeps a DateTime in SQLite: 2026-11-24 09:00:00.000000
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _pragmas(busy_timeout_ms: int) -> tuple[str, ...]:
    return ("journal_mode=WAL", f"busy_timeout={busy_timeout_ms}", "foreign_keys=ON", "synchronous=NORMAL")


async def open_sqlite(path: str, busy_timeout_ms: int) -> aiosqlite.Connection:
    """A connection set up as the engine's are (see database.py), in autocommit mode: the hot
    path says BEGIN IMMEDIATE itself."""
    connection = await aiosqlite.connect(path, isolation_level=None)
    connection.row_factory = sqlite3.Row
    for pragma in _pragmas(busy_timeout_ms):
        await connection.execute(f"PRAGMA {pragma}")
    return connection


def open_direct_sqlite(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    """A connection for the event loop's own thread (`SqliteDirect`): set up as the others, but
    it never waits for a lock (busy timeout 0: whoever meets one goes to a waiting connection
    instead) and never checkpoints the WAL itself (the database does that in a thread). Opened in
    a thread (it may wait while it is set up); used on the loop's."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    for pragma in (*_pragmas(busy_timeout_ms), "busy_timeout=0", "wal_autocheckpoint=0"):
        connection.execute(f"PRAGMA {pragma}")
    return connection
