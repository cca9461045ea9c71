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
from pathlib import Path

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


async def _confirmations(url: str, purchases: int, concurrency: int) -> tuple[float, float]:
    """Open and confirm ``purchases`` prompts spread over 100 customers; returns (per second, p95 ms)."""
    db = Database(url)
    await upgrade(db.engine)
    services = Services.build(db, Settings(_env_file=None, database_url=url), FrozenClock())
    created = await services.merchants.create_merchant("Bench Kopi", 1, rules=ProgramRules(daily_stamp_cap=0))
    # A second run on one database adds a second shop: owner and staff switch to it (/shop).
    await services.merchants.act_for(1, created.merchant_id)
    token = await services.merchants.invite_staff(1)
    await services.customers.start(TelegramProfile(STAFF, "Staff"), f"staff_{token}")
    await services.merchants.act_for(STAFF, created.merchant_id)
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

    async def worker() -> None:
        while not queue.empty():
            code = queue.get_nowait()
            started = time.perf_counter()
            prompt = await services.counter.open_purchase(STAFF, code)
            await services.counter.confirm_purchase(STAFF, prompt.token)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    async with db.read() as uow:
        ledger = await uow.ledger.entries(created.merchant_id)
    assert sum(1 for e in ledger if e.reason == "purchase") == purchases, "ledger does not match"
    await db.dispose()
    return purchases / elapsed, statistics.quantiles(latencies, n=20)[18] * 1000


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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        for concurrency in (1, 20):
            rate, p95 = await _confirmations(
                f"sqlite+aiosqlite:///{directory}/c{concurrency}.db", args.purchases, concurrency
            )
            print(
                f"sqlite      confirmations: {rate:7.0f}/s  p95 {p95:6.1f} ms  ({args.purchases} purchases, {concurrency} staff at once)"
            )
        created = await _postgres_url(args.postgres)
        if created is None:
            print(f"postgresql  confirmations: skipped (no server at {args.postgres})")
        else:
            url, name = created
            try:
                for concurrency in (1, 20):
                    rate, p95 = await _confirmations(url, args.purchases, concurrency)
                    print(
                        f"postgresql  confirmations: {rate:7.0f}/s  p95 {p95:6.1f} ms  ({args.purchases} purchases, {concurrency} staff at once)"
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
