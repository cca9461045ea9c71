"""Broadcasts: segment queries, queueing every recipient in one statement, progress counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select, update
from sqlalchemy.sql import Select

from kartu.loyalty.segments import ACTIVITY_WINDOW, CLOSE_TO_REWARD, Segment
from kartu.storage.models import Broadcast, Card, Membership, Merchant, OutboxMessage, Person, Program, Reward
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.outbox import insert_ignoring_duplicates

BROADCAST_KIND = "broadcast"


class BroadcastRepository(Repository):
    def _recipients(
        self,
        merchant_id: int,
        segment: Segment,
        now: datetime,
        cooldown_since: datetime,
        outlet_id: int | None = None,
    ) -> Select:
        """Members in the segment who accept promotions, can be reached, and had no broadcast
        from this merchant since ``cooldown_since`` (with ``outlet_id``: whose last visit was there)."""
        recently_messaged = exists().where(
            OutboxMessage.person_id == Person.id,
            OutboxMessage.merchant_id == merchant_id,
            OutboxMessage.kind == BROADCAST_KIND,
            OutboxMessage.status.in_(("pending", "sending", "sent")),
            OutboxMessage.created_at > cooldown_since,
        )
        query = (
            select(Person.id, Person.telegram_id)
            .join(Card, and_(Card.person_id == Person.id, Card.merchant_id == merchant_id))
            .where(Card.promotions_opt_out.is_(False), Person.unreachable_at.is_(None), ~recently_messaged)
        )
        if outlet_id is not None:
            query = query.where(Card.last_outlet_id == outlet_id)
        month_ago = now - ACTIVITY_WINDOW
        match segment:
            case Segment.ACTIVE:
                query = query.where(Card.last_purchase_at >= month_ago)
            case Segment.LAPSED:
                query = query.where(
                    or_(
                        Card.last_purchase_at < month_ago,
                        and_(Card.last_purchase_at.is_(None), Card.joined_at < month_ago),
                    )
                )
            case Segment.CLOSE:
                query = query.join(Program, Program.merchant_id == Card.merchant_id).where(
                    Card.stamps * 10 >= Program.stamps_required * int(CLOSE_TO_REWARD * 10)
                )
            case Segment.REWARD:  # driven by the rewards valid now (few), not by every card
                query = query.where(
                    Card.person_id.in_(
                        select(Reward.person_id).where(
                            Reward.merchant_id == merchant_id,
                            Reward.expires_at > now,
                            Reward.redeemed_at.is_(None),
                            Reward.expired_at.is_(None),
                        )
                    )
                )
            case Segment.MEMBERS:  # driven by the paid members (few)
                query = query.where(
                    Card.person_id.in_(
                        select(Membership.person_id).where(
                            Membership.merchant_id == merchant_id,
                            Membership.status == "active",
                            Membership.paid_until > now,
                        )
                    )
                )
        return query

    async def count(
        self,
        merchant_id: int,
        segment: Segment,
        now: datetime,
        cooldown_since: datetime,
        outlet_id: int | None = None,
    ) -> int:
        if outlet_id is not None:  # one outlet's customers: on the (shop, last outlet) index
            return await self._count_one(merchant_id, segment, now, cooldown_since, outlet_id)
        return (await self.counts(merchant_id, (segment,), now, cooldown_since))[segment]

    async def counts(
        self, merchant_id: int, segments: Sequence[Segment], now: datetime, cooldown_since: datetime
    ) -> dict[Segment, int]:
        """How many members each segment reaches now. Unless the shop broadcast within the cooldown
        (then who got it is asked of the outbox, segment by segment), the card's own segments are
        counted in one pass over the shop's cards, less those of people the bot cannot reach (a
        few), and the reward holders and paid members from their own, smaller, tables."""
        if not segments:
            return {}
        recent = await self.session.scalar(
            select(func.count())
            .select_from(Broadcast)
            .where(Broadcast.merchant_id == merchant_id, Broadcast.created_at > cooldown_since)
        )
        if recent:
            return {
                segment: await self._count_one(merchant_id, segment, now, cooldown_since)
                for segment in segments
            }
        required = await self.session.scalar(
            select(Program.stamps_required).where(Program.merchant_id == merchant_id)
        )
        month_ago = now - ACTIVITY_WINDOW
        conditions = {
            Segment.ALL: Card.id.is_not(None),
            Segment.ACTIVE: Card.last_purchase_at >= month_ago,
            Segment.LAPSED: or_(
                Card.last_purchase_at < month_ago,
                and_(Card.last_purchase_at.is_(None), Card.joined_at < month_ago),
            ),
            Segment.CLOSE: Card.stamps * 10 >= (required or 0) * int(CLOSE_TO_REWARD * 10),
        }
        on_cards = [segment for segment in segments if segment in conditions]
        found: dict[Segment, int] = {}
        if on_cards:
            sums = [
                func.coalesce(func.sum(case((conditions[segment], 1), else_=0)), 0) for segment in on_cards
            ]
            shop = (Card.merchant_id == merchant_id, Card.promotions_opt_out.is_(False))
            everyone = (await self.session.execute(select(*sums).where(*shop))).one()
            unreachable = (
                await self.session.execute(
                    select(*sums)
                    .select_from(Card)
                    .join(Person, Person.id == Card.person_id)
                    .where(*shop, Person.unreachable_at.is_not(None))
                )
            ).one()
            for segment, total, away in zip(on_cards, everyone, unreachable, strict=True):
                found[segment] = int(total) - int(away)
        for segment in segments:
            if segment not in found:
                found[segment] = await self._count_one(merchant_id, segment, now, cooldown_since)
        return found

    async def _count_one(
        self,
        merchant_id: int,
        segment: Segment,
        now: datetime,
        cooldown_since: datetime,
        outlet_id: int | None = None,
    ) -> int:
        query = self._recipients(merchant_id, segment, now, cooldown_since, outlet_id).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(query)) or 0)

    async def running(self, merchant_id: int) -> Broadcast | None:
        return await self.session.scalar(
            select(Broadcast).where(Broadcast.merchant_id == merchant_id, Broadcast.status == "running")
        )

    async def lock_merchant(self, merchant_id: int) -> None:
        """Serialise broadcast starts per merchant (PostgreSQL row lock; SQLite writers are serial)."""
        await self.session.execute(select(Merchant.id).where(Merchant.id == merchant_id).with_for_update())

    async def add(self, broadcast: Broadcast) -> Broadcast:
        self.session.add(broadcast)
        await self.session.flush()
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id)

    async def queue(
        self,
        broadcast: Broadcast,
        segment: Segment,
        now: datetime,
        cooldown_since: datetime,
        not_before: datetime,
    ) -> int:
        """One outbox row per recipient, in one INSERT … SELECT."""
        recipients = self._recipients(
            broadcast.merchant_id, segment, now, cooldown_since, broadcast.outlet_id
        ).subquery()
        rows = select(
            literal(f"broadcast:{broadcast.id}:") + cast(recipients.c.id, String),
            literal(BROADCAST_KIND),
            literal("promo"),
            recipients.c.telegram_id,
            case((recipients.c.telegram_id.is_(None), literal("whatsapp")), else_=literal("telegram")),
            recipients.c.id,
            literal(broadcast.merchant_id),
            literal(broadcast.id),
            literal("{}"),
            literal("pending"),
            literal(0),
            literal(not_before, OutboxMessage.__table__.c.not_before.type),
            literal(now, OutboxMessage.__table__.c.created_at.type),
        ).where(recipients.c.id.is_not(None))  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
        columns = [
            "idempotency_key",
            "kind",
            "category",
            "chat_id",
            "channel",
            "person_id",
            "merchant_id",
            "subject_id",
            "params",
            "status",
            "attempts",
            "not_before",
            "created_at",
        ]
        statement = (
            insert_ignoring_duplicates(self.session, OutboxMessage.__table__)
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        result = await self.session.execute(statement)
        return result.rowcount

    async def progress(self, broadcast_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.kind == BROADCAST_KIND, OutboxMessage.subject_id == broadcast_id)
            .group_by(OutboxMessage.status)
        )
        return {status: count for status, count in rows.all()}

    async def cancel_pending(self, broadcast_id: int) -> int:
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == BROADCAST_KIND,
                OutboxMessage.subject_id == broadcast_id,
                OutboxMessage.status == "pending",
            )
            .values(status="cancelled")
        )
        return result.rowcount

    async def all_running(self) -> Sequence[Broadcast]:
        return (
            await self.session.scalars(
                select(Broadcast).where(Broadcast.status.in_(("running", "cancelling")))
            )
        ).all()

    async def set_status(self, broadcast_id: int, status: str, now: datetime | None = None) -> bool:
        values: dict[str, object] = {"status": status}
        if now is not None:
            values["finished_at"] = now
        result = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status.in_(("running", "cancelling")))
            .values(**values)
        )
        return result.rowcount == 1

    async def set_progress(
        self,
        broadcast_id: int,
        chat_id: int | None = None,
        message_id: int | None = None,
        text: str | None = None,
    ) -> None:
        values: dict[str, object] = {}
        if chat_id is not None:
            values.update(progress_chat_id=chat_id, progress_message_id=message_id)
        if text is not None:
            values["progress_text"] = text
        await self.session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(**values))

    async def claim_progress(self, broadcast_id: int, seen: str | None, new: str) -> bool:
        """Move the progress message from what it shows (``seen``) to ``new``; ``False`` when
        another scheduler process moved it first, so exactly one process sends each edit."""
        shown = Broadcast.progress_text.is_(None) if seen is None else Broadcast.progress_text == seen
        result = await self.session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id, shown).values(progress_text=new)
        )
        return result.rowcount == 1
