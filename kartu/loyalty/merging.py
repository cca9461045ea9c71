"""Merging a shop into another business of the same owner: the shop becomes the business's outlet(s),
its customers' cards are added to theirs there, its team joins at its outlet. Plain rules; the
writes are services/merges.py's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kartu.loyalty.staff import Role


@dataclass(frozen=True)
class MergePreview:
    """What a merge would do, shown before it is done."""

    source: str
    target: str
    cards: int  # the source's cards
    both: int  # of them, customers holding a card at the business too: added together
    stamps: int  # held on the source's cards
    points: int
    rewards: int  # open rewards: usable at the business, codes unchanged
    outlets: tuple[str, ...]  # the source's outlets, now the business's
    team: int  # members of the source's team who join the business's

    @property
    def new_cards(self) -> int:
        return self.cards - self.both


def role_after_merge(
    role: str, outlet_id: int | None, owns_target: bool, first_outlet: int | None
) -> tuple[Role, int | None] | None:
    """Where a member of the merged shop stands in the business (role, outlet); ``None`` when
    nothing is to add (an owner of both). The business's owners decide who else runs it: another
    owner of the shop manages its outlet; staff of every outlet of the shop work at its first."""
    if owns_target:
        return None
    if role == Role.OWNER:
        return Role.MANAGER, first_outlet
    return Role(role), outlet_id if outlet_id is not None else first_outlet


def later(one: datetime | None, other: datetime | None) -> datetime | None:
    """The later of two moments, either of which may be missing."""
    if one is None or other is None:
        return one or other
    return max(one, other)
