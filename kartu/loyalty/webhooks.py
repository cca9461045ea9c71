"""Webhooks out: the events a shop's endpoints may take, their addresses, the signature a receiver
checks (HMAC-SHA256 over the timestamp and the body, as Stripe signs), and when a failed delivery
is tried again (exponential backoff for up to three days; an endpoint failing for a day is paused)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from kartu.loyalty.errors import InvalidSetting

EVENTS = (
    "member.joined",
    "purchase.credited",
    "purchase.refunded",
    "reward.issued",
    "reward.redeemed",
    "points.expired",
    "survey.answered",
    "reward.voided",  # a refund took back a reward (a partner's voucher too) before it was used
)
SIGNATURE_HEADER = "Kartu-Signature"
TOLERANCE = timedelta(minutes=5)  # how old a signed timestamp a receiver should accept
GIVE_UP_AFTER = timedelta(days=3)  # a delivery still failing this long after its event: failed
PAUSE_AFTER = timedelta(days=1)  # an endpoint failing this long: paused
_FIRST_RETRY, _LONGEST_WAIT = timedelta(seconds=30), timedelta(hours=6)
URL_MAX = 500
ENDPOINTS_MAX = 5  # per shop


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def event_id() -> str:
    """An event's id, the same on every attempt: receivers drop a delivery they saw before."""
    return "evt_" + secrets.token_hex(12)


def parse_url(text: str, allow_private: bool = False) -> str:
    """An endpoint's address: ``https`` on a public host (``http`` and private or loopback
    addresses only where the operator allows them, as in tests and on a shop's own network)."""
    url = text.strip()
    if not url or len(url) > URL_MAX or any(char.isspace() for char in url):
        raise InvalidSetting("url")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise InvalidSetting("url")
    if allow_private:
        return url
    if parts.scheme != "https" or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise InvalidSetting("url")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return url  # a name: resolved when delivering
    if not address.is_global:
        raise InvalidSetting("url")
    return url


def parse_events(text: str | None) -> str:
    """``purchase.credited,reward.issued`` (or ``*``/empty for every event), kept in a fixed order."""
    asked = {part.strip().lower() for part in (text or "").split(",") if part.strip()}
    if not asked or asked == {"*"}:
        return ",".join(EVENTS)
    if not asked <= set(EVENTS):
        raise InvalidSetting("events")
    return ",".join(event for event in EVENTS if event in asked)


def envelope(event: str, kind: str, created_at: datetime, data: dict[str, object]) -> str:
    """What a delivery's body carries: the event's id (the same on every attempt), its type, when
    it happened and its data."""
    body = {"id": event, "type": kind, "created_at": created_at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Kartu-Signature`` header: ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: timedelta = TOLERANCE) -> bool:
    """What a receiver does: the signature matches the body and the timestamp is recent (an old
    delivery sent again is refused)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or "v1" not in fields:
        return False
    timestamp = int(fields["t"])
    if abs(now - timestamp) > tolerance.total_seconds():
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields["v1"])


@dataclass(frozen=True)
class Outcome:
    """What follows a failed attempt: try again at ``retry_at``, or give up (``None``)."""

    retry_at: datetime | None


def after_failure(attempts: int, created_at: datetime, now: datetime) -> Outcome:
    """The next try after the ``attempts``-th failed one: 30 s, 1 min, 2 min, … doubling up to 6 h
    between tries, with some spread so a receiver coming back is not met all at once; none once the
    event is three days old."""
    wait = min(_FIRST_RETRY * 2 ** max(attempts - 1, 0), _LONGEST_WAIT)
    wait += wait * (secrets.randbelow(200) / 1000)  # up to 20% later
    retry_at = now + wait
    return Outcome(None if retry_at > created_at + GIVE_UP_AFTER else retry_at)


def should_pause(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= PAUSE_AFTER


def customer(code: str, first_name: str) -> dict[str, object]:
    """How events name a customer: their Kartu code (what the till scans) and first name."""
    return {"code": code, "first_name": first_name}


def purchase_data(
    purchase_id: str,
    who: dict[str, object],
    stamps_added: int,
    points_added: int,
    amount: int | None,
    stamps: int,
    points: int | None,
) -> dict[str, object]:
    return {
        "purchase_id": purchase_id,
        "customer": who,
        "stamps_added": stamps_added,
        "points_added": points_added,
        "amount": amount,
        "card": {"stamps": stamps, "points": points},
    }


def reward_data(
    who: dict[str, object], code: str, name: str, expires_at: datetime, purchase_id: str | None = None
) -> dict[str, object]:
    return {
        "customer": who,
        "reward": {"code": code, "name": name, "expires_at": expires_at.isoformat()},
        "purchase_id": purchase_id,
    }
