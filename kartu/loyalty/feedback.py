"""Feedback after a visit: when to ask, what counts as a rating, when the team must know."""

from __future__ import annotations

from datetime import datetime, timedelta

RATINGS = range(1, 6)
LOW_RATING = 2
COMMENT_MAX = 500
# A low rating waits this long for the customer's comment before staff are alerted anyway.
COMMENT_GRACE = timedelta(minutes=10)


QUIET_AFTER_A_RATING = timedelta(days=7)  # a customer who just told us how it was is not asked again


def survey_is_due(
    last_survey_at: datetime | None, now: datetime, every_days: int, last_rated_at: datetime | None = None
) -> bool:
    """At most one survey per customer per ``every_days`` (``0`` turns surveys off), and none
    within a week of their last rating, whatever the shop's setting."""
    if every_days <= 0:
        return False
    if last_rated_at is not None and now - last_rated_at < QUIET_AFTER_A_RATING:
        return False
    return last_survey_at is None or now - last_survey_at >= timedelta(days=every_days)


def is_low(rating: int) -> bool:
    return rating <= LOW_RATING


# What a customer can pick after a low rating; owners see these counted in /stats.
LOW_RATING_REASONS = ("wait", "quality", "staff", "price", "other")
