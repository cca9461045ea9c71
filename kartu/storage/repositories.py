"""Repositories: every query Kartu runs, grouped by table, behind one unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kartu.loyalty.throttle import CodeMisses
from kartu.storage.models import (
    Card,
    ConversationState,
    LedgerEntry,
    Merchant,
    Person,
    Program,
    PurchasePrompt,
    Reward,
    StaffInvite,
    StaffMember,
)
from kartu.storage.broadcasts import BroadcastRepository
from kartu.storage.claims import ClaimRepository
from kartu.storage.outbox import OutboxRepository
from kartu.storage.reports import ReportRepository
from kartu.storage.personal_data import PersonalDataRepository
from kartu.storage.surveys import SurveyRepository
from kartu.storage.sweeps import SweepRepository
from kartu.storage.updates import UpdateRepository

Row = TypeVar("Row")
UNIQUE_RETRIES = 8


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _insert_unique(self, make_row: Callable[[], Row], existing: Callable[[Row], Awaitable[Row | None]] | None = None) -> Row:
        """Insert a row whose random unique value may collide; draw again on a collision.
        ``existing`` finds the row a concurrent transaction inserted for the same natural key
        (a double-tapped /start): that conflict is not a collision, and that row is the answer."""
        for _ in range(UNIQUE_RETRIES):
            row = make_row()
            try:
                async with self.session.begin_nested():
                    self.session.add(row)
                    await self.session.flush()
                return row
            except IntegrityError:
                if existing is not None and (found := await existing(row)) is not None:
                    return found
                continue
        raise RuntimeError("could not draw a unique value")


class MerchantRepository(_Repository):
    async def get(self, merchant_id: int) -> Merchant | None:
        return await self.session.get(Merchant, merchant_id)

    async def by_slug(self, slug: str) -> Merchant | None:
        return await self.session.scalar(select(Merchant).where(Merchant.slug == slug))

    async def slug_taken(self, slug: str) -> bool:
        return await self.by_slug(slug) is not None

    async def by_name(self, name: str) -> Merchant | None:
        """A shop with this name, whatever the case (the operator may be creating it twice)."""
        return await self.session.scalar(select(Merchant).where(func.lower(Merchant.name) == name.lower()).limit(1))

    async def directory(self) -> Sequence[tuple[Merchant, int, int]]:
        """Every shop with its number of owners and of members (`kartu merchant list`)."""
        owners = (
            select(func.count()).select_from(StaffMember)
            .where(StaffMember.merchant_id == Merchant.id, StaffMember.role == "owner", StaffMember.revoked_at.is_(None))  # type: ignore[union-attr]
            .scalar_subquery()
        )
        members = select(func.count()).select_from(Card).where(Card.merchant_id == Merchant.id).scalar_subquery()
        rows = await self.session.execute(select(Merchant, owners, members).order_by(Merchant.id))
        return [(merchant, owner_count, member_count) for merchant, owner_count, member_count in rows.all()]

    async def add(self, merchant: Merchant, program: Program) -> Merchant:
        self.session.add(merchant)
        await self.session.flush()
        program.merchant_id = merchant.id
        self.session.add(program)
        await self.session.flush()
        return merchant

    async def save(self, merchant: Merchant) -> None:
        self.session.add(merchant)
        await self.session.flush()

    async def with_programs(self) -> Sequence[tuple[Merchant, Program]]:
        query = select(Merchant, Program).join(Program, Program.merchant_id == Merchant.id).order_by(Merchant.id)
        return [(merchant, program) for merchant, program in (await self.session.execute(query)).all()]

    async def first_two(self) -> Sequence[Merchant]:
        """Up to two merchants: enough to tell whether the deployment has exactly one."""
        return (await self.session.scalars(select(Merchant).order_by(Merchant.id).limit(2))).all()


class ProgramRepository(_Repository):
    async def for_merchant(self, merchant_id: int) -> Program:
        program = await self.session.scalar(select(Program).where(Program.merchant_id == merchant_id))
        if program is None:
            raise LookupError(f"merchant {merchant_id} has no program")
        return program

    async def save(self, program: Program) -> None:
        self.session.add(program)
        await self.session.flush()


class PersonRepository(_Repository):
    async def get(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        return await self.session.scalar(select(Person).where(Person.telegram_id == telegram_id))

    async def by_code(self, code: str) -> Person | None:
        return await self.session.scalar(select(Person).where(Person.personal_code == code))

    async def by_username(self, username: str) -> Person | None:
        """Someone who wrote to the bot with this @username (Telegram usernames ignore case)."""
        return await self.session.scalar(
            select(Person).where(func.lower(Person.username) == username.lower()).order_by(Person.id.desc()).limit(1)  # type: ignore[union-attr]
        )

    async def add_with_unique_code(self, make_person: Callable[[], Person]) -> Person:
        """A new person; if a concurrent update registered the same Telegram user first, that one."""
        return await self._insert_unique(make_person, lambda person: self.by_telegram_id(person.telegram_id))

    async def save(self, person: Person) -> None:
        self.session.add(person)
        await self.session.flush()

    async def mark_reachable(self, person_id: int) -> None:
        await self.session.execute(update(Person).where(Person.id == person_id).values(unreachable_at=None))


class CardRepository(_Repository):
    async def by_id(self, card_id: int) -> Card | None:
        return await self.session.get(Card, card_id)

    async def get(self, merchant_id: int, person_id: int, *, lock: bool = False) -> Card | None:
        query = select(Card).where(Card.merchant_id == merchant_id, Card.person_id == person_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def get_or_add(self, merchant_id: int, person_id: int, now: datetime) -> tuple[Card, bool]:
        """The person's card at the merchant, created when missing; ``True`` when new."""
        card = await self.get(merchant_id, person_id)
        if card is not None:
            return card, False
        try:
            async with self.session.begin_nested():
                card = Card(merchant_id=merchant_id, person_id=person_id, stamps=0, joined_at=now)
                self.session.add(card)
                await self.session.flush()
            return card, True
        except IntegrityError:
            # Joined a moment ago in another transaction (a double tap on the link).
            existing = await self.get(merchant_id, person_id)
            assert existing is not None
            return existing, False

    async def holding_at_least(self, merchant_id: int, stamps: int, *, lock: bool = False) -> Sequence[Card]:
        query = select(Card).where(Card.merchant_id == merchant_id, Card.stamps >= stamps).order_by(Card.id)
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def set_opt_out(self, card: Card, opted_out: bool) -> None:
        card.promotions_opt_out = opted_out
        self.session.add(card)
        await self.session.flush()

    async def set_stamps(self, card: Card, stamps: int, last_purchase_at: datetime | None) -> None:
        card.stamps = stamps
        if last_purchase_at is not None:
            card.last_purchase_at = last_purchase_at
        self.session.add(card)
        await self.session.flush()


class StaffRepository(_Repository):
    async def active(self, merchant_id: int, person_id: int) -> StaffMember | None:
        return await self.session.scalar(
            select(StaffMember).where(
                StaffMember.merchant_id == merchant_id,
                StaffMember.person_id == person_id,
                StaffMember.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        )

    async def workplaces(self, person_id: int) -> Sequence[StaffMember]:
        """Where the person is active staff, the most recently added first."""
        query = (
            select(StaffMember)
            .where(StaffMember.person_id == person_id, StaffMember.revoked_at.is_(None))  # type: ignore[union-attr]
            .order_by(StaffMember.added_at.desc(), StaffMember.id.desc())  # type: ignore[union-attr]
        )
        return (await self.session.scalars(query)).all()

    async def add_or_restore(self, merchant_id: int, person_id: int, role: str, now: datetime) -> StaffMember:
        member = await self.session.scalar(
            select(StaffMember).where(
                StaffMember.merchant_id == merchant_id, StaffMember.person_id == person_id
            )
        )
        if member is None:
            member = StaffMember(merchant_id=merchant_id, person_id=person_id, role=role, added_at=now)
        elif member.revoked_at is not None or member.role != role:
            # A returning member starts over; an owner stays owner when invited as staff.
            if member.revoked_at is not None or role == "owner":
                member.role = role
            member.revoked_at = None
            member.added_at = now
        self.session.add(member)
        await self.session.flush()
        return member

    async def set_on_duty(self, staff_id: int, on_duty: bool) -> None:
        await self.session.execute(update(StaffMember).where(StaffMember.id == staff_id).values(on_duty=on_duty))

    async def roster(self, merchant_id: int) -> Sequence[tuple[StaffMember, Person]]:
        query = (
            select(StaffMember, Person)
            .join(Person, Person.id == StaffMember.person_id)
            .where(StaffMember.merchant_id == merchant_id, StaffMember.revoked_at.is_(None))  # type: ignore[union-attr]
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
            update(StaffMember).where(StaffMember.id == staff_id).values(locked_at=None, code_misses=0, misses_in_window=0)
        )

    async def lock_team(self, merchant_id: int) -> None:
        """Serialise team changes per merchant (PostgreSQL row lock; SQLite writers are serial)."""
        await self.session.execute(select(Merchant.id).where(Merchant.id == merchant_id).with_for_update())

    async def revoke(self, staff_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(StaffMember)
            .where(StaffMember.id == staff_id, StaffMember.revoked_at.is_(None))  # type: ignore[union-attr]
            .values(revoked_at=now)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def touch(self, staff_id: int, now: datetime) -> None:
        await self.session.execute(
            update(StaffMember).where(StaffMember.id == staff_id).values(last_active_at=now)
        )


class InviteRepository(_Repository):
    async def add_with_unique_token(self, make_invite: Callable[[], StaffInvite]) -> StaffInvite:
        return await self._insert_unique(make_invite)

    async def by_token(self, token: str) -> StaffInvite | None:
        return await self.session.scalar(select(StaffInvite).where(StaffInvite.token == token))

    async def use(self, invite_id: int, person_id: int, now: datetime) -> bool:
        """Mark the invite used; ``False`` when someone else used it first."""
        result = await self.session.execute(
            update(StaffInvite)
            .where(StaffInvite.id == invite_id, StaffInvite.used_at.is_(None))  # type: ignore[union-attr]
            .values(used_at=now, used_by_person_id=person_id)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


class PromptRepository(_Repository):
    async def add(self, prompt: PurchasePrompt) -> PurchasePrompt:
        self.session.add(prompt)
        await self.session.flush()
        return prompt

    async def get(self, prompt_id: int) -> PurchasePrompt | None:
        return await self.session.get(PurchasePrompt, prompt_id)

    async def by_token(self, token: str) -> PurchasePrompt | None:
        return await self.session.scalar(select(PurchasePrompt).where(PurchasePrompt.token == token))

    async def decide(self, prompt_id: int, status: str, person_id: int, now: datetime) -> bool:
        """Close a pending prompt; ``False`` when it was no longer pending (someone was first)."""
        result = await self.session.execute(
            update(PurchasePrompt)
            .where(PurchasePrompt.id == prompt_id, PurchasePrompt.status == "pending")
            .values(status=status, decided_at=now, decided_by_person_id=person_id)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


class RewardRepository(_Repository):
    async def add_with_unique_code(self, make_reward: Callable[[], Reward]) -> Reward:
        return await self._insert_unique(make_reward)

    async def by_code(self, code: str) -> Reward | None:
        return await self.session.scalar(select(Reward).where(Reward.code == code))

    async def get(self, reward_id: int) -> Reward | None:
        return await self.session.get(Reward, reward_id)

    async def open_rewards(self, merchant_id: int, person_id: int, now: datetime) -> Sequence[Reward]:
        query = (
            select(Reward)
            .where(
                Reward.merchant_id == merchant_id,
                Reward.person_id == person_id,
                Reward.redeemed_at.is_(None),  # type: ignore[union-attr]
                Reward.expires_at > now,
            )
            .order_by(Reward.expires_at)
        )
        return (await self.session.scalars(query)).all()

    async def redeem(self, reward_id: int, person_id: int, now: datetime) -> bool:
        """Mark redeemed; ``False`` when it was redeemed already (a double tap, a second staff)."""
        result = await self.session.execute(
            update(Reward)
            .where(Reward.id == reward_id, Reward.redeemed_at.is_(None))  # type: ignore[union-attr]
            .values(redeemed_at=now, redeemed_by_person_id=person_id)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


class LedgerRepository(_Repository):
    async def append(self, entry: LedgerEntry) -> LedgerEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def stamps_earned_since(self, merchant_id: int, person_id: int, since: datetime) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                LedgerEntry.merchant_id == merchant_id,
                LedgerEntry.person_id == person_id,
                LedgerEntry.asset == "stamp",
                LedgerEntry.reason == "purchase",
                LedgerEntry.created_at >= since,
            )
        )
        return int(total or 0)

    async def entries(self, merchant_id: int, person_id: int | None = None) -> Sequence[LedgerEntry]:
        query = select(LedgerEntry).where(LedgerEntry.merchant_id == merchant_id)
        if person_id is not None:
            query = query.where(LedgerEntry.person_id == person_id)
        return (await self.session.scalars(query.order_by(LedgerEntry.id))).all()

    async def balance(self, merchant_id: int, person_id: int, asset: str) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                LedgerEntry.merchant_id == merchant_id,
                LedgerEntry.person_id == person_id,
                LedgerEntry.asset == asset,
            )
        )
        return int(total or 0)


class ConversationRepository(_Repository):
    async def get(self, key: str) -> ConversationState | None:
        return await self.session.get(ConversationState, key)

    async def put(self, key: str, **values: Any) -> None:
        row = await self.session.get(ConversationState, key)
        if row is None:
            row = ConversationState(key=key, state=None, data="{}")
        for name, value in values.items():
            setattr(row, name, value)
        self.session.add(row)
        await self.session.flush()


class UnitOfWork:
    """One transaction and the repositories that share it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.merchants = MerchantRepository(session)
        self.programs = ProgramRepository(session)
        self.people = PersonRepository(session)
        self.cards = CardRepository(session)
        self.staff = StaffRepository(session)
        self.invites = InviteRepository(session)
        self.prompts = PromptRepository(session)
        self.rewards = RewardRepository(session)
        self.ledger = LedgerRepository(session)
        self.conversations = ConversationRepository(session)
        self.outbox = OutboxRepository(session)
        self.sweeps = SweepRepository(session)
        self.surveys = SurveyRepository(session)
        self.claims = ClaimRepository(session)
        self.reports = ReportRepository(session)
        self.broadcasts = BroadcastRepository(session)
        self.updates = UpdateRepository(session)
        self.personal_data = PersonalDataRepository(session)
