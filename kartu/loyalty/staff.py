"""Who may do what for a merchant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

INVITE_TTL = timedelta(hours=24)
PROMPT_TTL = timedelta(minutes=15)


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"


class _Place(Protocol):
    @property
    def merchant_id(self) -> int: ...


Place = TypeVar("Place", bound=_Place)


def acting_place(acting_merchant_id: int | None, places: Sequence[Place]) -> Place | None:
    """Of someone's memberships (most recent first), the shop they act for: their /shop choice,
    else the first shop they joined, so a new invite never moves them."""
    for place in places:
        if place.merchant_id == acting_merchant_id:
            return place
    return places[-1] if places else None
