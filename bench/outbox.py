"""Figures for issue 3: the expiry/reminder sweep over a million cards, and paced delivery.

    .venv/bin/python bench/outbox.py [--cards 1000000] [--messages-per-chat 3 --chats 100]

(1) Sweep of N cards on SQLite: seconds and peak memory (Python heap and process RSS).
(2) The outbox dispatcher against the local emulator enforcing 30 msg/s and 1 msg/s per
    chat: achieved rate as a ratio of the limit, and how many 429s the emulator answered.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kartu.bot.app import build_bot  # noqa: E402
from kartu.bot.i18n import load_i18n  # noqa: E402
from kartu.config import Settings  # noqa: E402
from kartu.loyalty.clock import SystemClock  # noqa: E402
from kartu.loyalty.program import ProgramRules  # noqa: E402
from kartu.sandbox import BotAPIEmulator  # noqa: E402
from kartu.scheduler.dispatcher import OutboxDispatcher  # noqa: E402
from kartu.scheduler.pacing import Pacer  # noqa: E402
from kartu.services.container import Services  # noqa: E402
from kartu.services.customers import TelegramProfile  # noqa: E402
from kartu.storage.database import Database  # noqa: E402
from kartu.storage.migrate import upgrade  # noqa: E402

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _fill(path: Path, cards: int, now: datetime) -> None:
    """A merchant with ``cards`` customers; last purchases spread over the past 200 days."""
    random.seed(7)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    stamp = now.strftime(SQLITE_TIME)
    connection.execute(
        "INSERT INTO merchant (id, slug, name, timezone, quiet_hours, created_at) VALUES (1, 'bench', 'Bench Kopi', 'Asia/Jakarta', '00:00-00:00', ?)",
        (stamp,),
    )
    connection.execute(
        "INSERT INTO program (merchant_id, stamps_required, reward_name, stamps_per_purchase, daily_stamp_cap, stamp_expiry_days, "
        "reward_valid_days, reminder_days, survey_delay_minutes, survey_every_days, updated_at) VALUES (1, 10, 'Free drink', 1, 5, 180, 30, '7,1', 120, 14, ?)",
        (stamp,),
    )
    batch = 50_000
    for start in range(0, cards, batch):
        people = [
            (n + 1, 10_000_000 + n, f"C{n}", f"{n:08d}", stamp)
            for n in range(start, min(start + batch, cards))
        ]
        connection.executemany(
            "INSERT INTO person (id, telegram_id, first_name, personal_code, created_at) VALUES (?, ?, ?, ?, ?)",
            people,
        )
        rows = []
        for person_id, *_ in people:
            last = now - timedelta(days=random.uniform(0, 200))
            rows.append((person_id, random.randint(1, 9), stamp, last.strftime(SQLITE_TIME)))
        connection.executemany(
            "INSERT INTO card (merchant_id, person_id, stamps, joined_at, last_purchase_at) VALUES (1, ?, ?, ?, ?)",
            rows,
        )
    connection.commit()
    connection.close()


async def bench_sweep(cards: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "sweep.db"
        url = f"sqlite+aiosqlite:///{path}"
        db = Database(url)
        await upgrade(db.engine)
        now = datetime.now(UTC)
        started = time.perf_counter()
        # Filled in a child process, so this process's peak RSS measures the sweep alone.
        filler = multiprocessing.get_context("spawn").Process(target=_fill, args=(path, cards, now))
        filler.start()
        await asyncio.to_thread(filler.join)
        print(f"sweep: filled {cards:,} cards in {time.perf_counter() - started:.1f} s")
        services = Services.build(db, Settings(_env_file=None, database_url=url), SystemClock())
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        report = await services.upkeep.sweep()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        again = await services.upkeep.sweep()
        second = time.perf_counter() - started
        await db.dispose()
    print(
        f"sweep of {cards:,} cards on SQLite: {elapsed:.2f} s ({report.cards_expired:,} expired, "
        f"{report.reminders_queued:,} reminders queued); peak Python heap {peak / 2**20:.1f} MiB, "
        f"process RSS grew {(rss_after - rss_before) / 1024:.0f} MiB; a second sweep: {second:.2f} s, "
        f"{again.cards_expired + again.reminders_queued} new rows"
    )


async def bench_dispatch(chats: int, limit: int) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/outbox.db"
        db = Database(url)
        await upgrade(db.engine)
        settings = Settings(
            _env_file=None, bot_token=emulator.token, telegram_api_url=emulator.url, database_url=url
        )
        services = Services.build(db, settings, SystemClock())
        # Each customer ends up with messages due: the purchase's card and reward, a survey, a stamp and a reward reminder.
        rules = ProgramRules(
            stamps_required=2,
            stamp_expiry_days=3,
            reward_valid_days=2,
            reminder_days="3",
            survey_delay_minutes=0,
            survey_every_days=14,
            daily_stamp_cap=0,
        )
        created = await services.merchants.create_merchant("Kopi Senja", 1, rules=rules)
        async with db.write() as uow:
            merchant = await uow.merchants.get(created.merchant_id)
            merchant.quiet_hours = "00:00-00:00"  # type: ignore[union-attr]
        token = await services.merchants.invite_staff(1)
        await services.customers.start(TelegramProfile(2, "Staff"), f"staff_{token}")
        emulator.users_started(*(5000 + number for number in range(chats)))  # they opened the bot
        for number in range(chats):
            joined = await services.customers.start(
                TelegramProfile(5000 + number, f"C{number}"), f"m_{created.slug}"
            )
            prompt = await services.counter.open_purchase(2, joined.joined.card.personal_code, "3")  # type: ignore[union-attr]
            await services.counter.confirm_purchase(2, prompt.token)
        await services.upkeep.sweep()
        async with db.read() as uow:
            queued = (await uow.outbox.counts()).get("pending", 0)

        emulator.enforce_limits(per_second=limit, per_chat_interval=1.0)
        rate = limit * 0.98  # a little headroom for network jitter between the two clocks
        batch = max(1, int(rate * 2))
        dispatcher = OutboxDispatcher(
            build_bot(settings),
            services,
            load_i18n(),
            Pacer(rate=rate, per_chat_interval=1.0),
            batch_size=batch,
            concurrency=8,
        )
        started = time.perf_counter()
        report = await dispatcher.drain()
        elapsed = time.perf_counter() - started
        await dispatcher.bot.session.close()
        await db.dispose()
    await emulator.stop()
    achieved = report.sent / elapsed
    print(
        f"dispatch: {report.sent}/{queued} messages to {chats} chats in {elapsed:.1f} s = {achieved:.1f} msg/s, "
        f"{achieved / limit:.3f} of the {limit} msg/s limit; 429s from the emulator: {emulator.rate_limited}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args()
    if args.cards:
        await bench_sweep(args.cards)
    await bench_dispatch(args.chats, args.limit)


if __name__ == "__main__":
    asyncio.run(main())
