"""Build the Bot and Dispatcher from settings, and run them with long polling."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, ErrorEvent

from kartu.bot.answers import RetryWhileAnswering
from kartu.bot.background import Background
from kartu.bot.conversations import DatabaseStorage
from kartu.bot.health import add_health_routes, serve_health
from kartu.bot.i18n import KartuI18n, load_i18n
from kartu.bot.journal import LOOK_EVERY, Journaling, recover
from kartu.bot.middlewares import TelegramCalls, install_middlewares
from kartu.bot.pages import add_miniapp_routes
from kartu.channels.whatsapp.channel import WhatsAppChannel
from kartu.config import Settings
from kartu.handlers import build_routers
from kartu.handlers.common import PoliteRefusals, TextSizeGuard
from kartu.loops import repeating
from kartu.loyalty.clock import Clock
from kartu.loyalty.language import resolve_language
from kartu.presenters.common import APOLOGY
from kartu.presenters.menus import CUSTOMER_COMMANDS, command_name, set_public_url
from kartu.scheduler.dispatcher import OutboxDispatcher
from kartu.scheduler.pacing import Pacer
from kartu.services.container import Services
from kartu.storage.beats import beating
from kartu.storage.courier import COURIER
from kartu.storage.database import Database
from kartu.storage.migrate import upgrade

if TYPE_CHECKING:
    from kartu.api.serve import ApiServer

log = logging.getLogger(__name__)


@dataclass
class KartuApp:
    """Everything a running bot holds; tests build one with their own settings and clock."""

    settings: Settings
    db: Database
    services: Services
    i18n: KartuI18n
    bot: Bot
    dispatcher: Dispatcher
    whatsapp: WhatsAppChannel | None = None  # customers on WhatsApp, where it is set up

    async def close(self) -> None:
        await self.dispatcher["background"].close()
        if self.whatsapp is not None:
            await self.whatsapp.close()
        await self.services.webhooks.close()
        await self.bot.session.close()
        await self.db.dispose()


# aiogram parses every answer into ``Response[T]``; pydantic keeps parametrised generic classes
# only weakly, so they were garbage-collected and rebuilt (about 2.5 ms each) hundreds of times
# an hour. Holding one of each for the process's life makes them built once.
_RESPONSE_TYPES: list[type] = []


def keep_response_types() -> None:
    if _RESPONSE_TYPES:
        return
    import aiogram.methods
    from aiogram.methods.base import Response, TelegramMethod

    for method in vars(aiogram.methods).values():
        if isinstance(method, type) and issubclass(method, TelegramMethod) and method is not TelegramMethod:
            _RESPONSE_TYPES.append(Response[method.__returning__])  # type: ignore[name-defined]


def build_bot(settings: Settings) -> Bot:
    keep_response_types()
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(settings.bot_token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


APOLOGY_LANGUAGE_TIMEOUT = 2.0


async def apologise(event: ErrorEvent, i18n: KartuI18n, services: Services) -> bool:
    """Last resort for any failure, in a handler or a middleware: log it, tell the user
    something went wrong, never show a traceback."""
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    user = (
        event.update.message.from_user
        if event.update.message
        else (event.update.callback_query.from_user if event.update.callback_query else None)
    )
    if user is None:
        return True
    try:  # the person's own choice of language, if the database answers quickly
        language = await asyncio.wait_for(
            services.customers.chosen_language(user.id, user.language_code), APOLOGY_LANGUAGE_TIMEOUT
        )
    except Exception:  # the database may be what failed
        language = resolve_language(None, user.language_code, i18n.default_locale)
    text = i18n.gettext(APOLOGY, locale=language)
    try:
        if event.update.message is not None:
            await event.update.message.answer(text)
        elif event.update.callback_query is not None:
            await event.update.callback_query.answer(text, show_alert=True)
    except Exception:  # the apology itself failed (network): already logged above
        log.warning("could not apologise for update %s", event.update.update_id)
    return True


def build_dispatcher(
    services: Services,
    db: Database,
    i18n: KartuI18n,
    courier: OutboxDispatcher,
    flood_clock: Callable[[], float] = time.monotonic,
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=DatabaseStorage(db, services.customers.clock),
        disable_fsm=True,
        services=services,
        i18n=i18n,
        courier=courier,
        background=Background(),
    )
    install_middlewares(dispatcher, i18n, services.customers.settings, flood_clock, services.health.metrics)
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.middleware(PoliteRefusals())
    dispatcher.message.middleware(TextSizeGuard())
    dispatcher.include_routers(*build_routers())
    dispatcher.errors.register(apologise)
    return dispatcher


def build_app(
    settings: Settings,
    clock: Clock | None = None,
    bot: Bot | None = None,
    flood_clock: Callable[[], float] = time.monotonic,
) -> KartuApp:
    """The bot, its dispatcher and services; tests may pass their own clock, bot (an
    in-process one, see sandbox/inprocess.py) and the flood guard's monotonic clock."""
    db = Database.for_settings(settings)
    services = Services.build(db, settings, clock)
    i18n = load_i18n(settings.default_language)
    set_public_url(settings.public_url)  # the Mini App buttons (📷 Scan) point there
    bot = bot or build_bot(settings)
    bot.session.middleware(RetryWhileAnswering())
    bot.session.middleware(TelegramCalls(services.health.metrics))  # inside the retry: each try counts
    bot.session.middleware(Journaling(services))  # polling's batches, journaled before aiogram sees them
    # Delivers a customer's news (new card, reward code) the moment the transaction that
    # queued it commits; its own pacer has no per-chat gap, since a card and its reward go together.
    courier = OutboxDispatcher(
        bot, services, i18n, Pacer(rate=settings.send_rate, per_chat_interval=0.0), worker=COURIER
    )
    whatsapp = None
    if WhatsAppChannel.wanted(settings):
        whatsapp = WhatsAppChannel(settings, services, i18n)
        courier.whatsapp = whatsapp.courier
        whatsapp.conversation.courier = courier
    return KartuApp(
        settings,
        db,
        services,
        i18n,
        bot,
        build_dispatcher(services, db, i18n, courier, flood_clock),
        whatsapp,
    )


async def publish_commands(app: KartuApp) -> None:
    """The command menu Telegram shows customers, in each language (staff and owners get
    their own per chat, see handlers/menus.py)."""
    for locale in app.i18n.available_locales:
        commands = [
            BotCommand(command=command_name(name, locale), description=app.i18n.gettext(text, locale=locale))
            for name, text in CUSTOMER_COMMANDS.items()
        ]
        await app.bot.set_my_commands(commands, language_code=locale)
    default = [
        BotCommand(
            command=command_name(name, app.settings.default_language),
            description=app.i18n.gettext(text, locale=app.settings.default_language),
        )
        for name, text in CUSTOMER_COMMANDS.items()
    ]
    await app.bot.set_my_commands(default)


def _settle_memory() -> None:
    """Set apart what start-up made (modules, tables, translations: a few hundred thousand objects
    that live as long as the process) from the garbage collector's reach, so its full collections
    walk only what updates make: shorter pauses, fewer of them."""
    gc.collect()
    gc.freeze()


@contextlib.asynccontextmanager
async def recovering(app: KartuApp) -> AsyncIterator[None]:
    """While the block runs: updates a stopped process received and never handled are handled."""
    # Looked for a few times a lease: an abandoned update waits little longer than its lease.
    every = min(LOOK_EVERY, max(1.0, app.settings.update_lease_seconds / 3))
    async with repeating(lambda: recover(app), every, "looking for abandoned updates failed"):
        yield


async def start_api(app: KartuApp) -> ApiServer | None:
    """The point-of-sale API beside the bot when KARTU_API=on: a sale's news goes out through
    the bot's courier at once."""
    if not app.settings.api:
        return None
    from aiogram.exceptions import TelegramAPIError
    from aiohttp import ClientError

    from kartu.api.serve import ApiServer

    if not app.settings.bot_username:  # receipts' links name the bot
        try:
            app.settings.bot_username = (await app.bot.me()).username or ""
        except (TelegramAPIError, ClientError, OSError) as error:
            log.warning("could not ask Telegram for the bot's name (receipts need it): %s", error)
    server = ApiServer(app.services, app.settings, app.dispatcher["courier"])
    port = await server.start()
    log.info("serving the point-of-sale API on %s:%s", app.settings.api_host, port)
    return server


async def run_polling(app: KartuApp, *, handle_signals: bool = True) -> None:
    """Apply pending migrations, publish commands, start the scheduler (unless off), then poll until stopped."""
    from kartu.scheduler.jobs import build_scheduler

    await upgrade(app.db.engine)
    scheduler = build_scheduler(app) if app.settings.scheduler == "inline" else None
    if scheduler is not None:
        scheduler.start()
    api = health = None
    try:
        health = await serve_health(app.services, app.settings)
        api = await start_api(app)
        await app.bot.delete_webhook(drop_pending_updates=False)
        await publish_commands(app)
        _settle_memory()
        whatsapp = _serve_whatsapp_alone(app)
        async with beating(app.db, app.services.customers.clock, "bot"), recovering(app), whatsapp:
            await app.dispatcher.start_polling(
                app.bot,
                polling_timeout=app.settings.polling_timeout,
                handle_signals=handle_signals,
                close_bot_session=False,
                # A backlog at start-up waits its turn instead of starting thousands of tasks at once.
                tasks_concurrency_limit=app.settings.max_concurrent_updates,
            )
    finally:
        if api is not None:
            await api.stop()
        if health is not None:
            await health.cleanup()
        if scheduler is not None:
            await scheduler.stop()
        await app.close()


@contextlib.asynccontextmanager
async def _serve_whatsapp_alone(app: KartuApp) -> AsyncIterator[None]:
    """Polling mode has no web server of Telegram's: WhatsApp's webhook gets one of its own, on
    KARTU_WHATSAPP_PORT (nothing without WhatsApp, or without the port)."""
    if app.whatsapp is None or not app.settings.whatsapp_port:
        if app.whatsapp is not None:
            log.warning("WhatsApp is set up but KARTU_WHATSAPP_PORT is not: Meta's posts have nowhere to go")
        yield
        return
    from aiohttp import web

    web_app = web.Application(client_max_size=4 * 1024 * 1024)
    app.whatsapp.register(web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, app.settings.webhook_host, app.settings.whatsapp_port).start()
    log.info("serving WhatsApp's webhook on %s:%s", app.settings.webhook_host, app.settings.whatsapp_port)
    try:
        async with app.whatsapp.serving():
            yield
    finally:
        await runner.cleanup()


async def run_scheduler(app: KartuApp, stop: asyncio.Event) -> None:
    """The scheduler alone (`kartu scheduler`), until ``stop`` is set."""
    from kartu.scheduler.jobs import build_scheduler

    await upgrade(app.db.engine)
    scheduler = build_scheduler(app)
    scheduler.start()
    health = await serve_health(app.services, app.settings)
    try:
        await stop.wait()
    finally:
        if health is not None:
            await health.cleanup()
        await scheduler.stop()
        await app.close()


async def run_webhook(app: KartuApp, stop: asyncio.Event) -> None:
    """Serve Telegram's webhook posts (several processes may serve one bot) until ``stop``."""
    from aiogram.webhook.aiohttp_server import setup_application
    from aiohttp import web

    from kartu.bot.webhook import UpdateReceiver
    from kartu.scheduler.jobs import build_scheduler

    settings = app.settings
    await upgrade(app.db.engine)
    scheduler = build_scheduler(app) if settings.scheduler == "inline" else None
    web_app = web.Application()
    UpdateReceiver(
        app.dispatcher, app.bot, settings.webhook_secret, settings.max_concurrent_updates
    ).register(web_app, path=settings.webhook_path)
    setup_application(web_app, app.dispatcher, bot=app.bot)
    add_health_routes(web_app, app.services, settings)
    add_miniapp_routes(web_app, app.services, settings, app.i18n)
    if app.whatsapp is not None:  # Meta's posts on the same server: /whatsapp/webhook
        app.whatsapp.register(web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    api = None
    try:
        await site.start()
        api = await start_api(app)
        await publish_commands(app)
        await app.bot.set_webhook(
            settings.webhook_url.rstrip("/") + settings.webhook_path,
            secret_token=settings.webhook_secret,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
        if scheduler is not None:
            scheduler.start()
        _settle_memory()
        log.info(
            "serving webhook on %s:%s%s", settings.webhook_host, settings.webhook_port, settings.webhook_path
        )
        serving = app.whatsapp.serving() if app.whatsapp is not None else contextlib.nullcontext()
        async with beating(app.db, app.services.customers.clock, "bot"), recovering(app), serving:
            await stop.wait()
    finally:
        if api is not None:
            await api.stop()
        if scheduler is not None:
            await scheduler.stop()
        await runner.cleanup()
        await app.close()
