"""A shop's events for its webhook endpoints, written in the event's own transaction: on the hot
path's driver (storage/counter.py) and in ORM units of work alike (``uow.counter``), as the outbox
is. A shop with no endpoint costs one indexed read. A paused endpoint's events wait for it (for
up to three days, as any delivery)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kartu.loyalty.webhooks import envelope, event_id
from kartu.storage.driver import DriverTransaction, Sql

_ENDPOINTS = Sql(
    "SELECT id, events FROM webhook_endpoint WHERE merchant_id = :merchant_id AND status <> 'deleted'"
)
_DELIVERY = Sql(
    "INSERT INTO webhook_delivery (endpoint_id, event_key, event_id, event_type, person_id, payload, status, "
    "attempts, next_attempt_at, created_at) VALUES (:endpoint_id, :key, :event_id, :kind, :person_id, "
    ":payload, 'pending', 0, :now, :now) ON CONFLICT (endpoint_id, event_key) DO NOTHING RETURNING id"
)


async def emit(
    tx: DriverTransaction,
    *,
    merchant_id: int,
    kind: str,
    key: str,
    person_id: int | None,
    data: dict[str, Any],
    now: datetime,
) -> int:
    """Queue event ``kind`` for each of the shop's endpoints that takes it; ``key`` names what
    happened, so an event written twice is delivered once. How many deliveries were written."""
    endpoints = [
        row["id"]
        for row in await tx.all(_ENDPOINTS, merchant_id=merchant_id)
        if kind in row["events"].split(",")
    ]
    if not endpoints:
        return 0
    event = event_id()  # the same in every endpoint's delivery of it
    payload = envelope(event, kind, now, data)
    written = 0
    for endpoint_id in endpoints:
        row = await tx.one(
            _DELIVERY,
            endpoint_id=endpoint_id,
            key=f"{kind}:{key}"[:160],
            event_id=event,
            kind=kind,
            person_id=person_id,
            payload=payload,
            now=now,
        )
        written += row is not None
    return written


async def ping(tx: DriverTransaction, endpoint_id: int, events: list[str], now: datetime) -> None:
    """A new endpoint's first delivery, ``ping``: its receiver can check the signature at once."""
    event = event_id()
    await tx.one(
        _DELIVERY,
        endpoint_id=endpoint_id,
        key=f"ping:{endpoint_id}",
        event_id=event,
        kind="ping",
        person_id=None,
        payload=envelope(event, "ping", now, {"endpoint_id": endpoint_id, "events": events}),
        now=now,
    )
