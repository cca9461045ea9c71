"""APScheduler wiring: the sweep every minute, the dispatcher every second.

Jobs coalesce (a missed run is run once, not many times) and never overlap. SQLite
deployments run one scheduler process (inside `kartu run` by default); on PostgreSQL any
number may run (`kartu scheduler`): the outbox claim skips rows another process holds and
reminder keys are unique, so nothing is sent twice. The send rate is per process.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from kartu.metrics import Metrics
from kartu.scheduler.dispatcher import OutboxDispatcher, report_broadcast_progress
from kartu.scheduler.pacing import Pacer
from kartu.services.webhooks import BATCH as WEBHOOK_BATCH
from kartu.storage.beats import BEAT_EVERY, beat

if TYPE_CHECKING:
    from kartu.bot.app import KartuApp

log = logging.getLogger(__name__)
WEBHOOK_INTERVAL_SECONDS = 2  # deliveries to shops' own systems go out this often
WEBHOOK_RUN_SECONDS = 10  # a run goes on while full batches come, this long at most
TALLY_BATCHES = 100  # a sweep counts at most 500,000 ledger rows (a first count of a big shop: minutes)
BACKUP_CHECK_SECONDS = 600  # whether today's backup is due (in the quiet hours, once a day)
PROGRESS_INTERVAL_SECONDS = 3  # owners see broadcast progress this often (edits are rate-limited too)


def build_dispatcher(app: KartuApp) -> OutboxDispatcher:
    settings = app.settings
    pacer = Pacer(rate=settings.send_rate, per_chat_interval=settings.per_chat_interval)
    batch = max(1, math.ceil(settings.send_rate * settings.dispatch_interval_seconds))
    dispatcher = OutboxDispatcher(app.bot, app.services, app.i18n, pacer, batch_size=batch)
    if app.whatsapp is not None:
        dispatcher.whatsapp = app.whatsapp.courier
    return dispatcher


GRACEFUL_STOP_SECONDS = 20.0  # a stop waits this long for a running sweep or send batch


class KartuScheduler:
    """APScheduler with a graceful stop: no new runs, then the running ones finish (bounded),
    so a restart never cuts a sweep mid-commit. (APScheduler's own shutdown cancels them.)"""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
        )
        self.running: set[asyncio.Task[None]] = set()
        self.metrics = metrics or Metrics()

    def add_job(self, job: Callable[[], Awaitable[None]], seconds: float, name: str, **options: Any) -> None:
        last_start: float | None = None

        async def tracked() -> None:
            nonlocal last_start
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)
            started = time.monotonic()
            lag = 0.0 if last_start is None else max(started - last_start - seconds, 0.0)
            last_start = started
            self.metrics.job_lag.labels(name).set(lag)
            try:
                await job()
            except Exception:
                self.metrics.job_runs.labels(name, "error").inc()
                raise
            else:
                self.metrics.job_runs.labels(name, "ok").inc()
            finally:
                self.running.discard(task)

        self.scheduler.add_job(tracked, "interval", seconds=seconds, id=name, **options)

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, timeout: float = GRACEFUL_STOP_SECONDS) -> None:
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        if self.running:
            done, pending = await asyncio.wait(set(self.running), timeout=timeout)
            if pending:
                log.warning("stopping with %d job(s) still running after %.0f s", len(pending), timeout)
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn


def build_scheduler(app: KartuApp) -> KartuScheduler:
    settings = app.settings
    dispatcher = build_dispatcher(app)

    async def sweep() -> None:
        report = await app.services.upkeep.sweep()
        if (
            report.cards_expired
            or report.rewards_expired
            or report.reminders_queued
            or report.point_batches_expired
        ):
            log.info("sweep: %s", report)
        # The shop's days counted up to now (services/tally.py): /stats then has little left to count.
        counted = await app.services.tally.catch_up(max_batches=TALLY_BATCHES)
        if counted:
            log.debug("tally: %s rows counted", counted)

    async def dispatch() -> None:
        report = await dispatcher.dispatch_once()
        if report.claimed:
            log.debug("dispatch: %s", report)

    async def webhooks() -> None:
        started = asyncio.get_running_loop().time()
        while True:  # a full batch: more are due (a burst of sales), for up to WEBHOOK_RUN_SECONDS
            report = await app.services.webhooks.dispatch()
            if report.failed_attempts or report.given_up:
                log.info("webhooks: %s", report)
            if (
                report.claimed < WEBHOOK_BATCH
                or asyncio.get_running_loop().time() - started > WEBHOOK_RUN_SECONDS
            ):
                return

    async def heartbeat() -> None:
        await beat(app.db, "scheduler", app.services.customers.clock.now())

    async def backup() -> None:
        await app.services.backups.daily()

    async def broadcast_progress() -> None:
        await report_broadcast_progress(app.bot, app.services, app.i18n)

    scheduler = KartuScheduler(app.services.health.metrics)
    scheduler.add_job(sweep, settings.sweep_interval_seconds, "sweep", next_run_time=datetime.now(UTC))
    scheduler.add_job(dispatch, settings.dispatch_interval_seconds, "dispatch")
    scheduler.add_job(webhooks, WEBHOOK_INTERVAL_SECONDS, "webhooks")
    scheduler.add_job(broadcast_progress, PROGRESS_INTERVAL_SECONDS, "broadcast_progress")
    scheduler.add_job(heartbeat, BEAT_EVERY, "heartbeat", next_run_time=datetime.now(UTC))
    if settings.backup_dir:  # once a day in the quiet hours; looked at every ten minutes
        scheduler.add_job(backup, BACKUP_CHECK_SECONDS, "backup")
    return scheduler
