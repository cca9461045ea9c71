"""Backups that restore: a consistent copy of the database while Kartu runs, checked before it is
kept, and a restore that refuses to pull the floor from under a running bot.

- SQLite: the online backup API (a consistent snapshot while writers go on, WAL included), into a
  temporary name, then ``PRAGMA integrity_check`` and the migration revision read from the copy,
  then renamed into place.
- PostgreSQL: ``pg_dump`` in custom format (the password passed in the environment, not on the
  command line), checked with ``pg_restore --list``; a missing tool is named with its package.
A restore keeps the current database aside first (a copy beside the backup), replaces it, and runs
the migrations the backup predates."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from kartu.storage.database import Database
from kartu.storage.migrate import scripts, upgrade

SQLITE_SUFFIX, DUMP_SUFFIX = ".db", ".dump"


class BackupFailed(Exception):
    """A backup or restore that could not be done, with what to do about it (for the operator)."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int  # bytes
    revision: str  # the schema's migration revision in the copy
    seconds: float


def default_name(db: Database, now: datetime) -> str:
    """``kartu-20261207-031500.db`` (SQLite) or ``.dump`` (PostgreSQL): sorts by time."""
    return f"kartu-{now:%Y%m%d-%H%M%S}{SQLITE_SUFFIX if db.is_sqlite else DUMP_SUFFIX}"


async def take_backup(db: Database, target: Path) -> BackupReport:
    """A consistent, checked copy of the database at ``target`` (written under a temporary name,
    renamed once checked: a half-written file never carries the final name)."""
    started = time.perf_counter()
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        if db.is_sqlite:
            await asyncio.to_thread(_sqlite_copy, _sqlite_file(db), partial)
            revision = await asyncio.to_thread(_sqlite_check, partial)
        else:
            revision = await _revision(db)
            await _run_tool("pg_dump", "--format=custom", "--no-owner", f"--file={partial}", url=db.url)
            await _run_tool("pg_restore", "--list", str(partial), url=None)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(target, target.stat().st_size, revision, time.perf_counter() - started)


async def check_backup(db: Database, source: Path) -> str:
    """The backup's migration revision, once it is checked to be whole and of a schema this Kartu
    knows (a backup from a newer Kartu is refused)."""
    if not source.is_file():
        raise BackupFailed(f"{source}: no such file")
    if db.is_sqlite:
        revision = await asyncio.to_thread(_sqlite_check, source)
    else:
        listing = await _run_tool("pg_restore", "--list", str(source), url=None)
        if "alembic_version" not in listing:
            raise BackupFailed(f"{source}: not a Kartu backup (no alembic_version table)")
        revision = ""  # read after the restore (a custom-format dump holds it as data)
    if revision and not _known(revision):
        raise BackupFailed(f"{source}: made by a newer Kartu (schema {revision}); upgrade Kartu first")
    return revision


async def restore_backup(db: Database, source: Path, aside: Path) -> str:
    """Replace the database with the backup at ``source``: checked first, the current database
    copied to ``aside`` first, pending migrations run after. The schema revision it ends at."""
    await check_backup(db, source)
    await take_backup(db, aside)
    if db.is_sqlite:
        await db.engine.dispose()
        await asyncio.to_thread(_sqlite_copy, source.resolve(), Path(_sqlite_file(db)), replace=True)
    else:
        await db.engine.dispose()
        await _run_tool(
            "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", str(source), url=db.url,
        )  # fmt: skip
    await upgrade(db.engine)
    return await _revision(db)


def _sqlite_file(db: Database) -> Path:
    database = make_url(db.url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory database has nothing to back up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path, replace: bool = False) -> None:
    """SQLite's online backup, all pages in one step: a snapshot consistent as of its start (a
    writer in WAL mode is not blocked). ``replace``: into a live file (a restore)."""
    if not replace:
        target.unlink(missing_ok=True)
    with sqlite3.connect(source, timeout=30) as reading:
        with sqlite3.connect(target, timeout=30) as writing:
            reading.backup(writing)
            if not replace:  # a backup is one self-contained file: no write-ahead log beside it
                writing.execute("PRAGMA journal_mode=DELETE")
        writing.close()
    reading.close()


def _sqlite_check(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as copy:
        try:
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupFailed(f"{path}: not a Kartu SQLite backup ({error})") from None
    copy.close()
    if verdict != "ok":
        raise BackupFailed(f"{path}: damaged ({verdict})")
    if row is None:
        raise BackupFailed(f"{path}: no migration revision recorded")
    return str(row[0])


def _known(revision: str) -> bool:
    return any(known.revision == revision for known in scripts().walk_revisions())


async def _revision(db: Database) -> str:
    async with db.engine.connect() as connection:
        return str((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one())


async def _run_tool(tool: str, *args: str, url: str | None) -> str:
    """Run a PostgreSQL client tool against ``url`` (its password in ``PGPASSWORD``)."""
    found = shutil.which(tool)
    if found is None:
        raise BackupFailed(f"{tool} is needed for PostgreSQL backups: apt install postgresql-client")
    env = dict(os.environ)
    target: list[str] = []
    if url is not None:
        parsed = make_url(url)
        if parsed.password:
            env["PGPASSWORD"] = parsed.password
        plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
        target = [f"--dbname={plain}"]
    process = await asyncio.create_subprocess_exec(
        found,
        *target,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode:
        raise BackupFailed(f"{tool} failed: {err.decode(errors='replace').strip()[:500]}")
    return out.decode(errors="replace")
