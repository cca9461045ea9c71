"""A stop (SIGTERM to `kartu scheduler`, Ctrl-C to `kartu run`) lets a running job finish."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from kartu.scheduler.jobs import KartuScheduler


async def test_a_running_sweep_finishes_before_the_scheduler_stops() -> None:
    started, finished = asyncio.Event(), []

    async def sweep() -> None:
        started.set()
        await asyncio.sleep(0.3)  # mid-commit, say
        finished.append(True)

    scheduler = KartuScheduler()
    scheduler.add_job(sweep, 60, "sweep", next_run_time=None)
    scheduler.start()
    scheduler.scheduler.get_job("sweep").modify(next_run_time=datetime.now(UTC))
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.stop()
    assert finished == [True]
    assert not scheduler.scheduler.running


async def test_a_stuck_job_does_not_hold_the_stop_forever() -> None:
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(60)

    scheduler = KartuScheduler()
    scheduler.add_job(stuck, 60, "stuck")
    scheduler.start()
    scheduler.scheduler.get_job("stuck").modify(next_run_time=datetime.now(UTC))
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(scheduler.stop(timeout=0.2), 5)
    assert not scheduler.scheduler.running
