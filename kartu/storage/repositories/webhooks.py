"""Webhook endpoints of a shop and the deliveries of its events (written by storage/webhooks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import aliased

from kartu.storage.models import WebhookDelivery, WebhookEndpoint
from kartu.storage.repositories.base import Repository

LEASE = timedelta(minutes=2)  # a delivery claimed this long ago by a process that died is due again


class WebhookRepository(Repository):
    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint

    async def of_merchant(self, merchant_id: int) -> Sequence[WebhookEndpoint]:
        query = select(WebhookEndpoint).where(
            WebhookEndpoint.merchant_id == merchant_id, WebhookEndpoint.status != "deleted"
        )
        return (await self.session.scalars(query.order_by(WebhookEndpoint.id))).all()

    async def get(self, endpoint_id: int, merchant_id: int | None = None) -> WebhookEndpoint | None:
        endpoint = await self.session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or endpoint.status == "deleted":
            return None
        return endpoint if merchant_id is None or endpoint.merchant_id == merchant_id else None

    async def save(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(endpoint)
        await self.session.flush()

    async def wants(self, merchant_id: int, kind: str) -> bool:
        return any(kind in endpoint.events.split(",") for endpoint in await self.of_merchant(merchant_id))

    async def backlog(self, endpoint_id: int) -> int:
        waiting = await self.session.scalar(
            select(func.count()).where(
                WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending"
            )
        )
        return int(waiting or 0)

    async def any_open(self) -> bool:
        """Whether a delivery waits or is being sent (one indexed read: most runs find none)."""
        found = await self.session.scalar(
            select(WebhookDelivery.id).where(WebhookDelivery.status.in_(("pending", "sending"))).limit(1)
        )
        return found is not None

    # -- delivering ---------------------------------------------------------------------------------

    async def claim(self, now: datetime, limit: int) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
        """Up to ``limit`` deliveries due now to active endpoints, each the oldest one still open for
        its endpoint and customer (a customer's events arrive in order), marked as being sent."""
        earlier = aliased(WebhookDelivery)
        due = (
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookEndpoint.status == "active",
                (
                    and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                    | and_(WebhookDelivery.status == "sending", WebhookDelivery.claimed_at < now - LEASE)
                ),
                ~exists().where(
                    earlier.endpoint_id == WebhookDelivery.endpoint_id,
                    earlier.person_id == WebhookDelivery.person_id,
                    earlier.id < WebhookDelivery.id,
                    earlier.status.in_(("pending", "sending")),
                ),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            due = due.with_for_update(of=WebhookDelivery, skip_locked=True)
        ids = list((await self.session.scalars(due)).all())
        if not ids:
            return []
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(status="sending", claimed_at=now)
        )
        rows = await self.session.execute(
            select(WebhookDelivery, WebhookEndpoint)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.id)
            .execution_options(populate_existing=True)
        )
        return [(delivery, endpoint) for delivery, endpoint in rows.all()]

    async def delivered(
        self, delivery_ids: Sequence[int], endpoint_ids: Sequence[int], now: datetime
    ) -> None:
        """Deliveries their endpoints took (2xx); those endpoints work again."""
        if delivery_ids:
            await self.session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(delivery_ids))
                .values(
                    status="delivered",
                    delivered_at=now,
                    attempts=WebhookDelivery.attempts + 1,
                    last_error=None,
                )
            )
        if endpoint_ids:
            await self.session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id.in_(endpoint_ids))
                .values(failing_since=None, last_success_at=now, last_error=None)
            )

    async def attempt_failed(
        self, delivery_id: int, retry_at: datetime | None, error: str, now: datetime
    ) -> None:
        """Try again at ``retry_at``; ``None``: given up (failed)."""
        values: dict[str, object] = {"attempts": WebhookDelivery.attempts + 1, "last_error": error[:200]}
        if retry_at is None:
            values.update(status="failed")
        else:
            values.update(status="pending", next_attempt_at=retry_at)
        await self.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values)
        )

    async def endpoint_failing(self, endpoint_id: int, error: str, now: datetime) -> WebhookEndpoint | None:
        """Note the endpoint's failure (its first since it last worked starts the clock); the endpoint."""
        endpoint = await self.session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        if endpoint is None:
            return None
        endpoint.last_error = error[:200]
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        await self.save(endpoint)
        return endpoint

    async def give_up_stale(self, now: datetime, older_than: datetime) -> list[int]:
        """Deliveries of events older than ``older_than`` still open (their endpoint paused, say):
        failed. The endpoints they were for."""
        rows = await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.created_at < older_than)
            .values(status="failed", last_error="gave up after three days")
            .returning(WebhookDelivery.endpoint_id)
        )
        return sorted({row[0] for row in rows.all()})

    async def resume(self, endpoint_id: int, now: datetime) -> None:
        """An endpoint the owner resumed: active, its open deliveries due now."""
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(status="active", failing_since=None)
        )
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
            .values(next_attempt_at=now)
        )
