"""Owners' exports: asked (the period question), started (one per shop at a time), written page by
page into files as they come (never a list of every row), and a big one's one-time download link."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from kartu.loyalty.errors import PromptClosed
from kartu.loyalty.exports import (
    LINK_LIFETIME,
    PAGE,
    QUESTION_LIFETIME,
    TOUCH_EVERY,
    ExportLinkRefused,
    ExportOnItsWay,
    ExportPeriod,
    ExportStatus,
    period_start,
    read_link,
    sign_link,
)
from kartu.services.access import require_owner
from kartu.services.base import ServiceBase, server_key
from kartu.services.reports import STATS_CATCH_UP, CauseRow, LedgerRow, MemberRow, causes_of
from kartu.services.tally import TallyService
from kartu.storage.models import ExportRun

LINK_SECRET = "export-links"


class ExportSink(Protocol):
    """Where an export's rows go (media/exports.py): called in a worker thread, a page at a time."""

    def members(self, rows: Sequence[MemberRow]) -> None: ...

    def ledger(self, rows: Sequence[LedgerRow]) -> None: ...

    def causes(self, rows: Sequence[CauseRow]) -> None: ...


@dataclass(frozen=True)
class ExportJob:
    run_id: int
    merchant_id: int
    slug: str
    timezone: str
    period: ExportPeriod
    since: datetime | None  # the ledger from here (None: all of it)
    last_entry_id: int  # ... up to this entry: what was written when the export started
    started_at: datetime
    language: str  # the owner's: the files' headers and words


@dataclass(frozen=True)
class ExportCounts:
    members: int
    entries: int


class ExportService(ServiceBase):
    async def ask(self, owner_telegram_id: int) -> str:
        """A run waiting for its period (the token its buttons carry); `ExportOnItsWay` while the
        shop's export is being prepared."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            if await uow.exports.running(place.merchant.id, now) is not None:
                raise ExportOnItsWay()
            run = await uow.exports.add(
                ExportRun(
                    token=secrets.token_urlsafe(12),
                    merchant_id=place.merchant.id,
                    person_id=place.person.id,
                    status=ExportStatus.ASKED,
                    asked_at=now,
                    touched_at=now,
                )
            )
            return run.token

    async def start(self, owner_telegram_id: int, token: str, period: ExportPeriod) -> ExportJob:
        """The owner chose the period: the run starts, unless another of the shop's runs is going
        (`ExportOnItsWay`: two taps, two owners, two processes) or the buttons are spent."""
        await TallyService(self.db, self.clock, self.settings).catch_up(max_batches=STATS_CATCH_UP)
        now = self.clock.now()
        try:
            async with self.db.write() as uow:
                place = await require_owner(uow, owner_telegram_id)
                run = await uow.exports.by_token(token)
                if run is None or run.merchant_id != place.merchant.id or run.person_id != place.person.id:
                    raise PromptClosed("invalid")
                if run.status == ExportStatus.RUNNING:
                    raise ExportOnItsWay()
                if run.status != ExportStatus.ASKED or now - run.asked_at > QUESTION_LIFETIME:
                    raise PromptClosed("exported")
                if await uow.exports.running(place.merchant.id, now) is not None:
                    raise ExportOnItsWay()
                since = period_start(period, now, place.merchant.timezone)
                last = await uow.exports.last_entry_id(place.merchant.id)
                if not await uow.exports.start(run.id, period, since, last, now):
                    raise ExportOnItsWay()  # the other tap started it a moment ago
        except IntegrityError:  # another run of the shop started at the same moment
            raise ExportOnItsWay() from None
        return ExportJob(
            run.id,
            place.merchant.id,
            place.merchant.slug,
            place.merchant.timezone,
            period,
            since,
            last,
            now,
            self.language_of(place.person),
        )

    async def write(self, job: ExportJob, sink: ExportSink) -> ExportCounts:
        """Every page into the sink: the next page is read while the last one is written (in a
        worker thread, as the CSV and zip work is the slow part), so the event loop only ever
        holds one page."""
        members = entries = 0
        writing: asyncio.Future[None] | None = None
        touched = time.monotonic()
        try:
            async for table, rows in self._pages(job):
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(asyncio.to_thread(getattr(sink, table), rows))
                if table == "members":
                    members += len(rows)
                else:
                    entries += len(rows)
                if time.monotonic() - touched > TOUCH_EVERY.total_seconds():  # still alive
                    touched = time.monotonic()
                    await self.touch(job)
        finally:
            if writing is not None:
                await writing
        async with self.db.read() as uow:
            causes = await causes_of(uow, job.merchant_id)
        if causes:
            await asyncio.to_thread(sink.causes, causes)
        return ExportCounts(members, entries)

    async def _pages(self, job: ExportJob) -> AsyncIterator[tuple[str, list[MemberRow] | list[LedgerRow]]]:
        after = 0
        while True:
            async with self.db.read() as uow:
                rows = await uow.exports.members(job.merchant_id, after, job.started_at, PAGE)
            if not rows:
                break
            after = int(rows[-1][0])
            yield "members", [member_row(*row[1:]) for row in rows]
        after = 0
        while after < job.last_entry_id:
            async with self.db.read() as uow:
                page = await uow.reports.ledger(job.merchant_id, after, job.since, PAGE, job.last_entry_id)
            if not page:
                break
            after = int(page[-1][0])
            yield "ledger", [ledger_row(*row) for row in page]

    async def touch(self, job: ExportJob) -> None:
        """The run still moves (its files going to Telegram): not taken for one a stopped process left."""
        async with self.db.write() as uow:
            await uow.exports.touch(job.run_id, self.clock.now())

    async def finish(self, job: ExportJob, counts: ExportCounts, files: int) -> None:
        async with self.db.write() as uow:
            await uow.exports.end(
                job.run_id, ExportStatus.DONE, self.clock.now(), counts.members, counts.entries, files
            )

    async def fail(self, job: ExportJob) -> None:
        async with self.db.write() as uow:
            await uow.exports.end(job.run_id, ExportStatus.FAILED, self.clock.now(), 0, 0, 0)

    async def link(self, job: ExportJob) -> str | None:
        """A link to the whole export as one zip from the API server (KARTU_API_PUBLIC_URL), signed,
        for an hour and one download; None where no API server is published."""
        if not self.settings.api_public_url:
            return None
        now = self.clock.now()
        async with self.db.write() as uow:
            secret = await server_key(uow, self.settings, LINK_SECRET, now)
        token = sign_link(secret, job.run_id, now + LINK_LIFETIME)
        return f"{self.settings.api_public_url.rstrip('/')}/v1/exports/{token}"

    async def download(self, token: str) -> ExportJob:
        """The export a link names, used up by this download; `ExportLinkRefused` when the link is
        forged, its hour is over, or it was used."""
        now = self.clock.now()
        async with self.db.write() as uow:
            run_id = read_link(await server_key(uow, self.settings, LINK_SECRET, now), token, now)
            run = await uow.exports.get(run_id)
            merchant = await uow.merchants.get(run.merchant_id) if run is not None else None
            owner = await uow.people.get(run.person_id) if run is not None else None
            if run is None or merchant is None or owner is None or run.status != ExportStatus.DONE:
                raise ExportLinkRefused("invalid")
            if not await uow.exports.use_link(run_id, now):
                raise ExportLinkRefused("used")
            return ExportJob(
                run_id,
                merchant.id,
                merchant.slug,
                merchant.timezone,
                ExportPeriod(run.period or ExportPeriod.ALL),
                run.since,
                run.last_entry_id or 0,
                now,
                self.language_of(owner),
            )

    async def give_link_back(self, job: ExportJob) -> None:
        """A download that did not finish (the connection dropped, the database failed) does not
        use the link up: it works again within its hour."""
        async with self.db.write() as uow:
            await uow.exports.give_link_back(job.run_id)


def member_row(
    first_name: str,
    username: str | None,
    code: str,
    joined_at: datetime,
    stamps: int,
    visits: int,
    last_visit: datetime | None,
    opted_out: bool,
    open_rewards: int,
    points: int,
    level: str | None,
    invited_by: str | None,
    joined_outlet: str | None = None,
    last_outlet: str | None = None,
) -> MemberRow:
    return MemberRow(
        first_name, username, code, joined_at, stamps, visits, last_visit, not opted_out,
        int(open_rewards), points, level, invited_by, joined_outlet, last_outlet,
    )  # fmt: skip


def ledger_row(
    entry_id: int,
    at: datetime,
    code: str,
    name: str,
    asset: str,
    delta: int,
    reason: str,
    actor: str,
    note: str | None,
    outlet_code: str | None = None,
    outlet: str | None = None,
) -> LedgerRow:
    return LedgerRow(entry_id, at, code, name, asset, delta, reason, actor, note, outlet)
