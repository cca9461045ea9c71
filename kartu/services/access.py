"""Who is acting, and for which shop: the permission checks every use case starts with.

Plain functions of the unit of work, so a use case reads its checks in the open
(``place = await require_owner(uow, telegram_id)``) and one use case can call another's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kartu import logs
from kartu.loyalty.channels import Caller
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import LastOwner, NotMember, NotOwner, NotStaff
from kartu.loyalty.staff import LEADS, Role, acting_place, where_name, working_outlet
from kartu.storage.models import Card, Merchant, Outlet, Person, Program, StaffMember
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Workplace:
    """A staff member (or owner) acting for one shop."""

    person: Person
    member: StaffMember
    merchant: Merchant
    program: Program  # read with the shop: every use case at the counter needs its rules
    outlets: tuple[Outlet, ...] = field(default=())  # the business's, oldest first

    @property
    def outlet(self) -> Outlet | None:
        """Where this member works now (their own outlet, or their /shop choice)."""
        chosen = working_outlet(
            self.member.outlet_id, self.member.at_outlet_id, [outlet.id for outlet in self.outlets]
        )
        return next((outlet for outlet in self.outlets if outlet.id == chosen), None)

    @property
    def outlet_id(self) -> int | None:
        outlet = self.outlet
        return outlet.id if outlet is not None else None

    @property
    def scope(self) -> int | None:
        """The outlet this member's figures and team are limited to (``None``: the whole business)."""
        return self.member.outlet_id

    @property
    def where(self) -> str:
        """The shop's name, with the outlet's where the business has several ("Kopi Senja · Plaza Senayan")."""
        return where_name(self.merchant.name, self.outlet.name if self.outlet else None, len(self.outlets))


def acting_member(person: Person, places: Sequence[StaffMember]) -> StaffMember | None:
    """Of the person's memberships (most recent first), the shop they act for."""
    return acting_place(person.acting_merchant_id, places)


async def require_staff(uow: UnitOfWork, telegram_id: int, merchant_id: int | None = None) -> Workplace:
    """Where the user works as staff: the given merchant, else the one they act for; `NotStaff`
    for anyone else. One query: the person, their memberships, the shops and their programs."""
    places = await uow.staff.places_of_user(telegram_id)
    if not places:
        raise NotStaff()
    person = places[0][0]
    if merchant_id is not None:
        chosen = [place for place in places if place[1].merchant_id == merchant_id]
    else:
        member = acting_member(person, [place[1] for place in places])
        chosen = [place for place in places if place[1] is member]
    if not chosen:
        raise NotStaff()
    _, member, merchant, program = chosen[0]
    logs.merchant_id.set(merchant.id)  # the shop this update or request acts for, in its log lines
    return Workplace(person, member, merchant, program, tuple(await uow.merchants.outlets(merchant.id)))


async def place_of(uow: UnitOfWork, person: Person, merchant_id: int | None = None) -> Workplace:
    """`require_staff` for a person already read."""
    return await require_staff(uow, person.telegram_id or 0, merchant_id)


async def require_owner(uow: UnitOfWork, telegram_id: int) -> Workplace:
    """The shop the user acts for, if they own it; `NotOwner` (saying where they act, when they
    own another shop) otherwise."""
    try:
        place = await require_staff(uow, telegram_id)
    except NotStaff:
        raise NotOwner() from None
    if place.member.role != Role.OWNER:
        owned = [
            member for member in await uow.staff.workplaces(place.person.id) if member.role == Role.OWNER
        ]
        raise NotOwner(acting_for=place.merchant.name if owned else None)
    return place


async def require_lead(uow: UnitOfWork, telegram_id: int) -> Workplace:
    """The shop the user acts for, if they own it or manage one of its outlets (their figures and
    team are that outlet's: `Workplace.scope`); `NotOwner` otherwise."""
    try:
        place = await require_staff(uow, telegram_id)
    except NotStaff:
        raise NotOwner() from None
    if place.member.role not in LEADS:
        raise NotOwner()
    return place


async def require_member(uow: UnitOfWork, caller: Caller) -> tuple[Person, Merchant, Card]:
    """The customer's current shop and card; `NotMember` if they hold none."""
    person = await uow.people.by_caller(caller)
    if person is None or person.current_merchant_id is None:
        raise NotMember()
    merchant = await uow.merchants.get(person.current_merchant_id)
    card = await uow.cards.get(person.current_merchant_id, person.id)
    if merchant is None or card is None:
        raise NotMember()
    logs.merchant_id.set(merchant.id)
    return person, merchant, card


async def keep_an_owner(uow: UnitOfWork, merchant_id: int) -> None:
    """`LastOwner` when the shop has one owner left: nobody removes or erases them."""
    await uow.staff.lock_team(merchant_id)  # two owners removing each other: one wins
    owners = [member for member, _ in await uow.staff.roster(merchant_id) if member.role == Role.OWNER]
    if len(owners) <= 1:
        raise LastOwner()


async def owners_of(uow: UnitOfWork, merchant_id: int) -> list[tuple[int, int | None]]:
    """The shop's owners: (person id, Telegram id)."""
    return [
        (person.id or 0, person.telegram_id)
        for member, person in await uow.staff.roster(merchant_id)
        if member.role == Role.OWNER
    ]


async def tell_owners(
    uow: UnitOfWork,
    now: datetime,
    merchant_id: int,
    kind: Kind,
    subject_id: int,
    key: str,
    params: dict[str, object],
) -> None:
    """News for each of the shop's owners (under ``key:<person id>``), through the outbox."""
    for person_id, telegram_id in await owners_of(uow, merchant_id):
        await uow.outbox.enqueue(
            key=f"{key}:{person_id}",
            kind=kind,
            category=Category.SERVICE,
            chat_id=telegram_id,
            person_id=person_id,
            merchant_id=merchant_id,
            subject_id=subject_id,
            params=params,
            now=now,
            not_before=now,
        )
