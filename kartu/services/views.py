"""What services hand back to handlers: plain, immutable, no database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


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


@dataclass(frozen=True)
class JoinResult:
    card: CardView
    newly_joined: bool
    first_name: str
    opted_in_again: bool = False


@dataclass(frozen=True)
class InviteResult:
    merchant_name: str
    role: str
    still_acting_for: str | None = None  # they work elsewhere too and keep acting there until /shop


@dataclass(frozen=True)
class RemovedMember:
    first_name: str
    recipient: Recipient  # told that they were removed
    merchant_name: str


@dataclass(frozen=True)
class LeavePreview:
    merchant_id: int
    merchant_name: str
    stamps: int
    open_rewards: int


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    OWNER = "owner"


@dataclass(frozen=True)
class MenuView:
    """Which screens a person gets: the role they act in, and whether they can switch."""

    audience: Audience
    has_card: bool  # collects stamps somewhere: staff and owners can switch to the customer menu
    works_somewhere: bool  # staff or owner somewhere: a customer-menu view can switch back


@dataclass(frozen=True)
class WorkplaceEntry:
    merchant_id: int
    merchant_name: str
    role: str
    acting: bool


@dataclass(frozen=True)
class PurchasePromptView:
    token: str
    merchant_name: str
    customer_first_name: str
    stamps: int
    stamps_required: int
    stamps_to_add: int
    purchases: int
    # What tells two Ayus apart, and what staff should offer.
    customer_username: str | None = None
    last_visit: datetime | None = None
    open_rewards: int = 0
    timezone: str = "Asia/Jakarta"


@dataclass(frozen=True)
class PurchaseResult:
    customer: Recipient
    customer_first_name: str
    stamps_added: int
    card: CardView
    new_rewards: tuple[RewardView, ...] = field(default_factory=tuple)
    news: tuple[str, ...] = ()  # outbox keys of the customer's news, to deliver right after the commit


@dataclass(frozen=True)
class RedeemPromptView:
    token: str
    merchant_name: str
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
    news: tuple[str, ...] = ()


@dataclass(frozen=True)
class StaffEntry:
    staff_id: int
    first_name: str
    username: str | None
    role: str
    last_active_at: datetime | None
    telegram_id: int | None = None
    locked: bool = False  # code entry locked after too many unknown codes
    added_at: datetime | None = None


@dataclass(frozen=True)
class TeamView:
    merchant_name: str
    timezone: str
    members: tuple[StaffEntry, ...]
    viewer_staff_id: int = 0  # the owner looking at the team: no "remove" button for themselves


@dataclass(frozen=True)
class ProgramView:
    merchant_name: str
    stamps_required: int
    reward_name: str
    stamps_per_purchase: int
    daily_stamp_cap: int
    stamp_expiry_days: int
    reward_valid_days: int
    reminder_days: str
    survey_delay_minutes: int
    survey_every_days: int
    quiet_hours: str = "21:00-08:00"


@dataclass(frozen=True)
class MerchantCreated:
    merchant_id: int
    slug: str
    name: str
    owner_invite_token: str | None
    owner_telegram_id: int | None = None
    owner_for_username: str | None = None  # the owner link works only for this @username


@dataclass(frozen=True)
class JoinInfo:
    merchant_name: str
    slug: str
    stamps_required: int
    reward_name: str


@dataclass(frozen=True)
class OwnerAdded:
    """An owner set at once (``telegram_id``), or a one-time owner link (``invite_token``)."""

    telegram_id: int | None = None
    invite_token: str | None = None
    for_username: str | None = None


@dataclass(frozen=True)
class MerchantUpdated:
    slug: str
    name: str
    timezone: str
    owner: OwnerAdded


@dataclass(frozen=True)
class MerchantSummary:
    slug: str
    name: str
    timezone: str
    owners: int
    members: int
    created_at: datetime


@dataclass(frozen=True)
class StampReminderNotice:
    language: str
    merchant_name: str
    stamps: int
    stamps_required: int
    reward_name: str
    expires_at: datetime
    timezone: str


@dataclass(frozen=True)
class RewardReminderNotice:
    language: str
    merchant_name: str
    reward_name: str
    code: str
    expires_at: datetime
    timezone: str


@dataclass(frozen=True)
class SurveyNotice:
    language: str
    merchant_name: str
    survey_id: int


@dataclass(frozen=True)
class LowRatingAlertNotice:
    language: str
    merchant_name: str
    customer_first_name: str
    rating: int
    comment: str | None
    reason: str | None
    visits: int
    first_visit: datetime | None
    timezone: str


@dataclass(frozen=True)
class BroadcastNotice:
    language: str
    text: str
    photo_file_id: str | None
    merchant_name: str = ""  # customers of several shops see whose news it is


@dataclass(frozen=True)
class CardUpdateNotice:
    """The customer's card after a purchase was credited (with the stamps it added)."""

    language: str
    card: CardView
    stamps_added: int
    cards_filled: int = 0  # this purchase filled the card: the customer sees it full first


@dataclass(frozen=True)
class RewardIssuedNotice:
    language: str
    reward: RewardView


@dataclass(frozen=True)
class RewardRedeemedNotice:
    language: str
    merchant_name: str
    reward_name: str


@dataclass(frozen=True)
class CodeLockNotice:
    """To owners: a staff account was locked out of code entry."""

    language: str
    merchant_name: str
    staff_first_name: str
    misses: int


Notice = (
    StampReminderNotice
    | RewardReminderNotice
    | SurveyNotice
    | LowRatingAlertNotice
    | BroadcastNotice
    | CardUpdateNotice
    | RewardIssuedNotice
    | RewardRedeemedNotice
    | CodeLockNotice
)


@dataclass(frozen=True)
class SweepReport:
    merchants: int = 0
    cards_expired: int = 0
    rewards_expired: int = 0
    reminders_queued: int = 0


@dataclass(frozen=True)
class RatingResult:
    low: bool


@dataclass(frozen=True)
class FeedbackComment:
    first_name: str
    rating: int | None
    comment: str
    at: datetime


@dataclass(frozen=True)
class FeedbackReport:
    merchant_name: str
    average: float | None
    count: int
    comments: tuple[FeedbackComment, ...]
    timezone: str


@dataclass(frozen=True)
class ClaimView:
    claim_id: int
    customer_first_name: str
    amount: str | None
    created_at: datetime
    card: CardView
    staff: tuple[Recipient, ...]


@dataclass(frozen=True)
class ClaimNoticeRef:
    chat_id: int
    message_id: int
    language: str


@dataclass(frozen=True)
class ClaimDecision:
    approved: bool
    decided_by: str
    customer: Recipient
    customer_first_name: str
    notices: tuple[ClaimNoticeRef, ...]
    purchase: PurchaseResult | None


@dataclass(frozen=True)
class WeekVisits:
    week_start: datetime
    new: int
    returning: int


@dataclass(frozen=True)
class StatsView:
    merchant_name: str
    timezone: str
    members: int
    new_this_week: int
    active_30_days: int
    repeat_rate: float | None
    visits_per_member: float | None
    rewards_issued: int
    rewards_redeemed: int
    average_rating: float | None
    ratings: int
    low_rating_reasons: tuple[tuple[str, int], ...]
    weeks: tuple[WeekVisits, ...]

    @property
    def redemption_rate(self) -> float | None:
        return self.rewards_redeemed / self.rewards_issued if self.rewards_issued else None


@dataclass(frozen=True)
class MemberRow:
    first_name: str
    username: str | None
    code: str
    joined_at: datetime
    stamps: int
    visits: int
    last_visit: datetime | None
    opted_in: bool
    open_rewards: int


@dataclass(frozen=True)
class LedgerRow:
    entry_id: int
    at: datetime
    customer_code: str
    customer_name: str
    asset: str
    delta: int
    reason: str
    actor_name: str


@dataclass(frozen=True)
class ExportView:
    merchant_slug: str
    timezone: str
    members: tuple[MemberRow, ...]
    ledger: tuple[LedgerRow, ...]


@dataclass(frozen=True)
class BroadcastStarted:
    broadcast_id: int
    total: int


@dataclass(frozen=True)
class BroadcastProgress:
    broadcast_id: int
    chat_id: int
    message_id: int
    language: str
    sent: int
    failed: int
    remaining: int
    cancelled: int
    finished: bool
    was_cancelled: bool
