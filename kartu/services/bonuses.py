"""Bonuses: a welcome gift on joining, a birthday gift on the day, and a bonus for bringing a friend
(paid to both once the friend's first purchase is confirmed). Each is a ledger row under a key that
names it (the welcome of this person at this shop, this year's birthday, this referral), so a
retried join, a second scheduler or a purchase confirmed twice credits it once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from kartu.loyalty.bonuses import (
    birthdays_on,
    bonus_stamps,
    local_today,
    may_change_birthday,
    month_start,
    parse_birthday,
)
from kartu.loyalty.delivery import Category, Kind, QuietHours, next_allowed
from kartu.loyalty.errors import BirthdayLocked, NotMember, SelfReferral
from kartu.services.access import require_member
from kartu.services.base import ServiceBase, kinds_of, points_rules_of
from kartu.services.points import earn_points
from kartu.storage.models import LedgerEntry, Merchant, Person, Program
from kartu.storage.unit_of_work import UnitOfWork

POINTS, STAMPS = "points", "stamps"


@dataclass(frozen=True)
class Bonus:
    """What a bonus added: ``amount`` points or stamps (0: nothing, or credited before)."""

    amount: int
    unit: str


@dataclass(frozen=True)
class Invitation:
    """A customer's invite link at their shop, and what it pays: ``bonus`` to both, ``hold_days``
    after the friend's first purchase (the shop's return window)."""

    token: str
    merchant_name: str
    bonus: Bonus
    hold_days: int


def unit_of(program: Program) -> str:
    """What the shop's bonuses are given in (its kinds say: loyalty/kinds.py)."""
    return kinds_of(program).bonus_unit.value


async def credit_bonus(
    uow: UnitOfWork,
    now: datetime,
    merchant_id: int,
    program: Program,
    person_id: int,
    amount: int,
    key: str,
    reason: str,
) -> Bonus:
    """Add a bonus to the person's card at the shop, once per ``key`` (nothing once they left it)."""
    unit = unit_of(program)
    if amount <= 0:
        return Bonus(0, unit)
    card = await uow.cards.get(merchant_id, person_id, lock=True)
    if card is None:
        return Bonus(0, unit)
    if unit == POINTS:
        earned = await earn_points(
            uow,
            now,
            merchant_id,
            person_id,
            amount,
            source=key,
            reason=reason,
            rules=points_rules_of(program),
            card=card,
        )
        return Bonus(amount if earned.added else 0, unit)
    stamps = bonus_stamps(amount, card.stamps, program.stamps_required)
    if stamps <= 0:
        return Bonus(0, unit)
    entry = LedgerEntry(
        merchant_id=merchant_id,
        person_id=person_id,
        asset="stamp",
        delta=stamps,
        reason=reason,
        idempotency_key=f"bonus:{key}",
        created_at=now,
    )
    if not await uow.ledger.append_once(entry):
        return Bonus(0, unit)
    await uow.cards.set_stamps(card, card.stamps + stamps, last_purchase_at=None)
    return Bonus(stamps, unit)


async def tell_bonus(
    uow: UnitOfWork,
    now: datetime,
    merchant: Merchant,
    person: Person,
    bonus: Bonus,
    key: str,
    reason: str,
    friend: Person | None = None,
) -> None:
    """The customer hears of the bonus through the outbox (in their quiet hours, it waits). The
    friend is named when it is sent (the row keeps their id, not their name: they may /forget)."""
    if not bonus.amount:
        return
    card = await uow.cards.get(merchant.id or 0, person.id or 0)
    await uow.outbox.enqueue(
        key=f"bonus:{key}",
        kind=Kind.BONUS,
        category=Category.SERVICE,
        chat_id=person.telegram_id,
        person_id=person.id,
        merchant_id=merchant.id,
        subject_id=card.id if card else None,
        params={
            "reason": reason,
            "amount": bonus.amount,
            "unit": bonus.unit,
            "friend_id": friend.id if friend is not None else None,
        },
        now=now,
        not_before=next_allowed(
            now, merchant.timezone, QuietHours.parse(merchant.quiet_hours), Category.SERVICE
        ),
    )


async def welcome(
    uow: UnitOfWork, now: datetime, merchant: Merchant, program: Program, person: Person
) -> Bonus:
    """The welcome bonus for someone who just joined: once per person per shop, ever."""
    key = f"welcome-{merchant.id}-{person.id}"
    return await credit_bonus(
        uow, now, merchant.id or 0, program, person.id or 0, program.welcome_bonus, key, "welcome"
    )


async def record_referral(
    uow: UnitOfWork, now: datetime, merchant: Merchant, referrer_id: int, friend: Person, newly_joined: bool
) -> bool:
    """The friend came through ``referrer_id``'s link: counted when they are new to the shop and
    were not referred here before; one's own link, and a link between two members, count nothing."""
    if referrer_id == friend.id:
        raise SelfReferral()
    if not newly_joined:
        return False
    return await uow.referrals.add(merchant.id or 0, referrer_id, friend.id or 0, now)


@dataclass(frozen=True)
class BirthdayView:
    day: int
    month: int
    changeable_from: datetime | None = None


class BonusService(ServiceBase):
    async def invitation(self, telegram_id: int) -> Invitation:
        """The customer's invite link at their shop (its token made on first use) and what it pays."""
        async with self.db.write() as uow:
            person, merchant, card = await require_member(uow, telegram_id)
            if card.invite_token is None:
                card.invite_token = secrets.token_urlsafe(9)
                uow.session.add(card)
                await uow.session.flush()
            program = await uow.programs.for_merchant(merchant.id)
            bonus = Bonus(program.referral_bonus, unit_of(program))
            return Invitation(card.invite_token, merchant.name, bonus, program.referral_hold_days)

    async def birthday(self, telegram_id: int) -> BirthdayView | None:
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None or person.birthday_day is None or person.birthday_month is None:
                return None
            return BirthdayView(
                person.birthday_day,
                person.birthday_month,
                may_change_birthday(person.birthday_set_at, self.clock.now()),
            )

    async def set_birthday(self, telegram_id: int, text: str) -> BirthdayView:
        """Day and month only; changeable once a year (a birthday moved to collect twice is not one)."""
        day, month = parse_birthday(text)
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None or person.current_merchant_id is None:
                raise NotMember()
            if (person.birthday_day, person.birthday_month) == (day, month):
                return BirthdayView(day, month, may_change_birthday(person.birthday_set_at, now))
            if person.birthday_day is not None:
                until = may_change_birthday(person.birthday_set_at, now)
                if until is not None:
                    raise BirthdayLocked(until)
            person.birthday_day, person.birthday_month, person.birthday_set_at = day, month, now
            await uow.people.save(person)
            return BirthdayView(day, month, may_change_birthday(now, now))

    async def birthdays(self, merchant: Merchant, program: Program) -> int:
        """Today's birthday bonuses at one shop (in its time zone): each member once a year."""
        if program.birthday_bonus <= 0:
            return 0
        now = self.clock.now()
        today = local_today(now, merchant.timezone)
        prefix = f"birthday-{merchant.id}-{today.year}-"
        async with self.db.read() as uow:
            due = await uow.referrals.birthdays(merchant.id or 0, birthdays_on(today), prefix)
        given = 0
        for person_id in due:
            async with self.db.write() as uow:
                person = await uow.people.get(person_id)
                if person is None:
                    continue
                key = f"{prefix}{person_id}"
                bonus = await credit_bonus(
                    uow, now, merchant.id or 0, program, person_id, program.birthday_bonus, key, "birthday"
                )
                await tell_bonus(uow, now, merchant, person, bonus, key, "birthday")
                given += bool(bonus.amount)
        return given

    async def referrals(self, merchant: Merchant, program: Program) -> int:
        """Pay the referrals whose friend's first purchase has stood the shop's return window
        (`referral_hold_days`: a purchase refunded within it pays nothing): the friend, the referrer
        while under the shop's monthly cap; either of them who left the shop meanwhile gets nothing."""
        now = self.clock.now()
        async with self.db.read() as uow:
            ready = await uow.referrals.ready(
                merchant.id or 0, now - timedelta(days=program.referral_hold_days)
            )
        paid = 0
        for referral_id in ready:
            async with self.db.write() as uow:
                referral = await uow.referrals.mark_paid(referral_id, now)
                if referral is None:  # another scheduler paid it
                    continue
                referrer = await uow.people.get(referral.referrer_person_id)
                friend = await uow.people.get(referral.friend_person_id)
                if referrer is None or friend is None:
                    continue
                # The referrer's card first: their month's count is read under its lock.
                referrer_card = await uow.cards.get(merchant.id or 0, referrer.id or 0, lock=True)
                key = f"referral-{referral.id}"
                if await uow.cards.get(merchant.id or 0, friend.id or 0) is not None:
                    bonus = await credit_bonus(
                        uow,
                        now,
                        merchant.id or 0,
                        program,
                        friend.id or 0,
                        program.referral_bonus,
                        f"{key}-friend",
                        "referral",
                    )
                    await tell_bonus(
                        uow, now, merchant, friend, bonus, f"{key}-friend", "referral_friend", referrer
                    )
                month = month_start(now, merchant.timezone)
                earned = await uow.referrals.paid_to_referrer_since(merchant.id or 0, referrer.id or 0, month)
                if referrer_card is not None and earned < program.referral_monthly_cap:
                    bonus = await credit_bonus(
                        uow,
                        now,
                        merchant.id or 0,
                        program,
                        referrer.id or 0,
                        program.referral_bonus,
                        f"{key}-referrer",
                        "referral",
                    )
                    await uow.referrals.referrer_paid(referral)
                    await tell_bonus(
                        uow,
                        now,
                        merchant,
                        referrer,
                        bonus,
                        f"{key}-referrer",
                        "referral_referrer",
                        friend,
                    )
                paid += 1
        return paid
