"""When a business may write to someone on WhatsApp: only after they agreed to its messages, and
only within 24 hours of their last message (Meta's customer service window). Outside it a message
needs an approved template (paid), which Kartu does not send yet: it waits, "needs a template"."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

WINDOW = timedelta(hours=24)
KEEP_WAITING = timedelta(days=7)  # news that waited for the window longer is dropped when it opens
PER_PERSON_GAP = 6.0  # seconds between two messages to one person (Meta's pair rate, after a burst)
NUMBER_RATE = 80.0  # messages a second from one business number


class Reach(StrEnum):
    OPEN = "open"  # a message may go now
    NO_CONSENT = "no consent"  # never: they did not agree
    NEEDS_TEMPLATE = "needs template"  # their window is closed


def reach(consent_at: datetime | None, last_inbound_at: datetime | None, now: datetime) -> Reach:
    if consent_at is None:
        return Reach.NO_CONSENT
    if last_inbound_at is None or now - last_inbound_at >= WINDOW:
        return Reach.NEEDS_TEMPLATE
    return Reach.OPEN
