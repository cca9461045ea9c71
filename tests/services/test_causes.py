"""Giving to a cause at the service tier: the owner's setup and payouts, the shop's gift on each
purchase with an amount, customers giving points, stamps and a reward once, the end told once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, Shop, export, open_shop


async def sell(shop: Shop, amount: str) -> None:
    prompt = await shop.services.counter.open_sale(BARISTA, shop.customer_code, amount)
    await shop.services.counter.confirm_sale(BARISTA, prompt.token)


async def cause_rows(services: Services) -> list[tuple[str, int, str]]:
    async with services.counter.db.read() as uow:
        rows = await uow.session.execute(
            text("SELECT asset, delta, reason FROM ledger_entry WHERE cause_id IS NOT NULL ORDER BY id")
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def cause_shop(services: Services) -> Shop:
    shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, stamps=True, points=True)
    await services.causes.start(OWNER, "Rumah Kucing; 100.000; 31-01-2026")
    await services.causes.change(OWNER, "match", "10.000 per 100.000")
    for field, value in (("point_value", "100"), ("stamp_value", "2.000"), ("reward_value", "25rb")):
        await services.causes.change(OWNER, field, value)
    return shop


async def test_bad_lines_and_roles_change_nothing(services: Services) -> None:
    await open_shop(services)
    with pytest.raises(errors.NotOwner):
        await services.causes.start(BARISTA, "Rumah Kucing; 100.000; 31-01-2026")
    for bad in ("Rumah Kucing; 0; 31-01-2026", "Rumah Kucing; 100.000; 01-01-2020", "Rumah Kucing; 100.000"):
        with pytest.raises(errors.InvalidSetting):
            await services.causes.start(OWNER, bad)
    with pytest.raises(errors.NoCause):
        await services.causes.for_customer(CUSTOMER)
    await services.causes.start(OWNER, "Rumah Kucing; 100.000; 31 Jan 2026")
    with pytest.raises(errors.CauseRunning):
        await services.causes.start(OWNER, "Another; 100.000; 31-01-2026")
    with pytest.raises(errors.InvalidSetting):
        await services.causes.change(OWNER, "match", "200.000 per 100.000")  # more than the spend
    with pytest.raises(errors.CauseTakesNot):
        await services.causes.offer(CUSTOMER, "point", "5")  # points are not taken (yet)


async def test_a_sale_gives_the_shops_share_and_says_so(services: Services) -> None:
    shop = await cause_shop(services)
    await sell(shop, "250.000")
    await sell(shop, "90.000")  # under Rp 100.000: nothing
    assert await cause_rows(services) == [("cause", 20_000, "shop_gift")]
    async with services.counter.db.read() as uow:
        params = await uow.session.scalar(
            text("SELECT params FROM outbox_message WHERE kind = 'card_update' ORDER BY id LIMIT 1")
        )
    assert json.loads(params)["gave"] == 20_000
    view = await services.causes.for_customer(CUSTOMER)
    assert (view.cause.raised, view.cause.givers, view.mine) == (20_000, 1, 20_000)


async def test_customers_give_points_stamps_and_a_reward_once(services: Services) -> None:
    shop = await cause_shop(services)
    await sell(shop, "1.000.000")  # 100 points, a stamp, Rp 100.000 from the shop
    offer = await services.causes.offer(CUSTOMER, "point", "30")
    assert offer.rupiah == 3_000
    await services.causes.give(CUSTOMER, offer.token)
    with pytest.raises(errors.PromptClosed):
        await services.causes.give(CUSTOMER, offer.token)  # a second tap
    with pytest.raises(errors.InvalidSetting):
        await services.causes.offer(CUSTOMER, "stamp", "2")  # holds one
    stamp = await services.causes.offer(CUSTOMER, "stamp", "1")
    await services.causes.give(CUSTOMER, stamp.token)
    card = await services.customers.card(CUSTOMER)
    assert (card.points, card.stamps) == (70, 0)
    assert await cause_rows(services) == [
        ("cause", 100_000, "shop_gift"),
        ("point", -30, "donation"),
        ("cause", 3_000, "donation"),
        ("stamp", -1, "donation"),
        ("cause", 2_000, "donation"),
    ]
    other = await services.causes.offer(CUSTOMER, "point", "10")
    await services.causes.cancel(CUSTOMER, other.token)
    with pytest.raises(errors.PromptClosed):
        await services.causes.give(CUSTOMER, other.token)


async def test_the_target_and_the_end_are_told_once_and_payouts_show(
    services: Services, clock: FrozenClock
) -> None:
    shop = await cause_shop(services)
    await sell(shop, "500.000")
    assert (await services.upkeep.sweep()).causes_done == 0
    await sell(shop, "500.000")  # Rp 100.000: the target
    assert (await services.upkeep.sweep()).causes_done == 1
    assert (await services.upkeep.sweep()).causes_done == 0
    await services.causes.record_payout(OWNER, "100.000; 05-01-2026; transfer BCA")
    assert (await services.causes.overview(OWNER)).paid == 100_000
    clock.advance(days=30)  # past 31 January in Jakarta
    assert (await services.upkeep.sweep()).causes_done == 1
    async with services.counter.db.read() as uow:
        told = await uow.session.scalar(text("SELECT count(*) FROM outbox_message WHERE kind = 'cause_done'"))
    assert told == 1  # one message to the one person who gave
    with pytest.raises(errors.NoCause):
        await services.causes.for_customer(CUSTOMER)
    assert (await services.causes.overview(OWNER)).past == 1
    (row,) = (await services.reports.stats(OWNER)).causes
    assert (row.name, row.status, row.pledged, row.paid, row.givers) == (
        "Rumah Kucing",
        "closed",
        100_000,
        100_000,
        1,
    )
    assert (await export(services)).causes == [row]
