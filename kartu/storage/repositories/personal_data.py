"""Everything Kartu keeps about one person, read from the register (storage/register.py): to hand it
to them (/mydata), to close their card at one shop (/leave), or to erase it (/forget) while the
shops' books still add up. Nothing here names a table's columns: the register does."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, false, or_, select, update
from sqlmodel import SQLModel

from kartu.storage.models import (
    Card,
    Contact,
    ForgottenPerson,
    KartuSecret,
    LedgerEntry,
    Merchant,
    OutboxMessage,
    OutletVisit,
    Person,
    PointsBatch,
    Reward,
    Spin,
)
from kartu.storage.register import REGISTER, Erase, Locator, exported_columns, personal_columns
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.outbox import insert_ignoring_duplicates


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


@dataclass(frozen=True)
class Subject:
    """Who the rows are about: a person as they are before erasure (``telegram_id`` ``None``: rows
    found by a Telegram id are not theirs, as once someone else took it over, or they have none);
    ``whatsapp`` their WhatsApp identity, if any."""

    id: int
    telegram_id: int | None
    code: str
    username: str | None
    whatsapp: str | None = None

    @classmethod
    def of(cls, person: Person, whatsapp: str | None = None) -> Subject:
        return cls(
            person.id or 0,
            person.telegram_id,
            person.personal_code,
            (person.username or "").lower() or None,
            whatsapp,
        )


def rows_about(name: str, subject: Subject) -> ColumnElement[bool]:
    """Which rows of table ``name`` are about ``subject``, as the register says (``false()``: none)."""
    entry, table = REGISTER[name], _table(name)
    found: list[ColumnElement[bool]] = [table.c[column] == subject.id for column in entry.about]
    if entry.through is not None:
        column, parent = entry.through
        found.append(table.c[column].in_(select(_table(parent).c.id).where(rows_about(parent, subject))))
    if entry.locator is not None and entry.located_by is not None:
        located = table.c[entry.located_by]
        match entry.locator:
            case Locator.TELEGRAM_CHAT if subject.telegram_id is not None:
                found.append(located == subject.telegram_id)
            case Locator.TELEGRAM_KEY if subject.telegram_id is not None:  # aiogram's: bot:chat:user:...
                found.append(located.like(f"%:{subject.telegram_id}:%:{subject.telegram_id}:%"))
            case Locator.PERSONAL_CODE:
                found.append(located.contains(subject.code, autoescape=True))
            case Locator.USERNAME if subject.username:
                found.append(located == subject.username)
            case Locator.WHATSAPP_SENDER if subject.whatsapp:
                found.append(located == subject.whatsapp)
    return or_(*found) if found else false()


class PersonalDataRepository(Repository):
    async def subject(self, person: Person) -> Subject:
        whatsapp = await self.session.scalar(
            select(Contact.address).where(Contact.person_id == person.id, Contact.channel == "whatsapp")
        )
        return Subject.of(person, whatsapp)

    async def export(self, person: Person) -> dict[str, Any]:
        """A plain, JSON-ready record of what is stored about ``person``: every table the register
        knows, the rows about them, their personal and pseudonymous columns."""
        shops = {m.id: m.name for m in (await self.session.scalars(select(Merchant))).all()}
        subject = await self.subject(person)
        record: dict[str, Any] = {}
        for name, entry in REGISTER.items():
            columns = exported_columns(name)
            if not columns:
                continue
            table = _table(name)
            order = list(table.primary_key.columns)
            rows = (
                await self.session.execute(select(table).where(rows_about(name, subject)).order_by(*order))
            ).all()
            items = []
            for row in rows:
                item = {column: _plain(row._mapping[column]) for column in columns}
                for shop_column in ("merchant_id", "from_merchant_id"):
                    if shop_column in table.c:
                        item["shop"] = shops.get(row._mapping[shop_column])
                items.append(item)
            if name == "person":
                record[entry.title] = items[0] if items else {}
            elif items:
                record[entry.title] = items
        return record

    async def close_card(self, card: Card, now: datetime, reason: str) -> None:
        """End a membership: the ledger records the stamps, points, spins and open rewards given up
        (so every balance still adds up), open rewards stop working, queued messages from the shop are
        dropped and the card row goes (the shop's member list and exports no longer show it).
        The rows are keyed by the card's holder and a token of this closing, never by the card's id
        (a database may give a deleted row's id to the next card) nor by a time (leaving, coming
        back and leaving again may happen within one tick of the clock)."""
        common = dict(merchant_id=card.merchant_id, person_id=card.person_id, reason=reason, created_at=now)
        tag = f"{reason}:{card.merchant_id}:{card.person_id}:{secrets.token_hex(8)}"
        if card.stamps:
            self.session.add(
                LedgerEntry(asset="stamp", delta=-card.stamps, idempotency_key=f"{tag}:stamps", **common)
            )
        if card.points:  # and the batches they came in, so coming back starts from nothing
            self.session.add(
                LedgerEntry(asset="point", delta=-card.points, idempotency_key=f"{tag}:points", **common)
            )
        await self.session.execute(
            update(PointsBatch)
            .where(
                PointsBatch.merchant_id == card.merchant_id,
                PointsBatch.person_id == card.person_id,
                PointsBatch.remaining > 0,
            )
            .values(remaining=0, expired_at=now)
        )
        ready = (
            await self.session.scalars(
                select(Spin).where(
                    Spin.merchant_id == card.merchant_id,
                    Spin.person_id == card.person_id,
                    Spin.status == "ready",
                )
            )
        ).all()
        for spin in ready:
            self.session.add(
                LedgerEntry(asset="spin", delta=-1, idempotency_key=f"{tag}:spin:{spin.source}", **common)
            )
            spin.status = "expired"
            self.session.add(spin)
        open_rewards = (
            await self.session.scalars(
                select(Reward).where(
                    Reward.merchant_id == card.merchant_id,
                    Reward.person_id == card.person_id,
                    Reward.redeemed_at.is_(None),
                    Reward.expired_at.is_(None),
                )
            )
        ).all()
        for reward in open_rewards:
            self.session.add(
                LedgerEntry(
                    asset="reward",
                    delta=-1,
                    reward_id=reward.id,
                    idempotency_key=f"{tag}:reward:{reward.id}",
                    **common,
                )
            )
            reward.expired_at = now
            reward.expires_at = min(reward.expires_at, now)
            self.session.add(reward)
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.person_id == card.person_id,
                OutboxMessage.merchant_id == card.merchant_id,
                OutboxMessage.status == "pending",
            )
            .values(status="skipped", last_error=reason)
        )
        # The card's visits per outlet go with it, as its own visits do: the outlets' member counts
        # stay those of the cards (coming back starts from nothing there too).
        await self.session.execute(
            delete(OutletVisit).where(
                OutletVisit.merchant_id == card.merchant_id, OutletVisit.person_id == card.person_id
            )
        )
        await self.session.delete(card)
        await self.session.flush()

    async def erase(self, person: Person, anonymous_code: str, now: datetime) -> None:
        """Erase every personal column the register names, in every row about ``person``: names,
        languages, birthday, the Telegram id (replaced by an id no Telegram user has), the code,
        comments and notes, queued messages, open forms, answers kept for tills, events waiting for
        the shop's systems. What is pseudonymous stays, pointing at the now anonymous person, so the
        shops' books add up."""
        subject = await self.subject(person)
        for name in REGISTER:
            if name == "person":
                continue
            await self._erase_rows(name, subject)
        values: dict[str, Any] = {}
        for column, rule in personal_columns("person").items():
            match rule.erase:
                case Erase.NOBODY:
                    values[column] = -subject.id  # Telegram user ids are positive: this is nobody
                case Erase.ANONYMOUS_CODE:
                    values[column] = anonymous_code
                case Erase.BLANK:
                    values[column] = ""
                case Erase.NULL:
                    values[column] = None
        for column, value in values.items():
            setattr(person, column, value)
        person.forgotten_at = now
        self.session.add(person)
        await self.session.flush()

    async def _erase_rows(self, name: str, subject: Subject) -> None:
        rules = personal_columns(name)
        if not rules:
            return
        table, about = _table(name), rows_about(name, subject)
        if any(rule.erase is Erase.DELETE_ROW for rule in rules.values()):
            await self.session.execute(delete(table).where(about))
            return
        values: dict[str, Any] = {}
        for column, rule in rules.items():
            match rule.erase:
                case Erase.NULL:
                    values[column] = None
                case Erase.BLANK:
                    values[column] = ""
                case Erase.REDACT:
                    await self._redact(table, column, about)
        if values:
            await self.session.execute(update(table).where(about).values(**values))

    async def _redact(self, table: Table, column: str, about: ColumnElement[bool]) -> None:
        """A stored event keeps its shape; the customer in it becomes nobody."""
        key = list(table.primary_key.columns)[0]
        rows = (await self.session.execute(select(key, table.c[column]).where(about))).all()
        for row_id, payload in rows:
            try:
                document = json.loads(payload)
            except (TypeError, ValueError):
                document = {}
            data = document.get("data") if isinstance(document, dict) else None
            if isinstance(data, dict):
                data["customer"] = {"code": None, "first_name": None, "erased": True}
            await self.session.execute(
                update(table)
                .where(key == row_id)
                .values({column: json.dumps(document, separators=(",", ":"))})
            )

    async def remember_forgotten(
        self, merchant_ids: Sequence[int], digests: dict[int, str], now: datetime
    ) -> None:
        """Keep a keyed hash of the person per shop (for bonus eligibility only)."""
        for merchant_id in merchant_ids:
            if await self.was_forgotten(merchant_id, digests[merchant_id]):
                continue
            self.session.add(
                ForgottenPerson(merchant_id=merchant_id, digest=digests[merchant_id], forgotten_at=now)
            )
        await self.session.flush()

    async def was_forgotten(self, merchant_id: int, digest: str) -> bool:
        found = await self.session.scalar(
            select(ForgottenPerson.id).where(
                ForgottenPerson.merchant_id == merchant_id, ForgottenPerson.digest == digest
            )
        )
        return found is not None

    async def server_secret(self, name: str, make: Callable[[], str], now: datetime) -> str:
        """The server's own secret ``name``, made once (the first process to need it writes it)."""
        value = await self.session.scalar(select(KartuSecret.value).where(KartuSecret.name == name))
        if value is None:  # two processes (or transactions) at once: the first write stands
            await self.session.execute(
                insert_ignoring_duplicates(self.session, KartuSecret)
                .values(name=name, value=make(), created_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            value = await self.session.scalar(select(KartuSecret.value).where(KartuSecret.name == name))
        assert value is not None
        return str(value)

    async def shops_of(self, person_id: int) -> list[int]:
        """Every shop the person ever had a card or a ledger row at."""
        ledger = select(LedgerEntry.merchant_id).where(LedgerEntry.person_id == person_id)
        cards = select(Card.merchant_id).where(Card.person_id == person_id)
        found = (await self.session.scalars(ledger.union(cards))).all()
        return sorted({int(merchant_id) for merchant_id in found})

    async def cards_of(self, person_id: int) -> list[Card]:
        return list(
            (
                await self.session.scalars(select(Card).where(Card.person_id == person_id).order_by(Card.id))
            ).all()
        )
