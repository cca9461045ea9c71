"""The courier's statements on the driver: take a transaction's news right after its commit, and
record it sent (the counter's path: two per news instead of two ORM write transactions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from kartu.storage.driver import DriverTransaction, Sql
from kartu.storage.models import OutboxMessage

_COLUMNS = tuple(column.name for column in OutboxMessage.__table__.columns)  # type: ignore[attr-defined]
_TIMES = {"not_before", "claimed_at", "sent_at", "created_at"}
_SENT = Sql(
    "UPDATE outbox_message SET status = 'sent', sent_at = :now, last_error = NULL WHERE id = :message_id "
    "RETURNING id"
)


@cache
def _claim(count: int) -> Sql:
    keys = ", ".join(f":key{number}" for number in range(count))
    return Sql(
        "UPDATE outbox_message SET status = 'sending', claimed_by = :worker, claimed_at = :now, "
        f"attempts = attempts + 1 WHERE idempotency_key IN ({keys}) AND status = 'pending' "
        f"RETURNING {', '.join(_COLUMNS)}"
    )


async def claim_keys(
    tx: DriverTransaction, worker: str, now: datetime, keys: Sequence[str]
) -> list[OutboxMessage]:
    """The pending messages with these keys, taken for this worker, in the given order (as
    `outbox.claim_keys`)."""
    if not keys:
        return []
    values = {f"key{number}": key for number, key in enumerate(keys)}
    rows = await tx.all(_claim(len(keys)), worker=worker, now=now, **values)
    found = {
        row["idempotency_key"]: OutboxMessage(
            **{name: tx.when(row[name]) if name in _TIMES else row[name] for name in _COLUMNS}
        )
        for row in rows
    }
    return [found[key] for key in keys if key in found]


async def mark_sent(tx: DriverTransaction, message_id: int, now: datetime) -> None:
    await tx.one(_SENT, message_id=message_id, now=now)
