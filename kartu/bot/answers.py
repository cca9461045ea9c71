"""Every message that belongs to one answer arrives: a handler that sends two (a text and its
chart, a poster and its PDFs) is not cut short by Telegram's per-chat limit. A 429 met while
answering an update is waited out (Telegram says how long; waits of up to ``LONGEST_WAIT``, for
``PATIENCE`` seconds in all: a broadcast going out as the same bot backs off meanwhile,
scheduler/pacing.py) and the message sent again, and so is
a moment when Telegram's servers fail (5xx) or cannot be reached: the answer goes out when they
are back, within ``PATIENCE`` seconds. The outbox's own dispatcher keeps its way (a 429 or a
failure puts the message back in the queue)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

ANSWERING: ContextVar[bool] = ContextVar("kartu_answering", default=False)
LONGEST_WAIT = 10  # seconds a handler waits out a 429; longer, and the failure is the handler's
PATIENCE = 30.0  # seconds an answer is tried again while Telegram's servers fail or ask to wait
BACKOFF = (0.5, 1.0, 2.0, 4.0)


class Answering(BaseMiddleware):
    """Marks the handling of one update (an outer middleware on every update)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        token = ANSWERING.set(True)
        try:
            return await handler(event, data)
        finally:
            ANSWERING.reset(token)


class RetryWhileAnswering(BaseRequestMiddleware):
    """A request a handler makes that Telegram answers with 429 is made again after the wait it
    names (short waits, within ``PATIENCE``): the second message of an answer is never lost."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + PATIENCE
        failures = 0  # Telegram failures tried again (their pauses grow)
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if (
                    not ANSWERING.get()
                    or error.retry_after > LONGEST_WAIT
                    or loop.time() + error.retry_after > give_up_at
                ):
                    raise
                log.info(
                    "%s: Telegram asks to wait %s s; sending again", type(method).__name__, error.retry_after
                )
                await asyncio.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError) as error:
                pause = BACKOFF[min(failures, len(BACKOFF) - 1)]
                failures += 1
                if not ANSWERING.get() or loop.time() + pause > give_up_at:
                    raise
                log.warning("%s: %s; sending again in %s s", type(method).__name__, error.message, pause)
                await asyncio.sleep(pause)


def not_answering() -> Any:
    """For the outbox's dispatcher: its 429s pause it and keep the message queued, never wait here."""
    return ANSWERING.set(False)
