"""Health and metrics as an operator's monitor reads them, over real HTTP: /healthz while the
process lives; /readyz 503 until a scheduler beats, and again when the outbox falls behind, each
check saying what it saw; /metrics only with KARTU_METRICS=on, counting API requests by route and
status, Telegram updates by type and outcome, Bot API calls by method, and the outbox's backlog."""

from __future__ import annotations

import socket

import httpx
from aiohttp import web

from kartu.bot.health import serve_health
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.delivery import Category, Kind
from kartu.services.container import Services
from kartu.storage.beats import beat
from kartu.storage.database import Database


async def test_readyz_waits_for_a_scheduler_and_notices_an_outbox_falling_behind(
    services: Services, db: Database, clock: FrozenClock, api_url: str
) -> None:
    async with httpx.AsyncClient(base_url=api_url) as client:
        assert (await client.get("/healthz")).json() == {"alive": True}
        waiting = await client.get("/readyz")
        assert waiting.status_code == 503
        checks = waiting.json()["checks"]
        assert checks["database"]["ok"] and checks["migrations"]["detail"] == "current"
        assert not checks["scheduler"]["ok"] and checks["scheduler"]["detail"] == "no scheduler has beaten"
        await beat(db, "scheduler", clock.now())
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        # A message due for longer than the set age (10 minutes): not ready, and it says why.
        async with db.write() as uow:
            await uow.outbox.enqueue(
                key="late", kind=Kind.SURVEY, category=Category.SERVICE, chat_id=1, person_id=None,
                merchant_id=None, subject_id=None, now=clock.now(), not_before=clock.now(),
            )  # fmt: skip
        clock.advance(minutes=11)
        await beat(db, "scheduler", clock.now())
        behind = await client.get("/readyz")
        assert behind.status_code == 503 and "waits 660 s" in behind.json()["checks"]["outbox"]["detail"]
        clock.advance(minutes=3)  # and a scheduler silent for three minutes
        assert not (await client.get("/readyz")).json()["checks"]["scheduler"]["ok"]


async def test_metrics_only_when_on_and_they_count_what_happened(services: Services, api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url) as client:
        assert (await client.get("/metrics")).status_code == 404  # off unless KARTU_METRICS=on
        services.health.settings.metrics = True
        await client.get("/v1/customers/K7Q2-9XHM")  # no key: 401
        await client.get("/nowhere")
        scraped = await client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert 'kartu_api_requests_total{route="/v1/customers/{code}",status="401"} 1.0' in text
    assert 'kartu_api_requests_total{route="unmatched",status="404"} 1.0' in text
    assert "kartu_outbox_pending 0.0" in text and 'kartu_webhook_deliveries{state="failed"} 0.0' in text


async def test_a_process_without_a_server_of_its_own_serves_health_on_its_port(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = services.health.settings.model_copy(update={"health_port": port, "metrics": True})
    runner = await serve_health(services, settings)
    assert isinstance(runner, web.AppRunner)
    try:
        await beat(db, "scheduler", clock.now())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/readyz")).status_code == 200
            assert "kartu_outbox_pending" in (await client.get("/metrics")).text
    finally:
        await runner.cleanup()
    assert await serve_health(services, settings.model_copy(update={"health_port": 0})) is None
