"""Refunding a purchase: what it put on the card, read back from its ledger rows, and what comes
off again. Ledger rows are never deleted; a refund appends rows that take back the purchase's
stamps, points, rewards and cause gift."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kartu.loyalty.errors import LoyaltyError


class RefundRefused(LoyaltyError):
    """Why a purchase cannot be taken back: ``reason`` is ``refunded`` (done before),
    ``reward_used`` (a reward it issued was redeemed) or ``points_spent`` (the balance no longer
    holds its points)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LedgerLine:
    idempotency_key: str
    asset: str
    delta: int
    reward_id: int | None = None
    cause_id: int | None = None


@dataclass(frozen=True)
class Earned:
    """What one purchase put on a card."""

    person_id: int
    stamps_added: int = 0
    stamps_spent: int = 0  # on the cards it filled (each a reward)
    points: int = 0
    reward_ids: tuple[int, ...] = ()
    cause_rupiah: int = 0
    cause_id: int | None = None
    runs_stamps: bool = False  # it has a stamps row (a refund writes one back, even of 0)

    @property
    def net_stamps(self) -> int:
        return self.stamps_added - self.stamps_spent


def ledger_keys(source: str) -> tuple[str, ...]:
    """The exact keys a purchase's rows may have (its rewards' rows are numbered: see `earned`)."""
    return f"purchase:{source}", f"points:{source}", f"cause:{source}"


def numbered_prefixes(source: str) -> tuple[str, ...]:
    return f"card-full:{source}:", f"reward:{source}:"


def refund_keys(source: str) -> tuple[str, str, str]:
    """The refund's own rows: stamps, points, the cause gift (a reward's is `reward_refund_key`)."""
    return f"refund-stamps:{source}", f"refund-points:{source}", f"refund-cause:{source}"


def reward_refund_key(reward_id: int) -> str:
    return f"refund-reward:{reward_id}"


def earned(source: str, person_id: int, lines: Iterable[LedgerLine]) -> Earned:
    """Sum a purchase's rows (``lines`` may hold others with a longer source: they are skipped)."""
    numbered = re.compile(rf"^(card-full|reward):{re.escape(source)}:\d+$")
    added = spent = points = rupiah = 0
    rewards: list[int] = []
    cause_id = None
    runs_stamps = False
    for line in lines:
        key = line.idempotency_key
        if key == f"purchase:{source}":
            added, runs_stamps = line.delta, True
        elif key == f"points:{source}":
            points = line.delta
        elif key == f"cause:{source}":
            rupiah, cause_id = line.delta, line.cause_id
        elif numbered.match(key):
            if line.asset == "stamp":
                spent -= line.delta
            elif line.reward_id is not None:
                rewards.append(line.reward_id)
    return Earned(person_id, added, spent, points, tuple(rewards), rupiah, cause_id, runs_stamps)


def stamps_after_refund(balance: int, purchase: Earned) -> int:
    """The card's stamps once the purchase is taken back (its rewards void): the stamps it added
    come off and those its full cards used come back, never below zero."""
    return max(0, balance - purchase.net_stamps)


def points_to_take_back(purchase: Earned, lapsed: int) -> int:
    """The purchase's points that come off: all of them (spent ones from the customer's other
    points) but those of its batch that lapsed meanwhile, which the customer has lost already."""
    return max(purchase.points - lapsed, 0)
