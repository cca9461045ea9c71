"""Counting the shop's days as the ledger grows (loyalty/tally.py, storage/repositories/tally.py).

The tally reads what is new since its marks — ledger rows, refunds — in batches, works out each
row's day and whether it is a visit and a first one, and adds the counts to ``daily_tally`` and
the cards' visits in one short transaction that also moves the mark (a second counter at the same
moment finds the mark moved and counts nothing). Reading happens outside that transaction, so
SQLite's writers are held only for the writes. On PostgreSQL, where ids are taken before their
transactions commit, the tally first waits for the ledger's writers in flight (a SHARE lock held
for one `max(id)`), and counts only up to what was committed then: no row is passed over.

Ratings are answers written onto surveys, in no id order: they are counted in the order they came
(rated_at, id), up to a minute ago (a rating's transaction is long committed by then); /stats adds
the few since the mark, read on the rated_at index.

The scheduler's sweep catches up every run; /stats catches up before it reads; `kartu db retally`
counts everything again from nothing."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from kartu.loyalty.tally import DayCounts, ledger_counts, local_day, rating_counts, refund_counts
from kartu.services.base import ServiceBase
from kartu.storage.repositories.tally import LEDGER, RATING, REFUND
from kartu.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 5_000  # rows read and counted at a time
RATINGS_SETTLE = timedelta(minutes=1)  # ratings younger than this wait for the next count


class TallyService(ServiceBase):
    async def catch_up(self, max_batches: int | None = None) -> int:
        """Count what is new; how many ledger rows and refunds were counted."""
        async with self.db.write() as uow:
            ledger_end = await uow.tally.committed_end("ledger_entry")
            refund_end = await uow.tally.committed_end("purchase_refund")
        settled = self.clock.now() - RATINGS_SETTLE
        counted, batches = 0, 0
        while max_batches is None or batches < max_batches:
            batch = (
                await self._ledger(ledger_end)
                + await self._refunds(refund_end)
                + await self._ratings(settled)
            )
            counted += batch
            batches += 1
            if not batch:
                break
        return counted

    async def retally(self) -> int:
        """Forget every count and count the whole ledger again (after a restore, or to check)."""
        async with self.db.write() as uow:
            await uow.tally.forget_everything()
        return await self.catch_up()

    async def _ledger(self, end: int) -> int:
        async with self.db.read() as uow:
            last_id, _ = await uow.tally.mark(LEDGER)
            rows = [row for row in await uow.tally.ledger_after(last_id, BATCH) if row.id <= end]
            if not rows:
                return 0
            zones = await uow.tally.timezones()
            points = [row.origin for row in rows if _purchase(row) and row.asset == "point" and row.origin]
            stamped = await uow.tally.stamped(points)
            visits = [
                row
                for row in rows
                if _purchase(row)
                and (row.asset == "stamp" or (row.asset == "point" and row.origin not in stamped))
            ]
            firsts = await uow.tally.first_purchases({(row.merchant_id, row.person_id) for row in visits})
        visit_ids = {row.id for row in visits}
        counted = Counted()
        for row in rows:
            visit = row.id in visit_ids
            first = visit and _is_first(row, firsts.get((row.merchant_id, row.person_id)))
            day = local_day(row.created_at, zones.get(row.merchant_id, self.settings.default_timezone))
            counted.add(
                row,
                day,
                ledger_counts(row.asset, row.delta, row.reason, visit=visit, first=first),
                int(visit),
            )
        return await self._write(LEDGER, last_id, rows[-1].id, counted, len(rows))

    async def _refunds(self, end: int) -> int:
        async with self.db.read() as uow:
            last_id, _ = await uow.tally.mark(REFUND)
            refunds = [row for row in await uow.tally.refunds_after(last_id, BATCH) if row.id <= end]
            if not refunds:
                return 0
            zones = await uow.tally.timezones()
            visits = await uow.tally.visit_rows(row.source for row in refunds)
            firsts = await uow.tally.first_purchases(
                {(row.merchant_id, row.person_id) for row in visits.values()}
            )
        counted = Counted()
        for refund in refunds:
            visit = visits.get(refund.source)
            if visit is None:  # a purchase that wrote no visit row: nothing was counted
                continue
            first = _is_first(visit, firsts.get((visit.merchant_id, visit.person_id)))
            day = local_day(visit.created_at, zones.get(visit.merchant_id, self.settings.default_timezone))
            counted.add(visit, day, refund_counts(first), -1)
        return await self._write(REFUND, last_id, refunds[-1].id, counted, len(refunds))

    async def _ratings(self, settled: datetime) -> int:
        async with self.db.read() as uow:
            last_id, last_at = await uow.tally.mark(RATING)
            rows = [
                row
                for row in await uow.tally.ratings_after(last_at, last_id, BATCH)
                if row.rated_at < settled
            ]
            if not rows:
                return 0
            zones = await uow.tally.timezones()
        counted = Counted()
        for row in rows:
            day = local_day(row.rated_at, zones.get(row.merchant_id, self.settings.default_timezone))
            counted.add(row, day, rating_counts(row.rating), 0)
        return await self._write(RATING, last_id, rows[-1].id, counted, len(rows), rows[-1].rated_at)

    async def _write(
        self,
        name: str,
        last_id: int,
        new_last_id: int,
        counts: Counted,
        counted: int,
        new_last_at: datetime | None = None,
    ) -> int:
        async with self.db.write() as uow:
            current, _ = await uow.tally.mark(name, for_update=True)
            if current != last_id:  # another process counted these meanwhile
                return counted
            await uow.tally.add(counts.days)
            await uow.tally.add_visits(counts.cards)
            await uow.tally.add_outlets(counts.outlet_days)
            await uow.tally.add_outlet_visits(counts.outlet_cards)
            await uow.tally.move_mark(name, new_last_id, new_last_at)
        return counted


class Counted:
    """One batch's counts: the business's days and cards' visits, and the same per outlet for
    rows that name one."""

    def __init__(self) -> None:
        self.days: dict[tuple[int, date], DayCounts] = defaultdict(DayCounts)
        self.cards: dict[tuple[int, int], int] = defaultdict(int)
        self.outlet_days: dict[tuple[int, int, date], DayCounts] = defaultdict(DayCounts)
        self.outlet_cards: dict[tuple[int, int, int], int] = defaultdict(int)

    def add(self, row: Any, day: date, counts: DayCounts, visits: int) -> None:
        """``row``'s counts on ``day``; ``visits``: what it adds to (or takes from) its card's."""
        self.days[(row.merchant_id, day)].add(counts)
        outlet_id = getattr(row, "outlet_id", None)
        if outlet_id is not None:
            self.outlet_days[(row.merchant_id, outlet_id, day)].add(counts)
        if visits:
            self.cards[(row.merchant_id, row.person_id)] += visits
            if outlet_id is not None:
                self.outlet_cards[(row.merchant_id, row.person_id, outlet_id)] += visits


def _purchase(row: object) -> bool:
    return getattr(row, "reason", None) == "purchase"


def _is_first(row: object, first: tuple[int, str | None] | None) -> bool:
    """The row belongs to the customer's first purchase (the first purchase row, or its twin)."""
    if first is None:
        return False
    first_id, first_origin = first
    origin = getattr(row, "origin", None)
    return getattr(row, "id", None) == first_id or (origin is not None and origin == first_origin)


async def rating_summary(
    uow: UnitOfWork, merchant_id: int, totals: DayCounts | None = None, outlet_id: int | None = None
) -> tuple[float | None, int]:
    """The shop's average rating and how many (of one outlet's visits, with ``outlet_id``): the
    counted days (``totals``, when read already), and the few since the tally's mark (the last
    minute's), read on the rated_at index; never every survey."""
    if totals is None and outlet_id is not None:
        totals = (await uow.tally.outlet_figures(merchant_id)).get(outlet_id) or DayCounts()
    if totals is None:
        totals = await uow.tally.totals(merchant_id)
    last_id, last_at = await uow.tally.mark(RATING)
    recent, recent_sum = await uow.surveys.rated_after(merchant_id, last_at, last_id, outlet_id)
    ratings = totals.ratings + recent
    return ((totals.rating_sum + recent_sum) / ratings if ratings else None), ratings
