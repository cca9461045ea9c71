"""Everything Kartu keeps about one person: to hand it to them (/mydata), to close their card
at one shop (/leave), or to erase it (/forget) while the shops' books still add up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from kartu.storage.models import (
    Card,
    ConversationState,
    LedgerEntry,
    Merchant,
    OutboxMessage,
    Person,
    PurchaseClaim,
    Reward,
    StaffMember,
    Survey,
)
from kartu.storage.repositories.base import Repository


def _row(row: Any, *names: str) -> dict[str, Any]:
    return {
        name: (value.isoformat() if isinstance(value := getattr(row, name), datetime) else value)
        for name in names
    }


class PersonalDataRepository(Repository):
    async def export(self, person: Person) -> dict[str, Any]:
        """A plain, JSON-ready record of what is stored about ``person``."""
        shops = {m.id: m.name for m in (await self.session.scalars(select(Merchant))).all()}

        async def rows(model: Any, *names: str, where: Any) -> list[dict[str, Any]]:
            found = (await self.session.scalars(select(model).where(where).order_by(model.id))).all()
            return [{**_row(row, *names), "shop": shops.get(row.merchant_id)} for row in found]

        return {
            "person": _row(
                person,
                "telegram_id",
                "first_name",
                "username",
                "telegram_language",
                "language",
                "personal_code",
                "created_at",
            ),
            "cards": await rows(
                Card,
                "stamps",
                "joined_at",
                "last_purchase_at",
                "promotions_opt_out",
                where=Card.person_id == person.id,
            ),
            "ledger": await rows(
                LedgerEntry,
                "id",
                "created_at",
                "asset",
                "delta",
                "reason",
                where=LedgerEntry.person_id == person.id,
            ),
            "rewards": await rows(
                Reward,
                "code",
                "name",
                "issued_at",
                "expires_at",
                "redeemed_at",
                "expired_at",
                where=Reward.person_id == person.id,
            ),
            "surveys": await rows(
                Survey,
                "created_at",
                "rating",
                "reason",
                "comment",
                "rated_at",
                where=Survey.person_id == person.id,
            ),
            "claims": await rows(
                PurchaseClaim,
                "created_at",
                "amount",
                "status",
                "decided_at",
                where=PurchaseClaim.person_id == person.id,
            ),
            "staff_roles": await rows(
                StaffMember,
                "role",
                "added_at",
                "revoked_at",
                "last_active_at",
                where=StaffMember.person_id == person.id,
            ),
        }

    async def close_card(self, card: Card, now: datetime, reason: str) -> None:
        """End a membership: the ledger records the stamps and open rewards given up (so every
        balance still adds up), open rewards stop working, queued messages from the shop are
        dropped and the card row goes (the shop's member list and exports no longer show it)."""
        common = dict(merchant_id=card.merchant_id, person_id=card.person_id, reason=reason, created_at=now)
        if card.stamps:
            self.session.add(
                LedgerEntry(
                    asset="stamp", delta=-card.stamps, idempotency_key=f"{reason}:{card.id}:stamps", **common
                )
            )
        open_rewards = (
            await self.session.scalars(
                select(Reward).where(
                    Reward.merchant_id == card.merchant_id,
                    Reward.person_id == card.person_id,
                    Reward.redeemed_at.is_(None),
                    Reward.expired_at.is_(None),  # type: ignore[union-attr]
                )
            )
        ).all()
        for reward in open_rewards:
            self.session.add(
                LedgerEntry(
                    asset="reward",
                    delta=-1,
                    reward_id=reward.id,
                    idempotency_key=f"{reason}:{card.id}:reward:{reward.id}",
                    **common,
                )
            )
            reward.expired_at = now
            reward.expires_at = min(reward.expires_at, now)
            self.session.add(reward)
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.person_id == card.person_id,
                OutboxMessage.merchant_id == card.merchant_id,
                OutboxMessage.status == "pending",
            )
            .values(status="skipped", last_error=reason)
        )
        await self.session.delete(card)
        await self.session.flush()

    async def erase(self, person: Person, anonymous_code: str, now: datetime) -> None:
        """Remove what identifies ``person``: names, language, Telegram id (replaced by an id no
        Telegram user has), code, comments, queued messages and open forms. Ledger rows, rewards
        and claims stay, pointing at the now anonymous person, so the shops' books add up."""
        telegram_id = person.telegram_id
        await self.session.execute(update(Survey).where(Survey.person_id == person.id).values(comment=None))
        await self.session.execute(delete(OutboxMessage).where(OutboxMessage.person_id == person.id))
        await self.session.execute(
            delete(ConversationState).where(ConversationState.key.like(f"%:{telegram_id}:%:{telegram_id}:%"))
        )  # type: ignore[attr-defined]
        await self.session.execute(
            update(StaffMember)
            .where(StaffMember.person_id == person.id, StaffMember.revoked_at.is_(None))
            .values(revoked_at=now)  # type: ignore[union-attr]
        )
        person.telegram_id = -int(person.id or 0)  # Telegram user ids are positive: this is nobody
        person.first_name = ""
        person.username = None
        person.telegram_language = None
        person.language = None
        person.personal_code = anonymous_code
        person.current_merchant_id = None
        person.acting_merchant_id = None
        person.forgotten_at = now
        self.session.add(person)
        await self.session.flush()

    async def cards_of(self, person_id: int) -> list[Card]:
        return list(
            (
                await self.session.scalars(select(Card).where(Card.person_id == person_id).order_by(Card.id))
            ).all()
        )
