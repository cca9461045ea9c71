"""The stretch an export covers, and its download link's signature and hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kartu.loyalty.exports import ExportLinkRefused, ExportPeriod, period_start, read_link, sign_link

NOW = datetime(2026, 5, 31, 3, 0, tzinfo=UTC)  # 10:00 on 31 May in Jakarta


def test_three_months_back_is_the_same_local_day_or_the_months_last() -> None:
    start = period_start(ExportPeriod.QUARTER, NOW, "Asia/Jakarta")
    assert start == datetime(2026, 2, 27, 17, 0, tzinfo=UTC)  # 28 Feb 00:00 in Jakarta (no 31 Feb)
    january = period_start(ExportPeriod.QUARTER, datetime(2026, 1, 15, 3, 0, tzinfo=UTC), "Asia/Jakarta")
    assert january == datetime(2025, 10, 14, 17, 0, tzinfo=UTC)  # across the year


def test_this_year_starts_at_the_shops_new_year_and_everything_has_no_start() -> None:
    assert period_start(ExportPeriod.YEAR, NOW, "Asia/Jakarta") == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert period_start(ExportPeriod.YEAR, NOW, "UTC") == datetime(2026, 1, 1, tzinfo=UTC)
    assert period_start(ExportPeriod.ALL, NOW, "Asia/Jakarta") is None


def test_a_link_works_for_an_hour_and_only_with_its_own_signature() -> None:
    token = sign_link("secret", 42, NOW + timedelta(hours=1))
    assert read_link("secret", token, NOW) == 42
    assert read_link("secret", token, NOW + timedelta(minutes=59)) == 42
    with pytest.raises(ExportLinkRefused) as late:
        read_link("secret", token, NOW + timedelta(hours=1))
    assert late.value.reason == "expired"
    run, expiry, signature = token.split(".")
    for forged in (
        f"43.{expiry}.{signature}",  # another export
        f"{run}.{int(expiry) + 86400}.{signature}",  # a longer life
        sign_link("another secret", 42, NOW + timedelta(hours=1)),
        "42",
        "",
        "a.b.c",
    ):
        with pytest.raises(ExportLinkRefused) as refused:
            read_link("secret", forged, NOW)
        assert refused.value.reason == "invalid", forged
