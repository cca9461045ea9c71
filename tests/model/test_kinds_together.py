"""Every program kind played together, as a shop runs them in its first weeks, on a real database:
Hypothesis picks the steps (customers join, some through a friend; staff and the till sell; sales
are refunded; rewards, vouchers and catalogue items are used; the wheel turns; people give to a
cause, pay for, renew and cancel a membership, leave and /forget; the owner switches between
stamps and points and changes the program; time passes and the scheduler sweeps and delivers)
and after every step checks what must always hold (tests/invariants.py):

- each card's stamps, points and spins equal its ledger (and its points its live batches);
- nothing a refunded sale set off is left to use (rewards, vouchers, points, a spin, a gift);
- a forgotten person has no personal value left in any table;
- each reward and voucher is used at most once;
- every message the scheduler sends renders as Telegram HTML in Indonesian and in English, and
  the Indonesian has no English in it.

A refusal a person would see (a `LoyaltyError`, an API 4xx) is a fine outcome of any step; any
other exception, an API 5xx, or a broken invariant fails with the shortest sequence that shows it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import shutil
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from kartu.api.app import create_app
from kartu.bot.i18n import load_i18n
from kartu.config import Settings
from kartu.loyalty.channels import whatsapp_user
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.errors import LoyaltyError, ProgramChangeAffectsCards
from kartu.loyalty.exports import ExportPeriod
from kartu.loyalty.kinds import Leftover
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile, Visitor
from kartu.services.membership import StarsPayment
from kartu.services.partners import Proposal
from kartu.storage.database import Database
from kartu.storage.models import LedgerEntry
from kartu.storage.repositories.personal_data import Subject
from tests.api.keys import fresh
from tests.conftest import _drop_postgres_database, _postgres_database
from tests.invariants import (
    ErrorsLogged,
    Forgotten,
    badly_rendered,
    balances_off_their_ledger,
    effects_left_by_refunds,
    outlets_off_their_staff,
    personal_values_left,
    rewards_used_more_than_once,
)
from tests.model.conftest import model_settings
from tests.services.conftest import written

T = TypeVar("T")

OWNER, BARISTA, PARTNER_OWNER = 100, 200, 110
PLAZA_BARISTA = 201  # staff of the business's second outlet
# Two customers read Indonesian, two English; names and usernames carry a generation, so what a
# forgotten person was called is never what they are called when they come back.
CUSTOMERS = {301: ("Sekar", "id"), 302: ("Wulan", "id"), 303: ("Dimas", "en"), 304: ("Raka", "en")}
ON_WHATSAPP = ("ID.700000000001", "Ratna", "id")  # a customer who came by WhatsApp (no Telegram id)
START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # a Monday, 10:00 in Jakarta
FIELDS = {
    "stamps_required": ("3", "4", "6"),
    "stamps_per_purchase": ("1", "2"),
    "welcome_bonus": ("0", "2"),
    "referral_bonus": ("0", "3"),
    "rupiah_per_point": ("1.000", "10.000"),
}
WORKER = "model"
SEEN: Counter[str] = Counter()  # what the steps did, over all examples (printed with -s)


def note(what: str) -> None:
    event(what)
    SEEN[what] += 1


class Shop(RuleBasedStateMachine):
    """Kopi Senja, its owner, a barista, a partner shop and four customers."""

    database_url: Callable[[], Awaitable[str]]  # set by the test: a fresh database per example

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FrozenClock(START)
        url = self.run(self.database_url())
        self.db = Database(url)
        self.services = Services.build(
            self.db,
            Settings(
                _env_file=None,
                bot_token="42:TEST",
                bot_username="kopi_senja_bot",
                database_url=url,
                secret_key="model-secret",
            ),
            self.clock,
        )
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(self.services)), base_url="http://till"
        )
        self.i18n = load_i18n()
        self.generation = dict.fromkeys(CUSTOMERS, 0)
        self.codes: dict[int, str] = {}  # the personal code each customer last had
        self.sales: list[str] = []  # the till's sales, by purchase id (receipts too)
        self.receipts: list[str] = []  # the tokens of receipts printed
        self.refunded: set[str] = set()
        self.forgotten: list[tuple[int, Forgotten]] = []
        self.whatsapp_generation = 0
        self.numbers = itertools.count(1)
        self.errors = ErrorsLogged()
        logging.getLogger("kartu").addHandler(self.errors)

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        logging.getLogger("kartu").removeHandler(self.errors)
        try:
            self.clock.advance(days=2)  # past quiet hours and every spin's animation
            self.run(self._deliver())
        finally:
            self.run(self.client.aclose())
            self.run(self.db.dispose())
            self.loop.close()

    # -- the shop ---------------------------------------------------------------------------------------

    @initialize(stamps=st.booleans(), points=st.booleans())
    def open_the_shop(self, stamps: bool, points: bool) -> None:
        """Every kind set up in a shop running both, then switched to what this example runs."""
        self.run(self._open(stamps or not points, points))

    async def _open(self, stamps: bool, points: bool) -> None:
        services = self.services
        created = await services.merchants.create_merchant("Kopi Senja", OWNER)
        self.slug, self.merchant_id = created.slug, created.merchant_id
        staff = await services.merchants.invite_staff(OWNER)
        await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{staff}")
        await services.merchants.choose_kinds(OWNER, True, True)
        for field, value in (
            ("daily_stamp_cap", "0"),
            ("stamps_required", "4"),
            ("reward_name", "Kopi Tubruk"),  # the owner's words, in the shop's language
            ("referral_bonus", "2"),
            ("welcome_bonus", "1"),
        ):
            await services.merchants.change_program(OWNER, field, value)
        await services.tiers.add(OWNER, "Emas; 3")
        await services.catalogue.add(OWNER, "Es Kopi Susu", "5")
        await services.wheel.add_prize(OWNER, "2 stamps; 30%")
        await services.wheel.add_prize(OWNER, "5 points; 30%")
        await services.wheel.set_rule(OWNER, "every")
        await services.causes.start(OWNER, "Rumah Kucing; 5.000.000; 31-12-2026")
        await services.causes.change(OWNER, "match", "10.000 per 100.000")
        await services.causes.change(OWNER, "point_value", "1.000")
        await services.causes.change(OWNER, "stamp_value", "2.000")
        await services.causes.change(OWNER, "reward_value", "15.000")
        await services.membership.set_offer(OWNER, "Klub Senja; 100; 1.5; Es Kopi Susu")
        partner = await services.merchants.create_merchant("Toko Emas", PARTNER_OWNER)
        view = await services.partners.propose(
            OWNER, Proposal(partner.slug, "over 50.000", "Diskon 10% cincin; 50.000", "30 days; 100 a month")
        )
        await services.partners.decide(PARTNER_OWNER, view.partnerships[0].partnership_id, accept=True)
        till, _ = await services.api.create_key(OWNER, "earn,redeem,read")
        at_partner, _ = await services.api.create_key(PARTNER_OWNER, "earn,redeem,read")
        self.till = {"Authorization": f"Bearer {till}"}
        self.partner_till = {"Authorization": f"Bearer {at_partner}"}
        await services.merchants.add_outlet(self.slug, "Plaza Senayan")
        async with self.db.read() as uow:
            plaza = (await uow.merchants.outlets(self.merchant_id))[-1]
        hired = await services.merchants.invite_staff(OWNER, "staff", plaza.id)
        await services.customers.start(TelegramProfile(PLAZA_BARISTA, "Rina"), f"staff_{hired}")
        if not (stamps and points):
            await services.merchants.choose_kinds(OWNER, stamps, points)
        for who, friend in ((301, None), (302, 301), (303, None), (304, 303)):  # two came through a friend
            await self._join(who, friend)

    # -- customers ----------------------------------------------------------------------------------------

    def profile(self, who: int) -> TelegramProfile:
        name, language = CUSTOMERS[who]
        generation = self.generation[who]
        return TelegramProfile(who, f"{name}{generation:02d}", f"{name.lower()}_{generation:02d}", language)

    async def refused(self, work: Awaitable[T]) -> T | None:
        """The step's outcome, or ``None`` when Kartu refused it as a person would be told."""
        name = getattr(work, "__qualname__", type(work).__name__).split(".")[-1]
        try:
            done = await work
        except LoyaltyError as refusal:
            note(f"{name}: refused ({type(refusal).__name__})")
            return None
        note(f"{name}: done")
        return done

    @rule(who=st.sampled_from(sorted(CUSTOMERS)), friend=st.none() | st.sampled_from(sorted(CUSTOMERS)))
    def join(self, who: int, friend: int | None) -> None:
        self.run(self._join(who, friend))

    async def _join(self, who: int, friend: int | None) -> None:
        payload = f"m_{self.slug}"
        if friend is not None and friend != who:
            invitation = await self.refused(self.services.bonuses.invitation(friend))
            if invitation is not None:
                payload = f"r_{invitation.token}"
        started = await self.refused(self.services.customers.start(self.profile(who), payload))
        if started is not None and started.joined is not None:
            joined = started.joined
            if joined.newly_joined and any(telegram_id == who for telegram_id, _ in self.forgotten):
                # Coming back after /forget is not a new customer: no second gift, no bonus for a friend.
                assert joined.welcome_bonus is None and joined.referral_bonus is None, joined
            self.codes[who] = joined.card.personal_code
            for index, (telegram_id, forgotten) in enumerate(self.forgotten):
                if telegram_id == who and not forgotten.telegram_id_reused:
                    self.forgotten[index] = (who, Forgotten(forgotten.subject, forgotten.needles, True))

    @rule(
        who=st.sampled_from(sorted(CUSTOMERS)),
        at_the_till=st.booleans(),
        purchases=st.integers(1, 3),
        amount=st.none() | st.integers(1, 30),
        stamps=st.none() | st.integers(1, 2),
        at_plaza=st.booleans(),
    )
    def buy(
        self,
        who: int,
        at_the_till: bool,
        purchases: int,
        amount: int | None,
        stamps: int | None,
        at_plaza: bool = False,
    ) -> None:
        """Staff sell at the counter of either outlet (stamps for purchases; points, and stamps in a
        shop running both, for an amount), or the POS API rings a sale up (an amount, stamps, or both)."""
        code = self.codes.get(who)
        if code is None:
            return
        rupiah = None if amount is None else amount * 10_000
        self.run(
            self._till(code, rupiah, stamps)
            if at_the_till
            else self._counter(code, purchases, rupiah or 50_000, PLAZA_BARISTA if at_plaza else BARISTA)
        )

    async def _counter(self, code: str, purchases: int, amount: int, barista: int = BARISTA) -> None:
        counter = self.services.counter
        async with self.db.read() as uow:
            program = await uow.programs.for_merchant(self.merchant_id)
        if program.points_enabled:
            sale = await self.refused(counter.open_sale(barista, code, f"{amount:,}".replace(",", ".")))
            if sale is not None:
                await self.refused(counter.confirm_sale(barista, sale.token))
            return
        prompt = await self.refused(counter.open_purchase(barista, code, str(purchases)))
        if prompt is not None:
            await self.refused(counter.confirm_purchase(barista, prompt.token))

    async def _till(self, code: str, amount: int | None, stamps: int | None) -> None:
        number = next(self.numbers)
        body: dict[str, Any] = {"customer": {"code": code}, "external_id": f"T{number}"}
        if amount is not None:
            body["amount"] = amount
        if stamps is not None:
            body["stamps"] = stamps
        sold = await self.client.post(
            "/v1/purchases", json=body, headers={**self.till, "Idempotency-Key": f"k{number}"}
        )
        assert sold.status_code in (201, 404, 409, 422), sold.text
        note(f"till sale: {sold.status_code}")
        if sold.status_code == 201:
            self.sales.append(sold.json()["id"])

    @precondition(lambda self: self.sales)
    @rule(pick=st.integers(0, 1000))
    def refund(self, pick: int) -> None:
        sale = self.sales[pick % len(self.sales)]
        refunded = self.run(
            self.client.post(
                f"/v1/purchases/{sale}/refund", headers={**self.till, "Idempotency-Key": f"refund-{sale}"}
            )
        )
        assert refunded.status_code in (200, 404, 409), refunded.text
        note(f"refund: {refunded.status_code} {refunded.json().get('code', '')}")
        if refunded.status_code == 200:
            self.refunded.add(sale)

    @rule(amount=st.none() | st.integers(1, 30), stamps=st.none() | st.integers(1, 2))
    def print_a_receipt(self, amount: int | None, stamps: int | None) -> None:
        """The till prints a receipt code for a customer who is not there."""
        self.run(self._print(amount, stamps))

    async def _print(self, amount: int | None, stamps: int | None) -> None:
        number = next(self.numbers)
        body: dict[str, Any] = {"external_id": f"R{number}"}
        if amount is not None:
            body["amount"] = amount * 10_000
        if stamps is not None:
            body["stamps"] = stamps
        made = await self.client.post(
            "/v1/receipts", json=body, headers={**self.till, "Idempotency-Key": f"r{number}"}
        )
        assert made.status_code in (201, 422), made.text
        note(f"receipt printed: {made.status_code}")
        if made.status_code == 201:
            self.sales.append(made.json()["id"])
            self.receipts.append(made.json()["link"].split("start=rcpt_", 1)[1])

    @precondition(lambda self: self.receipts)
    @rule(who=st.sampled_from(sorted(CUSTOMERS)), pick=st.integers(0, 1000))
    def open_a_receipt(self, who: int, pick: int) -> None:
        """Someone opens a printed receipt's link: the first gets it (joining if new), once."""
        token = self.receipts[pick % len(self.receipts)]
        claim = self.run(self.refused(self.services.customers.claim_receipt(self.profile(who), token)))
        if claim is not None:
            self.codes[who] = claim.joined.card.personal_code

    @rule(who=st.sampled_from(sorted(CUSTOMERS)), at_the_till=st.booleans(), again=st.booleans())
    def redeem(self, who: int, at_the_till: bool, again: bool) -> None:
        """Staff or the till take one of the customer's rewards or partner vouchers (maybe one used
        before, to see it refused)."""
        self.run(self._redeem(who, at_the_till, again))

    async def _redeem(self, who: int, at_the_till: bool, again: bool) -> None:
        async with self.db.read() as uow:
            found = (
                await uow.session.execute(
                    text(
                        "SELECT r.code, r.merchant_id FROM reward r JOIN person p ON p.id = r.person_id "
                        "WHERE p.telegram_id = :who AND (r.redeemed_at IS NULL AND r.expired_at IS NULL OR :again) "
                        "ORDER BY r.id DESC"
                    ),
                    {"who": who, "again": again},
                )
            ).first()
        if found is None:
            return
        code, merchant_id = found
        if merchant_id != self.merchant_id or at_the_till:
            till = self.till if merchant_id == self.merchant_id else self.partner_till
            used = await self.client.post(f"/v1/rewards/{code}/redeem", headers=fresh(till))
            assert used.status_code in (200, 404, 409, 422), used.text
            note(f"redeemed at a till: {used.status_code}")
            return
        prompt = await self.refused(self.services.counter.open_redeem(BARISTA, code))
        if prompt is not None:
            await self.refused(self.services.counter.confirm_redeem(BARISTA, prompt.token))

    @rule(who=st.sampled_from(sorted(CUSTOMERS)))
    def exchange_points(self, who: int) -> None:
        self.run(self._exchange(who))

    async def _exchange(self, who: int) -> None:
        points = self.services.points
        catalogue = await self.refused(points.catalogue(who))
        if catalogue is None or not catalogue.entries:
            return
        offer = await self.refused(points.offer(who, catalogue.entries[0].item_id))
        if offer is not None:
            await self.refused(points.exchange(who, offer.token))

    @rule(who=st.sampled_from(sorted(CUSTOMERS)))
    def spin(self, who: int) -> None:
        self.run(self.refused(self.services.wheel.spin(who)))

    @rule(who=st.sampled_from(sorted(CUSTOMERS)), unit=st.sampled_from(["point", "stamp", "reward"]))
    def give_to_the_cause(self, who: int, unit: str) -> None:
        self.run(self._give(who, unit))

    async def _give(self, who: int, unit: str) -> None:
        causes = self.services.causes
        reward_id = None
        if unit == "reward":
            async with self.db.read() as uow:
                reward_id = await uow.session.scalar(
                    text(
                        "SELECT r.id FROM reward r JOIN person p ON p.id = r.person_id WHERE p.telegram_id = :who "
                        "AND r.redeemed_at IS NULL AND r.expired_at IS NULL AND r.merchant_id = :shop"
                    ),
                    {"who": who, "shop": self.merchant_id},
                )
            if reward_id is None:
                return
        offer = await self.refused(causes.offer(who, unit, None if reward_id else "1", reward_id))
        if offer is not None:
            await self.refused(causes.give(who, offer.token))

    @rule(who=st.sampled_from(sorted(CUSTOMERS)), renewal=st.booleans(), short=st.booleans())
    def pay_for_membership(self, who: int, renewal: bool, short: bool) -> None:
        """A Stars payment arrives: a first payment or a renewal, now and then for the wrong amount."""
        self.run(self._pay(who, renewal, short))

    async def _pay(self, who: int, renewal: bool, short: bool) -> None:
        membership = self.services.membership
        invoice = await self.refused(membership.invoice(who))
        if invoice is None:
            return
        payment = StarsPayment(
            invoice.payload,
            "XTR",
            invoice.stars - 1 if short else invoice.stars,
            f"charge{next(self.numbers)}",
            self.clock.now() + timedelta(days=30),
            renewal=renewal,
            first_of_subscription=not renewal,
        )
        await self.refused(membership.record_payment(who, payment))

    @rule(who=st.sampled_from(sorted(CUSTOMERS)))
    def cancel_membership(self, who: int) -> None:
        async def cancel() -> None:
            if await self.refused(self.services.membership.cancel(who)) is not None:
                await self.refused(self.services.membership.cancelled(who))

        self.run(cancel())

    @rule(who=st.sampled_from(sorted(CUSTOMERS)), day=st.sampled_from(["02-03", "17-08", "31-12"]))
    def tell_the_birthday(self, who: int, day: str) -> None:
        self.run(self.refused(self.services.bonuses.set_birthday(who, day)))

    @rule(who=st.sampled_from(sorted(CUSTOMERS)))
    def leave(self, who: int) -> None:
        self.run(self.refused(self.services.customers.leave(who, self.merchant_id)))

    @rule(who=st.sampled_from(sorted(CUSTOMERS)))
    def forget(self, who: int) -> None:
        self.run(self._forget(who))

    async def _forget(self, who: int) -> None:
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(who)
        if person is None:
            return
        profile = self.profile(who)
        await self.services.customers.forget(who)
        needles = (profile.first_name, profile.username or "", person.personal_code)
        self.forgotten.append((who, Forgotten(Subject.of(person), needles)))
        self.generation[who] += 1
        self.codes.pop(who, None)

    # -- a customer on WhatsApp -------------------------------------------------------------------------

    def visitor(self) -> Visitor:
        address, name, language = ON_WHATSAPP
        return Visitor(
            whatsapp_user(address), f"{name}{self.whatsapp_generation:02d}", language, "6281200007000"
        )

    @rule()
    def join_on_whatsapp(self) -> None:
        """She sends GABUNG <shop code> and agrees (channels/whatsapp/conversation.py's steps)."""
        joined = self.run(self.refused(self.services.customers.join_by_channel(self.visitor(), self.slug)))
        if joined is not None:
            if joined.newly_joined and self.whatsapp_generation:
                assert joined.welcome_bonus is None, joined  # back after /forget: no second gift
            self.codes[0] = joined.card.personal_code  # "who" 0: her, in the rules that sell by code
            for index, (who, gone) in enumerate(self.forgotten):
                if who == 0:  # her WhatsApp id and phone are hers again
                    needles = tuple(n for n in gone.needles if n not in (ON_WHATSAPP[0], "6281200007000"))
                    self.forgotten[index] = (0, Forgotten(replace(gone.subject, whatsapp=None), needles))

    @rule(at_the_till=st.booleans(), purchases=st.integers(1, 3), amount=st.none() | st.integers(1, 30))
    def sell_to_the_whatsapp_customer(self, at_the_till: bool, purchases: int, amount: int | None) -> None:
        self.buy(0, at_the_till, purchases, amount, None)

    @rule(forget=st.booleans())
    def whatsapp_customer_goes(self, forget: bool) -> None:
        """She sends LEAVE, or FORGET, and confirms."""
        user = self.visitor().user
        if not forget:
            self.run(self.refused(self.services.customers.leave(user, self.merchant_id)))
            return
        self.run(self._forget_on_whatsapp())

    async def _forget_on_whatsapp(self) -> None:
        user = self.visitor().user
        async with self.db.read() as uow:
            person = await uow.people.by_caller(user)
            if person is None:
                return
            subject = await uow.personal_data.subject(person)
        await self.services.customers.forget(user)
        needles = (self.visitor().name, ON_WHATSAPP[0], "6281200007000", person.personal_code)
        self.forgotten.append((0, Forgotten(subject, needles)))
        self.whatsapp_generation += 1
        self.codes.pop(0, None)

    # -- the owner ----------------------------------------------------------------------------------------

    @rule(stamps=st.booleans(), points=st.booleans(), convert=st.booleans())
    def switch_kinds(self, stamps: bool, points: bool, convert: bool) -> None:
        leftover = Leftover.CONVERT if convert else Leftover.KEEP
        self.run(
            self.refused(
                self.services.merchants.choose_kinds(OWNER, stamps or not points, points, leftover, "10")
            )
        )

    @rule(field=st.sampled_from(sorted(FIELDS)), pick=st.integers(0, 2))
    def change_the_program(self, field: str, pick: int) -> None:
        value = FIELDS[field][pick % len(FIELDS[field])]
        self.run(self._change(field, value))

    async def _change(self, field: str, value: str) -> None:
        merchants = self.services.merchants
        try:
            await merchants.change_program(OWNER, field, value)
        except ProgramChangeAffectsCards:
            await merchants.change_program(OWNER, field, value, confirmed=True)
        except LoyaltyError:
            pass

    @rule(kind=st.sampled_from(["2 stamps; 20%", "5 points; 20%", "Es Kopi Susu; 10%"]))
    def add_a_prize(self, kind: str) -> None:
        self.run(self.refused(self.services.wheel.add_prize(OWNER, kind)))

    @rule(period=st.sampled_from(list(ExportPeriod)))
    def export_the_books(self, period: ExportPeriod) -> None:
        self.run(self._export(period))

    async def _export(self, period: ExportPeriod) -> None:
        """The owner's export, at any moment, whatever the kinds: every card as it stands, the
        ledger of its period, the causes; nobody forgotten in it."""
        job = await self.services.exports.start(OWNER, await self.services.exports.ask(OWNER), period)
        exported = await written(self.services, job)
        async with self.db.read() as uow:
            cards = (
                await uow.session.execute(
                    text("SELECT count(*), COALESCE(SUM(stamps), 0), COALESCE(SUM(points), 0) FROM card "
                         "WHERE merchant_id = :shop"),
                    {"shop": self.merchant_id},
                )
            ).one()  # fmt: skip
            entries = [
                (delta, at)
                for delta, at in (
                    await uow.session.execute(
                        select(LedgerEntry.delta, LedgerEntry.created_at).where(
                            LedgerEntry.merchant_id == self.merchant_id, LedgerEntry.id <= job.last_entry_id
                        )
                    )
                ).all()
                if job.since is None or at >= job.since
            ]
            ledger = (len(entries), sum(delta for delta, _ in entries))
        members = exported.members
        assert (len(members), sum(m.stamps for m in members), sum(m.points for m in members)) == tuple(cards)
        assert (len(exported.ledger), sum(entry.delta for entry in exported.ledger)) == tuple(ledger)
        written_out = repr((members, exported.ledger))
        for _, gone in self.forgotten:
            assert not any(needle and needle in written_out for needle in gone.needles[:2]), gone

    # -- time -----------------------------------------------------------------------------------------------

    @rule(hours=st.sampled_from([1, 5, 24, 24 * 8, 24 * 40]))
    def time_passes(self, hours: int) -> None:
        """The clock moves; the scheduler sweeps (expiry, bonuses after their hold, lapses, causes)
        and delivers what is due."""
        self.clock.advance(hours=hours)
        self.run(self.services.upkeep.sweep())
        self.run(self._deliver())

    async def _deliver(self) -> None:
        delivery = self.services.delivery
        problems: list[str] = []
        while parcels := await delivery.claim(WORKER, 200):
            for parcel in parcels:
                notice = await delivery.compose(parcel)
                if notice is None:
                    await delivery.skipped(parcel.id, "no longer needed")
                    continue
                problems += await badly_rendered(self.i18n, notice)
                await delivery.delivered(parcel.id)
        assert not problems, problems

    # -- what must always hold ------------------------------------------------------------------------------

    @invariant()
    def nothing_failed(self) -> None:
        assert not self.errors.seen, self.errors.seen

    @invariant()
    def balances_equal_their_ledgers(self) -> None:
        assert not (problems := self.run(balances_off_their_ledger(self.db))), problems

    @invariant()
    def purchases_say_where(self) -> None:
        assert not (problems := self.run(outlets_off_their_staff(self.db))), problems

    @invariant()
    def rewards_are_used_at_most_once(self) -> None:
        assert not (problems := self.run(rewards_used_more_than_once(self.db))), problems

    @invariant()
    def nothing_outlives_a_refunded_sale(self) -> None:
        assert not (problems := self.run(effects_left_by_refunds(self.db, self.refunded))), problems

    @invariant()
    def the_forgotten_are_forgotten(self) -> None:
        forgotten = [gone for _, gone in self.forgotten]
        assert not (problems := self.run(personal_values_left(self.db, forgotten))), problems


def _sqlite(template: Path, folder: Path) -> Callable[[], Awaitable[str]]:
    numbers = itertools.count()

    async def fresh() -> str:
        path = folder / f"model-{next(numbers)}.db"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"

    return fresh


def _play(database_url: Callable[[], Awaitable[str]], examples: int) -> None:
    machine = type("KopiSenja", (Shop,), {"database_url": staticmethod(database_url)})
    SEEN.clear()
    run_state_machine_as_test(machine, settings=model_settings(examples, steps=40))
    print("\n".join(f"{count:6} {what}" for what, count in sorted(SEEN.items())))


def test_every_kind_together_on_sqlite(migrated_sqlite: Path, tmp_path: Path) -> None:
    _play(_sqlite(migrated_sqlite, tmp_path), examples=30)


@pytest.mark.postgres
def test_every_kind_together_on_postgresql() -> None:
    created = asyncio.run(_postgres_database())
    assert created is not None
    template_url, template = created
    names: list[str] = []

    async def fresh() -> str:
        """A database per example, copied from one migrated template (as fast as a truncate)."""
        import asyncpg

        from tests.conftest import POSTGRES_URL, _plain_dsn

        name = f"{template}_{len(names)}"
        admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()
        names.append(name)
        return template_url.rsplit("/", 1)[0] + f"/{name}"

    async def migrate() -> None:
        from kartu.storage.migrate import upgrade

        database = Database(template_url)
        await upgrade(database.engine)
        await database.dispose()

    try:
        asyncio.run(migrate())
        _play(fresh, examples=8)
    finally:
        for name in (*names, template):
            asyncio.run(_drop_postgres_database(name))
