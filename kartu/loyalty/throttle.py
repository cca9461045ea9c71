"""Throttles: how fast one person may write to the bot, and how many unknown codes staff may try.

Plain rules on numbers and times; the bot layer keeps the state (in memory for messages,
in the database for code guesses, which must hold across processes and restarts).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

# Messages: a burst of 20, then one a second; past that, one warning and 30 s of silence.
MESSAGE_BURST = 20
MESSAGES_PER_SECOND = 1.0
FLOOD_SILENCE_SECONDS = 30.0
TRACKED_PEOPLE = 100_000  # buckets kept in memory; the least recently seen are dropped first

# Unknown codes typed by one staff account (NIST SP 800-63B, look-up secrets: limit failed
# attempts). Ten a minute, then a pause; a hundred in a row locks code entry until the owner
# unlocks it, and the owner is told.
CODE_MISSES_PER_MINUTE = 10
CODE_MISS_WINDOW = timedelta(minutes=1)
CODE_MISSES_TO_LOCK = 100


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first message over the limit: say so once
    DROP = "drop"  # over the limit and already told: ignore


@dataclass
class _Bucket:
    tokens: float
    updated: float
    silent_until: float = 0.0


class FloodGuard:
    """A token bucket per person, bounded in memory."""

    def __init__(
        self,
        burst: int = MESSAGE_BURST,
        per_second: float = MESSAGES_PER_SECOND,
        silence: float = FLOOD_SILENCE_SECONDS,
        capacity: int = TRACKED_PEOPLE,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.silence = silence
        self.capacity = capacity
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def check(self, person: int, now: float) -> Verdict:
        bucket = self._buckets.pop(person, None) or _Bucket(tokens=float(self.burst), updated=now)
        self._buckets[person] = bucket
        if len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        if now < bucket.silent_until:
            return Verdict.DROP
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.ALLOW
        bucket.silent_until = now + self.silence
        return Verdict.WARN


@dataclass(frozen=True)
class CodeMisses:
    """One staff account's record of unknown codes."""

    streak: int = 0  # unknown codes in a row (a known code resets it)
    window_start: datetime | None = None
    in_window: int = 0
    locked: bool = False


def may_try_code(misses: CodeMisses, now: datetime) -> bool:
    """``False`` while code entry is locked, or after too many misses this minute."""
    if misses.locked:
        return False
    in_window = misses.window_start is not None and now - misses.window_start < CODE_MISS_WINDOW
    return not (in_window and misses.in_window >= CODE_MISSES_PER_MINUTE)


def record_miss(misses: CodeMisses, now: datetime) -> CodeMisses:
    """The record after one more unknown code; ``locked`` once the streak reaches the limit."""
    in_window = misses.window_start is not None and now - misses.window_start < CODE_MISS_WINDOW
    streak = misses.streak + 1
    return CodeMisses(
        streak=streak,
        window_start=misses.window_start if in_window else now,
        in_window=misses.in_window + 1 if in_window else 1,
        locked=streak >= CODE_MISSES_TO_LOCK,
    )
