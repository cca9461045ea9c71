"""Receiving Meta's WhatsApp webhook at ``/whatsapp/webhook``: the verify-token handshake (GET), and
posts (POST) checked against ``X-Hub-Signature-256`` (HMAC-SHA256 of the body with the app secret).
A post may carry several messages and statuses; each is journaled once by its id (a status by its
message id and status) before the 200 that tells Meta it arrived, then handled in the background:
Meta delivers at least once, unordered, for days, so one posted again is answered 200 and not
handled again. One sender's events are handled in the order they came; a post that cannot be
journaled (the database is away) gets 503 and Meta posts it again."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web

from kartu.metrics import Metrics
from kartu.services.whatsapp import WhatsAppService

log = logging.getLogger(__name__)
PATH = "/whatsapp/webhook"
MAX_BODY = 3 * 1024 * 1024  # Meta's posts are a few KiB; it batches at most a few hundred events
SIGNATURE_HEADER = "X-Hub-Signature-256"

Handle = Callable[[str, str], Awaitable[None]]


def events_of(body: dict[str, Any], phone_number_id: str) -> Iterator[tuple[str, str | None, str]]:
    """Each message and status of a post as (its id, its sender, a post holding it alone). Another
    number's events (one app may serve several) are not Kartu's."""
    if body.get("object") != "whatsapp_business_account":
        return
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages" or str(
                (value.get("metadata") or {}).get("phone_number_id")
            ) != str(phone_number_id):
                continue
            contacts = {contact.get("user_id"): contact for contact in value.get("contacts") or []}
            for message in value.get("messages") or []:
                sender = message.get("from_user_id")
                contact = contacts.get(sender) or {"user_id": sender, "wa_id": message.get("from")}
                yield (
                    str(message.get("id")),
                    sender,
                    _alone(entry, change, value, contact, messages=[message]),
                )
            for status in value.get("statuses") or []:
                recipient = status.get("recipient_user_id")
                contact = contacts.get(recipient) or {
                    "user_id": recipient,
                    "wa_id": status.get("recipient_id"),
                }
                yield (
                    f"{status.get('id')}:{status.get('status')}",
                    None,  # statuses name the customer only to say whose message it was
                    _alone(entry, change, value, contact, statuses=[status]),
                )


def _alone(
    entry: dict[str, Any], change: dict[str, Any], value: dict[str, Any], contact: dict[str, Any], **one: Any
) -> str:
    part = {"messaging_product": "whatsapp", "metadata": value.get("metadata"), "contacts": [contact], **one}
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": entry.get("id"), "changes": [{"field": change.get("field"), "value": part}]}],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


class WhatsAppReceiver:
    def __init__(
        self,
        service: WhatsAppService,
        handle: Handle,
        *,
        app_secret: str,
        verify_token: str,
        phone_number_id: str,
        limit: int = 64,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.service = service
        self.handle = handle
        self.app_secret = app_secret.encode()
        self.verify_token = verify_token
        self.phone_number_id = phone_number_id
        self._slots = asyncio.Semaphore(limit)
        # One sender's events in order: a lock per sender, with how many of its events hold or await
        # it (the entry goes with the last, so the map holds only senders with events in flight).
        self._senders: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, app: web.Application, path: str = PATH) -> None:
        app.router.add_get(path, self.verify)
        app.router.add_post(path, self.receive)
        app.on_shutdown.append(self.finish)

    async def verify(self, request: web.Request) -> web.Response:
        """Meta's handshake: echo the challenge for the right token, refuse anything else."""
        query = request.query
        token = query.get("hub.verify_token", "")
        if (
            query.get("hub.mode") == "subscribe"
            and self.verify_token
            and secrets.compare_digest(token.encode(), self.verify_token.encode())
        ):
            return web.Response(text=query.get("hub.challenge", ""))
        log.warning("WhatsApp webhook: refused a handshake with the wrong verify token")
        return web.Response(status=403, text="forbidden")

    async def receive(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            log.warning("WhatsApp webhook: refused a %s-byte body", request.content_length)
            return web.json_response({"error": "too large"}, status=413)
        body = await request.read()
        expected = "sha256=" + hmac.new(self.app_secret, body, hashlib.sha256).hexdigest()
        if not self.app_secret or not secrets.compare_digest(
            request.headers.get(SIGNATURE_HEADER, "").encode(), expected.encode()
        ):
            log.warning("WhatsApp webhook: refused a post without a good signature")
            self._count("refused")
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            events = list(events_of(json.loads(body), self.phone_number_id))
        except (ValueError, AttributeError, TypeError) as error:
            log.warning("WhatsApp webhook: refused a body that is not Meta's (%s)", type(error).__name__)
            return web.json_response({"error": "not a webhook post"}, status=400)
        try:
            new = set(await self.service.journal(events))
        except Exception:
            log.exception(
                "WhatsApp webhook: could not journal %s events: Meta will post them again", len(events)
            )
            return web.json_response({"error": "try again"}, status=503)
        for event_id, sender, payload in events:
            if event_id in new:
                self._count("message" if sender else "status")
                self.start(event_id, sender, payload)
            else:
                self._count("repeated")
        return web.json_response({"ok": True})

    def _count(self, what: str) -> None:
        if self.metrics is not None:
            self.metrics.whatsapp.labels(what).inc()

    def start(self, event_id: str, sender: str | None, payload: str) -> None:
        task = asyncio.create_task(self._process(event_id, sender, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, event_id: str, sender: str | None, payload: str) -> None:
        key = sender or event_id
        lock, waiting = self._senders.get(key, (asyncio.Lock(), 0))
        self._senders[key] = (lock, waiting + 1)
        try:
            # The sender's turn first, then a slot: events waiting behind their sender hold no slot.
            async with lock, self._slots:
                try:
                    await self.handle(event_id, payload)
                except Exception:
                    log.exception("WhatsApp event %s failed; it is tried again after its lease", event_id)
                    return
                await self.service.handled(event_id)
        except Exception:
            log.exception("WhatsApp event %s: could not mark it handled", event_id)
        finally:
            lock, waiting = self._senders[key]
            if waiting <= 1:
                del self._senders[key]
            else:
                self._senders[key] = (lock, waiting - 1)

    async def recover(self) -> int:
        """Handle what a stopped process journaled and never handled; how many."""
        taken, given_up = await self.service.abandoned()
        for event_id in given_up:
            log.error("WhatsApp event %s failed on every try: given up", event_id)
        for event_id, payload in taken:
            log.warning("WhatsApp event %s was received but not handled: handling it now", event_id)
            self.start(event_id, None, payload)
        return len(taken)

    async def finish(self, _app: web.Application | None = None) -> None:
        """Let events in flight finish (briefly) before the process stops."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
