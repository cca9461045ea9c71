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
from kartu.loyalty.segments import Segment  # noqa: E402
from kartu.media.charts import WeeklyChart, render_weekly_visits  # noqa: E402
from kartu.media.exports import ExportWords, members_csv  # noqa: E402
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
        export = await services.reports.export(OWNER)
        csv_bytes = members_csv(export.members, export.timezone, ExportWords({}, {}))
        print(
            f"/export members CSV: {time.perf_counter() - started:.2f} s, {len(csv_bytes) / 2**20:.1f} MiB for {len(export.members):,} rows"
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
