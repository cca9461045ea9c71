"""Owner features at size: a shop of N customers with a year of history, written straight into a
migrated database, and each owner operation run against it as the bot runs it.

    .venv/bin/python bench/scale.py [--sizes 10000,100000] [--databases sqlite,postgres] [--ops ...]

The history (seeded, so every run builds the same shop): customers join over the year; two in
five come once, the rest come back, a few every week; each visit is a stamp and points on its
amount (the shop runs both), a full card issues a reward, most rewards are used, some lapse;
every third visit asks for a rating and two in three answer, the low ones with a reason; one
customer in ten holds a level. About 20 ledger rows a customer (10k: 0.2M rows; 1M: 20M).

Per size and database, one line per operation: seconds, the growth of the process's peak RSS
over what it had before the operation, and the event loop's longest stall while it ran (a task
that sleeps 5 ms notes how late it wakes). Each operation runs in a process of its own:

- stats: /stats's text and its 12-week chart;
- segments: /broadcast's member count of every segment;
- feedback: /feedback's average rating and latest comments;
- export: /export's files, written as the bot sends them;
- sweep: the scheduler's expiry and reminder sweep (after a first one: a shop just written was
  never swept);
- confirm: 50 staff confirmations (code, then Confirm) for customers across the shop, p50 and p95:
  what must stay at its small-shop latency;
- tally (asked for with --ops): counting the whole history into the days once (`kartu db
  retally`, or the first sweep after the upgrade that brings the tally).

PostgreSQL runs when a server answers (KARTU_TEST_POSTGRES_URL, else 127.0.0.1:5432), in a
database of its own, dropped at the end; tests/test_scale.py runs the 10k shop on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OWNER = 1  # the owner's Telegram id
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
OPS = (
    "stats",
    "segments",
    "feedback",
    "export",
    "sweep",
    "confirm",
)  # and "tally": counting a year of history once
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
CHUNK = 50_000
ORDER = ("person", "card", "reward", "ledger_entry", "survey")  # as the foreign keys need them


def _code(number: int) -> str:
    """A personal code as Kartu makes them (8 characters of its alphabet), one per number."""
    from kartu.loyalty.codes import ALPHABET

    digits = []
    for _ in range(7):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "B" + "".join(reversed(digits))


# -- the shop's year --------------------------------------------------------------------------------
def history(customers: int, now: datetime, seed: int = 26) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Rows to write, table by table in chunks: ("person", rows), ("card", rows), ... Ids are given
    (persons 10+, rewards 1+, ledger 1+), so the chunks can be written as they come."""
    rng = random.Random(seed)
    year = timedelta(days=365)
    ledger_id = reward_id = survey_id = 0
    pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in ORDER}
    people, cards, ledger = pending["person"], pending["card"], pending["ledger_entry"]
    rewards, surveys = pending["reward"], pending["survey"]

    def flush(final: bool = False) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        """Every table's rows at once, in an order the foreign keys accept, when one is full."""
        if final or max(len(rows) for rows in pending.values()) >= CHUNK:
            for name in ORDER:
                if pending[name]:
                    yield name, list(pending[name])
                    pending[name].clear()

    for number in range(customers):
        person_id = 10 + number
        joined = now - year * rng.random() ** 0.8
        people.append((person_id, 100_000_000 + number, f"C{number}", _code(number), joined))
        kind = rng.random()
        visits = 1 if kind < 0.4 else rng.randint(2, 6) if kind < 0.8 else rng.randint(7, 40)
        span = (now - joined).total_seconds()
        moments = sorted(joined + timedelta(seconds=rng.random() * span) for _ in range(visits))
        stamps = points = 0
        for visit, at in enumerate(moments):
            source = f"bench-{person_id}-{visit}"
            amount = rng.choice((18_000, 25_000, 32_000, 45_000, 60_000, 125_000))
            ledger_id += 1
            ledger.append(
                (ledger_id, person_id, "stamp", 1, "purchase", f"purchase:{source}", None, None, source, at)
            )
            ledger_id += 1
            earned = amount // 10_000
            ledger.append(
                (
                    ledger_id,
                    person_id,
                    "point",
                    earned,
                    "purchase",
                    f"points:{source}",
                    None,
                    amount,
                    source,
                    at,
                )
            )
            points += earned
            stamps += 1
            if stamps == 10:
                stamps = 0
                reward_id += 1
                expires = at + timedelta(days=30)
                fate = rng.random()
                redeemed = at + timedelta(days=rng.uniform(0, 20)) if fate < 0.7 else None
                expired = expires if fate >= 0.9 and expires < now else None
                redeemed = redeemed if redeemed is None or redeemed < now else None
                rewards.append(
                    (reward_id, person_id, f"R{reward_id:010d}", "Free drink", at, expires, redeemed, expired)
                )
                ledger_id += 1
                ledger.append(
                    (
                        ledger_id,
                        person_id,
                        "stamp",
                        -10,
                        "reward_issued",
                        f"full:{source}",
                        reward_id,
                        None,
                        source,
                        at,
                    )
                )
                ledger_id += 1
                ledger.append(
                    (
                        ledger_id,
                        person_id,
                        "reward",
                        1,
                        "reward_issued",
                        f"reward:{source}",
                        reward_id,
                        None,
                        source,
                        at,
                    )
                )
                if redeemed is not None:
                    ledger_id += 1
                    ledger.append(
                        (
                            ledger_id,
                            person_id,
                            "reward",
                            -1,
                            "reward_redeemed",
                            f"redeem:{reward_id}",
                            reward_id,
                            None,
                            None,
                            redeemed,
                        )
                    )
                elif expired is not None:
                    ledger_id += 1
                    ledger.append(
                        (
                            ledger_id,
                            person_id,
                            "reward",
                            -1,
                            "expired",
                            f"expired:{reward_id}",
                            reward_id,
                            None,
                            None,
                            expired,
                        )
                    )
            if rng.random() < 1 / 3:
                survey_id += 1
                answered = rng.random() < 2 / 3
                rating = rng.choice((1, 2, 3, 4, 4, 5, 5, 5, 5, 5)) if answered else None
                reason = (
                    rng.choice(("wait", "taste", "staff", "price"))
                    if rating is not None and rating <= 2
                    else None
                )
                rated = at + timedelta(hours=2) if answered else None
                said = reason is not None and survey_id % 3 == 0  # a third of the unhappy say more
                comment = "Antrinya lama sekali" if said else None
                commented = rated + timedelta(minutes=5) if said and rated is not None else None
                surveys.append((survey_id, person_id, at, rating, rated, reason, comment, commented))
        level = 1 if rng.random() < 0.07 else 2 if rng.random() < 0.03 else None
        cards.append((person_id, stamps, points, joined, moments[-1], level))
        yield from flush()
    yield from flush(final=True)


SHOP_SQL = (
    "INSERT INTO merchant (id, slug, name, timezone, quiet_hours, created_at) "
    "VALUES (1, 'besar', 'Kopi Besar', 'Asia/Jakarta', '21:00-08:00', {now})",
    "INSERT INTO program (merchant_id, stamps_required, reward_name, stamps_per_purchase, daily_stamp_cap, "
    "stamp_expiry_days, reward_valid_days, reminder_days, survey_delay_minutes, survey_every_days, updated_at, "
    "stamps_enabled, points_enabled) VALUES (1, 10, 'Free drink', 1, 5, 180, 30, '7,1', 120, 14, {now}, {true}, {true})",
    "INSERT INTO person (id, telegram_id, first_name, personal_code, created_at) "
    "VALUES (1, 1, 'Sari', 'OWNER0001', {now})",
    "INSERT INTO staff_member (merchant_id, person_id, role, added_at) VALUES (1, 1, 'owner', {now})",
    "INSERT INTO tier (id, merchant_id, name, threshold, multiplier_permille, perks, created_at) "
    "VALUES (1, 1, 'Silver', 10, 1000, '', {now}), (2, 1, 'Gold', 30, 1500, '', {now})",
)
COLUMNS = {
    "person": ("id", "telegram_id", "first_name", "personal_code", "created_at"),
    "card": ("person_id", "stamps", "points", "joined_at", "last_purchase_at", "tier_id"),
    "reward": ("id", "person_id", "code", "name", "issued_at", "expires_at", "redeemed_at", "expired_at"),
    "ledger_entry": (
        "id",
        "person_id",
        "asset",
        "delta",
        "reason",
        "idempotency_key",
        "reward_id",
        "amount",
        "origin",
        "created_at",
    ),  # fmt: skip
    "survey": ("id", "person_id", "created_at", "rating", "rated_at", "reason", "comment", "commented_at"),
}


def _sqlite_value(value: Any) -> Any:
    return value.astimezone(UTC).strftime(SQLITE_TIME) if isinstance(value, datetime) else value


def build_sqlite(path: Path, customers: int, now: datetime) -> int:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    stamp = repr(now.strftime(SQLITE_TIME))
    for sql in SHOP_SQL:
        connection.execute(sql.format(now=stamp, true=1))
    written = 0
    for table, rows in history(customers, now):
        columns = COLUMNS[table]
        merchant = table != "person"
        names = ", ".join((("merchant_id",) if merchant else ()) + columns)
        marks = ", ".join(["?"] * (len(columns) + merchant))
        connection.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",
            [((1,) if merchant else ()) + tuple(_sqlite_value(v) for v in row) for row in rows],
        )
        written += len(rows)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    return written


async def build_postgres(url: str, customers: int, now: datetime) -> int:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for sql in SHOP_SQL:
            await connection.execute(sql.format(now="$1", true="true"), now)
        written = 0
        for table, rows in history(customers, now):
            columns = COLUMNS[table]
            merchant = table != "person"
            await connection.copy_records_to_table(
                table,
                records=[((1,) if merchant else ()) + row for row in rows],
                columns=(("merchant_id",) if merchant else ()) + columns,
            )
            written += len(rows)
        for table in ("person", "reward", "ledger_entry", "survey", "tier", "card"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE")
        return written
    finally:
        await connection.close()


# -- one operation, in a process of its own ----------------------------------------------------------------
async def run_op(op: str, url: str) -> dict[str, float]:
    from kartu.bot.i18n import load_i18n
    from kartu.config import Settings
    from kartu.services.container import Services
    from kartu.storage.database import Database

    db = Database(url)
    settings = Settings(_env_file=None, database_url=url, bot_token="1:X")
    services = Services.build(db, settings)
    i18n = load_i18n()
    longest = 0.0
    running = True

    async def ticker() -> None:
        nonlocal longest
        while running:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            longest = max(longest, time.perf_counter() - started - 0.005)

    await services.merchants.join_info(OWNER)  # connections open, caches warm: not the operation's
    if op in PREPARED:  # the state a running shop is in (its scheduler swept, its days counted)
        with i18n.context(), i18n.use_locale("en"):
            await PREPARED[op](services)
    gc.collect()  # as a bot settles after start-up (bot/app.py): its start-up objects frozen out of
    gc.freeze()  # the collector's full passes, which would otherwise walk them mid-operation
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    started = time.perf_counter()
    with i18n.context(), i18n.use_locale("en"):
        await OPERATIONS[op](services)
    seconds = time.perf_counter() - started
    running = False
    await tick
    await db.dispose()
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    return {"seconds": seconds, "rss_mb": rss, "stall_ms": longest * 1000}


async def op_stats(services: Any) -> None:
    from kartu.media.charts import render_weekly_visits
    from kartu.presenters.owner import stats_text, weekly_chart

    stats = await services.reports.stats(OWNER)
    stats_text(stats)
    await asyncio.to_thread(render_weekly_visits, weekly_chart(stats, "en"))


async def op_feedback(services: Any) -> None:
    await services.feedback.report(OWNER)


async def op_segments(services: Any) -> None:
    await services.broadcasts.audience(OWNER)


async def op_export(services: Any) -> None:
    """A year's export as the bot writes it (into files under Telegram's 50 MB), not its sending."""
    from kartu.loyalty.exports import PART_LIMIT, ExportPeriod
    from kartu.media.exports import ExportFiles
    from kartu.presenters.owner import export_words

    job = await services.exports.start(OWNER, await services.exports.ask(OWNER), ExportPeriod.YEAR)
    with tempfile.TemporaryDirectory(prefix="kartu-export-") as folder:
        files = ExportFiles(Path(folder), job.slug, job.timezone, export_words(), PART_LIMIT)
        counts = await services.exports.write(job, files)
        written = await asyncio.to_thread(files.close)
        sizes = ", ".join(f"{file.name} {file.path.stat().st_size / 2**20:.1f} MiB" for file in written)
    await services.exports.finish(job, counts, len(written))
    print(
        f"  export: {counts.members:,} members, {counts.entries:,} entries in {len(written)} files: {sizes}",
        file=sys.stderr,
    )


async def op_confirm(services: Any) -> None:
    """A staff confirmation at the counter (code, then Confirm), 50 times for customers picked
    across the shop: what the owner's features must not slow down."""
    from sqlalchemy import text

    from kartu.loyalty.errors import LoyaltyError

    async with services.counter.db.read() as uow:
        last = int(await uow.session.scalar(text("SELECT max(id) FROM person")) or 10)
        ids = random.Random(7).sample(range(10, last + 1), min(50, last - 9))
        codes = list(
            await uow.session.scalars(
                text("SELECT personal_code FROM person WHERE id IN (" + ",".join(map(str, ids)) + ")")
            )
        )
    took, refused = [], 0
    for code in codes:
        started = time.perf_counter()
        try:
            prompt = await services.counter.open_sale(OWNER, code, "45000")  # the shop runs points
            await services.counter.confirm_sale(OWNER, prompt.token)
        except LoyaltyError:  # a customer at the day's cap: still a round trip, not counted
            refused += 1
            continue
        took.append(time.perf_counter() - started)
    took.sort()
    print(
        f"  confirm: {len(took)} confirmations, p50 {took[len(took) // 2] * 1000:.0f} ms, "
        f"p95 {took[int(len(took) * 0.95)] * 1000:.0f} ms ({refused} refused)",
        file=sys.stderr,
    )


async def op_sweep(services: Any) -> None:
    await services.upkeep.sweep()


async def op_tally(services: Any) -> None:
    await services.tally.retally()


async def counted(services: Any) -> None:
    """The days counted, as the scheduler's sweep keeps them (a Kartu without the tally: nothing),
    and the chart's library loaded, as in a bot that drew one before."""
    from kartu.media.charts import render_weekly_visits
    from kartu.presenters.owner import weekly_chart

    if hasattr(services, "tally"):
        await services.tally.catch_up()
    stats = await services.reports.stats(OWNER)
    await asyncio.to_thread(render_weekly_visits, weekly_chart(stats, "en"))


OPERATIONS = {
    "stats": op_stats,
    "segments": op_segments,
    "feedback": op_feedback,
    "export": op_export,
    "sweep": op_sweep,
    "confirm": op_confirm,
    "tally": op_tally,
}
# Run before the timing: a shop just written has never been swept nor counted.
PREPARED = {"stats": counted, "feedback": counted, "export": counted, "sweep": op_sweep}


def measure(op: str, url: str, timeout: float) -> dict[str, float] | None:
    done = subprocess.run(
        [sys.executable, __file__, "--op", op, "--url", url],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        print(f"  {op}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    for line in done.stderr.splitlines():  # what the operation made (an export's files)
        if line.startswith(f"  {op}:"):
            print(line, file=sys.stderr, flush=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the table -------------------------------------------------------------------------------------------------
async def postgres_url(base: str) -> str | None:
    import asyncpg

    try:
        connection = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql"), timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    name = f"kartu_scale_{os.getpid()}"
    await connection.execute(f"DROP DATABASE IF EXISTS {name}")
    await connection.execute(f"CREATE DATABASE {name}")
    await connection.close()
    return base.rsplit("/", 1)[0] + "/" + name


async def drop_postgres(url: str, base: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql"))
    await connection.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    await connection.close()


async def shop(database: str, customers: int, folder: Path) -> tuple[str, str | None, int, float]:
    """Build the shop; (url, url to drop at the end or None, rows written, seconds)."""
    from kartu.storage.database import Database
    from kartu.storage.migrate import upgrade

    now = datetime.now(UTC)
    started = time.perf_counter()
    if database == "sqlite":
        path = folder / f"scale-{customers}.db"
        url = f"sqlite+aiosqlite:///{path}"
        drop = None
    else:
        base = os.environ.get("KARTU_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
        made = await postgres_url(base)
        if made is None:
            raise LookupError("no PostgreSQL server answers")
        url, drop = made, base
    db = Database(url)
    await upgrade(db.engine)
    await db.dispose()
    if database == "sqlite":
        written = await asyncio.to_thread(build_sqlite, folder / f"scale-{customers}.db", customers, now)
    else:
        written = await build_postgres(url, customers, now)
    return url, drop, written, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.op:
        print(json.dumps(asyncio.run(run_op(arguments.op, arguments.url))), flush=True)
        return
    print("| customers | database | rows | operation | seconds | peak RSS growth | longest loop stall |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="kartu-scale-") as folder:
        for customers in (int(size) for size in arguments.sizes.split(",")):
            for database in arguments.databases.split(","):
                try:
                    url, drop, written, built = asyncio.run(shop(database, customers, Path(folder)))
                except LookupError as error:
                    print(f"| {customers:,} | {database} | skipped: {error} | | | | |", flush=True)
                    continue
                print(f"| {customers:,} | {database} | {written:,} | build | {built:.1f} | | |", flush=True)
                try:
                    for op in arguments.ops.split(","):
                        figures = measure(op, url, arguments.timeout)
                        if figures is None:
                            print(f"| {customers:,} | {database} | | {op} | failed | | |", flush=True)
                            continue
                        print(
                            f"| {customers:,} | {database} | | {op} | {figures['seconds']:.2f} | "
                            f"{figures['rss_mb']:.0f} MB | {figures['stall_ms']:.0f} ms |",
                            flush=True,
                        )
                finally:
                    if drop is not None:
                        asyncio.run(drop_postgres(url, drop))
                    elif url.startswith("sqlite"):
                        Path(url.split("///", 1)[1]).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
