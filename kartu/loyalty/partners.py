"""Partner vouchers between shops: what earns one at the first shop (one purchase over an amount,
or every n-th visit), the voucher redeemed at the second, its validity and monthly cap."""

from __future__ import annotations

import re
from enum import StrEnum

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.numbers import parse_whole_number
from kartu.loyalty.points import parse_rupiah

VOUCHER_MAX = 64
TERMS_MAX = 200
ADDRESS_MAX = 200
VALUE_MAX = 100_000_000
VALID_DAYS_MAX = 365
CAP_MAX = 100_000
VISITS_MAX = 100


class Condition(StrEnum):
    AMOUNT = "amount"
    VISITS = "visits"


def parse_condition(text: str | None) -> tuple[Condition, int]:
    """``over 500.000`` / ``di atas 500rb`` (one purchase of at least), ``5 visits`` / ``5 kunjungan``."""
    cleaned = " ".join((text or "").strip().lower().split())
    visits = re.fullmatch(r"(\d{1,3})\s*(?:visits?|kunjungan|x)", cleaned)
    if visits is not None:
        count = parse_whole_number(visits.group(1), 1, VISITS_MAX)
        if count is None:
            raise InvalidSetting("partner_condition")
        return Condition.VISITS, count
    over = re.fullmatch(r"(?:over|above|min|minimal|di atas|>=?)\s*(.+)", cleaned)
    amount = parse_rupiah(over.group(1), VALUE_MAX * 10) if over else None
    if amount is None:
        raise InvalidSetting("partner_condition")
    return Condition.AMOUNT, amount


def parse_voucher_name(text: str | None) -> str:
    """What the voucher gives: ``10% off any ring``."""
    voucher = " ".join((text or "").split())
    if not voucher or len(voucher) > VOUCHER_MAX:
        raise InvalidSetting("partner_voucher")
    return voucher


def parse_voucher_value(text: str | None) -> int:
    """What it is worth in rupiah, for the monthly settlement."""
    value = parse_rupiah(text, VALUE_MAX)
    if value is None:
        raise InvalidSetting("partner_value", 1, VALUE_MAX)
    return value


def parse_terms(text: str | None) -> str:
    terms = " ".join((text or "").split())
    if len(terms) > TERMS_MAX:
        raise InvalidSetting("partner_terms", 0, TERMS_MAX)
    return "" if terms in ("-", "—") else terms


def parse_valid_days(text: str | None) -> int:
    found = re.search(r"\d+", text or "")
    days = parse_whole_number(found.group(0), 1, VALID_DAYS_MAX) if found else None
    if days is None:
        raise InvalidSetting("partner_days", 1, VALID_DAYS_MAX)
    return days


def parse_monthly_cap(text: str | None) -> int:
    found = re.search(r"\d+", text or "")
    cap = parse_whole_number(found.group(0), 1, CAP_MAX) if found else None
    if cap is None:
        raise InvalidSetting("partner_cap", 1, CAP_MAX)
    return cap


def parse_voucher(text: str | None) -> tuple[str, int, str]:
    """``10% off any ring; 50.000; not with other promotions``: what it gives, its value in rupiah
    (for the settlement), terms (may be left out)."""
    parts = [part.strip() for part in (text or "").split(";", 2)]
    if len(parts) < 2:
        raise InvalidSetting("partner_voucher")
    try:
        return (
            parse_voucher_name(parts[0]),
            parse_voucher_value(parts[1]),
            parse_terms(parts[2] if len(parts) == 3 else ""),
        )
    except InvalidSetting:
        raise InvalidSetting("partner_voucher") from None


def parse_limits(text: str | None) -> tuple[int, int]:
    """``30 days; 100 a month`` / ``30 hari; 100 per bulan``: how long a voucher keeps, and how many
    the first shop's customers may get in a calendar month."""
    numbers = re.findall(r"\d+", text or "")
    if len(numbers) != 2:
        raise InvalidSetting("partner_limits")
    try:
        return parse_valid_days(numbers[0]), parse_monthly_cap(numbers[1])
    except InvalidSetting:
        raise InvalidSetting("partner_limits") from None


def qualifies(condition: Condition, value: int, amount: int | None, visits: int) -> bool:
    """Whether a purchase (of ``amount``, the customer's ``visits``-th at the shop) earns the voucher."""
    if condition is Condition.AMOUNT:
        return amount is not None and amount >= value
    return visits > 0 and visits % max(value, 1) == 0


def parse_address(text: str | None) -> str:
    address = " ".join((text or "").split())
    if len(address) > ADDRESS_MAX:
        raise InvalidSetting("address", 0, ADDRESS_MAX)
    return "" if address in ("-", "—") else address


def valid_location(latitude: float, longitude: float) -> bool:
    return -90 <= latitude <= 90 and -180 <= longitude <= 180
