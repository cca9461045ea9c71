"""Points at the service tier: earning on amounts, the catalogue, giving back, changes by hand, expiry."""

from __future__ import annotations

import pytest

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from kartu.services.reports import PointsStats
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, Shop, export, open_shop


async def points_shop(services: Services, *, stamps: bool = False) -> Shop:
    shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, stamps=stamps, points=True)
    return shop


async def ledger(services: Services) -> list[tuple[str, int, str]]:
    async with services.counter.db.read() as uow:
        customer = await uow.people.by_telegram_id(CUSTOMER)
        assert customer is not None
        return [
            (entry.asset, entry.delta, entry.reason) for entry in await uow.ledger.entries(1, customer.id)
        ]


async def sell(shop: Shop, amount: str, staff: int = BARISTA) -> int:
    prompt = await shop.services.counter.open_sale(staff, shop.customer_code, amount)
    result = await shop.services.counter.confirm_sale(staff, prompt.token)
    return result.points_added


async def test_a_code_in_a_points_shop_asks_for_the_amount(services: Services) -> None:
    shop = await points_shop(services)
    with pytest.raises(errors.AmountNeeded) as asked:
        await services.counter.open_code(BARISTA, shop.customer_code)
    assert asked.value.customer_first_name == "Ayu"

    prompt = await services.counter.open_sale(BARISTA, shop.customer_code, "Rp125.000")
    assert (prompt.amount, prompt.points, prompt.balance, prompt.stamps_to_add) == (125_000, 12, 0, 0)
    result = await services.counter.confirm_sale(BARISTA, prompt.token)
    assert result.points_added == 12 and result.card.points == 12
    assert await ledger(services) == [("point", 12, "purchase")]
    card = await services.customers.card(CUSTOMER)
    assert card.points == 12 and not card.runs_stamps

    with pytest.raises(errors.PromptClosed):  # a second tap credits nothing
        await services.counter.confirm_sale(BARISTA, prompt.token)
    assert (await services.customers.card(CUSTOMER)).points == 12


async def test_a_shop_running_both_adds_a_stamp_and_points_on_one_confirm(services: Services) -> None:
    shop = await points_shop(services, stamps=True)
    prompt = await services.counter.open_sale(BARISTA, shop.customer_code, "55rb")
    assert (prompt.points, prompt.stamps_to_add) == (5, 1)
    result = await services.counter.confirm_sale(BARISTA, prompt.token)
    assert (result.stamps_added, result.points_added, result.card.points, result.card.stamps) == (1, 5, 5, 1)
    assert sorted(await ledger(services)) == [("point", 5, "purchase"), ("stamp", 1, "purchase")]
    assert len(result.taken) == 1  # one news message tells both


@pytest.mark.parametrize("typed", ["-5000", "0", "abc", "1,5", "Rp 100.000.001", "12.34.56", ""])
async def test_bad_amounts_change_nothing(services: Services, typed: str) -> None:
    shop = await points_shop(services)
    with pytest.raises(errors.InvalidSaleAmount):
        await services.counter.open_sale(BARISTA, shop.customer_code, typed)
    assert await ledger(services) == []


async def test_an_amount_under_a_point_is_refused_before_confirm(services: Services) -> None:
    shop = await points_shop(services)
    with pytest.raises(errors.BelowMinimumSpend):
        await services.counter.open_sale(BARISTA, shop.customer_code, "9.999")


async def test_the_owner_limit_on_amounts(services: Services) -> None:
    shop = await points_shop(services)
    await services.merchants.change_program(OWNER, "max_amount", "1jt")
    with pytest.raises(errors.InvalidSaleAmount) as refused:
        await services.counter.open_sale(BARISTA, shop.customer_code, "1.000.001")
    assert refused.value.maximum == 1_000_000
    assert await sell(shop, "1.000.000") == 100


async def test_catalogue_exchange_and_give_back(services: Services, clock: FrozenClock) -> None:
    shop = await points_shop(services)
    item = await services.catalogue.add(OWNER, "Iced Latte", "20")
    await services.catalogue.change(OWNER, item.item_id, "stock", "1")
    await sell(shop, "150.000")  # 15 points
    view = await services.points.catalogue(CUSTOMER)
    assert view.balance == 15 and not view.entries[0].affordable
    with pytest.raises(errors.NotEnoughPoints):
        await services.points.offer(CUSTOMER, item.item_id)

    await sell(shop, "100.000")  # 25
    offer = await services.points.offer(CUSTOMER, item.item_id)
    result = await services.points.exchange(CUSTOMER, offer.token)
    assert (result.price, result.balance) == (20, 5)
    with pytest.raises(errors.PromptClosed):
        await services.points.exchange(CUSTOMER, offer.token)
    assert (await services.catalogue.item(OWNER, item.item_id)).stock == 0
    assert (await services.customers.card(CUSTOMER)).points == 5
    rewards = await services.customers.rewards(CUSTOMER)
    assert [reward.name for reward in rewards] == ["Iced Latte"]

    async with services.counter.db.read() as uow:
        reward = await uow.rewards.by_code(rewards[0].code)
        assert reward is not None and reward.id is not None
    returned = await services.points.give_back(CUSTOMER, reward.id)
    assert (returned.points, returned.balance) == (20, 25)
    assert (await services.catalogue.item(OWNER, item.item_id)).stock == 1
    assert await services.customers.rewards(CUSTOMER) == []
    with pytest.raises(errors.ReturnClosed):
        await services.points.give_back(CUSTOMER, reward.id)
    assert sorted(await ledger(services)) == sorted(
        [
            ("point", 15, "purchase"),
            ("point", 10, "purchase"),
            ("point", -20, "catalogue"),
            ("reward", 1, "catalogue"),
            ("point", 20, "returned"),
            ("reward", -1, "returned"),
        ]
    )

    offer = await services.points.offer(CUSTOMER, item.item_id)
    await services.points.exchange(CUSTOMER, offer.token)
    clock.advance(hours=25)
    reward_code = (await services.customers.rewards(CUSTOMER))[0].code
    async with services.counter.db.read() as uow:
        late = await uow.rewards.by_code(reward_code)
        assert late is not None and late.id is not None
    with pytest.raises(errors.ReturnClosed):
        await services.points.give_back(CUSTOMER, late.id)


async def test_a_reward_hidden_or_deleted_while_shown_is_refused(services: Services) -> None:
    shop = await points_shop(services)
    item = await services.catalogue.add(OWNER, "Croissant", "5")
    await sell(shop, "100.000")
    offer = await services.points.offer(CUSTOMER, item.item_id)
    await services.catalogue.delete(OWNER, item.item_id)
    with pytest.raises(errors.RewardUnavailable):
        await services.points.exchange(CUSTOMER, offer.token)
    assert (await services.customers.card(CUSTOMER)).points == 10
    with pytest.raises(errors.PromptClosed):  # the owner's button on a deleted item
        await services.catalogue.item(OWNER, item.item_id)


async def test_per_customer_limit(services: Services) -> None:
    shop = await points_shop(services)
    item = await services.catalogue.add(OWNER, "Tote bag", "1")
    await services.catalogue.change(OWNER, item.item_id, "per_customer_limit", "1")
    await sell(shop, "100.000")
    await services.points.exchange(CUSTOMER, (await services.points.offer(CUSTOMER, item.item_id)).token)
    with pytest.raises(errors.RewardLimitReached):
        await services.points.offer(CUSTOMER, item.item_id)


@pytest.mark.parametrize(
    ("field", "typed"), [("points_price", "0"), ("points_price", "-5"), ("name", ""), ("stock", "-3x")]
)
async def test_bad_catalogue_values_are_refused(services: Services, field: str, typed: str) -> None:
    await points_shop(services)
    item = await services.catalogue.add(OWNER, "Latte", "10")
    with pytest.raises(errors.InvalidSetting):
        await services.catalogue.change(OWNER, item.item_id, field, typed)
    assert (await services.catalogue.item(OWNER, item.item_id)).price == 10


async def test_owner_adjusts_by_hand_with_a_reason(services: Services) -> None:
    shop = await points_shop(services)
    added = await services.points.adjust(OWNER, shop.customer_code, "+50", "sorry for the wait", 1)
    assert (added.delta, added.balance) == (50, 50)
    taken = await services.points.adjust(OWNER, shop.customer_code, "-20", "typo yesterday", 2)
    assert taken.balance == 30
    again = await services.points.adjust(OWNER, shop.customer_code, "-20", "typo yesterday", 2)
    assert again.balance == 30 and again.news == ()  # the same command retried: once
    with pytest.raises(errors.BalanceWouldGoNegative):
        await services.points.adjust(OWNER, shop.customer_code, "-31", "too much", 3)
    with pytest.raises(errors.InvalidAdjustment):
        await services.points.adjust(OWNER, shop.customer_code, "+5", "   ", 4)
    with pytest.raises(errors.NotOwner):
        await services.points.adjust(BARISTA, shop.customer_code, "+5", "me", 5)
    async with services.counter.db.read() as uow:
        notes = [(entry.delta, entry.note) for entry in await uow.ledger.entries(1) if entry.asset == "point"]
    assert notes == [(50, "sorry for the wait"), (-20, "typo yesterday")]


async def test_points_lapse_by_batch_and_spending_takes_the_oldest_first(
    services: Services, clock: FrozenClock
) -> None:
    shop = await points_shop(services)
    await sell(shop, "100.000")  # 10, lapses in 12 months
    clock.advance(days=60)
    await sell(shop, "50.000")  # 5, two months later
    item = await services.catalogue.add(OWNER, "Cookie", "8")
    await services.points.exchange(CUSTOMER, (await services.points.offer(CUSTOMER, item.item_id)).token)
    clock.advance(days=310)  # the first batch (2 left) lapses
    report = await services.upkeep.sweep()
    assert report.point_batches_expired == 1
    card = await services.customers.card(CUSTOMER)
    assert card.points == 5
    assert ("point", -2, "expired") in await ledger(services)
    assert (await services.upkeep.sweep()).point_batches_expired == 0  # nothing twice
    clock.advance(days=61)
    await services.upkeep.sweep()
    assert (await services.customers.card(CUSTOMER)).points == 0
    assert sum(delta for asset, delta, _ in await ledger(services) if asset == "point") == 0


async def test_a_claim_carries_the_amount_its_points_are_earned_on(services: Services) -> None:
    await points_shop(services)
    with pytest.raises(errors.ClaimNeedsAmount):
        await services.claims.open_claim(CUSTOMER)
    claim = await services.claims.open_claim(CUSTOMER, "85rb")
    assert claim.amount == "85.000"
    decision = await services.claims.decide(BARISTA, claim.claim_id, approve=True)
    assert decision.purchase is not None and decision.purchase.points_added == 8
    assert await ledger(services) == [("point", 8, "purchase")]


async def test_stats_and_export_count_points(services: Services, clock: FrozenClock) -> None:
    shop = await points_shop(services)
    assert (await services.reports.stats(OWNER)).points == PointsStats(0, 0, 0, 0, 0, 0)
    await sell(shop, "120.000")  # 12
    item = await services.catalogue.add(OWNER, "Cookie", "5")
    offer = await services.points.offer(CUSTOMER, item.item_id)
    await services.points.exchange(CUSTOMER, offer.token)  # 7 left
    await services.points.adjust(OWNER, shop.customer_code, "-2", "typo", 1)  # 5 left
    clock.advance(days=400)
    await services.upkeep.sweep()  # 5 lapse
    stats = await services.reports.stats(OWNER)
    assert stats.points is not None
    assert (stats.points.earned, stats.points.spent, stats.points.expired, stats.points.outstanding) == (
        12,
        7,
        5,
        0,
    )
    assert (stats.points.catalogue_taken, stats.points.catalogue_redeemed) == (1, 0)
    assert stats.visits_per_member == 1.0  # one purchase, one visit

    exported = await export(services)
    assert [(row.first_name, row.points, row.visits) for row in exported.members] == [("Ayu", 0, 1)]
    assert [
        (row.asset, row.delta, row.reason, row.note) for row in exported.ledger if row.reason == "adjusted"
    ] == [("point", -2, "adjusted", "typo")]


async def test_a_shop_running_both_counts_one_visit_per_purchase(services: Services) -> None:
    shop = await points_shop(services, stamps=True)
    await sell(shop, "50.000")
    await sell(shop, "50.000")
    stats = await services.reports.stats(OWNER)
    assert stats.visits_per_member == 2.0 and stats.repeat_rate == 1.0
