"""Levels (Silver, Gold, Platinum…): reached by what a customer spends or how often they visit over a
rolling window. Moving up is immediate; moving down waits for a review, a reminder and a grace period.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.numbers import parse_whole_number
from kartu.loyalty.points import PERMILLE, add_months, parse_rupiah

TIER_NAME_MAX = 24
PERKS_MAX = 200
MULTIPLIER_MAX = 5 * PERMILLE
VISITS_MAX = 10_000
SPEND_MAX = 10_000_000_000
MAX_TIERS = 6
WINDOW_MONTHS_MAX = 36
GRACE_DAYS_MAX = 180
REVIEW_EVERY = timedelta(days=1)


class Basis(StrEnum):
    VISITS = "visits"
    SPEND = "spend"


@dataclass(frozen=True)
class Level:
    id: int
    name: str
    threshold: int
    multiplier_permille: int = PERMILLE
    perks: str = ""
    group_chat_id: int | None = None


def ordered(levels: Sequence[Level]) -> list[Level]:
    return sorted(levels, key=lambda level: (level.threshold, level.id))


def level_for(levels: Sequence[Level], measure: int) -> Level | None:
    """The highest level whose threshold ``measure`` reaches; ``None`` below every level."""
    reached = [level for level in ordered(levels) if measure >= level.threshold]
    return reached[-1] if reached else None


def rank(levels: Sequence[Level], level_id: int | None) -> int:
    """0 for no level, 1 for the lowest, and so on (a deleted level ranks as none)."""
    for position, level in enumerate(ordered(levels), start=1):
        if level.id == level_id:
            return position
    return 0


def groups_for(levels: Sequence[Level], level_id: int | None) -> list[int]:
    """The groups a card at ``level_id`` belongs in: its level's and those of the levels below it
    (a Gold member may stay in the Silver group)."""
    held = rank(levels, level_id)
    return [
        level.group_chat_id
        for level in ordered(levels)
        if level.group_chat_id is not None and 0 < rank(levels, level.id) <= held
    ]


class Move(StrEnum):
    UP = "up"
    KEEP = "keep"
    WARN = "warn"  # below the level at a review: a reminder, and the grace period starts
    DOWN = "down"


@dataclass(frozen=True)
class Review:
    move: Move
    level: Level | None  # where the card stands after the review
    grace_until: datetime | None = None
    missing: int = 0  # what is missing to keep the current level (rupiah or visits)


def review(
    levels: Sequence[Level],
    current_id: int | None,
    measure: int,
    now: datetime,
    grace_until: datetime | None,
    grace: timedelta,
    *,
    periodic: bool,
) -> Review:
    """Where a card should stand given ``measure`` over the window.

    Up at once; down only at a periodic review (``periodic``), and only after a warning and the
    grace period: the first review below the level warns and sets ``grace_until``; a review after
    it (still below) moves the card down to the level it reaches."""
    reached = level_for(levels, measure)
    current = next((level for level in levels if level.id == current_id), None)
    if rank(levels, reached.id if reached else None) > rank(levels, current_id):
        return Review(Move.UP, reached)
    if current is None or measure >= current.threshold:
        return Review(Move.KEEP, current)  # at or above the level: any warning is over
    if not periodic:  # a purchase never moves a card down, nor starts or ends a grace period
        return Review(Move.KEEP, current, grace_until, current.threshold - measure)
    if grace_until is None:
        return Review(Move.WARN, current, now + grace, current.threshold - measure)
    if now < grace_until:
        return Review(Move.KEEP, current, grace_until, current.threshold - measure)
    return Review(Move.DOWN, reached)


def after_refund(
    levels: Sequence[Level],
    current_id: int | None,
    measure: int,
    since: datetime | None,
    purchased_at: datetime,
) -> Review:
    """Where a card stands once a purchase is refunded: a level reached at or after that purchase
    and no longer reached without it goes at once (no reminder, no grace: it was never earned); a
    level held from before keeps its usual review."""
    current = next((level for level in levels if level.id == current_id), None)
    if current is None or measure >= current.threshold or since is None or since < purchased_at:
        return Review(Move.KEEP, current)
    return Review(Move.DOWN, level_for(levels, measure))


def window_start(now: datetime, months: int) -> datetime:
    return add_months(now, -months)


_MULTIPLIER = re.compile(r"([0-9]{1,2})(?:[.,]([0-9]{1,3}))?\s*[x×]?")
_PERCENT = re.compile(r"([0-9]{2,3})\s*%")


def parse_multiplier(text: str | None) -> int:
    """``1.5``, ``1,5``, ``1.5x``, ``150%``: thousandths (1500), from 1x to 5x."""
    cleaned = (text or "").strip().lower()
    percent, plain = _PERCENT.fullmatch(cleaned), _MULTIPLIER.fullmatch(cleaned)
    if percent is not None:
        value = int(percent.group(1)) * 10
    elif plain is not None:
        fraction = (plain.group(2) or "").ljust(3, "0")
        value = int(plain.group(1)) * PERMILLE + int(fraction or 0)
    else:
        raise InvalidSetting("multiplier", 1, 5)
    if not PERMILLE <= value <= MULTIPLIER_MAX:
        raise InvalidSetting("multiplier", 1, 5)
    return value


def parse_threshold(text: str | None, basis: Basis) -> int:
    if basis is Basis.SPEND:
        value = parse_rupiah(text, SPEND_MAX)
        if value is None:
            raise InvalidSetting("spend_threshold", 1, SPEND_MAX)
        return value
    visits = parse_whole_number(text, 1, VISITS_MAX)
    if visits is None:
        raise InvalidSetting("visits_threshold", 1, VISITS_MAX)
    return visits


def parse_tier_name(text: str | None) -> str:
    name = " ".join((text or "").split())
    if not name or len(name) > TIER_NAME_MAX:
        raise InvalidSetting("tier_name", 1, TIER_NAME_MAX)
    return name


def parse_level(text: str | None, basis: Basis) -> tuple[str, int, int]:
    """``Gold, 1.000.000, 1.5`` (name, threshold, multiplier; the multiplier may be left out)."""
    separator = ";" if ";" in (text or "") else ","
    parts = [part.strip() for part in (text or "").split(separator)]
    if basis is Basis.SPEND and len(parts) > 3:  # "Gold, 1,000,000, 1.5": commas grouping thousands
        parts = [parts[0], ",".join(parts[1:-1]), parts[-1]]
    if len(parts) not in (2, 3):
        raise InvalidSetting("level")
    name = parse_tier_name(parts[0])
    multiplier = parse_multiplier(parts[2]) if len(parts) == 3 else PERMILLE
    return name, parse_threshold(parts[1], basis), multiplier
