"""Levels: owners set them up and give a level a private group; cards move up at a purchase and down
at a periodic review (after a reminder and a grace period); the group follows the level."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from kartu.loyalty.delivery import Category, Kind, QuietHours, next_allowed
from kartu.loyalty.errors import InvalidSetting, NotOwner, PromptClosed
from kartu.loyalty.numbers import parse_whole_number
from kartu.loyalty.points import PERMILLE
from kartu.loyalty.tiers import (
    GRACE_DAYS_MAX,
    MAX_TIERS,
    PERKS_MAX,
    REVIEW_EVERY,
    WINDOW_MONTHS_MAX,
    Basis,
    Move,
    after_refund,
    groups_for,
    parse_level,
    parse_multiplier,
    parse_threshold,
    parse_tier_name,
    rank,
    review,
    window_start,
)
from kartu.services.access import Workplace, require_member, require_owner
from kartu.services.base import ServiceBase, kinds_of
from kartu.storage.courier import Parcel
from kartu.storage.models import Merchant, Program, Tier, VipGroup
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class LevelView:
    tier_id: int
    name: str
    threshold: int
    multiplier_permille: int
    perks: str
    group_title: str | None
    members: int


@dataclass(frozen=True)
class LevelForm:
    """What a level's form asks: thresholds in visits or rupiah, a multiplier where the shop runs
    points, and the level as it is (when it is changed)."""

    basis: Basis
    runs_points: bool
    current: LevelView | None = None


@dataclass(frozen=True)
class TiersView:
    merchant_name: str
    basis: str
    window_months: int
    grace_days: int
    levels: tuple[LevelView, ...]


@dataclass(frozen=True)
class GroupAdded:
    """The bot became an admin of a group an owner added it to: ask them which level opens it."""

    owner_telegram_id: int
    language: str
    group_id: int
    title: str
    levels: tuple[LevelView, ...]


@dataclass(frozen=True)
class Moved:
    move: Move
    news: Parcel | None = None  # a move up at a purchase: its news, the courier's to send at once
    level_name: str = ""  # the level the card holds after the move ("" for none)


async def move_card(
    uow: UnitOfWork,
    now: datetime,
    merchant: Merchant,
    program: Program,
    person_id: int,
    *,
    periodic: bool = False,
    refunded: datetime | None = None,
) -> Moved | None:
    """Bring the customer's card to the level their window reaches: up at once (with the level's
    group invite), down only at a periodic review after a warning and the grace period (and out
    of the group), or at once when the refund of a purchase made at ``refunded`` takes back the
    level it reached. Writes the change and its news (a move up at a purchase written as the
    courier's, to go with the purchase's news); ``None`` when nothing changed."""
    if known_without_levels(merchant.id or 0):
        return None
    levels = await uow.tiers.levels(merchant.id or 0)
    _has_levels[merchant.id or 0] = (time.monotonic(), bool(levels))
    if not levels:
        return None
    card = await uow.cards.get(merchant.id or 0, person_id, lock=True)
    if card is None:
        return None
    basis = Basis(program.tier_basis)
    measure = await uow.tiers.measure(
        merchant.id or 0, person_id, basis, window_start(now, program.tier_window_months)
    )
    if refunded is not None:
        outcome = after_refund(levels, card.tier_id, measure, card.tier_since, refunded)
    else:
        outcome = review(
            levels,
            card.tier_id,
            measure,
            now,
            card.tier_grace_until,
            timedelta(days=program.tier_grace_days),
            periodic=periodic,
        )
    if periodic:
        card.tier_reviewed_at = now
    before = next((level for level in levels if level.id == card.tier_id), None)
    params: dict[str, object] = {"basis": basis.value}
    match outcome.move:
        case Move.KEEP:
            card.tier_grace_until = outcome.grace_until  # None once back at the level
            uow.session.add(card)
            await uow.session.flush()
            return None
        case Move.WARN:
            card.tier_grace_until = outcome.grace_until
            assert outcome.grace_until is not None and before is not None
            params.update(
                move="warn", tier=before.name, missing=outcome.missing, until=outcome.grace_until.isoformat()
            )
        case Move.UP | Move.DOWN:
            after = outcome.level
            card.tier_id = after.id if after is not None else None
            card.tier_since, card.tier_grace_until = now, None
            params.update(
                move=outcome.move.value,
                tier=after.name if after else "",
                previous=before.name if before else "",
                multiplier=after.multiplier_permille if after else 1000,
                perks=after.perks if after else "",
            )
            now_in = groups_for(levels, after.id if after else None)
            was_in = groups_for(levels, before.id if before else None)
            params["invite_chats"] = [chat for chat in now_in if chat not in was_in]
            params["remove_chats"] = [chat for chat in was_in if chat not in now_in]
    uow.session.add(card)
    await uow.session.flush()
    category = Category.RESULT if outcome.move is Move.UP else Category.SERVICE
    quiet = QuietHours.parse(merchant.quiet_hours)
    person = await uow.people.get(person_id)
    assert person is not None
    news = await uow.counter.enqueue(
        key=f"tier:{card.id}:{outcome.move.value}:{card.tier_id}:{now.isoformat()}",
        kind=Kind.TIER_CHANGE,
        category=category,
        chat_id=person.telegram_id,
        person_id=person_id,
        merchant_id=merchant.id,
        subject_id=card.id,
        params=params,
        now=now,
        not_before=next_allowed(now, merchant.timezone, quiet, category),
        taken=not periodic,
    )
    held = next((level for level in levels if level.id == card.tier_id), None)
    return Moved(outcome.move, news, held.name if held else "")


_HAS_LEVELS_TTL = 30.0  # seconds a shop's "has levels" answer is kept (the counter asks on every purchase)
# Shared by this process's services (the counter's and the owner's): an owner's change clears it at
# once here; another process sees it within the TTL.
_has_levels: dict[int, tuple[float, bool]] = {}


def known_without_levels(merchant_id: int) -> bool:
    """This process learnt in the last 30 s that the shop has no levels (the hot paths skip them)."""
    known = _has_levels.get(merchant_id)
    return known is not None and not known[1] and time.monotonic() - known[0] < _HAS_LEVELS_TTL


class TierService(ServiceBase):
    def _views(self, tiers: list[Tier], counts: dict[int, int]) -> tuple[LevelView, ...]:
        return tuple(
            LevelView(
                tier.id or 0,
                tier.name,
                tier.threshold,
                tier.multiplier_permille,
                tier.perks,
                tier.group_title if tier.group_chat_id else None,
                counts.get(tier.id or 0, 0),
            )
            for tier in tiers
        )

    async def _view(self, uow: UnitOfWork, place: Workplace) -> TiersView:
        program = place.program
        tiers = list(await uow.tiers.all(place.merchant.id or 0))
        return TiersView(
            place.merchant.name,
            program.tier_basis,
            program.tier_window_months,
            program.tier_grace_days,
            self._views(tiers, await uow.tiers.counts(place.merchant.id or 0)),
        )

    async def levels(self, owner_telegram_id: int) -> TiersView:
        async with self.db.read() as uow:
            return await self._view(uow, await require_owner(uow, owner_telegram_id))

    async def level_form(self, owner_telegram_id: int, tier_id: int = 0) -> LevelForm:
        """What a level's form asks this shop: the basis its thresholds are in, a multiplier where
        it runs points, the level as it is when it is changed (the owner check first)."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            current = None
            if tier_id:
                tier = await uow.tiers.get(tier_id, place.merchant.id or 0)
                if tier is None:
                    raise PromptClosed("missing")
                current = self._views([tier], {})[0]
            return LevelForm(Basis(place.program.tier_basis), kinds_of(place.program).points, current)

    async def check_level_field(self, owner_telegram_id: int, field: str, text: str) -> object:
        """One answer of a level's form, as the domain reads it (refused as it would be saved)."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            match field:
                case "name":
                    return parse_tier_name(text)
                case "threshold":
                    return parse_threshold(text, Basis(place.program.tier_basis))
                case "multiplier":
                    return parse_multiplier(text) if text.strip() not in ("", "-") else PERMILLE
        raise InvalidSetting(field)

    async def save_level(
        self, owner_telegram_id: int, tier_id: int, name: str, threshold_text: str, multiplier_text: str
    ) -> TiersView:
        """A new level (``tier_id`` 0), or a change of one, from its form's answers."""
        async with self.db.read() as uow:
            basis = Basis((await require_owner(uow, owner_telegram_id)).program.tier_basis)
        threshold = parse_threshold(threshold_text, basis)
        multiplier = (
            parse_multiplier(multiplier_text) if multiplier_text.strip() not in ("", "-") else PERMILLE
        )
        if tier_id:
            return await self._change(
                owner_telegram_id, tier_id, parse_tier_name(name), threshold, multiplier
            )
        return await self._add(owner_telegram_id, parse_tier_name(name), threshold, multiplier)

    async def add(self, owner_telegram_id: int, text: str) -> TiersView:
        """``Gold; 1.000.000; 1.5``, in one line."""
        async with self.db.read() as uow:
            basis = Basis((await require_owner(uow, owner_telegram_id)).program.tier_basis)
        return await self._add(owner_telegram_id, *parse_level(text, basis))

    async def _add(self, owner_telegram_id: int, name: str, threshold: int, multiplier: int) -> TiersView:
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            tiers = await uow.tiers.all(place.merchant.id or 0)
            if len(tiers) >= MAX_TIERS:
                raise InvalidSetting("levels", 1, MAX_TIERS)
            if any(tier.threshold == threshold for tier in tiers):
                raise InvalidSetting("level_threshold_taken")
            await uow.tiers.save(
                Tier(
                    merchant_id=place.merchant.id or 0,
                    name=name,
                    threshold=threshold,
                    multiplier_permille=multiplier,
                    created_at=self.clock.now(),
                )
            )
            self._forget(place.merchant.id or 0)
            return await self._view(uow, place)

    async def _tier(self, uow: UnitOfWork, owner_telegram_id: int, tier_id: int) -> tuple[Workplace, Tier]:
        place = await require_owner(uow, owner_telegram_id)
        tier = await uow.tiers.get(tier_id, place.merchant.id or 0)
        if tier is None:
            raise PromptClosed("missing")
        return place, tier

    async def change(self, owner_telegram_id: int, tier_id: int, text: str) -> TiersView:
        """``Gold; 1.000.000; 1.5``, in one line."""
        async with self.db.read() as uow:
            basis = Basis((await require_owner(uow, owner_telegram_id)).program.tier_basis)
        return await self._change(owner_telegram_id, tier_id, *parse_level(text, basis))

    async def _change(
        self, owner_telegram_id: int, tier_id: int, name: str, threshold: int, multiplier: int
    ) -> TiersView:
        async with self.db.write() as uow:
            place, tier = await self._tier(uow, owner_telegram_id, tier_id)
            tier.name, tier.threshold, tier.multiplier_permille = name, threshold, multiplier
            await uow.tiers.save(tier)
            return await self._view(uow, place)

    async def set_perks(self, owner_telegram_id: int, tier_id: int, text: str) -> TiersView:
        perks = " ".join((text or "").split())
        if len(perks) > PERKS_MAX:
            raise InvalidSetting("perks", 0, PERKS_MAX)
        async with self.db.write() as uow:
            place, tier = await self._tier(uow, owner_telegram_id, tier_id)
            tier.perks = "" if perks in ("-", "—") else perks
            await uow.tiers.save(tier)
            return await self._view(uow, place)

    async def delete(self, owner_telegram_id: int, tier_id: int) -> TiersView:
        async with self.db.write() as uow:
            place, tier = await self._tier(uow, owner_telegram_id, tier_id)
            tier.deleted_at = self.clock.now()
            await uow.tiers.save(tier)
            await uow.tiers.forget_level(tier.id or 0)
            self._forget(place.merchant.id or 0)
            return await self._view(uow, place)

    async def toggle_basis(self, owner_telegram_id: int) -> TiersView:
        """Levels by spend instead of visits, or back."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            spend = Basis(place.program.tier_basis) is Basis.SPEND
            place.program.tier_basis = (Basis.VISITS if spend else Basis.SPEND).value
            await uow.programs.save(place.program)
            return await self._view(uow, place)

    async def set_basis(self, owner_telegram_id: int, basis: str) -> TiersView:
        """Levels by visits or by spend; thresholds stay as numbers, so the owner revisits them."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            place.program.tier_basis = Basis(basis).value
            await uow.programs.save(place.program)
            return await self._view(uow, place)

    async def level(self, owner_telegram_id: int, tier_id: int) -> LevelView:
        async with self.db.read() as uow:
            place, tier = await self._tier(uow, owner_telegram_id, tier_id)
            counts = await uow.tiers.counts(place.merchant.id or 0)
            return self._views([tier], counts)[0]

    async def set_window(self, owner_telegram_id: int, text: str) -> TiersView:
        months = parse_whole_number(text, 1, WINDOW_MONTHS_MAX)
        if months is None:
            raise InvalidSetting("tier_window_months", 1, WINDOW_MONTHS_MAX)
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            place.program.tier_window_months = months
            await uow.programs.save(place.program)
            return await self._view(uow, place)

    async def set_grace(self, owner_telegram_id: int, text: str) -> TiersView:
        days = parse_whole_number(text, 0, GRACE_DAYS_MAX)
        if days is None:
            raise InvalidSetting("tier_grace_days", 0, GRACE_DAYS_MAX)
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            place.program.tier_grace_days = days
            await uow.programs.save(place.program)
            return await self._view(uow, place)

    # -- the counter and the sweep ----------------------------------------------------------------

    def _forget(self, merchant_id: int) -> None:
        _has_levels.pop(merchant_id, None)

    async def review_all(self, merchant: Merchant, program: Program) -> int:
        """The periodic review: each card holding a level, once a day; a warning before a level is
        lost, then the move down after the grace period. The number of cards that changed."""
        now, moved = self.clock.now(), 0
        while True:
            async with self.db.read() as uow:
                due = await uow.tiers.due_for_review(merchant.id or 0, now - REVIEW_EVERY)
            if not due:
                return moved
            for person_id in due:
                async with self.db.write() as uow:
                    if await move_card(uow, now, merchant, program, person_id, periodic=True) is not None:
                        moved += 1

    # -- private groups -----------------------------------------------------------------------------

    async def group_added(self, telegram_id: int, chat_id: int, title: str) -> GroupAdded | None:
        """The bot was made an admin of a group by ``telegram_id``: when that is an owner, remember
        the group for their shop and ask which level opens it; anyone else: ignore it."""
        async with self.db.write() as uow:
            try:
                place = await require_owner(uow, telegram_id)
            except NotOwner:
                return None
            group = await uow.tiers.add_group(
                VipGroup(
                    chat_id=chat_id,
                    title=title[:128],
                    merchant_id=place.merchant.id or 0,
                    added_by_person_id=place.person.id or 0,
                    added_at=self.clock.now(),
                )
            )
            view = await self._view(uow, place)
            return GroupAdded(
                telegram_id, self.language_of(place.person), group.id or 0, group.title, view.levels
            )

    async def link_group(self, owner_telegram_id: int, group_id: int, tier_id: int) -> TiersView:
        """The owner gives the group to a level: its members and those above get an invite."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place, tier = await self._tier(uow, owner_telegram_id, tier_id)
            group = await uow.tiers.group(group_id)
            if group is None or group.merchant_id != place.merchant.id:
                raise PromptClosed("missing")
            for other in await uow.tiers.all(place.merchant.id or 0):  # a group opens to one level
                if other.group_chat_id == group.chat_id and other.id != tier.id:
                    other.group_chat_id, other.group_title = None, None
                    await uow.tiers.save(other)
            tier.group_chat_id, tier.group_title = group.chat_id, group.title
            await uow.tiers.save(tier)
            tiers = await uow.tiers.all(place.merchant.id or 0)
            opened = [other.id or 0 for other in tiers if other.threshold >= tier.threshold]
            for card in await uow.tiers.holders(place.merchant.id or 0, opened):
                person = await uow.people.get(card.person_id)
                if person is None:
                    continue
                await uow.outbox.enqueue(
                    key=f"tier-group:{card.id}:{group.chat_id}:{now.isoformat()}",
                    kind=Kind.TIER_CHANGE,
                    category=Category.SERVICE,
                    chat_id=person.telegram_id,
                    person_id=person.id,
                    merchant_id=place.merchant.id,
                    subject_id=card.id,
                    params={"move": "group", "tier": tier.name, "invite_chats": [group.chat_id]},
                    now=now,
                    not_before=now,
                )
            return await self._view(uow, place)

    async def group_for(self, telegram_id: int, tier_id: int) -> int:
        """The group of level ``tier_id`` for a customer asking to join it from /card: its chat id,
        when their level opens it (``PromptClosed`` otherwise: a level lost, a group gone)."""
        async with self.db.read() as uow:
            person, merchant, card = await require_member(uow, telegram_id)
            tier = await uow.tiers.get(tier_id, merchant.id or 0)
            if tier is None or tier.group_chat_id is None:
                raise PromptClosed("missing")
            if tier.group_chat_id not in {
                chat for _, chat, _ in await uow.tiers.open_groups(merchant.id or 0, card.tier_id)
            }:
                raise PromptClosed("missing")
            return tier.group_chat_id

    async def group_lost(self, chat_id: int) -> None:
        """The bot left a group or is no longer its admin: the level no longer opens it."""
        async with self.db.write() as uow:
            await uow.tiers.drop_group(chat_id)

    async def may_join(self, chat_id: int, telegram_id: int) -> bool:
        """Someone joined a level's group: may they be there (they hold that level or one above)?
        Groups Kartu does not manage: anyone may."""
        async with self.db.read() as uow:
            tier = await uow.tiers.by_group(chat_id)
            if tier is None:
                return True
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None:
                return False
            if await uow.staff.active(tier.merchant_id, person.id or 0) is not None:  # the team manages it
                return True
            card = await uow.cards.get(tier.merchant_id, person.id or 0)
            if card is None or card.tier_id is None:
                return False
            levels = await uow.tiers.levels(tier.merchant_id)
            return rank(levels, card.tier_id) >= rank(levels, tier.id)
