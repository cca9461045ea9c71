"""APScheduler wiring: the sweep every minute, the dispatcher every second.

Jobs coalesce (a missed run is run once, not many times) and never overlap. SQLite
deployments run one scheduler process (inside `kartu run` by default); on PostgreSQL any
number may run (`kartu scheduler`): the outbox claim skips rows another process holds and
reminder keys are unique, so nothing is sent twice. The send rate is per process.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from kartu.scheduler.dispatcher import OutboxDispatcher, report_broadcast_progress
from kartu.scheduler.pacing import Pacer

if TYPE_CHECKING:
    from kartu.bot.app import KartuApp

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_SECONDS = 3  # owners see broadcast progress this often (edits are rate-limited too)


def build_dispatcher(app: KartuApp) -> OutboxDispatcher:
    settings = app.settings
    pacer = Pacer(rate=settings.send_rate, per_chat_interval=settings.per_chat_interval)
    batch = max(1, math.ceil(settings.send_rate * settings.dispatch_interval_seconds))
    return OutboxDispatcher(app.bot, app.services, app.i18n, pacer, batch_size=batch)


def build_scheduler(app: KartuApp) -> AsyncIOScheduler:
    settings = app.settings
    dispatcher = build_dispatcher(app)

    async def sweep() -> None:
        report = await app.services.upkeep.sweep()
        if report.cards_expired or report.rewards_expired or report.reminders_queued:
            log.info("sweep: %s", report)

    async def dispatch() -> None:
        report = await dispatcher.dispatch_once()
        if report.claimed:
            log.debug("dispatch: %s", report)

    scheduler = AsyncIOScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    )
    scheduler.add_job(sweep, "interval", seconds=settings.sweep_interval_seconds, id="sweep", next_run_time=datetime.now(UTC))
    async def broadcast_progress() -> None:
        await report_broadcast_progress(app.bot, app.services, app.i18n)

    scheduler.add_job(dispatch, "interval", seconds=settings.dispatch_interval_seconds, id="dispatch")
    scheduler.add_job(broadcast_progress, "interval", seconds=PROGRESS_INTERVAL_SECONDS, id="broadcast_progress")
    return scheduler
