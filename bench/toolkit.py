"""Figures for the merchant toolkit on a big shop: segment counts, queueing a broadcast,
/stats, /export and the chart.

    .venv/bin/python bench/toolkit.py [--cards 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox import _fill  # noqa: E402  (the same million-card shop as bench/outbox.py)

from kartu.config import Settings  # noqa: E402
from kartu.loyalty.clock import SystemClock  # noqa: E402
from kartu.loyalty.exports import PART_LIMIT, ExportPeriod  # noqa: E402
from kartu.loyalty.segments import Segment  # noqa: E402
from kartu.media.charts import WeeklyChart, render_weekly_visits  # noqa: E402
from kartu.media.exports import ExportFiles, ExportWords  # noqa: E402
from kartu.services.container import Services  # noqa: E402
from kartu.storage.database import Database  # noqa: E402
from kartu.storage.migrate import upgrade  # noqa: E402

OWNER = 10_000_000  # the first filled person: make them the owner


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "toolkit.db"
        url = f"sqlite+aiosqlite:///{path}"
        db = Database(url)
        await upgrade(db.engine)
        filler = multiprocessing.get_context("spawn").Process(
            target=_fill, args=(path, args.cards, datetime.now(UTC))
        )
        filler.start()
        await asyncio.to_thread(filler.join)
        services = Services.build(db, Settings(_env_file=None, database_url=url), SystemClock())
        async with db.write() as uow:
            owner = await uow.people.by_telegram_id(OWNER)
            await uow.staff.add_or_restore(1, owner.id, "owner", datetime.now(UTC))  # type: ignore[union-attr]

        started = time.perf_counter()
        audience = await services.broadcasts.audience(OWNER)
        counted = time.perf_counter() - started
        print(
            f"segment counts for {args.cards:,} members: {counted:.2f} s  "
            + ", ".join(f"{s}={audience[s]:,}" for s in Segment)
        )

        started = time.perf_counter()
        broadcast = await services.broadcasts.start(OWNER, "Promo", None, "all")
        print(
            f"broadcast to everyone: {broadcast.total:,} outbox rows queued in {time.perf_counter() - started:.2f} s"
        )

        started = time.perf_counter()
        stats = await services.reports.stats(OWNER)
        print(f"/stats numbers: {time.perf_counter() - started:.2f} s ({stats.members:,} members)")

        started = time.perf_counter()
        job = await services.exports.start(OWNER, await services.exports.ask(OWNER), ExportPeriod.ALL)
        with tempfile.TemporaryDirectory() as folder:
            files = ExportFiles(Path(folder), job.slug, job.timezone, ExportWords({}, {}), PART_LIMIT)
            counts = await services.exports.write(job, files)
            size = sum(file.path.stat().st_size for file in files.close())
        await services.exports.finish(job, counts, 2)
        print(
            f"/export files: {time.perf_counter() - started:.2f} s, {size / 2**20:.1f} MiB for "
            f"{counts.members:,} members and {counts.entries:,} ledger entries"
        )
        await db.dispose()

    chart = WeeklyChart(
        "Visits",
        tuple(str(n) for n in range(12)),
        tuple(range(12)),
        tuple(range(12, 0, -1)),
        "new",
        "returning",
        "visits",
    )
    render_weekly_visits(chart)  # warm up fonts
    started = time.perf_counter()
    png = render_weekly_visits(chart)
    print(f"chart render: {(time.perf_counter() - started) * 1000:.0f} ms, {len(png) / 1024:.0f} KiB PNG")


if __name__ == "__main__":
    asyncio.run(main())
