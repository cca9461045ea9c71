"""The update journal, on the driver (every update passes here twice): an update is recorded
before Telegram counts it as delivered (before the webhook answers 200, before polling asks past
it), marked done once handled, and found again when its process died in between.

A row is ``processed_update``: ``payload`` the update as received (emptied when done), ``started_at``
set by the delivery that handles it (storage/arrivals.py), ``done_at`` when it was handled. WhatsApp's
webhook events (``whatsapp_event``, keyed by Meta's ids) are journaled the same way: the functions
take the journal they work on (`TELEGRAM`, `WHATSAPP`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from kartu.storage.driver import DriverTransaction, Sql

ATTEMPTS_MAX = 3  # an update that failed this often is given up (logged), not replayed for ever
_ASYNC_COMMIT = Sql("SET LOCAL synchronous_commit TO OFF")


@dataclass(frozen=True)
class Journal:
    """A journal table: its key column (the messenger's id of what it posted) and sender column."""

    table: str
    key: str
    sender: str

    @cached_property
    def record_sql(self) -> Sql:
        return Sql(
            f"INSERT INTO {self.table} ({self.key}, received_at, payload, {self.sender}, attempts) "
            f"VALUES (:key, :now, :payload, :sender, 0) ON CONFLICT ({self.key}) DO NOTHING "
            f"RETURNING {self.key}"
        )

    @cached_property
    def done_sql(self) -> Sql:
        return Sql(
            f"UPDATE {self.table} SET done_at = :now, payload = NULL, {self.sender} = NULL "
            f"WHERE {self.key} = :key"
        )

    @cached_property
    def renew_sql(self) -> Sql:
        return Sql(f"UPDATE {self.table} SET started_at = :now WHERE {self.key} = :key AND done_at IS NULL")

    @cached_property
    def take_sql(self) -> Sql:
        # Received (or started) longer than a lease ago and not done: its process died. Taking one
        # renews its lease, so two processes looking at once do not both take it.
        waiting = "payload IS NOT NULL AND done_at IS NULL AND COALESCE(started_at, received_at) < :cutoff"
        return Sql(
            f"UPDATE {self.table} SET started_at = :now, attempts = attempts + 1 WHERE {self.key} IN ("
            f"SELECT {self.key} FROM {self.table} WHERE {waiting} AND attempts < :attempts_max "
            f"ORDER BY received_at, {self.key} LIMIT 200) AND {waiting} RETURNING {self.key} AS key, payload"
        )

    @cached_property
    def give_up_sql(self) -> Sql:
        return Sql(
            f"UPDATE {self.table} SET done_at = :now, payload = NULL, {self.sender} = NULL "
            "WHERE payload IS NOT NULL AND done_at IS NULL AND attempts >= :attempts_max "
            f"AND COALESCE(started_at, received_at) < :cutoff RETURNING {self.key} AS key"
        )


TELEGRAM = Journal("processed_update", "update_id", "chat_id")
WHATSAPP = Journal("whatsapp_event", "event_id", "sender")


async def record(
    tx: DriverTransaction,
    updates: Sequence[tuple[Any, Any, str]],
    now: datetime,
    journal: Journal = TELEGRAM,
) -> list[Any]:
    """Journal updates as received: (its id, its sender, its JSON). One delivered again is already
    there; the ids recorded now (the new ones) are returned."""
    recorded = []
    for key, sender, payload in updates:
        row = await tx.one(journal.record_sql, key=key, now=now, payload=payload, sender=sender)
        if row is not None:
            recorded.append(key)
    return recorded


async def done(
    tx: DriverTransaction, key: Any, now: datetime, *, relaxed: bool = False, journal: Journal = TELEGRAM
) -> None:
    """The update was handled. ``relaxed`` (PostgreSQL, inside a transaction): its commit does not
    wait for the disk. A bot process that dies loses nothing by it (the server has the row); only
    the server's own crash may lose the last fraction of a second of such marks, and an unmarked
    update is handled again after its lease, which money-like steps survive by their keys. It
    saves a disk flush per update on the webhook's path."""
    if relaxed:
        await tx.one(_ASYNC_COMMIT)
    await tx.one(journal.done_sql, key=key, now=now)


async def renew(tx: DriverTransaction, key: Any, now: datetime, journal: Journal = TELEGRAM) -> None:
    """Still being handled (a long answer): its lease starts again, so no process takes it over."""
    await tx.one(journal.renew_sql, key=key, now=now)


async def take_abandoned(
    tx: DriverTransaction, now: datetime, lease: timedelta, journal: Journal = TELEGRAM
) -> list[tuple[Any, str]]:
    """Updates whose process died before handling them, taken for handling now (oldest first)."""
    rows = await tx.all(journal.take_sql, now=now, cutoff=now - lease, attempts_max=ATTEMPTS_MAX)
    return sorted((row["key"], str(row["payload"])) for row in rows)


async def give_up(
    tx: DriverTransaction, now: datetime, lease: timedelta, journal: Journal = TELEGRAM
) -> list[Any]:
    """Updates that failed every attempt: no more tries (their ids, to log)."""
    rows = await tx.all(journal.give_up_sql, now=now, cutoff=now - lease, attempts_max=ATTEMPTS_MAX)
    return [row["key"] for row in rows]
