"""Headers for a write the API takes once: the caller's, with an Idempotency-Key of its own."""

from __future__ import annotations

import secrets


def fresh(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": secrets.token_hex(8)}
