"""Partner vouchers under pressure, on SQLite and PostgreSQL: twenty customers buying at once
never get more vouchers than the partnership's monthly cap."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.services.partners import Proposal
from kartu.storage.database import Database

OWNER, BARISTA, JEWELLER, FIRST = 100, 200, 110, 3000


async def test_twenty_purchases_at_once_keep_the_monthly_cap(services: Services, db: Database) -> None:
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    partner = await services.merchants.create_merchant("Toko Emas", JEWELLER)
    view = await services.partners.propose(
        OWNER, Proposal(partner.slug, "over 100.000", "10% off; 50.000", "30 days; 5 a month")
    )
    await services.partners.decide(JEWELLER, view.partnerships[0].partnership_id, accept=True)
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{token}")
    codes = []
    for number in range(20):
        joined = await services.customers.start(
            TelegramProfile(FIRST + number, f"C{number}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    prompts = [await services.counter.open_sale(BARISTA, code, "200.000") for code in codes]
    await asyncio.gather(*(services.counter.confirm_sale(BARISTA, prompt.token) for prompt in prompts))
    async with db.read() as uow:
        vouchers = await uow.session.scalar(
            text("SELECT count(*) FROM reward WHERE partnership_id IS NOT NULL")
        )
        rows = await uow.session.scalar(text("SELECT count(*) FROM ledger_entry WHERE reason = 'partner'"))
    assert (vouchers, rows) == (5, 5)
