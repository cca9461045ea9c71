"""Money-like state under pressure: double taps, racing staff and many prompts at once."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from kartu.loyalty.errors import DailyCapReached, PromptClosed, RewardAlreadyRedeemed
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER, BARISTA, SECOND_BARISTA, CUSTOMER = 100, 200, 201, 300


async def _shop_with_customer(services: Services, rules: ProgramRules) -> str:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER, rules=rules)
    for staff_id in (BARISTA, SECOND_BARISTA):
        token = await services.merchants.invite_staff(OWNER)
        await services.customers.start(TelegramProfile(staff_id, f"Staff {staff_id}"), f"staff_{token}")
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu", None, "id"), f"m_{created.slug}")
    assert joined.joined is not None
    return joined.joined.card.personal_code


async def _ledger(db: Database) -> list[tuple[str, int, str]]:
    async with db.read() as uow:
        customer = await uow.people.by_telegram_id(CUSTOMER)
        entries = await uow.ledger.entries(1, customer.id)
        return [(entry.asset, entry.delta, entry.reason) for entry in entries]


async def test_fifty_taps_on_one_prompt_credit_once(services: Services, db: Database) -> None:
    code = await _shop_with_customer(services, ProgramRules(stamps_required=10, daily_stamp_cap=0))
    prompt = await services.counter.open_purchase(BARISTA, code)

    tappers = [BARISTA if n % 2 else SECOND_BARISTA for n in range(50)]
    results = await asyncio.gather(
        *(services.counter.confirm_purchase(staff, prompt.token) for staff in tappers),
        return_exceptions=True,
    )

    succeeded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, PromptClosed)]
    assert len(succeeded) == 1 and len(refused) == 49
    assert await _ledger(db) == [("stamp", 1, "purchase")]
    assert (await services.customers.card(CUSTOMER)).stamps == 1


async def test_fifty_prompts_for_one_customer_fill_five_cards_exactly(
    services: Services, db: Database
) -> None:
    code = await _shop_with_customer(services, ProgramRules(stamps_required=10, daily_stamp_cap=0))
    prompts = [await services.counter.open_purchase(BARISTA, code) for _ in range(50)]

    results = await asyncio.gather(
        *(services.counter.confirm_purchase(BARISTA, p.token) for p in prompts),
        return_exceptions=True,
    )

    assert not [r for r in results if isinstance(r, BaseException)]
    ledger = await _ledger(db)
    assert sum(delta for asset, delta, _ in ledger if asset == "stamp") == 0
    assert ledger.count(("stamp", 1, "purchase")) == 50
    assert ledger.count(("reward", 1, "reward_issued")) == 5
    assert ledger.count(("stamp", -10, "reward_issued")) == 5
    assert len(await services.customers.rewards(CUSTOMER)) == 5
    assert (await services.customers.card(CUSTOMER)).stamps == 0


async def test_fifty_staff_open_and_confirm_for_one_customer_at_once(
    services: Services, db: Database
) -> None:
    """Fifty staff at fifty tills, one customer: every purchase counted once, every full card one reward."""
    code = await _shop_with_customer(services, ProgramRules(stamps_required=7, daily_stamp_cap=0))
    staff = [1000 + number for number in range(50)]
    for telegram_id in staff:
        token = await services.merchants.invite_staff(OWNER)
        await services.customers.start(TelegramProfile(telegram_id, f"Till {telegram_id}"), f"staff_{token}")

    prompts = await asyncio.gather(*(services.counter.open_purchase(t, code) for t in staff))
    results = await asyncio.gather(
        *(services.counter.confirm_purchase(t, p.token) for t, p in zip(staff, prompts, strict=True)),
        *(services.counter.confirm_purchase(t, p.token) for t, p in zip(staff, prompts, strict=True)),
        return_exceptions=True,
    )

    assert sum(1 for r in results if not isinstance(r, BaseException)) == 50
    assert all(isinstance(r, PromptClosed) for r in results if isinstance(r, BaseException))
    ledger = await _ledger(db)
    assert ledger.count(("stamp", 1, "purchase")) == 50
    assert ledger.count(("reward", 1, "reward_issued")) == 7  # 50 stamps: 7 full cards of 7, 1 left
    assert sum(delta for asset, delta, _ in ledger if asset == "stamp") == 1
    assert (await services.customers.card(CUSTOMER)).stamps == 1
    assert len(await services.customers.rewards(CUSTOMER)) == 7


async def test_daily_cap_holds_when_prompts_race(services: Services, db: Database) -> None:
    code = await _shop_with_customer(services, ProgramRules(stamps_required=10, daily_stamp_cap=3))
    prompts = [await services.counter.open_purchase(BARISTA, code) for _ in range(20)]

    results = await asyncio.gather(
        *(services.counter.confirm_purchase(BARISTA, p.token) for p in prompts),
        return_exceptions=True,
    )

    assert sum(1 for r in results if not isinstance(r, BaseException)) == 3
    assert all(isinstance(r, DailyCapReached) for r in results if isinstance(r, BaseException))
    assert (await services.customers.card(CUSTOMER)).stamps == 3
    with pytest.raises(DailyCapReached):
        await services.counter.open_purchase(BARISTA, code)


async def test_two_staff_redeem_one_reward_once(services: Services, db: Database) -> None:
    code = await _shop_with_customer(services, ProgramRules(stamps_required=2, daily_stamp_cap=0))
    prompt = await services.counter.open_purchase(BARISTA, code, "2")
    result = await services.counter.confirm_purchase(BARISTA, prompt.token)
    (reward,) = result.new_rewards

    # Both baristas typed the code (each has a prompt) and both tap Confirm, ten times each.
    shown = {
        staff: await services.counter.open_redeem(staff, reward.code) for staff in (BARISTA, SECOND_BARISTA)
    }

    outcomes = await asyncio.gather(
        *(
            services.counter.confirm_redeem(staff, shown[staff].token)
            for staff in [BARISTA, SECOND_BARISTA] * 10
        ),
        return_exceptions=True,
    )

    assert sum(1 for r in outcomes if not isinstance(r, BaseException)) == 1
    refusals = [r for r in outcomes if isinstance(r, BaseException)]
    # The loser of the race hears "already redeemed", the double taps "already decided": never an
    # unhandled database error (the redeem's WHERE redeemed_at IS NULL, not only the ledger's key).
    assert all(isinstance(r, RewardAlreadyRedeemed | PromptClosed) for r in refusals), refusals
    assert any(isinstance(r, RewardAlreadyRedeemed) for r in refusals)
    assert (await _ledger(db)).count(("reward", -1, "reward_redeemed")) == 1
    assert await services.customers.rewards(CUSTOMER) == []


async def test_a_double_tapped_first_start_registers_one_person(services: Services, db: Database) -> None:
    """Issue 7 item 10: on PostgreSQL the second insert of a new Telegram user used to be taken
    for a code collision and fail with "could not draw a unique value"."""
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    profile = TelegramProfile(CUSTOMER, "Ayu", None, "id")
    outcomes = await asyncio.gather(
        *(services.customers.start(profile, f"m_{created.slug}") for _ in range(5)), return_exceptions=True
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    codes = {o.joined.card.personal_code for o in outcomes if not isinstance(o, BaseException) and o.joined}
    assert len(codes) == 1  # one person, one code, one card
    async with db.read() as uow:
        person = await uow.people.by_telegram_id(CUSTOMER)
        assert person is not None and await uow.cards.get(1, person.id) is not None


async def test_lowering_the_requirement_while_staff_confirm_keeps_the_ledger_and_card_equal(
    services: Services, db: Database
) -> None:
    code = await _shop_with_customer(services, ProgramRules(stamps_required=50, daily_stamp_cap=0))
    for _ in range(2):
        prompt = await services.counter.open_purchase(BARISTA, code, "20")
        await services.counter.confirm_purchase(BARISTA, prompt.token)
    prompts = [await services.counter.open_purchase(BARISTA, code) for _ in range(5)]
    results = await asyncio.gather(
        services.merchants.change_program(OWNER, "stamps_required", "4", confirmed=True),
        *(services.counter.confirm_purchase(BARISTA, p.token) for p in prompts),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    ledger = await _ledger(db)
    card = await services.customers.card(CUSTOMER)
    assert sum(delta for asset, delta, _ in ledger if asset == "stamp") == card.stamps < 4


async def test_another_process_writing_makes_the_counter_wait_without_stopping_the_bot(
    services: Services, db: Database
) -> None:
    """SQLite: the counter's statements run on the loop's own thread, so they must never wait there.
    While another program (a `kartu export`, a second bot by mistake) holds the write lock, a
    confirmation waits in a thread; the bot keeps answering meanwhile, and the purchase lands once
    the lock is let go."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL locks rows, not the database")
    code = await _shop_with_customer(services, ProgramRules(stamps_required=10, daily_stamp_cap=0))
    prompt = await services.counter.open_purchase(BARISTA, code)
    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        confirming = asyncio.create_task(services.counter.confirm_purchase(BARISTA, prompt.token))
        arriving = asyncio.create_task(
            services.customers.arrive(7, TelegramProfile(CUSTOMER, "Ayu", None, "id"), "key")
        )
        started = asyncio.get_running_loop().time()
        for _ in range(20):  # the loop keeps turning (a loop stuck in SQLite's busy wait: 15 s)
            await asyncio.sleep(0.01)
        assert asyncio.get_running_loop().time() - started < 5 and not confirming.done()
        assert (await services.customers.card(CUSTOMER)).stamps == 0  # reads never wait for writers
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(asyncio.gather(confirming, arriving), 10)
    assert arriving.result().first_time and arriving.result().language == "id"
    assert (await services.customers.card(CUSTOMER)).stamps == 1
    assert await _ledger(db) == [("stamp", 1, "purchase")]
