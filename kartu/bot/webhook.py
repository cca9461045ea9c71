"""Receiving Telegram's webhook posts: checked, parsed, handled with bounded concurrency."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from kartu.bot.journal import sender_of
from kartu.services.container import Services

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few KiB; Telegram never posts more


class UpdateReceiver:
    """The webhook endpoint.

    A post without the secret gets 401; a body that is not JSON, or not an Update, gets 400
    and one log line (never a traceback in the response). A good update is journaled, answered
    200 and handled in the background, but only ``limit`` at a time: the 201st post of a burst
    waits for a free slot before it is acknowledged, so Telegram holds the rest. One that cannot
    be journaled (the database is away) gets 503: Telegram posts it again later.
    """

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str, limit: int) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, app: web.Application, *, path: str) -> None:
        app.router.add_post(path, self.handle)
        app.on_shutdown.append(self._finish)

    async def handle(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.headers.get(SECRET_HEADER, ""), self.secret):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            log.warning("webhook: refused a %s-byte body", request.content_length)
            return web.json_response({"ok": False, "error": "too large"}, status=413)
        try:
            body = await request.read()
            update = Update.model_validate(json.loads(body), context={"bot": self.bot})
        except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
            log.warning("webhook: refused a body that is not a Telegram update (%s)", type(error).__name__)
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        try:  # journaled before the 200 that tells Telegram it was delivered (bot/journal.py)
            services: Services = self.dispatcher["services"]
            await services.customers.journal([(update.update_id, sender_of(update), body.decode())])
        except Exception:
            log.exception(
                "webhook: could not journal update %s: Telegram will post it again", update.update_id
            )
            return web.json_response({"ok": False, "error": "try again"}, status=503)
        await self._slots.acquire()
        task = asyncio.create_task(self._process(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"ok": True})

    async def _process(self, update: Update) -> None:
        try:
            result: Any = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=self.bot, result=result)
        except Exception:  # the error handler already answered the user; keep the process alive
            log.exception("update %s failed outside the error handler", update.update_id)
        finally:
            self._slots.release()

    async def _finish(self, _app: web.Application) -> None:
        """On shutdown, let updates in flight finish (briefly) before the bot session closes."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
