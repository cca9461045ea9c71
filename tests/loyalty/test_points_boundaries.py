"""Points rules at their edges, pinned where a mutation run (mutmut) found a changed rule went
unnoticed: the first rupiah, the first point, a batch of one, the moment a batch lapses, a refund
drawing on its own batches first, months across a year's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kartu.loyalty.points import (
    PointsBatch,
    PointsRules,
    add_months,
    batch_expiry,
    expiring,
    live,
    parse_rupiah,
    points_for,
    take,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_amounts_are_read_to_the_rupiah_and_refused_outside_their_range() -> None:
    assert parse_rupiah("1") == 1 and parse_rupiah("0") is None
    assert parse_rupiah("1,5rb") == 1_500 and parse_rupiah("12,25rb") == 12_250
    assert parse_rupiah("1,2345rb") is None  # a part of a rupiah
    assert parse_rupiah("") is None and parse_rupiah(None) is None
    assert parse_rupiah("100", maximum=100) == 100 and parse_rupiah("101", maximum=100) is None


def test_the_first_point_and_a_batch_of_one() -> None:
    rules = PointsRules()
    assert points_for(max(rules.minimum_spend, 1), rules) >= 0
    assert points_for(1, PointsRules(minimum_spend=0, rupiah_per_point=1)) == 1
    one = PointsBatch(1, 1, NOW - timedelta(days=1), None)
    assert live([one], NOW) == [one] and take([one], 1, NOW) == [(1, 1)]
    with pytest.raises(ValueError):
        take([one], 0, NOW)


def test_a_batch_lapses_at_its_moment_and_is_counted_as_due_until_then() -> None:
    at = NOW + timedelta(days=3)
    batch = PointsBatch(1, 50, NOW - timedelta(days=1), at)
    assert live([batch], at - timedelta(seconds=1)) == [batch] and live([batch], at) == []
    assert expiring([batch], NOW, timedelta(days=3)) == [(at, 50)]  # lapsing exactly then counts
    assert expiring([batch, PointsBatch(2, 20, NOW, at)], NOW, timedelta(days=3)) == [(at, 70)]


def test_a_refund_draws_on_its_own_batch_before_sooner_ones() -> None:
    soon = PointsBatch(1, 30, NOW - timedelta(days=10), NOW + timedelta(days=5))
    own = PointsBatch(2, 30, NOW - timedelta(days=1), NOW + timedelta(days=300))
    assert take([soon, own], 20, NOW) == [(1, 20)]  # a spend: the soonest to lapse first
    assert take([soon, own], 20, NOW, first={2}) == [(2, 20)]  # a refund: its own first
    never = PointsBatch(3, 5, NOW - timedelta(days=50), None)
    assert [batch.id for batch in live([never, soon], NOW)] == [1, 3]  # points that never lapse last


def test_months_roll_over_the_year_and_no_expiry_means_none() -> None:
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 12) == datetime(2027, 12, 15, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 15, tzinfo=UTC), 1) == datetime(2026, 2, 15, tzinfo=UTC)
    assert batch_expiry(NOW, PointsRules(expiry_months=0)) is None
    assert batch_expiry(NOW, PointsRules(expiry_months=1)) == add_months(NOW, 1)
