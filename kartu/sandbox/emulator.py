"""A Bot API emulator (aiohttp, 127.0.0.1) implementing the methods Kartu uses.

It keeps what the bot sent per chat, queues updates for long polling, and can be told to
fail a method (403 blocked, 429 with retry_after, 5xx) to test delivery paths.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.web_request import FileField

from kartu.sandbox.delivery import WebhookQueue
from kartu.sandbox.rules import (
    Entity,
    TelegramRefusal,
    check_answer_text,
    check_commands,
    check_markup,
    check_reaction,
    checked_text,
)
from kartu.sandbox.serving import serve_on_free_port

JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "scope",
    "reaction",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "prices",
}
UNAFFECTED_BY_OUTAGE = {"getupdates", "setwebhook", "deletewebhook", "getwebhookinfo", "getme"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "member_limit", "expire_date"}


@dataclass
class SentMessage:
    """A message the bot sent (and possibly edited since)."""

    message_id: int
    chat_id: int
    text: str | None = None
    caption: str | None = None
    photo: bytes | None = None
    file_id: str | None = None  # of the photo or document: what the bot may send again
    document: bytes | None = None
    document_name: str | None = None
    reply_markup: dict[str, Any] | None = None
    edits: int = 0
    edited_at: int | None = None
    deleted: bool = False
    method: str = "sendMessage"
    plain: str = ""  # the text or caption as Telegram shows it (markup parsed away)
    entities: list[Entity] = field(default_factory=list)
    venue: tuple[float, float] | None = None  # sendVenue: where
    date: int = 0  # when it was sent, on the emulator's clock (the sandbox's, moved by "+1 day")

    @property
    def body(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def inline_rows(self) -> list[list[dict[str, Any]]]:
        return list((self.reply_markup or {}).get("inline_keyboard") or [])

    def keyboard_labels(self) -> list[str]:
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [button["text"] if isinstance(button, dict) else button for row in rows for button in row]


@dataclass
class Failure:
    method: str
    error_code: int
    description: str
    chat_id: int | None = None
    retry_after: int | None = None
    times: int = 1


@dataclass
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool


@dataclass
class _State:
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    sent: list[SentMessage] = field(default_factory=list)
    answers: dict[str, CallbackAnswer] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # the default scope, by language
    chat_commands: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # BotCommandScopeChat
    reactions: dict[tuple[int, int], list[str]] = field(
        default_factory=dict
    )  # the bot's reaction to a user's message
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pushed: dict[int, dict[str, Any]] = field(default_factory=dict)
    refusals: list[tuple[str, str]] = field(default_factory=list)  # what a real Telegram would have refused


# Updates Telegram sends only to bots that ask for them in allowed_updates.
OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
INVITE_NAME_MAX = 32
# What a bot may upload (core.telegram.org/bots/api#sending-files): photos 10 MB, other files 50 MB.
UPLOAD_LIMITS = {"photo": 10 * 1024 * 1024, "animation": 50 * 1024 * 1024, "doc": 50 * 1024 * 1024}
MEMBER_LIMIT_MAX = 99_999


@dataclass
class Group:
    """A group or supergroup the bot was added to: who is in it, who is banned, its invite links."""

    chat_id: int
    title: str
    creator: int
    admins: dict[int, dict[str, Any]] = field(default_factory=dict)  # user id -> rights
    members: set[int] = field(default_factory=set)
    banned: set[int] = field(default_factory=set)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # invite link -> its ChatInviteLink
    joined_by: dict[str, list[int]] = field(default_factory=dict)  # invite link -> who used it

    def chat(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": "supergroup", "title": self.title}


class BotAPIEmulator:
    def __init__(
        self, token: str = "42:TEST-TOKEN", username: str = "kartu_test_bot", host: str = "127.0.0.1"
    ) -> None:
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":", 1)[0])
        self.host = host
        self.port = 0
        self.state = _State()
        self.failures: list[Failure] = []
        self._changed = asyncio.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self.files: dict[str, bytes] = {}  # file_id -> content: uploads, and photos users sent
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._limits: tuple[int, float] | None = None
        self._recent_sends: deque[float] = deque()
        self._chat_last_send: dict[int, float] = {}
        self.rate_limited = 0
        self.started: set[int] = set()  # users who wrote to the bot: the only ones it may message
        self._open_queries: set[str] = set()  # callback queries not answered yet
        self._polling = False
        self.version = 0  # grows with every change: the sandbox page follows it
        self.webhook: tuple[str, str | None] | None = None
        # Set by an in-process bot (sandbox/inprocess.py): pushed updates go straight to its dispatcher.
        self.deliver: Callable[[dict[str, Any]], Awaitable[Any]] | None = None
        self.webhook_statuses: list[int] = []
        self.latency = 0.0  # seconds each call but getUpdates takes
        self.webhook_queue: WebhookQueue | None = None  # set by `deliver_like_telegram`
        self._outage: tuple[float, int, str, int | None] | None = (
            None  # until, code, description, retry_after
        )
        self.groups: dict[int, Group] = {}
        self.invoices: dict[str, dict[str, Any]] = {}  # invoice link -> what it asks
        self.charges: dict[str, dict[str, Any]] = {}  # telegram_payment_charge_id -> the payment
        self.held_payments: dict[str, dict[str, Any]] = {}  # payments whose update waits (see `pay`)
        self.checkouts: dict[str, dict[str, Any]] = {}  # pre-checkout query id -> the bot's answer
        self.now: Callable[[], float] = time.time  # Telegram's clock (tests give it theirs): link expiry
        self.allowed_updates: set[str] | None = None  # None: Telegram's default (no opt-in updates)
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmessagereaction": self._set_reaction,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendanimation": self._send_animation,
            "sendvenue": self._send_venue,
            "createinvoicelink": self._create_invoice_link,
            "answerprecheckoutquery": self._answer_pre_checkout,
            "refundstarpayment": self._refund_star_payment,
            "edituserstarsubscription": self._edit_star_subscription,
            "editmessagetext": lambda params: self._edit(params, "text"),
            "editmessagecaption": lambda params: self._edit(params, "caption"),
            "editmessagereplymarkup": lambda params: self._edit(params, None),
            "answercallbackquery": self._answer_callback_query,
            "deletemessage": self._delete_message,
            "createchatinvitelink": self._create_invite_link,
            "banchatmember": self._ban_chat_member,
            "unbanchatmember": self._unban_chat_member,
            "sendchataction": lambda params: True,
            "close": lambda params: True,
            "logout": lambda params: True,
        }

    async def changed(self) -> None:
        """Tell whoever follows the emulator (tests, the sandbox page) that something changed."""
        async with self._changed:
            self._notify()

    def _notify(self) -> None:
        """Something changed (call with ``_changed`` held): wake whoever waits on it."""
        self.version += 1
        self._changed.notify_all()

    # -- life cycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        app = web.Application(client_max_size=UPLOAD_LIMITS["doc"] + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner, self.port = await serve_on_free_port(app, self.host)
        return self.url

    async def release_pollers(self) -> None:
        """Answer every waiting and future getUpdates at once, so a bot can stop without waiting."""
        async with self._changed:
            self._closing = True
            self._notify()

    async def stop(self) -> None:
        await self.release_pollers()
        if self.webhook_queue is not None:
            await self.webhook_queue.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests do --------------------------------------------------------------------
    def users_started(self, *user_ids: int) -> None:
        """These users opened the bot (for tests that create people without writing)."""
        self.started.update(user_ids)

    async def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        if kind in OPT_IN_UPDATES and kind not in (self.allowed_updates or set()) and self.deliver is None:
            return 0  # Telegram does not send it to a bot that did not ask for it
        sender = (payload.get("from") or {}).get("id")
        if isinstance(sender, int) and kind in ("message", "callback_query"):  # they wrote to the bot
            self.started.add(sender)
        if kind == "callback_query":
            self._open_queries.add(str(payload["id"]))
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self.state.pushed[update_id] = update
        for size in (payload.get("photo") or []) if kind == "message" else []:
            self.files.setdefault(
                size["file_id"], size["file_id"].encode()
            )  # what a user sent, the bot may forward
        if self.deliver is not None:  # an in-process bot handles it before the user's send returns
            await self.deliver(update)
            async with self._changed:
                self._notify()
            return update_id
        if self.webhook is not None and self.webhook_queue is not None:
            self.webhook_queue.push(update)  # posted in the background, again until taken
            return update_id
        if self.webhook is not None:
            await self.post_to_webhook(update)
            return update_id
        async with self._changed:
            self.state.updates.append(update)
            self._notify()
        return update_id

    async def redeliver(self, update_id: int) -> int:
        """Post an update to the webhook again, as Telegram does when it got no 200 in time."""
        return await self.post_to_webhook(self.state.pushed[update_id])

    def new_message_id(self) -> int:
        return next(self._message_ids)

    def fail(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        chat_id: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``, if given) fail."""
        self.failures.append(Failure(method.lower(), error_code, description, chat_id, retry_after, times))

    def deliver_like_telegram(self, *, timeout: float = 10.0, max_connections: int = 40) -> WebhookQueue:
        """Post updates to the webhook as Telegram does: in the background, each chat's in order,
        again later when a post gets no 2xx in ``timeout`` seconds (sandbox/delivery.py). Without
        it, `push_update` posts once and returns the status (tests of the receiver want that)."""
        self.webhook_queue = WebhookQueue(
            lambda: self.webhook, timeout=timeout, max_connections=max_connections
        )
        return self.webhook_queue

    def outage(self, error_code: int, seconds: float, *, retry_after: int | None = None) -> None:
        """Answer every method the bot calls (but getUpdates and the webhook's own) with
        ``error_code`` for ``seconds``: Telegram asking everyone to slow down (429, with
        ``retry_after``), or Telegram's servers failing (500, 502)."""
        description = {
            429: f"Too Many Requests: retry after {retry_after or 1}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(error_code, "Internal Server Error")
        self._outage = (time.monotonic() + seconds, error_code, description, retry_after)

    def _outage_failure(self, method: str) -> Failure | None:
        if self._outage is None or method in UNAFFECTED_BY_OUTAGE:
            return None
        until, error_code, description, retry_after = self._outage
        if time.monotonic() >= until:
            self._outage = None
            return None
        return Failure(method, error_code, description, retry_after=retry_after)

    def enforce_limits(self, per_second: int = 30, per_chat_interval: float = 1.0) -> None:
        """Answer 429 like Telegram when the bot sends more than ``per_second`` messages in
        any second, or two messages to one chat within ``per_chat_interval`` seconds."""
        self._limits = (per_second, per_chat_interval)

    def _over_limit(self, chat_id: object) -> bool:
        if self._limits is None:
            return False
        per_second, per_chat_interval = self._limits
        now = time.monotonic()
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        last = self._chat_last_send.get(chat_id) if isinstance(chat_id, int) else None
        if len(self._recent_sends) >= per_second or (last is not None and now - last < per_chat_interval):
            self.rate_limited += 1
            return True
        self._recent_sends.append(now)
        if isinstance(chat_id, int):
            self._chat_last_send[chat_id] = now
        return False

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.state.sent if message.chat_id == chat_id and not message.deleted]

    def callback_answer(self, callback_query_id: str) -> CallbackAnswer | None:
        return self.state.answers.get(callback_query_id)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every API call), then return it."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the bot did not do what was expected in time")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    continue

    # -- HTTP -----------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            params = await self._params(request)
        except ValueError:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: can't parse reply keyboard markup JSON object",
                },
                status=400,
            )
        if self.latency and request.match_info["method"].lower() != "getupdates":
            await asyncio.sleep(self.latency)  # a slow network (crash tests widen the window so)
        status, body = await self.call(request.match_info["method"], params)
        return web.json_response(body, status=status)

    async def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One Bot API call with already parsed parameters: the HTTP status and JSON body Telegram
        would answer. The HTTP server and the in-process session (sandbox/inprocess.py) share it."""
        method = method.lower()
        handler = self._handlers.get(method)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        failure = self._outage_failure(method) or self._take_failure(method, params)
        if (
            failure is None
            and method.startswith("send")
            and method != "sendchataction"
            and self._over_limit(params.get("chat_id"))
        ):
            failure = Failure(method, 429, "Too Many Requests: retry after 1", retry_after=1)
        if failure is not None:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.error_code,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            async with self._changed:
                self.state.calls.append((method, params))
                self._notify()
            return failure.error_code, body
        try:
            check_markup(params.get("reply_markup"), edit=method.startswith("edit"))
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except TelegramRefusal as refusal:
            async with self._changed:
                self.state.calls.append((method, params))
                self.state.refusals.append((method, refusal.description))
                self._notify()
            return refusal.error_code, {
                "ok": False,
                "error_code": refusal.error_code,
                "description": refusal.description,
            }
        if method != "getupdates":
            async with self._changed:
                self.state.calls.append((method, params))
                self._notify()
        return 200, {"ok": True, "result": result}

    @staticmethod
    def parse_fields(params: dict[str, Any]) -> dict[str, Any]:
        """Form fields as Telegram reads them: JSON objects decoded, ids as integers."""
        for key in list(params):
            value = params[key]
            if key in JSON_FIELDS and isinstance(value, str):
                params[key] = json.loads(value)
            elif key in INT_FIELDS and isinstance(value, str) and value.lstrip("-").isdigit():
                params[key] = int(value)
        return params

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, FileField):
                    params[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
        return self.parse_fields(params)

    def _take_failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and (
                failure.chat_id is None or failure.chat_id == params.get("chat_id")
            ):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    # -- methods --------------------------------------------------------------------------
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Kartu",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise TelegramRefusal(
                "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                409,
            )
        if self._polling:
            raise TelegramRefusal(
                "terminated by other getUpdates request; make sure that only one bot instance is running", 409
            )
        self._polling = True
        self._remember_allowed(params)
        try:
            return await self._wait_for_updates(params)
        finally:
            self._polling = False

    async def _wait_for_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 30.0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                while self.state.updates and self.state.updates[0]["update_id"] < offset:
                    self.state.updates.popleft()
                if self.state.updates:
                    return list(itertools.islice(self.state.updates, 0, limit))
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return []
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    return []

    def _remember_allowed(self, params: dict[str, Any]) -> None:
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):  # kept until the next call that names them, as Telegram does
            self.allowed_updates = {str(kind) for kind in allowed} or None

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise TelegramRefusal("Bad Request: secret token contains unallowed characters", 400)
        self._remember_allowed(params)
        self.webhook = (str(params["url"]), params.get("secret_token"))
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """As Telegram answers it: the URL (empty when polling), and the last error it met posting."""
        info: dict[str, Any] = {
            "url": self.webhook[0] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.webhook_queue.waiting if self.webhook_queue else 0,
        }
        failed = [status for status in self.webhook_statuses if not 200 <= status < 300]
        if self.webhook and self.webhook_statuses and failed and self.webhook_statuses[-1] == failed[-1]:
            info["last_error_date"] = int(self.now())
            info["last_error_message"] = f"Wrong response from the webhook: {failed[-1]}"
        return info

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def post_to_webhook(self, update: dict[str, Any], secret: str | None = "") -> int:
        """Deliver an update the way Telegram does in webhook mode; returns the HTTP status."""
        assert self.webhook is not None
        url, expected_secret = self.webhook
        token = expected_secret if secret == "" else secret  # "" means: the right secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with ClientSession() as session, session.post(url, json=update, headers=headers) as response:
            self.webhook_statuses.append(response.status)
            async with self._changed:
                self._notify()
            return response.status

    def _scope_chat(self, params: dict[str, Any]) -> int | None:
        """The chat of a BotCommandScopeChat (None for the default scope); other scopes are not
        used by Kartu and are refused rather than silently treated as default."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in ("default", "chat"):
            raise TelegramRefusal("unsupported scope in this emulator")
        if scope["type"] == "default":
            return None
        chat_id = scope.get("chat_id")
        if not isinstance(chat_id, int) or (chat_id > 0 and chat_id not in self.started):
            raise TelegramRefusal("chat not found")
        return chat_id

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        check_commands(params.get("commands"))
        chat_id = self._scope_chat(params)
        if chat_id is None:
            self.state.commands[params.get("language_code") or ""] = params.get("commands") or []
        else:
            self.state.chat_commands[chat_id] = params.get("commands") or []
        return True

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        chat_id = self._scope_chat(params)
        if chat_id is None:
            self.state.commands.pop(params.get("language_code") or "", None)
        else:
            self.state.chat_commands.pop(chat_id, None)
        return True

    def _set_reaction(self, params: dict[str, Any]) -> bool:
        """setMessageReaction on a message a user sent (the bot's own are not what Kartu reacts to)."""
        check_reaction(params.get("reaction") or [])
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        sent_by_user = any(
            (update.get("message") or {}).get("message_id") == message_id
            and (update.get("message") or {}).get("chat", {}).get("id") == chat_id
            for update in self.state.pushed.values()
        )
        if not sent_by_user:
            raise TelegramRefusal("message to react not found")
        self.state.reactions[(int(chat_id or 0), int(message_id or 0))] = [
            item["emoji"] for item in params.get("reaction") or []
        ]
        return True

    def reaction_to(self, chat_id: int, message_id: int) -> list[str]:
        return self.state.reactions.get((chat_id, message_id), [])

    def commands_for(self, chat_id: int, language: str | None) -> list[dict[str, Any]]:
        """The "/" menu a user sees, resolved as Telegram does: their chat's, else their
        language's, else the default."""
        if chat_id in self.state.chat_commands:
            return self.state.chat_commands[chat_id]
        return self.state.commands.get((language or "")[:2]) or self.state.commands.get("", [])

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": {"id": message.chat_id, "type": "private"},
            "from": self.bot_user(),
        }
        # What Telegram returns: the text as shown, with entities (not the HTML that was sent).
        entities = [
            {"type": e.type, "offset": e.offset, "length": e.length, **({"url": e.url} if e.url else {})}
            for e in message.entities
        ]
        if message.venue is not None:  # a venue has no text: its title and address are the venue's
            title, _, address = (message.text or "").partition("\n")
            location = {"latitude": message.venue[0], "longitude": message.venue[1]}
            data["venue"] = {"location": location, "title": title, "address": address}
            data["location"] = location
        elif message.text is not None:
            data["text"] = message.plain
            if entities:
                data["entities"] = entities
        if message.caption is not None:
            data["caption"] = message.plain
            if entities:
                data["caption_entities"] = entities
        if message.edited_at is not None:
            data["edit_date"] = message.edited_at
        if message.photo is not None:
            file_id = message.file_id
            data["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "width": 800,
                    "height": 560,
                    "file_size": len(message.photo),
                }
            ]
        if message.document is not None:
            file_id = message.file_id
            data["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": message.document_name,
                "file_size": len(message.document),
            }
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    def _file(self, params: dict[str, Any], key: str, kind: str) -> tuple[str | None, bytes, str]:
        """An uploaded file (given a new file_id) or one sent again by file_id, as Telegram
        does: an id it never issued is refused."""
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, tuple):
            if len(value[1]) > UPLOAD_LIMITS.get(kind, UPLOAD_LIMITS["doc"]):
                raise TelegramRefusal("Request Entity Too Large", 413)
            file_id = f"{kind}-{next(self._file_ids)}"
            self.files[file_id] = value[1]
            return value[0], value[1], file_id
        file_id = str(value)
        if file_id not in self.files:
            raise TelegramRefusal("wrong file identifier/HTTP URL specified")
        return None, self.files[file_id], file_id

    def _store(self, params: dict[str, Any], method: str, **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise TelegramRefusal("chat not found")
        if chat_id > 0 and chat_id not in self.started:
            raise TelegramRefusal("bot can't initiate conversation with a user", 403)
        message = SentMessage(
            message_id=self.new_message_id(),
            chat_id=chat_id,
            reply_markup=params.get("reply_markup"),
            method=method,
            date=int(self.now()),
            **content,
        )
        self.state.sent.append(message)
        return self._message_json(message)

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text") or ""
        plain, entities = checked_text(text, params.get("parse_mode"), caption=False)
        return self._store(params, "sendMessage", text=text, plain=plain, entities=entities)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        _, data, file_id = self._file(params, "photo", "photo")
        plain, entities = checked_text(params.get("caption"), params.get("parse_mode"), caption=True)
        return self._store(
            params,
            "sendPhoto",
            caption=params.get("caption"),
            photo=data,
            file_id=file_id,
            plain=plain,
            entities=entities,
        )

    def _send_animation(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, data, file_id = self._file(params, "animation", "animation")
        if (
            filename is not None
            and not data.startswith((b"GIF87a", b"GIF89a"))
            and not filename.endswith(".mp4")
        ):
            raise TelegramRefusal("wrong type of the web page content")  # an animation is a GIF or an MP4
        plain, entities = checked_text(params.get("caption"), params.get("parse_mode"), caption=True)
        return self._store(
            params,
            "sendAnimation",
            caption=params.get("caption"),
            document=data,
            document_name=filename or "animation.gif",
            file_id=file_id,
            plain=plain,
            entities=entities,
        )

    def _send_venue(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            latitude, longitude = float(params["latitude"]), float(params["longitude"])
        except (KeyError, TypeError, ValueError):
            raise TelegramRefusal("wrong latitude or longitude specified") from None
        title, address = str(params.get("title") or ""), str(params.get("address") or "")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise TelegramRefusal("wrong latitude or longitude specified")
        if not title.strip() or not address.strip():
            raise TelegramRefusal("venue title and address must be non-empty")
        return self._store(
            params,
            "sendVenue",
            text=f"{title}\n{address}",
            plain=f"{title}\n{address}",
            venue=(latitude, longitude),
        )

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, data, file_id = self._file(params, "document", "doc")
        plain, entities = checked_text(params.get("caption"), params.get("parse_mode"), caption=True)
        return self._store(
            params,
            "sendDocument",
            caption=params.get("caption"),
            document=data,
            file_id=file_id,
            document_name=filename,
            plain=plain,
            entities=entities,
        )

    def _find(self, params: dict[str, Any], purpose: str = "edit") -> SentMessage:
        for message in self.state.sent:
            if (
                message.chat_id == params.get("chat_id")
                and message.message_id == params.get("message_id")
                and not message.deleted
            ):
                return message
        raise TelegramRefusal(f"message to {purpose} not found")

    def _delete_message(self, params: dict[str, Any]) -> bool:
        self._find(params, "delete").deleted = True
        return True

    def _edit(self, params: dict[str, Any], field: str | None) -> dict[str, Any]:
        """editMessageText / editMessageCaption / editMessageReplyMarkup: ``field`` is what changes."""
        message = self._find(params)
        new_markup = params.get("reply_markup")
        if field == "text" and message.text is None:
            raise TelegramRefusal("there is no text in the message to edit")
        if field == "caption" and message.text is not None:
            raise TelegramRefusal("there is no caption in the message to edit")
        if field is not None:
            new_text = params.get(field) or ""
            plain, entities = checked_text(new_text, params.get("parse_mode"), caption=field == "caption")
            # Telegram compares what the message shows (text and entities), not the HTML sent.
            if (plain, entities) == (message.plain, message.entities) and new_markup == message.reply_markup:
                raise TelegramRefusal(
                    "message is not modified: specified new message content and reply markup are exactly the same "
                    "as a current content and reply markup of the message"
                )
            setattr(message, field, new_text)
            message.plain, message.entities = plain, entities
        elif new_markup == message.reply_markup:
            raise TelegramRefusal("message is not modified")
        message.reply_markup = new_markup
        message.edits += 1
        message.edited_at = int(time.time())
        return self._message_json(message)

    # -- groups: a level's private group ----------------------------------------------------
    def add_group(self, chat_id: int, title: str, creator: int) -> Group:
        """A group ``creator`` made (tests: then `promote_bot`)."""
        group = Group(chat_id, title, creator, admins={creator: {"status": "creator"}}, members={creator})
        self.groups[chat_id] = group
        return group

    def _member(self, user: dict[str, Any], status: str, **rights: Any) -> dict[str, Any]:
        return {"status": status, "user": user, **rights}

    async def promote_bot(
        self, chat_id: int, by: dict[str, Any], *, can_invite: bool = True, can_ban: bool = True
    ) -> int:
        """``by`` (a group admin) makes the bot an admin: the bot gets a my_chat_member update."""
        group = self.groups[chat_id]
        rights = {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": False,
            "can_manage_video_chats": False,
            "can_restrict_members": can_ban,
            "can_promote_members": False,
            "can_change_info": False,
            "can_invite_users": can_invite,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_send_welcome_messages": False,
        }
        group.admins[self.bot_id] = rights
        group.members.add(self.bot_id)
        return await self.push_update(
            "my_chat_member",
            {
                "chat": group.chat(),
                "from": by,
                "date": int(time.time()),
                "old_chat_member": self._member(self.bot_user(), "member"),
                "new_chat_member": self._member(self.bot_user(), "administrator", **rights),
            },
        )

    async def demote_bot(self, chat_id: int, by: dict[str, Any]) -> int:
        """``by`` takes the bot's admin rights away: it stays a member, and gets a my_chat_member update."""
        group = self.groups[chat_id]
        rights = group.admins.pop(self.bot_id)
        return await self.push_update(
            "my_chat_member",
            {
                "chat": group.chat(),
                "from": by,
                "date": int(time.time()),
                "old_chat_member": self._member(self.bot_user(), "administrator", **rights),
                "new_chat_member": self._member(self.bot_user(), "member"),
            },
        )

    async def join_by_link(self, user: dict[str, Any], invite_link: str) -> int:
        """``user`` opens an invite link: refused as Telegram refuses (unknown, revoked, expired,
        used up, banned); otherwise they join and bots that asked get a chat_member update."""
        group = next((group for group in self.groups.values() if invite_link in group.links), None)
        if group is None:
            raise TelegramRefusal("INVITE_HASH_INVALID")
        link, used = group.links[invite_link], group.joined_by.setdefault(invite_link, [])
        if link["is_revoked"] or (link.get("expire_date") and link["expire_date"] < self.now()):
            raise TelegramRefusal("INVITE_HASH_EXPIRED")
        if user["id"] in group.banned:
            raise TelegramRefusal("USER_BANNED_IN_CHANNEL")
        if link.get("member_limit") and len(used) >= link["member_limit"]:
            raise TelegramRefusal("USERS_TOO_MUCH")
        used.append(user["id"])
        group.members.add(user["id"])
        return await self.push_update(
            "chat_member",
            {
                "chat": group.chat(),
                "from": user,
                "date": int(time.time()),
                "old_chat_member": self._member(user, "left"),
                "new_chat_member": self._member(user, "member"),
                "invite_link": link,
            },
        )

    def _group_as_admin(self, params: dict[str, Any], right: str) -> Group:
        group = self.groups.get(int(params.get("chat_id") or 0))
        if group is None or self.bot_id not in group.members:
            raise TelegramRefusal("chat not found")
        rights = group.admins.get(self.bot_id)
        if rights is None or not rights.get(right):
            raise TelegramRefusal(
                "not enough rights to "
                + ("invite users" if right == "can_invite_users" else "restrict/unrestrict chat member")
            )
        return group

    def _create_invite_link(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group_as_admin(params, "can_invite_users")
        name = params.get("name")
        if name is not None and len(str(name)) > INVITE_NAME_MAX:
            raise TelegramRefusal("INVITE_LINK_NAME_INVALID")
        limit = params.get("member_limit")
        if limit is not None and not 1 <= int(limit) <= MEMBER_LIMIT_MAX:
            raise TelegramRefusal("member limit must be between 1 and 99999")
        joins = str(params.get("creates_join_request", "")).lower() == "true"
        if joins and limit is not None:
            raise TelegramRefusal("can't combine member limit with join request")
        link = {
            "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
            "creator": self.bot_user(),
            "creates_join_request": joins,
            "is_primary": False,
            "is_revoked": False,
        }
        if name is not None:
            link["name"] = str(name)
        if params.get("expire_date") is not None:
            link["expire_date"] = int(params["expire_date"])
        if limit is not None:
            link["member_limit"] = int(limit)
        group.links[str(link["invite_link"])] = link
        return link

    def _restrictable(self, params: dict[str, Any]) -> tuple[Group, int]:
        """The group and the user a ban or unban is for: refused for the group's admins."""
        group = self._group_as_admin(params, "can_restrict_members")
        user_id = int(params.get("user_id") or 0)
        if user_id in group.admins:
            raise TelegramRefusal(
                "can't remove chat owner"
                if user_id == group.creator
                else "user is an administrator of the chat"
            )
        return group, user_id

    def _ban_chat_member(self, params: dict[str, Any]) -> bool:
        group, user_id = self._restrictable(params)
        group.members.discard(user_id)
        group.banned.add(user_id)
        return True

    def _unban_chat_member(self, params: dict[str, Any]) -> bool:
        group, user_id = self._restrictable(params)
        if user_id in group.banned:
            group.banned.discard(user_id)
        elif str(params.get("only_if_banned", "")).lower() != "true":
            group.members.discard(user_id)  # unbanning a member removes them, unless only_if_banned
        return True

    # -- payments in Telegram Stars --------------------------------------------------------------
    def _create_invoice_link(self, params: dict[str, Any]) -> str:
        title, description = str(params.get("title") or ""), str(params.get("description") or "")
        payload, currency = str(params.get("payload") or ""), params.get("currency")
        if not 1 <= len(title) <= 32 or not 1 <= len(description) <= 255:
            raise TelegramRefusal("INVOICE_TITLE_EMPTY" if not title else "INVOICE_DESCRIPTION_INVALID")
        if not 1 <= len(payload.encode()) <= 128:
            raise TelegramRefusal("INVOICE_PAYLOAD_INVALID")
        prices = params.get("prices")
        if isinstance(prices, str):
            prices = json.loads(prices)
        if (
            currency != "XTR"
            or params.get("provider_token")
            or not isinstance(prices, list)
            or len(prices) != 1
        ):
            raise TelegramRefusal(
                "invalid currency, provider token or prices for a payment in Telegram Stars"
            )
        amount = int(prices[0].get("amount", 0))
        period = params.get("subscription_period")
        if period is not None and int(period) != 2_592_000:
            raise TelegramRefusal("SUBSCRIPTION_PERIOD_INVALID")
        if not 1 <= amount <= (10_000 if period is not None else 100_000):
            raise TelegramRefusal("STARS_INVOICE_INVALID")
        link = f"https://t.me/$invoice-{secrets.token_urlsafe(10)}"
        self.invoices[link] = {
            "payload": payload,
            "amount": amount,
            "title": title,
            "period": int(period) if period is not None else None,
        }
        return link

    def _answer_pre_checkout(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("pre_checkout_query_id"))
        if query_id not in self.checkouts or self.checkouts[query_id]:
            raise TelegramRefusal("query is too old and response timeout expired or query ID is invalid")
        ok = str(params.get("ok")).lower() == "true"
        if not ok and not params.get("error_message"):
            raise TelegramRefusal("ERROR_MESSAGE_EMPTY")
        self.checkouts[query_id] = {"ok": ok, "error_message": params.get("error_message")}
        return True

    def _charge(self, params: dict[str, Any]) -> dict[str, Any]:
        charge = self.charges.get(str(params.get("telegram_payment_charge_id")))
        if charge is None or charge["user_id"] != int(params.get("user_id") or 0):
            raise TelegramRefusal("CHARGE_ID_INVALID")
        return charge

    def _refund_star_payment(self, params: dict[str, Any]) -> bool:
        charge = self._charge(params)
        if charge["refunded"]:
            raise TelegramRefusal("CHARGE_ALREADY_REFUNDED")
        charge["refunded"] = True
        return True

    def _edit_star_subscription(self, params: dict[str, Any]) -> bool:
        charge = self._charge(params)
        if charge.get("period") is None:
            raise TelegramRefusal("SUBSCRIPTION_ID_INVALID")
        charge["canceled"] = str(params.get("is_canceled")).lower() == "true"
        return True

    async def pay(
        self,
        user: dict[str, Any],
        link: str,
        *,
        renewal_of: str | None = None,
        hold: bool = False,
        reported_total: int | None = None,
    ) -> str | None:
        """``user`` pays an invoice link (or Telegram renews the subscription ``renewal_of``): the
        bot's pre-checkout answer is awaited (Telegram gives it 10 seconds) and, when it said yes,
        the successful payment is sent. The new charge id, or ``None`` when the bot refused.
        ``hold``: the payment's update waits for `release_payment` (updates arriving out of order);
        ``reported_total``: the update says another amount than the invoice's (a tampered or buggy
        update, for the bot's own check)."""
        invoice = self.invoices[link]
        if renewal_of is None:
            query_id = f"checkout-{next(self._update_ids)}"
            self.checkouts[query_id] = {}
            await self.push_update(
                "pre_checkout_query",
                {
                    "id": query_id,
                    "from": user,
                    "currency": "XTR",
                    "total_amount": invoice["amount"],
                    "invoice_payload": invoice["payload"],
                },
            )
            answer = await self.wait_for(lambda: self.checkouts[query_id], timeout=10.0)
            if not answer["ok"]:
                return None
        charge_id = f"stxCharge{secrets.token_hex(8)}"
        first = self.charges.get(renewal_of or "")
        expires = (first["expires"] if first else int(self.now())) + int(invoice["period"] or 0)
        self.charges[charge_id] = {
            "root": first["root"] if first else charge_id,  # the subscription: its first charge
            "user": user,
            "link": link,
            "renewed": False,
            "user_id": user["id"],
            "amount": invoice["amount"],
            "refunded": False,
            "canceled": False,
            "period": invoice["period"],
            "expires": expires,
        }
        payment: dict[str, Any] = {
            "currency": "XTR",
            "total_amount": invoice["amount"] if reported_total is None else reported_total,
            "invoice_payload": invoice["payload"],
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        if invoice["period"] is not None:
            payment.update(
                subscription_expiration_date=expires,
                is_recurring=True,
                is_first_recurring=renewal_of is None,
            )
        message = {
            "message_id": self.new_message_id(),
            "date": int(self.now()),
            "chat": {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")},
            "from": user,
            "successful_payment": payment,
        }
        if hold:
            self.held_payments[charge_id] = message
            return charge_id
        await self.push_update("message", message)
        return charge_id

    async def release_payment(self, charge_id: str) -> None:
        """Send a payment's update that `pay` held back."""
        await self.push_update("message", self.held_payments.pop(charge_id))

    async def renew_due(self) -> int:
        """What Telegram does when a subscription's period ends: charge again (unless cancelled or
        refunded), once. The number of renewals."""
        renewed = 0
        for charge_id, charge in list(self.charges.items()):
            due = charge["period"] is not None and charge["expires"] <= self.now()
            cancelled = self.charges[charge["root"]]["canceled"]
            if due and not (charge["renewed"] or cancelled or charge["refunded"]):
                charge["renewed"] = True
                await self.pay(charge["user"], charge["link"], renewal_of=charge_id)
                renewed += 1
        return renewed

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self._open_queries:  # unknown, or answered already
            raise TelegramRefusal("query is too old and response timeout expired or query ID is invalid")
        check_answer_text(params.get("text"))
        self._open_queries.discard(query_id)
        self.state.answers[query_id] = CallbackAnswer(
            query_id, params.get("text"), str(params.get("show_alert")).lower() == "true"
        )
        return True
