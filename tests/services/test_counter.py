"""At the counter, as use cases: what a confirmation credits, once, and what it refuses."""

from __future__ import annotations

import pytest

from kartu.loyalty.errors import (
    DailyCapReached,
    NotStaff,
    OwnCodeShown,
    OwnPurchase,
    PromptClosed,
    RewardAlreadyRedeemed,
    UnknownCode,
)
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from tests.services.conftest import BARISTA, CUSTOMER, STRANGER, Shop, open_shop


async def test_a_confirmed_purchase_adds_stamps_once(shop: Shop) -> None:
    prompt = await shop.services.counter.open_purchase(BARISTA, shop.customer_code, "2")
    assert (prompt.customer_first_name, prompt.stamps, prompt.stamps_to_add, prompt.customer_username) == (
        "Ayu",
        0,
        2,
        "ayu_k",
    )
    result = await shop.services.counter.confirm_purchase(BARISTA, prompt.token)
    assert (result.stamps_added, result.card.stamps, result.new_rewards) == (2, 2, ())
    assert len(result.news) == 1 and result.news[0].startswith("card:")  # one card update for the customer
    with pytest.raises(PromptClosed):
        await shop.services.counter.confirm_purchase(BARISTA, prompt.token)
    assert (await shop.services.customers.card(CUSTOMER)).stamps == 2


async def test_the_purchase_that_fills_the_card_issues_a_reward_and_news_for_both(services: Services) -> None:
    shop = await open_shop(services, ProgramRules(stamps_required=3, daily_stamp_cap=0))
    prompt = await services.counter.open_purchase(BARISTA, shop.customer_code, "4")
    result = await services.counter.confirm_purchase(BARISTA, prompt.token)
    assert (result.card.stamps, len(result.new_rewards), len(result.news)) == (1, 1, 2)
    assert result.news[0].startswith("card:") and result.news[1].startswith("reward-issued:")
    reward = result.new_rewards[0]
    redeem = await services.counter.open_code(BARISTA, reward.code)
    await services.counter.confirm_redeem(BARISTA, redeem.token)
    with pytest.raises(RewardAlreadyRedeemed):
        await services.counter.open_redeem(BARISTA, reward.code)


async def test_the_daily_limit_names_the_customer_for_staff_and_the_customer(services: Services) -> None:
    shop = await open_shop(services, ProgramRules(daily_stamp_cap=2))
    await shop.purchase(2)
    with pytest.raises(DailyCapReached) as refused:
        await services.counter.open_purchase(BARISTA, shop.customer_code)
    assert (refused.value.remaining, refused.value.cap, refused.value.customer_first_name) == (0, 2, "Ayu")
    assert refused.value.customer_chat == (CUSTOMER, "id")


async def test_codes_sent_by_the_wrong_people(shop: Shop, services: Services) -> None:
    with pytest.raises(OwnCodeShown):  # the customer pasted their own code
        await services.counter.open_code(CUSTOMER, shop.customer_code)
    with pytest.raises(NotStaff):
        await services.counter.open_code(STRANGER, shop.customer_code)
    own = await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"m_{shop.slug}")
    assert own.joined is not None
    with pytest.raises(OwnPurchase):
        await services.counter.open_purchase(BARISTA, own.joined.card.personal_code)


async def test_another_shops_customer_looks_unknown_and_counts_as_a_miss(services: Services) -> None:
    await open_shop(services)
    rival = await services.merchants.create_merchant("Barber Jaya", 110)
    guest = await services.customers.start(TelegramProfile(301, "Dewi"), f"m_{rival.slug}")
    assert guest.joined is not None
    with pytest.raises(UnknownCode):
        await services.counter.open_purchase(BARISTA, guest.joined.card.personal_code)
    async with services.counter.db.read() as uow:
        person = await uow.people.by_telegram_id(BARISTA)
        member = await uow.staff.active(1, person.id)
        assert member is not None and member.code_misses == 1
