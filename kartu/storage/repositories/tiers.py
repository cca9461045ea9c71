"""Levels: a shop's tiers, where cards stand, what counts toward them, and the groups they open."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from kartu.loyalty.tiers import Basis, Level, groups_for
from kartu.storage.models import Card, LedgerEntry, Tier, VipGroup
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.reports import is_visit, not_refunded


def level_of(tier: Tier) -> Level:
    return Level(
        tier.id or 0, tier.name, tier.threshold, tier.multiplier_permille, tier.perks, tier.group_chat_id
    )


class TierRepository(Repository):
    async def all(self, merchant_id: int) -> Sequence[Tier]:
        query = select(Tier).where(Tier.merchant_id == merchant_id, Tier.deleted_at.is_(None))
        return (await self.session.scalars(query.order_by(Tier.threshold, Tier.id))).all()

    async def levels(self, merchant_id: int) -> list[Level]:
        return [level_of(tier) for tier in await self.all(merchant_id)]

    async def get(self, tier_id: int, merchant_id: int) -> Tier | None:
        tier = await self.session.get(Tier, tier_id)
        if tier is None or tier.merchant_id != merchant_id or tier.deleted_at is not None:
            return None
        return tier

    async def save(self, tier: Tier) -> Tier:
        self.session.add(tier)
        await self.session.flush()
        return tier

    async def measure(self, merchant_id: int, person_id: int, basis: Basis, since: datetime) -> int:
        """Visits, or rupiah spent, since ``since``."""
        mine = (
            LedgerEntry.merchant_id == merchant_id,
            LedgerEntry.person_id == person_id,
            LedgerEntry.created_at >= since,
        )
        if basis is Basis.SPEND:
            query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                *mine, LedgerEntry.asset == "point", LedgerEntry.reason == "purchase", not_refunded()
            )
        else:
            query = select(func.count()).where(*mine, is_visit())
        return int(await self.session.scalar(query) or 0)

    async def held(self, tier_id: int | None, merchant_id: int) -> tuple[str, int] | None:
        """The name and multiplier of the level a card holds."""
        tier = await self.get(tier_id, merchant_id) if tier_id is not None else None
        return (tier.name, tier.multiplier_permille) if tier is not None else None

    async def open_groups(self, merchant_id: int, tier_id: int | None) -> list[tuple[int, int, str]]:
        """The groups a card holding ``tier_id`` belongs in (its level's and those of the levels
        below it): level id, chat id, title."""
        tiers = await self.all(merchant_id)
        chats = set(groups_for([level_of(tier) for tier in tiers], tier_id))
        return [
            (tier.id or 0, tier.group_chat_id, tier.group_title or tier.name)
            for tier in tiers
            if tier.group_chat_id is not None and tier.group_chat_id in chats
        ]

    async def due_for_review(self, merchant_id: int, before: datetime, limit: int = 500) -> Sequence[int]:
        """People holding a level here whose card was not reviewed since ``before``."""
        query = (
            select(Card.person_id)
            .where(
                Card.merchant_id == merchant_id,
                Card.tier_id.is_not(None),
                or_(Card.tier_reviewed_at.is_(None), Card.tier_reviewed_at < before),
            )
            .order_by(Card.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def holders(self, merchant_id: int, tier_ids: Sequence[int]) -> Sequence[Card]:
        query = select(Card).where(Card.merchant_id == merchant_id, Card.tier_id.in_(tier_ids))
        return (await self.session.scalars(query)).all()

    async def counts(self, merchant_id: int) -> dict[int, int]:
        rows = await self.session.execute(
            select(Card.tier_id, func.count())
            .where(Card.merchant_id == merchant_id, Card.tier_id.is_not(None))
            .group_by(Card.tier_id)
        )
        return {int(tier_id): int(count) for tier_id, count in rows.all()}

    async def forget_level(self, tier_id: int) -> None:
        """A deleted level: its cards hold no level until their next purchase or review."""
        await self.session.execute(
            update(Card).where(Card.tier_id == tier_id).values(tier_id=None, tier_grace_until=None)
        )

    async def by_group(self, chat_id: int) -> Tier | None:
        return await self.session.scalar(
            select(Tier).where(Tier.group_chat_id == chat_id, Tier.deleted_at.is_(None))
        )

    async def add_group(self, group: VipGroup) -> VipGroup:
        existing = await self.session.scalar(select(VipGroup).where(VipGroup.chat_id == group.chat_id))
        if existing is not None:
            existing.title, existing.merchant_id = group.title, group.merchant_id
            existing.added_by_person_id, existing.added_at = group.added_by_person_id, group.added_at
            group = existing
        self.session.add(group)
        await self.session.flush()
        return group

    async def drop_group(self, chat_id: int) -> None:
        await self.session.execute(
            update(Tier).where(Tier.group_chat_id == chat_id).values(group_chat_id=None, group_title=None)
        )
        await self.session.execute(delete(VipGroup).where(VipGroup.chat_id == chat_id))

    async def group(self, group_id: int) -> VipGroup | None:
        return await self.session.get(VipGroup, group_id)
