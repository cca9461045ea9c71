"""Rewards issued when a card fills, until redeemed or expired."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from kartu.storage.models import Reward
from kartu.storage.repositories.base import Repository


class RewardRepository(Repository):
    async def add_with_unique_code(self, make_reward: Callable[[], Reward]) -> Reward:
        return await self._insert_unique(make_reward)

    async def by_code(self, code: str) -> Reward | None:
        return await self.session.scalar(select(Reward).where(Reward.code == code))

    async def of_merchant_by_code(self, merchant_id: int, code: str) -> Reward | None:
        """The shop's reward by its code, in one statement (another shop's looks as unknown)."""
        return await self.session.scalar(
            select(Reward).where(Reward.code == code, Reward.merchant_id == merchant_id)
        )

    async def get(self, reward_id: int) -> Reward | None:
        return await self.session.get(Reward, reward_id)

    async def count_open(self, merchant_id: int, person_id: int, now: datetime) -> int:
        """How many rewards the customer holds here (a COUNT: screens show the number only)."""
        query = select(func.count()).where(
            Reward.merchant_id == merchant_id,
            Reward.person_id == person_id,
            Reward.redeemed_at.is_(None),
            Reward.expires_at > now,
        )
        return int(await self.session.scalar(query) or 0)

    async def open_rewards(self, merchant_id: int, person_id: int, now: datetime) -> Sequence[Reward]:
        query = (
            select(Reward)
            .where(
                Reward.merchant_id == merchant_id,
                Reward.person_id == person_id,
                Reward.redeemed_at.is_(None),
                Reward.expires_at > now,
            )
            .order_by(Reward.expires_at)
        )
        return (await self.session.scalars(query)).all()

    async def give_back(self, reward_id: int, now: datetime) -> bool:
        """Close a reward given back for its points (no longer valid from now); ``False`` when it
        was used or given back already."""
        result = await self.session.execute(
            update(Reward)
            .where(
                Reward.id == reward_id,
                Reward.redeemed_at.is_(None),
                Reward.returned_at.is_(None),
            )
            .values(returned_at=now, expired_at=now, expires_at=now)
        )
        return result.rowcount == 1

    async def redeem(self, reward_id: int, person_id: int, now: datetime) -> bool:
        """Mark redeemed; ``False`` when it was redeemed already (a double tap, a second staff)."""
        result = await self.session.execute(
            update(Reward)
            .where(Reward.id == reward_id, Reward.redeemed_at.is_(None))
            .values(redeemed_at=now, redeemed_by_person_id=person_id)
        )
        return result.rowcount == 1

    async def donate(self, reward_id: int, person_id: int, now: datetime) -> bool:
        """An unused reward given to a cause: no longer usable (the ledger says why); ``False`` when it
        was used, given or lapsed meanwhile."""
        result = await self.session.execute(
            update(Reward)
            .where(
                Reward.id == reward_id,
                Reward.person_id == person_id,
                Reward.redeemed_at.is_(None),
                Reward.expires_at > now,
            )
            .values(expires_at=now, expired_at=now)
        )
        return result.rowcount == 1

    async def void(self, reward_id: int, now: datetime) -> bool:
        """A reward its purchase's refund takes back: no longer usable; ``False`` when it was used."""
        result = await self.session.execute(
            update(Reward)
            .where(Reward.id == reward_id, Reward.redeemed_at.is_(None))
            .values(expires_at=now, expired_at=now)
        )
        return result.rowcount == 1
