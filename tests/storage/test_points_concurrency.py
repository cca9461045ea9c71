"""Points under pressure, on SQLite and PostgreSQL: racing confirmations, the last reward in stock,
double taps, several schedulers sweeping at once. Each change lands exactly once, and every card's
cached balance equals its ledger."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER, BARISTA, SECOND_BARISTA = 100, 200, 201
FIRST_CUSTOMER = 3000


async def _points_shop(services: Services, customers: int = 1) -> list[str]:
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    for staff_id in (BARISTA, SECOND_BARISTA):
        token = await services.merchants.invite_staff(OWNER)
        await services.customers.start(TelegramProfile(staff_id, f"Staff {staff_id}"), f"staff_{token}")
    codes = []
    for number in range(customers):
        joined = await services.customers.start(
            TelegramProfile(FIRST_CUSTOMER + number, f"Customer {number}", None, "id"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    return codes


async def _balances_match_ledger(db: Database) -> dict[int, int]:
    """Every card's cached points against its ledger and its live batches."""
    async with db.read() as uow:
        rows = (
            await uow.session.execute(
                text(
                    "SELECT c.person_id, c.points, "
                    "(SELECT coalesce(sum(l.delta), 0) FROM ledger_entry l WHERE l.merchant_id = c.merchant_id "
                    "AND l.person_id = c.person_id AND l.asset = 'point') AS ledger, "
                    "(SELECT coalesce(sum(b.remaining), 0) FROM points_batch b WHERE b.merchant_id = c.merchant_id "
                    "AND b.person_id = c.person_id) AS batches FROM card c"
                )
            )
        ).all()
    for person_id, points, ledger, batches in rows:
        assert points == ledger == batches, (person_id, points, ledger, batches)
    return {person_id: points for person_id, points, _, _ in rows}


async def test_fifty_taps_on_one_sale_credit_once(services: Services, db: Database) -> None:
    (code,) = await _points_shop(services)
    prompt = await services.counter.open_sale(BARISTA, code, "125.000")
    tappers = [BARISTA if n % 2 else SECOND_BARISTA for n in range(50)]
    results = await asyncio.gather(
        *(services.counter.confirm_sale(staff, prompt.token) for staff in tappers), return_exceptions=True
    )
    assert len([r for r in results if not isinstance(r, BaseException)]) == 1
    assert len([r for r in results if isinstance(r, errors.PromptClosed)]) == 49
    assert list((await _balances_match_ledger(db)).values()) == [12]


async def test_fifty_sales_for_one_customer_at_once_all_count(services: Services, db: Database) -> None:
    (code,) = await _points_shop(services)
    prompts = [await services.counter.open_sale(BARISTA, code, f"{10_000 * (n + 1)}") for n in range(50)]
    results = await asyncio.gather(
        *(services.counter.confirm_sale(BARISTA, p.token) for p in prompts), return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    assert max((await _balances_match_ledger(db)).values()) == sum(range(1, 51))


async def test_the_last_reward_in_stock_goes_to_one_customer(services: Services, db: Database) -> None:
    codes = await _points_shop(services, customers=20)
    item = await services.catalogue.add(OWNER, "Signed mug", "10")
    await services.catalogue.change(OWNER, item.item_id, "stock", "1")
    offers = []
    for number, code in enumerate(codes):
        prompt = await services.counter.open_sale(BARISTA, code, "100.000")
        await services.counter.confirm_sale(BARISTA, prompt.token)
        offers.append(
            (FIRST_CUSTOMER + number, await services.points.offer(FIRST_CUSTOMER + number, item.item_id))
        )

    results = await asyncio.gather(
        *(services.points.exchange(customer, offer.token) for customer, offer in offers),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    sold_out = [r for r in results if isinstance(r, errors.RewardUnavailable) and r.sold_out]
    assert len(winners) == 1 and len(sold_out) == 19, results
    balances = await _balances_match_ledger(db)
    assert sorted(balances.values()) == [0] + [10] * 19
    assert (await services.catalogue.item(OWNER, item.item_id)).stock == 0


async def test_fifty_taps_on_one_exchange_spend_once(services: Services, db: Database) -> None:
    (code,) = await _points_shop(services)
    item = await services.catalogue.add(OWNER, "Cookie", "3")
    prompt = await services.counter.open_sale(BARISTA, code, "100.000")
    await services.counter.confirm_sale(BARISTA, prompt.token)
    offer = await services.points.offer(FIRST_CUSTOMER, item.item_id)
    results = await asyncio.gather(
        *(services.points.exchange(FIRST_CUSTOMER, offer.token) for _ in range(50)), return_exceptions=True
    )
    assert len([r for r in results if not isinstance(r, BaseException)]) == 1
    assert len([r for r in results if isinstance(r, errors.PromptClosed)]) == 49
    assert max((await _balances_match_ledger(db)).values()) == 7
    assert len(await services.customers.rewards(FIRST_CUSTOMER)) == 1


async def test_twenty_give_backs_at_once_return_the_points_once(services: Services, db: Database) -> None:
    (code,) = await _points_shop(services)
    item = await services.catalogue.add(OWNER, "Cookie", "3")
    prompt = await services.counter.open_sale(BARISTA, code, "100.000")
    await services.counter.confirm_sale(BARISTA, prompt.token)
    await services.points.exchange(
        FIRST_CUSTOMER, (await services.points.offer(FIRST_CUSTOMER, item.item_id)).token
    )
    async with db.read() as uow:
        reward_id = await uow.session.scalar(text("SELECT id FROM reward"))
    results = await asyncio.gather(
        *(services.points.give_back(FIRST_CUSTOMER, reward_id) for _ in range(20)), return_exceptions=True
    )
    assert len([r for r in results if not isinstance(r, BaseException)]) == 1
    assert len([r for r in results if isinstance(r, errors.ReturnClosed)]) == 19
    assert max((await _balances_match_ledger(db)).values()) == 10


async def test_several_schedulers_sweeping_at_once_expire_each_batch_once(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    codes = await _points_shop(services, customers=10)
    for code in codes:
        for amount in ("50.000", "70.000"):
            prompt = await services.counter.open_sale(BARISTA, code, amount)
            await services.counter.confirm_sale(BARISTA, prompt.token)
    clock.advance(days=400)
    reports = await asyncio.gather(*(services.upkeep.sweep() for _ in range(5)))
    assert sum(report.point_batches_expired for report in reports) == 20
    assert set((await _balances_match_ledger(db)).values()) == {0}
    async with db.read() as uow:
        expired = await uow.session.scalar(
            text("SELECT count(*) FROM ledger_entry WHERE asset = 'point' AND reason = 'expired'")
        )
    assert expired == 20
