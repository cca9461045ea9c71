"""Set-based sweeps over indexed columns: expiring stamps and rewards, queueing reminders.

Each statement works on all of one merchant's matching rows at once, inside the database;
nothing is loaded into Python row by row, so a million cards sweep in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, text, update

from kartu.loyalty.delivery import Kind
from kartu.storage.models import OutboxMessage
from kartu.storage.repositories.base import Repository
from kartu.storage.types import UTCDateTime

REMINDER_KINDS = (Kind.STAMP_REMINDER, Kind.REWARD_REMINDER, Kind.POINTS_REMINDER)

_WHEN = UTCDateTime()

# PostgreSQL: lock the rows first (a purchase racing the sweep waits, then is re-checked),
# write the ledger and zero the cards in one statement.
_EXPIRE_STAMPS_PG = """
WITH expiring AS (
    SELECT id, person_id, stamps, last_purchase_at FROM card
    WHERE merchant_id = :merchant_id AND stamps > 0 AND last_purchase_at <= :cutoff
    FOR UPDATE
), entries AS (
    INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, created_at)
    SELECT :merchant_id, person_id, 'stamp', -stamps, 'expired',
           'expire-stamps:' || id || ':' || CAST(last_purchase_at AS VARCHAR), :now
    FROM expiring
    ON CONFLICT (idempotency_key) DO NOTHING
)
UPDATE card SET stamps = 0 FROM expiring WHERE card.id = expiring.id
"""
# SQLite: the write transaction (BEGIN IMMEDIATE) already excludes every other writer.
_EXPIRE_STAMPS_SQLITE = (
    """
INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, created_at)
SELECT :merchant_id, person_id, 'stamp', -stamps, 'expired',
       'expire-stamps:' || id || ':' || CAST(last_purchase_at AS VARCHAR), :now
FROM card WHERE merchant_id = :merchant_id AND stamps > 0 AND last_purchase_at <= :cutoff
ON CONFLICT (idempotency_key) DO NOTHING
""",
    "UPDATE card SET stamps = 0 WHERE merchant_id = :merchant_id AND stamps > 0 AND last_purchase_at <= :cutoff",
)
_EXPIRE_REWARDS_PG = """
WITH expiring AS (
    SELECT id, person_id FROM reward
    WHERE merchant_id = :merchant_id AND redeemed_at IS NULL AND expired_at IS NULL AND expires_at <= :now
    FOR UPDATE
), entries AS (
    INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, reward_id, created_at)
    SELECT :merchant_id, person_id, 'reward', -1, 'expired', 'expire-reward:' || id, id, :now FROM expiring
    ON CONFLICT (idempotency_key) DO NOTHING
)
UPDATE reward SET expired_at = :now FROM expiring WHERE reward.id = expiring.id
"""
_EXPIRE_REWARDS_SQLITE = (
    """
INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, reward_id, created_at)
SELECT :merchant_id, person_id, 'reward', -1, 'expired', 'expire-reward:' || id, id, :now
FROM reward WHERE merchant_id = :merchant_id AND redeemed_at IS NULL AND expired_at IS NULL AND expires_at <= :now
ON CONFLICT (idempotency_key) DO NOTHING
""",
    """UPDATE reward SET expired_at = :now
WHERE merchant_id = :merchant_id AND redeemed_at IS NULL AND expired_at IS NULL AND expires_at <= :now""",
)
# Reminders: one row per (card, purchase cycle, offset) or (reward, offset); the key makes
# a second sweep, a restart or a second scheduler insert nothing new.
_STAMP_REMINDERS = """
INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, channel, person_id, merchant_id, subject_id,
                            params, status, attempts, not_before, created_at)
SELECT 'stamp-reminder:' || c.id || ':' || CAST(c.last_purchase_at AS VARCHAR) || ':' || :days,
       'stamp_reminder', 'promo', p.telegram_id, CASE WHEN p.telegram_id IS NULL THEN 'whatsapp' ELSE 'telegram' END, p.id, c.merchant_id, c.id, :params, 'pending', 0, :not_before, :now
FROM card c JOIN person p ON p.id = c.person_id
WHERE c.merchant_id = :merchant_id AND c.stamps > 0
  AND c.last_purchase_at > :window_start AND c.last_purchase_at <= :window_end
  AND c.promotions_opt_out = FALSE AND p.unreachable_at IS NULL
ON CONFLICT (idempotency_key) DO NOTHING
"""
_REWARD_REMINDERS = """
INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, channel, person_id, merchant_id, subject_id,
                            params, status, attempts, not_before, created_at)
SELECT 'reward-reminder:' || r.id || ':' || :days,
       'reward_reminder', 'promo', p.telegram_id, CASE WHEN p.telegram_id IS NULL THEN 'whatsapp' ELSE 'telegram' END, p.id, r.merchant_id, r.id, :params, 'pending', 0, :not_before, :now
FROM reward r JOIN person p ON p.id = r.person_id
JOIN card c ON c.merchant_id = r.merchant_id AND c.person_id = r.person_id
WHERE r.merchant_id = :merchant_id AND r.redeemed_at IS NULL AND r.expired_at IS NULL
  AND r.expires_at > :window_start AND r.expires_at <= :window_end
  AND c.promotions_opt_out = FALSE AND p.unreachable_at IS NULL
ON CONFLICT (idempotency_key) DO NOTHING
"""
# Points: batches lapse in chunks, each chunk in its own transaction (a million batches never hold
# SQLite's write lock, or PostgreSQL's card locks, for long). A chunk is the due batches up to
# ``(bound, bound_id)`` in (expiry, id) order (the chunk's last one, read through ix_points_batch_due),
# so each statement of the chunk names the same batches, however many share one expiry.
_DUE_BATCHES = (
    "merchant_id = :merchant_id AND remaining > 0 AND expires_at <= :bound "
    "AND (expires_at < :bound OR id <= :bound_id)"
)
_CHUNK_BOUND = (
    "SELECT expires_at, id FROM points_batch WHERE merchant_id = :merchant_id AND remaining > 0 "
    "AND expires_at <= :now ORDER BY expires_at, id LIMIT 1 OFFSET :offset"
)
_LAST_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
_ANY_DUE = "SELECT 1 FROM points_batch WHERE merchant_id = :merchant_id AND remaining > 0 AND expires_at <= :now LIMIT 1"
_EXPIRE_POINTS_LEDGER = f"""
INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, created_at)
SELECT merchant_id, person_id, 'point', -remaining, 'expired', 'expire-points:' || id, :now
FROM points_batch WHERE {_DUE_BATCHES}
ON CONFLICT (idempotency_key) DO NOTHING
"""
_EXPIRE_POINTS_CARDS = f"""
UPDATE card SET points = points - (
    SELECT sum(b.remaining) FROM points_batch b
    WHERE b.merchant_id = card.merchant_id AND b.person_id = card.person_id AND b.remaining > 0
      AND b.expires_at <= :bound AND (b.expires_at < :bound OR b.id <= :bound_id))
WHERE merchant_id = :merchant_id AND person_id IN (SELECT person_id FROM points_batch WHERE {_DUE_BATCHES})
"""
_LAPSING = f"SELECT person_id, sum(remaining) AS points, min(id) AS first FROM points_batch WHERE {_DUE_BATCHES} GROUP BY person_id"
_EXPIRE_POINTS_BATCHES = f"UPDATE points_batch SET remaining = 0, expired_at = :now WHERE {_DUE_BATCHES}"
# PostgreSQL: the chunk's cards are locked first, in id order, as every spend locks its card before
# its batches; then one statement writes the ledger, the cards and the batches.
_LOCK_POINTS_CARDS = f"""
SELECT id FROM card WHERE merchant_id = :merchant_id
AND person_id IN (SELECT person_id FROM points_batch WHERE {_DUE_BATCHES}) ORDER BY id FOR UPDATE
"""
_EXPIRE_POINTS_PG = f"""
WITH due AS (
    SELECT id, person_id, remaining FROM points_batch WHERE {_DUE_BATCHES} FOR UPDATE
), entries AS (
    INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, created_at)
    SELECT :merchant_id, person_id, 'point', -remaining, 'expired', 'expire-points:' || id, :now FROM due
    ON CONFLICT (idempotency_key) DO NOTHING
), cards AS (
    UPDATE card SET points = card.points - lapsed.total
    FROM (SELECT person_id, sum(remaining) AS total FROM due GROUP BY person_id) AS lapsed
    WHERE card.merchant_id = :merchant_id AND card.person_id = lapsed.person_id
)
UPDATE points_batch SET remaining = 0, expired_at = :now FROM due WHERE points_batch.id = due.id
"""
# One reminder per customer, offset and first lapsing moment in the window: "120 points expire on 1 Feb".
_POINTS_REMINDERS = """
INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, channel, person_id, merchant_id, subject_id,
                            params, status, attempts, not_before, created_at)
SELECT 'points-reminder:' || c.id || ':' || CAST(min(b.expires_at) AS VARCHAR) || ':' || :days,
       'points_reminder', 'promo', p.telegram_id, CASE WHEN p.telegram_id IS NULL THEN 'whatsapp' ELSE 'telegram' END, p.id, c.merchant_id, c.id, :params, 'pending', 0, :not_before, :now
FROM points_batch b JOIN card c ON c.merchant_id = b.merchant_id AND c.person_id = b.person_id
JOIN person p ON p.id = b.person_id
WHERE b.merchant_id = :merchant_id AND b.remaining > 0
  AND b.expires_at > :window_start AND b.expires_at <= :window_end
  AND c.promotions_opt_out = FALSE AND p.unreachable_at IS NULL
GROUP BY c.id, p.telegram_id, CASE WHEN p.telegram_id IS NULL THEN 'whatsapp' ELSE 'telegram' END, p.id, c.merchant_id
ON CONFLICT (idempotency_key) DO NOTHING
"""
_TIMES = ("cutoff", "now", "not_before", "window_start", "window_end", "bound")
POINTS_CHUNK = 5_000


class SweepRepository(Repository):
    @property
    def is_postgres(self) -> bool:
        return self.session.bind is not None and self.session.bind.dialect.name == "postgresql"

    async def _run(self, sql: str, **values: object) -> int:
        statement = text(sql).bindparams(
            *(bindparam(name, type_=_WHEN) for name in _TIMES if f":{name}" in sql)
        )
        result = await self.session.execute(statement, values)
        return result.rowcount

    async def expire_stamps(self, merchant_id: int, cutoff: datetime, now: datetime) -> int:
        """Zero every card of the merchant whose last purchase is at or before ``cutoff``; ledger each."""
        if self.is_postgres:
            return await self._run(_EXPIRE_STAMPS_PG, merchant_id=merchant_id, cutoff=cutoff, now=now)
        await self._run(_EXPIRE_STAMPS_SQLITE[0], merchant_id=merchant_id, cutoff=cutoff, now=now)
        return await self._run(_EXPIRE_STAMPS_SQLITE[1], merchant_id=merchant_id, cutoff=cutoff)

    async def expire_rewards(self, merchant_id: int, now: datetime) -> int:
        if self.is_postgres:
            return await self._run(_EXPIRE_REWARDS_PG, merchant_id=merchant_id, now=now)
        await self._run(_EXPIRE_REWARDS_SQLITE[0], merchant_id=merchant_id, now=now)
        return await self._run(_EXPIRE_REWARDS_SQLITE[1], merchant_id=merchant_id, now=now)

    async def expire_points_chunk(
        self,
        merchant_id: int,
        now: datetime,
        chunk: int = POINTS_CHUNK,
        lapsing: list[tuple[int, int, int]] | None = None,
    ) -> int | None:
        """Lapse up to about ``chunk`` due point batches of the merchant (ledger, cards, batches);
        the number lapsed, ``None`` when none was due. Run in a transaction per chunk. ``lapsing``
        (when given) gets what lapses per customer: (person id, points, the first batch's id)."""
        due = await self.session.execute(
            text(_ANY_DUE).bindparams(bindparam("now", type_=_WHEN)), {"merchant_id": merchant_id, "now": now}
        )
        if due.first() is None:
            return None
        last = (
            await self.session.execute(
                text(_CHUNK_BOUND).bindparams(bindparam("now", type_=_WHEN)).columns(expires_at=_WHEN),
                {"merchant_id": merchant_id, "now": now, "offset": chunk - 1},
            )
        ).first()
        bound, bound_id = (last[0], last[1]) if last is not None else (now, _LAST_ID)  # else: all of them
        chunk_of = dict(merchant_id=merchant_id, bound=bound, bound_id=bound_id)
        if lapsing is not None:
            rows = await self.session.execute(
                text(_LAPSING).bindparams(bindparam("bound", type_=_WHEN)), chunk_of
            )
            lapsing.extend((int(person), int(points), int(first)) for person, points, first in rows.all())
        if self.is_postgres:
            await self._run(_LOCK_POINTS_CARDS, **chunk_of)
            return await self._run(_EXPIRE_POINTS_PG, now=now, **chunk_of)
        await self._run(_EXPIRE_POINTS_LEDGER, now=now, **chunk_of)
        await self._run(_EXPIRE_POINTS_CARDS, **chunk_of)
        return await self._run(_EXPIRE_POINTS_BATCHES, now=now, **chunk_of)

    async def queue_points_reminders(
        self,
        merchant_id: int,
        days: int,
        window_start: datetime,
        window_end: datetime,
        not_before: datetime,
        now: datetime,
    ) -> int:
        """A reminder for each customer with points lapsing in (window_start, window_end]."""
        return await self._run(
            _POINTS_REMINDERS,
            merchant_id=merchant_id,
            days=str(days),
            params=json.dumps({"days": days}),
            window_start=window_start,
            window_end=window_end,
            not_before=not_before,
            now=now,
        )

    async def spread_reminders(self, merchant_id: int, now: datetime, slots: Sequence[datetime]) -> None:
        """Give the reminders this sweep queued (oldest first) the times in ``slots``: one UPDATE per
        run of equal times (a minute's reminders), by id range."""
        ids = list(
            await self.session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.merchant_id == merchant_id,
                    OutboxMessage.created_at == now,
                    OutboxMessage.status == "pending",
                    OutboxMessage.kind.in_(REMINDER_KINDS),
                )
                .order_by(OutboxMessage.id)
            )
        )
        start = 0
        while start < len(ids) and start < len(slots):
            end = start
            while end + 1 < len(ids) and end + 1 < len(slots) and slots[end + 1] == slots[start]:
                end += 1
            await self.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id >= ids[start],
                    OutboxMessage.id <= ids[end],
                    OutboxMessage.merchant_id == merchant_id,
                    OutboxMessage.created_at == now,
                    OutboxMessage.kind.in_(REMINDER_KINDS),
                )
                .values(not_before=slots[start])
            )
            start = end + 1

    async def queue_reminders(
        self,
        kind: str,
        merchant_id: int,
        days: int,
        window_start: datetime,
        window_end: datetime,
        not_before: datetime,
        now: datetime,
    ) -> int:
        """Queue a stamp reminder for cards whose last purchase lies in (window_start, window_end],
        or a reward reminder for open rewards expiring in it."""
        return await self._run(
            _STAMP_REMINDERS if kind == Kind.STAMP_REMINDER else _REWARD_REMINDERS,
            merchant_id=merchant_id,
            days=str(days),
            params=json.dumps({"days": days}),
            window_start=window_start,
            window_end=window_end,
            not_before=not_before,
            now=now,
        )
