"""What one Kartu process counts, for Prometheus (GET /metrics when KARTU_METRICS=on): updates by
type and outcome and how long handlers take, Bot API calls by method and outcome (429s apart), API
requests by route and status, scheduler job runs and lag; and, read from the database when
scraped, the outbox's backlog and oldest due message, webhook deliveries waiting and failed, and
the database pool in use. One registry per process (tests build their own)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlmodel import col

from kartu.storage.database import Database
from kartu.storage.models import OutboxMessage, WebhookDelivery
from kartu.storage.repositories.outbox import NEEDS_TEMPLATE

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        self.updates = Counter(
            "kartu_updates",
            "Telegram updates handled, by type and outcome",
            ["type", "outcome"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "kartu_handler_seconds", "Time to handle an update", ["type"], buckets=_FAST, registry=registry
        )
        self.telegram_calls = Counter(
            "kartu_telegram_calls", "Bot API calls, by method and outcome (ok, 429, error)", ["method", "outcome"],
            registry=registry,
        )  # fmt: skip
        self.api_requests = Counter(
            "kartu_api_requests", "Point-of-sale API requests, by route and status", ["route", "status"],
            registry=registry,
        )  # fmt: skip
        self.api_seconds = Histogram(
            "kartu_api_seconds", "Time to answer an API request", ["route"], buckets=_FAST, registry=registry
        )
        self.job_runs = Counter(
            "kartu_scheduler_job_runs",
            "Scheduler job runs, by job and outcome",
            ["job", "outcome"],
            registry=registry,
        )
        self.job_lag = Gauge(
            "kartu_scheduler_job_lag_seconds", "How late a job's last run started", ["job"], registry=registry
        )
        self.outbox_pending = Gauge(
            "kartu_outbox_pending", "Messages waiting in the outbox", registry=registry
        )
        self.outbox_oldest = Gauge(
            "kartu_outbox_oldest_due_seconds", "How long the oldest due message has waited", registry=registry
        )
        self.webhook_deliveries = Gauge(
            "kartu_webhook_deliveries",
            "Webhook deliveries, by state (pending, failed)",
            ["state"],
            registry=registry,
        )
        self.whatsapp = Counter(
            "kartu_whatsapp",
            "WhatsApp: events received (message, status, repeated, refused) and messages from the outbox "
            "(sent, waiting for a template, throttled, failed)",
            ["what"],
            registry=registry,
        )
        self.whatsapp_waiting = Gauge(
            "kartu_whatsapp_waiting_for_template",
            "Messages due on WhatsApp outside the customer's 24-hour window, waiting for them to write",
            registry=registry,
        )
        self.miniapp = Counter(
            "kartu_miniapp",
            "Mini Apps: pages served (scan, card), cards read, launch data refused, scans sent back",
            ["what"],
            registry=registry,
        )
        self.exports = Counter(
            "kartu_exports",
            "Owners' exports, by outcome (done, failed, interrupted) and by download link (link)",
            ["outcome"],
            registry=registry,
        )
        self.export_seconds = Histogram(
            "kartu_export_seconds", "Time to prepare and send an export", buckets=(1, 5, 15, 60, 180, 600),
            registry=registry,
        )  # fmt: skip
        self.db_pool_in_use = Gauge(
            "kartu_db_pool_in_use", "Database connections checked out of the pool", registry=registry
        )

    async def refresh(self, db: Database, now: datetime) -> None:
        """The gauges read from the database, as of a scrape."""
        async with db.read() as uow:
            pending, oldest = (
                await uow.session.execute(
                    select(func.count(), func.min(col(OutboxMessage.not_before))).where(
                        col(OutboxMessage.status) == "pending"
                    )
                )
            ).one()
            for state in ("pending", "failed"):
                self.webhook_deliveries.labels(state).set(
                    await uow.session.scalar(select(func.count()).where(col(WebhookDelivery.status) == state))
                    or 0
                )
            waiting = await uow.session.scalar(
                select(func.count()).where(col(OutboxMessage.status) == NEEDS_TEMPLATE)
            )
        self.whatsapp_waiting.set(waiting or 0)
        self.outbox_pending.set(pending)
        self.outbox_oldest.set(max((now - oldest).total_seconds(), 0) if oldest is not None else 0)
        pool = db.engine.pool
        self.db_pool_in_use.set(getattr(pool, "checkedout", lambda: 0)())

    def render(self) -> bytes:
        return generate_latest(self.registry)
