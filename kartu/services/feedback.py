"""Customers rate a visit; a low rating reaches the team; owners read the results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kartu.loyalty.channels import Caller
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import PromptClosed
from kartu.loyalty.feedback import COMMENT_GRACE, COMMENT_MAX, LOW_RATING_REASONS, RATINGS, is_low
from kartu.loyalty.staff import may_see
from kartu.services.access import require_lead
from kartu.services.base import ServiceBase
from kartu.services.tally import rating_summary
from kartu.services.webhooks import tell
from kartu.storage.models import Survey
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class RatingResult:
    low: bool


@dataclass(frozen=True)
class FeedbackComment:
    first_name: str
    rating: int | None
    comment: str
    at: datetime


@dataclass(frozen=True)
class FeedbackReport:
    merchant_name: str
    average: float | None
    count: int
    comments: tuple[FeedbackComment, ...]
    timezone: str


RECENT_COMMENTS = 5


class FeedbackService(ServiceBase):
    async def _own_survey(self, uow: UnitOfWork, caller: Caller, survey_id: int) -> Survey:
        person = await uow.people.by_caller(caller)
        survey = await uow.surveys.get(survey_id)
        if person is None or survey is None or survey.person_id != person.id:
            raise PromptClosed("missing")
        return survey

    async def rate(self, caller: Caller, survey_id: int, rating: int) -> RatingResult:
        """Record a 1-5 rating once. A low one queues alerts for the owners and the staff of the
        visit's outlet (members of every outlet too), who get
        it at once when the customer comments or skips, or after a short grace period."""
        now = self.clock.now()
        async with self.db.write() as uow:
            survey = await self._own_survey(uow, caller, survey_id)
            if rating not in RATINGS:
                raise PromptClosed("missing")
            if not await uow.surveys.rate(survey.id, rating, now):
                raise PromptClosed("rated")
            person = await uow.people.get(survey.person_id)
            if person is not None:
                await tell(
                    uow,
                    now,
                    survey.merchant_id,
                    "survey.answered",
                    str(survey.id),
                    person,
                    {"survey_id": survey.id, "rating": rating},
                )
            if is_low(rating):  # the team of the outlet the visit was at, and the owners
                for member, person in await uow.staff.roster(survey.merchant_id):
                    if not may_see(member.outlet_id, survey.outlet_id):
                        continue
                    await uow.outbox.enqueue(
                        key=f"low-rating:{survey.id}:{member.id}",
                        kind=Kind.LOW_RATING_ALERT,
                        category=Category.ALERT,
                        chat_id=person.telegram_id,
                        person_id=person.id,
                        merchant_id=survey.merchant_id,
                        subject_id=survey.id,
                        not_before=now + COMMENT_GRACE,
                        now=now,
                    )
        return RatingResult(low=is_low(rating))

    async def give_reason(self, telegram_id: int, survey_id: int, reason: str) -> None:
        """What went wrong, picked from a short list after a low rating; once."""
        if reason not in LOW_RATING_REASONS:
            raise PromptClosed("missing")
        async with self.db.write() as uow:
            survey = await self._own_survey(uow, telegram_id, survey_id)
            if (
                survey.rating is None
                or not is_low(survey.rating)
                or not await uow.surveys.set_reason(survey.id, reason)
            ):
                raise PromptClosed("rated")

    async def comment(self, caller: Caller, survey_id: int, text: str | None) -> bool:
        """Save the optional comment (``None``: the customer skipped); alerts go out now."""
        now = self.clock.now()
        async with self.db.write() as uow:
            survey = await self._own_survey(uow, caller, survey_id)
            saved = False
            if text and text.strip():
                saved = await uow.surveys.comment(survey.id, text.strip()[:COMMENT_MAX], now)
            await uow.outbox.hurry(Kind.LOW_RATING_ALERT, survey.id, now)
            return saved

    async def report(self, owner_telegram_id: int) -> FeedbackReport:
        async with self.db.read() as uow:
            place = await require_lead(uow, owner_telegram_id)  # a manager: their outlet's only
            average, count = await rating_summary(uow, place.merchant.id, outlet_id=place.scope)
            comments = tuple(
                FeedbackComment(
                    person.first_name,
                    survey.rating,
                    survey.comment or "",
                    survey.commented_at or survey.created_at,
                )
                for survey, person in await uow.surveys.recent_comments(
                    place.merchant.id, RECENT_COMMENTS, place.scope
                )
            )
            name = place.where if place.scope is not None else place.merchant.name
            return FeedbackReport(name, average, count, comments, place.merchant.timezone)
