"""What Kartu keeps of someone who asked to be forgotten: a keyed hash of their Telegram id per shop
(HMAC-SHA256 with a server secret), used for nothing but bonus eligibility: coming back after
/forget is not a new person for the welcome gift or a friend's referral bonus. Without the secret
the hash names nobody; SECURITY.md gives the basis under UU 27/2022."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_NAME = "forgotten-people"


def new_secret() -> str:
    return secrets.token_hex(32)


def forgotten_digest(secret: str, merchant_id: int, identity: int | str) -> str:
    """The same person at the same shop always gives the same digest; another shop another one.
    ``identity``: their Telegram id, or ``whatsapp:<their WhatsApp id>``."""
    message = f"{merchant_id}:{identity}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
