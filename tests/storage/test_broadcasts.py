"""Broadcast queueing on both databases: the right recipients, once, one broadcast at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.errors import BroadcastRunning, NobodyToReach
from kartu.loyalty.program import ProgramRules
from kartu.loyalty.segments import Segment
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER = 1


async def _shop(services: Services, customers: int) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER, rules=ProgramRules())
    for number in range(customers):
        await services.customers.start(TelegramProfile(1000 + number, f"C{number}"), f"m_{created.slug}")
    await services.customers.stop_promotions(1000)  # one opted out


async def test_two_owners_tapping_send_at_once_start_one_broadcast(services: Services, db: Database) -> None:
    await _shop(services, 12)
    assert (await services.broadcasts.audience(OWNER))["all"] == 11
    results = await asyncio.gather(
        *(services.broadcasts.start(OWNER, "Promo", None, "all") for _ in range(5)), return_exceptions=True
    )
    started = [r for r in results if not isinstance(r, BaseException)]
    assert len(started) == 1 and started[0].total == 11
    assert all(isinstance(r, BroadcastRunning) for r in results if isinstance(r, BaseException))
    async with db.read() as uow:
        queued = await uow.outbox.messages("broadcast")
    assert sorted(m.chat_id for m in queued) == list(range(1001, 1012))


async def test_the_cooldown_counts_sent_messages_not_cancelled_ones(services: Services, db: Database) -> None:
    await _shop(services, 3)
    started = await services.broadcasts.start(OWNER, "Promo", None, "all")
    await services.broadcasts.cancel(OWNER, started.broadcast_id)  # nothing was sent yet
    await services.broadcasts.progress_updates()  # closes the cancelled broadcast
    again = await services.broadcasts.start(OWNER, "Again", None, "all")
    assert again.total == 2  # never messaged: they may get this one

    async with db.write() as uow:  # pretend the second one went out
        for message in await uow.outbox.messages("broadcast"):
            if message.subject_id == again.broadcast_id:
                await uow.outbox.finish(message.id, "sent", message.created_at)
    await services.broadcasts.progress_updates()
    with pytest.raises(NobodyToReach):
        await services.broadcasts.start(OWNER, "Third", None, "all")


async def test_the_one_pass_segment_counts_agree_with_the_recipients_queries(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    """Members of every kind (opted out, unreachable, active, lapsed, close to a reward, holding
    one): the counts taken in one pass over the cards equal the recipient queries' counts, which
    queue the broadcast."""
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(2, "Budi"), f"staff_{token}")
    codes = []
    for number in range(14):
        joined = await services.customers.start(
            TelegramProfile(1000 + number, f"C{number}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    for number, code in enumerate(codes[:10]):  # purchases: 1 to 10 stamps (a full card: a reward)
        prompt = await services.counter.open_purchase(2, code, str(number + 1))
        await services.counter.confirm_purchase(2, prompt.token)
        if number == 4:
            clock.advance(days=40)  # the first five lapse
    await services.customers.stop_promotions(1011)
    async with db.write() as uow:
        person = await uow.people.by_telegram_id(1012)
        assert person is not None
        person.unreachable_at = clock.now()  # blocked the bot
    now, cooldown = clock.now(), clock.now() - timedelta(hours=24)
    async with db.read() as uow:
        fast = await uow.broadcasts.counts(1, tuple(Segment), now, cooldown)
        slow = {segment: await uow.broadcasts._count_one(1, segment, now, cooldown) for segment in Segment}
    assert fast == slow
    assert fast[Segment.ALL] == 12 and fast[Segment.LAPSED] and fast[Segment.ACTIVE] and fast[Segment.REWARD]
