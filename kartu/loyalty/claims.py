"""Purchase claims: the customer asks, staff on duty decide, the first decision wins."""

from __future__ import annotations

import re
from datetime import timedelta

from kartu.loyalty.errors import InvalidAmount

CLAIM_TTL = timedelta(minutes=30)
_AMOUNT = re.compile(r"^\d{1,9}([.,]\d{1,3})*$")


def parse_amount(raw: str | None) -> str | None:
    """What the customer says they paid (``"25.000"``), or ``None``; shown to staff, not computed."""
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > 16 or not _AMOUNT.match(text):
        raise InvalidAmount()
    return text
