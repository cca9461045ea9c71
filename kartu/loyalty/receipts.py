"""Receipt codes: a sale rung up for a customer who is not in front of the till. The till prints a
one-time link (and its QR); the first person who opens it within its life gets the sale credited,
once, with the same rules as any sale. The token is 128 random bits, kept only as a hash; wrong or
used tokens are throttled as unknown codes are."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from kartu.loyalty.errors import LoyaltyError

LIFE_DEFAULT = timedelta(days=7)
LIFE_MIN = timedelta(minutes=1)
LIFE_MAX = timedelta(days=30)
MISSES_PER_MINUTE = 10  # wrong, used or expired receipt links one person may open a minute
MISS_WINDOW = timedelta(minutes=1)


class ReceiptState(StrEnum):
    OPEN = "open"  # printed, nobody has it yet
    CLAIMED = "claimed"
    EXPIRED = "expired"
    VOID = "void"  # refunded before anyone claimed it


class ReceiptRefused(LoyaltyError):
    """Why opening a receipt link credits nothing: ``unknown``, ``claimed`` (someone had it),
    ``expired``, ``void`` or ``throttled`` (too many wrong links a minute)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_token() -> str:
    """128 random bits, URL-safe: the link's secret (22 characters)."""
    return secrets.token_urlsafe(16)


def token_hash(token: str) -> str:
    """What is kept of a token: its SHA-256 (a copy of the database cannot claim a receipt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def state_of(
    claimed_at: datetime | None, voided_at: datetime | None, expires_at: datetime, now: datetime
) -> ReceiptState:
    if voided_at is not None:
        return ReceiptState.VOID
    if claimed_at is not None:
        return ReceiptState.CLAIMED
    return ReceiptState.OPEN if now < expires_at else ReceiptState.EXPIRED


def refusal(state: ReceiptState) -> ReceiptRefused | None:
    """None for an open receipt; else why it credits nothing."""
    return None if state is ReceiptState.OPEN else ReceiptRefused(str(state))


def may_try(misses_this_minute: int) -> bool:
    return misses_this_minute < MISSES_PER_MINUTE


def life(seconds: int | None) -> timedelta:
    """A receipt's life from the till's ``expires_in`` (7 days unless given; 1 minute to 30 days)."""
    if seconds is None:
        return LIFE_DEFAULT
    asked = timedelta(seconds=seconds)
    if not LIFE_MIN <= asked <= LIFE_MAX:
        raise ValueError(seconds)
    return asked
