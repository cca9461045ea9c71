"""Purchase claims: the customer asks, staff on duty decide, the first decision wins."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kartu.loyalty.errors import InvalidAmount
from kartu.loyalty.numbers import MAX_AMOUNT, format_amount
from kartu.loyalty.points import parse_rupiah

CLAIM_TTL = timedelta(minutes=30)
# After a rejected claim the customer waits before the next one: 10 minutes, doubling with
# each rejection in the last day (10, 20, 40 … capped at 12 hours), so claim spam cannot
# turn into a stream of notices to staff.
FIRST_CLAIM_WAIT = timedelta(minutes=10)
MAX_CLAIM_WAIT = timedelta(hours=12)
REJECTION_MEMORY = timedelta(days=1)


def next_claim_allowed(rejections: list[datetime]) -> datetime | None:
    """When a customer whose claims were rejected at these times (the last day's, oldest
    first) may claim again; ``None`` when nothing holds them back."""
    if not rejections:
        return None
    wait: timedelta = min(FIRST_CLAIM_WAIT * 2 ** (len(rejections) - 1), MAX_CLAIM_WAIT)
    return rejections[-1] + wait


def claimed_amount(raw: str | None) -> str | None:
    """What the customer says they paid, as staff will read it (``"25.000"``), or ``None``
    when they gave none; `InvalidAmount` for anything but a plausible rupiah amount."""
    if not (raw or "").strip():
        return None
    value = parse_rupiah(raw)
    if value is None:
        raise InvalidAmount(MAX_AMOUNT)
    return format_amount(value)


# "Missing a stamp?": a visit of the last week, with a photo of its receipt; staff have three days
# to look at it (not the half hour of a claim made at the counter).
DISPUTE_DAYS = 7
DISPUTE_TTL = timedelta(days=3)
REFUSALS = ("not_on_receipt", "already_stamped", "unreadable")  # why staff say no to one


def visit_day(today: date, days_ago: int) -> date:
    """The visit a missing stamp is asked for: today or one of the week before; `ValueError` else."""
    if not 0 <= days_ago < DISPUTE_DAYS:
        raise ValueError(days_ago)
    return today - timedelta(days=days_ago)


def median_minutes(waits: list[timedelta]) -> int | None:
    """The median time to a decision, in whole minutes (``None``: none decided)."""
    if not waits:
        return None
    ordered = sorted(waits)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return int(median.total_seconds() // 60)
