"""Bonuses under pressure, on SQLite and PostgreSQL: several schedulers sweeping birthdays and
referrals at once, a join link tapped many times. Each bonus lands exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text

from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER, BARISTA = 100, 200
FIRST = 3000


async def _shop(services: Services) -> str:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    for field, value in (("welcome_bonus", "5"), ("birthday_bonus", "7"), ("referral_bonus", "11")):
        await services.merchants.change_program(OWNER, field, value)
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{token}")
    return created.slug


async def _bonus_rows(db: Database, reason: str) -> list[tuple[int, int]]:
    async with db.read() as uow:
        rows = await uow.session.execute(
            text("SELECT person_id, delta FROM ledger_entry WHERE reason = :reason ORDER BY person_id"),
            {"reason": reason},
        )
        return [(row[0], row[1]) for row in rows]


async def test_twenty_taps_on_a_join_link_welcome_once(services: Services, db: Database) -> None:
    slug = await _shop(services)
    await asyncio.gather(
        *(services.customers.start(TelegramProfile(FIRST, "Ayu"), f"m_{slug}") for _ in range(20)),
        return_exceptions=True,
    )
    assert [delta for _, delta in await _bonus_rows(db, "welcome")] == [5]


async def test_five_schedulers_give_each_birthday_once(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    slug = await _shop(services)
    for number in range(20):
        await services.customers.start(TelegramProfile(FIRST + number, f"C{number}"), f"m_{slug}")
        await services.bonuses.set_birthday(FIRST + number, "17-08")
    clock.set(datetime(2026, 8, 17, 3, tzinfo=UTC))
    reports = await asyncio.gather(*(services.upkeep.sweep() for _ in range(5)))
    assert sum(report.bonuses_given for report in reports) == 20
    rows = await _bonus_rows(db, "birthday")
    assert len(rows) == 20 and {delta for _, delta in rows} == {7}
    async with db.read() as uow:
        told = await uow.session.scalar(text("SELECT count(*) FROM outbox_message WHERE kind = 'bonus'"))
    assert told == 20


async def test_a_referral_confirmed_twice_and_swept_by_five_schedulers_pays_once(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    slug = await _shop(services)
    await services.customers.start(TelegramProfile(FIRST, "Ayu"), f"m_{slug}")
    token = (await services.bonuses.invitation(FIRST)).token
    joined = await services.customers.start(TelegramProfile(FIRST + 1, "Dewi"), f"r_{token}")
    assert joined.joined is not None
    friend_code = joined.joined.card.personal_code
    for amount in ("50.000", "60.000"):  # two purchases: the first one pays, once
        prompt = await services.counter.open_sale(BARISTA, friend_code, amount)
        await asyncio.gather(
            *(services.counter.confirm_sale(BARISTA, prompt.token) for _ in range(10)), return_exceptions=True
        )
    clock.advance(days=7)  # the return window: the purchase stood
    reports = await asyncio.gather(*(services.upkeep.sweep() for _ in range(5)))
    assert sum(report.bonuses_given for report in reports) == 1
    assert sorted(delta for _, delta in await _bonus_rows(db, "referral")) == [11, 11]
