"""Cards: one per customer per shop, with its stamp balance (a cache of the ledger)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from kartu.storage.models import Card, LedgerEntry, Person, Program, Reward, Survey
from kartu.storage.repositories.base import Repository


@dataclass
class CardHolder:
    """A customer at one shop, read with what the counter needs in the same statement."""

    person: Person
    card: Card | None
    stamped_today: int  # stamps from purchases since the shop's local midnight (the daily cap)
    open_rewards: int
    last_survey_at: datetime | None
    program: Program | None = None


# The counter's statements are built once, with bound parameters: building a statement costs
# more than running it on SQLite, and SQLAlchemy caches the compiled SQL by statement shape.
_STAMPED_TODAY = (
    select(func.coalesce(func.sum(LedgerEntry.delta), 0))
    .where(
        LedgerEntry.merchant_id == bindparam("merchant_id"),
        LedgerEntry.person_id == Person.id,
        LedgerEntry.asset == "stamp",
        LedgerEntry.reason == "purchase",
        LedgerEntry.created_at >= bindparam("since"),
    )
    .scalar_subquery()
)
_REWARDS_HELD = (
    select(func.count(Reward.id))
    .where(
        Reward.merchant_id == bindparam("merchant_id"),
        Reward.person_id == Person.id,
        Reward.redeemed_at.is_(None),  # type: ignore[union-attr]
        Reward.expires_at > bindparam("now"),
    )
    .scalar_subquery()
)
_LAST_SURVEY = (
    select(func.max(Survey.created_at))
    .where(Survey.merchant_id == bindparam("merchant_id"), Survey.person_id == Person.id)
    .scalar_subquery()
)
_HOLDER_OF_CODE = (
    select(Person, Card, _STAMPED_TODAY, _REWARDS_HELD)
    .outerjoin(Card, and_(Card.person_id == Person.id, Card.merchant_id == bindparam("merchant_id")))
    .where(Person.personal_code == bindparam("code"))
)
_LOCK = (
    select(Card.id)
    .where(Card.merchant_id == bindparam("merchant_id"), Card.person_id == bindparam("person_id"))
    .with_for_update()
)
_HOLDER = (
    select(Person, Card, Program, _STAMPED_TODAY, _REWARDS_HELD, _LAST_SURVEY)
    .join(Card, and_(Card.person_id == Person.id, Card.merchant_id == bindparam("merchant_id")))
    .join(Program, Program.merchant_id == bindparam("merchant_id"))
    .where(Person.id == bindparam("person_id"))
    .execution_options(populate_existing=True)  # this statement's values, not earlier reads
)


class CardRepository(Repository):
    async def by_id(self, card_id: int) -> Card | None:
        return await self.session.get(Card, card_id)

    async def holder_of_code(
        self, merchant_id: int, code: str, since: datetime, now: datetime
    ) -> CardHolder | None:
        """The person with this personal code, their card at this shop (``None`` when they hold
        none here), the stamps they got since ``since`` and the rewards they hold: one query.
        ``None`` for an unknown code."""
        values = {"merchant_id": merchant_id, "code": code, "since": since, "now": now}
        row = (await self.session.execute(_HOLDER_OF_CODE, values)).first()
        return CardHolder(row[0], row[1], int(row[2]), int(row[3]), None) if row is not None else None

    async def lock(self, merchant_id: int, person_id: int) -> bool:
        """Lock the customer's card for a crediting transaction (PostgreSQL; SQLite writers are
        serialised already); ``False`` when they hold no card here."""
        query = (
            select(Card.id)
            .where(Card.merchant_id == merchant_id, Card.person_id == person_id)
            .with_for_update()
        )
        return await self.session.scalar(query) is not None

    async def holder(
        self, merchant_id: int, person_id: int, since: datetime, now: datetime
    ) -> CardHolder | None:
        """The customer, their card and the shop's program as committed now (read after `lock`),
        with the stamps they got since ``since``, the rewards they hold and their last survey."""
        values = {"merchant_id": merchant_id, "person_id": person_id, "since": since, "now": now}
        row = (await self.session.execute(_HOLDER, values)).first()
        if row is None:
            return None
        return CardHolder(row[0], row[1], int(row[3]), int(row[4]), row[5], program=row[2])

    async def get(self, merchant_id: int, person_id: int, *, lock: bool = False) -> Card | None:
        query = select(Card).where(Card.merchant_id == merchant_id, Card.person_id == person_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

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
