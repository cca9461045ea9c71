"""The outbox's statements on the driver: queue a message, take a transaction's news right after
its commit, and record it sent (the counter's path: one statement each instead of an ORM write
transaction). The ORM's units of work queue through the same statement (`outbox.enqueue`).

News the bot delivers straight after its transaction (a customer's card after a purchase) is
written already taken by the courier (``taken=True``): status ``sending``, one attempt, claimed now.
Nothing else can take it, and the courier needs no second write to claim it; should the process
stop before it is sent, the claim lapses after the lease (services/delivery.py) and the scheduled
dispatcher sends it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from kartu.storage.driver import DriverTransaction, Sql
from kartu.storage.models import OutboxMessage


@dataclass(frozen=True, slots=True)
class Parcel:
    """A message taken for sending, as the courier needs it: an outbox row's fields as a plain
    value (built in a microsecond; the ORM's model takes fifty)."""

    id: int
    idempotency_key: str
    kind: str
    category: str
    chat_id: int | None  # Telegram's chat; None on another messenger (``channel``)
    person_id: int | None
    merchant_id: int | None
    subject_id: int | None
    params: str
    attempts: int
    created_at: datetime
    channel: str = "telegram"

    @classmethod
    def of(cls, message: OutboxMessage) -> Parcel:
        assert message.id is not None
        return cls(**{name: getattr(message, name) for name in _FIELDS})


_FIELDS = tuple(field.name for field in fields(Parcel))


def _parcel(tx: DriverTransaction, row: Mapping[str, Any]) -> Parcel:
    values: dict[str, Any] = {
        name: tx.when(row[name]) if name == "created_at" else row[name] for name in _FIELDS
    }
    return Parcel(**values)


_ENQUEUE = Sql(
    "INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, channel, person_id, merchant_id, subject_id, "
    "params, status, attempts, not_before, created_at, claimed_by, claimed_at) VALUES (:key, :kind, :category, "
    ":chat_id, :channel, :person_id, :merchant_id, :subject_id, :params, :status, :attempts, :not_before, :now, :worker, "
    ":claimed_at) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
COURIER = "courier"  # who sends news right after its transaction (scheduler/dispatcher.py)
_SENT = Sql(
    "UPDATE outbox_message SET status = 'sent', sent_at = :now, last_error = NULL WHERE id = :message_id "
    "RETURNING id"
)


async def enqueue(
    tx: DriverTransaction,
    *,
    key: str,
    kind: str,
    category: str,
    chat_id: int | None,
    not_before: datetime,
    now: datetime,
    person_id: int | None = None,
    merchant_id: int | None = None,
    subject_id: int | None = None,
    params: dict[str, Any] | None = None,
    taken: bool = False,
) -> Parcel | None:
    """Queue one message (``taken``: already the courier's, see above); ``None`` when a message
    with this key was queued before (it is kept). ``chat_id`` ``None``: the person has no Telegram
    chat, so the message goes to them on WhatsApp (where they came from)."""
    if chat_id is None and person_id is None:
        raise ValueError("a message needs a Telegram chat or a person to reach on WhatsApp")
    values: dict[str, Any] = dict(
        key=key,
        kind=str(kind),
        category=str(category),
        chat_id=chat_id,
        channel=channel_of(chat_id),
        person_id=person_id,
        merchant_id=merchant_id,
        subject_id=subject_id,
        params=json.dumps(params or {}),
        not_before=not_before,
        now=now,
        status="sending" if taken else "pending",
        attempts=1 if taken else 0,
        worker=COURIER if taken else None,
        claimed_at=now if taken else None,
    )
    row = await tx.one(_ENQUEUE, **values)
    if row is None:
        return None
    return queued(int(row["id"]), values, taken)


def channel_of(chat_id: int | None) -> str:
    """A person's news goes to their Telegram chat; one who has none came by WhatsApp."""
    return "telegram" if chat_id is not None else "whatsapp"


def queued(message_id: int, values: dict[str, Any], taken: bool) -> Parcel:
    """The row just written (nothing read back)."""
    return Parcel(
        id=message_id,
        idempotency_key=values["key"],
        kind=values["kind"],
        category=values["category"],
        chat_id=values["chat_id"],
        person_id=values["person_id"],
        merchant_id=values["merchant_id"],
        subject_id=values["subject_id"],
        params=values["params"],
        attempts=1 if taken else 0,
        created_at=values["now"],
        channel=values["channel"],
    )


@cache
def _claim(count: int) -> Sql:
    keys = ", ".join(f":key{number}" for number in range(count))
    return Sql(
        "UPDATE outbox_message SET status = 'sending', claimed_by = :worker, claimed_at = :now, "
        f"attempts = attempts + 1 WHERE idempotency_key IN ({keys}) AND status = 'pending' "
        f"RETURNING {', '.join(_FIELDS)}"
    )


async def claim_keys(tx: DriverTransaction, worker: str, now: datetime, keys: Sequence[str]) -> list[Parcel]:
    """The pending messages with these keys, taken for this worker, in the given order (as
    `outbox.claim_keys`)."""
    if not keys:
        return []
    values = {f"key{number}": key for number, key in enumerate(keys)}
    rows = await tx.all(_claim(len(keys)), worker=worker, now=now, **values)
    found = {row["idempotency_key"]: _parcel(tx, row) for row in rows}
    return [found[key] for key in keys if key in found]


async def mark_sent(tx: DriverTransaction, message_id: int, now: datetime) -> None:
    await tx.one(_SENT, message_id=message_id, now=now)
