"""Teams: who works where in which role, and the invites that add them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update

from kartu.loyalty.throttle import CodeMisses
from kartu.storage.models import Merchant, Person, Program, StaffInvite, StaffMember
from kartu.storage.repositories.base import Repository

# Built once, with a bound parameter: every message from staff starts with it.
_PLACES_OF_USER = (
    select(Person, StaffMember, Merchant, Program)
    .join(StaffMember, StaffMember.person_id == Person.id)
    .join(Merchant, Merchant.id == StaffMember.merchant_id)
    .join(Program, Program.merchant_id == Merchant.id)
    .where(Person.telegram_id == bindparam("telegram_id"), StaffMember.revoked_at.is_(None))
    .order_by(StaffMember.added_at.desc(), StaffMember.id.desc())
)


class StaffRepository(Repository):
    async def active(self, merchant_id: int, person_id: int) -> StaffMember | None:
        return await self.session.scalar(
            select(StaffMember).where(
                StaffMember.merchant_id == merchant_id,
                StaffMember.person_id == person_id,
                StaffMember.revoked_at.is_(None),
            )
        )

    async def places_of_user(
        self, telegram_id: int
    ) -> Sequence[tuple[Person, StaffMember, Merchant, Program]]:
        """Every shop the Telegram user works at, with its program, newest first, in one query."""
        rows = (await self.session.execute(_PLACES_OF_USER, {"telegram_id": telegram_id})).all()
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def workplaces(self, person_id: int) -> Sequence[StaffMember]:
        """Where the person is active staff, the most recently added first."""
        query = (
            select(StaffMember)
            .where(StaffMember.person_id == person_id, StaffMember.revoked_at.is_(None))
            .order_by(StaffMember.added_at.desc(), StaffMember.id.desc())
        )
        return (await self.session.scalars(query)).all()

    async def add_or_restore(
        self, merchant_id: int, person_id: int, role: str, now: datetime, outlet_id: int | None = None
    ) -> StaffMember:
        """Add someone to a business's team (``outlet_id``: the outlet they belong to; an owner
        belongs to every one)."""
        member = await self.session.scalar(
            select(StaffMember).where(
                StaffMember.merchant_id == merchant_id, StaffMember.person_id == person_id
            )
        )
        if member is None:
            member = StaffMember(
                merchant_id=merchant_id,
                person_id=person_id,
                role=role,
                added_at=now,
                outlet_id=None if role == "owner" else outlet_id,
            )
        elif member.revoked_at is not None or member.role != role or member.outlet_id != outlet_id:
            # A returning member starts over; an owner stays owner (of every outlet) when invited
            # as staff or manager; anyone else takes the invite's role and outlet.
            if member.revoked_at is not None or member.role != "owner":
                member.role = role
                member.outlet_id = None if role == "owner" else outlet_id
            elif role == "owner":
                member.outlet_id = None
            member.revoked_at = None
            member.added_at = now
        self.session.add(member)
        await self.session.flush()
        return member

    async def work_at(self, staff_id: int, outlet_id: int) -> None:
        """Where a member of every outlet works now (/shop)."""
        await self.session.execute(
            update(StaffMember).where(StaffMember.id == staff_id).values(at_outlet_id=outlet_id)
        )

    async def set_on_duty(self, staff_id: int, on_duty: bool) -> None:
        await self.session.execute(
            update(StaffMember).where(StaffMember.id == staff_id).values(on_duty=on_duty)
        )

    async def roster(self, merchant_id: int) -> Sequence[tuple[StaffMember, Person]]:
        query = (
            select(StaffMember, Person)
            .join(Person, Person.id == StaffMember.person_id)
            .where(StaffMember.merchant_id == merchant_id, StaffMember.revoked_at.is_(None))
            .order_by(StaffMember.role, StaffMember.added_at)
        )
        return [(member, person) for member, person in (await self.session.execute(query)).all()]

    async def get(self, staff_id: int) -> StaffMember | None:
        return await self.session.get(StaffMember, staff_id)

    async def save_misses(self, member: StaffMember, misses: CodeMisses, now: datetime) -> None:
        """Record a staff account's unknown-code tally (and lock it, once, at the limit)."""
        member.code_misses = misses.streak
        member.miss_window_start = misses.window_start
        member.misses_in_window = misses.in_window
        if misses.locked and member.locked_at is None:
            member.locked_at = now
        self.session.add(member)
        await self.session.flush()

    async def unlock(self, staff_id: int) -> None:
        await self.session.execute(
            update(StaffMember)
            .where(StaffMember.id == staff_id)
            .values(locked_at=None, code_misses=0, misses_in_window=0)
        )

    async def lock_team(self, merchant_id: int) -> None:
        """Serialise team changes per merchant (PostgreSQL row lock; SQLite writers are serial)."""
        await self.session.execute(select(Merchant.id).where(Merchant.id == merchant_id).with_for_update())

    async def revoke_all(self, person_id: int, now: datetime) -> None:
        """The person works nowhere any more (/forget)."""
        await self.session.execute(
            update(StaffMember)
            .where(StaffMember.person_id == person_id, StaffMember.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke(self, staff_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(StaffMember)
            .where(StaffMember.id == staff_id, StaffMember.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount == 1

    async def touch(self, staff_id: int, now: datetime) -> None:
        await self.session.execute(
            update(StaffMember).where(StaffMember.id == staff_id).values(last_active_at=now)
        )


class InviteRepository(Repository):
    async def add_with_unique_token(self, make_invite: Callable[[], StaffInvite]) -> StaffInvite:
        return await self._insert_unique(make_invite)

    async def by_token(self, token: str) -> StaffInvite | None:
        return await self.session.scalar(select(StaffInvite).where(StaffInvite.token == token))

    async def use(self, invite_id: int, person_id: int, now: datetime) -> bool:
        """Mark the invite used; ``False`` when someone else used it first."""
        result = await self.session.execute(
            update(StaffInvite)
            .where(StaffInvite.id == invite_id, StaffInvite.used_at.is_(None))
            .values(used_at=now, used_by_person_id=person_id)
        )
        return result.rowcount == 1
