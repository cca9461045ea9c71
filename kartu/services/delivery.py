"""What the outbox dispatcher asks of the database: claim, compose, record outcomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kartu.loyalty.delivery import Category, Kind, retry_delay
from kartu.loyalty.points import expiring, return_deadline
from kartu.loyalty.staff import Role, may_see, where_name
from kartu.services.base import ServiceBase, card_view, points_rules_of
from kartu.services.views import CardView, RewardView
from kartu.storage import courier
from kartu.storage.courier import Parcel
from kartu.storage.repositories.outbox import FAILED, NEEDS_TEMPLATE, SENT, SKIPPED
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StampReminderNotice:
    language: str
    merchant_name: str
    stamps: int
    stamps_required: int
    reward_name: str
    expires_at: datetime
    timezone: str


@dataclass(frozen=True)
class RewardReminderNotice:
    language: str
    merchant_name: str
    reward_name: str
    code: str
    expires_at: datetime
    timezone: str


@dataclass(frozen=True)
class SurveyNotice:
    language: str
    merchant_name: str
    survey_id: int


@dataclass(frozen=True)
class LowRatingAlertNotice:
    language: str
    merchant_name: str
    customer_first_name: str
    rating: int
    comment: str | None
    reason: str | None
    visits: int
    first_visit: datetime | None
    timezone: str


@dataclass(frozen=True)
class BroadcastNotice:
    language: str
    text: str
    photo_file_id: str | None
    merchant_name: str = ""  # customers of several shops see whose news it is


@dataclass(frozen=True)
class CardUpdateNotice:
    """The customer's card after a purchase was credited (with the stamps it added)."""

    language: str
    card: CardView
    stamps_added: int
    cards_filled: int = 0  # this purchase filled the card: the customer sees it full first
    points_added: int = 0
    amount: int | None = None  # the rupiah the points were earned on
    gift: tuple[str, int] | None = None  # what the purchase gave to the shop's cause
    news_id: int | None = None  # this news's row: its Why? button names it


@dataclass(frozen=True)
class RewardIssuedNotice:
    language: str
    reward: RewardView


@dataclass(frozen=True)
class RewardRedeemedNotice:
    language: str
    merchant_name: str
    reward_name: str


@dataclass(frozen=True)
class PointsAdjustedNotice:
    """To a customer: the owner added or took points by hand, and why."""

    language: str
    merchant_name: str
    delta: int
    note: str
    balance: int


@dataclass(frozen=True)
class RefundNotice:
    """To a customer: the shop refunded a purchase, and what came off their card."""

    language: str
    merchant_name: str
    stamps: int
    points: int
    rewards: int
    card: CardView
    spins: int = 0


@dataclass(frozen=True)
class RefundToldNotice:
    """To an owner: a purchase was refunded, and what the refund took back."""

    language: str
    merchant_name: str
    customer: str
    stamps: int
    points: int
    codes: tuple[str, ...]  # the rewards and partner vouchers made void
    spins: int
    cause: int  # rupiah withdrawn from the shop's cause
    level: str | None  # the level the card went back to ("" for none); None: it kept its level


@dataclass(frozen=True)
class KindsNotice:
    """To a customer: the shop stopped running what they hold (``what``: stamps_kept, converted,
    points_kept), how much they held, and the card as it is now."""

    language: str
    merchant_name: str
    what: str
    held: int
    rate: int
    card: CardView


@dataclass(frozen=True)
class BackupAlertNotice:
    """To the operator's admins: today's backup failed, and why."""

    language: str
    reason: str


@dataclass(frozen=True)
class WebhookAlertNotice:
    """To an owner: deliveries to an endpoint were given up (``failed``), or it was ``paused``."""

    language: str
    state: str
    url: str


@dataclass(frozen=True)
class PointsReminderNotice:
    """To a customer: points lapsing soon, per day they lapse (soonest first)."""

    language: str
    merchant_name: str
    timezone: str
    lapsing: tuple[tuple[datetime, int], ...]
    balance: int


@dataclass(frozen=True)
class BonusNotice:
    """To a customer: a welcome, birthday or referral bonus was added."""

    language: str
    merchant_name: str
    reason: str  # birthday, referral_friend, referral_referrer
    amount: int
    unit: str  # points or stamps
    friend: str | None = None


@dataclass(frozen=True)
class TierNotice:
    """To a customer: their level went up or down, will go down unless they come back, or a level's
    group opened for them. ``invite_chat``: a group to invite them to (a one-person link is made as
    it is sent); ``remove_chat``: a group they no longer belong in."""

    language: str
    merchant_name: str
    timezone: str
    move: str  # up, down, warn, group
    tier: str
    previous: str = ""
    multiplier_permille: int = 1000
    perks: str = ""
    missing: int = 0
    until: datetime | None = None
    basis: str = "visits"
    invites: tuple[tuple[int, str], ...] = ()
    removals: tuple[int, ...] = ()
    runs_points: bool = False


@dataclass(frozen=True)
class CauseDoneNotice:
    """To those who gave: the cause reached its target, or ended (with what it raised)."""

    language: str
    merchant_name: str
    cause_name: str
    reached: bool
    raised: int
    target: int
    mine: int  # what this person gave


@dataclass(frozen=True)
class SpinEarnedNotice:
    """To a customer: a purchase earned a spin of the wheel (a Spin button)."""

    language: str
    merchant_name: str
    expires_at: datetime
    timezone: str


@dataclass(frozen=True)
class SpinResultNotice:
    """To a customer: what the wheel landed on (written before the wheel was shown turning)."""

    language: str
    merchant_name: str
    kind: str  # stamps, points, item, nothing ("" for the unnamed rest of the wheel)
    amount: int
    label: str


@dataclass(frozen=True)
class PartnerOfferNotice:
    """To the partner shop's owners: a proposal to accept or decline (buttons: the partnership)."""

    language: str
    partnership_id: int
    from_shop: str
    condition: str
    condition_value: int
    voucher: str
    voucher_value: int
    terms: str
    valid_days: int
    monthly_cap: int


@dataclass(frozen=True)
class PartnerNewsNotice:
    """To a shop's owners: the other shop accepted, declined or ended a partnership."""

    language: str
    event: str  # active, declined, ended
    other_shop: str


@dataclass(frozen=True)
class PartnerVoucherNotice:
    """To a customer: a partner shop's voucher, with how to get there."""

    language: str
    from_shop: str
    to_shop: str
    voucher: str
    code: str
    expires_at: datetime
    timezone: str
    terms: str
    address: str
    location: tuple[float, float] | None


@dataclass(frozen=True)
class SettlementNotice:
    """To both shops' owners: last month's vouchers of a partnership."""

    language: str
    month: str
    from_shop: str
    to_shop: str
    issued: int
    redeemed: int
    value: int


@dataclass(frozen=True)
class MembershipNotice:
    """To a member: their membership ends soon (it will not renew), or ended (or was refunded)."""

    language: str
    merchant_name: str
    name: str
    ending: bool
    until: datetime
    timezone: str
    refunded: bool = False


@dataclass(frozen=True)
class CodeLockNotice:
    """To owners: a staff account was locked out of code entry."""

    language: str
    merchant_name: str
    staff_first_name: str
    misses: int


Notice = (
    StampReminderNotice
    | BackupAlertNotice
    | RewardReminderNotice
    | SurveyNotice
    | LowRatingAlertNotice
    | BroadcastNotice
    | CardUpdateNotice
    | RewardIssuedNotice
    | RewardRedeemedNotice
    | CodeLockNotice
    | PointsAdjustedNotice
    | RefundNotice
    | RefundToldNotice
    | KindsNotice
    | WebhookAlertNotice
    | PointsReminderNotice
    | BonusNotice
    | TierNotice
    | CauseDoneNotice
    | SpinEarnedNotice
    | SpinResultNotice
    | PartnerOfferNotice
    | PartnerNewsNotice
    | PartnerVoucherNotice
    | SettlementNotice
    | MembershipNotice
)

# A dispatcher's batch is about a second of sending (KARTU_SEND_RATE messages): one not finished
# in this long was held by a dispatcher that died, and goes back to the queue.
LEASE = timedelta(seconds=30)


class DeliveryService(ServiceBase):
    async def claim(self, worker: str, limit: int) -> Sequence[Parcel]:
        """Due messages for this dispatcher, after returning any a dead dispatcher held."""
        now = self.clock.now()
        async with self.db.write() as uow:
            await uow.outbox.release_stale_claims(now, LEASE)
            return [Parcel.of(message) for message in await uow.outbox.claim(worker, now, limit)]

    async def claim_keys(self, worker: str, keys: Sequence[str]) -> Sequence[Parcel]:
        """These messages, if still waiting, for immediate delivery (news right after a commit)."""
        if self.db.has_driver:
            async with self.db.driver(transaction=False) as tx:
                return await courier.claim_keys(tx, worker, self.clock.now(), keys)
        async with self.db.write() as uow:
            return [
                Parcel.of(message) for message in await uow.outbox.claim_keys(worker, self.clock.now(), keys)
            ]

    async def compose(self, message: Parcel) -> Notice | None:
        """What to say, in the recipient's language; ``None`` when it no longer needs saying."""
        async with self.db.read() as uow:
            person = await uow.people.get(message.person_id) if message.person_id else None
            if person is None:
                return None
            if message.category != Category.ALERT and person.unreachable_at is not None:
                return None
            if message.category == Category.PROMO:
                card = await uow.cards.get(message.merchant_id or 0, person.id)
                if card is None or card.promotions_opt_out:  # opted out of this shop, or left it
                    return None
            if message.kind == Kind.BACKUP_ALERT:  # the operator's, not a shop's
                params = json.loads(message.params or "{}")
                return BackupAlertNotice(self.language_of(person), str(params.get("reason", "")))
            merchant = await uow.merchants.get(message.merchant_id) if message.merchant_id else None
            if merchant is None or message.subject_id is None:
                return None
            language = self.language_of(person)
            match message.kind:
                case Kind.STAMP_REMINDER:
                    return await self._stamp_reminder(
                        uow, message, language, merchant.name, merchant.timezone
                    )
                case Kind.REWARD_REMINDER:
                    reward = await uow.rewards.get(message.subject_id)
                    if (
                        reward is None
                        or reward.redeemed_at is not None
                        or reward.expires_at <= self.clock.now()
                    ):
                        return None
                    return RewardReminderNotice(
                        language,
                        merchant.name,
                        reward.name,
                        reward.code,
                        reward.expires_at,
                        merchant.timezone,
                    )
                case Kind.BROADCAST:
                    broadcast = await uow.broadcasts.get(message.subject_id)
                    if broadcast is None or broadcast.status != "running":
                        return None
                    return BroadcastNotice(language, broadcast.text, broadcast.photo_file_id, merchant.name)
                case Kind.SURVEY:
                    return SurveyNotice(language, merchant.name, message.subject_id)
                case Kind.CARD_UPDATE | Kind.PURCHASE_REFUNDED:
                    card = await uow.cards.by_id(message.subject_id)
                    if card is None:
                        return None
                    params = json.loads(message.params or "{}")
                    view = await card_view(uow, self.clock.now(), person, merchant, card)
                    if message.kind == Kind.PURCHASE_REFUNDED:
                        return RefundNotice(
                            language,
                            merchant.name,
                            int(params.get("stamps", 0)),
                            int(params.get("points", 0)),
                            int(params.get("rewards", 0)),
                            view,
                            int(params.get("spins", 0)),
                        )
                    return CardUpdateNotice(
                        language,
                        view,
                        params.get("added", 0),
                        params.get("filled", 0),
                        params.get("points", 0),
                        params.get("amount"),
                        (str(params["cause"]), int(params.get("gave", 0))) if "cause" in params else None,
                        message.id,
                    )
                case Kind.REWARD_ISSUED:
                    reward = await uow.rewards.get(message.subject_id)
                    if reward is None or reward.expires_at <= self.clock.now():
                        return None
                    returnable = None
                    if reward.points_price is not None and reward.redeemed_at is None:
                        program = await uow.programs.for_merchant(merchant.id)
                        deadline = return_deadline(reward.issued_at, points_rules_of(program))
                        returnable = deadline if deadline and deadline > self.clock.now() else None
                    return RewardIssuedNotice(
                        language,
                        RewardView(
                            reward.code,
                            reward.name,
                            reward.expires_at,
                            merchant.name,
                            merchant.timezone,
                            reward.id or 0,
                            reward.points_price,
                            returnable,
                            reward.catalogue_item_id is None,
                        ),
                    )
                case Kind.REWARD_REDEEMED:
                    reward = await uow.rewards.get(message.subject_id)
                    return (
                        RewardRedeemedNotice(language, merchant.name, reward.name)
                        if reward is not None
                        else None
                    )
                case Kind.POINTS_ADJUSTED:
                    params = json.loads(message.params or "{}")
                    return PointsAdjustedNotice(
                        language,
                        merchant.name,
                        params.get("delta", 0),
                        params.get("note", ""),
                        params.get("balance", 0),
                    )
                case Kind.KINDS_CHANGED:
                    card = await uow.cards.by_id(message.subject_id)
                    if card is None:
                        return None
                    params = json.loads(message.params or "{}")
                    return KindsNotice(
                        language,
                        merchant.name,
                        str(params.get("what", "")),
                        int(params.get("held", 0)),
                        int(params.get("rate", 0)),
                        await card_view(uow, self.clock.now(), person, merchant, card),
                    )
                case Kind.REFUND_TOLD:
                    owner = await uow.staff.active(merchant.id, person.id)
                    if owner is None or owner.role != Role.OWNER:  # no longer an owner there
                        return None
                    params = json.loads(message.params or "{}")
                    customer = await uow.people.get(int(params.get("customer_id") or 0))
                    return RefundToldNotice(
                        language,
                        merchant.name,
                        customer.first_name if customer is not None else "",
                        int(params.get("stamps", 0)),
                        int(params.get("points", 0)),
                        tuple(str(code) for code in params.get("codes", [])),
                        int(params.get("spins", 0)),
                        int(params.get("cause", 0)),
                        params.get("level"),
                    )
                case Kind.WEBHOOK_ALERT:
                    params = json.loads(message.params or "{}")
                    return WebhookAlertNotice(language, str(params.get("state")), str(params.get("url")))
                case Kind.BONUS:
                    params = json.loads(message.params or "{}")
                    friend = await uow.people.get(params["friend_id"]) if params.get("friend_id") else None
                    return BonusNotice(
                        language,
                        merchant.name,
                        str(params.get("reason", "")),
                        int(params.get("amount", 0)),
                        str(params.get("unit", "points")),
                        friend.first_name if friend is not None else params.get("friend"),
                    )
                case Kind.PARTNER_OFFER | Kind.PARTNER_NEWS | Kind.PARTNER_SETTLEMENT | Kind.PARTNER_VOUCHER:
                    return await self._partner_notice(uow, message, language)
                case Kind.MEMBER_ENDING | Kind.MEMBER_ENDED:
                    membership = await uow.membership.of_id(message.subject_id)
                    offer = await uow.membership.offer_by_id(membership.offer_id) if membership else None
                    if membership is None or offer is None:
                        return None
                    ending = message.kind == Kind.MEMBER_ENDING
                    if ending and (membership.status != "active" or membership.renews):
                        return None  # renewed, or ended, since
                    params = json.loads(message.params or "{}")
                    return MembershipNotice(
                        language,
                        merchant.name,
                        offer.name,
                        ending,
                        membership.paid_until,
                        merchant.timezone,
                        bool(params.get("refunded")),
                    )
                case Kind.SPIN_EARNED:
                    spin = await uow.wheel.spin(message.subject_id)
                    if spin is None or spin.status != "ready" or spin.expires_at <= self.clock.now():
                        return None
                    return SpinEarnedNotice(language, merchant.name, spin.expires_at, merchant.timezone)
                case Kind.SPIN_RESULT:
                    spin = await uow.wheel.spin(message.subject_id)
                    if spin is None or spin.status != "spun":
                        return None
                    prize = await uow.wheel.prize_row(spin.prize_id) if spin.prize_id else None
                    return SpinResultNotice(
                        language,
                        merchant.name,
                        prize.kind if prize else "",
                        prize.amount if prize else 0,
                        spin.outcome or "",
                    )
                case Kind.CAUSE_DONE:
                    cause = await uow.causes.get(message.subject_id)
                    if cause is None:
                        return None
                    raised, _ = await uow.causes.totals(cause.id or 0)
                    return CauseDoneNotice(
                        language,
                        merchant.name,
                        cause.name,
                        cause.reached_at is not None,
                        raised,
                        cause.target,
                        await uow.causes.given_by(cause.id or 0, person.id or 0),
                    )
                case Kind.TIER_CHANGE:
                    return await self._tier_change(uow, message, language, merchant.name, merchant.timezone)
                case Kind.POINTS_REMINDER:
                    return await self._points_reminder(
                        uow, message, language, merchant.name, merchant.timezone
                    )
                case Kind.CODE_LOCK_ALERT:
                    member = await uow.staff.get(message.subject_id)
                    owner = await uow.staff.active(merchant.id, person.id)
                    staff = await uow.people.get(member.person_id) if member else None
                    if (
                        member is None
                        or member.locked_at is None
                        or staff is None
                        or owner is None
                        or owner.role != Role.OWNER
                    ):
                        return None
                    return CodeLockNotice(language, merchant.name, staff.first_name, member.code_misses)
                case Kind.LOW_RATING_ALERT:
                    # Entitlement is checked at send time: staff removed since the alert was
                    # queued (or moved to another outlet) do not get a customer's name and comment.
                    member = await uow.staff.active(merchant.id, person.id)
                    survey = await uow.surveys.get(message.subject_id)
                    customer = await uow.people.get(survey.person_id) if survey else None
                    if member is None or survey is None or customer is None or survey.rating is None:
                        return None
                    if not may_see(member.outlet_id, survey.outlet_id):
                        return None
                    visits, first = await uow.surveys.visit_history(merchant.id, customer.id)
                    outlets = await uow.merchants.outlets(merchant.id)
                    outlet = next((o.name for o in outlets if o.id == survey.outlet_id), None)
                    return LowRatingAlertNotice(
                        language,
                        where_name(merchant.name, outlet, len(outlets)),
                        customer.first_name,
                        survey.rating,
                        survey.comment,
                        survey.reason,
                        visits,
                        first,
                        merchant.timezone,
                    )
        return None

    async def _tier_change(
        self, uow: UnitOfWork, message: Parcel, language: str, merchant_name: str, timezone: str
    ) -> TierNotice | None:
        """A level's news as it stands at sending: an invite only while the card still holds a level
        that opens that group, a removal only while it holds none that does."""
        params = json.loads(message.params or "{}")
        card = await uow.cards.by_id(message.subject_id or 0)
        if card is None:
            return None
        entitled = {
            chat: title for _, chat, title in await uow.tiers.open_groups(card.merchant_id, card.tier_id)
        }
        invites = tuple((chat, entitled[chat]) for chat in params.get("invite_chats", []) if chat in entitled)
        removals = tuple(chat for chat in params.get("remove_chats", []) if chat not in entitled)
        if params.get("move") == "group" and not invites:
            return None
        if params.get("move") == "warn" and card.tier_grace_until is None:
            return None  # back above the level since
        until = params.get("until")
        return TierNotice(
            language,
            merchant_name,
            timezone,
            str(params.get("move", "")),
            str(params.get("tier", "")),
            str(params.get("previous", "")),
            int(params.get("multiplier", 1000)),
            str(params.get("perks", "")),
            int(params.get("missing", 0)),
            datetime.fromisoformat(until) if until else None,
            str(params.get("basis", "visits")),
            invites,
            removals,
            (await uow.programs.for_merchant(card.merchant_id)).points_enabled,
        )

    async def _partner_notice(self, uow: UnitOfWork, message: Parcel, language: str) -> Notice | None:
        params = json.loads(message.params or "{}")
        if message.kind == Kind.PARTNER_VOUCHER:
            reward = await uow.rewards.get(message.subject_id or 0)
            partnership = await uow.partners.get(reward.partnership_id or 0) if reward else None
            if reward is None or partnership is None or reward.redeemed_at is not None:
                return None
            source, target = (
                await uow.merchants.get(partnership.from_merchant_id),
                await uow.merchants.get(partnership.to_merchant_id),
            )
            if source is None or target is None:
                return None
            # One outlet's voucher: its name, address and map; else the partner business's.
            there = next(
                (o for o in await uow.merchants.outlets(target.id) if o.id == partnership.to_outlet_id), None
            )
            name = where_name(target.name, there.name, 2) if there else target.name
            address = there.address if there and there.address else target.address
            spot = (there.latitude, there.longitude) if there and there.latitude is not None else None
            spot = spot or ((target.latitude, target.longitude) if target.latitude is not None else None)
            return PartnerVoucherNotice(
                language,
                source.name,
                name,
                reward.name,
                reward.code,
                reward.expires_at,
                target.timezone,
                partnership.terms,
                address,
                spot,  # type: ignore[arg-type]
            )
        partnership = await uow.partners.get(message.subject_id or 0)
        if partnership is None:
            return None
        source, target = (
            await uow.merchants.get(partnership.from_merchant_id),
            await uow.merchants.get(partnership.to_merchant_id),
        )
        if source is None or target is None:
            return None
        match message.kind:
            case Kind.PARTNER_OFFER:
                if partnership.status != "proposed":
                    return None
                return PartnerOfferNotice(
                    language,
                    partnership.id or 0,
                    source.name,
                    partnership.condition,
                    partnership.condition_value,
                    partnership.voucher,
                    partnership.voucher_value,
                    partnership.terms,
                    partnership.valid_days,
                    partnership.monthly_cap,
                )
            case Kind.PARTNER_NEWS:
                return PartnerNewsNotice(language, str(params.get("event", "")), str(params.get("shop", "")))
        return SettlementNotice(
            language,
            str(params.get("month", "")),
            source.name,
            target.name,
            int(params.get("issued", 0)),
            int(params.get("redeemed", 0)),
            int(params.get("value", 0)),
        )

    async def _stamp_reminder(
        self, uow: UnitOfWork, message: Parcel, language: str, merchant_name: str, timezone: str
    ) -> StampReminderNotice | None:
        card = await uow.cards.by_id(message.subject_id or 0)
        program = await uow.programs.for_merchant(message.merchant_id or 0)
        if (
            card is None
            or card.stamps == 0
            or card.last_purchase_at is None
            or program.stamp_expiry_days <= 0
        ):
            return None
        expires_at = card.last_purchase_at + timedelta(days=program.stamp_expiry_days)
        days = json.loads(message.params or "{}").get("days", 0)
        # A purchase since queueing moved the expiry beyond this reminder's window: skip.
        if expires_at <= self.clock.now() or expires_at > message.created_at + timedelta(days=days, hours=1):
            return None
        return StampReminderNotice(
            language,
            merchant_name,
            card.stamps,
            program.stamps_required,
            program.reward_name,
            expires_at,
            timezone,
        )

    async def _points_reminder(
        self, uow: UnitOfWork, message: Parcel, language: str, merchant_name: str, timezone: str
    ) -> PointsReminderNotice | None:
        """Points still lapsing within the reminder's window; none (spent since, say): skip."""
        now, person_id = self.clock.now(), message.person_id or 0
        days = json.loads(message.params or "{}").get("days", 0)
        until = message.created_at + timedelta(days=days, hours=1)
        batches = await uow.points.due(message.merchant_id or 0, person_id, now, until)
        if not batches:
            return None
        card = await uow.cards.get(message.merchant_id or 0, person_id)
        lapsing = tuple(expiring(batches, now, until - now))
        return PointsReminderNotice(language, merchant_name, timezone, lapsing, card.points if card else 0)

    async def delivered(self, message_id: int) -> None:
        if self.db.has_driver:
            async with self.db.driver(transaction=False) as tx:
                await courier.mark_sent(tx, message_id, self.clock.now())
            return
        async with self.db.write() as uow:
            await uow.outbox.finish(message_id, SENT, self.clock.now())

    async def sending(self, message_id: int) -> None:
        """A promotion's send begins (see `OutboxRepository.release_stale_claims`)."""
        async with self.db.write() as uow:
            await uow.outbox.sending(message_id, self.clock.now())

    async def skipped(self, message_id: int, reason: str) -> None:
        async with self.db.write() as uow:
            await uow.outbox.finish(message_id, SKIPPED, self.clock.now(), reason)

    async def failed(self, message: Parcel, error: str) -> None:
        """A failure worth retrying: back off, or give up after the last attempt."""
        now = self.clock.now()
        delay = retry_delay(message.attempts)
        async with self.db.write() as uow:
            if delay is None:
                await uow.outbox.finish(message.id, FAILED, now, error)
            else:
                await uow.outbox.retry_later(message.id, now + delay, error)

    async def needs_template(self, message_id: int, why: str) -> None:
        """Due on WhatsApp outside the person's window: it waits (`OutboxRepository.release_waiting`)."""
        async with self.db.write() as uow:
            await uow.outbox.finish(message_id, NEEDS_TEMPLATE, self.clock.now(), why)

    async def rejected(self, message_id: int, error: str) -> None:
        """Telegram refused for good (bad request): no retry."""
        async with self.db.write() as uow:
            await uow.outbox.finish(message_id, FAILED, self.clock.now(), error)

    async def throttled(self, message_id: int, retry_after: float) -> None:
        """A 429: the message waits its turn again; the attempt does not count."""
        async with self.db.write() as uow:
            await uow.outbox.retry_later(
                message_id, self.clock.now() + timedelta(seconds=retry_after), "429", count_attempt=False
            )

    async def postpone(self, message_ids: Sequence[int], seconds: float) -> None:
        """Claimed messages that were not attempted go back to the queue (no attempt counted)."""
        async with self.db.write() as uow:
            for message_id in message_ids:
                await uow.outbox.retry_later(
                    message_id,
                    self.clock.now() + timedelta(seconds=seconds),
                    "postponed",
                    count_attempt=False,
                )

    async def blocked(self, chat_id: int, message_id: int | None = None) -> None:
        """The user blocked the bot: mark them, drop what is queued for them, until they write again."""
        now = self.clock.now()
        async with self.db.write() as uow:
            if message_id is not None:
                await uow.outbox.finish(message_id, FAILED, now, "blocked by the user")
            person_id = await uow.outbox.mark_unreachable(chat_id, now)
            if person_id is not None:
                await uow.outbox.drop_promotions_for(person_id, now, "blocked by the user")
