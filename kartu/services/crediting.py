"""Crediting a purchase: the one step a confirmed prompt, an approved claim (and, later, a point of
sale) share. A plain function of the counter's statements (storage/counter.py), so each use case
calls it in its own transaction: on the driver for the counter's hot path, or inside an ORM unit
of work (``uow.counter``) for a claim (cosmicpython's service-layer handlers calling one another
with the same transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kartu.config import Settings
from kartu.loyalty.codes import new_reward_code
from kartu.loyalty.delivery import Category, Kind, QuietHours, next_allowed
from kartu.loyalty.errors import DailyCapReached, UnknownCode
from kartu.loyalty.feedback import survey_is_due
from kartu.loyalty.language import resolve_language
from kartu.loyalty.program import (
    ProgramRules,
    PurchaseOutcome,
    credit_purchase,
    local_day_start,
    reward_expiry,
)
from kartu.loyalty.webhooks import customer, purchase_data, reward_data
from kartu.services.base import make_card_view
from kartu.services.delivery import CardUpdateNotice, Notice, RewardIssuedNotice
from kartu.services.views import CardView, Recipient, RewardView
from kartu.storage.counter import CounterStatements, LockedCard
from kartu.storage.courier import Parcel
from kartu.storage.repositories.base import UNIQUE_RETRIES

if TYPE_CHECKING:  # tiers build on crediting
    from kartu.services.tiers import Moved


@dataclass(frozen=True)
class PurchaseResult:
    customer: Recipient
    customer_first_name: str
    stamps_added: int
    card: CardView
    new_rewards: tuple[RewardView, ...] = field(default_factory=tuple)
    news: tuple[str, ...] = ()  # outbox keys of the customer's news, to deliver right after the commit
    reachable: bool = True  # the customer has not blocked the bot
    taken: tuple[Parcel, ...] = ()  # that news as written, already the courier's (storage/courier.py)
    points_added: int = 0
    amount: int | None = None
    gift: tuple[str, int] | None = None

    def also(self, *then: Moved | Parcel | None) -> PurchaseResult:
        """This result with news the purchase caused next (a move up a level, a spin earned, a
        partner's voucher), delivered after its own."""
        result = self
        for item in then:
            news = item.news if item is not None and not isinstance(item, Parcel) else item
            if news is not None:
                result = replace(
                    result, news=(*result.news, news.idempotency_key), taken=(*result.taken, news)
                )
        return result

    @property
    def notices(self) -> Mapping[str, Notice]:
        """The news as the courier would compose it from the rows just written (by outbox key), so
        delivering it right after the commit reads nothing again; none for someone unreachable
        (the courier finds there is nothing to send)."""
        if not self.reachable:
            return {}
        language, filled = self.customer.language, len(self.new_rewards)
        news_id = next((parcel.id for parcel in self.taken if parcel.idempotency_key == self.news[0]), None)
        card = CardUpdateNotice(
            language, self.card, self.stamps_added, filled, self.points_added, self.amount, self.gift, news_id
        )
        rewards = tuple(RewardIssuedNotice(language, reward) for reward in self.new_rewards)
        composed: tuple[Notice, ...] = (
            card,
            *rewards,
        )  # a level's news after them is composed when it is sent
        return dict(zip(self.news[: len(composed)], composed, strict=True))


@dataclass(frozen=True)
class Purchase:
    """What is being credited: whose purchases, at which shop, confirmed by whom.

    ``source`` names it (a prompt id, ``claim-<id>``); the ledger's idempotency keys derive from
    it, so the same source can never be credited twice.
    """

    merchant_id: int
    timezone: str
    actor_id: int  # the staff member who confirmed it
    customer_id: int
    purchases: int
    source: str
    prompt_id: int | None = None
    # Points earned on the same purchase (a shop running both), told in the same news.
    points: int = 0
    amount: int | None = None
    points_balance: int | None = None
    gift: tuple[str, int] | None = None  # what this purchase gave to the shop's cause: its name, rupiah
    till: bool = False  # posted by a point of sale: no staff member's "last stamp" to note
    outlet_id: int | None = None  # where it happened: on its ledger rows, its survey, the card's last visit


def within_cap(
    rules: ProgramRules,
    balance: int,
    purchases: int,
    stamped: int,
    *,
    customer_name: str,
    merchant_name: str,
    customer_chat: tuple[int, str],
) -> PurchaseOutcome:
    """The purchase's outcome, or `DailyCapReached` naming whose card it is (staff and the
    customer each hear their part)."""
    try:
        return credit_purchase(rules, balance, purchases, stamped)
    except DailyCapReached as refusal:
        raise refusal.about(customer_name, merchant_name, customer_chat) from None


async def credit(
    statements: CounterStatements, now: datetime, settings: Settings, purchase: Purchase
) -> PurchaseResult:
    """Credit the purchases to the customer's card, issuing a reward per full card."""
    # Lock the card first, then read it, the program and the day's stamps: after the lock every
    # value is as committed (an owner lowering the stamps needed locks the cards it caps;
    # PostgreSQL reads committed rows per statement; SQLite writers queue anyway).
    merchant_id, customer_id, source = purchase.merchant_id, purchase.customer_id, purchase.source
    since = local_day_start(now, purchase.timezone)
    card = await statements.locked_card(merchant_id, customer_id, since, now, purchase.outlet_id)
    if card is None:
        raise UnknownCode()  # left the shop (or was erased) since the prompt opened
    rules = card.rules
    language = resolve_language(card.language, card.telegram_language, settings.default_language)
    outcome = within_cap(
        rules,
        card.stamps,
        purchase.purchases,
        card.stamped_today,
        customer_name=card.first_name,
        merchant_name=card.merchant_name,
        customer_chat=(card.telegram_id, language),
    )
    common: dict[str, Any] = dict(
        actor_id=purchase.actor_id, prompt_id=purchase.prompt_id, now=now, outlet_id=purchase.outlet_id
    )
    news = [f"card:{source}"]
    card_news = await statements.record_purchase(
        merchant_id,
        customer_id,
        card.card_id,
        added=outcome.stamps_added,
        balance=outcome.balance_after,
        ledger_key=f"purchase:{source}",
        origin=source,
        news_key=news[0],
        chat_id=card.telegram_id,
        staff_id=None if purchase.till else purchase.actor_id,
        news=card_news_params(
            outcome.stamps_added, outcome.rewards_issued, purchase.points, purchase.amount, purchase.gift
        ),
        **common,
    )
    who = customer(card.personal_code, card.first_name)
    if card.webhooks:  # the shop's systems hear of it (a shop without endpoints: no statement)
        await statements.emit(
            merchant_id=merchant_id,
            kind="purchase.credited",
            key=source,
            person_id=customer_id,
            data=purchase_data(
                source,
                who,
                outcome.stamps_added,
                purchase.points,
                purchase.amount,
                outcome.balance_after,
                purchase.points_balance,
                card.outlet,
            ),
            now=now,
        )
    issued: list[RewardView] = []
    taken = [card_news]
    for number in range(outcome.rewards_issued):
        code, reward_id, expires_at = "", None, reward_expiry(rules, now)
        for _ in range(UNIQUE_RETRIES):  # a random code may be taken: draw again
            code = new_reward_code()
            reward_id = await statements.add_reward(
                merchant_id, customer_id, code, rules.reward_name, now, expires_at
            )
            if reward_id is not None:
                break
        if reward_id is None:
            raise RuntimeError("could not draw a unique reward code")
        await statements.add_reward_ledger(
            merchant_id,
            customer_id,
            reward_id,
            spent=rules.stamps_required,
            full_key=f"card-full:{source}:{number}",
            reward_key=f"reward:{source}:{number}",
            origin=source,
            **common,
        )
        issued.append(RewardView(code, rules.reward_name, expires_at, card.merchant_name, purchase.timezone))
        if card.webhooks:
            await statements.emit(
                merchant_id=merchant_id,
                kind="reward.issued",
                key=str(reward_id),
                person_id=customer_id,
                data=reward_data(who, code, rules.reward_name, expires_at, source),
                now=now,
            )
        news.append(f"reward-issued:{reward_id}")
        reward_news = await statements.enqueue(
            key=news[-1],
            kind=Kind.REWARD_ISSUED,
            category=Category.RESULT,
            chat_id=card.telegram_id,
            person_id=customer_id,
            merchant_id=merchant_id,
            subject_id=reward_id,
            now=now,
            not_before=now,
            taken=True,
        )
        taken.append(reward_news)
    await ask_for_feedback_later(statements, now, purchase, card)
    view = make_card_view(
        card.merchant_name,
        purchase.timezone,
        rules,
        card.personal_code,
        outcome.balance_after,
        now,
        card.open_rewards + len(issued),
        points=purchase.points_balance,
        tier=card.tier,
    )
    return PurchaseResult(
        customer=Recipient(card.telegram_id, language),
        customer_first_name=card.first_name,
        stamps_added=outcome.stamps_added,
        card=view,
        new_rewards=tuple(issued),
        news=tuple(news),
        reachable=card.reachable,
        taken=tuple(message for message in taken if message is not None),
        points_added=purchase.points,
        amount=purchase.amount,
        gift=purchase.gift,
    )


def card_news_params(
    added: int,
    filled: int,
    points: int = 0,
    amount: int | None = None,
    gift: tuple[str, int] | None = None,
) -> dict[str, object]:
    """What a card news row remembers (rendered at delivery): stamps added, cards filled, points
    earned on an amount when the shop runs points, and what the purchase gave to a cause."""
    params: dict[str, object] = {"added": added, "filled": filled}
    if points or amount:
        params.update(points=points, amount=amount or 0)
    if gift is not None:
        params.update(cause=gift[0], gave=gift[1])
    return params


async def ask_for_feedback_later(
    statements: CounterStatements, now: datetime, purchase: Purchase, card: LockedCard
) -> None:
    """Queue a survey, in the purchase's transaction, when this customer is due one."""
    if card.promotions_opt_out or not card.reachable:
        return
    if not survey_is_due(card.last_survey_at, now, card.rules.survey_every_days, card.last_rated_at):
        return
    survey_id = await statements.add_survey(
        purchase.merchant_id, purchase.customer_id, purchase.prompt_id, now, purchase.outlet_id
    )
    due = now + timedelta(minutes=card.rules.survey_delay_minutes)
    quiet = QuietHours.parse(card.quiet_hours)
    await statements.enqueue(
        key=f"survey:{survey_id}",
        kind=Kind.SURVEY,
        category=Category.PROMO,
        chat_id=card.telegram_id,
        person_id=purchase.customer_id,
        merchant_id=purchase.merchant_id,
        subject_id=survey_id,
        now=now,
        not_before=next_allowed(due, purchase.timezone, quiet, Category.PROMO),
    )
