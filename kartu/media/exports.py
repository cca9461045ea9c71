"""CSV files owners download: UTF-8 with a byte-order mark (Excel reads it right), a header row;
an export's tables written a page at a time into files under Telegram's upload limit (zipped
parts past it), or into one zip streamed to a download."""

from __future__ import annotations

import csv
import io
import queue
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
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
    "joined_outlet",
    "last_outlet",
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
    "outlet",
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


def member_cells(m: MemberRow, timezone: str, words: ExportWords) -> tuple[object, ...]:
    """One member's row, codes written as customers see them (K7Q2-9XHM)."""
    return (
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
        m.joined_outlet or "",
        m.last_outlet or "",
    )


def ledger_cells(e: LedgerRow, timezone: str, words: ExportWords) -> tuple[object, ...]:
    """One stamp, point or reward movement; internal columns (idempotency keys) stay out."""
    return (
        e.entry_id,
        _when(e.at, timezone),
        format_code(e.customer_code) if e.customer_code else "",
        e.customer_name,
        words.values.get(e.asset, e.asset),
        e.delta,
        words.values.get(e.reason, e.reason),
        e.actor_name,
        e.note or "",
        e.outlet or "",
    )


def cause_cells(c: CauseRow, timezone: str, words: ExportWords) -> tuple[object, ...]:
    """A cause: what it raised (pledged by the shop and its customers) and what was paid."""
    return (
        c.name,
        words.values.get(c.status, c.status),
        c.target,
        c.pledged,
        c.paid,
        c.givers,
        (c.ends_at.astimezone(ZoneInfo(timezone)) - timedelta(days=1)).strftime("%Y-%m-%d"),
    )


TABLES: dict[str, tuple[tuple[str, ...], Callable[[Any, str, ExportWords], tuple[object, ...]]]] = {
    "members": (MEMBER_COLUMNS, member_cells),
    "ledger": (LEDGER_COLUMNS, ledger_cells),
    "causes": (CAUSE_COLUMNS, cause_cells),
}


@dataclass(frozen=True)
class ExportFile:
    path: Path
    name: str  # as the owner sees it
    table: str  # members, ledger, causes
    rows: int
    part: int  # 0: the whole table in one CSV; 1, 2, ...: zipped parts of it


class _TableFile:
    """One table's CSV: plain while it stays under the limit; past it, zipped, and a new zip
    (each with the header again) whenever the one being written passes the limit."""

    def __init__(self, folder: Path, table: str, stem: str, header: list[str], limit: int) -> None:
        self.folder, self.table, self.stem, self.header, self.limit = folder, table, stem, header, limit
        self.done: list[ExportFile] = []
        self.part = self.rows = self.part_first_row = 0
        self.raw: BinaryIO = open(folder / f"{stem}.csv", "wb")  # noqa: SIM115 - closed in close()
        self.zip: zipfile.ZipFile | None = None
        self.text: io.TextIOWrapper[Any] = io.TextIOWrapper(
            self.raw, encoding="utf-8-sig", newline="", write_through=False
        )
        self.writer = csv.writer(self.text)
        self.writer.writerow(self.header)

    def write(self, rows: Iterable[Sequence[object]]) -> None:
        count = 0
        for row in rows:
            self.writer.writerow([neutralise(cell) for cell in row])
            count += 1
        self.rows += count
        self.text.flush()
        if self.raw.tell() > self.limit:
            self._next_part()

    def _next_part(self) -> None:
        """Close what is written (a plain CSV becomes part 1's zip) and open the next part."""
        if self.zip is None:  # the plain file passed the limit: it becomes the first zip
            self.text.close()
            plain = self.folder / f"{self.stem}.csv"
            self.part = 1
            self._open_zip(first_row=0)
            with open(plain, "rb") as source:  # its byte-order mark and header included
                shutil.copyfileobj(source, self.text.buffer, 1024 * 1024)
            plain.unlink()
            return
        self._close_part()
        self.part += 1
        self._open_zip(first_row=self.rows)
        self.text.write("\ufeff")
        self.writer.writerow(self.header)

    def _open_zip(self, first_row: int) -> None:
        name = f"{self.stem}-{self.part}"
        self.raw = open(self.folder / f"{name}.zip", "wb")  # noqa: SIM115 - closed in _close_part()
        self.zip = zipfile.ZipFile(self.raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        entry = self.zip.open(f"{name}.csv", "w", force_zip64=True)
        self.text = io.TextIOWrapper(entry, encoding="utf-8", newline="", write_through=False)
        self.writer = csv.writer(self.text)
        self.part_first_row = first_row

    def _close_part(self) -> None:
        self.text.close()
        assert self.zip is not None
        self.zip.close()
        self.raw.close()
        name = f"{self.stem}-{self.part}.zip"
        self.done.append(
            ExportFile(self.folder / name, name, self.table, self.rows - self.part_first_row, self.part)
        )

    def close(self) -> list[ExportFile]:
        if self.zip is None:
            self.text.close()
            name = f"{self.stem}.csv"
            self.done.append(ExportFile(self.folder / name, name, self.table, self.rows, 0))
        else:
            self._close_part()
        return self.done


class _Tables:
    """An export's sink (services/exports.py ExportSink): each table's pages, one after another."""

    def _write(self, table: str, rows: Sequence[Any]) -> None:
        raise NotImplementedError

    def members(self, rows: Sequence[MemberRow]) -> None:
        self._write("members", rows)

    def ledger(self, rows: Sequence[LedgerRow]) -> None:
        self._write("ledger", rows)

    def causes(self, rows: Sequence[CauseRow]) -> None:
        self._write("causes", rows)


class ExportFiles(_Tables):
    """An export written as the files the bot sends: ``<slug>-members.csv``, ``<slug>-ledger.csv``
    (a table past ``limit`` bytes as ``<slug>-ledger-1.zip``, ``-2.zip``, ... each under it) and
    ``<slug>-causes.csv``, in ``folder``. Its methods run in a worker thread, a page at a time."""

    def __init__(self, folder: Path, slug: str, timezone: str, words: ExportWords, limit: int) -> None:
        self.folder, self.slug, self.timezone, self.words, self.limit = folder, slug, timezone, words, limit
        self._open: dict[str, _TableFile] = {}
        self.files: list[ExportFile] = []

    def _write(self, table: str, rows: Sequence[Any]) -> None:
        columns, cells = TABLES[table]
        target = self._open.get(table)
        if target is None:
            for other in list(self._open):  # tables come one after another: the last one is done
                self.files += self._open.pop(other).close()
            target = self._open[table] = _TableFile(
                self.folder, table, f"{self.slug}-{table}", _header(columns, self.words), self.limit
            )
        target.write(cells(row, self.timezone, self.words) for row in rows)

    def close(self) -> list[ExportFile]:
        """Every file written, in order; a table that had no page still gets its file (a header)."""
        for table in ("members", "ledger"):
            if table not in self._open and not any(f.table == table for f in self.files):
                self._write(table, ())
        for table in list(self._open):
            self.files += self._open.pop(table).close()
        return sorted(self.files, key=lambda file: (list(TABLES).index(file.table), file.part))


class StreamedZip(_Tables):
    """An export as one zip made while it is downloaded: each table one CSV in it, whatever its
    size. Each page's compressed bytes are handed to the download through a short queue: a slow
    download holds the writing back instead of piling the zip up in memory."""

    def __init__(self, slug: str, timezone: str, words: ExportWords, waiting: int = 8) -> None:
        self.slug, self.timezone, self.words = slug, timezone, words
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=waiting)
        self.abandoned = threading.Event()  # the download stopped: writing stops too
        self._out = _Chunks()
        self._zip = zipfile.ZipFile(self._out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self._table: str | None = None
        self._seen: set[str] = set()
        self._text: io.TextIOWrapper | None = None
        self._writer: Any = None

    def _write(self, table: str, rows: Sequence[Any]) -> None:
        columns, cells = TABLES[table]
        if table != self._table:
            if self._text is not None:
                self._text.close()
            entry = self._zip.open(f"{self.slug}-{table}.csv", "w", force_zip64=True)
            self._text = io.TextIOWrapper(entry, encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._text)
            self._writer.writerow(_header(columns, self.words))
            self._table = table
            self._seen.add(table)
        self._writer.writerows(
            [neutralise(cell) for cell in cells(row, self.timezone, self.words)] for row in rows
        )
        self._hand_over(self._out.take())

    def _hand_over(self, chunk: bytes | None) -> None:
        while not self.abandoned.is_set():
            try:
                self.chunks.put(chunk, timeout=0.5)
                return
            except queue.Full:
                continue
        raise ConnectionAbortedError("the download stopped")

    def close(self) -> None:
        """The zip's last bytes (the rest of the last table, the directory), then the end. A
        table with no rows still gets its file (a header)."""
        for table in ("members", "ledger"):
            if table not in self._seen:
                self._write(table, ())
        if self._text is not None:
            self._text.close()
        self._zip.close()
        self._hand_over(self._out.take())
        self._hand_over(None)


class _Chunks(io.RawIOBase):
    """A write-only stream zipfile writes into (it cannot seek: entries get data descriptors)."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        taken, self._parts = b"".join(self._parts), []
        return taken


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
