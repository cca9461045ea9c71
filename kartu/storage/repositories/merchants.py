"""Shops and their stamp programs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from kartu.storage.models import Card, Merchant, Outlet, Program, StaffMember
from kartu.storage.repositories.base import Repository


class MerchantRepository(Repository):
    async def get(self, merchant_id: int) -> Merchant | None:
        return await self.session.get(Merchant, merchant_id)

    async def by_slug(self, slug: str) -> Merchant | None:
        return await self.session.scalar(select(Merchant).where(Merchant.slug == slug))

    async def slug_taken(self, slug: str) -> bool:
        return await self.by_slug(slug) is not None

    async def by_name(self, name: str) -> Merchant | None:
        """A shop with this name, whatever the case (the operator may be creating it twice)."""
        return await self.session.scalar(
            select(Merchant).where(func.lower(Merchant.name) == name.lower()).limit(1)
        )

    async def directory(self) -> Sequence[tuple[Merchant, int, int]]:
        """Every shop with its number of owners and of members (`kartu merchant list`)."""
        owners = (
            select(func.count())
            .select_from(StaffMember)
            .where(
                StaffMember.merchant_id == Merchant.id,
                StaffMember.role == "owner",
                StaffMember.revoked_at.is_(None),
            )
            .scalar_subquery()
        )
        members = (
            select(func.count()).select_from(Card).where(Card.merchant_id == Merchant.id).scalar_subquery()
        )
        rows = await self.session.execute(select(Merchant, owners, members).order_by(Merchant.id))
        return [(merchant, owner_count, member_count) for merchant, owner_count, member_count in rows.all()]

    async def add(self, merchant: Merchant, program: Program) -> Merchant:
        """A business with its program and its first outlet (named as it, its slug and time zone)."""
        self.session.add(merchant)
        await self.session.flush()
        program.merchant_id = merchant.id
        self.session.add(program)
        self.session.add(
            Outlet(
                merchant_id=merchant.id,
                slug=merchant.slug,
                name=merchant.name,
                timezone=merchant.timezone,
                created_at=merchant.created_at,
            )
        )
        await self.session.flush()
        return merchant

    async def outlets(self, merchant_id: int) -> list[Outlet]:
        return list(
            (
                await self.session.scalars(
                    select(Outlet).where(Outlet.merchant_id == merchant_id).order_by(Outlet.id)
                )
            ).all()
        )

    async def outlet_by_slug(self, slug: str) -> Outlet | None:
        return await self.session.scalar(select(Outlet).where(Outlet.slug == slug))

    async def save_outlet(self, outlet: Outlet) -> None:
        self.session.add(outlet)
        await self.session.flush()

    async def save(self, merchant: Merchant) -> None:
        self.session.add(merchant)
        await self.session.flush()

    async def with_programs(self) -> Sequence[tuple[Merchant, Program]]:
        query = (
            select(Merchant, Program).join(Program, Program.merchant_id == Merchant.id).order_by(Merchant.id)
        )
        return [(merchant, program) for merchant, program in (await self.session.execute(query)).all()]

    async def first_two(self) -> Sequence[Merchant]:
        """Up to two businesses (none merged into another): enough to tell whether the deployment
        has exactly one."""
        query = select(Merchant).where(Merchant.merged_into_id.is_(None)).order_by(Merchant.id).limit(2)
        return (await self.session.scalars(query)).all()

    async def joinable(self, slug: str, outlet: bool = False) -> tuple[Merchant, int | None] | None:
        """The business a join code leads to, and the outlet it counts for: a business's own code
        (a business merged into another leads there, counted for its outlet of that code), or an
        outlet's (``outlet``: an outlet's link, which names an outlet whatever else shares its
        code); ``None`` for an unknown code."""
        merchant = None if outlet else await self.by_slug(slug)
        if merchant is not None and merchant.merged_into_id is None:
            return merchant, None
        found = await self.outlet_by_slug(slug)
        business = await self.get(found.merchant_id) if found is not None else None
        if found is None or business is None:
            return None
        return business, found.id


class ProgramRepository(Repository):
    async def for_merchant(self, merchant_id: int) -> Program:
        """The shop's program as committed now, even if this transaction read it before (the
        session's identity map would otherwise hand back the earlier values)."""
        query = (
            select(Program)
            .where(Program.merchant_id == merchant_id)
            .execution_options(populate_existing=True)
        )
        program = await self.session.scalar(query)
        if program is None:
            raise LookupError(f"merchant {merchant_id} has no program")
        return program

    async def save(self, program: Program) -> None:
        self.session.add(program)
        await self.session.flush()
