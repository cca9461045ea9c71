"""Giving to a cause: a shop gives Rp Y for every Rp X its customers spend, and customers may give
their points, stamps or an unused reward at a value the owner states. Plain rules: what a purchase
gives, what a donation is worth, what owners type, how far a cause has come."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.numbers import parse_whole_number
from kartu.loyalty.points import parse_rupiah

CAUSE_NAME_MAX = 48
DESCRIPTION_MAX = 400
NOTE_MAX = 120
TARGET_MAX = 10_000_000_000
VALUE_MAX = 10_000_000  # rupiah one point, one stamp or one reward may be worth
DONATION_MAX = 1_000_000  # points or stamps in one donation
LONGEST = timedelta(days=3 * 366)

_ENGLISH_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {  # the first three letters, English and Indonesian
    **{name: number for number, name in enumerate(_ENGLISH_MONTHS, 1)},
    **{"mei": 5, "agu": 8, "agt": 8, "okt": 10, "nop": 11, "des": 12},
}


class Asset:
    POINTS = "point"
    STAMPS = "stamp"
    REWARD = "reward"


@dataclass(frozen=True)
class CauseRules:
    """What a shop gives per spend (``give`` rupiah per ``per`` rupiah; 0: nothing) and what a
    customer's point, stamp or reward is worth given to the cause (0: not accepted)."""

    give: int = 0
    per: int = 0
    point_value: int = 0
    stamp_value: int = 0
    reward_value: int = 0

    def value_of(self, asset: str) -> int:
        return {
            Asset.POINTS: self.point_value,
            Asset.STAMPS: self.stamp_value,
            Asset.REWARD: self.reward_value,
        }.get(asset, 0)


def shop_gift(amount: int, rules: CauseRules) -> int:
    """What a purchase of ``amount`` rupiah gives: ``give`` for each whole ``per`` spent."""
    if rules.give <= 0 or rules.per <= 0 or amount <= 0:
        return 0
    return amount // rules.per * rules.give


def donation_value(asset: str, units: int, rules: CauseRules) -> int:
    return units * rules.value_of(asset)


def parse_cause_name(text: str | None) -> str:
    name = " ".join((text or "").split())
    if not name or len(name) > CAUSE_NAME_MAX:
        raise InvalidSetting("cause_name", 1, CAUSE_NAME_MAX)
    return name


def parse_target(text: str | None) -> int:
    target = parse_rupiah(text, TARGET_MAX)
    if target is None:
        raise InvalidSetting("cause_target", 1, TARGET_MAX)
    return target


_DATE_NUMERIC = re.compile(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})")
_DATE_WORDS = re.compile(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})")


def parse_date(text: str | None) -> date | None:
    """``31-12-2026``, ``31/12/2026``, ``31 Des 2026``, ``31 December 2026``; ``None`` otherwise."""
    cleaned = " ".join((text or "").strip().lower().split())
    numeric, words = _DATE_NUMERIC.fullmatch(cleaned), _DATE_WORDS.fullmatch(cleaned)
    try:
        if numeric is not None:
            day, month, year = (int(part) for part in numeric.groups())
        elif words is not None and words.group(2)[:3] in MONTHS:
            day, month, year = int(words.group(1)), MONTHS[words.group(2)[:3]], int(words.group(3))
        else:
            return None
        return date(year, month, day)
    except ValueError:
        return None


def parse_end_date(text: str | None, today: date) -> date:
    """A cause's last day: after today and within three years."""
    ends = parse_date(text)
    if ends is None or not today < ends <= today + LONGEST:
        raise InvalidSetting("cause_end")
    return ends


_MATCH = re.compile(r"(.+?)\s+(?:per|/|tiap|setiap|for every|every)\s+(.+)")


def parse_match(text: str | None) -> tuple[int, int]:
    """``10.000 per 100.000`` (Rp 10.000 given for every Rp 100.000 spent), or ``-`` for none."""
    cleaned = " ".join((text or "").strip().lower().split())
    if cleaned in ("-", "0", "—"):
        return 0, 0
    found = _MATCH.fullmatch(cleaned)
    give = parse_rupiah(found.group(1), VALUE_MAX) if found else None
    per = parse_rupiah(found.group(2), VALUE_MAX) if found else None
    if give is None or per is None or give > per:
        raise InvalidSetting("cause_match")
    return give, per


def parse_value(text: str | None) -> int:
    """What one point, stamp or reward is worth to the cause, in rupiah; ``-`` or 0: not accepted."""
    cleaned = (text or "").strip()
    if cleaned in ("-", "0", "—"):
        return 0
    value = parse_rupiah(cleaned, VALUE_MAX)
    if value is None:
        raise InvalidSetting("cause_value", 1, VALUE_MAX)
    return value


def parse_units(text: str | None, held: int) -> int:
    """How many points or stamps a customer gives: from 1 to what they hold."""
    units = parse_whole_number(text, 1, min(max(held, 1), DONATION_MAX))
    if units is None:
        raise InvalidSetting("cause_units", 1, max(held, 1))
    return units


def parse_payout_amount(text: str | None) -> int:
    amount = parse_rupiah(text, TARGET_MAX)
    if amount is None:
        raise InvalidSetting("payout_amount", 1, TARGET_MAX)
    return amount


def parse_payout_day(text: str | None, today: date) -> date:
    """The day it was paid: today or before (nothing: today)."""
    if not (text or "").strip():
        return today
    paid_on = parse_date(text)
    if paid_on is None or not today - LONGEST <= paid_on <= today:
        raise InvalidSetting("payout_day")
    return paid_on


def parse_payout_note(text: str | None) -> str:
    note = " ".join((text or "").split())
    if len(note) > NOTE_MAX:
        raise InvalidSetting("payout_note", 0, NOTE_MAX)
    return "" if note in ("-", "—") else note


def parse_payout(text: str | None, today: date) -> tuple[int, date, str]:
    """``500.000; 24-11-2026; transfer BCA``: amount paid, the day (today or before), a note."""
    parts = [part.strip() for part in (text or "").split(";", 2)]
    if len(parts) < 2:
        raise InvalidSetting("payout")
    try:
        amount, paid_on = parse_payout_amount(parts[0]), parse_payout_day(parts[1], today)
        note = parse_payout_note(parts[2] if len(parts) == 3 else "")
    except InvalidSetting:
        raise InvalidSetting("payout") from None
    return amount, paid_on, note


def ends_at(ends_on: date, timezone: str) -> datetime:
    """The moment a cause whose last day is ``ends_on`` closes: midnight after it, in the shop's zone."""
    return datetime.combine(ends_on + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))


def days_left(now: datetime, closes: datetime) -> int:
    """Whole days left, counting today (0 once closed)."""
    if now >= closes:
        return 0
    return max((closes - now + timedelta(hours=23, minutes=59)).days, 1)


def share(raised: int, target: int) -> float:
    return min(raised / target, 1.0) if target > 0 else 0.0
