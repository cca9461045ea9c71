"""Refunding a purchase. Everything a purchase sets off is a ledger row that names it (its
``origin``): its stamps and points, the rewards its full cards issued, its gift to a cause, a spin it
earned and that spin's prize, a partner's voucher. A refund reads those rows, adds them up asset by
asset, and appends rows of its own (naming the purchase too) that take each back, so what a
purchase set off nets to nothing once it is refunded. Ledger rows are never deleted.

How each asset is taken back is the register `ON_REFUND`: a kind added later writes its rows in one
of these assets (or adds one here, and a test fails until it does), so a refund cannot forget it.
Effects that are not ledger rows are decided where they live: a referral bonus is paid only once the
friend's purchase has stood `referral_hold_days` (services/bonuses.py); a level the purchase reached
is looked at again at once (services/tiers.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kartu.loyalty.errors import LoyaltyError


class Asset(StrEnum):
    """What a ledger row counts."""

    STAMP = "stamp"
    POINT = "point"
    REWARD = "reward"  # a reward code: +1 issued, -1 used, lapsed, given away or void
    SPIN = "spin"  # a spin of the wheel: +1 earned, -1 spun or lapsed
    CAUSE = "cause"  # rupiah given to a cause
    STARS = "stars"  # Telegram Stars paid for a membership


# The register: what a refund does with each asset a purchase's effects can hold.
ON_REFUND: dict[Asset, str] = {
    Asset.STAMP: (
        "taken off the card, and the stamps its full cards used come back; never below zero: what the "
        "card no longer holds (lapsed, filled a later card, given to a cause, capped by a lower target) "
        "is not taken again, and the refund records it as stamps short"
    ),
    Asset.POINT: (
        "taken back, from its own batches first; refused when the customer has spent them; "
        "points that lapsed meanwhile are not taken again"
    ),
    Asset.REWARD: "void while unused (a partner's voucher too); the refund is refused once one was used",
    Asset.SPIN: "a spin not yet spun is void; a spun one's prize is taken back by its own rows",
    Asset.CAUSE: "the shop's gift is withdrawn",
}
# Assets no purchase ever sets off: a membership is paid for, not earned.
NOT_FROM_PURCHASES = frozenset({Asset.STARS})


class RefundRefused(LoyaltyError):
    """Why a purchase cannot be taken back: ``reason`` is ``refunded`` (done before),
    ``reward_used`` (a reward it issued was redeemed), ``voucher_used`` (a partner's voucher it
    gave was used at the partner) or ``points_spent`` (the balance no longer holds its points)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnregisteredEffect(LoyaltyError):
    """A row names a purchase in an asset `ON_REFUND` does not know: a kind forgot the register."""


@dataclass(frozen=True)
class LedgerLine:
    """One ledger row naming the purchase, as a refund reads it."""

    idempotency_key: str
    asset: str
    delta: int
    reward_id: int | None = None
    cause_id: int | None = None
    merchant_id: int = 0
    person_id: int = 0


@dataclass(frozen=True)
class Effects:
    """What a purchase's rows add up to now, per asset (the refund takes these back)."""

    stamps: int = 0  # net stamps on the purchase's card (negative: its full cards used more)
    stamp_rows: bool = False  # a purchase with a stamps row (even of 0: a capped card)
    points: int = 0  # points it earned (a spin's prize included), before any taken back
    points_taken_back: int = 0
    point_sources: tuple[str, ...] = ()  # the keys of its points rows: its batches' sources
    rewards: tuple[tuple[int, int], ...] = ()  # (merchant id, reward id) issued and not yet taken back
    spins: int = 0  # spins earned and neither spun, lapsed nor void
    causes: tuple[tuple[int, int], ...] = ()  # (cause id, rupiah) given and not withdrawn

    @property
    def points_held(self) -> int:
        return self.points - self.points_taken_back


def effects_of(lines: Iterable[LedgerLine]) -> Effects:
    """Add up a purchase's rows; `UnregisteredEffect` for an asset the register does not know."""
    stamps = points = taken_back = spins = 0
    stamp_rows = False
    sources: list[str] = []
    rewards: dict[int, tuple[int, int]] = {}
    causes: dict[int, int] = {}
    for line in lines:
        try:
            asset = Asset(line.asset)
        except ValueError:
            raise UnregisteredEffect(line.asset) from None
        if asset not in ON_REFUND:
            raise UnregisteredEffect(line.asset)
        match asset:
            case Asset.STAMP:
                stamps += line.delta
                stamp_rows = True
            case Asset.POINT if line.delta > 0:
                points += line.delta
                sources.append(line.idempotency_key)
            case Asset.POINT:
                taken_back -= line.delta
            case Asset.REWARD if line.reward_id is not None and line.delta > 0:
                rewards[line.reward_id] = (line.merchant_id, line.reward_id)
            case Asset.REWARD if line.reward_id is not None:
                rewards.pop(line.reward_id, None)
            case Asset.SPIN:
                spins += line.delta
            case Asset.CAUSE if line.cause_id is not None:
                causes[line.cause_id] = causes.get(line.cause_id, 0) + line.delta
    return Effects(
        stamps,
        stamp_rows,
        points,
        taken_back,
        tuple(sources),
        tuple(rewards.values()),
        spins,
        tuple((cause, rupiah) for cause, rupiah in causes.items() if rupiah),
    )


def stamps_after_refund(balance: int, net_stamps: int) -> tuple[int, int]:
    """The card's stamps once the purchase is taken back (its rewards void), and how many it could
    not take: the stamps it added come off and those its full cards used come back, never below
    zero (what the card no longer holds is short)."""
    after = balance - net_stamps
    return max(after, 0), max(-after, 0)


def points_to_take_back(effects: Effects, lapsed: int) -> int:
    """The purchase's points that come off: all it still counts (spent ones from the customer's
    other points) but those of its batches that lapsed meanwhile, which the customer lost already."""
    return max(effects.points_held - lapsed, 0)
