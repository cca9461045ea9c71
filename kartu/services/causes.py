"""Giving to a cause: owners set one up and record what they paid to it; purchases with an amount
give the shop's share (in the sale's own transaction, see services/points.py); customers give their
points, stamps or an unused reward; the sweep tells those who gave when the target is reached or
the cause ends. Every gift is a ledger row (asset ``cause``, rupiah) with an idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kartu.loyalty.causes import (
    DESCRIPTION_MAX,
    Asset,
    CauseRules,
    days_left,
    donation_value,
    ends_at,
    parse_cause_name,
    parse_end_date,
    parse_match,
    parse_payout_amount,
    parse_payout_day,
    parse_payout_note,
    parse_target,
    parse_units,
    parse_value,
)
from kartu.loyalty.codes import new_prompt_token
from kartu.loyalty.delivery import Category, Kind, QuietHours, next_allowed
from kartu.loyalty.errors import (
    CauseRunning,
    CauseTakesNot,
    InvalidSetting,
    NoCause,
    NothingToGive,
    PromptClosed,
)
from kartu.loyalty.kinds import Unit
from kartu.loyalty.points import balance, take
from kartu.loyalty.staff import PROMPT_TTL
from kartu.services.access import Workplace, require_member, require_owner
from kartu.services.base import ServiceBase, kinds_of
from kartu.storage.models import Cause, CauseOffer, CausePayout, LedgerEntry, Merchant
from kartu.storage.repositories.causes import ACTIVE, CLOSED
from kartu.storage.unit_of_work import UnitOfWork


def rules_of_cause(cause: Cause) -> CauseRules:
    return CauseRules(
        cause.give_rupiah, cause.per_rupiah, cause.point_value, cause.stamp_value, cause.reward_value
    )


@dataclass(frozen=True)
class CauseView:
    cause_id: int
    merchant_name: str
    name: str
    description: str
    target: int
    raised: int
    givers: int
    days_left: int
    last_day: datetime  # local midnight of the last day
    timezone: str
    rules: CauseRules
    reached: bool
    closed: bool


@dataclass(frozen=True)
class CustomerCause:
    """What /cause shows a customer: the cause, what they gave, what they could give."""

    cause: CauseView
    mine: int
    points: int  # held, where the shop runs points
    stamps: int
    rewards: tuple[tuple[int, str], ...]  # unused rewards: id, name


@dataclass(frozen=True)
class OwnerCause:
    cause: CauseView | None
    paid: int = 0
    payouts: int = 0
    past: int = 0  # causes that ended


@dataclass(frozen=True)
class OfferView:
    token: str
    cause_name: str
    asset: str
    units: int
    rupiah: int
    reward_name: str | None = None


@dataclass(frozen=True)
class GiftResult:
    cause: CauseView
    rupiah: int
    asset: str
    units: int


async def cause_view(uow: UnitOfWork, merchant: Merchant, cause: Cause, now: datetime) -> CauseView:
    raised, givers = await uow.causes.totals(cause.id or 0)
    zone = ZoneInfo(merchant.timezone)
    return CauseView(
        cause.id or 0,
        merchant.name,
        cause.name,
        cause.description,
        cause.target,
        raised,
        givers,
        days_left(now, cause.ends_at) if cause.status == ACTIVE else 0,
        cause.ends_at.astimezone(zone) - timedelta(days=1),
        merchant.timezone,
        rules_of_cause(cause),
        raised >= cause.target,
        cause.status != ACTIVE,
    )


class CauseService(ServiceBase):
    # -- owners -------------------------------------------------------------------------------------

    async def _owner_view(self, uow: UnitOfWork, place: Workplace) -> OwnerCause:
        causes = await uow.causes.of_merchant(place.merchant.id or 0)
        active = next((cause for cause in causes if cause.status == ACTIVE), None)
        past = sum(1 for cause in causes if cause.status != ACTIVE)
        if active is None:
            return OwnerCause(None, past=past)
        view = await cause_view(uow, place.merchant, active, self.clock.now())
        payouts = await uow.causes.payouts(active.id or 0)
        return OwnerCause(view, sum(payout.amount for payout in payouts), len(payouts), past)

    async def overview(self, owner_telegram_id: int) -> OwnerCause:
        async with self.db.read() as uow:
            return await self._owner_view(uow, await require_owner(uow, owner_telegram_id))

    async def check_field(self, owner_telegram_id: int, form: str, field: str, text: str) -> object:
        """One answer of a guided form (a new cause: name, target, last day; a payout: amount, day,
        note), as the domain reads it; refused (InvalidSetting) as it would be when saved."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            today = self.clock.now().astimezone(ZoneInfo(place.merchant.timezone)).date()
            if form == "cause" and await uow.causes.active(place.merchant.id or 0) is not None:
                raise CauseRunning()
            match form, field:
                case "cause", "name":
                    return parse_cause_name(text)
                case "cause", "target":
                    return parse_target(text)
                case "cause", "last_day":
                    return parse_end_date(text, today)
                case "payout", "amount":
                    return parse_payout_amount(text)
                case "payout", "day":
                    return parse_payout_day(text, today)
                case "payout", "note":
                    return parse_payout_note(text)
        raise InvalidSetting(field)

    async def start(self, owner_telegram_id: int, text: str) -> OwnerCause:
        """``Rumah Kucing; 5.000.000; 31-12-2026``: a new cause (one runs at a time)."""
        parts = [part.strip() for part in (text or "").split(";")]
        if len(parts) != 3:
            raise InvalidSetting("cause")
        return await self.start_cause(owner_telegram_id, *parts)

    async def start_cause(
        self, owner_telegram_id: int, name_text: str, target_text: str, last_day_text: str
    ) -> OwnerCause:
        """A new cause from its name, target in rupiah and last day (one runs at a time)."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            today = now.astimezone(ZoneInfo(place.merchant.timezone)).date()
            name, target = parse_cause_name(name_text), parse_target(target_text)
            last_day = parse_end_date(last_day_text, today)
            if await uow.causes.active(place.merchant.id or 0, lock=True) is not None:
                raise CauseRunning()
            await uow.causes.save(
                Cause(
                    merchant_id=place.merchant.id or 0,
                    name=name,
                    target=target,
                    ends_at=ends_at(last_day, place.merchant.timezone),
                    created_at=now,
                )
            )
            return await self._owner_view(uow, place)

    async def change(self, owner_telegram_id: int, field: str, text: str) -> OwnerCause:
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            cause = await uow.causes.active(place.merchant.id or 0, lock=True)
            if cause is None:
                raise NoCause()
            match field:
                case "description":
                    description = " ".join((text or "").split())
                    if len(description) > DESCRIPTION_MAX:
                        raise InvalidSetting("cause_description", 0, DESCRIPTION_MAX)
                    cause.description = "" if description in ("-", "—") else description
                case "match":
                    cause.give_rupiah, cause.per_rupiah = parse_match(text)
                case "point_value" | "stamp_value" | "reward_value":
                    value = parse_value(text)
                    if value and field != "reward_value":  # a unit the shop does not run: refused
                        kinds_of(place.program).check_unit(
                            Unit.POINTS if field == "point_value" else Unit.STAMPS
                        )
                    setattr(cause, field, value)
                case _:
                    raise InvalidSetting(field)
            await uow.causes.save(cause)
            return await self._owner_view(uow, place)

    async def record_payout(self, owner_telegram_id: int, text: str) -> OwnerCause:
        """``500.000; 24-11-2026; transfer BCA``: money passed on to the running cause, in one line."""
        parts = [part.strip() for part in (text or "").split(";", 2)]
        if len(parts) < 2:
            raise InvalidSetting("payout")
        return await self.pay_out(owner_telegram_id, parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    async def pay_out(
        self, owner_telegram_id: int, amount_text: str, day_text: str, note_text: str
    ) -> OwnerCause:
        """Money passed on to the running cause: how much, the day (nothing: today), a note."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            cause = await uow.causes.active(place.merchant.id or 0)
            if cause is None:
                raise NoCause()
            today = now.astimezone(ZoneInfo(place.merchant.timezone)).date()
            amount, paid_on = parse_payout_amount(amount_text), parse_payout_day(day_text, today)
            note = parse_payout_note(note_text)
            await uow.causes.add_payout(
                CausePayout(
                    cause_id=cause.id or 0,
                    amount=amount,
                    paid_on=paid_on,
                    note=note,
                    recorded_by_person_id=place.person.id or 0,
                    created_at=now,
                )
            )
            return await self._owner_view(uow, place)

    async def end(self, owner_telegram_id: int) -> OwnerCause:
        """End the running cause now: those who gave hear it at the next sweep."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            cause = await uow.causes.active(place.merchant.id or 0, lock=True)
            if cause is None:
                raise NoCause()
            cause.ends_at = min(cause.ends_at, now)
            await uow.causes.save(cause)
            return await self._owner_view(uow, place)

    # -- customers ----------------------------------------------------------------------------------

    async def for_customer(self, telegram_id: int) -> CustomerCause:
        now = self.clock.now()
        async with self.db.read() as uow:
            person, merchant, card = await require_member(uow, telegram_id)
            cause = await uow.causes.active(merchant.id or 0)
            if cause is None or cause.ends_at <= now:
                raise NoCause()
            view = await cause_view(uow, merchant, cause, now)
            rewards = await uow.rewards.open_rewards(merchant.id, person.id, now)
            return CustomerCause(
                view,
                await uow.causes.given_by(cause.id or 0, person.id or 0),
                card.points,
                card.stamps,
                tuple((reward.id or 0, reward.name) for reward in rewards),
            )

    async def offer(
        self, telegram_id: int, asset: str, units_text: str | None = None, reward_id: int | None = None
    ) -> OfferView:
        """What the customer is about to give and what it is worth, behind a Confirm button."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person, merchant, card = await require_member(uow, telegram_id)
            cause = await uow.causes.active(merchant.id or 0)
            if cause is None or cause.ends_at <= now:
                raise NoCause()
            rules = rules_of_cause(cause)
            if rules.value_of(asset) <= 0:
                raise CauseTakesNot(asset)
            reward_name = None
            if asset == Asset.REWARD:
                reward = await uow.rewards.get(reward_id or 0)
                if (
                    reward is None
                    or reward.person_id != person.id
                    or reward.merchant_id != merchant.id
                    or reward.redeemed_at is not None
                    or reward.expires_at <= now
                ):
                    raise NothingToGive(asset)
                units, reward_name = 1, reward.name
            else:
                held = card.points if asset == Asset.POINTS else card.stamps
                if held <= 0:
                    raise NothingToGive(asset)
                units = parse_units(units_text, held)
            offer = await uow.causes.add_offer(
                CauseOffer(
                    token=new_prompt_token(),
                    cause_id=cause.id or 0,
                    person_id=person.id or 0,
                    asset=asset,
                    units=units,
                    rupiah=donation_value(asset, units, rules),
                    reward_id=reward_id if asset == Asset.REWARD else None,
                    created_at=now,
                    expires_at=now + PROMPT_TTL,
                )
            )
            return OfferView(offer.token, cause.name, asset, units, offer.rupiah, reward_name)

    async def give(self, telegram_id: int, token: str) -> GiftResult:
        """Give what the offer names, exactly once (a second tap, or two at once, changes nothing)."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            offer = await uow.causes.offer(token)
            if person is None or offer is None or offer.person_id != person.id:
                raise PromptClosed("missing")
            if offer.status == "given":
                raise PromptClosed("given")
            if offer.status != "pending" or offer.expires_at <= now:
                raise PromptClosed("expired")
            cause = await uow.causes.get(offer.cause_id)
            if cause is None or cause.status != ACTIVE or cause.ends_at <= now:
                raise NoCause()
            merchant = await uow.merchants.get(cause.merchant_id)
            card = await uow.cards.get(cause.merchant_id, person.id or 0, lock=True)
            if merchant is None or card is None:
                raise NoCause()
            if not await uow.causes.decide_offer(offer.id or 0, "given", now):
                raise PromptClosed("given")
            await self._take(uow, now, offer, cause, card.id or 0)
            await uow.ledger.append(
                LedgerEntry(
                    merchant_id=cause.merchant_id,
                    person_id=person.id or 0,
                    asset="cause",
                    delta=offer.rupiah,
                    reason="donation",
                    idempotency_key=f"donate:{offer.id}",
                    reward_id=offer.reward_id,
                    cause_id=cause.id,
                    created_at=now,
                )
            )
            view = await cause_view(uow, merchant, cause, now)
            return GiftResult(view, offer.rupiah, offer.asset, offer.units)

    async def _take(
        self, uow: UnitOfWork, now: datetime, offer: CauseOffer, cause: Cause, card_id: int
    ) -> None:
        """Take what is given from the customer (the card is locked): points oldest first, stamps,
        or the reward (used up); each a ledger row. Held too little now: nothing changes."""
        merchant_id, person_id = cause.merchant_id, offer.person_id
        common: dict[str, Any] = dict(
            merchant_id=merchant_id,
            person_id=person_id,
            reason="donation",
            idempotency_key=f"donate:{offer.id}:{offer.asset}",
            cause_id=cause.id,
            created_at=now,
        )
        match offer.asset:
            case Asset.POINTS:
                batches = await uow.points.live(merchant_id, person_id, now)
                if balance(batches, now) < offer.units:
                    raise NothingToGive(offer.asset)
                await uow.points.draw(take(batches, offer.units, now), None)
                await uow.points.change_balance(card_id, -offer.units)
                await uow.ledger.append(LedgerEntry(asset="point", delta=-offer.units, **common))
            case Asset.STAMPS:
                if not await uow.cards.take_stamps(card_id, offer.units):
                    raise NothingToGive(offer.asset)
                await uow.ledger.append(LedgerEntry(asset="stamp", delta=-offer.units, **common))
            case Asset.REWARD:
                if not await uow.rewards.donate(offer.reward_id or 0, person_id, now):
                    raise NothingToGive(offer.asset)
                await uow.ledger.append(
                    LedgerEntry(asset="reward", delta=-1, reward_id=offer.reward_id, **common)
                )

    async def cancel(self, telegram_id: int, token: str) -> None:
        async with self.db.write() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            offer = await uow.causes.offer(token)
            if person is None or offer is None or offer.person_id != person.id:
                raise PromptClosed("missing")
            await uow.causes.decide_offer(offer.id or 0, "cancelled", self.clock.now())

    # -- the sweep ----------------------------------------------------------------------------------

    async def close_and_tell(self, merchant: Merchant) -> int:
        """Reaching the target or the last day: one message to each person who gave (once, however
        many schedulers sweep), paced by the outbox; a cause past its last day closes. The number
        of causes that reached or ended now."""
        now, changed = self.clock.now(), 0
        async with self.db.write() as uow:
            for cause in await uow.causes.running(merchant.id or 0):
                locked = await uow.causes.get(cause.id or 0, lock=True)
                if locked is None or locked.status != ACTIVE:
                    continue
                raised, _ = await uow.causes.totals(locked.id or 0)
                reached = raised >= locked.target and locked.reached_at is None
                ended = locked.ends_at <= now
                if not reached and not ended:
                    continue
                if reached:
                    locked.reached_at = now
                if ended:
                    locked.status, locked.closed_at = CLOSED, now
                await uow.causes.save(locked)
                changed += 1
                quiet = QuietHours.parse(merchant.quiet_hours)
                for person_id in await uow.causes.givers(locked.id or 0):
                    person = await uow.people.get(person_id)
                    if person is None:
                        continue
                    await uow.outbox.enqueue(
                        key=f"cause-done:{locked.id}:{person_id}",
                        kind=Kind.CAUSE_DONE,
                        category=Category.PROMO,
                        chat_id=person.telegram_id,
                        person_id=person_id,
                        merchant_id=merchant.id,
                        subject_id=locked.id,
                        params={"reached": bool(locked.reached_at), "raised": raised},
                        now=now,
                        not_before=next_allowed(now, merchant.timezone, quiet, Category.PROMO),
                    )
        return changed
