"""API keys of points of sale, and the idempotency keys of their requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kartu.storage.models import ApiCall, ApiKey
from kartu.storage.repositories.base import Repository


class ApiKeyRepository(Repository):
    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def get(self, key_id: int) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))

    async def of_merchant(self, merchant_id: int) -> Sequence[ApiKey]:
        query = select(ApiKey).where(ApiKey.merchant_id == merchant_id, ApiKey.revoked_at.is_(None))
        return (await self.session.scalars(query.order_by(ApiKey.id))).all()

    async def revoke(self, key_id: int, merchant_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.merchant_id == merchant_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    async def used(self, key_id: int, now: datetime) -> None:
        await self.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))

    async def claim_call(
        self, api_key_id: int, idempotency_key: str, body_hash: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Take an idempotency key for this request; ``False`` when it was taken before (read it)."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(ApiCall)
            .values(
                api_key_id=api_key_id,
                idempotency_key=idempotency_key,
                body_hash=body_hash,
                status=0,
                response="",
                created_at=now,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=["api_key_id", "idempotency_key"])
            .returning(ApiCall.id)
        )
        return await self.session.scalar(statement) is not None

    async def call(self, api_key_id: int, idempotency_key: str) -> ApiCall | None:
        return await self.session.scalar(
            select(ApiCall)
            .where(ApiCall.api_key_id == api_key_id, ApiCall.idempotency_key == idempotency_key)
            .execution_options(populate_existing=True)
        )

    async def answer_call(self, api_key_id: int, idempotency_key: str, status: int, response: str) -> None:
        await self.session.execute(
            update(ApiCall)
            .where(ApiCall.api_key_id == api_key_id, ApiCall.idempotency_key == idempotency_key)
            .values(status=status, response=response)
        )

    async def forget_expired(self, now: datetime) -> None:
        await self.session.execute(delete(ApiCall).where(ApiCall.expires_at <= now))
