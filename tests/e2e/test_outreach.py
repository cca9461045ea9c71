"""The bot keeps customers coming back on its own: expiry, reminders, surveys, alerts, pacing."""

from __future__ import annotations

from datetime import UTC, datetime

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World

NO_SURVEYS = dict(survey_every_days=0, daily_stamp_cap=0)


async def _buy(
    world: World, barista: TelegramUser, customer: TelegramUser, code: str, purchases: int = 1
) -> None:
    prompt = await barista.ask(f"/stamp {code} {purchases}")
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    await customer.next_message()  # the new card


async def _shop(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser, **rules: int | str
) -> str:
    payload = await world.create_shop(rules=ProgramRules(**rules))  # type: ignore[arg-type]
    await world.hire(owner, barista)
    return await world.join(customer, payload)


async def _ledger(world: World, reason: str) -> list[int]:
    async with world.app.db.read() as uow:
        return [entry.delta for entry in await uow.ledger.entries(1) if entry.reason == reason]


async def test_stamps_expire_after_two_reminders_each_sent_once(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(
        world, owner, barista, customer, stamp_expiry_days=30, reminder_days="7,1", **NO_SURVEYS
    )
    await _buy(world, barista, customer, code, 3)  # 5 Jan, 10:00 in Jakarta
    card = await customer.ask("/card")
    assert "Stempelmu hangus pada 4 Feb 2026" in card.body

    world.clock.advance(days=22)
    await world.sweep()
    assert (await world.deliver()).sent == 0

    world.clock.advance(days=1, hours=1)  # the card now expires in under 7 days
    for _ in range(3):  # every sweep, as after restarts or with a second scheduler, queues it once
        await world.sweep()
        await world.deliver()
    seven_day = await customer.next_message()
    assert (
        seven_day.body
        == "⏳ 3 stempelmu di <b>Kopi Senja</b> hangus pada 4 Feb 2026 — 7 lagi dapat 1 free drink. Ditunggu kedatangannya!"
    )

    world.clock.advance(days=6)  # under a day left
    for _ in range(3):
        await world.sweep()
        await world.deliver()
    one_day = await customer.next_message()
    assert "hangus pada 4 Feb 2026" in one_day.body
    assert customer.unread() == []

    world.clock.advance(days=1)
    report = await world.sweep()
    assert report.cards_expired == 1
    assert await _ledger(world, "expired") == [-3]
    assert "0/10" in (await customer.ask("/card")).body
    await world.sweep()
    assert await _ledger(world, "expired") == [-3]  # expired once, not again
    assert (await world.deliver()).sent == 0


async def test_a_purchase_after_a_reminder_was_queued_cancels_it(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(world, owner, barista, customer, stamp_expiry_days=30, reminder_days="7", **NO_SURVEYS)
    await _buy(world, barista, customer, code)
    world.clock.advance(days=24)
    await world.sweep()
    await _buy(world, barista, customer, code)  # came back before the reminder went out
    report = await world.deliver()
    assert (report.sent, report.skipped) == (0, 1)


async def test_reward_reminder_and_expiry(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(
        world,
        owner,
        barista,
        customer,
        stamps_required=2,
        reward_valid_days=10,
        reminder_days="3",
        stamp_expiry_days=0,
        **NO_SURVEYS,
    )
    await _buy(world, barista, customer, code, 2)
    reward_message = await customer.next_message()
    world.clock.advance(days=7, hours=1)
    await world.sweep()
    await world.deliver()
    reminder = await customer.next_message()
    assert "Hadiah <b>1 free drink</b> kamu di Kopi Senja berlaku sampai 15 Jan 2026" in reminder.body
    assert reminder.body.split("<code>")[1] in reward_message.body
    world.clock.advance(days=3)
    assert (await world.sweep()).rewards_expired == 1
    assert await _ledger(world, "expired") == [-1]


async def test_survey_after_the_delay_and_a_low_score_alerts_the_team(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(
        world, owner, barista, customer, survey_delay_minutes=120, survey_every_days=14, daily_stamp_cap=0
    )
    await _buy(world, barista, customer, code)
    world.clock.advance(minutes=119)
    assert (await world.deliver()).sent == 0
    world.clock.advance(minutes=2)
    assert (await world.deliver()).sent == 1
    survey = await customer.next_message()
    assert survey.body == "Gimana kunjunganmu ke <b>Kopi Senja</b>? Pilih bintangnya, ya."
    assert len(survey.buttons()) == 5
    five_stars = survey.buttons()[4]["callback_data"]

    await customer.press(survey, "⭐")
    await customer.until(lambda: "Apa yang kurang" in survey.body)
    assert (await world.deliver()).sent == 0  # the team waits a moment for the comment
    assert (await customer.ask("Kopinya dingin dan lama")).body == world.says(
        "id", "Thank you for your feedback!"
    )
    assert (await world.deliver()).sent == 2
    for member, text in [(owner, "memberi nilai 1/5"), (barista, "rated their visit to Kopi Senja 1/5")]:
        alert = await member.next_message()
        assert "Ayu" in alert.body and text in alert.body and "Kopinya dingin dan lama" in alert.body
    assert "1 visit since 5 Jan 2026" in alert.body

    assert (await customer.press(survey, data=five_stars)).text == world.says(
        "id", "You already rated this visit. Thank you!"
    )

    world.clock.advance(days=1)
    await _buy(world, barista, customer, code)
    world.clock.advance(hours=3)
    assert (await world.deliver()).sent == 0  # one survey per 14 days

    report = await owner.ask("/feedback")
    assert (
        "Nilai rata-rata: <b>1,0</b>/5 dari 1 penilaian" in report.body
        and "Kopinya dingin dan lama" in report.body
    )


async def test_quiet_hours_hold_surveys_until_morning_but_not_alerts(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(world, owner, barista, customer, survey_delay_minutes=120, daily_stamp_cap=0)
    world.clock.set(datetime(2026, 1, 5, 12, 30, tzinfo=UTC))  # 19:30 in Jakarta
    await _buy(world, barista, customer, code)
    world.clock.set(datetime(2026, 1, 5, 15, 0, tzinfo=UTC))  # 22:00: due, but quiet hours
    assert (await world.deliver()).sent == 0
    world.clock.set(datetime(2026, 1, 6, 0, 59, tzinfo=UTC))  # 07:59
    assert (await world.deliver()).sent == 0
    world.clock.set(datetime(2026, 1, 6, 1, 0, tzinfo=UTC))  # 08:00
    assert (await world.deliver()).sent == 1
    survey = await customer.next_message()

    world.clock.set(datetime(2026, 1, 6, 16, 0, tzinfo=UTC))  # 23:00: a late low rating
    await customer.press(survey, "2 ⭐")
    await customer.until(lambda: any("Tidak ada" in b["text"] for b in survey.buttons()))
    await customer.press(survey, "Tidak ada")
    assert (await world.deliver()).sent == 2  # alerts do not wait for the morning
    assert "(tanpa komentar)" in (await owner.next_message()).body


async def test_opt_out_stops_promotions_but_not_purchase_messages(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(world, owner, barista, customer, stamp_expiry_days=30, daily_stamp_cap=0)
    assert "tidak ada lagi pengingat" in (await customer.ask("/stop")).body
    await _buy(world, barista, customer, code)  # the card still arrives (service message)
    world.clock.advance(days=29, hours=1)
    await world.sweep()
    assert (await world.deliver()).claimed == 0

    back = await customer.ask("/start")
    assert "Kamu akan menerima pengingat dan promo lagi" in back.body
    await world.sweep()
    assert (await world.deliver()).sent == 1


async def test_a_customer_who_blocked_the_bot_is_marked_and_skipped(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(
        world, owner, barista, customer, stamp_expiry_days=30, reminder_days="7,1", **NO_SURVEYS
    )
    await _buy(world, barista, customer, code)
    world.emulator.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=customer.id)
    world.clock.advance(days=23, hours=1)
    await world.sweep()
    assert (await world.deliver()).blocked == 1
    async with world.app.db.read() as uow:
        assert (await uow.people.by_telegram_id(customer.id)).unreachable_at is not None  # type: ignore[union-attr]

    world.clock.advance(days=6)
    await world.sweep()
    assert (await world.deliver()).claimed == 0  # nothing more is queued for them

    await customer.ask("/card")  # they wrote again: reachable again
    await world.sweep()
    assert (await world.deliver()).sent == 1


async def test_a_429_pauses_everyone_for_retry_after(world: World) -> None:
    payload = await world.create_shop(
        rules=ProgramRules(stamp_expiry_days=30, reminder_days="7", **NO_SURVEYS)
    )
    customers = [world.user(400 + n, f"C{n}", "en") for n in range(3)]
    owner = world.user(100, "Sari", "id")
    barista = world.user(200, "Budi", "en")
    await world.hire(owner, barista)
    for customer in customers:
        await _buy(world, barista, customer, await world.join(customer, payload))
    world.clock.advance(days=23, hours=1)
    await world.sweep()

    world.emulator.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    first = await world.deliver()
    assert first.throttled == 1 and first.sent == 2
    assert max(world.pacer_time.sleeps) >= 7  # nobody sent during the pause
    world.clock.advance(seconds=7)
    assert (await world.deliver()).sent == 1
    assert [len([m for m in c.inbox if m.body.startswith("⏳")]) for c in customers] == [1, 1, 1]


async def test_no_survey_within_a_week_of_a_rating_whatever_the_shops_setting(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _shop(
        world, owner, barista, customer, survey_delay_minutes=60, survey_every_days=1, daily_stamp_cap=0
    )
    await _buy(world, barista, customer, code)
    world.clock.advance(minutes=61)
    await world.deliver()
    survey = await customer.next_message()
    world.clock.advance(hours=23)  # the rating comes late in the day
    await customer.press(survey, "2 ⭐")
    await customer.until(lambda: "Apa yang kurang" in survey.body)
    await customer.ask("Antrenya lama sekali")
    customer.mark_read()

    world.clock.advance(hours=2)  # the next day, a day after the last survey was asked
    await world.deliver()  # the team's alert about the low rating
    barista.mark_read()
    await _buy(world, barista, customer, code)
    world.clock.advance(hours=1, minutes=1)
    await world.deliver()
    assert not [message for message in customer.unread() if "Gimana kunjunganmu" in message.body]
    world.clock.advance(days=7)
    await _buy(world, barista, customer, code)
    world.clock.advance(hours=1, minutes=1)
    await world.deliver()
    assert [message for message in customer.unread() if "Gimana kunjunganmu" in message.body]  # a week on
