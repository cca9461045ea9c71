"""The middle tier: use cases called directly, in one process, on a real SQLite file (milliseconds
each). Where SQL differs between databases, the storage tests run on PostgreSQL too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.exports import ExportPeriod
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.services.exports import ExportCounts, ExportJob
from kartu.services.reports import CauseRow, LedgerRow, MemberRow
from kartu.storage.database import Database

OWNER, BARISTA, CUSTOMER, STRANGER = 100, 200, 300, 999


@pytest.fixture
async def services(migrated_sqlite_url: str, clock: FrozenClock) -> AsyncIterator[Services]:
    """Services on this test's own migrated SQLite file (SQLite only: this tier is about rules)."""
    sqlite_url = migrated_sqlite_url
    database = Database(sqlite_url)
    try:
        yield Services.build(
            database, Settings(_env_file=None, bot_token="42:TEST", database_url=sqlite_url), clock
        )
    finally:
        await database.dispose()


@dataclass
class Shop:
    """A shop with an owner (100), a barista (200) and a customer (300, "Ayu") who joined."""

    services: Services
    slug: str
    customer_code: str

    async def purchase(self, purchases: int = 1, staff: int = BARISTA) -> None:
        prompt = await self.services.counter.open_purchase(staff, self.customer_code, str(purchases))
        await self.services.counter.confirm_purchase(staff, prompt.token)


async def open_shop(services: Services, rules: ProgramRules | None = None, name: str = "Kopi Senja") -> Shop:
    created = await services.merchants.create_merchant(
        name, OWNER, rules=rules or ProgramRules(daily_stamp_cap=0)
    )
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi", "budi", "en"), f"staff_{token}")
    joined = await services.customers.start(
        TelegramProfile(CUSTOMER, "Ayu", "ayu_k", "id"), f"m_{created.slug}"
    )
    assert joined.joined is not None
    return Shop(services, created.slug, joined.joined.card.personal_code)


@dataclass
class Exported:
    """What an export wrote, as rows (the sink the bot's files and the download zip share)."""

    members: list[MemberRow] = field(default_factory=list)
    ledger: list[LedgerRow] = field(default_factory=list)
    causes: list[CauseRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.counts = ExportCounts(0, 0)


async def export(services: Services, owner: int = OWNER, period: ExportPeriod = ExportPeriod.ALL) -> Exported:
    """/export as the owner runs it: asked, the period chosen, every page written, finished."""
    return await written(
        services, await services.exports.start(owner, await services.exports.ask(owner), period)
    )


async def written(services: Services, job: ExportJob) -> Exported:
    """A started export's pages, written and the run finished."""
    sink = Exported()
    sink.counts = await services.exports.write(job, _ListSink(sink))
    await services.exports.finish(job, sink.counts, 2)
    return sink


class _ListSink:
    def __init__(self, into: Exported) -> None:
        self.into = into

    def members(self, rows: Sequence[MemberRow]) -> None:
        self.into.members.extend(rows)

    def ledger(self, rows: Sequence[LedgerRow]) -> None:
        self.into.ledger.extend(rows)

    def causes(self, rows: Sequence[CauseRow]) -> None:
        self.into.causes.extend(rows)


@pytest.fixture
async def shop(services: Services) -> Shop:
    return await open_shop(services)
