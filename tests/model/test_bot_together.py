"""The kinds played together through the real bot (the in-process Dispatcher, routers, middlewares
and services against the strict emulator): Hypothesis picks who types which command, who taps which
button on what the bot last showed them, what staff sell, and how much time passes; after every
step Telegram refused nothing the bot sent, nothing failed into the apology, the Indonesian
readers (the owner and one customer) read no English in a message, a button or an alert, and
each card's stamps, points and spins still equal its ledger, each reward used at most once."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import shutil
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from kartu.bot.app import build_app
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import BotAPIEmulator
from kartu.sandbox.emulator import SentMessage
from kartu.sandbox.inprocess import delivering_to, in_process_bot
from tests.e2e.world import ADMIN_ID, World, bot_settings, scheduler_for
from tests.invariants import ErrorsLogged, balances_off_their_ledger, english_in, rewards_used_more_than_once
from tests.model.conftest import model_settings

T = TypeVar("T")

OWNER, BARISTA = 100, 200
CUSTOMERS = {301: ("Sekar", "id"), 303: ("Dimas", "en")}
READS_INDONESIAN = (OWNER, 301)
CUSTOMER_COMMANDS = (
    "/card",
    "/rewards",
    "/code",
    "/spin",
    "/putar",
    "/help",
    "/mydata",
    "/katalog",
    "/donasi",
    "/member",
    "/ajak",
    "/ultah",
    "/leave",
    "/forget",
    "/stop",
)
OWNER_COMMANDS = ("/program", "/stats", "/wheel", "/causes", "/tiers", "/catalogue", "/membership", "/help")
CODE = re.compile(r"\b([0-9A-Z]{4,5}-[0-9A-Z]{4,5})\b")
START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


class Chat(RuleBasedStateMachine):
    template: Path
    folder: Path
    numbers = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        path = self.folder / f"bot-{next(self.numbers)}.db"
        shutil.copyfile(self.template, path)
        self.clock = FrozenClock(START)
        self.emulator = BotAPIEmulator()
        settings = bot_settings(
            self.emulator, f"sqlite+aiosqlite:///{path}", admin_ids=frozenset({ADMIN_ID}), flood_burst=10_000
        )
        app = build_app(settings, self.clock, bot=in_process_bot(self.emulator))
        pacer_time, dispatcher = scheduler_for(app)
        self.world = World(self.emulator, app, self.clock, pacer_time, dispatcher)
        self.delivering: AbstractAsyncContextManager[None] = delivering_to(
            self.emulator, app.dispatcher, app.bot
        )
        self.run(self.delivering.__aenter__())
        self.errors = ErrorsLogged()
        logging.getLogger("kartu").addHandler(self.errors)
        self.users = {
            OWNER: self.world.user(OWNER, "Sari", "id"),
            BARISTA: self.world.user(BARISTA, "Budi", "en"),
            **{who: self.world.user(who, name, language) for who, (name, language) in CUSTOMERS.items()},
        }
        self.codes: dict[int, str] = {}
        self.checked = dict.fromkeys(self.users, 0)  # messages already read for English
        self.answers: list[tuple[int, str]] = []  # alerts and toasts, by who tapped

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        logging.getLogger("kartu").removeHandler(self.errors)
        try:
            self.run(self.delivering.__aexit__(None, None, None))
            self.run(self.world.app.close())
        finally:
            self.loop.close()

    @initialize(stamps=st.booleans(), points=st.booleans())
    def open_the_shop(self, stamps: bool, points: bool) -> None:
        self.run(self._open(stamps or not points, points))

    async def _open(self, stamps: bool, points: bool) -> None:
        services = self.world.app.services
        self.join = await self.world.create_shop(rules=ProgramRules(stamps_required=3, daily_stamp_cap=0))
        await self.world.hire(self.users[OWNER], self.users[BARISTA])
        await services.merchants.choose_kinds(OWNER, True, True)
        await services.merchants.change_program(OWNER, "reward_name", "Kopi Tubruk")
        await services.merchants.change_program(OWNER, "welcome_bonus", "1")
        await services.catalogue.add(OWNER, "Es Kopi Susu", "5")
        await services.wheel.add_prize(OWNER, "2 stamps; 40%")
        await services.wheel.add_prize(OWNER, "5 points; 40%")
        await services.wheel.set_rule(OWNER, "every")
        await services.causes.start(OWNER, "Rumah Kucing; 5.000.000; 31-12-2026")
        await services.causes.change(OWNER, "point_value", "1.000")
        await services.membership.set_offer(OWNER, "Klub Senja; 100; 1.5; Es Kopi Susu")
        if not (stamps and points):
            await services.merchants.choose_kinds(OWNER, stamps, points)

    # -- what people do ------------------------------------------------------------------------------

    @rule(who=st.sampled_from(sorted(CUSTOMERS)))
    def join_the_shop(self, who: int) -> None:
        self.run(self.users[who].send(f"/start {self.join}"))
        for message in reversed(self.users[who].inbox):
            if found := CODE.search(message.body):
                self.codes[who] = found.group(1)
                break

    @rule(who=st.sampled_from(sorted(CUSTOMERS)), purchases=st.integers(1, 3), amount=st.integers(1, 20))
    def staff_sell(self, who: int, purchases: int, amount: int) -> None:
        code = self.codes.get(who)
        if code is not None:
            self.run(self._sell(code, purchases, amount * 10_000))

    async def _sell(self, code: str, purchases: int, amount: int) -> None:
        async with self.world.app.services.merchants.db.read() as uow:
            program = await uow.programs.for_merchant(1)
        barista = self.users[BARISTA]
        typed = f"/buy {code} {amount}" if program.points_enabled else f"/stamp {code} {purchases}"
        await barista.send(typed)
        latest = barista.inbox[-1] if barista.inbox else None
        if latest is not None and any("Confirm" in button["text"] for button in latest.buttons()):
            await barista.press(latest, "Confirm")

    @rule(who=st.sampled_from(sorted(CUSTOMERS)), command=st.sampled_from(CUSTOMER_COMMANDS))
    def customer_types(self, who: int, command: str) -> None:
        self.run(self.users[who].send(command))

    @rule(command=st.sampled_from(OWNER_COMMANDS))
    def owner_types(self, command: str) -> None:
        self.run(self.users[OWNER].send(command))

    @rule(who=st.sampled_from([OWNER, *sorted(CUSTOMERS)]), pick=st.integers(0, 100), back=st.integers(0, 2))
    def tap(self, who: int, pick: int, back: int) -> None:
        """Tap a button on one of the last messages with buttons (stale ones too)."""
        user = self.users[who]
        with_buttons = [m for m in user.inbox if any("callback_data" in b for b in m.buttons())]
        if not with_buttons:
            return
        message: SentMessage = with_buttons[-1 - back % len(with_buttons)]
        buttons = [b for b in message.buttons() if "callback_data" in b]
        answer = self.run(user.press(message, data=buttons[pick % len(buttons)]["callback_data"]))
        if answer is not None and answer.text:
            self.answers.append((who, answer.text))

    @rule(hours=st.sampled_from([1, 24, 24 * 8, 24 * 40]))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours=hours)
        self.run(self.world.sweep())
        self.run(self.world.deliver())

    # -- what must always hold ------------------------------------------------------------------------

    @invariant()
    def telegram_refused_nothing(self) -> None:
        assert not self.emulator.state.refusals, self.emulator.state.refusals

    @invariant()
    def nothing_failed(self) -> None:
        assert not self.errors.seen, self.errors.seen

    @invariant()
    def indonesian_readers_read_indonesian(self) -> None:
        problems: list[Any] = []
        for who in READS_INDONESIAN:
            inbox = self.users[who].inbox
            for message in inbox[self.checked[who] :]:
                shown = " ".join([message.body, *(button["text"] for button in message.buttons())])
                if words := english_in(shown):
                    problems.append((who, words, shown[:300]))
            self.checked[who] = len(inbox)
        for who, answer in self.answers:
            if who in READS_INDONESIAN and (words := english_in(answer)):
                problems.append((who, words, answer))
        self.answers.clear()
        assert not problems, problems

    @invariant()
    def the_ledger_holds(self) -> None:
        db = self.world.app.services.merchants.db
        assert not (problems := self.run(balances_off_their_ledger(db))), problems
        assert not (problems := self.run(rewards_used_more_than_once(db))), problems


def test_every_kind_together_through_the_bot(migrated_sqlite: Path, tmp_path: Path) -> None:
    machine = type("KopiSenjaChat", (Chat,), {"template": migrated_sqlite, "folder": tmp_path})
    run_state_machine_as_test(machine, settings=model_settings(15, steps=25))
