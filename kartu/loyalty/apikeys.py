"""Keys for the point-of-sale API: made at random, kept only as a hash, scoped to what they may do;
request bodies hashed so an Idempotency-Key replays only the same request."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from kartu.loyalty.errors import InvalidSetting

PREFIX = "kartu_"
SCOPES = ("earn", "redeem", "read", "webhooks")


def new_key() -> str:
    """``kartu_`` and 32 random URL-safe characters (192 bits)."""
    return PREFIX + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def shown_prefix(key: str) -> str:
    """What lists show of a key: enough to tell keys apart, nothing to use."""
    return key[: len(PREFIX) + 6]


def parse_scopes(text: str | None) -> str:
    """``earn,redeem,read`` (any of them, in any order): the scopes kept, in a fixed order."""
    asked = {part.strip().lower() for part in (text or "").split(",") if part.strip()}
    if not asked or not asked <= set(SCOPES):
        raise InvalidSetting("scopes")
    return ",".join(scope for scope in SCOPES if scope in asked)


def body_hash(body: Any) -> str:
    """A request body's fingerprint: the same JSON, whatever its key order or spacing."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
