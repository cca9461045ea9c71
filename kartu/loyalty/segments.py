"""Who a broadcast can go to."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

ACTIVITY_WINDOW = timedelta(days=30)
CLOSE_TO_REWARD = 0.7  # share of the card filled
BROADCAST_TEXT_MAX = 950  # a photo caption allows 1024 characters, with the shop's name (64) on top


class Segment(StrEnum):
    ALL = "all"
    ACTIVE = "active"  # a visit in the last 30 days
    LAPSED = "lapsed"  # no visit (or, never visited, joined) for 30+ days
    CLOSE = "close"  # at least 70% of the card filled
    REWARD = "reward"  # holding an unredeemed reward
    MEMBERS = "members"  # paid members (a membership's perk: broadcasts for members only)
