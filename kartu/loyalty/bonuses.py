"""Bonuses a shop gives besides purchases: on joining, on a birthday, for bringing a friend.

A bonus is in points when the shop runs points, else in stamps. Stamps given as a bonus never fill
a card by themselves (the next purchase does), so a bonus never issues a reward code unasked.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from kartu.loyalty.errors import InvalidBirthday, InvalidSetting
from kartu.loyalty.numbers import parse_whole_number

BONUS_LIMITS = {
    "welcome_bonus": (0, 10_000),
    "birthday_bonus": (0, 10_000),
    "referral_bonus": (0, 10_000),
    "referral_monthly_cap": (1, 100),
    "referral_hold_days": (0, 60),  # the return window before a referral pays
}
BIRTHDAY_CHANGE_EVERY = timedelta(days=365)


def change_bonus_setting(field: str, raw_value: str) -> int:
    """A bonus setting from what the owner typed; `InvalidSetting` when it is out of range."""
    if field not in BONUS_LIMITS:
        raise InvalidSetting(field)
    low, high = BONUS_LIMITS[field]
    value = parse_whole_number(raw_value, low, high)
    if value is None:
        raise InvalidSetting(field, low, high)
    return value


def bonus_stamps(bonus: int, stamps: int, stamps_required: int) -> int:
    """Stamps a bonus adds to a card holding ``stamps``: at most one short of a full card."""
    return max(min(bonus, stamps_required - 1 - stamps), 0)


_MONTHS = {
    **{name: number for number, name in enumerate(calendar.month_name) if name},
    **{name: number for number, name in enumerate(calendar.month_abbr) if name},
    "januari": 1,
    "februari": 2,
    "maret": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "agustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "desember": 12,
    "okt": 10,
    "agu": 8,
    "agt": 8,
    "des": 12,
    "peb": 2,
}
_MONTH_NAMES = {name.lower(): number for name, number in _MONTHS.items()}
_NUMERIC = re.compile(r"([0-9]{1,2})\s*[-/. ]\s*([0-9]{1,2})")
_NAMED = re.compile(r"([0-9]{1,2})\s*([a-z]+)\.?")


def parse_birthday(text: str | None) -> tuple[int, int]:
    """``17-08``, ``17/8``, ``17.08``, ``17 Agustus``, ``17 Aug``: (day, month). A year given too
    is ignored (Kartu keeps day and month only); `InvalidBirthday` for anything else."""
    cleaned = " ".join((text or "").strip().lower().split())
    cleaned = re.sub(r"[-/. ]?\s*(19|20)[0-9]{2}$", "", cleaned)  # "17-08-1990": the year goes
    numeric, named = _NUMERIC.fullmatch(cleaned), _NAMED.fullmatch(cleaned.replace(" ", ""))
    if numeric is not None:
        day, month = int(numeric.group(1)), int(numeric.group(2))
    elif named is not None and named.group(2) in _MONTH_NAMES:
        day, month = int(named.group(1)), _MONTH_NAMES[named.group(2)]
    else:
        raise InvalidBirthday()
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2024, month)[1]:  # 2024: 29 Feb exists
        raise InvalidBirthday()
    return day, month


def may_change_birthday(set_at: datetime | None, now: datetime) -> datetime | None:
    """``None`` when the birthday may be set now; else from when it may be changed."""
    if set_at is None or now - set_at >= BIRTHDAY_CHANGE_EVERY:
        return None
    return set_at + BIRTHDAY_CHANGE_EVERY


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def birthdays_on(today: date) -> list[tuple[int, int]]:
    """The (day, month) birthdays celebrated on ``today``: 29 February on the 28th in other years."""
    days = [(today.day, today.month)]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        days.append((29, 2))
    return days


def month_start(now: datetime, timezone: str) -> datetime:
    """The first moment of the shop's calendar month containing ``now``, in UTC."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))
