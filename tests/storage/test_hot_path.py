"""The counter's hot path (plain SQL on the driver) against the ORM use cases it stands in for: the
same script of counter calls, once each way on two fresh databases, must give the same answers and
leave the same rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.errors import LoyaltyError
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database
from kartu.storage.migrate import upgrade
from tests.conftest import _drop_postgres_database, _postgres_database

OWNER, BARISTA, SECOND, CUSTOMERS = 100, 200, 201, (300, 301, 302)
# Random by design, so left out of the comparison: button tokens, reward and personal codes.
RANDOM_COLUMNS = {"token", "code", "personal_code", "idempotency_key", "params"}
TABLES = (
    "person",
    "card",
    "staff_member",
    "purchase_prompt",
    "reward",
    "ledger_entry",
    "outbox_message",
    "survey",
    "purchase_claim",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_databases(
    request: pytest.FixtureRequest, migrated_sqlite: Path, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    if request.param == "sqlite":
        urls = []
        for name in ("hot", "orm"):
            shutil.copyfile(migrated_sqlite, tmp_path / f"{name}.db")
            urls.append(f"sqlite+aiosqlite:///{tmp_path / name}.db")
        yield urls[0], urls[1]
        return
    created = [await _postgres_database(), await _postgres_database()]
    try:
        yield created[0][0], created[1][0]  # type: ignore[index]
    finally:
        for made in created:
            await _drop_postgres_database(made[1])  # type: ignore[index]


def _answer(outcome: Any) -> Any:
    """What a call gave, without its random parts: a result's fields, or the refusal and its details."""
    if isinstance(outcome, LoyaltyError):
        return (type(outcome).__name__, sorted((k, v) for k, v in vars(outcome).items() if k != "args"))
    return _scrub(dataclasses.asdict(outcome)) if dataclasses.is_dataclass(outcome) else outcome


def _scrub(value: Any) -> Any:
    # Outbox keys (news) carry row ids: compared with the rows below.
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in RANDOM_COLUMNS | {"news"}}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


async def _script(services: Services, clock: FrozenClock) -> list[Any]:
    """Counter calls covering the usual purchase and every way out of it."""
    counter, answers = services.counter, []

    async def call(step: Any) -> Any:
        try:
            outcome = await step
        except LoyaltyError as refusal:
            outcome = refusal
        answers.append(_answer(outcome))
        return outcome

    rules = ProgramRules(stamps_required=2, daily_stamp_cap=5, survey_every_days=14)
    created = await services.merchants.create_merchant("Kopi Senja", OWNER, rules=rules)
    for staff in (BARISTA, SECOND):
        token = await services.merchants.invite_staff(OWNER)
        await services.customers.start(TelegramProfile(staff, f"Staff {staff}", None, "en"), f"staff_{token}")
    codes = []
    for number, customer in enumerate(CUSTOMERS):
        profile = TelegramProfile(customer, f"C{number}", f"c{number}", ("id", "en")[number % 2])
        joined = await services.customers.start(profile, f"m_{created.slug}")
        codes.append(joined.joined.card.personal_code)  # type: ignore[union-attr]
    staff_code = (
        await services.customers.start(TelegramProfile(BARISTA, "Staff"), f"m_{created.slug}")
    ).joined

    async def purchase(staff: int, code: str, count: str = "1") -> Any:
        prompt = await call(counter.open_purchase(staff, code, count))
        if not isinstance(prompt, LoyaltyError):
            await call(counter.confirm_purchase(staff, prompt.token))
        return prompt

    first = await purchase(BARISTA, codes[0])  # the usual purchase, with a survey queued
    await call(counter.confirm_purchase(BARISTA, first.token))  # a second tap
    await call(counter.confirm_purchase(SECOND, first.token))  # a colleague's tap
    await purchase(BARISTA, codes[0])  # fills the card: a reward
    await purchase(SECOND, codes[1], "5")  # two rewards and one stamp at once
    await purchase(BARISTA, codes[1])  # past the day's cap
    await purchase(BARISTA, "ZZZZ-ZZZZ")  # unknown code: a miss
    await purchase(BARISTA, codes[2])  # the known code ends the streak (the full use case)
    if staff_code is not None:
        await purchase(BARISTA, staff_code.card.personal_code)  # their own card
    opened = await call(counter.open_purchase(SECOND, codes[2]))
    clock.advance(minutes=16)
    await call(counter.confirm_purchase(SECOND, opened.token))  # expired
    opened = await call(counter.open_purchase(SECOND, codes[2], "2"))
    await call(counter.cancel_prompt(SECOND, opened.token, "purchase"))
    await call(counter.confirm_purchase(SECOND, opened.token))  # cancelled
    await call(counter.confirm_purchase(OWNER, "not-a-token"))
    opened = await call(counter.open_purchase(SECOND, codes[0]))
    await services.merchants.revoke_staff(OWNER, 3)  # SECOND's membership goes before the tap
    await call(counter.confirm_purchase(SECOND, opened.token))
    claim = await services.claims.open_claim(CUSTOMERS[2])
    await call(services.claims.decide(BARISTA, claim.claim_id, approve=True))
    # The barista also works at the owner's second shop: which shop a code is for follows /shop.
    await services.merchants.create_merchant("Kopi Pagi", OWNER, rules=rules)
    await services.merchants.act_for(OWNER, 2)
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Staff"), f"staff_{token}")
    await purchase(BARISTA, codes[2])  # still acts for the first shop, where C2 has a card
    await services.merchants.act_for(BARISTA, 2)
    await purchase(BARISTA, codes[2])  # C2 has no card at the second shop: unknown there
    await services.merchants.act_for(BARISTA, 1)
    await purchase(BARISTA, codes[2])
    clock.advance(days=1)  # a new day: the cap starts over
    await purchase(BARISTA, codes[1], "3")
    await purchase(OWNER, codes[0], "2")
    await purchase(BARISTA, codes[0], "11")  # more rewards than one confirmation may issue
    return answers


async def _rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    tables = {}
    async with db.read() as uow:
        for table in TABLES:
            rows = (await uow.session.execute(text(f"SELECT * FROM {table} ORDER BY id"))).mappings().all()
            tables[table] = [{k: v for k, v in row.items() if k not in RANDOM_COLUMNS} for row in rows]
    return tables


async def test_the_hot_path_answers_and_writes_what_the_use_cases_do(two_databases: tuple[str, str]) -> None:
    outcomes, orm_statements = [], []
    for url, driver in zip(two_databases, (True, False), strict=True):
        db = Database(url)
        await upgrade(db.engine)
        db.has_driver = driver
        executed: list[object] = []
        event.listen(
            db.engine.sync_engine, "before_cursor_execute", lambda *args, seen=executed: seen.append(1)
        )
        orm_statements.append(executed)
        clock = FrozenClock()
        services = Services.build(db, Settings(_env_file=None, bot_token="42:TEST", database_url=url), clock)
        try:
            answers = await _script(services, clock)
            outcomes.append((answers, await _rows(db)))
        finally:
            await db.dispose()
    (hot_answers, hot_rows), (orm_answers, orm_rows) = outcomes
    assert len(hot_answers) > 25
    assert len(orm_statements[0]) < len(orm_statements[1]) - 60  # the usual purchases went by the driver
    assert hot_answers == orm_answers
    for table in TABLES:
        assert hot_rows[table] == orm_rows[table], table
    assert len(hot_rows["ledger_entry"]) > 15 and len(hot_rows["survey"]) == 3
