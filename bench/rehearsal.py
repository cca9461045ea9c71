"""The scale-out rehearsal: the operators' guide's production layout run on this machine, under load, with
faults, and one line at the end that says whether anything was lost or done twice.

    .venv/bin/python bench/rehearsal.py [--short] [--staff 20] [--tills 10] [--members 2000]

What runs (each a real process but Telegram, which is the strict emulator in this one):
- a PostgreSQL server of its own (initdb in a temporary folder), so it can be restarted;
- nginx with deploy/nginx/kartu.conf (only its addresses changed: plain HTTP on 127.0.0.1),
  in front of 3 `kartu run` webhook processes and 1 `kartu api`;
- 2 `kartu scheduler`; every Kartu process restarted a second after it dies, as systemd's
  Restart=always does (deploy/systemd);
- the emulator delivering updates as Telegram does: in the background, each chat's in order, a
  post without a 2xx in time posted again later (kartu/sandbox/delivery.py), and 30 messages a
  second at most, one a second per chat.

The load, all at once: staff send customers' codes and tap Confirm, tills post sales to the API
(with Idempotency-Key, retried on 5xx), customers ask for their card, a broadcast goes to every
member, reminders fall due. The faults, one after another while the load runs: SIGKILL a bot
process, SIGKILL a scheduler, restart PostgreSQL, Telegram answering 429 then 500, oversized
bodies thrown at the API. Recovery after a fault: seconds until every process answers /readyz,
nothing Telegram delivered before the fault waits (at Telegram or in the journal), and no
outbox message claimed before it is still held.

The line: updates delivered / answered once / answered twice / lost, double credits, outbox and
webhook backlog, broadcast duplicates and missing, and the recovery seconds. The exit status is 1
when an update or a sale was lost, a sale credited twice, a broadcast sent twice (or missed
beyond what was in flight at the kill), or anything left waiting. tests/test_rehearsal.py runs the short version.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kartu.config import Settings  # noqa: E402
from kartu.loyalty.clock import FrozenClock, SystemClock  # noqa: E402
from kartu.loyalty.program import ProgramRules  # noqa: E402
from kartu.sandbox.emulator import BotAPIEmulator, SentMessage  # noqa: E402
from kartu.services.container import Services  # noqa: E402
from kartu.services.customers import TelegramProfile  # noqa: E402
from kartu.storage.database import Database  # noqa: E402
from kartu.storage.migrate import upgrade  # noqa: E402

OWNER, STAFF_BASE, MEMBER_BASE, TAPPER_BASE = 100, 1_000, 100_000, 50_000
SECRET = "rehearsal-webhook-secret"
MARK = "REHEARSAL"  # in the broadcast's text: how a member's copy is told from other messages
WAIT = 90.0  # seconds an actor waits for an answer before counting it missing


@dataclass
class Plan:
    staff: int = 20
    tills: int = 10
    tappers: int = 20
    members: int = 2_000
    reminders: int = 300
    bots: int = 3
    schedulers: int = 2
    gap: float = 12.0  # seconds between faults
    outage: float = 5.0  # seconds of 429, then as long of 500
    oversized: int = 200  # oversized bodies thrown at the API
    drain: float = 420.0  # seconds at most to wait for the backlog at the end

    @classmethod
    def short(cls) -> Plan:
        return cls(staff=5, tills=3, tappers=5, members=150, reminders=30, gap=6.0, outage=2.0, oversized=40)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- PostgreSQL of its own ------------------------------------------------------------------------
def postgres_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Postgres:
    """A throwaway PostgreSQL server (run as the ``postgres`` user when this runs as root)."""

    def __init__(self, folder: Path) -> None:
        binary = postgres_bin()
        if binary is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb) on this machine")
        self.bin = binary
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        import subprocess

        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        settings = (
            f"port={self.port}\nlisten_addresses='127.0.0.1'\nunix_socket_directories='{self.folder}'\n"
        )
        settings += "max_connections=300\nfsync=on\nsynchronous_commit=on\n"
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


# -- nginx with the shipped site -------------------------------------------------------------------
def nginx_config(site: str, folder: Path, port: int, bots: list[int], api: int) -> str:
    """deploy/nginx/kartu.conf with its addresses changed (plain HTTP on 127.0.0.1:``port``, these
    upstream ports), inside a main configuration of its own."""
    upstream_bots = "".join(f"    server 127.0.0.1:{bot} max_fails=1 fail_timeout=5s;\n" for bot in bots)
    site = re.sub(r"(upstream kartu_bot \{\n)(?:.*\n)*?(    keepalive)", rf"\g<1>{upstream_bots}\g<2>", site)
    site = site.replace("server 127.0.0.1:8081;", f"server 127.0.0.1:{api};")
    site = site.split("\nserver {\n    listen 80;")[0]  # the port-80 redirect: not here
    lines = []
    for line in site.splitlines():
        stripped = line.strip()
        if stripped.startswith("listen 443"):
            lines.append(f"    listen 127.0.0.1:{port};")
        elif stripped.startswith(("listen [::]", "ssl_")):
            continue
        else:
            lines.append(line)
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 2;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n  fastcgi_temp_path {folder}/fastcgi;\n"
        f"  uwsgi_temp_path {folder}/uwsgi;\n  scgi_temp_path {folder}/scgi;\n" + "\n".join(lines) + "\n}\n"
    )


# -- Telegram ---------------------------------------------------------------------------------------
class Telegram(BotAPIEmulator):
    """The strict emulator, telling the rehearsal of every message as it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.inbox: dict[int, asyncio.Queue[SentMessage]] = defaultdict(asyncio.Queue)
        self.per_chat: Counter[int] = Counter()
        self.promos: Counter[int] = Counter()  # chat → copies of the broadcast

    def _store(self, params: dict[str, Any], method: str, **content: Any) -> dict[str, Any]:
        stored = super()._store(params, method, **content)
        message = self.state.sent[-1]
        if MARK in message.body:
            self.promos[message.chat_id] += 1
        else:
            self.per_chat[message.chat_id] += 1
            self.inbox[message.chat_id].put_nowait(message)
        return stored


class Person:
    def __init__(self, telegram: Telegram, user_id: int, name: str) -> None:
        self.telegram = telegram
        self.id = user_id
        self.name = name
        self.sent = 0  # messages sent
        self.read = 0  # answers taken from the inbox

    def _from(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.name, "language_code": "en"}

    async def say(self, words: str) -> None:
        message: dict[str, Any] = {
            "message_id": self.telegram.new_message_id(),
            "date": int(time.time()),
            "chat": {"id": self.id, "type": "private", "first_name": self.name},
            "from": self._from(),
            "text": words,
        }
        if words.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(words.split()[0])}]
        self.sent += 1
        await self.telegram.push_update("message", message)

    async def tap(self, prompt: SentMessage, label: str, query_id: str) -> None:
        data = next(b["callback_data"] for b in prompt.buttons() if label in b["text"])
        query = {
            "id": query_id,
            "from": self._from(),
            "chat_instance": str(self.id),
            "data": data,
            "message": {
                "message_id": prompt.message_id,
                "date": int(time.time()),
                "chat": {"id": self.id, "type": "private"},
                "text": prompt.body,
            },
        }
        await self.telegram.push_update("callback_query", query)

    async def answer(self, timeout: float = WAIT) -> SentMessage | None:
        try:
            message = await asyncio.wait_for(self.telegram.inbox[self.id].get(), timeout)
        except TimeoutError:
            return None
        self.read += 1
        return message


# -- what happened ---------------------------------------------------------------------------------
@dataclass
class Tally:
    codes: int = 0
    prompts: int = 0
    apologies: int = 0
    taps: int = 0
    taps_answered: int = 0
    sales_tapped: set[int] = field(default_factory=set)  # prompt message ids confirmed
    till_sales: set[str] = field(default_factory=set)  # acknowledged Idempotency-Keys
    till_retries: int = 0
    card_asks: int = 0
    card_answers: int = 0
    oversized: Counter[int] = field(default_factory=Counter)
    recovery: dict[str, float] = field(default_factory=dict)
    restarts: Counter[str] = field(default_factory=Counter)


def is_apology(message: SentMessage) -> bool:
    return "Sorry" in message.body or "try again" in message.body


async def staff_loop(telegram: Telegram, member: Person, codes: itertools.cycle[str], tally: Tally,
                     stop: asyncio.Event, query_ids: itertools.count[int]) -> None:  # fmt: skip
    while not stop.is_set():
        code = next(codes)
        prompt = None
        for _ in range(5):  # an apology (the database was away): send the code again
            await member.say(code)
            tally.codes += 1
            prompt = await member.answer()
            if prompt is None or not is_apology(prompt):
                break
            tally.apologies += 1
            await asyncio.sleep(1)
        if prompt is None or not any("Confirm" in b["text"] for b in prompt.buttons()):
            continue
        tally.prompts += 1
        before = prompt.body
        for _ in range(5):  # a tap answered with an apology: tap again (the prompt still holds)
            query_id = f"q{next(query_ids)}"
            await member.tap(prompt, "Confirm", query_id)
            tally.taps += 1
            tally.sales_tapped.add(prompt.message_id)
            answered = await wait_for(partial(tap_answered, telegram, query_id, prompt, before), WAIT)
            answer = telegram.state.answers.get(query_id)
            if answered:
                tally.taps_answered += 1
            if answer is not None and answer.text and "Sorry" in answer.text and prompt.body == before:
                tally.apologies += 1
                await asyncio.sleep(1)
                continue
            break


def tap_answered(telegram: Telegram, query_id: str, prompt: SentMessage, before: str) -> bool:
    """The tap's toast came, or the prompt changed (a tap handled again after its process died
    is answered by the edit alone: Telegram refuses to answer a query that old)."""
    return query_id in telegram.state.answers or prompt.body != before


async def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def till_loop(number: int, base: str, key: str, codes: itertools.cycle[str], tally: Tally,
                    stop: asyncio.Event) -> None:  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for sale in itertools.count(1):
            if stop.is_set():
                return
            idempotency = str(uuid.uuid4())
            body = {"customer": {"code": next(codes)}, "external_id": f"till{number}-{sale}"}
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency}
            for attempt in range(400):  # the same sale, the same key, until the API takes it
                try:
                    async with session.post(
                        f"{base}/v1/purchases",
                        json=body,
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=15),
                    ) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                if status in (200, 201):
                    tally.till_sales.add(idempotency)
                    break
                if 400 <= status < 500 and status not in (408, 409, 429):
                    raise RuntimeError(f"till {number}: the API refused a sale: {status}")
                tally.till_retries += 1
                await asyncio.sleep(min(0.25 * (attempt + 1), 2))
            await asyncio.sleep(1.0)  # the next customer at this till


async def tapper_loop(customer: Person, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await customer.say("/card")
        tally.card_asks += 1
        if await customer.answer() is not None:
            tally.card_answers += 1
        await asyncio.sleep(1)


# -- processes, as systemd keeps them ----------------------------------------------------------------
class Supervisor:
    def __init__(self, folder: Path, tally: Tally) -> None:
        self.folder = folder
        self.tally = tally
        self.specs: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self.stopping = False

    async def add(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.specs[name] = (argv, env)
        await self._start(name)
        self._watchers[name] = asyncio.create_task(self._watch(name))

    async def _start(self, name: str) -> None:
        argv, env = self.specs[name]
        log = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=self.folder, stdout=log, stderr=log
        )
        log.close()

    async def _watch(self, name: str) -> None:
        while True:
            await self.processes[name].wait()
            if self.stopping:
                return
            await asyncio.sleep(1.0)  # RestartSec
            if self.stopping:
                return
            self.tally.restarts[name] += 1
            await self._start(name)

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        self.stopping = True
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), 25)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        for watcher in self._watchers.values():
            watcher.cancel()


# -- the rehearsal ------------------------------------------------------------------------------------
async def prepare(url: str, plan: Plan) -> tuple[list[str], str]:
    """The shop: owner, staff, members (a broadcast's audience; some with stamps about to lapse),
    customers at the counter; an API key for the tills. Returns the counter's codes and the key."""
    db = Database(url)
    await upgrade(db.engine)
    settings = Settings(_env_file=None, database_url=url, bot_token="1:X")
    rules = ProgramRules(daily_stamp_cap=0, stamp_expiry_days=30, reminder_days="7", survey_every_days=0)
    past = FrozenClock(SystemClock().now() - timedelta(days=23, hours=1))  # their stamps lapse within a week
    then = Services.build(db, settings, clock=past)
    created = await then.merchants.create_merchant("Kopi Senja", OWNER, rules=rules, timezone="Asia/Jakarta")
    async with db.write() as uow:  # open all night: the rehearsal may run in Jakarta's quiet hours
        merchant = await uow.merchants.by_slug(created.slug)
        assert merchant is not None
        merchant.quiet_hours = "00:00-00:00"
    staff_ids = [STAFF_BASE + n for n in range(plan.staff)]
    for telegram_id in staff_ids:
        token = await then.merchants.invite_staff(OWNER)
        await then.customers.start(
            TelegramProfile(telegram_id, f"Staff{telegram_id}", None, "en"), f"staff_{token}"
        )
    codes: list[str] = []

    async def join(number: int) -> None:
        joined = await then.customers.start(
            TelegramProfile(MEMBER_BASE + number, f"M{number}", None, "en"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
        if number < plan.reminders:
            prompt = await then.counter.open_purchase(staff_ids[0], joined.joined.card.personal_code)
            await then.counter.confirm_purchase(staff_ids[0], prompt.token)

    for start in range(0, plan.members, 25):
        await asyncio.gather(*(join(n) for n in range(start, min(start + 25, plan.members))))
    for number in range(plan.tappers):
        await then.customers.start(
            TelegramProfile(TAPPER_BASE + number, f"T{number}", None, "en"), f"m_{created.slug}"
        )
    async with db.write() as uow:  # the seeding's card news went out long ago
        await uow.session.execute(text("UPDATE outbox_message SET status = 'sent' WHERE status <> 'sent'"))
    key, _ = await Services.build(db, settings).api.create_key_for(
        created.slug, "earn,read,webhooks", "tills"
    )
    await db.dispose()
    return codes[plan.reminders :], key  # the counter serves members without lapsing stamps


async def count(db: Database, sql: str, **params: Any) -> int:
    for _ in range(20):
        try:
            async with db.read() as uow:
                return int(await uow.session.scalar(text(sql), params) or 0)
        except Exception:  # the server restarting: ask again
            await asyncio.sleep(0.5)
    raise RuntimeError(f"the database did not answer: {sql}")


async def ready(session: aiohttp.ClientSession, ports: list[int]) -> bool:
    for port in ports:
        try:
            async with session.get(
                f"http://127.0.0.1:{port}/readyz", timeout=aiohttp.ClientTimeout(total=3)
            ) as r:
                if r.status != 200:
                    return False
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False
    return True


async def recovered(telegram: Telegram, db: Database, session: aiohttp.ClientSession, ports: list[int],
                    last_update: int, since: float, cutoff: Any) -> float:  # fmt: skip
    """Seconds from ``since`` until: every process ready, no update up to ``last_update`` waiting
    at Telegram or unfinished in the journal, no outbox message claimed before ``cutoff`` held."""
    queue = telegram.webhook_queue
    assert queue is not None
    while True:
        waiting = queue.waiting_up_to(last_update)
        if not waiting and await ready(session, ports):
            journal = await count(
                db, "SELECT count(*) FROM processed_update WHERE payload IS NOT NULL AND update_id <= :last",
                last=last_update,
            )  # fmt: skip
            held = await count(
                db, "SELECT count(*) FROM outbox_message WHERE status = 'sending' AND claimed_at < :cutoff",
                cutoff=cutoff,
            )  # fmt: skip
            if not journal and not held:
                return time.monotonic() - since
        await asyncio.sleep(0.25)


async def oversized(base: str, key: str, times: int, tally: Tally) -> None:
    """Bodies of a megabyte, with a length and chunked: nginx (and Kartu behind it) refuse them."""
    big = b'{"customer": {"code": "' + b"A" * 1_000_000 + b'"}}'

    async def chunks() -> Any:
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    async with aiohttp.ClientSession() as session:

        async def one(number: int) -> None:
            body: Any = big if number % 2 else chunks()
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4()),
                       "Content-Type": "application/json"}  # fmt: skip
            try:
                async with session.post(f"{base}/v1/purchases", data=body, headers=headers) as response:
                    tally.oversized[response.status] += 1
            except (aiohttp.ClientError, OSError):
                tally.oversized[0] += 1  # the connection closed on it: refused too

        for start in range(0, times, 20):
            await asyncio.gather(*(one(n) for n in range(start, min(start + 20, times))))


async def rehearse(plan: Plan, folder: Path) -> tuple[str, bool]:
    tally = Tally()
    postgres = Postgres(folder / "pg")
    postgres.init()
    postgres.start()
    telegram = Telegram()
    supervisor = Supervisor(folder, tally)
    nginx: asyncio.subprocess.Process | None = None
    stop = asyncio.Event()
    load: list[asyncio.Task[None]] = []
    db = Database(postgres.url)
    try:
        codes, key = await prepare(postgres.url, plan)
        await telegram.start()
        queue = telegram.deliver_like_telegram(timeout=10.0)
        telegram.enforce_limits(per_second=30, per_chat_interval=1.0)
        everyone = [OWNER, *(STAFF_BASE + n for n in range(plan.staff))]
        everyone += [MEMBER_BASE + n for n in range(plan.members)] + [
            TAPPER_BASE + n for n in range(plan.tappers)
        ]
        telegram.users_started(*everyone)

        port, api_port = free_port(), free_port()
        bot_ports = [free_port() for _ in range(plan.bots)]
        health_ports = [free_port() for _ in range(plan.schedulers)]
        site = (ROOT / "deploy/nginx/kartu.conf").read_text()
        (folder / "nginx").mkdir()
        (folder / "nginx/nginx.conf").write_text(
            nginx_config(site, folder / "nginx", port, bot_ports, api_port)
        )
        nginx = await asyncio.create_subprocess_exec(
            "nginx", "-p", str(folder / "nginx"), "-c", str(folder / "nginx/nginx.conf"), "-g", "daemon off;",
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

        env = {
            **{name: value for name, value in os.environ.items() if not name.startswith("KARTU_")},
            "PYTHONPATH": str(ROOT),
            "KARTU_BOT_TOKEN": telegram.token,
            "KARTU_BOT_USERNAME": "kartu_rehearsal_bot",
            "KARTU_TELEGRAM_API_URL": telegram.url,
            "KARTU_DATABASE_URL": postgres.url,
            "KARTU_DATABASE_POOL_SIZE": "10",
            "KARTU_WEBHOOK_URL": f"http://127.0.0.1:{port}",
            "KARTU_WEBHOOK_SECRET": SECRET,
            "KARTU_SCHEDULER": "off",
            "KARTU_SECRET_KEY": "0" * 64,
            "KARTU_LOG_FORMAT": "json",
            "KARTU_LOG_LEVEL": "WARNING",
            "KARTU_METRICS": "on",
            "KARTU_UPDATE_LEASE_SECONDS": "15",
            "KARTU_WEBHOOKS_ALLOW_PRIVATE": "on",
            # Two schedulers share Telegram's 30 messages a second: each sends at most half.
            "KARTU_SEND_RATE": str(25 / plan.schedulers),
            "KARTU_SWEEP_INTERVAL_SECONDS": "5",
        }
        kartu = [sys.executable, "-m", "kartu.bot.cli"]
        for number, bot_port in enumerate(bot_ports, 1):
            await supervisor.add(
                f"bot{number}", [*kartu, "run"], {**env, "KARTU_WEBHOOK_PORT": str(bot_port)}
            )
        await wait_for(lambda: telegram.webhook is not None, 60)
        await asyncio.sleep(2)  # the others start too
        for number, health in enumerate(health_ports, 1):
            await supervisor.add(
                f"scheduler{number}", [*kartu, "scheduler"], {**env, "KARTU_HEALTH_PORT": str(health)}
            )
        await supervisor.add("api", [*kartu, "api", "--port", str(api_port)], env)
        ports = [*bot_ports, *health_ports, api_port]
        async with aiohttp.ClientSession() as session:
            if not await wait_for_ready(session, ports, 90):
                raise RuntimeError(f"the processes did not become ready; logs in {folder}")
            base = f"http://127.0.0.1:{port}"
            receiver, received, told = await pos_receiver()
            async with session.post(
                f"{base}/v1/webhooks", json={"url": receiver, "events": ["purchase.credited"]},
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
            ) as response:  # fmt: skip
                if response.status != 201:
                    raise RuntimeError(
                        f"could not subscribe the till system: {response.status} {await response.text()}"
                    )

            # -- the load -------------------------------------------------------------------------------
            query_ids = itertools.count(1)
            counter_codes = itertools.cycle(codes)
            till_codes = itertools.cycle(list(reversed(codes)))
            for n in range(plan.staff):
                member = Person(telegram, STAFF_BASE + n, f"Staff{n}")
                load.append(
                    asyncio.create_task(staff_loop(telegram, member, counter_codes, tally, stop, query_ids))
                )
            for n in range(plan.tills):
                load.append(asyncio.create_task(till_loop(n, base, key, till_codes, tally, stop)))
            for n in range(plan.tappers):
                load.append(
                    asyncio.create_task(tapper_loop(Person(telegram, TAPPER_BASE + n, f"T{n}"), tally, stop))
                )
            services = Services.build(
                db, Settings(_env_file=None, database_url=postgres.url, bot_token="1:X")
            )
            started = await services.broadcasts.start(OWNER, f"{MARK}: two for one on Friday!", None, "all")

            # -- the faults, one after another --------------------------------------------------------
            async def fault(name: str, act: Any) -> None:
                await asyncio.sleep(plan.gap)
                cutoff = services.customers.clock.now()
                last_update = telegram.state.pushed and max(telegram.state.pushed) or 0
                await act()
                since = time.monotonic()
                tally.recovery[name] = await recovered(
                    telegram, db, session, ports, last_update, since, cutoff
                )

            async def kill_bot() -> None:
                supervisor.kill("bot1")

            async def kill_scheduler() -> None:
                supervisor.kill("scheduler1")

            async def restart_postgres() -> None:
                await asyncio.to_thread(postgres.restart)

            async def telegram_fails() -> None:
                telegram.outage(429, plan.outage, retry_after=2)
                await asyncio.sleep(plan.outage)
                telegram.outage(500, plan.outage)
                await asyncio.sleep(plan.outage)

            async def flood_api() -> None:
                await oversized(base, key, plan.oversized, tally)

            await fault("bot killed", kill_bot)
            await fault("scheduler killed", kill_scheduler)
            await fault("postgres restarted", restart_postgres)
            await fault("telegram 429+500", telegram_fails)
            await fault("api flooded", flood_api)
            await asyncio.sleep(plan.gap / 2)

            # -- the end: the load stops, the backlog drains ---------------------------------------------
            stop.set()
            await asyncio.wait_for(asyncio.gather(*load), WAIT + 30)
            drained_at = time.monotonic()
            while time.monotonic() - drained_at < plan.drain:
                backlog = await count(
                    db, "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')"
                )
                hooks = await count(db, "SELECT count(*) FROM webhook_delivery WHERE status = 'pending'")
                journal = await count(db, "SELECT count(*) FROM processed_update WHERE payload IS NOT NULL")
                if not backlog and not hooks and not journal and not queue.waiting:
                    break
                await asyncio.sleep(1)
            drain_seconds = time.monotonic() - drained_at

            # -- the line ----------------------------------------------------------------------------------
            purchases = await count(db, "SELECT count(*) FROM ledger_entry WHERE reason = 'purchase'")
            purchases -= plan.reminders  # the seeding's
            expected = len(tally.sales_tapped) + len(tally.till_sales)
            outbox = await count(
                db, "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')"
            )
            hooks = await count(db, "SELECT count(*) FROM webhook_delivery WHERE status = 'pending'")
            skipped = await count(
                db, "SELECT count(*) FROM outbox_message WHERE kind = 'broadcast' AND status = 'skipped'"
            )
            async with db.read() as uow:
                rows = await uow.session.scalars(
                    text("SELECT chat_id FROM outbox_message WHERE kind = 'broadcast'")
                )
                recipients = list(rows)
            duplicates = sum(max(0, telegram.promos[chat] - 1) for chat in recipients)
            missing = sum(1 for chat in recipients if not telegram.promos[chat])
            staff_answers = sum(telegram.per_chat[STAFF_BASE + n] for n in range(plan.staff))
            message_updates = tally.codes + tally.card_asks
            message_answers = staff_answers + tally.card_answers
            twice_messages = max(0, staff_answers - tally.codes)
            refused_answers = sum(
                1 for method, _ in telegram.state.refusals if method == "answercallbackquery"
            )
            answered_once = min(message_answers, message_updates) + tally.taps_answered - refused_answers
            lost = max(0, message_updates - message_answers) + (tally.taps - tally.taps_answered)
            twice = twice_messages + refused_answers
            double = max(0, purchases - expected)
            deliveries = len(received)
            hook_dups = deliveries - len(set(received))
            recovery = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in tally.recovery.items())
            line = (
                f"updates {len(telegram.state.pushed)} delivered ({queue.counts.redelivered} posted again), "
                f"{answered_once} answered once, {twice} twice, {lost} lost; "
                f"sales {expected} ({len(tally.sales_tapped)} at the counter, {len(tally.till_sales)} from tills), "
                f"{purchases} credited, {double} double credits, {max(0, expected - purchases)} missing; "
                f"outbox backlog {outbox}, webhook backlog {hooks} ({deliveries} events to the till system for {len(told)} sales, "
                f"{hook_dups} of them again with the same webhook-id); broadcast to {started.total}: {duplicates} duplicates, {missing} missing "
                f"({skipped} held back: in flight at the kill); apologies {tally.apologies}; "
                f"recovery: {recovery}; drained in {drain_seconds:.1f} s; "
                f"restarts {dict(tally.restarts)}; oversized bodies {dict(tally.oversized)}; "
                f"till retries {tally.till_retries}; webhook posts {dict(queue.counts.statuses)}"
            )
            # An answer is at least once: one sent just before a SIGKILL, its update not yet marked
            # done, is sent again when another process takes the update over (reported, not failed).
            ok = not lost and not double and not outbox and not hooks and not duplicates
            ok = ok and expected == purchases and missing <= skipped
            return line, ok
    finally:
        stop.set()
        for task in load:
            task.cancel()
        await asyncio.gather(*load, return_exceptions=True)
        await supervisor.stop()
        if nginx is not None:
            with contextlib.suppress(ProcessLookupError):
                nginx.send_signal(signal.SIGQUIT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(nginx.wait(), 10)
        await telegram.stop()
        await db.dispose()
        postgres.stop()


async def wait_for_ready(session: aiohttp.ClientSession, ports: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await ready(session, ports):
            return True
        await asyncio.sleep(0.5)
    return False


async def pos_receiver() -> tuple[str, list[str], set[str]]:
    """The till system's endpoint for Kartu's events: it keeps the ids it was sent."""
    from aiohttp import web

    received: list[str] = []
    purchases: set[str] = set()

    async def take(request: web.Request) -> web.Response:
        received.append(request.headers.get("webhook-id", ""))
        body = json.loads(await request.read())
        purchase = (body.get("data") or {}).get("purchase_id")
        if purchase:  # not the ping a new endpoint gets first
            purchases.add(str(purchase))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/kartu", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return f"http://127.0.0.1:{port}/kartu", received, purchases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="the test suite's size")
    parser.add_argument("--staff", type=int)
    parser.add_argument("--tills", type=int)
    parser.add_argument("--members", type=int)
    parser.add_argument("--keep", action="store_true", help="keep the folder with the processes' logs")
    arguments = parser.parse_args()
    plan = Plan.short() if arguments.short else Plan()
    for name in ("staff", "tills", "members"):
        if getattr(arguments, name):
            setattr(plan, name, getattr(arguments, name))
    folder = Path(tempfile.mkdtemp(prefix="kartu-rehearsal-"))
    os.chmod(folder, 0o755)
    try:
        line, ok = asyncio.run(rehearse(plan, folder))
    finally:
        if not arguments.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(line, flush=True)
    print(json.dumps({"ok": ok}), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
