"""Who may do what for a merchant."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

INVITE_TTL = timedelta(hours=24)
PROMPT_TTL = timedelta(minutes=15)


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
