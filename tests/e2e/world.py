"""The world e2e tests run in: the real bot (real Dispatcher, long polling over HTTP) against the
local Bot API emulator, and what the scheduler would do, on a clock the test moves."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from kartu.bot.app import KartuApp, build_app, run_polling, run_webhook
from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.presenters.format import html
from kartu.sandbox import BotAPIEmulator, TelegramUser
from kartu.sandbox.emulator import SentMessage
from kartu.scheduler.dispatcher import DispatchReport, OutboxDispatcher, report_broadcast_progress
from kartu.scheduler.pacing import Pacer
from kartu.services.upkeep import SweepReport

ADMIN_ID = 900
OWNER_ID = 100


class FakeTime:
    """Monotonic time for the pacer that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scheduler_for(app: KartuApp) -> tuple[FakeTime, OutboxDispatcher]:
    """What the scheduler's dispatch job uses, on a pacer clock the test moves (`FakeTime`)."""
    pacer_time = FakeTime()
    pacer = Pacer(rate=30, per_chat_interval=1.0, monotonic=pacer_time.monotonic, sleep=pacer_time.sleep)
    return pacer_time, OutboxDispatcher(app.bot, app.services, app.i18n, pacer, batch_size=50, concurrency=4)


@dataclass
class World:
    emulator: BotAPIEmulator
    app: KartuApp
    clock: FrozenClock
    pacer_time: FakeTime
    dispatcher: OutboxDispatcher
    refusals_expected: bool = False

    async def sweep(self) -> SweepReport:
        """What the scheduler's sweep job does each minute."""
        return await self.app.services.upkeep.sweep()

    async def deliver(self) -> DispatchReport:
        """What the scheduler's dispatch job does, until nothing is due."""
        return await self.dispatcher.drain()

    async def report_progress(self) -> int:
        """What the scheduler's broadcast-progress job does."""
        return await report_broadcast_progress(self.app.bot, self.app.services, self.app.i18n)

    def says(
        self, language: str, message: str, plural: str | None = None, count: int = 1, **values: object
    ) -> str:
        """A catalogue message as the bot renders it for a reader of ``language``. Tests name a
        message by its English id, so rewording a translation does not break them, while a wrong
        message, a missing value or an untranslated one still does."""
        i18n = self.app.i18n
        with i18n.context(), i18n.use_locale(language):
            text = i18n.gettext(message, plural, count) if plural else i18n.gettext(message)
            return html(text, **values) if values else text

    def user(
        self, user_id: int, first_name: str, language_code: str | None = "en", username: str | None = None
    ) -> TelegramUser:
        return TelegramUser(self.emulator, user_id, first_name, language_code, username)

    async def create_shop(
        self, name: str = "Kopi Senja", owner_id: int = OWNER_ID, rules: ProgramRules | None = None
    ) -> str:
        """What the operator does with `kartu merchant create`; returns the join payload."""
        created = await self.app.services.merchants.create_merchant(name, owner_id, rules=rules)
        return f"m_{created.slug}"

    async def hire(self, owner: TelegramUser, staff: TelegramUser) -> None:
        """The owner invites ``staff`` with /staff and they open the link."""
        team = await owner.ask("/staff")
        await owner.press(team, "➕")
        invite = await owner.next_message()
        link = re.search(r"start=(staff_[\w-]+)", invite.body)
        assert link, invite.body
        welcome = await staff.ask(f"/start {link.group(1)}")
        assert "staf" in welcome.body, welcome.body

    async def join(self, customer: TelegramUser, payload: str) -> str:
        """The customer opens the join link; returns their personal code."""
        welcome = await customer.ask(f"/start {payload}")
        return code_in(welcome.body)

    async def export(
        self, owner: TelegramUser, period: str | None = None
    ) -> tuple[list[SentMessage], SentMessage]:
        """/export with a period chosen (the last button, "everything", unless named): the files
        it sent, and its last word (ready, or failed)."""
        question = await owner.ask("/export")
        assert question.buttons(), question.body
        await owner.press(question, period or question.buttons()[-1]["text"])
        files: list[SentMessage] = []
        while (message := await owner.next_message(timeout=30)).document is not None:
            files.append(message)
        return files, message


def code_in(text: str) -> str:
    """The first customer or reward code in a message."""
    match = re.search(r"\b([0-9A-Z]{4,5}-[0-9A-Z]{4,5})\b", text)
    assert match, f"no code in {text!r}"
    return match.group(1)


def bot_settings(emulator: BotAPIEmulator, database_url: str, **overrides: object) -> Settings:
    """Settings for a bot talking to the emulator, with the scheduler left to the test."""
    values: dict[str, object] = dict(
        _env_file=None,
        bot_token=emulator.token,
        telegram_api_url=emulator.url,
        database_url=database_url,
        polling_timeout=5,
        scheduler="off",
        webhooks_allow_private=True,  # receivers in tests listen on 127.0.0.1
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def _stop_polling(app: KartuApp) -> None:
    try:
        await app.dispatcher.stop_polling()
    except RuntimeError:  # polling had not started yet (or already ended): nothing to stop
        pass


@asynccontextmanager
async def polling_bot(
    emulator: BotAPIEmulator,
    settings: Settings,
    clock: FrozenClock,
    flood_clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[KartuApp]:
    """The real bot, long polling the emulator, until the block ends (``flood_clock``: the flood
    guard's monotonic time, for a test that moves it)."""
    app = build_app(settings, clock, flood_clock=flood_clock)
    polling = asyncio.create_task(run_polling(app, handle_signals=False))
    try:
        yield app
    finally:
        if not polling.done():
            stopping = asyncio.create_task(_stop_polling(app))
            await emulator.release_pollers()
            await stopping
        await asyncio.wait_for(polling, 30)


@asynccontextmanager
async def webhook_bot(
    emulator: BotAPIEmulator, tmp_path: Path, clock: FrozenClock, secret: str = "s3cret", **overrides: object
) -> AsyncIterator[KartuApp]:
    """The real bot serving the emulator's webhook posts on a free local port (``overrides``: more
    settings, such as WhatsApp's)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = bot_settings(
        emulator,
        f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}",
        webhook_url=f"http://127.0.0.1:{port}",
        webhook_secret=secret,
        webhook_port=port,
        **overrides,
    )
    app = build_app(settings, clock)
    stop = asyncio.Event()
    serving = asyncio.create_task(run_webhook(app, stop))
    try:
        await emulator.wait_for(lambda: emulator.webhook)
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)
