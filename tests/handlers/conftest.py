"""The middle tier for handlers: the real Dispatcher, routers, middlewares and services, fed in
process (no HTTP, no polling) by scripted users, against the strict emulator's rules."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kartu.bot.app import build_app
from kartu.loyalty.clock import FrozenClock
from kartu.sandbox import BotAPIEmulator
from kartu.sandbox.inprocess import delivering_to, in_process_bot
from tests.e2e.world import ADMIN_ID, World, bot_settings, scheduler_for


@pytest.fixture
async def world(migrated_sqlite: Path, tmp_path: Path, clock: FrozenClock) -> AsyncIterator[World]:  # noqa: F811
    shutil.copyfile(migrated_sqlite, tmp_path / "kartu.db")
    emulator = BotAPIEmulator()  # never started: nothing listens, calls arrive in process
    settings = bot_settings(
        emulator,
        f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}",
        admin_ids=frozenset({ADMIN_ID}),
        flood_burst=10_000,
    )
    app = build_app(settings, clock, bot=in_process_bot(emulator))
    pacer_time, dispatcher = scheduler_for(app)
    world = World(emulator, app, clock, pacer_time, dispatcher)
    try:
        async with delivering_to(emulator, app.dispatcher, app.bot):
            yield world
    finally:
        await app.close()
    assert world.refusals_expected or not emulator.state.refusals, emulator.state.refusals
