"""The sandbox: Kartu with no Telegram account anywhere. The real bot (same Dispatcher, services,
scheduler and database code as live) talks to the local Bot API emulator; a web page plays
every person in the chat. Only the Bot API endpoint and the clock are local: the clock can be
moved forward ("+1 day") to see reminders, surveys and expiry arrive as they would over weeks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from kartu.bot.health import add_health_routes
from kartu.bot.miniapp import signed_init_data
from kartu.bot.pages import add_miniapp_routes
from kartu.config import Settings
from kartu.loyalty.channels import Caller, whatsapp_user
from kartu.loyalty.codes import format_code
from kartu.loyalty.errors import LoyaltyError
from kartu.sandbox.client import TelegramUser
from kartu.sandbox.emulator import BotAPIEmulator, SentMessage
from kartu.sandbox.serving import free_port
from kartu.sandbox.whatsapp import WaSent, WaUser, WaWritten, WhatsAppEmulator

log = logging.getLogger(__name__)

SANDBOX_DATABASE = "kartu-sandbox.db"
SANDBOX_STATE = "kartu-sandbox.json"  # the clock's offset and the people on the page
BOT_USERNAME = "kartu_sandbox_bot"
OWNER, STAFF, FIRST_CUSTOMER = 1001, 1002, 1003
TIME_STEPS = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
NAME_MAX = 64
# The https origin Mini App buttons name (Telegram takes https only); the page opens them here.
MINI_APP_ORIGIN = "https://sandbox.kartu.invalid"


def N_(message: str) -> str:  # marks the page's strings for the catalogs (as kartu.handlers.render does)
    return message


# The page's own words, translated on the server from the same catalogs as the bot's.
PAGE_TEXT = {
    "title": N_("Kartu sandbox"),
    "clock": N_("Sandbox time: {time}"),
    "hour": N_("+1 hour"),
    "day": N_("+1 day"),
    "week": N_("+7 days"),
    "month": N_("+30 days"),
    "new_customer": N_("+ customer (name)"),
    "add": N_("Add"),
    "pick": N_("Pick a person on the left"),
    "empty": N_("Everything the bot says to this person shows here."),
    "message": N_("Message (type / for commands)"),
    "message_whatsapp": N_("Message (words like CARD, CODE, MENU)"),
    "send": N_("Send"),
    "chatting": N_("chatting with @{bot} as {role}, language {language}"),
    "open_as": N_("Open this link as…"),
    "cancel": N_("Cancel"),
    "travelled": N_("Now {time} · messages delivered: {count}"),
    "edited": N_("edited"),
    "on_whatsapp": N_("on WhatsApp with Kartu's number +{number}, language {language}"),
    "whatsapp": N_("WhatsApp"),
    "telegram": N_("Telegram"),
    "scanner": N_("Point the camera at whose code?"),
    "not_a_code": N_("🖼 A QR code that is not Kartu's"),
    "owner": N_("owner"),
    "staff": N_("staff"),
    "manager": N_("manager"),
    "customer": N_("customer"),
}


class MovableClock:
    """Real time plus an offset that only grows ("+1 day")."""

    def __init__(self, offset: timedelta = timedelta()) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Person:
    id: int
    name: str
    language: str
    role: str  # "owner", "manager", "staff" or "customer": the page's label; the bot decides what they may do
    channel: str = "telegram"  # or "whatsapp": a customer who writes to Kartu's WhatsApp number
    address: str | None = None  # on WhatsApp: their business-scoped user id

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "role": self.role,
            "channel": self.channel,
            "address": self.address,
        }


@dataclass
class SandboxState:
    offset_seconds: float = 0.0
    people: list[Person] = field(default_factory=list)
    read: dict[int, int] = field(default_factory=dict)  # person -> last message id they saw

    @classmethod
    def load(cls, path: Path) -> SandboxState | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(
            data["offset_seconds"],
            [Person(**p) for p in data["people"]],
            {int(k): v for k, v in data.get("read", {}).items()},
        )

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "offset_seconds": self.offset_seconds,
                    "people": [p.as_json() for p in self.people],
                    "read": self.read,
                },
                indent=1,
            )
        )


class Sandbox:
    """Emulator + real bot + scheduler + the page's HTTP API, in one process."""

    def __init__(
        self, directory: Path, *, host: str = "127.0.0.1", port: int = 8080, reset: bool = False
    ) -> None:
        self.directory = directory
        self.host, self.port = host, port
        self.reset = reset
        self.emulator = BotAPIEmulator(token="4242:SANDBOX", username=BOT_USERNAME)
        self.emulator.now = lambda: self.clock.now().timestamp()  # invoices and links on the sandbox's clock
        self.whatsapp = WhatsAppEmulator()  # Kartu's WhatsApp number, for customers who chat there
        self.whatsapp.now = lambda: self.clock.now().timestamp()  # the 24-hour window on the same clock
        self.whatsapp.listeners.append(self.emulator.changed)  # the page follows WhatsApp chats too
        self.state = SandboxState()
        self.clock = MovableClock()
        self.app: Any = None
        self._polling: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._time_lock = asyncio.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        from kartu.bot.app import build_app, run_polling
        from kartu.scheduler.dispatcher import OutboxDispatcher
        from kartu.scheduler.pacing import Pacer

        database, state_file = self.directory / SANDBOX_DATABASE, self.directory / SANDBOX_STATE
        if self.reset:
            for path in (
                database,
                state_file,
                database.with_name(database.name + "-wal"),
                database.with_name(database.name + "-shm"),
            ):
                path.unlink(missing_ok=True)
        loaded = SandboxState.load(state_file)
        fresh = loaded is None or not database.exists()
        self.state = SandboxState() if fresh else loaded  # type: ignore[assignment]
        self.clock = MovableClock(timedelta(seconds=self.state.offset_seconds))
        await self.emulator.start()
        self.emulator.users_started(*(person.id for person in self.state.people))
        await self.whatsapp.start()
        for person in self.state.people:  # WhatsApp users of an earlier run, by the ids Kartu knows
            if person.channel == "whatsapp" and person.address:
                self.whatsapp.restore(person.address, person.name, person.language)
        whatsapp_port = free_port(self.host)
        self.whatsapp.webhook_url = f"http://{self.host}:{whatsapp_port}/whatsapp/webhook"
        values: dict[str, Any] = dict(
            _env_file=None,
            bot_token=self.emulator.token,
            telegram_api_url=self.emulator.url,
            database_url=f"sqlite+aiosqlite:///{database}",
            scheduler="inline",
            polling_timeout=10,
            flood_burst=200,
            bot_username=BOT_USERNAME,
            admin_ids=frozenset({OWNER}),
            public_url=MINI_APP_ORIGIN,  # Mini App buttons as Telegram takes them (https); opened here
            whatsapp_port=whatsapp_port,
            **self.whatsapp.settings(),
        )
        settings = Settings(**values)
        self.app = build_app(settings, self.clock)
        self.dispatcher = OutboxDispatcher(
            self.app.bot,
            self.app.services,
            self.app.i18n,
            Pacer(rate=settings.send_rate, per_chat_interval=0.0),
        )
        if self.app.whatsapp is not None:
            self.dispatcher.whatsapp = self.app.whatsapp.courier
        self._polling = asyncio.create_task(run_polling(self.app, handle_signals=False))
        await self.emulator.wait_for(lambda: self.emulator.state.commands, 30)
        if fresh:
            await self._demo()
        web_app = web.Application()
        add_health_routes(web_app, self.app.services, settings)
        add_miniapp_routes(web_app, self.app.services, settings, self.app.i18n)
        web_app.add_routes(
            [
                web.get("/", self._page),
                web.get("/api/state", self._state),
                web.get("/api/text", self._text),
                web.get("/api/chat/{person}", self._chat),
                web.get("/api/file/{message}", self._file),
                web.get("/api/wafile/{media}", self._whatsapp_file),
                web.get("/api/events", self._events),
                web.post("/api/send", self._send),
                web.post("/api/press", self._press),
                web.post("/api/people", self._add_person),
                web.post("/api/time", self._travel),
                web.post("/api/pay", self._pay),
                web.post("/api/miniapp", self._open_mini_app),
                web.post("/api/miniapp/data", self._mini_app_data),
                web.get("/api/code/{person}", self._code_of),
                web.get("/sandbox/telegram-web-app.js", self._bridge),
            ]
        )
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.app is not None and self._polling is not None:
            if self.app.dispatcher._running_lock.locked():
                stopping = asyncio.create_task(self.app.dispatcher.stop_polling())
                await self.emulator.release_pollers()
                await stopping
            await asyncio.wait_for(self._polling, 30)
        await self.emulator.stop()
        await self.whatsapp.stop()
        self._save()

    def _save(self) -> None:
        self.state.offset_seconds = self.clock.offset.total_seconds()
        self.state.save(self.directory / SANDBOX_STATE)

    # -- the demo shop ----------------------------------------------------------------------
    def _user(self, person: Person) -> TelegramUser:
        return TelegramUser(self.emulator, person.id, person.name, person.language)

    async def _demo(self) -> None:
        """A business with two outlets (Kopi Senja and its Plaza Senayan branch), its owner, a barista
        at the first and the branch's manager, customers with some history at each, all through the bot."""
        owner = Person(OWNER, "Sari", "id", "owner")
        staff = Person(STAFF, "Budi", "id", "staff")
        ayu = Person(FIRST_CUSTOMER, "Ayu", "id", "customer")
        rizky = Person(FIRST_CUSTOMER + 1, "Rizky", "en", "customer")
        self.state.people = [owner, staff, ayu, rizky]
        from kartu.loyalty.program import DEFAULT_REWARD_NAMES, ProgramRules

        # A short card (6 stamps) so a reward is two purchases away for Ayu; a survey an hour after each visit.
        # The shop is Indonesian (so is its owner): its reward is named in Indonesian.
        rules = ProgramRules(
            stamps_required=6,
            survey_delay_minutes=60,
            survey_every_days=1,
            reward_name=DEFAULT_REWARD_NAMES["id"],
        )
        created = await self.app.services.merchants.create_merchant("Kopi Senja", OWNER, rules=rules)
        await self.app.services.merchants.add_outlet(
            created.slug, "Plaza Senayan", address="Plaza Senayan Lt. 3, Jl. Asia Afrika 8, Jakarta"
        )
        made = Person(FIRST_CUSTOMER + 3, "Made", "id", "manager")  # runs the Plaza Senayan outlet
        self.state.people.append(made)
        users = {person.id: self._user(person) for person in self.state.people}
        await users[OWNER].ask("/start")
        for hired, button, outlet in ((STAFF, "➕", "📍 Kopi Senja"), (made.id, "🧭", "📍 Plaza Senayan")):
            team = await users[OWNER].ask("/staff")
            await users[OWNER].press(team, button)
            await users[OWNER].press(await users[OWNER].next_message(), outlet)  # which outlet
            invite = await users[OWNER].next_message()
            token = re.search(r"start=(staff_[\w-]+)", invite.body)
            assert token is not None
            await users[hired].ask(f"/start {token.group(1)}")
        # Ayu is a regular at the first outlet; Rizky joined at the Plaza Senayan branch.
        for person, visits, at, link in (
            (ayu, 4, STAFF, f"m_{created.slug}"),
            (rizky, 1, made.id, f"o_{created.slug}-plaza-senayan"),
        ):
            welcome = await users[person.id].ask(f"/start {link}")
            code = re.search(r"<code>([0-9A-Z-]+)</code>", welcome.body)
            assert code is not None
            prompt = await users[at].ask(f"/stamp {code.group(1)} {visits}")
            await users[at].press(prompt, "Konfirmasi")
            await users[person.id].next_message()
        if self.app.whatsapp is not None:  # Wulan came by the WhatsApp poster's QR
            wa = self.whatsapp.user("Wulan", language="id")
            wulan = Person(FIRST_CUSTOMER + 2, "Wulan", "id", "customer", "whatsapp", wa.bsuid)
            self.state.people.append(wulan)
            question = await self._whatsapp_reply(
                wa, lambda: self.whatsapp.write(wa, f"GABUNG {created.slug}")
            )
            await self._whatsapp_reply(wa, lambda: self.whatsapp.tap(wa, question, question.buttons()[0]), 3)
            async with self.app.db.read() as uow:
                found = await uow.people.by_caller(whatsapp_user(wa.bsuid))
            assert found is not None
            prompt = await users[STAFF].ask(f"/stamp {found.personal_code} 2")
            await self._whatsapp_reply(wa, lambda: users[STAFF].press(prompt, "Konfirmasi"))
        self._save()

    async def _whatsapp_reply(
        self, user: WaUser, act: Callable[[], Awaitable[Any]], count: int = 1
    ) -> WaSent:
        """Do ``act`` and wait for Kartu's ``count`` answers on WhatsApp; the first of them."""
        seen = len(self.whatsapp.messages_to(user))
        await act()
        await self.whatsapp.wait_for(lambda: len(self.whatsapp.messages_to(user)) >= seen + count, 30)
        return self.whatsapp.messages_to(user)[seen]

    # -- the page's API ---------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        page = resources.files("kartu.sandbox").joinpath("static/index.html").read_text(encoding="utf-8")
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def _text(self, request: web.Request) -> web.Response:
        """The page's strings in the browser's language (Indonesian or English)."""
        wanted = request.query.get("lang") or request.headers.get("Accept-Language") or ""
        locale = "id" if wanted.lower().startswith("id") else "en"
        return web.json_response(
            {key: self.app.i18n.gettext(text, locale=locale) for key, text in PAGE_TEXT.items()}
            | {"lang": locale}
        )

    def _person(self, person_id: int) -> Person:
        for person in self.state.people:
            if person.id == person_id:
                return person
        raise web.HTTPNotFound(text="no such person")

    async def _state(self, request: web.Request) -> web.Response:
        people = []
        for person in self.state.people:
            seen = self.state.read.get(person.id, 0)
            if person.channel == "whatsapp":
                unread = sum(
                    1
                    for number, event in enumerate(self.whatsapp.timeline, 1)
                    if number > seen and isinstance(event, WaSent) and event.user.bsuid == person.address
                )
            else:
                unread = sum(
                    1 for message in self.emulator.messages_to(person.id) if message.message_id > seen
                )
            people.append(
                {
                    **person.as_json(),
                    "unread": unread,
                    "commands": []  # WhatsApp has no command menu: words are typed
                    if person.channel == "whatsapp"
                    else self.emulator.commands_for(person.id, person.language),
                }
            )
        return web.json_response(
            {
                "bot": BOT_USERNAME,
                "clock": self.clock.now().isoformat(),
                "version": self.emulator.version,
                "people": people,
                "commands": self.emulator.state.commands.get("", []),
                "commands_by_language": self.emulator.state.commands,
            }
        )

    def _transcript(self, person: Person) -> list[dict[str, Any]]:
        """Both sides of the person's chat, oldest first (user and bot messages share one id counter)."""
        entries: list[tuple[int, dict[str, Any]]] = []
        for update in self.emulator.state.pushed.values():
            message = update.get("message")
            if message and message.get("chat", {}).get("id") == person.id and "text" in message:
                entries.append(
                    (
                        message["message_id"],
                        {
                            "id": message["message_id"],
                            "from": "user",
                            "text": message["text"],
                            "date": message.get("date", 0),
                        },
                    )
                )
        for sent in self.emulator.messages_to(person.id):
            entries.append((sent.message_id, self._bubble(sent)))
        return [entry for _, entry in sorted(entries, key=lambda item: item[0])]

    @staticmethod
    def _bubble(sent: SentMessage) -> dict[str, Any]:
        markup = sent.reply_markup or {}
        return {
            "id": sent.message_id,
            "from": "bot",
            "date": sent.date,
            "text": sent.plain,
            "entities": [
                {"type": e.type, "offset": e.offset, "length": e.length, "url": e.url} for e in sent.entities
            ],
            "photo": sent.photo is not None,
            "animation": sent.method == "sendAnimation",  # drawn inline, as Telegram plays it
            "document": sent.document_name if sent.method == "sendDocument" else None,
            "venue": list(sent.venue) if sent.venue else None,
            "edited": sent.edits > 0,
            "inline_keyboard": [
                [
                    {
                        "text": b["text"],
                        "data": b.get("callback_data"),
                        "url": b.get("url"),
                        "web_app": (b.get("web_app") or {}).get("url"),
                    }
                    for b in row
                ]
                for row in markup.get("inline_keyboard") or []
            ],
            "keyboard": [
                [
                    {"text": b["text"], "web_app": (b.get("web_app") or {}).get("url")}
                    if isinstance(b, dict)
                    else {"text": b, "web_app": None}
                    for b in row
                ]
                for row in markup.get("keyboard") or []
            ],
        }

    def _whatsapp_transcript(self, person: Person) -> list[dict[str, Any]]:
        """A WhatsApp chat as the customer sees it: what they wrote or tapped, what Kartu sent."""
        entries: list[dict[str, Any]] = []
        for number, event in enumerate(self.whatsapp.timeline, 1):
            if event.user.bsuid != person.address:
                continue
            if isinstance(event, WaWritten):
                entries.append({"id": number, "from": "user", "text": event.text, "date": int(event.at)})
                continue
            bubble: dict[str, Any] = {
                "id": number,
                "from": "bot",
                "whatsapp": True,
                "text": event.text,
                "date": int(event.at),
            }
            if event.type in ("image", "document"):
                media = event.payload[event.type]
                bubble[event.type] = media.get("id")
                bubble["filename"] = media.get("filename")
            if event.type == "interactive":
                interactive = event.payload["interactive"]
                if interactive["type"] == "button":
                    bubble["buttons"] = event.buttons()
                elif interactive["type"] == "list":
                    rows = [row for section in interactive["action"]["sections"] for row in section["rows"]]
                    bubble["list"] = {
                        "label": interactive["action"]["button"],
                        "rows": [
                            {"title": r["title"], "description": r.get("description", "")} for r in rows
                        ],
                    }
                elif interactive["type"] == "cta_url":
                    parameters = interactive["action"]["parameters"]
                    bubble["link"] = {"text": parameters["display_text"], "url": parameters["url"]}
            entries.append(bubble)
        return entries

    async def _chat(self, request: web.Request) -> web.Response:
        person = self._person(int(request.match_info["person"]))
        if person.channel == "whatsapp":
            entries = self._whatsapp_transcript(person)
            self.state.read[person.id] = max([e["id"] for e in entries if e["from"] == "bot"], default=0)
            return web.json_response(
                {
                    "person": person.as_json(),
                    "messages": entries,
                    "keyboard": [],
                    "number": self.whatsapp.display_number,
                }
            )
        transcript = self._transcript(person)
        keyboard: list[list[str]] = []
        for sent in self.emulator.messages_to(person.id):  # the latest reply keyboard stays until replaced
            if (sent.reply_markup or {}).get("keyboard"):
                keyboard = self._bubble(sent)["keyboard"]
        self.state.read[person.id] = max(
            [entry["id"] for entry in transcript if entry["from"] == "bot"], default=0
        )
        return web.json_response({"person": person.as_json(), "messages": transcript, "keyboard": keyboard})

    async def _file(self, request: web.Request) -> web.Response:
        message_id = int(request.match_info["message"])
        for sent in self.emulator.state.sent:
            if sent.message_id == message_id and (sent.photo or sent.document):
                if sent.photo:
                    return web.Response(body=sent.photo, content_type="image/png")
                if sent.method == "sendAnimation":
                    return web.Response(body=sent.document, content_type="image/gif")
                return web.Response(
                    body=sent.document,
                    content_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{sent.document_name or "file"}"'},
                )
        raise web.HTTPNotFound(text="no such file")

    async def _whatsapp_file(self, request: web.Request) -> web.Response:
        media = self.whatsapp.media.get(request.match_info["media"])
        if media is None:
            raise web.HTTPNotFound(text="no such file")
        content, mime, filename = media
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else {}
        return web.Response(body=content, content_type=mime, headers=headers)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: one "changed" each time anything happens, so every open tab follows."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen = -1
        try:
            while True:
                try:
                    await self.emulator.wait_for(partial(self._changed_since, seen), timeout=15)
                except TimeoutError:
                    await response.write(b": still here\n\n")
                    continue
                seen = self.emulator.version
                await response.write(f"data: {seen}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    def _changed_since(self, seen: int) -> bool:
        return self.emulator.version != seen

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="expected JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        return body

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        person = self._person(int(body.get("person", 0)))
        text = str(body.get("text") or "")
        if not text.strip():
            raise web.HTTPBadRequest(text="empty message")
        if person.channel == "whatsapp":
            await self.whatsapp.write(self._whatsapp_user(person), text[:4096])
            return web.json_response({"ok": True})
        await self._user(person).send(text[:4096])
        return web.json_response({"ok": True})

    def _whatsapp_user(self, person: Person) -> WaUser:
        user = self.whatsapp.users.get(person.address or "")
        if user is None:
            raise web.HTTPNotFound(text="no such WhatsApp user")
        return user

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        person = self._person(int(body.get("person", 0)))
        if person.channel == "whatsapp":  # a reply button or a list row, by its title
            number, title = int(body.get("message", 0)), str(body.get("title") or "")
            event = self.whatsapp.timeline[number - 1] if 0 < number <= len(self.whatsapp.timeline) else None
            if (
                not isinstance(event, WaSent)
                or event.user.bsuid != person.address
                or title not in event.buttons()
            ):
                raise web.HTTPBadRequest(text="no such button")
            await self.whatsapp.tap(self._whatsapp_user(person), event, title)
            return web.json_response({"ok": True})
        message_id, data = int(body.get("message", 0)), str(body.get("data") or "")
        target = next((m for m in self.emulator.messages_to(person.id) if m.message_id == message_id), None)
        if target is None or data not in {b.get("callback_data") for b in target.buttons()}:
            raise web.HTTPBadRequest(text="no such button")
        answer = await self._user(person).press(target, data=data)
        return web.json_response({"ok": True, "answer": answer.text, "alert": answer.show_alert})

    async def _pay(self, request: web.Request) -> web.Response:
        """The person pays a Stars invoice the bot sent them (as the Telegram app would)."""
        body = await self._body(request)
        person = self._person(int(body.get("person", 0)))
        link = str(body.get("link") or "")
        if link not in self.emulator.invoices:
            raise web.HTTPBadRequest(text="no such invoice")
        charge = await self.emulator.pay(self._user(person)._user(), link)
        return web.json_response({"paid": charge is not None})

    # -- Mini Apps: the Telegram.WebApp bridge the pages use, as the Telegram app provides it ---------
    async def _open_mini_app(self, request: web.Request) -> web.Response:
        """A Mini App button tapped: the page's local address, with launch data signed for the
        person by the sandbox bot's token (as Telegram signs it)."""
        body = await self._body(request)
        person = self._person(int(body.get("person", 0)))
        url = str(body.get("url") or "")
        if not url.startswith(MINI_APP_ORIGIN + "/webapp/"):
            raise web.HTTPBadRequest(text="not one of Kartu's Mini App pages")
        user = {"id": person.id, "first_name": person.name, "language_code": person.language}
        launch = signed_init_data(self.emulator.token, user, self.clock.now())
        joiner = "&" if "?" in url else "?"
        local = url.removeprefix(MINI_APP_ORIGIN) + joiner + urlencode({"sandbox": "1", "init": launch})
        return web.json_response({"url": local})

    async def _mini_app_data(self, request: web.Request) -> web.Response:
        """What the page sent (Telegram.WebApp.sendData): a web_app_data message from the person,
        from the keyboard button that opened it."""
        body = await self._body(request)
        person = self._person(int(body.get("person", 0)))
        label, data = str(body.get("label") or ""), str(body.get("data") or "")
        opened_from = next(
            (
                sent
                for sent in reversed(self.emulator.messages_to(person.id))
                if label in (sent.keyboard_labels() or [])
            ),
            None,
        )
        if opened_from is None:
            raise web.HTTPBadRequest(text="no such Mini App button")
        await self._user(person).send_web_app_data(opened_from, label, data[:4096])
        return web.json_response({"ok": True})

    async def _code_of(self, request: web.Request) -> web.Response:
        """The QR a customer shows (their code at their current shop), for the page's scanner."""
        person = self._person(int(request.match_info["person"]))
        caller: Caller = whatsapp_user(person.address or "") if person.channel == "whatsapp" else person.id
        try:
            card = await self.app.services.customers.card(caller)
        except LoyaltyError:
            raise web.HTTPNotFound(text="no card") from None
        return web.json_response({"code": format_code(card.personal_code)})

    async def _bridge(self, request: web.Request) -> web.Response:
        script = (
            resources.files("kartu.sandbox")
            .joinpath("static/telegram-web-app.js")
            .read_text(encoding="utf-8")
        )
        return web.Response(text=script, content_type="application/javascript", charset="utf-8")

    async def _add_person(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = " ".join(str(body.get("name") or "").split())[:NAME_MAX]
        language = "en" if body.get("language") == "en" else "id"
        if not name:
            raise web.HTTPBadRequest(text="a name, please")
        whatsapp = body.get("channel") == "whatsapp"
        person = Person(
            max(p.id for p in self.state.people) + 1 if self.state.people else FIRST_CUSTOMER,
            name,
            language,
            "customer",
            "whatsapp" if whatsapp else "telegram",
            self.whatsapp.user(name, language=language).bsuid if whatsapp else None,
        )
        self.state.people.append(person)
        self._save()
        await self.emulator.changed()
        return web.json_response(person.as_json())

    async def _travel(self, request: web.Request) -> web.Response:
        """Move the clock, then do what the scheduler would have done meanwhile."""
        step = TIME_STEPS.get(str((await self._body(request)).get("step")))
        if step is None:
            raise web.HTTPBadRequest(text="unknown step")
        async with self._time_lock:
            self.clock.offset += step
            self._save()
            await self.emulator.renew_due()  # Telegram renews Stars subscriptions whose period ended
            report = await self.app.services.upkeep.sweep()
            sent = await self.dispatcher.drain()
            from kartu.scheduler.dispatcher import report_broadcast_progress

            await report_broadcast_progress(self.app.bot, self.app.services, self.app.i18n)
        await self.emulator.changed()
        return web.json_response(
            {"clock": self.clock.now().isoformat(), "expired": report.cards_expired, "sent": sent.sent}
        )


async def serve(
    directory: Path,
    port: int,
    reset: bool,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """`kartu sandbox` (and `kartu run` without a token) until ``stop`` is set."""
    sandbox = Sandbox(directory, port=port, reset=reset)
    await sandbox.start()
    try:
        if ready is not None:
            ready.set()
        await (stop or asyncio.Event()).wait()
    finally:
        await sandbox.stop()
