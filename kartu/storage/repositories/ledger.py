"""The append-only ledger of stamps and rewards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kartu.loyalty.refunds import LedgerLine
from kartu.storage.models import LedgerEntry, PurchaseRefund
from kartu.storage.repositories.base import Repository


class LedgerRepository(Repository):
    async def _where(self, entry: LedgerEntry) -> None:
        """A row that names a purchase (a spin it earned, a partner's voucher, a bonus it paid)
        happened where the purchase did: its outlet, when the row names none (on the origin index)."""
        if entry.outlet_id is None and entry.origin is not None:
            entry.outlet_id = await self.session.scalar(
                select(LedgerEntry.outlet_id)
                .where(LedgerEntry.origin == entry.origin, LedgerEntry.outlet_id.is_not(None))
                .limit(1)
            )

    async def append(self, entry: LedgerEntry) -> LedgerEntry:
        await self._where(entry)
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def append_once(self, entry: LedgerEntry) -> bool:
        """Append unless an entry with this idempotency key exists (``False``: it does, nothing added)."""
        await self._where(entry)
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {column: getattr(entry, column) for column in LedgerEntry.model_fields if column != "id"}
        statement = (
            insert(LedgerEntry)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(LedgerEntry.id)
        )
        return await self.session.scalar(statement) is not None

    async def has(self, idempotency_key: str) -> bool:
        found = await self.session.scalar(
            select(LedgerEntry.id).where(LedgerEntry.idempotency_key == idempotency_key)
        )
        return found is not None

    async def delta_of(self, idempotency_key: str) -> int:
        """The change a row made (0 when there is none)."""
        delta = await self.session.scalar(
            select(LedgerEntry.delta).where(LedgerEntry.idempotency_key == idempotency_key)
        )
        return int(delta or 0)

    async def entries(self, merchant_id: int, person_id: int | None = None) -> Sequence[LedgerEntry]:
        query = select(LedgerEntry).where(LedgerEntry.merchant_id == merchant_id)
        if person_id is not None:
            query = query.where(LedgerEntry.person_id == person_id)
        return (await self.session.scalars(query.order_by(LedgerEntry.id))).all()

    async def balance(self, merchant_id: int, person_id: int, asset: str) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                LedgerEntry.merchant_id == merchant_id,
                LedgerEntry.person_id == person_id,
                LedgerEntry.asset == asset,
            )
        )
        return int(total or 0)

    async def of_origin(self, source: str) -> list[LedgerLine]:
        """Every row the purchase ``source`` set off, at any shop (a partner's voucher is the
        partner's), its refund's rows included, oldest first."""
        rows = (
            await self.session.scalars(
                select(LedgerEntry).where(LedgerEntry.origin == source).order_by(LedgerEntry.id)
            )
        ).all()
        return [
            LedgerLine(
                row.idempotency_key,
                row.asset,
                row.delta,
                row.reward_id,
                row.cause_id,
                row.merchant_id,
                row.person_id,
            )
            for row in rows
        ]

    async def entries_of_origin(self, merchant_id: int, person_id: int, source: str) -> Sequence[LedgerEntry]:
        """The customer's rows at the shop naming the purchase ``source``, oldest first (Why?)."""
        return (
            await self.session.scalars(
                select(LedgerEntry)
                .where(
                    LedgerEntry.origin == source,
                    LedgerEntry.merchant_id == merchant_id,
                    LedgerEntry.person_id == person_id,
                )
                .order_by(LedgerEntry.id)
            )
        ).all()

    async def purchase_row(self, merchant_id: int, source: str) -> LedgerEntry | None:
        """The purchase's own row at its shop (its stamps, else its points)."""
        return await self.session.scalar(
            select(LedgerEntry)
            .where(
                LedgerEntry.merchant_id == merchant_id,
                LedgerEntry.idempotency_key.in_((f"purchase:{source}", f"points:{source}")),
            )
            .order_by(LedgerEntry.id)
            .limit(1)
        )

    async def refund_short(self, source: str, stamps: int) -> None:
        """The stamps the refund of ``source`` could not take back (the card no longer held them)."""
        await self.session.execute(
            update(PurchaseRefund).where(PurchaseRefund.source == source).values(stamps_short=stamps)
        )

    async def mark_refunded(
        self, merchant_id: int, person_id: int, source: str, actor_id: int | None, now: datetime
    ) -> bool:
        """Record the purchase's refund; ``False`` when it was refunded before (one refund each)."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(PurchaseRefund)
            .values(
                merchant_id=merchant_id,
                person_id=person_id,
                source=source,
                actor_person_id=actor_id,
                refunded_at=now,
            )
            .on_conflict_do_nothing(index_elements=["source"])
            .returning(PurchaseRefund.id)
        )
        return await self.session.scalar(statement) is not None
