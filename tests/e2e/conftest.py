"""Fixtures of the e2e tests: a fresh world per test, and its usual people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kartu.loyalty.clock import FrozenClock
from kartu.sandbox import BotAPIEmulator
from tests.e2e.world import ADMIN_ID, World, bot_settings, polling_bot, scheduler_for


@pytest.fixture
async def world(migrated_sqlite_url: str, clock: FrozenClock) -> AsyncIterator[World]:
    emulator = BotAPIEmulator()
    emulator.now = lambda: clock.now().timestamp()  # invite links expire on the test's clock
    await emulator.start()
    settings = bot_settings(
        emulator,
        migrated_sqlite_url,  # the bot still runs its migrations at start: up to date, a no-op
        admin_ids=frozenset({ADMIN_ID}),
        flood_burst=10_000,  # scripted users type faster than people; test_intake.py checks the default
    )
    try:
        async with polling_bot(emulator, settings, clock) as app:
            pacer_time, dispatcher = scheduler_for(app)
            await emulator.wait_for(lambda: emulator.state.commands)  # started: commands published
            world = World(emulator, app, clock, pacer_time, dispatcher)
            yield world
    finally:
        await emulator.stop()
    # Whatever the bot sent, a real Telegram would have accepted (HTML, lengths, buttons, edits).
    assert world.refusals_expected or not emulator.state.refusals, emulator.state.refusals
