"""The update journal, on the driver (every update passes here twice): an update is recorded
before Telegram counts it as delivered (before the webhook answers 200, before polling asks past
it), marked done once handled, and found again when its process died in between.

A row is ``processed_update``: ``payload`` the update as received (emptied when done), ``started_at``
set by the delivery that handles it (storage/arrivals.py), ``done_at`` when it was handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from kartu.storage.driver import DriverTransaction, Sql

ATTEMPTS_MAX = 3  # an update that failed this often is given up (logged), not replayed for ever

_RECORD = Sql(
    "INSERT INTO processed_update (update_id, received_at, payload, chat_id, attempts) "
    "VALUES (:update_id, :now, :payload, :chat_id, 0) ON CONFLICT (update_id) DO NOTHING"
)
_DONE = Sql(
    "UPDATE processed_update SET done_at = :now, payload = NULL, chat_id = NULL WHERE update_id = :update_id"
)
_RENEW = Sql("UPDATE processed_update SET started_at = :now WHERE update_id = :update_id AND done_at IS NULL")
_ASYNC_COMMIT = Sql("SET LOCAL synchronous_commit TO OFF")
# Received (or started) longer than a lease ago and not done: its process died. Taking one renews
# its lease, so two processes looking at once do not both take it.
_TAKE = Sql(
    "UPDATE processed_update SET started_at = :now, attempts = attempts + 1 WHERE update_id IN ("
    "SELECT update_id FROM processed_update WHERE payload IS NOT NULL AND done_at IS NULL "
    "AND COALESCE(started_at, received_at) < :cutoff AND attempts < :attempts_max "
    "ORDER BY update_id LIMIT 200) "
    "AND payload IS NOT NULL AND done_at IS NULL AND COALESCE(started_at, received_at) < :cutoff "
    "RETURNING update_id, payload"
)
_GIVE_UP = Sql(
    "UPDATE processed_update SET done_at = :now, payload = NULL, chat_id = NULL WHERE payload IS NOT NULL "
    "AND done_at IS NULL AND attempts >= :attempts_max AND COALESCE(started_at, received_at) < :cutoff "
    "RETURNING update_id"
)


async def record(
    tx: DriverTransaction, updates: Sequence[tuple[int, int | None, str]], now: datetime
) -> None:
    """Journal updates as received: (update id, its sender's Telegram id, the update's JSON). One
    delivered again is already there."""
    for update_id, sender, payload in updates:
        await tx.one(_RECORD, update_id=update_id, now=now, payload=payload, chat_id=sender)


async def done(tx: DriverTransaction, update_id: int, now: datetime, *, relaxed: bool = False) -> None:
    """The update was handled. ``relaxed`` (PostgreSQL, inside a transaction): its commit does not
    wait for the disk. A bot process that dies loses nothing by it (the server has the row); only
    the server's own crash may lose the last fraction of a second of such marks, and an unmarked
    update is handled again after its lease, which money-like steps survive by their keys. It
    saves a disk flush per update on the webhook's path."""
    if relaxed:
        await tx.one(_ASYNC_COMMIT)
    await tx.one(_DONE, update_id=update_id, now=now)


async def renew(tx: DriverTransaction, update_id: int, now: datetime) -> None:
    """Still being handled (a long answer): its lease starts again, so no process takes it over."""
    await tx.one(_RENEW, update_id=update_id, now=now)


async def take_abandoned(tx: DriverTransaction, now: datetime, lease: timedelta) -> list[tuple[int, str]]:
    """Updates whose process died before handling them, taken for handling now (oldest first)."""
    rows = await tx.all(_TAKE, now=now, cutoff=now - lease, attempts_max=ATTEMPTS_MAX)
    return sorted((int(row["update_id"]), str(row["payload"])) for row in rows)


async def give_up(tx: DriverTransaction, now: datetime, lease: timedelta) -> list[int]:
    """Updates that failed every attempt: no more tries (their ids, to log)."""
    rows = await tx.all(_GIVE_UP, now=now, cutoff=now - lease, attempts_max=ATTEMPTS_MAX)
    return [int(row["update_id"]) for row in rows]
