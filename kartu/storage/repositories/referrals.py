"""Referrals (a friend who joined through a customer's invite link) and the birthdays of members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kartu.storage.models import Card, LedgerEntry, Person, Referral
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.reports import is_visit


class ReferralRepository(Repository):
    async def add(self, merchant_id: int, referrer_id: int, friend_id: int, now: datetime) -> bool:
        """Record that ``friend_id`` came through ``referrer_id``'s link; ``False`` when the friend
        was referred here before (a person is referred once per shop)."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(Referral)
            .values(
                merchant_id=merchant_id,
                referrer_person_id=referrer_id,
                friend_person_id=friend_id,
                status="pending",
                created_at=now,
                referrer_paid=False,
            )
            .on_conflict_do_nothing(index_elements=["merchant_id", "friend_person_id"])
            .returning(Referral.id)
        )
        return await self.session.scalar(statement) is not None

    async def referred_by(self, merchant_id: int, friend_id: int) -> Referral | None:
        return await self.session.scalar(
            select(Referral).where(
                Referral.merchant_id == merchant_id, Referral.friend_person_id == friend_id
            )
        )

    async def ready(self, merchant_id: int, stood_since: datetime) -> Sequence[int]:
        """Pending referrals whose friend made a purchase since joining that has stood (not
        refunded) since ``stood_since`` or longer: the return window is over."""
        purchase = exists().where(
            LedgerEntry.merchant_id == Referral.merchant_id,
            LedgerEntry.person_id == Referral.friend_person_id,
            is_visit(),
            LedgerEntry.created_at >= Referral.created_at,
            LedgerEntry.created_at <= stood_since,
        )
        query = select(Referral.id).where(
            Referral.merchant_id == merchant_id, Referral.status == "pending", purchase
        )
        return (await self.session.scalars(query.order_by(Referral.id))).all()

    async def mark_paid(self, referral_id: int, now: datetime) -> Referral | None:
        """Take a pending referral for payment; ``None`` when another sweep paid it."""
        result = await self.session.execute(
            update(Referral)
            .where(Referral.id == referral_id, Referral.status == "pending")
            .values(status="paid", paid_at=now)
        )
        if result.rowcount != 1:
            return None
        return await self.session.get(Referral, referral_id, populate_existing=True)

    async def referrer_paid(self, referral: Referral) -> None:
        referral.referrer_paid = True
        self.session.add(referral)
        await self.session.flush()

    async def paid_to_referrer_since(self, merchant_id: int, referrer_id: int, since: datetime) -> int:
        query = select(func.count()).where(
            Referral.merchant_id == merchant_id,
            Referral.referrer_person_id == referrer_id,
            Referral.referrer_paid.is_(True),
            Referral.paid_at >= since,
        )
        return int(await self.session.scalar(query) or 0)

    async def counts(self, merchant_id: int) -> tuple[int, int]:
        """Friends who joined through invitations, and those whose bonus was paid."""
        row = (
            await self.session.execute(
                select(func.count(Referral.id), func.count(Referral.paid_at)).where(
                    Referral.merchant_id == merchant_id
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def birthdays(
        self, merchant_id: int, days: Sequence[tuple[int, int]], key_prefix: str
    ) -> Sequence[int]:
        """Members of the shop whose birthday is one of ``days`` and who have no bonus under
        ``key_prefix<person id>`` yet."""
        query = (
            select(Person.id)
            .join(Card, and_(Card.person_id == Person.id, Card.merchant_id == merchant_id))
            .where(
                or_(
                    *(and_(Person.birthday_day == day, Person.birthday_month == month) for day, month in days)
                ),
                Person.forgotten_at.is_(None),
            )
        )
        people = (await self.session.scalars(query)).all()
        if not people:
            return []
        # A bonus's ledger key: "bonus:<key>" in stamps, "points:<key>" in points.
        keys = [f"{kind}:{key_prefix}{person_id}" for person_id in people for kind in ("bonus", "points")]
        done = set(
            (
                await self.session.scalars(
                    select(LedgerEntry.idempotency_key).where(LedgerEntry.idempotency_key.in_(keys))
                )
            ).all()
        )
        return [
            person_id
            for person_id in people
            if f"bonus:{key_prefix}{person_id}" not in done and f"points:{key_prefix}{person_id}" not in done
        ]
