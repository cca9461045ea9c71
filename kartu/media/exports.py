"""CSV files owners download: UTF-8 with a byte-order mark (Excel reads it right), a header row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from kartu.services.views import LedgerRow, MemberRow

MEMBER_COLUMNS = ("first_name", "username", "code", "joined_at", "stamps", "visits", "last_visit", "opted_in", "open_rewards")
LEDGER_COLUMNS = ("entry_id", "at", "customer_code", "customer_name", "asset", "delta", "reason", "actor", "idempotency_key")


def _when(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def members_csv(members: Iterable[MemberRow], timezone: str) -> bytes:
    return _csv(MEMBER_COLUMNS, (
        (m.first_name, m.username or "", m.code, _when(m.joined_at, timezone), m.stamps, m.visits,
         _when(m.last_visit, timezone), "yes" if m.opted_in else "no", m.open_rewards)
        for m in members
    ))


def ledger_csv(entries: Iterable[LedgerRow], timezone: str) -> bytes:
    return _csv(LEDGER_COLUMNS, (
        (e.entry_id, _when(e.at, timezone), e.customer_code, e.customer_name, e.asset, e.delta, e.reason, e.actor_name, e.idempotency_key)
        for e in entries
    ))
