"""The bot counts what it does (metrics.py): each update by type and outcome, how long its handler
took, and each Bot API call by method and outcome."""

from __future__ import annotations

import asyncio

from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def test_the_bot_counts_updates_and_bot_api_calls(world: World, customer: TelegramUser) -> None:
    join = await world.create_shop()
    await world.join(customer, join)
    handled = 'kartu_updates_total{outcome="handled",type="message"} 1.0'
    for _ in range(200):  # the reply arrives before the update is marked done and counted
        text = world.app.services.health.metrics.render().decode()
        if handled in text:
            break
        await asyncio.sleep(0.01)
    assert 'kartu_updates_total{outcome="handled",type="message"} 1.0' in text
    assert 'kartu_telegram_calls_total{method="sendMessage",outcome="ok"}' in text
    assert 'kartu_handler_seconds_count{type="message"} 1.0' in text
