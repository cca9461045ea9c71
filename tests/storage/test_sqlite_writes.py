"""SQLite's single statements on the driver commit together when they come in together (group
commit), and each still gets its own answer: a failing one fails alone, the others land."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

import pytest

from kartu.storage.database import Database
from kartu.storage.driver import Sql

RECORD = Sql(
    "INSERT INTO processed_update (update_id, received_at) VALUES (:update_id, :now) "
    "ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
)
BROKEN = Sql(
    "INSERT INTO processed_update (update_id, received_at) VALUES (:update_id, NULL) RETURNING update_id"
)
COUNT = Sql("SELECT count(*) AS n FROM processed_update")


async def test_statements_that_come_in_together_each_get_their_own_answer(migrated_sqlite_url: str) -> None:
    db = Database(migrated_sqlite_url)
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    try:
        async with db.driver(transaction=False) as tx:
            ids = [*range(1, 41), 7, 7, 39]  # three second deliveries among forty updates
            answers = await asyncio.gather(
                *(tx.one(RECORD, update_id=update_id, now=now) for update_id in ids),
                tx.one(BROKEN, update_id=1000),  # refused by the database: NOT NULL
                return_exceptions=True,
            )
            assert [answer is not None for answer in answers[:40]] == [True] * 40
            assert answers[40:43] == [None, None, None]  # already recorded: nothing written
            assert isinstance(answers[43], sqlite3.IntegrityError)
            assert dict(await tx.one(COUNT) or {}) == {"n": 40}
        assert db._commits < 40  # they committed together, not forty times
    finally:
        await db.dispose()


async def test_a_lone_statement_commits_at_once(migrated_sqlite_url: str) -> None:
    db = Database(migrated_sqlite_url)
    try:
        async with db.driver(transaction=False) as tx:
            assert await tx.one(RECORD, update_id=5, now=datetime.now(UTC)) is not None
        with pytest.raises(sqlite3.IntegrityError):
            async with db.driver(transaction=False) as tx:
                await tx.one(BROKEN, update_id=6)
        other = sqlite3.connect(db.engine.url.database)  # what another connection sees
        assert other.execute("SELECT update_id FROM processed_update").fetchall() == [(5,)]
        other.close()
    finally:
        await db.dispose()
