"""Webhooks out: the events a shop's endpoints may take, their addresses, the signature a receiver
checks (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``, so the
published libraries verify it; endpoints made before keep Kartu's own ``Kartu-Signature`` until their
secret is rotated), and when a failed delivery is tried again (exponential backoff for up to three
days; an endpoint failing for a day is paused)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Iterable
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
SIGNATURE_HEADER = "Kartu-Signature"  # Kartu's own, before Standard Webhooks: kept by endpoints not rotated
STANDARD, LEGACY = "standard", "kartu"  # how an endpoint's deliveries are signed
ROTATION_OVERLAP = timedelta(hours=24)  # after a rotation, the old secret signs too, for this long
TOLERANCE = timedelta(minutes=5)  # how old a signed timestamp a receiver should accept
GIVE_UP_AFTER = timedelta(days=3)  # a delivery still failing this long after its event: failed
PAUSE_AFTER = timedelta(days=1)  # an endpoint failing this long: paused
_FIRST_RETRY, _LONGEST_WAIT = timedelta(seconds=30), timedelta(hours=6)
URL_MAX = 500
ENDPOINTS_MAX = 5  # per shop


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``webhook-signature`` entry: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>." + body>``
    keyed with the secret's bytes (what follows ``whsec_``, base64-decoded)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Signing:
    """How an endpoint signs: its scheme and secret, and the secret it had before a rotation while
    that still signs too (``previous`` with its scheme, until ``previous_until``)."""

    scheme: str
    secret: str
    previous_scheme: str | None = None
    previous: str | None = None
    previous_until: datetime | None = None

    def headers(self, event_id: str, kind: str, timestamp: int, body: bytes, now: datetime) -> dict[str, str]:
        """A delivery's headers. Standard: ``webhook-id`` (the event's id, the same on every attempt),
        ``webhook-timestamp``, ``webhook-signature`` (the old secret's entry beside the new one
        during a rotation). Kartu's own: ``Kartu-Signature``. Both while a rotation from Kartu's
        own to the standard lasts."""
        headers = {"Kartu-Event": kind, "Kartu-Delivery": event_id}
        overlapping = (
            self.previous is not None and self.previous_until is not None and now < self.previous_until
        )
        signatures = []
        for scheme, secret in (
            (self.scheme, self.secret),
            *([(self.previous_scheme, self.previous)] if overlapping else []),
        ):
            if scheme == STANDARD:
                signatures.append(sign_standard(str(secret), event_id, timestamp, body))
            else:
                headers[SIGNATURE_HEADER] = sign(str(secret), timestamp, body)
        if signatures:
            headers.update(
                {
                    "webhook-id": event_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": " ".join(signatures),
                }
            )
        return headers


def event_id() -> str:
    """An event's id, the same on every attempt: receivers drop a delivery they saw before."""
    return "evt_" + secrets.token_hex(12)


_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".localdomain")
_HOST_CHARS = re.compile(r"[a-z0-9.-]+")
_NUMBER = re.compile(r"0[x][0-9a-f]*|[0-9]+")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a network's own translator
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def parse_url(text: str, allow_private: bool = False, own_names: Iterable[str] = ()) -> str:
    """An endpoint's address: ``https`` on a public host (``http`` and private or loopback
    addresses only where the operator allows them, as in tests and on a shop's own network). A
    host is read as the resolver would: ``2130706433``, ``0x7f000001``, ``127.1`` and
    ``0177.0.0.1`` are 127.0.0.1, ``localhost.`` is localhost; ``own_names`` are this machine's."""
    url = text.strip()
    if not url or len(url) > URL_MAX or not url.isascii() or not url.isprintable() or " " in url:
        raise InvalidSetting("url")  # an IRI is given as its URI: punycode host, %-encoded path
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a port that is not a number is refused here, not when delivering
    except ValueError:
        raise InvalidSetting("url") from None
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise InvalidSetting("url")
    if allow_private:
        return url
    if parts.scheme != "https" or not public_host(host, own_names):
        raise InvalidSetting("url")
    return url


def public_host(host: str, own_names: Iterable[str] = ()) -> bool:
    """Whether a URL's host (as ``urlsplit`` gives it) names a host on the public internet, as far
    as can be told without asking DNS: an address in any of the forms the resolver reads, or a name
    of at least two labels that is neither local nor this machine's."""
    try:
        return public_address(ipaddress.ip_address(host))
    except ValueError:
        pass
    if ":" in host or "%" in host:
        return False  # not an IPv6 address Python reads, or one with a zone: not a public one
    try:
        name = host.encode("idna").decode("ascii").rstrip(".")
    except UnicodeError:
        return False
    labels = name.split(".")
    if not _HOST_CHARS.fullmatch(name) or any(not label for label in labels):
        return False
    if _NUMBER.fullmatch(labels[-1]):  # a number where a top-level domain stands: an address
        address = _ipv4_as_resolver_reads(labels)
        return address is not None and public_address(address)
    own = {other.lower().rstrip(".") for other in own_names}
    return (
        len(labels) >= 2
        and name != "localhost"
        and not name.endswith(_LOCAL_SUFFIXES)
        and name not in own
        and labels[0] not in own
    )


def _ipv4_as_resolver_reads(labels: list[str]) -> ipaddress.IPv4Address | None:
    """``inet_aton``'s reading: one to four parts, each decimal, octal (a leading 0) or hex (0x),
    the last filling the bytes left; None when the parts are not such an address."""
    if len(labels) > 4 or not all(_NUMBER.fullmatch(label) for label in labels):
        return None
    values = []
    for label in labels:
        if label.startswith("0x"):
            values.append(int(label[2:] or "0", 16))
        elif label.startswith("0") and len(label) > 1:
            if set(label) - set("01234567"):
                return None
            values.append(int(label, 8))
        else:
            values.append(int(label))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for position, value in enumerate(head):
        number += value << (8 * (3 - position))
    return ipaddress.IPv4Address(number)


def public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet, with the IPv4 address an IPv6 one carries
    (NAT64 ``64:ff9b::7f00:1`` is 127.0.0.1; mapped, 6to4 and the like) public too."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global
    if address.scope_id or address in _NAT64_LOCAL or address in _IPV4_COMPATIBLE:
        return False
    if address in _NAT64:
        return public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    carried = address.ipv4_mapped or address.sixtofour
    if carried is not None:
        return public_address(carried)
    return address.is_global and address.teredo is None


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
    outlet: str | None = None,
) -> dict[str, object]:
    return {
        "purchase_id": purchase_id,
        "customer": who,
        "stamps_added": stamps_added,
        "points_added": points_added,
        "amount": amount,
        "card": {"stamps": stamps, "points": points},
        "outlet": outlet,  # the outlet's code (slug) where it was bought; null: none named
    }


def reward_data(
    who: dict[str, object], code: str, name: str, expires_at: datetime, purchase_id: str | None = None
) -> dict[str, object]:
    return {
        "customer": who,
        "reward": {"code": code, "name": name, "expires_at": expires_at.isoformat()},
        "purchase_id": purchase_id,
    }
