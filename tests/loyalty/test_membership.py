"""Paid membership as plain rules: the offer line, what an invoice names."""

from __future__ import annotations

import pytest

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.membership import invoice_payload, offer_of, parse_offer


def test_the_offer_line_as_owners_write_it() -> None:
    assert parse_offer("Gold Club; 100; 1.5; Iced Latte") == ("Gold Club", 100, 1500, "Iced Latte")
    assert parse_offer("Gold Club; 100") == ("Gold Club", 100, 1000, None)
    assert parse_offer("Gold Club; 100; -; Iced Latte") == ("Gold Club", 100, 1000, "Iced Latte")
    for bad in (
        "Gold Club",
        "; 100",
        "Gold Club; 0",
        "Gold Club; 10001",
        "Gold Club; 100; 9",
        "x" * 33 + "; 100",
    ):
        with pytest.raises(InvalidSetting):
            parse_offer(bad)


def test_an_invoice_names_the_offer_it_was_made_for() -> None:
    assert offer_of(invoice_payload(42)) == 42
    assert offer_of("member:abc") is None and offer_of("") is None and offer_of("member:1; drop") is None
