"""📷 Scan at the counter through the strict emulator: the staff keyboard's Mini App button (https
only, as Telegram takes it), what the page sends back (``web_app_data``) opening the same prompt as
a typed code, an amount from its keypad in a points shop, and a QR that is no Kartu code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from kartu.bot.miniapp import signed_init_data
from kartu.bot.pages import add_miniapp_routes
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.presenters.menus import PAGES, set_public_url
from kartu.sandbox import BotAPIEmulator, SentMessage, TelegramUser
from kartu.sandbox.serving import serve_on_free_port
from tests.e2e.world import World, webhook_bot

PUBLIC = "https://kartu.example"


@pytest.fixture
def scanning(world: World) -> Iterator[World]:
    """The world's bot with KARTU_PUBLIC_URL set (what build_app does with it)."""
    set_public_url(PUBLIC)
    try:
        yield world
    finally:
        set_public_url("")


@pytest.fixture
def public_url() -> Iterator[None]:
    set_public_url(PUBLIC)
    try:
        yield
    finally:
        set_public_url("")


def _with_keyboard(user: TelegramUser) -> SentMessage:
    return next(message for message in reversed(user.inbox) if (message.reply_markup or {}).get("keyboard"))


async def test_staff_scan_a_code_and_confirm(
    scanning: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    world = scanning
    join = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    await world.hire(owner, barista)
    code = await world.join(customer, join)
    keyboard = _with_keyboard(barista)
    (scan,) = [b for row in keyboard.reply_markup["keyboard"] for b in row if "web_app" in b]  # type: ignore[index]
    assert scan["text"] == "📷 Scan" and scan["web_app"]["url"] == f"{PAGES['scan']}?lang=en&points=0"

    await barista.send_web_app_data(keyboard, "📷 Scan", json.dumps({"code": code.lower()}))
    prompt = await barista.next_message()
    assert "Ayu" in prompt.body
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    assert "1/10" in (await customer.next_message()).body

    await barista.send_web_app_data(keyboard, "📷 Scan", json.dumps({"code": "https://example.com/menu"}))
    assert "not a Kartu code" in (await barista.next_message()).body
    await barista.send_web_app_data(keyboard, "📷 Scan", "{not json")
    assert "not a Kartu code" in (await barista.next_message()).body
    assert len(customer.inbox) == 2  # nothing else happened to her


async def test_an_amount_from_the_keypad_in_a_points_shop(
    scanning: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    world = scanning
    join = await world.create_shop()
    async with world.app.db.write() as uow:
        merchant = await uow.merchants.by_slug(join.removeprefix("m_"))
        assert merchant is not None
        program = await uow.programs.for_merchant(merchant.id)
        program.points_enabled, program.stamps_enabled = True, False
        uow.session.add(program)
    await world.hire(owner, barista)
    code = await world.join(customer, join)
    await barista.ask("/help")  # the keyboard of the shop as it runs now
    keyboard = _with_keyboard(barista)
    urls = [b["web_app"]["url"] for row in keyboard.reply_markup["keyboard"] for b in row if "web_app" in b]  # type: ignore[index]
    assert urls == [f"{PAGES['scan']}?lang=en&points=1"]
    await barista.send_web_app_data(keyboard, "📷 Scan", json.dumps({"code": code, "amount": "125000"}))
    prompt = await barista.next_message()
    assert "<b>Rp 125,000 → 12 points</b>" in prompt.body
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    assert "+12 poin" in (await customer.next_message()).body


async def test_the_scan_page_is_served_in_the_readers_language(tmp_path: Path, clock: FrozenClock) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        async with webhook_bot(emulator, tmp_path, clock) as app:
            base = app.settings.webhook_url
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{base}/webapp/scan?lang=id&points=1") as page:
                    body = await page.text()
                    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    finally:
        await emulator.stop()
    words = json.loads(body.split('type="application/json">')[1].split("</script>")[0])
    assert words["points"] is True and words["locale"] == "id-ID"
    assert words["scan"] != "Open the camera"  # Indonesian
    assert "telegram-web-app.js" in body


def test_a_mini_app_button_must_open_an_https_page() -> None:
    from kartu.sandbox.rules import TelegramRefusal, check_markup

    with pytest.raises(TelegramRefusal, match="BUTTON_URL_INVALID"):
        check_markup(
            {"keyboard": [[{"text": "📷 Scan", "web_app": {"url": "http://kartu.example/webapp/scan"}}]]}
        )
    check_markup(
        {"keyboard": [[{"text": "📷 Scan", "web_app": {"url": "https://kartu.example/webapp/scan"}}]]}
    )


async def test_the_customers_card_as_a_mini_app(scanning: World, customer: TelegramUser) -> None:
    """/card's 📱 Open my card opens the card page; what it asks the server carries the launch data
    Telegram signed for her, and nothing else opens it (forged, expired, someone else's)."""
    world = scanning
    join = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    code = await world.join(customer, join)
    card = await customer.ask("/card")
    (opening,) = [b for b in card.buttons() if "web_app" in b]
    assert opening["text"] == "📱 Buka kartuku" and opening["web_app"]["url"] == f"{PAGES['card']}?lang=id"

    app = world.app
    server = web.Application()
    add_miniapp_routes(server, app.services, app.settings, app.i18n)
    token, now = app.settings.bot_token, world.clock.now()
    her = signed_init_data(token, {"id": customer.id, "first_name": "Ayu", "language_code": "id"}, now)
    stranger = signed_init_data(token, {"id": 999, "first_name": "Eve"}, now)
    old = signed_init_data(token, {"id": customer.id, "first_name": "Ayu"}, now - timedelta(hours=2))
    forged = signed_init_data("1:OTHER", {"id": customer.id, "first_name": "Ayu"}, now)
    runner, port = await serve_on_free_port(server)
    try:
        async with aiohttp.ClientSession() as session:

            async def ask(init_data: str) -> tuple[int, dict[str, object]]:
                async with session.post(
                    f"http://127.0.0.1:{port}/webapp/api/card", headers={"X-Telegram-Init-Data": init_data}
                ) as answer:
                    return answer.status, await answer.json()

            status, shown = await ask(her)
            assert status == 200 and shown["shop"] == "Kopi Senja" and shown["stamps"] == 0
            assert shown["code"] == code and str(shown["qr"]).startswith("<svg")
            assert "Kamu belum punya hadiah" in str(shown["rewards"])  # in her language
            assert (await ask(stranger))[0] == 404  # a Telegram user with no card: nobody's card
            for refused in (old, forged, "", "user=%7B%7D&hash=00"):
                assert (await ask(refused))[0] == 401
            metrics = app.services.health.metrics.registry
            assert metrics.get_sample_value("kartu_miniapp_total", {"what": "refused"}) == 4
            async with session.get(f"http://127.0.0.1:{port}/webapp/card?lang=id") as page:
                assert page.status == 200 and "Buka kartuku" in await page.text()
    finally:
        await runner.cleanup()
