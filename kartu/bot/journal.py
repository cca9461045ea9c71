"""No update lost when a process dies: an update is journaled before Telegram counts it as
delivered — polling records each batch `getUpdates` brings before aiogram sees it (so before the
next call moves the offset past it), the webhook receiver before it answers 200 — and marked done
once handled (bot/middlewares.py, `Arrivals`). A process that died in between leaves entries not
done; every bot process looks for them every half minute and handles those older than the lease
(KARTU_UPDATE_LEASE_SECONDS), once. Money-like steps stay once by their own keys (a Confirm's
prompt closes with its credit), so an update handled again credits nothing twice."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import AnswerCallbackQuery, GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update

from kartu.services.container import Services

if TYPE_CHECKING:
    from kartu.bot.app import KartuApp

log = logging.getLogger(__name__)
LOOK_EVERY = 30.0  # seconds between looks for abandoned updates
# Set while an abandoned update is handled: its callback query is minutes old, and Telegram refuses
# to answer one that old, so the answer (a toast) is left out; the rest of the handling goes out.
replaying: ContextVar[bool] = ContextVar("replaying", default=False)


class Journaling(BaseRequestMiddleware):
    """On polling's `getUpdates`: the batch is journaled before aiogram handles it. While an
    abandoned update is handled again, its callback query's answer is left out (too old)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if replaying.get() and isinstance(method, AnswerCallbackQuery):
            return True  # type: ignore[return-value]
        result: Any = await make_request(bot, method)  # the method's result (aiogram's sessions unwrap it)
        if isinstance(method, GetUpdates) and isinstance(result, list) and result:
            await self.services.customers.journal(
                [
                    (update.update_id, sender_of(update), update.model_dump_json(exclude_unset=True))
                    for update in result
                ]
            )
        return result


def sender_of(update: Update) -> int | None:
    """Who sent an update (its journal entry is found by them on /forget)."""
    try:
        person = getattr(update.event, "from_user", None)
    except Exception:  # an update of a kind aiogram does not know
        return None
    return person.id if person is not None else None


async def recover(app: KartuApp) -> int:
    """Handle the updates a stopped process received and never handled; how many."""
    taken, given_up = await app.services.customers.abandoned_updates()
    for update_id in given_up:
        log.error("update %s failed on every try: given up", update_id)
    for update_id, payload in taken:
        log.warning(
            "update %s was received but not handled (its process stopped): handling it now", update_id
        )
        marked = replaying.set(True)
        try:
            update = Update.model_validate_json(payload, context={"bot": app.bot})
            await app.dispatcher.feed_update(app.bot, update, replayed=True)
        except Exception:
            log.exception("update %s failed again", update_id)
        finally:
            replaying.reset(marked)
    return len(taken)
