"""Figures owners read: rates, and visits bucketed by week in the shop's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKS_SHOWN = 12


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def week_start(moment: datetime, timezone: str) -> datetime:
    """Monday 00:00 (shop time) of the week containing ``moment``, as an aware datetime."""
    local = moment.astimezone(ZoneInfo(timezone))
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def first_week_start(now: datetime, timezone: str, weeks: int = WEEKS_SHOWN) -> datetime:
    return week_start(now, timezone) - timedelta(weeks=weeks - 1)


def weekly_from_days(
    days: list[tuple[date, int, int]], now: datetime, timezone: str, weeks: int = WEEKS_SHOWN
) -> list[tuple[datetime, int, int]]:
    """``(week start, visits by new customers, visits by returning ones)`` for the last ``weeks``
    weeks, oldest first, from counts per local day: ``(day, first visits, visits)``."""
    current = week_start(now, timezone)
    starts = [current - timedelta(weeks=offset) for offset in range(weeks - 1, -1, -1)]
    counts = {start.date(): [0, 0] for start in starts}
    for day, first_visits, visits in days:
        monday = day - timedelta(days=day.weekday())
        if monday in counts:
            counts[monday][0] += first_visits
            counts[monday][1] += visits - first_visits
    return [(start, counts[start.date()][0], counts[start.date()][1]) for start in starts]
