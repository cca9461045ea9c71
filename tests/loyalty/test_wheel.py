"""The wheel as plain rules: odds as owners write them, what earns a spin, the draw, budgets, and
100,000 real draws (with `secrets`) against the published odds."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.wheel import (
    ODDS_SCALE,
    EarnRule,
    Prize,
    PrizeKind,
    Spent,
    check_odds,
    draw,
    earns_spin,
    parse_earn_rule,
    parse_odds,
    parse_prize,
)

STAMPS = Prize(1, PrizeKind.STAMPS, 2, "2 stamps", 2500, daily_budget=3)
POINTS = Prize(2, PrizeKind.POINTS, 50, "50 points", 1000)
LATTE = Prize(3, PrizeKind.ITEM, 0, "Iced Latte", 500, monthly_budget=1, item_id=9)
AGAIN = Prize(4, PrizeKind.NOTHING, 0, "Try again", 4000)
WHEEL = [STAMPS, POINTS, LATTE, AGAIN]  # 80% named; the other 20% also "try again"


def test_odds_and_prize_lines_as_owners_write_them() -> None:
    assert [parse_odds(text) for text in ("25%", "2,5%", "0.05%", "100%")] == [2500, 250, 5, 10_000]
    for bad in ("0%", "101%", "25", "abc"):
        with pytest.raises(InvalidSetting):
            parse_odds(bad)
    line = parse_prize("2 stamps; 25%; 10/day; 200/month")
    assert (line.kind, line.amount, line.odds, line.daily_budget, line.monthly_budget) == (
        PrizeKind.STAMPS,
        2,
        2500,
        10,
        200,
    )
    assert parse_prize("50 poin; 10%").kind is PrizeKind.POINTS
    assert parse_prize("Iced Latte; 5%; 3/hari").item_name == "Iced Latte"
    assert parse_prize("coba lagi; 40%").kind is PrizeKind.NOTHING
    for bad in ("2 stamps", "2 stamps; 25%; lots", "0 stamps; 5%", "5000 points; 5%", "; 5%", "50000; 5%"):
        with pytest.raises(InvalidSetting):
            parse_prize(bad)
    check_odds([2500, 1000], 6500)
    with pytest.raises(InvalidSetting):
        check_odds([2500, 1000], 6501)  # over 100%


def test_what_earns_a_spin() -> None:
    assert parse_earn_rule("every") == (EarnRule.EVERY, 1, 0)
    assert parse_earn_rule("every 3") == (EarnRule.EVERY, 3, 0)
    assert parse_earn_rule("di atas 100rb") == (EarnRule.AMOUNT, 1, 100_000)
    assert parse_earn_rule("off") == (EarnRule.OFF, 1, 0)
    with pytest.raises(InvalidSetting):
        parse_earn_rule("sometimes")
    assert [earns_spin(EarnRule.EVERY, 3, 0, n, None) for n in (1, 2, 3, 6)] == [False, False, True, True]
    assert earns_spin(EarnRule.AMOUNT, 1, 100_000, 1, 100_000) and not earns_spin(
        EarnRule.AMOUNT, 1, 100_000, 1, 99_999
    )
    assert not earns_spin(EarnRule.OFF, 1, 0, 5, 10**9)


def test_a_prize_out_of_budget_gives_the_next_one_with_budget() -> None:
    at = {STAMPS.id: Spent(today=3)}  # today's 3 stamps prizes are gone
    assert draw(WHEEL, at, lambda _: 0) == POINTS  # landed on stamps
    assert draw(WHEEL, at, lambda _: 3500) == LATTE  # landed on latte
    spent_all = {STAMPS.id: Spent(today=3), LATTE.id: Spent(month=1)}
    assert draw(WHEEL, spent_all, lambda _: 3500) == POINTS  # latte gone: wraps past "try again"
    assert draw(WHEEL, {}, lambda _: 8000) is None  # the unnamed 20%
    assert draw(WHEEL, {}, lambda _: 4000) == AGAIN
    nothing_left = [Prize(1, PrizeKind.STAMPS, 1, "1 stamp", 5000, daily_budget=0)]
    assert draw(nothing_left, {}, lambda _: 0) is None


def test_a_hundred_thousand_real_draws_match_the_odds_within_five_sigma() -> None:
    # Five sigma, not three: with five outcomes, three sigma fails about one honest run in 75 (it
    # did); five fails one in 300,000 and still catches odds off by a tenth.
    draws = 100_000
    counts = Counter(
        (
            prize.id
            if (
                prize := draw(
                    WHEEL,
                    {},
                )
            )
            else 0
        )
        for _ in range(draws)
    )
    expected = {STAMPS.id: 2500, POINTS.id: 1000, LATTE.id: 500, AGAIN.id: 4000, 0: 2000}
    for prize_id, odds in expected.items():
        p = odds / ODDS_SCALE
        sigma = math.sqrt(draws * p * (1 - p))
        assert abs(counts[prize_id] - draws * p) <= 5 * sigma, (prize_id, counts[prize_id], draws * p, sigma)
