"""The outbox: enqueue proactive messages, claim them for delivery, record what happened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kartu.storage import courier
from kartu.storage.driver import SessionTransaction
from kartu.storage.models import OutboxMessage, Person
from kartu.storage.repositories.base import Repository

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
# Due on WhatsApp outside the person's 24-hour window: it needs a template, and waits for their
# next message (which opens the window again) or the owner's paid templates (a later step).
NEEDS_TEMPLATE = "template"
UNKNOWN_OUTCOME = "its dispatcher stopped while sending it: not sent again, so no one gets it twice"


def insert_ignoring_duplicates(session: AsyncSession, table: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


class OutboxRepository(Repository):
    async def enqueue(self, **message: Any) -> bool:
        """Queue one message (`courier.enqueue`'s arguments); ``False`` when a message with this
        key was queued before."""
        return await courier.enqueue(SessionTransaction(self.session), **message) is not None

    async def claim(self, worker: str, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Take up to ``limit`` due messages for this worker. Two dispatchers never take the same row:
        PostgreSQL skips rows another transaction holds; SQLite serialises writers."""
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now)
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(
                status=SENDING,
                claimed_by=worker,
                claimed_at=now,
                sending_at=None,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        rows = (await self.session.scalars(statement)).all()
        return sorted(rows, key=lambda row: (row.not_before, row.id))

    async def claim_keys(self, worker: str, now: datetime, keys: Sequence[str]) -> Sequence[OutboxMessage]:
        """Take the pending messages with these keys, in the given order."""
        if not keys:
            return []
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key.in_(keys), OutboxMessage.status == PENDING)
            .values(status=SENDING, claimed_by=worker, claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        rows = {row.idempotency_key: row for row in (await self.session.scalars(statement)).all()}
        return [rows[key] for key in keys if key in rows]

    async def release_stale_claims(self, now: datetime, lease: timedelta) -> int:
        """Messages claimed by a dispatcher that died go back to the queue, but a promotion it had
        begun sending: Telegram may have delivered it, and a promotion goes out at most once."""
        stale = (OutboxMessage.status == SENDING, OutboxMessage.claimed_at < now - lease)
        await self.session.execute(
            update(OutboxMessage)
            .where(*stale, OutboxMessage.sending_at.is_not(None), OutboxMessage.category == "promo")
            .values(status=SKIPPED, last_error=UNKNOWN_OUTCOME)
        )
        result = await self.session.execute(
            update(OutboxMessage).where(*stale).values(status=PENDING, claimed_by=None, sending_at=None)
        )
        return result.rowcount

    async def sending(self, message_id: int, now: datetime) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(sending_at=now)
        )

    async def finish(self, message_id: int, status: str, now: datetime, error: str | None = None) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status=status, sent_at=now if status == SENT else None, last_error=error and error[:500])
        )

    async def waiting_for_template(self, merchant_id: int) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                OutboxMessage.merchant_id == merchant_id, OutboxMessage.status == NEEDS_TEMPLATE
            )
        )
        return int(count or 0)

    async def release_waiting(self, person_id: int, now: datetime, keep_since: datetime) -> int:
        """The person wrote on WhatsApp: what waited for a template goes out now, if it came after
        ``keep_since`` (older news is dropped: a week-old reminder is no news)."""
        waiting = (OutboxMessage.person_id == person_id, OutboxMessage.status == NEEDS_TEMPLATE)
        await self.session.execute(
            update(OutboxMessage)
            .where(*waiting, OutboxMessage.created_at < keep_since)
            .values(status=SKIPPED, last_error="waited too long for the customer's window")
        )
        released = await self.session.execute(
            update(OutboxMessage)
            .where(*waiting)
            .values(status=PENDING, not_before=now, claimed_by=None, last_error=None)
        )
        return int(released.rowcount)

    async def retry_later(
        self, message_id: int, not_before: datetime, error: str | None, count_attempt: bool = True
    ) -> None:
        values: dict[str, Any] = {
            "status": PENDING,
            "not_before": not_before,
            "claimed_by": None,
            "last_error": error and error[:500],
        }
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
        )

    async def drop_promotions_for(
        self, person_id: int, now: datetime, reason: str, merchant_id: int | None = None
    ) -> int:
        """Cancel what is still queued for a person who blocked the bot (everything but alerts),
        or only one shop's promotions when they opted out of that shop."""
        where = [OutboxMessage.person_id == person_id, OutboxMessage.status == PENDING]
        if merchant_id is None:
            where.append(OutboxMessage.category != "alert")
        else:
            where += [OutboxMessage.merchant_id == merchant_id, OutboxMessage.category == "promo"]
        result = await self.session.execute(
            update(OutboxMessage).where(*where).values(status=SKIPPED, last_error=reason, sent_at=None)
        )
        return result.rowcount

    async def hurry(self, kind: str, subject_id: int, now: datetime) -> None:
        """Make queued messages about ``subject_id`` due now (a comment arrived: alert at once)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == kind,
                OutboxMessage.subject_id == subject_id,
                OutboxMessage.status == PENDING,
            )
            .values(not_before=now)
        )

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: count for status, count in rows.all()}

    async def messages(self, kind: str | None = None) -> Sequence[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return (await self.session.scalars(query)).all()

    async def last_of_kind(self, kind: str, merchant_id: int, person_id: int) -> datetime | None:
        return await self.session.scalar(
            select(func.max(OutboxMessage.created_at)).where(
                and_(
                    OutboxMessage.kind == kind,
                    OutboxMessage.merchant_id == merchant_id,
                    OutboxMessage.person_id == person_id,
                )
            )
        )

    async def mark_unreachable(self, telegram_id: int, now: datetime) -> int | None:
        """Flag the person behind a chat that refuses messages; returns their id."""
        person_id = await self.session.scalar(select(Person.id).where(Person.telegram_id == telegram_id))
        if person_id is not None:
            await self.session.execute(
                update(Person).where(Person.id == person_id).values(unreachable_at=now)
            )
        return person_id
