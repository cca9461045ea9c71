from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kartu.loyalty.errors import DailyCapReached, InvalidPurchaseCount, InvalidSetting
from kartu.loyalty.program import (
    ProgramRules,
    change_setting,
    credit_purchase,
    local_day_start,
    parse_purchase_count,
    reward_expiry,
    stamps_to_reward,
)

RULES = ProgramRules(stamps_required=10, daily_stamp_cap=0)


def test_a_purchase_adds_a_stamp() -> None:
    outcome = credit_purchase(RULES, balance=6, purchases=1, stamped_today=0)
    assert (outcome.stamps_added, outcome.rewards_issued, outcome.balance_after) == (1, 0, 7)
    assert stamps_to_reward(RULES, 7) == 3


def test_a_full_card_becomes_a_reward_and_restarts_with_the_overflow() -> None:
    outcome = credit_purchase(RULES, balance=9, purchases=3, stamped_today=0)
    assert (outcome.rewards_issued, outcome.stamps_spent, outcome.balance_after) == (1, 10, 2)


def test_many_stamps_at_once_can_fill_several_cards() -> None:
    rules = ProgramRules(stamps_required=2, stamps_per_purchase=3, daily_stamp_cap=0)
    outcome = credit_purchase(rules, balance=1, purchases=2, stamped_today=0)
    assert (outcome.stamps_added, outcome.rewards_issued, outcome.balance_after) == (6, 3, 1)


def test_daily_cap_refuses_rather_than_crediting_part() -> None:
    rules = ProgramRules(daily_stamp_cap=3)
    assert credit_purchase(rules, 0, 1, stamped_today=2).stamps_added == 1
    with pytest.raises(DailyCapReached) as refused:
        credit_purchase(rules, 0, 2, stamped_today=2)
    assert (refused.value.remaining, refused.value.cap) == (1, 3)
    with pytest.raises(DailyCapReached) as refused:
        credit_purchase(rules, 0, 1, stamped_today=3)
    assert refused.value.remaining == 0


def test_owner_settings_are_checked_and_trimmed() -> None:
    assert change_setting(RULES, "stamps_required", " 12 ").stamps_required == 12
    assert change_setting(RULES, "reward_name", "  Free   cake ").reward_name == "Free cake"
    assert change_setting(RULES, "daily_stamp_cap", "0").daily_stamp_cap == 0
    for field, value in [
        ("stamps_required", "1"),
        ("stamps_required", "51"),
        ("stamps_required", "ten"),
        ("stamps_per_purchase", "-1"),
        ("reward_valid_days", "0"),
        ("reward_name", ""),
        ("reward_name", "x" * 49),
        ("not_a_field", "3"),
        ("stamps_required", "9" * 5000),
    ]:
        with pytest.raises(InvalidSetting):
            change_setting(RULES, field, value)


def test_purchase_count_after_a_code() -> None:
    assert parse_purchase_count(None) == 1
    assert parse_purchase_count(" 3 ") == 3
    for bad in ["0", "21", "-2", "two", "1.5"]:
        with pytest.raises(InvalidPurchaseCount):
            parse_purchase_count(bad)


def test_the_day_starts_at_midnight_in_the_shop_time_zone() -> None:
    # 23:30 UTC on the 4th is 06:30 on the 5th in Jakarta (UTC+7).
    start = local_day_start(datetime(2026, 1, 4, 23, 30, tzinfo=UTC), "Asia/Jakarta")
    assert start == datetime(2026, 1, 4, 17, 0, tzinfo=UTC)


def test_reward_validity() -> None:
    issued = datetime(2026, 1, 5, tzinfo=UTC)
    assert reward_expiry(ProgramRules(reward_valid_days=30), issued) == datetime(2026, 2, 4, tzinfo=UTC)


def test_quiet_hours_as_owners_type_them() -> None:
    from kartu.loyalty.program import parse_quiet_hours

    assert parse_quiet_hours("21-8") == "21:00-08:00"
    assert parse_quiet_hours(" 22:30 - 07:00 ") == "22:30-07:00"
    assert parse_quiet_hours("0") == "00:00-00:00"
    for bad in ["", "21", "25-8", "a-b", "21-8-9", "21:60-8"]:
        with pytest.raises(InvalidSetting):
            parse_quiet_hours(bad)


def test_a_new_shops_reward_is_named_in_its_language() -> None:
    from kartu.loyalty.program import default_rules

    assert default_rules("id").reward_name == "1 minuman gratis"
    assert default_rules("en").reward_name == "1 free drink"
    assert default_rules("xx").reward_name == "1 free drink"
