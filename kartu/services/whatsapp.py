"""WhatsApp's bookkeeping: its webhook events journaled once by id (storage/journal.py), the
service window and consent of a person there, the messages sent and what Meta bills them as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kartu.loyalty.channels import Channel
from kartu.loyalty.messaging import Reach, reach
from kartu.services.base import ServiceBase
from kartu.storage import channels, journal
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Contactable:
    """Where a message to a person on WhatsApp goes, and whether it may go now."""

    address: str
    reach: Reach
    language: str


@dataclass(frozen=True)
class MonthOnWhatsApp:
    members: int
    messages: dict[str, int]  # by Meta's category ("service" is free)
    billable: int
    waiting: int  # messages that need a template (outside the 24-hour window)


class WhatsAppService(ServiceBase):
    async def journal(self, events: list[tuple[str, str | None, str]]) -> list[str]:
        """Record webhook events (id, sender, JSON) before Meta is told they arrived; the ids new
        here (one posted again is not handled again)."""
        if not self.db.has_driver:  # an in-memory database (unit tests): nothing survives anyway
            return [key for key, _, _ in events]
        async with self.db.driver(transaction=False) as tx:
            return await journal.record(tx, events, self.clock.now(), journal.WHATSAPP)

    async def handled(self, event_id: str) -> None:
        if self.db.has_driver:
            async with self.db.driver(transaction=False) as tx:
                await journal.done(tx, event_id, self.clock.now(), journal=journal.WHATSAPP)

    async def abandoned(self) -> tuple[list[tuple[str, str]], list[str]]:
        """Events a stopped process journaled and never handled, taken now; those given up."""
        if not self.db.has_driver:
            return [], []
        lease = timedelta(seconds=self.settings.update_lease_seconds)
        async with self.db.driver(transaction=False) as tx:
            given_up = await journal.give_up(tx, self.clock.now(), lease, journal.WHATSAPP)
            taken = await journal.take_abandoned(tx, self.clock.now(), lease, journal.WHATSAPP)
        return [(str(key), payload) for key, payload in taken], [str(key) for key in given_up]

    async def contactable(self, person_id: int) -> Contactable | None:
        """The person's WhatsApp identity and whether a message may go to them now."""
        async with self.db.read() as uow:
            person = await uow.people.get(person_id)
            contact = await uow.people.contact(person_id, Channel.WHATSAPP)
            if person is None or contact is None:
                return None
            return Contactable(
                contact.address,
                reach(contact.consent_at, contact.last_inbound_at, self.clock.now()),
                self.language_of(person),
            )

    async def sent(self, message_id: str, person_id: int | None, merchant_id: int | None) -> None:
        """A message went out inside the window: Meta bills it as a service message (free)."""
        if self.db.has_driver:
            async with self.db.driver(transaction=False) as tx:
                await channels.sent(tx, message_id, merchant_id, person_id, self.clock.now())
            return
        async with self.db.write() as uow:
            await uow.whatsapp.sent(message_id, self.clock.now(), merchant_id, person_id, "service")

    async def status(self, message_id: str, status: str, category: str | None, billable: bool | None) -> bool:
        async with self.db.write() as uow:
            return await uow.whatsapp.status(message_id, status, category, billable)


async def month_on_whatsapp(uow: UnitOfWork, merchant_id: int, since: datetime) -> MonthOnWhatsApp:
    """The shop's WhatsApp since ``since``: members who came by it, messages by Meta's category,
    how many of them Meta bills, and how many wait for a template."""
    counted = await uow.whatsapp.month(merchant_id, since)
    members = await uow.whatsapp.members(merchant_id)
    waiting = await uow.outbox.waiting_for_template(merchant_id)
    messages: dict[str, int] = {}
    for (category, _), count in counted.items():
        messages[category] = messages.get(category, 0) + count
    billable = sum(count for (_, billed), count in counted.items() if billed)
    return MonthOnWhatsApp(members, messages, billable, waiting)
