"""WhatsApp's statements on the driver (every message a customer sends passes here): who writes,
with their shop and consent, read in one statement; their last message moved forward in one more;
each message sent recorded in one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kartu.storage.driver import DriverTransaction, Sql

_ARRIVING = Sql(
    "SELECT p.id AS person_id, p.first_name, p.language, c.consent_at, c.last_inbound_at, m.name AS shop "
    "FROM contact c JOIN person p ON p.id = c.person_id LEFT JOIN merchant m ON m.id = p.current_merchant_id "
    "WHERE c.channel = :channel AND c.address = :address"
)
_WROTE = Sql(
    "UPDATE contact SET last_inbound_at = :at WHERE channel = :channel AND address = :address "
    "AND (last_inbound_at IS NULL OR last_inbound_at < :at) RETURNING person_id"
)
_SENT = Sql(
    "INSERT INTO whatsapp_message (id, merchant_id, person_id, category, billable, status, sent_at) "
    "VALUES (:message_id, :merchant_id, :person_id, 'service', FALSE, 'accepted', :now) "
    "ON CONFLICT (id) DO NOTHING"
)


async def arriving(tx: DriverTransaction, channel: str, address: str) -> Mapping[str, Any] | None:
    """The person writing on ``channel`` (their id, name, language, consent, last message, shop)."""
    return await tx.one(_ARRIVING, channel=channel, address=address)


async def wrote(tx: DriverTransaction, channel: str, address: str, at: datetime) -> None:
    await tx.one(_WROTE, channel=channel, address=address, at=at)


async def sent(
    tx: DriverTransaction, message_id: str, merchant_id: int | None, person_id: int | None, now: datetime
) -> None:
    """A message sent inside the window: Meta bills it as a service message (free)."""
    await tx.one(_SENT, message_id=message_id, merchant_id=merchant_id, person_id=person_id, now=now)
