"""Figures for the point-of-sale API (issue 14): purchases per second over real HTTP with 20 tills
at once, p50 and p95, next to staff confirmations in chat from the same run; then the webhook
deliveries those sales wrote, sent to a local receiver that checks every signature.

    .venv/bin/python bench/api.py [--purchases 2000] [--clients 20] [--postgres URL]

The API runs as `kartu api` in a process of its own (uvicorn, one worker), as an operator runs it;
each client is a till with its own key posting sales (an Idempotency-Key and external_id each) over
keep-alive connections. The shop has a webhook endpoint taking every event, so each sale also
writes its delivery row (nothing listens: the scheduler is not running). Chat confirmations are the
counter's open + confirm by 20 staff (bench/core_loop.py). PostgreSQL lines are skipped when no
server answers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from core_loop import DEFAULT_POSTGRES, _confirmations, _drop, _postgres_url  # noqa: E402
from sqlalchemy import text  # noqa: E402

from kartu.config import Settings  # noqa: E402
from kartu.loyalty.program import ProgramRules  # noqa: E402
from kartu.services.container import Services  # noqa: E402
from kartu.services.customers import TelegramProfile  # noqa: E402
from kartu.storage.database import Database  # noqa: E402
from kartu.storage.migrate import upgrade  # noqa: E402

CUSTOMERS = 100
OWNER = 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _api_purchases(url: str, purchases: int, clients: int) -> tuple[float, float, float]:
    """``purchases`` sales posted by ``clients`` tills at once; (per second, p50 ms, p95 ms)."""
    settings = Settings(_env_file=None, database_url=url, webhooks_allow_private=True)
    db = Database(url) if url.startswith("sqlite") else Database(url, pool_size=clients, max_overflow=5)
    await upgrade(db.engine)
    services = Services.build(db, settings)  # the real clock, as the API process has
    created = await services.merchants.create_merchant(
        "Bench API", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    await services.webhooks.add(OWNER, "http://127.0.0.1:9/kartu")  # every event, never delivered here
    codes = []
    for number in range(CUSTOMERS):
        joined = await services.customers.start(
            TelegramProfile(1000 + number, f"C{number}"), f"m_{created.slug}"
        )
        codes.append(joined.joined.card.personal_code)  # type: ignore[union-attr]
    keys = [(await services.api.create_key(OWNER, "earn", f"Till {number}"))[0] for number in range(clients)]
    await db.dispose()

    port = _free_port()
    env = {
        **os.environ,
        "KARTU_DATABASE_URL": url,
        "KARTU_API_RATE": "100000",  # the bench measures throughput, not the per-key limit
        "KARTU_API_BURST": "100000",
        "KARTU_LOG_LEVEL": "WARNING",
        "KARTU_DATABASE_POOL_SIZE": str(clients),  # as the chat figures' pool: one per writer
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from kartu.bot.cli import main; main()",
        "api",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as probe:
            for _ in range(300):
                try:
                    async with probe.get(f"{base}/openapi.json") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(purchases):
            queue.put_nowait(index)
        latencies: list[float] = []
        failures: list[str] = []

        async def till(key: str) -> None:
            # aiohttp, one keep-alive connection per till (httpx spends more time than the server here)
            connector = aiohttp.TCPConnector(limit=1)
            async with aiohttp.ClientSession(connector=connector) as client:
                while not queue.empty():
                    index = queue.get_nowait()
                    sale = {"customer": {"code": codes[index % CUSTOMERS]}, "external_id": f"S-{index}"}
                    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"sale-{index}"}
                    started = time.perf_counter()
                    async with client.post(f"{base}/v1/purchases", json=sale, headers=headers) as answer:
                        text_ = await answer.text()
                    latencies.append(time.perf_counter() - started)
                    if answer.status != 201:
                        failures.append(text_)

        started = time.perf_counter()
        await asyncio.gather(*(till(key) for key in keys))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        await server.wait()
    assert not failures, failures[:3]
    db = Database(url)
    async with db.read() as uow:
        credited = await uow.session.scalar(
            text("SELECT count(*) FROM ledger_entry WHERE reason = 'purchase'")
        )
        hooks = await uow.session.scalar(
            text("SELECT count(*) FROM webhook_delivery WHERE event_type = 'purchase.credited'")
        )
    await db.dispose()
    assert credited == purchases and hooks == purchases, (credited, hooks)
    quantiles = statistics.quantiles(latencies, n=20)
    LAST_RUN[url] = (db, settings)
    return purchases / elapsed, statistics.median(latencies) * 1000, quantiles[18] * 1000


LAST_RUN: dict[str, tuple[Database, Settings]] = {}


async def _webhooks(url: str) -> str:
    """The sales' deliveries (and the joins'), sent to a local receiver that checks each signature
    (100 customers, so at most 100 at a time: a customer's events go in order)."""
    from aiohttp import web
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    db, settings = LAST_RUN.pop(url)
    db = Database(url)
    services = Services.build(db, settings)  # the real clock, as the API's sales were written on
    received: list[bool] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:  # as an integrator checks: the Standard Webhooks library
            Webhook(secret).verify(body, {name.lower(): value for name, value in request.headers.items()})
            received.append(True)
        except WebhookVerificationError:
            received.append(False)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/kartu", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with db.write() as uow:
        secret = await uow.session.scalar(text("SELECT secret FROM webhook_endpoint"))
        await uow.session.execute(
            text("UPDATE webhook_endpoint SET url = :u"), {"u": f"http://127.0.0.1:{port}/kartu"}
        )
        due = await uow.session.scalar(text("SELECT count(*) FROM webhook_delivery"))
    started = time.perf_counter()
    runs = 0
    while True:
        report = await services.webhooks.dispatch()
        runs += 1
        if not report.claimed:
            break
    elapsed = time.perf_counter() - started
    await services.webhooks.close()
    await runner.cleanup()
    await db.dispose()
    assert len(received) == due and all(received), (len(received), due)
    return f"webhooks: {due:,} deliveries signed, sent and checked in {elapsed:.1f} s ({due / elapsed:,.0f}/s, {runs - 1} dispatch runs)"


def _line(name: str, clients: int, api: tuple[float, float, float], chat: tuple[float, float, float]) -> str:
    return (
        f"{name:<11} {clients} at once: API purchases {api[0]:6.0f}/s p50 {api[1]:5.1f} ms p95 {api[2]:5.1f} ms"
        f" | chat confirmations {chat[0]:6.0f}/s p50 {chat[1]:5.1f} ms p95 {chat[2]:5.1f} ms"
    )


async def _chat(url: str, purchases: int, clients: int) -> tuple[float, float, float]:
    rate, p95, shop = await _confirmations(url, purchases, clients)
    return rate, shop.p50_ms, p95


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        api_url = f"sqlite+aiosqlite:///{directory}/a.db"
        api = await _api_purchases(api_url, args.purchases, args.clients)
        chat = await _chat(f"sqlite+aiosqlite:///{directory}/c.db", args.purchases, args.clients)
        print(_line("sqlite", args.clients, api, chat), f"({args.purchases} purchases each)")
        print("sqlite      " + await _webhooks(api_url))
    figures = []
    for run in (_api_purchases, _chat):
        created = await _postgres_url(args.postgres)
        if created is None:
            print(f"postgresql  skipped (no server at {args.postgres})")
            return
        url, name = created
        try:
            figures.append(await run(url, args.purchases, args.clients))
            if run is _api_purchases:
                hooks = await _webhooks(url)
        finally:
            await _drop(args.postgres, name)
    print(_line("postgresql", args.clients, figures[0], figures[1]), f"({args.purchases} purchases each)")
    print("postgresql  " + hooks)


if __name__ == "__main__":
    asyncio.run(main())
