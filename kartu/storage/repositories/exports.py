"""Owners' exports: the runs (asked, running one per shop, done) and the pages their files are
written from, read by keys (card id, ledger id) so each page is one short, indexed read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import aliased

from kartu.loyalty.exports import STALE_AFTER, ExportStatus
from kartu.storage.models import Card, ExportRun, LedgerEntry, Outlet, Person, Referral, Reward, Tier
from kartu.storage.repositories.base import Repository


class ExportRepository(Repository):
    async def add(self, run: ExportRun) -> ExportRun:
        self.session.add(run)
        await self.session.flush()
        return run

    async def by_token(self, token: str) -> ExportRun | None:
        return await self.session.scalar(select(ExportRun).where(ExportRun.token == token))

    async def get(self, run_id: int) -> ExportRun | None:
        return await self.session.get(ExportRun, run_id)

    async def running(self, merchant_id: int, now: datetime) -> ExportRun | None:
        """The shop's run in progress, unless the process that ran it stopped (then it is failed)."""
        await self.session.execute(
            update(ExportRun)
            .where(
                ExportRun.merchant_id == merchant_id,
                ExportRun.status == ExportStatus.RUNNING,
                ExportRun.touched_at < now - STALE_AFTER,
            )
            .values(status=ExportStatus.FAILED)
            .execution_options(synchronize_session=False)
        )
        return await self.session.scalar(
            select(ExportRun).where(
                ExportRun.merchant_id == merchant_id, ExportRun.status == ExportStatus.RUNNING
            )
        )

    async def start(
        self, run_id: int, period: str, since: datetime | None, last_entry_id: int, now: datetime
    ) -> bool:
        """Asked → running, in one statement: of two taps one starts it. A second run of the shop
        breaks the unique index on running runs (IntegrityError: the caller says it is on its way)."""
        started = await self.session.execute(
            update(ExportRun)
            .where(ExportRun.id == run_id, ExportRun.status == ExportStatus.ASKED)
            .values(
                status=ExportStatus.RUNNING,
                period=period,
                since=since,
                last_entry_id=last_entry_id,
                touched_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(started, "rowcount", 0))

    async def touch(self, run_id: int, now: datetime) -> None:
        await self.session.execute(
            update(ExportRun)
            .where(ExportRun.id == run_id)
            .values(touched_at=now)
            .execution_options(synchronize_session=False)
        )

    async def end(
        self, run_id: int, status: str, now: datetime, members: int, entries: int, files: int
    ) -> None:
        await self.session.execute(
            update(ExportRun)
            .where(ExportRun.id == run_id, ExportRun.status == ExportStatus.RUNNING)
            .values(status=status, touched_at=now, members=members, entries=entries, files=files)
            .execution_options(synchronize_session=False)
        )

    async def use_link(self, run_id: int, now: datetime) -> bool:
        """The download link's one use: of two clicks at once, one gets the file."""
        used = await self.session.execute(
            update(ExportRun)
            .where(
                ExportRun.id == run_id,
                ExportRun.status == ExportStatus.DONE,
                ExportRun.link_used_at.is_(None),
            )
            .values(link_used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(used, "rowcount", 0))

    async def give_link_back(self, run_id: int) -> None:
        await self.session.execute(
            update(ExportRun)
            .where(ExportRun.id == run_id)
            .values(link_used_at=None)
            .execution_options(synchronize_session=False)
        )

    async def last_entry_id(self, merchant_id: int) -> int:
        """Where the ledger ends now: the export stops there, whatever is written while it runs."""
        return int(
            await self.session.scalar(
                select(func.coalesce(func.max(LedgerEntry.id), 0)).where(
                    LedgerEntry.merchant_id == merchant_id
                )
            )
            or 0
        )

    async def members(
        self, merchant_id: int, after_card_id: int, now: datetime, limit: int
    ) -> list[tuple[Any, ...]]:
        """A page of members by card: card id, first name, username, code, joined, stamps, visits,
        last visit, opted out, open rewards, points, level, the code of who invited them, the
        outlets they joined at and last bought at."""
        referrer = aliased(Person)
        joined_at, last_at = aliased(Outlet), aliased(Outlet)
        open_rewards = (
            select(func.count())
            .where(
                Reward.merchant_id == merchant_id,
                Reward.person_id == Card.person_id,
                Reward.redeemed_at.is_(None),
                Reward.expires_at > now,
            )
            .correlate(Card)
            .scalar_subquery()
        )
        query = (
            select(
                Card.id,
                Person.first_name,
                Person.username,
                Person.personal_code,
                Card.joined_at,
                Card.stamps,
                Card.visits,
                Card.last_purchase_at,
                Card.promotions_opt_out,
                open_rewards,
                Card.points,
                Tier.name,
                referrer.personal_code,
                joined_at.name,
                last_at.name,
            )
            .join(Person, Person.id == Card.person_id)
            .outerjoin(joined_at, joined_at.id == Card.joined_outlet_id)
            .outerjoin(last_at, last_at.id == Card.last_outlet_id)
            .outerjoin(Tier, and_(Tier.id == Card.tier_id, Tier.deleted_at.is_(None)))
            .outerjoin(
                Referral,
                and_(Referral.merchant_id == merchant_id, Referral.friend_person_id == Card.person_id),
            )
            .outerjoin(referrer, referrer.id == Referral.referrer_person_id)
            .where(Card.merchant_id == merchant_id, Card.id > after_card_id)
            .order_by(Card.id)
            .limit(limit)
        )
        return [tuple(row) for row in (await self.session.execute(query)).all()]
