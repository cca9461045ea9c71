"""The database handle: one engine, read and write transactions, migrations.

SQLite runs in WAL mode with a busy timeout; write transactions start with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock, and inside one
process they queue on an asyncio lock instead of spinning in SQLite's busy handler.
PostgreSQL write transactions rely on row locks taken by the repositories.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from kartu.storage.driver import (
    DriverTransaction,
    PostgresTransaction,
    SqliteStatements,
    SqliteTransaction,
    open_sqlite,
)
from kartu.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kartu.config import Settings

_WRITE_OPTION = "kartu_write"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        _prepare_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No ping before every checkout (a round trip per transaction): connections are recycled
    # after 30 minutes, and one dropped by the server fails its transaction, is discarded by the
    # pool, and the update is apologised for like any other failure.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


class Database:
    """Opens units of work. ``read()`` for queries, ``write()`` for anything that changes state."""

    @classmethod
    def for_settings(cls, settings: Settings) -> Database:
        """The database of a running bot: PostgreSQL pool sized by the settings."""
        if make_url(settings.database_url).get_backend_name() == "sqlite":
            return cls(settings.database_url)
        pool = min(settings.database_pool_size, settings.database_max_connections)
        return cls(
            settings.database_url, pool_size=pool, max_overflow=settings.database_max_connections - pool
        )

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        database = make_url(url).database if self.is_sqlite else None
        # The hot path's own SQLite connection (a file's: an in-memory database is per connection).
        self._sqlite_path = database if database and database != ":memory:" else None
        self._sqlite_driver: aiosqlite.Connection | None = None
        self._sqlite_reader: aiosqlite.Connection | None = None
        self._opening = asyncio.Lock()
        self.has_driver = not self.is_sqlite or self._sqlite_path is not None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        async with self._session_transaction(self._read_sessions) as uow:
            yield uow

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A transaction that commits when the block ends and rolls back on an exception."""
        if self._write_lock is None:
            async with self._session_transaction(self._write_sessions) as uow:
                yield uow
            return
        async with self._write_lock, self._session_transaction(self._write_sessions) as uow:
            yield uow

    @asynccontextmanager
    async def driver(self, *, transaction: bool = True) -> AsyncIterator[DriverTransaction]:
        """Statements on the driver itself, for the hot path (storage/counter.py and beside it): one
        transaction, or with ``transaction=False`` statements that each commit alone. On SQLite a
        transaction queues with the ORM's writers on the same lock and connection; single statements
        queue there only to write, and read on a connection of their own (WAL readers see the last
        commit and wait for nobody). PostgreSQL takes a connection from the engine's pool."""
        if self._write_lock is None:
            async with self._postgres(transaction) as tx:
                yield tx
            return
        if not transaction:
            yield SqliteStatements(await self._sqlite_connection(reader=True), self._sqlite_write)
            return
        async with self._write_lock:
            connection = await self._sqlite_connection(reader=False)
            await connection.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(connection)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")

    async def _sqlite_write(self, sql: str, values: dict[str, Any]) -> list[Any]:
        """One statement that commits alone, in the writers' queue."""
        assert self._write_lock is not None
        async with self._write_lock:
            connection = await self._sqlite_connection(reader=False)
            return list(await connection.execute_fetchall(sql, values))

    async def _sqlite_connection(self, *, reader: bool) -> aiosqlite.Connection:
        async with self._opening:
            assert self._sqlite_path is not None, "no driver path for an in-memory database"
            if reader and self._sqlite_reader is None:
                self._sqlite_reader = await open_sqlite(self._sqlite_path, SQLITE_BUSY_TIMEOUT_MS)
            if not reader and self._sqlite_driver is None:
                self._sqlite_driver = await open_sqlite(self._sqlite_path, SQLITE_BUSY_TIMEOUT_MS)
        return self._sqlite_reader if reader else self._sqlite_driver  # type: ignore[return-value]

    @asynccontextmanager
    async def _postgres(self, transaction: bool) -> AsyncIterator[DriverTransaction]:
        async with self.engine.connect() as pooled:
            connection = (await pooled.get_raw_connection()).driver_connection
            try:
                if not transaction:
                    yield PostgresTransaction(connection)
                    return
                async with connection.transaction():
                    yield PostgresTransaction(connection)
            except (asyncpg.InterfaceError, OSError):
                await pooled.invalidate()  # a dropped connection does not go back to the pool
                raise

    @asynccontextmanager
    async def _session_transaction(
        self, factory: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[UnitOfWork]:
        async with factory() as session, session.begin():
            yield UnitOfWork(session)

    async def dispose(self) -> None:
        for connection in (self._sqlite_driver, self._sqlite_reader):
            if connection is not None:
                await connection.close()
        self._sqlite_driver = self._sqlite_reader = None
        await self.engine.dispose()
