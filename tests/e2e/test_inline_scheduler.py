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
