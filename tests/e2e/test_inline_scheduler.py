"""The scheduler that runs inside `kartu run` (APScheduler) really sweeps and delivers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kartu.bot.app import build_app, run_polling
from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import BotAPIEmulator, TelegramUser


async def test_a_survey_is_delivered_by_the_scheduler_inside_the_bot(
    tmp_path: Path, clock: FrozenClock
) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    settings = Settings(
        _env_file=None,
        bot_token=emulator.token,
        telegram_api_url=emulator.url,
        polling_timeout=5,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}",
        scheduler="inline",
        dispatch_interval_seconds=0.2,
        sweep_interval_seconds=0.2,
    )
    app = build_app(settings, clock)
    polling = asyncio.create_task(run_polling(app, handle_signals=False))
    try:
        await emulator.wait_for(lambda: emulator.state.commands)
        created = await app.services.merchants.create_merchant(
            "Kopi Senja", 100, rules=ProgramRules(survey_delay_minutes=0, daily_stamp_cap=0)
        )
        owner, customer = TelegramUser(emulator, 100, "Sari", "id"), TelegramUser(emulator, 300, "Ayu", "id")
        await owner.ask("/start")
        welcome = await customer.ask(f"/start m_{created.slug}")
        code = welcome.body.split("<code>")[1].split("</code>")[0]
        prompt = await owner.ask(code)
        await owner.press(prompt, "Konfirmasi")
        # The card (from the handler) and the survey (from the dispatch job, not the test), in either order.
        received = [await customer.next_message(timeout=15) for _ in range(2)]
        assert any("Gimana kunjunganmu ke <b>Kopi Senja</b>?" in message.body for message in received)
        assert any(message.photo for message in received)
    finally:
        stopping = asyncio.create_task(app.dispatcher.stop_polling())
        await emulator.release_pollers()
        await stopping
        await asyncio.wait_for(polling, 10)
        await emulator.stop()


async def test_kartu_run_serves_the_api_when_asked_and_the_news_goes_out_at_once(
    tmp_path: Path, clock: FrozenClock
) -> None:
    import socket

    import httpx

    with socket.socket() as probe:  # a free port for the API
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emulator = BotAPIEmulator()
    await emulator.start()
    settings = Settings(
        _env_file=None,
        bot_token=emulator.token,
        telegram_api_url=emulator.url,
        polling_timeout=5,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}",
        scheduler="off",  # nothing but the bot's own courier sends the sale's news
        api=True,
        api_port=port,
    )
    app = build_app(settings, clock)
    polling = asyncio.create_task(run_polling(app, handle_signals=False))
    try:
        await emulator.wait_for(lambda: emulator.state.commands)
        created = await app.services.merchants.create_merchant("Kopi Senja", 100)
        customer = TelegramUser(emulator, 300, "Ayu", "en")
        welcome = await customer.ask(f"/start m_{created.slug}")
        code = welcome.body.split("<code>")[1].split("</code>")[0]
        key, _ = await app.services.api.create_key(100, "earn")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            posted = await client.post(
                "/v1/purchases",
                json={"customer": {"code": code}, "external_id": "TILL-7"},
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "till-7"},
            )
        assert posted.status_code == 201
        card = await customer.next_message(timeout=5)
        assert card.photo and "+1 stamp" in card.body
    finally:
        stopping = asyncio.create_task(app.dispatcher.stop_polling())
        await emulator.release_pollers()
        await stopping
        await asyncio.wait_for(polling, 10)
        await emulator.stop()
