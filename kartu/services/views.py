"""What services hand back to handlers: plain, immutable, no database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Recipient:
    """Someone to tell about an outcome, in their language."""

    telegram_id: int
    language: str


@dataclass(frozen=True)
class CardView:
    merchant_name: str
    stamps: int
    stamps_required: int
    reward_name: str
    personal_code: str
    open_rewards: int
    timezone: str

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


@dataclass(frozen=True)
class JoinResult:
    card: CardView
    newly_joined: bool
    first_name: str


@dataclass(frozen=True)
class InviteResult:
    merchant_name: str
    role: str


@dataclass(frozen=True)
class PurchasePromptView:
    prompt_id: int
    customer_first_name: str
    stamps: int
    stamps_required: int
    stamps_to_add: int
    purchases: int


@dataclass(frozen=True)
class PurchaseResult:
    customer: Recipient
    customer_first_name: str
    stamps_added: int
    card: CardView
    new_rewards: tuple[RewardView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RedeemPromptView:
    reward_id: int
    customer_first_name: str
    reward_name: str
    expires_at: datetime
    timezone: str


@dataclass(frozen=True)
class RedeemResult:
    customer: Recipient
    customer_first_name: str
    reward_name: str
    merchant_name: str


@dataclass(frozen=True)
class StaffEntry:
    staff_id: int
    first_name: str
    username: str | None
    role: str
    last_active_at: datetime | None


@dataclass(frozen=True)
class TeamView:
    merchant_name: str
    timezone: str
    members: tuple[StaffEntry, ...]


@dataclass(frozen=True)
class ProgramView:
    merchant_name: str
    stamps_required: int
    reward_name: str
    stamps_per_purchase: int
    daily_stamp_cap: int
    stamp_expiry_days: int
    reward_valid_days: int


@dataclass(frozen=True)
class MerchantCreated:
    merchant_id: int
    slug: str
    name: str
    owner_invite_token: str | None
