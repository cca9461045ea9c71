"""Pacing: a global message rate, at most one message per chat per interval, and pauses on 429.

The rate backs off when Telegram says it is too high: a 429 halves it (once per pause), and each
message sent after that gives some back, up to the configured rate in about a hundred sends. Other
processes send as the same bot (answers from bot processes, a second scheduler): when together they
pass Telegram's limit, the outbox's promotions yield, and answers to people get through."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

RECOVERY_SENDS = 200  # sends after a halving that bring the rate back (each adds 1/200 of the ceiling)


class Pacer:
    """Hands out send slots. Time and sleep are injected so tests move a fake clock."""

    def __init__(
        self,
        rate: float,
        per_chat_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ceiling = rate
        self.floor = max(rate / 8, 0.5)
        self.rate = rate
        self.interval = 1.0 / rate
        self.per_chat_interval = per_chat_interval
        self.monotonic = monotonic
        self.sleep = sleep
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}

    def reserve(self, chat_id: int) -> float:
        """Book the earliest slot for ``chat_id``; returns how long to wait for it."""
        now = self.monotonic()
        slot = max(now, self._next_slot, self._paused_until, self._chat_next.get(chat_id, 0.0))
        self._next_slot = slot + self.interval
        self._chat_next[chat_id] = slot + self.per_chat_interval
        if len(self._chat_next) > 10_000:
            self._chat_next = {chat: at for chat, at in self._chat_next.items() if at > now}
        return slot - now

    async def wait_turn(self, chat_id: int) -> None:
        delay = self.reserve(chat_id)
        if delay > 0:
            await self.sleep(delay)
        # A 429 may have paused everyone while this message waited.
        while (pause := self._paused_until - self.monotonic()) > 0:
            await self.sleep(pause)

    def sent(self, chat_id: int) -> None:
        """A send to ``chat_id`` just completed: its next message waits a full interval from
        now, however long this one took on the wire (a photo upload, say), since Telegram
        counts from when a message arrived, not from when its slot was booked."""
        self._chat_next[chat_id] = max(
            self._chat_next.get(chat_id, 0.0), self.monotonic() + self.per_chat_interval
        )
        if self.rate < self.ceiling:
            self._set_rate(self.rate + self.ceiling / RECOVERY_SENDS)

    def _set_rate(self, rate: float) -> None:
        self.rate = min(max(rate, self.floor), self.ceiling)
        self.interval = 1.0 / self.rate

    def paused_for(self) -> float:
        """Seconds left of a 429 pause (0 when sending is allowed)."""
        return max(self._paused_until - self.monotonic(), 0.0)

    def pause(self, seconds: float) -> None:
        """Telegram said retry_after: nobody sends until then, and the rate halves (once for
        429s that arrive during one pause: they answer the same burst)."""
        if self.paused_for() <= 0:
            self._set_rate(self.rate / 2)
        until = self.monotonic() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next_slot = max(self._next_slot, until)
