"""The real bot (real Dispatcher, long polling over HTTP) against the local Bot API emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from kartu.bot.app import KartuApp, build_app, run_polling
from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import BotAPIEmulator, TelegramUser

ADMIN_ID = 900
OWNER_ID = 100


@dataclass
class World:
    emulator: BotAPIEmulator
    app: KartuApp
    clock: FrozenClock

    def user(self, user_id: int, first_name: str, language_code: str | None = "en", username: str | None = None) -> TelegramUser:
        return TelegramUser(self.emulator, user_id, first_name, language_code, username)

    async def create_shop(self, name: str = "Kopi Senja", owner_id: int = OWNER_ID, rules: ProgramRules | None = None) -> str:
        """What the operator does with `kartu merchant create`; returns the join payload."""
        created = await self.app.services.merchants.create_merchant(name, owner_id, rules=rules)
        return f"m_{created.slug}"


@pytest.fixture
async def world(tmp_path, clock: FrozenClock) -> AsyncIterator[World]:
    emulator = BotAPIEmulator()
    await emulator.start()
    settings = Settings(
        _env_file=None,
        bot_token=emulator.token,
        telegram_api_url=emulator.url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}",
        admin_ids=frozenset({ADMIN_ID}),
        polling_timeout=5,
    )
    app = build_app(settings, clock)
    polling = asyncio.create_task(run_polling(app, handle_signals=False))
    await emulator.wait_for(lambda: emulator.state.commands)  # started: commands published
    try:
        yield World(emulator, app, clock)
    finally:
        if app.dispatcher._running_lock.locked():
            await app.dispatcher.stop_polling()
        await asyncio.wait_for(polling, 10)
        await emulator.stop()


@pytest.fixture
def owner(world: World) -> TelegramUser:
    return world.user(OWNER_ID, "Sari", "id", "sari_kopi")


UserFactory = Callable[..., TelegramUser]
