"""Figures for points (issue 12): confirmations with an amount beside stamps' from the same run, and
the sweep that lapses a million point batches.

    .venv/bin/python bench/points.py [--purchases 2000] [--staff 20] [--batches 1000000] [--postgres URL]

(1) Confirmations per second and p95 with ``--staff`` staff at once, on SQLite and PostgreSQL: stamps
    (the counter's hot path) and points (open a sale with an amount, confirm it: batch, ledger row,
    balance, news), each on a fresh database, in the same run.
(2) The sweep over ``--batches`` due point batches (10 per customer): seconds, batches per second,
    the chunk transactions' longest write, and that every card's balance ends equal to its ledger.
PostgreSQL lines are skipped when no server answers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from core_loop import DEFAULT_POSTGRES, _confirmations, _drop, _postgres_url  # noqa: E402
from sqlalchemy import bindparam, text  # noqa: E402

from kartu.config import Settings  # noqa: E402
from kartu.loyalty.clock import FrozenClock  # noqa: E402
from kartu.loyalty.program import ProgramRules  # noqa: E402
from kartu.services.container import Services  # noqa: E402
from kartu.services.customers import TelegramProfile  # noqa: E402
from kartu.storage.database import Database  # noqa: E402
from kartu.storage.migrate import upgrade  # noqa: E402
from kartu.storage.types import UTCDateTime  # noqa: E402

CUSTOMERS = 100
STAFF_BASE = 10


def _database(url: str, writers: int) -> Database:
    return Database(url) if url.startswith("sqlite") else Database(url, pool_size=writers, max_overflow=5)


async def _points_confirmations(url: str, purchases: int, concurrency: int) -> tuple[float, float]:
    """Open and confirm ``purchases`` sales with amounts over 100 customers; (per second, p95 ms)."""
    db = _database(url, concurrency)
    await upgrade(db.engine)
    services = Services.build(db, Settings(_env_file=None, database_url=url), FrozenClock())
    created = await services.merchants.create_merchant("Bench Poin", 1, rules=ProgramRules(daily_stamp_cap=0))
    await services.merchants.act_for(1, created.merchant_id)
    await services.merchants.choose_kinds(1, stamps=False, points=True)
    staff = tuple(STAFF_BASE + number for number in range(concurrency))
    for telegram_id in staff:
        token = await services.merchants.invite_staff(1)
        await services.customers.start(TelegramProfile(telegram_id, "Staff"), f"staff_{token}")
        await services.merchants.act_for(telegram_id, created.merchant_id)
    codes = []
    for number in range(CUSTOMERS):
        joined = await services.customers.start(
            TelegramProfile(1000 + number, f"C{number}"), f"m_{created.slug}"
        )
        codes.append(joined.joined.card.personal_code)  # type: ignore[union-attr]
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for index in range(purchases):
        queue.put_nowait((codes[index % CUSTOMERS], f"{25 + index % 200}.000"))
    latencies: list[float] = []

    async def worker(staff_id: int) -> None:
        while not queue.empty():
            code, amount = queue.get_nowait()
            started = time.perf_counter()
            prompt = await services.counter.open_sale(staff_id, code, amount)
            await services.counter.confirm_sale(staff_id, prompt.token)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(staff_id) for staff_id in staff))
    elapsed = time.perf_counter() - started
    async with db.read() as uow:
        earned = await uow.session.scalar(
            text("SELECT count(*) FROM ledger_entry WHERE asset = 'point' AND merchant_id = :m"),
            {"m": created.merchant_id},
        )
    assert earned == purchases, "ledger does not match"
    await db.dispose()
    return purchases / elapsed, statistics.quantiles(latencies, n=20)[18] * 1000


async def _fill_batches(db: Database, batches: int, now: datetime) -> None:
    """One shop running points, ``batches // 10`` customers with ten due batches each."""
    customers = max(batches // 10, 1)
    earned = now - timedelta(days=400)
    due = now - timedelta(days=35)
    values = {"now": now, "earned": earned, "due": due, "customers": customers, "batches": batches}
    postgres = db.engine.dialect.name == "postgresql"
    numbers = (
        "generate_series(0, :{limit} - 1) AS n(i)"
        if postgres
        else "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :{limit} - 1) SELECT i FROM n) AS n"
    )
    statements = (
        "INSERT INTO merchant (id, slug, name, timezone, quiet_hours, created_at) "
        "VALUES (1, 'bench', 'Bench Poin', 'Asia/Jakarta', '00:00-00:00', :now)",
        "INSERT INTO program (merchant_id, stamps_required, reward_name, stamps_per_purchase, daily_stamp_cap, "
        "stamp_expiry_days, reward_valid_days, reminder_days, survey_delay_minutes, survey_every_days, "
        "stamps_enabled, points_enabled, rupiah_per_point, points_minimum_spend, points_expiry_months, max_amount, "
        "return_hours, updated_at) VALUES (1, 10, 'Free drink', 1, 5, 0, 30, '7,1', 120, 14, FALSE, TRUE, 10000, 0, "
        "12, 100000000, 24, :now)",
        f"INSERT INTO person (id, telegram_id, first_name, personal_code, created_at) "
        f"SELECT i + 1, 10000000 + i, 'C' || i, 'P' || i, :now FROM {numbers.format(limit='customers')}",
        f"INSERT INTO card (merchant_id, person_id, stamps, points, joined_at, promotions_opt_out) "
        f"SELECT 1, i + 1, 0, 100, :now, FALSE FROM {numbers.format(limit='customers')}",
        f"INSERT INTO points_batch (merchant_id, person_id, points, remaining, source, earned_at, expires_at) "
        f"SELECT 1, (i % :customers) + 1, 10, 10, 'bench:' || i, :earned, :due FROM {numbers.format(limit='batches')}",
        "INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, created_at) "
        "SELECT 1, person_id, 'point', points, 'purchase', source, earned_at FROM points_batch",
    )
    async with db.engine.begin() as connection:
        for statement in statements:
            names = [name for name in values if f":{name}" in statement]
            sql = text(statement).bindparams(  # times stored as Kartu stores them
                *(bindparam(name, type_=UTCDateTime()) for name in ("now", "earned", "due") if name in names)
            )
            await connection.execute(sql, {name: values[name] for name in names})
        if postgres:
            await connection.execute(text("SELECT setval('person_id_seq', :n)"), {"n": customers})


async def _sweep(url: str, batches: int) -> str:
    db = _database(url, 2)
    await upgrade(db.engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    await _fill_batches(db, batches, now)
    filled = time.perf_counter() - started
    clock = FrozenClock()
    clock.set(now)
    services = Services.build(db, Settings(_env_file=None, database_url=url), clock)
    writes: list[float] = []
    original = db.write

    def timed_write():  # type: ignore[no-untyped-def]
        class Timed:
            async def __aenter__(self):  # type: ignore[no-untyped-def]
                self.inner = original()
                self.started = time.perf_counter()
                return await self.inner.__aenter__()

            async def __aexit__(self, *exc):  # type: ignore[no-untyped-def]
                try:
                    return await self.inner.__aexit__(*exc)
                finally:
                    writes.append(time.perf_counter() - self.started)

        return Timed()

    db.write = timed_write  # type: ignore[method-assign]
    started = time.perf_counter()
    report = await services.upkeep.sweep()
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    again = await services.upkeep.sweep()
    second = time.perf_counter() - started
    async with db.read() as uow:
        mismatched = await uow.session.scalar(
            text(
                "SELECT count(*) FROM card c WHERE c.points <> (SELECT coalesce(sum(l.delta), 0) FROM ledger_entry l "
                "WHERE l.merchant_id = c.merchant_id AND l.person_id = c.person_id AND l.asset = 'point')"
            )
        )
    await db.dispose()
    assert report.point_batches_expired == batches and again.point_batches_expired == 0 and mismatched == 0
    return (
        f"sweep of {batches:,} due point batches: {elapsed:.1f} s ({batches / elapsed:,.0f} batches/s, "
        f"{len(writes) - 2} chunk transactions, longest write {max(writes) * 1000:.0f} ms); "
        f"every card's balance equals its ledger; a second sweep: {second:.2f} s (filled in {filled:.1f} s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--batches", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        stamps, stamps_p95, _ = await _confirmations(
            f"sqlite+aiosqlite:///{directory}/s.db", args.purchases, args.staff
        )
        points, points_p95 = await _points_confirmations(
            f"sqlite+aiosqlite:///{directory}/p.db", args.purchases, args.staff
        )
        print(
            f"sqlite      {args.staff} staff: stamps {stamps:6.0f}/s p95 {stamps_p95:5.1f} ms | "
            f"points {points:6.0f}/s p95 {points_p95:5.1f} ms  ({args.purchases} purchases each)"
        )
        created = await _postgres_url(args.postgres)
        if created is None:
            print(f"postgresql  confirmations: skipped (no server at {args.postgres})")
        else:
            url, name = created
            try:
                stamps, stamps_p95, _ = await _confirmations(url, args.purchases, args.staff)
            finally:
                await _drop(args.postgres, name)
            url, name = await _postgres_url(args.postgres)  # type: ignore[misc]
            try:
                points, points_p95 = await _points_confirmations(url, args.purchases, args.staff)
            finally:
                await _drop(args.postgres, name)
            print(
                f"postgresql  {args.staff} staff: stamps {stamps:6.0f}/s p95 {stamps_p95:5.1f} ms | "
                f"points {points:6.0f}/s p95 {points_p95:5.1f} ms  ({args.purchases} purchases each)"
            )
        print("sqlite      " + await _sweep(f"sqlite+aiosqlite:///{directory}/sweep.db", args.batches))
        created = await _postgres_url(args.postgres)
        if created is None:
            print(f"postgresql  sweep: skipped (no server at {args.postgres})")
        else:
            url, name = created
            try:
                print("postgresql  " + await _sweep(url, args.batches))
            finally:
                await _drop(args.postgres, name)


if __name__ == "__main__":
    asyncio.run(main())
