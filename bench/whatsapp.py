"""Figures for issue 27: WhatsApp customers through the real receiver, conversation and sender,
against the strict WhatsApp emulator (Meta's 80 messages a second per number, 45 then one every
6 s per person), on SQLite and PostgreSQL.

    .venv/bin/python bench/whatsapp.py [--customers 200] [--messages 5] [--postgres URL]

(1) joining: each customer sends GABUNG <shop code> and taps "Yes" (consent question, welcome, card
    picture, menu): seconds per customer, end to end.
(2) a burst: every customer sends MENU ``--messages`` times at once: posts acknowledged a second
    (journaled before the 200), answers a second (as a share of Meta's 80/s for the number), and
    the time from a post to its answer (p50, p95).
(3) Meta posting the whole burst again: answered 200, handled 0 times more.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from core_loop import DEFAULT_POSTGRES, _drop, _postgres_url  # noqa: E402

from kartu.bot.app import build_app  # noqa: E402
from kartu.config import Settings  # noqa: E402
from kartu.loyalty.messaging import NUMBER_RATE  # noqa: E402
from kartu.sandbox import BotAPIEmulator  # noqa: E402
from kartu.sandbox.serving import free_port  # noqa: E402
from kartu.sandbox.whatsapp import WaUser, WhatsAppEmulator  # noqa: E402
from kartu.storage.migrate import upgrade  # noqa: E402


async def _run(url: str, customers: int, messages: int) -> str:
    telegram, meta = BotAPIEmulator(), WhatsAppEmulator()
    await telegram.start()
    await meta.start()
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=telegram.token,
        telegram_api_url=telegram.url,
        database_url=url,
        scheduler="off",
        log_level="WARNING",
        whatsapp_port=port,
        **meta.settings(),  # type: ignore[arg-type]
    )
    app = build_app(settings)
    assert app.whatsapp is not None
    await upgrade(app.db.engine)
    web_app = web.Application(client_max_size=4 * 1024 * 1024)
    app.whatsapp.register(web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    meta.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
    try:
        await app.services.merchants.create_merchant("Bench Kopi", 100)
        people = [meta.user(f"C{number}") for number in range(customers)]

        async def answers(user: WaUser, count: int) -> None:
            await meta.wait_for(lambda: len(meta.messages_to(user)) >= count, 120)

        async def join(user: WaUser) -> None:
            await meta.write(user, "GABUNG bench-kopi")
            await answers(user, 1)
            question = meta.messages_to(user)[0]
            await meta.tap(user, question, question.buttons()[0])
            await answers(user, 4)

        started = time.perf_counter()
        await asyncio.gather(*(join(user) for user in people))
        joining = time.perf_counter() - started

        before = {user.bsuid: len(meta.messages_to(user)) for user in people}
        posted: dict[str, list[float]] = {user.bsuid: [] for user in people}
        payloads = []

        async def burst(user: WaUser) -> None:
            for _ in range(messages):
                payload = meta.inbound(user, "text", {"body": "MENU"})
                user.last_inbound = meta.now()
                payloads.append(payload)
                posted[user.bsuid].append(time.time())
                assert await meta.post(payload) == 200

        started = time.perf_counter()
        await asyncio.gather(*(burst(user) for user in people))
        acknowledged = time.perf_counter() - started
        await asyncio.gather(*(answers(user, before[user.bsuid] + messages) for user in people))
        answered = time.perf_counter() - started
        latencies = [
            sent.at - posted[user.bsuid][index]
            for user in people
            for index, sent in enumerate(meta.messages_to(user)[before[user.bsuid] :])
        ]
        total = customers * messages

        sent_before = len(meta.sent)
        started = time.perf_counter()
        for payload in payloads:
            assert await meta.post(payload) == 200
        again = time.perf_counter() - started
        await asyncio.sleep(1.0)
        extra = len(meta.sent) - sent_before
        refused = len(meta.refused)
    finally:
        await runner.cleanup()
        await app.close()
        await meta.stop()
        await telegram.stop()
    quantiles = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0.0] * 19
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"join {joining / customers * 1000:.0f} ms a customer ({customers} at once, {joining:.1f} s); "
        f"burst of {total}: {total / acknowledged:.0f} posts/s acknowledged, "
        f"{total / answered:.1f} answers/s ({total / answered / NUMBER_RATE:.2f} of Meta's {NUMBER_RATE:.0f}/s), "
        f"post to answer p50 {quantiles[9] * 1000:.0f} ms, p95 {quantiles[18] * 1000:.0f} ms; "
        f"posted again: {total / again:.0f} posts/s, {extra} handled again; refused by Meta {refused}; "
        f"peak RSS {rss:.0f} MB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        print("sqlite      " + await _run(url, args.customers, args.messages))
    created = await _postgres_url(args.postgres)
    if created is None:
        print(f"postgresql  skipped (no server at {args.postgres})")
        return
    url, name = created
    try:
        print("postgresql  " + await _run(url, args.customers, args.messages))
    finally:
        await _drop(args.postgres, name)


if __name__ == "__main__":
    asyncio.run(main())
