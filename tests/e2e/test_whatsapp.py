"""A WhatsApp customer's whole story against the strict WhatsApp Cloud API emulator, with the real
bot polling the Telegram emulator for staff: joining by the counter's QR (``GABUNG <shop code>``)
with consent, a Telegram barista confirming their code until the card is full, the reward code and
its redemption on WhatsApp, Meta's duplicate and out-of-order posts, the 24-hour window, /mydata and
/forget. On SQLite and PostgreSQL, in Indonesian and English."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import BotAPIEmulator, TelegramUser
from kartu.sandbox.whatsapp import WaSent, WaUser, WhatsAppEmulator
from kartu.scheduler.pacing import Pacer
from kartu.storage.models import Contact, OutboxMessage, Person, WhatsAppMessage
from tests.e2e.world import ADMIN_ID, FakeTime, World, bot_settings, code_in, polling_bot, scheduler_for

WORDS = {  # what each customer types: their language's words
    "id": {"join": "GABUNG", "code": "KODE", "rewards": "HADIAH", "card": "KARTU", "forget": "HAPUS"},
    "en": {"join": "JOIN", "code": "CODE", "rewards": "REWARDS", "card": "CARD", "forget": "FORGET"},
}


@dataclass
class Meta:
    emulator: WhatsAppEmulator
    pacer_time: FakeTime


@pytest.fixture
async def meta(clock: FrozenClock) -> AsyncIterator[Meta]:
    emulator = WhatsAppEmulator()
    emulator.now = lambda: clock.now().timestamp()  # the 24-hour window on the test's clock
    await emulator.start()
    try:
        yield Meta(emulator, FakeTime())
    finally:
        await emulator.stop()


@pytest.fixture
async def world(database_url: str, clock: FrozenClock, meta: Meta) -> AsyncIterator[World]:
    telegram = BotAPIEmulator()
    telegram.now = lambda: clock.now().timestamp()
    await telegram.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = bot_settings(
        telegram,
        database_url,
        admin_ids=frozenset({ADMIN_ID}),
        flood_burst=10_000,
        whatsapp_port=port,
        **meta.emulator.settings(),
    )
    meta.emulator.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
    try:
        async with polling_bot(telegram, settings, clock) as app:
            assert app.whatsapp is not None
            # One message every 6 s to a person, on a clock the test moves.
            app.whatsapp.courier.pacer = Pacer(
                80, per_chat_interval=6.0, monotonic=meta.pacer_time.monotonic, sleep=meta.pacer_time.sleep
            )
            pacer_time, dispatcher = scheduler_for(app)
            dispatcher.whatsapp = app.whatsapp.courier
            await telegram.wait_for(lambda: telegram.state.commands)
            await _until_listening(meta.emulator)
            world = World(telegram, app, clock, pacer_time, dispatcher)
            yield world
    finally:
        await telegram.stop()
    assert not telegram.state.refusals, telegram.state.refusals
    assert not meta.emulator.refused, [refusal.body() for refusal in meta.emulator.refused]


async def _eventually(world: World, read: Any, holds: Any) -> Any:
    """What ``read`` finds once ``holds`` (the bot works in the background)."""
    for _ in range(100):
        async with world.app.db.read() as uow:
            found = await read(uow)
        if holds(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never held: {found!r}")


async def _waiting_for_template(uow: Any) -> list[OutboxMessage]:
    return list(
        (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "template"))).all()
    )


async def _until_listening(emulator: WhatsAppEmulator) -> None:
    for _ in range(100):
        try:
            status, _text = await emulator.handshake()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the WhatsApp webhook never answered")


async def _reply(
    emulator: WhatsAppEmulator, user: WaUser, count: int = 1, timeout: float = 10.0
) -> list[WaSent]:
    """The next ``count`` messages the business sends ``user``."""
    seen = len(emulator.messages_to(user))
    await emulator.wait_for(lambda: len(emulator.messages_to(user)) >= seen + count, timeout)
    return emulator.messages_to(user)[seen : seen + count]


async def _says(emulator: WhatsAppEmulator, user: WaUser, text: str, count: int = 1) -> list[WaSent]:
    seen = len(emulator.messages_to(user))
    await emulator.write(user, text)
    await emulator.wait_for(lambda: len(emulator.messages_to(user)) >= seen + count)
    return emulator.messages_to(user)[seen : seen + count]


async def _taps(
    emulator: WhatsAppEmulator, user: WaUser, message: WaSent, title: str, count: int = 1
) -> list[WaSent]:
    seen = len(emulator.messages_to(user))
    await emulator.tap(user, message, title)
    await emulator.wait_for(lambda: len(emulator.messages_to(user)) >= seen + count)
    return emulator.messages_to(user)[seen : seen + count]


@pytest.mark.parametrize("language", ["id", "en"])
async def test_a_whatsapp_customer_joins_at_the_counter_fills_a_card_and_redeems(
    world: World, meta: Meta, owner: TelegramUser, barista: TelegramUser, language: str
) -> None:
    wa, words = meta.emulator, WORDS[language]
    await world.create_shop(rules=ProgramRules(stamps_required=3, daily_stamp_cap=0))
    await world.hire(owner, barista)
    ayu = wa.user("Ayu", phone="6281234567890")

    # The counter's QR opens WhatsApp with "GABUNG kopi-senja" typed: consent first, nothing kept yet.
    # /link gives the WhatsApp poster too: its QR opens a chat with the join words typed.
    await owner.ask("/link")
    for _ in range(2):
        await owner.next_message()  # the Telegram poster's PDFs
    poster = await owner.next_message()
    assert "https://wa.me/6281100009999?text=GABUNG%20kopi-senja" in poster.body and poster.photo
    assert (await owner.next_message()).document is not None

    (question,) = await _says(wa, ayu, f"{words['join']} kopi-senja")
    yes, no = question.buttons()
    assert "*Kopi Senja*" in question.text and "WhatsApp" in question.text
    assert yes == world.says(language, "✅ Yes, join") and no == world.says(language, "No, thanks")
    async with world.app.db.read() as uow:
        assert await uow.people.by_caller(_caller(ayu)) is None

    welcome, card, menu = await _taps(wa, ayu, question, yes, count=3)
    greeting = world.says(language, "Welcome to <b>{shop}</b>, {first_name}! Your stamp card is ready.")
    assert greeting.replace("<b>", "*").replace("</b>", "*").format(shop="Kopi Senja", first_name="Ayu") in (
        welcome.text
    )
    assert card.type == "image" and card.payload["image"]["id"] in wa.media
    assert menu.payload["interactive"]["type"] == "list" and len(menu.buttons()) == 8
    code = code_in(welcome.text.replace("```", "<code>", 1).replace("```", "</code>", 1))

    # Meta posts the same message again (at least once, for days): answered 200, handled once.
    before = len(wa.messages_to(ayu))
    again = wa.inbound(ayu, "text", {"body": f"{words['join']} kopi-senja"})
    assert await wa.post(again) == 200 and await wa.post(again) == 200
    await _reply(wa, ayu)
    await asyncio.sleep(0.3)
    assert len(wa.messages_to(ayu)) == before + 1  # one consent question, not two
    metrics = world.app.services.health.metrics.registry
    assert metrics.get_sample_value("kartu_whatsapp_total", {"what": "repeated"}) == 1

    (shown,) = await _says(wa, ayu, words["code"])
    assert shown.type == "image" and code in shown.text

    # A Telegram barista confirms her code three times: each stamp's news arrives on WhatsApp.
    for purchase in range(1, 4):
        prompt = await barista.ask(code)
        assert "Ayu" in prompt.body
        assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
        news = await _reply(wa, ayu, count=1 if purchase < 3 else 2)
        assert news[0].type == "image"
        assert f"{purchase}/3" in news[0].text if purchase < 3 else "*Kopi Senja*" in news[0].text
    reward_news = news[1]
    reward_code = code_in(reward_news.text.replace("```", "<code>", 1).replace("```", "</code>", 1))
    assert "1 free drink" in reward_news.text

    (rewards,) = await _says(wa, ayu, words["rewards"])
    assert reward_code in rewards.text

    redeem = await barista.ask(f"/redeem {reward_code}")
    assert (await barista.press(redeem, "Confirm")).text == "Redeemed."
    (thanks,) = await _reply(wa, ayu)
    assert "1 free drink" in thanks.text

    # Statuses come unordered: "read" before "delivered" keeps "read"; each is billed as service.
    await wa.post(wa.status(thanks, "read"))
    await wa.post(wa.status(thanks, "delivered"))
    row = await _eventually(
        world,
        lambda uow: uow.session.get(WhatsAppMessage, thanks.id),
        lambda row: row and row.status == "read",
    )
    assert row.status == "read" and row.category == "service" and not row.billable

    # A day later her window has closed: the next stamp's news waits for a template, not for Meta's 131047.
    world.clock.advance(hours=25)
    prompt = await barista.ask(code)
    await barista.press(prompt, "Confirm")
    waiting = await _eventually(world, _waiting_for_template, bool)
    assert len(waiting) == 1
    # The owner sees members by messenger, this month's WhatsApp messages and what waits.
    counting = await owner.ask("/stats")
    stats = await owner.until(lambda: "Anggota di WhatsApp" in counting.body and counting)
    assert "Anggota di WhatsApp: <b>1</b>, di Telegram: <b>0</b>" in stats.body
    assert "WhatsApp bulan ini, jawaban dan kabar dalam 24 jam (gratis)" in stats.body
    assert "⏸ 1 pesan perlu templat" in stats.body
    metrics = world.app.services.health.metrics
    await metrics.refresh(world.app.db, world.clock.now())
    assert metrics.registry.get_sample_value("kartu_whatsapp_waiting_for_template") == 1
    await owner.next_message()  # the week's chart
    # She writes again: her window opens, and the news that waited goes out.
    (card_again,) = await _says(wa, ayu, words["card"])
    assert card_again.type == "image"
    seen = len(wa.messages_to(ayu))
    await world.deliver()
    survey, waited = wa.messages_to(ayu)[seen:]  # the survey of her last visit, and the stamp's news
    assert "1/3" in waited.text
    assert len(survey.buttons()) == 5  # five stars, as a list
    (thanks,) = await _taps(wa, ayu, survey, survey.buttons()[4])
    assert thanks.text == world.says(language, "Thank you for your feedback!")

    # /mydata by word; then she erases her data: her WhatsApp identity goes with it.
    seen = len(wa.messages_to(ayu))
    await wa.write(ayu, "DATAKU" if language == "id" else "MYDATA")
    await wa.wait_for(lambda: len(wa.messages_to(ayu)) > seen)
    document = wa.messages_to(ayu)[seen]
    assert document.type == "document"
    exported = json.loads(wa.media[document.payload["document"]["id"]][0])
    assert any("ID." in json.dumps(rows) for rows in exported.values())
    (erase,) = await _says(wa, ayu, words["forget"])
    (done,) = await _taps(wa, ayu, erase, erase.buttons()[0])
    assert done.text == world.says(
        language,
        "Done: your personal data is erased. If you write to me again, I will treat you as someone new.",
    )
    async with world.app.db.read() as uow:
        assert (await uow.session.scalars(select(Contact))).all() == []
        people = (await uow.session.scalars(select(Person).where(Person.forgotten_at.is_not(None)))).all()  # type: ignore[union-attr]
        assert len(people) == 1 and people[0].first_name == ""


async def test_the_webhook_refuses_forged_posts_and_a_wrong_handshake(world: World, meta: Meta) -> None:
    wa = meta.emulator
    ayu = wa.user("Ayu")
    payload = wa.inbound(ayu, "text", {"body": "GABUNG kopi-senja"})
    assert await wa.post(payload, signature="sha256=" + "0" * 64) == 401
    status, _ = await wa.handshake(verify_token="not-the-token")
    assert status == 403
    status, challenge = await wa.handshake(challenge="8723")
    assert (status, challenge) == (200, "8723")
    await asyncio.sleep(0.2)
    assert wa.messages_to(ayu) == []  # the forged post was not handled
    metrics = world.app.services.health.metrics.registry
    assert metrics.get_sample_value("kartu_whatsapp_total", {"what": "refused"}) == 1


async def test_an_unknown_shop_code_and_a_stranger_get_a_polite_answer(world: World, meta: Meta) -> None:
    wa = meta.emulator
    await world.create_shop()
    ayu = wa.user("Ayu")
    (unknown,) = await _says(wa, ayu, "GABUNG warung-tidak-ada")
    assert "warung-tidak-ada" in unknown.text
    (hello,) = await _says(wa, ayu, "KARTU")
    assert "GABUNG" in hello.text or "JOIN" in hello.text
    (question,) = await _says(wa, ayu, "GABUNG kopi-senja")
    (declined,) = await _taps(wa, ayu, question, question.buttons()[1])
    assert declined.text == world.says(
        "id",
        "All right: you did not join, and you will get no messages. "
        "Scan the QR code at the counter again any time to join.",
    )
    async with world.app.db.read() as uow:  # no consent: nothing kept
        assert (await uow.session.scalars(select(Contact))).all() == []


def _caller(user: WaUser):  # type: ignore[no-untyped-def]
    from kartu.loyalty.channels import whatsapp_user

    return whatsapp_user(user.bsuid)


async def test_points_on_whatsapp_from_an_amount_to_a_catalogue_reward_and_back(
    world: World, meta: Meta, owner: TelegramUser, barista: TelegramUser
) -> None:
    wa = meta.emulator
    await world.create_shop()
    await world.hire(owner, barista)
    async with world.app.db.write() as uow:  # what /program's "Points only" leaves
        merchant = await uow.merchants.by_slug("kopi-senja")
        assert merchant is not None
        program = await uow.programs.for_merchant(merchant.id)
        program.points_enabled, program.stamps_enabled = True, False
        uow.session.add(program)
    await world.app.services.catalogue.add(100, "Es Kopi *Susu*", "20")
    ayu = wa.user("Ayu")
    (question,) = await _says(wa, ayu, "GABUNG kopi-senja")
    welcome, menu = await _taps(wa, ayu, question, question.buttons()[0], count=2)  # no stamp card to show
    code = code_in(welcome.text.replace("```", "<code>", 1).replace("```", "</code>", 1))

    prompt = await barista.ask(code)
    prompt = await barista.ask("250rb")
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    (news,) = await _reply(wa, ayu)
    assert "+25 poin" in news.text

    (catalogue,) = await _says(wa, ayu, "HADIAH")
    assert "Es Kopi ∗Susu∗ — 20 poin" in catalogue.text  # the owner's stars cannot turn it bold
    assert catalogue.payload["interactive"]["type"] == "list"
    (offer,) = await _taps(wa, ayu, catalogue, catalogue.buttons()[0])
    assert "Sisa poinmu nanti 5 poin" in offer.text
    done, issued = await _taps(wa, ayu, offer, offer.buttons()[0], count=2)
    assert "Kode hadiahnya ada di pesan berikut" in done.text
    assert "Es Kopi ∗Susu∗" in issued.text
    (again,) = await _taps(wa, ayu, offer, offer.buttons()[0])  # an old screen tapped again
    assert again.text == world.says("id", "You already got this reward: its code is in the chat.")
    (returned,) = await _taps(wa, ayu, issued, issued.buttons()[0])  # the reward's "give back" button
    assert "20 poin kembali. Poinmu sekarang 25 poin" in returned.text


async def test_a_telegram_customer_adds_whatsapp_with_a_one_time_code(
    world: World, meta: Meta, barista: TelegramUser, customer: TelegramUser, owner: TelegramUser
) -> None:
    wa = meta.emulator
    join = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    await world.hire(owner, barista)
    code = await world.join(customer, join)
    prompt = await barista.ask(code)
    await barista.press(prompt, "Confirm")
    await customer.next_message()

    offer = await customer.ask("/whatsapp")
    assert "Kode untuk menambahkan WhatsApp" in offer.body
    link_code = code_in(offer.body)
    (button,) = offer.buttons()
    assert button["url"].startswith("https://wa.me/6281100009999?text=LINK%20")

    # Someone else's WhatsApp, with a card of its own, cannot take it over.
    dewi = wa.user("Dewi")
    (question,) = await _says(wa, dewi, "GABUNG kopi-senja")
    await _taps(wa, dewi, question, question.buttons()[0], count=3)
    (refused,) = await _says(wa, dewi, f"LINK {link_code}")
    assert "sudah punya kartu sendiri" in refused.text

    ayu = wa.user("Ayu")
    (linked, _menu) = await _says(wa, ayu, f"HUBUNGKAN {link_code.lower()}", count=2)
    assert linked.text.startswith("Terhubung, Ayu")
    (card,) = await _says(wa, ayu, "KARTU")
    assert card.type == "image" and "1/10" in card.text  # the same card as on Telegram
    (again,) = await _says(wa, wa.user("Budi"), f"LINK {link_code}")  # once only
    assert again.text.startswith("That code does not link anything")  # a stranger, in English

    # The next stamp's news still goes to Telegram, where she joined.
    prompt = await barista.ask(code)
    await barista.press(prompt, "Confirm")
    assert "2/10" in (await customer.next_message()).body


async def test_a_broadcast_reaches_whatsapp_inside_the_window_and_waits_outside_it(
    world: World, meta: Meta, owner: TelegramUser, customer: TelegramUser
) -> None:
    wa = meta.emulator
    payload = await world.create_shop(rules=ProgramRules(survey_every_days=0))
    await world.join(customer, payload)
    ayu, dewi = wa.user("Ayu"), wa.user("Dewi")
    for person in (ayu, dewi):
        (question,) = await _says(wa, person, "GABUNG kopi-senja")
        await _taps(wa, person, question, question.buttons()[0], count=3)
    world.clock.advance(hours=20)
    await _says(wa, dewi, "KARTU")  # Dewi wrote 4 hours ago; Ayu a day ago when it goes out
    world.clock.advance(hours=4)

    await owner.ask("/broadcast")
    segments = await owner.ask("Kopi *gratis* hari Jumat!")
    await owner.press(segments, "Semua anggota")
    await owner.next_message()  # the preview
    confirm = await owner.next_message()
    await owner.press(confirm, "Kirim")
    await world.deliver()

    assert "Kopi ∗gratis∗ hari Jumat!" in wa.messages_to(dewi)[-1].text  # the owner's stars stay stars
    assert "Jumat" not in wa.messages_to(ayu)[-1].text  # outside her window: it waits
    assert "Jumat" in (await customer.next_message()).body  # Telegram as ever
    waiting = await _eventually(world, _waiting_for_template, bool)
    assert [row.person_id for row in waiting] != [] and len(waiting) == 1


async def test_an_outlets_code_joins_its_business_on_whatsapp(world: World, meta: Meta) -> None:
    wa = meta.emulator
    await world.create_shop()
    await world.app.services.merchants.add_outlet("kopi-senja", "Plaza Senayan")
    ayu = wa.user("Ayu")
    (question,) = await _says(wa, ayu, "GABUNG kopi-senja-plaza-senayan")
    assert "*Kopi Senja · Plaza Senayan*" in question.text
    welcome, _card, _menu = await _taps(wa, ayu, question, question.buttons()[0], count=3)
    assert "Kopi Senja" in welcome.text
    async with world.app.db.read() as uow:
        person = await uow.people.by_caller(_caller(ayu))
        assert person is not None
        card = await uow.cards.get(person.current_merchant_id, person.id)
        outlets = await uow.merchants.outlets(person.current_merchant_id or 0)
        assert card is not None and card.joined_outlet_id == outlets[1].id
