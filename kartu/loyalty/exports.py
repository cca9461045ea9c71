"""An owner's export: which stretch of the books it covers, how big a file Telegram takes, and the
one-time download link (signed, expiring) a big export is also offered as."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kartu.loyalty.errors import LoyaltyError

# Bots upload documents of up to 50 MB; a part is closed once it passes this, so the page being
# written when it does (a few hundred KB) keeps it well under.
PART_LIMIT = 45 * 1024 * 1024
PAGE = 5000  # rows read at once: one page's reading and writing keep the event loop free within 100 ms
LINK_LIFETIME = timedelta(hours=1)
QUESTION_LIFETIME = timedelta(days=1)  # a period question's buttons work this long
# A run that has not moved for this long was left by a process that stopped: another may start.
STALE_AFTER = timedelta(minutes=3)
TOUCH_EVERY = timedelta(seconds=30)


class ExportPeriod(StrEnum):
    QUARTER = "3m"  # the last three months
    YEAR = "year"  # this calendar year, in the shop's time
    ALL = "all"


class ExportStatus(StrEnum):
    ASKED = "asked"  # the period question is shown
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportOnItsWay(LoyaltyError):
    """The shop's export is being prepared already: a second one would only wait behind it."""


class ExportLinkRefused(LoyaltyError):
    """A download link that is forged, expired or used already."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid", "expired", "used"


def period_start(period: ExportPeriod, now: datetime, timezone: str) -> datetime | None:
    """The first moment the export covers (UTC), or None for all of it: three months back to the
    same local day (the month's last day when it has fewer), or the local year's first midnight."""
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == ExportPeriod.ALL:
        return None
    if period == ExportPeriod.YEAR:
        return midnight.replace(month=1, day=1).astimezone(UTC)
    month = midnight.month - 3
    year = midnight.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    day = min(midnight.day, _days_in(year, month))
    return midnight.replace(year=year, month=month, day=day).astimezone(UTC)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def is_stale(touched_at: datetime, now: datetime) -> bool:
    return now - touched_at > STALE_AFTER


def sign_link(secret: str, run_id: int, expires_at: datetime) -> str:
    """``<run>.<expiry>.<signature>``: the path part of a download link (HMAC-SHA256, URL-safe)."""
    body = f"{run_id}.{int(expires_at.timestamp())}"
    return f"{body}.{_signature(secret, body)}"


def read_link(secret: str, token: str, now: datetime) -> int:
    """The export run a link is for; refused when its signature is wrong or its hour is over."""
    try:
        run, expires, signature = token.split(".")
        run_id, expiry = int(run), int(expires)
    except ValueError:
        raise ExportLinkRefused("invalid") from None
    if not hmac.compare_digest(signature, _signature(secret, f"{run}.{expires}")):
        raise ExportLinkRefused("invalid")
    if now.timestamp() >= expiry:
        raise ExportLinkRefused("expired")
    return run_id


def _signature(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), b"export:" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
