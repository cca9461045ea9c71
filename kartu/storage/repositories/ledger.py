"""The append-only ledger of stamps and rewards."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kartu.loyalty.refunds import LedgerLine, ledger_keys, numbered_prefixes
from kartu.storage.models import LedgerEntry
from kartu.storage.repositories.base import Repository


class LedgerRepository(Repository):
    async def append(self, entry: LedgerEntry) -> LedgerEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def append_once(self, entry: LedgerEntry) -> bool:
        """Append unless an entry with this idempotency key exists (``False``: it does, nothing added)."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {column: getattr(entry, column) for column in LedgerEntry.model_fields if column != "id"}
        statement = (
            insert(LedgerEntry)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(LedgerEntry.id)  # type: ignore[arg-type]
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

    async def of_purchase(self, merchant_id: int, source: str) -> tuple[int, list[LedgerLine]] | None:
        """A purchase's own rows at this shop (whose card, and the rows), ``None`` when it has none."""
        query = select(LedgerEntry).where(
            LedgerEntry.merchant_id == merchant_id,
            or_(
                LedgerEntry.idempotency_key.in_(ledger_keys(source)),  # type: ignore[attr-defined]
                *(
                    LedgerEntry.idempotency_key.startswith(prefix, autoescape=True)  # type: ignore[attr-defined]
                    for prefix in numbered_prefixes(source)
                ),
            ),
        )
        rows = (await self.session.scalars(query.order_by(LedgerEntry.id))).all()
        if not rows:
            return None
        lines = [
            LedgerLine(row.idempotency_key, row.asset, row.delta, row.reward_id, row.cause_id) for row in rows
        ]
        return rows[0].person_id, lines
