"""The wheel under pressure, on SQLite and PostgreSQL: fifty customers spinning at once never win
more than a prize's budget; one customer tapping Spin twenty times at once spins once."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER, BARISTA, FIRST = 100, 200, 3000


async def _shop(services: Services, customers: int) -> list[str]:
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    await services.wheel.add_prize(OWNER, "1 stamp; 100%; 10/day; 12/month")
    await services.wheel.set_rule(OWNER, "every")
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{token}")
    codes = []
    for number in range(customers):
        joined = await services.customers.start(
            TelegramProfile(FIRST + number, f"C{number}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    for code in codes:
        prompt = await services.counter.open_purchase(BARISTA, code)
        await services.counter.confirm_purchase(BARISTA, prompt.token)
    return codes


async def test_fifty_spins_at_once_keep_the_budget(services: Services, db: Database) -> None:
    await _shop(services, 50)
    outcomes = await asyncio.gather(*(services.wheel.spin(FIRST + number) for number in range(50)))
    assert sum(1 for outcome in outcomes if outcome.prize is not None) == 10  # the day's budget
    async with db.read() as uow:
        stamps = await uow.session.scalar(text("SELECT count(*) FROM ledger_entry WHERE reason = 'spin'"))
        spun = await uow.session.scalar(text("SELECT count(*) FROM spin WHERE status = 'spun'"))
    assert (stamps, spun) == (10, 50)


async def test_twenty_taps_on_spin_spin_once(services: Services, db: Database) -> None:
    await _shop(services, 1)
    results = await asyncio.gather(*(services.wheel.spin(FIRST) for _ in range(20)), return_exceptions=True)
    assert sum(1 for result in results if not isinstance(result, BaseException)) == 1
    async with db.read() as uow:
        used = await uow.session.scalar(text("SELECT count(*) FROM ledger_entry WHERE reason = 'spun'"))
    assert used == 1
