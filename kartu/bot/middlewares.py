"""Outer middlewares: what every update passes before any handler sees it.

In order: private chats only, a flood limit per person, each update once (with the sender's
language and open form read in the same step), then the person's language. The first three
answer without touching a handler; the flood limit runs before any database work so a flood
costs memory, not queries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message, TelegramObject, Update, User
from aiogram.utils.i18n.middleware import I18nMiddleware

from kartu import logs
from kartu.bot.answers import Answering
from kartu.bot.conversations import DatabaseStorage, storage_key
from kartu.bot.i18n import KartuI18n
from kartu.config import Settings
from kartu.loyalty.language import resolve_language
from kartu.loyalty.throttle import FloodGuard, Verdict
from kartu.metrics import Metrics
from kartu.presenters.format import N_
from kartu.services.container import Services
from kartu.services.customers import Arrival, TelegramProfile

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

PRIVATE_ONLY = N_(
    "I work in private chats only, so nobody else sees your codes and cards. Open a chat with me: {link}"
)
SLOW_DOWN = N_("You are sending messages very fast. I will answer again in half a minute.")
FORM_EXPIRED = N_(
    "The form you opened earlier has expired, so this message is not taken as its answer. Nothing was changed."
)
GROUPS_REMEMBERED = 10_000


def _telegram_language(user: User | None, i18n: KartuI18n) -> str:
    """The language to answer in before the database is asked (or when it cannot be)."""
    return resolve_language(None, user.language_code if user else None, i18n.default_locale)


async def _say(event: Update, text: str, *, alert: bool = True) -> None:
    """Answer an update without a handler: a reply to a message, an alert for a button."""
    if event.message is not None:
        await event.message.answer(text)
    elif event.callback_query is not None:
        await event.callback_query.answer(text, show_alert=alert)


class PrivateChatsOnly(BaseMiddleware):
    """Customer, staff and owner features answer in private chats only.

    In a group the bot says where to find it once per group (per process) and then stays
    silent; a message sent on behalf of a chat (no ``from_user``) is ignored. Membership news of
    a group (the bot made admin there, someone joining a level's group) passes: handlers/tiers.py
    checks who acted.
    """

    def __init__(self, i18n: KartuI18n) -> None:
        self.i18n = i18n
        self._told: OrderedDict[int, None] = OrderedDict()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        if chat is not None and chat.type == ChatType.PRIVATE and user is not None:
            return await handler(event, data)
        assert isinstance(event, Update)
        if event.my_chat_member is not None or event.chat_member is not None:
            return await handler(event, data)
        if event.pre_checkout_query is not None:  # a payment about to be made: no chat, its payer acts
            return await handler(event, data)
        if user is None or chat is None or not (event.message or event.callback_query):
            return None
        if event.message is not None and not (event.message.text or "").startswith("/"):
            return None  # ordinary group chatter is none of the bot's business
        if event.message is not None and chat.id in self._told:
            return None
        self._told[chat.id] = None
        if len(self._told) > GROUPS_REMEMBERED:
            self._told.popitem(last=False)
        username = (await data["bot"].me()).username or ""
        text = self.i18n.gettext(PRIVATE_ONLY, locale=_telegram_language(user, self.i18n)).format(
            link=f"https://t.me/{username}"
        )
        await _say(event, text)
        return None


class FloodControl(BaseMiddleware):
    """A token bucket per person: a flood is answered once, then ignored for a while."""

    def __init__(
        self,
        i18n: KartuI18n,
        guard: FloodGuard | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.i18n = i18n
        self.guard = guard or FloodGuard()
        self.monotonic = monotonic

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        verdict = self.guard.check(user.id, self.monotonic())
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        if verdict is Verdict.WARN:
            log.info("flood from user %s: silenced for %.0f s", user.id, self.guard.silence)
            assert isinstance(event, Update)
            await _say(event, self.i18n.gettext(SLOW_DOWN, locale=_telegram_language(user, self.i18n)))
        elif isinstance(event, Update) and event.callback_query is not None:
            await event.callback_query.answer()  # stop the button's spinner, say nothing
        return None


class Arrivals(FSMContextMiddleware):
    """Each update once: one Telegram delivers again (a retry, a restart before the offset was
    saved, a second webhook process) is recognised by its id and has no effect at all; one the
    journal hands back (``replayed``: its process died) is handled. Once handled, its journal entry
    is done. The same step reads the sender's language and open form (aiogram's FSM middleware,
    without its read)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        services: Services = data["services"]
        user: User | None = data.get("event_from_user")
        context = self.resolve_event_context(data["bot"], data)
        profile = (
            TelegramProfile(user.id, user.first_name, user.username, user.language_code) if user else None
        )
        key = storage_key(context.key) if context is not None else ""
        arrival = await services.customers.arrive(event.update_id, profile, key)
        if not arrival.first_time and not data.get("replayed"):
            log.info("update %s was delivered again: ignored", event.update_id)
            return None
        data["arrival"] = arrival
        data["fsm_storage"] = self.storage
        # Most updates end in milliseconds: the renewing task starts only for one still running
        # a third of a lease later (no task per update on the counter's path).
        renewing = _LeaseKeeper(services, event.update_id)
        try:
            if context is None:
                return await handler(event, data)
            async with self.events_isolation.lock(key=context.key):
                data.update({"state": context, "raw_state": arrival.state})
                return await handler(event, data)
        finally:  # handled, or failed into the apology: either way not to be handled again
            renewing.cancel()
            await _mark_handled(services, event.update_id)


class _LeaseKeeper:
    """While an update is handled past a third of its lease (an answer waiting out Telegram), its
    journal entry's lease is renewed: another process does not handle it a second time."""

    def __init__(self, services: Services, update_id: int) -> None:
        self.services = services
        self.update_id = update_id
        self.every = services.customers.settings.update_lease_seconds / 3
        self.task: asyncio.Task[None] | None = None
        self.timer = asyncio.get_running_loop().call_later(self.every, self._start)

    def _start(self) -> None:
        self.task = asyncio.create_task(self._renew())

    async def _renew(self) -> None:
        while True:
            try:
                await self.services.customers.still_handling(self.update_id)
            except Exception:  # the database away for a moment: the next renewal tries again
                log.warning("could not renew the lease of update %s", self.update_id, exc_info=True)
            await asyncio.sleep(self.every)

    def cancel(self) -> None:
        self.timer.cancel()
        if self.task is not None:
            self.task.cancel()


async def _mark_handled(services: Services, update_id: int) -> None:
    """The update's journal entry is done. The database away for a moment (a restart, a failover):
    tried again for ten seconds, so the update is not handled (and answered) a second time after
    its lease; still failing, it is (once more, with its money-like steps kept once by their keys)."""
    for pause in MARK_PAUSES:
        try:
            await services.customers.handled(update_id)
            return
        except Exception:
            if pause is None:
                log.warning("could not mark update %s handled", update_id, exc_info=True)
                return
            await asyncio.sleep(pause)


MARK_PAUSES = (0.25, 0.5, 1.0, 2.0, 2.0, 4.0, None)  # about ten seconds of tries


class PersonLanguage(I18nMiddleware):
    """The language the person chose with /lang, else their Telegram language, else the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        arrival: Arrival | None = data.get("arrival")
        if arrival is not None:  # read as the update arrived
            return arrival.language
        user: User | None = data.get("event_from_user")
        services: Services = data["services"]
        if user is None:
            return services.customers.settings.default_language
        return await services.customers.seen(
            TelegramProfile(user.id, user.first_name, user.username, user.language_code)
        )


class StaleForms(BaseMiddleware):
    """A form idle past its lifetime is closed before routing, so the message is handled as if
    no form were open; a message (not a tap) is told so once."""

    def __init__(self, i18n: KartuI18n) -> None:
        self.i18n = i18n

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if state is not None and data.get("raw_state") and isinstance(state.storage, DatabaseStorage):
            arrival: Arrival | None = data.get("arrival")
            read = (arrival.state, arrival.state_updated_at) if arrival is not None else None
            if await state.storage.expire_if_idle(state.key, read) is not None:
                data["raw_state"] = None
                if isinstance(event, Message):
                    await event.answer(
                        self.i18n.gettext(FORM_EXPIRED)
                    )  # the person's language: set just before
        return await handler(event, data)


def install_middlewares(
    dispatcher: Dispatcher,
    i18n: KartuI18n,
    settings: Settings,
    flood_clock: Callable[[], float] = time.monotonic,
    metrics: Metrics | None = None,
) -> None:
    """Every update passes these before a router sees it. aiogram's error and user-context
    middlewares come first, so a failure here still reaches the error handler; the FSM
    middleware (built with ``disable_fsm=True``) comes after, so it reads no form state for
    an update that is refused."""
    if metrics is not None:  # outermost of Kartu's: it sees every update and how it ended
        dispatcher.update.outer_middleware(Measured(metrics))
    dispatcher.update.outer_middleware(Answering())
    dispatcher.update.outer_middleware(PrivateChatsOnly(i18n))
    dispatcher.update.outer_middleware(
        FloodControl(i18n, FloodGuard(settings.flood_burst, settings.flood_per_second), flood_clock)
    )
    fsm = dispatcher.fsm
    dispatcher.update.outer_middleware(Arrivals(fsm.storage, fsm.events_isolation, fsm.strategy))
    # Not on the error observer: the apology must not depend on the database that may have failed.
    PersonLanguage(i18n).setup(dispatcher, exclude={"error"})
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.outer_middleware(StaleForms(i18n))


class Measured(BaseMiddleware):
    """Counts every update by type and outcome (``handled``; ``error`` when it failed into the
    apology) and how long it took (metrics.py), and names it in every log line written while it
    is handled (logs.py)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        # Left set when the handler ends: the error handler (outside this middleware) logs after
        # it, and each update runs in a task of its own, whose context ends with it.
        logs.update_id.set(event.update_id if isinstance(event, Update) else None)
        try:
            result = await handler(event, data)
        except Exception:
            self.metrics.updates.labels(kind, "error").inc()
            raise
        finally:
            self.metrics.handler_seconds.labels(kind).observe(time.perf_counter() - started)
        self.metrics.updates.labels(kind, "handled").inc()
        return result


class TelegramCalls(BaseRequestMiddleware):
    """Counts every Bot API call by method and outcome: ``ok``, ``429`` (Telegram asked to wait)
    or ``error``."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.telegram_calls.labels(name, "429").inc()
            raise
        except Exception:
            self.metrics.telegram_calls.labels(name, "error").inc()
            raise
        self.metrics.telegram_calls.labels(name, "ok").inc()
        return response
