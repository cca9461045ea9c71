"""A strict local WhatsApp Cloud API (aiohttp, 127.0.0.1), as the Telegram emulator is for the Bot
API: the Graph API Kartu sends through (``POST /{version}/{phone_number_id}/messages`` and
``/media``) and Meta's side of the webhook (signed message and status payloads, posted again and
out of order when a test asks, and the verify-token handshake).

It refuses what Meta refuses, with Meta's error codes and shape (pywa raises its own exception
for each): text over 4,096 characters; interactive bodies over 1,024; more than 3 reply buttons
or a title over 20; a list of more than 10 rows, a row title over 24, a description over 72; a
link button's text over 20; a caption over 1,024; media ids it never issued; a message outside
the customer's 24-hour service window (131047); more than Meta's pair rate to one person
(131056: a burst of 45, then one every 6 seconds) or the number's throughput (130429: 80 a
second); an unknown access token (190) or phone number id (100). One refusal is its own, not
Meta's: Telegram HTML in a text (``<b>``) is refused as a bug, since WhatsApp would show the tags.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.web_request import FileField

from kartu.sandbox.serving import serve_on_free_port

WINDOW = 24 * 3600  # seconds a customer's message keeps the service window open
PAIR_BURST, PAIR_INTERVAL = 45, 6.0  # messages to one person at once, then one every 6 s
NUMBER_RATE = 80  # messages a second from one business number
TEXT_MAX = 4096
BODY_MAX = 1024  # an interactive message's body
HEADER_MAX = FOOTER_MAX = 60
BUTTONS_MAX, BUTTON_TITLE_MAX, BUTTON_ID_MAX = 3, 20, 256
LIST_BUTTON_MAX, ROWS_MAX, SECTIONS_MAX = 20, 10, 10
ROW_TITLE_MAX, ROW_DESCRIPTION_MAX, ROW_ID_MAX, SECTION_TITLE_MAX = 24, 72, 200, 24
LINK_TEXT_MAX = 20
CAPTION_MAX = 1024
MEDIA_MAX = {"image": 5 * 1024 * 1024, "document": 100 * 1024 * 1024}
MEDIA_TYPES = {"image": ("image/jpeg", "image/png")}
HTML_TAG = re.compile(r"</?(b|i|u|s|code|pre|a|tg-spoiler|blockquote|strong|em)(\s[^>]*)?>", re.IGNORECASE)


class MetaRefusal(Exception):
    """An error answer of the Graph API: HTTP status, Meta's code, message and details."""

    def __init__(self, code: int, message: str, details: str = "", status: int = 400) -> None:
        super().__init__(f"({code}) {message}: {details}")
        self.code, self.message, self.details, self.status = code, message, details, status

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details},
                "fbtrace_id": "A" + secrets.token_hex(10),
            }
        }


def _invalid(details: str) -> MetaRefusal:
    return MetaRefusal(131009, "(#131009) Parameter value is not valid", details)


def _missing(details: str) -> MetaRefusal:
    return MetaRefusal(131008, "(#131008) Required parameter is missing", details)


@dataclass
class _Bucket:
    """Meta's allowance: ``size`` at once, refilled at ``rate`` a second."""

    size: float
    rate: float
    level: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        if self.level < 0:
            self.level, self.at = self.size, now
        self.level = min(self.size, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level < 1:
            return False
        self.level -= 1
        return True


@dataclass
class WaUser:
    """A WhatsApp user: their business-scoped user id, their phone where Meta shares it."""

    bsuid: str
    name: str
    wa_id: str | None = None
    language: str = "id"
    last_inbound: float | None = None  # when they last wrote: the service window's start
    pace: _Bucket = field(default_factory=lambda: _Bucket(PAIR_BURST, 1 / PAIR_INTERVAL))

    def contact(self) -> dict[str, Any]:
        contact: dict[str, Any] = {"profile": {"name": self.name}, "user_id": self.bsuid}
        if self.wa_id:
            contact["wa_id"] = self.wa_id
        return contact


@dataclass
class WaSent:
    """A message the business sent: as posted, and as the customer sees it."""

    id: str
    user: WaUser
    type: str
    payload: dict[str, Any]
    at: float
    category: str  # what Meta bills it as: service (inside the window), or the template's

    @property
    def text(self) -> str:
        """What the customer reads: the text, an interactive body, or a caption."""
        if self.type == "text":
            return str(self.payload["text"]["body"])
        if self.type == "interactive":
            return str(self.payload["interactive"]["body"]["text"])
        if self.type in ("image", "document"):
            return str(self.payload[self.type].get("caption", ""))
        return ""

    def buttons(self) -> list[str]:
        """Reply buttons' titles, or a list's rows' titles, as the customer can tap them."""
        if self.type != "interactive":
            return []
        action = self.payload["interactive"]["action"]
        if self.payload["interactive"]["type"] == "button":
            return [button["reply"]["title"] for button in action["buttons"]]
        if self.payload["interactive"]["type"] == "list":
            return [row["title"] for section in action["sections"] for row in section["rows"]]
        return []

    def choice(self, title: str) -> dict[str, Any]:
        """The button or row with this title (what a tap sends back)."""
        action = self.payload["interactive"]["action"]
        if self.payload["interactive"]["type"] == "button":
            for button in action["buttons"]:
                if button["reply"]["title"] == title:
                    return {"type": "button_reply", "button_reply": dict(button["reply"])}
        else:
            for section in action["sections"]:
                for row in section["rows"]:
                    if row["title"] == title:
                        chosen = {"id": row["id"], "title": row["title"]}
                        if row.get("description"):
                            chosen["description"] = row["description"]
                        return {"type": "list_reply", "list_reply": chosen}
        raise AssertionError(f"no choice {title!r} on {self.buttons()}")


@dataclass(frozen=True)
class WaWritten:
    """What a customer wrote, or the title of what they tapped."""

    user: WaUser
    text: str
    at: float = 0.0  # on Meta's clock


class WhatsAppEmulator:
    def __init__(
        self,
        *,
        phone_number_id: str = "106540352242922",
        display_number: str = "6281100009999",
        token: str = "wa-test-token",
        app_secret: str = "wa-test-app-secret",
        verify_token: str = "wa-test-verify",
        waba_id: str = "102290129340398",
        host: str = "127.0.0.1",
    ) -> None:
        self.phone_number_id, self.display_number = phone_number_id, display_number
        self.token, self.app_secret, self.verify_token, self.waba_id = (
            token,
            app_secret,
            verify_token,
            waba_id,
        )
        self.host, self.port = host, 0
        self.now: Callable[[], float] = time.time  # Meta's clock: the service window (tests give theirs)
        self.monotonic: Callable[[], float] = time.monotonic  # pacing
        self.users: dict[str, WaUser] = {}  # by bsuid, and by phone where known
        self.sent: list[WaSent] = []
        self.refused: list[MetaRefusal] = []
        self.read: set[str] = set()  # the customers' messages the business marked read
        self.media: dict[str, tuple[bytes, str, str | None]] = {}  # id -> content, mime type, filename
        self.templates: dict[str, str] = {}  # approved template name -> its category
        self.webhook_url: str | None = None
        self.posted: list[tuple[int, dict[str, Any]]] = []  # webhook posts: status, payload
        # Both sides of every chat in order: what customers wrote or tapped, what the business sent.
        self.timeline: list[WaSent | WaWritten] = []
        self.listeners: list[Callable[[], Awaitable[None]]] = []  # told of every change (the sandbox page)
        self._number = _Bucket(NUMBER_RATE, NUMBER_RATE)
        self._ids = itertools.count(1)
        self._bsuids = itertools.count(100_000_000_001)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    # -- life cycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """What KARTU_WHATSAPP_API_URL points at: Kartu's requests go here instead of graph.facebook.com."""
        return f"http://{self.host}:{self.port}"

    def settings(self) -> dict[str, str]:
        """The KARTU_WHATSAPP_* settings of a Kartu that talks to this emulator."""
        return {
            "whatsapp_phone_number_id": self.phone_number_id,
            "whatsapp_number": self.display_number,
            "whatsapp_access_token": self.token,
            "whatsapp_app_secret": self.app_secret,
            "whatsapp_verify_token": self.verify_token,
            "whatsapp_api_url": self.url,
        }

    async def start(self) -> str:
        app = web.Application(client_max_size=MEDIA_MAX["document"] + 1024 * 1024)
        app.router.add_post(r"/{version:v[0-9.]+}/{phone}/messages", self._messages)
        app.router.add_post(r"/{version:v[0-9.]+}/{phone}/media", self._upload)
        self._runner, self.port = await serve_on_free_port(app, self.host)
        return self.url

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- people ----------------------------------------------------------------------------------
    def user(self, name: str, phone: str | None = None, language: str = "id") -> WaUser:
        """A WhatsApp user; ``phone`` only where Meta shares it (without a username)."""
        person = WaUser(f"ID.{next(self._bsuids)}", name, phone, language)
        self.users[person.bsuid] = person
        if phone:
            self.users[phone] = person
        return person

    def restore(self, bsuid: str, name: str, language: str = "id") -> WaUser:
        """A user of an earlier run, by the id they had (new users' ids come after it)."""
        person = self.users[bsuid] = WaUser(bsuid, name, None, language)
        number = int(bsuid.removeprefix("ID."))
        self._bsuids = itertools.count(max(number + 1, next(self._bsuids)))
        return person

    def messages_to(self, user: WaUser) -> list[WaSent]:
        return [message for message in self.sent if message.user is user]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        async def until() -> Any:
            async with self._changed:
                while not (found := predicate()):
                    await self._changed.wait()
                return found

        return await asyncio.wait_for(until(), timeout)

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()
        for listener in self.listeners:
            await listener()

    # -- the Graph API -----------------------------------------------------------------------------
    def _authorised(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise MetaRefusal(190, "Invalid OAuth access token - Cannot parse access token", status=401)
        if request.match_info["phone"] != self.phone_number_id:
            raise MetaRefusal(
                100,
                f"Unsupported post request. Object with ID '{request.match_info['phone']}' does not exist",
            )

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            self._authorised(request)
            try:
                body = await request.json()
            except ValueError:
                raise MetaRefusal(100, "(#100) The parameter messaging_product is required.") from None
            answer = self._message(body if isinstance(body, dict) else {})
        except MetaRefusal as refusal:
            self.refused.append(refusal)
            return web.json_response(refusal.body(), status=refusal.status)
        await self._changed_now()
        return web.json_response(answer)

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("messaging_product") != "whatsapp":
            raise MetaRefusal(100, "(#100) The parameter messaging_product is required.")
        if body.get("status") == "read":  # marking the customer's message read
            if not isinstance(body.get("message_id"), str):
                raise _missing("message_id is required")
            self.read.add(body["message_id"])
            return {"success": True}
        recipient = body.get("recipient") or body.get("to")
        if not isinstance(recipient, str) or not recipient:
            raise _missing("to or recipient is required")
        user = self.users.get(recipient)
        if user is None:
            raise MetaRefusal(
                131026, "Message undeliverable", "The recipient is not a WhatsApp user of this test."
            )
        kind = body.get("type", "text")
        content = body.get(kind)
        if not isinstance(content, dict):
            raise _missing(f"the {kind} object is required")
        check = {
            "text": self._check_text,
            "interactive": self._check_interactive,
            "image": self._check_media,
            "document": self._check_media,
            "template": self._check_template,
            "reaction": lambda kind, content: None,
        }.get(kind)
        if check is None:
            raise MetaRefusal(131051, "Unsupported message type", f"{kind} is not a type this emulator sends")
        check(kind, content)
        now = self.now()
        category = self.templates.get(str(content.get("name")), "") if kind == "template" else "service"
        if kind != "template" and (user.last_inbound is None or now - user.last_inbound >= WINDOW):
            raise MetaRefusal(
                131047,
                "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the customer "
                "last replied to this number.",
            )
        moment = self.monotonic()
        if not self._number.take(moment):
            raise MetaRefusal(130429, "Rate limit hit", "Cloud API message throughput has been reached.")
        if not user.pace.take(moment):
            raise MetaRefusal(
                131056,
                "(Business Account, Consumer Account) pair rate limit hit",
                "Too many messages sent from the sender phone number to the same recipient phone "
                "number in a short period of time.",
            )
        message_id = "wamid." + secrets.token_urlsafe(24)
        self.sent.append(WaSent(message_id, user, kind, body, now, category))
        self.timeline.append(self.sent[-1])
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": user.wa_id or "", "user_id": user.bsuid}],
            "messages": [{"id": message_id, "message_status": "accepted"}],
        }

    def _check_text(self, kind: str, content: dict[str, Any]) -> None:
        _text(content.get("body"), TEXT_MAX, "text.body")

    def _check_interactive(self, kind: str, content: dict[str, Any]) -> None:
        _text((content.get("body") or {}).get("text"), BODY_MAX, "interactive.body.text")
        header = content.get("header")
        if header is not None:
            if header.get("type") != "text":
                raise _invalid("this emulator takes text headers only")
            _text(header.get("text"), HEADER_MAX, "interactive.header.text")
        if content.get("footer") is not None:
            _text(content["footer"].get("text"), FOOTER_MAX, "interactive.footer.text")
        action = content.get("action")
        if not isinstance(action, dict):
            raise _missing("interactive.action is required")
        match content.get("type"):
            case "button":
                buttons = action.get("buttons")
                if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
                    raise _invalid(f"interactive.action.buttons takes 1 to {BUTTONS_MAX} buttons")
                replies = [button.get("reply") or {} for button in buttons]
                for reply in replies:
                    _text(reply.get("title"), BUTTON_TITLE_MAX, "button title")
                    _text(reply.get("id"), BUTTON_ID_MAX, "button id")
                if len({reply["title"] for reply in replies}) < len(replies):
                    raise _invalid("Button titles must be unique")
                if len({reply["id"] for reply in replies}) < len(replies):
                    raise _invalid("Button ids must be unique")
            case "list":
                _text(action.get("button"), LIST_BUTTON_MAX, "interactive.action.button")
                sections = action.get("sections")
                if not isinstance(sections, list) or not 1 <= len(sections) <= SECTIONS_MAX:
                    raise _invalid(f"a list takes 1 to {SECTIONS_MAX} sections")
                rows = [row for section in sections for row in section.get("rows") or []]
                if not 1 <= len(rows) <= ROWS_MAX:
                    raise _invalid(f"a list takes 1 to {ROWS_MAX} rows in all")
                for section in sections:
                    if len(sections) > 1 or section.get("title") is not None:
                        _text(section.get("title"), SECTION_TITLE_MAX, "section title")
                for row in rows:
                    _text(row.get("title"), ROW_TITLE_MAX, "row title")
                    _text(row.get("id"), ROW_ID_MAX, "row id")
                    if row.get("description") is not None:
                        _text(row["description"], ROW_DESCRIPTION_MAX, "row description")
                if len({row["id"] for row in rows}) < len(rows):
                    raise _invalid("Row ids must be unique")
            case "cta_url":
                parameters = action.get("parameters") or {}
                _text(parameters.get("display_text"), LINK_TEXT_MAX, "cta_url display_text")
                if not str(parameters.get("url", "")).startswith(("https://", "http://")):
                    raise _invalid("cta_url needs an http(s) url")
            case other:
                raise MetaRefusal(131051, "Unsupported message type", f"interactive type {other!r}")

    def _check_media(self, kind: str, content: dict[str, Any]) -> None:
        if "id" in content:
            stored = self.media.get(str(content["id"]))
            if stored is None:
                raise MetaRefusal(131053, "Media upload error", f"Unknown media id {content['id']}")
        elif not str(content.get("link", "")).startswith("https://"):
            raise _missing(f"{kind}.id or an https {kind}.link is required")
        if content.get("caption") is not None:
            _text(content["caption"], CAPTION_MAX, f"{kind}.caption")

    def _check_template(self, kind: str, content: dict[str, Any]) -> None:
        if content.get("name") not in self.templates:
            raise MetaRefusal(
                132001, "Template name does not exist in the translation", str(content.get("name"))
            )

    async def _upload(self, request: web.Request) -> web.Response:
        try:
            self._authorised(request)
            form = await request.post()
            upload = form.get("file")
            if form.get("messaging_product") != "whatsapp" or not isinstance(upload, FileField):
                raise _missing("file and messaging_product are required")
            data = upload.file.read()
            mime = str(form.get("type") or upload.content_type)
            kind = "image" if mime.startswith("image/") else "document"
            if kind == "image" and mime not in MEDIA_TYPES["image"]:
                raise MetaRefusal(131053, "Media upload error", f"images are jpeg or png, not {mime}")
            if not data or len(data) > MEDIA_MAX[kind]:
                raise MetaRefusal(
                    131053, "Media upload error", f"a {kind} is 1 byte to {MEDIA_MAX[kind]} bytes"
                )
        except MetaRefusal as refusal:
            self.refused.append(refusal)
            return web.json_response(refusal.body(), status=refusal.status)
        media_id = str(next(self._ids) + 900_000_000_000)
        self.media[media_id] = (data, mime, upload.filename)
        return web.json_response({"id": media_id})

    # -- Meta's side of the webhook ----------------------------------------------------------------
    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    async def _client(self) -> ClientSession:
        if self._session is None:
            self._session = ClientSession()
        return self._session

    async def handshake(
        self, verify_token: str | None = None, challenge: str = "1158201444"
    ) -> tuple[int, str]:
        """Meta's GET when the webhook is set up: the app must echo the challenge for its token."""
        assert self.webhook_url is not None
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token or self.verify_token,
            "hub.challenge": challenge,
        }
        async with (await self._client()).get(self.webhook_url, params=params) as answer:
            return answer.status, await answer.text()

    async def post(self, payload: dict[str, Any], *, signature: str | None = None) -> int:
        """Post ``payload`` to the webhook as Meta does (signed with the app secret, unless a test
        forges ``signature``); the HTTP status it got."""
        assert self.webhook_url is not None
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature or self.signature(body),
        }
        async with (await self._client()).post(self.webhook_url, data=body, headers=headers) as answer:
            self.posted.append((answer.status, payload))
            return answer.status

    def _value(self, user: WaUser, **value: Any) -> dict[str, Any]:
        metadata = {"display_phone_number": self.display_number, "phone_number_id": self.phone_number_id}
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": metadata,
                                "contacts": [user.contact()],
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def inbound(
        self, user: WaUser, kind: str, content: dict[str, Any], context: str | None = None
    ) -> dict[str, Any]:
        """A message from ``user`` (its payload, not posted yet: a test may post it twice)."""
        message: dict[str, Any] = {
            "from_user_id": user.bsuid,
            "id": "wamid." + secrets.token_urlsafe(24),
            "timestamp": str(int(self.now())),
            "type": kind,
            kind: content,
        }
        if user.wa_id:
            message["from"] = user.wa_id
        if context:
            message["context"] = {"from": self.display_number, "id": context}
        return self._value(user, messages=[message])

    async def write(self, user: WaUser, text: str) -> dict[str, Any]:
        """The customer sends ``text``: the service window opens, the webhook gets it."""
        payload = self.inbound(user, "text", {"body": text})
        user.last_inbound = self.now()
        self.timeline.append(WaWritten(user, text, self.now()))
        await self._changed_now()
        await self.post(payload)
        return payload

    async def tap(self, user: WaUser, message: WaSent, title: str) -> dict[str, Any]:
        """The customer taps a reply button or picks a list row of ``message``."""
        payload = self.inbound(user, "interactive", message.choice(title), context=message.id)
        user.last_inbound = self.now()
        self.timeline.append(WaWritten(user, title, self.now()))
        await self._changed_now()
        await self.post(payload)
        return payload

    def status(self, message: WaSent, status: str) -> dict[str, Any]:
        """A status of a sent message (sent, delivered, read, failed) with what Meta bills."""
        entry: dict[str, Any] = {
            "id": message.id,
            "status": status,
            "timestamp": str(int(self.now())),
            "recipient_id": message.user.wa_id or "",
            "recipient_user_id": message.user.bsuid,
        }
        if status in ("sent", "delivered"):
            service = message.category == "service"
            entry["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": message.category}}
            entry["pricing"] = {
                "billable": not service,
                "pricing_model": "PMP",
                "category": message.category,
                "type": "free_customer_service" if service else "regular",
            }
        return self._value(message.user, statuses=[entry])


def _text(value: object, maximum: int, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _missing(f"{name} is required")
    if len(value) > maximum:
        raise _invalid(f"{name} is {len(value)} characters; at most {maximum}")
    if HTML_TAG.search(value):
        raise _invalid(f"{name} holds HTML ({HTML_TAG.search(value)[0]}): WhatsApp shows tags as they are")  # type: ignore[index]
