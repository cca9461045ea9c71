"""Delivery under failure: a dispatcher killed mid-batch (reminders and promotions at most once,
news at least once), two dispatchers and two sweeps at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from kartu.bot.app import build_bot
from kartu.bot.i18n import load_i18n
from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import BotAPIEmulator
from kartu.scheduler.dispatcher import OutboxDispatcher
from kartu.scheduler.pacing import Pacer
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

CUSTOMERS = 30
STAFF = 7


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    server = BotAPIEmulator()
    await server.start()
    yield server
    await server.stop()


async def _reminders_due(
    services: Services, clock: FrozenClock, customers: int = CUSTOMERS, emulator: BotAPIEmulator | None = None
) -> None:
    """``customers`` cards whose stamps expire within a week, reminders queued (and, given the
    emulator, the purchases' card messages delivered by the courier as the bot does, and forgotten)."""
    rules = ProgramRules(stamp_expiry_days=30, reminder_days="7", survey_every_days=0, daily_stamp_cap=0)
    created = await services.merchants.create_merchant("Kopi Senja", 1, rules=rules)
    token = await services.merchants.invite_staff(1)
    await services.customers.start(TelegramProfile(STAFF, "Staff"), f"staff_{token}")
    courier = _dispatcher(emulator, services, concurrency=4, worker="courier") if emulator else None
    if emulator is not None:
        emulator.users_started(*(1000 + number for number in range(customers)))  # they opened the bot
    for number in range(customers):
        joined = await services.customers.start(
            TelegramProfile(1000 + number, f"C{number}"), f"m_{created.slug}"
        )
        prompt = await services.counter.open_purchase(STAFF, joined.joined.card.personal_code)  # type: ignore[union-attr]
        result = await services.counter.confirm_purchase(STAFF, prompt.token)
        if courier is not None:
            assert (await courier.deliver_taken(result.taken, result.notices)).sent == 1
    if courier is not None and emulator is not None:
        await courier.bot.session.close()
        emulator.state.sent.clear()
    clock.advance(days=23, hours=1)
    report = await services.upkeep.sweep()
    assert report.reminders_queued == customers


def _dispatcher(
    emulator: BotAPIEmulator, services: Services, concurrency: int, worker: str
) -> OutboxDispatcher:
    settings = Settings(_env_file=None, bot_token=emulator.token, telegram_api_url=emulator.url)
    pacer = Pacer(rate=200, per_chat_interval=1.0)
    return OutboxDispatcher(
        build_bot(settings),
        services,
        load_i18n(),
        pacer,
        batch_size=100,
        concurrency=concurrency,
        worker=worker,
    )


def _deliveries(emulator: BotAPIEmulator) -> Counter[int]:
    return Counter(message.chat_id for message in emulator.state.sent)


async def test_a_dispatcher_killed_mid_batch_loses_nothing(
    emulator: BotAPIEmulator, services: Services, clock: FrozenClock
) -> None:
    await _reminders_due(services, clock, emulator=emulator)
    first = _dispatcher(emulator, services, concurrency=1, worker="first")
    running = asyncio.create_task(first.dispatch_once())
    await emulator.wait_for(lambda: len(emulator.state.sent) >= 10)
    running.cancel()  # killed mid-batch: the rest of its claimed batch is stranded as "sending"
    with pytest.raises(asyncio.CancelledError):
        await running
    await first.bot.session.close()
    sent_before_crash = len(emulator.state.sent)
    assert sent_before_crash < CUSTOMERS

    second = _dispatcher(emulator, services, concurrency=4, worker="second")
    assert (await second.drain()).claimed == 0  # the dead dispatcher's claim still holds...
    clock.advance(minutes=3)  # ...until its lease lapses
    await second.drain()
    await second.bot.session.close()

    deliveries = _deliveries(emulator)
    assert set(deliveries) == {1000 + n for n in range(CUSTOMERS)}  # nobody missed out
    assert set(deliveries.values()) == {1}  # nobody twice: a reminder goes out at most once
    async with services.delivery.db.read() as uow:
        counts = await uow.outbox.counts()
    # The purchases' cards, then the reminders; the one in flight at the kill reached Telegram,
    # and the outbox says it was not sent again.
    assert counts["sent"] + counts.get("skipped", 0) == 2 * CUSTOMERS
    assert counts.get("skipped", 0) <= 1


async def test_two_dispatchers_never_send_the_same_message(
    emulator: BotAPIEmulator, services: Services, clock: FrozenClock
) -> None:
    await _reminders_due(services, clock, emulator=emulator)
    one, two = (_dispatcher(emulator, services, concurrency=4, worker=name) for name in ("one", "two"))
    reports = await asyncio.gather(one.drain(), two.drain())
    for dispatcher in (one, two):
        await dispatcher.bot.session.close()
    assert sum(report.sent for report in reports) == CUSTOMERS
    assert set(_deliveries(emulator).values()) == {1}


async def test_news_taken_by_a_courier_that_died_is_sent_once_its_lease_lapses(
    emulator: BotAPIEmulator, services: Services, clock: FrozenClock
) -> None:
    """A purchase's card news is written already taken by the courier, to be sent right after the
    commit; the process stops before it is: the scheduled dispatcher sends it after the lease."""
    created = await services.merchants.create_merchant("Kopi Senja", 1, rules=ProgramRules(daily_stamp_cap=0))
    token = await services.merchants.invite_staff(1)
    await services.customers.start(TelegramProfile(STAFF, "Staff"), f"staff_{token}")
    joined = await services.customers.start(TelegramProfile(1000, "Ayu"), f"m_{created.slug}")
    emulator.users_started(1000)
    prompt = await services.counter.open_purchase(STAFF, joined.joined.card.personal_code)  # type: ignore[union-attr]
    result = await services.counter.confirm_purchase(STAFF, prompt.token)
    assert [message.kind for message in result.taken] == ["card_update"]  # and then the process died
    async with services.delivery.db.read() as uow:
        assert (await uow.outbox.counts())["sending"] == 1

    dispatcher = _dispatcher(emulator, services, concurrency=4, worker="scheduled")
    assert (await dispatcher.drain()).claimed == 0  # the courier's claim holds...
    clock.advance(minutes=3)  # ...until its lease lapses
    assert (await dispatcher.drain()).sent == 1
    assert (await dispatcher.drain()).claimed == 0
    await dispatcher.bot.session.close()
    assert _deliveries(emulator) == Counter({1000: 1})
    assert "1/" in (emulator.state.sent[0].caption or "")


async def test_two_sweeps_at_once_queue_each_reminder_once(
    services: Services, clock: FrozenClock, db: Database
) -> None:
    await _reminders_due(services, clock, customers=10)  # one sweep already ran
    await asyncio.gather(*(services.upkeep.sweep() for _ in range(4)))
    async with db.read() as uow:
        assert len(await uow.outbox.messages("stamp_reminder")) == 10


async def test_a_promotion_in_flight_when_its_dispatcher_died_is_not_sent_again(
    emulator: BotAPIEmulator, services: Services, clock: FrozenClock
) -> None:
    """A broadcast goes out; the dispatcher dies while Telegram is taking one of its messages (a
    slow network: the send reaches Telegram, its answer never comes back). After the lease, the
    rest goes out, and that one is not sent again: nobody gets the promotion twice."""
    await _reminders_due(services, clock, emulator=emulator)
    drain = _dispatcher(emulator, services, concurrency=4, worker="reminders")
    await drain.drain()  # the reminders go out first
    await drain.bot.session.close()
    emulator.state.sent.clear()
    clock.advance(hours=2)
    started = await services.broadcasts.start(1, "Two for one on Friday!", None, "all")
    first = _dispatcher(emulator, services, concurrency=1, worker="first")
    emulator.latency = 0.3
    running = asyncio.create_task(first.dispatch_once())
    await emulator.wait_for(lambda: len(emulator.state.sent) >= 3)
    await asyncio.sleep(0.15)  # the fourth is on its way
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await first.bot.session.close()
    await asyncio.sleep(0.3)  # Telegram takes the one in flight
    emulator.latency = 0.0

    second = _dispatcher(emulator, services, concurrency=4, worker="second")
    clock.advance(minutes=1)  # the dead dispatcher's lease lapses
    await second.drain()
    await second.bot.session.close()
    deliveries = _deliveries(emulator)
    assert set(deliveries.values()) == {1}  # nobody twice
    async with services.delivery.db.read() as uow:
        counts = await uow.outbox.counts()
    assert counts.get("sending", 0) == counts.get("pending", 0) == 0
    # Everyone got it but the one whose send was under way when the dispatcher died: Telegram
    # took it, so they have it too, and the outbox says it was not sent again.
    assert len(deliveries) == started.total
    assert counts.get("skipped") == 1


async def test_a_wall_of_reminders_goes_out_as_a_stream(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More reminders than a minute's share at once: they are spread a minute's share a minute (here
    10, so 30 take three minutes), oldest first, instead of all falling due together."""
    import kartu.loyalty.delivery as rules
    import kartu.services.upkeep as upkeep

    monkeypatch.setattr(rules, "REMINDERS_PER_MINUTE", 10)
    monkeypatch.setattr(upkeep, "REMINDERS_PER_MINUTE", 10)
    await _reminders_due(services, clock, customers=30)
    async with services.delivery.db.read() as uow:
        reminders = sorted(await uow.outbox.messages("stamp_reminder"), key=lambda message: message.id)
    times = [message.not_before for message in reminders]
    assert times == sorted(times)
    assert Counter(times).most_common(1)[0][1] == 10 and len(set(times)) == 3
    assert times[-1] - times[0] == timedelta(minutes=2)
