"""Plain rules behind the security fixes: numbers, codes, claim back-off, program changes, CSV cells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kartu.loyalty.claims import next_claim_allowed
from kartu.loyalty.codes import anonymous_code, looks_like_typed_code, normalize_code
from kartu.loyalty.errors import TooManyRewardsAtOnce
from kartu.loyalty.numbers import format_amount, parse_amount, parse_whole_number, split_stamp_arguments
from kartu.loyalty.program import ProgramRules, capped_balance, credit_purchase
from kartu.media.exports import neutralise

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["²", "①", "٣", "１", "-1", "1.5", "1e3", "", " ", "9" * 40, "0x10"])
def test_only_ascii_whole_numbers_in_range_are_numbers(text: str) -> None:
    assert parse_whole_number(text, 1, 20) is None


def test_whole_numbers_within_limits() -> None:
    assert parse_whole_number(" 7 ", 1, 20) == 7
    assert parse_whole_number("21", 1, 20) is None and parse_whole_number("0", 1, 20) is None


@pytest.mark.parametrize(
    ("text", "value"), [("25000", 25000), ("25.000", 25000), ("25,000", 25000), ("1.250.000", 1250000)]
)
def test_amounts_as_people_write_rupiah(text: str, value: int) -> None:
    assert parse_amount(text) == value
    assert format_amount(value).replace(".", "") == str(value)


@pytest.mark.parametrize("text", ["0", "25.000.000.000", "٢٥٠٠٠", "1.5", "25.00", "25.000,000", "-5", "lots"])
def test_implausible_amounts(text: str) -> None:
    assert parse_amount(text) is None


def test_stamp_arguments_take_the_last_word_as_the_count_when_the_rest_is_a_code() -> None:
    assert split_stamp_arguments(["K7Q2", "9XHM", "2"]) == ("K7Q29XHM", "2")
    assert split_stamp_arguments(["K7Q2-9XHM", "999999"]) == ("K7Q2-9XHM", "999999")
    assert split_stamp_arguments(["K7Q2-9XHM", "-1"]) == ("K7Q2-9XHM", "-1")
    assert split_stamp_arguments(["K7Q2", "9XHM"]) == ("K7Q29XHM", None)


def test_what_looks_like_a_typed_code() -> None:
    assert (
        looks_like_typed_code("RXY0-AKHZ")
        and looks_like_typed_code("WPQB-RVCZ")
        and looks_like_typed_code("k7q2 9xhm")
    )
    assert not looks_like_typed_code("Another one") and not looks_like_typed_code("Kopi susu")
    assert normalize_code(anonymous_code()) is None  # an erased person's code cannot be typed


def test_claims_wait_longer_after_each_rejection() -> None:
    assert next_claim_allowed([]) is None
    assert next_claim_allowed([NOW]) == NOW + timedelta(minutes=10)
    assert next_claim_allowed([NOW - timedelta(hours=1), NOW]) == NOW + timedelta(minutes=20)
    assert next_claim_allowed([NOW] * 20) == NOW + timedelta(hours=12)


def test_lowering_the_requirement_caps_fuller_cards_one_short_of_a_reward() -> None:
    assert capped_balance(40, 2) == 1
    assert capped_balance(2, 2) == 1
    assert capped_balance(1, 2) is None  # below the new requirement: keeps its head start


def test_one_purchase_fills_at_most_five_cards() -> None:
    rules = ProgramRules(stamps_required=2, stamps_per_purchase=10, daily_stamp_cap=0)
    assert credit_purchase(rules, 0, 1, 0).rewards_issued == 5
    with pytest.raises(TooManyRewardsAtOnce):
        credit_purchase(rules, 1, 2, 0)


@pytest.mark.parametrize("cell", ["=1+1", "+62", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_become_text(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


def test_plain_cells_and_numbers_are_untouched() -> None:
    assert neutralise("Ayu") == "Ayu" and neutralise(-2) == -2 and neutralise("") == ""
