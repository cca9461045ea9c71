"""Cards: one per customer per shop, with its stamp balance (a cache of the ledger)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kartu.storage.models import Card
from kartu.storage.repositories.base import Repository


class CardRepository(Repository):
    async def by_id(self, card_id: int) -> Card | None:
        return await self.session.get(Card, card_id)

    async def get(self, merchant_id: int, person_id: int, *, lock: bool = False) -> Card | None:
        query = select(Card).where(Card.merchant_id == merchant_id, Card.person_id == person_id)
        if lock:  # read again after the lock, even if this session holds the row already
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def stamps_of(self, merchant_id: int, person_id: int) -> int:
        """The stamps the person's card here holds (0 without a card)."""
        stamps = await self.session.scalar(
            select(Card.stamps).where(Card.merchant_id == merchant_id, Card.person_id == person_id)
        )
        return int(stamps or 0)

    async def by_invite_token(self, token: str) -> Card | None:
        return await self.session.scalar(select(Card).where(Card.invite_token == token))

    async def get_or_add(self, merchant_id: int, person_id: int, now: datetime) -> tuple[Card, bool]:
        """The person's card at the merchant, created when missing; ``True`` when new."""
        card = await self.get(merchant_id, person_id)
        if card is not None:
            return card, False
        try:
            async with self.session.begin_nested():
                card = Card(merchant_id=merchant_id, person_id=person_id, stamps=0, joined_at=now)
                self.session.add(card)
                await self.session.flush()
            return card, True
        except IntegrityError:
            # Joined a moment ago in another transaction (a double tap on the link).
            existing = await self.get(merchant_id, person_id)
            assert existing is not None
            return existing, False

    async def holding_at_least(self, merchant_id: int, stamps: int, *, lock: bool = False) -> Sequence[Card]:
        query = select(Card).where(Card.merchant_id == merchant_id, Card.stamps >= stamps).order_by(Card.id)
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def lock_holding_stamps(self, merchant_id: int) -> None:
        """Lock the shop's cards that hold stamps (PostgreSQL; SQLite's writer holds the database),
        in id order as every purchase locks one: a purchase racing a switch of kinds waits."""
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            await self.session.execute(
                select(Card.id)
                .where(Card.merchant_id == merchant_id, Card.stamps > 0)
                .order_by(Card.id)
                .with_for_update()
            )

    async def set_opt_out(self, card: Card, opted_out: bool) -> None:
        card.promotions_opt_out = opted_out
        self.session.add(card)
        await self.session.flush()

    async def set_stamps(self, card: Card, stamps: int, last_purchase_at: datetime | None) -> None:
        card.stamps = stamps
        if last_purchase_at is not None:
            card.last_purchase_at = last_purchase_at
        self.session.add(card)
        await self.session.flush()

    async def take_stamps(self, card_id: int, stamps: int) -> bool:
        """Take ``stamps`` off the card if it holds them (``False``: it holds fewer now)."""
        result = await self.session.execute(
            update(Card).where(Card.id == card_id, Card.stamps >= stamps).values(stamps=Card.stamps - stamps)
        )
        return result.rowcount == 1
