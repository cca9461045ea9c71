"""People: customers, staff and owners alike, by Telegram id, code or username."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update

from kartu.loyalty.channels import Caller
from kartu.storage.models import Card, ChannelLink, Contact, Person
from kartu.storage.repositories.base import Repository


class PersonRepository(Repository):
    async def get(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        return await self.session.scalar(select(Person).where(Person.telegram_id == telegram_id))

    async def by_caller(self, caller: Caller) -> Person | None:
        """The person writing: by Telegram id, or by their identity on another messenger."""
        if isinstance(caller, int):
            return await self.by_telegram_id(caller)
        return await self.session.scalar(
            select(Person)
            .join(Contact, Contact.person_id == Person.id)
            .where(Contact.channel == caller.channel, Contact.address == caller.address)
        )

    async def contact(self, person_id: int, channel: str) -> Contact | None:
        return await self.session.scalar(
            select(Contact).where(Contact.person_id == person_id, Contact.channel == channel)
        )

    async def by_contact(self, channel: str, address: str) -> Contact | None:
        return await self.session.scalar(
            select(Contact).where(Contact.channel == channel, Contact.address == address)
        )

    async def save_contact(self, contact: Contact) -> None:
        self.session.add(contact)
        await self.session.flush()

    async def drop_contact(self, contact: Contact) -> None:
        await self.session.delete(contact)
        await self.session.flush()

    async def add_link(self, link: ChannelLink) -> None:
        self.session.add(link)
        await self.session.flush()

    async def use_link(self, code_hash: str, now: datetime) -> ChannelLink | None:
        """Take an unused, unexpired link code (once: a second use finds nothing)."""
        link = await self.session.scalar(
            select(ChannelLink).where(
                ChannelLink.code_hash == code_hash,
                ChannelLink.used_at.is_(None),
                ChannelLink.expires_at > now,
            )
        )
        if link is None:
            return None
        taken = await self.session.execute(
            update(ChannelLink)
            .where(ChannelLink.id == link.id, ChannelLink.used_at.is_(None))
            .values(used_at=now)
        )
        return link if taken.rowcount else None

    async def by_code(self, personal_code: str) -> Person | None:
        return await self.session.scalar(select(Person).where(Person.personal_code == personal_code))

    async def member_of(
        self, merchant_id: int, personal_code: str | None = None, telegram_id: int | None = None
    ) -> Person | None:
        """The shop's customer by their code or Telegram id, in one statement: someone of another
        shop is looked for with the same work as someone unknown (their answers take as long)."""
        query = select(Person).join(Card, Card.person_id == Person.id).where(Card.merchant_id == merchant_id)
        if personal_code is not None:
            query = query.where(Person.personal_code == personal_code)
        else:
            query = query.where(Person.telegram_id == telegram_id)
        return await self.session.scalar(query)

    async def by_username(self, username: str) -> Person | None:
        """Someone who wrote to the bot with this @username (Telegram usernames ignore case)."""
        return await self.session.scalar(
            select(Person)
            .where(func.lower(Person.username) == username.lower())
            .order_by(Person.id.desc())
            .limit(1)
        )

    async def add_with_unique_code(self, make_person: Callable[[], Person]) -> Person:
        """A new person; if a concurrent update registered the same Telegram user first, that one."""
        return await self._insert_unique(
            make_person, lambda person: self.by_telegram_id(person.telegram_id or 0)
        )

    async def save(self, person: Person) -> None:
        self.session.add(person)
        await self.session.flush()

    async def mark_reachable(self, person_id: int) -> None:
        await self.session.execute(update(Person).where(Person.id == person_id).values(unreachable_at=None))
