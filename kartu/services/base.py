"""What every service needs, and lookups they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from kartu.config import Settings
from kartu.loyalty.clock import Clock
from kartu.loyalty.errors import LastOwner, NotMember, NotOwner, NotStaff
from kartu.loyalty.expiry import stamps_expire_at
from kartu.loyalty.language import resolve_language
from kartu.loyalty.program import ProgramRules
from kartu.loyalty.staff import Role
from kartu.services.views import CardView, Recipient
from kartu.storage.database import Database
from kartu.storage.models import Card, Merchant, Person, Program, StaffMember
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Workplace:
    person: Person
    member: StaffMember
    merchant: Merchant


class ServiceBase:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings

    def language_of(self, person: Person) -> str:
        return resolve_language(person.language, person.telegram_language, self.settings.default_language)

    def recipient(self, person: Person) -> Recipient:
        return Recipient(telegram_id=person.telegram_id, language=self.language_of(person))

    async def _workplace(
        self, uow: UnitOfWork, telegram_id: int, merchant_id: int | None = None
    ) -> Workplace:
        """Where the user works as staff: the given merchant, else the one they act for (chosen
        with /shop; until they choose, the first shop they joined, so a new invite never moves them)."""
        person = await uow.people.by_telegram_id(telegram_id)
        if person is None:
            raise NotStaff()
        return await self._place_of(uow, person, merchant_id)

    async def _place_of(self, uow: UnitOfWork, person: Person, merchant_id: int | None = None) -> Workplace:
        """`_workplace` for a person already read."""
        if merchant_id is not None:
            member = await uow.staff.active(merchant_id, person.id)
        else:
            member = acting_member(person, await uow.staff.workplaces(person.id))
        if member is None:
            raise NotStaff()
        merchant = await uow.merchants.get(member.merchant_id)
        assert merchant is not None
        return Workplace(person, member, merchant)

    async def _keep_an_owner(self, uow: UnitOfWork, merchant_id: int) -> None:
        """`LastOwner` when the shop has one owner left: nobody removes or erases them."""
        await uow.staff.lock_team(merchant_id)  # two owners removing each other: one wins
        if (
            len([member for member, _ in await uow.staff.roster(merchant_id) if member.role == Role.OWNER])
            <= 1
        ):
            raise LastOwner()

    async def _owned_workplace(self, uow: UnitOfWork, telegram_id: int) -> Workplace:
        try:
            place = await self._workplace(uow, telegram_id)
        except NotStaff:
            raise NotOwner() from None
        if place.member.role != Role.OWNER:
            owned = [
                member for member in await uow.staff.workplaces(place.person.id) if member.role == Role.OWNER
            ]
            raise NotOwner(acting_for=place.merchant.name if owned else None)
        return place

    async def _member_card(self, uow: UnitOfWork, telegram_id: int) -> tuple[Person, Merchant, Card]:
        person = await uow.people.by_telegram_id(telegram_id)
        if person is None or person.current_merchant_id is None:
            raise NotMember()
        merchant = await uow.merchants.get(person.current_merchant_id)
        card = await uow.cards.get(person.current_merchant_id, person.id)
        if merchant is None or card is None:
            raise NotMember()
        return person, merchant, card

    async def _card_view(
        self, uow: UnitOfWork, person: Person, merchant: Merchant, card: Card, program: Program | None = None
    ) -> CardView:
        program = program or await uow.programs.for_merchant(merchant.id)
        rewards = await uow.rewards.open_rewards(merchant.id, person.id, self.clock.now())
        return CardView(
            merchant_name=merchant.name,
            stamps=card.stamps,
            stamps_required=program.stamps_required,
            reward_name=program.reward_name,
            personal_code=person.personal_code,
            open_rewards=len(rewards),
            timezone=merchant.timezone,
            stamps_expire_at=(
                stamps_expire_at(card.last_purchase_at, program.stamp_expiry_days)
                if card.stamps and card.last_purchase_at
                else None
            ),
        )


def acting_member(person: Person, places: Sequence[StaffMember]) -> StaffMember | None:
    """Of the person's memberships (most recent first), the shop they act for: their /shop
    choice, else the first shop they joined, so a new invite never moves them."""
    chosen = [place for place in places if place.merchant_id == person.acting_merchant_id]
    return (chosen or list(places[-1:]) or [None])[0]


def rules_of(program: Program) -> ProgramRules:
    """The domain's view of a program row (the row has the same field names, plus bookkeeping)."""
    return ProgramRules(**{item.name: getattr(program, item.name) for item in fields(ProgramRules)})
