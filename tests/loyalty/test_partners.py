"""Partner vouchers as plain rules: what owners type, what earns a voucher."""

from __future__ import annotations

import pytest

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.partners import (
    Condition,
    parse_address,
    parse_condition,
    parse_limits,
    parse_voucher,
    qualifies,
)


def test_conditions_vouchers_and_limits_as_owners_write_them() -> None:
    assert parse_condition("over 500.000") == (Condition.AMOUNT, 500_000)
    assert parse_condition("di atas 500rb") == (Condition.AMOUNT, 500_000)
    assert parse_condition("5 visits") == (Condition.VISITS, 5)
    assert parse_condition("5 kunjungan") == (Condition.VISITS, 5)
    for bad in ("sometimes", "0 visits", "over nothing", ""):
        with pytest.raises(InvalidSetting):
            parse_condition(bad)
    assert parse_voucher("10% off any ring; 50.000") == ("10% off any ring", 50_000, "")
    assert parse_voucher("10% off; 50rb; not with other promotions") == (
        "10% off",
        50_000,
        "not with other promotions",
    )
    for bad in ("10% off", "; 50.000", "x" * 65 + "; 5.000", "10% off; lots"):
        with pytest.raises(InvalidSetting):
            parse_voucher(bad)
    assert parse_limits("30 days; 100 a month") == (30, 100)
    assert parse_limits("30 hari; 100 per bulan") == (30, 100)
    for bad in ("30 days", "0 days; 5 a month", "30 days; 0 a month", "400 days; 5"):
        with pytest.raises(InvalidSetting):
            parse_limits(bad)
    assert parse_address("  Jl.  Braga 12 ") == "Jl. Braga 12" and parse_address("-") == ""


def test_what_earns_a_voucher() -> None:
    assert qualifies(Condition.AMOUNT, 500_000, 500_000, 1) and not qualifies(
        Condition.AMOUNT, 500_000, 499_999, 9
    )
    assert not qualifies(Condition.AMOUNT, 500_000, None, 9)  # a stamp purchase has no amount
    assert [qualifies(Condition.VISITS, 3, None, n) for n in (1, 2, 3, 6)] == [False, False, True, True]
