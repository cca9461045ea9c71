"""Causes: the shop's current one, what it raised (its ledger rows), who gave, payouts, and the
offers behind customers' donation buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import distinct, func, select, update

from kartu.storage.models import Cause, CauseOffer, CausePayout, LedgerEntry
from kartu.storage.repositories.base import Repository

ACTIVE, CLOSED = "active", "closed"


class CauseRepository(Repository):
    async def active(self, merchant_id: int, *, lock: bool = False) -> Cause | None:
        query = select(Cause).where(Cause.merchant_id == merchant_id, Cause.status == ACTIVE)
        if lock:  # read again after the lock, even if this session holds the row already
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query.order_by(Cause.id).limit(1))

    async def get(self, cause_id: int, *, lock: bool = False) -> Cause | None:
        query = select(Cause).where(Cause.id == cause_id)
        if lock:  # read again after the lock, even if this session holds the row already
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def of_merchant(self, merchant_id: int) -> Sequence[Cause]:
        query = select(Cause).where(Cause.merchant_id == merchant_id).order_by(Cause.id)
        return (await self.session.scalars(query)).all()

    async def save(self, cause: Cause) -> Cause:
        self.session.add(cause)
        await self.session.flush()
        return cause

    async def totals(self, cause_id: int) -> tuple[int, int]:
        """Rupiah raised (pledged) and the number of people who gave."""
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(LedgerEntry.delta), 0), func.count(distinct(LedgerEntry.person_id))
                ).where(LedgerEntry.cause_id == cause_id, LedgerEntry.asset == "cause")
            )
        ).one()
        return int(row[0]), int(row[1])

    async def given_by(self, cause_id: int, person_id: int) -> int:
        value = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                LedgerEntry.cause_id == cause_id,
                LedgerEntry.person_id == person_id,
                LedgerEntry.asset == "cause",
            )
        )
        return int(value or 0)

    async def givers(self, cause_id: int) -> Sequence[int]:
        query = (
            select(LedgerEntry.person_id)
            .where(LedgerEntry.cause_id == cause_id, LedgerEntry.asset == "cause")
            .distinct()
            .order_by(LedgerEntry.person_id)
        )
        return (await self.session.scalars(query)).all()

    async def paid(self, cause_id: int) -> int:
        value = await self.session.scalar(
            select(func.coalesce(func.sum(CausePayout.amount), 0)).where(CausePayout.cause_id == cause_id)
        )
        return int(value or 0)

    async def add_payout(self, payout: CausePayout) -> None:
        self.session.add(payout)
        await self.session.flush()

    async def payouts(self, cause_id: int) -> Sequence[CausePayout]:
        query = select(CausePayout).where(CausePayout.cause_id == cause_id).order_by(CausePayout.paid_on)
        return (await self.session.scalars(query)).all()

    async def add_offer(self, offer: CauseOffer) -> CauseOffer:
        self.session.add(offer)
        await self.session.flush()
        return offer

    async def offer(self, token: str) -> CauseOffer | None:
        return await self.session.scalar(select(CauseOffer).where(CauseOffer.token == token))

    async def decide_offer(self, offer_id: int, status: str, now: datetime) -> bool:
        """Mark a pending, unexpired offer given or cancelled; ``False`` when another tap did first."""
        result = await self.session.execute(
            update(CauseOffer)
            .where(CauseOffer.id == offer_id, CauseOffer.status == "pending", CauseOffer.expires_at > now)
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def running(self, merchant_id: int) -> Sequence[Cause]:
        query = select(Cause).where(Cause.merchant_id == merchant_id, Cause.status == ACTIVE)
        return (await self.session.scalars(query)).all()
