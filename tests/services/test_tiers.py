"""Levels at the service tier: owners set them up, purchases move cards up at once and earn the
level's multiplier, reviews warn and then move down, deleted levels and groups let go."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from kartu.services.views import NextLevel
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, Shop, export, open_shop

GROUP = -100500


async def sell(shop: Shop, amount: str) -> int:
    prompt = await shop.services.counter.open_sale(BARISTA, shop.customer_code, amount)
    return (await shop.services.counter.confirm_sale(BARISTA, prompt.token)).points_added


async def tier_news(services: Services) -> list[dict[str, object]]:
    async with services.counter.db.read() as uow:
        rows = await uow.session.execute(
            text("SELECT params FROM outbox_message WHERE kind = 'tier_change' ORDER BY id")
        )
        return [json.loads(row[0]) for row in rows]


async def spend_shop(services: Services) -> Shop:
    shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)  # 1 point per Rp 10.000
    await services.tiers.set_basis(OWNER, "spend")
    await services.tiers.add(OWNER, "Silver; 100.000")
    await services.tiers.add(OWNER, "Gold; 500rb; 1.5")
    return shop


async def test_owners_only_and_bad_lines_change_nothing(services: Services, shop: Shop) -> None:
    with pytest.raises(errors.NotOwner):
        await services.tiers.add(BARISTA, "Gold; 10")
    with pytest.raises(errors.InvalidSetting):
        await services.tiers.add(OWNER, "Gold; 0")
    view = await services.tiers.add(OWNER, "Gold; 10; 1.5")
    with pytest.raises(errors.InvalidSetting):
        await services.tiers.add(OWNER, "Platinum; 10")  # the same threshold
    with pytest.raises(errors.PromptClosed):
        await services.tiers.change(OWNER, view.levels[0].tier_id + 99, "X; 3")
    with pytest.raises(errors.InvalidSetting):
        await services.tiers.set_window(OWNER, "40")
    assert [(level.name, level.threshold) for level in (await services.tiers.levels(OWNER)).levels] == [
        ("Gold", 10)
    ]


async def test_a_sale_moves_up_at_once_and_the_next_earns_the_multiplier(services: Services) -> None:
    shop = await spend_shop(services)
    assert await sell(shop, "90.000") == 9
    assert await tier_news(services) == []
    assert (await services.customers.card(CUSTOMER)).next_level == NextLevel("Silver", 10_000, "spend")
    assert await sell(shop, "20.000") == 2  # Rp 110.000 in the window: Silver (1x)
    assert await sell(shop, "400.000") == 40  # Rp 510.000: Gold from now on
    assert await sell(shop, "100.000") == 15  # 10 points x 1.5
    moves = [(news["move"], news["tier"]) for news in await tier_news(services)]
    assert moves == [("up", "Silver"), ("up", "Gold")]
    card = await services.customers.card(CUSTOMER)
    assert card.tier == "Gold" and card.tier_multiplier == 1500 and card.next_level is None  # the top
    view = await services.tiers.levels(OWNER)
    assert [(level.name, level.members) for level in view.levels] == [("Silver", 0), ("Gold", 1)]
    assert (await services.reports.stats(OWNER)).levels == (("Silver", 0), ("Gold", 1))
    exported = await export(services)
    assert [(member.first_name, member.level) for member in exported.members] == [("Ayu", "Gold")]


async def test_the_review_warns_then_moves_down_after_the_grace_period(
    services: Services, clock: FrozenClock
) -> None:
    shop = await spend_shop(services)
    await services.tiers.set_grace(OWNER, "10")
    await sell(shop, "600.000")
    clock.advance(days=300)
    await sell(shop, "150.000")  # counts for a year from today
    clock.advance(days=70)  # the Rp 600.000 left the 12-month window: Rp 150.000 remains
    assert (await services.upkeep.sweep()).levels_changed == 1
    warn = (await tier_news(services))[-1]
    assert warn["move"] == "warn" and warn["tier"] == "Gold" and warn["missing"] == 350_000
    assert (await services.upkeep.sweep()).levels_changed == 0  # reviewed once a day
    clock.advance(days=5)
    await sell(shop, "100.000")  # a purchase never moves a card down, even below the level
    assert (await services.customers.card(CUSTOMER)).tier == "Gold"
    clock.advance(days=6)
    assert (await services.upkeep.sweep()).levels_changed == 1
    down = (await tier_news(services))[-1]
    assert (down["move"], down["tier"], down["previous"]) == ("down", "Silver", "Gold")
    assert (await services.customers.card(CUSTOMER)).tier == "Silver"


async def test_coming_back_within_the_grace_period_keeps_the_level(
    services: Services, clock: FrozenClock
) -> None:
    shop = await spend_shop(services)
    await sell(shop, "600.000")
    clock.advance(days=370)
    await services.upkeep.sweep()  # warned
    await sell(shop, "500.000")  # back at Gold's threshold within the grace period
    clock.advance(days=40)
    assert (await services.upkeep.sweep()).levels_changed == 0
    assert (await services.customers.card(CUSTOMER)).tier == "Gold"


async def test_a_group_opens_to_its_level_and_above_and_follows_deletion(services: Services) -> None:
    shop = await spend_shop(services)
    await sell(shop, "600.000")  # Gold
    added = await services.tiers.group_added(OWNER, GROUP, "Silver Club")
    assert added is not None and [level.name for level in added.levels] == ["Silver", "Gold"]
    assert await services.tiers.group_added(BARISTA, -7, "Not theirs") is None
    silver = added.levels[0].tier_id
    await services.tiers.link_group(OWNER, added.group_id, silver)
    invite = (await tier_news(services))[-1]
    assert invite["move"] == "group" and invite["invite_chats"] == [GROUP]  # Gold holders too
    assert await services.tiers.may_join(GROUP, CUSTOMER)
    assert await services.tiers.may_join(GROUP, BARISTA)  # the team manages the group
    assert not await services.tiers.may_join(GROUP, 999)  # a stranger with a forwarded link
    assert await services.tiers.may_join(-7, 999)  # a group Kartu does not manage
    await services.tiers.delete(OWNER, silver)
    assert await services.tiers.may_join(GROUP, 999)  # no level opens it any more
    await services.tiers.group_lost(GROUP)
    assert (await services.customers.card(CUSTOMER)).tier == "Gold"


async def test_deleting_the_held_level_leaves_cards_without_one(services: Services) -> None:
    shop = await spend_shop(services)
    await sell(shop, "600.000")
    gold = (await services.tiers.levels(OWNER)).levels[1]
    await services.tiers.delete(OWNER, gold.tier_id)
    assert (await services.customers.card(CUSTOMER)).tier == ""
    await sell(shop, "10.000")  # the next purchase finds the level the window reaches
    assert (await services.customers.card(CUSTOMER)).tier == "Silver"
