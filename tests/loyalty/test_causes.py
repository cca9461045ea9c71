"""A cause's plain rules: what a purchase gives, what owners type, days left."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kartu.loyalty.causes import (
    CauseRules,
    days_left,
    donation_value,
    ends_at,
    parse_cause_name,
    parse_end_date,
    parse_match,
    parse_payout,
    parse_target,
    parse_units,
    parse_value,
    shop_gift,
)
from kartu.loyalty.errors import InvalidSetting

TODAY = date(2026, 11, 24)


def test_a_purchase_gives_for_each_whole_spend() -> None:
    rules = CauseRules(give=10_000, per=100_000)
    assert [shop_gift(amount, rules) for amount in (99_999, 100_000, 250_000, 0)] == [0, 10_000, 20_000, 0]
    assert shop_gift(1_000_000, CauseRules()) == 0
    assert donation_value("point", 30, CauseRules(point_value=100)) == 3_000
    assert donation_value("stamp", 1, CauseRules(point_value=100)) == 0


@pytest.mark.parametrize(
    "text", ["31-12-2026", "31/12/2026", "31 Des 2026", "31 December 2026", "31 dec 2026"]
)
def test_last_days_as_people_write_them(text: str) -> None:
    assert parse_end_date(text, TODAY) == date(2026, 12, 31)


@pytest.mark.parametrize("text", ["24-11-2026", "31-02-2027", "01-01-2031", "besok", "", "31 Foo 2026"])
def test_last_days_in_the_past_impossible_or_too_far_are_refused(text: str) -> None:
    with pytest.raises(InvalidSetting):
        parse_end_date(text, TODAY)


def test_cause_lines_match_rules_values_units_and_payouts() -> None:
    assert (
        parse_cause_name("  Rumah  Kucing "),
        parse_target("5jt"),
        parse_end_date("31-12-2026", TODAY),
    ) == (
        "Rumah Kucing",
        5_000_000,
        date(2026, 12, 31),
    )
    for bad_name in ("", "  ", "x" * 49):
        with pytest.raises(InvalidSetting):
            parse_cause_name(bad_name)
    for bad_target in ("-5", "lima", ""):
        with pytest.raises(InvalidSetting):
            parse_target(bad_target)
    assert parse_match("10.000 per 100.000") == (10_000, 100_000)
    assert parse_match("10rb tiap 100rb") == (10_000, 100_000)
    assert parse_match("-") == (0, 0)
    for bad in ("100.000 per 10.000", "10.000", "per 100.000"):
        with pytest.raises(InvalidSetting):
            parse_match(bad)
    assert (parse_value("100"), parse_value("2rb"), parse_value("-")) == (100, 2_000, 0)
    assert parse_units("30", 100) == 30
    for bad in ("0", "101", "-3", "banyak"):
        with pytest.raises(InvalidSetting):
            parse_units(bad, 100)
    assert parse_payout("500.000; 24-11-2026; transfer BCA", TODAY) == (500_000, TODAY, "transfer BCA")
    assert parse_payout("500rb; 01-11-2026", TODAY) == (500_000, date(2026, 11, 1), "")
    for bad in ("500.000; 25-11-2026", "500.000", "nol; 24-11-2026"):
        with pytest.raises(InvalidSetting):
            parse_payout(bad, TODAY)


def test_a_cause_closes_at_midnight_after_its_last_day_in_the_shops_zone() -> None:
    closes = ends_at(date(2026, 12, 31), "Asia/Jakarta")
    assert closes.astimezone(UTC) == datetime(2026, 12, 31, 17, tzinfo=UTC)
    assert days_left(datetime(2026, 12, 31, 3, tzinfo=UTC), closes) == 1  # its last day
    assert days_left(datetime(2026, 12, 20, 17, tzinfo=UTC), closes) == 11
    assert days_left(closes, closes) == 0
