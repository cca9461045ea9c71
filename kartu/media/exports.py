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


# A text cell starting with one of these is a formula to Excel, Sheets and LibreOffice
# (=HYPERLINK(...) in a customer's name would run on the owner's machine). OWASP's rule: prefix
# such cells with a single quote, which spreadsheets show as text. Numbers are left alone.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
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
