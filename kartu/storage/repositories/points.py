"""Points: batches of earned points, what spends drew from them, and the card's cached balance."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kartu.loyalty import points as rules
from kartu.storage.models import Card, CatalogueItem, LedgerEntry, PointsBatch, PointsDraw, Reward
from kartu.storage.repositories.base import Repository


class PointsRepository(Repository):
    async def add_batch(
        self,
        merchant_id: int,
        person_id: int,
        points: int,
        source: str,
        earned_at: datetime,
        expires_at: datetime | None,
    ) -> int | None:
        """A new batch's id; ``None`` when this source was credited before (nothing is added)."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(PointsBatch)
            .values(
                merchant_id=merchant_id,
                person_id=person_id,
                points=points,
                remaining=points,
                source=source,
                earned_at=earned_at,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=["source"])
            .returning(PointsBatch.id)
        )
        return await self.session.scalar(statement)

    async def live(self, merchant_id: int, person_id: int, now: datetime) -> list[rules.PointsBatch]:
        """The customer's spendable batches here (read after the card's lock)."""
        query = select(PointsBatch).where(
            PointsBatch.merchant_id == merchant_id,
            PointsBatch.person_id == person_id,
            PointsBatch.remaining > 0,
            or_(PointsBatch.expires_at.is_(None), PointsBatch.expires_at > now),
        )
        return [
            rules.PointsBatch(row.id or 0, row.remaining, row.earned_at, row.expires_at)
            for row in (await self.session.scalars(query)).all()
        ]

    async def batch_ids(self, sources: Sequence[str]) -> frozenset[int]:
        """The batches earned under these sources (ledger keys)."""
        if not sources:
            return frozenset()
        found = await self.session.scalars(select(PointsBatch.id).where(PointsBatch.source.in_(sources)))
        return frozenset(int(batch_id) for batch_id in found.all() if batch_id is not None)

    async def lapsed(self, batch_ids: Collection[int]) -> int:
        """Points of these batches the sweep let lapse (their ``expire-points:<id>`` rows)."""
        if not batch_ids:
            return 0
        keys = [f"expire-points:{batch_id}" for batch_id in batch_ids]
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(LedgerEntry.idempotency_key.in_(keys))
        )
        return -int(total or 0)

    async def draw(self, taken: Sequence[tuple[int, int]], reward_id: int | None) -> None:
        """Take points from batches (``(batch id, points)``, as `loyalty.points.take` chose them)."""
        for batch_id, points in taken:
            await self.session.execute(
                update(PointsBatch)
                .where(PointsBatch.id == batch_id, PointsBatch.remaining >= points)
                .values(remaining=PointsBatch.remaining - points)
            )
            self.session.add(PointsDraw(batch_id=batch_id, reward_id=reward_id, points=points))
        await self.session.flush()

    async def give_back(self, reward_id: int, now: datetime) -> int:
        """Return a reward's points to the batches they came from, which keep their expiry; points
        of a batch that lapsed meanwhile stay lapsed. The points returned."""
        query = (
            select(PointsDraw.points, PointsBatch.id)
            .join(PointsBatch, PointsBatch.id == PointsDraw.batch_id)
            .where(
                PointsDraw.reward_id == reward_id,
                or_(PointsBatch.expires_at.is_(None), PointsBatch.expires_at > now),
            )
        )
        returned = 0
        for points, batch_id in (await self.session.execute(query)).all():
            await self.session.execute(
                update(PointsBatch)
                .where(PointsBatch.id == batch_id)
                .values(remaining=PointsBatch.remaining + points)
            )
            returned += points
        return returned

    async def change_balance(self, card_id: int, delta: int, visited_at: datetime | None = None) -> int:
        """Add ``delta`` to the card's cached balance (a purchase also sets the last visit); the
        balance after."""
        values: dict[str, object] = {"points": Card.points + delta}
        if visited_at is not None:
            values["last_purchase_at"] = visited_at
        balance = await self.session.scalar(
            update(Card).where(Card.id == card_id).values(**values).returning(Card.points)
        )
        return int(balance or 0)

    async def due(
        self, merchant_id: int, person_id: int, now: datetime, until: datetime
    ) -> list[rules.PointsBatch]:
        """Live batches lapsing by ``until`` (what a reminder tells)."""
        query = select(PointsBatch).where(
            PointsBatch.merchant_id == merchant_id,
            PointsBatch.person_id == person_id,
            PointsBatch.remaining > 0,
            PointsBatch.expires_at > now,
            PointsBatch.expires_at <= until,
        )
        return [
            rules.PointsBatch(row.id or 0, row.remaining, row.earned_at, row.expires_at)
            for row in (await self.session.scalars(query)).all()
        ]


class CatalogueRepository(Repository):
    async def items(self, merchant_id: int, *, shown_only: bool = False) -> Sequence[CatalogueItem]:
        query = select(CatalogueItem).where(
            CatalogueItem.merchant_id == merchant_id,
            CatalogueItem.deleted_at.is_(None),
        )
        if shown_only:
            query = query.where(CatalogueItem.hidden.is_(False))
        return (await self.session.scalars(query.order_by(CatalogueItem.position, CatalogueItem.id))).all()

    async def get(self, item_id: int, merchant_id: int) -> CatalogueItem | None:
        """The shop's item (another shop's id is as good as none); deleted ones are none."""
        item = await self.session.get(CatalogueItem, item_id)
        if item is None or item.merchant_id != merchant_id or item.deleted_at is not None:
            return None
        return item

    async def add(self, item: CatalogueItem) -> CatalogueItem:
        last = await self.session.scalar(
            select(func.max(CatalogueItem.position)).where(CatalogueItem.merchant_id == item.merchant_id)
        )
        item.position = (last or 0) + 1
        self.session.add(item)
        await self.session.flush()
        return item

    async def save(self, item: CatalogueItem) -> None:
        self.session.add(item)
        await self.session.flush()

    async def by_name(self, merchant_id: int, name: str) -> CatalogueItem | None:
        """A catalogue reward of the shop by its name, in any case (a wheel prize names one)."""
        wanted = " ".join(name.split()).casefold()
        return next((item for item in await self.items(merchant_id) if item.name.casefold() == wanted), None)

    async def in_stock(self, item_id: int) -> bool:
        item = await self.session.get(CatalogueItem, item_id)
        return item is not None and item.deleted_at is None and (item.stock is None or item.stock > 0)

    async def take_one(self, item_id: int) -> bool:
        """One from stock (unlimited stock always has one); ``False`` when none is left."""
        result = await self.session.execute(
            update(CatalogueItem)
            .where(
                CatalogueItem.id == item_id,
                or_(CatalogueItem.stock.is_(None), CatalogueItem.stock > 0),
            )
            .values(stock=CatalogueItem.stock - 1)
        )
        return result.rowcount == 1

    async def put_back(self, item_id: int) -> None:
        await self.session.execute(
            update(CatalogueItem)
            .where(CatalogueItem.id == item_id, CatalogueItem.stock.is_not(None))
            .values(stock=CatalogueItem.stock + 1)
        )

    async def held(self, item_id: int, person_id: int) -> int:
        """How many of this reward the customer took and did not give back."""
        query = select(func.count()).where(
            Reward.catalogue_item_id == item_id,
            Reward.person_id == person_id,
            Reward.returned_at.is_(None),
        )
        return int(await self.session.scalar(query) or 0)
