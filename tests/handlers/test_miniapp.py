"""Mini App launch data (initData) as Telegram signs it, and what Kartu refuses: forged, altered,
signed with another bot's token, older than an hour, from the future, or no launch data at all;
and what the 📷 Scan page may send back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from kartu.bot.miniapp import InitDataRefused, Scan, read_scan, signed_init_data, verified

TOKEN = "4242:SANDBOX"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
AYU = {"id": 300, "first_name": "Ayu", "language_code": "id"}


def test_launch_data_signed_by_telegram_names_the_person() -> None:
    caller = verified(signed_init_data(TOKEN, AYU, NOW - timedelta(minutes=59)), TOKEN, NOW)
    assert (caller.telegram_id, caller.first_name, caller.language_code) == (300, "Ayu", "id")


@pytest.mark.parametrize(
    ("init_data", "reason"),
    [
        (signed_init_data("4343:OTHER", AYU, NOW), "forged"),  # another bot's token
        (signed_init_data(TOKEN, AYU, NOW - timedelta(hours=1, seconds=1)), "expired"),
        (signed_init_data(TOKEN, AYU, NOW + timedelta(hours=1)), "expired"),  # from the future
        ("", "missing"),
        ("x" * 5000, "missing"),
        ("user=%7B%7D&auth_date=1", "forged"),  # no hash
    ],
)
def test_launch_data_kartu_refuses(init_data: str, reason: str) -> None:
    with pytest.raises(InitDataRefused) as refused:
        verified(init_data, TOKEN, NOW)
    assert refused.value.reason == reason


def test_altered_launch_data_is_refused() -> None:
    fields = dict(parse_qsl(signed_init_data(TOKEN, AYU, NOW)))
    fields["user"] = fields["user"].replace("300", "301")  # someone else's card
    with pytest.raises(InitDataRefused, match="forged"):
        verified(urlencode(fields), TOKEN, NOW)


@pytest.mark.parametrize(
    ("data", "scan"),
    [
        ('{"code": "2n2a-y2dy"}', Scan("2N2AY2DY")),
        ('{"code": "2N2AY2DY", "amount": "125000"}', Scan("2N2AY2DY", 125_000)),
        ('{"code": "2N2AY2DY", "amount": ""}', Scan("2N2AY2DY")),
        ('{"code": "https://example.com"}', None),
        ('{"code": "2N2AY2DY", "amount": "-5"}', None),
        ('{"code": 12345678}', None),
        ("[1, 2]", None),
        ("not json", None),
        ("", None),
        ('{"code": "' + "A" * 5000 + '"}', None),
    ],
)
def test_what_the_scan_page_may_send(data: str, scan: Scan | None) -> None:
    assert read_scan(data) == scan
