"""Figures for the core loop: confirmations per second, bot reply latency, card rendering.

    .venv/bin/python bench/core_loop.py [--purchases 2000] [--postgres URL]

Prints one line per figure. PostgreSQL is measured when a server answers (default URL
below, or --postgres); otherwise that line says it was skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from kartu.bot.app import build_app, run_polling  # noqa: E402
from kartu.config import Settings  # noqa: E402
from kartu.loyalty.clock import FrozenClock  # noqa: E402
from kartu.loyalty.program import ProgramRules  # noqa: E402
from kartu.media.card_image import CardPicture, render_card  # noqa: E402
from kartu.sandbox import BotAPIEmulator, TelegramUser  # noqa: E402
from kartu.services.container import Services  # noqa: E402
from kartu.services.customers import TelegramProfile  # noqa: E402
from kartu.storage.database import Database  # noqa: E402
from kartu.storage.migrate import upgrade  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
STAFF, CUSTOMERS = 10, 100
CONCURRENCY = (1, 20, 50)


@dataclass(frozen=True)
class Shop:
    merchant_id: int
    staff: tuple[int, ...]  # Telegram ids, one per writer
    codes: tuple[str, ...]
    p50_ms: float = 0.0


# The same essential statements as Kartu's open + confirm (see README, "Ledger and idempotency"),
# as plain SQL on the bare driver: what the database and driver alone can do, for the ratio.
OPEN_SQL = (
    "SELECT p.id, s.id FROM person p JOIN staff_member s ON s.person_id = p.id "
    "WHERE p.telegram_id = $1 AND s.merchant_id = $2 AND s.revoked_at IS NULL",
    "SELECT p.id, c.stamps, (SELECT coalesce(sum(delta), 0) FROM ledger_entry l WHERE l.merchant_id = $2 "
    "AND l.person_id = p.id AND l.reason = 'purchase' AND l.created_at >= $3) "
    "FROM person p JOIN card c ON c.person_id = p.id AND c.merchant_id = $2 WHERE p.personal_code = $1",
    "INSERT INTO purchase_prompt (token, kind, merchant_id, customer_person_id, staff_person_id, purchases, status, "
    "created_at, expires_at) VALUES ($1, 'purchase', $2, $3, $4, 1, 'pending', $5, $5) RETURNING id",
)
CONFIRM_SQL = (
    "SELECT pp.id, pp.customer_person_id FROM purchase_prompt pp JOIN person p ON p.id = pp.staff_person_id "
    "WHERE pp.token = $1 AND p.telegram_id = $2",
    "UPDATE purchase_prompt SET status = 'confirmed', decided_at = $2 WHERE id = $1 AND status = 'pending'",
    "SELECT id FROM card WHERE merchant_id = $1 AND person_id = $2 FOR UPDATE",
    "SELECT c.stamps, (SELECT coalesce(sum(delta), 0) FROM ledger_entry l WHERE l.merchant_id = $1 "
    "AND l.person_id = $2 AND l.reason = 'purchase' AND l.created_at >= $3) FROM card c "
    "WHERE c.merchant_id = $1 AND c.person_id = $2",
    "INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, idempotency_key, prompt_id, created_at) "
    "VALUES ($1, $2, 'stamp', 1, 'purchase', $3, $4, $5)",
    "INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, person_id, merchant_id, subject_id, params, "
    "status, attempts, not_before, created_at) VALUES ($1, 'card_update', 'result', 1, $2, $3, 1, '{}', 'sent', 0, $4, $4)",
    "UPDATE card SET stamps = stamps + 1, last_purchase_at = $3 WHERE merchant_id = $1 AND person_id = $2",
)


def _sqlite(sql: str) -> str:
    """The PostgreSQL text for SQLite: ? placeholders (in order), no row locks."""
    import re

    return re.sub(r"\$\d+", "?", sql.replace(" FOR UPDATE", ""))


def _args(sql: str, values: tuple[object, ...]) -> tuple[object, ...]:
    """SQLite binds by position of appearance; $n may repeat."""
    import re

    return tuple(values[int(number) - 1] for number in re.findall(r"\$(\d+)", sql))


async def _bare_sqlite(path: str, shop: Shop, purchases: int, concurrency: int) -> float:
    """The same writes on aiosqlite directly, writers queued on one lock as Kartu's are."""
    import aiosqlite

    lock = asyncio.Lock()
    connections = []
    for _ in range(concurrency):
        connection = await aiosqlite.connect(path, isolation_level=None)
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        connections.append(connection)
    counter = iter(range(purchases))
    now = "2026-01-05 10:00:00.000000"

    async def run(connection: aiosqlite.Connection, sql: str, *values: object) -> list[aiosqlite.Row]:
        return list(await connection.execute_fetchall(_sqlite(sql), _args(sql, values)))  # one hand-off

    async def worker(connection: aiosqlite.Connection, staff_id: int) -> None:
        for index in counter:
            code, token = shop.codes[index % len(shop.codes)], uuid.uuid4().hex[:22]
            async with lock:
                await connection.execute("BEGIN IMMEDIATE")
                staff = (await run(connection, OPEN_SQL[0], staff_id, shop.merchant_id))[0]
                customer = (await run(connection, OPEN_SQL[1], code, shop.merchant_id, now))[0]
                await run(connection, OPEN_SQL[2], token, shop.merchant_id, customer[0], staff[0], now)
                await connection.execute("COMMIT")
            async with lock:
                await connection.execute("BEGIN IMMEDIATE")
                prompt = (await run(connection, CONFIRM_SQL[0], token, staff_id))[0]
                await run(connection, CONFIRM_SQL[1], prompt[0], now)
                await run(connection, CONFIRM_SQL[2], shop.merchant_id, prompt[1])
                await run(connection, CONFIRM_SQL[3], shop.merchant_id, prompt[1], now)
                await run(
                    connection, CONFIRM_SQL[4], shop.merchant_id, prompt[1], f"bare:{token}", prompt[0], now
                )
                await run(connection, CONFIRM_SQL[5], f"bare:{token}", prompt[1], shop.merchant_id, now)
                await run(connection, CONFIRM_SQL[6], shop.merchant_id, prompt[1], now)
                await connection.execute("COMMIT")

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, staff_id) for c, staff_id in zip(connections, shop.staff, strict=True)))
    elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return purchases / elapsed


async def _bare_sqlite3(path: str, shop: Shop, purchases: int, concurrency: int) -> float:
    """The same writes on the standard library's sqlite3 called from the loop, as Kartu's hot path
    calls it (storage/database.py): each transaction runs to its end without yielding."""
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    counter = iter(range(purchases))
    now = "2026-01-05 10:00:00.000000"

    def run(sql: str, *values: object) -> list[Any]:
        return connection.execute(_sqlite(sql), _args(sql, values)).fetchall()

    async def worker(staff_id: int) -> None:
        for index in counter:
            code, token = shop.codes[index % len(shop.codes)], uuid.uuid4().hex[:22]
            connection.execute("BEGIN IMMEDIATE")
            staff = run(OPEN_SQL[0], staff_id, shop.merchant_id)[0]
            customer = run(OPEN_SQL[1], code, shop.merchant_id, now)[0]
            run(OPEN_SQL[2], token, shop.merchant_id, customer[0], staff[0], now)
            connection.execute("COMMIT")
            await asyncio.sleep(0)  # the tap comes later: other staff go meanwhile
            connection.execute("BEGIN IMMEDIATE")
            prompt = run(CONFIRM_SQL[0], token, staff_id)[0]
            run(CONFIRM_SQL[1], prompt[0], now)
            run(CONFIRM_SQL[2], shop.merchant_id, prompt[1])
            run(CONFIRM_SQL[3], shop.merchant_id, prompt[1], now)
            run(CONFIRM_SQL[4], shop.merchant_id, prompt[1], f"bare3:{token}", prompt[0], now)
            run(CONFIRM_SQL[5], f"bare3:{token}", prompt[1], shop.merchant_id, now)
            run(CONFIRM_SQL[6], shop.merchant_id, prompt[1], now)
            connection.execute("COMMIT")
            await asyncio.sleep(0)

    started = time.perf_counter()
    await asyncio.gather(*(worker(staff_id) for staff_id in shop.staff))
    elapsed = time.perf_counter() - started
    connection.close()
    return purchases / elapsed


async def _bare_postgres(url: str, shop: Shop, purchases: int, concurrency: int) -> float:
    """The same writes on asyncpg directly, one pooled connection per writer."""
    from datetime import UTC, datetime

    pool = await asyncpg.create_pool(url.replace("+asyncpg", ""), min_size=concurrency, max_size=concurrency)
    counter = iter(range(purchases))
    now = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)

    async def worker(staff_id: int) -> None:
        async with pool.acquire() as connection:
            for index in counter:
                code, token = shop.codes[index % len(shop.codes)], uuid.uuid4().hex[:22]
                async with connection.transaction():
                    staff = await connection.fetchrow(OPEN_SQL[0], staff_id, shop.merchant_id)
                    customer = await connection.fetchrow(OPEN_SQL[1], code, shop.merchant_id, now)
                    await connection.fetchval(
                        OPEN_SQL[2], token, shop.merchant_id, customer[0], staff[0], now
                    )
                async with connection.transaction():
                    prompt = await connection.fetchrow(CONFIRM_SQL[0], token, staff_id)
                    await connection.execute(CONFIRM_SQL[1], prompt[0], now)
                    await connection.fetchval(CONFIRM_SQL[2], shop.merchant_id, prompt[1])
                    await connection.fetchrow(CONFIRM_SQL[3], shop.merchant_id, prompt[1], now)
                    await connection.execute(
                        CONFIRM_SQL[4], shop.merchant_id, prompt[1], f"bare:{token}", prompt[0], now
                    )
                    await connection.execute(
                        CONFIRM_SQL[5], f"bare:{token}", prompt[1], shop.merchant_id, now
                    )
                    await connection.execute(CONFIRM_SQL[6], shop.merchant_id, prompt[1], now)

    started = time.perf_counter()
    await asyncio.gather(*(worker(staff_id) for staff_id in shop.staff))
    elapsed = time.perf_counter() - started
    await pool.close()
    return purchases / elapsed


async def _confirmations(
    url: str, purchases: int, concurrency: int, driver: bool = True
) -> tuple[float, float, Shop]:
    """Open and confirm ``purchases`` prompts spread over 100 customers; returns (per second, p95 ms).
    ``driver=False``: the ORM use cases alone, as before the hot path (for the before/after figures)."""
    # PostgreSQL's pool is sized for the writers, as KARTU_DATABASE_MAX_CONNECTIONS would be.
    db = Database(url) if url.startswith("sqlite") else Database(url, pool_size=concurrency, max_overflow=5)
    await upgrade(db.engine)
    db.has_driver = driver
    services = Services.build(db, Settings(_env_file=None, database_url=url), FrozenClock())
    created = await services.merchants.create_merchant("Bench Kopi", 1, rules=ProgramRules(daily_stamp_cap=0))
    # A second run on one database adds a second shop: owner and staff switch to it (/shop).
    await services.merchants.act_for(1, created.merchant_id)
    staff = tuple(STAFF + number for number in range(concurrency))  # one staff member per writer
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

    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for index in range(purchases):
        queue.put_nowait(codes[index % CUSTOMERS])

    async def worker(staff_id: int) -> None:
        while not queue.empty():
            code = queue.get_nowait()
            started = time.perf_counter()
            prompt = await services.counter.open_purchase(staff_id, code)
            await services.counter.confirm_purchase(staff_id, prompt.token)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(staff_id) for staff_id in staff))
    elapsed = time.perf_counter() - started
    async with db.read() as uow:
        ledger = await uow.ledger.entries(created.merchant_id)
    assert sum(1 for e in ledger if e.reason == "purchase") == purchases, "ledger does not match"
    await db.dispose()
    shop = Shop(created.merchant_id, staff, tuple(codes), statistics.median(latencies) * 1000)
    return purchases / elapsed, statistics.quantiles(latencies, n=20)[18] * 1000, shop


async def _postgres_url(base: str) -> tuple[str, str] | None:
    try:
        admin = await asyncpg.connect(base.replace("+asyncpg", ""), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    name = f"kartu_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return base.rpartition("/")[0] + "/" + name, name


async def _drop(base: str, name: str) -> None:
    admin = await asyncpg.connect(base.replace("+asyncpg", ""), timeout=3)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def _bot_latency(directory: Path, requests: int) -> tuple[float, float, float]:
    """A customer asks for /card ``requests`` times through the real bot; p50, p95 ms and replies/s."""
    emulator = BotAPIEmulator()
    await emulator.start()
    settings = Settings(
        _env_file=None,
        bot_token=emulator.token,
        telegram_api_url=emulator.url,
        database_url=f"sqlite+aiosqlite:///{directory / 'bot.db'}",
        polling_timeout=5,
        flood_burst=1_000_000,
    )  # one scripted customer asks far faster than a person may
    app = build_app(settings)
    polling = asyncio.create_task(run_polling(app, handle_signals=False))
    await emulator.wait_for(lambda: emulator.state.commands)
    await app.services.merchants.create_merchant("Kopi Senja", 1)
    customer = TelegramUser(emulator, 5, "Ayu", "id")
    await customer.ask("/start")
    latencies = []
    started_all = time.perf_counter()
    for _ in range(requests):
        started = time.perf_counter()
        await customer.ask("/card")
        latencies.append((time.perf_counter() - started) * 1000)
    elapsed = time.perf_counter() - started_all
    stopping = asyncio.create_task(app.dispatcher.stop_polling())
    await emulator.release_pollers()
    await stopping
    await polling
    await emulator.stop()
    return statistics.median(latencies), statistics.quantiles(latencies, n=20)[18], requests / elapsed


def _render_figures() -> tuple[float, int, int]:
    render_card.cache_clear()
    tracemalloc.start()
    started = time.perf_counter()
    for stamps in range(50):
        render_card(
            CardPicture("Kopi Senja", stamps % 11, 10, "Reward: 1 free drink", f"{stamps % 11} of 10 stamps")
        )
    per_card = (time.perf_counter() - started) / 50 * 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = len(render_card(CardPicture("Kopi Senja", 7, 10, "Reward: 1 free drink", "7 of 10 stamps")))
    return per_card, peak, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument(
        "--orm", action="store_true", help="also the ORM use cases alone (before the hot path)"
    )
    args = parser.parse_args()

    async def before(url: str, concurrency: int) -> str:
        if not args.orm:
            return ""
        rate, p95, _ = await _confirmations(url, args.purchases, concurrency, driver=False)
        return f"  | ORM alone {rate:5.0f}/s p95 {p95:6.1f} ms"

    with tempfile.TemporaryDirectory() as directory:
        for concurrency in CONCURRENCY:
            path = f"{directory}/c{concurrency}.db"
            rate, p95, shop = await _confirmations(f"sqlite+aiosqlite:///{path}", args.purchases, concurrency)
            bare = await _bare_sqlite(path, shop, args.purchases, concurrency)
            direct = await _bare_sqlite3(path, shop, args.purchases, concurrency)
            orm = await before(f"sqlite+aiosqlite:///{directory}/orm{concurrency}.db", concurrency)
            print(
                f"sqlite      confirmations: {rate:7.0f}/s  p95 {p95:6.1f} ms  ({args.purchases} purchases, "
                f"{concurrency} staff at once)  bare aiosqlite {bare:6.0f}/s  ratio {rate / bare:.2f}  "
                f"bare sqlite3 on the loop {direct:6.0f}/s  ratio {rate / direct:.2f}{orm}"
            )
        created = await _postgres_url(args.postgres)
        if created is None:
            print(f"postgresql  confirmations: skipped (no server at {args.postgres})")
        else:
            url, name = created
            try:
                for concurrency in CONCURRENCY:
                    rate, p95, shop = await _confirmations(url, args.purchases, concurrency)
                    bare = await _bare_postgres(url, shop, args.purchases, concurrency)
                    orm = await before(url, concurrency)
                    print(
                        f"postgresql  confirmations: {rate:7.0f}/s  p95 {p95:6.1f} ms  ({args.purchases} purchases, "
                        f"{concurrency} staff at once)  bare asyncpg {bare:6.0f}/s  ratio {rate / bare:.2f}{orm}"
                    )
            finally:
                await _drop(args.postgres, name)
        p50, p95, per_second = await _bot_latency(Path(directory), args.requests)
        print(
            f"bot /card round trip (emulator, long polling): p50 {p50:.1f} ms  p95 {p95:.1f} ms  {per_second:.0f} replies/s"
        )
    per_card, peak, size = _render_figures()
    print(
        f"card render: {per_card:.1f} ms per new picture, peak {peak / 1024:.0f} KiB, {size / 1024:.0f} KiB PNG; repeats come from cache"
    )


if __name__ == "__main__":
    asyncio.run(main())
