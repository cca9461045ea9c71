"""Points on what a customer spends: amounts as Indonesians write them, points earned per rupiah,
and earnings kept as batches that expire, spent soonest-expiring first.

A points program sits beside the stamp card (a shop may run both). Every earn is a batch with its
own expiry, so "120 points expire on 1 Feb" can be said and a spend knows which points it uses.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kartu.loyalty.numbers import MAX_AMOUNT

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


class NotEnoughPoints(ValueError):
    """A spend larger than the live balance."""

    def __init__(self, balance: int, price: int) -> None:
        super().__init__(f"{balance} < {price}")
        self.balance = balance
        self.price = price


def take(batches: Sequence[PointsBatch], points: int, now: datetime) -> list[tuple[int, int]]:
    """Which batches a spend of ``points`` uses, as ``(batch id, points taken)``, soonest to
    expire first; `NotEnoughPoints` when the live balance is short (nothing is taken then)."""
    if points <= 0:
        raise ValueError(points)
    usable = live(batches, now)
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
