"""Paid memberships: a shop's offer, its members, their payments in Stars."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from kartu.storage.models import Membership, MembershipOffer, StarPayment
from kartu.storage.repositories.base import Repository

ACTIVE, ENDED, REFUNDED = "active", "ended", "refunded"


class MembershipRepository(Repository):
    async def offer(self, merchant_id: int) -> MembershipOffer | None:
        """The shop's current offer."""
        return await self.session.scalar(
            select(MembershipOffer)
            .where(MembershipOffer.merchant_id == merchant_id, MembershipOffer.active.is_(True))
            .order_by(MembershipOffer.id.desc())
            .limit(1)
        )

    async def offer_by_id(self, offer_id: int) -> MembershipOffer | None:
        return await self.session.get(MembershipOffer, offer_id)

    async def replace_offer(self, merchant_id: int, offer: MembershipOffer | None) -> None:
        """The shop's offer is now ``offer`` (``None``: none); invoices made for the old one are refused."""
        await self.session.execute(
            update(MembershipOffer)
            .where(MembershipOffer.merchant_id == merchant_id, MembershipOffer.active.is_(True))
            .values(active=False)
        )
        if offer is not None:
            self.session.add(offer)
        await self.session.flush()

    async def of(self, merchant_id: int, person_id: int, *, lock: bool = False) -> Membership | None:
        query = select(Membership).where(
            Membership.merchant_id == merchant_id, Membership.person_id == person_id
        )
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def renewing(self, person_id: int, merchant_id: int | None, now: datetime) -> Sequence[Membership]:
        """The person's memberships Telegram would renew (at one shop, or at all)."""
        query = select(Membership).where(
            Membership.person_id == person_id,
            Membership.status == ACTIVE,
            Membership.renews.is_(True),
        )
        if merchant_id is not None:
            query = query.where(Membership.merchant_id == merchant_id)
        return (await self.session.scalars(query.order_by(Membership.id))).all()

    async def end_all(self, person_id: int, merchant_id: int | None, now: datetime) -> None:
        """The person left (one shop, or every shop): their memberships end now and never renew."""
        query = update(Membership).where(Membership.person_id == person_id, Membership.status == ACTIVE)
        if merchant_id is not None:
            query = query.where(Membership.merchant_id == merchant_id)
        await self.session.execute(query.values(status=ENDED, renews=False, ended_at=now))

    async def of_id(self, membership_id: int) -> Membership | None:
        return await self.session.get(Membership, membership_id)

    async def save(self, membership: Membership) -> Membership:
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def payment(self, charge_id: str) -> StarPayment | None:
        return await self.session.scalar(select(StarPayment).where(StarPayment.charge_id == charge_id))

    async def last_payment(self, membership_id: int) -> StarPayment | None:
        return await self.session.scalar(
            select(StarPayment)
            .where(StarPayment.membership_id == membership_id)
            .order_by(StarPayment.paid_at.desc(), StarPayment.id.desc())
            .limit(1)
        )

    async def add_payment(self, payment: StarPayment) -> None:
        self.session.add(payment)
        await self.session.flush()

    async def ending(self, merchant_id: int, before: datetime) -> Sequence[Membership]:
        """Active memberships that will not renew and end before ``before``, not yet reminded."""
        query = select(Membership).where(
            Membership.merchant_id == merchant_id,
            Membership.status == ACTIVE,
            Membership.renews.is_(False),
            Membership.reminded_at.is_(None),
            Membership.paid_until <= before,
        )
        return (await self.session.scalars(query)).all()

    async def lapsed(self, merchant_id: int, now: datetime, grace_until: datetime) -> Sequence[Membership]:
        """Active memberships past their period: cancelled ones at once, renewing ones after the grace
        a renewal may take to be reported."""
        query = select(Membership).where(
            Membership.merchant_id == merchant_id,
            Membership.status == ACTIVE,
            Membership.paid_until <= now,
        )
        return [
            membership
            for membership in (await self.session.scalars(query)).all()
            if not membership.renews or membership.paid_until <= grace_until
        ]

    async def counts(self, merchant_id: int, since: datetime) -> tuple[int, int]:
        """Members now, and Stars paid since ``since`` (less refunds)."""
        members = await self.session.scalar(
            select(func.count()).where(Membership.merchant_id == merchant_id, Membership.status == ACTIVE)
        )
        stars = await self.session.scalar(
            select(func.coalesce(func.sum(StarPayment.stars), 0))
            .join(Membership, Membership.id == StarPayment.membership_id)
            .where(
                Membership.merchant_id == merchant_id,
                StarPayment.paid_at >= since,
                StarPayment.refunded_at.is_(None),
            )
        )
        return int(members or 0), int(stars or 0)
