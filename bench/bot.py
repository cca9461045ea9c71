"""Figures for the whole bot, driven from outside over the Bot API: Kartu against a bare aiogram bot
doing the same exchanges, each bot in its own process, the emulator in this one.

    .venv/bin/python bench/bot.py [--staff 20] [--purchases 600] [--backlog 10000]

- confirmations: staff send a customer's code, the bot answers with a Confirm button, staff tap
  it, the bot answers the tap, edits the prompt and sends the customer the card picture (two
  updates, four calls). Rate, p95 per exchange, and the ratio to the bare bot.
- backlog: updates waiting when the bot starts (/help from 1,000 people): drain time, answers,
  updates answered twice or not at all, apologies, and each bot's peak RSS.
- start-up: seconds from the end of the imports to the first getUpdates.
- webhook: the same confirmations with 1, 2 and 4 Kartu processes serving the webhook on one
  PostgreSQL (skipped when no server answers), updates spread over them round robin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kartu.sandbox.emulator import BotAPIEmulator, SentMessage  # noqa: E402

CUSTOMERS = 100
WEBHOOK_SECRET = "bench-secret"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
STAFF_BASE, CUSTOMER_BASE, BACKLOG_PEOPLE = 10_000, 20_000, 1_000


class Counting(BotAPIEmulator):
    """The strict emulator, telling the bench of every message and answered tap as it happens."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, list[asyncio.Future[SentMessage]]] = defaultdict(list)
        self.per_chat: dict[int, int] = defaultdict(int)
        self.first_poll: float | None = None
        self.spawned = 0.0
        self.apologies = 0

    def _store(self, params: dict[str, Any], method: str, **content: Any) -> dict[str, Any]:
        stored = super()._store(params, method, **content)
        message = self.state.sent[-1]
        if len(self.state.sent) > 2_000:  # a bench sends thousands: keep counts and recent messages
            del self.state.sent[:1_000]
        self.per_chat[message.chat_id] += 1
        if "Sorry" in (message.text or "") or "Maaf" in (message.text or ""):
            self.apologies += 1
        for future in self.waiting.pop(message.chat_id, []):
            if not future.done():
                future.set_result(message)
        return stored

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.first_poll is None:
            self.first_poll = time.perf_counter()
        return await super()._get_updates(params)

    # Webhook mode with several bot processes: each registers its URL; updates go round robin.
    hooks: list[str]
    _hook_session: Any = None
    _turn = 0

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.hooks = getattr(self, "hooks", [])
        self.hooks.append(str(params["url"]))
        self.deliver = self.post_round_robin
        return True

    async def post_round_robin(self, update: dict[str, Any]) -> None:
        """Where pushed updates go while webhooks are registered (the emulator's ``deliver``)."""
        import aiohttp

        if self._hook_session is None:
            self._hook_session = aiohttp.ClientSession()
        self._turn += 1
        url = self.hooks[self._turn % len(self.hooks)]
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with self._hook_session.post(url, json=update, headers=headers):
            pass

    def next_to(self, chat_id: int) -> asyncio.Future[SentMessage]:
        future: asyncio.Future[SentMessage] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id].append(future)
        return future


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "en"}


def _message(emulator: BotAPIEmulator, user_id: int, text: str) -> dict[str, Any]:
    return {
        "message_id": emulator.new_message_id(),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": f"U{user_id}"},
        "from": _user(user_id),
        "text": text,
    }


# -- the bots, each run in a child process -------------------------------------------------------


def _bot_settings(api: str, database_url: str, **more: Any) -> Any:
    from kartu.config import Settings

    return Settings(
        _env_file=None,
        bot_token="42:TEST-TOKEN",
        telegram_api_url=api,
        database_url=database_url,
        flood_burst=1_000_000,  # scripted staff type far faster than people may
        scheduler="off",
        # The bot's own ceiling: Telegram's ~30 messages a second per bot is the pacer's business
        # (KARTU_SEND_RATE, 25 by default), and the emulator here enforces none.
        send_rate=1_000,
        **more,
    )


def _report_and_exit(ready_after_imports: float) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{peak:.0f} {ready_after_imports:.3f}", flush=True)


async def _kartu_child(api: str, database_url: str) -> None:
    from kartu.bot.app import build_app, run_polling

    imported = time.perf_counter()
    app = build_app(_bot_settings(api, database_url, polling_timeout=1))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(app.dispatcher.stop_polling()))
    print(f"ready-after-imports-from {imported:.6f}", flush=True)
    await run_polling(app, handle_signals=False)
    _report_and_exit(0)


async def _kartu_webhook_child(api: str, database_url: str, port: int) -> None:
    """One of several Kartu processes serving the bot's webhook on PostgreSQL."""
    from kartu.bot.app import build_app, run_webhook

    imported = time.perf_counter()
    settings = _bot_settings(
        api,
        database_url,
        webhook_url=f"http://127.0.0.1:{port}",
        webhook_port=port,
        webhook_secret=WEBHOOK_SECRET,
    )
    app = build_app(settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"ready-after-imports-from {imported:.6f}", flush=True)
    await run_webhook(app, stop)
    _report_and_exit(0)


async def _bare_child(api: str) -> None:
    """A bare aiogram bot: one handler per exchange, no database, the same calls as Kartu makes."""
    from aiogram import Bot, Dispatcher, F
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.filters import Command
    from aiogram.types import (
        BufferedInputFile,
        CallbackQuery,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        Message,
    )

    imported = time.perf_counter()
    bot = Bot("42:TEST-TOKEN", session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    dispatcher = Dispatcher()
    photo: dict[str, str] = {}

    @dispatcher.message(Command("help"))
    async def help_(message: Message) -> None:
        await message.answer("Send /card to see your card.")

    @dispatcher.message(F.text)
    async def code(message: Message) -> None:
        customer = int(message.text.split("-")[1])  # type: ignore[union-attr]
        button = InlineKeyboardButton(text="✅ Confirm", callback_data=f"ok:{customer}")
        await message.answer(
            "Ayu: 3/10. Confirm?", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )

    @dispatcher.callback_query(F.data.startswith("ok:"))
    async def confirm(query: CallbackQuery) -> None:
        customer = int(query.data.split(":")[1])  # type: ignore[union-attr]
        await query.answer()
        await query.message.edit_text("✅ Confirmed: 4/10")  # type: ignore[union-attr]
        picture = photo.get("card") or BufferedInputFile(b"\x89PNG\r\n\x1a\n" + b"0" * 20_000, "card.png")
        sent = await bot.send_photo(customer, picture, caption="✅ +1 stamp! 4/10")
        photo["card"] = sent.photo[-1].file_id if sent.photo else photo.get("card", "")

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(dispatcher.stop_polling()))
    print(f"ready-after-imports-from {imported:.6f}", flush=True)
    await dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False, tasks_concurrency_limit=50)
    await bot.session.close()
    _report_and_exit(0)


# -- the driver ----------------------------------------------------------------------------------


async def _start_child(kind: str, emulator: Counting, database_url: str, port: int = 0) -> tuple[Any, float]:
    emulator.first_poll = None
    emulator.spawned = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        kind,
        "--api",
        emulator.url,
        "--database",
        database_url,
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await process.stdout.readline()).decode()
    imported = float(line.split()[-1]) if line.startswith("ready-after-imports-from") else 0.0
    return process, imported


async def _first_poll(emulator: Counting) -> float:
    for _ in range(6000):
        if emulator.first_poll is not None:
            return emulator.first_poll
        await asyncio.sleep(0.01)
    raise TimeoutError("the bot never asked for updates")


async def _stop_child(process: Any) -> tuple[float, str]:
    process.send_signal(signal.SIGTERM)
    out, _ = await process.communicate()
    words = out.decode().split()
    return float(words[0]) if words else 0.0, out.decode()


async def _prepare_shop(database_url: str, staff: int) -> list[str]:
    """A shop with ``staff`` staff members and 100 customers, made through the use cases."""
    from kartu.config import Settings
    from kartu.loyalty.clock import SystemClock
    from kartu.loyalty.program import ProgramRules
    from kartu.services.container import Services
    from kartu.services.customers import TelegramProfile
    from kartu.storage.database import Database
    from kartu.storage.migrate import upgrade

    db = Database(database_url)
    await upgrade(db.engine)
    services = Services.build(db, Settings(_env_file=None, database_url=database_url), SystemClock())
    created = await services.merchants.create_merchant("Kopi Senja", 1, rules=ProgramRules(daily_stamp_cap=0))
    for number in range(staff):
        token = await services.merchants.invite_staff(1)
        await services.customers.start(
            TelegramProfile(STAFF_BASE + number, "Staff", None, "en"), f"staff_{token}"
        )
    codes = []
    for number in range(CUSTOMERS):
        profile = TelegramProfile(CUSTOMER_BASE + number, f"C{number}", None, "en")
        joined = await services.customers.start(profile, f"m_{created.slug}")
        codes.append(joined.joined.card.personal_code)  # type: ignore[union-attr]
    await db.dispose()
    return codes


async def _confirmations(
    kind: str, emulator: Counting, database_url: str, codes: list[str], staff: int, purchases: int
) -> tuple[float, float, tuple[float, float]]:
    """Rate, p95 (ms) and start-up (after the imports, and in all) of one bot doing ``purchases``
    exchanges with ``staff`` at once."""
    emulator.users_started(
        *(STAFF_BASE + n for n in range(staff)), *(CUSTOMER_BASE + n for n in range(CUSTOMERS))
    )
    process, imported = await _start_child(kind, emulator, database_url)
    await _first_poll(emulator)
    ready = (emulator.first_poll - imported, emulator.first_poll - emulator.spawned)
    try:
        rate, p95 = await _exchanges(emulator, codes if kind == "kartu" else None, staff, purchases)
    finally:
        await _stop_child(process)
    return rate, p95, ready


async def _exchanges(
    emulator: Counting, codes: list[str] | None, staff: int, purchases: int
) -> tuple[float, float]:
    """Staff send a code and tap Confirm until ``purchases`` customers got their card: rate, p95 ms,
    after a first untimed round of one exchange per staff member (connections opened, the first
    card pictures drawn and uploaded: the steady state is measured, for both bots alike).
    ``codes`` ``None``: the bare bot's fake codes."""
    queue = list(range(purchases + staff))
    latencies: list[float] = []

    async def worker(staff_id: int, rounds: int | None = None) -> None:
        while queue and rounds != 0:
            rounds = None if rounds is None else rounds - 1
            index = queue.pop()
            customer = CUSTOMER_BASE + index % CUSTOMERS
            code = codes[index % CUSTOMERS] if codes is not None else f"X-{customer}"
            started = time.perf_counter()
            prompt = emulator.next_to(staff_id)
            await emulator.push_update("message", _message(emulator, staff_id, code))
            shown = await asyncio.wait_for(prompt, 30)
            card = emulator.next_to(customer)
            query = {
                "id": f"q{index}-{staff_id}",
                "from": _user(staff_id),
                "chat_instance": "1",
                "data": shown.buttons()[0]["callback_data"],
                "message": {**_message(emulator, staff_id, shown.text or ""), "message_id": shown.message_id},
            }
            await emulator.push_update("callback_query", query)
            await asyncio.wait_for(card, 30)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(STAFF_BASE + n, rounds=1) for n in range(staff)))
    latencies.clear()
    started = time.perf_counter()
    await asyncio.gather(*(worker(STAFF_BASE + n) for n in range(staff)))
    elapsed = time.perf_counter() - started
    return purchases / elapsed, statistics.quantiles(latencies, n=20)[18] * 1000


async def _webhook_confirmations(
    emulator: Counting, postgres: str, processes: int, staff: int, purchases: int
) -> tuple[float, float] | None:
    """The same exchanges with ``processes`` Kartu processes serving the webhook on one PostgreSQL."""
    from core_loop import _drop, _postgres_url  # the same throwaway database as bench/core_loop.py

    created = await _postgres_url(postgres)
    if created is None:
        return None
    url, name = created
    children = []
    try:
        codes = await _prepare_shop(url, staff)
        emulator.users_started(
            *(STAFF_BASE + n for n in range(staff)), *(CUSTOMER_BASE + n for n in range(CUSTOMERS))
        )
        emulator.hooks = []
        for _ in range(processes):
            process, _ = await _start_child("kartu-webhook", emulator, url, port=_free_port())
            children.append(process)
        for _ in range(6000):
            if len(emulator.hooks) == processes:
                break
            await asyncio.sleep(0.01)
        return await _exchanges(emulator, codes, staff, purchases)
    finally:
        for process in children:
            await _stop_child(process)
        emulator.hooks = []
        emulator.deliver = None
        await _drop(postgres, name)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _backlog(kind: str, emulator: Counting, database_url: str, updates: int) -> dict[str, float]:
    """``updates`` /help messages from 1,000 people, all waiting before the bot starts."""
    emulator.per_chat.clear()
    emulator.apologies = 0
    people = [CUSTOMER_BASE + 50_000 + n for n in range(BACKLOG_PEOPLE)]
    sent: dict[int, int] = defaultdict(int)
    for index in range(updates):
        person = people[index % len(people)]
        sent[person] += 1
        await emulator.push_update("message", _message(emulator, person, "/help"))
    process, _ = await _start_child(kind, emulator, database_url)
    await _first_poll(emulator)
    started = emulator.first_poll
    deadline = time.perf_counter() + 600
    answered = 0
    while time.perf_counter() < deadline:
        answered = sum(emulator.per_chat.get(person, 0) for person in people)
        if answered >= updates:
            break
        await asyncio.sleep(0.05)
    drained = time.perf_counter() - started
    await asyncio.sleep(1)  # anything answered twice arrives now
    peak, _ = await _stop_child(process)
    counts = {person: emulator.per_chat.get(person, 0) for person in people}
    return {
        "seconds": drained,
        "answered": sum(min(count, sent[person]) for person, count in counts.items()),
        "twice": sum(max(count - sent[person], 0) for person, count in counts.items()),
        "apologies": emulator.apologies,
        "rss": peak,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--purchases", type=int, default=600)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--child", choices=("kartu", "bare", "kartu-webhook"))
    parser.add_argument("--api")
    parser.add_argument("--database")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--webhooks", default="1,2,4", help="process counts for webhook mode on PostgreSQL")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if args.child == "kartu-webhook":
        await _kartu_webhook_child(args.api, args.database, args.port)
        return
    if args.child == "kartu":
        if os.environ.get("BENCH_PROFILE"):  # where the bot's time goes: BENCH_PROFILE=file.prof
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
            try:
                await _kartu_child(args.api, args.database)
            finally:
                profile.disable()
                profile.dump_stats(os.environ["BENCH_PROFILE"])
            return
        await _kartu_child(args.api, args.database)
        return
    if args.child == "bare":
        await _bare_child(args.api)
        return

    print(f"imports of this bench (aiogram, Kartu's emulator): {time.perf_counter() - STARTED:.2f} s")
    emulator = Counting()
    await emulator.start()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/bot.db"
        if args.purchases:  # 0: the backlog alone
            codes = await _prepare_shop(url, args.staff)
            kartu_rate, kartu_p95, kartu_ready = await _confirmations(
                "kartu", emulator, url, codes, args.staff, args.purchases
            )
            bare_rate, bare_p95, bare_ready = await _confirmations(
                "bare", emulator, url, codes, args.staff, args.purchases
            )
            print(
                f"bot confirmations (SQLite, {args.staff} staff, {args.purchases} exchanges): kartu {kartu_rate:.0f}/s "
                f"p95 {kartu_p95:.0f} ms | bare aiogram {bare_rate:.0f}/s p95 {bare_p95:.0f} ms | "
                f"ratio {kartu_rate / bare_rate:.2f}"
            )
            print(
                f"start-up to the first getUpdates: kartu {kartu_ready[0]:.2f} s after its imports "
                f"({kartu_ready[1]:.2f} s in all), bare aiogram {bare_ready[0]:.2f} s ({bare_ready[1]:.2f} s in all)"
            )
        for processes in (int(n) for n in args.webhooks.split(",") if n):
            figures = await _webhook_confirmations(
                emulator, args.postgres, processes, args.staff, args.purchases
            )
            if figures is None:
                print(f"webhook confirmations: skipped (no PostgreSQL at {args.postgres})")
                break
            print(
                f"webhook confirmations (PostgreSQL, {processes} Kartu processes, {args.staff} staff): "
                f"{figures[0]:.0f}/s p95 {figures[1]:.0f} ms"
            )
        if args.backlog:
            kartu = await _backlog(
                "kartu", emulator, f"sqlite+aiosqlite:///{directory}/backlog.db", args.backlog
            )
            bare = await _backlog("bare", emulator, url, args.backlog)
            for name, figures in (("kartu", kartu), ("bare aiogram", bare)):
                print(
                    f"backlog of {args.backlog} /help ({BACKLOG_PEOPLE} people), {name}: drained in "
                    f"{figures['seconds']:.1f} s ({args.backlog / figures['seconds']:.0f}/s), answered "
                    f"{figures['answered']:.0f}, twice {figures['twice']:.0f}, apologies {figures['apologies']:.0f}, "
                    f"peak RSS {figures['rss']:.0f} MiB"
                )
            print(f"backlog speed ratio kartu/bare: {bare['seconds'] / kartu['seconds']:.2f}")
    if emulator._hook_session is not None:
        await emulator._hook_session.close()
    await emulator.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
