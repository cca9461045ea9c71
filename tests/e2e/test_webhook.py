"""Webhook mode: the bot serves Telegram's posts over HTTP, and refuses posts without the secret."""

from __future__ import annotations

from pathlib import Path

from kartu.loyalty.clock import FrozenClock
from kartu.sandbox import BotAPIEmulator, TelegramUser
from tests.e2e.world import webhook_bot


async def test_the_bot_answers_over_a_webhook_and_refuses_forged_posts(
    tmp_path: Path, clock: FrozenClock
) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        async with webhook_bot(emulator, tmp_path, clock, secret="s3cret-Token_1") as app:
            url, secret = emulator.webhook  # type: ignore[misc]
            assert (
                url.startswith("http://127.0.0.1:")
                and url.endswith("/telegram/webhook")
                and secret == "s3cret-Token_1"
            )
            await app.services.merchants.create_merchant("Kopi Senja", 100)

            customer = TelegramUser(emulator, 300, "Ayu", "id")
            welcome = await customer.ask("/start")
            assert "Selamat datang di <b>Kopi Senja</b>" in welcome.body

            forged = {
                "update_id": 999,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 301, "type": "private"},
                    "from": {"id": 301, "is_bot": False, "first_name": "Eve"},
                    "text": "/start",
                },
            }
            assert await emulator.post_to_webhook(forged, secret="wrong") == 401
            assert await emulator.post_to_webhook(forged, secret=None) == 401
            assert (await customer.ask("/card")).photo is not None  # still serving; Eve got nothing
            assert emulator.messages_to(301) == []
    finally:
        await emulator.stop()
