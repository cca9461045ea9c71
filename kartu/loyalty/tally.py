"""The shop's day by day, counted as the ledger grows: what each ledger row, refund and rating adds
to its shop's local day. /stats and its chart read these counts instead of scanning the ledger.

A *visit* is a purchase's row: its stamps, or its points when the purchase wrote no stamp row (a
shop running both writes both, under one origin). A visit is a *first* visit when no purchase row
of that customer at that shop came before it; a refund takes its visit back from the day it was
made (and from the first visits, if it was one; the customer's later visit does not become their
first). Points count as /stats has always counted them: earned (positive rows but given-back
rewards), spent (negative rows but lapses, less what a given-back reward returned), expired.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo

COUNTS = (
    "visits",
    "first_visits",
    "stamps_earned",
    "stamps_spent",
    "stamps_expired",
    "points_earned",
    "points_spent",
    "points_expired",
    "rewards_issued",
    "rewards_redeemed",
    "ratings",
    "rating_sum",
)
REDEEMED = ("reward_redeemed", "redeemed")
MERGED = "merged"  # a card's balance carried from a shop into the business it merged into


@dataclass
class DayCounts:
    """What happened at one shop on one local day."""

    visits: int = 0
    first_visits: int = 0
    stamps_earned: int = 0
    stamps_spent: int = 0
    stamps_expired: int = 0
    points_earned: int = 0
    points_spent: int = 0
    points_expired: int = 0
    rewards_issued: int = 0
    rewards_redeemed: int = 0
    ratings: int = 0
    rating_sum: int = 0

    def add(self, other: DayCounts, sign: int = 1) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))

    def values(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in COUNTS)


assert tuple(field.name for field in fields(DayCounts)) == COUNTS


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def ledger_counts(asset: str, delta: int, reason: str, *, visit: bool, first: bool) -> DayCounts:
    """What one ledger row adds to its day (``visit``/``first``: as the module says). A card carried
    into a business by a merge (``merged``) earned and spent nothing: its days moved with it."""
    if reason == MERGED:
        return DayCounts()
    counts = DayCounts(visits=int(visit), first_visits=int(visit and first))
    if asset == "stamp":
        if reason == "expired":
            counts.stamps_expired = -delta
        elif delta > 0:
            counts.stamps_earned = delta
        else:
            counts.stamps_spent = -delta
    elif asset == "point":
        if reason == "expired":
            counts.points_expired = -delta
        elif reason == "returned":
            counts.points_spent = -delta
        elif delta > 0:
            counts.points_earned = delta
        else:
            counts.points_spent = -delta
    elif asset == "reward":
        if delta > 0:
            counts.rewards_issued = delta
        elif reason in REDEEMED:
            counts.rewards_redeemed = -delta
    return counts


def refund_counts(first: bool) -> DayCounts:
    """What a refunded visit takes back from the day it was made."""
    return DayCounts(visits=-1, first_visits=-int(first))


def rating_counts(rating: int) -> DayCounts:
    return DayCounts(ratings=1, rating_sum=rating)
