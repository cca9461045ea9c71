"""A shop's switch of kinds, set-based (a shop of a million cards switches in a few statements):
what customers hold per unit, stamps converted into points, and the news to every holder."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, func, select, text

from kartu.loyalty.kinds import Holdings
from kartu.storage.models import Card
from kartu.storage.repositories.base import Repository
from kartu.storage.types import UTCDateTime

_WHEN = UTCDateTime()
_TIMES = ("now", "expires_at")
# Each card holding stamps: a points batch of its own (stamps x rate), its ledger rows (the stamps
# out, the points in), then the card. Keys name the card and the moment: one conversion each.
_CONVERT = (
    """
INSERT INTO points_batch (merchant_id, person_id, points, remaining, source, earned_at, expires_at)
SELECT merchant_id, person_id, stamps * :rate, stamps * :rate, 'points:convert:' || id || ':' || :tag, :now, :expires_at
FROM card WHERE merchant_id = :merchant_id AND stamps > 0
""",
    """
INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, actor_person_id, idempotency_key, created_at)
SELECT merchant_id, person_id, 'point', stamps * :rate, 'converted', :actor_id,
       'points:convert:' || id || ':' || :tag, :now
FROM card WHERE merchant_id = :merchant_id AND stamps > 0
""",
    """
INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, actor_person_id, idempotency_key, created_at)
SELECT merchant_id, person_id, 'stamp', -stamps, 'converted', :actor_id, 'stamps:convert:' || id || ':' || :tag, :now
FROM card WHERE merchant_id = :merchant_id AND stamps > 0
""",
)
# The news names what each card held (``{"held": n}`` closes the JSON the switch began).
_TELL = """
INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, channel, person_id, merchant_id, subject_id,
                            params, status, attempts, not_before, created_at)
SELECT 'kinds:' || c.id || ':' || :tag, 'kinds_changed', 'service', p.telegram_id, CASE WHEN p.telegram_id IS NULL THEN 'whatsapp' ELSE 'telegram' END, p.id, c.merchant_id, c.id,
       :params || CAST({held} AS VARCHAR) || '}}', 'pending', 0, :now, :now
FROM card c JOIN person p ON p.id = c.person_id
WHERE c.merchant_id = :merchant_id AND {held} > 0 AND p.unreachable_at IS NULL
ON CONFLICT (idempotency_key) DO NOTHING
"""


class SwitchRepository(Repository):
    async def _run(self, sql: str, **values: object) -> int:
        statement = text(sql).bindparams(
            *(bindparam(name, type_=_WHEN) for name in _TIMES if f":{name}" in sql)
        )
        result = await self.session.execute(statement, values)
        return result.rowcount

    async def holdings(self, merchant_id: int) -> Holdings:
        row = (
            await self.session.execute(
                select(
                    func.count(Card.id).filter(Card.stamps > 0),
                    func.coalesce(func.sum(Card.stamps), 0),
                    func.count(Card.id).filter(Card.points > 0),
                    func.coalesce(func.sum(Card.points), 0),
                ).where(Card.merchant_id == merchant_id)
            )
        ).one()
        return Holdings(int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    async def tell_holders(
        self, merchant_id: int, unit: str, tag: str, params: dict[str, object], now: datetime
    ) -> int:
        """News for every reachable customer holding ``unit`` ("stamps" or "points"), with how much
        they hold added when it is sent."""
        held = "c.stamps" if unit == "stamps" else "c.points"
        opening = json.dumps(params)[:-1] + ', "held": '  # closed by the card's own count, in SQL
        return await self._run(
            _TELL.format(held=held), merchant_id=merchant_id, tag=tag, params=opening, now=now
        )

    async def convert_stamps(
        self,
        merchant_id: int,
        rate: int,
        actor_id: int | None,
        tag: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> int:
        """Every card's stamps become ``rate`` points each (a batch of their own, expiring as the
        shop's points do); the cards converted."""
        values = dict(
            merchant_id=merchant_id, rate=rate, actor_id=actor_id, tag=tag, now=now, expires_at=expires_at
        )
        converted = await self._run(_CONVERT[0], **values)
        await self._run(_CONVERT[1], **values)
        await self._run(_CONVERT[2], **values)
        await self._run(
            "UPDATE card SET points = points + stamps * :rate, stamps = 0 WHERE merchant_id = :merchant_id AND stamps > 0",
            merchant_id=merchant_id,
            rate=rate,
        )
        return converted
