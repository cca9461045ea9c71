"""The wheel: a shop's prizes, spins earned and spun, and how many of each prize went today and
this month (the budgets)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kartu.storage.models import Spin, WheelPrize
from kartu.storage.repositories.base import Repository

READY, SPUN, EXPIRED, REFUNDED = "ready", "spun", "expired", "refunded"


class WheelRepository(Repository):
    async def prizes(self, merchant_id: int, *, lock: bool = False) -> Sequence[WheelPrize]:
        query = (
            select(WheelPrize)
            .where(WheelPrize.merchant_id == merchant_id, WheelPrize.deleted_at.is_(None))
            .order_by(WheelPrize.position, WheelPrize.id)
        )
        if lock:  # spins at one shop draw one at a time: budgets hold
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(query)).all()

    async def prize(self, prize_id: int, merchant_id: int) -> WheelPrize | None:
        prize = await self.session.get(WheelPrize, prize_id)
        if prize is None or prize.merchant_id != merchant_id or prize.deleted_at is not None:
            return None
        return prize

    async def save_prize(self, prize: WheelPrize) -> WheelPrize:
        self.session.add(prize)
        await self.session.flush()
        return prize

    async def spent(
        self, merchant_id: int, day_start: datetime, month_start: datetime
    ) -> dict[int, tuple[int, int]]:
        """Prizes won since the shop's midnight and since the first of its month: id -> (today, month)."""
        today = func.sum(case((Spin.spun_at >= day_start, 1), else_=0))
        rows = await self.session.execute(
            select(Spin.prize_id, func.count(), today)
            .where(
                Spin.merchant_id == merchant_id,
                Spin.prize_id.is_not(None),
                Spin.spun_at >= month_start,
            )
            .group_by(Spin.prize_id)
        )
        return {int(prize_id): (int(day or 0), int(month)) for prize_id, month, day in rows.all()}

    async def add_spin(self, spin: Spin) -> int | None:
        """A new spin's id; ``None`` when this purchase earned one before."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {column: getattr(spin, column) for column in Spin.model_fields if column != "id"}
        statement = (
            insert(Spin).values(**values).on_conflict_do_nothing(index_elements=["source"]).returning(Spin.id)
        )
        found = await self.session.scalar(statement)
        return int(found) if found is not None else None

    async def ready(
        self, merchant_id: int, person_id: int, now: datetime, *, lock: bool = False
    ) -> Sequence[Spin]:
        query = (
            select(Spin)
            .where(
                Spin.merchant_id == merchant_id,
                Spin.person_id == person_id,
                Spin.status == READY,
                Spin.expires_at > now,
            )
            .order_by(Spin.expires_at, Spin.id)
        )
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(query)).all()

    async def spin(self, spin_id: int) -> Spin | None:
        return await self.session.get(Spin, spin_id)

    async def prize_row(self, prize_id: int) -> WheelPrize | None:
        return await self.session.get(WheelPrize, prize_id)

    async def mark_spun(self, spin_id: int, prize_id: int | None, outcome: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(Spin)
            .where(Spin.id == spin_id, Spin.status == READY)
            .values(status=SPUN, prize_id=prize_id, outcome=outcome, spun_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def void(self, source: str) -> int | None:
        """The ready spin of ``source`` taken back by its purchase's refund: its id; ``None`` when
        it was spun or lapsed meanwhile."""
        spin_id = await self.session.scalar(
            update(Spin)
            .where(Spin.source == source, Spin.status == READY)
            .values(status=REFUNDED)
            .returning(Spin.id)
            .execution_options(synchronize_session=False)
        )
        return int(spin_id) if spin_id is not None else None

    async def lapse(self, merchant_id: int, now: datetime) -> Sequence[tuple[int, int, str]]:
        """Ready spins past their expiry, marked expired: (spin id, person id, source)."""
        due = (
            await self.session.execute(
                select(Spin.id, Spin.person_id, Spin.source).where(
                    Spin.merchant_id == merchant_id,
                    Spin.status == READY,
                    Spin.expires_at <= now,
                )
            )
        ).all()
        if due:
            await self.session.execute(
                update(Spin)
                .where(Spin.id.in_([row[0] for row in due]), Spin.status == READY)
                .values(status=EXPIRED)
                .execution_options(synchronize_session=False)
            )
        return [(int(row[0]), int(row[1]), str(row[2])) for row in due]

    async def counts(self, merchant_id: int) -> tuple[int, int, int]:
        """Spins earned, spun and lapsed at the shop."""
        rows: dict[str, int] = dict(
            (
                await self.session.execute(
                    select(Spin.status, func.count())
                    .where(Spin.merchant_id == merchant_id)
                    .group_by(Spin.status)
                )
            ).all()
        )
        return sum(int(count) for count in rows.values()), int(rows.get(SPUN, 0)), int(rows.get(EXPIRED, 0))

    async def won(self, merchant_id: int) -> list[tuple[str, int, str, int]]:
        """What the wheel gave, per prize: (kind, amount, label, times), for presenters to name in
        the reader's language (a spin's stored outcome is the prize's label as it was)."""
        rows = await self.session.execute(
            select(WheelPrize.kind, WheelPrize.amount, WheelPrize.label, func.count())
            .select_from(Spin)
            .join(WheelPrize, WheelPrize.id == Spin.prize_id)
            .where(Spin.merchant_id == merchant_id)
            .group_by(WheelPrize.id, WheelPrize.kind, WheelPrize.amount, WheelPrize.label)
            .order_by(WheelPrize.id)
        )
        return [(str(kind), int(amount), str(label), int(count)) for kind, amount, label, count in rows.all()]
