"""Feedback surveys and what owners read from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select, update

from kartu.storage.models import LedgerEntry, Person, Survey
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.reports import is_visit


class SurveyRepository(Repository):
    async def add(self, survey: Survey) -> Survey:
        self.session.add(survey)
        await self.session.flush()
        return survey

    async def get(self, survey_id: int) -> Survey | None:
        return await self.session.get(Survey, survey_id)

    async def rate(self, survey_id: int, rating: int, now: datetime) -> bool:
        """Record the rating once; ``False`` when the survey was rated before."""
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.rating.is_(None))
            .values(rating=rating, rated_at=now)
        )
        return result.rowcount == 1

    async def set_reason(self, survey_id: int, reason: str) -> bool:
        result = await self.session.execute(
            update(Survey).where(Survey.id == survey_id, Survey.reason.is_(None)).values(reason=reason)
        )
        return result.rowcount == 1

    async def reason_counts(self, merchant_id: int) -> list[tuple[str, int]]:
        rows = await self.session.execute(
            select(Survey.reason, func.count())
            .where(Survey.merchant_id == merchant_id, Survey.reason.is_not(None))
            .group_by(Survey.reason)
            .order_by(func.count().desc(), Survey.reason)
        )
        return [(reason, count) for reason, count in rows.all()]

    async def comment(self, survey_id: int, comment: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.comment.is_(None))
            .values(comment=comment, commented_at=now)
        )
        return result.rowcount == 1

    async def rated_after(
        self, merchant_id: int, last_at: datetime | None, last_id: int, outlet_id: int | None = None
    ) -> tuple[int, int]:
        """Ratings the tally has not counted yet (after its mark): how many, and their sum (of one
        outlet's visits, with ``outlet_id``)."""
        query = select(func.count(Survey.rating), func.coalesce(func.sum(Survey.rating), 0)).where(
            Survey.merchant_id == merchant_id, Survey.rated_at.is_not(None), Survey.rating.is_not(None)
        )
        if outlet_id is not None:
            query = query.where(Survey.outlet_id == outlet_id)
        if last_at is not None:
            query = query.where(
                or_(Survey.rated_at > last_at, and_(Survey.rated_at == last_at, Survey.id > last_id))
            )
        count, total = (await self.session.execute(query)).one()
        return int(count), int(total)

    async def recent_comments(
        self, merchant_id: int, limit: int, outlet_id: int | None = None
    ) -> Sequence[tuple[Survey, Person]]:
        query = (
            select(Survey, Person)
            .join(Person, Person.id == Survey.person_id)
            .where(
                Survey.merchant_id == merchant_id,
                Survey.commented_at.is_not(None),  # the index's range: no scan past the uncommented
                Survey.comment.is_not(None),
            )
            .order_by(Survey.commented_at.desc())
            .limit(limit)
        )
        if outlet_id is not None:  # one outlet's (a manager's /feedback)
            query = query.where(Survey.outlet_id == outlet_id)
        return [(survey, person) for survey, person in (await self.session.execute(query)).all()]

    async def visit_history(self, merchant_id: int, person_id: int) -> tuple[int, datetime | None]:
        """Number of confirmed purchases and the first one's time."""
        row = (
            await self.session.execute(
                select(func.count(LedgerEntry.id), func.min(LedgerEntry.created_at)).where(
                    LedgerEntry.merchant_id == merchant_id,
                    LedgerEntry.person_id == person_id,
                    is_visit(),
                )
            )
        ).one()
        first = row[1]
        if isinstance(first, str):  # SQLite aggregates lose the column type
            first = datetime.fromisoformat(first)
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        return int(row[0]), first
