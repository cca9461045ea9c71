"""Telegram Mini Apps: what the 📷 Scan page sends back, and the launch data (``initData``) every
request of a Mini App page carries. Telegram signs ``initData`` with the bot's token (HMAC-SHA256
under the "WebAppData" key, checked by aiogram); Kartu also refuses one older than an hour, so a
copied launch link stops working. A page's answer to the bot (``sendData``) arrives as a
``web_app_data`` message from the person themselves, through Telegram: it is read like anything
they type, with every rule and throttle of typing it."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data

from kartu.loyalty.codes import normalize_code
from kartu.loyalty.numbers import parse_amount

LIFETIME = timedelta(hours=1)
DATA_MAX = 4096  # what sendData may carry


class InitDataRefused(Exception):
    """Launch data that is forged, altered, too old, or not launch data at all."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MiniAppUser:
    telegram_id: int
    first_name: str
    language_code: str | None


def verified(init_data: str, token: str, now: datetime, lifetime: timedelta = LIFETIME) -> MiniAppUser:
    """Who opened the page, if Telegram signed its launch data within ``lifetime``."""
    if not init_data or len(init_data) > DATA_MAX:
        raise InitDataRefused("missing")
    try:
        parsed: WebAppInitData = safe_parse_webapp_init_data(token, init_data)
    except (ValueError, TypeError):
        raise InitDataRefused("forged") from None
    signed_at = parsed.auth_date if parsed.auth_date.tzinfo else parsed.auth_date.replace(tzinfo=UTC)
    if now - signed_at > lifetime or signed_at - now > timedelta(minutes=5):
        raise InitDataRefused("expired")
    if parsed.user is None:
        raise InitDataRefused("no user")
    return MiniAppUser(parsed.user.id, parsed.user.first_name, parsed.user.language_code)


def signed_init_data(token: str, user: dict[str, object], signed_at: datetime, query_id: str = "") -> str:
    """Launch data as Telegram makes it (the sandbox's bridge and the tests open pages with it)."""
    fields = {
        "auth_date": str(int(signed_at.timestamp())),
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        **({"query_id": query_id} if query_id else {}),
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@dataclass(frozen=True)
class Scan:
    """What the 📷 Scan page read: a customer's or a reward's code, and the amount typed on its
    keypad (in a shop running points)."""

    code: str
    amount: int | None = None


def read_scan(data: str) -> Scan | None:
    """The page's answer (``{"code": "…", "amount": "125.000"}``); ``None`` for anything that is not
    a Kartu code (another QR, a forged answer), which is answered kindly."""
    if not data or len(data) > DATA_MAX:
        return None
    try:
        sent = json.loads(data)
    except ValueError:
        return None
    if not isinstance(sent, dict) or not isinstance(sent.get("code"), str):
        return None
    code = normalize_code(sent["code"])
    if code is None:
        return None
    amount = sent.get("amount")
    if amount in (None, ""):
        return Scan(code)
    parsed = parse_amount(str(amount)) if isinstance(amount, str | int) else None
    return Scan(code, parsed) if parsed else None
