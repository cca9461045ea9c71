"""When a proactive message may go out: quiet hours, retries, and who may be messaged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Category(StrEnum):
    """Promotional messages respect opt-out and quiet hours; alerts to staff go at once;
    service messages (about the customer's own purchase) respect quiet hours only."""

    PROMO = "promo"
    SERVICE = "service"
    ALERT = "alert"
    RESULT = "result"  # the outcome of what the customer just did at the counter: at once, never dropped by opt-out


class Kind(StrEnum):
    STAMP_REMINDER = "stamp_reminder"
    REWARD_REMINDER = "reward_reminder"
    SURVEY = "survey"
    LOW_RATING_ALERT = "low_rating_alert"
    BROADCAST = "broadcast"
    CARD_UPDATE = "card_update"
    REWARD_ISSUED = "reward_issued"
    REWARD_REDEEMED = "reward_redeemed"
    CODE_LOCK_ALERT = "code_lock_alert"
    POINTS_ADJUSTED = "points_adjusted"
    POINTS_REMINDER = "points_reminder"
    BONUS = "bonus"
    TIER_CHANGE = "tier_change"
    CAUSE_DONE = "cause_done"
    SPIN_EARNED = "spin_earned"
    SPIN_RESULT = "spin_result"
    PARTNER_OFFER = "partner_offer"
    PARTNER_NEWS = "partner_news"
    PARTNER_VOUCHER = "partner_voucher"
    PARTNER_SETTLEMENT = "partner_settlement"
    MEMBER_ENDING = "member_ending"
    MEMBER_ENDED = "member_ended"
    PURCHASE_REFUNDED = "purchase_refunded"
    REFUND_TOLD = "refund_told"  # to the owners: what a refund took back
    KINDS_CHANGED = "kinds_changed"  # to holders: the shop stopped running what they hold
    WEBHOOK_ALERT = "webhook_alert"
    BACKUP_ALERT = "backup_alert"  # to the operator's admins: today's backup failed


CATEGORY_OF = {
    Kind.STAMP_REMINDER: Category.PROMO,
    Kind.REWARD_REMINDER: Category.PROMO,
    Kind.SURVEY: Category.PROMO,
    Kind.LOW_RATING_ALERT: Category.ALERT,
    Kind.BROADCAST: Category.PROMO,
    Kind.CARD_UPDATE: Category.RESULT,
    Kind.REWARD_ISSUED: Category.RESULT,
    Kind.REWARD_REDEEMED: Category.RESULT,
    Kind.CODE_LOCK_ALERT: Category.ALERT,
    Kind.POINTS_ADJUSTED: Category.RESULT,
    Kind.POINTS_REMINDER: Category.PROMO,
    Kind.BONUS: Category.SERVICE,
    Kind.TIER_CHANGE: Category.SERVICE,
    Kind.CAUSE_DONE: Category.PROMO,
    Kind.SPIN_EARNED: Category.RESULT,
    Kind.SPIN_RESULT: Category.RESULT,
    Kind.PARTNER_OFFER: Category.SERVICE,
    Kind.PARTNER_NEWS: Category.SERVICE,
    Kind.PARTNER_VOUCHER: Category.RESULT,
    Kind.PARTNER_SETTLEMENT: Category.SERVICE,
    Kind.MEMBER_ENDING: Category.SERVICE,
    Kind.MEMBER_ENDED: Category.SERVICE,
    Kind.PURCHASE_REFUNDED: Category.RESULT,
    Kind.REFUND_TOLD: Category.SERVICE,
    Kind.KINDS_CHANGED: Category.SERVICE,
    Kind.WEBHOOK_ALERT: Category.ALERT,
    Kind.BACKUP_ALERT: Category.ALERT,
}

MAX_ATTEMPTS = 5
_BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"21:00-08:00"``; ``ValueError`` when malformed."""
        start_text, _, end_text = text.partition("-")
        return cls(time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip()))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def next_allowed(moment: datetime, timezone: str, quiet: QuietHours, category: Category) -> datetime:
    """The earliest time at or after ``moment`` a message of ``category`` may be delivered."""
    if category in (Category.ALERT, Category.RESULT):
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return moment
    morning = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if morning <= local:
        morning = (local + timedelta(days=1)).replace(
            hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0
        )
    return morning.astimezone(moment.tzinfo)


def retry_delay(attempts: int) -> timedelta | None:
    """How long to wait before attempt number ``attempts + 1``; ``None`` means give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return _BACKOFF[min(attempts - 1, len(_BACKOFF) - 1)]


REMINDERS_PER_MINUTE = 300  # a sweep's reminders go out at most this fast (5/s: room for everything else)


def reminder_slots(count: int, start: datetime, timezone: str, quiet: QuietHours) -> list[datetime]:
    """When each of ``count`` reminders queued at once may go: ``REMINDERS_PER_MINUTE`` a minute
    from ``start``, a minute that falls in the quiet hours moved to the next morning (and the
    minutes after it with it), so 90,000 reminders are a steady stream over the sending hours, not
    a wall in front of every other message."""
    slots: list[datetime] = []
    moment = start
    while len(slots) < count:
        moment = next_allowed(moment, timezone, quiet, Category.PROMO)
        slots.extend([moment] * min(REMINDERS_PER_MINUTE, count - len(slots)))
        moment += timedelta(minutes=1)
    return slots
