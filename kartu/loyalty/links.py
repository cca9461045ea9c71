"""Deep-link payloads (``/start <payload>``) and merchant slugs.

Telegram allows 64 characters of ``A-Z a-z 0-9 _ -`` in a start payload; everything we
put there is built and checked here.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

PAYLOAD_MAX = 64
SLUG_MAX = 40
_PAYLOAD_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class LinkKind(Enum):
    JOIN = "m"
    STAFF_INVITE = "staff"
    OWNER_INVITE = "owner"
    REFERRAL = "r"  # a customer's /invite link: r_<their card's invite token>
    RECEIPT = "rcpt"  # a receipt's link: rcpt_<its token> (loyalty/receipts.py)
    OUTLET = "o"  # an outlet's join link: o_<the outlet's slug> (the business's card, joined there)


@dataclass(frozen=True)
class StartLink:
    kind: LinkKind
    value: str


def slugify(name: str) -> str:
    """``"Kopi Senja!"`` -> ``"kopi-senja"``; accents folded, at most 40 characters."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:SLUG_MAX].strip("-")
    return slug or "shop"


def new_invite_token() -> str:
    """128 random bits, URL-safe, fits a start payload with its prefix."""
    return secrets.token_urlsafe(16)


def build_payload(kind: LinkKind, value: str) -> str:
    payload = f"{kind.value}_{value}"
    if not _PAYLOAD_CHARS.match(payload):
        raise ValueError(f"not a valid start payload: {payload!r}")
    return payload


def parse_payload(payload: str | None) -> StartLink | None:
    """The link a ``/start`` payload stands for, or ``None`` for no or unrecognised payload."""
    if not payload or not _PAYLOAD_CHARS.match(payload):
        return None
    prefix, _, value = payload.partition("_")
    if not value:
        return None
    for kind in LinkKind:
        if kind.value == prefix:
            return StartLink(kind, value)
    return None


def deep_link(bot_username: str, kind: LinkKind, value: str) -> str:
    return f"https://t.me/{bot_username}?start={build_payload(kind, value)}"


def whatsapp_chat_link(number: str, text: str) -> str:
    """A wa.me link: it opens a chat with the deployment's number, ``text`` typed."""
    return f"https://wa.me/{number}?text={quote(text)}"


def whatsapp_join_link(number: str, slug: str) -> str:
    """The link a shop's WhatsApp poster and /link give: the join words typed (``GABUNG <shop code>``)."""
    return whatsapp_chat_link(number, f"GABUNG {slug}")
