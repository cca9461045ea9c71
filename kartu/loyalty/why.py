"""Why a balance changed: a purchase's ledger rows (its own and what it set off) read back as the
reasons a customer is told under **Why?** (issue 30). Plain rules; the rows are the ledger's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Reason(StrEnum):
    STAMPS = "stamps"  # stamps for the purchase
    POINTS = "points"  # points on the amount spent
    REWARD = "reward"  # a full card became a reward
    SPIN = "spin"  # a spin of the wheel the purchase earned
    VOUCHER = "voucher"  # a partner's voucher it earned
    GIFT = "gift"  # the shop's gift to its cause
    REFUND = "refund"  # the purchase was refunded: what came off


@dataclass(frozen=True)
class Row:
    """One ledger row naming the purchase, as Why? reads it."""

    asset: str
    delta: int
    reason: str
    amount: int | None = None


@dataclass(frozen=True)
class Because:
    reason: Reason
    count: int  # stamps, points, rewards, spins, vouchers, rupiah (a gift), or what a refund took
    amount: int | None = None  # the rupiah spent (points), or given (a gift)


@dataclass(frozen=True)
class Why:
    """A purchase's story: when, where, who confirmed it, and what it changed."""

    at: datetime
    shop: str  # with the outlet's name where the business has several
    staff: str | None  # the first name of who confirmed it (None: the point of sale)
    reasons: tuple[Because, ...]
    stamps_per_purchase: int = 1
    rupiah_per_point: int = 0  # the points rule (0: the shop runs no points)
    timezone: str = "Asia/Jakarta"  # the shop's, for when


def reasons(rows: list[Row]) -> tuple[Because, ...]:
    """What the purchase's rows added and took, in the order a customer reads them."""
    found: dict[Reason, Because] = {}

    def add(reason: Reason, count: int, amount: int | None = None) -> None:
        kept = found.get(reason)
        if kept is None:
            found[reason] = Because(reason, count, amount)
        else:
            found[reason] = Because(reason, kept.count + count, (kept.amount or 0) + (amount or 0) or None)

    for row in rows:
        if row.reason == "refund":
            add(Reason.REFUND, -row.delta if row.asset in ("stamp", "point") else 0)
        elif row.reason == "purchase" and row.asset == "stamp":
            add(Reason.STAMPS, row.delta)
        elif row.reason == "purchase" and row.asset == "point":
            add(Reason.POINTS, row.delta, row.amount)
        elif row.reason == "reward_issued" and row.asset == "reward":
            add(Reason.REWARD, row.delta)
        elif row.asset == "spin" and row.delta > 0:
            add(Reason.SPIN, row.delta)
        elif row.reason == "partner":
            add(Reason.VOUCHER, row.delta)
        elif row.asset == "cause" and row.reason == "shop_gift":
            add(Reason.GIFT, row.delta, row.delta)
    order = list(Reason)
    return tuple(sorted(found.values(), key=lambda because: order.index(because.reason)))
