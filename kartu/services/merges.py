"""Merging two shops of one owner into one business (/merge, `kartu merchant merge`): a preview
first, then in one transaction the source's outlets, cards, open rewards, points, keys, webhooks,
figures and team move to the business; each card is added to the customer's card there with a
ledger row on each side (reason ``merged``), so the source's history stays whole and the business's
balances say where they came from."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kartu.loyalty.errors import MergeRefused, UnknownMerchant
from kartu.loyalty.merging import MergePreview, later, role_after_merge
from kartu.loyalty.staff import Role
from kartu.loyalty.tally import MERGED
from kartu.services.access import require_owner
from kartu.services.base import ServiceBase
from kartu.services.tally import TallyService
from kartu.storage.models import LedgerEntry, Merchant
from kartu.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MergeDone:
    preview: MergePreview
    target_id: int


@dataclass(frozen=True)
class OwnedShop:
    merchant_id: int
    name: str


class MergeService(ServiceBase):
    async def candidates(self, owner_telegram_id: int) -> tuple[str, list[OwnedShop]]:
        """The business the owner acts for, and the other shops they own that could merge into it."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            shops = []
            for member in await uow.staff.workplaces(place.person.id):
                merchant = await uow.merchants.get(member.merchant_id)
                if (
                    member.role == Role.OWNER
                    and merchant is not None
                    and merchant.id != place.merchant.id
                    and merchant.merged_into_id is None
                ):
                    shops.append(OwnedShop(merchant.id, merchant.name))
            return place.merchant.name, shops

    async def preview(self, owner_telegram_id: int, source_id: int) -> MergePreview:
        """What merging ``source_id`` into the shop the owner acts for would do."""
        async with self.db.read() as uow:
            source, target = await self._pair_of_owner(uow, owner_telegram_id, source_id)
            return await self._preview(uow, source, target)

    async def merge(self, owner_telegram_id: int, source_id: int) -> MergeDone:
        """Merge ``source_id`` into the shop the owner acts for (they must own both)."""
        await TallyService(self.db, self.clock, self.settings).catch_up()  # the source's days, counted
        async with self.db.write() as uow:
            source, target = await self._pair_of_owner(uow, owner_telegram_id, source_id)
            return await self._merge(uow, source, target)

    async def preview_slugs(self, source_slug: str, target_slug: str) -> MergePreview:
        """The operator's preview (`kartu merchant merge SOURCE INTO`)."""
        async with self.db.read() as uow:
            source, target = await self._pair(uow, source_slug, target_slug)
            return await self._preview(uow, source, target)

    async def merge_slugs(self, source_slug: str, target_slug: str) -> MergeDone:
        """The operator's merge (`kartu merchant merge SOURCE INTO --yes`): the shops must share an owner."""
        await TallyService(self.db, self.clock, self.settings).catch_up()
        async with self.db.write() as uow:
            source, target = await self._pair(uow, source_slug, target_slug)
            return await self._merge(uow, source, target)

    async def _pair(self, uow: UnitOfWork, source_slug: str, target_slug: str) -> tuple[Merchant, Merchant]:
        source = await uow.merchants.by_slug(source_slug)
        target = await uow.merchants.by_slug(target_slug)
        if source is None or target is None:
            raise UnknownMerchant()
        self._checked(source, target)  # the operator hears first what is wrong with the pair
        if not set(await self._owners(uow, source.id)) & set(await self._owners(uow, target.id)):
            raise MergeRefused("owner")
        return source, target

    async def _pair_of_owner(
        self, uow: UnitOfWork, owner_telegram_id: int, source_id: int
    ) -> tuple[Merchant, Merchant]:
        place = await require_owner(uow, owner_telegram_id)  # the business: the shop they act for
        source = await uow.merchants.get(source_id)
        if source is None or place.person.id not in await self._owners(uow, source.id):
            raise MergeRefused("owner")  # someone else's shop looks like any shop they do not own
        return self._checked(source, place.merchant)

    @staticmethod
    def _checked(source: Merchant, target: Merchant) -> tuple[Merchant, Merchant]:
        if source.id == target.id:
            raise MergeRefused("same")
        if source.merged_into_id is not None or target.merged_into_id is not None:
            raise MergeRefused("merged")
        return source, target

    @staticmethod
    async def _owners(uow: UnitOfWork, merchant_id: int) -> list[int]:
        return [
            member.person_id for member, _ in await uow.staff.roster(merchant_id) if member.role == Role.OWNER
        ]

    async def _preview(self, uow: UnitOfWork, source: Merchant, target: Merchant) -> MergePreview:
        cards, both, stamps, points, rewards = await uow.merges.counts(source.id, target.id)
        outlets = tuple(outlet.name for outlet in await uow.merchants.outlets(source.id))
        target_owners = set(await self._owners(uow, target.id))
        team = [
            member
            for member in await uow.merges.team(source.id)
            if not (member.role == Role.OWNER and member.person_id in target_owners)
        ]
        return MergePreview(
            source.name, target.name, cards, both, stamps, points, rewards, outlets, len(team)
        )

    async def _merge(self, uow: UnitOfWork, source: Merchant, target: Merchant) -> MergeDone:
        now = self.clock.now()
        await uow.merges.lock(source.id, target.id)
        preview = await self._preview(uow, source, target)
        outlets = await uow.merges.move_outlets(source.id, target.id)
        first = outlets[0].id if outlets else None
        note = f"{source.name} → {target.name}"[:200]

        def row(
            merchant_id: int, person_id: int, asset: str, delta: int, key: str, reward_id: int | None = None
        ) -> LedgerEntry:
            return LedgerEntry(
                merchant_id=merchant_id,
                person_id=person_id,
                asset=asset,
                delta=delta,
                reason=MERGED,
                idempotency_key=f"merge:{source.id}:{target.id}:{key}",
                note=note,
                reward_id=reward_id,
                created_at=now,
            )

        for card in await uow.merges.cards(source.id):
            there, created = await uow.cards.get_or_add(target.id, card.person_id, now)
            if created:
                there.joined_at = card.joined_at
                there.joined_outlet_id = card.joined_outlet_id or first
                there.promotions_opt_out = card.promotions_opt_out
            moment = card.last_purchase_at
            if moment is not None and (there.last_purchase_at is None or moment >= there.last_purchase_at):
                there.last_outlet_id = card.last_outlet_id or first
            there.last_purchase_at = later(there.last_purchase_at, card.last_purchase_at)
            there.visits += card.visits
            # One ledger row on each side: the card's balance leaves the shop and joins the business's.
            for asset, held in (("stamp", card.stamps), ("point", card.points)):
                if held:
                    key = f"{card.person_id}:{asset}"
                    await uow.ledger.append(row(source.id, card.person_id, asset, -held, f"{key}:out"))
                    await uow.ledger.append(row(target.id, card.person_id, asset, held, f"{key}:in"))
            there.stamps += card.stamps
            there.points += card.points
            card.stamps, card.points = 0, 0
            uow.session.add_all([there, card])
        for reward in await uow.merges.move_open_rewards(source.id, target.id):
            key = f"reward:{reward.id}"
            await uow.ledger.append(row(source.id, reward.person_id, "reward", -1, f"{key}:out", reward.id))
            await uow.ledger.append(row(target.id, reward.person_id, "reward", 1, f"{key}:in", reward.id))
        await uow.merges.move_points(source.id, target.id)
        await uow.merges.move_keys_and_webhooks(source.id, target.id, first)
        await uow.tally.add(await uow.merges.move_figures(source.id, target.id))
        target_owners = set(await self._owners(uow, target.id))
        for member in await uow.merges.team(source.id):
            placed = role_after_merge(member.role, member.outlet_id, member.person_id in target_owners, first)
            member.revoked_at = now
            uow.session.add(member)
            if placed is not None and await uow.staff.active(target.id, member.person_id) is None:
                await uow.staff.add_or_restore(target.id, member.person_id, placed[0], now, placed[1])
        await uow.merges.repoint_people(source.id, target.id)
        source.merged_into_id = target.id
        uow.session.add(source)
        await uow.session.flush()
        log.info(
            "merged shop %s into %s: %s cards, %s held at both",
            source.id,
            target.id,
            preview.cards,
            preview.both,
        )
        return MergeDone(preview, target.id)
