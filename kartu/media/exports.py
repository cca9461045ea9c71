"""CSV files owners download: UTF-8 with a byte-order mark (Excel reads it right), a header row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kartu.loyalty.codes import format_code
from kartu.services.partners import VoucherRow
from kartu.services.reports import CauseRow, LedgerRow, MemberRow

MEMBER_COLUMNS = (
    "first_name",
    "username",
    "code",
    "joined_at",
    "stamps",
    "visits",
    "last_visit",
    "opted_in",
    "open_rewards",
    "points",  # new columns go last: files read by earlier columns keep working
    "level",
    "invited_by",
)
LEDGER_COLUMNS = (
    "entry_id",
    "at",
    "customer_code",
    "customer_name",
    "asset",
    "delta",
    "reason",
    "actor",
    "note",
)


VOUCHER_COLUMNS = (
    "code",
    "voucher",
    "from_shop",
    "to_shop",
    "issued_at",
    "expires_at",
    "redeemed_at",
    "value",
)
CAUSE_COLUMNS = ("cause", "status", "target", "pledged", "paid", "givers", "last_day")


@dataclass(frozen=True)
class ExportWords:
    """What the owner reads in the files, in their language: a header per column (keyed as
    above) and the words for assets, reasons and yes/no. Keys missing here print as they are."""

    headers: Mapping[str, str]
    values: Mapping[str, str]


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


def _header(columns: Sequence[str], words: ExportWords) -> list[str]:
    return [words.headers.get(column, column) for column in columns]


def members_csv(members: Iterable[MemberRow], timezone: str, words: ExportWords) -> bytes:
    """One row per member, codes written as customers see them (K7Q2-9XHM)."""
    return _csv(
        _header(MEMBER_COLUMNS, words),
        (
            (
                m.first_name,
                m.username or "",
                format_code(m.code),
                _when(m.joined_at, timezone),
                m.stamps,
                m.visits,
                _when(m.last_visit, timezone),
                words.values.get("yes" if m.opted_in else "no"),
                m.open_rewards,
                m.points,
                m.level or "",
                format_code(m.invited_by) if m.invited_by else "",
            )
            for m in members
        ),
    )


def ledger_csv(entries: Iterable[LedgerRow], timezone: str, words: ExportWords) -> bytes:
    """Every stamp and reward movement; internal columns (idempotency keys) stay out."""
    return _csv(
        _header(LEDGER_COLUMNS, words),
        (
            (
                e.entry_id,
                _when(e.at, timezone),
                format_code(e.customer_code) if e.customer_code else "",
                e.customer_name,
                words.values.get(e.asset, e.asset),
                e.delta,
                words.values.get(e.reason, e.reason),
                e.actor_name,
                e.note or "",
            )
            for e in entries
        ),
    )


def causes_csv(causes: Iterable[CauseRow], timezone: str, words: ExportWords) -> bytes:
    """One row per cause: what it raised (pledged by the shop and its customers) and what was paid."""
    return _csv(
        _header(CAUSE_COLUMNS, words),
        (
            (
                c.name,
                words.values.get(c.status, c.status),
                c.target,
                c.pledged,
                c.paid,
                c.givers,
                (c.ends_at.astimezone(ZoneInfo(timezone)) - timedelta(days=1)).strftime("%Y-%m-%d"),
            )
            for c in causes
        ),
    )


def vouchers_csv(vouchers: Iterable[VoucherRow], words: ExportWords) -> bytes:
    """Partner vouchers either way, for the monthly settlement (times in UTC: two shops may differ)."""
    return _csv(
        _header(VOUCHER_COLUMNS, words),
        (
            (
                format_code(v.code),
                v.voucher,
                v.from_shop,
                v.to_shop,
                _when(v.issued_at, "UTC"),
                _when(v.expires_at, "UTC"),
                _when(v.redeemed_at, "UTC"),
                v.value if v.redeemed_at else 0,
            )
            for v in vouchers
        ),
    )
