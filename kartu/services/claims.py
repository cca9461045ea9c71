"""Customers claim a purchase; staff on duty approve or reject it; the first decision wins."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from kartu.loyalty.claims import (
    CLAIM_TTL,
    DISPUTE_DAYS,
    DISPUTE_TTL,
    REFUSALS,
    REJECTION_MEMORY,
    claimed_amount,
    next_claim_allowed,
    visit_day,
)
from kartu.loyalty.errors import (
    ClaimAlreadyOpen,
    ClaimClosed,
    ClaimNeedsAmount,
    ClaimTooSoon,
    OtherOutlet,
    OwnPurchase,
)
from kartu.loyalty.program import local_day_start
from kartu.loyalty.staff import may_see
from kartu.services.access import Workplace, require_member, require_staff
from kartu.services.after_purchase import after_purchase
from kartu.services.base import ServiceBase, card_view, kinds_of
from kartu.services.crediting import Purchase, PurchaseResult, credit
from kartu.services.points import Sale, credit_sale
from kartu.services.views import CardView, Recipient
from kartu.storage.models import PurchaseClaim
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ClaimView:
    claim_id: int
    customer_first_name: str
    amount: str | None
    created_at: datetime
    card: CardView
    staff: tuple[Recipient, ...]
    # A business with several outlets asks where the purchase was first (id, name): nobody is told
    # until the customer picks one, and then only that outlet's team (and the owners).
    outlets: tuple[tuple[int, str], ...] = ()
    outlet_name: str | None = None
    visit_day: date | None = None  # "Missing a stamp?": the visit asked for
    photo: str | None = None  # its receipt's photo (Telegram's file id), shown to staff first


@dataclass(frozen=True)
class ClaimNoticeRef:
    chat_id: int
    message_id: int
    language: str


@dataclass(frozen=True)
class ClaimDecision:
    approved: bool
    decided_by: str
    customer: Recipient
    customer_first_name: str
    notices: tuple[ClaimNoticeRef, ...]
    purchase: PurchaseResult | None
    visit_day: date | None = None  # a missing stamp's visit
    refusal: str | None = None  # why staff said no (loyalty.claims.REFUSALS)


class ClaimService(ServiceBase):
    async def missing_days(self, telegram_id: int) -> tuple[date, ...]:
        """The days a missing stamp may be asked for, today first, in the shop's calendar; only a
        member of a shop running stamps asks."""
        async with self.db.read() as uow:
            _, merchant, _ = await require_member(uow, telegram_id)
            if not kinds_of(await uow.programs.for_merchant(merchant.id)).stamps:
                raise ClaimClosed("missing")
            today = local_day_start(self.clock.now(), merchant.timezone).date()
            return tuple(visit_day(today, days_ago) for days_ago in range(DISPUTE_DAYS))

    async def open_dispute(self, telegram_id: int, days_ago: int, photo_file_id: str) -> ClaimView:
        """ "Missing a stamp?": a visit of the last week, with a photo of its receipt, for the staff
        on duty to approve (a stamp, as a claim) or refuse with a reason, within three days."""
        return await self.open_claim(telegram_id, None, days_ago=days_ago, photo_file_id=photo_file_id)

    async def open_claim(
        self,
        telegram_id: int,
        amount_text: str | None = None,
        *,
        days_ago: int | None = None,
        photo_file_id: str | None = None,
    ) -> ClaimView:
        """Ask the staff on duty (or, when nobody set /duty, all staff) to confirm a purchase (with
        ``days_ago`` and a receipt's photo: a missing stamp of a past visit)."""
        amount = claimed_amount(amount_text)
        now = self.clock.now()
        async with self.db.write() as uow:
            person, merchant, card = await require_member(uow, telegram_id)
            await uow.cards.get(merchant.id, person.id, lock=True)  # one claim at a time, even racing taps
            if (
                await uow.claims.open_for(merchant.id, person.id, now, dispute=days_ago is not None)
                is not None
            ):
                raise ClaimAlreadyOpen()
            if (
                days_ago is None
                and amount is None
                and kinds_of(await uow.programs.for_merchant(merchant.id)).needs_amount
            ):
                raise ClaimNeedsAmount()
            try:
                day = (
                    visit_day(local_day_start(now, merchant.timezone).date(), days_ago)
                    if days_ago is not None
                    else None
                )
            except ValueError:
                raise ClaimClosed("missing") from None  # a forged day
            allowed = next_claim_allowed(
                await uow.claims.rejections_since(merchant.id, person.id, now - REJECTION_MEMORY)
            )
            if allowed is not None and allowed > now:
                raise ClaimTooSoon(minutes=math.ceil((allowed - now).total_seconds() / 60))
            outlets = await uow.merchants.outlets(merchant.id)
            claim = await uow.claims.add(
                PurchaseClaim(
                    merchant_id=merchant.id,
                    person_id=person.id,
                    amount=amount,
                    created_at=now,
                    expires_at=now + (DISPUTE_TTL if day is not None else CLAIM_TTL),
                    outlet_id=outlets[0].id if len(outlets) == 1 else None,
                    visit_day=day,
                    photo_file_id=photo_file_id if day is not None else None,
                )
            )
            view = await card_view(uow, self.clock.now(), person, merchant, card)
            if len(outlets) > 1:
                choices = tuple((outlet.id, outlet.name) for outlet in outlets)
                return ClaimView(
                    claim.id,
                    person.first_name,
                    amount,
                    now,
                    view,
                    (),
                    choices,
                    None,
                    day,
                    claim.photo_file_id,
                )
            staff = await self._team_for(uow, claim)
            return ClaimView(
                claim.id, person.first_name, amount, now, view, staff, (), None, day, claim.photo_file_id
            )

    async def place_claim(self, telegram_id: int, claim_id: int, outlet_id: int) -> ClaimView:
        """The customer says at which outlet they bought: the claim goes to that outlet's team.
        Only their own pending claim, only an outlet of its business; anything else changes nothing."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person, merchant, card = await require_member(uow, telegram_id)
            claim = await uow.claims.get(claim_id)
            outlet = next((o for o in await uow.merchants.outlets(merchant.id) if o.id == outlet_id), None)
            if (
                claim is None
                or claim.person_id != person.id
                or claim.merchant_id != merchant.id
                or outlet is None
            ):
                raise ClaimClosed("missing")
            if claim.status != "pending" or claim.outlet_id is not None:
                raise ClaimClosed("decided" if claim.status != "pending" else "missing")
            if claim.expires_at <= now:
                raise ClaimClosed("expired")
            claim.outlet_id = outlet.id
            await uow.claims.add(claim)
            view = await card_view(uow, now, person, merchant, card)
            staff = await self._team_for(uow, claim)
            return ClaimView(
                claim.id,
                person.first_name,
                claim.amount,
                claim.created_at,
                view,
                staff,
                (),
                outlet.name,
                claim.visit_day,
                claim.photo_file_id,
            )

    async def _team_for(self, uow: UnitOfWork, claim: PurchaseClaim) -> tuple[Recipient, ...]:
        """Who hears of a claim: the team of its outlet (members of every outlet too) on duty, or
        all of them when nobody set /duty; never the customer themselves."""
        roster = [
            (member, staff)
            for member, staff in await uow.staff.roster(claim.merchant_id)
            if staff.id != claim.person_id and may_see(member.outlet_id, claim.outlet_id)
        ]
        on_duty = [(member, staff) for member, staff in roster if member.on_duty]
        return tuple(self.recipient(staff) for _, staff in (on_duty or roster))

    async def record_notices(self, claim_id: int, notices: list[tuple[int, int, str]]) -> None:
        async with self.db.write() as uow:
            await uow.claims.add_notices(claim_id, notices)

    async def decide(
        self, staff_telegram_id: int, claim_id: int, approve: bool, refusal: str | None = None
    ) -> ClaimDecision:
        """The first decision on a claim wins; a refused missing stamp says why (`REFUSALS`)."""
        now = self.clock.now()
        if approve or refusal not in REFUSALS:
            refusal = None
        async with self.db.write() as uow:
            await require_staff(uow, staff_telegram_id)  # staff at all: a stranger learns nothing
            claim = await uow.claims.get(claim_id)
            if claim is None:
                raise ClaimClosed("missing")
            place = await require_staff(uow, staff_telegram_id, claim.merchant_id)
            if claim.person_id == place.person.id:
                raise OwnPurchase()
            unplaced = claim.outlet_id is None and len(place.outlets) > 1  # where: not said yet
            if unplaced or (claim.outlet_id is not None and not may_see(place.scope, claim.outlet_id)):
                raise OtherOutlet()  # another outlet's claim: its team decides
            if claim.status != "pending":
                decider = (
                    await uow.people.get(claim.decided_by_person_id) if claim.decided_by_person_id else None
                )
                raise ClaimClosed(claim.status, decider.first_name if decider else None)
            if claim.expires_at <= now:
                raise ClaimClosed("expired")
            if not await uow.claims.decide(
                claim.id, "approved" if approve else "rejected", place.person.id, now, refusal
            ):
                raise ClaimClosed("decided")
            purchase = await self._credit(uow, place, claim, now) if approve else None
            customer = await uow.people.get(claim.person_id)
            assert customer is not None
            notices = tuple(
                ClaimNoticeRef(n.chat_id, n.message_id, n.language)
                for n in await uow.claims.notices(claim.id)
            )
            return ClaimDecision(
                approve,
                place.person.first_name,
                self.recipient(customer),
                customer.first_name,
                notices,
                purchase,
                claim.visit_day,
                refusal,
            )

    async def _credit(
        self, uow: UnitOfWork, place: Workplace, claim: PurchaseClaim, now: datetime
    ) -> PurchaseResult:
        """An approved claim credits what a purchase at the counter would: its amount's points
        (and a stamp, in a shop running both) in a shop running points, else a stamp; then the
        card's level and a spin, as after a purchase at the counter."""
        source = f"claim-{claim.id}"
        program = place.program
        amount = int(claim.amount.replace(".", "")) if claim.amount else None
        kinds = kinds_of(program)
        if kinds.points and amount:
            held = await uow.cards.stamps_of(place.merchant.id or 0, claim.person_id)
            purchases = 1 if kinds.earns_stamps(held) else 0
            sale = Sale(
                place.merchant.id,
                place.person.id,
                claim.person_id,
                amount,
                source,
                None,
                purchases,
                outlet_id=claim.outlet_id,
            )
            result = await credit_sale(uow.counter, now, self.settings, sale, place.merchant.timezone)
        else:
            result = await credit(
                uow.counter,
                now,
                self.settings,
                Purchase(
                    place.merchant.id,
                    place.merchant.timezone,
                    place.person.id,
                    claim.person_id,
                    1,
                    source,
                    outlet_id=claim.outlet_id,
                ),
            )
        return result.also(
            *await after_purchase(uow, now, place.merchant, program, claim.person_id, source, amount)
        )

    async def toggle_duty(self, staff_telegram_id: int) -> bool:
        """Staff say they are (or are no longer) on duty; returns the new state."""
        async with self.db.write() as uow:
            place = await require_staff(uow, staff_telegram_id)
            on_duty = not place.member.on_duty
            await uow.staff.set_on_duty(place.member.id, on_duty)
            return on_duty
