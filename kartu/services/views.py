"""Views several services hand back (a card, a reward, someone to tell): plain, immutable, no
database rows. A result only one use case returns lives beside that use case."""

from __future__ import annotations

from dataclasses import dataclass
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
    stamps_expire_at: datetime | None = None

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
