"""Points: earning them on what a customer spends, the catalogue they are spent in, giving a
reward back, and an owner's change by hand. Every change is a ledger row with an idempotency key,
a batch or a draw on batches, and the card's cached balance, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from kartu.config import Settings
from kartu.loyalty.causes import CauseRules, shop_gift
from kartu.loyalty.channels import Caller
from kartu.loyalty.codes import CodeKind, code_kind, new_prompt_token, new_reward_code, normalize_code
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import (
    BalanceWouldGoNegative,
    NotEnoughPoints,
    NotMember,
    PointsOff,
    PromptClosed,
    ReturnClosed,
    RewardUnavailable,
    UnknownCode,
)
from kartu.loyalty.language import resolve_language
from kartu.loyalty.points import (
    PERMILLE,
    PointsRules,
    balance,
    batch_expiry,
    check_exchange,
    expiring,
    parse_adjustment,
    parse_note,
    points_for,
    return_deadline,
    take,
)
from kartu.loyalty.program import local_day_start, reward_expiry
from kartu.loyalty.staff import PROMPT_TTL
from kartu.loyalty.webhooks import customer, purchase_data
from kartu.services.access import require_member, require_owner
from kartu.services.base import (
    ServiceBase,
    kinds_of,
    make_card_view,
    points_rules_of,
    rules_of,
)
from kartu.services.crediting import (
    Purchase,
    PurchaseResult,
    ask_for_feedback_later,
    card_news_params,
    credit,
)
from kartu.services.views import Recipient, RewardView
from kartu.services.webhooks import reward_issued
from kartu.storage.counter import CounterStatements, LockedCard
from kartu.storage.models import Card, LedgerEntry, Program, PurchasePrompt, Reward
from kartu.storage.unit_of_work import UnitOfWork

EXCHANGE = "exchange"  # a customer's prompt: this catalogue reward for its points


@dataclass(frozen=True)
class Sale:
    """A purchase with an amount: whose, confirmed by whom, named by ``source`` (the ledger's keys
    derive from it, so one source is credited once)."""

    merchant_id: int
    actor_id: int
    customer_id: int
    amount: int
    source: str
    prompt_id: int | None = None
    purchases: int = 0  # stamps too, in a shop running both
    till: bool = False  # posted by a point of sale (see `Purchase.till`)
    outlet_id: int | None = None  # where it happened (see `Purchase.outlet_id`)


class Earned(NamedTuple):
    balance: int
    added: bool


async def earn_points(
    uow: UnitOfWork,
    now: datetime,
    merchant_id: int,
    person_id: int,
    points: int,
    *,
    source: str,
    reason: str,
    rules: PointsRules,
    actor_id: int | None = None,
    prompt_id: int | None = None,
    note: str | None = None,
    amount: int | None = None,
    card: Card | None = None,
    origin: str | None = None,
) -> Earned:
    """Add ``points`` as a batch of their own (expiring as the shop says): the card's balance after,
    and whether they were added (a source credited before adds nothing). The card is locked first
    (``card``: locked already by the caller)."""
    card = card or await uow.cards.get(merchant_id, person_id, lock=True)
    if card is None:
        raise UnknownCode()  # left the shop (or was erased) since the prompt opened
    if points <= 0:
        return Earned(card.points, False)
    key = f"points:{source}"
    batch = await uow.points.add_batch(merchant_id, person_id, points, key, now, batch_expiry(now, rules))
    if batch is None:
        return Earned(card.points, False)
    await uow.ledger.append(
        LedgerEntry(
            merchant_id=merchant_id,
            person_id=person_id,
            asset="point",
            delta=points,
            reason=reason,
            actor_person_id=actor_id,
            idempotency_key=key,
            prompt_id=prompt_id,
            note=note,
            amount=amount,
            origin=origin,
            created_at=now,
        )
    )
    balance_after = await uow.points.change_balance(
        card.id or 0, points, now if reason == "purchase" else None
    )
    return Earned(balance_after, True)


async def credit_sale(
    statements: CounterStatements, now: datetime, settings: Settings, sale: Sale, timezone: str
) -> PurchaseResult:
    """Credit a sale: its points (the customer's level multiplying them), and its stamps when the
    shop runs both (one news message). On the counter's statements: the hot path's driver, or an
    ORM transaction (claims); the caller moves the card's level."""
    since = local_day_start(now, timezone)
    card = await statements.locked_card(sale.merchant_id, sale.customer_id, since, now, sale.outlet_id)
    if card is None:
        raise UnknownCode()  # left the shop (or was erased) since the prompt opened
    rules = card.points_rules
    multiplier = max(card.tier[1] if card.tier else PERMILLE, card.member_multiplier)  # the better perk
    points = points_for(sale.amount, rules, multiplier)
    held = card.points
    if points > 0:
        earned = await statements.earn(
            sale.merchant_id,
            sale.customer_id,
            card.card_id,
            points=points,
            key=f"points:{sale.source}",
            amount=sale.amount,
            actor_id=sale.actor_id,
            prompt_id=sale.prompt_id,
            now=now,
            expires_at=batch_expiry(now, rules),
            origin=sale.source,
            outlet_id=sale.outlet_id,
        )
        points, held = (points, earned) if earned is not None else (0, card.points)
    gift = await give_to_cause(statements, now, sale, card)
    purchase = Purchase(
        sale.merchant_id,
        timezone,
        sale.actor_id,
        sale.customer_id,
        sale.purchases,
        sale.source,
        sale.prompt_id,
        points=points,
        amount=sale.amount,
        points_balance=held,
        gift=gift,
        till=sale.till,
        outlet_id=sale.outlet_id,
    )
    if sale.purchases and card.kinds.earns_stamps(card.stamps):
        return await credit(statements, now, settings, purchase)
    key = f"card:{sale.source}"
    taken = await statements.enqueue(
        key=key,
        kind=Kind.CARD_UPDATE,
        category=Category.RESULT,
        chat_id=card.telegram_id,
        person_id=sale.customer_id,
        merchant_id=sale.merchant_id,
        subject_id=card.card_id,
        params=card_news_params(0, 0, points, sale.amount, gift),
        now=now,
        not_before=now,
        taken=True,
    )
    if not sale.till:
        await statements.touch_staff(sale.merchant_id, sale.actor_id, now)
    if card.webhooks:
        await statements.emit(
            merchant_id=sale.merchant_id,
            kind="purchase.credited",
            key=sale.source,
            person_id=sale.customer_id,
            data=purchase_data(
                sale.source,
                customer(card.personal_code, card.first_name),
                0,
                points,
                sale.amount,
                card.stamps,
                held,
                card.outlet,
            ),
            now=now,
        )
    await ask_for_feedback_later(statements, now, purchase, card)
    view = make_card_view(
        card.merchant_name,
        timezone,
        card.rules,
        card.personal_code,
        card.stamps,
        now,
        card.open_rewards,
        points=held,
        runs_stamps=card.kinds.shows_stamps(card.stamps),
        tier=card.tier,
    )
    language = resolve_language(card.language, card.telegram_language, settings.default_language)
    return PurchaseResult(
        customer=Recipient(card.telegram_id, language),
        customer_first_name=card.first_name,
        stamps_added=0,
        card=view,
        news=(key,),
        reachable=card.reachable,
        taken=(taken,) if taken is not None else (),
        points_added=points,
        amount=sale.amount,
        gift=gift,
    )


async def give_to_cause(
    statements: CounterStatements, now: datetime, sale: Sale, card: LockedCard
) -> tuple[str, int] | None:
    """The shop's gift to its running cause for this sale (Rp Y per Rp X spent), once per sale."""
    if card.cause is None:
        return None
    cause_id, name, give, per = card.cause
    rupiah = shop_gift(sale.amount, CauseRules(give, per))
    if rupiah <= 0:
        return None
    given = await statements.give_to_cause(
        sale.merchant_id,
        sale.customer_id,
        cause_id,
        rupiah=rupiah,
        key=f"cause:{sale.source}",
        amount=sale.amount,
        actor_id=sale.actor_id,
        prompt_id=sale.prompt_id,
        now=now,
        origin=sale.source,
        outlet_id=sale.outlet_id,
    )
    return (name, rupiah) if given else None


async def give_item(
    uow: UnitOfWork,
    now: datetime,
    program: Program,
    person_id: int,
    item_id: int,
    name: str,
    *,
    reason: str,
    key: str,
    origin: str | None = None,
    not_before: datetime | None = None,
) -> str:
    """A catalogue reward given (a spin's prize, a membership's period): the reward with its code,
    its ledger row under ``key`` (naming the purchase that set it off, if one did), and its news
    (the key of that, to deliver). Stock is the caller's."""
    merchant_id = program.merchant_id
    reward = await uow.rewards.add_with_unique_code(
        lambda: Reward(
            merchant_id=merchant_id,
            person_id=person_id,
            code=new_reward_code(),
            name=name,
            issued_at=now,
            expires_at=reward_expiry(rules_of(program), now),
            catalogue_item_id=item_id,
        )
    )
    await uow.ledger.append(
        LedgerEntry(
            merchant_id=merchant_id,
            person_id=person_id,
            asset="reward",
            delta=1,
            reason=reason,
            idempotency_key=key,
            reward_id=reward.id,
            origin=origin,
            created_at=now,
        )
    )
    person = await uow.people.get(person_id)
    assert person is not None
    await reward_issued(uow, now, reward, person)
    news = f"reward-issued:{reward.id}"
    await uow.outbox.enqueue(
        key=news,
        kind=Kind.REWARD_ISSUED,
        category=Category.RESULT,
        chat_id=person.telegram_id,
        person_id=person_id,
        merchant_id=merchant_id,
        subject_id=reward.id,
        now=now,
        not_before=not_before or now,
    )
    return news


@dataclass(frozen=True)
class CatalogueEntry:
    item_id: int
    name: str
    price: int
    affordable: bool
    photo_file_id: str | None = None
    sold_out: bool = False
    stock: int | None = None


@dataclass(frozen=True)
class CatalogueView:
    merchant_name: str
    timezone: str
    balance: int
    entries: tuple[CatalogueEntry, ...]
    expiring: tuple[tuple[datetime, int], ...] = ()  # points lapsing within a month


@dataclass(frozen=True)
class OfferView:
    """One catalogue reward, before the customer confirms spending points on it."""

    token: str
    name: str
    price: int
    balance: int
    photo_file_id: str | None
    return_hours: int


@dataclass(frozen=True)
class ExchangeResult:
    reward: RewardView
    price: int
    balance: int
    news: tuple[str, ...]


@dataclass(frozen=True)
class ReturnResult:
    reward_name: str
    points: int
    balance: int


@dataclass(frozen=True)
class AdjustResult:
    customer_first_name: str
    delta: int
    balance: int
    news: tuple[str, ...]


SOON = 31  # days: /rewards says which points lapse within this


class PointsService(ServiceBase):
    async def catalogue(self, caller: Caller) -> CatalogueView:
        """What the customer can get with their points here, and how far the rest are."""
        now = self.clock.now()
        async with self.db.read() as uow:
            person, merchant, card = await require_member(uow, caller)
            program = await uow.programs.for_merchant(merchant.id or 0)
            if not kinds_of(program).shows_points(card.points):  # points kept after a switch: still usable
                raise PointsOff()
            batches = await uow.points.live(merchant.id or 0, person.id or 0, now)
            held = balance(batches, now)
            entries = tuple(
                CatalogueEntry(
                    item.id or 0,
                    item.name,
                    item.points_price,
                    held >= item.points_price and (item.stock is None or item.stock > 0),
                    item.photo_file_id,
                    item.stock is not None and item.stock <= 0,
                    item.stock,
                )
                for item in await uow.catalogue.items(merchant.id or 0, shown_only=True)
            )
            soon = tuple(expiring(batches, now, timedelta(days=SOON)))
            return CatalogueView(merchant.name, merchant.timezone, held, entries, soon)

    async def offer(self, caller: Caller, item_id: int) -> OfferView:
        """The customer picked a reward: a prompt of their own behind the Confirm button."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person, merchant, card = await require_member(uow, caller)
            program = await uow.programs.for_merchant(merchant.id or 0)
            if not kinds_of(program).shows_points(card.points):
                raise PointsOff()
            item = await uow.catalogue.get(item_id, merchant.id or 0)
            if item is None or item.hidden:
                raise RewardUnavailable()
            batches = await uow.points.live(merchant.id or 0, person.id or 0, now)
            held = balance(batches, now)
            check_exchange(
                item.points_price,
                held,
                held=await uow.catalogue.held(item.id or 0, person.id or 0),
                limit=item.per_customer_limit,
                stock=item.stock,
            )
            prompt = await uow.prompts.add(
                PurchasePrompt(
                    token=new_prompt_token(),
                    kind=EXCHANGE,
                    merchant_id=merchant.id or 0,
                    customer_person_id=person.id or 0,
                    staff_person_id=person.id or 0,
                    catalogue_item_id=item.id,
                    purchases=0,
                    created_at=now,
                    expires_at=now + PROMPT_TTL,
                )
            )
            return OfferView(
                prompt.token or "",
                item.name,
                item.points_price,
                held,
                item.photo_file_id,
                program.return_hours,
            )

    async def exchange(self, caller: Caller, token: str) -> ExchangeResult:
        """Spend the points on the offered reward exactly once (a second tap changes nothing)."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await uow.people.by_caller(caller)
            prompt = await uow.prompts.by_token(token)
            if (
                person is None
                or prompt is None
                or prompt.kind != EXCHANGE
                or prompt.customer_person_id != person.id
            ):
                raise PromptClosed("missing")
            if prompt.status == "confirmed":
                raise PromptClosed("exchanged")
            if prompt.status != "pending" or prompt.expires_at <= now:
                raise PromptClosed("expired")
            merchant = await uow.merchants.get(prompt.merchant_id)
            program = await uow.programs.for_merchant(prompt.merchant_id)
            card = await uow.cards.get(prompt.merchant_id, person.id or 0, lock=True)
            if card is None:
                raise NotMember()
            if merchant is None or not kinds_of(program).shows_points(card.points):
                raise PointsOff()
            item = await uow.catalogue.get(prompt.catalogue_item_id or 0, prompt.merchant_id)
            if item is None or item.hidden:
                raise RewardUnavailable()
            batches = await uow.points.live(prompt.merchant_id, person.id or 0, now)
            price = item.points_price
            check_exchange(
                price,
                balance(batches, now),
                held=await uow.catalogue.held(item.id or 0, person.id or 0),
                limit=item.per_customer_limit,
                stock=item.stock,
            )
            if not await uow.prompts.decide(prompt.id or 0, "confirmed", person.id or 0, now):
                raise PromptClosed("exchanged")
            if not await uow.catalogue.take_one(item.id or 0):
                raise RewardUnavailable(sold_out=True)
            drawn = take(batches, price, now)
            expires_at = reward_expiry(rules_of(program), now)
            reward = await uow.rewards.add_with_unique_code(
                lambda: Reward(
                    merchant_id=prompt.merchant_id,
                    person_id=person.id or 0,
                    code=new_reward_code(),
                    name=item.name,
                    issued_at=now,
                    expires_at=expires_at,
                    catalogue_item_id=item.id,
                    points_price=price,
                )
            )
            await uow.points.draw(drawn, reward.id)
            left = await uow.points.change_balance(card.id or 0, -price)
            common: dict[str, Any] = dict(
                merchant_id=prompt.merchant_id,
                person_id=person.id or 0,
                reason="catalogue",
                reward_id=reward.id,
                prompt_id=prompt.id,
                created_at=now,
            )
            await uow.ledger.append(
                LedgerEntry(asset="point", delta=-price, idempotency_key=f"exchange:{prompt.id}", **common)
            )
            await uow.ledger.append(
                LedgerEntry(asset="reward", delta=1, idempotency_key=f"exchange-reward:{prompt.id}", **common)
            )
            await reward_issued(uow, now, reward, person)
            news = f"reward-issued:{reward.id}"
            await uow.outbox.enqueue(
                key=news,
                kind=Kind.REWARD_ISSUED,
                category=Category.RESULT,
                chat_id=person.telegram_id,
                person_id=person.id,
                merchant_id=prompt.merchant_id,
                subject_id=reward.id,
                now=now,
                not_before=now,
            )
            return ExchangeResult(
                RewardView(reward.code, reward.name, expires_at, merchant.name, merchant.timezone),
                price,
                left,
                (news,),
            )

    async def give_back(self, caller: Caller, reward_id: int) -> ReturnResult:
        """Return a catalogue reward not yet used, within the shop's window, for its points."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await uow.people.by_caller(caller)
            reward = await uow.rewards.get(reward_id)
            if (
                person is None
                or reward is None
                or reward.person_id != person.id
                or reward.points_price is None
            ):
                raise PromptClosed("missing")
            program = await uow.programs.for_merchant(reward.merchant_id)
            card = await uow.cards.get(reward.merchant_id, person.id or 0, lock=True)
            if card is None:
                raise NotMember()
            if reward.returned_at is not None:
                raise ReturnClosed("returned")
            if reward.redeemed_at is not None:
                raise ReturnClosed("redeemed")
            deadline = return_deadline(reward.issued_at, points_rules_of(program))
            if reward.expires_at <= now or deadline is None or deadline <= now:
                raise ReturnClosed("late")
            if not await uow.rewards.give_back(reward.id or 0, now):
                raise ReturnClosed("returned")
            points = await uow.points.give_back(reward.id or 0, now)
            after = await uow.points.change_balance(card.id or 0, points)
            if reward.catalogue_item_id is not None:
                await uow.catalogue.put_back(reward.catalogue_item_id)
            common: dict[str, Any] = dict(
                merchant_id=reward.merchant_id,
                person_id=person.id or 0,
                reason="returned",
                reward_id=reward.id,
                created_at=now,
            )
            if points:  # nothing, when every batch it came from has lapsed meanwhile
                await uow.ledger.append(
                    LedgerEntry(asset="point", delta=points, idempotency_key=f"return:{reward.id}", **common)
                )
            await uow.ledger.append(
                LedgerEntry(asset="reward", delta=-1, idempotency_key=f"return-reward:{reward.id}", **common)
            )
            return ReturnResult(reward.name, points, after)

    async def adjust(
        self, owner_telegram_id: int, code_text: str, delta_text: str, note_text: str, request: int
    ) -> AdjustResult:
        """An owner adds or takes points by hand, with a reason; the customer is told. ``request``
        names the owner's command (its message id in their chat): the same command twice changes
        the balance once."""
        now = self.clock.now()
        delta = parse_adjustment(delta_text)
        note = parse_note(note_text)
        canonical = normalize_code(code_text)
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            if not place.program.points_enabled:
                raise PointsOff()
            if canonical is None or code_kind(canonical) is not CodeKind.PERSONAL:
                raise UnknownCode()
            customer = await uow.people.by_code(canonical)
            merchant_id = place.merchant.id or 0
            card = await uow.cards.get(merchant_id, customer.id or 0, lock=True) if customer else None
            if customer is None or card is None:
                raise UnknownCode()
            rules = points_rules_of(place.program)
            source = f"adjust-{owner_telegram_id}-{request}"
            common: dict[str, Any] = dict(rules=rules, actor_id=place.person.id, note=note)
            if await uow.ledger.has(f"points:{source}"):  # the same command again: done already
                return AdjustResult(customer.first_name, delta, card.points, ())
            if delta > 0:
                after, _ = await earn_points(
                    uow, now, merchant_id, customer.id or 0, delta, source=source, reason="adjusted", **common
                )
            else:
                batches = await uow.points.live(merchant_id, customer.id or 0, now)
                try:
                    drawn = take(batches, -delta, now)
                except NotEnoughPoints as short:
                    raise BalanceWouldGoNegative(short.balance) from None
                await uow.points.draw(drawn, None)
                after = await uow.points.change_balance(card.id or 0, delta)
                await uow.ledger.append(
                    LedgerEntry(
                        merchant_id=merchant_id,
                        person_id=customer.id or 0,
                        asset="point",
                        delta=delta,
                        reason="adjusted",
                        actor_person_id=place.person.id,
                        idempotency_key=f"points:{source}",
                        note=note,
                        created_at=now,
                    )
                )
            news = f"adjusted:{source}"
            await uow.outbox.enqueue(
                key=news,
                kind=Kind.POINTS_ADJUSTED,
                category=Category.RESULT,
                chat_id=customer.telegram_id,
                person_id=customer.id,
                merchant_id=merchant_id,
                subject_id=card.id,
                params={"delta": delta, "note": note, "balance": after},
                now=now,
                not_before=now,
            )
            return AdjustResult(customer.first_name, delta, after, (news,))
