"""Partner vouchers between shops: a handshake (one owner proposes, the other accepts or declines;
either ends it), vouchers issued to the first shop's customers when a purchase meets the condition
(under a monthly cap, one unused at a time), used at the second shop with its usual redeem flow,
and a monthly settlement for both owners."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kartu.loyalty.bonuses import month_start
from kartu.loyalty.codes import new_reward_code
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import InvalidSetting, NotOwner, PromptClosed
from kartu.loyalty.links import LinkKind, parse_payload
from kartu.loyalty.partners import (
    Condition,
    parse_address,
    parse_condition,
    parse_limits,
    parse_monthly_cap,
    parse_terms,
    parse_valid_days,
    parse_voucher,
    parse_voucher_name,
    parse_voucher_value,
    qualifies,
    valid_location,
)
from kartu.loyalty.staff import where_name
from kartu.loyalty.tiers import Basis
from kartu.services.access import Workplace, require_owner, tell_owners
from kartu.services.base import ServiceBase
from kartu.services.webhooks import reward_issued
from kartu.storage.courier import Parcel
from kartu.storage.models import LedgerEntry, Merchant, Partnership, Reward
from kartu.storage.repositories.partners import ACTIVE, DECLINED, ENDED, PROPOSED
from kartu.storage.unit_of_work import UnitOfWork

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PARTNERS_TTL = 30.0  # seconds a shop's "gives partner vouchers?" answer is kept
_partners_cache: dict[int, tuple[float, bool]] = {}


def known_without_partners(merchant_id: int) -> bool:
    """This process learnt in the last 30 s that the shop gives no partner vouchers."""
    known = _partners_cache.get(merchant_id)
    return known is not None and not known[1] and time.monotonic() - known[0] < _PARTNERS_TTL


SETTLE_DAYS = 7


@dataclass(frozen=True)
class PartnerView:
    partnership_id: int
    outgoing: bool  # this shop's customers earn the other's voucher
    other_name: str
    condition: str
    condition_value: int
    voucher: str
    voucher_value: int
    terms: str
    valid_days: int
    monthly_cap: int
    status: str
    issued_this_month: int
    our_outlet: str | None = None  # one outlet's partnership: ours (the other's is in other_name)


@dataclass(frozen=True)
class PartnersView:
    merchant_name: str
    slug: str
    address: str
    has_location: bool
    partnerships: tuple[PartnerView, ...]
    outlets: tuple[tuple[int, str], ...] = ()  # a business with several: a partnership may be one outlet's


@dataclass(frozen=True)
class Proposal:
    """What the proposing owner typed, step by step (kept in the form's data until sent)."""

    partner_code: str
    condition: str
    voucher: str
    limits: str


@dataclass(frozen=True)
class ProposedTerms:
    """A proposal's terms as the owner answered them, one by one (the guided form)."""

    partner_code: str
    condition: str
    voucher: str
    value: str
    terms: str
    valid_days: str
    monthly_cap: str
    outlet: str = ""  # in a business with several outlets: one outlet's id (its purchases earn it), else all


@dataclass(frozen=True)
class VoucherRow:
    code: str
    voucher: str
    from_shop: str
    to_shop: str
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    value: int


def _slug_of(code: str) -> str:
    """A partner named by its join link, the link's payload (``m_<slug>``) or its slug."""
    text = code.strip()
    if "start=" in text:
        text = text.split("start=", 1)[1].split("&", 1)[0]
    parsed = parse_payload(text)
    if parsed is not None and parsed.kind is LinkKind.JOIN:
        return parsed.value
    return text.lower()


async def issue_vouchers(
    uow: UnitOfWork, now: datetime, merchant: Merchant, person_id: int, source: str, amount: int | None
) -> list[Parcel]:
    """A purchase at ``merchant`` that meets an active partnership's condition gives the partner's
    voucher: once per purchase, one unused at a time, within the month's cap (the partnership's row
    is locked while counting). Each with its news for the customer (the courier's)."""
    parcels: list[Parcel] = []
    partnerships = await uow.partners.active_from(merchant.id or 0)
    _partners_cache[merchant.id or 0] = (time.monotonic(), bool(partnerships))
    if not partnerships:
        return parcels
    visits = await uow.tiers.measure(merchant.id or 0, person_id, Basis.VISITS, _EPOCH)
    person = await uow.people.get(person_id)
    assert person is not None
    bought = await uow.ledger.purchase_row(merchant.id or 0, source)
    for found in partnerships:
        if found.from_outlet_id is not None and (bought is None or bought.outlet_id != found.from_outlet_id):
            continue  # one outlet's partnership: a purchase elsewhere earns nothing from it
        if not qualifies(Condition(found.condition), found.condition_value, amount, visits):
            continue
        partnership = await uow.partners.get(found.id or 0, lock=True)
        if partnership is None or partnership.status != ACTIVE:
            continue
        if (
            await uow.partners.issued_since(partnership.id or 0, month_start(now, merchant.timezone))
            >= partnership.monthly_cap
        ):
            continue
        if await uow.partners.holds_open(partnership.id or 0, person_id, now):
            continue
        key = f"voucher:{partnership.id}:{source}"
        if await uow.ledger.has(key):
            continue
        reward = await uow.rewards.add_with_unique_code(
            lambda partnership=partnership: Reward(  # type: ignore[misc]  # mypy cannot type a default-bound lambda
                merchant_id=partnership.to_merchant_id,
                person_id=person_id,
                code=new_reward_code(),
                name=partnership.voucher,
                issued_at=now,
                expires_at=now + timedelta(days=partnership.valid_days),
                partnership_id=partnership.id,
            )
        )
        await uow.ledger.append(
            LedgerEntry(
                merchant_id=partnership.to_merchant_id,
                person_id=person_id,
                asset="reward",
                delta=1,
                reason="partner",
                idempotency_key=key,
                reward_id=reward.id,
                origin=source,  # its refund voids the voucher
                created_at=now,
            )
        )
        await reward_issued(uow, now, reward, person)  # for the partner's systems: theirs to honour
        parcel = await uow.counter.enqueue(
            key=f"voucher:{reward.id}",
            kind=Kind.PARTNER_VOUCHER,
            category=Category.RESULT,
            chat_id=person.telegram_id,
            person_id=person_id,
            merchant_id=merchant.id,
            subject_id=reward.id,
            now=now,
            not_before=now,
            taken=True,
        )
        if parcel is not None:
            parcels.append(parcel)
    return parcels


class PartnerService(ServiceBase):
    async def _view(self, uow: UnitOfWork, place: Workplace) -> PartnersView:
        merchant, now = place.merchant, self.clock.now()
        views = []
        for partnership in await uow.partners.of_merchant(merchant.id or 0):
            outgoing = partnership.from_merchant_id == merchant.id
            other = await uow.merchants.get(
                partnership.to_merchant_id if outgoing else partnership.from_merchant_id
            )
            other_outlet = partnership.to_outlet_id if outgoing else partnership.from_outlet_id
            ours = partnership.from_outlet_id if outgoing else partnership.to_outlet_id
            other_name = await self._named(uow, other, other_outlet) if other else "?"
            source = await uow.merchants.get(partnership.from_merchant_id)
            issued = await uow.partners.issued_since(
                partnership.id or 0, month_start(now, source.timezone if source else merchant.timezone)
            )
            views.append(
                PartnerView(
                    partnership.id or 0,
                    outgoing,
                    other_name,
                    partnership.condition,
                    partnership.condition_value,
                    partnership.voucher,
                    partnership.voucher_value,
                    partnership.terms,
                    partnership.valid_days,
                    partnership.monthly_cap,
                    partnership.status,
                    issued,
                    next((o.name for o in place.outlets if o.id == ours), None) if ours else None,
                )
            )
        return PartnersView(
            merchant.name,
            merchant.slug,
            merchant.address,
            merchant.latitude is not None,
            tuple(view for view in views if view.status in (PROPOSED, ACTIVE)),
            tuple((o.id, o.name) for o in place.outlets) if len(place.outlets) > 1 else (),
        )

    async def overview(self, owner_telegram_id: int) -> PartnersView:
        async with self.db.read() as uow:
            return await self._view(uow, await require_owner(uow, owner_telegram_id))

    async def check_partner(self, owner_telegram_id: int, code: str) -> str:
        """The first step of a proposal: the partner shop's name, with its outlet's when the code is
        an outlet's (refused: unknown, or oneself)."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            partner, outlet_id = await self._partner(uow, place, code)
            return await self._named(uow, partner, outlet_id)

    async def _partner(self, uow: UnitOfWork, place: Workplace, code: str) -> tuple[Merchant, int | None]:
        """The partner business a code names, and its outlet when the code is an outlet's (the
        voucher is used there)."""
        found = await uow.merchants.joinable(_slug_of(code))
        if found is None:
            raise InvalidSetting("partner_unknown")
        partner, outlet_id = found
        if partner.id == place.merchant.id:
            raise InvalidSetting("partner_self")
        if outlet_id is not None and len(await uow.merchants.outlets(partner.id)) < 2:
            outlet_id = None  # a business with one outlet: the whole business
        return partner, outlet_id

    @staticmethod
    async def _named(uow: UnitOfWork, merchant: Merchant, outlet_id: int | None) -> str:
        """A business's name, with its outlet's for one outlet's partnership."""
        outlets = await uow.merchants.outlets(merchant.id) if outlet_id is not None else []
        return where_name(
            merchant.name, next((o.name for o in outlets if o.id == outlet_id), None), len(outlets)
        )

    async def _our_outlet(self, place: Workplace, text: str) -> int | None:
        """The proposing business's outlet whose purchases earn the voucher (``None``: all of them)."""
        if not text or text == "all":
            return None
        outlet = next((o for o in place.outlets if str(o.id) == text), None)
        if outlet is None:
            raise InvalidSetting("partner_outlet")
        return outlet.id

    async def check_field(self, owner_telegram_id: int, field: str, text: str) -> object:
        """One answer of the proposal's form, as the domain reads it (refused: asked again)."""
        match field:
            case "shop":
                return await self.check_partner(owner_telegram_id, text)
            case "outlet":
                async with self.db.read() as uow:
                    place = await require_owner(uow, owner_telegram_id)
                    chosen = await self._our_outlet(place, text)
                    return next((o.name for o in place.outlets if o.id == chosen), "")
            case "condition":
                return parse_condition(text)
            case "voucher":
                return parse_voucher_name(text)
            case "value":
                return parse_voucher_value(text)
            case "terms":
                return parse_terms(text)
            case "days":
                return parse_valid_days(text)
            case "cap":
                return parse_monthly_cap(text)
        raise InvalidSetting(field)

    async def propose(self, owner_telegram_id: int, proposal: Proposal) -> PartnersView:
        """``Proposal`` in the one-line form: the voucher as "what; value; terms", the limits as
        "30 days; 100 a month"."""
        voucher, voucher_value, terms = parse_voucher(proposal.voucher)
        valid_days, cap = parse_limits(proposal.limits)
        return await self.propose_terms(
            owner_telegram_id,
            ProposedTerms(
                proposal.partner_code,
                proposal.condition,
                voucher,
                str(voucher_value),
                terms,
                str(valid_days),
                str(cap),
            ),
        )

    async def propose_terms(self, owner_telegram_id: int, proposal: ProposedTerms) -> PartnersView:
        """Propose a partnership to the shop named by ``partner_code``; its owners are asked."""
        condition, value = parse_condition(proposal.condition)
        voucher, voucher_value = parse_voucher_name(proposal.voucher), parse_voucher_value(proposal.value)
        terms = parse_terms(proposal.terms)
        valid_days, cap = parse_valid_days(proposal.valid_days), parse_monthly_cap(proposal.monthly_cap)
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            partner, to_outlet = await self._partner(uow, place, proposal.partner_code)
            from_outlet = await self._our_outlet(place, proposal.outlet)
            if await uow.partners.open_between(place.merchant.id or 0, partner.id or 0) is not None:
                raise InvalidSetting("partner_exists")
            partnership = await uow.partners.save(
                Partnership(
                    from_merchant_id=place.merchant.id or 0,
                    to_merchant_id=partner.id or 0,
                    condition=condition.value,
                    condition_value=value,
                    voucher=voucher,
                    voucher_value=voucher_value,
                    terms=terms,
                    valid_days=valid_days,
                    monthly_cap=cap,
                    proposed_by_person_id=place.person.id or 0,
                    created_at=now,
                    from_outlet_id=from_outlet,
                    to_outlet_id=to_outlet,
                )
            )
            await tell_owners(
                uow,
                now,
                partner.id or 0,
                Kind.PARTNER_OFFER,
                partnership.id or 0,
                f"partner-offer:{partnership.id}",
                {},
            )
            return await self._view(uow, place)

    async def decide(self, owner_telegram_id: int, partnership_id: int, accept: bool) -> PartnersView:
        """The partner's owner accepts or declines; the proposing shop's owners are told."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            partnership = await uow.partners.get(partnership_id, lock=True)
            if partnership is None or partnership.to_merchant_id != place.merchant.id:
                raise NotOwner()
            if partnership.status != PROPOSED:
                raise PromptClosed("decided")
            partnership.status, partnership.decided_at = (ACTIVE if accept else DECLINED), now
            await uow.partners.save(partnership)
            _partners_cache.pop(partnership.from_merchant_id, None)
            await tell_owners(
                uow,
                now,
                partnership.from_merchant_id,
                Kind.PARTNER_NEWS,
                partnership.id or 0,
                f"partner-{partnership.status}:{partnership.id}",
                {"event": partnership.status, "shop": place.merchant.name},
            )
            return await self._view(uow, place)

    async def end(self, owner_telegram_id: int, partnership_id: int) -> PartnersView:
        """Either owner ends it (vouchers already given stay valid to their expiry); the other side
        is told."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            partnership = await uow.partners.get(partnership_id, lock=True)
            if partnership is None:
                raise NotOwner()
            sides = (partnership.from_merchant_id, partnership.to_merchant_id)
            if place.merchant.id not in sides:
                raise NotOwner()
            if partnership.status not in (PROPOSED, ACTIVE):
                raise PromptClosed("ended")
            partnership.status, partnership.ended_at = ENDED, now
            await uow.partners.save(partnership)
            other = sides[1] if sides[0] == place.merchant.id else sides[0]
            await tell_owners(
                uow,
                now,
                other,
                Kind.PARTNER_NEWS,
                partnership.id or 0,
                f"partner-ended:{partnership.id}",
                {"event": ENDED, "shop": place.merchant.name},
            )
            return await self._view(uow, place)

    async def set_address(self, owner_telegram_id: int, text: str) -> PartnersView:
        address = parse_address(text)
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            place.merchant.address = address
            await uow.merchants.save(place.merchant)
            return await self._view(uow, place)

    async def set_location(self, owner_telegram_id: int, latitude: float, longitude: float) -> PartnersView:
        if not valid_location(latitude, longitude):
            raise InvalidSetting("location")
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            place.merchant.latitude, place.merchant.longitude = latitude, longitude
            await uow.merchants.save(place.merchant)
            return await self._view(uow, place)

    async def vouchers(self, owner_telegram_id: int) -> tuple[str, tuple[VoucherRow, ...]]:
        """Every voucher of this shop's partnerships, either way (the settlement's detail)."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            partnerships = {p.id or 0: p for p in await uow.partners.of_merchant(place.merchant.id or 0)}
            names: dict[int, str] = {}
            for partnership in partnerships.values():
                for merchant_id in (partnership.from_merchant_id, partnership.to_merchant_id):
                    if merchant_id not in names:
                        shop = await uow.merchants.get(merchant_id)
                        names[merchant_id] = shop.name if shop else "?"
            rows = tuple(
                VoucherRow(
                    reward.code,
                    reward.name,
                    names[partnerships[reward.partnership_id or 0].from_merchant_id],
                    names[partnerships[reward.partnership_id or 0].to_merchant_id],
                    reward.issued_at,
                    reward.expires_at,
                    reward.redeemed_at,
                    partnerships[reward.partnership_id or 0].voucher_value,
                )
                for reward in await uow.partners.vouchers(list(partnerships))
            )
            return place.merchant.slug, rows

    async def settle(self, merchant: Merchant) -> int:
        """On a new month in the first shop's time zone: last month's vouchers (issued, redeemed,
        value) to the owners of both shops, once per partnership and month. The number settled."""
        now = self.clock.now()
        this_month = month_start(now, merchant.timezone)
        last_month = month_start(this_month - timedelta(days=1), merchant.timezone)
        label = last_month.astimezone(ZoneInfo(merchant.timezone)).strftime("%Y-%m")
        settled = 0
        if (now - this_month).days >= SETTLE_DAYS:  # told in the month's first week (once: by key)
            return settled
        async with self.db.write() as uow:
            for partnership in await uow.partners.of_merchant(merchant.id or 0):
                if partnership.from_merchant_id != merchant.id:
                    continue
                issued, redeemed = await uow.partners.settlement(partnership.id or 0, last_month, this_month)
                if not issued and not redeemed:
                    continue
                params: dict[str, object] = {
                    "month": label,
                    "issued": issued,
                    "redeemed": redeemed,
                    "value": redeemed * partnership.voucher_value,
                }
                for side in (partnership.from_merchant_id, partnership.to_merchant_id):
                    await tell_owners(
                        uow,
                        now,
                        side,
                        Kind.PARTNER_SETTLEMENT,
                        partnership.id or 0,
                        f"settle:{partnership.id}:{label}:{side}",
                        params,
                    )
                settled += 1
        return settled
