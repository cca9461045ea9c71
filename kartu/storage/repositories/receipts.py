"""Receipts printed at the till and the receipt links that credited nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from kartu.storage.models import Receipt, ReceiptMiss
from kartu.storage.repositories.base import Repository


class ReceiptRepository(Repository):
    async def add(self, receipt: Receipt) -> Receipt:
        self.session.add(receipt)
        await self.session.flush()
        return receipt

    async def by_token(self, token_hash: str) -> Receipt | None:
        return await self.session.scalar(select(Receipt).where(Receipt.token_hash == token_hash))

    async def by_source(self, merchant_id: int, source: str) -> Receipt | None:
        return await self.session.scalar(
            select(Receipt).where(Receipt.merchant_id == merchant_id, Receipt.source == source)
        )

    async def claim(self, receipt_id: int, person_id: int, now: datetime) -> bool:
        """Take an open receipt for the person: one statement, so of two people at once one
        gets it (the other's update finds it claimed)."""
        taken = await self.session.execute(
            update(Receipt)
            .where(
                Receipt.id == receipt_id,
                Receipt.claimed_at.is_(None),
                Receipt.voided_at.is_(None),
                Receipt.expires_at > now,
            )
            .values(claimed_at=now, person_id=person_id)
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount)

    async def void(self, receipt_id: int, now: datetime) -> bool:
        """A refund before anyone claimed it: nobody can any more."""
        voided = await self.session.execute(
            update(Receipt)
            .where(Receipt.id == receipt_id, Receipt.claimed_at.is_(None), Receipt.voided_at.is_(None))
            .values(voided_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(voided.rowcount)

    async def misses_since(self, person_id: int, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(ReceiptMiss.person_id == person_id, ReceiptMiss.at > since)
            )
            or 0
        )

    async def missed(self, person_id: int, now: datetime) -> None:
        self.session.add(ReceiptMiss(person_id=person_id, at=now))
        await self.session.flush()

    async def counts(self, merchant_id: int) -> tuple[int, int]:
        """Receipts the shop printed, and of them claimed."""
        printed, claimed = (
            await self.session.execute(
                select(func.count(), func.count(Receipt.claimed_at)).where(Receipt.merchant_id == merchant_id)
            )
        ).one()
        return int(printed), int(claimed)
