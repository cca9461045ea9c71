"""Webhook mode: the bot serves Telegram's posts over HTTP, and refuses posts without the secret."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from kartu.bot.app import build_app, run_webhook
from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.sandbox import BotAPIEmulator, TelegramUser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_bot_answers_over_a_webhook_and_refuses_forged_posts(tmp_path: Path, clock: FrozenClock) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    port = _free_port()
    settings = Settings(
        _env_file=None, bot_token=emulator.token, telegram_api_url=emulator.url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}", scheduler="off",
        webhook_url=f"http://127.0.0.1:{port}", webhook_secret="s3cret-Token_1", webhook_port=port,
    )
    app = build_app(settings, clock)
    stop = asyncio.Event()
    serving = asyncio.create_task(run_webhook(app, stop))
    try:
        await emulator.wait_for(lambda: emulator.webhook)
        assert emulator.webhook == (f"http://127.0.0.1:{port}/telegram/webhook", "s3cret-Token_1")
        await app.services.merchants.create_merchant("Kopi Senja", 100)

        customer = TelegramUser(emulator, 300, "Ayu", "id")
        welcome = await customer.ask("/start")
        assert "Selamat datang di <b>Kopi Senja</b>" in welcome.body

        forged = {"update_id": 999, "message": {"message_id": 1, "date": 0, "chat": {"id": 301, "type": "private"},
                                                "from": {"id": 301, "is_bot": False, "first_name": "Eve"}, "text": "/start"}}
        assert await emulator._post_to_webhook(forged, secret="wrong") == 401
        assert await emulator._post_to_webhook(forged, secret=None) == 401
        assert (await customer.ask("/card")).photo is not None  # still serving; Eve got nothing
        assert emulator.messages_to(301) == []
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)
        await emulator.stop()
