"""Merging a shop into another business (services/merges.py): what moves as a whole, in a few
statements each; the cards are added together one by one by the service, with a ledger row each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import case, func, select, update

from kartu.loyalty.tally import COUNTS, DayCounts
from kartu.storage.models import (
    ApiKey,
    Card,
    DailyTally,
    Merchant,
    Outlet,
    OutletTally,
    OutletVisit,
    Person,
    PointsBatch,
    Reward,
    StaffMember,
    WebhookEndpoint,
)
from kartu.storage.repositories.base import Repository


class MergeRepository(Repository):
    async def lock(self, *merchant_ids: int) -> None:
        """Hold both businesses while they merge (PostgreSQL row locks, in id order; SQLite's
        writer holds the database): a second merge, or a purchase's shop check, waits."""
        await self.session.execute(
            select(Merchant.id)
            .where(Merchant.id.in_(sorted(merchant_ids)))
            .order_by(Merchant.id)
            .with_for_update()
        )

    async def cards(self, merchant_id: int) -> Sequence[Card]:
        return (
            await self.session.scalars(select(Card).where(Card.merchant_id == merchant_id).order_by(Card.id))
        ).all()

    async def counts(self, source_id: int, target_id: int) -> tuple[int, int, int, int, int]:
        """Cards at the source, of them held at the target too, stamps and points they hold, and
        rewards still open."""
        held_there = select(Card.person_id).where(Card.merchant_id == target_id)
        cards, both, stamps, points = (
            await self.session.execute(
                select(
                    func.count(Card.id),
                    func.coalesce(func.sum(case((Card.person_id.in_(held_there), 1), else_=0)), 0),
                    func.coalesce(func.sum(Card.stamps), 0),
                    func.coalesce(func.sum(Card.points), 0),
                ).where(Card.merchant_id == source_id)
            )
        ).one()
        rewards = await self.session.scalar(
            select(func.count(Reward.id)).where(
                Reward.merchant_id == source_id,
                Reward.redeemed_at.is_(None),
                Reward.expired_at.is_(None),
                Reward.returned_at.is_(None),
            )
        )
        return int(cards), int(both), int(stamps), int(points), int(rewards or 0)

    async def move_outlets(self, source_id: int, target_id: int) -> list[Outlet]:
        outlets = (
            await self.session.scalars(
                select(Outlet).where(Outlet.merchant_id == source_id).order_by(Outlet.id)
            )
        ).all()
        await self.session.execute(
            update(Outlet).where(Outlet.merchant_id == source_id).values(merchant_id=target_id)
        )
        return list(outlets)

    async def move_open_rewards(self, source_id: int, target_id: int) -> list[Reward]:
        """Rewards not used, lapsed or given back: redeemable at the business, codes unchanged."""
        condition = (
            Reward.merchant_id == source_id,
            Reward.redeemed_at.is_(None),
            Reward.expired_at.is_(None),
            Reward.returned_at.is_(None),
        )
        rewards = (await self.session.scalars(select(Reward).where(*condition))).all()
        await self.session.execute(update(Reward).where(*condition).values(merchant_id=target_id))
        return list(rewards)

    async def move_points(self, source_id: int, target_id: int) -> None:
        """Live point batches keep their own expiry at the business."""
        await self.session.execute(
            update(PointsBatch)
            .where(
                PointsBatch.merchant_id == source_id,
                PointsBatch.remaining > 0,
                PointsBatch.expired_at.is_(None),
            )
            .values(merchant_id=target_id)
        )

    async def move_keys_and_webhooks(self, source_id: int, target_id: int, outlet_id: int | None) -> None:
        """The source's till keys keep working, for its outlet; its webhooks hear the business."""
        await self.session.execute(
            update(ApiKey)
            .where(ApiKey.merchant_id == source_id)
            .values(merchant_id=target_id, outlet_id=func.coalesce(ApiKey.outlet_id, outlet_id))
        )
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.merchant_id == source_id)
            .values(merchant_id=target_id)
        )

    async def move_figures(self, source_id: int, target_id: int) -> dict[tuple[int, date], DayCounts]:
        """The outlets' counted days and visits move with them; the source's days, to be added to
        the business's (returned)."""
        await self.session.execute(
            update(OutletTally).where(OutletTally.merchant_id == source_id).values(merchant_id=target_id)
        )
        await self.session.execute(
            update(OutletVisit).where(OutletVisit.merchant_id == source_id).values(merchant_id=target_id)
        )
        days = (
            await self.session.scalars(select(DailyTally).where(DailyTally.merchant_id == source_id))
        ).all()
        return {(target_id, day.day): DayCounts(*(getattr(day, name) for name in COUNTS)) for day in days}

    async def repoint_people(self, source_id: int, target_id: int) -> None:
        """Customers whose current shop, and members whose acting shop, was the source."""
        await self.session.execute(
            update(Person)
            .where(Person.current_merchant_id == source_id)
            .values(current_merchant_id=target_id)
        )
        await self.session.execute(
            update(Person).where(Person.acting_merchant_id == source_id).values(acting_merchant_id=target_id)
        )

    async def team(self, merchant_id: int) -> Sequence[StaffMember]:
        return (
            await self.session.scalars(
                select(StaffMember).where(
                    StaffMember.merchant_id == merchant_id, StaffMember.revoked_at.is_(None)
                )
            )
        ).all()
