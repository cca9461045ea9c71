"""A merchant's stamp program and what one confirmed purchase does to a card."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kartu.loyalty.delivery import QuietHours
from kartu.loyalty.errors import DailyCapReached, InvalidPurchaseCount, InvalidSetting, TooManyRewardsAtOnce
from kartu.loyalty.expiry import MAX_REMINDER_DAYS, format_reminder_days, parse_reminder_days
from kartu.loyalty.numbers import parse_whole_number

MAX_PURCHASES_PER_PROMPT = 20
# One confirmation issues at most this many rewards: each is a message with a code, and a
# burst of them would run into Telegram's per-chat limits (and is surely a typo).
MAX_REWARDS_PER_PURCHASE = 5


# A new shop's reward, in the shop's language until the owner names their own.
DEFAULT_REWARD_NAMES = {"id": "1 minuman gratis", "en": "1 free drink"}


def default_rules(language: str) -> ProgramRules:
    return ProgramRules(reward_name=DEFAULT_REWARD_NAMES.get(language, DEFAULT_REWARD_NAMES["en"]))


@dataclass(frozen=True)
class ProgramRules:
    """The settings an owner controls. ``0`` for a cap or expiry means "none"."""

    stamps_required: int = 10
    reward_name: str = "1 free drink"
    stamps_per_purchase: int = 1
    daily_stamp_cap: int = 5
    stamp_expiry_days: int = 180
    reward_valid_days: int = 30
    reminder_days: str = "7,1"
    survey_delay_minutes: int = 120
    survey_every_days: int = 14


@dataclass(frozen=True)
class NumberLimits:
    minimum: int
    maximum: int


# Ranges an owner may choose from; the chat form shows them.
NUMBER_SETTINGS: dict[str, NumberLimits] = {
    "stamps_required": NumberLimits(2, 50),
    "stamps_per_purchase": NumberLimits(1, 10),
    "daily_stamp_cap": NumberLimits(0, 100),
    "stamp_expiry_days": NumberLimits(0, 3650),
    "reward_valid_days": NumberLimits(1, 3650),
    "survey_delay_minutes": NumberLimits(0, 1440),
    "survey_every_days": NumberLimits(0, 365),
}
REWARD_NAME_MAX = 48
EDITABLE_SETTINGS = (
    "stamps_required",
    "reward_name",
    "stamps_per_purchase",
    "daily_stamp_cap",
    "stamp_expiry_days",
    "reward_valid_days",
    "reminder_days",
    "survey_delay_minutes",
    "survey_every_days",
    "quiet_hours",
)
# Settings of the merchant rather than of its stamp program, edited in the same form.
MERCHANT_SETTINGS = ("quiet_hours",)


def parse_quiet_hours(raw_value: str) -> str:
    """``"21-8"``, ``"21:00-08:00"`` or ``"0"`` (no quiet hours) -> canonical ``"HH:MM-HH:MM"``."""
    text = (raw_value or "").strip().replace(" ", "").replace(".", ":")
    if text in ("0", "-", "none"):
        return "00:00-00:00"
    start, separator, end = text.partition("-")
    try:
        if not separator:
            raise ValueError(text)
        hours = [value if ":" in value else f"{int(value):02d}:00" for value in (start, end)]
        return str(QuietHours.parse("-".join(hours)))
    except ValueError:
        raise InvalidSetting("quiet_hours") from None


def change_setting(rules: ProgramRules, field: str, raw_value: str) -> ProgramRules:
    """Rules with one setting changed from what the owner typed; `InvalidSetting` if out of range."""
    text = (raw_value or "").strip()
    if field == "reward_name":
        if not text or len(text) > REWARD_NAME_MAX:
            raise InvalidSetting(field, 1, REWARD_NAME_MAX)
        return replace(rules, reward_name=" ".join(text.split()))
    if field == "reminder_days":
        try:
            days = parse_reminder_days(text) if text not in ("0", "-") else ()
        except ValueError:
            raise InvalidSetting(field, 1, MAX_REMINDER_DAYS) from None
        return replace(rules, reminder_days=format_reminder_days(days))
    limits = NUMBER_SETTINGS.get(field)
    if limits is None:
        raise InvalidSetting(field)
    value = parse_whole_number(text, limits.minimum, limits.maximum)
    if value is None:
        raise InvalidSetting(field, limits.minimum, limits.maximum)
    changed: dict[str, Any] = {field: value}
    return replace(rules, **changed)


def parse_purchase_count(raw: str | None) -> int:
    """Number of purchases typed after the code; 1 when nothing was typed."""
    if raw is None or not raw.strip():
        return 1
    count = parse_whole_number(raw, 1, MAX_PURCHASES_PER_PROMPT)
    if count is None:
        raise InvalidPurchaseCount(MAX_PURCHASES_PER_PROMPT)
    return count


@dataclass(frozen=True)
class PurchaseOutcome:
    """What crediting a purchase does: stamps added, full cards turned into rewards, the card after."""

    stamps_added: int
    rewards_issued: int
    stamps_spent: int
    balance_after: int


def credit_purchase(rules: ProgramRules, balance: int, purchases: int, stamped_today: int) -> PurchaseOutcome:
    """Apply ``purchases`` to a card holding ``balance`` stamps.

    Every full card becomes one reward and the card restarts with the overflow stamps.
    Refuses with `DailyCapReached` when the day's cap would be exceeded, so staff can
    retry with fewer purchases rather than credit a silent part of them.
    """
    stamps = purchases * rules.stamps_per_purchase
    if rules.daily_stamp_cap:
        remaining = max(rules.daily_stamp_cap - stamped_today, 0)
        if stamps > remaining:
            raise DailyCapReached(remaining=remaining, cap=rules.daily_stamp_cap)
    rewards, balance_after = divmod(balance + stamps, rules.stamps_required)
    if rewards > MAX_REWARDS_PER_PURCHASE:
        raise TooManyRewardsAtOnce(MAX_REWARDS_PER_PURCHASE)
    return PurchaseOutcome(
        stamps_added=stamps,
        rewards_issued=rewards,
        stamps_spent=rewards * rules.stamps_required,
        balance_after=balance_after,
    )


def capped_balance(stamps: int, stamps_required: int) -> int | None:
    """What a card keeps when the owner lowers "stamps required" below what it holds: one stamp
    short of the new reward (a rule change never issues rewards by itself); ``None`` when the
    card is not affected. Cards below the new requirement keep their stamps, and so their
    head start; raising the requirement changes no card."""
    return stamps_required - 1 if stamps >= stamps_required else None


def stamps_to_reward(rules: ProgramRules, balance: int) -> int:
    """How many more stamps until the next reward."""
    return max(rules.stamps_required - balance, 0)


def local_day_start(now: datetime, timezone: str) -> datetime:
    """Start of the merchant's calendar day containing ``now``, as an aware UTC datetime."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(ZoneInfo("UTC"))


def reward_expiry(rules: ProgramRules, issued_at: datetime) -> datetime:
    """When a reward issued at ``issued_at`` stops being redeemable."""
    return issued_at + timedelta(days=rules.reward_valid_days)
