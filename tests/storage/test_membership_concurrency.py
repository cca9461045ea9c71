"""Payments in Stars under pressure, on SQLite and PostgreSQL: the same successful payment
delivered twenty times at once is recorded once (one payment, one ledger row, one free reward)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text

from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.services.membership import StarsPayment
from kartu.storage.database import Database

OWNER, CUSTOMER = 100, 3000


async def test_one_payment_delivered_twenty_times_is_recorded_once(services: Services, db: Database) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    await services.catalogue.add(OWNER, "Iced Latte", "100")
    await services.membership.set_offer(OWNER, "Gold Club; 100; 1.5; Iced Latte")
    await services.customers.start(TelegramProfile(CUSTOMER, "Nia"), f"m_{created.slug}")
    invoice = await services.membership.invoice(CUSTOMER)
    ends = datetime(2026, 2, 4, tzinfo=UTC)
    await asyncio.gather(
        *(
            services.membership.record_payment(
                CUSTOMER, StarsPayment(invoice.payload, "XTR", 100, "stxOne", ends)
            )
            for _ in range(20)
        ),
        return_exceptions=True,
    )
    async with db.read() as uow:
        payments = await uow.session.scalar(text("SELECT count(*) FROM star_payment"))
        stars = await uow.session.scalar(text("SELECT sum(delta) FROM ledger_entry WHERE asset = 'stars'"))
        rewards = await uow.session.scalar(text("SELECT count(*) FROM reward"))
    assert (payments, stars, rewards) == (1, 100, 1)
    assert (await services.membership.for_customer(CUSTOMER)).member_until == ends
