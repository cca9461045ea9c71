"""Levels as plain rules: parsing what owners type, where a card stands, when it moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.tiers import (
    Basis,
    Level,
    Move,
    groups_for,
    level_for,
    parse_level,
    parse_multiplier,
    review,
)

SILVER, GOLD, PLATINUM = (
    Level(1, "Silver", 5, 1000, group_chat_id=-11),
    Level(2, "Gold", 10, 1500, group_chat_id=-22),
    Level(3, "Platinum", 20, 2000),
)
LEVELS = [GOLD, PLATINUM, SILVER]  # any order: thresholds order them
NOW = datetime(2026, 6, 1, tzinfo=UTC)
GRACE = timedelta(days=30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.5", 1500), ("1,5", 1500), ("1.5x", 1500), ("2×", 2000), ("150%", 1500), ("1", 1000), ("1.25", 1250)],
)
def test_multipliers_as_owners_write_them(text: str, expected: int) -> None:
    assert parse_multiplier(text) == expected


@pytest.mark.parametrize("text", ["0.5", "6", "-1", "abc", "", "50%", "1.2345"])
def test_multipliers_out_of_range_or_malformed_are_refused(text: str) -> None:
    with pytest.raises(InvalidSetting):
        parse_multiplier(text)


def test_a_level_in_one_line() -> None:
    assert parse_level("Gold; 1.000.000; 1.5", Basis.SPEND) == ("Gold", 1_000_000, 1500)
    assert parse_level("Gold, 1,000,000, 1.5", Basis.SPEND) == ("Gold", 1_000_000, 1500)
    assert parse_level("  Gold   Member ; 1jt", Basis.SPEND) == ("Gold Member", 1_000_000, 1000)
    assert parse_level("Silver; 5", Basis.VISITS) == ("Silver", 5, 1000)
    for bad in ("Gold", "; 5", "Gold; 0", "Gold; -5", "Gold; 5; 9", "x" * 30 + "; 5", "Gold; lima"):
        with pytest.raises(InvalidSetting):
            parse_level(bad, Basis.VISITS)


def test_the_highest_level_reached() -> None:
    assert level_for(LEVELS, 4) is None
    assert level_for(LEVELS, 5) == SILVER
    assert level_for(LEVELS, 19) == GOLD
    assert level_for(LEVELS, 500) == PLATINUM


def test_up_is_immediate_even_past_a_level() -> None:
    moved = review(LEVELS, None, 12, NOW, None, GRACE, periodic=False)
    assert moved.move is Move.UP and moved.level == GOLD


def test_down_only_at_a_review_after_a_warning_and_the_grace_period() -> None:
    assert review(LEVELS, GOLD.id, 3, NOW, None, GRACE, periodic=False).move is Move.KEEP  # a purchase
    warned = review(LEVELS, GOLD.id, 7, NOW, None, GRACE, periodic=True)
    assert warned.move is Move.WARN and warned.grace_until == NOW + GRACE and warned.missing == 3
    within = review(LEVELS, GOLD.id, 7, NOW + timedelta(days=29), warned.grace_until, GRACE, periodic=True)
    assert within.move is Move.KEEP and within.grace_until == warned.grace_until
    dropped = review(LEVELS, GOLD.id, 7, NOW + GRACE, warned.grace_until, GRACE, periodic=True)
    assert dropped.move is Move.DOWN and dropped.level == SILVER  # to the level still reached
    gone = review(LEVELS, GOLD.id, 0, NOW + GRACE, warned.grace_until, GRACE, periodic=True)
    assert gone.move is Move.DOWN and gone.level is None


def test_back_above_the_level_clears_the_warning() -> None:
    kept = review(LEVELS, GOLD.id, 10, NOW, NOW + GRACE, GRACE, periodic=True)
    assert kept.move is Move.KEEP and kept.grace_until is None


def test_a_level_opens_its_group_and_those_below() -> None:
    assert groups_for(LEVELS, None) == []
    assert groups_for(LEVELS, SILVER.id) == [-11]
    assert groups_for(LEVELS, PLATINUM.id) == [-11, -22]
    assert groups_for(LEVELS, 99) == []  # a deleted level


def test_a_purchase_short_of_the_level_keeps_the_grace_period_running() -> None:
    kept = review(LEVELS, GOLD.id, 8, NOW, NOW + GRACE, GRACE, periodic=False)
    assert kept.move is Move.KEEP and kept.grace_until == NOW + GRACE
