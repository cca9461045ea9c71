"""Points on what a customer spends: amounts as Indonesians write them, points earned per rupiah,
and earnings kept as batches that expire, spent soonest-expiring first.

A points program sits beside the stamp card (a shop may run both). Every earn is a batch with its
own expiry, so "120 points expire on 1 Feb" can be said and a spend knows which points it uses.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kartu.loyalty.errors import (
    InvalidAdjustment,
    InvalidSetting,
    NotEnoughPoints,
    RewardLimitReached,
    RewardUnavailable,
)
from kartu.loyalty.numbers import MAX_AMOUNT, parse_whole_number

# "Rp125.000", "Rp. 125.000,-", "IDR 125000", "125.000,00", "125,000": thousands grouped by dots
# or commas (one kind in a number), no cents but zero ones.
_CURRENCY = re.compile(r"^(?:rp\.?|idr)\s*")
_TRAILER = re.compile(r"(?:,-|,00|\.00|,--)$")
_GROUPED = re.compile(r"[0-9]{1,3}(?:([.,])[0-9]{3}(?:\1[0-9]{3})*)?|[0-9]{1,12}")
# "125rb", "125 ribu", "125k", "1,5jt", "1.5 juta", "2jt": a short number and a multiplier.
_SHORT = re.compile(r"([0-9]{1,6})(?:[.,]([0-9]{1,3}))?\s*(rb|ribu|k|jt|juta)")
_MULTIPLIERS = {"rb": 1_000, "ribu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000}
PERMILLE = 1_000  # earning multipliers are kept in thousandths: 1500 is "1.5x"


def parse_rupiah(text: str | None, maximum: int = MAX_AMOUNT) -> int | None:
    """A spend in whole rupiah from what staff typed, 1 to ``maximum``; ``None`` when it is not
    one (negative, zero, malformed, cents, over the limit)."""
    cleaned = _CURRENCY.sub("", (text or "").strip().lower())
    short = _SHORT.fullmatch(cleaned)
    if short is not None:
        whole, fraction, unit = short.groups()
        multiplier = _MULTIPLIERS[unit]
        value = int(whole) * multiplier
        if fraction:
            scaled = int(fraction) * multiplier
            if scaled % 10 ** len(fraction):  # "1,2345rb" would be a part of a rupiah
                return None
            value += scaled // 10 ** len(fraction)
    else:
        cleaned = _TRAILER.sub("", cleaned)
        if not _GROUPED.fullmatch(cleaned):
            return None
        value = int(cleaned.replace(".", "").replace(",", ""))
    return value if 1 <= value <= maximum else None


@dataclass(frozen=True)
class PointsRules:
    """What an owner sets for points. ``0`` for the minimum spend or the expiry means "none"."""

    rupiah_per_point: int = 10_000
    minimum_spend: int = 0
    expiry_months: int = 12
    max_amount: int = MAX_AMOUNT
    return_hours: int = 24  # a catalogue reward not yet used may be given back this long


def points_for(amount: int, rules: PointsRules, multiplier_permille: int = PERMILLE) -> int:
    """Points a spend of ``amount`` earns: whole points, rounded down, none under the minimum
    spend; a tier's multiplier (in thousandths) applies before rounding."""
    if amount < max(rules.minimum_spend, 1):
        return 0
    return amount * multiplier_permille // (rules.rupiah_per_point * PERMILLE)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months later, on the same day or the month's last one
    (31 Jan + 1 month is 28 or 29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def batch_expiry(earned_at: datetime, rules: PointsRules) -> datetime | None:
    """When points earned at ``earned_at`` lapse; ``None`` when they never do."""
    return add_months(earned_at, rules.expiry_months) if rules.expiry_months > 0 else None


@dataclass(frozen=True)
class PointsBatch:
    """Points from one earn that are still unspent."""

    id: int
    remaining: int
    earned_at: datetime
    expires_at: datetime | None


def live(batches: Iterable[PointsBatch], now: datetime) -> list[PointsBatch]:
    """The batches that can still be spent, in the order a spend draws on them: the soonest to
    expire first (with one expiry period, the oldest first), points that never expire last."""
    usable = [batch for batch in batches if batch.remaining > 0 and _alive(batch, now)]
    return sorted(
        usable,
        key=lambda batch: (batch.expires_at is None, batch.expires_at or now, batch.earned_at, batch.id),
    )


def balance(batches: Iterable[PointsBatch], now: datetime) -> int:
    return sum(batch.remaining for batch in live(batches, now))


def take(
    batches: Sequence[PointsBatch], points: int, now: datetime, first: Collection[int] = ()
) -> list[tuple[int, int]]:
    """Which batches a spend of ``points`` uses, as ``(batch id, points taken)``, soonest to
    expire first (batches in ``first`` before all: a refund takes back its purchase's own points);
    `NotEnoughPoints` when the live balance is short (nothing is taken then)."""
    if points <= 0:
        raise ValueError(points)
    usable = sorted(live(batches, now), key=lambda batch: batch.id not in first)
    available = sum(batch.remaining for batch in usable)
    if available < points:
        raise NotEnoughPoints(available, points)
    taken: list[tuple[int, int]] = []
    for batch in usable:
        if points == 0:
            break
        amount = min(batch.remaining, points)
        taken.append((batch.id, amount))
        points -= amount
    return taken


def expiring(batches: Iterable[PointsBatch], now: datetime, within: timedelta) -> list[tuple[datetime, int]]:
    """Points that lapse within ``within`` of ``now``, summed per expiry moment, soonest first
    (what a reminder tells: "120 points expire on 1 Feb")."""
    due: dict[datetime, int] = {}
    for batch in live(batches, now):
        if batch.expires_at is not None and batch.expires_at <= now + within:
            due[batch.expires_at] = due.get(batch.expires_at, 0) + batch.remaining
    return sorted(due.items())


def _alive(batch: PointsBatch, now: datetime) -> bool:
    return batch.expires_at is None or batch.expires_at > now


# --- what an owner sets -------------------------------------------------------------------------

# The program's columns for points (storage/models.py) and the `PointsRules` field each one is.
POINTS_COLUMNS = {
    "rupiah_per_point": "rupiah_per_point",
    "points_minimum_spend": "minimum_spend",
    "points_expiry_months": "expiry_months",
    "max_amount": "max_amount",
    "return_hours": "return_hours",
}
# Money settings are typed as rupiah ("10.000", "10rb"); the others are whole numbers.
_MONEY_LIMITS = {
    "rupiah_per_point": (100, 10_000_000),
    "points_minimum_spend": (0, 10_000_000),
    "max_amount": (10_000, 1_000_000_000),
}
_NUMBER_LIMITS = {"points_expiry_months": (0, 60), "return_hours": (0, 168)}


def setting_limits(column: str) -> tuple[int, int]:
    return _MONEY_LIMITS.get(column) or _NUMBER_LIMITS[column]


def is_money_setting(column: str) -> bool:
    return column in _MONEY_LIMITS


def change_points_setting(rules: PointsRules, column: str, raw_value: str) -> PointsRules:
    """Rules with one points setting changed from what the owner typed; `InvalidSetting` if not."""
    if column not in POINTS_COLUMNS:
        raise InvalidSetting(column)
    low, high = setting_limits(column)
    text = (raw_value or "").strip()
    if column in _MONEY_LIMITS:
        value = 0 if text in ("0", "-") and low == 0 else parse_rupiah(text, high)
        if value is None or value < low:
            raise InvalidSetting(column, low, high)
    else:
        parsed = parse_whole_number(text, low, high)
        if parsed is None:
            raise InvalidSetting(column, low, high)
        value = parsed
    return replace(rules, **{POINTS_COLUMNS[column]: value})


# --- the catalogue ------------------------------------------------------------------------------

ITEM_NAME_MAX = 48
PRICE_MAX = 1_000_000
STOCK_MAX = 100_000
LIMIT_MAX = 100
ADJUST_MAX = 1_000_000
NOTE_MAX = 200
_NO_LIMIT = {"-", "—", "∞", "no", "none", "unlimited", "tidak", "tanpa batas", "bebas"}


def parse_item_name(text: str | None) -> str:
    name = " ".join((text or "").split())
    if not name or len(name) > ITEM_NAME_MAX:
        raise InvalidSetting("item_name", 1, ITEM_NAME_MAX)
    return name


def parse_price(text: str | None) -> int:
    """A catalogue price in points, 1 to `PRICE_MAX` (a price of 0 would give rewards away)."""
    price = parse_whole_number((text or "").replace(".", "").replace(",", ""), 1, PRICE_MAX)
    if price is None:
        raise InvalidSetting("points_price", 1, PRICE_MAX)
    return price


def parse_optional_count(field: str, text: str | None, minimum: int, maximum: int) -> int | None:
    """A stock or a per-customer limit: a whole number, or "-" for none."""
    cleaned = (text or "").strip().lower()
    if cleaned in _NO_LIMIT:
        return None
    value = parse_whole_number(cleaned, minimum, maximum)
    if value is None:
        raise InvalidSetting(field, minimum, maximum)
    return value


def check_exchange(price: int, balance: int, *, held: int, limit: int | None, stock: int | None) -> None:
    """Whether a customer with ``balance`` points, already holding ``held`` of this reward, may
    take one more: refusals name what stands in the way."""
    if stock is not None and stock <= 0:
        raise RewardUnavailable(sold_out=True)
    if limit is not None and held >= limit:
        raise RewardLimitReached(limit)
    if balance < price:
        raise NotEnoughPoints(balance, price)


def return_deadline(issued_at: datetime, rules: PointsRules) -> datetime | None:
    """Until when a catalogue reward may be given back for its points (``None``: it may not)."""
    return issued_at + timedelta(hours=rules.return_hours) if rules.return_hours > 0 else None


_ADJUSTMENT = re.compile(r"([+-]?)\s*([0-9]{1,7})")


def parse_adjustment(text: str | None) -> int:
    """``+50`` or ``-20`` (a sign is optional for adding): the points an owner adds or takes by hand."""
    found = _ADJUSTMENT.fullmatch((text or "").strip().replace("−", "-"))
    if found is None:
        raise InvalidAdjustment(ADJUST_MAX)
    value = int(found.group(2)) * (-1 if found.group(1) == "-" else 1)
    if value == 0 or abs(value) > ADJUST_MAX:
        raise InvalidAdjustment(ADJUST_MAX)
    return value


def parse_note(text: str | None) -> str:
    """The reason an owner gives for a change by hand: required, one line, at most `NOTE_MAX`."""
    note = " ".join((text or "").split())
    if not note:
        raise InvalidAdjustment(ADJUST_MAX)
    return note[:NOTE_MAX]
