"""The outbox's courier for WhatsApp against the strict emulator: Meta's refusals are never retried
blindly. A message inside the window goes out and is recorded; outside it (by Kartu's clock or by
Meta's 131047) it waits for a template; too fast for one person (131056) it goes back to the queue
for later; someone who never agreed gets nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from kartu.channels.whatsapp.courier import WhatsAppCourier
from kartu.channels.whatsapp.graph import graph_client
from kartu.channels.whatsapp.sender import WhatsAppSender
from kartu.config import Settings
from kartu.loyalty.channels import whatsapp_user
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.delivery import Category, Kind
from kartu.presenters.format import html
from kartu.presenters.notices import Rendered
from kartu.sandbox.whatsapp import WaUser, WhatsAppEmulator
from kartu.scheduler.dispatcher import DispatchReport
from kartu.scheduler.pacing import Pacer
from kartu.services.container import Services
from kartu.services.customers import Visitor
from kartu.storage.courier import Parcel
from kartu.storage.database import Database
from kartu.storage.models import Contact, OutboxMessage, WhatsAppEvent, WhatsAppMessage
from tests.e2e.world import FakeTime


@pytest.fixture
async def meta(clock: FrozenClock) -> AsyncIterator[WhatsAppEmulator]:
    emulator = WhatsAppEmulator()
    emulator.now = lambda: clock.now().timestamp()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


async def _setup(services: Services, meta: WhatsAppEmulator) -> tuple[WhatsAppCourier, WaUser, int, int]:
    settings = Settings(_env_file=None, **meta.settings())  # type: ignore[arg-type]
    time = FakeTime()
    number = Pacer(80, per_chat_interval=0.0, monotonic=time.monotonic, sleep=time.sleep)
    courier = WhatsAppCourier(
        WhatsAppSender(graph_client(settings), services.whatsapp, number),
        services,
        Pacer(80, per_chat_interval=6.0, monotonic=time.monotonic, sleep=time.sleep),
    )
    created = await services.merchants.create_merchant("Kopi Senja", 100)
    ayu = meta.user("Ayu")
    ayu.last_inbound = meta.now()
    joined = await services.customers.join_by_channel(
        Visitor(whatsapp_user(ayu.bsuid), "Ayu", "id"), created.slug
    )
    return courier, ayu, joined.person_id, joined.merchant_id


async def _queued(services: Services, person_id: int, merchant_id: int, key: str) -> Parcel:
    now = services.delivery.clock.now()
    async with services.delivery.db.write() as uow:
        await uow.outbox.enqueue(
            key=key,
            kind=Kind.REWARD_REDEEMED,
            category=Category.RESULT,
            chat_id=None,
            person_id=person_id,
            merchant_id=merchant_id,
            now=now,
            not_before=now,
        )
    (parcel,) = await services.delivery.claim_keys("test", [key])
    assert parcel.channel == "whatsapp"
    return parcel


async def _status(db: Database, key: str) -> str:
    async with db.read() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert row is not None
        return row.status


async def test_inside_the_window_it_goes_out_and_is_recorded(
    services: Services, db: Database, meta: WhatsAppEmulator
) -> None:
    courier, ayu, person_id, merchant_id = await _setup(services, meta)
    report = DispatchReport()
    await courier.deliver(await _queued(services, person_id, merchant_id, "a"), Rendered(html("Hi")), report)
    assert report.sent == 1 and meta.messages_to(ayu)[-1].text == "Hi"
    assert await _status(db, "a") == "sent"
    async with db.read() as uow:
        recorded = await uow.session.get(WhatsAppMessage, meta.messages_to(ayu)[-1].id)
        assert recorded is not None and recorded.person_id == person_id and recorded.category == "service"


async def test_outside_the_window_it_waits_for_a_template_by_either_clock(
    services: Services, db: Database, meta: WhatsAppEmulator, clock: FrozenClock
) -> None:
    courier, ayu, person_id, merchant_id = await _setup(services, meta)
    clock.advance(hours=25)  # Kartu's clock: closed, Meta is not even asked
    report = DispatchReport()
    await courier.deliver(await _queued(services, person_id, merchant_id, "b"), Rendered(html("Hi")), report)
    assert await _status(db, "b") == "template" and meta.messages_to(ayu) == [] and not meta.refused

    # Kartu thinks the window open (she wrote, it says), Meta knows better: 131047, the same wait.
    async with db.write() as uow:
        contact = await uow.people.by_contact("whatsapp", ayu.bsuid)
        assert contact is not None
        contact.last_inbound_at = clock.now() - timedelta(hours=1)
        await uow.people.save_contact(contact)
    await courier.deliver(await _queued(services, person_id, merchant_id, "c"), Rendered(html("Hi")), report)
    assert await _status(db, "c") == "template" and [r.code for r in meta.refused] == [131047]


async def test_too_fast_for_one_person_goes_back_to_the_queue_not_again_at_once(
    services: Services, db: Database, meta: WhatsAppEmulator
) -> None:
    courier, ayu, person_id, merchant_id = await _setup(services, meta)
    ayu.pace.level, ayu.pace.at = 0.0, meta.monotonic()  # Meta's pair limit spent (a burst from elsewhere)
    report = DispatchReport()
    await courier.deliver(await _queued(services, person_id, merchant_id, "d"), Rendered(html("Hi")), report)
    assert report.throttled == 1 and [r.code for r in meta.refused] == [131056]
    assert await _status(db, "d") == "pending"  # for later, its attempt not counted
    assert len(meta.refused) == 1  # and not blindly tried again


async def test_someone_who_never_agreed_gets_nothing(
    services: Services, db: Database, meta: WhatsAppEmulator
) -> None:
    courier, ayu, person_id, merchant_id = await _setup(services, meta)
    async with db.write() as uow:
        contact = (await uow.session.scalars(select(Contact))).one()
        contact.consent_at = None
        await uow.people.save_contact(contact)
    report = DispatchReport()
    await courier.deliver(await _queued(services, person_id, merchant_id, "e"), Rendered(html("Hi")), report)
    assert await _status(db, "e") == "skipped" and meta.messages_to(ayu) == []


async def test_the_sweep_forgets_old_event_ids_and_last_years_messages(
    services: Services, db: Database, meta: WhatsAppEmulator, clock: FrozenClock
) -> None:
    courier, ayu, person_id, merchant_id = await _setup(services, meta)
    await services.whatsapp.journal([("wamid.done", ayu.bsuid, "{}"), ("wamid.stuck", ayu.bsuid, "{}")])
    await services.whatsapp.handled("wamid.done")
    await services.whatsapp.sent("wamid.sent", person_id, merchant_id)
    clock.advance(days=9)
    await services.upkeep.sweep()
    async with db.read() as uow:
        left = {row.event_id for row in (await uow.session.scalars(select(WhatsAppEvent))).all()}
        assert left == {"wamid.stuck"}  # Meta may no longer post the handled one; the other waits its tries
        assert await uow.session.get(WhatsAppMessage, "wamid.sent") is not None  # this month's count
    clock.advance(days=400)
    await services.upkeep.sweep()
    async with db.read() as uow:
        assert await uow.session.get(WhatsAppMessage, "wamid.sent") is None


async def test_the_numbers_throughput_pauses_the_number_and_tries_again(
    services: Services, db: Database, meta: WhatsAppEmulator
) -> None:
    courier, ayu, person_id, merchant_id = await _setup(services, meta)
    fake = courier.sender.pacer.monotonic.__self__  # type: ignore[attr-defined]  # the test's FakeTime
    meta.monotonic = fake.monotonic  # Meta's pace on the same clock: a pause is a pause there too
    meta._number.level, meta._number.at = 0.0, meta.monotonic()  # 80/s spent by other sends
    report = DispatchReport()
    await courier.deliver(await _queued(services, person_id, merchant_id, "f"), Rendered(html("Hi")), report)
    assert [r.code for r in meta.refused] == [130429]  # once: the number paused, then it went
    assert report.sent == 1 and await _status(db, "f") == "sent"
    assert 1.0 in fake.sleeps  # the pause was the number's, shared by every send
