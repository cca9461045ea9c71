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

    async def open_for(
        self, merchant_id: int, person_id: int, now: datetime, dispute: bool = False
    ) -> PurchaseClaim | None:
        """The customer's open claim at the counter (or, with ``dispute``, their open missing stamp):
        one of each at a time."""
        kind = PurchaseClaim.visit_day.is_not(None) if dispute else PurchaseClaim.visit_day.is_(None)
        return await self.session.scalar(
            select(PurchaseClaim)
            .where(
                PurchaseClaim.merchant_id == merchant_id,
                PurchaseClaim.person_id == person_id,
                PurchaseClaim.status == "pending",
                PurchaseClaim.expires_at > now,
                kind,
            )
            .limit(1)
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

    async def disputes_since(
        self, merchant_id: int, since: datetime
    ) -> list[tuple[str, datetime, datetime | None]]:
        """The shop's missing-stamp requests since ``since``: status, asked, decided."""
        rows = await self.session.execute(
            select(PurchaseClaim.status, PurchaseClaim.created_at, PurchaseClaim.decided_at).where(
                PurchaseClaim.merchant_id == merchant_id,
                PurchaseClaim.visit_day.is_not(None),
                PurchaseClaim.created_at >= since,
            )
        )
        return [(status, asked, decided) for status, asked, decided in rows.all()]

    async def decide(
        self, claim_id: int, status: str, person_id: int, now: datetime, note: str | None = None
    ) -> bool:
        result = await self.session.execute(
            update(PurchaseClaim)
            .where(PurchaseClaim.id == claim_id, PurchaseClaim.status == "pending")
            .values(status=status, decided_by_person_id=person_id, decided_at=now, note=note)
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
