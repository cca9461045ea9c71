"""Stamps lapse after a stretch without visits; owners are reminded-before offsets."""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_REMINDERS = 3
MAX_REMINDER_DAYS = 60


def stamps_expire_at(last_activity: datetime, expiry_days: int) -> datetime | None:
    """When stamps earned up to ``last_activity`` lapse; ``None`` when they never do."""
    if expiry_days <= 0:
        return None
    return last_activity + timedelta(days=expiry_days)


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """``"7, 1"`` -> ``(7, 1)``: distinct whole days, largest first. ``ValueError`` when malformed."""
    parts = [part for part in text.replace(" ", ",").split(",") if part]
    if len(parts) > MAX_REMINDERS or not all(
        part.isascii() and part.isdigit() and len(part) <= 3 for part in parts
    ):
        raise ValueError(text)
    days = sorted({int(part) for part in parts}, reverse=True)
    if any(not 1 <= day <= MAX_REMINDER_DAYS for day in days):
        raise ValueError(text)
    return tuple(days)


def format_reminder_days(days: tuple[int, ...]) -> str:
    return ",".join(str(day) for day in days)
