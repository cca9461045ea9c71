"""Points rules: amounts as staff type them, points per rupiah, batches spent soonest-expiring first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kartu.loyalty.points import (
    NotEnoughPoints,
    PointsBatch,
    PointsRules,
    add_months,
    balance,
    batch_expiry,
    expiring,
    parse_rupiah,
    points_for,
    take,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "rupiah"),
    [
        ("125000", 125_000),
        ("125.000", 125_000),
        ("125,000", 125_000),
        ("1.250.000", 1_250_000),
        ("Rp125.000", 125_000),
        ("Rp 125.000", 125_000),
        ("rp. 125.000,-", 125_000),
        ("Rp125.000,00", 125_000),
        ("IDR 125000", 125_000),
        ("125rb", 125_000),
        ("125 rb", 125_000),
        ("125ribu", 125_000),
        ("125k", 125_000),
        ("125K", 125_000),
        ("12,5rb", 12_500),
        ("1,5jt", 1_500_000),
        ("1.5 juta", 1_500_000),
        ("2jt", 2_000_000),
        (" 25000 ", 25_000),
    ],
)
def test_amounts_as_staff_type_them(typed: str, rupiah: int) -> None:
    assert parse_rupiah(typed) == rupiah


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "0",
        "-5000",
        "Rp -5.000",
        "12.50",
        "1.25.000",
        "125.000.00.0",
        "125,000.000",
        "abc",
        "1,2345rb",
        "200jt",
        "100.000.001",
        "12rbx",
        "²⁵⁰⁰⁰",
        "٢٥٠٠٠",
        "1e6",
        "Rp",
        "rb",
        None,
    ],
)
def test_what_is_not_an_amount_is_refused(typed: str | None) -> None:
    assert parse_rupiah(typed) is None


def test_the_owner_limit_bounds_an_amount() -> None:
    assert parse_rupiah("5jt", maximum=2_000_000) is None
    assert parse_rupiah("2jt", maximum=2_000_000) == 2_000_000


def test_points_round_down_and_respect_the_minimum_spend() -> None:
    rules = PointsRules(rupiah_per_point=10_000, minimum_spend=20_000)
    assert points_for(125_000, rules) == 12
    assert points_for(19_999, rules) == 0
    assert points_for(20_000, rules) == 2
    assert points_for(9_999, PointsRules(rupiah_per_point=10_000)) == 0


def test_a_tier_multiplier_applies_before_rounding() -> None:
    rules = PointsRules(rupiah_per_point=10_000)
    assert points_for(125_000, rules, multiplier_permille=1_500) == 18  # 18.75 rounded down
    assert points_for(125_000, rules, multiplier_permille=2_000) == 25


def test_batches_lapse_after_calendar_months() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2027, 12, 15, tzinfo=UTC), 2) == datetime(2028, 2, 15, tzinfo=UTC)
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert batch_expiry(NOW, PointsRules(expiry_months=12)) == datetime(2027, 11, 24, 9, 0, tzinfo=UTC)
    assert batch_expiry(NOW, PointsRules(expiry_months=0)) is None


def _batches() -> list[PointsBatch]:
    return [
        PointsBatch(3, 50, NOW - timedelta(days=10), None),  # never expires: used last
        PointsBatch(2, 30, NOW - timedelta(days=60), NOW + timedelta(days=20)),
        PointsBatch(1, 40, NOW - timedelta(days=90), NOW + timedelta(days=5)),
        PointsBatch(4, 99, NOW - timedelta(days=400), NOW - timedelta(days=1)),  # already lapsed
        PointsBatch(5, 0, NOW - timedelta(days=30), NOW + timedelta(days=300)),  # spent
    ]


def test_a_spend_takes_the_soonest_expiring_points_first() -> None:
    assert balance(_batches(), NOW) == 120
    assert take(_batches(), 55, NOW) == [(1, 40), (2, 15)]
    assert take(_batches(), 120, NOW) == [(1, 40), (2, 30), (3, 50)]


def test_a_spend_over_the_live_balance_takes_nothing() -> None:
    with pytest.raises(NotEnoughPoints) as refused:
        take(_batches(), 121, NOW)  # the lapsed 99 do not count
    assert (refused.value.balance, refused.value.price) == (120, 121)
    with pytest.raises(ValueError):
        take(_batches(), 0, NOW)


def test_reminders_sum_what_lapses_soon_per_day() -> None:
    assert expiring(_batches(), NOW, timedelta(days=7)) == [(NOW + timedelta(days=5), 40)]
    assert expiring(_batches(), NOW, timedelta(days=30)) == [
        (NOW + timedelta(days=5), 40),
        (NOW + timedelta(days=20), 30),
    ]
