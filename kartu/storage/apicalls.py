"""The point-of-sale API's usual sale on the driver (one transaction, as the counter's): its
Idempotency-Key taken and answered, what the sale needs to know of the shop and the customer, the
news handed to the scheduler where no bot runs beside the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kartu.loyalty.kinds import Kinds
from kartu.storage.driver import DriverTransaction, Sql

_CLAIM = Sql(
    "INSERT INTO api_call (api_key_id, idempotency_key, body_hash, status, response, created_at, expires_at) "
    "VALUES (:key_id, :key, :body_hash, 0, '', :now, :expires_at) "
    "ON CONFLICT (api_key_id, idempotency_key) DO NOTHING RETURNING id"
)
_ANSWER = Sql(
    "UPDATE api_call SET status = :status, response = :response "
    "WHERE api_key_id = :key_id AND idempotency_key = :key RETURNING id"
)
# The customer by code or Telegram id, only with a card of this shop (another shop's customer is
# nobody here), the shop's program, and whether this sale was credited before.
_SALE = Sql(
    "SELECT s.timezone, g.stamps_enabled, g.points_enabled, g.stamps_finish, g.max_amount, k.stamps, "
    "p.id AS person_id, "
    "p.personal_code, p.first_name, (SELECT count(*) FROM ledger_entry l "
    "WHERE l.idempotency_key IN (:purchase_key, :points_key)) "
    "+ (SELECT count(*) FROM receipt r WHERE r.source = :source) AS credited, o.id AS outlet_id, o.slug AS outlet "
    "FROM merchant s JOIN program g ON g.merchant_id = s.id "
    "JOIN person p ON p.id = (SELECT q.id FROM person q WHERE q.personal_code = :code "
    "UNION ALL SELECT q.id FROM person q WHERE q.telegram_id = :telegram_id LIMIT 1) "
    "JOIN card k ON k.merchant_id = s.id AND k.person_id = p.id "
    # The sale's outlet: the key's, else the business's only one (a business with several: none).
    "LEFT JOIN outlet o ON o.id = coalesce(CAST(:key_outlet AS INTEGER), (SELECT CASE WHEN count(o2.id) = 1 "
    "THEN min(o2.id) END FROM outlet o2 WHERE o2.merchant_id = s.id)) WHERE s.id = :merchant_id"
)
_KEY = Sql(
    "SELECT id, merchant_id, scopes, created_by_person_id, last_used_at, revoked_at, outlet_id FROM api_key "
    "WHERE key_hash = :key_hash"
)
_TO_SCHEDULER = Sql(
    "UPDATE outbox_message SET status = 'pending', claimed_by = NULL, not_before = :now, "
    "attempts = attempts - 1, last_error = 'postponed' WHERE id = :id RETURNING id"
)


@dataclass(frozen=True)
class SaleContext:
    timezone: str
    kinds: Kinds
    stamps: int  # the card's, now
    max_amount: int
    person_id: int
    code: str
    first_name: str
    credited: bool
    outlet_id: int | None = None  # the key's outlet, or the business's only one
    outlet: str | None = None  # its code (slug)


async def claim(
    tx: DriverTransaction, key_id: int, key: str, body_hash: str, now: datetime, expires_at: datetime
) -> bool:
    row = await tx.one(_CLAIM, key_id=key_id, key=key, body_hash=body_hash, now=now, expires_at=expires_at)
    return row is not None


async def answer(tx: DriverTransaction, key_id: int, key: str, status: int, response: str) -> None:
    await tx.one(_ANSWER, key_id=key_id, key=key, status=status, response=response)


async def sale_context(
    tx: DriverTransaction,
    merchant_id: int,
    code: str | None,
    telegram_id: int | None,
    source: str,
    key_outlet: int | None = None,
) -> SaleContext | None:
    row = await tx.one(
        _SALE,
        key_outlet=key_outlet,
        merchant_id=merchant_id,
        code=code,
        telegram_id=telegram_id,
        purchase_key=f"purchase:{source}",
        points_key=f"points:{source}",
        source=source,
    )
    if row is None:
        return None
    return SaleContext(
        row["timezone"],
        Kinds(bool(row["stamps_enabled"]), bool(row["points_enabled"]), bool(row["stamps_finish"])),
        int(row["stamps"]),
        int(row["max_amount"]),
        int(row["person_id"]),
        row["personal_code"],
        row["first_name"],
        bool(row["credited"]),
        row["outlet_id"],
        row["outlet"],
    )


async def to_scheduler(tx: DriverTransaction, message_ids: list[int], now: datetime) -> None:
    """News the courier took as it was written, handed back to the scheduler's dispatcher."""
    for message_id in message_ids:
        await tx.one(_TO_SCHEDULER, id=message_id, now=now)


@dataclass(frozen=True)
class KeyRow:
    key_id: int
    merchant_id: int
    scopes: str
    actor_id: int | None
    last_used_at: datetime | None
    revoked: bool
    outlet_id: int | None = None  # a key of one outlet


async def key_by_hash(tx: DriverTransaction, key_hash: str) -> KeyRow | None:
    row = await tx.one(_KEY, key_hash=key_hash)
    if row is None:
        return None
    return KeyRow(
        int(row["id"]),
        int(row["merchant_id"]),
        row["scopes"],
        row["created_by_person_id"],
        tx.when(row["last_used_at"]),
        row["revoked_at"] is not None,
        row["outlet_id"],
    )
