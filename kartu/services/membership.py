"""Paid membership with Telegram Stars: owners offer one (Stars per 30 days, a points multiplier, a
free reward each period); customers subscribe through a Stars invoice; Telegram renews it. Every
payment is recorded once by its charge id (a ledger row in Stars); a cancelled or failed renewal
ends the perks at the period's end, with a reminder first; owners may refund, and the perks stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from kartu.loyalty.bonuses import month_start
from kartu.loyalty.codes import normalize_code
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import InvalidSetting, NotMember, PaymentMismatch, PromptClosed, UnknownCode
from kartu.loyalty.membership import (
    CURRENCY,
    PERIOD,
    REMIND_BEFORE,
    RENEWAL_GRACE,
    invoice_payload,
    offer_of,
    parse_offer,
    parse_offer_multiplier,
    parse_offer_name,
    parse_stars,
)
from kartu.services.access import require_member, require_owner
from kartu.services.base import ServiceBase, kinds_of
from kartu.services.points import give_item
from kartu.storage.models import LedgerEntry, Membership, MembershipOffer, Merchant, StarPayment
from kartu.storage.repositories.membership import ACTIVE, ENDED, REFUNDED
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class OfferView:
    offer_id: int
    merchant_name: str
    name: str
    stars: int
    multiplier_permille: int
    item_name: str | None


@dataclass(frozen=True)
class MemberView:
    """What /member shows: the offer, and the customer's membership if any."""

    offer: OfferView | None
    member_until: datetime | None
    renews: bool
    timezone: str


@dataclass(frozen=True)
class OfferForm:
    """What the offer's form asks: a points multiplier where the shop runs points, a free reward
    from its catalogue."""

    runs_points: bool
    items: tuple[str, ...]


@dataclass(frozen=True)
class OwnerMembership:
    offer: OfferView | None
    members: int
    stars_this_month: int


@dataclass(frozen=True)
class Invoice:
    title: str
    description: str
    payload: str
    stars: int


@dataclass(frozen=True)
class StarsPayment:
    """A successful payment as Telegram sent it. ``renewal``: Telegram's word (a recurring payment
    that is not the subscription's first), ``None`` when it did not say."""

    payload: str
    currency: str
    total: int
    charge_id: str
    expires_at: datetime | None = None
    renewal: bool | None = None
    first_of_subscription: bool = False


@dataclass(frozen=True)
class Paid:
    """A payment recorded: the membership's end, whether it was a renewal, the news to send."""

    name: str
    merchant_name: str
    until: datetime
    timezone: str
    renewal: bool
    news: tuple[str, ...]


async def _offer_view(uow: UnitOfWork, merchant: Merchant, offer: MembershipOffer | None) -> OfferView | None:
    if offer is None:
        return None
    item = await uow.catalogue.get(offer.monthly_item_id, merchant.id or 0) if offer.monthly_item_id else None
    return OfferView(
        offer.id or 0,
        merchant.name,
        offer.name,
        offer.stars,
        offer.multiplier_permille,
        item.name if item else None,
    )


class MembershipService(ServiceBase):
    # -- owners -------------------------------------------------------------------------------------

    async def _owner_view(self, uow: UnitOfWork, merchant: Merchant) -> OwnerMembership:
        offer = await _offer_view(uow, merchant, await uow.membership.offer(merchant.id or 0))
        members, stars = await uow.membership.counts(
            merchant.id or 0, month_start(self.clock.now(), merchant.timezone)
        )
        return OwnerMembership(offer, members, stars)

    async def overview(self, owner_telegram_id: int) -> OwnerMembership:
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            return await self._owner_view(uow, place.merchant)

    async def offer_form(self, owner_telegram_id: int) -> OfferForm:
        """What the offer's form asks this shop (the owner check first)."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            items = await uow.catalogue.items(place.merchant.id or 0, shown_only=True)
            return OfferForm(kinds_of(place.program).points, tuple(item.name for item in items))

    async def check_offer_field(self, owner_telegram_id: int, field: str, text: str) -> object:
        """One answer of the offer's form, as the domain reads it (refused as it would be saved)."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            match field:
                case "name":
                    return parse_offer_name(text)
                case "stars":
                    return parse_stars(text)
                case "multiplier":
                    return parse_offer_multiplier(text)
                case "item":
                    if not text.strip():
                        return None
                    item = await uow.catalogue.by_name(place.merchant.id or 0, text)
                    if item is None:
                        raise InvalidSetting("prize_item")
                    return item.name
        raise InvalidSetting(field)

    async def set_offer(self, owner_telegram_id: int, text: str) -> OwnerMembership:
        """``Gold Club; 100; 1.5; Iced Latte``, in one line (see `offer`)."""
        return await self.offer(owner_telegram_id, *parse_offer(text))

    async def offer(
        self, owner_telegram_id: int, name: str, stars: int, multiplier: int, item_name: str | None
    ) -> OwnerMembership:
        """The shop's offer. A change is a new offer: invoices for the old one are refused at
        checkout; members keep what they paid for until their period ends."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            item_id = None
            if item_name is not None:
                item = await uow.catalogue.by_name(place.merchant.id or 0, item_name)
                if item is None:
                    raise InvalidSetting("prize_item")
                item_id = item.id
            await uow.membership.replace_offer(
                place.merchant.id or 0,
                MembershipOffer(
                    merchant_id=place.merchant.id or 0,
                    name=name,
                    stars=stars,
                    multiplier_permille=multiplier,
                    monthly_item_id=item_id,
                    created_at=self.clock.now(),
                ),
            )
            return await self._owner_view(uow, place.merchant)

    async def withdraw(self, owner_telegram_id: int) -> OwnerMembership:
        """No new members (those who paid keep their period; renewals are refused at checkout)."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            await uow.membership.replace_offer(place.merchant.id or 0, None)
            return await self._owner_view(uow, place.merchant)

    async def refund(self, owner_telegram_id: int, code_text: str) -> tuple[int, str]:
        """The member's last payment, to refund with Telegram: (their Telegram id, its charge id).
        `refunded` records it once Telegram agreed."""
        canonical = normalize_code(code_text)
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            person = await uow.people.by_code(canonical or "")
            membership = await uow.membership.of(place.merchant.id or 0, person.id or 0) if person else None
            payment = await uow.membership.last_payment(membership.id or 0) if membership else None
            if (
                person is None
                or person.telegram_id is None  # Stars are paid on Telegram only
                or membership is None
                or payment is None
                or payment.refunded_at is not None
            ):
                raise UnknownCode()
            return person.telegram_id, payment.charge_id

    async def refunded(self, owner_telegram_id: int, charge_id: str) -> str:
        """Telegram refunded ``charge_id``: the perks stop now; a ledger row takes the Stars back."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            payment = await uow.membership.payment(charge_id)
            membership = await uow.membership.of_id(payment.membership_id) if payment else None
            if payment is None or membership is None or membership.merchant_id != place.merchant.id:
                raise UnknownCode()
            payment.refunded_at = now
            membership.status, membership.ended_at, membership.paid_until = REFUNDED, now, now
            await uow.membership.save(membership)
            await uow.ledger.append_once(
                LedgerEntry(
                    merchant_id=membership.merchant_id,
                    person_id=membership.person_id,
                    asset="stars",
                    delta=-payment.stars,
                    reason="refund",
                    actor_person_id=place.person.id,
                    idempotency_key=f"stars-refund:{charge_id}",
                    created_at=now,
                )
            )
            person = await uow.people.get(membership.person_id)
            assert person is not None
            await self._tell(uow, now, membership, Kind.MEMBER_ENDED, {"refunded": True})
            return person.first_name

    # -- customers ----------------------------------------------------------------------------------

    async def for_customer(self, telegram_id: int) -> MemberView:
        now = self.clock.now()
        async with self.db.read() as uow:
            person, merchant, _ = await require_member(uow, telegram_id)
            offer = await _offer_view(uow, merchant, await uow.membership.offer(merchant.id or 0))
            membership = await uow.membership.of(merchant.id or 0, person.id or 0)
            current = membership is not None and membership.status == ACTIVE and membership.paid_until > now
            return MemberView(
                offer,
                membership.paid_until if current and membership else None,
                bool(current and membership and membership.renews),
                merchant.timezone,
            )

    async def shop_name(self, telegram_id: int) -> str | None:
        """The name of the shop the person uses now (/paysupport names it), if any."""
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None or person.current_merchant_id is None:
                return None
            merchant = await uow.merchants.get(person.current_merchant_id)
            return merchant.name if merchant else None

    async def invoice(self, telegram_id: int) -> Invoice:
        """The Stars invoice for the shop's current offer (its row named in the payload)."""
        async with self.db.read() as uow:
            _, merchant, _ = await require_member(uow, telegram_id)
            offer = await uow.membership.offer(merchant.id or 0)
            if offer is None:
                raise PromptClosed("missing")
            return Invoice(offer.name, merchant.name, invoice_payload(offer.id or 0), offer.stars)

    async def check_checkout(self, telegram_id: int, payload: str, currency: str, total: int) -> bool:
        """A pre-checkout query: does the offer the invoice named still stand, at that price, for a
        member of that shop? (Answered within Telegram's 10 seconds: two reads.)"""
        async with self.db.read() as uow:
            offer = await uow.membership.offer_by_id(offer_of(payload) or 0)
            person = await uow.people.by_telegram_id(telegram_id)
            if offer is None or person is None or not offer.active:
                return False
            card = await uow.cards.get(offer.merchant_id, person.id or 0)
            return card is not None and currency == CURRENCY and total == offer.stars

    async def record_payment(self, telegram_id: int, payment: StarsPayment) -> Paid:
        """A successful payment (the first, or a renewal), recorded once by its charge id: the period
        extends, the Stars go to the ledger, the period's free reward is given once per period.
        A payment whose currency or amount is not the offer's grants nothing (`PaymentMismatch`:
        the caller refunds it). Two deliveries at once: the one that loses the race reads what the
        other wrote."""
        try:
            return await self._record(telegram_id, payment)
        except IntegrityError:
            return await self._record(telegram_id, payment)

    async def _record(self, telegram_id: int, payment: StarsPayment) -> Paid:
        now = self.clock.now()
        charge_id, expires_at = payment.charge_id, payment.expires_at
        async with self.db.write() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            offer = await uow.membership.offer_by_id(offer_of(payment.payload) or 0)
            if person is None or offer is None:
                raise NotMember()
            if payment.currency != CURRENCY or payment.total != offer.stars:
                raise PaymentMismatch(offer.stars)  # defence in depth: the checkout checked it too
            merchant = await uow.merchants.get(offer.merchant_id)
            assert merchant is not None
            membership = await uow.membership.of(offer.merchant_id, person.id or 0, lock=True)
            known = await uow.membership.payment(charge_id)
            going = (
                membership is not None
                and membership.status == ACTIVE
                and membership.paid_until > now - RENEWAL_GRACE
            )
            active = going and membership is not None and membership.paid_until > now
            # Telegram says which payment renews a subscription; without its word, one that keeps
            # a membership going is a renewal. Either way the order updates arrive in does not matter.
            renewal = payment.renewal if payment.renewal is not None else going
            if known is not None and membership is not None:  # delivered again: nothing changes
                return Paid(offer.name, merchant.name, membership.paid_until, merchant.timezone, renewal, ())
            start = membership.paid_until if active and membership is not None else now
            until = expires_at if expires_at is not None and expires_at > now else start + PERIOD
            if active and membership is not None:
                until = max(until, membership.paid_until)  # an earlier period arriving late shortens nothing
            if membership is None:
                membership = Membership(
                    merchant_id=offer.merchant_id,
                    person_id=person.id or 0,
                    offer_id=offer.id or 0,
                    charge_id=charge_id,
                    paid_until=until,
                    started_at=now,
                )
            else:
                if payment.first_of_subscription or not (renewal or going):
                    # a new subscription (its first charge is what Telegram cancels it by)
                    membership.charge_id, membership.renews = charge_id, True
                    if not active:
                        membership.started_at = now
                membership.offer_id, membership.status, membership.paid_until = offer.id or 0, ACTIVE, until
                membership.reminded_at = membership.ended_at = None
            await uow.membership.save(membership)
            await uow.membership.add_payment(
                StarPayment(
                    membership_id=membership.id or 0,
                    charge_id=charge_id,
                    stars=payment.total,
                    paid_at=now,
                    period_end=until,
                )
            )
            await uow.ledger.append(
                LedgerEntry(
                    merchant_id=offer.merchant_id,
                    person_id=person.id or 0,
                    asset="stars",
                    delta=payment.total,
                    reason="membership",
                    idempotency_key=f"stars:{charge_id}",
                    created_at=now,
                )
            )
            period = (expires_at or until).astimezone(UTC).date().isoformat()
            news = await self._free_item(
                uow, now, merchant, offer, person.id or 0, f"{membership.id}:{period}"
            )
            return Paid(offer.name, merchant.name, until, merchant.timezone, renewal, news)

    async def _free_item(
        self,
        uow: UnitOfWork,
        now: datetime,
        merchant: Merchant,
        offer: MembershipOffer,
        person_id: int,
        period: str,
    ) -> tuple[str, ...]:
        """The period's free reward (when the offer names one and it is in stock), as news: once
        per period of a membership, however many payments name that period."""
        key = f"member-reward:{period}"
        if offer.monthly_item_id is None or await uow.ledger.has(key):
            return ()
        if not await uow.catalogue.take_one(offer.monthly_item_id):
            return ()
        item = await uow.catalogue.get(offer.monthly_item_id, merchant.id or 0)
        if item is None:
            return ()
        program = await uow.programs.for_merchant(merchant.id)
        news = await give_item(
            uow,
            now,
            program,
            person_id,
            item.id or 0,
            item.name,
            reason="membership",
            key=key,
        )
        return (news,)

    async def cancel(self, telegram_id: int) -> tuple[str, datetime]:
        """The subscription to cancel with Telegram (its charge id) and until when the perks last."""
        now = self.clock.now()
        async with self.db.read() as uow:
            person, merchant, _ = await require_member(uow, telegram_id)
            membership = await uow.membership.of(merchant.id or 0, person.id or 0)
            if membership is None or membership.status != ACTIVE or membership.paid_until <= now:
                raise PromptClosed("missing")
            return membership.charge_id, membership.paid_until

    async def cancelled(self, telegram_id: int) -> None:
        """Telegram cancelled the renewal: the perks last to the period's end (reminded before)."""
        async with self.db.write() as uow:
            person, merchant, _ = await require_member(uow, telegram_id)
            membership = await uow.membership.of(merchant.id or 0, person.id or 0, lock=True)
            if membership is not None:
                membership.renews = False
                await uow.membership.save(membership)

    # -- the sweep ----------------------------------------------------------------------------------

    async def _tell(
        self, uow: UnitOfWork, now: datetime, membership: Membership, kind: Kind, params: dict[str, object]
    ) -> None:
        person = await uow.people.get(membership.person_id)
        if person is None:
            return
        await uow.outbox.enqueue(
            key=f"{kind.value}:{membership.id}:{membership.paid_until.astimezone(UTC).isoformat()}",
            kind=kind,
            category=Category.SERVICE,
            chat_id=person.telegram_id,
            person_id=person.id,
            merchant_id=membership.merchant_id,
            subject_id=membership.id,
            params=params,
            now=now,
            not_before=now,
        )

    async def upkeep(self, merchant: Merchant) -> int:
        """Reminders 3 days before a membership that will not renew ends; memberships past their
        period end (a failed renewal after a day's grace). The number that ended."""
        now = self.clock.now()
        async with self.db.write() as uow:
            for membership in await uow.membership.ending(merchant.id or 0, now + REMIND_BEFORE):
                membership.reminded_at = now
                await uow.membership.save(membership)
                await self._tell(uow, now, membership, Kind.MEMBER_ENDING, {})
            lapsed = await uow.membership.lapsed(merchant.id or 0, now, now - RENEWAL_GRACE)
            for membership in lapsed:
                membership.status, membership.ended_at = ENDED, now
                await uow.membership.save(membership)
                await self._tell(uow, now, membership, Kind.MEMBER_ENDED, {"refunded": False})
            return len(lapsed)
