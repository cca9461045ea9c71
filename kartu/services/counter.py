"""What happens at the counter: staff stamp purchases and redeem rewards."""

from __future__ import annotations

from datetime import timedelta

from kartu.loyalty.codes import CodeKind, code_kind, new_reward_code, normalize_code
from kartu.loyalty.errors import (
    OwnPurchase,
    PromptClosed,
    RewardAlreadyRedeemed,
    RewardExpired,
    UnknownCode,
)
from kartu.loyalty.delivery import Category, Kind, QuietHours, next_allowed
from kartu.loyalty.feedback import survey_is_due
from kartu.loyalty.program import ProgramRules, credit_purchase, local_day_start, parse_purchase_count, reward_expiry
from kartu.loyalty.staff import PROMPT_TTL
from kartu.services.base import ServiceBase, Workplace, rules_of
from kartu.services.views import (
    PurchasePromptView,
    PurchaseResult,
    RedeemPromptView,
    RedeemResult,
    RewardView,
)
from kartu.storage.models import LedgerEntry, Person, PurchasePrompt, Reward, Survey
from kartu.storage.repositories import UnitOfWork


class CounterService(ServiceBase):
    async def open_code(self, staff_telegram_id: int, text: str) -> PurchasePromptView | RedeemPromptView:
        """Staff sent a bare code: a customer's code opens a purchase, a reward code a redemption."""
        canonical = normalize_code(text)
        if canonical is None:
            raise UnknownCode()
        if code_kind(canonical) is CodeKind.REWARD:
            return await self.open_redeem(staff_telegram_id, canonical)
        return await self.open_purchase(staff_telegram_id, canonical)

    async def _stamped_today(self, uow: UnitOfWork, place_merchant_id: int, timezone: str, person_id: int) -> int:
        since = local_day_start(self.clock.now(), timezone)
        return await uow.ledger.stamps_earned_since(place_merchant_id, person_id, since)

    async def open_purchase(self, staff_telegram_id: int, code_text: str, purchases_text: str | None = None) -> PurchasePromptView:
        """Staff typed a customer's code: show who it is and ask to confirm."""
        canonical = normalize_code(code_text)
        if canonical is None or code_kind(canonical) is not CodeKind.PERSONAL:
            raise UnknownCode()
        purchases = parse_purchase_count(purchases_text)
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await self._workplace(uow, staff_telegram_id)
            customer = await uow.people.by_code(canonical)
            if customer is None:
                raise UnknownCode()
            if customer.id == place.person.id:
                raise OwnPurchase()
            rules = rules_of(await uow.programs.for_merchant(place.merchant.id))
            card, _ = await uow.cards.get_or_add(place.merchant.id, customer.id, now)
            stamped = await self._stamped_today(uow, place.merchant.id, place.merchant.timezone, customer.id)
            # Refuse now rather than after the tap when the cap is already out of reach.
            credit_purchase(rules, card.stamps, purchases, stamped)
            prompt = await uow.prompts.add(
                PurchasePrompt(
                    merchant_id=place.merchant.id,
                    customer_person_id=customer.id,
                    staff_person_id=place.person.id,
                    purchases=purchases,
                    created_at=now,
                    expires_at=now + PROMPT_TTL,
                )
            )
            await uow.staff.touch(place.member.id, now)
            return PurchasePromptView(
                prompt_id=prompt.id,
                customer_first_name=customer.first_name,
                stamps=card.stamps,
                stamps_required=rules.stamps_required,
                stamps_to_add=purchases * rules.stamps_per_purchase,
                purchases=purchases,
            )

    async def _open_prompt(self, uow: UnitOfWork, staff_telegram_id: int, prompt_id: int) -> tuple[Workplace, PurchasePrompt]:
        prompt = await uow.prompts.get(prompt_id)
        if prompt is None:
            raise PromptClosed("missing")
        place = await self._workplace(uow, staff_telegram_id, prompt.merchant_id)
        if prompt.status != "pending":
            raise PromptClosed(prompt.status)
        if prompt.expires_at <= self.clock.now():
            raise PromptClosed("expired")
        return place, prompt

    async def confirm_purchase(self, staff_telegram_id: int, prompt_id: int) -> PurchaseResult:
        """Credit the prompt's purchase exactly once, issuing rewards for every full card."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place, prompt = await self._open_prompt(uow, staff_telegram_id, prompt_id)
            if prompt.customer_person_id == place.person.id:
                raise OwnPurchase()
            if not await uow.prompts.decide(prompt.id, "confirmed", place.person.id, now):
                raise PromptClosed("confirmed")
            return await self.credit(uow, place, prompt.customer_person_id, prompt.purchases, str(prompt.id), prompt.id)

    async def credit(
        self, uow: UnitOfWork, place: Workplace, customer_id: int, purchases: int, source: str, prompt_id: int | None = None
    ) -> PurchaseResult:
        """Credit ``purchases`` to the customer's card, issuing a reward per full card.

        ``source`` names what is being credited (a prompt id, ``claim-<id>``); the ledger's
        idempotency keys derive from it, so the same source can never be credited twice.
        """
        now = self.clock.now()
        customer = await uow.people.get(customer_id)
        card = await uow.cards.get(place.merchant.id, customer_id, lock=True)
        assert customer is not None and card is not None
        program = await uow.programs.for_merchant(place.merchant.id)
        rules = rules_of(program)
        stamped = await self._stamped_today(uow, place.merchant.id, place.merchant.timezone, customer.id)
        outcome = credit_purchase(rules, card.stamps, purchases, stamped)
        common = dict(merchant_id=place.merchant.id, person_id=customer.id, actor_person_id=place.person.id, prompt_id=prompt_id, created_at=now)
        await uow.ledger.append(LedgerEntry(asset="stamp", delta=outcome.stamps_added, reason="purchase", idempotency_key=f"purchase:{source}", **common))
        issued: list[RewardView] = []
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
            await uow.ledger.append(LedgerEntry(asset="stamp", delta=-rules.stamps_required, reason="reward_issued", idempotency_key=f"card-full:{source}:{number}", reward_id=reward.id, **common))
            await uow.ledger.append(LedgerEntry(asset="reward", delta=1, reason="reward_issued", idempotency_key=f"reward:{source}:{number}", reward_id=reward.id, **common))
            issued.append(RewardView(reward.code, reward.name, reward.expires_at, place.merchant.name, place.merchant.timezone))
        await uow.cards.set_stamps(card, outcome.balance_after, last_purchase_at=now)
        await uow.staff.touch(place.member.id, now)
        await self._ask_for_feedback_later(uow, place, customer, prompt_id, rules)
        view = await self._card_view(uow, customer, place.merchant, card, program)
        return PurchaseResult(
            customer=self.recipient(customer),
            customer_first_name=customer.first_name,
            stamps_added=outcome.stamps_added,
            card=view,
            new_rewards=tuple(issued),
        )

    async def _ask_for_feedback_later(
        self, uow: UnitOfWork, place: Workplace, customer: Person, prompt_id: int | None, rules: ProgramRules
    ) -> None:
        """Queue a survey, in the purchase's transaction, when this customer is due one."""
        now = self.clock.now()
        if customer.promotions_opt_out or customer.unreachable_at is not None:
            return
        last = await uow.surveys.last_created(place.merchant.id, customer.id)
        if not survey_is_due(last, now, rules.survey_every_days):
            return
        survey = await uow.surveys.add(Survey(merchant_id=place.merchant.id, person_id=customer.id, prompt_id=prompt_id, created_at=now))
        due = now + timedelta(minutes=rules.survey_delay_minutes)
        await uow.outbox.enqueue(
            key=f"survey:{survey.id}", kind=Kind.SURVEY, category=Category.PROMO, chat_id=customer.telegram_id,
            person_id=customer.id, merchant_id=place.merchant.id, subject_id=survey.id, now=now,
            not_before=next_allowed(due, place.merchant.timezone, QuietHours.parse(place.merchant.quiet_hours), Category.PROMO),
        )

    async def cancel_purchase(self, staff_telegram_id: int, prompt_id: int) -> None:
        async with self.db.write() as uow:
            place, prompt = await self._open_prompt(uow, staff_telegram_id, prompt_id)
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
        async with self.db.read() as uow:
            place = await self._workplace(uow, staff_telegram_id)
            reward = await self._redeemable(uow, place, await uow.rewards.by_code(canonical))
            customer = await uow.people.get(reward.person_id)
            assert customer is not None
            return RedeemPromptView(reward.id, customer.first_name, reward.name, reward.expires_at, place.merchant.timezone)

    async def confirm_redeem(self, staff_telegram_id: int, reward_id: int) -> RedeemResult:
        now = self.clock.now()
        async with self.db.write() as uow:
            reward = await uow.rewards.get(reward_id)
            if reward is None:
                raise UnknownCode()
            place = await self._workplace(uow, staff_telegram_id, reward.merchant_id)
            await self._redeemable(uow, place, reward)
            if not await uow.rewards.redeem(reward.id, place.person.id, now):
                raise RewardAlreadyRedeemed()
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
                )
            )
            await uow.staff.touch(place.member.id, now)
            customer = await uow.people.get(reward.person_id)
            assert customer is not None
            return RedeemResult(
                customer=self.recipient(customer),
                customer_first_name=customer.first_name,
                reward_name=reward.name,
                merchant_name=place.merchant.name,
            )
