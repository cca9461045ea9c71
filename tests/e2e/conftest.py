"""Fixtures of the e2e tests: a fresh world per test, and its usual people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kartu.loyalty.clock import FrozenClock
from kartu.sandbox import BotAPIEmulator, TelegramUser
from kartu.scheduler.dispatcher import OutboxDispatcher
from kartu.scheduler.pacing import Pacer
from tests.e2e.world import ADMIN_ID, OWNER_ID, FakeTime, World, bot_settings, polling_bot


@pytest.fixture
async def world(migrated_sqlite_url: str, clock: FrozenClock) -> AsyncIterator[World]:
    emulator = BotAPIEmulator()
    await emulator.start()
    settings = bot_settings(
        emulator,
        migrated_sqlite_url,  # the bot still runs its migrations at start: up to date, a no-op
        admin_ids=frozenset({ADMIN_ID}),
        flood_burst=10_000,  # scripted users type faster than people; test_intake.py checks the default
    )
    pacer_time = FakeTime()
    pacer = Pacer(rate=30, per_chat_interval=1.0, monotonic=pacer_time.monotonic, sleep=pacer_time.sleep)
    try:
        async with polling_bot(emulator, settings, clock) as app:
            dispatcher = OutboxDispatcher(
                app.bot, app.services, app.i18n, pacer, batch_size=50, concurrency=4
            )
            await emulator.wait_for(lambda: emulator.state.commands)  # started: commands published
            world = World(emulator, app, clock, pacer_time, dispatcher)
            yield world
    finally:
        await emulator.stop()
    # Whatever the bot sent, a real Telegram would have accepted (HTML, lengths, buttons, edits).
    assert world.refusals_expected or not emulator.state.refusals, emulator.state.refusals


@pytest.fixture
def owner(world: World) -> TelegramUser:
    return world.user(OWNER_ID, "Sari", "id", "sari_kopi")


@pytest.fixture
def barista(world: World) -> TelegramUser:
    return world.user(200, "Budi", "en", "budi")


@pytest.fixture
def customer(world: World) -> TelegramUser:
    return world.user(300, "Ayu", "id-ID")
