from __future__ import annotations

from kartu.scheduler.pacing import Pacer


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0
        self.sent: list[tuple[float, int]] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_global_rate_and_one_message_per_chat_per_second() -> None:
    ticks = Ticks()
    pacer = Pacer(rate=10, per_chat_interval=1.0, monotonic=ticks.monotonic, sleep=ticks.sleep)
    for chat in [1, 2, 3, 1, 1, 4]:
        await pacer.wait_turn(chat)
        ticks.sent.append((round(ticks.now, 3), chat))
    times = [t for t, _ in ticks.sent]
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    chat_one = [t for t, chat in ticks.sent if chat == 1]
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(chat_one, chat_one[1:], strict=False))


async def test_a_pause_holds_everyone() -> None:
    ticks = Ticks()
    pacer = Pacer(rate=30, monotonic=ticks.monotonic, sleep=ticks.sleep)
    await pacer.wait_turn(1)
    pacer.pause(5)
    await pacer.wait_turn(2)
    assert ticks.now >= 5


async def test_a_429_halves_the_rate_and_sends_bring_it_back() -> None:
    """Other processes sending as the bot pushed it over Telegram's limit: the outbox yields (half
    the rate, once for one burst of 429s), then takes its rate back as sends go through."""
    ticks = Ticks()
    pacer = Pacer(rate=20, monotonic=ticks.monotonic, sleep=ticks.sleep)
    pacer.pause(1)
    pacer.pause(1)  # a second 429 from the same burst
    assert pacer.rate == 10
    for chat in range(200):
        await pacer.wait_turn(chat)
        pacer.sent(chat)
    assert pacer.rate == 20
    for _ in range(10):  # however often it is told, it keeps sending
        ticks.now += 2
        pacer.pause(1)
    assert pacer.rate == 2.5
