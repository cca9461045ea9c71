"""Causes under pressure, on SQLite and PostgreSQL: fifty taps on one gift give once; twenty gifts
racing for the same points never give more than the customer holds; five schedulers closing a
cause tell each giver once."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER, BARISTA, FIRST = 100, 200, 3000


async def _shop(services: Services, customers: int) -> list[str]:
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    await services.causes.start(OWNER, "Rumah Kucing; 100.000.000; 31-01-2026")
    await services.causes.change(OWNER, "match", "1.000 per 10.000")
    await services.causes.change(OWNER, "point_value", "100")
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{token}")
    codes = []
    for number in range(customers):
        joined = await services.customers.start(
            TelegramProfile(FIRST + number, f"C{number}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    return codes


async def _sum(db: Database, where: str) -> int:
    async with db.read() as uow:
        return int(
            await uow.session.scalar(text(f"SELECT coalesce(sum(delta), 0) FROM ledger_entry WHERE {where}"))
        )


async def test_fifty_taps_on_one_gift_give_once(services: Services, db: Database) -> None:
    (code,) = await _shop(services, 1)
    prompt = await services.counter.open_sale(BARISTA, code, "1.000.000")  # 100 points
    await services.counter.confirm_sale(BARISTA, prompt.token)
    offer = await services.causes.offer(FIRST, "point", "40")
    results = await asyncio.gather(
        *(services.causes.give(FIRST, offer.token) for _ in range(50)), return_exceptions=True
    )
    assert sum(1 for result in results if not isinstance(result, BaseException)) == 1
    assert await _sum(db, "asset = 'cause' AND reason = 'donation'") == 4_000
    assert (await services.customers.card(FIRST)).points == 60 == await _sum(db, "asset = 'point'")


async def test_twenty_gifts_racing_for_the_same_points(services: Services, db: Database) -> None:
    (code,) = await _shop(services, 1)
    prompt = await services.counter.open_sale(BARISTA, code, "1.000.000")  # 100 points
    await services.counter.confirm_sale(BARISTA, prompt.token)
    offers = [await services.causes.offer(FIRST, "point", "30") for _ in range(20)]
    results = await asyncio.gather(
        *(services.causes.give(FIRST, offer.token) for offer in offers), return_exceptions=True
    )
    assert sum(1 for result in results if not isinstance(result, BaseException)) == 3  # 90 of 100
    card = await services.customers.card(FIRST)
    assert card.points == 10 == await _sum(db, "asset = 'point'")
    assert await _sum(db, "asset = 'cause' AND reason = 'donation'") == 9_000


async def test_five_schedulers_tell_each_giver_once(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    codes = await _shop(services, 10)
    prompts = [await services.counter.open_sale(BARISTA, code, "50.000") for code in codes]
    await asyncio.gather(*(services.counter.confirm_sale(BARISTA, prompt.token) for prompt in prompts))
    assert await _sum(db, "asset = 'cause'") == 10 * 5_000
    clock.advance(days=30)
    reports = await asyncio.gather(*(services.upkeep.sweep() for _ in range(5)))
    assert sum(report.causes_done for report in reports) == 1
    async with db.read() as uow:
        told = await uow.session.scalar(text("SELECT count(*) FROM outbox_message WHERE kind = 'cause_done'"))
    assert told == 10
