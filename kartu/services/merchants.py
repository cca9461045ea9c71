"""Running a merchant: creating it, its team and its program."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime

from kartu.loyalty.bonuses import BONUS_LIMITS, change_bonus_setting
from kartu.loyalty.codes import new_personal_code
from kartu.loyalty.errors import (
    DuplicateMerchantName,
    NotAdmin,
    NotOwner,
    OtherOutlet,
    ProgramChangeAffectsCards,
    PromptClosed,
    UnknownMerchant,
)
from kartu.loyalty.kinds import Kinds, Leftover, Switch, after_switch, parse_rate, plan_switch
from kartu.loyalty.links import new_invite_token, slugify
from kartu.loyalty.points import POINTS_COLUMNS, batch_expiry, change_points_setting
from kartu.loyalty.program import (
    MERCHANT_SETTINGS,
    ProgramRules,
    capped_balance,
    change_setting,
    default_rules,
    parse_quiet_hours,
)
from kartu.loyalty.staff import INVITE_TTL, Role, where_name
from kartu.services.access import (
    Workplace,
    acting_member,
    keep_an_owner,
    require_lead,
    require_owner,
    require_staff,
)
from kartu.services.base import ServiceBase, kinds_of, points_rules_of, rules_of
from kartu.services.views import MenuView, Recipient
from kartu.storage.models import LedgerEntry, Merchant, Outlet, Person, Program, StaffInvite, StaffMember
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class KindsPreview:
    """A switch of kinds as the owner sees it before it is made, and the program as it is."""

    switch: Switch
    program: ProgramView


@dataclass(frozen=True)
class RemovedMember:
    first_name: str
    recipient: Recipient  # told that they were removed
    merchant_name: str


@dataclass(frozen=True)
class WorkplaceEntry:
    merchant_id: int
    merchant_name: str
    role: str
    acting: bool
    outlet: str | None = None  # where they work now, in a business with several outlets
    outlet_id: int | None = None
    # The outlets a member of every outlet may switch to (id, name); none for a member of one.
    outlets: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class StaffEntry:
    staff_id: int
    first_name: str
    username: str | None
    role: str
    last_active_at: datetime | None
    telegram_id: int | None = None
    locked: bool = False  # code entry locked after too many unknown codes
    added_at: datetime | None = None
    outlet: str | None = None  # the outlet they belong to, in a business with several (None: every one)


@dataclass(frozen=True)
class TeamView:
    merchant_name: str
    timezone: str
    members: tuple[StaffEntry, ...]
    viewer_staff_id: int = 0  # the owner looking at the team: no "remove" button for themselves
    viewer_role: str = Role.OWNER  # a manager sees and invites their outlet's staff only
    outlets: tuple[tuple[int, str], ...] = ()  # the business's (id, name), for invites to one of several
    scope: str | None = None  # a manager's outlet


@dataclass(frozen=True)
class ProgramView:
    merchant_name: str
    stamps_required: int
    reward_name: str
    stamps_per_purchase: int
    daily_stamp_cap: int
    stamp_expiry_days: int
    reward_valid_days: int
    reminder_days: str
    survey_delay_minutes: int
    survey_every_days: int
    quiet_hours: str = "21:00-08:00"
    stamps_enabled: bool = True
    points_enabled: bool = False
    rupiah_per_point: int = 10_000
    points_minimum_spend: int = 0
    points_expiry_months: int = 12
    max_amount: int = 100_000_000
    return_hours: int = 24
    welcome_bonus: int = 0
    birthday_bonus: int = 0
    referral_bonus: int = 0
    referral_monthly_cap: int = 5
    referral_hold_days: int = 7


@dataclass(frozen=True)
class MerchantCreated:
    merchant_id: int
    slug: str
    name: str
    owner_invite_token: str | None
    owner_telegram_id: int | None = None
    owner_for_username: str | None = None  # the owner link works only for this @username

    @property
    def owner(self) -> OwnerAdded:
        return OwnerAdded(self.owner_telegram_id, self.owner_invite_token, self.owner_for_username)


@dataclass(frozen=True)
class JoinInfo:
    merchant_name: str
    slug: str
    stamps_required: int
    reward_name: str
    outlets: tuple[tuple[str, str], ...] = ()  # (name, slug) of each outlet, first made first


@dataclass(frozen=True)
class OwnerAdded:
    """An owner set at once (``telegram_id``), or a one-time owner link (``invite_token``)."""

    telegram_id: int | None = None
    invite_token: str | None = None
    for_username: str | None = None


@dataclass(frozen=True)
class MerchantUpdated:
    slug: str
    name: str
    timezone: str
    owner: OwnerAdded


@dataclass(frozen=True)
class MerchantSummary:
    slug: str
    name: str
    timezone: str
    owners: int
    members: int
    created_at: datetime


MERCHANT_NAME_MAX = 64


@dataclass(frozen=True)
class OutletView:
    slug: str
    name: str
    business: str
    address: str
    timezone: str
    location: tuple[float, float] | None

    @classmethod
    def of(cls, outlet: Outlet, business: Merchant) -> OutletView:
        location = (
            (outlet.latitude, outlet.longitude)
            if outlet.latitude is not None and outlet.longitude is not None
            else None
        )
        return cls(outlet.slug, outlet.name, business.name, outlet.address, outlet.timezone, location)


class MerchantService(ServiceBase):
    async def shop_by_code(self, slug: str) -> str | None:
        """The name of the shop whose join code is ``slug`` (its link's), if there is one."""
        async with self.db.read() as uow:
            found = await uow.merchants.joinable(slug)  # an outlet's code joins its business
            if found is None:
                return None
            business, outlet_id = found
            outlet = next((o for o in await uow.merchants.outlets(business.id) if o.id == outlet_id), None)
            return where_name(business.name, outlet.name if outlet else None, 2)

    async def outlets(self, slug: str) -> list[OutletView]:
        """A business's outlets, first made first (`kartu merchant outlet list`)."""
        async with self.db.read() as uow:
            merchant = await uow.merchants.by_slug(slug)
            if merchant is None:
                raise ValueError(f"no merchant with the slug {slug!r}")
            return [OutletView.of(outlet, merchant) for outlet in await uow.merchants.outlets(merchant.id)]

    async def add_outlet(
        self,
        slug: str,
        name: str,
        *,
        address: str = "",
        timezone: str | None = None,
        location: tuple[float, float] | None = None,
    ) -> OutletView:
        """A new branch of the business ``slug`` (its slug: the business's and the branch's name)."""
        name = " ".join((name or "").split())[:MERCHANT_NAME_MAX]
        if not name:
            raise ValueError("an outlet needs a name")
        async with self.db.write() as uow:
            merchant = await uow.merchants.by_slug(slug)
            if merchant is None:
                raise ValueError(f"no merchant with the slug {slug!r}")
            if any(
                outlet.name.lower() == name.lower() for outlet in await uow.merchants.outlets(merchant.id)
            ):
                raise ValueError(f"{merchant.name} already has an outlet named {name!r}")
            base = slugify(f"{merchant.slug} {name}")
            outlet_slug, number = base, 1
            while await uow.merchants.outlet_by_slug(outlet_slug) is not None:
                number += 1
                outlet_slug = f"{base[:36]}-{number}"
            outlet = Outlet(
                merchant_id=merchant.id,
                slug=outlet_slug,
                name=name,
                address=" ".join(address.split())[:200],
                timezone=timezone or merchant.timezone,
                latitude=location[0] if location else None,
                longitude=location[1] if location else None,
                created_at=self.clock.now(),
            )
            await uow.merchants.save_outlet(outlet)
            return OutletView.of(outlet, merchant)

    async def update_outlet(
        self,
        outlet_slug: str,
        *,
        name: str | None = None,
        address: str | None = None,
        timezone: str | None = None,
        location: tuple[float, float] | None = None,
    ) -> OutletView:
        """Rename a branch, or change its address, map location or time zone (its slug stays)."""
        async with self.db.write() as uow:
            outlet = await uow.merchants.outlet_by_slug(outlet_slug)
            merchant = await uow.merchants.get(outlet.merchant_id) if outlet else None
            if outlet is None or merchant is None:
                raise ValueError(f"no outlet with the slug {outlet_slug!r}")
            if name is not None:
                cleaned = " ".join(name.split())[:MERCHANT_NAME_MAX]
                if not cleaned:
                    raise ValueError("an outlet needs a name")
                outlet.name = cleaned
            if address is not None:
                outlet.address = " ".join(address.split())[:200]
            if timezone is not None:
                outlet.timezone = timezone
            if location is not None:
                outlet.latitude, outlet.longitude = location
            await uow.merchants.save_outlet(outlet)
            return OutletView.of(outlet, merchant)

    async def _unique_slug(self, uow: UnitOfWork, name: str) -> str:
        base = slugify(name)
        slug, number = base, 1
        while await uow.merchants.slug_taken(slug):
            number += 1
            slug = f"{base[:36]}-{number}"
        return slug

    async def _new_invite(
        self,
        uow: UnitOfWork,
        merchant_id: int,
        role: str,
        created_by: int | None,
        for_username: str | None = None,
        outlet_id: int | None = None,
    ) -> str:
        now = self.clock.now()
        invite = await uow.invites.add_with_unique_token(
            lambda: StaffInvite(
                token=new_invite_token(),
                merchant_id=merchant_id,
                role=role,
                created_by_person_id=created_by,
                created_at=now,
                expires_at=now + INVITE_TTL,
                for_username=for_username,
                outlet_id=outlet_id,
            )
        )
        return invite.token

    async def create_merchant(
        self,
        name: str,
        owner_telegram_id: int | None = None,
        *,
        owner_username: str | None = None,
        requested_by: int | None = None,
        rules: ProgramRules | None = None,
        timezone: str | None = None,
        language: str | None = None,
        allow_same_name: bool = True,
    ) -> MerchantCreated:
        """A merchant with the default stamp program (its reward named in ``language``).

        The owner is a Telegram id, an @username (someone who already wrote to the bot becomes
        owner at once; anyone else gets a link only that username can use), or nobody yet: then
        the result carries a one-time owner link for the next person who opens it.
        ``allow_same_name=False`` refuses a name another shop already has (`DuplicateMerchantName`).
        """
        if requested_by is not None and requested_by not in self.settings.admin_ids:
            raise NotAdmin()
        name = " ".join((name or "").split())[:MERCHANT_NAME_MAX]
        if not name:
            raise ValueError("a merchant needs a name")
        rules = rules or default_rules(language or self.settings.default_language)
        now = self.clock.now()
        async with self.db.write() as uow:
            if not allow_same_name and (twin := await uow.merchants.by_name(name)) is not None:
                raise DuplicateMerchantName(twin.slug)
            merchant = await uow.merchants.add(
                Merchant(
                    slug=await self._unique_slug(uow, name),
                    name=name,
                    timezone=timezone or self.settings.default_timezone,
                    created_at=now,
                ),
                Program(**asdict(rules), updated_at=now),
            )
            creator = await uow.people.by_telegram_id(requested_by) if requested_by else None
            owner = await self._add_owner(uow, merchant, owner_telegram_id, owner_username, creator)
            return MerchantCreated(
                merchant.id,
                merchant.slug,
                merchant.name,
                owner.invite_token,
                owner.telegram_id,
                owner.for_username,
            )

    async def _add_owner(
        self,
        uow: UnitOfWork,
        merchant: Merchant,
        telegram_id: int | None,
        username: str | None,
        creator: Person | None,
    ) -> OwnerAdded:
        now = self.clock.now()
        handle = (username or "").strip().lstrip("@").lower() or None
        if telegram_id is None and handle is not None:
            known = await uow.people.by_username(handle)
            telegram_id = known.telegram_id if known is not None else None
        if telegram_id is not None:
            owner = await uow.people.by_telegram_id(telegram_id)
            if owner is None:
                owner = await uow.people.add_with_unique_code(
                    lambda: Person(telegram_id=telegram_id, personal_code=new_personal_code(), created_at=now)
                )
            await uow.staff.add_or_restore(merchant.id, owner.id, Role.OWNER, now)
            return OwnerAdded(telegram_id=telegram_id)
        token = await self._new_invite(
            uow, merchant.id, Role.OWNER, creator.id if creator else None, for_username=handle
        )
        return OwnerAdded(invite_token=token, for_username=handle)

    async def update_merchant(
        self,
        slug: str,
        *,
        name: str | None = None,
        timezone: str | None = None,
        owner_telegram_id: int | None = None,
        owner_username: str | None = None,
        owner_link: bool = False,
    ) -> MerchantUpdated:
        """The operator renames a shop, moves its time zone or adds an owner (`kartu merchant update`)."""
        async with self.db.write() as uow:
            merchant = await uow.merchants.by_slug(slug)
            if merchant is None:
                raise UnknownMerchant()
            if name is not None:
                name = " ".join(name.split())[:MERCHANT_NAME_MAX]
                if not name:
                    raise ValueError("a merchant needs a name")
                merchant.name = name
            if timezone is not None:
                merchant.timezone = timezone
            await uow.merchants.save(merchant)
            owner = OwnerAdded()
            if owner_telegram_id is not None or owner_username or owner_link:
                owner = await self._add_owner(uow, merchant, owner_telegram_id, owner_username, None)
            return MerchantUpdated(merchant.slug, merchant.name, merchant.timezone, owner)

    async def directory(self) -> list[MerchantSummary]:
        """Every shop on this bot (`kartu merchant list`)."""
        async with self.db.read() as uow:
            return [
                MerchantSummary(
                    merchant.slug, merchant.name, merchant.timezone, owners, members, merchant.created_at
                )
                for merchant, owners, members in await uow.merchants.directory()
            ]

    async def invite_staff(
        self, owner_telegram_id: int, role: str = Role.STAFF, outlet_id: int | None = None
    ) -> str:
        """A one-time invite token (valid 24 h) for a staff member, an outlet's manager or a second
        owner. Staff belong to ``outlet_id`` (``None``: every outlet), a manager to one outlet;
        an outlet's manager invites staff of their own outlet only."""
        async with self.db.write() as uow:
            place = await require_lead(uow, owner_telegram_id)
            role = Role(role)
            if place.member.role == Role.MANAGER:
                if role != Role.STAFF:
                    raise NotOwner()
                outlet_id = place.scope
            outlets = [outlet.id for outlet in place.outlets]
            if role == Role.OWNER:
                outlet_id = None
            elif outlet_id is not None and outlet_id not in outlets:
                raise OtherOutlet()
            elif role == Role.MANAGER and outlet_id is None:
                if len(outlets) != 1:
                    raise OtherOutlet()
                outlet_id = outlets[0]
            return await self._new_invite(uow, place.merchant.id, role, place.person.id, outlet_id=outlet_id)

    async def team(self, owner_telegram_id: int) -> TeamView:
        """The team as its lead sees it: an owner the whole business's, with each member's outlet;
        a manager their outlet's."""
        async with self.db.read() as uow:
            place = await require_lead(uow, owner_telegram_id)
            names = {outlet.id: outlet.name for outlet in place.outlets}
            several = len(place.outlets) > 1
            members = tuple(
                StaffEntry(
                    member.id,
                    person.first_name,
                    person.username,
                    member.role,
                    member.last_active_at,
                    locked=member.locked_at is not None,
                    added_at=member.added_at,
                    outlet=names.get(member.outlet_id) if several and member.outlet_id else None,
                )
                for member, person in await uow.staff.roster(place.merchant.id)
                if place.scope is None or member.outlet_id == place.scope
            )
            return TeamView(
                place.where if place.scope is not None else place.merchant.name,
                place.merchant.timezone,
                members,
                place.member.id,
                place.member.role,
                tuple(names.items()),
                names.get(place.scope) if place.scope is not None else None,
            )

    async def _team_member(
        self, uow: UnitOfWork, owner_telegram_id: int, staff_id: int
    ) -> tuple[Workplace, StaffMember, Person]:
        """A member of the lead's team: any of the business's for an owner; for a manager, staff of
        their own outlet (`OtherOutlet` for anyone else: owners, other managers, other outlets)."""
        place = await require_lead(uow, owner_telegram_id)
        member = await uow.staff.get(staff_id)
        person = await uow.people.get(member.person_id) if member is not None else None
        if (
            member is None
            or person is None
            or member.merchant_id != place.merchant.id
            or member.revoked_at is not None
        ):
            raise PromptClosed("missing")
        if place.scope is not None and (member.outlet_id != place.scope or member.role != Role.STAFF):
            raise OtherOutlet()
        return place, member, person

    async def member_name(self, owner_telegram_id: int, staff_id: int) -> str:
        """Who the owner is about to remove (for the confirmation)."""
        async with self.db.read() as uow:
            _, _, person = await self._team_member(uow, owner_telegram_id, staff_id)
            return person.first_name

    async def revoke_staff(self, owner_telegram_id: int, staff_id: int) -> RemovedMember:
        """Remove a staff member or a co-owner from the team (after the owner confirmed). The
        last owner cannot be removed (nor remove themselves)."""
        async with self.db.write() as uow:
            place, member, person = await self._team_member(uow, owner_telegram_id, staff_id)
            await self._remove(uow, member)
            return RemovedMember(person.first_name, self.recipient(person), place.merchant.name)

    async def unlock_staff(self, owner_telegram_id: int, staff_id: int) -> str:
        """Let a staff member type codes again after a lock-out; returns their first name."""
        async with self.db.write() as uow:
            _, member, person = await self._team_member(uow, owner_telegram_id, staff_id)
            if member.locked_at is None:
                raise PromptClosed("missing")
            await uow.staff.unlock(member.id)
            return person.first_name

    async def _remove(self, uow: UnitOfWork, member: StaffMember) -> str:
        if member.role == Role.OWNER:
            await keep_an_owner(uow, member.merchant_id)
        person = await uow.people.get(member.person_id)
        await uow.staff.revoke(member.id, self.clock.now())
        return person.first_name if person else ""

    async def owners(self, slug: str) -> list[StaffEntry]:
        """The owners of a shop (`kartu merchant owners`)."""
        async with self.db.read() as uow:
            merchant = await uow.merchants.by_slug(slug)
            if merchant is None:
                raise UnknownMerchant()
            return [
                StaffEntry(
                    member.id,
                    person.first_name,
                    person.username,
                    member.role,
                    member.last_active_at,
                    person.telegram_id,
                )
                for member, person in await uow.staff.roster(merchant.id)
                if member.role == Role.OWNER
            ]

    async def remove_owner(self, slug: str, telegram_id: int) -> str:
        """The operator removes an owner (`kartu merchant remove-owner`); never the last one."""
        async with self.db.write() as uow:
            merchant = await uow.merchants.by_slug(slug)
            person = await uow.people.by_telegram_id(telegram_id)
            if merchant is None:
                raise UnknownMerchant()
            member = await uow.staff.active(merchant.id, person.id) if person is not None else None
            if member is None or member.role != Role.OWNER:
                raise NotOwner()
            return await self._remove(uow, member)

    async def menu(self, telegram_id: int, as_customer: bool = False) -> MenuView:
        """The screens this person gets: the role of the shop they act for, else the customer's."""
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None:
                return MenuView.of(None, has_card=False)
            member = acting_member(person, await uow.staff.workplaces(person.id))
            role = member.role if member is not None else None
            shop = (
                person.current_merchant_id
                if role is None or as_customer
                else member.merchant_id
                if member
                else None
            )
            kinds = kinds_of(await uow.programs.for_merchant(shop)) if shop is not None else Kinds()
            return MenuView.of(role, person.current_merchant_id is not None, as_customer, kinds)

    async def workplaces(self, telegram_id: int) -> list[WorkplaceEntry]:
        """The shops a person works at, marking the one they act for (/shop)."""
        async with self.db.read() as uow:
            place = await require_staff(uow, telegram_id)
            entries = []
            for person, member, merchant, program in reversed(await uow.staff.places_of_user(telegram_id)):
                outlets = tuple(await uow.merchants.outlets(merchant.id))  # oldest shop first
                here = Workplace(person, member, merchant, program, outlets)
                several = len(here.outlets) > 1
                entries.append(
                    WorkplaceEntry(
                        here.merchant.id,
                        here.merchant.name,
                        member.role,
                        here.merchant.id == place.merchant.id,
                        here.outlet.name if several and here.outlet else None,
                        here.outlet_id if several else None,
                        tuple((o.id, o.name) for o in here.outlets)
                        if several and member.outlet_id is None
                        else (),
                    )
                )
            return entries

    async def act_for(self, telegram_id: int, merchant_id: int, outlet_id: int = 0) -> str:
        """From now on, this person's prompts and owner commands are for ``merchant_id`` (and, for a
        member of every outlet, their purchases are recorded at ``outlet_id``); returns where."""
        async with self.db.write() as uow:
            place = await require_staff(uow, telegram_id, merchant_id)  # NotStaff unless they work there
            if outlet_id:
                if place.member.outlet_id is not None or outlet_id not in [o.id for o in place.outlets]:
                    raise OtherOutlet()  # a member of one outlet works there only
                await uow.staff.work_at(place.member.id, outlet_id)
                place = await require_staff(uow, telegram_id, merchant_id)
            place.person.acting_merchant_id = place.merchant.id
            await uow.people.save(place.person)
            return place.where

    async def join_info(self, owner_telegram_id: int) -> JoinInfo:
        """What the acting shop's join link and counter poster say."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            program = await uow.programs.for_merchant(place.merchant.id)
            outlets = tuple((o.name, o.slug) for o in await uow.merchants.outlets(place.merchant.id))
            return JoinInfo(
                place.merchant.name,
                place.merchant.slug,
                program.stamps_required,
                program.reward_name,
                outlets,
            )

    async def program(self, owner_telegram_id: int) -> ProgramView:
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            program = await uow.programs.for_merchant(place.merchant.id)
            return _program_view(place.merchant, program)

    async def _switch(self, uow: UnitOfWork, place: Workplace, stamps: bool, points: bool) -> Switch:
        program = await uow.programs.for_merchant(place.merchant.id)
        prizes = [
            prize
            for prize in await uow.wheel.prizes(place.merchant.id or 0)
            if prize.kind in ("stamps", "points")
        ]
        return plan_switch(
            kinds_of(program),
            stamps,
            points,
            await uow.switches.holdings(place.merchant.id or 0),
            tuple(prize.amount for prize in prizes if prize.kind == "stamps"),
            tuple(prize.amount for prize in prizes if prize.kind == "points"),
        )

    async def preview_kinds(self, owner_telegram_id: int, stamps: bool, points: bool) -> KindsPreview:
        """What a switch of kinds would do, before it is made: what customers hold of a unit that
        stops, the wheel's prizes that come off, the unit bonuses are given in."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            program = await uow.programs.for_merchant(place.merchant.id)
            switch = await self._switch(uow, place, stamps, points)
            return KindsPreview(switch, _program_view(place.merchant, program))

    async def choose_kinds(
        self,
        owner_telegram_id: int,
        stamps: bool,
        points: bool,
        leftover: Leftover = Leftover.KEEP,
        rate_text: str | None = None,
    ) -> ProgramView:
        """What the shop runs: stamps, points, or both side by side (at least one). When it stops
        running stamps that customers hold, ``leftover`` says what becomes of them: they keep
        collecting until their card fills or lapses, or each becomes ``rate_text`` points now.
        Points customers hold stay usable in /rewards until they lapse. Wheel prizes in a unit
        that stops come off the wheel. Customers holding what stops are told."""
        now = self.clock.now()
        rate = parse_rate(rate_text) if leftover is Leftover.CONVERT else 0
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            merchant_id = place.merchant.id or 0
            await uow.cards.lock_holding_stamps(merchant_id)  # a purchase racing the switch waits for it
            switch = await self._switch(uow, place, stamps, points)
            program = await uow.programs.for_merchant(merchant_id)
            after = after_switch(switch, leftover)
            tag = now.isoformat()
            if switch.asks_about_stamps and leftover is Leftover.CONVERT:
                expires_at = batch_expiry(now, points_rules_of(program))
                await uow.switches.tell_holders(
                    merchant_id, "stamps", tag, {"what": "converted", "rate": rate}, now
                )
                await uow.switches.convert_stamps(merchant_id, rate, place.person.id, tag, now, expires_at)
            elif switch.asks_about_stamps:
                await uow.switches.tell_holders(merchant_id, "stamps", tag, {"what": "stamps_kept"}, now)
            if switch.stops_points and switch.holdings.points:
                await uow.switches.tell_holders(merchant_id, "points", tag, {"what": "points_kept"}, now)
            for prize in await uow.wheel.prizes(merchant_id, lock=True):
                if prize.kind in ("stamps", "points") and not after.runs(prize.kind):
                    prize.deleted_at = now  # a prize in a unit the shop no longer runs comes off
                    await uow.wheel.save_prize(prize)
            program.stamps_enabled, program.points_enabled = after.stamps, after.points
            program.stamps_finish = after.stamps_finish
            program.updated_at = now
            await uow.programs.save(program)
            return _program_view(place.merchant, program)

    async def change_program(
        self, owner_telegram_id: int, field: str, raw_value: str, *, confirmed: bool = False
    ) -> ProgramView:
        """Change one setting from what the owner typed; `InvalidSetting` leaves it as it was.

        Lowering "stamps required" below what some cards hold caps those cards one stamp short
        of a reward (`capped_balance`), each with a ledger entry; unless ``confirmed``, it
        raises `ProgramChangeAffectsCards` first so the owner sees how many cards that is."""
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            program = await uow.programs.for_merchant(place.merchant.id)
            if field in MERCHANT_SETTINGS:
                place.merchant.quiet_hours = parse_quiet_hours(raw_value)
                await uow.merchants.save(place.merchant)
                return _program_view(place.merchant, program)
            if field in BONUS_LIMITS:
                setattr(program, field, change_bonus_setting(field, raw_value))
                program.updated_at = now
                await uow.programs.save(program)
                return _program_view(place.merchant, program)
            if field in POINTS_COLUMNS:
                points = asdict(change_points_setting(points_rules_of(program), field, raw_value))
                for column, name in POINTS_COLUMNS.items():
                    setattr(program, column, points[name])
                program.updated_at = now
                await uow.programs.save(program)
                return _program_view(place.merchant, program)
            changed = change_setting(rules_of(program), field, raw_value)
            if changed.stamps_required < program.stamps_required:
                over = await uow.cards.holding_at_least(
                    place.merchant.id, changed.stamps_required, lock=confirmed
                )
                if over and not confirmed:
                    raise ProgramChangeAffectsCards(len(over), changed.stamps_required)
                for card in over:
                    capped = capped_balance(card.stamps, changed.stamps_required)
                    if capped is None:
                        continue
                    await uow.ledger.append(
                        LedgerEntry(
                            merchant_id=place.merchant.id,
                            person_id=card.person_id,
                            asset="stamp",
                            delta=capped - card.stamps,
                            reason="program_change",
                            actor_person_id=place.person.id,
                            created_at=now,
                            idempotency_key=f"program-change:{card.id}:{now.isoformat()}",
                        )
                    )
                    await uow.cards.set_stamps(card, capped, last_purchase_at=None)
            for item in fields(changed):
                setattr(program, item.name, getattr(changed, item.name))
            program.updated_at = now
            await uow.programs.save(program)
            return _program_view(place.merchant, program)


def _program_view(merchant: Merchant, program: Program) -> ProgramView:
    rules = rules_of(program)
    points = {column: getattr(program, column) for column in (*POINTS_COLUMNS, *BONUS_LIMITS)}
    return ProgramView(
        merchant_name=merchant.name,
        quiet_hours=merchant.quiet_hours,
        stamps_enabled=program.stamps_enabled,
        points_enabled=program.points_enabled,
        **asdict(rules),
        **points,
    )
