"""WhatsApp's side of storage: the messages sent (what Meta bills them as) and the service window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from kartu.storage.models import Card, Contact, WhatsAppEvent, WhatsAppMessage
from kartu.storage.repositories.base import Repository


class WhatsAppRepository(Repository):
    async def sent(
        self, message_id: str, now: datetime, merchant_id: int | None, person_id: int | None, category: str
    ) -> None:
        self.session.add(
            WhatsAppMessage(
                id=message_id, merchant_id=merchant_id, person_id=person_id, category=category, sent_at=now
            )
        )
        await self.session.flush()

    async def status(self, message_id: str, status: str, category: str | None, billable: bool | None) -> bool:
        """A status Meta posted for a message sent; ``False`` for one Kartu did not send (or forgot).
        Statuses come unordered: a later one never takes an earlier one's place (read after delivered)."""
        order = ("accepted", "sent", "delivered", "read")
        values: dict[str, object] = {}
        if status == "failed" or status in order:
            values["status"] = status
        if category:
            values["category"] = category[:24]
        if billable is not None:
            values["billable"] = billable
        query = update(WhatsAppMessage).where(WhatsAppMessage.id == message_id)
        if status in order:
            earlier = order[: order.index(status)]
            query = query.where(WhatsAppMessage.status.in_(earlier))
        result = await self.session.execute(query.values(**values))
        if result.rowcount == 0 and (category or billable is not None):
            # the status itself is older than the one kept; what it bills still counts
            billing = {key: value for key, value in values.items() if key != "status"}
            result = await self.session.execute(
                update(WhatsAppMessage).where(WhatsAppMessage.id == message_id).values(**billing)
            )
        return bool(result.rowcount)

    async def month(self, merchant_id: int, since: datetime) -> dict[tuple[str, bool], int]:
        """The shop's messages since ``since``, counted by Meta's category and whether billed."""
        rows = await self.session.execute(
            select(WhatsAppMessage.category, WhatsAppMessage.billable, func.count())
            .where(WhatsAppMessage.merchant_id == merchant_id, WhatsAppMessage.sent_at >= since)
            .group_by(WhatsAppMessage.category, WhatsAppMessage.billable)
        )
        return {(str(category), bool(billable)): int(count) for category, billable, count in rows.all()}

    async def forget_before(self, events: datetime, sent: datetime) -> None:
        """Events Meta can no longer post again (handled: an unhandled one stays for its tries), and
        messages sent before the oldest month the owner sees."""
        await self.session.execute(
            delete(WhatsAppEvent).where(WhatsAppEvent.received_at < events, WhatsAppEvent.payload.is_(None))
        )
        await self.session.execute(delete(WhatsAppMessage).where(WhatsAppMessage.sent_at < sent))

    async def members(self, merchant_id: int) -> int:
        """The shop's members who came by WhatsApp."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Card)
            .join(Contact, Contact.person_id == Card.person_id)
            .where(Card.merchant_id == merchant_id, Contact.channel == "whatsapp")
        )
        return int(count or 0)
