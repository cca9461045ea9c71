"""Read-only queries behind /stats and /export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from kartu.storage.models import Card, LedgerEntry, Outlet, Person, PurchaseRefund, Reward
from kartu.storage.repositories.base import Repository


def is_visit() -> ColumnElement[bool]:
    """A ledger row that stands for one purchase: its stamps, or its points when no stamp row was
    written with them (a shop running both writes both for one purchase, under keys
    ``purchase:<source>`` and ``points:<source>``)."""
    twin = aliased(LedgerEntry)
    source = func.substr(LedgerEntry.idempotency_key, len("points:") + 1)
    return and_(
        LedgerEntry.reason == "purchase",
        or_(
            LedgerEntry.asset != "point",
            ~exists().where(twin.idempotency_key == literal("purchase:") + source),
        ),
        not_refunded(),
    )


def not_refunded() -> ColumnElement[bool]:
    """A row whose purchase (its ``origin``) was not refunded."""
    return ~exists().where(PurchaseRefund.source == LedgerEntry.origin)


class ReportRepository(Repository):
    async def catalogue_counts(self, merchant_id: int) -> tuple[int, int]:
        """Catalogue rewards taken (not given back) and redeemed."""
        row = (
            await self.session.execute(
                select(func.count(Reward.id), func.count(Reward.redeemed_at)).where(
                    Reward.merchant_id == merchant_id,
                    Reward.catalogue_item_id.is_not(None),
                    Reward.returned_at.is_(None),
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def ledger(
        self,
        merchant_id: int,
        after_id: int = 0,
        since: datetime | None = None,
        limit: int | None = None,
        up_to: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """Ledger entries with the customer's code and name, the actor's name and the outlet's code
        and name (where it happened), oldest first:
        all of them, or a page after ``after_id`` (and from ``since``, up to entry ``up_to``)."""
        actor = aliased(Person)
        query = (
            select(
                LedgerEntry.id,
                LedgerEntry.created_at,
                Person.personal_code,
                Person.first_name,
                LedgerEntry.asset,
                LedgerEntry.delta,
                LedgerEntry.reason,
                func.coalesce(actor.first_name, ""),
                LedgerEntry.note,
                Outlet.slug,
                Outlet.name,
            )
            .join(Person, Person.id == LedgerEntry.person_id)
            .outerjoin(actor, actor.id == LedgerEntry.actor_person_id)
            .outerjoin(Outlet, Outlet.id == LedgerEntry.outlet_id)
            .where(LedgerEntry.merchant_id == merchant_id, LedgerEntry.id > after_id)
            .order_by(LedgerEntry.id)
        )
        if since is not None:
            query = query.where(LedgerEntry.created_at >= since)
        if up_to is not None:
            query = query.where(LedgerEntry.id <= up_to)
        if limit is not None:
            query = query.limit(limit)
        return [tuple(row) for row in (await self.session.execute(query)).all()]

    async def members_page(
        self, merchant_id: int, after_card_id: int, since: datetime | None, limit: int
    ) -> list[tuple[Any, ...]]:
        """A page of members (card id, code, first name, joined, stamps, points, last visit), by card."""
        query = (
            select(
                Card.id,
                Person.personal_code,
                Person.first_name,
                Card.joined_at,
                Card.stamps,
                Card.points,
                Card.last_purchase_at,
            )
            .join(Person, Person.id == Card.person_id)
            .where(Card.merchant_id == merchant_id, Card.id > after_card_id)
            .order_by(Card.id)
            .limit(limit)
        )
        if since is not None:
            query = query.where(Card.joined_at >= since)
        return [tuple(row) for row in (await self.session.execute(query)).all()]
