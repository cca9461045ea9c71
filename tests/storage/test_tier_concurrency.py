"""Levels under pressure, on SQLite and PostgreSQL: twenty sales racing across two levels move the
card up at most once per level (a level is checked right after each sale's own transaction, so
sales already racing may pass a level together) and never earn a multiplier before the level;
five schedulers reviewing at once warn and move each card down exactly once."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER, BARISTA = 100, 200
FIRST_CUSTOMER = 3000


async def _shop(services: Services, customers: int) -> list[str]:
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)  # 1 point per Rp 10.000
    await services.tiers.set_basis(OWNER, "spend")
    await services.tiers.add(OWNER, "Silver; 100.000")
    await services.tiers.add(OWNER, "Gold; 500.000; 1.5")
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{token}")
    codes = []
    for number in range(customers):
        joined = await services.customers.start(
            TelegramProfile(FIRST_CUSTOMER + number, f"C{number}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    return codes


async def _tier_news(db: Database) -> list[tuple[int, str, str]]:
    async with db.read() as uow:
        rows = await uow.session.execute(
            text("SELECT subject_id, params FROM outbox_message WHERE kind = 'tier_change' ORDER BY id")
        )
        return [(row[0], json.loads(row[1])["move"], json.loads(row[1])["tier"]) for row in rows]


async def test_twenty_racing_sales_move_up_once_per_level(services: Services, db: Database) -> None:
    (code,) = await _shop(services, 1)
    prompts = [await services.counter.open_sale(BARISTA, code, "100.000") for _ in range(20)]
    await asyncio.gather(*(services.counter.confirm_sale(BARISTA, prompt.token) for prompt in prompts))
    moves = [(move, tier) for _, move, tier in await _tier_news(db)]
    assert moves in ([("up", "Silver"), ("up", "Gold")], [("up", "Gold")])
    card = await services.customers.card(FIRST_CUSTOMER)
    # At least the five sales up to Gold's threshold at 1x, the rest at 1x or 1.5x; balance = ledger.
    assert card.tier == "Gold" and 20 * 10 <= card.points <= 5 * 10 + 15 * 15
    async with db.read() as uow:
        ledger = await uow.session.scalar(text("SELECT SUM(delta) FROM ledger_entry WHERE asset = 'point'"))
    assert ledger == card.points
    prompt = await services.counter.open_sale(BARISTA, code, "100.000")
    assert (await services.counter.confirm_sale(BARISTA, prompt.token)).points_added == 15


async def test_five_schedulers_warn_and_move_down_each_card_once(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    codes = await _shop(services, 10)
    for code in codes:
        prompt = await services.counter.open_sale(BARISTA, code, "600.000")
        await services.counter.confirm_sale(BARISTA, prompt.token)
    clock.advance(days=370)
    warned = await asyncio.gather(*(services.upkeep.sweep() for _ in range(5)))
    assert sum(report.levels_changed for report in warned) == 10
    clock.advance(days=31)  # past the default grace period of 30 days
    dropped = await asyncio.gather(*(services.upkeep.sweep() for _ in range(5)))
    assert sum(report.levels_changed for report in dropped) == 10
    news = await _tier_news(db)
    for move in ("warn", "down"):
        cards = [card for card, moved, _ in news if moved == move]
        assert len(cards) == 10 and len(set(cards)) == 10, (move, news)
    for number in range(10):
        assert (await services.customers.card(FIRST_CUSTOMER + number)).tier == ""
