"""The shop's days, counted as the ledger grows (services/tally.py), agree with the ledger read
whole: a few weeks of sales at the counter and from a till (a shop running stamps and points),
refunds, rewards filled, points lapsing; counted now and then as it goes, on SQLite and
PostgreSQL. Counting everything again from nothing (`kartu db retally`) gives the same."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.loyalty.tally import DayCounts, ledger_counts, local_day, refund_counts
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database
from kartu.storage.models import Survey

OWNER, STAFF = 100, 200
CUSTOMERS = [300 + n for n in range(8)]
TIMEZONE = "Asia/Jakarta"


async def _shop(services: Services) -> tuple[list[str], object]:
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0, stamps_required=3), timezone=TIMEZONE
    )
    await services.merchants.choose_kinds(OWNER, stamps=True, points=True)
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(STAFF, "Budi"), f"staff_{token}")
    codes = []
    for telegram_id in CUSTOMERS:
        joined = await services.customers.start(
            TelegramProfile(telegram_id, f"C{telegram_id}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    key, _ = await services.api.create_key(OWNER, "earn")
    return codes, await services.api.authenticate(key)


async def _expected(db: Database) -> tuple[dict[date, DayCounts], dict[int, int]]:
    """The days and the cards' visits, from the ledger and the refunds read whole."""
    async with db.read() as uow:
        rows = (
            await uow.session.execute(
                text(
                    "SELECT id, person_id, asset, delta, reason, origin, created_at FROM ledger_entry ORDER BY id"
                )
            )
        ).all()
        refunds = list(await uow.session.scalars(text("SELECT source FROM purchase_refund ORDER BY id")))
    stamped = {row.origin for row in rows if row.reason == "purchase" and row.asset == "stamp"}
    first: dict[int, tuple[int, str | None]] = {}
    for row in rows:
        if row.reason == "purchase" and row.person_id not in first:
            first[row.person_id] = (row.id, row.origin)

    def visit(row: object) -> bool:
        reason, asset, origin = row.reason, row.asset, row.origin  # type: ignore[attr-defined]
        return reason == "purchase" and (asset == "stamp" or (asset == "point" and origin not in stamped))

    def is_first(row: object) -> bool:
        first_id, first_origin = first[row.person_id]  # type: ignore[attr-defined]
        return row.id == first_id or row.origin == first_origin  # type: ignore[attr-defined]

    days: dict[date, DayCounts] = defaultdict(DayCounts)
    cards: dict[int, int] = defaultdict(int)
    for row in rows:
        seen = visit(row)
        days[local_day(_aware(row.created_at), TIMEZONE)].add(
            ledger_counts(row.asset, row.delta, row.reason, visit=seen, first=seen and is_first(row))
        )
        cards[row.person_id] += seen
    for source in refunds:
        mine = [row for row in rows if row.origin == source and visit(row)]
        if mine:
            row = mine[0]
            days[local_day(_aware(row.created_at), TIMEZONE)].add(refund_counts(is_first(row)))
            cards[row.person_id] -= 1
    return {day: counts for day, counts in days.items() if counts}, dict(cards)


def _aware(value: object) -> object:
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _counted(db: Database) -> tuple[dict[date, DayCounts], dict[int, int]]:
    async with db.read() as uow:
        days = {row.day: DayCounts(**{name: getattr(row, name) for name in DayCounts().values()})
                for row in await uow.tally.days(1)}  # fmt: skip
        cards = (
            await uow.session.execute(text("SELECT person_id, visits FROM card WHERE merchant_id = 1"))
        ).all()
    return {day: counts for day, counts in days.items() if counts}, {
        person: visits for person, visits in cards if visits
    }


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_counted_days_agree_with_the_ledger(
    services: Services, db: Database, clock: FrozenClock, seed: int
) -> None:
    rng = random.Random(seed)
    codes, till = await _shop(services)
    sales: list[str] = []
    for step in range(60):
        code = rng.choice(codes)
        roll = rng.random()
        if roll < 0.45:  # at the counter: the amount gives points, the purchase a stamp
            prompt = await services.counter.open_sale(STAFF, code, str(rng.choice([25_000, 60_000])))
            await services.counter.confirm_sale(STAFF, prompt.token)
        elif roll < 0.85:  # from the till
            async with db.write() as uow:
                credited = await services.api.purchase(
                    uow, till, code=code, telegram_id=None, amount=rng.choice([18_000, 125_000]),  # type: ignore[arg-type]
                    stamps=None, external_id=f"s{seed}-{step}", to_scheduler=True,
                )  # fmt: skip
            sales.append(str(credited.body["id"]))
        elif sales:  # a refund (refused when its points were spent or its reward used: fine)
            try:
                async with db.write() as uow:
                    await services.api.refund(uow, till, sales.pop(rng.randrange(len(sales))))  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - a refund the rules refuse changes nothing
                pass
        clock.advance(hours=rng.choice([1, 3, 7, 20]))
        if step % 17 == 5:
            await services.tally.catch_up(max_batches=1)  # counted as it goes, at odd moments
        if step % 23 == 11:
            await services.upkeep.sweep()
    await services.tally.catch_up()
    expected = await _expected(db)
    assert await _counted(db) == expected
    assert sum(counts.visits for counts in expected[0].values()) > 20  # the history was not empty
    async with db.read() as uow:
        refunded = await uow.session.scalar(text("SELECT count(*) FROM purchase_refund"))
    assert refunded  # and it held refunds
    await services.tally.retally()
    assert await _counted(db) == expected


async def test_ratings_are_counted_as_they_came_and_the_numbers_add_the_last_minutes(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    """Ratings are answers written onto surveys, not in id order: several in one moment, an old
    survey answered late. The days count those older than a minute; /stats and /feedback add the
    rest, so their average is every rating's."""
    await _shop(services)
    rng = random.Random(3)
    async with db.write() as uow:
        people = list(await uow.session.scalars(text("SELECT person_id FROM card WHERE merchant_id = 1")))
    surveys: list[Survey] = []
    for step in range(60):
        async with db.write() as uow:
            if surveys and rng.random() < 0.4:  # an older survey answered now
                survey = rng.choice([survey for survey in surveys if survey.rating is None] or surveys)
                if survey.rating is None:
                    await uow.surveys.rate(survey.id, rng.randint(1, 5), clock.now())
                    survey.rating = 1
            else:
                survey = Survey(merchant_id=1, person_id=rng.choice(people), created_at=clock.now())
                uow.session.add(survey)
                await uow.session.flush()
                if rng.random() < 0.7:
                    await uow.surveys.rate(survey.id, rng.randint(1, 5), clock.now())
                    survey.rating = 1
                surveys.append(survey)
        clock.advance(minutes=rng.choice([0, 0, 1, 30, 600]))
        if step % 13 == 4:
            await services.tally.catch_up(max_batches=1)
    await services.tally.catch_up()
    async with db.read() as uow:
        rated = (
            await uow.session.execute(text("SELECT rating, rated_at FROM survey WHERE rating IS NOT NULL"))
        ).all()
    settled = clock.now() - timedelta(minutes=1)
    expected: dict[date, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for rating, rated_at in rated:
        if _aware(rated_at) < settled:
            count, total = expected[local_day(_aware(rated_at), TIMEZONE)]
            expected[local_day(_aware(rated_at), TIMEZONE)] = (count + 1, total + rating)
    counted_days, _ = await _counted(db)
    assert {day: (c.ratings, c.rating_sum) for day, c in counted_days.items() if c.ratings} == dict(expected)
    assert len(rated) > sum(count for count, _ in expected.values()) > 20  # some wait for the next count
    average = sum(rating for rating, _ in rated) / len(rated)
    stats = await services.reports.stats(OWNER)
    assert stats.ratings == len(rated) and stats.average_rating == pytest.approx(average)
    feedback = await services.feedback.report(OWNER)
    assert (feedback.count, feedback.average) == (len(rated), pytest.approx(average))
    await services.tally.retally()
    counted_again, _ = await _counted(db)
    assert counted_again == counted_days
