from __future__ import annotations

import pytest

from kartu.loyalty.codes import (
    ALPHABET,
    REWARD_CODE_BITS,
    CodeKind,
    code_kind,
    format_code,
    new_personal_code,
    new_reward_code,
    normalize_code,
)


def test_codes_are_typed_back_in_any_case_with_or_without_dash() -> None:
    code = new_personal_code()
    shown = format_code(code)
    assert shown[4] == "-" and len(shown) == 9
    assert normalize_code(shown) == code
    assert normalize_code(shown.lower()) == code
    assert normalize_code(f"  {code[:4]} {code[4:]} ") == code


def test_look_alike_letters_read_as_the_digits_we_meant() -> None:
    assert normalize_code("K7Q2-9XHO") == "K7Q29XH0"
    assert normalize_code("ki2l-9xhm") == "K1219XHM"


@pytest.mark.parametrize(
    "text", ["", "   ", "K7Q2", "K7Q2-9XH", "K7Q2-9XHM-", "K7Q2-9XHU", "ÄÄÄÄ-ÄÄÄÄ", "x" * 10_000, "/start"]
)
def test_things_that_are_not_codes_are_refused(text: str) -> None:
    if text == "K7Q2-9XHM-":
        assert normalize_code(text) == "K7Q29XHM"  # a trailing dash is only punctuation
        return
    assert normalize_code(text) is None


def test_reward_codes_are_long_random_and_told_apart_from_personal_codes() -> None:
    assert REWARD_CODE_BITS >= 40
    codes = {new_reward_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 10 and set(c) <= set(ALPHABET) for c in codes)
    assert code_kind(next(iter(codes))) is CodeKind.REWARD
    assert code_kind(new_personal_code()) is CodeKind.PERSONAL
    assert format_code("7GQ4MX2D9P") == "7GQ4M-X2D9P"
