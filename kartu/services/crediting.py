"""Crediting a purchase: the one step a confirmed prompt, an approved claim (and, later, a point of
sale) share. Plain functions of the unit of work, so each use case calls them in its own
transaction (cosmicpython's service-layer handlers calling one another with the same ``uow``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kartu.config import Settings
from kartu.loyalty.codes import new_reward_code
from kartu.loyalty.delivery import Category, Kind, QuietHours, next_allowed
from kartu.loyalty.errors import DailyCapReached, UnknownCode
from kartu.loyalty.feedback import survey_is_due
from kartu.loyalty.program import (
    ProgramRules,
    PurchaseOutcome,
    credit_purchase,
    local_day_start,
    reward_expiry,
)
from kartu.services.access import Workplace
from kartu.services.base import card_view, language_of, recipient, rules_of
from kartu.services.views import CardView, Recipient, RewardView
from kartu.storage.models import Card, LedgerEntry, Person, Reward, Survey
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PurchaseResult:
    customer: Recipient
    customer_first_name: str
    stamps_added: int
    card: CardView
    new_rewards: tuple[RewardView, ...] = field(default_factory=tuple)
    news: tuple[str, ...] = ()  # outbox keys of the customer's news, to deliver right after the commit


def within_cap(
    rules: ProgramRules,
    card: Card,
    purchases: int,
    stamped: int,
    customer: Person,
    place: Workplace,
    settings: Settings,
) -> PurchaseOutcome:
    """The purchase's outcome, or `DailyCapReached` naming whose card it is (staff and the
    customer each hear their part)."""
    try:
        return credit_purchase(rules, card.stamps, purchases, stamped)
    except DailyCapReached as refusal:
        chat = (customer.telegram_id, language_of(customer, settings))
        raise refusal.about(customer.first_name, place.merchant.name, chat) from None


async def credit(
    uow: UnitOfWork,
    now: datetime,
    settings: Settings,
    place: Workplace,
    customer_id: int,
    purchases: int,
    source: str,
    prompt_id: int | None = None,
) -> PurchaseResult:
    """Credit ``purchases`` to the customer's card, issuing a reward per full card.

    ``source`` names what is being credited (a prompt id, ``claim-<id>``); the ledger's
    idempotency keys derive from it, so the same source can never be credited twice.
    """
    # Lock the card first, then read it, the program and the day's stamps in one statement:
    # after the lock every value is as committed (an owner lowering the stamps needed locks the
    # cards it caps; PostgreSQL reads committed rows per statement; SQLite writers queue anyway).
    since = local_day_start(now, place.merchant.timezone)
    locked = await uow.cards.lock(place.merchant.id, customer_id)
    holder = await uow.cards.holder(place.merchant.id, customer_id, since, now) if locked else None
    if holder is None or holder.card is None or holder.program is None:
        raise UnknownCode()  # left the shop (or was erased) since the prompt opened
    customer, card, program = holder.person, holder.card, holder.program
    rules = rules_of(program)
    outcome = within_cap(rules, card, purchases, holder.stamped_today, customer, place, settings)
    common = dict(
        merchant_id=place.merchant.id,
        person_id=customer.id,
        actor_person_id=place.person.id,
        prompt_id=prompt_id,
        created_at=now,
    )
    await uow.ledger.append(
        LedgerEntry(
            asset="stamp",
            delta=outcome.stamps_added,
            reason="purchase",
            idempotency_key=f"purchase:{source}",
            **common,
        )
    )
    issued: list[RewardView] = []
    card_news = {"added": outcome.stamps_added, "filled": outcome.rewards_issued}
    news = [
        await tell_result(uow, now, f"card:{source}", Kind.CARD_UPDATE, customer, place, card.id, card_news)
    ]
    for number in range(outcome.rewards_issued):
        reward = await uow.rewards.add_with_unique_code(
            lambda: Reward(
                merchant_id=place.merchant.id,
                person_id=customer.id,
                code=new_reward_code(),
                name=rules.reward_name,
                issued_at=now,
                expires_at=reward_expiry(rules, now),
            )
        )
        for asset, delta, key in (
            ("stamp", -rules.stamps_required, f"card-full:{source}:{number}"),
            ("reward", 1, f"reward:{source}:{number}"),
        ):
            await uow.ledger.append(
                LedgerEntry(
                    asset=asset,
                    delta=delta,
                    reason="reward_issued",
                    idempotency_key=key,
                    reward_id=reward.id,
                    **common,
                )
            )
        merchant = place.merchant
        issued.append(
            RewardView(reward.code, reward.name, reward.expires_at, merchant.name, merchant.timezone)
        )
        key = f"reward-issued:{reward.id}"
        news.append(await tell_result(uow, now, key, Kind.REWARD_ISSUED, customer, place, reward.id))
    await uow.cards.set_stamps(card, outcome.balance_after, last_purchase_at=now)
    await uow.staff.touch(place.member.id, now)
    await ask_for_feedback_later(uow, now, place, customer, card, prompt_id, rules, holder.last_survey_at)
    return PurchaseResult(
        customer=recipient(customer, settings),
        customer_first_name=customer.first_name,
        stamps_added=outcome.stamps_added,
        card=await card_view(
            uow, now, customer, place.merchant, card, program, holder.open_rewards + len(issued)
        ),
        new_rewards=tuple(issued),
        news=tuple(news),
    )


async def tell_result(
    uow: UnitOfWork,
    now: datetime,
    key: str,
    kind: Kind,
    customer: Person,
    place: Workplace,
    subject_id: int | None,
    params: dict[str, int] | None = None,
) -> str:
    """Queue news that carries a result (a card, a reward code) in the crediting transaction:
    it survives a Telegram error after the commit. Returns its key, to deliver at once."""
    await uow.outbox.enqueue(
        key=key,
        kind=kind,
        category=Category.RESULT,
        chat_id=customer.telegram_id,
        person_id=customer.id,
        merchant_id=place.merchant.id,
        subject_id=subject_id,
        params=params,
        now=now,
        not_before=now,
    )
    return key


async def ask_for_feedback_later(
    uow: UnitOfWork,
    now: datetime,
    place: Workplace,
    customer: Person,
    card: Card,
    prompt_id: int | None,
    rules: ProgramRules,
    last_survey_at: datetime | None,
) -> None:
    """Queue a survey, in the purchase's transaction, when this customer is due one."""
    if card.promotions_opt_out or customer.unreachable_at is not None:
        return
    if not survey_is_due(last_survey_at, now, rules.survey_every_days):
        return
    survey = await uow.surveys.add(
        Survey(merchant_id=place.merchant.id, person_id=customer.id, prompt_id=prompt_id, created_at=now)
    )
    due = now + timedelta(minutes=rules.survey_delay_minutes)
    quiet = QuietHours.parse(place.merchant.quiet_hours)
    await uow.outbox.enqueue(
        key=f"survey:{survey.id}",
        kind=Kind.SURVEY,
        category=Category.PROMO,
        chat_id=customer.telegram_id,
        person_id=customer.id,
        merchant_id=place.merchant.id,
        subject_id=survey.id,
        now=now,
        not_before=next_allowed(due, place.merchant.timezone, quiet, Category.PROMO),
    )
