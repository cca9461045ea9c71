"""The tally's reads and writes (services/tally.py): what is new since each mark, the probes that say
whether a purchase row is a visit and a first one, and the counts added to their days."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, text, update

from kartu.loyalty.tally import COUNTS, DayCounts
from kartu.storage.models import (
    Card,
    DailyTally,
    LedgerEntry,
    Merchant,
    OutletTally,
    OutletVisit,
    PurchaseRefund,
    Survey,
    TallyMark,
)
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.outbox import insert_ignoring_duplicates

LEDGER, REFUND, RATING = "ledger", "refund", "rating"
CHUNK = 500  # values in one IN (…)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class TallyRepository(Repository):
    async def mark(self, name: str, *, for_update: bool = False) -> tuple[int, datetime | None]:
        """How far ``name`` is counted (the migration wrote every mark, at zero)."""
        row = await self.session.get(TallyMark, name, with_for_update=for_update, populate_existing=True)
        if row is None:
            return 0, None
        return int(row.last_id), row.last_at

    async def committed_end(self, table: str) -> int:
        """The largest id of ``table`` below which every row is committed or never will be. On
        PostgreSQL the table's writers in flight are waited for (SHARE lock, then max(id), in this
        transaction; new writers wait the moment it takes); SQLite has one writer at a time."""
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
        return int(await self.session.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")) or 0)

    async def move_mark(self, name: str, last_id: int, last_at: datetime | None = None) -> None:
        await self.session.execute(
            update(TallyMark).where(TallyMark.name == name).values(last_id=last_id, last_at=last_at)
        )

    async def timezones(self) -> dict[int, str]:
        rows = await self.session.execute(select(Merchant.id, Merchant.timezone))
        return {int(merchant_id): str(timezone) for merchant_id, timezone in rows.all()}

    async def ledger_after(self, last_id: int, limit: int) -> list[Any]:
        """Ledger rows after ``last_id``, oldest first."""
        rows = await self.session.execute(
            select(
                LedgerEntry.id,
                LedgerEntry.merchant_id,
                LedgerEntry.person_id,
                LedgerEntry.asset,
                LedgerEntry.delta,
                LedgerEntry.reason,
                LedgerEntry.origin,
                LedgerEntry.created_at,
                LedgerEntry.outlet_id,
            )
            .where(LedgerEntry.id > last_id)
            .order_by(LedgerEntry.id)
            .limit(limit)
        )
        return list(rows.all())

    async def stamped(self, origins: Iterable[str]) -> set[str]:
        """Which of these purchases wrote a stamp row (their point rows are then not the visit)."""
        found: set[str] = set()
        for chunk in _chunks(sorted(set(origins))):
            rows = await self.session.scalars(
                select(LedgerEntry.origin).where(
                    LedgerEntry.origin.in_(chunk),
                    LedgerEntry.reason == "purchase",
                    LedgerEntry.asset == "stamp",
                )
            )
            found.update(origin for origin in rows if origin is not None)
        return found

    async def first_purchases(
        self, cards: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], tuple[int, str | None]]:
        """Each (shop, customer)'s first purchase row: its id and origin (the purchase it belongs to).
        One shop's customers at a time, by ``person_id IN (…)`` on the card-time index: a seek per
        customer, never a scan."""
        by_shop: dict[int, list[int]] = defaultdict(list)
        for merchant_id, person_id in set(cards):
            by_shop[merchant_id].append(person_id)
        first: dict[tuple[int, int], tuple[int, str | None]] = {}
        for merchant_id, people in by_shop.items():
            for chunk in _chunks(sorted(people)):
                earliest = (
                    select(func.min(LedgerEntry.id))
                    .where(
                        LedgerEntry.merchant_id == merchant_id,
                        LedgerEntry.person_id.in_(chunk),
                        LedgerEntry.reason == "purchase",
                    )
                    .group_by(LedgerEntry.person_id)
                )
                rows = await self.session.execute(
                    select(LedgerEntry.person_id, LedgerEntry.id, LedgerEntry.origin).where(
                        LedgerEntry.id.in_(list(await self.session.scalars(earliest)))
                    )
                )
                for person_id, row_id, origin in rows.all():
                    first[(merchant_id, int(person_id))] = (int(row_id), origin)
        return first

    async def visit_rows(self, origins: Iterable[str]) -> dict[str, Any]:
        """Each purchase's visit row (its stamp row, else its point row), by the purchase's origin."""
        found: dict[str, Any] = {}
        for chunk in _chunks(sorted(set(origins))):
            rows = await self.session.execute(
                select(
                    LedgerEntry.id,
                    LedgerEntry.merchant_id,
                    LedgerEntry.person_id,
                    LedgerEntry.asset,
                    LedgerEntry.origin,
                    LedgerEntry.created_at,
                    LedgerEntry.outlet_id,
                )
                .where(
                    LedgerEntry.origin.in_(chunk),
                    LedgerEntry.reason == "purchase",
                    LedgerEntry.asset.in_(("stamp", "point")),
                )
                .order_by(LedgerEntry.id)
            )
            for row in rows.all():
                kept = found.get(row.origin)
                if kept is None or (kept.asset == "point" and row.asset == "stamp"):
                    found[row.origin] = row
        return found

    async def refunds_after(self, last_id: int, limit: int) -> list[Any]:
        """Refunds after ``last_id`` (id, the purchase's origin), oldest first."""
        rows = await self.session.execute(
            select(PurchaseRefund.id, PurchaseRefund.source)
            .where(PurchaseRefund.id > last_id)
            .order_by(PurchaseRefund.id)
            .limit(limit)
        )
        return list(rows.all())

    async def ratings_after(self, last_at: datetime | None, last_id: int, limit: int) -> list[Any]:
        """Ratings given after (``last_at``, ``last_id``), in the order they came."""
        query = select(Survey.id, Survey.merchant_id, Survey.rating, Survey.rated_at, Survey.outlet_id).where(
            Survey.rated_at.is_not(None), Survey.rating.is_not(None)
        )
        if last_at is not None:
            query = query.where(
                or_(Survey.rated_at > last_at, and_(Survey.rated_at == last_at, Survey.id > last_id))
            )
        rows = await self.session.execute(query.order_by(Survey.rated_at, Survey.id).limit(limit))
        return list(rows.all())

    async def add(self, days: Mapping[tuple[int, date], DayCounts]) -> None:
        """Add counts to their days (a day not counted before starts at zero): one upsert run for
        every day (executemany)."""
        rows = [
            {"merchant_id": merchant_id, "day": day, **counts.values()}
            for (merchant_id, day), counts in days.items()
            if counts
        ]
        if not rows:
            return
        table = DailyTally.__table__
        statement = insert_ignoring_duplicates(self.session, table).values(
            {name: bindparam(name) for name in ("merchant_id", "day", *COUNTS)}
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["merchant_id", "day"],
                set_={name: table.c[name] + statement.excluded[name] for name in COUNTS},
            ),
            rows,
        )

    async def add_outlets(self, days: Mapping[tuple[int, int, date], DayCounts]) -> None:
        """Add counts to outlets' days, as `add` does to the business's."""
        rows = [
            {"merchant_id": merchant_id, "outlet_id": outlet_id, "day": day, **counts.values()}
            for (merchant_id, outlet_id, day), counts in days.items()
            if counts
        ]
        if not rows:
            return
        table = OutletTally.__table__
        statement = insert_ignoring_duplicates(self.session, table).values(
            {name: bindparam(name) for name in ("merchant_id", "outlet_id", "day", *COUNTS)}
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["merchant_id", "outlet_id", "day"],
                set_={name: table.c[name] + statement.excluded[name] for name in COUNTS},
            ),
            rows,
        )

    async def add_outlet_visits(self, changes: Mapping[tuple[int, int, int], int]) -> None:
        """Customers' standing visits per outlet: (shop, customer, outlet) → how many to add."""
        rows = [
            {"merchant_id": merchant_id, "person_id": person_id, "outlet_id": outlet_id, "visits": change}
            for (merchant_id, person_id, outlet_id), change in changes.items()
            if change
        ]
        if not rows:
            return
        table = OutletVisit.__table__
        statement = insert_ignoring_duplicates(self.session, table).values(
            {name: bindparam(name) for name in ("merchant_id", "person_id", "outlet_id", "visits")}
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["merchant_id", "person_id", "outlet_id"],
                set_={"visits": table.c.visits + statement.excluded.visits},
            ),
            rows,
        )

    async def outlet_figures(self, merchant_id: int, since: date | None = None) -> dict[int, DayCounts]:
        """Each outlet's counted days added up (since ``since``, when given)."""
        table = OutletTally.__table__
        query = select(table.c.outlet_id, *(func.sum(table.c[name]) for name in COUNTS)).where(
            table.c.merchant_id == merchant_id
        )
        if since is not None:
            query = query.where(table.c.day >= since)
        rows = await self.session.execute(query.group_by(table.c.outlet_id))
        return {int(row[0]): DayCounts(*(int(value or 0) for value in row[1:])) for row in rows.all()}

    async def outlet_members(self, merchant_id: int) -> tuple[dict[int, int], int]:
        """Members with a standing visit at each outlet, and how many visit more than one."""
        table = OutletVisit.__table__
        rows = await self.session.execute(
            select(table.c.outlet_id, func.count())
            .where(table.c.merchant_id == merchant_id, table.c.visits > 0)
            .group_by(table.c.outlet_id)
        )
        per_outlet = {int(outlet_id): int(count) for outlet_id, count in rows.all()}
        several = (
            select(table.c.person_id)
            .where(table.c.merchant_id == merchant_id, table.c.visits > 0)
            .group_by(table.c.person_id)
            .having(func.count() > 1)
            .subquery()
        )
        return per_outlet, int(await self.session.scalar(select(func.count()).select_from(several)) or 0)

    async def add_visits(self, changes: Mapping[tuple[int, int], int]) -> None:
        """Cards' standing visits: (shop, customer) → how many to add (a refund takes one off); one
        statement run for every card (executemany)."""
        rows = [
            {"shop": merchant_id, "person": person_id, "change": change}
            for (merchant_id, person_id), change in changes.items()
            if change
        ]
        if rows:
            card = Card.__table__
            await self.session.execute(
                update(card)
                .where(card.c.merchant_id == bindparam("shop"), card.c.person_id == bindparam("person"))
                .values(visits=card.c.visits + bindparam("change")),
                rows,
            )

    async def days(self, merchant_id: int, since: date | None = None) -> Sequence[DailyTally]:
        query = select(DailyTally).where(DailyTally.merchant_id == merchant_id)
        if since is not None:
            query = query.where(DailyTally.day >= since)
        return (await self.session.scalars(query.order_by(DailyTally.day))).all()

    async def totals(self, merchant_id: int) -> DayCounts:
        row = (
            await self.session.execute(
                select(*(func.coalesce(func.sum(DailyTally.__table__.c[name]), 0) for name in COUNTS)).where(
                    DailyTally.merchant_id == merchant_id
                )
            )
        ).one()
        return DayCounts(*(int(value) for value in row))

    async def card_counts(
        self, merchant_id: int, week_ago: datetime, month_ago: datetime
    ) -> tuple[int, int, int, int, int]:
        """Members, joined since ``week_ago``, with a purchase since ``month_ago``, with a visit,
        with two or more: five counts on the card's indexes, none reading the cards."""
        shop = Card.merchant_id == merchant_id
        counts = []
        for condition in (
            shop,
            and_(shop, Card.joined_at >= week_ago),
            and_(shop, Card.last_purchase_at >= month_ago),
            and_(shop, Card.visits >= 1),
            and_(shop, Card.visits >= 2),
        ):
            counts.append(
                int(await self.session.scalar(select(func.count()).select_from(Card).where(condition)) or 0)
            )
        return counts[0], counts[1], counts[2], counts[3], counts[4]

    async def forget_everything(self, names: Iterable[str] = (LEDGER, REFUND, RATING)) -> None:
        """Start counting again from nothing (`kartu db retally`)."""
        await self.session.execute(delete(DailyTally))
        await self.session.execute(delete(OutletTally))
        await self.session.execute(delete(OutletVisit))
        await self.session.execute(update(Card).where(Card.visits != 0).values(visits=0))
        await self.session.execute(
            update(TallyMark).where(TallyMark.name.in_(list(names))).values(last_id=0, last_at=None)
        )
