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
    MANAGER = "manager"  # runs one outlet's team and sees its figures
    STAFF = "staff"


# Who runs a team (invites, removes, unlocks) and reads figures: owners for the whole business,
# managers for their outlet.
LEADS = frozenset({Role.OWNER, Role.MANAGER})


def working_outlet(own: int | None, chosen: int | None, outlets: Sequence[int]) -> int | None:
    """The outlet a member's purchases are recorded at: their own outlet; for a member of every
    outlet (an owner, or staff of the whole business) the one they chose with /shop, else the
    business's first. ``outlets``: the business's outlet ids, oldest first."""
    if own is not None:
        return own
    if chosen is not None and chosen in outlets:
        return chosen
    return outlets[0] if outlets else None


def may_see(scope: int | None, outlet_id: int | None) -> bool:
    """Whether a member whose outlet is ``scope`` (``None``: every outlet) may act on or read what
    happened at ``outlet_id``."""
    return scope is None or scope == outlet_id


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


def where_name(merchant_name: str, outlet_name: str | None, outlets: int) -> str:
    """A business's name, with the outlet's where it has several ("Kopi Senja · Plaza Senayan")."""
    if outlets > 1 and outlet_name and outlet_name != merchant_name:
        return f"{merchant_name} · {outlet_name}"
    return merchant_name
