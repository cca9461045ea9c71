"""Views several services hand back (a card, a reward, someone to tell): plain, immutable, no
database rows. A result only one use case returns lives beside that use case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kartu.loyalty.kinds import Kinds


@dataclass(frozen=True)
class Recipient:
    """Someone to tell about an outcome, in their language."""

    telegram_id: int | None  # None: a customer on another messenger (reached through the outbox)
    language: str


@dataclass(frozen=True)
class NextLevel:
    name: str
    missing: int  # rupiah or visits
    basis: str  # "spend" or "visits"


@dataclass(frozen=True)
class CardView:
    merchant_name: str
    stamps: int
    stamps_required: int
    reward_name: str
    personal_code: str
    open_rewards: int
    timezone: str
    stamps_expire_at: datetime | None = None
    points: int | None = None  # None: the shop does not run points
    runs_stamps: bool = True
    tier: str = ""  # the customer's level here, if any
    tier_multiplier: int = 1000  # its points multiplier (1500: 1.5x)
    next_level: NextLevel | None = None  # on /card: the next level and what is missing to reach it
    groups: tuple[tuple[int, str], ...] = ()  # on /card: the level groups open to them (level id, title)

    @property
    def stamps_to_reward(self) -> int:
        return max(self.stamps_required - self.stamps, 0)


@dataclass(frozen=True)
class RewardView:
    code: str
    name: str
    expires_at: datetime
    merchant_name: str
    timezone: str
    reward_id: int = 0
    points_price: int | None = None  # bought with points from the catalogue
    returnable_until: datetime | None = None  # may still be given back for its points until then
    from_card: bool = True  # a full stamp card's reward (not the catalogue's, a spin's or a membership's)


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    MANAGER = "manager"  # an outlet's manager: staff's screens, with the outlet's team and figures
    OWNER = "owner"


@dataclass(frozen=True)
class MenuView:
    """Which screens a person gets: the role they act in, and whether they can switch."""

    audience: Audience
    has_card: bool  # collects stamps somewhere: staff and owners can switch to the customer menu
    works_somewhere: bool  # staff or owner somewhere: a customer-menu view can switch back
    kinds: Kinds = Kinds()  # what the shop runs (the customer's current one, or the one staff act for)

    @classmethod
    def of(
        cls, role: str | None, has_card: bool, as_customer: bool = False, kinds: Kinds = Kinds()
    ) -> MenuView:
        """The menu of someone acting in ``role`` (``None``: works nowhere)."""
        if role is None or as_customer:
            return cls(Audience.CUSTOMER, has_card, works_somewhere=role is not None, kinds=kinds)
        audience = {"owner": Audience.OWNER, "manager": Audience.MANAGER}.get(role, Audience.STAFF)
        return cls(audience, has_card, works_somewhere=True, kinds=kinds)
