"""Refund rules without a database: what a purchase's rows add up to, asset by asset, and the
register every asset a purchase can set off must be in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kartu.loyalty.refunds import (
    NOT_FROM_PURCHASES,
    ON_REFUND,
    Asset,
    LedgerLine,
    UnregisteredEffect,
    effects_of,
    points_to_take_back,
    stamps_after_refund,
)
from kartu.loyalty.tiers import Level, Move, after_refund


def test_every_asset_has_a_refund_rule_or_is_never_a_purchases() -> None:
    assert set(ON_REFUND) | NOT_FROM_PURCHASES == set(Asset)
    assert not set(ON_REFUND) & NOT_FROM_PURCHASES


def test_a_purchases_rows_add_up_asset_by_asset() -> None:
    lines = [
        LedgerLine("purchase:7", "stamp", 3),
        LedgerLine("card-full:7:0", "stamp", -10, reward_id=41),
        LedgerLine("reward:7:0", "reward", 1, reward_id=41, merchant_id=1),
        LedgerLine("points:7", "point", 12),
        LedgerLine("points:spin:9", "point", 5),
        LedgerLine("spin-earned:7", "spin", 1),
        LedgerLine("spin-used:9", "spin", -1),
        LedgerLine("voucher:2:7", "reward", 1, reward_id=42, merchant_id=2),
        LedgerLine("cause:7", "cause", 20_000, cause_id=3),
    ]
    effects = effects_of(lines)
    assert effects.stamps == -7 and effects.stamp_rows
    assert effects.points == 17 and effects.point_sources == ("points:7", "points:spin:9")
    assert effects.rewards == ((1, 41), (2, 42)) and effects.spins == 0
    assert effects.causes == ((3, 20_000),)
    refunded = effects_of([*lines, LedgerLine("refund-reward:41", "reward", -1, reward_id=41)])
    assert refunded.rewards == ((2, 42),)  # a reward taken back is not taken back again


def test_an_asset_outside_the_register_is_an_error_not_a_silent_skip() -> None:
    with pytest.raises(UnregisteredEffect):
        effects_of([LedgerLine("purchase:7", "stamp", 1), LedgerLine("gems:7", "gem", 5)])


def test_stamps_come_off_never_below_zero_and_full_cards_give_theirs_back() -> None:
    assert stamps_after_refund(5, 3) == (2, 0)
    assert stamps_after_refund(1, 3) == (0, 2)  # a later full card used two: never below zero, two short
    assert stamps_after_refund(1, -9) == (10, 0)  # the card it filled: its stamps come back


def test_points_that_lapsed_are_not_taken_again() -> None:
    effects = effects_of([LedgerLine("points:7", "point", 12)])
    assert points_to_take_back(effects, lapsed=0) == 12
    assert points_to_take_back(effects, lapsed=12) == 0
    taken = effects_of([LedgerLine("points:7", "point", 12), LedgerLine("refund-points:7", "point", -12)])
    assert taken.points_held == 0


def test_a_level_the_refunded_purchase_reached_goes_at_once() -> None:
    silver, gold = Level(1, "Silver", 2), Level(2, "Gold", 5)
    bought = datetime(2026, 3, 1, tzinfo=UTC)
    reached_with_it = after_refund([silver, gold], 2, 4, bought, bought)
    assert reached_with_it.move is Move.DOWN and reached_with_it.level == silver
    held_before = after_refund([silver, gold], 2, 4, bought - timedelta(days=30), bought)
    assert held_before.move is Move.KEEP  # earned before: the usual review and grace apply
    still_reached = after_refund([silver, gold], 2, 5, bought, bought)
    assert still_reached.move is Move.KEEP


def test_what_the_mutation_run_found_unpinned_in_a_refunds_sums() -> None:
    """Each line here failed to notice a changed rule (mutmut): a spin earned and not spun, two
    gifts to one cause, a zero-stamp row, a reward issued and taken back in one list."""
    assert effects_of([LedgerLine("spin-earned:7", "spin", 1)]).spins == 1
    assert effects_of([LedgerLine("purchase:7", "stamp", 0)]).stamp_rows  # a capped card: a row of 0
    assert not effects_of([LedgerLine("points:7", "point", 3)]).stamp_rows
    gifts = effects_of(
        [
            LedgerLine("cause:7", "cause", 5_000, cause_id=3),
            LedgerLine("cause:7:b", "cause", 2_000, cause_id=3),
        ]
    )
    assert gifts.causes == ((3, 7_000),)
    withdrawn = effects_of(
        [
            LedgerLine("cause:7", "cause", 5_000, cause_id=3),
            LedgerLine("refund-cause:7", "cause", -5_000, cause_id=3),
        ]
    )
    assert withdrawn.causes == ()
    one_point = effects_of([LedgerLine("points:7", "point", 1), LedgerLine("refund-points:7", "point", 0)])
    assert one_point.points == 1 and one_point.point_sources == ("points:7",)
    never_issued = effects_of([LedgerLine("refund-reward:41", "reward", -1, reward_id=41)])
    assert never_issued.rewards == ()
    with pytest.raises(UnregisteredEffect) as raised:
        effects_of([LedgerLine("gems:7", "gem", 5)])
    assert "gem" in str(raised.value)
