"""Taking a purchase back: everything it set off names it, so the refund reads those rows and takes
each back asset by asset (loyalty/refunds.py says how), in one transaction with the purchase's
card locked. A till refunds through the API; the customer and the shop's owners are told what came
off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import NotEnoughPoints
from kartu.loyalty.points import take
from kartu.loyalty.refunds import (
    Asset,
    Effects,
    RefundRefused,
    effects_of,
    points_to_take_back,
    stamps_after_refund,
)
from kartu.services.access import tell_owners
from kartu.services.tiers import move_card
from kartu.services.webhooks import reward_voided, tell
from kartu.services.wheel import spin_source
from kartu.storage.models import Card, LedgerEntry, Merchant, Person
from kartu.storage.unit_of_work import UnitOfWork


class UnknownPurchase(LookupError):
    """No purchase of this shop has that source."""


@dataclass(frozen=True)
class Refunded:
    """What a refund took back."""

    source: str
    customer: Person
    stamps_removed: int
    stamps_short: int  # what the card no longer held: not taken again
    points_removed: int
    rewards_voided: tuple[str, ...]  # reward codes, a partner's vouchers included
    spins_voided: int
    cause_withdrawn: int  # rupiah
    level: str | None  # the level the card was moved back to ("" for none), None when it kept its own
    card: Card
    outlet: str | None = None  # the code of the outlet the purchase was at

    def body(self, now: datetime) -> dict[str, object]:
        """What the API answers (and the purchase.refunded event carries)."""
        return {
            "stamps_removed": self.stamps_removed,
            "stamps_short": self.stamps_short,
            "points_removed": self.points_removed,
            "rewards_voided": list(self.rewards_voided),
            "spins_voided": self.spins_voided,
            "cause_withdrawn": self.cause_withdrawn,
            "level": self.level,
            "card": {"stamps": self.card.stamps, "points": self.card.points},
            "refunded_at": now.isoformat(),
            "outlet": self.outlet,
        }


async def refund_purchase(
    uow: UnitOfWork, now: datetime, merchant: Merchant, source: str, actor_id: int | None
) -> Refunded:
    """Take back the purchase ``source`` of ``merchant`` and all it set off, or refuse
    (`RefundRefused`) changing nothing; `UnknownPurchase` when the shop has no such purchase."""
    merchant_id = merchant.id or 0
    purchase = await uow.ledger.purchase_row(merchant_id, source)
    if purchase is None:
        raise UnknownPurchase(source)
    person_id = purchase.person_id
    card = await uow.cards.get(merchant_id, person_id, lock=True)
    person = await uow.people.get(person_id)
    if card is None or person is None:  # the customer left or was erased: nothing left to take
        raise UnknownPurchase(source)
    if not await uow.ledger.mark_refunded(merchant_id, person_id, source, actor_id, now):
        raise RefundRefused("refunded")
    effects = effects_of(await uow.ledger.of_origin(source))
    taking = _Taking(uow, now, merchant_id, person_id, source, actor_id, purchase.outlet_id)
    codes = await taking.rewards(effects)  # refusals first: nothing else is written before them
    points = await taking.points(effects, card)
    spins = await taking.spins(effects)
    stamps, short = await taking.stamps(effects, card)
    withdrawn = await taking.causes(effects)
    level = await _level_after(uow, now, merchant, person_id, purchase.created_at)
    await uow.session.refresh(card)
    outlet = next(
        (o.slug for o in await uow.merchants.outlets(merchant_id) if o.id == purchase.outlet_id), None
    )
    return Refunded(source, person, stamps, short, points, codes, spins, withdrawn, level, card, outlet)


async def _level_after(
    uow: UnitOfWork, now: datetime, merchant: Merchant, person_id: int, purchased_at: datetime
) -> str | None:
    """The level a refund took the card back to (its name, "" for none), when it took one back."""
    program = await uow.programs.for_merchant(merchant.id)
    moved = await move_card(uow, now, merchant, program, person_id, refunded=purchased_at)
    if moved is None:
        return None
    return moved.level_name


class _Taking:
    """The refund's own rows, each naming the purchase (so what it set off nets to nothing)."""

    def __init__(
        self,
        uow: UnitOfWork,
        now: datetime,
        merchant_id: int,
        person_id: int,
        source: str,
        actor: int | None,
        outlet_id: int | None = None,
    ) -> None:
        self.uow, self.now, self.merchant_id, self.person_id = uow, now, merchant_id, person_id
        self.source, self.actor, self.outlet_id = source, actor, outlet_id

    async def _row(self, asset: Asset, delta: int, key: str, **extra: Any) -> None:
        values: dict[str, Any] = dict(
            merchant_id=self.merchant_id,
            person_id=self.person_id,
            asset=asset.value,
            delta=delta,
            reason="refund",
            actor_person_id=self.actor,
            idempotency_key=key,
            origin=self.source,
            created_at=self.now,
            outlet_id=self.outlet_id,  # where the purchase was: the outlet's figures net it out
        )
        values.update(extra)
        await self.uow.ledger.append(LedgerEntry(**values))

    async def rewards(self, effects: Effects) -> tuple[str, ...]:
        """Every reward it issued (a full card's, a spin's, a partner's voucher) is void while
        unused; one already used refuses the refund. One that lapsed or was given away is gone."""
        codes: list[str] = []
        for merchant_id, reward_id in effects.rewards:
            reward = await self.uow.rewards.get(reward_id)
            if reward is None:
                continue
            if reward.redeemed_at is not None:
                raise RefundRefused("voucher_used" if reward.partnership_id else "reward_used")
            if reward.expired_at is not None:
                continue
            if not await self.uow.rewards.void(reward_id, self.now):
                raise RefundRefused("voucher_used" if reward.partnership_id else "reward_used")
            if reward.catalogue_item_id is not None:
                await self.uow.catalogue.put_back(reward.catalogue_item_id)
            await self._row(
                Asset.REWARD, -1, f"refund-reward:{reward_id}", reward_id=reward_id, merchant_id=merchant_id
            )
            await reward_voided(self.uow, self.now, reward)
            codes.append(reward.code)
        return tuple(codes)

    async def points(self, effects: Effects, card: Card) -> int:
        """Its points come off, from its own batches first; what lapsed of them is not taken again;
        refused when the customer's balance no longer holds them."""
        if effects.points_held <= 0:
            return 0
        own = await self.uow.points.batch_ids(effects.point_sources)
        lapsed = await self.uow.points.lapsed(own)
        points = points_to_take_back(effects, lapsed)
        if points > 0:
            batches = await self.uow.points.live(self.merchant_id, self.person_id, self.now)
            try:
                drawn = take(batches, points, self.now, first=own)
            except NotEnoughPoints:
                raise RefundRefused("points_spent") from None
            await self.uow.points.draw(drawn, None)
            await self.uow.points.change_balance(card.id or 0, -points)
        await self._row(Asset.POINT, -points, f"refund-points:{self.source}")
        return points

    async def spins(self, effects: Effects) -> int:
        """A spin it earned and nobody spun yet is void (a spun one's prize came off with its rows)."""
        if effects.spins <= 0:
            return 0
        spin_id = await self.uow.wheel.void(spin_source(self.source))
        if spin_id is None:
            return 0
        await self._row(Asset.SPIN, -1, f"refund-spin:{spin_id}")
        return 1

    async def stamps(self, effects: Effects, card: Card) -> tuple[int, int]:
        """Its stamps come off and those its full cards used come back, never below zero: (taken, short)."""
        if not effects.stamp_rows:
            return 0, 0
        before = card.stamps
        after, short = stamps_after_refund(before, effects.stamps)
        if after != before:
            await self.uow.cards.set_stamps(card, after, None)
        await self._row(Asset.STAMP, after - before, f"refund-stamps:{self.source}")
        if short:
            await self.uow.ledger.refund_short(self.source, short)
        return before - after, short

    async def causes(self, effects: Effects) -> int:
        """The shop's gift to a cause for it is withdrawn."""
        withdrawn = 0
        for cause_id, rupiah in effects.causes:
            await self._row(Asset.CAUSE, -rupiah, f"refund-cause:{self.source}:{cause_id}", cause_id=cause_id)
            withdrawn += rupiah
        return withdrawn


async def tell_of_refund(uow: UnitOfWork, now: datetime, merchant: Merchant, refunded: Refunded) -> None:
    """The customer hears what came off their card; the shop's owners what the refund took back;
    the shop's systems get purchase.refunded."""
    person, card = refunded.customer, refunded.card
    params: dict[str, object] = {
        "stamps": refunded.stamps_removed,
        "points": refunded.points_removed,
        "rewards": len(refunded.rewards_voided),
        "spins": refunded.spins_voided,
    }
    await uow.outbox.enqueue(
        key=f"refunded:{refunded.source}",
        kind=Kind.PURCHASE_REFUNDED,
        category=Category.RESULT,
        chat_id=person.telegram_id,
        person_id=person.id,
        merchant_id=merchant.id,
        subject_id=card.id,
        params=params,
        now=now,
        not_before=now,
    )
    await tell_owners(
        uow,
        now,
        merchant.id or 0,
        Kind.REFUND_TOLD,
        card.id or 0,
        f"refunded:{refunded.source}:owner",
        {
            **params,
            "customer_id": person.id,  # named when sent (they may /forget meanwhile)
            "codes": list(refunded.rewards_voided),
            "cause": refunded.cause_withdrawn,
            "level": refunded.level,
        },
    )
    await tell(
        uow,
        now,
        merchant.id or 0,
        "purchase.refunded",
        refunded.source,
        person,
        {"purchase_id": refunded.source, **refunded.body(now)},
    )
