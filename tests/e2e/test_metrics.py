"""The bot counts what it does (metrics.py): each update by type and outcome, how long its handler
took, and each Bot API call by method and outcome."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def test_the_bot_counts_updates_and_bot_api_calls(world: World, customer: TelegramUser) -> None:
    join = await world.create_shop()
    await world.join(customer, join)
    text = world.app.services.health.metrics.render().decode()
    assert 'kartu_updates_total{outcome="handled",type="message"} 1.0' in text
    assert 'kartu_telegram_calls_total{method="sendMessage",outcome="ok"}' in text
    assert 'kartu_handler_seconds_count{type="message"} 1.0' in text
