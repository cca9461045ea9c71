"""Customers as use cases: joining, coming back, leaving a shop and erasing their data."""

from __future__ import annotations

import pytest

from kartu.loyalty.errors import NotMember, UnknownCode
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from tests.invariants import balances_off_their_ledger
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, STRANGER, Shop


async def test_joining_twice_is_a_welcome_back(shop: Shop, services: Services) -> None:
    again = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{shop.slug}")
    assert again.joined is not None and not again.joined.newly_joined
    assert again.joined.card.personal_code == shop.customer_code


async def test_leaving_gives_up_the_card_and_the_ledger_adds_up(shop: Shop, services: Services) -> None:
    await shop.purchase(3)
    preview = await services.customers.leaving(CUSTOMER)
    assert (preview.stamps, preview.open_rewards) == (3, 0)
    assert await services.customers.leave(CUSTOMER, preview.merchant_id) == "Kopi Senja"
    with pytest.raises(NotMember):
        await services.customers.card(CUSTOMER)
    with pytest.raises(UnknownCode):  # staff no longer find them
        await services.counter.open_purchase(BARISTA, shop.customer_code)
    async with services.counter.db.read() as uow:
        person = await uow.people.by_telegram_id(CUSTOMER)
        assert (
            sum(entry.delta for entry in await uow.ledger.entries(1, person.id) if entry.asset == "stamp")
            == 0
        )


async def test_points_and_spins_are_given_up_on_leaving_and_do_not_come_back_on_rejoining(
    shop: Shop, services: Services
) -> None:
    """Found by the model-based test (tests/model): leaving kept the points' batches and ledger rows
    while the card went, so a returning customer's card said 0 while the ledger said otherwise."""
    await services.merchants.choose_kinds(OWNER, True, True)
    await services.wheel.add_prize(OWNER, "2 stamps; 50%")
    await services.wheel.set_rule(OWNER, "every")
    prompt = await services.counter.open_sale(BARISTA, shop.customer_code, "120.000")
    await services.counter.confirm_sale(BARISTA, prompt.token)
    assert (await services.wheel.for_customer(CUSTOMER)).ready == 1
    await services.customers.leave(CUSTOMER, 1)
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{shop.slug}")
    assert joined.joined is not None and joined.joined.card.points == 0
    assert (await services.wheel.for_customer(CUSTOMER)).ready == 0
    assert await balances_off_their_ledger(services.counter.db) == []


async def test_leaving_coming_back_and_leaving_again_at_once_works(shop: Shop, services: Services) -> None:
    """Found by the model-based test: the rows of a leave were keyed by when the card was opened,
    so leaving twice within one tick of the clock failed on the ledger's unique key."""
    await shop.purchase(2)
    await services.customers.leave(CUSTOMER, 1)
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{shop.slug}")
    assert joined.joined is not None
    prompt = await services.counter.open_purchase(BARISTA, joined.joined.card.personal_code, "2")
    await services.counter.confirm_purchase(BARISTA, prompt.token)
    assert await services.customers.leave(CUSTOMER, 1) == "Kopi Senja"
    assert await balances_off_their_ledger(services.counter.db) == []


async def test_forgetting_erases_the_person(shop: Shop, services: Services) -> None:
    await shop.purchase(2)
    await services.customers.forget(CUSTOMER)
    with pytest.raises(NotMember):  # a later message starts from scratch: nobody is kept under that id
        await services.customers.my_data(CUSTOMER)
    with pytest.raises(UnknownCode):
        await services.counter.open_purchase(BARISTA, shop.customer_code)
    async with services.counter.db.read() as uow:  # the shop's books still add up, anonymously
        entries = await uow.ledger.entries(1)
        assert sum(entry.delta for entry in entries if entry.asset == "stamp") == 0 and len(entries) == 2


async def test_an_arrival_reads_the_menu_the_menu_use_case_gives(shop: Shop, services: Services) -> None:
    """The role read with each update (one statement) is the one `merchants.menu` works out."""
    second = await services.merchants.create_merchant("Kopi Pagi", OWNER)  # the owner's second shop
    await services.customers.start(
        TelegramProfile(BARISTA, "Budi"), f"m_{second.slug}"
    )  # Budi collects stamps
    await services.merchants.act_for(OWNER, 2)
    owner_token = await services.merchants.invite_staff(OWNER, "owner")
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{owner_token}")  # owner there
    people = (OWNER, BARISTA, CUSTOMER, STRANGER)
    for update_id, person in enumerate(people * 3, start=1):
        if update_id == len(people) + 1:  # the barista acts for their first shop, then the second
            await services.merchants.act_for(BARISTA, 1)
        if update_id == 2 * len(people) + 1:
            await services.merchants.act_for(BARISTA, 2)
        arrival = await services.customers.arrive(update_id, TelegramProfile(person, "X"), f"42:{person}")
        assert arrival.menu == await services.merchants.menu(person), (update_id, person)


async def test_an_arrival_without_the_driver_reads_the_same(shop: Shop, services: Services) -> None:
    """An in-memory database has no driver connection: the ORM reads give the same arrival."""
    profile = TelegramProfile(CUSTOMER, "Ayu", "ayu_k", "en")
    with_driver = await services.customers.arrive(1, profile, "42:300:0:300:default")
    services.customers.db.has_driver = False
    without = await services.customers.arrive(2, profile, "42:300:0:300:default")
    again = await services.customers.arrive(2, profile, "42:300:0:300:default")
    assert (with_driver.first_time, without.first_time, again.first_time) == (True, True, False)
    assert (without.language, without.state) == (with_driver.language, with_driver.state) == ("en", None)
