"""Partnerships between shops, and the vouchers they gave (rewards of the second shop)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select

from kartu.storage.models import Partnership, Reward
from kartu.storage.repositories.base import Repository

PROPOSED, ACTIVE, DECLINED, ENDED = "proposed", "active", "declined", "ended"


class PartnerRepository(Repository):
    async def get(self, partnership_id: int, *, lock: bool = False) -> Partnership | None:
        query = select(Partnership).where(Partnership.id == partnership_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def save(self, partnership: Partnership) -> Partnership:
        self.session.add(partnership)
        await self.session.flush()
        return partnership

    async def open_between(self, from_merchant_id: int, to_merchant_id: int) -> Partnership | None:
        """A proposal or an active partnership in this direction."""
        return await self.session.scalar(
            select(Partnership).where(
                Partnership.from_merchant_id == from_merchant_id,
                Partnership.to_merchant_id == to_merchant_id,
                Partnership.status.in_((PROPOSED, ACTIVE)),
            )
        )

    async def of_merchant(self, merchant_id: int) -> Sequence[Partnership]:
        query = (
            select(Partnership)
            .where(
                or_(Partnership.from_merchant_id == merchant_id, Partnership.to_merchant_id == merchant_id)
            )
            .order_by(Partnership.id)
        )
        return (await self.session.scalars(query)).all()

    async def active_from(self, merchant_id: int) -> Sequence[Partnership]:
        query = select(Partnership).where(
            Partnership.from_merchant_id == merchant_id, Partnership.status == ACTIVE
        )
        return (await self.session.scalars(query)).all()

    async def issued_since(self, partnership_id: int, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(Reward.partnership_id == partnership_id, Reward.issued_at >= since)
            )
            or 0
        )

    async def holds_open(self, partnership_id: int, person_id: int, now: datetime) -> bool:
        found = await self.session.scalar(
            select(Reward.id)
            .where(
                Reward.partnership_id == partnership_id,
                Reward.person_id == person_id,
                Reward.redeemed_at.is_(None),
                Reward.expires_at > now,
            )
            .limit(1)
        )
        return found is not None

    async def settlement(self, partnership_id: int, start: datetime, end: datetime) -> tuple[int, int]:
        """Vouchers issued, and vouchers redeemed, between ``start`` and ``end``."""
        issued = await self.session.scalar(
            select(func.count()).where(
                Reward.partnership_id == partnership_id,
                Reward.issued_at >= start,
                Reward.issued_at < end,
            )
        )
        redeemed = await self.session.scalar(
            select(func.count()).where(
                Reward.partnership_id == partnership_id,
                Reward.redeemed_at >= start,
                Reward.redeemed_at < end,
            )
        )
        return int(issued or 0), int(redeemed or 0)

    async def vouchers(self, partnership_ids: Sequence[int]) -> Sequence[Reward]:
        if not partnership_ids:
            return []
        query = (
            select(Reward)
            .where(Reward.partnership_id.in_(partnership_ids))
            .order_by(Reward.issued_at, Reward.id)
        )
        return (await self.session.scalars(query)).all()
