"""Welcome, birthday and referral bonuses at the service tier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.services.bonuses import BonusService
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.models import Merchant, Program
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, Shop, export, open_shop

FRIEND, OTHER_FRIEND = 400, 401


async def ledger_of(services: Services, telegram_id: int) -> list[tuple[str, int, str]]:
    async with services.counter.db.read() as uow:
        person = await uow.people.by_telegram_id(telegram_id)
        assert person is not None
        return [(e.asset, e.delta, e.reason) for e in await uow.ledger.entries(1, person.id)]


async def set_bonuses(services: Services, **values: str) -> None:
    for field, value in values.items():
        await services.merchants.change_program(OWNER, field, value)


async def test_the_welcome_bonus_is_given_once_per_person_per_shop(services: Services) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    await services.merchants.change_program(OWNER, "welcome_bonus", "50")
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{created.slug}")
    assert joined.joined is not None and joined.joined.welcome_bonus is not None
    assert joined.joined.welcome_bonus.amount == 50 and joined.joined.card.points == 50
    again = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{created.slug}")
    assert again.joined is not None and again.joined.welcome_bonus is None
    await services.customers.leave(CUSTOMER, created.merchant_id)
    back = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{created.slug}")
    assert back.joined is not None and back.joined.welcome_bonus is None  # leaving and coming back: not again
    assert [entry for entry in await ledger_of(services, CUSTOMER) if entry[2] == "welcome"] == [
        ("point", 50, "welcome")
    ]


async def test_a_stamp_bonus_never_fills_the_card_by_itself(services: Services) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.merchants.change_program(OWNER, "welcome_bonus", "25")  # more than a card holds
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{created.slug}")
    assert joined.joined is not None and joined.joined.card.stamps == 9  # one short of the reward
    assert await services.customers.rewards(CUSTOMER) == []


async def test_birthday_once_a_year_in_the_shops_time_zone(services: Services, clock: FrozenClock) -> None:
    await open_shop(services)
    await set_bonuses(services, birthday_bonus="3")
    with pytest.raises(errors.InvalidBirthday):
        await services.bonuses.set_birthday(CUSTOMER, "31-02")
    saved = await services.bonuses.set_birthday(CUSTOMER, "17 Agustus 1995")
    assert (saved.day, saved.month) == (17, 8)
    with pytest.raises(errors.BirthdayLocked):
        await services.bonuses.set_birthday(CUSTOMER, "18-08")

    clock.set(datetime(2026, 8, 16, 16, 30, tzinfo=UTC))  # 23:30 on the 16th in Jakarta: not yet
    assert (await services.upkeep.sweep()).bonuses_given == 0
    clock.set(datetime(2026, 8, 16, 17, 30, tzinfo=UTC))  # 00:30 on the 17th in Jakarta
    assert (await services.upkeep.sweep()).bonuses_given == 1
    assert (await services.upkeep.sweep()).bonuses_given == 0  # the next minute's sweep: nothing twice
    assert (await services.customers.card(CUSTOMER)).stamps == 3
    clock.set(datetime(2027, 8, 17, 3, 0, tzinfo=UTC))
    assert (await services.upkeep.sweep()).bonuses_given == 1  # next year again
    assert [e for e in await ledger_of(services, CUSTOMER) if e[2] == "birthday"] == [
        ("stamp", 3, "birthday")
    ] * 2


async def _join_through(services: Services, shop: Shop, telegram_id: int, name: str, token: str) -> None:
    joined = await services.customers.start(TelegramProfile(telegram_id, name), f"r_{token}")
    assert joined.joined is not None


async def test_referral_pays_both_only_after_the_friends_first_purchase_stood_the_return_window(
    services: Services, clock: FrozenClock
) -> None:
    shop = await open_shop(services)
    await set_bonuses(services, referral_bonus="2", referral_monthly_cap="1")
    token = (await services.bonuses.invitation(CUSTOMER)).token
    with pytest.raises(errors.SelfReferral):
        await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"r_{token}")
    joined = await services.customers.start(TelegramProfile(FRIEND, "Dewi"), f"r_{token}")
    assert joined.joined is not None and joined.joined.invited_by == "Ayu"
    assert (await services.upkeep.sweep()).bonuses_given == 0  # no purchase yet: nothing paid

    friend_code = joined.joined.card.personal_code
    prompt = await services.counter.open_purchase(BARISTA, friend_code)
    await services.counter.confirm_purchase(BARISTA, prompt.token)
    assert (await services.upkeep.sweep()).bonuses_given == 0  # the purchase may still be refunded
    clock.advance(days=7)
    assert (await services.upkeep.sweep()).bonuses_given == 1
    assert (await services.upkeep.sweep()).bonuses_given == 0
    assert [e for e in await ledger_of(services, FRIEND) if e[2] == "referral"] == [("stamp", 2, "referral")]
    assert [e for e in await ledger_of(services, CUSTOMER) if e[2] == "referral"] == [
        ("stamp", 2, "referral")
    ]

    # Circular: the friend's link opened by the one who invited them counts nothing.
    friend_token = (await services.bonuses.invitation(FRIEND)).token
    back = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"r_{friend_token}")
    assert back.joined is not None and back.joined.invited_by is None

    # A second friend this month: the friend is paid, the referrer is over the month's cap.
    second = await services.customers.start(TelegramProfile(OTHER_FRIEND, "Rina"), f"r_{token}")
    assert second.joined is not None
    prompt = await services.counter.open_purchase(BARISTA, second.joined.card.personal_code)
    await services.counter.confirm_purchase(BARISTA, prompt.token)
    clock.advance(days=7)
    assert (await services.upkeep.sweep()).bonuses_given == 1
    assert [e for e in await ledger_of(services, OTHER_FRIEND) if e[2] == "referral"] == [
        ("stamp", 2, "referral")
    ]
    assert len([e for e in await ledger_of(services, CUSTOMER) if e[2] == "referral"]) == 1
    assert (await services.reports.stats(OWNER)).referrals == (2, 2)
    invited = {member.first_name: member.invited_by for member in (await export(services)).members}
    assert invited == {"Ayu": None, "Dewi": shop.customer_code, "Rina": shop.customer_code}


async def test_a_friend_who_left_in_the_return_window_stops_no_sweep_in_a_points_shop(
    services: Services, clock: FrozenClock
) -> None:
    """Found by the model-based test (tests/model): in a points shop the sweep paying a referral
    whose friend had left raised (no card to add points to) and stopped the sweep. Now the one who
    left gets nothing and is told nothing; the referrer is paid."""
    shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, False, True)
    await set_bonuses(services, referral_bonus="20")
    token = (await services.bonuses.invitation(CUSTOMER)).token
    joined = await services.customers.start(TelegramProfile(FRIEND, "Dewi"), f"r_{token}")
    assert joined.joined is not None and shop.slug
    prompt = await services.counter.open_sale(BARISTA, joined.joined.card.personal_code, "50.000")
    await services.counter.confirm_sale(BARISTA, prompt.token)
    await services.customers.leave(FRIEND, 1)
    clock.advance(days=8)
    assert (await services.upkeep.sweep()).bonuses_given == 1
    assert [e for e in await ledger_of(services, CUSTOMER) if e[2] == "referral"] == [
        ("point", 20, "referral")
    ]
    assert [e for e in await ledger_of(services, FRIEND) if e[2] == "referral"] == []


async def test_one_shops_failing_sweep_does_not_stop_the_others(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in one shop's sweep is logged (with the shop) and every other shop is still swept."""
    await open_shop(services)
    other = await services.merchants.create_merchant("Barber Jaya", 110)
    birthdays = BonusService.birthdays

    async def broken(self: BonusService, merchant: Merchant, program: Program) -> int:
        if merchant.id == 1:
            raise RuntimeError("a bug in shop 1")
        return await birthdays(self, merchant, program)

    monkeypatch.setattr(BonusService, "birthdays", broken)
    report = await services.upkeep.sweep()
    assert (report.merchants, report.merchants_failed) == (2, 1)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "sweep of merchant 1 failed"
    ]
    assert other.merchant_id == 2
