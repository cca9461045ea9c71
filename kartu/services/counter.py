"""What happens at the counter: staff stamp purchases and redeem rewards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kartu.loyalty.codes import CodeKind, code_kind, new_prompt_token, normalize_code
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import (
    AmountNeeded,
    BelowMinimumSpend,
    CodeEntryLocked,
    InvalidSaleAmount,
    NotStaff,
    OtherOutlet,
    OwnCodeShown,
    OwnPurchase,
    PointsOff,
    PromptClosed,
    RewardAlreadyRedeemed,
    RewardExpired,
    TooManyUnknownCodes,
    UnknownCode,
)
from kartu.loyalty.language import resolve_language
from kartu.loyalty.points import parse_rupiah, points_for
from kartu.loyalty.program import local_day_start, parse_purchase_count
from kartu.loyalty.staff import PROMPT_TTL, Role
from kartu.loyalty.throttle import CodeMisses, may_try_code, record_miss
from kartu.services.access import Workplace, place_of, require_staff
from kartu.services.after_purchase import after_purchase, nothing_after
from kartu.services.base import ServiceBase, kinds_of, points_rules_of
from kartu.services.crediting import Purchase, PurchaseResult, credit, within_cap
from kartu.services.points import Sale, credit_sale
from kartu.services.tiers import Moved
from kartu.services.views import Recipient
from kartu.services.webhooks import reward_redeemed
from kartu.storage.counter import CodeHolder, CounterStatements, Decided
from kartu.storage.courier import Parcel
from kartu.storage.models import LedgerEntry, PurchasePrompt, Reward
from kartu.storage.unit_of_work import UnitOfWork

JUST_STAMPED = timedelta(minutes=5)


def recently(last_purchase_at: datetime | None, now: datetime) -> timedelta | None:
    """How long ago the card's last purchase was, when it was within the last five minutes."""
    if last_purchase_at is None:
        return None
    since = now - last_purchase_at
    return since if timedelta(0) <= since < JUST_STAMPED else None


@dataclass(frozen=True)
class PurchasePromptView:
    token: str
    merchant_name: str
    customer_first_name: str
    stamps: int
    stamps_required: int
    stamps_to_add: int
    purchases: int
    # What tells two Ayus apart, and what staff should offer.
    customer_username: str | None = None
    last_visit: datetime | None = None
    open_rewards: int = 0
    timezone: str = "Asia/Jakarta"
    # Stamped moments ago (a code typed twice for one sale, or a Confirm whose answer was slow):
    # the prompt says so before another purchase is added.
    just_stamped: timedelta | None = None


@dataclass(frozen=True)
class RedeemPromptView:
    token: str
    merchant_name: str
    customer_first_name: str
    reward_name: str
    expires_at: datetime
    timezone: str


@dataclass(frozen=True)
class RedeemResult:
    customer: Recipient
    customer_first_name: str
    reward_name: str
    merchant_name: str
    news: tuple[str, ...] = ()


@dataclass(frozen=True)
class SalePromptView:
    """A purchase with an amount, in a shop running points: what staff see before Confirm."""

    token: str
    merchant_name: str
    customer_first_name: str
    amount: int
    points: int  # earned by this amount
    balance: int  # points held before it
    stamps_to_add: int = 0  # a shop running stamps too adds them on the same Confirm
    stamps: int = 0
    stamps_required: int = 0
    customer_username: str | None = None
    last_visit: datetime | None = None
    open_rewards: int = 0
    timezone: str = "Asia/Jakarta"


PURCHASE, REDEEM, SALE = "purchase", "redeem", "sale"


def _sale_view(
    token: str, merchant_name: str, timezone: str, holder: CodeHolder, amount: int, points: int, stamps: int
) -> SalePromptView:
    assert holder.rules is not None
    return SalePromptView(
        token=token,
        merchant_name=merchant_name,
        customer_first_name=holder.first_name,
        amount=amount,
        points=points,
        balance=holder.points,
        stamps_to_add=stamps,
        stamps=holder.stamps,
        stamps_required=holder.rules.stamps_required,
        customer_username=holder.username,
        last_visit=holder.last_purchase_at,
        open_rewards=holder.open_rewards,
        timezone=timezone,
    )


def _source(decided: Decided, kind: str) -> str:
    """What the purchase is named by in the ledger's keys (a stamp's prompt id, a sale's)."""
    return f"sale-{decided.prompt_id}" if kind == SALE else str(decided.prompt_id)


def _sale(decided: Decided) -> Sale:
    return Sale(
        decided.merchant_id,
        decided.staff_id,
        decided.customer_id,
        decided.amount or 0,
        _source(decided, SALE),
        decided.prompt_id,
        decided.purchases,
        outlet_id=decided.outlet_id,
    )


class CounterService(ServiceBase):
    async def open_code(self, staff_telegram_id: int, text: str) -> PurchasePromptView | RedeemPromptView:
        """Staff sent a bare code: a customer's code opens a purchase, a reward code a redemption."""
        canonical = normalize_code(text)
        if canonical is None:
            raise UnknownCode()
        try:
            if code_kind(canonical) is CodeKind.REWARD:
                return await self.open_redeem(staff_telegram_id, canonical)
            return await self.open_purchase(staff_telegram_id, canonical)
        except NotStaff:
            await self._own_code_shown(staff_telegram_id, canonical)
            raise

    async def _own_code_shown(self, telegram_id: int, canonical: str) -> None:
        """Someone who is not staff sent a code: a customer who pasted their own is told to show
        it at the counter (not that only staff may do this); any other code tells them nothing."""
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None:
                return
            if code_kind(canonical) is CodeKind.PERSONAL and person.personal_code == canonical:
                raise OwnCodeShown(reward=False)
            reward = await uow.rewards.by_code(canonical) if code_kind(canonical) is CodeKind.REWARD else None
            if reward is not None and reward.person_id == person.id:
                raise OwnCodeShown(reward=True)

    async def open_purchase(
        self, staff_telegram_id: int, code_text: str, purchases_text: str | None = None
    ) -> PurchasePromptView:
        """Staff typed a customer's code: show who it is and ask to confirm."""
        canonical = normalize_code(code_text)
        if canonical is None or code_kind(canonical) is not CodeKind.PERSONAL:
            raise UnknownCode()
        purchases = parse_purchase_count(purchases_text)
        if self.db.has_driver:
            view = await self._open_usual_purchase(staff_telegram_id, canonical, purchases)
            if view is not None:
                return view
        # Anything unusual (a miss to record, a streak to reset, a refusal to explain): the full use case.
        async with self.db.write() as uow:
            place = await require_staff(uow, staff_telegram_id)
            misses = self._may_try_code(place)
            now = self.clock.now()
            since = local_day_start(now, place.merchant.timezone)
            holder = await uow.counter.holder_of_code(place.merchant.id, canonical, since, now)
            if holder is not None and holder.person_id == place.person.id:
                raise OwnPurchase()
            if holder is not None and holder.card_id is not None:
                await self._record_hit(uow, place)
                kinds = kinds_of(place.program)
                if kinds.needs_amount:
                    raise AmountNeeded(canonical, holder.first_name)
                if not kinds.earns_stamps(holder.stamps):
                    raise PointsOff(stamps=True)
                view = self._purchase_view(  # refuses over the day's cap before anything is written
                    new_prompt_token(), place.where, place.merchant.timezone, holder, purchases
                )
                await self._add_prompt(
                    uow, place, PURCHASE, holder.person_id, purchases=purchases, token=view.token
                )
                return view
            # Someone who never joined this shop looks exactly like an unknown code, and nothing
            # is written but the miss: staff cannot enrol (or learn about) another shop's
            # customers. The miss commits with the block; the refusal is raised after it.
            await self._record_miss(uow, place, misses)
        raise UnknownCode()

    async def _open_usual_purchase(
        self, staff_telegram_id: int, canonical: str, purchases: int
    ) -> PurchasePromptView | None:
        """The usual purchase (a known customer of the shop, a staff member with no misses to
        reset) in two or three statements on the driver; ``None`` for anything else. The day's
        cap refuses here as in the full use case, before anything is written."""
        now = self.clock.now()
        async with self.db.driver(transaction=False) as tx:  # on SQLite the reads do not queue
            statements = CounterStatements(tx)
            found = await statements.usual_purchase(staff_telegram_id, canonical, now)
            if found is None:
                return None
            place, holder = found
            if place.misses.streak or not may_try_code(place.misses, now):
                return None
            if holder is None or holder.rules is None or holder.person_id == place.person_id:
                return None
            if holder.runs_points or not holder.runs_stamps:  # staff say the amount first
                return None
            view = self._purchase_view(new_prompt_token(), place.where, place.timezone, holder, purchases)
            await statements.add_prompt(
                view.token,
                place.merchant_id,
                holder.person_id,
                place.person_id,
                purchases,
                now,
                now + PROMPT_TTL,
                outlet_id=place.outlet_id,
            )
        return view

    async def _open_usual_sale(
        self, staff_telegram_id: int, canonical: str, amount_text: str
    ) -> SalePromptView | None:
        """The usual sale (a known customer of a shop running points, a well-formed amount that
        earns something) on the driver, as the usual purchase; ``None`` for anything else."""
        now = self.clock.now()
        async with self.db.driver(transaction=False) as tx:
            statements = CounterStatements(tx)
            found = await statements.usual_purchase(staff_telegram_id, canonical, now)
            if found is None:
                return None
            place, holder = found
            if place.misses.streak or not may_try_code(place.misses, now):
                return None
            if holder is None or holder.rules is None or holder.person_id == place.person_id:
                return None
            rules = holder.points_rules
            amount = parse_rupiah(amount_text, rules.max_amount) if rules is not None else None
            if rules is None or amount is None:
                return None
            points = points_for(amount, rules, holder.tier_multiplier)
            stamps = holder.rules.stamps_per_purchase if holder.kinds.earns_stamps(holder.stamps) else 0
            if not points and not stamps:
                return None
            token = new_prompt_token()
            if stamps:  # the day's cap refuses before anything is written
                self._purchase_view(token, place.where, place.timezone, holder, 1)
            await statements.add_prompt(
                token,
                place.merchant_id,
                holder.person_id,
                place.person_id,
                1 if stamps else 0,
                now,
                now + PROMPT_TTL,
                kind=SALE,
                amount=amount,
                outlet_id=place.outlet_id,
            )
        return _sale_view(token, place.where, place.timezone, holder, amount, points, stamps)

    def _purchase_view(
        self, token: str, merchant_name: str, timezone: str, holder: CodeHolder, purchases: int
    ) -> PurchasePromptView:
        """What staff see before Confirm; refuses now, rather than after the tap, when the cap is
        already out of reach."""
        assert holder.rules is not None
        rules = holder.rules
        within_cap(
            rules,
            holder.stamps,
            purchases,
            holder.stamped_today,
            customer_name=holder.first_name,
            merchant_name=merchant_name,
            customer_chat=(
                holder.telegram_id,
                resolve_language(holder.language, holder.telegram_language, self.settings.default_language),
            ),
        )
        return PurchasePromptView(
            token=token,
            merchant_name=merchant_name,
            customer_first_name=holder.first_name,
            stamps=holder.stamps,
            stamps_required=rules.stamps_required,
            stamps_to_add=purchases * rules.stamps_per_purchase,
            purchases=purchases,
            customer_username=holder.username,
            last_visit=holder.last_purchase_at,
            open_rewards=holder.open_rewards,
            timezone=timezone,
            just_stamped=recently(holder.last_purchase_at, self.clock.now()),
        )

    async def _add_prompt(
        self,
        uow: UnitOfWork,
        place: Workplace,
        kind: str,
        customer_id: int,
        *,
        purchases: int = 0,
        reward_id: int | None = None,
        token: str | None = None,
        amount: int | None = None,
    ) -> PurchasePrompt:
        """The row behind a Confirm button, opened by this staff member for this shop."""
        now = self.clock.now()
        return await uow.prompts.add(
            PurchasePrompt(
                token=token or new_prompt_token(),
                kind=kind,
                reward_id=reward_id,
                merchant_id=place.merchant.id,
                customer_person_id=customer_id,
                staff_person_id=place.person.id,
                purchases=purchases,
                amount=amount,
                created_at=now,
                expires_at=now + PROMPT_TTL,
                outlet_id=place.outlet_id,
            )
        )

    def _may_try_code(self, place: Workplace) -> CodeMisses:
        """Refuse code entry for a locked account, or one past its unknown codes this minute."""
        member = place.member
        misses = CodeMisses(
            member.code_misses,
            member.miss_window_start,
            member.misses_in_window,
            member.locked_at is not None,
        )
        if misses.locked:
            raise CodeEntryLocked()
        if not may_try_code(misses, self.clock.now()):
            raise TooManyUnknownCodes()
        return misses

    async def _record_miss(self, uow: UnitOfWork, place: Workplace, misses: CodeMisses) -> None:
        now = self.clock.now()
        after = record_miss(misses, now)
        await uow.staff.save_misses(place.member, after, now)
        if after.locked:  # the owners hear of it once, with who it was
            for member, owner in await uow.staff.roster(place.merchant.id):
                if member.role == Role.OWNER and member.id != place.member.id:
                    await uow.outbox.enqueue(
                        key=f"code-lock:{place.member.id}:{now.isoformat()}:{member.id}",
                        kind=Kind.CODE_LOCK_ALERT,
                        category=Category.ALERT,
                        chat_id=owner.telegram_id,
                        person_id=owner.id,
                        merchant_id=place.merchant.id,
                        subject_id=place.member.id,
                        now=now,
                        not_before=now,
                    )

    async def _record_hit(self, uow: UnitOfWork, place: Workplace) -> None:
        """A known code ends the streak of misses (the per-minute count stays)."""
        member = place.member
        if member.code_misses:
            await uow.staff.save_misses(
                member, CodeMisses(0, member.miss_window_start, member.misses_in_window), self.clock.now()
            )

    async def _open_prompt(
        self, uow: UnitOfWork, staff_telegram_id: int, token: str, kind: str
    ) -> tuple[Workplace, PurchasePrompt]:
        """The pending prompt behind a Confirm/Cancel tap. Who taps is checked first (staff at
        all), then that the prompt exists, is of this kind, was opened by them, and that they
        still work at its shop: a forged or foreign button learns nothing and changes nothing."""
        found = await uow.prompts.with_place(token, kind, staff_telegram_id)  # the usual tap: one query
        if found is not None:
            prompt, person, member, merchant, program = found
            return self._still_open(prompt, kind, Workplace(person, member, merchant, program))
        # Anything else: find out what to say, checking who taps before anything about the prompt.
        tapper = await uow.people.by_telegram_id(staff_telegram_id)
        shown = await uow.prompts.by_token(token) if tapper is not None else None
        if tapper is None or shown is None or shown.kind != kind or shown.staff_person_id != tapper.id:
            if tapper is None or not await uow.staff.workplaces(tapper.id):
                raise NotStaff()
            raise PromptClosed("missing")
        return self._still_open(shown, kind, await place_of(uow, tapper, shown.merchant_id))

    def _still_open(
        self, prompt: PurchasePrompt, kind: str, place: Workplace
    ) -> tuple[Workplace, PurchasePrompt]:
        if prompt.status == "confirmed" and kind == REDEEM:
            raise RewardAlreadyRedeemed()
        if prompt.status != "pending":
            raise PromptClosed(prompt.status)
        if prompt.expires_at <= self.clock.now():
            raise PromptClosed("expired")
        return place, prompt

    async def confirm_purchase(self, staff_telegram_id: int, token: str) -> PurchaseResult:
        """Credit the prompt's purchase exactly once, issuing rewards for every full card."""
        return await self._confirm(staff_telegram_id, token, PURCHASE)

    async def open_sale(self, staff_telegram_id: int, code_text: str, amount_text: str) -> SalePromptView:
        """Staff typed a customer's code and what they spent (``/buy CODE 125.000``, or the
        amount asked for after a bare code): show the points it earns and ask to confirm."""
        canonical = normalize_code(code_text)
        if canonical is None or code_kind(canonical) is not CodeKind.PERSONAL:
            raise UnknownCode()
        if self.db.has_driver:
            view = await self._open_usual_sale(staff_telegram_id, canonical, amount_text)
            if view is not None:
                return view
        # Anything unusual (a refusal to explain, a miss to record): the full use case.
        async with self.db.write() as uow:
            place = await require_staff(uow, staff_telegram_id)
            program = place.program
            if not program.points_enabled:
                raise PointsOff()
            rules = points_rules_of(program)
            amount = parse_rupiah(amount_text, rules.max_amount)
            if amount is None:
                raise InvalidSaleAmount(rules.max_amount)
            misses = self._may_try_code(place)
            now = self.clock.now()
            since = local_day_start(now, place.merchant.timezone)
            holder = await uow.counter.holder_of_code(place.merchant.id, canonical, since, now)
            if holder is not None and holder.person_id == place.person.id:
                raise OwnPurchase()
            if holder is not None and holder.card_id is not None and holder.rules is not None:
                await self._record_hit(uow, place)
                points = points_for(amount, rules, holder.tier_multiplier)
                stamps = (
                    holder.rules.stamps_per_purchase if kinds_of(program).earns_stamps(holder.stamps) else 0
                )
                if not points and not stamps:
                    raise BelowMinimumSpend(max(rules.minimum_spend, rules.rupiah_per_point))
                if stamps:
                    self._purchase_view("", place.where, place.merchant.timezone, holder, 1)  # the cap
                prompt = await self._add_prompt(
                    uow, place, SALE, holder.person_id, purchases=1 if stamps else 0, amount=amount
                )
                return _sale_view(
                    prompt.token or "",
                    place.where,
                    place.merchant.timezone,
                    holder,
                    amount,
                    points,
                    stamps,
                )
            await self._record_miss(uow, place, misses)
        raise UnknownCode()

    async def confirm_sale(self, staff_telegram_id: int, token: str) -> PurchaseResult:
        """Credit the sale's points (and its stamp, in a shop running both) exactly once."""
        return await self._confirm(staff_telegram_id, token, SALE)

    async def _confirm(self, staff_telegram_id: int, token: str, kind: str) -> PurchaseResult:
        """A Confirm tap on a purchase or a sale prompt: credited once, on the driver when it can;
        the card's level is checked right after."""
        now = self.clock.now()
        if self.db.has_driver:  # the usual tap: the whole confirmation on the driver
            async with self.db.driver() as tx:
                statements = CounterStatements(tx)
                decided = await statements.decide(token, staff_telegram_id, now, kind)
                if decided is not None:
                    result = await self._credit(statements, now, decided, kind)
            if decided is not None:
                return result.also(*await self._after(decided, kind))
        # Any other tap: find out what to say (or, with no driver, confirm it here).
        async with self.db.write() as uow:
            place, prompt = await self._open_prompt(uow, staff_telegram_id, token, kind)
            if prompt.customer_person_id == place.person.id:
                raise OwnPurchase()
            if not await uow.prompts.decide(prompt.id, "confirmed", place.person.id, now):
                raise PromptClosed("confirmed")
            decided = Decided(
                prompt.id or 0,
                place.merchant.id or 0,
                prompt.customer_person_id,
                place.person.id or 0,
                prompt.purchases,
                place.merchant.timezone,
                prompt.amount,
                prompt.outlet_id,
            )
            result = await self._credit(uow.counter, now, decided, kind)
            return result.also(
                *await after_purchase(
                    uow,
                    now,
                    place.merchant,
                    place.program,
                    decided.customer_id,
                    _source(decided, kind),
                    decided.amount,
                )
            )

    async def _after(self, decided: Decided, kind: str) -> list[Moved | Parcel | None]:
        """A level, a spin, partners' vouchers: in a transaction right after the purchase's."""
        if nothing_after(decided.merchant_id):
            return []
        async with self.db.write() as uow:
            merchant = await uow.merchants.get(decided.merchant_id)
            if merchant is None:
                return []
            program = await uow.programs.for_merchant(decided.merchant_id)
            return await after_purchase(
                uow,
                self.clock.now(),
                merchant,
                program,
                decided.customer_id,
                _source(decided, kind),
                decided.amount,
            )

    async def _credit(
        self, statements: CounterStatements, now: datetime, decided: Decided, kind: str
    ) -> PurchaseResult:
        if kind == SALE:
            return await credit_sale(statements, now, self.settings, _sale(decided), decided.timezone)
        purchase = Purchase(
            decided.merchant_id,
            decided.timezone,
            decided.staff_id,
            decided.customer_id,
            decided.purchases,
            _source(decided, PURCHASE),
            decided.prompt_id,
            outlet_id=decided.outlet_id,
        )
        return await credit(statements, now, self.settings, purchase)

    async def cancel_prompt(self, staff_telegram_id: int, token: str, kind: str) -> None:
        """Cancel a purchase or redemption prompt; nothing is credited or spent."""
        async with self.db.write() as uow:
            place, prompt = await self._open_prompt(uow, staff_telegram_id, token, kind)
            if not await uow.prompts.decide(prompt.id, "cancelled", place.person.id, self.clock.now()):
                raise PromptClosed("confirmed")

    async def _redeemable(self, uow: UnitOfWork, place: Workplace, reward: Reward | None) -> Reward:
        # A code of another merchant looks exactly like an unknown one: nothing leaks.
        if reward is None or reward.merchant_id != place.merchant.id:
            raise UnknownCode()
        if reward.redeemed_at is not None:
            raise RewardAlreadyRedeemed()
        if reward.expires_at <= self.clock.now():
            raise RewardExpired()
        return reward

    async def open_redeem(self, staff_telegram_id: int, code_text: str) -> RedeemPromptView:
        canonical = normalize_code(code_text)
        if canonical is None or code_kind(canonical) is not CodeKind.REWARD:
            raise UnknownCode()
        async with self.db.write() as uow:
            place = await require_staff(uow, staff_telegram_id)
            misses = self._may_try_code(place)
            found = await uow.rewards.by_code(canonical)
            if found is not None and found.merchant_id == place.merchant.id:
                await self._record_hit(uow, place)
                reward = await self._redeemable(uow, place, found)
                partnership = await uow.partners.get(reward.partnership_id) if reward.partnership_id else None
                if partnership is not None and partnership.to_outlet_id not in (None, place.outlet_id):
                    raise OtherOutlet()  # a voucher for one outlet of ours: used there
                customer = await uow.people.get(reward.person_id)
                assert customer is not None
                # The Confirm button carries this prompt's unguessable token, never the reward's
                # id: only someone who typed the code can redeem it.
                prompt = await self._add_prompt(uow, place, REDEEM, customer.id, reward_id=reward.id)
                return RedeemPromptView(
                    prompt.token or "",
                    place.where,
                    customer.first_name,
                    reward.name,
                    reward.expires_at,
                    place.merchant.timezone,
                )
            await self._record_miss(uow, place, misses)  # another shop's code looks unknown too
        raise UnknownCode()

    async def confirm_redeem(self, staff_telegram_id: int, token: str) -> RedeemResult:
        now = self.clock.now()
        async with self.db.write() as uow:
            place, prompt = await self._open_prompt(uow, staff_telegram_id, token, REDEEM)
            reward = await self._redeemable(uow, place, await uow.rewards.get(prompt.reward_id or 0))
            if not await uow.rewards.redeem(reward.id, place.person.id, now):
                raise RewardAlreadyRedeemed()
            await uow.prompts.decide(prompt.id, "confirmed", place.person.id, now)
            await uow.ledger.append(
                LedgerEntry(
                    merchant_id=reward.merchant_id,
                    person_id=reward.person_id,
                    asset="reward",
                    delta=-1,
                    reason="reward_redeemed",
                    actor_person_id=place.person.id,
                    idempotency_key=f"redeem:{reward.id}",
                    reward_id=reward.id,
                    created_at=now,
                    outlet_id=prompt.outlet_id,
                )
            )
            await uow.staff.touch(place.member.id, now)
            customer = await uow.people.get(reward.person_id)
            assert customer is not None
            await reward_redeemed(uow, now, reward, customer)
            news = f"redeemed:{reward.id}"  # news that carries a result: in this transaction
            await uow.outbox.enqueue(
                key=news,
                kind=Kind.REWARD_REDEEMED,
                category=Category.RESULT,
                chat_id=customer.telegram_id,
                person_id=customer.id,
                merchant_id=place.merchant.id,
                subject_id=reward.id,
                now=now,
                not_before=now,
            )
            return RedeemResult(
                customer=self.recipient(customer),
                customer_first_name=customer.first_name,
                reward_name=reward.name,
                merchant_name=place.merchant.name,
                news=(news,),
            )
