"""What every update passes first: a backlog is answered in full, re-deliveries change nothing,
groups are refused, floods are slowed, broken bodies are refused, and failures apologise."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update

from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.sandbox import BotAPIEmulator, TelegramUser
from tests.e2e.world import World, bot_settings, polling_bot, webhook_bot

APOLOGY = "Sorry, something went wrong"


async def test_a_backlog_of_2000_updates_is_answered_once_each_without_apologies(
    database_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight = peak = 0
    feed_update = Dispatcher.feed_update

    async def counting_feed_update(self: Dispatcher, bot: Bot, update: Update, **kwargs: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await feed_update(self, bot, update, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(Dispatcher, "feed_update", counting_feed_update)
    emulator = BotAPIEmulator()
    await emulator.start()
    users = [TelegramUser(emulator, 10_000 + number, f"User {number}", "en") for number in range(200)]
    for _ in range(10):
        for user in users:
            await user.send("/help")
    try:
        async with polling_bot(emulator, bot_settings(emulator, database_url), clock):
            await emulator.wait_for(lambda: len(emulator.state.sent) >= 2000, timeout=240)
            await asyncio.sleep(0.5)  # anything extra would arrive now
    finally:
        await emulator.stop()
    answers = Counter(message.chat_id for message in emulator.state.sent)
    assert len(emulator.state.sent) == 2000
    assert set(answers.values()) == {10}
    assert not [message for message in emulator.state.sent if APOLOGY in message.body]
    assert peak <= Settings(_env_file=None).max_concurrent_updates  # the backlog waited its turn


async def test_a_failure_in_a_middleware_gets_the_apology(
    world: World, customer: TelegramUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def database_down(*_: object) -> str:
        raise ConnectionError("database is down")

    monkeypatch.setattr(world.app.services.customers, "arrive", database_down)
    monkeypatch.setattr(world.app.services.customers, "seen", database_down)
    monkeypatch.setattr(world.app.services.customers, "chosen_language", database_down)
    assert (await customer.ask("/help")).body.startswith("Maaf, ada gangguan di sistem kami.")


async def test_a_redelivered_update_has_no_effect(tmp_path: Path, clock: FrozenClock) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        async with webhook_bot(emulator, tmp_path, clock) as app:
            created = await app.services.merchants.create_merchant("Kopi Senja", 100)
            customer = TelegramUser(emulator, 300, "Ayu", "id")
            update_id = await customer.send(f"/start m_{created.slug}")
            await customer.next_message()
            assert await emulator.redeliver(update_id) == 200
            assert await emulator.redeliver(update_id) == 200
            assert "kartu" in (await customer.ask("/help")).body.lower()
            assert customer.unread() == []  # one welcome, one help: the replays said nothing
    finally:
        await emulator.stop()


async def test_broken_webhook_bodies_get_400_and_no_traceback(tmp_path: Path, clock: FrozenClock) -> None:
    import aiohttp

    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        async with webhook_bot(emulator, tmp_path, clock):
            url, secret = emulator.webhook  # type: ignore[misc]
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret or ""}
            async with aiohttp.ClientSession() as session:
                for body in (b"{not json", b'{"hello": "world"}', b"[]", b'{"update_id": "x"}'):
                    async with session.post(
                        url, data=body, headers={**headers, "Content-Type": "application/json"}
                    ) as response:
                        assert response.status == 400
                        assert "Traceback" not in await response.text()
            customer = TelegramUser(emulator, 300, "Ayu", "en")
            assert "Kartu" in (await customer.ask("/help")).body  # still serving
    finally:
        await emulator.stop()


async def test_groups_get_one_pointer_to_the_private_chat_and_nothing_else(
    world: World, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.join(customer, payload)
    group = -100123
    for command in ("/rewards", "/code", "/export", "/stats", "/staff", "/card"):
        await customer.send_in_group(group, command)
    await customer.send_in_group(group, "/help", as_chat=True)  # an anonymous admin: no from_user
    await customer.send_in_group(group, "hello everyone")
    await customer.ask("/help")  # the private chat still works, and everything above was handled first
    in_group = world.emulator.messages_to(group)
    assert len(in_group) == 1
    assert in_group[0].body == (
        "Aku cuma melayani lewat chat pribadi, supaya kode dan kartumu tidak dilihat orang lain. "
        "Buka chat denganku: https://t.me/kartu_test_bot"
    )


async def test_a_flood_is_answered_once_then_ignored(tmp_path: Path, clock: FrozenClock) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        settings = bot_settings(
            emulator, f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}"
        )  # default limits: burst 20
        async with polling_bot(emulator, settings, clock):
            flooder = TelegramUser(emulator, 666, "Spam", "en")
            calm = TelegramUser(emulator, 667, "Calm", "en")
            for _ in range(60):
                await flooder.send("ABCD-EFGH")
            assert "Kartu" in (await calm.ask("/help", timeout=30)).body
            await emulator.wait_for(lambda: len(flooder.inbox) >= 21, timeout=30)
            await asyncio.sleep(0.5)
    finally:
        await emulator.stop()
    bodies = [message.body for message in flooder.inbox]
    assert len(bodies) == 21
    assert bodies.count("You are sending messages very fast. I will answer again in half a minute.") == 1


async def test_the_flood_budget_refills_at_its_rate_and_the_silence_lasts_half_a_minute(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """A burst of 5, then 1 a second (the guard's clock moved by the test): a budget that never
    refilled, or refilled faster, or a silence of another length, fails here."""
    emulator = BotAPIEmulator()
    await emulator.start()
    now = [1000.0]
    slow_down = "You are sending messages very fast. I will answer again in half a minute."
    try:
        settings = bot_settings(
            emulator, f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}", flood_burst=5, flood_per_second=1.0
        )
        async with polling_bot(emulator, settings, clock, flood_clock=lambda: now[0]):
            person = TelegramUser(emulator, 668, "Rapid", "en")
            languages = await person.ask("/lang")
            for _ in range(3):  # 4 of the burst of 5: one left
                assert "Kartu" in (await person.ask("/help")).body
            now[0] += 2.0  # two seconds: two more
            for _ in range(3):
                assert "Kartu" in (await person.ask("/help")).body
            assert (await person.ask("/help")).body == slow_down  # the budget is spent: said once
            now[0] += 29.0
            ignored = await person.press(languages, "English")  # still silent: the tap is only stopped
            assert ignored.text is None and person.unread() == []
            now[0] += 1.5  # thirty seconds and a half after the warning: heard again
            assert "Kartu" in (await person.ask("/help")).body
    finally:
        await emulator.stop()
    bodies = [message.body for message in person.inbox]
    assert bodies.count(slow_down) == 1 and len(bodies) == 9
