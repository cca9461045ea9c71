from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from kartu.loyalty.delivery import MAX_ATTEMPTS, Category, QuietHours, next_allowed, retry_delay
from kartu.loyalty.expiry import parse_reminder_days, stamps_expire_at
from kartu.loyalty.feedback import is_low, survey_is_due

JAKARTA = "Asia/Jakarta"  # UTC+7


def _utc(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent_at", "delivered_at"),
    [
        (_utc(3), _utc(3)),  # 10:00 local: at once
        (_utc(13, 59), _utc(13, 59)),  # 20:59 local: just before quiet hours
        (_utc(14), _utc(1, day=6)),  # 21:00 local: next morning, 08:00
        (_utc(18), _utc(1, day=6)),  # 01:00 local: this morning, 08:00
        (_utc(0, 59, day=6), _utc(1, day=6)),  # 07:59 local
    ],
)
def test_promotions_wait_for_the_morning_in_the_shop_time_zone(
    sent_at: datetime, delivered_at: datetime
) -> None:
    assert next_allowed(sent_at, JAKARTA, QuietHours(), Category.PROMO) == delivered_at


def test_alerts_ignore_quiet_hours_and_quiet_hours_can_be_set() -> None:
    assert next_allowed(_utc(16), JAKARTA, QuietHours(), Category.ALERT) == _utc(16)
    assert QuietHours.parse("22:30-07:00") == QuietHours(time(22, 30), time(7, 0))
    assert str(QuietHours()) == "21:00-08:00"
    assert not QuietHours(time(0), time(0)).contains(time(3))
    daytime = QuietHours(time(12), time(13))  # a siesta: start before end
    assert daytime.contains(time(12, 30)) and not daytime.contains(time(13))


def test_retries_back_off_then_give_up() -> None:
    delays = [retry_delay(attempt) for attempt in range(1, MAX_ATTEMPTS + 1)]
    assert delays[-1] is None
    assert all(a < b for a, b in zip(delays[:-2], delays[1:-1], strict=True))  # type: ignore[operator]


def test_reminder_days_and_expiry() -> None:
    assert parse_reminder_days("1, 7") == (7, 1)
    assert parse_reminder_days("") == ()
    for bad in ["0", "61", "a", "1,2,3,4", "7;1"]:
        with pytest.raises(ValueError):
            parse_reminder_days(bad)
    assert stamps_expire_at(_utc(3), 30) == _utc(3) + timedelta(days=30)
    assert stamps_expire_at(_utc(3), 0) is None


def test_surveys_at_most_every_n_days() -> None:
    now = _utc(3)
    assert survey_is_due(None, now, 14)
    assert not survey_is_due(now - timedelta(days=13), now, 14)
    assert survey_is_due(now - timedelta(days=14), now, 14)
    assert not survey_is_due(None, now, 0)
    assert is_low(2) and not is_low(3)


def test_a_sweeps_reminders_are_a_stream_over_the_sending_hours() -> None:
    """90,000 reminders queued at 20:30 in Jakarta (quiet from 21:00): 300 a minute until 21:00,
    then from 08:00 the next morning on, never in the quiet hours, each minute at most 300."""
    from collections import Counter
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from kartu.loyalty.delivery import REMINDERS_PER_MINUTE, QuietHours, reminder_slots

    quiet = QuietHours.parse("21:00-08:00")
    start = datetime(2026, 12, 7, 13, 30, tzinfo=UTC)  # 20:30 in Jakarta
    slots = reminder_slots(90_000, start, "Asia/Jakarta", quiet)
    assert len(slots) == 90_000 and slots == sorted(slots)
    local = [slot.astimezone(ZoneInfo("Asia/Jakarta")) for slot in slots]
    assert all(not quiet.contains(moment.time()) for moment in local)
    assert max(Counter(slots).values()) == REMINDERS_PER_MINUTE
    assert sum(1 for moment in local if moment.day == 7) == 30 * REMINDERS_PER_MINUTE  # 20:30-21:00
    assert local[-1].day == 8 and local[-1].hour == 8 + (90_000 // 300 - 30) // 60  # then the morning
    assert reminder_slots(5, start, "Asia/Jakarta", quiet) == [start] * 5  # a few: all at once
