"""Spin the wheel: owners set the prizes (published odds, daily and monthly budgets) and what earns a
spin; a purchase earns one (once per purchase); the customer spins, the outcome is drawn on the
server and written to the ledger (with the prize) before the wheel is shown turning."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kartu.loyalty.bonuses import bonus_stamps, month_start
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import InvalidSetting, PromptClosed
from kartu.loyalty.kinds import Kinds, Unit
from kartu.loyalty.numbers import parse_whole_number
from kartu.loyalty.program import local_day_start
from kartu.loyalty.tiers import Basis
from kartu.loyalty.wheel import (
    MAX_PRIZES,
    ODDS_SCALE,
    SPIN_DAYS_MAX,
    EarnRule,
    Prize,
    PrizeKind,
    PrizeLine,
    Spent,
    check_odds,
    draw,
    earns_spin,
    parse_budget,
    parse_earn_rule,
    parse_odds,
    parse_prize,
    parse_prize_amount,
    parse_prize_kind,
)
from kartu.services.access import require_member, require_owner
from kartu.services.base import ServiceBase, kinds_of, points_rules_of
from kartu.services.points import earn_points, give_item
from kartu.storage.courier import Parcel
from kartu.storage.models import LedgerEntry, Merchant, Program, Spin, WheelPrize
from kartu.storage.unit_of_work import UnitOfWork

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_RULE_TTL = 30.0  # seconds a shop's "earns spins?" answer is kept (asked after every purchase)
AFTER_THE_WHEEL = timedelta(seconds=30)  # the scheduler's fallback for a spin's result
_rule_cache: dict[int, tuple[float, bool]] = {}


def prize_of(row: WheelPrize) -> Prize:
    return Prize(
        row.id or 0,
        PrizeKind(row.kind),
        row.amount,
        row.label,
        row.odds,
        row.daily_budget,
        row.monthly_budget,
        row.catalogue_item_id,
    )


@dataclass(frozen=True)
class PrizeView:
    prize_id: int
    label: str  # a catalogue reward's name (stamps and points are named by presenters)
    kind: str
    amount: int
    odds: int
    daily_budget: int | None
    monthly_budget: int | None


def _view_of(prize: Prize) -> PrizeView:
    return PrizeView(
        prize.id,
        prize.label,
        prize.kind.value,
        prize.amount,
        prize.odds,
        prize.daily_budget,
        prize.monthly_budget,
    )


@dataclass(frozen=True)
class PrizeForm:
    """What the new prize's form offers: the kinds the shop runs, the catalogue's rewards."""

    kinds: Kinds
    items: tuple[str, ...]


@dataclass(frozen=True)
class WheelView:
    merchant_name: str
    rule: str
    every: int
    minimum: int
    valid_days: int
    prizes: tuple[PrizeView, ...]

    @property
    def rest(self) -> int:
        """The odds of the wheel no prize names: "try again"."""
        return ODDS_SCALE - sum(prize.odds for prize in self.prizes)


@dataclass(frozen=True)
class CustomerWheel:
    wheel: WheelView
    ready: int
    next_expiry: datetime | None
    timezone: str


@dataclass(frozen=True)
class SpinOutcome:
    """What the wheel landed on (``None``: try again), the slices it shows, and the news to send."""

    prize: PrizeView | None
    slices: tuple[PrizeView, ...]  # the wheel's named prizes; after them, the unnamed rest ("try again")
    landed: int  # index into slices; len(slices) for the rest
    news: tuple[str, ...]
    left: int  # spins still ready


async def earn_spin(
    uow: UnitOfWork,
    now: datetime,
    merchant: Merchant,
    program: Program,
    person_id: int,
    source: str,
    amount: int | None,
) -> Parcel | None:
    """A purchase (named by ``source``) that earns a spin by the shop's rule adds one, once per
    purchase, with its news (the courier's, to go with the purchase's). ``None`` when it earns none.
    The spin's rows, and later its prize's, name the purchase: its refund takes them back."""
    rule = EarnRule(program.spin_rule)
    _rule_cache[merchant.id or 0] = (time.monotonic(), rule is not EarnRule.OFF)
    if rule is EarnRule.OFF:
        return None
    visits = await uow.tiers.measure(merchant.id or 0, person_id, Basis.VISITS, _EPOCH)
    if not earns_spin(rule, program.spin_every, program.spin_min_amount, visits, amount):
        return None
    expires_at = now + timedelta(days=program.spin_valid_days)
    spin_id = await uow.wheel.add_spin(
        Spin(
            merchant_id=merchant.id or 0,
            person_id=person_id,
            source=spin_source(source),
            earned_at=now,
            expires_at=expires_at,
        )
    )
    if spin_id is None:
        return None
    await uow.ledger.append(
        LedgerEntry(
            merchant_id=merchant.id or 0,
            person_id=person_id,
            asset="spin",
            delta=1,
            reason="earned",  # not "purchase": the purchase's own row counts the visit
            idempotency_key=f"spin-earned:{source}",
            origin=source,
            created_at=now,
        )
    )
    person = await uow.people.get(person_id)
    assert person is not None
    return await uow.counter.enqueue(
        key=f"spin-earned:{spin_id}",
        kind=Kind.SPIN_EARNED,
        category=Category.RESULT,
        chat_id=person.telegram_id,
        person_id=person_id,
        merchant_id=merchant.id,
        subject_id=spin_id,
        now=now,
        not_before=now,
        taken=True,
    )


def unit_of_prize(kind: PrizeKind) -> Unit | None:
    """The unit a prize pays in: stamps, points (a catalogue reward is bought with points)."""
    return {PrizeKind.STAMPS: Unit.STAMPS, PrizeKind.POINTS: Unit.POINTS, PrizeKind.ITEM: Unit.POINTS}.get(
        kind
    )


def spin_source(purchase: str) -> str:
    """A spin is named by the purchase that earned it (one spin per purchase)."""
    return f"spin:{purchase}"


def purchase_of(spin_source: str) -> str | None:
    """The purchase that earned a spin, from the spin's source."""
    return spin_source.removeprefix("spin:") if spin_source.startswith("spin:") else None


def known_without_spins(merchant_id: int) -> bool:
    """This process learnt in the last 30 s that the shop gives no spins (the counter skips them)."""
    known = _rule_cache.get(merchant_id)
    return known is not None and not known[1] and time.monotonic() - known[0] < _RULE_TTL


class WheelService(ServiceBase):
    # -- owners -------------------------------------------------------------------------------------

    async def _view(self, uow: UnitOfWork, merchant: Merchant, program: Program) -> WheelView:
        prizes = await uow.wheel.prizes(merchant.id or 0)
        return WheelView(
            merchant.name,
            program.spin_rule,
            program.spin_every,
            program.spin_min_amount,
            program.spin_valid_days,
            tuple(_view_of(prize_of(row)) for row in prizes),
        )

    async def overview(self, owner_telegram_id: int) -> WheelView:
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            return await self._view(uow, place.merchant, place.program)

    async def prize_form(self, owner_telegram_id: int) -> PrizeForm:
        """What the form for a new prize offers this shop (the owner check first)."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            items = await uow.catalogue.items(place.merchant.id or 0, shown_only=True)
            return PrizeForm(kinds_of(place.program), tuple(item.name for item in items))

    async def check_prize_field(self, owner_telegram_id: int, field: str, text: str) -> object:
        """One answer of the new prize's form, as the domain reads it; refused (InvalidSetting) as
        it would be when saved: a unit the shop does not run, a reward not in the catalogue, odds
        that would sum over 100%."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            match field:
                case "kind":
                    kind = parse_prize_kind(text)
                    unit = unit_of_prize(kind)
                    if unit is not None:
                        kinds_of(place.program).check_unit(unit)
                    return kind
                case "amount":
                    return parse_prize_amount(text)
                case "item":
                    item = await uow.catalogue.by_name(place.merchant.id or 0, text)
                    if item is None:
                        raise InvalidSetting("prize_item")
                    return item.name
                case "odds":
                    odds = parse_odds(text)
                    check_odds([prize.odds for prize in await uow.wheel.prizes(place.merchant.id or 0)], odds)
                    return odds
                case "daily" | "monthly":
                    return parse_budget(text)
        raise InvalidSetting(field)

    async def add_prize(self, owner_telegram_id: int, text: str) -> WheelView:
        """``2 stamps; 25%; 10/day; 200/month`` and the like, in one line (loyalty.wheel.parse_prize)."""
        return await self.add_prize_line(owner_telegram_id, parse_prize(text))

    async def add_prize_line(self, owner_telegram_id: int, line: PrizeLine) -> WheelView:
        """A new prize (its odds within 100% in all, in a unit the shop runs, a reward that is in
        the catalogue)."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            prizes = await uow.wheel.prizes(place.merchant.id or 0, lock=True)
            if len(prizes) >= MAX_PRIZES:
                raise InvalidSetting("prizes", 1, MAX_PRIZES)
            check_odds([prize.odds for prize in prizes], line.odds)
            item_id, label = None, line.item_name or ""
            unit = unit_of_prize(line.kind)
            if unit is not None:
                kinds_of(place.program).check_unit(unit)  # "2 stamps" in a points shop: refused
            if line.kind is PrizeKind.ITEM:
                item = await uow.catalogue.by_name(place.merchant.id or 0, line.item_name or "")
                if item is None:
                    raise InvalidSetting("prize_item")
                item_id, label = item.id, item.name
            await uow.wheel.save_prize(
                WheelPrize(
                    merchant_id=place.merchant.id or 0,
                    kind=line.kind.value,
                    amount=line.amount,
                    catalogue_item_id=item_id,
                    label=(label or _label(line.kind, line.amount))[:48],
                    odds=line.odds,
                    daily_budget=line.daily_budget,
                    monthly_budget=line.monthly_budget,
                    position=len(prizes),
                    created_at=self.clock.now(),
                )
            )
            return await self._view(uow, place.merchant, place.program)

    async def delete_prize(self, owner_telegram_id: int, prize_id: int) -> WheelView:
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            prize = await uow.wheel.prize(prize_id, place.merchant.id or 0)
            if prize is None:
                raise PromptClosed("missing")
            prize.deleted_at = self.clock.now()
            await uow.wheel.save_prize(prize)
            return await self._view(uow, place.merchant, place.program)

    async def set_rule(self, owner_telegram_id: int, text: str) -> WheelView:
        rule, every, minimum = parse_earn_rule(text)
        return await self._change(
            owner_telegram_id, spin_rule=rule.value, spin_every=every, spin_min_amount=minimum
        )

    async def set_valid_days(self, owner_telegram_id: int, text: str) -> WheelView:
        days = parse_whole_number(text, 1, SPIN_DAYS_MAX)
        if days is None:
            raise InvalidSetting("spin_valid_days", 1, SPIN_DAYS_MAX)
        return await self._change(owner_telegram_id, spin_valid_days=days)

    async def _change(self, owner_telegram_id: int, **values: object) -> WheelView:
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            for field, value in values.items():
                setattr(place.program, field, value)
            await uow.programs.save(place.program)
            _rule_cache.pop(place.merchant.id or 0, None)
            return await self._view(uow, place.merchant, place.program)

    # -- customers ----------------------------------------------------------------------------------

    async def for_customer(self, telegram_id: int) -> CustomerWheel:
        now = self.clock.now()
        async with self.db.read() as uow:
            person, merchant, _ = await require_member(uow, telegram_id)
            program = await uow.programs.for_merchant(merchant.id)
            ready = await uow.wheel.ready(merchant.id or 0, person.id or 0, now)
            return CustomerWheel(
                await self._view(uow, merchant, program),
                len(ready),
                ready[0].expires_at if ready else None,
                merchant.timezone,
            )

    async def spin(self, telegram_id: int) -> SpinOutcome:
        """Spend the customer's oldest ready spin: draw (budgets held by locking the shop's prizes),
        write the outcome and the prize, queue the news. A second tap with no spin left: refused."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person, merchant, _ = await require_member(uow, telegram_id)
            await uow.cards.get(merchant.id or 0, person.id or 0, lock=True)  # one spin at a time per card
            ready = await uow.wheel.ready(merchant.id or 0, person.id or 0, now, lock=True)
            if not ready:
                raise PromptClosed("spun")
            spin = ready[0]
            program = await uow.programs.for_merchant(merchant.id)
            rows = await uow.wheel.prizes(merchant.id or 0, lock=True)
            prizes = [prize_of(row) for row in rows]
            spent = await uow.wheel.spent(
                merchant.id or 0, local_day_start(now, merchant.timezone), month_start(now, merchant.timezone)
            )
            available = {prize_id: Spent(*counts) for prize_id, counts in spent.items()}
            kinds = kinds_of(program)
            for prize in prizes:  # out of stock, or in a unit the shop no longer runs: no budget left
                unit = unit_of_prize(prize.kind)
                if (
                    prize.kind is PrizeKind.ITEM and not await uow.catalogue.in_stock(prize.item_id or 0)
                ) or (unit is not None and not kinds.runs(unit)):
                    available[prize.id] = Spent(today=10**9, month=10**9)
            won = draw(prizes, available)
            if not await uow.wheel.mark_spun(
                spin.id or 0, won.id if won else None, won.label if won else "", now
            ):
                raise PromptClosed("spun")
            await uow.ledger.append(
                LedgerEntry(
                    merchant_id=merchant.id or 0,
                    person_id=person.id or 0,
                    asset="spin",
                    delta=-1,
                    reason="spun",
                    idempotency_key=f"spin-used:{spin.id}",
                    note=won.label if won else None,
                    origin=purchase_of(spin.source),
                    created_at=now,
                )
            )
            news = [f"spin-result:{spin.id}"]
            # The result is told after the wheel has turned (the handler sends it then); the
            # scheduler sends it only if the handler could not, a little later.
            after_the_wheel = now + AFTER_THE_WHEEL
            reward_news = await self._credit(
                uow, now, merchant, program, person.id or 0, spin, won, not_before=after_the_wheel
            )
            await uow.outbox.enqueue(
                key=news[0],
                kind=Kind.SPIN_RESULT,
                category=Category.RESULT,
                chat_id=person.telegram_id,
                person_id=person.id,
                merchant_id=merchant.id,
                subject_id=spin.id,
                now=now,
                not_before=after_the_wheel,
            )
            if reward_news:
                news.append(reward_news)
            views = tuple(_view_of(prize) for prize in prizes)
            landed = prizes.index(won) if won is not None else len(prizes)  # the unnamed rest: try again
            return SpinOutcome(_view_of(won) if won else None, views, landed, tuple(news), len(ready) - 1)

    async def _credit(
        self,
        uow: UnitOfWork,
        now: datetime,
        merchant: Merchant,
        program: Program,
        person_id: int,
        spin: Spin,
        won: Prize | None,
        *,
        not_before: datetime,
    ) -> str | None:
        """Give the prize (once per spin), naming the purchase that earned the spin. A catalogue
        reward: its code, as news of its own (the key)."""
        if won is None or won.kind is PrizeKind.NOTHING:
            return None
        merchant_id, key, origin = merchant.id or 0, f"spin:{spin.id}", purchase_of(spin.source)
        match won.kind:
            case PrizeKind.POINTS:
                await earn_points(
                    uow,
                    now,
                    merchant_id,
                    person_id,
                    won.amount,
                    source=key,
                    reason="spin",
                    rules=points_rules_of(program),
                    origin=origin,
                )
            case PrizeKind.STAMPS:
                card = await uow.cards.get(merchant_id, person_id, lock=True)
                stamps = bonus_stamps(won.amount, card.stamps, program.stamps_required) if card else 0
                if card is not None and stamps > 0:
                    await uow.ledger.append(
                        LedgerEntry(
                            merchant_id=merchant_id,
                            person_id=person_id,
                            asset="stamp",
                            delta=stamps,
                            reason="spin",
                            idempotency_key=f"stamps:{key}",
                            origin=origin,
                            created_at=now,
                        )
                    )
                    await uow.cards.set_stamps(card, card.stamps + stamps, card.last_purchase_at)
            case PrizeKind.ITEM:
                await uow.catalogue.take_one(won.item_id or 0)
                return await give_item(
                    uow,
                    now,
                    program,
                    person_id,
                    won.item_id or 0,
                    won.label,
                    reason="spin",
                    key=f"reward:{key}",
                    origin=origin,
                    not_before=not_before,
                )
        return None

    # -- the counter and the sweep ------------------------------------------------------------------

    async def lapse(self, merchant_id: int) -> int:
        """Ready spins past their expiry lapse, each with its ledger row."""
        now = self.clock.now()
        async with self.db.write() as uow:
            lapsed = await uow.wheel.lapse(merchant_id, now)
            for spin_id, person_id, source in lapsed:
                await uow.ledger.append(
                    LedgerEntry(
                        merchant_id=merchant_id,
                        person_id=person_id,
                        asset="spin",
                        delta=-1,
                        reason="expired",
                        idempotency_key=f"spin-expired:{spin_id}",
                        origin=purchase_of(source),
                        created_at=now,
                    )
                )
            return len(lapsed)


def _label(kind: PrizeKind, amount: int) -> str:
    """A prize's stored label when the owner named none (shown translated by presenters/wheel.py)."""
    return {PrizeKind.STAMPS: f"{amount} stamps", PrizeKind.POINTS: f"{amount} points"}.get(kind, "try again")
