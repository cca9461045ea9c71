"""Purchase claims and the staff messages that show them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from kartu.storage.models import ClaimNotice, PurchaseClaim
from kartu.storage.repositories.base import Repository


class ClaimRepository(Repository):
    async def add(self, claim: PurchaseClaim) -> PurchaseClaim:
        self.session.add(claim)
        await self.session.flush()
        return claim

    async def get(self, claim_id: int) -> PurchaseClaim | None:
        return await self.session.get(PurchaseClaim, claim_id)

    async def open_for(self, merchant_id: int, person_id: int, now: datetime) -> PurchaseClaim | None:
        return await self.session.scalar(
            select(PurchaseClaim).where(
                PurchaseClaim.merchant_id == merchant_id,
                PurchaseClaim.person_id == person_id,
                PurchaseClaim.status == "pending",
                PurchaseClaim.expires_at > now,
            )
        )

    async def rejections_since(self, merchant_id: int, person_id: int, since: datetime) -> list[datetime]:
        """When this customer's claims at this shop were rejected since ``since``, oldest first."""
        rows = await self.session.scalars(
            select(PurchaseClaim.decided_at)
            .where(
                PurchaseClaim.merchant_id == merchant_id,
                PurchaseClaim.person_id == person_id,
                PurchaseClaim.status == "rejected",
                PurchaseClaim.decided_at > since,
            )
            .order_by(PurchaseClaim.decided_at)
        )
        return [moment for moment in rows if moment is not None]

    async def decide(self, claim_id: int, status: str, person_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(PurchaseClaim)
            .where(PurchaseClaim.id == claim_id, PurchaseClaim.status == "pending")
            .values(status=status, decided_by_person_id=person_id, decided_at=now)
        )
        return result.rowcount == 1

    async def add_notices(self, claim_id: int, notices: Sequence[tuple[int, int, str]]) -> None:
        for chat_id, message_id, language in notices:
            self.session.add(
                ClaimNotice(claim_id=claim_id, chat_id=chat_id, message_id=message_id, language=language)
            )
        await self.session.flush()

    async def notices(self, claim_id: int) -> Sequence[ClaimNotice]:
        return (await self.session.scalars(select(ClaimNotice).where(ClaimNotice.claim_id == claim_id))).all()
