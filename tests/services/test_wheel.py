"""The wheel at the service tier: owners' prizes and odds, what earns a spin, a spin's prize written
once, budgets falling back, spins lapsing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, Shop, open_shop


async def ledger(services: Services, asset: str) -> list[tuple[int, str]]:
    async with services.counter.db.read() as uow:
        rows = await uow.session.execute(
            text("SELECT delta, reason FROM ledger_entry WHERE asset = :asset ORDER BY id"), {"asset": asset}
        )
        return [(row[0], row[1]) for row in rows]


async def test_owners_set_prizes_and_bad_lines_change_nothing(services: Services, shop: Shop) -> None:
    with pytest.raises(errors.NotOwner):
        await services.wheel.add_prize(BARISTA, "2 stamps; 25%")
    view = await services.wheel.add_prize(OWNER, "2 stamps; 60%; 1/day")
    with pytest.raises(errors.InvalidSetting):
        await services.wheel.add_prize(OWNER, "1 stamp; 41%")  # over 100% in all
    with pytest.raises(errors.InvalidSetting):
        await services.wheel.add_prize(OWNER, "Unknown Cake; 5%")  # not in the catalogue
    with pytest.raises(errors.InvalidSetting):
        await services.wheel.add_prize(OWNER, "50 points; 5%")  # the shop runs no points
    assert [(prize.kind, prize.amount, prize.odds) for prize in view.prizes] == [("stamps", 2, 6000)]
    assert view.rest == 4000
    with pytest.raises(errors.InvalidSetting):
        await services.wheel.set_rule(OWNER, "sometimes")


async def test_every_second_purchase_earns_a_spin_and_a_spin_pays_once(
    services: Services, shop: Shop
) -> None:
    await services.wheel.add_prize(OWNER, "2 stamps; 100%; 1/day")
    await services.wheel.set_rule(OWNER, "every 2")
    await shop.purchase()
    assert (await services.wheel.for_customer(CUSTOMER)).ready == 0
    await shop.purchase()
    assert (await services.wheel.for_customer(CUSTOMER)).ready == 1
    outcome = await services.wheel.spin(CUSTOMER)
    assert outcome.prize is not None and outcome.prize.amount == 2 and outcome.left == 0
    with pytest.raises(errors.PromptClosed):
        await services.wheel.spin(CUSTOMER)  # a second tap: no spin left
    assert (await services.customers.card(CUSTOMER)).stamps == 4
    assert await ledger(services, "spin") == [(1, "earned"), (-1, "spun")]
    # The day's budget (one) is spent: the next spin today falls back to nothing.
    await shop.purchase(2)
    await shop.purchase(2)
    assert (await services.wheel.spin(CUSTOMER)).prize is None
    stats = await services.reports.stats(OWNER)
    assert stats.spins == (2, 2, 0) and stats.won == (("stamps", 2, "2 stamps", 1),)


async def test_spins_lapse_after_their_days(services: Services, shop: Shop, clock: FrozenClock) -> None:
    await services.wheel.add_prize(OWNER, "1 stamp; 50%")
    await services.wheel.set_rule(OWNER, "every")
    await services.wheel.set_valid_days(OWNER, "3")
    await shop.purchase()
    clock.advance(days=4)
    assert (await services.upkeep.sweep()).spins_lapsed == 1
    assert (await services.upkeep.sweep()).spins_lapsed == 0
    with pytest.raises(errors.PromptClosed):
        await services.wheel.spin(CUSTOMER)
    assert await ledger(services, "spin") == [(1, "earned"), (-1, "expired")]


async def test_a_sale_over_the_amount_earns_a_spin_that_can_win_a_catalogue_reward(
    services: Services,
) -> None:
    shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    await services.catalogue.add(OWNER, "Iced Latte", "100")
    await services.wheel.add_prize(OWNER, "iced latte; 100%")
    await services.wheel.set_rule(OWNER, "over 100rb")
    for amount in ("99.000", "100.000"):
        prompt = await services.counter.open_sale(BARISTA, shop.customer_code, amount)
        result = await services.counter.confirm_sale(BARISTA, prompt.token)
    assert any(key.startswith("spin-earned:") for key in result.news)
    outcome = await services.wheel.spin(CUSTOMER)
    assert outcome.prize is not None and outcome.prize.label == "Iced Latte"
    assert [reward.name for reward in await services.customers.rewards(CUSTOMER)] == ["Iced Latte"]
