"""The database handle: one engine, read and write transactions, migrations.

SQLite runs in WAL mode with a busy timeout; write transactions start with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock, and inside one
process they queue on an asyncio lock instead of spinning in SQLite's busy handler.
PostgreSQL write transactions rely on row locks taken by the repositories.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from kartu.storage.driver import (
    DriverTransaction,
    PostgresTransaction,
    SqliteDirect,
    SqliteStatements,
    SqliteTransaction,
    is_busy,
    open_direct_sqlite,
    open_sqlite,
)
from kartu.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kartu.config import Settings

log = logging.getLogger(__name__)
_WRITE_OPTION = "kartu_write"
SQLITE_BUSY_TIMEOUT_MS = 15_000
CHECKPOINT_EVERY = 500  # commits on the loop's writer between checkpoints of the WAL (in a thread)


_Write = tuple[str, dict[str, Any], "asyncio.Future[list[Any]]"]


def _settle(future: asyncio.Future[list[Any]], rows: list[Any] | None, error: BaseException | None) -> None:
    if future.done():  # its caller was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(rows or [])


def _began(connection: sqlite3.Connection) -> bool:
    """``BEGIN IMMEDIATE`` on the loop's writer, unless it would have to wait."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        return False
    return True


def _waiting_commit(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    try:
        connection.execute("COMMIT")
    finally:
        connection.execute("PRAGMA busy_timeout=0")


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


def server_gone(error: BaseException) -> bool:
    """Whether ``error`` says the database server closed the connection or is not taking any
    (restarting, shutting down): worth a new connection, not an apology for ever."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    cause = getattr(error, "orig", None) or error
    cause = getattr(cause, "__cause__", None) or cause  # SQLAlchemy's asyncpg adapter wraps the driver's
    return isinstance(
        cause,
        asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError
        | asyncpg.InterfaceError
        | ConnectionError
        | OSError,
    )


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
        # Four connections, opened when first needed: a writer and a reader called from the loop's
        # thread (they never wait), and a waiting writer and reader in driver threads for when
        # another process holds the lock.
        self._direct: dict[bool, sqlite3.Connection] = {}
        self._waiting: dict[bool, aiosqlite.Connection] = {}
        self._opening = asyncio.Lock()
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._writes: list[_Write] = []  # single statements waiting to commit (`_sqlite_write`)
        self._writing: asyncio.Future[None] | None = None
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
        transaction, or with ``transaction=False`` statements that each commit alone. PostgreSQL
        takes a connection from the engine's pool.

        On SQLite the statements are called from the loop's own thread (`SqliteDirect`): a
        statement here costs microseconds, a hand-off to a driver thread about 90 of CPU, and a
        transaction held open across hand-offs holds every writer up. A transaction queues with
        the ORM's writers on the same lock; single statements queue there only to write, and read
        on a connection of their own (WAL readers see the last commit and wait for nobody). The
        loop never waits for SQLite: when another process holds the lock, the statement or
        transaction goes to a connection that waits in a thread instead."""
        if self._write_lock is None:
            async with self._postgres(transaction) as tx:
                yield tx
            return
        if not transaction:
            yield SqliteStatements(self._sqlite_read, self._sqlite_write)
            return
        async with self._write_lock:
            direct = await self._direct_connection(reader=False)
            if not _began(direct):  # another process is writing: wait in a thread, not on the loop
                async with self._waiting_transaction() as waited:
                    yield waited
                return
            try:
                yield SqliteDirect(direct)
            except BaseException:
                direct.execute("ROLLBACK")
                raise
            await self._commit(direct)

    @asynccontextmanager
    async def _waiting_transaction(self) -> AsyncIterator[DriverTransaction]:
        connection = await self._waiting_connection(reader=False)
        await connection.execute("BEGIN IMMEDIATE")
        try:
            yield SqliteTransaction(connection)
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")

    async def _commit(self, direct: sqlite3.Connection) -> None:
        try:
            direct.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            await asyncio.to_thread(_waiting_commit, direct)  # a COMMIT may be tried again
        self._committed()

    def _committed(self) -> None:
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and (self._checkpoint is None or self._checkpoint.done()):
            self._checkpoint = asyncio.create_task(self._checkpoint_wal())

    async def _checkpoint_wal(self) -> None:
        """What SQLite's automatic checkpoint would do after a commit, in a thread: the WAL's
        pages copied back into the database file so the WAL stays small."""
        connection = await self._waiting_connection(reader=True)
        await connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def _sqlite_read(self, sql: str, values: dict[str, Any]) -> list[Any]:
        """One query on the loop's reader, or the waiting reader when SQLite says busy."""
        try:
            return (await self._direct_connection(reader=True)).execute(sql, values).fetchall()
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
        return list(await (await self._waiting_connection(reader=True)).execute_fetchall(sql, values))

    async def _sqlite_write(self, sql: str, values: dict[str, Any]) -> list[Any]:
        """One statement that commits on its own: not after another's failure, nor before the
        writers queued ahead of it. Statements that come in while the writers' lock is taken, or
        in the same turn of the loop, commit together (group commit: one WAL append for the lot)."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._writes.append((sql, values, future))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._write_queued())
        return await future

    async def _write_queued(self) -> None:
        assert self._write_lock is not None
        while self._writes:
            async with self._write_lock:
                batch = [write for write in self._writes if not write[2].cancelled()]
                self._writes = []
                try:
                    await self._write_together(batch)
                except BaseException as error:  # nobody is left waiting for an answer that never comes
                    for _, _, future in batch:
                        if isinstance(error, asyncio.CancelledError):
                            future.cancel()
                        _settle(future, None, error)
                    raise

    async def _write_together(self, batch: list[_Write]) -> None:
        if not batch:
            return
        direct = await self._direct_connection(reader=False)
        if len(batch) > 1 and _began(direct):
            outcomes: list[tuple[list[Any] | None, BaseException | None]] = []
            try:
                for sql, values, _ in batch:
                    try:
                        outcomes.append((direct.execute(sql, values).fetchall(), None))
                    except sqlite3.IntegrityError as error:  # this statement undone, the rest go on
                        outcomes.append((None, error))
                await self._commit(direct)
            except Exception:  # noqa: BLE001 - one by one below, each with its own outcome
                if direct.in_transaction:
                    direct.execute("ROLLBACK")
            else:
                for (rows, failure), (_, _, future) in zip(outcomes, batch, strict=True):
                    _settle(future, rows, failure)
                return
        for sql, values, future in batch:  # alone, or one by one after a failure
            try:
                rows = await self._write_alone(direct, sql, values)
            except Exception as error:  # noqa: BLE001 - handed to the statement's caller
                _settle(future, None, error)
            else:
                _settle(future, rows, None)

    async def _write_alone(self, direct: sqlite3.Connection, sql: str, values: dict[str, Any]) -> list[Any]:
        """On the loop's writer, or the waiting writer when another process holds the lock (a
        statement that was refused did nothing)."""
        try:
            rows = direct.execute(sql, values).fetchall()
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            return list(await (await self._waiting_connection(reader=False)).execute_fetchall(sql, values))
        self._committed()
        return rows

    async def _direct_connection(self, *, reader: bool) -> sqlite3.Connection:
        connection = self._direct.get(reader)
        if connection is not None:
            return connection
        async with self._opening:
            if reader not in self._direct:
                assert self._sqlite_path is not None, "no driver path for an in-memory database"
                self._direct[reader] = await asyncio.to_thread(
                    open_direct_sqlite, self._sqlite_path, SQLITE_BUSY_TIMEOUT_MS
                )
        return self._direct[reader]

    async def _waiting_connection(self, *, reader: bool) -> aiosqlite.Connection:
        async with self._opening:
            if reader not in self._waiting:
                assert self._sqlite_path is not None, "no driver path for an in-memory database"
                self._waiting[reader] = await open_sqlite(self._sqlite_path, SQLITE_BUSY_TIMEOUT_MS)
        return self._waiting[reader]

    @asynccontextmanager
    async def _postgres(self, transaction: bool) -> AsyncIterator[DriverTransaction]:
        async with self.engine.connect() as pooled:
            connection = (await pooled.get_raw_connection()).driver_connection
            assert connection is not None, "asyncpg hands out a connection"
            try:
                if not transaction:
                    yield PostgresTransaction(connection)
                    return
                async with connection.transaction():
                    yield PostgresTransaction(connection)
            except Exception as error:
                if server_gone(error):  # a dropped connection does not go back to the pool, nor its peers
                    await pooled.invalidate()
                    await self.forget_connections()
                raise

    async def forget_connections(self) -> None:
        """The server went away (restarted, failed over): the pool's idle connections are dead too.
        A new pool takes them over, so the next transactions connect afresh instead of each
        finding out by failing (connections in use close when their transactions end)."""
        if not self.is_sqlite:
            log.warning("the database server closed a connection: opening new ones")
            await self.engine.dispose(close=False)

    @asynccontextmanager
    async def _session_transaction(
        self, factory: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[UnitOfWork]:
        try:
            async with factory() as session, session.begin():
                yield UnitOfWork(session)
        except Exception as error:
            if server_gone(error):
                await self.forget_connections()
            raise

    async def dispose(self) -> None:
        for task in (self._writing, self._checkpoint):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        for waiting in self._waiting.values():
            await waiting.close()
        for direct in self._direct.values():
            direct.close()
        self._waiting.clear()
        self._direct.clear()
        await self.engine.dispose()
