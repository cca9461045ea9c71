"""Paid membership in Telegram Stars: what owners type for the offer, the 30-day period Telegram
renews, and what an invoice names."""

from __future__ import annotations

import re
from datetime import timedelta

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.numbers import parse_whole_number
from kartu.loyalty.tiers import parse_multiplier

PERIOD = timedelta(seconds=2_592_000)  # Telegram's only subscription period: 30 days
STARS_MAX = 10_000  # the most a Stars subscription may cost per period
NAME_MAX = 32  # an invoice's title
REMIND_BEFORE = timedelta(days=3)  # a membership that will not renew: told before it ends
RENEWAL_GRACE = timedelta(days=1)  # a renewal Telegram has not reported by then failed
CURRENCY = "XTR"
_PAYLOAD = re.compile(r"member:(\d{1,12})")


def parse_offer_name(text: str | None) -> str:
    name = " ".join((text or "").split())
    if not name or len(name) > NAME_MAX:
        raise InvalidSetting("membership_name", 1, NAME_MAX)
    return name


def parse_stars(text: str | None) -> int:
    stars = parse_whole_number(text, 1, STARS_MAX)
    if stars is None:
        raise InvalidSetting("membership_stars", 1, STARS_MAX)
    return stars


def parse_offer_multiplier(text: str | None) -> int:
    """Points earned by members; nothing (or -) leaves them as everyone's."""
    return parse_multiplier(text) if (text or "").strip() not in ("", "-") else 1000


def parse_offer(text: str | None) -> tuple[str, int, int, str | None]:
    """``Gold Club; 100; 1.5; Iced Latte``: name, Stars per 30 days, points multiplier (may be left
    out), a catalogue reward given each period (may be left out)."""
    parts = [part.strip() for part in (text or "").split(";")]
    if len(parts) < 2 or len(parts) > 4:
        raise InvalidSetting("membership")
    name, stars = parse_offer_name(parts[0]), parse_stars(parts[1])
    multiplier = parse_offer_multiplier(parts[2] if len(parts) > 2 else "")
    item = " ".join(parts[3].split()) if len(parts) == 4 and parts[3] not in ("", "-") else None
    return name, stars, multiplier, item


def invoice_payload(offer_id: int) -> str:
    return f"member:{offer_id}"


def offer_of(payload: str | None) -> int | None:
    found = _PAYLOAD.fullmatch(payload or "")
    return int(found.group(1)) if found else None
