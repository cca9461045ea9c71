"""Set-based sweeps over indexed columns: expiring stamps and rewards, queueing reminders.

Each statement works on all of one merchant's matching rows at once, inside the database;
nothing is loaded into Python row by row, so a million cards sweep in seconds.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, text

from kartu.loyalty.delivery import Kind
from kartu.storage.repositories.base import Repository
from kartu.storage.types import UTCDateTime

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
INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, person_id, merchant_id, subject_id,
                            params, status, attempts, not_before, created_at)
SELECT 'stamp-reminder:' || c.id || ':' || CAST(c.last_purchase_at AS VARCHAR) || ':' || :days,
       'stamp_reminder', 'promo', p.telegram_id, p.id, c.merchant_id, c.id, :params, 'pending', 0, :not_before, :now
FROM card c JOIN person p ON p.id = c.person_id
WHERE c.merchant_id = :merchant_id AND c.stamps > 0
  AND c.last_purchase_at > :window_start AND c.last_purchase_at <= :window_end
  AND c.promotions_opt_out = FALSE AND p.unreachable_at IS NULL
ON CONFLICT (idempotency_key) DO NOTHING
"""
_REWARD_REMINDERS = """
INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, person_id, merchant_id, subject_id,
                            params, status, attempts, not_before, created_at)
SELECT 'reward-reminder:' || r.id || ':' || :days,
       'reward_reminder', 'promo', p.telegram_id, p.id, r.merchant_id, r.id, :params, 'pending', 0, :not_before, :now
FROM reward r JOIN person p ON p.id = r.person_id
JOIN card c ON c.merchant_id = r.merchant_id AND c.person_id = r.person_id
WHERE r.merchant_id = :merchant_id AND r.redeemed_at IS NULL AND r.expired_at IS NULL
  AND r.expires_at > :window_start AND r.expires_at <= :window_end
  AND c.promotions_opt_out = FALSE AND p.unreachable_at IS NULL
ON CONFLICT (idempotency_key) DO NOTHING
"""
_TIMES = ("cutoff", "now", "not_before", "window_start", "window_end")


class SweepRepository(Repository):
    @property
    def is_postgres(self) -> bool:
        return self.session.bind is not None and self.session.bind.dialect.name == "postgresql"

    async def _run(self, sql: str, **values: object) -> int:
        statement = text(sql).bindparams(
            *(bindparam(name, type_=_WHEN) for name in _TIMES if f":{name}" in sql)
        )
        result = await self.session.execute(statement, values)
        return result.rowcount  # type: ignore[attr-defined,no-any-return]

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
